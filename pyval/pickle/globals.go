package pickle

import (
	"strings"

	"github.com/sdpkit/sdpkit/pyval"
)

// callable identifies one allow-listed Python callable, implemented in Go.
type callable int

const (
	fnReconstruct callable = iota + 1 // numpy.core.multiarray._reconstruct
	fnNDArray                         // numpy.ndarray (only as _reconstruct's subtype)
	fnDType                           // numpy.dtype
	fnScalar                          // numpy.core.multiarray.scalar
	fnFromBuffer                      // numpy.core.numeric._frombuffer
	fnEncode                          // _codecs.encode
	fnComplex                         // builtins.complex
	fnBytes                           // builtins.bytes
	fnByteArray                       // builtins.bytearray
)

// global is a resolved GLOBAL / STACK_GLOBAL / INST name.
type global struct {
	module, name string
	fn           callable
}

// resolve maps a module and name to an allow-listed callable. It is a
// switch rather than a table so that nothing can be registered at run time.
func (m *machine) resolve(module, name string) (*global, error) {
	var fn callable
	switch module + "." + name {
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
		fn = fnReconstruct
	case "numpy.ndarray", "numpy.core.multiarray.ndarray", "numpy._core.multiarray.ndarray":
		fn = fnNDArray
	case "numpy.dtype", "numpy.core.multiarray.dtype", "numpy._core.multiarray.dtype":
		fn = fnDType
	case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
		fn = fnScalar
	case "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer":
		fn = fnFromBuffer
	case "_codecs.encode":
		fn = fnEncode
	case "builtins.complex", "__builtin__.complex":
		fn = fnComplex
	case "builtins.bytes", "__builtin__.bytes":
		fn = fnBytes
	case "builtins.bytearray", "__builtin__.bytearray":
		fn = fnByteArray
	case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset":
		return nil, m.fail(ErrUnsupported, "refusing to load global %s.%s: set and frozenset are not supported (pyval has no set type)", module, name)
	default:
		return nil, m.fail(ErrUnsupported, "refusing to load global %.100s.%.100s", module, name)
	}
	return &global{module: module, name: name, fn: fn}, nil
}

// call applies fn to args (REDUCE, INST, OBJ).
func (m *machine) call(fn any, args []any) (any, error) {
	g, ok := fn.(*global)
	if !ok {
		return nil, m.fail(ErrInvalid, "%s object is not callable", typeName(fn))
	}
	switch g.fn {
	case fnReconstruct:
		// _reconstruct(subtype, shape, dtype) makes an empty array that
		// BUILD then fills in; only plain ndarray is allowed as subtype.
		if len(args) != 3 {
			return nil, m.argErr(g, args)
		}
		if sub, ok := args[0].(*global); !ok || sub.fn != fnNDArray {
			return nil, m.fail(ErrUnsupported, "_reconstruct of %s: only numpy.ndarray is supported", typeName(args[0]))
		}
		return &arrayObj{}, nil
	case fnDType:
		return m.newDType(g, args)
	case fnScalar:
		return m.newScalar(g, args)
	case fnFromBuffer:
		return m.fromBuffer(g, args)
	case fnEncode:
		return m.encode(g, args)
	case fnComplex:
		return m.newComplex(g, args)
	case fnBytes, fnByteArray:
		return m.newBytes(g, args)
	}
	return nil, m.fail(ErrUnsupported, "calling %s.%s is not supported", g.module, g.name)
}

// newObj implements cls.__new__(cls, *args) (NEWOBJ, NEWOBJ_EX). For the
// allowed classes that is the same as calling them.
func (m *machine) newObj(cls any, args []any) error {
	g, ok := cls.(*global)
	if !ok {
		return m.fail(ErrInvalid, "NEWOBJ class is %s, not a class", typeName(cls))
	}
	switch g.fn {
	case fnComplex, fnBytes, fnByteArray, fnDType:
		return m.callPush(g, args)
	}
	return m.fail(ErrUnsupported, "NEWOBJ of %s.%s is not supported", g.module, g.name)
}

func (m *machine) argErr(g *global, args []any) error {
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = typeName(a)
	}
	return m.fail(ErrInvalid, "bad arguments for %s.%s: (%s)", g.module, g.name, strings.Join(names, ", "))
}

// newComplex implements complex(real=0, imag=0) for numeric arguments.
func (m *machine) newComplex(g *global, args []any) (any, error) {
	if len(args) > 2 {
		return nil, m.argErr(g, args)
	}
	var parts [2]complex128
	for i, a := range args {
		v, ok := a.(pyval.Value)
		if !ok {
			return nil, m.argErr(g, args)
		}
		switch v.(type) {
		case pyval.Int, pyval.Float, pyval.Bool, pyval.Complex:
		default:
			return nil, m.argErr(g, args)
		}
		c, err := pyval.AsComplex128(v)
		if err != nil {
			return nil, m.argErr(g, args)
		}
		parts[i] = c
	}
	return pyval.Complex(parts[0] + parts[1]*1i), nil
}

// newBytes implements bytes() and bytearray() with no argument, a bytes
// argument, or a str and an encoding (how protocols 0-2 write them). Both
// give pyval.Bytes.
func (m *machine) newBytes(g *global, args []any) (any, error) {
	switch len(args) {
	case 0:
		return pyval.Bytes{}, nil
	case 1:
		switch b := args[0].(type) {
		case pyval.Bytes:
			return b, nil
		case latin1: // a Python 2 str is already bytes
			return pyval.Bytes(b), nil
		}
	case 2, 3:
		return m.encode(g, args)
	}
	return nil, m.argErr(g, args)
}

// encode implements _codecs.encode(str, encoding[, errors]) for the latin1,
// ASCII and UTF-8 codecs, in strict mode.
func (m *machine) encode(g *global, args []any) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, m.argErr(g, args)
	}
	s, ok := asString(args[0])
	if !ok {
		return nil, m.argErr(g, args)
	}
	enc := "utf-8"
	if len(args) >= 2 {
		if enc, ok = asString(args[1]); !ok {
			return nil, m.argErr(g, args)
		}
	}
	if len(args) == 3 {
		if e, ok := asString(args[2]); !ok || e != "strict" {
			return nil, m.fail(ErrUnsupported, "%s.%s with errors=%s", g.module, g.name, typeName(args[2]))
		}
	}
	switch strings.ReplaceAll(strings.ToLower(enc), "_", "-") {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
		b, ok := latin1Bytes(s)
		if !ok {
			return nil, m.fail(ErrInvalid, "str cannot be encoded as latin1")
		}
		return pyval.Bytes(b), nil
	case "ascii", "us-ascii":
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return nil, m.fail(ErrInvalid, "str cannot be encoded as ASCII")
			}
		}
		return pyval.Bytes(s), nil
	case "utf-8", "utf8":
		if !pyval.Str(s).ValidUTF8() {
			return nil, m.fail(ErrInvalid, "str with a lone surrogate cannot be encoded as UTF-8")
		}
		return pyval.Bytes(s), nil
	}
	return nil, m.fail(ErrUnsupported, "encoding %.40q is not supported", enc)
}
