"""Python side of sdpkit's katsdptelstate interop tests.

Run by the Go tests with the peers' virtualenv (scripts/peers.sh). Every
command prints one JSON document on stdout. Byte strings travel as hex.

  peer.py read-rdb FILE        load FILE with katsdptelstate, print its keys
  peer.py write-rdb FILE SPEC  write FILE with katsdptelstate's RDBWriter from
                               the raw keys in the JSON file SPEC
  peer.py redis-read URL       print the keys of the Redis database at URL
  peer.py redis-write URL SPEC write through katsdptelstate's own API: each
                               value of SPEC is decoded to its Python object
                               and added, so Python's encoder makes the bytes
  peer.py redis-ranges URL QUERIES
                               get_range for each query of the JSON file
                               QUERIES ({"key", "st", "et", "include_previous",
                               "include_end"}, null for defaults), printing
                               {"samples": [[value hex, ts], ...]} or
                               {"error": class name} for each
  peer.py redis-wait URL KIND KEY [SUBKEY] VALUE TIMEOUT
                               wait_key (KIND=key) or wait_indexed
                               (KIND=indexed) until the value's encoding is
                               VALUE (hex); prints what it saw
  peer.py redis-dump URL FILE  RDBWriter.save from Redis into FILE
"""
import json
import sys

import katsdptelstate
from katsdptelstate import KeyType
from katsdptelstate.encoding import decode_value
from katsdptelstate.memory import MemoryBackend
from katsdptelstate.rdb_writer import RDBWriter


def dump_keys(ts):
    """Every key's raw contents, and whether each value decodes in Python."""
    keys = []
    undecodable = []

    def check(key, raw):
        try:
            decode_value(raw)
        except Exception as exc:  # noqa: BLE001 - report every failure
            undecodable.append([key, type(exc).__name__, str(exc)[:200]])

    for key in sorted(ts.keys()):
        kt = ts.key_type(key)
        entry = {"key": key.encode("utf-8", "surrogateescape").hex(), "key_type": kt.name}
        if kt == KeyType.IMMUTABLE:
            raw = ts.get(key, return_encoded=True)
            entry["value"] = raw.hex()
            check(key, raw)
        elif kt == KeyType.MUTABLE:
            samples = ts.get_range(key, st=0, return_encoded=True)
            entry["samples"] = [[v.hex(), t] for v, t in samples]
            for v, _ in samples:
                check(key, v)
        else:
            d = ts.get(key, return_encoded=True)
            entry["entries"] = sorted([k.hex(), v.hex()] for k, v in d.items())
            for k, v in d.items():
                check(key, k)
                check(key, v)
        keys.append(entry)
    return {"keys": keys, "undecodable": undecodable}


def read_rdb(path):
    ts = katsdptelstate.TelescopeState()
    n = ts.load_from_file(path)
    out = dump_keys(ts)
    out["loaded"] = n
    return out


def write_rdb(path, spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    backend = MemoryBackend()
    for entry in spec["keys"]:
        key = bytes.fromhex(entry["key"])
        if entry["key_type"] == "IMMUTABLE":
            backend.set_immutable(key, bytes.fromhex(entry["value"]))
        elif entry["key_type"] == "MUTABLE":
            for value, ts in entry["samples"]:
                backend.add_mutable(key, bytes.fromhex(value), ts)
        else:
            for sub_key, value in entry["entries"]:
                backend.set_indexed(key, bytes.fromhex(sub_key), bytes.fromhex(value))
    with RDBWriter(path) as writer:
        writer.save(backend)
    return {"keys_written": writer.keys_written, "keys_failed": writer.keys_failed}


def redis_read(url):
    return dump_keys(katsdptelstate.TelescopeState(url))


def redis_write(url, spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    ts = katsdptelstate.TelescopeState(url)
    for entry in spec["keys"]:
        key = bytes.fromhex(entry["key"])
        if entry["key_type"] == "IMMUTABLE":
            ts.add(key, decode_value(bytes.fromhex(entry["value"])), immutable=True)
        elif entry["key_type"] == "MUTABLE":
            for value, t in entry["samples"]:
                ts.add(key, decode_value(bytes.fromhex(value)), ts=t)
        else:
            for sub_key, value in entry["entries"]:
                ts.set_indexed(key, decode_value(bytes.fromhex(sub_key)),
                               decode_value(bytes.fromhex(value)))
    return {"ok": True}


def as_float(value):
    # JSON cannot carry these; the Go side sends them as strings.
    return float(value) if isinstance(value, str) else value


def redis_ranges(url, queries_path):
    with open(queries_path) as f:
        queries = json.load(f)
    ts = katsdptelstate.TelescopeState(url)
    results = []
    for q in queries:
        try:
            samples = ts.get_range(q["key"], st=as_float(q.get("st")), et=as_float(q.get("et")),
                                   include_previous=q.get("include_previous"),
                                   include_end=bool(q.get("include_end")), return_encoded=True)
        except Exception as exc:  # noqa: BLE001 - the Go side compares error classes
            results.append({"error": type(exc).__name__})
        else:
            results.append({"samples": [[v.hex(), t] for v, t in samples]})
    return results


def redis_wait(url, kind, key, rest):
    from katsdptelstate.encoding import encode_value
    ts = katsdptelstate.TelescopeState(url)
    if kind == "indexed":
        sub_key_hex, value_hex, timeout = rest
        sub_key = decode_value(bytes.fromhex(sub_key_hex))
    else:
        value_hex, timeout = rest
    seen = []

    def cond(value, *args):
        seen.append(encode_value(value).hex())
        return seen[-1] == value_hex

    print(json.dumps({"waiting": True}), flush=True)
    try:
        if kind == "indexed":
            ts.wait_indexed(key, sub_key, cond, timeout=float(timeout))
        else:
            ts.wait_key(key, cond, timeout=float(timeout))
    except Exception as exc:  # noqa: BLE001
        return {"error": type(exc).__name__, "seen": seen}
    return {"ok": True, "seen": seen}


def redis_dump(url, path):
    ts = katsdptelstate.TelescopeState(url)
    with RDBWriter(path) as writer:
        writer.save(ts)
    return {"keys_written": writer.keys_written, "keys_failed": writer.keys_failed}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "read-rdb":
        out = read_rdb(*args)
    elif cmd == "write-rdb":
        out = write_rdb(*args)
    elif cmd == "redis-read":
        out = redis_read(*args)
    elif cmd == "redis-write":
        out = redis_write(*args)
    elif cmd == "redis-ranges":
        out = redis_ranges(*args)
    elif cmd == "redis-wait":
        out = redis_wait(args[0], args[1], args[2], args[3:])
    elif cmd == "redis-dump":
        out = redis_dump(*args)
    else:
        raise SystemExit("unknown command " + cmd)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
