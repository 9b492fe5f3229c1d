package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/descriptor"
	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/dataqueue/encoding"
)

// Device is what the handler needs of a queue connector device.
type Device interface {
	// State is the Tango state name: "STANDBY", "ON", "FAULT", …
	State() string
	// Status is the human-readable status; the fault's error in FAULT.
	Status() string
	// Command runs a Tango command by name (Configure with the descriptor
	// JSON as arg, Start, Stop, Standby, Reset, Abort; arg "" for the
	// void ones) and returns when it has been carried out.
	Command(ctx context.Context, name, arg string) error
	// Attributes is the device's attribute store.
	Attributes() *attribute.Store
	// Exchanges lists the configured exchanges with their counters.
	Exchanges() []ExchangeInfo
	// Events delivers state changes until ctx is done, then closes the
	// channel. A device must not block on a slow reader: it should keep
	// only the latest pending change per reader.
	Events(ctx context.Context) <-chan StateEvent
}

// ExchangeInfo is one exchange of a device: its group (the descriptor group
// or processing block), its name and its counters.
type ExchangeInfo struct {
	Group string
	Name  string
	Stats exchange.Stats
}

// StateEvent is a change of the device's state or status.
type StateEvent struct {
	State  string
	Status string
	Time   time.Time
}

// Errors a device's Command may wrap (the default error classification maps
// them to HTTP statuses; see WithErrorStatus for a device with its own).
var (
	// ErrNotAllowed: the command is not allowed in the current state (409).
	ErrNotAllowed = errors.New("command not allowed in the current state")
	// ErrBadArgument: the argument is invalid, e.g. a descriptor that does
	// not parse (400).
	ErrBadArgument = errors.New("invalid command argument")
	// ErrUnknownCommand: no command of that name (404).
	ErrUnknownCommand = errors.New("unknown command")
)

// Option configures a Handler.
type Option func(*Handler)

// WithTitle sets the page title (default "Queue connector").
func WithTitle(title string) Option { return func(h *Handler) { h.title = title } }

// WithHeartbeat sets the interval of the event stream's keep-alive
// comments (default 15 s), which keep proxies from closing an idle stream
// and let the server notice a client that has gone.
func WithHeartbeat(d time.Duration) Option { return func(h *Handler) { h.heartbeat = d } }

// WithStatsInterval sets how often the event stream samples the exchange
// counters and sends them when they changed (default 1 s).
func WithStatsInterval(d time.Duration) Option { return func(h *Handler) { h.statsEvery = d } }

// WithWriteTimeout bounds each write of the event stream (default 30 s):
// a client that takes no data for that long is disconnected.
func WithWriteTimeout(d time.Duration) Option { return func(h *Handler) { h.writeTimeout = d } }

// WithMaxStreamDuration ends each event stream after d (default 0: never).
// Browsers reconnect on their own after the stream's retry delay (2 s) and
// start over from a fresh snapshot, so this recycles long-lived
// connections (behind proxies that cap them) without the page noticing
// more than a short gap. Headless browsers in tests need it: their virtual
// clock stands still while a response is still loading.
func WithMaxStreamDuration(d time.Duration) Option { return func(h *Handler) { h.maxStream = d } }

// WithMaxElements sets the largest array whose data the JSON carries
// (default 65536 elements); bigger arrays are sent with "data": null and
// "truncated": true. 0 means no limit.
func WithMaxElements(n int) Option { return func(h *Handler) { h.maxElems = n } }

// WithEncodings sets the codecs that decode DevEncoded previews (default
// encoding.NewRegistry(), the built-in wire encodings); nil disables
// previews.
func WithEncodings(r *encoding.Registry) Option { return func(h *Handler) { h.codecs = r } }

// WithMaxPreview sets the largest DevEncoded payload that is decoded for a
// preview (default 1 MiB).
func WithMaxPreview(n int) Option { return func(h *Handler) { h.maxPreview = n } }

// WithErrorStatus sets the function that maps a command's error to an HTTP
// status; returning 0 falls back to the default classification (see
// CommandStatus).
func WithErrorStatus(f func(error) int) Option { return func(h *Handler) { h.status = f } }

// Handler serves the device's HTTP API, event stream and page. Close it
// (or register Close with http.Server.RegisterOnShutdown) to end the open
// event streams when the server stops.
type Handler struct {
	dev          Device
	title        string
	heartbeat    time.Duration
	statsEvery   time.Duration
	writeTimeout time.Duration
	maxStream    time.Duration
	maxElems     int
	maxPreview   int
	codecs       *encoding.Registry
	status       func(error) int

	mux    *http.ServeMux
	page   *template.Template
	ctx    context.Context // done when the handler is closed
	cancel context.CancelFunc
	wg     sync.WaitGroup // running event streams
}

