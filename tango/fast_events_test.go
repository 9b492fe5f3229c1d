//go:build tango

package tango

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/pyval"
	"github.com/sdpkit/sdpkit/tango/internal/zmqtap"
)

// TestFastEventsMatchCppTango pushes the same value with the same time
// stamp once through cppTango (Attribute::fire_*_event) and once through
// the shim's fast path, and compares the four ZMQ frames on the wire byte
// for byte (the call info differs only in its event counter, which must
// advance by one). Every type and format, change and archive events;
// kinds the fast path leaves to cppTango (DevEncoded, INVALID values,
// writable attributes) must not take it. The subscriber (our client, a
// cppTango consumer that checks the counters) must see every event and no
// error.
func TestFastEventsMatchCppTango(t *testing.T) {
	s := goServer(t)
	t.Cleanup(func() { s.setFastEvents(true) })
	ctx := context.Background()
	d := dialServer(t, s)

	type fcase struct {
		name   string
		spec   AttrSpec
		v      pyval.Value
		opts   []SetOption
		fast   bool
		etype  EventType
		suffix string
	}
	var fcs []fcase
	for _, c := range cases(7) {
		fast := c.typ != DevEncoded
		fcs = append(fcs,
			fcase{"fast_" + c.name(), AttrSpec{Type: c.typ, Format: c.f, MaxDimX: 16, MaxDimY: 16}, c.v, nil, fast, ChangeEvent, "idl5_change"},
			fcase{"fastarch_" + c.name(), AttrSpec{Type: c.typ, Format: c.f, MaxDimX: 16, MaxDimY: 16}, c.v, []SetOption{WithoutEvents(), WithArchiveEvent()}, fast, ArchiveEvent, "idl5_archive"},
		)
	}
	fcs = append(fcs,
		fcase{"fastinv_DevDouble", AttrSpec{Type: DevDouble}, pyval.Float(1), []SetOption{WithQuality(attribute.Invalid)}, false, ChangeEvent, "idl5_change"},
		fcase{"fastalarm_DevDouble", AttrSpec{Type: DevDouble}, pyval.Float(2), []SetOption{WithQuality(attribute.Alarm)}, true, ChangeEvent, "idl5_change"},
		fcase{"fastrw_DevDouble", AttrSpec{Type: DevDouble, Access: attribute.ReadWrite}, pyval.Float(3), nil, false, ChangeEvent, "idl5_change"},
	)

	var tap *zmqtap.Tap
	defer func() {
		if tap != nil {
			tap.Close()
		}
	}()
	for _, c := range fcs {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.Name = c.name
			must(t, s.AddAttribute(spec))
			t.Cleanup(func() { _ = s.RemoveAttribute(c.name) })
			must(t, s.Set(c.name, c.v, c.opts...))
			events := make(chan Event, 256)
			sub, err := d.Subscribe(ctx, c.name, c.etype, eventsTo(events))
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			if tap == nil {
				ep := eventEndpoint()
				if ep == "" {
					t.Fatal("no event endpoint after a subscription")
				}
				if tap, err = zmqtap.Dial(ep, 100*time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}
			topic := strings.ToLower(c.name) + "#dbase=no." + c.suffix
			// next pushes until a message on our topic arrives (the tap
			// may join late; cppTango sends the first events after a
			// subscription twice) and returns it.
			next := func(opts ...SetOption) [][]byte {
				t.Helper()
				for try := 0; try < 50; try++ {
					if try == 0 || try%5 == 4 {
						must(t, s.Set(c.name, c.v, append(append([]SetOption{}, c.opts...), opts...)...))
					}
					m, err := tap.Recv()
					if err == zmqtap.ErrTimeout {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if len(m) == 4 && strings.HasSuffix(string(m[0]), "/"+topic) {
						return m
					}
				}
				t.Fatalf("no event on %s", topic)
				return nil
			}
			// Warm up, then drain what is still queued.
			next()
			for {
				if _, err := tap.Recv(); err != nil {
					break
				}
			}
			stamp := WithTime(time.Unix(1700000000, 123456000))
			s.setFastEvents(false)
			before := fastPushes()
			slow := next(stamp)
			s.setFastEvents(true)
			fast := next(stamp)
			if got := fastPushes() - before; (got == 1) != c.fast {
				t.Fatalf("fast path sent %d events; want fast=%v", got, c.fast)
			}
			if string(slow[0]) != string(fast[0]) || !bytes.Equal(slow[1], fast[1]) {
				t.Errorf("event name/endianness: cppTango %q %x, fast %q %x", slow[0], slow[1], fast[0], fast[1])
			}
			// CDR leaves alignment padding unwritten (cppTango's holds
			// whatever its buffer held): compare with padding zeroed.
			ca, ma, err := maskCallInfo(slow[2])
			if err != nil {
				t.Fatalf("cppTango call info: %v", err)
			}
			cb, mb, err := maskCallInfo(fast[2])
			if err != nil {
				t.Fatalf("fast call info: %v", err)
			}
			// cppTango 9.3 sends 0 when it has no counter under the
			// event's full name (always, in no-database mode).
			if !(ca == 0 && cb == 0) && cb != ca+1 {
				t.Errorf("event counter %d after cppTango's %d", cb, ca)
			}
			if !bytes.Equal(ma, mb) {
				t.Errorf("call info differs:\ncppTango %x\nfast     %x", ma, mb)
			}
			va, err := maskAttrValue5(slow[3])
			if err != nil {
				t.Fatalf("cppTango value: %v", err)
			}
			vb, err := maskAttrValue5(fast[3])
			if err != nil {
				t.Fatalf("fast value: %v", err)
			}
			if !bytes.Equal(va, vb) {
				t.Errorf("value differs:\ncppTango %x\nfast     %x", va, vb)
			}
			// Counters stay continuous across both paths: a burst
			// alternating them reaches the subscriber without a
			// missed-event error, ending with the last value.
			for k := 0; k < 40; k++ {
				s.setFastEvents(k%2 == 0)
				must(t, s.Set(c.name, c.v, c.opts...))
			}
			s.setFastEvents(true)
			deadline := time.After(5 * time.Second)
			n := 0
			for n < 40 {
				select {
				case ev := <-events:
					if ev.Err != nil {
						t.Fatalf("error event: %v", ev.Err)
					}
					n++
				case <-deadline:
					// Counted: the two compared events, warm-up and
					// repeats; 40 are the burst.
					t.Fatalf("only %d events arrived", n)
				}
			}
		})
	}
}

