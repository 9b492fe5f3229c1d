#!/usr/bin/env python3
"""Generate pickle fixtures for sdpkit's pyval/pickle tests.

Writes, next to this script:

  plain.txt          plain Python values (no numpy), protocols 0-5 and
                     Python-2-style protocols 0-2
  numpy<major>.txt   numpy arrays and scalars, same protocols, made with the
                     running numpy (1.x pickles name numpy.core.*, 2.x
                     numpy._core.*)

Each line is tab-separated:  name  variant  expect  pickle_hex  expected_json
where variant is "p0".."p5" (Python 3 pickle.dumps with that protocol) or
"py2p0".."py2p2" (Python 2 style: bytes written as Python 2 str with the
STRING/BINSTRING opcodes, numpy.core and __builtin__ names), expect is "ok"
or "unsupported" (our reader must refuse it), and expected_json renders
pickle.loads(data, encoding='latin1') in the convention of
shared/vectors/telstate/README.md ("JSON value rendering").

Regenerate (needs numpy; run once per numpy major version):

  python3 -m venv /tmp/v2 && /tmp/v2/bin/pip install 'numpy>=2'
  /tmp/v2/bin/python pyval/pickle/testdata/gen.py
  python3 -m venv /tmp/v1 && /tmp/v1/bin/pip install 'numpy<2'
  /tmp/v1/bin/python pyval/pickle/testdata/gen.py
"""

import collections
import io
import json
import math
import os
import pickle
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- rendering

def render_float(f):
    if math.isnan(f):
        return "nan"
    return repr(f)


def descr_json(d):
    if isinstance(d, str):
        return d
    out = []
    for field in d:
        name, sub = field[0], field[1]
        item = [name, descr_json(sub)]
        if len(field) == 3:
            item.append(list(field[2]))
        out.append(item)
    return out


