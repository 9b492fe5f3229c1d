package pickle

import (
	"bytes"
	"errors"
	"io"
	"slices"
)

// errTruncated marks input that ended inside an opcode; the machine turns it
// into ErrInvalid with the opcode's position.
var errTruncated = errors.New("pickle data was truncated")

// input is the byte source: a whole buffer (Decode) or a stream (Read).
// Slices returned by readN and readLine are only valid until the next read
// and must be copied if kept.
type input struct {
	buf []byte // buffer mode: the whole pickle
	pos int    // buffer mode: next byte

	r   byteReader // stream mode when non-nil
	off int64      // stream mode: bytes consumed
	tmp []byte     // stream mode: scratch for readN/readLine
}

// offset returns the number of bytes consumed so far.
func (in *input) offset() int64 {
	if in.r != nil {
		return in.off
	}
	return int64(in.pos)
}

// remaining returns how many bytes are certainly still available, or -1 if
// unknown (stream mode).
func (in *input) remaining() int64 {
	if in.r != nil {
		return -1
	}
	return int64(len(in.buf) - in.pos)
}

func (in *input) readByte() (byte, error) {
	if in.r == nil {
		if in.pos >= len(in.buf) {
			return 0, errTruncated
		}
		c := in.buf[in.pos]
		in.pos++
		return c, nil
	}
	c, err := in.r.ReadByte()
	if err != nil {
		return 0, streamErr(err)
	}
	in.off++
	return c, nil
}

// readN returns the next n bytes. A length claim beyond the remaining
// input fails before anything is allocated; in stream mode memory grows
// only as data actually arrives.
func (in *input) readN(n uint64) ([]byte, error) {
	if in.r == nil {
		if n > uint64(len(in.buf)-in.pos) {
			in.pos = len(in.buf)
			return nil, errTruncated
		}
		b := in.buf[in.pos : in.pos+int(n)]
		in.pos += int(n)
		return b, nil
	}
	if n > maxStreamLen {
		return nil, errTruncated // no real stream holds this much
	}
	in.tmp = in.tmp[:0]
	chunk := uint64(64 << 10)
	for left := n; left > 0; {
		c := min(left, chunk)
		start := len(in.tmp)
		in.tmp = slices.Grow(in.tmp, int(c))[:start+int(c)]
		k, err := io.ReadFull(in.r, in.tmp[start:])
		in.off += int64(k)
		if err != nil {
			return nil, streamErr(err)
		}
		left -= c
		chunk = min(chunk*2, 16<<20)
	}
	return in.tmp, nil
}

// readLine returns the bytes up to, not including, the next '\n', and
// consumes the newline. Protocol 0 arguments are newline-terminated.
func (in *input) readLine() ([]byte, error) {
	if in.r == nil {
		i := bytes.IndexByte(in.buf[in.pos:], '\n')
		if i < 0 {
			in.pos = len(in.buf)
			return nil, errTruncated
		}
		b := in.buf[in.pos : in.pos+i]
		in.pos += i + 1
		return b, nil
	}
	in.tmp = in.tmp[:0]
	for {
		c, err := in.r.ReadByte()
		if err != nil {
			return nil, streamErr(err)
		}
		in.off++
		if c == '\n' {
			return in.tmp, nil
		}
		in.tmp = append(in.tmp, c)
	}
}

// maxStreamLen bounds a single length claim when reading from a stream,
// where the remaining size is unknown.
const maxStreamLen = 1 << 40

func streamErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return err
}
