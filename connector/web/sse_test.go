package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/pyval"
)

// sseEvent is one Server-Sent Event, or a comment (Event "", Comment set).
type sseEvent struct {
	Event, Data, Comment string
}

// sseReader parses an event stream.
type sseReader struct {
	r *bufio.Reader
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{bufio.NewReaderSize(r, 1<<20)} }

func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.Event != "" || ev.Data != "" || ev.Comment != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
			ev.Comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.Data += line[len("data: "):]
		}
	}
}

// nextEvent skips comments and retry lines.
func (s *sseReader) nextEvent(t *testing.T) sseEvent {
	t.Helper()
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		if ev.Event != "" {
			return ev
		}
	}
}

type snapshotEvent struct {
	Title      string          `json:"title"`
	StateDoc   json.RawMessage `json:"state"`
	Attributes []apiAttr       `json:"attributes"`
	Exchanges  []struct {
		Name string `json:"name"`
		Out  uint64 `json:"out"`
	} `json:"exchanges"`
}

type stateEvent struct {
	State  string `json:"state"`
	Status string `json:"status"`
	Time   string `json:"time"`
}

func openStream(t *testing.T, ctx context.Context, url string) (*sseReader, *http.Response) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return newSSEReader(resp.Body), resp
}

// TestEventsSnapshotThenUpdates: the stream starts with a snapshot of
// state, attributes and exchanges, then carries attribute changes, state
// changes, removals and heartbeats, and ends when the handler closes.
func TestEventsSnapshotThenUpdates(t *testing.T) {
	vals := defaultDemo()
	dev := newFakeDevice(demoBuild(t, vals, 0))
	h := web.NewHandler(dev, web.WithTitle("qc"), web.WithHeartbeat(20*time.Millisecond), web.WithStatsInterval(20*time.Millisecond))
	srv := serve(t, h)
	ctx := context.Background()
	for _, c := range []string{"Configure", "Start"} {
		if err := dev.Command(ctx, c, "{}"); err != nil {
			t.Fatal(err)
		}
	}
	waitDone(t, dev)

	stream, _ := openStream(t, ctx, srv.URL)
	first := stream.nextEvent(t)
	if first.Event != "snapshot" {
		t.Fatalf("first event %q, want snapshot", first.Event)
	}
	snap := decode[snapshotEvent](t, []byte(first.Data))
	st := decode[stateEvent](t, snap.StateDoc)
	if snap.Title != "qc" || st.State != "ON" || len(snap.Attributes) != 7 || len(snap.Exchanges) != 7 {
		t.Fatalf("snapshot: title %q state %q, %d attributes, %d exchanges", snap.Title, st.State, len(snap.Attributes), len(snap.Exchanges))
	}
	if snap.Attributes[0].Name != "temperature" || decode[float64](t, snap.Attributes[0].Value) != vals.temperature[len(vals.temperature)-1] {
		t.Errorf("snapshot temperature: %s = %s", snap.Attributes[0].Name, snap.Attributes[0].Value)
	}

	// Updates after the snapshot, each of which must arrive.
	store := dev.Attributes()
	if err := store.Set("temperature", pyval.Float(-3.5)); err != nil {
		t.Fatal(err)
	}
	if err := dev.Command(ctx, "Stop", ""); err != nil {
		t.Fatal(err)
	}
	if err := store.Define(attribute.Spec{Name: "late", DType: pyval.Int32, Shape: []int{3}, Default: pyval.List{pyval.IntOf(1), pyval.IntOf(2), pyval.IntOf(3)}}); err != nil {
		t.Fatal(err)
	}
	store.Remove("message")

	var gotTemp, gotState, gotLate, gotRemoved, gotBeat bool
	for !(gotTemp && gotState && gotLate && gotRemoved && gotBeat) {
		ev, err := stream.next()
		if err != nil {
			t.Fatalf("stream ended early: %v (temp %v state %v late %v removed %v heartbeat %v)", err, gotTemp, gotState, gotLate, gotRemoved, gotBeat)
		}
		switch ev.Event {
		case "attribute":
			a := decode[apiAttr](t, []byte(ev.Data))
			switch a.Name {
			case "temperature":
				if v := decode[float64](t, a.Value); v != -3.5 {
					t.Errorf("temperature event %v: the snapshot's value repeated", v)
				}
				gotTemp = true
			case "late":
				arr := decode[apiArray[[]int]](t, a.Value)
				if fmt.Sprint(arr.Data) != "[1 2 3]" || a.TangoType != "DevLong" || a.Format != "SPECTRUM" {
					t.Errorf("late: %s", ev.Data)
				}
				gotLate = true
			default:
				t.Errorf("unexpected attribute event %s (already in the snapshot)", a.Name)
			}
		case "state":
			s := decode[stateEvent](t, []byte(ev.Data))
			if s.State != "OFF" || s.Time == "" {
				t.Errorf("state event %+v", s)
			}
			gotState = true
		case "removed":
			if !strings.Contains(ev.Data, `"name":"message"`) {
				t.Errorf("removed: %s", ev.Data)
			}
			gotRemoved = true
		case "exchanges":
			if !strings.Contains(ev.Data, `"state":"stopped"`) && !strings.Contains(ev.Data, `"state":"done"`) {
				t.Errorf("exchanges: %s", ev.Data)
			}
		case "":
			if ev.Comment == "keepalive" {
				gotBeat = true
			}
		}
	}

	// Close ends the stream for the client.
	closed := make(chan struct{})
	go func() { h.Close(); close(closed) }()
	for {
		if _, err := stream.next(); err != nil {
			break
		}
	}
	<-closed
}

