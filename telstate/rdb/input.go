package rdb

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

const (
	// inputBufSize is the read-ahead buffer.
	inputBufSize = 64 << 10
	// growChunk is the most a string buffer grows ahead of the bytes
	// actually received, when the input size is not known.
	growChunk = 1 << 20
)

// input is a buffered reader that tracks the byte offset and the running
// CRC-64 of everything consumed, and refuses to allocate for length claims
// the input cannot back.
type input struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	off  int64 // input offset of buf[pos]
	size int64 // total input size when known, else -1
	// crc covers the input up to buf[crcPos]; it is brought up to date in
	// bulk (syncCRC) rather than byte by byte.
	crc    uint64
	crcPos int
	rerr   error // first error from r, reported once the buffer is drained
}

func newInput(r io.Reader) *input {
	size := inputSize(r)
	bufSize := inputBufSize
	if size >= 0 && size < inputBufSize {
		bufSize = int(size) + 1 // small inputs need no 64 KiB buffer
	}
	return &input{r: r, buf: make([]byte, bufSize), size: size}
}

// inputSize returns how many bytes r has left if that is cheap to know,
// else -1.
func inputSize(r io.Reader) int64 {
	switch v := r.(type) {
	case ctxReader:
		return inputSize(v.r)
	case interface{ Len() int }: // bytes.Reader, bytes.Buffer, strings.Reader
		return int64(v.Len())
	case *os.File:
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		if cur, err := v.Seek(0, io.SeekCurrent); err == nil && cur <= st.Size() {
			return st.Size() - cur
		}
	}
	return -1
}

// errAt returns a ParseError at off.
func errAt(off int64, format string, args ...any) *ParseError {
	return &ParseError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// fill makes at least one unread byte available.
func (in *input) fill() error {
	if in.pos < in.end {
		return nil
	}
	in.syncCRC()
	for tries := 1; in.rerr == nil; tries++ {
		n, err := in.r.Read(in.buf)
		in.rerr = err
		if n > 0 {
			in.pos, in.end, in.crcPos = 0, n, 0
			return nil
		}
		if err == nil && tries >= 100 {
			// A reader that keeps returning (0, nil) would spin forever.
			in.rerr = io.ErrNoProgress
		}
	}
	if errors.Is(in.rerr, io.EOF) || errors.Is(in.rerr, io.ErrUnexpectedEOF) {
		return errAt(in.off, errTruncated)
	}
	return &ParseError{Offset: in.off, Msg: "reading input failed", Cause: in.rerr}
}

// syncCRC adds the bytes consumed so far to the checksum.
func (in *input) syncCRC() {
	in.crc = crcUpdate(in.crc, in.buf[in.crcPos:in.pos])
	in.crcPos = in.pos
}

// checksum returns the CRC-64 of everything consumed.
func (in *input) checksum() uint64 {
	in.syncCRC()
	return in.crc
}

// consume advances over k buffered bytes.
func (in *input) consume(k int) []byte {
	p := in.buf[in.pos : in.pos+k]
	in.pos += k
	in.off += int64(k)
	return p
}

func (in *input) readByte() (byte, error) {
	if err := in.fill(); err != nil {
		return 0, err
	}
	return in.consume(1)[0], nil
}

// checkClaim rejects a length claim of n bytes for what that cannot fit in
// the rest of the input (when its size is known) or in memory.
func (in *input) checkClaim(n uint64, what string) error {
	if n > uint64(math.MaxInt) {
		return errAt(in.off, "%s of %d bytes is too large for this platform", what, n)
	}
	if in.size >= 0 && n > uint64(in.size-in.off) {
		return errAt(in.off, "%s of %d bytes overruns the end of the input (%d bytes left)", what, n, in.size-in.off)
	}
	return nil
}

// readFull returns the next n bytes in a new slice. Without a known input
// size the slice grows in step with the data received, so a false claim
// fails at the end of the input, not in the allocator.
func (in *input) readFull(n uint64, what string) ([]byte, error) {
	if err := in.checkClaim(n, what); err != nil {
		return nil, err
	}
	want := int(n)
	out := make([]byte, 0, min(want, growChunk))
	for len(out) < want {
		if err := in.fill(); err != nil {
			return nil, err
		}
		take := min(in.end-in.pos, want-len(out))
		if cap(out)-len(out) < take {
			grown := make([]byte, len(out), min(want, max(2*cap(out), len(out)+take)))
			copy(grown, out)
			out = grown
		}
		out = append(out, in.consume(take)...)
	}
	return out, nil
}

// discard skips n bytes without keeping them.
func (in *input) discard(n uint64, what string) error {
	if err := in.checkClaim(n, what); err != nil {
		return err
	}
	for n > 0 {
		if err := in.fill(); err != nil {
			return err
		}
		take := min(uint64(in.end-in.pos), n)
		in.consume(int(take))
		n -= take
	}
	return nil
}

// remainingHint estimates how many bytes are left, to cap slice
// preallocation; it is only a hint.
func (in *input) remainingHint() int64 {
	if in.size >= 0 {
		return in.size - in.off
	}
	return 1 << 16
}
