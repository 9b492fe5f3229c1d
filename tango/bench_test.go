//go:build tango

package tango

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdpkit/sdpkit/connector/attribute"
	"github.com/sdpkit/sdpkit/internal/tangopeer"
	"github.com/sdpkit/sdpkit/pyval"
)

// subscriber is a running testdata/subscriber.py.
type subscriber struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startSubscriber(b *testing.B, trl, attr string) *subscriber {
	b.Helper()
	cmd := exec.Command("nice", "-n", "19", tangopeer.Python(b), "testdata/subscriber.py", trl, attr)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = in.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := &subscriber{in: in, out: bufio.NewScanner(out)}
	if s.line(b) != "subscribed" {
		b.Fatal("subscriber.py did not subscribe")
	}
	return s
}

func (s *subscriber) line(b *testing.B) string {
	if !s.out.Scan() {
		b.Fatal("subscriber.py exited")
	}
	return strings.TrimSpace(s.out.Text())
}

func (s *subscriber) reset(b *testing.B) {
	fmt.Fprintln(s.in, "reset")
	s.line(b)
}

// report waits for n events and returns how many came and over how long.
func (s *subscriber) report(b *testing.B, n int) (int, float64) {
	fmt.Fprintln(s.in, "report", n)
	f := strings.Fields(s.line(b))
	c, _ := strconv.Atoi(f[0])
	sec, _ := strconv.ParseFloat(f[1], 64)
	return c, sec
}

// BenchmarkTangoEvents compares change events pushed by our device (Go,
// Server.Set) with the same pushed by a pytango device
// (push_change_event in a loop), each to one pytango subscriber, in one
// run. Metrics: pushes per second at the device, and events per second
// the subscriber received (with the fraction received: cppTango's ZMQ
// high-water marks drop events a slow subscriber cannot take).
// Run: go test -tags tango -run '^$' -bench TangoEvents -benchtime 1x ./tango/
func BenchmarkTangoEvents(b *testing.B) {
	const n = 200000
	ctx := context.Background()
	s := goServer(b)
	if err := s.AddAttribute(AttrSpec{Name: "bench_counter", Type: DevDouble, Format: attribute.Scalar}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.RemoveAttribute("bench_counter") })
	if err := s.Set("bench_counter", pyval.Float(-1)); err != nil {
		b.Fatal(err)
	}
	pyTRL := startPeerServer(b, 0)
	py, err := Dial(ctx, pyTRL, WithTimeout(60*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer py.Close()
	goSub := startSubscriber(b, s.TRL(), "bench_counter")
	pySub := startSubscriber(b, pyTRL, "counter")

	var goPush, pyPush, goRecv, pyRecv, goFrac, pyFrac float64
	for i := 0; i < b.N; i++ {
		goSub.reset(b)
		t0 := time.Now()
		for k := 0; k < n; k++ {
			if err := s.Set("bench_counter", pyval.Float(float64(k))); err != nil {
				b.Fatal(err)
			}
		}
		el := time.Since(t0).Seconds()
		c, span := goSub.report(b, n)
		goPush += n / el
		goRecv += float64(c) / max(span, el)
		goFrac += float64(c) / n

		pySub.reset(b)
		r, err := py.CommandInout(ctx, "Burst", pyval.Str(strconv.Itoa(n)))
		if err != nil {
			b.Fatal(err)
		}
		pel, _ := strconv.ParseFloat(string(r.(pyval.Str)), 64)
		c, span = pySub.report(b, n)
		pyPush += n / pel
		pyRecv += float64(c) / max(span, pel)
		pyFrac += float64(c) / n
	}
	N := float64(b.N)
	b.ReportMetric(goPush/N, "go-push/s")
	b.ReportMetric(pyPush/N, "py-push/s")
	b.ReportMetric(goPush/pyPush, "push-ratio")
	b.ReportMetric(goRecv/N, "go-recv/s")
	b.ReportMetric(pyRecv/N, "py-recv/s")
	b.ReportMetric(goFrac/N, "go-recv-frac")
	b.ReportMetric(pyFrac/N, "py-recv-frac")
}

// BenchmarkSet is the cost of Server.Set of a DevDouble scalar with and
// without pushing a change event (no subscriber: nothing is sent).
func BenchmarkSet(b *testing.B) {
	s := goServer(b)
	if err := s.AddAttribute(AttrSpec{Name: "bench_set", Type: DevDouble, Format: attribute.Scalar}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.RemoveAttribute("bench_set") })
	for _, tc := range []struct {
		name string
		opts []SetOption
	}{{"event", nil}, {"no-event", []SetOption{WithoutEvents()}}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := s.Set("bench_set", pyval.Float(float64(i)), tc.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSetSubscribed is the cost of Server.Set of a DevDouble scalar
// whose change events one pytango subscriber receives (the fast event
// path), with the CPU time of the whole process (ZMQ's I/O thread
// included) per Set.
func BenchmarkSetSubscribed(b *testing.B) {
	s := goServer(b)
	if err := s.AddAttribute(AttrSpec{Name: "bench_sub", Type: DevDouble, Format: attribute.Scalar}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.RemoveAttribute("bench_sub") })
	if err := s.Set("bench_sub", pyval.Float(-1)); err != nil {
		b.Fatal(err)
	}
	sub := startSubscriber(b, s.TRL(), "bench_sub")
	sub.reset(b)
	before := fastPushes()
	b.ResetTimer()
	c0 := processCPU()
	for i := 0; i < b.N; i++ {
		if err := s.Set("bench_sub", pyval.Float(float64(i))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(fastPushes()-before)/float64(b.N), "fast/op")
}

// processCPU is the process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
