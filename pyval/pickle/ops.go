package pickle

import "fmt"

// highestProtocol is the newest pickle protocol (Python 3.8+).
const highestProtocol = 5

// Pickle opcodes.
const (
	opMark            = '('  // MARK
	opStop            = '.'  // STOP
	opPop             = '0'  // POP
	opPopMark         = '1'  // POP_MARK
	opDup             = '2'  // DUP
	opFloat           = 'F'  // FLOAT
	opInt             = 'I'  // INT
	opBinInt          = 'J'  // BININT
	opBinInt1         = 'K'  // BININT1
	opLong            = 'L'  // LONG
	opBinInt2         = 'M'  // BININT2
	opNone            = 'N'  // NONE
	opPersID          = 'P'  // PERSID
	opBinPersID       = 'Q'  // BINPERSID
	opReduce          = 'R'  // REDUCE
	opString          = 'S'  // STRING
	opBinString       = 'T'  // BINSTRING
	opShortBinString  = 'U'  // SHORT_BINSTRING
	opUnicode         = 'V'  // UNICODE
	opBinUnicode      = 'X'  // BINUNICODE
	opAppend          = 'a'  // APPEND
	opBuild           = 'b'  // BUILD
	opGlobal          = 'c'  // GLOBAL
	opDict            = 'd'  // DICT
	opEmptyDict       = '}'  // EMPTY_DICT
	opAppends         = 'e'  // APPENDS
	opGet             = 'g'  // GET
	opBinGet          = 'h'  // BINGET
	opInst            = 'i'  // INST
	opLongBinGet      = 'j'  // LONG_BINGET
	opList            = 'l'  // LIST
	opEmptyList       = ']'  // EMPTY_LIST
	opObj             = 'o'  // OBJ
	opPut             = 'p'  // PUT
	opBinPut          = 'q'  // BINPUT
	opLongBinPut      = 'r'  // LONG_BINPUT
	opSetItem         = 's'  // SETITEM
	opTuple           = 't'  // TUPLE
	opEmptyTuple      = ')'  // EMPTY_TUPLE
	opSetItems        = 'u'  // SETITEMS
	opBinFloat        = 'G'  // BINFLOAT
	opProto           = 0x80 // PROTO
	opNewObj          = 0x81 // NEWOBJ
	opExt1            = 0x82 // EXT1
	opExt2            = 0x83 // EXT2
	opExt4            = 0x84 // EXT4
	opTuple1          = 0x85 // TUPLE1
	opTuple2          = 0x86 // TUPLE2
	opTuple3          = 0x87 // TUPLE3
	opNewTrue         = 0x88 // NEWTRUE
	opNewFalse        = 0x89 // NEWFALSE
	opLong1           = 0x8a // LONG1
	opLong4           = 0x8b // LONG4
	opBinBytes        = 'B'  // BINBYTES
	opShortBinBytes   = 'C'  // SHORT_BINBYTES
	opShortBinUnicode = 0x8c // SHORT_BINUNICODE
	opBinUnicode8     = 0x8d // BINUNICODE8
	opBinBytes8       = 0x8e // BINBYTES8
	opEmptySet        = 0x8f // EMPTY_SET
	opAddItems        = 0x90 // ADDITEMS
	opFrozenSet       = 0x91 // FROZENSET
	opNewObjEx        = 0x92 // NEWOBJ_EX
	opStackGlobal     = 0x93 // STACK_GLOBAL
	opMemoize         = 0x94 // MEMOIZE
	opFrame           = 0x95 // FRAME
	opByteArray8      = 0x96 // BYTEARRAY8
	opNextBuffer      = 0x97 // NEXT_BUFFER
	opReadOnlyBuffer  = 0x98 // READONLY_BUFFER
)

// opName returns the pickletools name of an opcode, or "" for -1.
func opName(op int) string {
	switch op {
	case -1:
		return ""
	case opMark:
		return "MARK"
	case opStop:
		return "STOP"
	case opPop:
		return "POP"
	case opPopMark:
		return "POP_MARK"
	case opDup:
		return "DUP"
	case opFloat:
		return "FLOAT"
	case opInt:
		return "INT"
	case opBinInt:
		return "BININT"
	case opBinInt1:
		return "BININT1"
	case opLong:
		return "LONG"
	case opBinInt2:
		return "BININT2"
	case opNone:
		return "NONE"
	case opPersID:
		return "PERSID"
	case opBinPersID:
		return "BINPERSID"
	case opReduce:
		return "REDUCE"
	case opString:
		return "STRING"
	case opBinString:
		return "BINSTRING"
	case opShortBinString:
		return "SHORT_BINSTRING"
	case opUnicode:
		return "UNICODE"
	case opBinUnicode:
		return "BINUNICODE"
	case opAppend:
		return "APPEND"
	case opBuild:
		return "BUILD"
	case opGlobal:
		return "GLOBAL"
	case opDict:
		return "DICT"
	case opEmptyDict:
		return "EMPTY_DICT"
	case opAppends:
		return "APPENDS"
	case opGet:
		return "GET"
	case opBinGet:
		return "BINGET"
	case opInst:
		return "INST"
	case opLongBinGet:
		return "LONG_BINGET"
	case opList:
		return "LIST"
	case opEmptyList:
		return "EMPTY_LIST"
	case opObj:
		return "OBJ"
	case opPut:
		return "PUT"
	case opBinPut:
		return "BINPUT"
	case opLongBinPut:
		return "LONG_BINPUT"
	case opSetItem:
		return "SETITEM"
	case opTuple:
		return "TUPLE"
	case opEmptyTuple:
		return "EMPTY_TUPLE"
	case opSetItems:
		return "SETITEMS"
	case opBinFloat:
		return "BINFLOAT"
	case opProto:
		return "PROTO"
	case opNewObj:
		return "NEWOBJ"
	case opExt1:
		return "EXT1"
	case opExt2:
		return "EXT2"
	case opExt4:
		return "EXT4"
	case opTuple1:
		return "TUPLE1"
	case opTuple2:
		return "TUPLE2"
	case opTuple3:
		return "TUPLE3"
	case opNewTrue:
		return "NEWTRUE"
	case opNewFalse:
		return "NEWFALSE"
	case opLong1:
		return "LONG1"
	case opLong4:
		return "LONG4"
	case opBinBytes:
		return "BINBYTES"
	case opShortBinBytes:
		return "SHORT_BINBYTES"
	case opShortBinUnicode:
		return "SHORT_BINUNICODE"
	case opBinUnicode8:
		return "BINUNICODE8"
	case opBinBytes8:
		return "BINBYTES8"
	case opEmptySet:
		return "EMPTY_SET"
	case opAddItems:
		return "ADDITEMS"
	case opFrozenSet:
		return "FROZENSET"
	case opNewObjEx:
		return "NEWOBJ_EX"
	case opStackGlobal:
		return "STACK_GLOBAL"
	case opMemoize:
		return "MEMOIZE"
	case opFrame:
		return "FRAME"
	case opByteArray8:
		return "BYTEARRAY8"
	case opNextBuffer:
		return "NEXT_BUFFER"
	case opReadOnlyBuffer:
		return "READONLY_BUFFER"
	}
	return fmt.Sprintf("opcode 0x%02x", op)
}
