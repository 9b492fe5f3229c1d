package backend

import "testing"

func TestMatchGlob(t *testing.T) {
	cases := []struct {
		pattern, key string
		want         bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"**", "", false}, // Redis quirk: only "*" itself matches ""
		{"a*", "a", true},
		{"", "a", false},
		{"a", "a", true},
		{"a", "ab", false},
		{"a*", "a", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*a", "bba", true},
		{"*a*b", "xaxxb", true},
		{"*a*b", "xaxxbx", false},
		{"a**b", "ab", true},
		{"?", "", false},
		{"?", "é", false}, // two bytes
		{"??", "é", true},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[!e]llo", "hello", true}, // Redis: no '!' negation
		{"h[!e]llo", "h!llo", true},
		{"h[!e]llo", "hallo", false},
		{"h[a-c]llo", "hbllo", true},
		{"h[c-a]llo", "hbllo", true},
		{"h[a-c]llo", "hdllo", false},
		{"h[^a-c]llo", "hdllo", true},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{`h\?llo`, "h?llo", true},
		{`h\[llo`, "h[llo", true},
		{`a\\b`, `a\b`, true},
		{`a\`, `a\`, true}, // lone trailing backslash is literal
		{`[\]]`, "]", true},
		{`[\-]`, "-", true},
		{`[a\-z]`, "b", false},
		{"[]", "]", false},
		{"[]a]", "a", false}, // "[]" is an empty set, then "a]"
		{"[^]", "x", true},
		{"[ab", "a", true}, // unterminated set runs to the end
		{"[ab", "b", true},
		{"[ab", "c", false},
		{"[a-", "-", true},    // too short for a range: the set {a, -}
		{"x[a-]", "x]", true}, // "a-]" is the range a..]
		{"a[", "a", false},
		{"*[", "a", false},
		{"ab*", "a", false},
		{"a*?", "a", false},
		{"a*?", "ab", true},
		{"\xff*", "\xff\x00", true},
		{"*x*x*x*x*x*y", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false},
	}
	for _, c := range cases {
		if got := MatchGlob([]byte(c.pattern), []byte(c.key)); got != c.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", c.pattern, c.key, got, c.want)
		}
	}
}
