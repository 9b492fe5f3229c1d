package exchange

import (
	"context"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/pyval"
)

type collect struct{ got []pyval.Value }

func (c *collect) emit(_ context.Context, v pyval.Value) error {
	c.got = append(c.got, v)
	return nil
}

func mustBuffer(t *testing.T, dt pyval.DType, shape []int, span time.Duration) *BufferWithTimePipe {
	t.Helper()
	p, err := NewBufferWithTimePipe(dt, shape, span)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBufferWithTimePipeWindows(t *testing.T) {
	ctx := context.Background()
	type step struct {
		in    pyval.Value // nil: close the window
		flush bool
	}
	strDT, _ := pyval.ParseDType("U")
	objDT, _ := pyval.ParseDType("O")
	cases := []struct {
		name  string
		dt    pyval.DType
		shape []int
		span  time.Duration
		steps []step
		want  []pyval.Value
	}{
		{
			name: "float scalars, two windows, empty window skipped, partial flushed",
			dt:   pyval.Float64, span: time.Second,
			steps: []step{{in: pyval.Float(1)}, {in: pyval.Int(pyval.IntOf(2))}, {}, {}, {in: pyval.Float(3.5)}, {flush: true}},
			want:  []pyval.Value{pyval.ArrayOf([]float64{1, 2}), pyval.ArrayOf([]float64{3.5})},
		},
		{
			name: "arrays gain a leading axis",
			dt:   pyval.Int32, shape: []int{3}, span: time.Second,
			steps: []step{{in: pyval.ArrayOf([]int32{1, 2, 3})}, {in: pyval.List{pyval.IntOf(4), pyval.IntOf(5), pyval.IntOf(6)}}, {}},
			want:  []pyval.Value{pyval.ArrayOf([]int32{1, 2, 3, 4, 5, 6}, 2, 3)},
		},
		{
			name: "timespan 0 emits batches of one",
			dt:   pyval.Int64, span: 0,
			steps: []step{{in: pyval.IntOf(7)}, {in: pyval.IntOf(8)}, {flush: true}},
			want:  []pyval.Value{pyval.ArrayOf([]int64{7}), pyval.ArrayOf([]int64{8})},
		},
		{
			name: "str values batch as a list",
			dt:   strDT, span: time.Second,
			steps: []step{{in: pyval.Str("a")}, {in: pyval.Str("bc")}, {}},
			want:  []pyval.Value{pyval.List{pyval.Str("a"), pyval.Str("bc")}},
		},
		{
			name: "object values batch as a list",
			dt:   objDT, span: time.Second,
			steps: []step{{in: pyval.StrDict("k", pyval.IntOf(1))}, {flush: true}},
			want:  []pyval.Value{pyval.List{pyval.StrDict("k", pyval.IntOf(1))}},
		},
		{
			name: "nothing in, nothing out",
			dt:   pyval.Float64, span: time.Second,
			steps: []step{{}, {flush: true}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustBuffer(t, tc.dt, tc.shape, tc.span)
			if got := p.OutputShape(); len(got) != len(tc.shape)+1 || got[0] != -1 {
				t.Errorf("OutputShape %v", got)
			}
			if !p.OutputDType().Equal(tc.dt) {
				t.Errorf("OutputDType %v", p.OutputDType())
			}
			var c collect
			for _, s := range tc.steps {
				var err error
				switch {
				case s.flush:
					err = p.Flush(ctx, c.emit)
				case s.in == nil:
					err = p.CloseWindow(ctx, c.emit)
				default:
					err = p.Process(ctx, s.in, c.emit)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(c.got) != len(tc.want) {
				t.Fatalf("got %d batches %v, want %d", len(c.got), c.got, len(tc.want))
			}
			for i := range tc.want {
				if !pyval.Equal(c.got[i], tc.want[i]) {
					t.Errorf("batch %d = %s, want %s", i, pyval.Repr(c.got[i]), pyval.Repr(tc.want[i]))
				}
				if a, ok := c.got[i].(*pyval.NDArray); ok && !a.DType.Equal(tc.dt) {
					t.Errorf("batch %d dtype %s, want %s", i, a.DType, tc.dt)
				}
			}
		})
	}
}

func TestBufferWithTimePipeErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := NewBufferWithTimePipe(pyval.Float64, nil, -time.Second); err == nil {
		t.Error("negative timespan accepted")
	}
	for _, tc := range []struct {
		name  string
		shape []int
		in    []pyval.Value
	}{
		{"wrong shape", []int{2}, []pyval.Value{pyval.ArrayOf([]float64{1, 2, 3})}},
		{"ragged variable shape", []int{-1}, []pyval.Value{pyval.ArrayOf([]float64{1}), pyval.ArrayOf([]float64{1, 2})}},
		{"not a number", nil, []pyval.Value{pyval.Str("x")}},
	} {
		p := mustBuffer(t, pyval.Float64, tc.shape, time.Second)
		var c collect
		for _, v := range tc.in {
			if err := p.Process(ctx, v, c.emit); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Flush(ctx, c.emit); err == nil {
			t.Errorf("%s: flush succeeded with %v", tc.name, c.got)
		}
	}
}

func TestDefaultPipe(t *testing.T) {
	p := NewDefaultPipe(pyval.Float32, []int{2, 3})
	if !p.OutputDType().Equal(pyval.Float32) || len(p.OutputShape()) != 2 {
		t.Errorf("%v %v", p.OutputDType(), p.OutputShape())
	}
	var c collect
	v := pyval.ArrayOf([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if err := p.Process(context.Background(), v, c.emit); err != nil || len(c.got) != 1 || c.got[0] != pyval.Value(v) {
		t.Errorf("Process: %v %v", err, c.got)
	}
}
