package dataqueue_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/dataqueue"
	"github.com/sdpkit/sdpkit/internal/testenv"
	"github.com/sdpkit/sdpkit/internal/vectors"
	"github.com/sdpkit/sdpkit/internal/vectors/dqvalue"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/pyval/npy"
)

// dqVector is one golden vector of shared/vectors/dataqueues, as far as
// the interop tests need it.
type dqVector struct {
	Name       string          `json:"name"`
	Encoding   string          `json:"encoding"`
	Value      json.RawMessage `json:"value"`
	Decoded    json.RawMessage `json:"decoded"`
	EncodedHex *string         `json:"encoded_hex"`
	Direction  string          `json:"direction"`
	UnpackbOK  *bool           `json:"python_unpackb_default_ok"`
	EncodedTxt *string         `json:"encoded_text"`
	NPY        *struct {
		HeaderLen int `json:"header_len"`
	} `json:"npy"`

	key     string // FILE:NAME, the record key
	value   pyval.Value
	expect  pyval.Value // what Python's decoder returns
	encoded []byte
}

// interopEncodings are ska-sdp-dataqueues' encodings (plus plain msgpack)
// and the vector files holding them.
var interopEncodings = []struct{ encoding, file string }{
	{"utf-8", "text_json.jsonl"},
	{"ascii", "text_json.jsonl"},
	{"json", "text_json.jsonl"},
	{"msgpack", "msgpack.jsonl"},
	{"msgpack_numpy", "msgpack_numpy.jsonl"},
	{"npy", "npy.jsonl"},
}

// interopVectors returns the vectors of encoding that Python both encoded
// and can decode with its defaults: not the ones Python raised on, nor
// decode-only legacy bytes, nor maps with int keys (msgpack.unpackb's
// strict_map_key), nor npy headers beyond numpy.load's max_header_size.
func interopVectors(t *testing.T, encoding, file string) []*dqVector {
	t.Helper()
	var out []*dqVector
	for _, v := range vectors.JSONL[dqVector](t, "dataqueues", file) {
		if v.Encoding != encoding || v.EncodedHex == nil || v.Direction == "decode" ||
			(v.UnpackbOK != nil && !*v.UnpackbOK) || (v.NPY != nil && v.NPY.HeaderLen > npy.MaxHeaderSize) {
			continue
		}
		var err error
		if v.value, err = dqvalue.Parse(v.Value); err != nil {
			t.Fatalf("%s %s: %v", file, v.Name, err)
		}
		v.expect = dqvalue.PythonDecoded(encoding, v.value)
		if len(v.Decoded) > 0 {
			if v.expect, err = dqvalue.Parse(v.Decoded); err != nil {
				t.Fatalf("%s %s: decoded: %v", file, v.Name, err)
			}
		}
		if v.encoded, err = hex.DecodeString(*v.EncodedHex); err != nil {
			t.Fatal(err)
		}
		v.key = file + ":" + v.Name
		out = append(out, &v)
	}
	if len(out) == 0 {
		t.Fatalf("no %s vectors in %s", encoding, file)
	}
	return out
}

// goSendable says whether our default codecs send v: msgpack_numpy refuses
// datetime arrays, as Python does for contiguous ones; the vector
// M8_ns_noncontig is a non-contiguous view Python could send.
func goSendable(v *dqVector) bool { return v.Name != "M8_ns_noncontig" }

// runPeer runs the Python peer script with a JSON spec on stdin and
// returns its stdout.
func runPeer(t *testing.T, ctx context.Context, py string, spec any, args ...string) []byte {
	t.Helper()
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.RunPeer(ctx, t, in, py, append([]string{filepath.Join("testdata", "dq_peer.py")}, args...)...)
}

type peerTopic struct {
	Topic    string `json:"topic"`
	Encoding string `json:"encoding"`
	N        int    `json:"n"`
}

