package encoding

import (
	"fmt"
	"unicode/utf8"

	"github.com/sdpkit/sdpkit/pyval"
)

// UTF8Codec is the "utf-8" encoding: a str as its UTF-8 bytes, no BOM, no
// terminator (Python str.encode("utf-8") / bytes.decode("utf-8")).
type UTF8Codec struct{}

func (UTF8Codec) Name() string { return UTF8 }

func (c UTF8Codec) Encode(v pyval.Value) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends the UTF-8 bytes of the str v to dst.
func (UTF8Codec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	s, ok := v.(pyval.Str)
	if !ok {
		return dst, fmt.Errorf("%w: encoding %s: want str, got %s", ErrUnsupported, UTF8, pyval.Repr(v))
	}
	if !s.ValidUTF8() {
		// A Go string that is not UTF-8 stands for a Python str with lone
		// surrogates, which str.encode("utf-8") refuses.
		return dst, fmt.Errorf("%w: encoding %s: str is not valid UTF-8 at byte %d", ErrUnicode, UTF8, invalidAt([]byte(s)))
	}
	return append(dst, s...), nil
}

func (UTF8Codec) Decode(data []byte) (pyval.Value, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: %w: encoding %s: invalid UTF-8 at byte %d", ErrInvalidData, ErrUnicode, UTF8, invalidAt(data))
	}
	return pyval.Str(data), nil
}

// ASCIICodec is the "ascii" encoding: strict, so a non-ASCII character is
// an error both ways, as Python's "ascii" codec.
type ASCIICodec struct{}

func (ASCIICodec) Name() string { return ASCII }

func (c ASCIICodec) Encode(v pyval.Value) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends the ASCII bytes of the str v to dst.
func (ASCIICodec) AppendEncode(dst []byte, v pyval.Value) ([]byte, error) {
	s, ok := v.(pyval.Str)
	if !ok {
		return dst, fmt.Errorf("%w: encoding %s: want str, got %s", ErrUnsupported, ASCII, pyval.Repr(v))
	}
	for i, r := range string(s) {
		if r >= 0x80 {
			return dst, fmt.Errorf("%w: encoding %s: character %q at position %d is not ASCII", ErrUnicode, ASCII, r, utf8.RuneCountInString(string(s)[:i]))
		}
	}
	return append(dst, s...), nil
}

func (ASCIICodec) Decode(data []byte) (pyval.Value, error) {
	for i, b := range data {
		if b >= 0x80 {
			return nil, fmt.Errorf("%w: %w: encoding %s: byte 0x%02x at position %d is not ASCII", ErrInvalidData, ErrUnicode, ASCII, b, i)
		}
	}
	return pyval.Str(data), nil
}

// invalidAt returns the offset of the first invalid UTF-8 sequence.
func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
