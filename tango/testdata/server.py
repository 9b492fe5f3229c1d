#!/usr/bin/python3
"""pytango peer for the Go tests: a device server in no-database mode.

Usage: server.py PORT DEVICE. It serves, for every type and format the Go
package carries, a READ_WRITE attribute TYPE_FORMAT (e.g. DevDouble_IMAGE)
whose written value is read back and pushed as a change event
(set_change_event(name, True, False), as the queue connector does), plus:
  Push(str JSON {"attr": name, "value": v}) sets and pushes a value;
  Burst(str N) pushes N change events of the DevDouble scalar "counter"
  as fast as it can and returns the elapsed seconds (for the benchmark).
It also serves the attributes that the connector's examples 02, 03 and 08
subscribe to or write: achievedPointing (a DevDouble SPECTRUM [ts, az, el]),
flag and mirrored_flag (DevBoolean SCALAR), READ_WRITE like the others.
It prints "ready" on stdout once serving.
"""
import base64
import json
import sys
import threading
import time

import numpy
import tango
from tango.server import Device, command, run

TYPES = {
    "DevBoolean": (tango.CmdArgType.DevBoolean, numpy.bool_, True),
    "DevUChar": (tango.CmdArgType.DevUChar, numpy.uint8, 7),
    "DevShort": (tango.CmdArgType.DevShort, numpy.int16, -7),
    "DevUShort": (tango.CmdArgType.DevUShort, numpy.uint16, 7),
    "DevLong": (tango.CmdArgType.DevLong, numpy.int32, -70000),
    "DevULong": (tango.CmdArgType.DevULong, numpy.uint32, 70000),
    "DevLong64": (tango.CmdArgType.DevLong64, numpy.int64, -(1 << 40)),
    "DevULong64": (tango.CmdArgType.DevULong64, numpy.uint64, 1 << 40),
    "DevFloat": (tango.CmdArgType.DevFloat, numpy.float32, 1.5),
    "DevDouble": (tango.CmdArgType.DevDouble, numpy.float64, 2.25),
    "DevString": (tango.CmdArgType.DevString, str, "abc"),
}

# Example attributes: name -> (type name, format, initial value).
EXAMPLE_ATTRS = {
    "achievedPointing": ("DevDouble", "SPECTRUM", numpy.array([0.0, 0.0, 0.0])),
    "flag": ("DevBoolean", "SCALAR", False),
    "mirrored_flag": ("DevBoolean", "SCALAR", False),
}


def initial(tname, fmt):
    _, dt, v = TYPES[tname]
    if fmt == "SCALAR":
        return v
    if tname == "DevString":
        vals = [v, "d", "e", "f", "g", "h"]
        return vals[:3] if fmt == "SPECTRUM" else [vals[:3], vals[3:]]
    a = numpy.array([v, 1, 0, 1, 1, 0] if tname == "DevBoolean" else [v, 1, 2, 3, 4, 5], dtype=dt)
    return a[:3] if fmt == "SPECTRUM" else a.reshape(2, 3)


def utf8_to_wire(v):
    # pytango sends str as latin-1; the Go side reads UTF-8.
    if isinstance(v, str):
        return v.encode("utf-8").decode("latin-1")
    if isinstance(v, list):
        return [utf8_to_wire(x) for x in v]
    return v


class PeerDevice(Device):
    def init_device(self):
        super().init_device()
        self.values = {}
        self.lock = threading.Lock()
        for tname, (ttype, _, _) in TYPES.items():
            for fmt in ("SCALAR", "SPECTRUM", "IMAGE"):
                name = "%s_%s" % (tname, fmt)
                if fmt == "SCALAR":
                    attr = tango.Attr(name, ttype, tango.AttrWriteType.READ_WRITE)
                elif fmt == "SPECTRUM":
                    attr = tango.SpectrumAttr(name, ttype, tango.AttrWriteType.READ_WRITE, 64)
                else:
                    attr = tango.ImageAttr(name, ttype, tango.AttrWriteType.READ_WRITE, 64, 64)
                self.values[name] = initial(tname, fmt)
                self.add_attribute(attr, self.read_any, self.write_any)
                self.set_change_event(name, True, False)
                self.set_archive_event(name, True, False)
        for name, (tname, fmt, v) in EXAMPLE_ATTRS.items():
            ttype = TYPES[tname][0]
            if fmt == "SCALAR":
                attr = tango.Attr(name, ttype, tango.AttrWriteType.READ_WRITE)
            else:
                attr = tango.SpectrumAttr(name, ttype, tango.AttrWriteType.READ_WRITE, 64)
            self.values[name] = v
            self.add_attribute(attr, self.read_any, self.write_any)
            self.set_change_event(name, True, False)
        enc = tango.Attr("DevEncoded_SCALAR", tango.CmdArgType.DevEncoded, tango.AttrWriteType.READ_WRITE)
        self.values["DevEncoded_SCALAR"] = ("raw", b"\x00\x01\xff")
        self.add_attribute(enc, self.read_any, self.write_any)
        self.set_change_event("DevEncoded_SCALAR", True, False)
        counter = tango.Attr("counter", tango.CmdArgType.DevDouble, tango.AttrWriteType.READ)
        self.values["counter"] = 0.0
        self.add_attribute(counter, self.read_any, None)
        self.set_change_event("counter", True, False)
        self.set_state(tango.DevState.ON)


    def read_any(self, attr):
        v = self.values[attr.get_name()]
        if attr.get_name() == "DevEncoded_SCALAR":
            attr.set_value(v[0], v[1])
        else:
            attr.set_value(v)

    def write_any(self, attr):
        name = attr.get_name()
        v = attr.get_write_value()
        if name == "DevEncoded_SCALAR":
            fmt, data = v
            self.values[name] = (fmt, bytes(data))
            self.push_change_event(name, fmt, bytes(data))
            return
        if name.endswith("_IMAGE") and not name.startswith("DevString"):
            v = numpy.asarray(v)
        self.values[name] = v
        self.push_change_event(name, v)

    @command(dtype_in=str)
    def Push(self, arg):
        # pytango decodes DevString as latin-1; the Go client sends UTF-8.
        req = json.loads(arg.encode("latin-1").decode("utf-8"))
        name, v = req["attr"], req["value"]
        if name == "DevEncoded_SCALAR":
            fmt, data = v[0], base64.b64decode(v[1])
            self.values[name] = (fmt, data)
            self.push_change_event(name, fmt, data)
            return
        if name in EXAMPLE_ATTRS:
            tname, fmt = EXAMPLE_ATTRS[name][:2]
        else:
            tname, fmt = name.rsplit("_", 1)
        if tname == "DevString":
            v = utf8_to_wire(v)
        elif fmt != "SCALAR":
            v = numpy.array(v, dtype=TYPES[tname][1])
        self.values[name] = v
        self.push_change_event(name, v)
        if name in ("DevDouble_SCALAR", "DevString_SPECTRUM"):
            self.push_archive_event(name, v)
            self.push_event(name, [], [], v)

    @command(dtype_in=str, dtype_out=str)
    def Burst(self, arg):
        n = int(arg)
        t0 = time.perf_counter()
        for i in range(n):
            self.push_change_event("counter", float(i))
        self.values["counter"] = float(n - 1)
        return repr(time.perf_counter() - t0)


if __name__ == "__main__":
    port, dev = sys.argv[1], sys.argv[2]
    run((PeerDevice,), args=["PeerServer", "peer", "-nodb", "-dlist", dev,
                             "-ORBendPoint", "giop:tcp:127.0.0.1:" + port],
        post_init_callback=lambda: print("ready", flush=True))
