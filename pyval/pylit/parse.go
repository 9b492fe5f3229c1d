package pylit

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/sdpkit/sdpkit/pyval"
)

// The parser builds a small syntax tree first and evaluates it second,
// because literal_eval's rules are about the tree: parentheses are
// transparent, so -(1) and (1)+(2j) are literals while 1+-2j is not.

type nodeKind int

const (
	nConst  nodeKind = iota // a number, string or None/True/False
	nUnary                  // +x or -x
	nBinary                 // real ± imaginary
	nTuple
	nList
	nDict // kids are key, value, key, value, …
)

type node struct {
	kind nodeKind
	off  int
	tok  token // nConst: the literal (tName for None/True/False)
	op   byte  // nUnary, nBinary: '+' or '-'
	kids []*node
}

type parser struct {
	lx    lexer
	tok   token
	depth int
}

func (p *parser) errorf(off int, sentinel error, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isOp(s string) bool { return p.tok.kind == tOp && p.tok.text == s }

func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf(off, ErrDepth, "nesting deeper than %d levels", MaxDepth)
	}
	return nil
}

// expr parses a literal, including the real ± imaginary form.
func (p *parser) expr() (*node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op, off := p.tok.text[0], p.tok.off
		if left.kind == nBinary {
			return nil, p.errorf(off, ErrSyntax, "only one + or - may join a real and an imaginary number")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &node{kind: nBinary, off: off, op: op, kids: []*node{left, right}}
	}
	return left, nil
}

func (p *parser) unary() (*node, error) {
	if !(p.isOp("+") || p.isOp("-")) {
		return p.atom()
	}
	op, off := p.tok.text[0], p.tok.off
	if err := p.enter(off); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	p.depth--
	return &node{kind: nUnary, off: off, op: op, kids: []*node{x}}, nil
}

func (p *parser) atom() (*node, error) {
	t := p.tok
	switch t.kind {
	case tInt, tFloat, tImag:
		return &node{kind: nConst, off: t.off, tok: t}, p.advance()
	case tStr, tBytes:
		return p.strings()
	case tName:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isOp("(") {
			if t.text == "set" || t.text == "frozenset" {
				return nil, p.errorf(t.off, ErrUnsupported, "sets are not supported")
			}
			return nil, p.errorf(t.off, ErrUnsupported, "function call %s(…) is not a literal", t.text)
		}
		switch t.text {
		case "None", "True", "False":
			return &node{kind: nConst, off: t.off, tok: t}, nil
		case "inf", "nan":
			return nil, p.errorf(t.off, ErrSyntax, "%s is not a Python literal", t.text)
		}
		return nil, p.errorf(t.off, ErrSyntax, "name %s is not a literal (expected None, True, False, a number, a string or a container)", t.text)
	case tOp:
		switch t.text {
		case "(":
			return p.paren()
		case "[":
			return p.list()
		case "{":
			return p.brace()
		case "...":
			return nil, p.errorf(t.off, ErrUnsupported, "Ellipsis is not supported")
		}
	}
	return nil, p.errorf(t.off, ErrSyntax, "expected a literal, found %s", t.describe())
}

// strings concatenates adjacent string literals.
func (p *parser) strings() (*node, error) {
	first := p.tok
	s := first.s
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tStr && p.tok.kind != tBytes {
			break
		}
		if p.tok.kind != first.kind {
			return nil, p.errorf(p.tok.off, ErrSyntax, "cannot mix bytes and str literals")
		}
		s += p.tok.s
	}
	first.s = s
	return &node{kind: nConst, off: first.off, tok: first}, nil
}

// items parses comma-separated literals up to the closing bracket, which
// it consumes. A trailing comma is allowed.
func (p *parser) items(closer string, what string, kids []*node) ([]*node, error) {
	for !p.isOp(closer) {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		kids = append(kids, x)
		if p.isOp(",") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		if !p.isOp(closer) {
			return nil, p.errorf(p.tok.off, ErrSyntax, "expected ',' or '%s' after %s item, found %s", closer, what, p.tok.describe())
		}
	}
	return kids, p.advance()
}

func (p *parser) paren() (*node, error) {
	off := p.tok.off
	if err := p.enter(off); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.isOp(")") {
		return &node{kind: nTuple, off: off}, p.advance()
	}
	first, err := p.expr()
	if err != nil {
		return nil, err
	}
	switch {
	case p.isOp(")"): // grouping parentheses
		return first, p.advance()
	case p.isOp(","):
		if err := p.advance(); err != nil {
			return nil, err
		}
		kids, err := p.items(")", "tuple", []*node{first})
		if err != nil {
			return nil, err
		}
		return &node{kind: nTuple, off: off, kids: kids}, nil
	}
	return nil, p.errorf(p.tok.off, ErrSyntax, "expected ',' or ')', found %s", p.tok.describe())
}

func (p *parser) list() (*node, error) {
	off := p.tok.off
	if err := p.enter(off); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if err := p.advance(); err != nil {
		return nil, err
	}
	kids, err := p.items("]", "list", nil)
	if err != nil {
		return nil, err
	}
	return &node{kind: nList, off: off, kids: kids}, nil
}

