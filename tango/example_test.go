//go:build tango

package tango_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango"
)

// A device with a DevEncoded attribute whose every Set pushes a change
// event, and a client subscribing to it. (Not run: cppTango allows one
// server per process, which the tests own.)
func Example() {
	ctx := context.Background()
	s, err := tango.NewServer(ctx, tango.WithDevice("sdp/qc/1"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	spec, err := tango.SpecFor(attribute.Spec{Name: "pointing_offsets", DType: pyval.DType{Kind: 'S', ByteOrder: '|'}})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.AddAttribute(spec); err != nil {
		log.Fatal(err)
	}
	_ = s.SetState(tango.On)

	d, err := tango.Dial(ctx, s.TRL()) // tango://127.0.0.1:PORT/sdp/qc/1#dbase=no
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	events := make(chan tango.Event, 16)
	if _, err := d.Subscribe(ctx, "pointing_offsets", tango.ChangeEvent, func(ev tango.Event) { events <- ev }); err != nil {
		log.Fatal(err)
	}
	_ = s.Set("pointing_offsets", pyval.Tuple{pyval.Str("msgpack_numpy"), pyval.Bytes{0x92}})
	for ev := range events {
		fmt.Println(pyval.Repr(ev.Value))
	}
}
