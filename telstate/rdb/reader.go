package rdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// MaxVersion is the newest RDB format version Read understands (Redis 7.4).
const MaxVersion = 12

// RecordType is the Redis type of a Record.
type RecordType int

const (
	// String is a Redis string: a telstate immutable (attribute).
	String RecordType = iota + 1
	// ZSet is a Redis sorted set: a telstate mutable (sensor).
	ZSet
	// Hash is a Redis hash: a telstate indexed key.
	Hash
)

// String returns the Redis name of the type.
func (t RecordType) String() string {
	switch t {
	case String:
		return "string"
	case ZSet:
		return "zset"
	case Hash:
		return "hash"
	}
	return fmt.Sprintf("RecordType(%d)", int(t))
}

// Record is one key read from an RDB file. Its byte slices are not shared
// with other records and may be kept.
type Record struct {
	Key  []byte
	Type RecordType
	// Value is a string's value.
	Value []byte
	// Members are a sorted set's members, sorted bytewise (for telstate
	// sensors, by timestamp then encoded value). Scores are dropped:
	// telstate always uses score 0.
	Members [][]byte
	// Entries are a hash's fields and values, sorted by field bytes. If a
	// malformed file repeats a field, the last value wins.
	Entries []backend.Entry
	// FileEntries are the hash entries in the order the file stores them
	// (katsdptelstate's MemoryBackend writes insertion order), sharing
	// bytes with Entries.
	FileEntries []backend.Entry
	// DB is the database number the key was stored in.
	DB int
	// ExpireAt is the key's expiry time, or the zero Time if it has none.
	ExpireAt time.Time
}

// Opcodes that introduce something other than a key.
const (
	opSlotInfo      = 0xF4
	opFunction2     = 0xF5
	opFunctionPreGA = 0xF6
	opModuleAux     = 0xF7
	opIdle          = 0xF8
	opFreq          = 0xF9
	opAux           = 0xFA
	opResizeDB      = 0xFB
	opExpireTimeMS  = 0xFC
	opExpireTime    = 0xFD
	opSelectDB      = 0xFE
	opEOF           = 0xFF
)

// Value type bytes.
const (
	typeString         = 0
	typeList           = 1
	typeSet            = 2
	typeZSet           = 3
	typeHash           = 4
	typeZSet2          = 5
	typeModulePreGA    = 6
	typeModule2        = 7
	typeHashZipmap     = 9
	typeListZiplist    = 10
	typeSetIntset      = 11
	typeZSetZiplist    = 12
	typeHashZiplist    = 13
	typeListQuicklist  = 14
	typeStream         = 15
	typeHashListpack   = 16
	typeZSetListpack   = 17
	typeListQuicklist2 = 18
	typeStream2        = 19
	typeSetListpack    = 20
	typeStream3        = 21
	// 22 to 25 are hashes with per-field expiry (Redis 7.4 and later).
	typeHashMetadataPreGA   = 22
	typeHashListpackExPreGA = 23
	typeHashMetadata        = 24
	typeHashListpackEx      = 25
)

// Read parses an RDB file from r and calls fn for every string, sorted set
// and hash it holds, in file order. Lists, sets and module values are
// parsed and skipped (katsdptelstate ignores them too); streams, pre-release
// module values and hashes with per-field expiry stop the read with an
// error.
//
// A malformed or truncated file, or a failure of r, gives a *ParseError.
// An error returned by fn stops the read and is returned unchanged. A nil
// fn just validates the file.
//
// The trailing CRC-64 is verified for RDB version 5 and later unless it is
// zero (Redis's and katsdptelstate's "not computed").
func Read(r io.Reader, fn func(Record) error) error {
	if fn == nil {
		fn = func(Record) error { return nil } // just validate
	}
	d := &decoder{in: newInput(r)}
	return d.run(fn)
}