def render(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, np.ndarray):
        fortran = bool(v.flags.f_contiguous and not v.flags.c_contiguous)
        return {"ndarray": {
            "descr": descr_json(np.lib.format.dtype_to_descr(v.dtype)),
            "shape": list(v.shape),
            "fortran_order": fortran,
            "data_hex": v.tobytes(order="F" if fortran else "C").hex(),
        }}
    if isinstance(v, np.generic):
        return {"npscalar": {
            "descr": descr_json(np.lib.format.dtype_to_descr(v.dtype)),
            "data_hex": v.tobytes().hex(),
        }}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": render_float(v)}
    if isinstance(v, complex):
        return {"complex": [{"float": render_float(v.real)}, {"float": render_float(v.imag)}]}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, list):
        return {"list": [render(x) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [render(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[render(k), render(x)] for k, x in v.items()]}
    return {"python_repr": repr(v)}


# ------------------------------------------------------ Python 2 style pickler

class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 str and uses Python 2 module names, so the
    output looks like what Python 2 (and numpy 1.x on it) wrote."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2str(self, obj):
        if self.proto >= 1:
            n = len(obj)
            if n < 256:
                self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
            else:
                self.write(pickle.BINSTRING + n.to_bytes(4, "little") + obj)
        else:
            self.write(pickle.STRING + repr(obj)[1:].encode("ascii") + b"\n")
        self.memoize(obj)

    dispatch[bytes] = save_py2str

    def save_global(self, obj, name=None):
        module = obj.__module__
        name = name or obj.__qualname__
        module = module.replace("numpy._core", "numpy.core")
        if module == "builtins":
            module = "__builtin__"
        self.write(pickle.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n")
        self.memoize(obj)

    dispatch[type] = save_global


def py2dumps(v, proto):
    f = io.BytesIO()
    Py2Pickler(f, proto).dump(v)
    return f.getvalue()


# ----------------------------------------------------------------- the values

def plain_values():
    shared_list = [1, 2]
    shared_str = "shared"
    shared_tuple = (1, 2)
    ints = [0, 1, -1, 127, 128, 255, 256, -128, -129, -256, -257, 65535, 65536,
            -32768, -32769, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**32 - 1, 2**32,
            2**62, 2**63 - 1, 2**63, 2**64 - 1, -2**63, -2**63 + 1]
    vals = [("int_%d" % i, x, "ok") for i, x in enumerate(ints)]
    vals += [
        ("int_2p64", 2**64, "ok"),
        ("int_-2p63-1", -2**63 - 1, "ok"),
        ("int_1e30", 10**30, "ok"),
        ("none", None, "ok"),
        ("true", True, "ok"),
        ("false", False, "ok"),
        ("float_0", 0.0, "ok"),
        ("float_neg0", -0.0, "ok"),
        ("float_1.5", 1.5, "ok"),
        ("float_0.1", 0.1, "ok"),
        ("float_big", 1e300, "ok"),
        ("float_denorm", 5e-324, "ok"),
        ("float_inf", math.inf, "ok"),
        ("float_ninf", -math.inf, "ok"),
        ("float_nan", math.nan, "ok"),
        ("complex", complex(1.5, -2), "ok"),
        ("complex_inf", complex(math.inf, 0.25), "ok"),
        ("str_empty", "", "ok"),
        ("str_ascii", "hello", "ok"),
        ("str_latin1", "caf\xe9", "ok"),
        ("str_bmp", "\u03c0\u22483.14 \u65e5\u672c\u8a9e", "ok"),
        ("str_astral", "emoji \U0001F389", "ok"),
        ("str_escapes", "back\\slash\nnew\rline \\u1234 \x00 '\"", "ok"),
        ("str_long", "x" * 300, "ok"),
        ("bytes_empty", b"", "ok"),
        ("bytes_bin", b"\x00\xff\n'\"\\", "ok"),
        ("bytes_all", bytes(range(256)), "ok"),
        ("bytes_long", b"y" * 300, "ok"),
        ("bytearray", bytearray(b"ab\xff"), "ok"),
        ("bytearray_empty", bytearray(), "ok"),
        ("tuple_empty", (), "ok"),
        ("tuple_1", (1,), "ok"),
        ("tuple_2", (1, "a"), "ok"),
        ("tuple_3", (1, "a", None), "ok"),
        ("tuple_4", (1, 2, 3, 4), "ok"),
        ("list_empty", [], "ok"),
        ("dict_empty", {}, "ok"),
        ("nested", (1, (2, [3, {"a": (4,), "b": []}]), {}), "ok"),
        ("dict_mixed", {1: "a", "b": [1.5, None], (1, 2): True, b"k": 2, 2.5: ()}, "ok"),
        # Over 1000 items: APPENDS/SETITEMS come in batches (binary protocols).
        ("list_1001", list(range(1001)), "ok", {"p2", "p4"}),
        ("dict_1001", {str(i): i for i in range(1001)}, "ok", {"p2", "p4"}),
        ("shared_list", [shared_list, shared_list, (shared_list,)], "ok"),
        ("shared_str", (shared_str, shared_str, [shared_str]), "ok"),
        ("shared_tuple", [shared_tuple, shared_tuple], "ok"),
        ("set", {1, 2}, "unsupported"),
        ("frozenset", frozenset({1}), "unsupported"),
        ("set_empty", set(), "unsupported"),
        ("ordereddict", collections.OrderedDict(a=1), "unsupported"),
    ]
    return vals


def numpy_values():
    f2x3 = np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))
    st = np.dtype([("a", "<i4"), ("b", ">f8", (2,)), ("c", "S3")])
    aligned = np.dtype([("x", "u1"), ("y", "<i8"), ("z", "<u2")], align=True)
    nested = np.dtype([("p", [("q", "<i2"), ("r", "u1")]), ("s", "<f4", (2, 2))])
    vals = [
        ("arr_i8", np.array([1, 2, 3], dtype="<i8")),
        ("arr_f4", np.array([1.5, -2.25, np.inf], dtype="<f4")),
        ("arr_f8_be", np.array([1.5, -0.0, 1e300], dtype=">f8")),
        ("arr_i4_be", np.array([1, -2, 2**31 - 1], dtype=">i4")),
        ("arr_u8", np.array([0, 255, 7], dtype="u1")),
        ("arr_u2_be", np.array([1, 65535], dtype=">u2")),
        ("arr_bool", np.array([True, False, True])),
        ("arr_c16", np.array([1 + 2j, -3.5j], dtype="<c16")),
        ("arr_c8_be", np.array([1 + 2j], dtype=">c8")),
        ("arr_f2", np.array([0.5, 65504], dtype="<f2")),
        ("arr_U3", np.array(["ab", "caf\xe9", ""], dtype="<U4")),
        ("arr_S4", np.array([b"ab", b"\x00\xff"], dtype="S4")),
        ("arr_fortran", f2x3),
        ("arr_3d", np.arange(24, dtype="<i2").reshape(2, 3, 4)),
        ("arr_3d_fortran", np.asfortranarray(np.arange(24, dtype=">i2").reshape(2, 3, 4))),
        ("arr_0d_f8", np.array(2.5)),
        ("arr_0d_i8", np.array(-7, dtype="<i8")),
        ("arr_empty", np.zeros((0, 3))),
        ("arr_struct", np.array([(1, (2.5, -1), b"xyz"), (-4, (0, 1e10), b"")], dtype=st)),
        ("arr_struct_aligned", np.array([(1, 2, 3)], dtype=aligned)),
        ("arr_struct_nested", np.zeros(2, dtype=nested)),
        ("arr_datetime", np.array(["2020-01-01T00:00:00.123", "1970-01-01"], dtype="M8[ms]")),
        ("arr_timedelta", np.array([10, -20], dtype="m8[10s]")),
        ("sc_f8", np.float64(1.5)),
        ("sc_f4", np.float32(-0.25)),
        ("sc_i1", np.int8(-3)),
        ("sc_u8", np.uint64(2**64 - 1)),
        ("sc_i8_be", np.array([5], dtype=">i8")[0]),
        ("sc_bool", np.bool_(True)),
        ("sc_c8", np.complex64(1 + 2j)),
        ("sc_str", np.str_("ab\xe9")),
        ("sc_bytes", np.bytes_(b"x\x00y")),
        ("sc_datetime", np.datetime64("2020-01-02", "D")),
        ("sc_void", np.array([(1, (2.5, -1), b"xyz")], dtype=st)[0]),
        ("list_of_arrays", [np.array([1.0]), np.float64(2.0), {"k": np.array([[1, 2]], dtype="u1")}]),
    ]
    vals = [(n, v, "ok") for n, v in vals]
    # The benchmark's input.
    vals.append(("arr_f8_1k", np.linspace(0, 1, 1000), "ok", {"p2"}))
    vals.append(("arr_object", np.array([1, "a"], dtype=object), "unsupported"))
    vals.append(("matrix", np.matrix([[1, 2]]), "unsupported"))
    return vals


def variants(v):
    for p in range(6):
        yield "p%d" % p, pickle.dumps(v, protocol=p)
    for p in range(3):
        yield "py2p%d" % p, py2dumps(v, p)


def write(path, vals):
    lines = []
    for name, v, expect, *only in vals:
        for variant, data in variants(v):
            if only and variant not in only[0]:
                continue
            try:
                got = pickle.loads(data, encoding="latin1")
            except Exception as e:  # e.g. bytearray in the Python 2 emulation
                print("skip", name, variant, repr(e), file=sys.stderr)
                continue
            lines.append("\t".join([name, variant, expect, data.hex(),
                                    json.dumps(render(got), ensure_ascii=False)]))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", path, len(lines), "lines", file=sys.stderr)


def main():
    write(os.path.join(HERE, "plain.txt"), plain_values())
    write(os.path.join(HERE, "numpy%d.txt" % int(np.__version__.split(".")[0])), numpy_values())


if __name__ == "__main__":
    main()
