package pyval

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// Errors of integer conversions.
var (
	// ErrOverflow means an Int is too large for the conversion asked for,
	// as Python's OverflowError ("int too large to convert to float").
	ErrOverflow = errors.New("pyval: int too large")
	// ErrIntDigits means a decimal integer has more than MaxIntDigits
	// digits (Python's ValueError "Exceeds the limit (4300 digits) for
	// integer string conversion").
	ErrIntDigits = errors.New("pyval: too many digits for integer string conversion")
)

// MaxIntDigits is the longest decimal integer ParseInt accepts: CPython's
// default sys.get_int_max_str_digits() (3.11 and later), past which
// int("…"), json.loads and str(i) raise ValueError. It also bounds the
// quadratic cost of decimal conversion of untrusted input.
const MaxIntDigits = 4300

// Int is a Python int: any integer, held exactly.
//
// Values in -2**63 … 2**64-1, the range of msgpack, int64 and uint64, are
// held inline and cost no allocation; larger magnitudes are kept in an
// immutable string. The form is canonical, so == on two Ints (or on Values
// holding Ints) is numeric equality and an Int can be a map key. The zero
// value is 0.
type Int struct {
	mag uint64 // the magnitude, for values in the inline range
	// ext is "" for an inline value >= 0 and "-" for an inline value < 0.
	// Outside the inline range it is the sign ('+' or '-') followed by the
	// big-endian magnitude without leading zero bytes, and mag is 0. Its
	// length alone tells the three apart, which keeps the inline paths to
	// one comparison.
	ext string
}

// negSmall marks an inline negative Int; a constant, so making one does not
// allocate.
const negSmall = "-"

// IntOf returns the Int for a signed value.
func IntOf(v int64) Int {
	if v < 0 {
		return Int{mag: uint64(-(v + 1)) + 1, ext: negSmall}
	}
	return Int{mag: uint64(v)}
}

// UintOf returns the Int for an unsigned value.
func UintOf(v uint64) Int { return Int{mag: v} }

// IntFromBig returns the Int equal to b (nil is 0). It keeps no reference
// to b.
func IntFromBig(b *big.Int) Int {
	switch {
	case b == nil:
		return Int{}
	case b.IsUint64():
		return UintOf(b.Uint64())
	case b.IsInt64():
		return IntOf(b.Int64())
	}
	sign := byte('+')
	if b.Sign() < 0 {
		sign = '-'
	}
	mag := make([]byte, 1+(b.BitLen()+7)/8)
	mag[0] = sign
	b.FillBytes(mag[1:]) // FillBytes writes the absolute value
	return Int{ext: string(mag)}
}

// IntFromBytes returns the Int whose magnitude is the big-endian unsigned
// integer mag, negated when neg (as big.Int.SetBytes). It keeps no
// reference to mag.
func IntFromBytes(neg bool, mag []byte) Int {
	for len(mag) > 0 && mag[0] == 0 {
		mag = mag[1:]
	}
	if len(mag) <= 8 {
		var u uint64
		for _, c := range mag {
			u = u<<8 | uint64(c)
		}
		switch {
		case !neg || u == 0:
			return UintOf(u)
		case u <= 1<<63:
			return Int{mag: u, ext: negSmall}
		}
	}
	b := make([]byte, 1+len(mag))
	b[0] = '+'
	if neg {
		b[0] = '-'
	}
	copy(b[1:], mag)
	return Int{ext: string(b)}
}

// ParseInt parses a decimal integer: an optional '-' and at least one
// digit, nothing else. Integers of any size are accepted up to
// MaxIntDigits digits; longer ones fail with ErrIntDigits, as Python's
// int() does.
func ParseInt(s string) (Int, error) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) <= 19 { // fits uint64 if all digits: the fast path
		if s[0:len(s)-len(digits)] == "-" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err == nil {
				return IntOf(v), nil
			}
		} else if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			return UintOf(v), nil
		}
	}
	if digits == "" {
		return Int{}, fmt.Errorf("pyval: invalid int %q", s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return Int{}, fmt.Errorf("pyval: invalid int %q", abbrevDigits(s))
		}
	}
	if len(digits) > MaxIntDigits {
		return Int{}, fmt.Errorf("%w: %d digits, limit %d", ErrIntDigits, len(digits), MaxIntDigits)
	}
	if len(digits) <= 20 {
		// 20 digits may still fit uint64; 19 that failed above were signed.
		if v, err := strconv.ParseUint(digits, 10, 64); err == nil {
			if digits == s {
				return UintOf(v), nil
			}
			return IntFromBytes(true, bigEndian(v)), nil
		}
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return Int{}, fmt.Errorf("pyval: invalid int %q", abbrevDigits(s))
	}
	return IntFromBig(b), nil
}

func bigEndian(u uint64) []byte {
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = byte(u)
		u >>= 8
	}
	return b[:]
}

func abbrevDigits(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-10:]
	}
	return s
}

