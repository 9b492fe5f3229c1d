package pickle

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/pyval"
)

// render turns a decoded value into the JSON rendering of the vectors
// README (as json.Unmarshal would produce it), leaving out the informative
// "values"/"value" members, so that results compare exactly (NaN, -0.0 and
// the int/float/bool distinction included).
func render(t *testing.T, v pyval.Value) any {
	t.Helper()
	switch x := v.(type) {
	case pyval.NoneType:
		return nil
	case pyval.Bool:
		return bool(x)
	case pyval.Int:
		return map[string]any{"int": x.String()}
	case pyval.Float:
		return map[string]any{"float": pyval.FloatRepr(float64(x))}
	case pyval.Complex:
		return map[string]any{"complex": []any{
			map[string]any{"float": pyval.FloatRepr(real(x))},
			map[string]any{"float": pyval.FloatRepr(imag(x))},
		}}
	case pyval.Str:
		return map[string]any{"str": string(x)}
	case pyval.Bytes:
		return map[string]any{"bytes": hex.EncodeToString(x)}
	case pyval.List:
		return map[string]any{"list": renderSeq(t, x)}
	case pyval.Tuple:
		return map[string]any{"tuple": renderSeq(t, x)}
	case *pyval.Dict:
		items := []any{}
		for _, it := range x.Items() {
			items = append(items, []any{render(t, it.Key), render(t, it.Value)})
		}
		return map[string]any{"dict": items}
	case *pyval.NDArray:
		shape := []any{}
		for _, n := range x.Shape {
			shape = append(shape, float64(n))
		}
		return map[string]any{"ndarray": map[string]any{
			"descr":         renderDescr(x.DType),
			"shape":         shape,
			"fortran_order": x.FortranOrder,
			"data_hex":      hex.EncodeToString(x.Data),
		}}
	case *pyval.Scalar:
		return map[string]any{"npscalar": map[string]any{
			"descr":    renderDescr(x.DType),
			"data_hex": hex.EncodeToString(x.Data),
		}}
	}
	t.Fatalf("render: unexpected %T", v)
	return nil
}

func renderSeq(t *testing.T, vs []pyval.Value) []any {
	out := []any{}
	for _, v := range vs {
		out = append(out, render(t, v))
	}
	return out
}

func renderDescr(d pyval.DType) any {
	if d.Fields == nil {
		return d.String()
	}
	out := []any{}
	for _, f := range d.Fields {
		item := []any{f.Name, renderDescr(f.DType)}
		if f.Shape != nil {
			sh := []any{}
			for _, n := range f.Shape {
				sh = append(sh, float64(n))
			}
			item = append(item, sh)
		}
		out = append(out, item)
	}
	return out
}

// parseExpected parses an expected rendering, dropping "values"/"value".
func parseExpected(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("bad expected JSON %s: %v", raw, err)
	}
	return stripInformative(v)
}

func stripInformative(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "ndarray" || k == "npscalar" {
				m := e.(map[string]any)
				delete(m, "values")
				delete(m, "value")
				continue
			}
			x[k] = stripInformative(e)
		}
	case []any:
		for i := range x {
			x[i] = stripInformative(x[i])
		}
	}
	return v
}

func checkValue(t *testing.T, name string, got pyval.Value, want any) {
	t.Helper()
	r := render(t, got)
	if !reflect.DeepEqual(r, want) {
		g, _ := json.Marshal(r)
		w, _ := json.Marshal(want)
		t.Errorf("%s:\n got  %s\n want %s", name, g, w)
	}
}

// The six pickle records of shared/vectors/telstate/encoding.jsonl.
func TestVectors(t *testing.T) {
	type record struct {
		Name       string          `json:"name"`
		EncodedHex string          `json:"encoded_hex"`
		Decoded    json.RawMessage `json:"decoded_if_pickle_allowed"`
	}
	n := 0
	for _, rec := range vectors.JSONL[record](t, "telstate", "encoding.jsonl") {
		if !strings.HasPrefix(rec.Name, "decode_pickle_") {
			continue
		}
		n++
		b, err := hex.DecodeString(rec.EncodedHex)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Decode(b)
		if err != nil {
			t.Errorf("%s: %v", rec.Name, err)
			continue
		}
		checkValue(t, rec.Name, v, parseExpected(t, rec.Decoded))
	}
	if n != 6 {
		t.Errorf("found %d decode_pickle_ records, want 6", n)
	}
}

type fixture struct {
	name, variant, expect string
	data                  []byte
	want                  []byte // JSON
}

