package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// Resource bounds. Every push costs at least one input byte, so these
// matter only for very large or endless inputs; they keep a hostile stream
// from growing the decoder's memory without limit.
const (
	maxStack = 1 << 22 // stack entries plus marks
	maxMemo  = 1 << 24 // distinct memo keys
	maxDepth = 1000    // nesting of containers in the result (Python's own recursion limit)
	// The decoded value may share sub-values (memo references), so its
	// expanded size can grow exponentially with the input. It is capped at
	// minExpand plus expandPerByte nodes per input byte.
	minExpand     = 1 << 20
	expandPerByte = 16
)

// Internal objects live on the stack and in the memo while a pickle runs.
// Containers stay mutable (APPEND may follow a memo reference) and are
// turned into pyval values only at STOP, by convert.
type (
	listObj  struct{ items []any }
	tupleObj struct{ items []any }
	dictObj  struct{ kv []any } // key, value, key, value, … in SETITEM order
	// latin1 is a Python 2 str: raw bytes that become a Str by latin1
	// decoding, but that numpy takes back as bytes.
	latin1 []byte
)

// machine is the unpickler: Python's stack/metastack model with a flat
// stack and a list of mark positions, as CPython's _pickle does.
type machine struct {
	in    input
	stack []any
	marks []int
	memo  map[uint64]any
	proto int

	op    int // current opcode, or -1 outside an opcode
	opOff int64
}

func newMachine(in input) *machine {
	return &machine{in: in, memo: make(map[uint64]any), op: -1}
}

func (m *machine) fail(class error, format string, args ...any) error {
	return &Error{Class: class, Op: opName(m.op), Offset: m.opOff, Msg: fmt.Sprintf(format, args...)}
}

// ioFail converts an input error into an *Error for the current opcode.
func (m *machine) ioFail(err error) error {
	if errors.Is(err, errTruncated) {
		if m.op < 0 {
			if m.opOff == 0 {
				return &Error{Class: ErrInvalid, Msg: "empty input"}
			}
			return &Error{Class: ErrInvalid, Offset: m.opOff, Msg: fmt.Sprintf("data ends at offset %d without a STOP opcode", m.opOff)}
		}
		return m.fail(ErrInvalid, "data truncated")
	}
	return &Error{Class: ErrInvalid, Op: opName(m.op), Offset: m.opOff, Msg: "read failed", Err: err}
}

func (m *machine) push(x any) error {
	if len(m.stack)+len(m.marks) >= maxStack {
		return m.fail(ErrLimit, "stack exceeds %d entries", maxStack)
	}
	m.stack = append(m.stack, x)
	return nil
}

func (m *machine) fence() int {
	if len(m.marks) == 0 {
		return 0
	}
	return m.marks[len(m.marks)-1]
}

