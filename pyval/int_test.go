package pyval

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

// intCases span the inline range's edges and beyond; big.Int is the oracle.
var intCases = []string{
	"0", "1", "-1", "255", "-32",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"18446744073709551615", "18446744073709551616", "-18446744073709551615", "-18446744073709551616",
	"-18446744073709551617", "340282366920938463463374607431768211456",
	"-123456789012345678901234567890123456789012345678901234567890",
	"9007199254740993", "36893488147419103232", // 2**53+1, 2**65
}

func TestInt(t *testing.T) {
	for _, s := range intCases {
		b, _ := new(big.Int).SetString(s, 10)
		i, err := ParseInt(s)
		if err != nil {
			t.Fatalf("ParseInt(%q): %v", s, err)
		}
		if i.String() != s || i.Big().Cmp(b) != 0 || string(i.AppendDecimal([]byte("x"))) != "x"+s {
			t.Errorf("ParseInt(%q) prints as %s / %s", s, i, i.Big())
		}
		if v, ok := i.Int64(); ok != b.IsInt64() || (ok && v != b.Int64()) {
			t.Errorf("%s.Int64() = %d, %v", s, v, ok)
		}
		if v, ok := i.Uint64(); ok != b.IsUint64() || (ok && v != b.Uint64()) {
			t.Errorf("%s.Uint64() = %d, %v", s, v, ok)
		}
		if i.IsBig() != !(b.IsInt64() || b.IsUint64()) {
			t.Errorf("%s.IsBig() = %v", s, i.IsBig())
		}
		if i.Negative() != (b.Sign() < 0) || i.Sign() != b.Sign() || i.BitLen() != b.BitLen() {
			t.Errorf("%s: Negative %v Sign %d BitLen %d", s, i.Negative(), i.Sign(), i.BitLen())
		}
		if string(i.Bytes()) != string(b.Bytes()) {
			t.Errorf("%s.Bytes() = %x, want %x", s, i.Bytes(), b.Bytes())
		}
		wantF, _ := new(big.Float).SetInt(b).Float64()
		if f, err := i.Float(); f != wantF || err != nil || i.Float64() != wantF {
			t.Errorf("%s.Float() = %v, %v; want %v", s, f, err, wantF)
		}
		// The form is canonical: every constructor gives an == Int.
		if j := IntFromBig(b); j != i {
			t.Errorf("IntFromBig(%s) = %#v, want %#v", s, j, i)
		}
		if j := IntFromBytes(b.Sign() < 0, append([]byte{0, 0}, b.Bytes()...)); j != i {
			t.Errorf("IntFromBytes(%s) = %#v, want %#v", s, j, i)
		}
		// Big returns a copy.
		i.Big().SetInt64(7)
		if i.String() != s {
			t.Errorf("modifying Big() changed %s", s)
		}
	}
	if IntFromBig(nil) != (Int{}) || IntOf(5) != UintOf(5) || (Int{}) != IntOf(0) || IntFromBytes(true, nil) != IntOf(0) {
		t.Error("zero values and IntOf/UintOf representation")
	}
}

func TestIntCmp(t *testing.T) {
	for _, s1 := range intCases {
		for _, s2 := range intCases {
			a, _ := ParseInt(s1)
			b, _ := ParseInt(s2)
			want := a.Big().Cmp(b.Big())
			if got := a.Cmp(b); got != want {
				t.Errorf("%s.Cmp(%s) = %d, want %d", a, b, got, want)
			}
			// == on Ints and on Values holding them is numeric equality.
			if (a == b) != (want == 0) || (Value(a) == Value(b)) != (want == 0) {
				t.Errorf("%s == %s is %v", a, b, a == b)
			}
		}
	}
}