// loadFixtures reads the tables written by testdata/gen.py.
func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []fixture
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			p := strings.Split(line, "\t")
			if len(p) != 5 {
				t.Fatalf("%s:%d: %d fields", file, i+1, len(p))
			}
			b, err := hex.DecodeString(p[3])
			if err != nil {
				t.Fatalf("%s:%d: %v", file, i+1, err)
			}
			out = append(out, fixture{
				name: filepath.Base(file) + ":" + p[0], variant: p[1], expect: p[2],
				data: b, want: []byte(p[4]),
			})
		}
	}
	return out
}

func TestFixtures(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		name := fx.name + "/" + fx.variant
		v, err := Decode(fx.data)
		switch fx.expect {
		case "ok":
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			checkValue(t, name, v, parseExpected(t, fx.want))
		case "unsupported":
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: got %v, %v; want ErrUnsupported", name, v, err)
			}
		default:
			t.Fatalf("%s: bad expect %q", name, fx.expect)
		}
	}
}

// Read must give the same results as Decode, from any kind of reader.
func TestReadMatchesDecode(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		want, werr := Decode(fx.data)
		for _, r := range []io.Reader{
			bytes.NewReader(fx.data),
			iotest.OneByteReader(bytes.NewReader(fx.data)),
			iotest.HalfReader(bytes.NewReader(fx.data)),
		} {
			got, err := Read(r)
			if (err == nil) != (werr == nil) {
				t.Fatalf("%s/%s: Read error %v, Decode error %v", fx.name, fx.variant, err, werr)
			}
			if err == nil && !reflect.DeepEqual(render(t, got), render(t, want)) {
				t.Fatalf("%s/%s: Read and Decode differ", fx.name, fx.variant)
			}
		}
	}
}

// Read stops at STOP, so a bufio.Reader can hold several pickles.
func TestReadSequence(t *testing.T) {
	stream := bufio.NewReader(strings.NewReader("\x80\x04K\x01.V\xe9\n.\x80\x02]q\x00(K\x02K\x03e.tail"))
	for _, want := range []string{"1", "'é'", "[2, 3]"} {
		v, err := Read(stream)
		if err != nil {
			t.Fatal(err)
		}
		if got := pyval.Repr(v); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	rest, _ := io.ReadAll(stream)
	if string(rest) != "tail" {
		t.Errorf("rest %q", rest)
	}
	if _, err := Read(stream); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty stream: %v", err)
	}
}

func TestReadIOError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Read(io.MultiReader(strings.NewReader("\x80\x02]("), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v", err)
	}
}

// Every proper prefix of a valid pickle is an error, never a panic.
func TestTruncated(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		if len(fx.data) > 400 {
			continue
		}
		for i := 0; i < len(fx.data); i++ {
			_, err := Decode(fx.data[:i])
			if err == nil {
				// A prefix can only succeed if it already holds a STOP.
				if !bytes.Contains(fx.data[:i], []byte{'.'}) {
					t.Errorf("%s/%s: prefix %d decoded", fx.name, fx.variant, i)
				}
			}
		}
	}
}

