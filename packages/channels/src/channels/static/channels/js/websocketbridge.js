/*
 * channels WebSocketBridge: JSON over a WebSocket that reconnects by itself,
 * speaking the multiplexer's {"stream": name, "payload": ...} frames.
 *
 * Dependency-free. As a classic script it defines window.channels.WebSocketBridge;
 * as an ES module use websocketbridge.mjs (which imports this file).
 *
 * Invariants:
 *  - send() never drops a message silently: while the socket is not open,
 *    messages queue (up to options.maxQueue, then send() throws) and are sent
 *    in order as soon as a connection opens.
 *  - After close() no reconnection happens; otherwise every close schedules
 *    one, with exponential backoff (minDelay * factor^attempt, capped at
 *    maxDelay, with jitter) reset by a successful open.
 *  - A close with 1012 (Service Restart: daphne's gateway had no live worker)
 *    or 1013 (Try Again Later) hit every client of a server at once. Their
 *    reconnections are spread over a window: the delay is at least
 *    restartDelay, drawn uniformly from the whole window ("full jitter"),
 *    so a fleet does not come back in step.
 */
(function (root) {
  "use strict";

  var DEFAULTS = {
    minDelay: 250, // ms before the first reconnection attempt
    maxDelay: 10000, // ms, ceiling for the backoff
    restartDelay: 5000, // ms window to spread reconnections after a 1012 or 1013 close
    factor: 2, // backoff growth per failed attempt
    jitter: 0.25, // fraction of the delay randomised, so clients do not reconnect in step
    maxRetries: Infinity, // attempts without a successful open before giving up
    maxQueue: 1000, // messages held while disconnected
    protocols: undefined, // WebSocket subprotocols
    onopen: null,
    onclose: null,
    WebSocket: null, // injectable for tests; defaults to the global WebSocket
  };

  function resolveUrl(url, location) {
    // Absolute ws(s):// URLs pass through; http(s):// become ws(s)://; a path or
    // relative URL is resolved against the page, its scheme decides ws or wss.
    if (/^wss?:\/\//i.test(url)) {
      return url;
    }
    if (!location) {
      throw new Error("WebSocketBridge: a relative URL (" + url + ") needs a page location");
    }
    var absolute = new URL(url, location.href);
    if (absolute.protocol === "https:") {
      absolute.protocol = "wss:";
    } else if (absolute.protocol === "http:") {
      absolute.protocol = "ws:";
    } else {
      throw new Error("WebSocketBridge: expected an http(s) or ws(s) URL, got " + absolute.href);
    }
    return absolute.href;
  }

  function WebSocketBridge(options) {
    if (!(this instanceof WebSocketBridge)) {
      throw new TypeError("WebSocketBridge must be called with new");
    }
    var settings = {};
    var key;
    for (key in DEFAULTS) {
      settings[key] = DEFAULTS[key];
    }
    for (key in options || {}) {
      if (!(key in DEFAULTS)) {
        throw new TypeError("WebSocketBridge: unknown option " + JSON.stringify(key));
      }
      settings[key] = options[key];
    }
    this.options = settings;
    this.socket = null;
    this.url = null;
    this.attempts = 0;
    this.connections = 0;
    this._queue = [];
    this._listener = null;
    this._streams = {};
    this._closed = false;
    this._timer = null;
    this.lastCloseCode = null;
  }

  // Close codes that mean "the whole service restarts": every client sees them at once.
  var RESTART_CODES = { 1012: true, 1013: true };

  WebSocketBridge.resolveUrl = resolveUrl;

  WebSocketBridge.prototype.connect = function (url) {
    this.url = resolveUrl(url, root.location);
    this._closed = false;
    this._open();
    return this;
  };

  WebSocketBridge.prototype._open = function () {
    var self = this;
    var Socket = this.options.WebSocket || root.WebSocket;
    var socket = new Socket(this.url, this.options.protocols);
    this.socket = socket;
    socket.onopen = function (event) {
      self.attempts = 0;
      self.connections += 1;
      self._flush();
      if (self.options.onopen) {
        self.options.onopen(event, self);
      }
    };
    socket.onmessage = function (event) {
      self._dispatch(event.data);
    };
    socket.onclose = function (event) {
      if (self.socket !== socket) {
        return;
      }
      self.socket = null;
      self.lastCloseCode = event.code;
      if (self.options.onclose) {
        self.options.onclose(event, self);
      }
      self._scheduleReconnect(event.code);
    };
  };

  WebSocketBridge.prototype.reconnectDelay = function (code) {
    // ms before the next attempt after a close with this code (see the invariants).
    var base = Math.min(
      this.options.maxDelay,
      this.options.minDelay * Math.pow(this.options.factor, this.attempts)
    );
    if (RESTART_CODES[code]) {
      var spread = Math.max(base, this.options.restartDelay);
      return spread * Math.random();
    }
    return base * (1 - this.options.jitter * Math.random());
  };

  WebSocketBridge.prototype._scheduleReconnect = function (code) {
    var self = this;
    if (this._closed || this.attempts >= this.options.maxRetries) {
      return;
    }
    var delay = this.reconnectDelay(code);
    this.attempts += 1;
    this._timer = setTimeout(function () {
      self._timer = null;
      if (!self._closed) {
        self._open();
      }
    }, delay);
  };

  WebSocketBridge.prototype._dispatch = function (text) {
    var data;
    try {
      data = JSON.parse(text);
    } catch (error) {
      if (root.console) {
        root.console.error("WebSocketBridge: expected a JSON frame, got", text);
      }
      return;
    }
    var isFrame = data !== null && typeof data === "object" && typeof data.stream === "string";
    if (isFrame && Object.prototype.hasOwnProperty.call(this._streams, data.stream)) {
      var handlers = this._streams[data.stream];
      // "payload" for data, otherwise the frame itself (errors, stream closes).
      var content = "payload" in data ? data.payload : data;
      for (var i = 0; i < handlers.length; i += 1) {
        handlers[i](content, data.stream);
      }
      return;
    }
    if (this._listener) {
      this._listener(data, isFrame ? data.stream : undefined);
    }
  };

  WebSocketBridge.prototype.listen = function (callback) {
    // Gets every message that no demultiplex() handler took.
    this._listener = callback;
    return this;
  };

  WebSocketBridge.prototype.demultiplex = function (stream, callback) {
    if (!this._streams[stream]) {
      this._streams[stream] = [];
    }
    this._streams[stream].push(callback);
    return this;
  };

  WebSocketBridge.prototype.send = function (message) {
    var text = JSON.stringify(message);
    if (this.socket && this.socket.readyState === 1) {
      this.socket.send(text);
      return;
    }
    if (this._queue.length >= this.options.maxQueue) {
      throw new Error(
        "WebSocketBridge: " + this._queue.length + " messages already wait for a connection " +
          "(maxQueue); not queueing more"
      );
    }
    this._queue.push(text);
  };

  WebSocketBridge.prototype._flush = function () {
    while (this._queue.length && this.socket && this.socket.readyState === 1) {
      this.socket.send(this._queue.shift());
    }
  };

  WebSocketBridge.prototype.stream = function (name) {
    var self = this;
    return {
      send: function (payload) {
        self.send({ stream: name, payload: payload });
      },
    };
  };

  WebSocketBridge.prototype.close = function (code, reason) {
    // Deliberate close: no reconnection, queued messages are dropped.
    this._closed = true;
    this._queue = [];
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (this.socket) {
      this.socket.close(code, reason);
    }
  };

  var namespace = root.channels || (root.channels = {});
  namespace.WebSocketBridge = WebSocketBridge;
})(typeof globalThis !== "undefined" ? globalThis : this);
