package backend

// MatchGlob reports whether key matches the Redis glob pattern, with the
// semantics of the Redis KEYS command (Redis's stringmatchlen, case
// sensitive), so that every backend filters keys alike:
//
//   - any run of bytes, including none
//     ?        exactly one byte
//     [abc]    one byte from the set
//     [^abc]   one byte not in the set
//     [a-z]    one byte in the range (the ends may come in either order)
//     \x       the byte x literally, outside or inside brackets
//
// Matching is bytewise: a multi-byte UTF-8 character is several bytes to
// '?'. As in Redis, only '^' negates a set: "[!a]" is the set {'!', 'a'}.
// An unterminated set ("[ab") runs to the end of the pattern, and a
// trailing lone backslash matches a backslash. The empty key matches only
// the patterns "*" and "" (Redis's matcher never lets a star match an
// empty key; KEYS special-cases the pattern "*").
func MatchGlob(pattern, key []byte) bool {
	if len(pattern) == 1 && pattern[0] == '*' {
		return true // KEYS's "allkeys" fast path
	}
	if len(key) == 0 {
		return len(pattern) == 0
	}
	return globMatch(pattern, key)
}

// globMatch is an iterative matcher with single-star backtracking: when a
// later part fails to match, only the most recent '*' needs to absorb one
// more byte, because an earlier star can never help (the classic result
// that makes glob matching linear-ish instead of exponential).
func globMatch(p, s []byte) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				for pi < len(p) && p[pi] == '*' {
					pi++
				}
				if pi == len(p) {
					return true
				}
				starP, starS = pi, si
				continue
			case '?':
				pi++
				si++
				continue
			case '[':
				next, ok := matchClass(p, pi, s[si])
				if ok {
					pi = next
					si++
					continue
				}
			default:
				c := p[pi]
				n := pi + 1
				if c == '\\' && pi+1 < len(p) {
					c = p[pi+1]
					n = pi + 2
				}
				if c == s[si] {
					pi = n
					si++
					continue
				}
			}
		}
		// Mismatch: let the last star swallow one more byte.
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches byte c against the set starting at p[start] == '['.
// It returns the index after the set and whether c is in it.
func matchClass(p []byte, start int, c byte) (int, bool) {
	i := start + 1
	negate := false
	if i < len(p) && p[i] == '^' {
		negate = true
		i++
	}
	match := false
	for i < len(p) {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			if p[i+1] == c {
				match = true
			}
			i += 2
			continue
		case p[i] == ']':
			return i + 1, match != negate
		case i+2 < len(p) && p[i+1] == '-':
			lo, hi := p[i], p[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				match = true
			}
			i += 3
			continue
		default:
			if p[i] == c {
				match = true
			}
			i++
		}
	}
	// Unterminated set: Redis treats the end of the pattern as ']'.
	return i, match != negate
}
