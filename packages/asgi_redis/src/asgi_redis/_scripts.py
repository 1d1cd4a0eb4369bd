"""The Lua scripts that make each layer operation one atomic round trip.

Stored items look like ``DEADLINE CHANNELS \\0 PAYLOAD``: a 13-digit
millisecond deadline, the comma-separated destination channel names (several
only for a group fan-out into one process inbox) and the serialized message.
Lists are pushed on the left and popped on the right, so the right end holds the
oldest item; expired items are trimmed from there before capacity is checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ._keys import CHANNEL

__all__ = ["GROUP_ADD", "GROUP_DISCARD", "GROUP_SEND", "RETURN", "SEND", "LuaScript"]


@dataclass(frozen=True)
class LuaScript:
    name: str
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


# Shared helpers: trim expired items off the old end, and delete group
# memberships older than the cutoff (both the score set and the capacity hash).
_HELPERS = """
local function room(key, now)
  while true do
    local last = redis.call('LINDEX', key, -1)
    if not last or tonumber(string.sub(last, 1, 13)) > now then break end
    redis.call('RPOP', key)
  end
  return redis.call('LLEN', key)
end
local function prune(zkey, hkey, cutoff)
  local old = redis.call('ZRANGEBYSCORE', zkey, '-inf', cutoff)
  for i = 1, #old, 1000 do
    redis.call('ZREM', zkey, unpack(old, i, math.min(i + 999, #old)))
    redis.call('HDEL', hkey, unpack(old, i, math.min(i + 999, #old)))
  end
end
"""

#: KEYS: list. ARGV: now_ms, capacity, ttl_s, item. Returns 1 if pushed, 0 if full.
SEND = LuaScript(
    "send",
    _HELPERS
    + """
if room(KEYS[1], tonumber(ARGV[1])) >= tonumber(ARGV[2]) then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
""",
)

#: KEYS: list. ARGV: ttl_s, items oldest first. Puts items back at the pop end.
RETURN = LuaScript(
    "return",
    """
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return #ARGV - 1
""",
)

#: KEYS: group zset, group capacity hash. ARGV: now_ms, cutoff_ms, channel, capacity, ttl_s.
GROUP_ADD = LuaScript(
    "group_add",
    _HELPERS
    + """
prune(KEYS[1], KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
""",
)

#: KEYS: group zset, group capacity hash. ARGV: channel.
GROUP_DISCARD = LuaScript(
    "group_discard",
    """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
""",
)

#: KEYS: group zset, group capacity hash.
#: ARGV: now_ms, cutoff_ms, deadline (13 digits), payload, key base, ttl_s.
#: Normal channels get one item each; process-local members that share an inbox
#: get ONE item naming all of them, so the cost follows destinations, not members.
#: Returns {members skipped because their channel was full, members on this shard}.
GROUP_SEND = LuaScript(
    "group_send",
    _HELPERS
    + """
-- Each member's capacity (as group_add stored it), in HMGETs of at most 1000 fields.
local function capacities(hkey, members)
  local caps = {}
  for i = 1, #members, 1000 do
    local part = redis.call('HMGET', hkey, unpack(members, i, math.min(i + 999, #members)))
    for j = 1, #part do caps[i + j - 1] = part[j] end
  end
  return caps
end
local now = tonumber(ARGV[1])
prune(KEYS[1], KEYS[2], ARGV[2])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local count = #members
if count == 0 then return {0, 0} end
local head, payload, base, ttl = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
-- Members of one process share a routing name (up to the '!'): its key is built and its
-- length read once (the per-member loop is most of this script's time). Capacities are
-- read only once a member's list is not empty: every capacity is >= 1, so an empty list
-- takes one item whatever it is (the usual case: readers keep inboxes drained).
local find, sub = string.find, string.sub
local key_of, used, inbox, order, skipped, caps = {}, {}, {}, {}, 0, nil
for i = 1, count do
  local channel = members[i]
  local bang = find(channel, '!', 1, true)
  local routing = bang and sub(channel, 1, bang) or channel
  local key = key_of[routing]
  if key == nil then
    key = base .. ':CHANNEL_KIND:' .. routing
    key_of[routing] = key
    used[key] = room(key, now)
  end
  local fits = used[key] == 0
  if not fits then
    if caps == nil then caps = capacities(KEYS[2], members) end
    fits = used[key] < (tonumber(caps[i]) or 100)
  end
  if fits then
    if bang then
      local names = inbox[key]
      if names == nil then names = {}; inbox[key] = names; order[#order + 1] = key end
      names[#names + 1] = channel
    else
      redis.call('LPUSH', key, head .. channel .. '\\0' .. payload)
      redis.call('EXPIRE', key, ttl)
      used[key] = used[key] + 1
    end
  else
    skipped = skipped + 1
  end
end
for _, key in ipairs(order) do
  redis.call('LPUSH', key, head .. table.concat(inbox[key], ',') .. '\\0' .. payload)
  redis.call('EXPIRE', key, ttl)
end
return {skipped, count}
""".replace("CHANNEL_KIND", CHANNEL),  # the key layout of _keys.channel_key
)
