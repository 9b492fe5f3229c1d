"""Python side of sdpkit's katsdptelstate interop tests.

Run by the Go tests with the peers' virtualenv (scripts/peers.sh). Every
command prints one JSON document on stdout. Byte strings travel as hex.

  peer.py read-rdb FILE        load FILE with katsdptelstate, print its keys
  peer.py write-rdb FILE SPEC  write FILE with katsdptelstate's RDBWriter from
                               the raw keys in the JSON file SPEC
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


def main():
    cmd = sys.argv[1]
    if cmd == "read-rdb":
        out = read_rdb(sys.argv[2])
    elif cmd == "write-rdb":
        out = write_rdb(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("unknown command " + cmd)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
