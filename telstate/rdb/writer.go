package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// Header is what katsdptelstate's RDBWriter writes first: magic, RDB
// version 6, and SELECTDB 0.
const Header = "REDIS0006\xfe\x00"

// dumpVersion is the RDB version katsdptelstate's DUMP encoder puts in the
// footer of its payloads.
const dumpVersion = 6

// Thresholds of katsdptelstate's encoder: at most this many ziplist entries
// (two per zset member or hash pair), and less than this many member /
// field+value bytes in total, else the plain encoding.
const (
	zsetZiplistMaxEntries = 127
	hashZiplistMaxEntries = 512
	ziplistMaxBytes       = 1 << 31
)

// maxLen is the largest length katsdptelstate's encoder can write (it has
// no 64-bit length form).
const maxLen = math.MaxUint32

// Option configures a Writer or a Dump function.
type Option func(*options)

type options struct {
	zeroChecksum bool
}

// ZeroChecksum writes eight zero bytes where the CRC-64 goes, as
// katsdptelstate does ("not computed"; Redis accepts it in RDB files).
// Redis's RESTORE refuses a DUMP payload with a zero checksum unless
// checksum validation is disabled in the server.
func ZeroChecksum() Option { return func(o *options) { o.zeroChecksum = true } }

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Writer writes an RDB file in katsdptelstate's RDBWriter format. Call
// Close to finish the file; Close does not close the underlying writer.
// After an error every further call returns that error. A Writer is not
// safe for concurrent use.
type Writer struct {
	bw      *bufio.Writer
	opts    options
	crc     uint64
	keys    int
	closed  bool
	err     error
	scratch []byte
}

// NewWriter starts an RDB file on w. The header is written (buffered)
// at once, as Python's RDBWriter does.
func NewWriter(w io.Writer, opts ...Option) *Writer {
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10), opts: buildOptions(opts)}
	wr.write([]byte(Header))
	return wr
}

// KeysWritten returns the number of keys written so far.
func (w *Writer) KeysWritten() int { return w.keys }

// write sends p to the file, adding it to the checksum.
func (w *Writer) write(p []byte) {
	if w.err != nil {
		return
	}
	w.crc = crcUpdate(w.crc, p)
	_, w.err = w.bw.Write(p)
}

func (w *Writer) check() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("rdb: write to a closed Writer")
	}
	return nil
}

// startRecord writes the type byte and key of a record.
func (w *Writer) startRecord(t byte, key []byte) error {
	if err := w.check(); err != nil {
		return err
	}
	if uint64(len(key)) > maxLen {
		return fmt.Errorf("rdb: key of %d bytes is too long to encode", len(key))
	}
	w.scratch = appendLen(append(w.scratch[:0], t), len(key))
	w.write(w.scratch)
	w.write(key)
	return nil
}

// endRecord counts a finished record.
func (w *Writer) endRecord() error {
	if w.err != nil {
		return w.err
	}
	w.keys++
	return nil
}

// WriteString writes a string key (a telstate immutable) as a raw string,
// never integer-encoded or compressed, as katsdptelstate does.
func (w *Writer) WriteString(key, value []byte) error {
	if uint64(len(value)) > maxLen {
		return fmt.Errorf("rdb: value of %d bytes is too long to encode", len(value))
	}
	if err := w.startRecord(typeString, key); err != nil {
		return err
	}
	w.writeString(value)
	return w.endRecord()
}

// WriteZSet writes a sorted set (a telstate sensor) whose members all have
// score 0. Members are sorted bytewise first and exact duplicates dropped
// (the caller's slice is not modified). Up to 63 members are written as a
// ziplist (type 12) with the score as the immediate integer 0, more as a
// plain zset (type 3) with the score as the text "0".
func (w *Writer) WriteZSet(key []byte, members [][]byte) error {
	sorted := sortMembers(members)
	if err := checkLens(sorted...); err != nil {
		return err
	}
	t := zsetType(sorted)
	if err := w.startRecord(t, key); err != nil {
		return err
	}
	w.writeZSetBody(t, sorted)
	return w.endRecord()
}

// WriteHash writes a hash (a telstate indexed key) with its entries in the
// given order (katsdptelstate writes its MemoryBackend's insertion order).
// Up to 256 entries are written as a ziplist (type 13), more as a plain
// hash (type 4). A repeated field is an error.
func (w *Writer) WriteHash(key []byte, entries []backend.Entry) error {
	if err := checkEntries(entries); err != nil {
		return err
	}
	t := hashType(entries)
	if err := w.startRecord(t, key); err != nil {
		return err
	}
	w.writeHashBody(t, entries)
	return w.endRecord()
}

// WriteDump writes a key from a Redis DUMP payload exactly as
// katsdptelstate's RDBWriter does: the payload's first byte is the value
// type and the last 10 bytes (RDB version and CRC-64) are dropped; the rest
// is copied unchanged. The payload is not validated, so a payload from a
// newer Redis (listpacks, type 17) produces a file only that Redis can
// read.
func (w *Writer) WriteDump(key, dump []byte) error {
	if len(dump) < 11 {
		return fmt.Errorf("rdb: DUMP payload of %d bytes is too short", len(dump))
	}
	if err := w.startRecord(dump[0], key); err != nil {
		return err
	}
	w.write(dump[1 : len(dump)-10])
	return w.endRecord()
}

