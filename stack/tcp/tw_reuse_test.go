package tcp_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/internal/stacktest"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// tcp_tw_reuse as Linux's tcp_twsk_unique: with one ephemeral port, a
// connect to the same server finds the previous connection's TIME-WAIT
// holding the four-tuple. It may take its place when the old connection
// had timestamps, tcp_tw_reuse allows it (2: only on loopback
// addresses) and tcp_tw_reuse_delay (1 s) has passed since TIME-WAIT
// began; the new ISN starts beyond the old sequence space. A socket
// bound before connect takes the place whatever tcp_tw_reuse says.
func TestTwReuse(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reuse      int
		delay      int // tcp_tw_reuse_delay, ms (0: the default)
		noTS       bool
		addr       string // the server's, on the loopback device
		bind       bool   // SO_REUSEADDR and bind the port before connect
		after      time.Duration
		wantReused bool
	}{
		{name: "1, after 1.001 s", reuse: 1, addr: "127.0.0.1", after: 1001 * time.Millisecond, wantReused: true},
		{name: "1, after 1 s exactly", reuse: 1, addr: "127.0.0.1", after: time.Second},
		{name: "1, after 0.5 s", reuse: 1, addr: "127.0.0.1", after: 500 * time.Millisecond},
		{name: "1, delay 100 ms, after 0.5 s", reuse: 1, delay: 100, addr: "127.0.0.1", after: 500 * time.Millisecond, wantReused: true},
		{name: "0", reuse: 0, addr: "127.0.0.1", after: 2 * time.Second},
		{name: "2, loopback", reuse: 2, addr: "127.0.0.1", after: 2 * time.Second, wantReused: true},
		{name: "2, not loopback", reuse: 2, addr: "198.18.0.1", after: 2 * time.Second},
		{name: "1, not loopback", reuse: 1, addr: "198.18.0.1", after: 2 * time.Second, wantReused: true},
		{name: "1, no timestamps", reuse: 1, noTS: true, addr: "127.0.0.1", after: 2 * time.Second},
		{name: "0, bound", reuse: 0, bind: true, addr: "127.0.0.1", after: 10 * time.Millisecond, wantReused: true},
		{name: "0, bound, no timestamps", reuse: 0, bind: true, noTS: true, addr: "127.0.0.1", after: 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk, h := stacktest.NewHost(t, 1)
			in, err := inet.Init(h, ipv4.InetConfig{Seed: 1, PortLow: 40000, PortHigh: 40000})
			if err != nil {
				t.Fatal(err)
			}
			if err := in.AddAddr(in.Loopback(), netip.MustParsePrefix("198.18.0.1/32")); err != nil {
				t.Fatal(err)
			}
			p := tcp.Of(in)
			cfg := p.Config()
			cfg.TwReuse = tc.reuse
			if tc.delay != 0 {
				cfg.TwReuseDelay = tc.delay
			}
			if tc.noTS {
				cfg.Timestamps = 0
			}
			p.SetConfig(cfg)
			srv := netip.AddrPortFrom(netip.MustParseAddr(tc.addr), 80)
			l := p.NewSocket()
			if err := l.Bind(srv); err != nil {
				t.Fatal(err)
			}
			if err := l.Listen(8); err != nil {
				t.Fatal(err)
			}
			dial := func() (*tcp.Sock, error) {
				c := p.NewSocket()
				if tc.bind {
					if err := c.SetsockoptInt(tcp.SolSocket, tcp.SoReuseAddr, 1); err != nil {
						t.Fatal(err)
					}
					if err := c.Bind(netip.AddrPortFrom(netip.Addr{}, 40000)); err != nil {
						return nil, err
					}
				}
				err := c.Connect(srv)
				if !errors.Is(err, syscall.EINPROGRESS) {
					return nil, err
				}
				clk.RunFor(time.Millisecond)
				s, err := l.Accept()
				if err != nil {
					t.Fatalf("accept: %v", err)
				}
				return c, s.Close()
			}
			old, err := dial()
			if err != nil {
				t.Fatal(err)
			}
			if err := old.Close(); err != nil { // the client closes first: TIME-WAIT
				t.Fatal(err)
			}
			clk.RunFor(time.Millisecond)
			if old.State() != tcp.TimeWait {
				t.Fatalf("the old connection is %v", old.State())
			}
			oldNxt := old.SndNxt()
			clk.RunFor(tc.after - time.Millisecond)
			c, err := dial()
			recycled := ext(p, "TWRecycled")
			if !tc.wantReused {
				if !errors.Is(err, syscall.EADDRNOTAVAIL) || recycled != 0 {
					t.Fatalf("connect: %v, TWRecycled %d; want EADDRNOTAVAIL and 0", err, recycled)
				}
				return
			}
			if err != nil || recycled != 1 {
				t.Fatalf("connect: %v, TWRecycled %d; want a connection and 1", err, recycled)
			}
			// (dial's server end closed at once: the client is in CLOSE-WAIT.)
			clk.RunFor(time.Millisecond)
			if c.LocalAddr().Port() != 40000 || c.State() != tcp.CloseWait {
				t.Errorf("the new connection: %v %v", c.LocalAddr(), c.State())
			}
			if got, want := c.ISN(), oldNxt+65535+2; got != want {
				t.Errorf("ISN %d, want the old snd_nxt %d + 65537 = %d", got, oldNxt, want)
			}
			if n := len(p.Sockets()); n != 3 { // the listener, both ends (LAST-ACK); not the TIME-WAIT
				t.Errorf("%d sockets listed: %+v", n, p.Sockets())
			}
			// The old socket's timer ends it later, leaving the new
			// connection in place.
			clk.RunFor(61 * time.Second)
			if old.State() != tcp.Closed || c.State() != tcp.CloseWait {
				t.Errorf("after TIME-WAIT's end: old %v, new %v", old.State(), c.State())
			}
		})
	}
}