// Hand-written pickles for opcodes and corner cases the generator does not
// reach.
func TestHandWritten(t *testing.T) {
	tests := []struct {
		name, pickle, repr string
	}{
		{"py2 STRING escapes", "S'a\\x41\\101\\n\\'\\q\\\\'\n.", `"aAA\n'\\q\\"`},
		{"STRING double quotes", "S\"it's\"\n.", `"it's"`},
		{"STRING latin1", "S'\\xe9\xff'\n.", "'éÿ'"},
		{"UNICODE raw escapes", "V\\u00e9\\\\u0041\\U0001F389\xe9\n.", `'é\\\\u0041🎉é'`},
		{"INT bools", "(I01\nI00\nI-5\nI+7\nt.", "(True, False, -5, 7)"},
		{"LONG suffix", "(L18446744073709551615L\nL-9223372036854775808\nt.", "(18446744073709551615, -9223372036854775808)"},
		{"FLOAT forms", "(F1.5\nFinf\nF-inf\nF1e-400\nF-0.0\nt.", "(1.5, inf, -inf, 0.0, -0.0)"},
		{"LONG1 widths", "\x80\x02(\x8a\x00\x8a\x01\xff\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\x00\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80\x8a\x0a\x00\x00\x00\x00\x00\x00\x00\x80\xff\xfft.",
			"(0, -1, 18446744073709551615, -9223372036854775808, -9223372036854775808)"},
		// Expected reprs and pickle.dumps(v, protocol=2) bytes from Python 3.11.
		{"big INT and LONG", "(I99999999999999999999\nL-9223372036854775809L\nI-" + strings.Repeat("9", pyval.MaxIntDigits) + "\nt.",
			"(99999999999999999999, -9223372036854775809, -" + strings.Repeat("9", pyval.MaxIntDigits) + ")"},
		{"big LONG1", "\x80\x02(\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00\x01\x8a\t\xff\xff\xff\xff\xff\xff\xff\x7f\xff\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00\xff\x8a\t\x00\x00\x00\x00\x00\x00\x00\x80\x00t.",
			"(18446744073709551616, -9223372036854775809, -18446744073709551616, 9223372036854775808)"},
		{"big LONG1 wide", "\x80\x02(\x8a\x1a" + strings.Repeat("\x00", 25) + "\x01\x8a " + strings.Repeat("\x00", 31) + "\x80t.",
			"(1606938044258990275541962092341162602522202993782792835301376, -57896044618658097711785492504343953926634992332820282019728792003956564819968)"},
		{"big LONG4", "\x80\x02\x8b\x0a\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00.", "4722366482869645213695"},
		{"POP and POP_MARK", "K\x01(K\x02K\x031(0K\x04.", "4"},
		{"POP drops mark", "K\x07(0.", "7"},
		{"DUP and memo", "]p0\n2g0\nh\x00\x86.", "([], [])"},
		{"MEMOIZE", "\x80\x04\x8c\x01a\x94\x8c\x01b\x94h\x00h\x01\x87.", "('b', 'a', 'b')"},
		{"LONG_BINPUT", "K\x05r\x00\x00\x01\x00j\x00\x00\x01\x00\x86.", "(5, 5)"},
		{"DICT and SETITEM", "(K\x01K\x02dK\x03K\x04sK\x01K\x05s.", "{1: 5, 3: 4}"},
		{"dict equal keys", "}(K\x01U\x01aI01\nU\x01bu.", "{1: 'b'}"},
		{"LIST", "(K\x01K\x02l.", "[1, 2]"},
		{"NEWOBJ complex", "\x80\x02c__builtin__\ncomplex\nG?\xf8\x00\x00\x00\x00\x00\x00K\x02\x86\x81.", "(1.5+2j)"},
		{"INST complex", "(I3\nI4\ni__builtin__\ncomplex\n.", "(3+4j)"},
		{"OBJ bytes", "(cbuiltins\nbytes\nC\x02hio.", "b'hi'"},
		{"bytes()", "\x80\x02c__builtin__\nbytes\n)R.", "b''"},
		{"bytearray latin-1", "c__builtin__\nbytearray\n(V\xe9\nVlatin-1\ntR.", `b'\xe9'`},
		{"BYTEARRAY8", "\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00ab.", "b'ab'"},
		{"BINBYTES8 and BINUNICODE8", "\x80\x04\x8e\x01\x00\x00\x00\x00\x00\x00\x00x\x8d\x01\x00\x00\x00\x00\x00\x00\x00y\x86.", "(b'x', 'y')"},
		{"surrogatepass", "X\x05\x00\x00\x00\xed\xb3\xbf\xc3\xa9.", "'\\udcffé'"},
		{"UNICODE surrogate escape", "V\\udc80x\n.", "'\\udc80x'"},
		{"frame", "\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x01.", "1"},
		{"trailing bytes ignored", "K\x01.garbage", "1"},
		{"_reconstruct without BUILD", "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n(I0\ntS'b'\n\x87R.", ""},
	}
	for _, tc := range tests {
		v, err := Decode([]byte(tc.pickle))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.repr == "" {
			continue
		}
		if got := pyval.Repr(v); got != tc.repr {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.repr)
		}
	}
}

