package rdb

import "fmt"

// lzfMaxRatio bounds how much LZF can expand: the longest back-reference is
// 3 bytes of input for 264 bytes of output. A claimed uncompressed length
// beyond this is impossible and is rejected before anything is allocated.
const lzfMaxRatio = 88

// lzfDecompress expands LZF data (the liblzf format Redis uses) into exactly
// n bytes. It returns the position in in where decoding failed, for error
// reporting.
func lzfDecompress(in []byte, n int) ([]byte, int, error) {
	if n < 0 || int64(n) > int64(len(in))*lzfMaxRatio {
		return nil, 0, fmt.Errorf("LZF length %d cannot come from %d compressed bytes", n, len(in))
	}
	out := make([]byte, 0, n)
	i := 0
	for i < len(in) {
		ctrl := int(in[i])
		start := i
		i++
		if ctrl < 32 {
			// Literal run of ctrl+1 bytes.
			run := ctrl + 1
			if len(in)-i < run {
				return nil, start, fmt.Errorf("LZF literal run of %d bytes overruns the input", run)
			}
			if n-len(out) < run {
				return nil, start, fmt.Errorf("LZF output exceeds the declared %d bytes", n)
			}
			out = append(out, in[i:i+run]...)
			i += run
			continue
		}
		// Back-reference: length in the top 3 bits (7 = extended), distance
		// in the low 5 bits and the next byte.
		length := ctrl >> 5
		if length == 7 {
			if i >= len(in) {
				return nil, start, fmt.Errorf("LZF back-reference is truncated")
			}
			length += int(in[i])
			i++
		}
		length += 2
		if i >= len(in) {
			return nil, start, fmt.Errorf("LZF back-reference is truncated")
		}
		dist := (ctrl&0x1f)<<8 | int(in[i])
		i++
		ref := len(out) - dist - 1
		if ref < 0 {
			return nil, start, fmt.Errorf("LZF back-reference points %d bytes before the start", -ref)
		}
		if n-len(out) < length {
			return nil, start, fmt.Errorf("LZF output exceeds the declared %d bytes", n)
		}
		// Byte by byte: source and destination may overlap (run-length).
		for k := 0; k < length; k++ {
			out = append(out, out[ref+k])
		}
	}
	if len(out) != n {
		return nil, len(in), fmt.Errorf("LZF data expands to %d bytes, not the declared %d", len(out), n)
	}
	return out, 0, nil
}
