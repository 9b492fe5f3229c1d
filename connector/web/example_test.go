package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/connector/web"
	"github.com/sdpkit/sdpkit/pyval"
)

// storeDevice is the smallest Device: an attribute store, always ON, no
// exchanges and no commands.
type storeDevice struct{ store *attribute.Store }

func (d storeDevice) State() string                { return "ON" }
func (d storeDevice) Status() string               { return "streaming" }
func (d storeDevice) Attributes() *attribute.Store { return d.store }
func (d storeDevice) Exchanges() []web.ExchangeInfo {
	return nil
}
func (d storeDevice) Command(ctx context.Context, name, arg string) error {
	return fmt.Errorf("%s: %w", name, web.ErrUnknownCommand)
}
func (d storeDevice) Events(ctx context.Context) <-chan web.StateEvent {
	ch := make(chan web.StateEvent)
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}

func ExampleNewHandler() {
	store := attribute.NewStore()
	if err := store.Define(attribute.Spec{Name: "offsets", DType: pyval.Float32, Shape: []int{3}}); err != nil {
		panic(err)
	}
	if err := store.Set("offsets", pyval.ArrayOf([]float32{0.5, -1.25, 0.1}, 3)); err != nil {
		panic(err)
	}

	h := web.NewHandler(storeDevice{store}, web.WithTitle("lmc-queueconnector-01"))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close() // ends open event streams; with http.Server: RegisterOnShutdown(h.Close)

	resp, err := http.Get(srv.URL + "/api/state")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))

	v, err := store.Get("offsets")
	if err != nil {
		panic(err)
	}
	js, err := web.MarshalValue(v.Reading.Value, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(js))
	// Output:
	// {"state":"ON","status":"streaming"}
	// {"dtype":"<f4","shape":[3],"data":[0.5,-1.25,0.1]}
}
