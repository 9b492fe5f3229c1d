package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/sdpkit/sdpkit/telstate/backend"
)

// The parsers below work on a blob already in memory. They return sub-slices
// of it for string elements and decimal text for integer elements (as
// Redis does when it hands such elements out), and on failure the position
// in the blob where the problem is.

var errNoEnd = errors.New("missing end marker")

// parseZiplist decodes a ziplist: a 10-byte header (total bytes, offset of
// the last entry, entry count; all little-endian), entries each preceded by
// the previous entry's length, and an 0xFF end byte.
func parseZiplist(zl []byte) ([][]byte, int, error) {
	const header = 10
	if len(zl) < header+1 {
		return nil, 0, fmt.Errorf("%d bytes is shorter than the 11-byte minimum", len(zl))
	}
	if total := binary.LittleEndian.Uint32(zl); uint64(total) != uint64(len(zl)) {
		return nil, 0, fmt.Errorf("header says %d bytes, blob has %d", total, len(zl))
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	count := int(binary.LittleEndian.Uint16(zl[8:]))
	var elems [][]byte
	if count != 0xffff {
		elems = make([][]byte, 0, min(count, len(zl)/2))
	}
	pos, last, prevLen := header, header, 0
	for {
		if pos >= len(zl) {
			return nil, pos, errNoEnd
		}
		if zl[pos] == 0xff {
			break
		}
		start := pos
		// Previous entry length: one byte, or 0xFE and a uint32. Redis may
		// keep the 5-byte form for a small length, so only the value counts.
		var prev int
		if zl[pos] < 0xfe {
			prev = int(zl[pos])
			pos++
		} else {
			if len(zl)-pos < 5 {
				return nil, start, errNoEnd
			}
			prev = int(binary.LittleEndian.Uint32(zl[pos+1:]))
			pos += 5
		}
		if prev != prevLen {
			return nil, start, fmt.Errorf("entry says the previous entry has %d bytes, it has %d", prev, prevLen)
		}
		if pos >= len(zl) {
			return nil, pos, errNoEnd
		}
		encPos := pos
		enc := zl[pos]
		var strLen, intLen int
		switch {
		case enc>>6 == 0:
			strLen = int(enc & 0x3f)
			pos++
		case enc>>6 == 1:
			if len(zl)-pos < 2 {
				return nil, encPos, errNoEnd
			}
			strLen = int(enc&0x3f)<<8 | int(zl[pos+1])
			pos += 2
		case enc == 0x80:
			if len(zl)-pos < 5 {
				return nil, encPos, errNoEnd
			}
			n := binary.BigEndian.Uint32(zl[pos+1:])
			if uint64(n) > uint64(len(zl)) {
				return nil, encPos, fmt.Errorf("string of %d bytes overruns the ziplist", n)
			}
			strLen = int(n)
			pos += 5
		case enc == 0xc0:
			intLen = 2
		case enc == 0xd0:
			intLen = 4
		case enc == 0xe0:
			intLen = 8
		case enc == 0xf0:
			intLen = 3
		case enc == 0xfe:
			intLen = 1
		case enc >= 0xf1 && enc <= 0xfd:
			intLen = -1 // 4-bit immediate
		default:
			return nil, encPos, fmt.Errorf("invalid entry encoding byte 0x%02x", enc)
		}
		var elem []byte
		switch {
		case intLen == -1:
			elem = strconv.AppendInt(nil, int64(enc&0x0f)-1, 10)
			pos++
		case intLen > 0:
			pos++
			if len(zl)-pos < intLen {
				return nil, encPos, errNoEnd
			}
			elem = strconv.AppendInt(nil, leInt(zl[pos:pos+intLen]), 10)
			pos += intLen
		default:
			if len(zl)-pos < strLen {
				return nil, encPos, fmt.Errorf("string of %d bytes overruns the ziplist", strLen)
			}
			elem = zl[pos : pos+strLen : pos+strLen]
			pos += strLen
		}
		elems = append(elems, elem)
		last, prevLen = start, pos-start
	}
	if pos != len(zl)-1 {
		return nil, pos, fmt.Errorf("%d bytes after the end marker", len(zl)-1-pos)
	}
	if count != 0xffff && count != len(elems) {
		return nil, 8, fmt.Errorf("header says %d entries, found %d", count, len(elems))
	}
	if tail != last {
		return nil, 4, fmt.Errorf("header says the last entry is at %d, it is at %d", tail, last)
	}
	return elems, 0, nil
}

// leInt decodes a little-endian two's-complement integer of 1 to 8 bytes.
func leInt(p []byte) int64 {
	var u uint64
	for i := len(p) - 1; i >= 0; i-- {
		u = u<<8 | uint64(p[i])
	}
	shift := uint(64 - 8*len(p))
	return int64(u<<shift) >> shift
}

// parseListpack decodes a listpack: a 6-byte header (total bytes uint32,
// element count uint16, both little-endian), elements each followed by its
// own length ("backlen"), and an 0xFF end byte.
func parseListpack(lp []byte) ([][]byte, int, error) {
	const header = 6
	if len(lp) < header+1 {
		return nil, 0, fmt.Errorf("%d bytes is shorter than the 7-byte minimum", len(lp))
	}
	if total := binary.LittleEndian.Uint32(lp); uint64(total) != uint64(len(lp)) {
		return nil, 0, fmt.Errorf("header says %d bytes, blob has %d", total, len(lp))
	}
	count := int(binary.LittleEndian.Uint16(lp[4:]))
	var elems [][]byte
	if count != 0xffff {
		elems = make([][]byte, 0, min(count, len(lp)/2))
	}
	pos := header
	for {
		if pos >= len(lp) {
			return nil, pos, errNoEnd
		}
		b := lp[pos]
		if b == 0xff {
			break
		}
		start := pos
		need := func(n int) error {
			if len(lp)-pos < n {
				return fmt.Errorf("element of %d bytes overruns the listpack", n)
			}
			return nil
		}
		var elem []byte
		strLen := -1
		switch {
		case b&0x80 == 0: // 7-bit unsigned integer
			elem = strconv.AppendInt(nil, int64(b), 10)
			pos++
		case b&0xc0 == 0x80: // string up to 63 bytes
			strLen = int(b & 0x3f)
			pos++
		case b&0xe0 == 0xc0: // 13-bit signed integer
			if err := need(2); err != nil {
				return nil, start, err
			}
			v := int64(b&0x1f)<<8 | int64(lp[pos+1])
			if v >= 1<<12 {
				v -= 1 << 13
			}
			elem = strconv.AppendInt(nil, v, 10)
			pos += 2
		case b&0xf0 == 0xe0: // string up to 4095 bytes
			if err := need(2); err != nil {
				return nil, start, err
			}
			strLen = int(b&0x0f)<<8 | int(lp[pos+1])
			pos += 2
		case b == 0xf0: // string with a 32-bit length
			if err := need(5); err != nil {
				return nil, start, err
			}
			n := binary.LittleEndian.Uint32(lp[pos+1:])
			if uint64(n) > uint64(len(lp)) {
				return nil, start, fmt.Errorf("string of %d bytes overruns the listpack", n)
			}
			strLen = int(n)
			pos += 5
		case b >= 0xf1 && b <= 0xf4: // 16, 24, 32, 64-bit integers
			n := [...]int{2, 3, 4, 8}[b-0xf1]
			if err := need(1 + n); err != nil {
				return nil, start, err
			}
			elem = strconv.AppendInt(nil, leInt(lp[pos+1:pos+1+n]), 10)
			pos += 1 + n
		default:
			return nil, start, fmt.Errorf("invalid element encoding byte 0x%02x", b)
		}
		if strLen >= 0 {
			if err := need(strLen); err != nil {
				return nil, start, err
			}
			elem = lp[pos : pos+strLen : pos+strLen]
			pos += strLen
		}
		// The backlen repeats the element's size, 7 bits per byte, most
		// significant first, all but the first byte flagged with 0x80.
		var want [5]byte
		bl := encodeBacklen(want[:0], pos-start)
		if len(lp)-pos < len(bl) {
			return nil, pos, errNoEnd
		}
		for i := range bl {
			if lp[pos+i] != bl[i] {
				return nil, pos, fmt.Errorf("element length trailer %x does not match the element's %d bytes", lp[pos:pos+len(bl)], pos-start)
			}
		}
		pos += len(bl)
		elems = append(elems, elem)
	}
	if pos != len(lp)-1 {
		return nil, pos, fmt.Errorf("%d bytes after the end marker", len(lp)-1-pos)
	}
	if count != 0xffff && count != len(elems) {
		return nil, 4, fmt.Errorf("header says %d elements, found %d", count, len(elems))
	}
	return elems, 0, nil
}

// encodeBacklen appends the listpack backlen for an element of l bytes.
func encodeBacklen(dst []byte, l int) []byte {
	var n int
	switch {
	case l <= 127:
		n = 1
	case l < 16383:
		n = 2
	case l < 2097151:
		n = 3
	case l < 268435455:
		n = 4
	default:
		n = 5
	}
	for i := n - 1; i >= 0; i-- {
		c := byte(l>>(7*uint(i))) & 0x7f
		if i != n-1 {
			c |= 0x80
		}
		dst = append(dst, c)
	}
	return dst
}

// parseZipmap decodes the pre-2.6 zipmap hash encoding: a count byte, then
// key and value strings each with a 1-byte length (or 0xFE and a uint32),
// values followed by a count of free padding bytes, and an 0xFF end byte.
func parseZipmap(zm []byte) ([]backend.Entry, int, error) {
	if len(zm) < 2 {
		return nil, 0, fmt.Errorf("%d bytes is shorter than the 2-byte minimum", len(zm))
	}
	pos := 1
	readLen := func() (int, bool, error) {
		if pos >= len(zm) {
			return 0, false, errNoEnd
		}
		switch b := zm[pos]; {
		case b == 0xff:
			return 0, true, nil
		case b < 0xfe:
			pos++
			return int(b), false, nil
		}
		if len(zm)-pos < 5 {
			return 0, false, errNoEnd
		}
		n := binary.LittleEndian.Uint32(zm[pos+1:])
		if uint64(n) > uint64(len(zm)) {
			return 0, false, fmt.Errorf("string of %d bytes overruns the zipmap", n)
		}
		pos += 5
		return int(n), false, nil
	}
	str := func(n int) ([]byte, error) {
		if len(zm)-pos < n {
			return nil, fmt.Errorf("string of %d bytes overruns the zipmap", n)
		}
		s := zm[pos : pos+n : pos+n]
		pos += n
		return s, nil
	}
	var entries []backend.Entry
	for {
		start := pos
		n, end, err := readLen()
		if err != nil {
			return nil, start, err
		}
		if end {
			break
		}
		key, err := str(n)
		if err != nil {
			return nil, start, err
		}
		vpos := pos
		n, end, err = readLen()
		if err == nil && end {
			err = errors.New("key without a value")
		}
		if err != nil {
			return nil, vpos, err
		}
		if pos >= len(zm) {
			return nil, pos, errNoEnd
		}
		free := int(zm[pos])
		pos++
		val, err := str(n)
		if err != nil {
			return nil, vpos, err
		}
		if _, err := str(free); err != nil {
			return nil, vpos, err
		}
		entries = append(entries, backend.Entry{SubKey: key, Value: val})
	}
	if pos != len(zm)-1 {
		return nil, pos, fmt.Errorf("%d bytes after the end marker", len(zm)-1-pos)
	}
	return entries, 0, nil
}

// checkIntset validates an intset: element width (2, 4 or 8) and count as
// little-endian uint32s, then the elements.
func checkIntset(is []byte) (int, error) {
	if len(is) < 8 {
		return 0, fmt.Errorf("%d bytes is shorter than the 8-byte header", len(is))
	}
	width := uint64(binary.LittleEndian.Uint32(is))
	n := uint64(binary.LittleEndian.Uint32(is[4:]))
	if width != 2 && width != 4 && width != 8 {
		return 0, fmt.Errorf("invalid element width %d", width)
	}
	if 8+width*n != uint64(len(is)) {
		return 4, fmt.Errorf("%d elements of %d bytes do not fill %d bytes", n, width, len(is)-8)
	}
	return 0, nil
}
