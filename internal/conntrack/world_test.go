package conntrack

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
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

	listening bool // h2 listens on :8080
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
	g := &rig{t: t, w: w, r: ct.Of(w.Host("r").Stack)}
	g.svc = &Service{Host: func(name string) *stack.Host {
		if h := w.Host(name); h != nil {
			return h.Stack
		}
		return nil
	}}
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
	u1, err := udp.Of(g.in("h1")).Listen(netip.AddrPortFrom(netip.MustParseAddr("198.18.5.2"), sport))
	if err != nil {
		g.t.Fatal(err)
	}
	u2, err := udp.Of(g.in("h2")).Listen(netip.AddrPortFrom(netip.MustParseAddr("198.18.6.2"), dport))
	if err != nil {
		g.t.Fatal(err)
	}
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

func TestSmoke(t *testing.T) {
	g := newRig(t)
	g.tcpFlow(40000, 3000)
	g.udpFlow(5353, 53, true)
	g.udpFlow(5354, 9, false)
	g.ping()
	g.w.Run(100 * time.Millisecond)
	for _, args := range [][]string{{"-L"}, {"-L", "-o", "extended,id"}, {"-C"}, {"-S"}, {"-L", "-o", "save"}, {"-G", "-p", "udp", "-s", "198.18.5.2", "-d", "198.18.6.2", "--sport", "5353", "--dport", "53"}} {
		code, out, errs := g.conntrack(args...)
		t.Logf("%s → %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	_ = os.Stdout
}
