"""katsdptelstate's side of the Go micro-benchmarks (go test -bench in
telstate/encoding and telstate/memory): the same operations on the same
values, timed with timeit, printed as `name ns/op` lines.

  python bench/telstate_micro.py
"""
import timeit

import numpy as np
import katsdptelstate
from katsdptelstate.encoding import encode_value, decode_value


def ns(stmt, number, setup_globals):
    best = min(timeit.repeat(stmt, globals=setup_globals, number=number, repeat=5))
    return best / number * 1e9


def main():
    values = {
        "float": 1.5,
        "str": "track",
        "tuple5": (1, 2.5, "x", b"y", None),
        "npfloat": np.float32(1.5),
        "ndarray1k": np.arange(1000, dtype=np.float64),
        "ndarray1M": np.arange(1000000, dtype=np.float64),
    }
    for name, v in values.items():
        n = 20 if name == "ndarray1M" else 100000
        enc = encode_value(v)
        print("Encode/%s %.1f" % (name, ns("encode_value(v)", n, {"encode_value": encode_value, "v": v})))
        print("Decode/%s %.1f" % (name, ns("decode_value(b)", n, {"decode_value": decode_value, "b": enc})))

    ts = katsdptelstate.TelescopeState()
    counter = iter(range(10**9))
    g = {"ts": ts, "c": counter}
    print("Add %.1f" % ns("i = next(c); ts.add('s', float(i), ts=float(i))", 200000, g))
    print("Get %.1f" % ns("ts.get('s')", 200000, g))
    ts.add("imm", 4096, immutable=True)
    print("GetImmutable %.1f" % ns("ts.get('imm')", 200000, g))
    big = katsdptelstate.TelescopeState()
    for i in range(100000):
        big.add("r", float(i), ts=float(i))
    g2 = {"ts": big, "c": iter(range(10**9))}
    print("GetRange100/of100000 %.1f" % ns("i = next(c) % 99000; ts.get_range('r', st=float(i), et=float(i + 100))", 2000, g2))
    print("SetIndexed %.1f" % ns("i = next(c); ts.set_indexed('x', i, float(i))", 200000, g))
    print("GetIndexed %.1f" % ns("ts.get_indexed('x', 7)", 200000, g))


if __name__ == "__main__":
    main()