// Load reads an RDB file from r into dst, replacing keys that exist, and
// returns the number of strings, sorted sets and hashes loaded (other types
// are skipped and not counted, as katsdptelstate does). Keys from every
// database in the file go into dst, and expiry times are ignored. Records
// are passed on in batches of up to backend.BatchKeys keys or
// backend.BatchBytes bytes (one LoadBatch each when dst is a
// backend.BatchLoader), so after an error dst holds the keys of the batches
// before it. Reading stops when ctx is done (the error then wraps ctx's).
// Errors from dst are returned wrapped, not as a ParseError.
func Load(ctx context.Context, r io.Reader, dst backend.Loader) (int, error) {
	// Keys go to dst in batches, so that a backend.BatchLoader (Redis)
	// stores many keys per round trip.
	n, size := 0, 0
	var batch []backend.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := backend.LoadRecords(ctx, dst, batch); err != nil {
			return fmt.Errorf("rdb: loading keys %d to %d: %w", n, n+len(batch)-1, err)
		}
		n += len(batch)
		batch, size = batch[:0], 0
		return nil
	}
	err := Read(ctxReader{ctx, r}, func(rec Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		br := backend.Record{Key: rec.Key}
		switch rec.Type {
		case String:
			br.Type, br.Value = backend.Immutable, rec.Value
		case ZSet:
			br.Type, br.Members = backend.Mutable, rec.Members
		case Hash:
			br.Type, br.Entries = backend.Indexed, rec.Entries
		default:
			return nil
		}
		batch = append(batch, br)
		size += br.Size()
		if len(batch) >= backend.BatchKeys || size >= backend.BatchBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil && ctx.Err() != nil {
		// Report the cancellation, not the read it interrupted.
		return n, fmt.Errorf("rdb: load stopped after %d keys: %w", n, context.Cause(ctx))
	}
	return n, err
}

// LoadFile is Load on the named file. Errors name the file.
func LoadFile(ctx context.Context, path string, dst backend.Loader) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("rdb: %w", err)
	}
	defer f.Close()
	n, err := Load(ctx, f, dst)
	if err != nil {
		return n, fmt.Errorf("rdb: %s: %w", path, err)
	}
	return n, nil
}

// ctxReader fails reads once ctx is done, so that a long value stops
// loading promptly. It forwards the size hints newInput looks for.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// decoder holds the state of one Read.
type decoder struct {
	in      *input
	version int
	// seen, if not nil, counts the value types and string encodings met
	// (tests use it to prove which encodings a file exercised).
	seen map[string]int
}

func (d *decoder) note(what string) {
	if d.seen != nil {
		d.seen[what]++
	}
}

func (d *decoder) run(fn func(Record) error) error {
	hdr, err := d.in.readFull(9, "header")
	if err != nil {
		return err
	}
	if !bytes.Equal(hdr[:5], []byte("REDIS")) {
		return errAt(0, "bad magic %q, want \"REDIS\"", hdr[:5])
	}
	for i, c := range hdr[5:] {
		if c < '0' || c > '9' {
			return errAt(int64(5+i), "RDB version %q is not a number", hdr[5:])
		}
	}
	d.version, _ = strconv.Atoi(string(hdr[5:]))
	if d.version < 1 || d.version > MaxVersion {
		return errAt(5, "unsupported RDB version %d (this reader handles 1 to %d)", d.version, MaxVersion)
	}

	db := 0
	var expire time.Time
	for {
		opOff := d.in.off
		op, err := d.in.readByte()
		if err != nil {
			return err
		}
		switch op {
		case opEOF:
			return d.checksum()
		case opSelectDB:
			n, err := d.readLen("database number")
			if err != nil {
				return err
			}
			if n > 1<<31 {
				return errAt(opOff+1, "database number %d is out of range", n)
			}
			db = int(n)
		case opExpireTime:
			b, err := d.in.readFull(4, "expiry time")
			if err != nil {
				return err
			}
			expire = time.Unix(int64(int32(binary.LittleEndian.Uint32(b))), 0)
		case opExpireTimeMS:
			b, err := d.in.readFull(8, "expiry time")
			if err != nil {
				return err
			}
			expire = time.UnixMilli(int64(binary.LittleEndian.Uint64(b)))
		case opResizeDB:
			if err := d.skipLens(2, "RESIZEDB size"); err != nil {
				return err
			}
		case opSlotInfo:
			if err := d.skipLens(3, "SLOT_INFO field"); err != nil {
				return err
			}
		case opAux:
			for _, what := range []string{"AUX field name", "AUX field value"} {
				if _, err := d.readString(what); err != nil {
					return err
				}
			}
		case opFreq:
			if _, err := d.in.readByte(); err != nil {
				return err
			}
		case opIdle:
			if _, err := d.readLen("LRU idle time"); err != nil {
				return err
			}
		case opFunction2:
			if _, err := d.readString("function library"); err != nil {
				return err
			}
		case opFunctionPreGA:
			return errAt(opOff, "pre-release function data (opcode 0xF6, Redis 7.0 RC) is not supported")
		case opModuleAux:
			if err := d.skipModuleAux(opOff); err != nil {
				return err
			}
		default:
			rec, keep, err := d.readKeyValue(op, opOff)
			if err != nil {
				return err
			}
			if keep {
				rec.DB = db
				rec.ExpireAt = expire
				if err := fn(rec); err != nil {
					return err
				}
			}
			expire = time.Time{}
		}
	}
}

