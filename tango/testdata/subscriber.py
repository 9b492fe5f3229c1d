#!/usr/bin/python3
"""pytango change-event subscriber for the benchmark.

Usage: subscriber.py TRL ATTR. Prints "subscribed" once subscribed. On each
stdin line "reset" it zeroes its counters (and prints "ok"); on "report N"
it waits until N events arrived since the reset, or 3 s passed without a
new one, then prints "COUNT SECONDS" (SECONDS from the first to the last
event counted).
"""
import sys
import threading
import time

import tango

lock = threading.Condition()
state = {"count": 0, "first": None, "last": None}


def callback(ev):
    if ev.err:
        return
    now = time.perf_counter()
    with lock:
        state["count"] += 1
        if state["first"] is None:
            state["first"] = now
        state["last"] = now
        lock.notify_all()


def main():
    dev = tango.DeviceProxy(sys.argv[1])
    dev.subscribe_event(sys.argv[2], tango.EventType.CHANGE_EVENT, callback)
    time.sleep(0.5)  # let the initial event(s) arrive before the first reset
    print("subscribed", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[0] == "reset":
            with lock:
                state.update(count=0, first=None, last=None)
            print("ok", flush=True)
        elif words[0] == "report":
            n = int(words[1])
            with lock:
                while state["count"] < n:
                    before = state["count"]
                    lock.wait(3.0)
                    if state["count"] == before:
                        break
                first, last = state["first"], state["last"]
                span = (last - first) if first is not None else 0.0
                print("%d %.6f" % (state["count"], span), flush=True)


if __name__ == "__main__":
    main()
