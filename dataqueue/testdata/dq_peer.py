"""The Python side of dataqueue's encoding interop test: what an SKA SDP
Python process does with ska-sdp-dataqueues' encodings, on aiokafka, using
only Python's own codecs (msgpack_numpy.packb/unpackb, numpy.save/load,
json.dumps/loads, str.encode/bytes.decode).

  python dq_peer.py check BOOTSTRAP   < {"vectors": DIR, "topics": [{"topic": T, "encoding": E, "n": N}, ...]}
  python dq_peer.py produce BOOTSTRAP < {"vectors": DIR, "records": [{"topic": T, "encoding": E, "key": "FILE:NAME"}, ...]}

Records are keyed "FILE:NAME": the golden vector (shared/vectors/dataqueues)
they carry. check reads N records of each topic from the beginning (no
consumer group, as ska-sdp-dataqueues), decodes each with Python's decoder
for E, rebuilds the expected value from the vector's rendering (its
"decoded" field, else its "value") and prints one JSON line per record:
{"topic", "key", "ok", "bytes_equal" (the value is the vector's bytes),
"why"}. produce rebuilds each vector's value, encodes it with Python's
encoder for E and sends it with aiokafka (acks=1, ska-sdp-dataqueues'
default), waiting for each acknowledgement.
"""
import asyncio
import io
import json
import math
import os
import sys

import msgpack
import msgpack_numpy
import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


# --- the vectors' value rendering (shared/vectors/dataqueues/README.md) ---

def _float(x):
    if isinstance(x, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-0.0": -0.0}[x]
    return float(x)


def _descr(d):
    """dtype.descr from its JSON form (lists for tuples)."""
    if isinstance(d, str):
        return d
    out = []
    for f in d:
        field = [f[0], _descr(f[1])]
        if len(f) > 2:
            field.append(tuple(f[2]))
        out.append(tuple(field))
    return out


def _dtype(d):
    if isinstance(d, str):
        return np.dtype(d)
    # descr_to_dtype understands numpy's padding entries ('', '|Vn').
    return np.lib.format.descr_to_dtype(_descr(d))


def build(r):
    """The Python value a rendering stands for."""
    if r is None or isinstance(r, (bool, int, str)):
        return r
    if isinstance(r, float):
        return r
    if isinstance(r, list):
        return [build(x) for x in r]
    (tag, x), = r.items()
    if tag == "$float":
        return _float(x)
    if tag == "$complex":
        return complex(_float(x[0]), _float(x[1]))
    if tag == "$bytes":
        return bytes.fromhex(x)
    if tag == "$tuple":
        return tuple(build(e) for e in x)
    if tag == "$map":
        return {build(k): build(v) for k, v in x}
    if tag == "$npscalar":
        return np.frombuffer(bytes.fromhex(x["data_hex"]), dtype=_dtype(x["dtype"]))[0]
    if tag == "$ndarray":
        dt = _dtype(x["dtype"])
        a = np.frombuffer(bytes.fromhex(x["data_hex_c_order"]), dtype=dt).reshape(x["shape"])
        if x.get("order") == "F":
            a = np.asfortranarray(a)
        return a
    raise ValueError("unknown rendering tag " + tag)


def normalise(encoding, v):
    """What Python's decoder gives back for v (vectors without "decoded"):
    msgpack has no tuples; numpy.load returns a scalar as a 0-d array."""
    if encoding.startswith("msgpack"):
        if isinstance(v, (list, tuple)):
            return [normalise(encoding, e) for e in v]
        if isinstance(v, dict):
            return {k: normalise(encoding, e) for k, e in v.items()}
    if encoding == "npy" and isinstance(v, np.generic):
        return np.asarray(v)
    return v


def same(a, b):
    """Strict equality: same types, floats bit for bit (NaN equals NaN),
    dicts in the same order, arrays with equal dtype, shape and element
    bytes."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.names:
            # Field by field: padding bytes carry whatever memory held.
            return all(same(a[n], b[n]) for n in a.dtype.names)
        return a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k1, k2) and same(v1, v2)
                                        for (k1, v1), (k2, v2) in zip(a.items(), b.items()))
    return a == b


# --- Python's own codecs, as ska-sdp-dataqueues uses them ---

def decode(encoding, data):
    if encoding == "msgpack_numpy":
        return msgpack_numpy.unpackb(data)
    if encoding == "msgpack":
        return msgpack.unpackb(data)
    if encoding == "npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if encoding == "json":
        return json.loads(data)
    if encoding in ("utf-8", "ascii"):
        return data.decode(encoding)
    raise ValueError("unknown encoding " + encoding)


def noncontiguous(a):
    """A non-contiguous view with a's values (msgpack_numpy refuses
    datetime arrays through the buffer protocol, not through tobytes)."""
    b = np.empty(a.shape + (2,), dtype=a.dtype)
    b[..., 0] = a
    return b[..., 0]


def encode(encoding, v):
    if encoding == "msgpack_numpy":
        try:
            return msgpack_numpy.packb(v)
        except ValueError:
            if isinstance(v, np.ndarray):
                return msgpack_numpy.packb(noncontiguous(v))
            raise
    if encoding == "msgpack":
        return msgpack.packb(v)
    if encoding == "npy":
        buf = io.BytesIO()
        np.save(buf, v, allow_pickle=False)
        return buf.getvalue()
    if encoding == "json":
        return json.dumps(v).encode("utf-8")
    if encoding in ("utf-8", "ascii"):
        return v.encode(encoding)
    raise ValueError("unknown encoding " + encoding)


def load_vectors(directory):
    vecs = {}
    for name in os.listdir(directory):
        if name.endswith(".jsonl"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                for line in f:
                    v = json.loads(line)
                    vecs[name + ":" + v["name"]] = v
    return vecs


async def check(bootstrap, spec):
    vecs = load_vectors(spec["vectors"])
    for t in spec["topics"]:
        consumer = AIOKafkaConsumer(t["topic"], bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        await consumer.start()
        try:
            for _ in range(t["n"]):
                msg = await asyncio.wait_for(consumer.getone(), 60)
                key = msg.key.decode()
                v = vecs[key]
                out = {"topic": msg.topic, "key": key, "ok": False,
                       "bytes_equal": msg.value == bytes.fromhex(v["encoded_hex"] or ""), "why": ""}
                try:
                    got = decode(t["encoding"], msg.value)
                    if "decoded" in v:
                        want = build(v["decoded"])
                    else:
                        want = normalise(t["encoding"], build(v["value"]))
                    out["ok"] = same(got, want)
                    if not out["ok"]:
                        out["why"] = "decoded %r, want %r" % (got, want)
                except Exception as e:  # reported, not fatal: the test lists them all
                    out["why"] = "%s: %s" % (type(e).__name__, e)
                print(json.dumps(out), flush=True)
        finally:
            await consumer.stop()


async def produce(bootstrap, spec):
    vecs = load_vectors(spec["vectors"])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=8 << 20)
    await producer.start()
    try:
        for r in spec["records"]:
            value = encode(r["encoding"], build(vecs[r["key"]]["value"]))
            await producer.send_and_wait(r["topic"], value, key=r["key"].encode())
    finally:
        await producer.stop()


def main():
    cmd, bootstrap = sys.argv[1:3]
    spec = json.load(sys.stdin)
    if cmd == "check":
        asyncio.run(check(bootstrap, spec))
    elif cmd == "produce":
        asyncio.run(produce(bootstrap, spec))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