// IntFromFloat returns the Int equal to f, and false if f is not an
// integer (it has a fraction, or is infinite or NaN). Every integral float
// converts exactly, however large, as Python's int(f).
func IntFromFloat(f float64) (Int, bool) {
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return Int{}, false
	}
	switch {
	case f >= 0 && f < 18446744073709551616.0:
		return UintOf(uint64(f)), true
	case f < 0 && f >= -9223372036854775808.0:
		return IntOf(int64(f)), true
	}
	b, _ := new(big.Float).SetFloat64(f).Int(nil)
	return IntFromBig(b), true
}

// IsBig reports whether i is outside -2**63 … 2**64-1, the range that
// Int64 and Uint64 together cover and that msgpack, numpy int64 and uint64
// can carry.
func (i Int) IsBig() bool { return len(i.ext) > 1 }

// Negative reports whether i < 0.
func (i Int) Negative() bool { return len(i.ext) == 1 || (len(i.ext) > 1 && i.ext[0] == '-') }

// Sign returns -1, 0 or +1 as i is negative, zero or positive.
func (i Int) Sign() int {
	switch {
	case i.Negative():
		return -1
	case i.mag == 0 && len(i.ext) == 0:
		return 0
	}
	return 1
}

// Int64 returns i as an int64 and whether it fits.
func (i Int) Int64() (int64, bool) {
	switch len(i.ext) {
	case 0:
		if i.mag > math.MaxInt64 {
			return 0, false
		}
		return int64(i.mag), true
	case 1: // negSmall
		return -int64(i.mag-1) - 1, true
	}
	return 0, false
}

// Uint64 returns i as a uint64 and whether it fits (0 <= i < 2**64).
func (i Int) Uint64() (uint64, bool) { return i.mag, len(i.ext) == 0 }

// Float64 returns the float64 nearest to i (ties to even), as Python's
// float(i), except that where Python raises OverflowError it returns ±Inf.
// Use Float to get the error.
func (i Int) Float64() float64 {
	switch len(i.ext) {
	case 0:
		return float64(i.mag)
	case 1:
		return -float64(i.mag)
	}
	f, _ := new(big.Float).SetInt(i.Big()).Float64()
	return f
}

// Float returns the float64 nearest to i (ties to even), as Python's
// float(i), or an error wrapping ErrOverflow when i is too large for a
// float64 (|i| rounds to 2**1024 or more).
func (i Int) Float() (float64, error) {
	f := i.Float64()
	if math.IsInf(f, 0) {
		return f, fmt.Errorf("%w to convert to float (%d bits)", ErrOverflow, i.BitLen())
	}
	return f, nil
}

// BitLen returns the length of |i| in bits (0 for 0), as Python's
// int.bit_length().
func (i Int) BitLen() int {
	if !i.IsBig() {
		return bits.Len64(i.mag)
	}
	return 8*(len(i.ext)-2) + bits.Len8(i.ext[1])
}

// Big returns i as a new big.Int, which the caller may modify.
func (i Int) Big() *big.Int {
	switch len(i.ext) {
	case 0:
		return new(big.Int).SetUint64(i.mag)
	case 1:
		b := new(big.Int).SetUint64(i.mag)
		return b.Neg(b)
	}
	b := new(big.Int).SetBytes([]byte(i.ext[1:]))
	if i.ext[0] == '-' {
		b.Neg(b)
	}
	return b
}

// Bytes returns the big-endian magnitude of i without leading zeros
// (empty for 0); the sign is Negative.
func (i Int) Bytes() []byte {
	if i.IsBig() {
		return []byte(i.ext[1:])
	}
	b := bigEndian(i.mag)
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// String returns the decimal form, as Python's str(i) (without Python's
// MaxIntDigits limit).
func (i Int) String() string {
	return string(i.AppendDecimal(nil))
}

// AppendDecimal appends the decimal form of i to dst.
func (i Int) AppendDecimal(dst []byte) []byte {
	switch len(i.ext) {
	case 0:
		return strconv.AppendUint(dst, i.mag, 10)
	case 1:
		return strconv.AppendUint(append(dst, '-'), i.mag, 10)
	}
	return i.Big().Append(dst, 10)
}

// Cmp compares i and j: -1, 0 or +1.
func (i Int) Cmp(j Int) int {
	si, sj := i.Sign(), j.Sign()
	if si != sj {
		if si < sj {
			return -1
		}
		return 1
	}
	// Same sign: compare magnitudes, then flip for negatives.
	c := cmpMag(i, j)
	if si < 0 {
		return -c
	}
	return c
}

// cmpMag compares |i| and |j| for i and j of the same sign.
func cmpMag(i, j Int) int {
	bi, bj := i.IsBig(), j.IsBig()
	switch {
	case !bi && !bj:
		switch {
		case i.mag < j.mag:
			return -1
		case i.mag > j.mag:
			return 1
		}
		return 0
	case bi && !bj:
		return 1 // every big magnitude exceeds every inline one
	case !bi && bj:
		return -1
	}
	mi, mj := i.ext[1:], j.ext[1:]
	switch {
	case len(mi) != len(mj):
		if len(mi) < len(mj) {
			return -1
		}
		return 1
	case mi < mj:
		return -1
	case mi > mj:
		return 1
	}
	return 0
}
