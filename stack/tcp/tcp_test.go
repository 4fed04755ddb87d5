package tcp_test

import (
	"bytes"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/tcp"
)

func loopHost(t *testing.T) (*hw.VirtualClock, *tcp.Proto) { return loopHostB(t) }

func loopHostB(t testing.TB) (*hw.VirtualClock, *tcp.Proto) {
	t.Helper()
	clk, h := stacktest.NewHost(t, 1)
	in, err := inet.Init(h, ipv4.InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return clk, tcp.Of(in)
}

var lo80 = netip.MustParseAddrPort("127.0.0.1:80")

// A connection over loopback on the virtual clock: the handshake, data
// each way, and both closes through FIN_WAIT and TIME_WAIT.
func TestLoopbackConnection(t *testing.T) {
	clk, p := loopHost(t)
	l := p.NewSocket()
	if err := l.Bind(lo80); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(8); err != nil {
		t.Fatal(err)
	}
	c := p.NewSocket()
	if err := c.Connect(lo80); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatalf("connect: %v, want EINPROGRESS", err)
	}
	if got := c.State(); got != tcp.SynSent {
		t.Fatalf("state %v", got)
	}
	clk.RunFor(10 * time.Millisecond)
	if done, err := c.ConnectDone(); !done || err != nil {
		t.Fatalf("connect done %v, %v", done, err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if c.State() != tcp.Established || s.State() != tcp.Established {
		t.Fatalf("states %v %v", c.State(), s.State())
	}
	msg := bytes.Repeat([]byte("vnic"), 25000) // 100 kB: several windows
	sent := 0
	got := make([]byte, 0, len(msg))
	buf := make([]byte, 65536)
	for i := 0; i < 1000 && len(got) < len(msg); i++ {
		if sent < len(msg) {
			n, err := c.Write(msg[sent:])
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				t.Fatal(err)
			}
			sent += n
		}
		clk.RunFor(time.Millisecond)
		n, err := s.Read(buf)
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("read %d bytes of %d", len(got), len(msg))
	}
	if _, err := s.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	clk.RunFor(time.Millisecond)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "bye" {
		t.Fatalf("reply %q %v", buf[:n], err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// The FIN's ACK is delayed: CLOSE_WAIT is interactive (tcp_fin).
	clk.RunFor(time.Millisecond)
	if c.State() != tcp.FinWait1 || s.State() != tcp.CloseWait {
		t.Fatalf("just after the client's close: %v %v", c.State(), s.State())
	}
	clk.RunFor(250 * time.Millisecond)
	if c.State() != tcp.FinWait2 || s.State() != tcp.CloseWait {
		t.Fatalf("after the client's close: %v %v", c.State(), s.State())
	}
	if n, err := s.Read(buf); n != 0 || err != nil {
		t.Fatalf("read at EOF: %d %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	clk.RunFor(time.Millisecond)
	if c.State() != tcp.TimeWait || s.State() != tcp.Closed {
		t.Fatalf("after both closes: %v %v", c.State(), s.State())
	}
	clk.RunFor(61 * time.Second)
	if c.State() != tcp.Closed {
		t.Fatalf("after TIME_WAIT: %v", c.State())
	}
	st := p.Stats.Tcp()
	want := map[string]uint64{"ActiveOpens": 1, "PassiveOpens": 1, "CurrEstab": 0, "RetransSegs": 0}
	for _, c := range st {
		if w, ok := want[c.Name]; ok && c.Value != w {
			t.Errorf("%s = %d, want %d", c.Name, c.Value, w)
		}
	}
}

// A connection to a port nobody listens on is refused by the reset.
func TestConnectRefused(t *testing.T) {
	clk, p := loopHost(t)
	c := p.NewSocket()
	if err := c.Connect(lo80); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	clk.RunFor(10 * time.Millisecond)
	done, err := c.ConnectDone()
	if !done || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect: %v %v, want ECONNREFUSED", done, err)
	}
	if c.State() != tcp.Closed {
		t.Fatalf("state %v", c.State())
	}
}

// Sockets lists a listener and both ends of a connection as inet_diag
// does, with queues, the retransmit timer and TCP_INFO.
func TestSocketsDiag(t *testing.T) {
	clk, p := loopHost(t)
	l := p.NewSocket()
	if err := l.Bind(lo80); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(5); err != nil {
		t.Fatal(err)
	}
	c := p.NewSocket()
	_ = c.Connect(lo80)
	clk.RunFor(time.Millisecond)
	if _, err := c.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	ds := p.Sockets()
	if len(ds) != 3 {
		t.Fatalf("%d sockets: %+v", len(ds), ds)
	}
	if d := ds[0]; d.State != tcp.Listen || d.Local != lo80 || d.RecvQ != 1 || d.SendQ != 5 {
		t.Errorf("listener %+v", d)
	}
	var cd tcp.SockDiag
	for _, d := range ds[1:] {
		if d.Local == c.LocalAddr() {
			cd = d
		}
	}
	if cd.State != tcp.Established || cd.SendQ != 3000 || cd.Timer != tcp.DiagTimerRetrans || cd.Remote != lo80 {
		t.Errorf("client %+v", cd)
	}
	if i := cd.Info; i.SndCwnd != 10 || i.Options != tcp.InfoOptTimestamps|tcp.InfoOptSACK|tcp.InfoOptWscale || i.Congestion != "cubic" || i.SndMSS != 65483/2 { // bounded by half the peer's window (tcp_bound_to_half_wnd)
		t.Errorf("client info %+v", i)
	}
}

// An accepted connection inherits the listener's options (sk_clone):
// SO_REUSEADDR among them, so that its TIME_WAIT does not keep the port
// from being listened on again.
func TestAcceptInheritsOptions(t *testing.T) {
	clk, p := loopHost(t)
	l := p.NewSocket()
	for _, o := range [][2]int{{tcp.SolSocket, tcp.SoReuseAddr}, {tcp.SolTCP, tcp.TCPNoDelay}, {tcp.SolSocket, tcp.SoKeepAlive}} {
		if err := l.SetsockoptInt(o[0], o[1], 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Bind(lo80); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	c := p.NewSocket()
	_ = c.Connect(lo80)
	clk.RunFor(time.Millisecond)
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range [][2]int{{tcp.SolSocket, tcp.SoReuseAddr}, {tcp.SolTCP, tcp.TCPNoDelay}, {tcp.SolSocket, tcp.SoKeepAlive}} {
		if v, err := s.GetsockoptInt(o[0], o[1]); err != nil || v != 1 {
			t.Errorf("option %d/%d on the accepted socket: %d %v, want 1", o[0], o[1], v, err)
		}
	}
}

// A route's TCP metrics reach the connections over it, as Linux reads them
// from the dst: initcwnd (tcp_init_cwnd), window (the clamp), advmss and
// initrwnd (the SYN's window), rto_min when locked (tcp_rto_min),
// quickack (an ACK at once even in interactive mode), and congctl with
// lock (tcp_ca_dst_init; TCP_CONGESTION refused). Without them the
// defaults stand.
func TestRouteMetrics(t *testing.T) {
	type want struct {
		cwnd, rto, ssthresh, advMSS uint32
		ca                          string
		unacked                     uint32 // after a request in interactive mode
		setCongErr                  error
	}
	var all, win fib.Metrics
	all.Val[fib.RtaxInitCwnd] = 20
	all.Val[fib.RtaxWindow] = 30000
	all.Val[fib.RtaxRTOMin] = 50
	all.Val[fib.RtaxQuickAck] = 1
	all.Val[fib.RtaxLock] = 1<<fib.RtaxRTOMin | 1<<fib.RtaxCCAlgo
	all.CC = "reno"
	win.Val[fib.RtaxAdvMSS] = 1000
	win.Val[fib.RtaxInitRwnd] = 3
	for _, tc := range []struct {
		name    string
		metrics *fib.Metrics
		want    want
	}{
		{"none", nil, want{cwnd: 10, rto: 201000, ssthresh: 65483, advMSS: 65495, ca: "cubic", unacked: 1}},
		{"tcp metrics", &all, want{cwnd: 20, rto: 51000, ssthresh: 30000, advMSS: 65495, ca: "reno", setCongErr: syscall.EPERM}},
		// The first window is initrwnd segments of the MSS less the
		// timestamp option: 3 × 988.
		{"advmss initrwnd", &win, want{cwnd: 10, rto: 201000, ssthresh: 2964, advMSS: 1000, ca: "cubic", unacked: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk, p := loopHost(t)
			in := p.Inet()
			if tc.metrics != nil {
				r := fib.Route{Table: 255, Dst: [4]byte{127, 0, 0, 2}, Len: 32, Type: fib.RTNLocal, Scope: fib.ScopeHost,
					PrefSrc: [4]byte{127, 0, 0, 2}, Dev: in.Loopback(), Metrics: *tc.metrics}
				if err := in.RouteAdd(r, false); err != nil {
					t.Fatal(err)
				}
			}
			addr := netip.MustParseAddrPort("127.0.0.2:80")
			l := p.NewSocket()
			if err := l.Bind(addr); err != nil {
				t.Fatal(err)
			}
			if err := l.Listen(8); err != nil {
				t.Fatal(err)
			}
			c := p.NewSocket()
			if err := c.Connect(addr); !errors.Is(err, syscall.EINPROGRESS) {
				t.Fatal(err)
			}
			clk.RunFor(10 * time.Millisecond)
			s, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			for _, sk := range []*tcp.Sock{c, s} {
				i := sk.Info()
				if i.SndCwnd != tc.want.cwnd || i.RTO != tc.want.rto || i.RcvSsthresh != tc.want.ssthresh ||
					i.AdvMSS != tc.want.advMSS || i.Congestion != tc.want.ca {
					t.Errorf("cwnd %d rto %d µs rcv_ssthresh %d advmss %d ca %s, want %+v",
						i.SndCwnd, i.RTO, i.RcvSsthresh, i.AdvMSS, i.Congestion, tc.want)
				}
			}
			if err := c.SetCongestion("cubic"); !errors.Is(err, tc.want.setCongErr) || (err != nil) != (tc.want.setCongErr != nil) {
				t.Errorf("TCP_CONGESTION: %v, want %v", err, tc.want.setCongErr)
			}
			// Request and response until both ends are interactive; then
			// a request waits for its delayed ACK unless quickack.
			req, buf := make([]byte, 100), make([]byte, 1000)
			for range 20 {
				if _, err := c.Write(req); err != nil {
					t.Fatal(err)
				}
				clk.RunFor(time.Millisecond)
				if _, err := s.Read(buf); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Write(req); err != nil {
					t.Fatal(err)
				}
				clk.RunFor(time.Millisecond)
				if _, err := c.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			clk.RunFor(time.Millisecond)
			if got := c.Info().Unacked; got != tc.want.unacked {
				t.Errorf("%d segments unacked 1 ms after a request, want %d", got, tc.want.unacked)
			}
		})
	}
}