// Close writes the EOF opcode and the checksum (the CRC-64 of everything
// before it, little-endian, or zeros with ZeroChecksum) and flushes.
// Unlike Python's RDBWriter it does not delete a file with no keys; check
// KeysWritten for that.
func (w *Writer) Close() error {
	if err := w.check(); err != nil {
		return err
	}
	w.write([]byte{opEOF})
	var sum [8]byte
	if !w.opts.zeroChecksum {
		binary.LittleEndian.PutUint64(sum[:], w.crc)
	}
	w.write(sum[:])
	w.closed = true
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if w.err != nil {
		return w.err
	}
	return nil
}

func (w *Writer) writeString(p []byte) {
	w.scratch = appendLen(w.scratch[:0], len(p))
	w.write(w.scratch)
	w.write(p)
}

// The bodies are produced by the same code for files and DUMP payloads.
// bodyWriter is what both sinks offer.
type bodyWriter interface {
	writeString(p []byte)
	write(p []byte)
}

func (w *Writer) writeZSetBody(t byte, members [][]byte) { zsetBody(w, t, members) }
func (w *Writer) writeHashBody(t byte, entries []backend.Entry) {
	hashBody(w, t, entries)
}

func zsetBody(w bodyWriter, t byte, members [][]byte) {
	if t == typeZSetZiplist {
		items := make([]zlItem, 0, 2*len(members))
		for _, m := range members {
			items = append(items, zlItem{str: m}, zlItem{zero: true})
		}
		writeZiplist(w, items)
		return
	}
	w.write(appendLen(nil, len(members)))
	for _, m := range members {
		w.writeString(m)
		w.write([]byte{1, '0'}) // score as the text double "0"
	}
}

func hashBody(w bodyWriter, t byte, entries []backend.Entry) {
	if t == typeHashZiplist {
		items := make([]zlItem, 0, 2*len(entries))
		for _, e := range entries {
			items = append(items, zlItem{str: e.SubKey}, zlItem{str: e.Value})
		}
		writeZiplist(w, items)
		return
	}
	w.write(appendLen(nil, len(entries)))
	for _, e := range entries {
		w.writeString(e.SubKey)
		w.writeString(e.Value)
	}
}

func zsetType(members [][]byte) byte {
	total := 0
	for _, m := range members {
		total += len(m)
	}
	if 2*len(members) > zsetZiplistMaxEntries || total >= ziplistMaxBytes {
		return typeZSet
	}
	return typeZSetZiplist
}

func hashType(entries []backend.Entry) byte {
	total := 0
	for _, e := range entries {
		total += len(e.SubKey) + len(e.Value)
	}
	if 2*len(entries) > hashZiplistMaxEntries || total >= ziplistMaxBytes {
		return typeHash
	}
	return typeHashZiplist
}

// sortMembers returns the members sorted bytewise without duplicates, as
// a telstate MemoryBackend holds them (Redis refuses duplicate members).
func sortMembers(members [][]byte) [][]byte {
	s := slices.Clone(members)
	slices.SortFunc(s, bytes.Compare)
	return slices.CompactFunc(s, bytes.Equal)
}

func checkLens(ps ...[]byte) error {
	if uint64(len(ps)) > maxLen {
		return fmt.Errorf("rdb: %d elements are too many to encode", len(ps))
	}
	for _, p := range ps {
		if uint64(len(p)) > maxLen {
			return fmt.Errorf("rdb: string of %d bytes is too long to encode", len(p))
		}
	}
	return nil
}

func checkEntries(entries []backend.Entry) error {
	if uint64(len(entries)) > maxLen {
		return fmt.Errorf("rdb: %d entries are too many to encode", len(entries))
	}
	seen := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		if err := checkLens(e.SubKey, e.Value); err != nil {
			return err
		}
		if _, dup := seen[string(e.SubKey)]; dup {
			return fmt.Errorf("rdb: hash field %q appears twice", e.SubKey)
		}
		seen[string(e.SubKey)] = struct{}{}
	}
	return nil
}

// appendLen appends katsdptelstate's RDB length encoding of n (< 2^32):
// 6 bits, 14 bits big-endian with 01 in the top bits, or 0x80 and a
// big-endian uint32.
func appendLen(dst []byte, n int) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, 0x40|byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0x80), uint32(n))
}

func lenSize(n int) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	}
	return 5
}

// zlItem is a ziplist entry to write: a string, or the integer 0 (the zset
// score), which katsdptelstate writes as the 4-bit immediate 0xF1.
type zlItem struct {
	str  []byte
	zero bool
}

func (it zlItem) size(prevLen int) int {
	n := 1
	if prevLen >= 0xfe {
		n = 5
	}
	if it.zero {
		return n + 1
	}
	return n + lenSize(len(it.str)) + len(it.str)
}

// writeZiplist writes a ziplist as an RDB string, laid out as
// katsdptelstate's encoder does: string entries use the RDB length forms
// (which coincide with ziplist string headers), prevlen is one byte below
// 254 and 0xFE + uint32 LE otherwise. The sizes are worked out first so
// large members are streamed, not copied.
func writeZiplist(w bodyWriter, items []zlItem) {
	total, last, prev := 10, 10, 0
	for _, it := range items {
		s := it.size(prev)
		last = total
		total += s
		prev = s
	}
	total++ // end byte
	hdr := appendLen(nil, total)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(total))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(last))
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(items)))
	w.write(hdr)
	prev = 0
	var buf []byte
	for _, it := range items {
		buf = buf[:0]
		if prev < 0xfe {
			buf = append(buf, byte(prev))
		} else {
			buf = binary.LittleEndian.AppendUint32(append(buf, 0xfe), uint32(prev))
		}
		if it.zero {
			buf = append(buf, 0xf1)
			w.write(buf)
		} else {
			w.write(appendLen(buf, len(it.str)))
			w.write(it.str)
		}
		prev = it.size(prev)
	}
	w.write([]byte{0xff})
}
