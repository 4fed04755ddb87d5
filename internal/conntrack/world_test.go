package conntrack

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/ipv4"
	ct "vnic/stack/netfilter/conntrack"
	"vnic/stack/netlink"
	"vnic/stack/tcp"
	"vnic/stack/udp"
)

// rig is a router topology (h1 — r — h2, virtual time, tracking on r)
// with the ctnetlink families served on a socket of the test's.
type rig struct {
	t    testing.TB
	w    *topo.World
	svc  *Service
	path string
	r    *ct.Net

	listening bool          // h2 listens on :8080
	subs      chan struct{} // an event stream subscribed
	udp       map[string]*udp.Conn
}

// newRig builds the topology and serves it.
func newRig(t testing.TB) *rig {
	t.Helper()
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.2/24"}}}, Routes: []string{"default via 198.18.5.1"}},
		{Name: "r", CPUs: 1, Forwarding: true, Conntrack: true, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.1/24"}}, {Queues: 1, Addresses: []string{"198.18.6.1/24"}}}},
		{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.6.2/24"}}}, Routes: []string{"default via 198.18.6.1"}},
	}, Cables: []topo.CableConfig{{A: "h1/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "h2/vnic0"}}}
	w := topo.Started(t, cfg, 10*time.Millisecond)
	g := &rig{t: t, w: w, r: ct.Of(w.Host("r").Stack), subs: make(chan struct{}, 16)}
	g.svc = &Service{Host: func(name string) *stack.Host {
		if h := w.Host(name); h != nil {
			return h.Stack
		}
		return nil
	}, subscribed: func() { g.subs <- struct{}{} }}
	g.path = filepath.Join(t.TempDir(), "ctl.sock")
	srv, err := netlink.Listen(g.path, g.svc.Families()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return g
}

// in is host's IPv4.
func (g *rig) in(host string) *ipv4.Inet { return ipv4.Of(g.w.Host(host).Stack) }

// tcpFlow connects h1:sport to h2:8080 and sends n bytes.
func (g *rig) tcpFlow(sport uint16, n int) *tcp.Sock {
	g.t.Helper()
	if !g.listening {
		g.listening = true
		l := tcp.Of(g.in("h2")).NewSocket()
		if err := l.Bind(netip.MustParseAddrPort("0.0.0.0:8080")); err != nil {
			g.t.Fatal(err)
		}
		if err := l.Listen(16); err != nil {
			g.t.Fatal(err)
		}
	}
	c := tcp.Of(g.in("h1")).NewSocket()
	if err := c.Bind(netip.AddrPortFrom(netip.MustParseAddr("198.18.5.2"), sport)); err != nil {
		g.t.Fatal(err)
	}
	if err := c.Connect(netip.MustParseAddrPort("198.18.6.2:8080")); !errors.Is(err, syscall.EINPROGRESS) {
		g.t.Fatal(err)
	}
	g.w.Run(50 * time.Millisecond)
	if n > 0 {
		if _, err := c.Write(make([]byte, n)); err != nil {
			g.t.Fatal(err)
		}
	}
	return c
}

// udpFlow sends one datagram h1:sport → h2:dport and, when answered,
// one back.
func (g *rig) udpFlow(sport, dport uint16, answered bool) {
	g.t.Helper()
	u1, u2 := g.udpSock("h1", sport), g.udpSock("h2", dport)
	if _, err := u1.SendTo([]byte("query"), netip.AddrPortFrom(netip.MustParseAddr("198.18.6.2"), dport)); err != nil {
		g.t.Fatal(err)
	}
	g.w.Run(10 * time.Millisecond)
	if answered {
		if _, err := u2.SendTo([]byte("answer"), netip.AddrPortFrom(netip.MustParseAddr("198.18.5.2"), sport)); err != nil {
			g.t.Fatal(err)
		}
		g.w.Run(10 * time.Millisecond)
	}
}

// ping sends one echo h1 → h2 and returns its id.
func (g *rig) ping() uint16 {
	g.t.Helper()
	p, err := g.in("h1").OpenPing()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := p.SendEcho(netip.MustParseAddr("198.18.6.2"), 1, []byte("ping"), ipv4.PingOptions{}); err != nil {
		g.t.Fatal(err)
	}
	g.w.Run(10 * time.Millisecond)
	return p.ID()
}

// conntrack runs vnic's conntrack against host r and returns its
// status, standard output and standard error.
func (g *rig) conntrack(args ...string) (int, string, string) {
	g.t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, Options{Stdout: &out, Stderr: &errb, Socket: g.path, Host: "r"})
	return code, out.String(), errb.String()
}

// lockedBuffer is an io.Writer for a command running on another
// goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// events runs conntrack -E with args on r until stop returns, then
// interrupts it; it returns its status and output. run makes the events
// (the stream has subscribed); until says whether all of them came.
func (g *rig) events(args []string, run func(), until func(out string) bool) (int, string, string) {
	g.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(append([]string{"-E"}, args...), Options{Stdout: &out, Stderr: &errb, Socket: g.path, Host: "r", Context: ctx})
	}()
	select {
	case <-g.subs:
	case code := <-done:
		g.t.Fatalf("conntrack -E ended (%d) before subscribing: %s", code, errb.String())
	case <-time.After(10 * time.Second):
		g.t.Fatal("conntrack -E did not subscribe")
	}
	run()
	for deadline := time.Now().Add(10 * time.Second); !until(out.String()) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	cancel()
	code := <-done
	return code, out.String(), errb.String()
}

// udpSock is the rig's UDP socket on host's address at port, opened the
// first time.
func (g *rig) udpSock(host string, port uint16) *udp.Conn {
	g.t.Helper()
	key := host + ":" + strconv.Itoa(int(port))
	if u := g.udp[key]; u != nil {
		return u
	}
	u, err := udpListen(g, host, port)
	if err != nil {
		g.t.Fatal(err)
	}
	if g.udp == nil {
		g.udp = map[string]*udp.Conn{}
	}
	g.udp[key] = u
	return u
}

// udpListen opens a UDP socket on host's address at port.
func udpListen(g *rig, host string, port uint16) (*udp.Conn, error) {
	a := map[string]string{"h1": "198.18.5.2", "h2": "198.18.6.2"}[host]
	return udp.Of(g.in(host)).Listen(netip.AddrPortFrom(netip.MustParseAddr(a), port))
}