func TestParseIntErrors(t *testing.T) {
	for _, s := range []string{"", "-", "1.5", "0x10", "+-1", "+5", "1e3", " 1", "1_000", "184467440737095516160x"} {
		if i, err := ParseInt(s); err == nil {
			t.Errorf("ParseInt(%q) = %s, want an error", s, i)
		}
	}
	limit := strings.Repeat("9", MaxIntDigits)
	if i, err := ParseInt("-" + limit); err != nil || i.String() != "-"+limit {
		t.Errorf("ParseInt of %d digits: %v", MaxIntDigits, err)
	}
	if _, err := ParseInt(limit + "9"); !errors.Is(err, ErrIntDigits) {
		t.Errorf("ParseInt of %d digits: %v, want ErrIntDigits", MaxIntDigits+1, err)
	}
}

func TestIntFloatOverflow(t *testing.T) {
	one := big.NewInt(1)
	pow := func(n uint) *big.Int { return new(big.Int).Lsh(one, n) }
	// The largest float64 is 2**1024 - 2**971; Python's float(i) rounds half
	// to even, so i overflows from 2**1024 - 2**970 on.
	fits := IntFromBig(new(big.Int).Sub(new(big.Int).Sub(pow(1024), pow(970)), one))
	if f, err := fits.Float(); err != nil || f != math.MaxFloat64 {
		t.Errorf("float(2**1024 - 2**970 - 1) = %v, %v; want MaxFloat64", f, err)
	}
	for _, b := range []*big.Int{new(big.Int).Sub(pow(1024), pow(970)), new(big.Int).Neg(pow(2000))} {
		i := IntFromBig(b)
		if f, err := i.Float(); !errors.Is(err, ErrOverflow) || !math.IsInf(f, b.Sign()) {
			t.Errorf("float(%d-bit int) = %v, %v; want ErrOverflow", i.BitLen(), f, err)
		}
		if _, err := AsFloat64(i); !errors.Is(err, ErrOverflow) {
			t.Errorf("AsFloat64(%d-bit int): %v, want ErrOverflow", i.BitLen(), err)
		}
		if _, err := AsComplex128(i); !errors.Is(err, ErrOverflow) {
			t.Errorf("AsComplex128(%d-bit int): %v, want ErrOverflow", i.BitLen(), err)
		}
		if _, err := AsInt64(i); !errors.Is(err, ErrType) {
			t.Errorf("AsInt64(%d-bit int): %v, want ErrType", i.BitLen(), err)
		}
	}
}

func TestIntFromFloat(t *testing.T) {
	for _, f := range []float64{0, -0.0, 1, -1, 0x1p53, 0x1p63, -0x1p63, 0x1p64, -0x1p64, 1e300, -1.5e300, math.MaxFloat64} {
		i, ok := IntFromFloat(f)
		want, _ := new(big.Float).SetFloat64(f).Int(nil)
		if !ok || i.Big().Cmp(want) != 0 {
			t.Errorf("IntFromFloat(%v) = %s, %v; want %s", f, i, ok, want)
		}
	}
	for _, f := range []float64{0.5, -1e-300, 0x1p51 + 0.5, math.Inf(1), math.Inf(-1), math.NaN()} {
		if i, ok := IntFromFloat(f); ok {
			t.Errorf("IntFromFloat(%v) = %s, want false", f, i)
		}
	}
}