// checksum reads and verifies the CRC-64 trailer that follows EOF.
func (d *decoder) checksum() error {
	if d.version < 5 {
		return nil
	}
	want := d.in.checksum()
	off := d.in.off
	b, err := d.in.readFull(8, "checksum")
	if err != nil {
		return err
	}
	got := binary.LittleEndian.Uint64(b)
	if got != 0 && got != want {
		return errAt(off, "checksum mismatch: file has %016x, contents give %016x", got, want)
	}
	return nil
}

// readLength reads an RDB length. If the first byte marks a special string
// encoding, it returns that encoding (0 to 63) and special = true.
func (d *decoder) readLength() (n uint64, special bool, err error) {
	off := d.in.off
	b, err := d.in.readByte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case 0:
		return uint64(b & 0x3f), false, nil
	case 1:
		b2, err := d.in.readByte()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(b2), false, nil
	case 3:
		return uint64(b & 0x3f), true, nil
	}
	switch b {
	case 0x80:
		p, err := d.in.readFull(4, "32-bit length")
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(p)), false, nil
	case 0x81:
		p, err := d.in.readFull(8, "64-bit length")
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(p), false, nil
	}
	return 0, false, errAt(off, "invalid length encoding byte 0x%02x", b)
}

// readLen reads a plain length, rejecting string encodings.
func (d *decoder) readLen(what string) (uint64, error) {
	off := d.in.off
	n, special, err := d.readLength()
	if err != nil {
		return 0, err
	}
	if special {
		return 0, errAt(off, "%s: expected a length, found string encoding byte 0x%02x", what, 0xc0|n)
	}
	return n, nil
}

func (d *decoder) skipLens(k int, what string) error {
	for range k {
		if _, err := d.readLen(what); err != nil {
			return err
		}
	}
	return nil
}

// blob is a string read from the file, with where it came from so errors
// inside it (a ziplist, a listpack) can point back into the file.
type blob struct {
	data []byte
	off  int64 // file offset of data[0], or of the LZF record
	lzf  bool  // data was decompressed, so offsets inside it are not file offsets
}

// errIn returns a ParseError for position pos inside the blob.
func (b blob) errIn(pos int, what string, err error) *ParseError {
	if b.lzf {
		return errAt(b.off, "%s (at byte %d of its LZF-decompressed form): %v", what, pos, err)
	}
	return errAt(b.off+int64(pos), "%s: %v", what, err)
}

// readString reads an RDB string: raw, integer-encoded or LZF-compressed.
func (d *decoder) readString(what string) ([]byte, error) {
	b, err := d.readBlob(what)
	return b.data, err
}

