package kafkaio_test

import (
	"testing"

	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/kafkaio"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
	"github.com/sdpkit/sdpkit/pyval"
)

// FuzzRecord feeds arbitrary record bytes through what a source does with
// them (decode, convert to the exchange dtype and shape) and what a sink
// does with the result (extract a timestamp with arbitrary slices). None
// of it may panic.
func FuzzRecord(f *testing.F) {
	seed := func(v pyval.Value, c encoding.Codec) {
		if b, err := c.Encode(v); err == nil {
			f.Add(b, uint8(0), "0", "max")
		}
	}
	seed(pyval.ArrayOf([]float64{1.7e12, 1, 2}), encoding.MsgpackNumpyCodec{})
	seed(pyval.ArrayOf([]int64{1, 2, 3, 4}, 2, 2), encoding.NPYCodec{})
	seed(pyval.StrDict("ts", pyval.IntOf(1_700_000_000_000)), encoding.JSONCodec{})
	f.Add([]byte("[1, (2, 3.5), {'a': None}]"), uint8(3), "::-1", "mean")
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, uint8(4), "-1", "")

	streams := []struct {
		dt    string
		shape []int
	}{{"float64", nil}, {"float64", []int{3}}, {"int32", []int{-1}}, {"object", nil}, {"float64", []int{2, 2}}, {"str", nil}}
	encs := []string{"msgpack_numpy", "npy", "json", "python", "carray", "utf-8"}
	f.Fuzz(func(t *testing.T, data []byte, which uint8, slice, reducer string) {
		s := streams[int(which)%len(streams)]
		dt := descriptor.MustDType(s.dt).NumPy
		codec, err := encoding.NewConnectorRegistry(dt, s.shape).Lookup(encs[int(which/8)%len(encs)])
		if err != nil {
			t.Fatal(err)
		}
		v, err := codec.Decode(data)
		if err != nil {
			return
		}
		cv, err := kafkaio.Convert(v, dt, s.shape)
		if err != nil {
			return
		}
		key := "ts"
		for _, opts := range []descriptor.TimestampOptions{
			{Slices: descriptor.Slices{pyval.Str(slice)}, Reducer: descriptor.Reducer(reducer)},
			{Key: &key, Reducer: descriptor.ReducerMin},
			{},
		} {
			_, _ = kafkaio.Timestamp(cv, &opts)
		}
	})
}