func (m *machine) pop() (any, error) {
	if len(m.stack) <= m.fence() {
		return nil, m.fail(ErrInvalid, "unpickling stack underflow")
	}
	x := m.stack[len(m.stack)-1]
	m.stack[len(m.stack)-1] = nil
	m.stack = m.stack[:len(m.stack)-1]
	return x, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) <= m.fence() {
		return nil, m.fail(ErrInvalid, "unpickling stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark removes and returns the items above the last mark, and the mark.
// The returned slice is a fresh copy.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, m.fail(ErrInvalid, "could not find MARK")
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := make([]any, len(m.stack)-k)
	copy(items, m.stack[k:])
	clear(m.stack[k:])
	m.stack = m.stack[:k]
	return items, nil
}

// popN removes and returns the top n items (fresh slice).
func (m *machine) popN(n int) ([]any, error) {
	if len(m.stack)-m.fence() < n {
		return nil, m.fail(ErrInvalid, "unpickling stack underflow")
	}
	k := len(m.stack) - n
	items := make([]any, n)
	copy(items, m.stack[k:])
	clear(m.stack[k:])
	m.stack = m.stack[:k]
	return items, nil
}

func (m *machine) memoPut(idx uint64, x any) error {
	if _, ok := m.memo[idx]; !ok && len(m.memo) >= maxMemo {
		return m.fail(ErrLimit, "memo exceeds %d entries", maxMemo)
	}
	m.memo[idx] = x
	return nil
}

func (m *machine) memoGet(idx uint64) error {
	x, ok := m.memo[idx]
	if !ok {
		return m.fail(ErrInvalid, "memo key %d not found", idx)
	}
	return m.push(x)
}

// readLen reads a little-endian length of width bytes (1, 4 or 8).
// signed4 makes a 4-byte length signed, as BINSTRING and LONG4 are, and a
// negative one an error.
func (m *machine) readLen(width int, signed4 bool) (uint64, error) {
	b, err := m.in.readN(uint64(width))
	if err != nil {
		return 0, m.ioFail(err)
	}
	switch width {
	case 1:
		return uint64(b[0]), nil
	case 4:
		v := binary.LittleEndian.Uint32(b)
		if signed4 && int32(v) < 0 {
			return 0, m.fail(ErrInvalid, "negative byte count %d", int32(v))
		}
		return uint64(v), nil
	default:
		return binary.LittleEndian.Uint64(b), nil
	}
}

// readCounted reads a length prefix and that many bytes (valid until the
// next read).
func (m *machine) readCounted(width int, signed4 bool) ([]byte, error) {
	n, err := m.readLen(width, signed4)
	if err != nil {
		return nil, err
	}
	b, err := m.in.readN(n)
	if err != nil {
		return nil, m.ioFail(err)
	}
	return b, nil
}

func (m *machine) readLine() ([]byte, error) {
	b, err := m.in.readLine()
	if err != nil {
		return nil, m.ioFail(err)
	}
	return b, nil
}

// run executes opcodes until STOP and converts the result.
func (m *machine) run() (pyval.Value, error) {
	for {
		m.op = -1
		m.opOff = m.in.offset()
		c, err := m.in.readByte()
		if err != nil {
			return nil, m.ioFail(err)
		}
		m.op = int(c)
		if c == opStop {
			x, err := m.pop()
			if err != nil {
				return nil, err
			}
			limit := minExpand + expandPerByte*m.in.offset()
			cv := converter{m: m, done: make(map[any]converted), budget: limit}
			return cv.convert(x, 0)
		}
		if err := m.step(c); err != nil {
			return nil, err
		}
	}
}

// step executes one opcode other than STOP.
func (m *machine) step(c byte) error {
	switch c {
	case opMark:
		if len(m.stack)+len(m.marks) >= maxStack {
			return m.fail(ErrLimit, "stack exceeds %d entries", maxStack)
		}
		m.marks = append(m.marks, len(m.stack))
		return nil
	case opPop:
		// A POP right after MARK discards the mark (CPython does the same).
		if len(m.marks) > 0 && m.marks[len(m.marks)-1] == len(m.stack) {
			m.marks = m.marks[:len(m.marks)-1]
			return nil
		}
		_, err := m.pop()
		return err
	case opPopMark:
		_, err := m.popMark()
		return err
	case opDup:
		x, err := m.top()
		if err != nil {
			return err
		}
		return m.push(x)

	case opNone:
		return m.push(pyval.None)
	case opNewTrue:
		return m.push(pyval.Bool(true))
	case opNewFalse:
		return m.push(pyval.Bool(false))

	case opInt:
		line, err := m.readLine()
		if err != nil {
			return err
		}
		// Protocol 0 spells bools as INT 00 and 01.
		switch string(line) {
		case "00":
			return m.push(pyval.Bool(false))
		case "01":
			return m.push(pyval.Bool(true))
		}
		v, err := m.parseInt(line)
		if err != nil {
			return err
		}
		return m.push(v)
	case opLong:
		line, err := m.readLine()
		if err != nil {
			return err
		}
		if n := len(line); n > 0 && line[n-1] == 'L' {
			line = line[:n-1]
		}
		v, err := m.parseInt(line)
		if err != nil {
			return err
		}
		return m.push(v)
	case opBinInt:
		b, err := m.in.readN(4)
		if err != nil {
			return m.ioFail(err)
		}
		return m.push(pyval.IntOf(int64(int32(binary.LittleEndian.Uint32(b)))))
	case opBinInt1:
		b, err := m.in.readByte()
		if err != nil {
			return m.ioFail(err)
		}
		return m.push(pyval.IntOf(int64(b)))
	case opBinInt2:
		b, err := m.in.readN(2)
		if err != nil {
			return m.ioFail(err)
		}
		return m.push(pyval.IntOf(int64(binary.LittleEndian.Uint16(b))))
	case opLong1, opLong4:
		width := 1
		if c == opLong4 {
			width = 4
		}
		b, err := m.readCounted(width, true)
		if err != nil {
			return err
		}
		return m.push(intFromLE(b))

	case opFloat:
		line, err := m.readLine()
		if err != nil {
			return err
		}
		f, err := parseFloat(line)
		if err != nil {
			return m.fail(ErrInvalid, "%v", err)
		}
		return m.push(pyval.Float(f))
	case opBinFloat:
		b, err := m.in.readN(8)
		if err != nil {
			return m.ioFail(err)
		}
		return m.push(pyval.Float(math.Float64frombits(binary.BigEndian.Uint64(b))))

	case opString:
		line, err := m.readLine()
		if err != nil {
			return err
		}
		b, err := unquoteString(line)
		if err != nil {
			return m.fail(ErrInvalid, "%v", err)
		}
		return m.push(latin1(b))
	case opBinString, opShortBinString:
		width := 4
		if c == opShortBinString {
			width = 1
		}
		b, err := m.readCounted(width, true)
		if err != nil {
			return err
		}
		return m.push(latin1(clone(b)))
	case opUnicode:
		line, err := m.readLine()
		if err != nil {
			return err
		}
		s, err := rawUnicodeEscape(line)
		if err != nil {
			return m.textFail(err)
		}
		return m.push(pyval.Str(s))
	case opBinUnicode, opShortBinUnicode, opBinUnicode8:
		b, err := m.readCounted(widthOf(c), false)
		if err != nil {
			return err
		}
		s, err := decodeUTF8(b)
		if err != nil {
			return m.textFail(err)
		}
		return m.push(pyval.Str(s))
	case opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		b, err := m.readCounted(widthOf(c), false)
		if err != nil {
			return err
		}
		return m.push(pyval.Bytes(clone(b)))

	case opEmptyTuple:
		return m.push(&tupleObj{})
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.push(&tupleObj{items})
	case opTuple1, opTuple2, opTuple3:
		items, err := m.popN(int(c-opTuple1) + 1)
		if err != nil {
			return err
		}
		return m.push(&tupleObj{items})

	case opEmptyList:
		return m.push(&listObj{})
	case opList:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.push(&listObj{items})
	case opAppend:
		x, err := m.pop()
		if err != nil {
			return err
		}
		return m.extend([]any{x})
	case opAppends:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.extend(items)

	case opEmptyDict:
		return m.push(&dictObj{})
	case opDict:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return m.fail(ErrInvalid, "odd number of items for DICT")
		}
		return m.push(&dictObj{items})
	case opSetItem:
		kv, err := m.popN(2)
		if err != nil {
			return err
		}
		return m.setItems(kv)
	case opSetItems:
		kv, err := m.popMark()
		if err != nil {
			return err
		}
		if len(kv)%2 != 0 {
			return m.fail(ErrInvalid, "odd number of items for SETITEMS")
		}
		return m.setItems(kv)

	case opEmptySet, opAddItems, opFrozenSet:
		return m.fail(ErrUnsupported, "set and frozenset are not supported (pyval has no set type)")

	case opGet:
		line, err := m.readLine()
		if err != nil {
			return err
		}
		idx, err := m.parseIndex(line)
		if err != nil {
			return err
		}
		return m.memoGet(idx)
	case opBinGet, opLongBinGet:
		idx, err := m.readLen(widthOf(c), false)
		if err != nil {
			return err
		}
		return m.memoGet(idx)
	case opPut:
		line, err := m.readLine()
		if err != nil {
			return err
		}
		idx, err := m.parseIndex(line)
		if err != nil {
			return err
		}
		x, err := m.top()
		if err != nil {
			return err
		}
		return m.memoPut(idx, x)
	case opBinPut, opLongBinPut:
		idx, err := m.readLen(widthOf(c), false)
		if err != nil {
			return err
		}
		x, err := m.top()
		if err != nil {
			return err
		}
		return m.memoPut(idx, x)
	case opMemoize:
		x, err := m.top()
		if err != nil {
			return err
		}
		return m.memoPut(uint64(len(m.memo)), x)

	case opProto:
		b, err := m.in.readByte()
		if err != nil {
			return m.ioFail(err)
		}
		if b > highestProtocol {
			return m.fail(ErrUnsupported, "unsupported pickle protocol %d", b)
		}
		m.proto = int(b)
		return nil
	case opFrame:
		n, err := m.readLen(8, false)
		if err != nil {
			return err
		}
		// Framing is only a read-ahead hint; Python checks that the frame
		// is present, so do the same where the input size is known.
		if r := m.in.remaining(); r >= 0 && n > uint64(r) {
			return m.fail(ErrInvalid, "frame of %d bytes exceeds the remaining %d bytes", n, r)
		}
		return nil

	case opGlobal, opInst:
		mod, err := m.readLine()
		if err != nil {
			return err
		}
		module := string(mod)
		nm, err := m.readLine()
		if err != nil {
			return err
		}
		g, err := m.resolve(module, string(nm))
		if err != nil {
			return err
		}
		if c == opGlobal {
			return m.push(g)
		}
		args, err := m.popMark()
		if err != nil {
			return err
		}
		return m.callPush(g, args)
	case opStackGlobal:
		pair, err := m.popN(2)
		if err != nil {
			return err
		}
		module, ok1 := asString(pair[0])
		name, ok2 := asString(pair[1])
		if !ok1 || !ok2 {
			return m.fail(ErrInvalid, "STACK_GLOBAL requires str")
		}
		g, err := m.resolve(module, name)
		if err != nil {
			return err
		}
		return m.push(g)
	case opObj:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return m.fail(ErrInvalid, "OBJ without a class")
		}
		return m.callPush(items[0], items[1:])
	case opReduce:
		fa, err := m.popN(2)
		if err != nil {
			return err
		}
		args, ok := fa[1].(*tupleObj)
		if !ok {
			return m.fail(ErrInvalid, "REDUCE arguments must be a tuple, got %s", typeName(fa[1]))
		}
		return m.callPush(fa[0], args.items)
	case opNewObj:
		ca, err := m.popN(2)
		if err != nil {
			return err
		}
		args, ok := ca[1].(*tupleObj)
		if !ok {
			return m.fail(ErrInvalid, "NEWOBJ arguments must be a tuple, got %s", typeName(ca[1]))
		}
		return m.newObj(ca[0], args.items)
	case opNewObjEx:
		cak, err := m.popN(3)
		if err != nil {
			return err
		}
		args, ok := cak[1].(*tupleObj)
		if !ok {
			return m.fail(ErrInvalid, "NEWOBJ_EX arguments must be a tuple, got %s", typeName(cak[1]))
		}
		if kw, ok := cak[2].(*dictObj); !ok || len(kw.kv) != 0 {
			return m.fail(ErrUnsupported, "NEWOBJ_EX with keyword arguments")
		}
		return m.newObj(cak[0], args.items)
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return err
		}
		inst, err := m.top()
		if err != nil {
			return err
		}
		return m.build(inst, state)

	case opPersID, opBinPersID:
		return m.fail(ErrUnsupported, "persistent IDs are not supported")
	case opExt1, opExt2, opExt4:
		return m.fail(ErrUnsupported, "the copyreg extension registry is not supported")
	case opNextBuffer, opReadOnlyBuffer:
		return m.fail(ErrUnsupported, "out-of-band buffers are not supported")
	}
	return m.fail(ErrInvalid, "invalid load key 0x%02x", c)
}

