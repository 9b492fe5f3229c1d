package rdb

import (
	"encoding/binary"
	"fmt"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// dumpBuf collects a DUMP payload in memory.
type dumpBuf struct{ b []byte }

func (d *dumpBuf) write(p []byte)       { d.b = append(d.b, p...) }
func (d *dumpBuf) writeString(p []byte) { d.b = append(appendLen(d.b, len(p)), p...) }

// finish appends the footer: RDB version 6 (uint16 LE) and the CRC-64 of
// everything before the checksum (or zeros with ZeroChecksum).
func (d *dumpBuf) finish(o options) []byte {
	d.b = binary.LittleEndian.AppendUint16(d.b, dumpVersion)
	var sum uint64
	if !o.zeroChecksum {
		sum = CRC64(d.b)
	}
	return binary.LittleEndian.AppendUint64(d.b, sum)
}

// DumpString returns the Redis DUMP payload of a string, as
// katsdptelstate's MemoryBackend.dump produces it: type 0, the raw value
// with its length, and the footer (RDB version 6 and a CRC-64 that Redis's
// RESTORE accepts; katsdptelstate writes zeros, see ZeroChecksum).
func DumpString(value []byte, opts ...Option) ([]byte, error) {
	if err := checkLens(value); err != nil {
		return nil, err
	}
	d := &dumpBuf{b: make([]byte, 0, 1+5+len(value)+10)}
	d.write([]byte{typeString})
	d.writeString(value)
	return d.finish(buildOptions(opts)), nil
}

// DumpZSet returns the DUMP payload of a sorted set with every score 0,
// encoded as Writer.WriteZSet encodes it (members sorted, duplicates
// dropped; ziplist up to 63 members, else plain).
func DumpZSet(members [][]byte, opts ...Option) ([]byte, error) {
	sorted := sortMembers(members)
	if err := checkLens(sorted...); err != nil {
		return nil, err
	}
	t := zsetType(sorted)
	d := &dumpBuf{b: []byte{t}}
	zsetBody(d, t, sorted)
	return d.finish(buildOptions(opts)), nil
}

// DumpHash returns the DUMP payload of a hash, encoded as Writer.WriteHash
// encodes it (entries in the given order; ziplist up to 256 entries, else
// plain). A repeated field is an error.
func DumpHash(entries []backend.Entry, opts ...Option) ([]byte, error) {
	if err := checkEntries(entries); err != nil {
		return nil, err
	}
	t := hashType(entries)
	d := &dumpBuf{b: []byte{t}}
	hashBody(d, t, entries)
	return d.finish(buildOptions(opts)), nil
}

// CheckDump verifies a DUMP payload's footer: at least 11 bytes, an RDB
// version this package reads, and a CRC-64 that matches or is zero.
func CheckDump(dump []byte) error {
	if len(dump) < 11 {
		return fmt.Errorf("rdb: DUMP payload of %d bytes is too short", len(dump))
	}
	footer := dump[len(dump)-10:]
	if v := binary.LittleEndian.Uint16(footer); v > MaxVersion {
		return fmt.Errorf("rdb: DUMP payload has RDB version %d, newer than %d", v, MaxVersion)
	}
	got := binary.LittleEndian.Uint64(footer[2:])
	if want := CRC64(dump[:len(dump)-8]); got != 0 && got != want {
		return fmt.Errorf("rdb: DUMP payload checksum %016x does not match its contents (%016x)", got, want)
	}
	return nil
}