// TestBigIntEqualHash checks Python's rules across int and float for big
// ints: equal only when exactly equal, and then with the same hash key.
func TestBigIntEqualHash(t *testing.T) {
	p64, _ := ParseInt("18446744073709551616")
	p64plus, _ := ParseInt("18446744073709551617")
	n64, _ := ParseInt("-18446744073709551616")
	cases := []struct {
		a, b  Value
		equal bool
	}{
		{p64, Float(0x1p64), true},
		{p64plus, Float(0x1p64), false},
		{n64, Float(-0x1p64), true},
		{n64, Complex(complex(-0x1p64, 0)), true},
		{n64, Complex(complex(-0x1p64, 1)), false},
		{p64, p64plus, false},
		{p64, UintOf(math.MaxUint64), false},
		{p64, Float(math.Inf(1)), false},
		{IntFromBig(new(big.Int).Lsh(big.NewInt(3), 1000)), Float(0x3p1000), true},
		{Tuple{p64, Str("x")}, Tuple{Float(0x1p64), Str("x")}, true},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.equal {
			t.Errorf("Equal(%s, %s) = %v", Repr(c.a), Repr(c.b), got)
		}
		if got := Equal(c.b, c.a); got != c.equal {
			t.Errorf("Equal(%s, %s) = %v", Repr(c.b), Repr(c.a), got)
		}
		ka, err1 := HashKey(c.a)
		kb, err2 := HashKey(c.b)
		if err1 != nil || err2 != nil || (ka == kb) != c.equal {
			t.Errorf("HashKey(%s) == HashKey(%s) is %v (%v, %v)", Repr(c.a), Repr(c.b), ka == kb, err1, err2)
		}
	}
	d := &Dict{}
	d.Set(p64, Str("big"))
	if v, ok := d.Get(Float(0x1p64)); !ok || v != Str("big") {
		t.Errorf("dict[2.0**64] = %v, %v", v, ok)
	}
	if _, ok := d.Get(p64plus); ok {
		t.Error("dict[2**64+1] found 2**64")
	}
	if got := Repr(List{n64}); got != "[-18446744073709551616]" {
		t.Errorf("Repr = %s", got)
	}
}

// TestIntInlineNoAlloc checks that ints in the 64-bit range stay
// allocation-free.
func TestIntInlineNoAlloc(t *testing.T) {
	var sink int64
	allocs := testing.AllocsPerRun(100, func() {
		i := IntOf(-12345)
		j := UintOf(math.MaxUint64)
		n, _ := i.Int64()
		u, _ := j.Uint64()
		if i.Cmp(j) < 0 && !i.IsBig() && i != j {
			sink += n + int64(u)
		}
		f, _ := j.Float()
		sink += int64(f)
	})
	if allocs != 0 {
		t.Errorf("inline Int operations allocate %v times", allocs)
	}
	_ = sink
}

// FuzzInt checks ParseInt and the Int operations against math/big.
func FuzzInt(f *testing.F) {
	for _, s := range intCases {
		f.Add(s, []byte{0x80, 1}, false)
	}
	f.Add("-0", []byte{}, true)
	f.Add("00018446744073709551616", []byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true)
	f.Fuzz(func(t *testing.T, s string, mag []byte, neg bool) {
		i, err := ParseInt(s)
		b, ok := new(big.Int).SetString(s, 10)
		valid := ok && s != "" && s[0] != '+' && strings.Trim(strings.TrimPrefix(s, "-"), "0123456789") == "" && len(strings.TrimPrefix(s, "-")) <= MaxIntDigits
		if valid != (err == nil) {
			t.Fatalf("ParseInt(%q) = %s, %v; big says %v", s, i, err, ok)
		}
		j := IntFromBytes(neg, mag)
		bj := new(big.Int).SetBytes(mag)
		if neg {
			bj.Neg(bj)
		}
		if j.Big().Cmp(bj) != 0 || j != IntFromBig(bj) || j.String() != bj.String() {
			t.Fatalf("IntFromBytes(%v, %x) = %s, want %s", neg, mag, j, bj)
		}
		if err != nil {
			return
		}
		if i.Big().Cmp(b) != 0 || i.String() != b.String() || i != IntFromBig(b) {
			t.Fatalf("ParseInt(%q) = %s", s, i)
		}
		if got, want := i.Cmp(j), b.Cmp(bj); got != want || (i == j) != (want == 0) {
			t.Fatalf("%s.Cmp(%s) = %d, want %d", i, j, got, want)
		}
		wantF, _ := new(big.Float).SetInt(b).Float64()
		if f, err := i.Float(); f != wantF || (err != nil) != math.IsInf(wantF, 0) {
			t.Fatalf("%s.Float() = %v, %v; want %v", i, f, err, wantF)
		}
		ki, _ := HashKey(i)
		kj, _ := HashKey(j)
		if (ki == kj) != (b.Cmp(bj) == 0) || Equal(i, j) != (b.Cmp(bj) == 0) {
			t.Fatalf("HashKey/Equal disagree with value for %s, %s", i, j)
		}
	})
}