// textFail reports a string decoding error, whose text starts with its
// class.
func (m *machine) textFail(err error) error {
	class := ErrInvalid
	if errors.Is(err, ErrUnsupported) {
		class = ErrUnsupported
	}
	msg := strings.TrimPrefix(err.Error(), class.Error()+": ")
	return m.fail(class, "%s", msg)
}

func (m *machine) extend(items []any) error {
	x, err := m.top()
	if err != nil {
		return err
	}
	l, ok := x.(*listObj)
	if !ok {
		return m.fail(ErrInvalid, "cannot append to %s", typeName(x))
	}
	l.items = append(l.items, items...)
	return nil
}

func (m *machine) setItems(kv []any) error {
	x, err := m.top()
	if err != nil {
		return err
	}
	d, ok := x.(*dictObj)
	if !ok {
		return m.fail(ErrInvalid, "cannot set items of %s", typeName(x))
	}
	d.kv = append(d.kv, kv...)
	return nil
}

func (m *machine) callPush(fn any, args []any) error {
	r, err := m.call(fn, args)
	if err != nil {
		return err
	}
	return m.push(r)
}

// parseInt parses a protocol-0 decimal int argument.
func (m *machine) parseInt(b []byte) (pyval.Int, error) {
	v, tooBig, ok := parseDecimal(b)
	if tooBig {
		// Python's int() raises ValueError here.
		return pyval.Int{}, m.fail(ErrLimit, "int of %d characters exceeds the limit (%d digits) for integer string conversion", len(b), pyval.MaxIntDigits)
	}
	if !ok {
		return pyval.Int{}, m.fail(ErrInvalid, "invalid int literal %.40q", b)
	}
	return v, nil
}