//go:embed static
var static embed.FS

// NewHandler returns the handler serving dev:
//
//	GET  /                       the operator page
//	GET  /static/…               its script and style sheet
//	GET  /api/state              {"state", "status"}
//	GET  /api/attributes         every attribute, in definition order
//	GET  /api/attributes/{name}  one attribute
//	GET  /api/exchanges          every exchange's counters
//	POST /api/commands/{name}    run a command; the body is its argument
//	GET  /api/events             Server-Sent Events
//
// All paths are relative, so the handler can be mounted under a prefix with
// http.StripPrefix.
func NewHandler(dev Device, opts ...Option) *Handler {
	h := &Handler{
		dev:          dev,
		title:        "Queue connector",
		heartbeat:    15 * time.Second,
		statsEvery:   time.Second,
		writeTimeout: 30 * time.Second,
		maxElems:     1 << 16,
		maxPreview:   1 << 20,
		codecs:       encoding.NewRegistry(),
	}
	for _, o := range opts {
		o(h)
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.page = template.Must(template.ParseFS(static, "static/index.html"))

	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	cop := http.NewCrossOriginProtection()
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /{$}", h.serveIndex)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	h.mux.HandleFunc("GET /api/state", h.serveState)
	h.mux.HandleFunc("GET /api/attributes", h.serveAttributes)
	h.mux.HandleFunc("GET /api/attributes/{name}", h.serveAttribute)
	h.mux.HandleFunc("GET /api/exchanges", h.serveExchanges)
	h.mux.Handle("POST /api/commands/{name}", cop.Handler(http.HandlerFunc(h.serveCommand)))
	h.mux.HandleFunc("GET /api/events", h.serveEvents)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Close ends every open event stream and waits for their handlers to
// return. Requests after Close still work, except that new event streams
// end at once.
func (h *Handler) Close() {
	h.cancel()
	h.wg.Wait()
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if err := h.page.Execute(w, struct{ Title string }{h.title}); err != nil {
		// Headers are gone; the client sees a truncated page.
		return
	}
}

// stateDoc is the JSON of the device state.
type stateDoc struct {
	State  string `json:"state"`
	Status string `json:"status"`
	Time   string `json:"time,omitempty"`
}

func (h *Handler) stateNow() stateDoc {
	return stateDoc{State: h.dev.State(), Status: h.dev.Status()}
}

func (h *Handler) serveState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.stateNow())
}

// attrDoc is the JSON of one attribute: spec, reading and value.
type attrDoc struct {
	Name       string          `json:"name"`
	DType      json.RawMessage `json:"dtype"`
	DTypeName  string          `json:"dtype_name"`
	Shape      []int           `json:"shape"`
	Format     string          `json:"format"`
	MaxDimX    int             `json:"max_dim_x"`
	MaxDimY    int             `json:"max_dim_y"`
	TangoType  string          `json:"tango_type"`
	Access     string          `json:"access"`
	Quality    string          `json:"quality"`
	Time       string          `json:"time"`
	Seq        uint64          `json:"seq"`
	Coalesced  uint64          `json:"coalesced,omitempty"`
	Value      json.RawMessage `json:"value"`
	ValueError string          `json:"value_error,omitempty"`
}

// attrJSON renders one attribute. A value that cannot be rendered (it
// should not happen: the store checks values) is sent as null with
// value_error, so one bad attribute does not break the page.
func (h *Handler) attrJSON(s attribute.Snapshot, coalesced uint64) attrDoc {
	spec := s.Spec
	d := attrDoc{
		Name:      spec.Name,
		DType:     specDescr(spec),
		DTypeName: spec.DType.String(),
		Shape:     append([]int{}, spec.Shape...),
		Format:    string(spec.Format()),
		MaxDimX:   spec.MaxDimX(),
		MaxDimY:   spec.MaxDimY(),
		TangoType: spec.TangoType(),
		Access:    string(spec.Access),
		Quality:   s.Reading.Quality.String(),
		Time:      s.Reading.Time.UTC().Format(time.RFC3339Nano),
		Seq:       s.Seq,
		Coalesced: coalesced,
	}
	e := valueEncoder{maxElems: h.maxElems}
	var err error
	if spec.TangoType() == "DevEncoded" {
		err = e.devEncoded(s.Reading.Value, h.codecs, h.maxPreview)
	} else {
		err = e.value(s.Reading.Value, 0)
	}
	if err != nil {
		d.Value = json.RawMessage("null")
		d.ValueError = err.Error()
	} else {
		d.Value = e.buf
	}
	return d
}