func TestHandWrittenNumpy(t *testing.T) {
	// A Python 2 protocol-0 pickle of numpy.array([1, 2], 'int16'): the
	// dtype args are ints, the data a STRING with escapes.
	p := "cnumpy.core.multiarray\n_reconstruct\np0\n(cnumpy\nndarray\np1\n(I0\ntp2\nS'b'\np3\ntp4\nRp5\n" +
		"(I1\n(I2\ntp6\ncnumpy\ndtype\np7\n(S'i2'\np8\nI0\nI1\ntp9\nRp10\n(I3\nS'<'\np11\nNNNI-1\nI-1\nI0\ntp12\nb" +
		"I00\nS'\\x01\\x00\\x02\\x00'\np13\ntp14\nb."
	v, err := Decode([]byte(p))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := v.(*pyval.NDArray)
	if !ok {
		t.Fatalf("got %T", v)
	}
	if got, _ := a.Int64s(); !reflect.DeepEqual(got, []int64{1, 2}) || a.DType.String() != "<i2" {
		t.Errorf("got %v %s", got, a.DType)
	}

	// Titles cannot be expressed in a descr.
	titled := "cnumpy\ndtype\n(S'V4'\nI0\nI1\ntR(I3\nS'|'\nN(S'a'\nt(dS'a'\n(cnumpy\ndtype\n(S'i4'\nI0\nI1\ntR(I3\nS'<'\nNNNI-1\nI-1\nI0\ntbI0\nS'T'\ntsI4\nI1\nI0\ntb."
	if _, err := Decode([]byte(titled)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("titled dtype: %v", err)
	}
	// A bare dtype is not a value.
	bare := "\x80\x02cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R."
	if _, err := Decode([]byte(bare)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("bare dtype: %v", err)
	}
	// Data of the wrong size.
	short := strings.Replace(p, "S'\\x01\\x00\\x02\\x00'", "S'\\x01\\x00\\x02'", 1)
	if short == p {
		t.Fatal("bad test: replacement failed")
	}
	if _, err := Decode([]byte(short)); !errors.Is(err, ErrInvalid) {
		t.Errorf("short data: %v", err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, pickle string
		class        error
		msg          string
	}{
		{"empty", "", ErrInvalid, "pickle: empty input"},
		{"no STOP", "K\x01", ErrInvalid, "without a STOP"},
		{"truncated", "X\x05\x00\x00\x00ab", ErrInvalid, "pickle: data truncated (BINUNICODE at offset 0)"},
		{"huge length", "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.", ErrInvalid, "truncated"},
		{"unknown opcode", "\x80\x02\xff.", ErrInvalid, "invalid load key 0xff (opcode 0xff at offset 2)"},
		{"refused global", "\x80\x02cos\nsystem\nq\x00.", ErrUnsupported, "pickle: refusing to load global os.system (GLOBAL at offset 2)"},
		{"refused stack global", "\x80\x04\x8c\x02os\x8c\x06system\x93.", ErrUnsupported, "pickle: refusing to load global os.system (STACK_GLOBAL"},
		{"copyreg", "ccopy_reg\n_reconstructor\n.", ErrUnsupported, "refusing to load global copy_reg._reconstructor"},
		{"set global", "c__builtin__\nset\n.", ErrUnsupported, "set"},
		{"EMPTY_SET", "\x80\x04\x8f.", ErrUnsupported, "set"},
		{"PERSID", "P1\n.", ErrUnsupported, "persistent"},
		{"EXT1", "\x80\x02\x82\x01.", ErrUnsupported, "extension"},
		{"NEXT_BUFFER", "\x80\x05\x97.", ErrUnsupported, "out-of-band"},
		{"protocol 6", "\x80\x06K\x01.", ErrUnsupported, "protocol 6"},
		{"INT too many digits", "I" + strings.Repeat("9", pyval.MaxIntDigits+1) + "\n.", ErrLimit, "exceeds the limit"},
		{"LONG too many digits", "L-" + strings.Repeat("9", pyval.MaxIntDigits+1) + "L\n.", ErrLimit, "exceeds the limit"},
		{"bad INT", "I12x\n.", ErrInvalid, "invalid int"},
		{"float overflow", "F1e999\n.", ErrInvalid, "too large"},
		{"hex float", "F0x1p3\n.", ErrInvalid, "invalid float"},
		{"unquoted STRING", "Sabc\n.", ErrInvalid, "quoted"},
		{"bad \\x", "S'\\x4'\n.", ErrInvalid, "\\x"},
		{"bad UTF-8", "X\x01\x00\x00\x00\xff.", ErrInvalid, "UTF-8"},
		{"lone surrogate", "X\x03\x00\x00\x00\xed\xa0\x80.", ErrUnsupported, "pickle: str with lone surrogate U+D800 cannot be held by pyval.Str (BINUNICODE at offset 0)"},
		{"bad \\u", "V\\u12\n.", ErrInvalid, "truncated"},
		{"negative BINSTRING", "T\xff\xff\xff\xff.", ErrInvalid, "negative"},
		{"underflow", "0.", ErrInvalid, "underflow"},
		{"underflow at mark", "K\x01(a.", ErrInvalid, "underflow"},
		{"no mark", "t.", ErrInvalid, "MARK"},
		{"STOP on empty", ".", ErrInvalid, "underflow"},
		{"memo miss", "h\x05.", ErrInvalid, "memo key 5"},
		{"negative PUT", "K\x01p-1\n.", ErrInvalid, "memo index"},
		{"append to int", "K\x01K\x02a.", ErrInvalid, "append"},
		{"odd DICT", "(K\x01d.", ErrInvalid, "odd"},
		{"unhashable key", "}]K\x01s.", ErrInvalid, "unhashable"},
		{"recursive", "]q\x00h\x00a.", ErrUnsupported, "recursive"},
		{"REDUCE non-callable", "K\x01)R.", ErrInvalid, "not callable"},
		{"REDUCE non-tuple", "c_codecs\nencode\nK\x01R.", ErrInvalid, "tuple"},
		{"BUILD on list", "]K\x01b.", ErrUnsupported, "BUILD"},
		{"callable as value", "c_codecs\nencode\n.", ErrUnsupported, "callable"},
		{"encode non-latin1", "c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00latin1\x86R.", ErrInvalid, "latin1"},
		{"frame too long", "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00K\x01.", ErrInvalid, "frame"},
		{"matrix subtype", "cnumpy.core.multiarray\n_reconstruct\ncnumpy.matrixlib.defmatrix\nmatrix\n.", ErrUnsupported, "refusing to load global numpy.matrixlib.defmatrix.matrix"},
	}
	for _, tc := range tests {
		v, err := Decode([]byte(tc.pickle))
		if !errors.Is(err, tc.class) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, v, err, tc.class)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %T is not *Error", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: message %q does not contain %q", tc.name, err, tc.msg)
		}
	}
}

