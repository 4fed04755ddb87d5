package iperf3_test

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"vnic/internal/iperf3"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string            { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestScratch(t *testing.T) {
	a, b := realPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sout, serr, cout syncBuf
	done := make(chan error, 1)
	go func() {
		done <- iperf3.Server(ctx, b, iperf3.Config{Server: true, OneOff: true}, iperf3.Output{Stdout: &sout, Stderr: &serr})
	}()
	time.Sleep(100 * time.Millisecond)
	err := iperf3.Client(ctx, a, iperf3.Config{Host: netip.MustParseAddr("198.18.0.2"), Duration: 2 * time.Second}, iperf3.Output{Stdout: &cout, Stderr: &cout})
	t.Logf("client err %v\n%s", err, cout.String())
	t.Logf("server err %v\n%s%s", <-done, sout.String(), serr.String())
}
