package tcp_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoopbackBulk moves data one way over a loopback connection on
// the virtual clock: the stack's cost per byte with no device or wire in
// the way. Reported: bytes/s of CPU time (b.SetBytes) and allocations per
// 64 KiB written.
func BenchmarkLoopbackBulk(b *testing.B) {
	step := bulkPair(b)
	for range 100 { // past slow start and buffer growth
		step()
	}
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
}

// A connection in steady state moves data without allocating: segments
// come from the pool, bytes go through the send and receive rings.
func TestBulkZeroAllocs(t *testing.T) {
	step := bulkPair(t)
	for range 100 {
		step()
	}
	if n := testing.AllocsPerRun(50, step); n != 0 {
		t.Errorf("%v allocations per 64 KiB moved, want 0", n)
	}
}

// bulkPair connects two sockets over loopback on the virtual clock and
// returns a step that moves 64 KiB from one to the other.
func bulkPair(b testing.TB) func() {
	clk, p := loopHostB(b)
	l := p.NewSocket()
	addr := netip.MustParseAddrPort("127.0.0.1:5001")
	if err := l.Bind(addr); err != nil {
		b.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		b.Fatal(err)
	}
	c := p.NewSocket()
	_ = c.Connect(addr)
	clk.RunFor(time.Millisecond)
	s, err := l.Accept()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	rbuf := make([]byte, 256<<10)
	// step moves 64 KiB: written as the send buffer takes it, read as
	// it arrives.
	pending := 0
	step := func() {
		sent, got := 0, 0
		for i := 0; got < len(buf) && i < 10000; i++ {
			if sent < len(buf) {
				n, err := c.Write(buf[sent:])
				if err != nil && !errors.Is(err, syscall.EAGAIN) {
					b.Fatal(err)
				}
				sent += n
			}
			clk.RunFor(20 * time.Microsecond)
			for {
				n, err := s.Read(rbuf)
				if err != nil {
					break
				}
				pending += n
			}
			k := min(pending, len(buf)-got)
			got += k
			pending -= k
		}
		if got < len(buf) {
			b.Fatalf("moved %d of %d bytes: sender %+v receiver %+v", got, len(buf), c.Info(), s.Info())
		}
	}
	return step
}