// parseIndex parses a protocol-0 memo index.
func (m *machine) parseIndex(b []byte) (uint64, error) {
	v, _, ok := parseDecimal(b)
	if !ok || v.Negative() {
		return 0, m.fail(ErrInvalid, "invalid memo index %.40q", b)
	}
	u, _ := v.Uint64()
	return u, nil
}

func widthOf(c byte) int {
	switch c {
	case opShortBinUnicode, opShortBinBytes, opBinGet, opBinPut:
		return 1
	case opBinUnicode8, opBinBytes8, opByteArray8:
		return 8
	}
	return 4
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}

// intFromLE decodes a little-endian two's-complement int (LONG1, LONG4)
// of any length.
func intFromLE(b []byte) pyval.Int {
	if len(b) == 0 {
		return pyval.Int{}
	}
	neg := b[len(b)-1]&0x80 != 0
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if !neg {
			return pyval.UintOf(u)
		}
		if len(b) < 8 {
			u |= ^uint64(0) << (8 * len(b)) // sign-extend
		}
		return pyval.IntOf(int64(u))
	}
	// The magnitude, big-endian: reversed, and for a negative value
	// negated (inverted plus one).
	mag := make([]byte, len(b))
	for i, c := range b {
		mag[len(b)-1-i] = c
	}
	if neg {
		for i := range mag {
			mag[i] = ^mag[i]
		}
		for i := len(mag) - 1; i >= 0; i-- {
			mag[i]++
			if mag[i] != 0 {
				break
			}
		}
	}
	return pyval.IntFromBytes(neg, mag)
}

// asString returns a str (or Python 2 str) argument as a Go string.
func asString(x any) (string, bool) {
	switch s := x.(type) {
	case pyval.Str:
		return string(s), true
	case latin1:
		return latin1String(s), true
	}
	return "", false
}

// typeName names the Python type of a stack item, for error messages.
func typeName(x any) string {
	switch v := x.(type) {
	case *listObj:
		return "list"
	case *tupleObj:
		return "tuple"
	case *dictObj:
		return "dict"
	case latin1:
		return "str"
	case *global:
		return v.module + "." + v.name
	case *arrayObj:
		return "numpy.ndarray"
	case *dtypeObj:
		return "numpy.dtype"
	case pyval.Value:
		return v.Kind().String()
	}
	return fmt.Sprintf("%T", x)
}
