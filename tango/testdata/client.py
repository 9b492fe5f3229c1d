#!/usr/bin/python3
"""pytango peer for the Go tests: a client driven by JSON lines on stdin.

Usage: client.py TRL. Each input line is a request, {"op": "read"|"write"|
"sub"|"unsub"|"cmd"|"quit", ...}; each gets one reply line {"ok": ...} or
{"err": "..."}. Subscribed change events are printed as
{"event": ATTR, "value": ..., "quality": ...} lines as they arrive; values
are plain JSON (nested lists for arrays, [format, base64] for DevEncoded).
"""
import base64
import json
import sys
import threading

import numpy
import tango

out_lock = threading.Lock()


def emit(obj):
    with out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def utf8(s):
    # pytango 9.3 maps DevString bytes to str as latin-1; the Go side (and
    # spec B5) use UTF-8, so re-decode.
    try:
        return s.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return s


def to_wire_str(v):
    if isinstance(v, str):
        return v.encode("utf-8").decode("latin-1")
    if isinstance(v, list):
        return [to_wire_str(x) for x in v]
    return v


def plain(v):
    if isinstance(v, str):
        return utf8(v)
    if isinstance(v, numpy.ndarray):
        return plain(v.tolist())
    if isinstance(v, numpy.generic):
        return v.item()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def value_of(attr):
    if attr.type == tango.CmdArgType.DevEncoded:
        fmt, data = attr.value
        if isinstance(data, numpy.ndarray):
            data = data.tobytes()
        elif isinstance(data, str):
            data = data.encode("latin-1")
        return [fmt, base64.b64encode(bytes(data)).decode()]
    if attr.quality == tango.AttrQuality.ATTR_INVALID:
        return None
    return plain(attr.value)


def main():
    dev = tango.DeviceProxy(sys.argv[1])
    subs = {}

    def callback(ev):
        if ev.err:
            emit({"event": ev.attr_name, "error": str(ev.errors[0].reason)})
            return
        emit({"event": ev.attr_value.name, "value": value_of(ev.attr_value),
              "quality": str(ev.attr_value.quality)})

    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "quit":
                break
            if op == "read":
                a = dev.read_attribute(req["attr"])
                emit({"ok": {"value": value_of(a), "type": str(a.type), "format": str(a.data_format),
                             "quality": str(a.quality)}})
            elif op == "readcheck":
                # Reads n times; counts reads whose elements differ (a torn
                # array) and distinct values seen.
                torn, seen = 0, set()
                for _ in range(req["n"]):
                    v = dev.read_attribute(req["attr"]).value
                    if len(set(v.tolist())) != 1:
                        torn += 1
                    seen.add(float(v[0]))
                emit({"ok": {"torn": torn, "distinct": len(seen)}})
            elif op == "write":
                v = req["value"]
                cfg = dev.get_attribute_config(req["attr"])
                if cfg.data_type == tango.CmdArgType.DevEncoded:
                    v = (v[0], base64.b64decode(v[1]))
                else:
                    v = to_wire_str(v)
                dev.write_attribute(req["attr"], v)
                emit({"ok": None})
            elif op == "sub":
                etype = getattr(tango.EventType, req.get("type", "CHANGE_EVENT"))
                subs[req["attr"]] = dev.subscribe_event(req["attr"], etype, callback)
                emit({"ok": None})
            elif op == "unsub":
                dev.unsubscribe_event(subs.pop(req["attr"]))
                emit({"ok": None})
            elif op == "cmd":
                if req["cmd"] == "State":
                    r = str(dev.state())
                elif "arg" in req:
                    r = dev.command_inout(req["cmd"], req["arg"])
                else:
                    r = dev.command_inout(req["cmd"])
                emit({"ok": plain(r)})
        except tango.DevFailed as e:
            emit({"err": e.args[0].reason, "desc": e.args[0].desc})
    for i in subs.values():
        dev.unsubscribe_event(i)


if __name__ == "__main__":
    main()