// TestEncodingInterop: for every encoding, the golden vectors' values sent
// by our Producer are read by aiokafka and decoded by Python's own
// decoders to the expected values (and are the vectors' bytes); values
// Python encodes with its own encoders and sends with aiokafka are decoded
// by our Consumer to the expected values; kcat reads our records byte for
// byte.
func TestEncodingInterop(t *testing.T) {
	py := testenv.Python(t, "aiokafka", "msgpack_numpy", "numpy")
	k := testenv.SharedKafka(t)
	kcat := testenv.Kcat(t)
	dir := vectors.Dir(t, "dataqueues")
	bootstrap := strings.Join(k.Brokers(), ",")
	ctx := testCtx(t)
	peerCtx, cancel := context.WithTimeout(ctx, 50*time.Second)
	defer cancel()

	type sent struct {
		topic, encoding string
		vecs            map[string]*dqVector
	}
	var goSent, pySent []sent
	var pyRecords []map[string]string
	for _, e := range interopEncodings {
		vecs := interopVectors(t, e.encoding, e.file)
		// Ours to Python.
		topic := newTopic(t, k, 1)
		p := newProducer(t, k, dataqueue.WithTopic(topic), dataqueue.WithEncoding(e.encoding),
			dataqueue.WithMaxMessageBytes(8<<20))
		byKey := map[string]*dqVector{}
		for _, v := range vecs {
			if !goSendable(v) {
				continue
			}
			byKey[v.key] = v
			if _, err := p.Send(ctx, v.value, dataqueue.WithKey([]byte(v.key))); err != nil {
				t.Fatalf("sending %s as %s: %v", v.key, e.encoding, err)
			}
		}
		goSent = append(goSent, sent{topic, e.encoding, byKey})
		// Python to ours.
		topic = newTopic(t, k, 1)
		byKey = map[string]*dqVector{}
		for _, v := range vecs {
			byKey[v.key] = v
			pyRecords = append(pyRecords, map[string]string{"topic": topic, "encoding": e.encoding, "key": v.key})
		}
		pySent = append(pySent, sent{topic, e.encoding, byKey})
	}

	t.Run("go-to-python", func(t *testing.T) {
		var topics []peerTopic
		for _, s := range goSent {
			topics = append(topics, peerTopic{s.topic, s.encoding, len(s.vecs)})
		}
		out := runPeer(t, peerCtx, py, map[string]any{"vectors": dir, "topics": topics}, "check", bootstrap)
		seen := map[string]bool{}
		for line := range strings.Lines(string(out)) {
			var r struct {
				Topic      string `json:"topic"`
				Key        string `json:"key"`
				OK         bool   `json:"ok"`
				BytesEqual bool   `json:"bytes_equal"`
				Why        string `json:"why"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("peer printed %q: %v", line, err)
			}
			seen[r.Topic+" "+r.Key] = true
			if !r.OK {
				t.Errorf("Python decoded %s (topic %s) differently: %s", r.Key, r.Topic, r.Why)
			}
			if !r.BytesEqual {
				t.Errorf("Python received other bytes than the vector's for %s", r.Key)
			}
		}
		n := 0
		for _, s := range goSent {
			for key := range s.vecs {
				n++
				if !seen[s.topic+" "+key] {
					t.Errorf("Python never read %s from %s", key, s.topic)
				}
			}
		}
		t.Logf("Python decoded %d records of ours (%d encodings)", n, len(goSent))
	})

	t.Run("go-to-kcat", func(t *testing.T) {
		for _, s := range goSent {
			// Header line "LEN KEY", then the value's LEN bytes: any bytes
			// survive.
			out := testenv.RunPeer(peerCtx, t, nil, kcat, "-b", bootstrap, "-C", "-t", s.topic, "-e", "-o", "beginning", "-q",
				"-f", `%S %k\n%s`)
			got := readKcatRecords(t, out)
			if len(got) != len(s.vecs) {
				t.Errorf("kcat read %d records from the %s topic, want %d", len(got), s.encoding, len(s.vecs))
			}
			for key, val := range got {
				v, ok := s.vecs[key]
				if !ok {
					t.Errorf("kcat read a record keyed %q", key)
				} else if !bytes.Equal(val, v.encoded) {
					t.Errorf("kcat read %s as %x, want %x", key, val, v.encoded)
				}
			}
		}
	})

	t.Run("python-to-go", func(t *testing.T) {
		runPeer(t, peerCtx, py, map[string]any{"vectors": dir, "records": pyRecords}, "produce", bootstrap)
		n := 0
		for _, s := range pySent {
			c := newConsumer(t, k, dataqueue.WithTopics(s.topic), dataqueue.WithEncoding(s.encoding))
			for _, m := range collect(t, ctx, c, len(s.vecs)) {
				v, ok := s.vecs[string(m.Key)]
				if !ok {
					t.Errorf("record keyed %q in %s", m.Key, s.topic)
					continue
				}
				n++
				if !dqvalue.Same(m.Value, v.expect) {
					t.Errorf("%s sent by Python as %s decoded to\n%s\nwant\n%s", v.key, s.encoding, pyval.Repr(m.Value), pyval.Repr(v.expect))
				}
				if !bytes.Equal(m.Raw, v.encoded) {
					// Python encoded the value rebuilt from its rendering;
					// only M8_ns_noncontig (a view rebuilt differently) may
					// differ from the vector, and its value still must not.
					if v.Name != "M8_ns_noncontig" {
						t.Errorf("Python sent %s as %x, the vector says %x", v.key, m.Raw, v.encoded)
					}
				}
			}
		}
		t.Logf("decoded %d records Python encoded", n)
	})
}

// readKcatRecords parses kcat's `-f '%S %k\n%s'` output.
func readKcatRecords(t *testing.T, out []byte) map[string][]byte {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(out))
	got := map[string][]byte{}
	for {
		head, err := r.ReadString('\n')
		if err == io.EOF && head == "" {
			return got
		}
		if err != nil {
			t.Fatalf("kcat output: %v after %d records", err, len(got))
		}
		size, key, ok := strings.Cut(strings.TrimSuffix(head, "\n"), " ")
		n, err := strconv.Atoi(size)
		if !ok || err != nil || n < 0 {
			t.Fatalf("kcat header line %q", head)
		}
		val := make([]byte, n)
		if _, err := io.ReadFull(r, val); err != nil {
			t.Fatalf("kcat value of %s: %v", key, err)
		}
		got[key] = val
	}
}

// TestKcatWrites: records kcat (librdkafka) writes, with keys and headers,
// are read by our Consumer; a raw record that is not valid for the
// encoding yields a DecodeError naming it, and reading goes on.
func TestKcatWrites(t *testing.T) {
	k := testenv.SharedKafka(t)
	kcat := testenv.Kcat(t)
	ctx := testCtx(t)
	bootstrap := strings.Join(k.Brokers(), ",")
	topic := newTopic(t, k, 1)

	var lines []byte
	var want []*dqVector
	for _, v := range interopVectors(t, "json", "text_json.jsonl") {
		if v.EncodedTxt == nil || strings.ContainsAny(*v.EncodedTxt, "\n") {
			continue
		}
		want = append(want, v)
		lines = fmt.Appendf(lines, "%s:%s\n", v.Name, *v.EncodedTxt)
	}
	half := len(want) / 2
	produce := []string{"-b", bootstrap, "-P", "-t", topic, "-K:", "-H", "src=kcat", "-H", "n=1", "-q"}
	first, rest := bytes.SplitAfterN(lines, []byte("\n"), half+1), []byte(nil)
	if len(first) > half {
		rest = first[half]
		first = first[:half]
	}
	testenv.RunPeer(ctx, t, bytes.Join(first, nil), kcat, produce...)
	// A raw record from a file (kcat sends each file as one record):
	// bytes no JSON parser accepts.
	bad := filepath.Join(t.TempDir(), "bad.bin")
	if err := os.WriteFile(bad, []byte{0xff, 0xfe, '{'}, 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.RunPeer(ctx, t, nil, kcat, "-b", bootstrap, "-P", "-t", topic, "-q", bad)
	testenv.RunPeer(ctx, t, rest, kcat, produce...)

	c := newConsumer(t, k, dataqueue.WithTopics(topic), dataqueue.WithEncoding("json"))
	var got []*dataqueue.Message
	var decErrs []*dataqueue.DecodeError
	for m, err := range c.Messages(ctx) {
		var de *dataqueue.DecodeError
		switch {
		case errors.As(err, &de):
			decErrs = append(decErrs, de)
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, m)
		}
		if len(got)+len(decErrs) == len(want)+1 {
			break
		}
	}
	if len(decErrs) != 1 || decErrs[0].Topic != topic || decErrs[0].Partition != 0 || decErrs[0].Offset != int64(half) {
		t.Errorf("decode errors %v, want one for %s/0@%d", decErrs, topic, half)
	} else if msg := decErrs[0].Error(); !strings.Contains(msg, topic) || !strings.Contains(msg, strconv.Itoa(half)) {
		t.Errorf("DecodeError %q does not name the record", msg)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i, m := range got {
		v := want[i]
		if string(m.Key) != v.Name {
			t.Errorf("record %d key %q, want %q", i, m.Key, v.Name)
		}
		if !slices.EqualFunc(m.Headers, []dataqueue.Header{{Key: "src", Value: []byte("kcat")}, {Key: "n", Value: []byte("1")}},
			func(a, b dataqueue.Header) bool { return a.Key == b.Key && bytes.Equal(a.Value, b.Value) }) {
			t.Errorf("record %d headers %v", i, m.Headers)
		}
		if !dqvalue.Same(m.Value, v.expect) {
			t.Errorf("%s decoded to %s, want %s", v.Name, pyval.Repr(m.Value), pyval.Repr(v.expect))
		}
	}
}
