"""Python peer of the telstateio interop test (katsdptelstate on Redis).

    peer.py write URL KEY N T0   add N samples to KEY at T0, T0+0.001, ...
                                 (values as payloads() in exchange_test.go),
                                 then three at one time, then 'end'
    peer.py read URL KEY         print KEY's samples as JSON [[ts, value], ...]
                                 (values must be JSON-representable)
"""
import json
import sys

import katsdptelstate
import numpy as np


def payload(i):
    k = i % 4
    if k == 0:
        return i
    if k == 1:
        return f"v{i}"
    if k == 2:
        return np.array([float(i), -float(i), 0.5])
    return {"i": i, "name": "x"}


def main():
    cmd, url, key = sys.argv[1:4]
    ts = katsdptelstate.TelescopeState(url)
    if cmd == "write":
        n, t0 = int(sys.argv[4]), float(sys.argv[5])
        for i in range(n):
            ts.add(key, payload(i), ts=t0 + i * 0.001)
        t = t0 + n * 0.001
        for v in ("same-c", "same-a", "same-b"):
            ts.add(key, v, ts=t)
        ts.add(key, "end", ts=t + 1)
    elif cmd == "read":
        json.dump([[t, v] for v, t in ts.get_range(key, st=0)], sys.stdout)
    else:
        sys.exit(f"unknown command {cmd}")


main()
