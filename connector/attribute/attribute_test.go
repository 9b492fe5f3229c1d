package attribute

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

func dtype(t *testing.T, s string) pyval.DType {
	t.Helper()
	d, err := pyval.ParseDType(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTangoTypeAndFormat(t *testing.T) {
	cases := []struct {
		dtype string
		want  string
	}{
		{"bool", "DevBoolean"}, {"uint8", "DevUChar"}, {"int16", "DevShort"}, {"uint16", "DevUShort"},
		{"int32", "DevLong"}, {"uint32", "DevULong"}, {"int64", "DevLong64"}, {"int", "DevLong64"},
		{"uint64", "DevULong64"}, {"float32", "DevFloat"}, {"float64", "DevDouble"}, {"float", "DevDouble"},
		{"U", "DevString"}, {"S", "DevEncoded"}, {"O", ""}, {"int8", ""}, {"complex128", ""},
		{"<M8[ns]", ""}, {"float16", ""}, {"|S4", ""},
	}
	for _, tc := range cases {
		if got := TangoType(dtype(t, tc.dtype)); got != tc.want {
			t.Errorf("TangoType(%s) = %q, want %q", tc.dtype, got, tc.want)
		}
	}
	for _, tc := range []struct {
		shape []int
		want  Format
		x, y  int
	}{
		{nil, Scalar, 0, 0}, {[]int{5}, Spectrum, 5, 0}, {[]int{3, 4}, Image, 4, 3}, {[]int{2, 3, 4}, FormatNone, 0, 0},
	} {
		s := Spec{Shape: tc.shape}
		if s.Format() != tc.want || s.MaxDimX() != tc.x || s.MaxDimY() != tc.y {
			t.Errorf("shape %v: %q x=%d y=%d", tc.shape, s.Format(), s.MaxDimX(), s.MaxDimY())
		}
	}
}

func TestDefineSetGet(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewStore(WithClock(func() time.Time { return now }))
	cases := []struct {
		name    string
		spec    Spec
		wantDef pyval.Value
		wantQ   Quality
		set     pyval.Value
		setErr  bool
	}{
		{"float default", Spec{Name: "f", DType: pyval.Float64, Default: pyval.Float(1.5)}, pyval.Float(1.5), Valid, pyval.Float(2), false},
		{"empty default on number", Spec{Name: "g", DType: pyval.Float64, Default: pyval.Str("")}, pyval.None, Invalid, pyval.Float(3), false},
		{"no default", Spec{Name: "h", DType: pyval.Int64}, pyval.None, Invalid, pyval.IntOf(4), false},
		{"str default", Spec{Name: "s", DType: dtype(t, "U"), Default: pyval.Str("")}, pyval.Str(""), Valid, pyval.Str("x"), false},
		{"spectrum", Spec{Name: "sp", DType: pyval.Float64, Shape: []int{3}}, pyval.None, Invalid, pyval.ArrayOf([]float64{1, 2}), false},
		{"spectrum too long", Spec{Name: "sp2", DType: pyval.Float64, Shape: []int{1}}, pyval.None, Invalid, pyval.ArrayOf([]float64{1, 2}), true},
		{"spectrum wrong dtype", Spec{Name: "sp3", DType: pyval.Float64, Shape: []int{3}}, pyval.None, Invalid, pyval.ArrayOf([]int32{1}), true},
		{"image from default list", Spec{Name: "im", DType: pyval.Int32, Shape: []int{2, 2}, Default: pyval.List{pyval.List{pyval.IntOf(1)}}},
			pyval.ArrayOf([]int32{1}, 1, 1), Valid, pyval.ArrayOf([]int32{1, 2, 3, 4}, 2, 2), false},
		{"devencoded", Spec{Name: "enc", DType: dtype(t, "S")}, pyval.None, Invalid,
			pyval.Tuple{pyval.Str("msgpack_numpy"), pyval.Bytes{1, 2}}, false},
		{"devencoded wrong", Spec{Name: "enc2", DType: dtype(t, "S")}, pyval.None, Invalid, pyval.Bytes{1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Define(tc.spec); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(tc.spec.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !equalValue(got.Reading.Value, tc.wantDef) || got.Reading.Quality != tc.wantQ || !got.Reading.Time.Equal(now) {
				t.Errorf("initial %s %v %v, want %s %v", pyval.Repr(got.Reading.Value), got.Reading.Quality, got.Reading.Time, pyval.Repr(tc.wantDef), tc.wantQ)
			}
			err = s.Set(tc.spec.Name, tc.set)
			if tc.setErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Set = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ = s.Get(tc.spec.Name)
			if !equalValue(got.Reading.Value, tc.set) || got.Reading.Quality != Valid {
				t.Errorf("after Set: %s %v", pyval.Repr(got.Reading.Value), got.Reading.Quality)
			}
		})
	}
	if err := s.Define(Spec{Name: "f", DType: pyval.Float64, Default: pyval.Float(1.5)}); err != nil {
		t.Errorf("identical redefinition: %v", err)
	}
	if err := s.Define(Spec{Name: "f", DType: pyval.Float32}); !errors.Is(err, ErrExists) {
		t.Errorf("conflicting redefinition: %v", err)
	}
	if err := s.Define(Spec{Name: "bad", DType: pyval.Float64, Default: pyval.Str("x")}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad default: %v", err)
	}
	if err := s.Set("nope", pyval.Float(1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Set unknown: %v", err)
	}
	at := now.Add(time.Hour)
	if err := s.Set("f", pyval.Float(9), WithQuality(Warning), WithTime(at)); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Get("f"); r.Reading.Quality != Warning || !r.Reading.Time.Equal(at) {
		t.Errorf("options ignored: %+v", r.Reading)
	}
	if err := s.Set("f", pyval.None); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Get("f"); r.Reading.Quality != Invalid {
		t.Errorf("None has quality %v", r.Reading.Quality)
	}
	snap := s.Snapshot()
	if len(snap) != len(s.Names()) || snap[0].Spec.Name != "f" {
		t.Errorf("snapshot order %v", s.Names())
	}
	if !s.Remove("f") || s.Remove("f") {
		t.Error("Remove")
	}
	if _, err := s.Get("f"); !errors.Is(err, ErrNotFound) {
		t.Error("removed attribute still there")
	}
}

func TestSubscribe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewStore()
	for _, n := range []string{"a", "b"} {
		if err := s.Define(Spec{Name: n, DType: pyval.Int64, Default: pyval.IntOf(0)}); err != nil {
			t.Fatal(err)
		}
	}
	all := s.Subscribe(ctx)
	onlyB := s.Subscribe(ctx, "b")
	for _, want := range []string{"a", "b"} {
		if ev := <-all; ev.Name != want || !pyval.Equal(ev.Value, pyval.IntOf(0)) {
			t.Fatalf("initial event %+v, want %s", ev, want)
		}
	}
	if ev := <-onlyB; ev.Name != "b" {
		t.Fatalf("filtered initial %+v", ev)
	}
	if err := s.Set("a", pyval.IntOf(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("b", pyval.IntOf(2)); err != nil {
		t.Fatal(err)
	}
	ev := <-all
	if ev.Name != "a" || !pyval.Equal(ev.Value, pyval.IntOf(1)) {
		t.Errorf("event %+v", ev)
	}
	ev2 := <-all
	if ev2.Name != "b" || ev2.Seq <= ev.Seq {
		t.Errorf("event %+v after %+v", ev2, ev)
	}
	if ev := <-onlyB; ev.Name != "b" || !pyval.Equal(ev.Value, pyval.IntOf(2)) {
		t.Errorf("filtered event %+v", ev)
	}
	// A later attribute reaches the unfiltered subscriber.
	if err := s.Define(Spec{Name: "c", DType: pyval.Int64}); err != nil {
		t.Fatal(err)
	}
	if ev := <-all; ev.Name != "c" || ev.Quality != Invalid {
		t.Errorf("definition event %+v", ev)
	}
	cancel()
	for range all {
	}
	for range onlyB {
	}
}

// A subscriber that does not read never blocks writers; when it reads, it
// gets the latest value of each attribute and the count of skipped ones.
func TestSlowSubscriberCoalesces(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewStore()
	for _, n := range []string{"x", "y"} {
		if err := s.Define(Spec{Name: n, DType: pyval.Int64}); err != nil {
			t.Fatal(err)
		}
	}
	sub := s.Subscribe(ctx)
	const n = 10000
	var wg sync.WaitGroup
	for _, name := range []string{"x", "y"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= n; i++ {
				if err := s.Set(name, pyval.IntOf(int64(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait() // finishes although nobody reads sub
	last := map[string]int64{}
	var coalesced uint64
	for len(last) < 2 || last["x"] != n || last["y"] != n {
		ev := <-sub
		v, _ := pyval.AsInt64(ev.Value)
		if ev.Value.Kind() == pyval.KindNone {
			v = 0
		}
		if v < last[ev.Name] {
			t.Fatalf("%s went back from %d to %d", ev.Name, last[ev.Name], v)
		}
		last[ev.Name] = v
		coalesced += ev.Coalesced
	}
	if coalesced == 0 {
		t.Error("no coalescing reported although the subscriber read nothing during 20000 writes")
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewStore()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("w", w)
			if err := s.Define(Spec{Name: name, DType: pyval.Float64}); err != nil {
				t.Error(err)
				return
			}
			for i := range 500 {
				_ = s.Set(name, pyval.Float(float64(i)))
				_ = s.Snapshot()
			}
		}()
	}
	sub := s.Subscribe(ctx)
	go func() {
		for range sub {
		}
	}()
	wg.Wait()
	if len(s.Snapshot()) != 4 {
		t.Errorf("snapshot %d", len(s.Snapshot()))
	}
}
