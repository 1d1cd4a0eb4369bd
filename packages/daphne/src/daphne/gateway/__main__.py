"""``python -m daphne.gateway [options]``: the gateway; ``... worker APP [options]``: a worker."""

import sys

from ._cli import gateway_main, worker_main

if sys.argv[1:2] == ["worker"]:
    worker_main(sys.argv[2:])
else:
    gateway_main(sys.argv[1:])