// cdr walks a little-endian CDR buffer whose first byte sits at stream
// offset base, zeroing the alignment padding in a copy as it goes.
type cdr struct {
	b    []byte
	off  int
	base int
	err  error
}

func (c *cdr) align(n int) {
	for c.err == nil && (c.off+c.base)%n != 0 {
		if c.off >= len(c.b) {
			c.err = fmt.Errorf("truncated at %d", c.off)
			return
		}
		c.b[c.off] = 0
		c.off++
	}
}

func (c *cdr) skip(n int) {
	if c.err == nil && c.off+n > len(c.b) {
		c.err = fmt.Errorf("truncated at %d (want %d bytes)", c.off, n)
	}
	if c.err == nil {
		c.off += n
	}
}

func (c *cdr) u32() uint32 {
	c.align(4)
	if c.err != nil || c.off+4 > len(c.b) {
		c.err = fmt.Errorf("truncated at %d", c.off)
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.off:])
	c.off += 4
	return v
}

func (c *cdr) str() {
	n := c.u32()
	c.skip(int(n))
}

func (c *cdr) seq(elem int) {
	n := c.u32()
	c.align(elem)
	c.skip(int(n) * elem)
}

func (c *cdr) done() error {
	if c.err == nil && c.off != len(c.b) {
		c.err = fmt.Errorf("%d bytes left over", len(c.b)-c.off)
	}
	return c.err
}

// maskCallInfo decodes a ZmqCallInfo (version, ctr, method_name, oid,
// call_is_except) and returns its counter and the bytes with padding
// and counter zeroed.
func maskCallInfo(b []byte) (uint32, []byte, error) {
	c := &cdr{b: append([]byte{}, b...)}
	c.u32()
	ctrAt := c.off
	ctr := c.u32()
	c.str()
	c.seq(1)
	c.skip(1)
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	copy(c.b[ctrAt:], []byte{0, 0, 0, 0})
	return ctr, c.b, nil
}

// maskAttrValue5 decodes an event's data frame (cppTango's 0xDEC0DEC0
// marker, then an AttributeValue_5 at stream offset 8) and returns it with
// the padding zeroed.
func maskAttrValue5(b []byte) ([]byte, error) {
	c := &cdr{b: append([]byte{}, b...), base: 4}
	if c.u32() != 0xDEC0DEC0 {
		return nil, fmt.Errorf("no 0xDEC0DEC0 marker")
	}
	switch d := c.u32(); d {
	case 0, 6: // ATT_BOOL, ATT_UCHAR
		c.seq(1)
	case 1, 7: // ATT_SHORT, ATT_USHORT
		c.seq(2)
	case 2, 4, 8, 11: // ATT_LONG, ATT_FLOAT, ATT_ULONG, ATT_STATE
		c.seq(4)
	case 3, 5, 9: // ATT_LONG64, ATT_DOUBLE, ATT_ULONG64
		c.seq(8)
	case 10: // ATT_STRING
		for n := c.u32(); n > 0 && c.err == nil; n-- {
			c.str()
		}
	case 12: // DEVICE_STATE
		c.u32()
	case 13: // ATT_ENCODED
		for n := c.u32(); n > 0 && c.err == nil; n-- {
			c.str()
			c.seq(1)
		}
	case 14: // ATT_NO_DATA
		c.skip(1)
	default:
		return nil, fmt.Errorf("union discriminator %d", d)
	}
	c.u32() // quality
	c.u32() // data_format
	c.u32() // data_type
	c.u32() // time: tv_sec, tv_usec, tv_nsec
	c.u32()
	c.u32()
	c.str() // name
	c.u32() // r_dim
	c.u32()
	c.u32() // w_dim
	c.u32()
	for n := c.u32(); n > 0 && c.err == nil; n-- { // err_list
		c.str()
		c.u32()
		c.str()
		c.str()
	}
	return c.b, c.done()
}