func specDescr(spec attribute.Spec) json.RawMessage {
	if spec.TangoType() == "DevEncoded" {
		return json.RawMessage(`"bytes"`) // the descriptor's literal: numpy's 'S' says nothing here
	}
	return descrJSON(spec.DType)
}

func (h *Handler) serveAttributes(w http.ResponseWriter, r *http.Request) {
	snaps := h.dev.Attributes().Snapshot()
	out := make([]attrDoc, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, h.attrJSON(s, 0))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) serveAttribute(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s, err := h.dev.Attributes().Get(name)
	if err != nil {
		writeError(w, http.StatusNotFound, err, "")
		return
	}
	writeJSON(w, http.StatusOK, h.attrJSON(s, 0))
}

// exchangeDoc is the JSON of one exchange's counters.
type exchangeDoc struct {
	Group     string  `json:"group"`
	Name      string  `json:"name"`
	State     string  `json:"state"`
	In        uint64  `json:"in"`
	Processed uint64  `json:"processed"`
	Out       uint64  `json:"out"`
	Errors    uint64  `json:"errors"`
	Lag       int     `json:"lag"`
	LastIn    *string `json:"last_in"`
	LastOut   *string `json:"last_out"`
	Error     string  `json:"error,omitempty"`
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func (h *Handler) exchangesNow() []exchangeDoc {
	infos := h.dev.Exchanges()
	out := make([]exchangeDoc, 0, len(infos))
	for _, x := range infos {
		s := x.Stats
		name := x.Name
		if name == "" {
			name = s.Name
		}
		d := exchangeDoc{
			Group: x.Group, Name: name, State: s.State.String(),
			In: s.In, Processed: s.Processed, Out: s.Out, Errors: s.Errors, Lag: s.Lag,
			LastIn: timePtr(s.LastIn), LastOut: timePtr(s.LastOut),
		}
		if s.Err != nil {
			d.Error = s.Err.Error()
		}
		out = append(out, d)
	}
	return out
}

func (h *Handler) serveExchanges(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.exchangesNow())
}

// maxCommandArg bounds a command's argument (a descriptor is a few KiB).
const maxCommandArg = 16 << 20

// commandResult is the JSON answer to a command.
type commandResult struct {
	Command string `json:"command"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
	State   string `json:"state"`
	Status  string `json:"status"`
}

func (h *Handler) serveCommand(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCommandArg))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("reading the argument of %s: %w", name, err), name)
		return
	}
	err = h.dev.Command(r.Context(), name, string(body))
	res := commandResult{Command: name, OK: err == nil, State: h.dev.State(), Status: h.dev.Status()}
	code := http.StatusOK
	if err != nil {
		res.Error = err.Error()
		code = h.errorStatus(err)
	}
	writeJSON(w, code, res)
}

func (h *Handler) errorStatus(err error) int {
	if h.status != nil {
		if c := h.status(err); c != 0 {
			return c
		}
	}
	return CommandStatus(err)
}

// CommandStatus is the default mapping of a command's error to an HTTP
// status: ErrNotAllowed 409; ErrBadArgument, an invalid descriptor
// (descriptor.ErrInvalid, descriptor.ErrFlow) or JSON that does not parse
// 400; ErrUnknownCommand 404; a context error 503; anything else 500.
func CommandStatus(err error) int {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrNotAllowed):
		return http.StatusConflict
	case errors.Is(err, ErrBadArgument), errors.Is(err, descriptor.ErrInvalid), errors.Is(err, descriptor.ErrFlow),
		errors.As(err, &syn), errors.As(err, &typ):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownCommand):
		return http.StatusNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type errorDoc struct {
	Error   string `json:"error"`
	Command string `json:"command,omitempty"`
}

func writeError(w http.ResponseWriter, code int, err error, command string) {
	writeJSON(w, code, errorDoc{Error: err.Error(), Command: command})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = marshal(errorDoc{Error: fmt.Sprintf("encoding the answer: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b)
}

// marshal is json.Marshal without the HTML escaping of <, > and & (a dtype
// such as "<f8" stays readable), ending in a newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