// TestEventsEndWithClient: a client that goes away ends its stream handler
// (Close would otherwise wait for it).
func TestEventsEndWithClient(t *testing.T) {
	dev := newFakeDevice(demoBuild(t, defaultDemo(), 0))
	h := web.NewHandler(dev)
	srv := serve(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	stream, _ := openStream(t, ctx, srv.URL)
	if ev := stream.nextEvent(t); ev.Event != "snapshot" {
		t.Fatalf("first event %q", ev.Event)
	}
	cancel()
	h.Close() // returns once the handler has seen the client go
}

// TestSlowClientDoesNotBlockWriters: a client that stops reading must not
// slow down the attribute writers (the device). The store coalesces: when
// the client reads again it gets the latest value, having missed some.
func TestSlowClientDoesNotBlockWriters(t *testing.T) {
	dev := newFakeDevice(nil)
	store := dev.Attributes()
	const n, writes = 8192, 3000
	if err := store.Define(attribute.Spec{Name: "spectrum", DType: pyval.Float64, Shape: []int{n}}); err != nil {
		t.Fatal(err)
	}
	h := web.NewHandler(dev, web.WithMaxElements(0))
	srv := serve(t, h)

	// A raw connection: send the request, then read nothing while the
	// writers run. Each event is ~100 kB, writes×that is far more than the
	// socket buffers hold, so the stream handler blocks in Write.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")

	data := make([]float64, n)
	for i := range writes {
		for j := range data {
			data[j] = float64(i) + float64(j)/n
		}
		if err := store.Set("spectrum", pyval.ArrayOf(data, n)); err != nil {
			t.Fatal(err)
		}
	}
	// Every write returned while the client read nothing. Now read: the
	// stream must end with the last value written.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	stream := newSSEReader(resp.Body)
	var events, coalesced int
	for {
		ev := stream.nextEvent(t)
		var a apiAttr
		switch ev.Event {
		case "snapshot":
			snap := decode[snapshotEvent](t, []byte(ev.Data))
			a = snap.Attributes[0]
		case "attribute":
			a = decode[apiAttr](t, []byte(ev.Data))
			events++
			var c struct {
				Coalesced int `json:"coalesced"`
			}
			json.Unmarshal([]byte(ev.Data), &c)
			coalesced += c.Coalesced
		default:
			continue
		}
		arr := decode[apiArray[[]float64]](t, a.Value)
		if arr.Data == nil {
			continue // the snapshot may precede the first write
		}
		if arr.Data[0] == writes-1 {
			break
		}
	}
	if events >= writes {
		t.Errorf("%d attribute events for %d writes: nothing was coalesced", events, writes)
	}
	t.Logf("%d writes reached a stalled client as %d events (%d coalesced)", writes, events, coalesced)
}

// serve runs h on a test server. Cleanups run last-in first-out: streams
// opened later are closed first, then Close ends the handler's streams and
// the server stops (httptest's Close waits for active requests).
func serve(t *testing.T, h *web.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return srv
}