func (d *decoder) readBlob(what string) (blob, error) {
	off := d.in.off
	n, special, err := d.readLength()
	if err != nil {
		return blob{}, err
	}
	if !special {
		d.note("string:raw")
		dataOff := d.in.off
		p, err := d.in.readFull(n, what)
		return blob{data: p, off: dataOff}, err
	}
	var size uint64
	switch n {
	case 0:
		size = 1
	case 1:
		size = 2
	case 2:
		size = 4
	case 3:
		d.note("string:lzf")
		return d.readLZF(off, what)
	default:
		return blob{}, errAt(off, "%s: unknown string encoding byte 0x%02x", what, 0xc0|n)
	}
	d.note("string:int")
	p, err := d.in.readFull(size, what)
	if err != nil {
		return blob{}, err
	}
	var v int64
	switch size {
	case 1:
		v = int64(int8(p[0]))
	case 2:
		v = int64(int16(binary.LittleEndian.Uint16(p)))
	case 4:
		v = int64(int32(binary.LittleEndian.Uint32(p)))
	}
	return blob{data: strconv.AppendInt(nil, v, 10), off: off, lzf: true}, nil
}

func (d *decoder) readLZF(off int64, what string) (blob, error) {
	clen, err := d.readLen(what + " (LZF compressed length)")
	if err != nil {
		return blob{}, err
	}
	ulen, err := d.readLen(what + " (LZF uncompressed length)")
	if err != nil {
		return blob{}, err
	}
	// Check both claims before reading or allocating anything.
	if err := d.in.checkClaim(clen, what+" (LZF data)"); err != nil {
		return blob{}, err
	}
	if ulen/lzfMaxRatio > clen { // division: clen*ratio could overflow
		return blob{}, errAt(off, "%s: LZF length %d cannot come from %d compressed bytes", what, ulen, clen)
	}
	dataOff := d.in.off
	comp, err := d.in.readFull(clen, what+" (LZF data)")
	if err != nil {
		return blob{}, err
	}
	out, pos, err := lzfDecompress(comp, int(ulen))
	if err != nil {
		return blob{}, errAt(dataOff+int64(pos), "%s: %v", what, err)
	}
	return blob{data: out, off: off, lzf: true}, nil
}

// capHint bounds a preallocation for n items of at least minSize bytes each
// by what the rest of the input could hold.
func (d *decoder) capHint(n uint64, minSize int64) int {
	limit := uint64(d.in.remainingHint()/minSize) + 1
	return int(min(n, limit, 1<<20))
}

// readKeyValue reads the key and value of a record of value type t. keep
// is false for types that are skipped.
func (d *decoder) readKeyValue(t byte, typeOff int64) (rec Record, keep bool, err error) {
	switch t {
	case typeStream, typeStream2, typeStream3:
		return rec, false, errAt(typeOff, "stream values (type %d) are not supported", t)
	case typeModulePreGA:
		return rec, false, errAt(typeOff, "pre-release module values (type 6) are not supported")
	case typeHashMetadataPreGA, typeHashListpackExPreGA, typeHashMetadata, typeHashListpackEx:
		return rec, false, errAt(typeOff, "hashes with field expiry (type %d) are not supported", t)
	}
	if !knownType(t) {
		return rec, false, errAt(typeOff, "unknown value type %d", t)
	}
	d.note(fmt.Sprintf("type:%d", t))
	key, err := d.readString("key")
	if err != nil {
		return rec, false, err
	}
	rec.Key = key
	wrap := func(err error) error {
		if pe, ok := err.(*ParseError); ok {
			pe.Msg = fmt.Sprintf("key %q (type %d): %s", key, t, pe.Msg)
		}
		return err
	}
	keep, err = d.readValue(t, &rec)
	if err != nil {
		return rec, false, wrap(err)
	}
	if keep {
		switch rec.Type {
		case ZSet:
			slices.SortFunc(rec.Members, bytes.Compare)
		case Hash:
			rec.Entries = sortEntries(rec.FileEntries)
		}
	}
	return rec, keep, nil
}