func TestLimits(t *testing.T) {
	// Shared references: each level doubles the expanded size.
	var b bytes.Buffer
	b.WriteString("\x80\x02]q\x00K\x01a")
	for i := 0; i < 40; i++ {
		b.WriteString("h\x00h\x00\x86q\x000") // memo[0] = (memo[0], memo[0]); POP
	}
	b.WriteString("h\x00.")
	if _, err := Decode(b.Bytes()); !errors.Is(err, ErrLimit) {
		t.Errorf("exponential sharing: %v", err)
	}
	// Deep nesting.
	deep := strings.Repeat("]", 5000) + strings.Repeat("a", 4999) + "."
	if _, err := Decode([]byte(deep)); !errors.Is(err, ErrLimit) {
		t.Errorf("deep nesting: %v", err)
	}
	ok := strings.Repeat("]", 900) + strings.Repeat("a", 899) + "."
	if _, err := Decode([]byte(ok)); err != nil {
		t.Errorf("900 levels: %v", err)
	}
	// A zero-size dtype cannot claim a huge element count.
	zero := "\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01J\xff\xff\xff\x7f\x85cnumpy\ndtype\nU\x02S0K\x00K\x01\x87R(K\x03U\x01|NNNK\x00K\x01K\x00tb\x89U\x00tb."
	if _, err := Decode([]byte(zero)); !errors.Is(err, ErrLimit) {
		t.Errorf("zero itemsize: %v", err)
	}
}

// Python ignores bytes after STOP; a shared result is converted once.
func TestSharedIdentity(t *testing.T) {
	v, err := Decode([]byte("\x80\x02]q\x00K\x01ah\x00\x86."))
	if err != nil {
		t.Fatal(err)
	}
	tup := v.(pyval.Tuple)
	if &tup[0].(pyval.List)[0] != &tup[1].(pyval.List)[0] {
		t.Error("memo reference not shared")
	}
}

func FuzzDecode(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		if len(fx.data) < 2000 {
			f.Add(fx.data)
		}
	}
	for _, s := range []string{
		"8002580500000068656c6c6f71002e",
		"80027d710058010000006171014b01474004000000000000867102732e",
		"532768656c6c6f270a70310a2e",
		"5668656c6c6f0a70300a2e",
		"80044b012e",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrLimit) {
				t.Fatalf("error without a class: %v", err)
			}
			return
		}
		if v == nil {
			t.Fatal("nil value without error")
		}
		_ = pyval.Repr(v)
		v2, err := Read(iotest.HalfReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("Read failed where Decode succeeded: %v", err)
		}
		if r1, r2 := pyval.Repr(v), pyval.Repr(v2); r1 != r2 {
			t.Fatalf("Read gave %s, Decode %s", r2, r1)
		}
	})
}

func BenchmarkDecodeFloat64Array1k(b *testing.B) {
	var data []byte
	for _, fx := range loadFixtures(b) {
		if strings.HasSuffix(fx.name, "numpy2.txt:arr_f8_1k") && fx.variant == "p2" {
			data = fx.data
		}
	}
	if data == nil {
		b.Fatal("fixture arr_f8_1k/p2 not found")
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
