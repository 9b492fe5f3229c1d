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

func (UTF8Codec) Encode(v pyval.Value) ([]byte, error) {
	s, ok := v.(pyval.Str)
	if !ok {
		return nil, fmt.Errorf("encoding %s: want str, got %s", UTF8, pyval.Repr(v))
	}
	return []byte(s), nil
}

func (UTF8Codec) Decode(data []byte) (pyval.Value, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("encoding %s: invalid UTF-8 at byte %d", UTF8, invalidAt(data))
	}
	return pyval.Str(data), nil
}

// ASCIICodec is the "ascii" encoding: strict, so a non-ASCII character is
// an error both ways, as Python's "ascii" codec.
type ASCIICodec struct{}

func (ASCIICodec) Name() string { return ASCII }

func (ASCIICodec) Encode(v pyval.Value) ([]byte, error) {
	s, ok := v.(pyval.Str)
	if !ok {
		return nil, fmt.Errorf("encoding %s: want str, got %s", ASCII, pyval.Repr(v))
	}
	for i, r := range string(s) {
		if r >= 0x80 {
			return nil, fmt.Errorf("encoding %s: character %q at position %d is not ASCII", ASCII, r, utf8.RuneCountInString(string(s)[:i]))
		}
	}
	return []byte(s), nil
}

func (ASCIICodec) Decode(data []byte) (pyval.Value, error) {
	for i, b := range data {
		if b >= 0x80 {
			return nil, fmt.Errorf("encoding %s: byte 0x%02x at position %d is not ASCII", ASCII, b, i)
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
