package connector

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/sdpkit/sdpkit/connector/exchange"
	"github.com/sdpkit/sdpkit/pyval"
)

// The device wraps every part a factory builds so that a panic in it (a
// bug in a sink's conversion, say) becomes an error of that exchange —
// the group goes to FAULT — instead of ending the process.

// PanicError is the error of a part that panicked.
type PanicError struct {
	Part  string // e.g. "exchanges[0].sink: TangoLocalAttributeSink.Write"
	Value any    // what was passed to panic
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("%s panicked: %v", e.Part, e.Value) }

func safely(part string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Part: part, Value: r, Stack: debug.Stack()}
		}
	}()
	return f()
}

type safeSource struct {
	s    exchange.Source
	name string
}

func (s safeSource) Start(ctx context.Context) error {
	return safely(s.name+".Start", func() error { return s.s.Start(ctx) })
}

func (s safeSource) Run(ctx context.Context, emit exchange.Emit) error {
	return safely(s.name+".Run", func() error { return s.s.Run(ctx, emit) })
}

func (s safeSource) Stop(ctx context.Context) error {
	return safely(s.name+".Stop", func() error { return s.s.Stop(ctx) })
}

type safePipe struct {
	p    exchange.Pipe
	name string
}

func (p safePipe) OutputDType() pyval.DType { return p.p.OutputDType() }
func (p safePipe) OutputShape() []int       { return p.p.OutputShape() }

func (p safePipe) Process(ctx context.Context, v pyval.Value, emit exchange.Emit) error {
	return safely(p.name+".Process", func() error { return p.p.Process(ctx, v, emit) })
}

func (p safePipe) Flush(ctx context.Context, emit exchange.Emit) error {
	return safely(p.name+".Flush", func() error { return p.p.Flush(ctx, emit) })
}

type safeWindowedPipe struct {
	safePipe
	w exchange.WindowedPipe
}

func (p safeWindowedPipe) Interval() time.Duration { return p.w.Interval() }

func (p safeWindowedPipe) CloseWindow(ctx context.Context, emit exchange.Emit) error {
	return safely(p.name+".CloseWindow", func() error { return p.w.CloseWindow(ctx, emit) })
}

type safeSink struct {
	s    exchange.Sink
	name string
}

func (s safeSink) Start(ctx context.Context) error {
	return safely(s.name+".Start", func() error { return s.s.Start(ctx) })
}

func (s safeSink) Write(ctx context.Context, v pyval.Value) error {
	return safely(s.name+".Write", func() error { return s.s.Write(ctx, v) })
}

func (s safeSink) Stop(ctx context.Context) error {
	return safely(s.name+".Stop", func() error { return s.s.Stop(ctx) })
}

type safeFlushSink struct {
	safeSink
	f exchange.Flusher
}

func (s safeFlushSink) Flush(ctx context.Context) error {
	return safely(s.name+".Flush", func() error { return s.f.Flush(ctx) })
}

func guardSource(s exchange.Source, name string) exchange.Source { return safeSource{s, name} }

func guardPipe(p exchange.Pipe, name string) exchange.Pipe {
	sp := safePipe{p, name}
	if w, ok := p.(exchange.WindowedPipe); ok {
		return safeWindowedPipe{sp, w}
	}
	return sp
}

func guardSink(s exchange.Sink, name string) exchange.Sink {
	ss := safeSink{s, name}
	if f, ok := s.(exchange.Flusher); ok {
		return safeFlushSink{ss, f}
	}
	return ss
}