func knownType(t byte) bool {
	return t <= typeModule2 || (t >= typeHashZipmap && t <= typeStream3)
}

// sortEntries returns entries sorted by field, keeping the last value of a
// repeated field, without modifying the input.
func sortEntries(in []backend.Entry) []backend.Entry {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b backend.Entry) int { return bytes.Compare(a.SubKey, b.SubKey) })
	w := 0
	for i := range out {
		if w > 0 && bytes.Equal(out[w-1].SubKey, out[i].SubKey) {
			out[w-1] = out[i]
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

func (d *decoder) readValue(t byte, rec *Record) (bool, error) {
	switch t {
	case typeString:
		v, err := d.readString("value")
		rec.Type, rec.Value = String, v
		return true, err

	case typeList, typeSet:
		n, err := d.readLen("element count")
		if err != nil {
			return false, err
		}
		for range n {
			if _, err := d.readString("element"); err != nil {
				return false, err
			}
		}
		return false, nil

	case typeZSet, typeZSet2:
		n, err := d.readLen("member count")
		if err != nil {
			return false, err
		}
		rec.Type = ZSet
		rec.Members = make([][]byte, 0, d.capHint(n, 2))
		for range n {
			m, err := d.readString("member")
			if err != nil {
				return false, err
			}
			rec.Members = append(rec.Members, m)
			if t == typeZSet2 {
				err = d.in.discard(8, "score")
			} else {
				err = d.skipTextDouble()
			}
			if err != nil {
				return false, err
			}
		}
		return true, nil

	case typeHash:
		n, err := d.readLen("field count")
		if err != nil {
			return false, err
		}
		rec.Type = Hash
		rec.FileEntries = make([]backend.Entry, 0, d.capHint(n, 2))
		for range n {
			f, err := d.readString("field")
			if err != nil {
				return false, err
			}
			v, err := d.readString("field value")
			if err != nil {
				return false, err
			}
			rec.FileEntries = append(rec.FileEntries, backend.Entry{SubKey: f, Value: v})
		}
		return true, nil

	case typeHashZipmap:
		b, err := d.readBlob("zipmap")
		if err != nil {
			return false, err
		}
		entries, pos, err := parseZipmap(b.data)
		if err != nil {
			return false, b.errIn(pos, "zipmap", err)
		}
		rec.Type, rec.FileEntries = Hash, entries
		return true, nil

	case typeListZiplist:
		_, err := d.readZiplist(0)
		return false, err

	case typeSetIntset:
		b, err := d.readBlob("intset")
		if err != nil {
			return false, err
		}
		if pos, err := checkIntset(b.data); err != nil {
			return false, b.errIn(pos, "intset", err)
		}
		return false, nil

	case typeZSetZiplist, typeZSetListpack:
		var elems [][]byte
		var err error
		if t == typeZSetZiplist {
			elems, err = d.readZiplist(2)
		} else {
			elems, err = d.readListpack(2)
		}
		if err != nil {
			return false, err
		}
		rec.Type = ZSet
		rec.Members = make([][]byte, 0, len(elems)/2)
		for i := 0; i < len(elems); i += 2 {
			rec.Members = append(rec.Members, elems[i])
		}
		return true, nil

	case typeHashZiplist, typeHashListpack:
		var elems [][]byte
		var err error
		if t == typeHashZiplist {
			elems, err = d.readZiplist(2)
		} else {
			elems, err = d.readListpack(2)
		}
		if err != nil {
			return false, err
		}
		rec.Type = Hash
		rec.FileEntries = make([]backend.Entry, 0, len(elems)/2)
		for i := 0; i < len(elems); i += 2 {
			rec.FileEntries = append(rec.FileEntries, backend.Entry{SubKey: elems[i], Value: elems[i+1]})
		}
		return true, nil

	case typeSetListpack:
		_, err := d.readListpack(0)
		return false, err

	case typeListQuicklist, typeListQuicklist2:
		n, err := d.readLen("quicklist node count")
		if err != nil {
			return false, err
		}
		for range n {
			if t == typeListQuicklist {
				if _, err := d.readZiplist(0); err != nil {
					return false, err
				}
				continue
			}
			off := d.in.off
			container, err := d.readLen("quicklist node container")
			if err != nil {
				return false, err
			}
			switch container {
			case 1: // a single plain element
				_, err = d.readString("quicklist element")
			case 2: // a listpack
				_, err = d.readListpack(0)
			default:
				err = errAt(off, "unknown quicklist node container %d", container)
			}
			if err != nil {
				return false, err
			}
		}
		return false, nil

	case typeModule2:
		if _, err := d.readLen("module id"); err != nil {
			return false, err
		}
		return false, d.skipModuleOpcodes()
	}
	return false, errAt(d.in.off, "unknown value type %d", t)
}

// skipTextDouble skips a score stored as text: a length byte (253 NaN,
// 254 +inf, 255 -inf) and that many ASCII bytes.
func (d *decoder) skipTextDouble() error {
	n, err := d.in.readByte()
	if err != nil {
		return err
	}
	if n >= 253 {
		return nil
	}
	return d.in.discard(uint64(n), "score")
}

// readZiplist reads a ziplist blob and returns its elements. If multiple
// is non-zero the element count must be a multiple of it.
func (d *decoder) readZiplist(multiple int) ([][]byte, error) {
	b, err := d.readBlob("ziplist")
	if err != nil {
		return nil, err
	}
	elems, pos, err := parseZiplist(b.data)
	if err != nil {
		return nil, b.errIn(pos, "ziplist", err)
	}
	if multiple > 0 && len(elems)%multiple != 0 {
		return nil, b.errIn(0, "ziplist", fmt.Errorf("%d entries do not form pairs", len(elems)))
	}
	return elems, nil
}

// readListpack is readZiplist for listpacks.
func (d *decoder) readListpack(multiple int) ([][]byte, error) {
	b, err := d.readBlob("listpack")
	if err != nil {
		return nil, err
	}
	elems, pos, err := parseListpack(b.data)
	if err != nil {
		return nil, b.errIn(pos, "listpack", err)
	}
	if multiple > 0 && len(elems)%multiple != 0 {
		return nil, b.errIn(0, "listpack", fmt.Errorf("%d entries do not form pairs", len(elems)))
	}
	return elems, nil
}

// Module value sub-opcodes (self-describing module data, RDB 9+).
const (
	moduleOpEOF    = 0
	moduleOpSInt   = 1
	moduleOpUInt   = 2
	moduleOpFloat  = 3
	moduleOpDouble = 4
	moduleOpString = 5
)

func (d *decoder) skipModuleAux(opOff int64) error {
	if _, err := d.readLen("module id"); err != nil {
		return err
	}
	whenOp, err := d.readLen("module aux when-opcode")
	if err != nil {
		return err
	}
	if whenOp != moduleOpUInt {
		return errAt(opOff, "module aux data has when-opcode %d, want %d", whenOp, moduleOpUInt)
	}
	if _, err := d.readLen("module aux when"); err != nil {
		return err
	}
	return d.skipModuleOpcodes()
}

// skipModuleOpcodes skips self-describing module data up to its EOF marker.
func (d *decoder) skipModuleOpcodes() error {
	for {
		off := d.in.off
		op, err := d.readLen("module data opcode")
		if err != nil {
			return err
		}
		switch op {
		case moduleOpEOF:
			return nil
		case moduleOpSInt, moduleOpUInt:
			_, err = d.readLen("module integer")
		case moduleOpFloat:
			err = d.in.discard(4, "module float")
		case moduleOpDouble:
			err = d.in.discard(8, "module double")
		case moduleOpString:
			_, err = d.readString("module string")
		default:
			err = errAt(off, "unknown module data opcode %d", op)
		}
		if err != nil {
			return err
		}
	}
}