func (p *parser) brace() (*node, error) {
	off := p.tok.off
	if err := p.enter(off); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if err := p.advance(); err != nil {
		return nil, err
	}
	n := &node{kind: nDict, off: off}
	for !p.isOp("}") {
		k, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			if len(n.kids) == 0 && (p.isOp(",") || p.isOp("}")) {
				return nil, p.errorf(off, ErrUnsupported, "sets are not supported")
			}
			return nil, p.errorf(p.tok.off, ErrSyntax, "expected ':' after dict key, found %s", p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, k, v)
		if p.isOp(",") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		if !p.isOp("}") {
			return nil, p.errorf(p.tok.off, ErrSyntax, "expected ',' or '}' after dict item, found %s", p.tok.describe())
		}
	}
	return n, p.advance()
}

// eval turns the tree into a value with ast.literal_eval's rules.
func (p *parser) eval(n *node) (pyval.Value, error) {
	switch n.kind {
	case nConst:
		return p.constant(n)
	case nUnary:
		x := n.kids[0]
		if x.kind != nConst || !isNumber(x.tok.kind) {
			return nil, p.errorf(n.off, ErrSyntax, "unary %c applies only to a number", n.op)
		}
		if n.op == '+' {
			return p.constant(x)
		}
		switch x.tok.kind {
		case tInt:
			return p.intValue(n.off, new(big.Int).Neg(x.tok.big))
		case tFloat:
			return pyval.Float(-x.tok.f), nil
		default: // negating a complex negates both parts
			return pyval.Complex(complex(math.Copysign(0, -1), -x.tok.f)), nil
		}
	case nBinary:
		re, err := p.realOperand(n.kids[0])
		if err != nil {
			return nil, err
		}
		r := n.kids[1]
		if r.kind != nConst || r.tok.kind != tImag {
			return nil, p.errorf(n.off, ErrSyntax, "%c must be followed by an imaginary number (like 2j)", n.op)
		}
		// Python converts the real operand to complex(re, 0.0) first.
		if n.op == '+' {
			return pyval.Complex(complex(re+0, 0+r.tok.f)), nil
		}
		return pyval.Complex(complex(re-0, 0-r.tok.f)), nil
	case nTuple, nList:
		vals := make([]pyval.Value, len(n.kids))
		for i, k := range n.kids {
			v, err := p.eval(k)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		if n.kind == nTuple {
			return pyval.Tuple(vals), nil
		}
		return pyval.List(vals), nil
	case nDict:
		d := &pyval.Dict{}
		for i := 0; i < len(n.kids); i += 2 {
			k, err := p.eval(n.kids[i])
			if err != nil {
				return nil, err
			}
			v, err := p.eval(n.kids[i+1])
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, v); err != nil {
				if errors.Is(err, pyval.ErrUnhashable) {
					return nil, p.errorf(n.kids[i].off, pyval.ErrUnhashable, "unhashable dict key %s", pyval.Repr(k))
				}
				return nil, p.errorf(n.kids[i].off, ErrSyntax, "bad dict key: %v", err)
			}
		}
		return d, nil
	}
	return nil, p.errorf(n.off, ErrSyntax, "internal error: unknown node")
}

func isNumber(k tokKind) bool { return k == tInt || k == tFloat || k == tImag }

func (p *parser) constant(n *node) (pyval.Value, error) {
	t := n.tok
	switch t.kind {
	case tInt:
		return p.intValue(n.off, t.big)
	case tFloat:
		return pyval.Float(t.f), nil
	case tImag:
		return pyval.Complex(complex(0, t.f)), nil
	case tStr:
		return pyval.Str(t.s), nil
	case tBytes:
		return pyval.Bytes(t.s), nil
	case tName:
		switch t.text {
		case "True":
			return pyval.Bool(true), nil
		case "False":
			return pyval.Bool(false), nil
		}
		return pyval.None, nil
	}
	return nil, p.errorf(n.off, ErrSyntax, "internal error: unknown constant")
}

func (p *parser) intValue(off int, b *big.Int) (pyval.Value, error) {
	return pyval.IntFromBig(b), nil
}

// realOperand evaluates the left side of real ± imaginary: an int or float,
// optionally signed, converted to float64 as Python's complex() does.
func (p *parser) realOperand(n *node) (float64, error) {
	neg := false
	at := n
	if n.kind == nUnary {
		neg = n.op == '-'
		at = n.kids[0]
	}
	if at.kind != nConst || (at.tok.kind != tInt && at.tok.kind != tFloat) {
		return 0, p.errorf(n.off, ErrSyntax, "the left of real ± imaginary must be an int or float literal")
	}
	if at.tok.kind == tFloat {
		if neg {
			return -at.tok.f, nil
		}
		return at.tok.f, nil
	}
	b := at.tok.big
	if neg {
		b = new(big.Int).Neg(b)
	}
	f, _ := new(big.Float).SetInt(b).Float64()
	if math.IsInf(f, 0) {
		return 0, p.errorf(n.off, ErrRange, "int too large to convert to float")
	}
	return f, nil
}
