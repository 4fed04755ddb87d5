package nat_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/ipv4"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/tcp"
	"vnic/stack/udp"
)

// The worlds of the end-to-end tests, in virtual time:
//
//	c 198.18.1.2 ── vnic0 198.18.1.1  r  198.19.0.1 vnic1 ── s 198.19.0.2
//
// c's default route is r; s has only the routes given (without one back
// to 198.18.1.0/24, only a source NAT lets it answer).
func natWorld(t *testing.T, sRoutes ...string) *topo.World {
	t.Helper()
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "c", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.1.2/24"}}}, Routes: []string{"default via 198.18.1.1"}},
		{Name: "r", CPUs: 1, Forwarding: true, Devices: []topo.DeviceConfig{
			{Queues: 1, Addresses: []string{"198.18.1.1/24"}}, {Queues: 1, Addresses: []string{"198.19.0.1/24"}}}},
		{Name: "s", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.19.0.2/24"}}}, Routes: sRoutes},
	}, Cables: []topo.CableConfig{{A: "c/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "s/vnic0"}}}
	return topo.Started(t, cfg, 10*time.Millisecond)
}

var (
	cAddr = netip.MustParseAddr("198.18.1.2")
	rLAN  = netip.MustParseAddr("198.18.1.1")
	rWAN  = netip.MustParseAddr("198.19.0.1")
	sAddr = netip.MustParseAddr("198.19.0.2")
)

func st(w *topo.World, name string) *stack.Host { return w.Host(name).Stack }

func inet(w *topo.World, name string) *ipv4.Inet { return ipv4.Of(st(w, name)) }

// setNAT installs rules in h's nat table, by chain.
func setNAT(t *testing.T, h *stack.Host, chains map[string][]ipt.Rule) {
	t.Helper()
	spec, err := ipt.Get(h, "nat")
	if err != nil {
		t.Fatal(err)
	}
	for i := range spec.Chains {
		spec.Chains[i].Rules = chains[spec.Chains[i].Name]
	}
	if _, err := ipt.Replace(h, spec); err != nil {
		t.Fatal(err)
	}
}

// ipm builds a rule's IP part: "-s", "-d" as prefixes, "-i"/"-o" names,
// proto.
type ipm struct {
	src, dst string
	in, out  string
	proto    uint16
}

func (m ipm) match() ipt.IPMatch {
	var r ipt.IPMatch
	set := func(p string, a, mask *[4]byte) {
		if p == "" {
			return
		}
		pf := netip.MustParsePrefix(p)
		*a = pf.Masked().Addr().As4()
		v := ^uint32(0) << (32 - pf.Bits())
		*mask = [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	}
	set(m.src, &r.Src, &r.SrcMask)
	set(m.dst, &r.Dst, &r.DstMask)
	if m.in != "" {
		ipt.SetIface(m.in, &r.InIface, &r.InMask)
	}
	if m.out != "" {
		ipt.SetIface(m.out, &r.OutIface, &r.OutMask)
	}
	r.Proto = m.proto
	return r
}

// dport is the tcp or udp match of one destination port.
func dport(proto uint16, port uint16) []ipt.Match {
	if proto == ipt.ProtoTCP {
		return []ipt.Match{{Name: "tcp", Info: &ipt.TCPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{port, port}}}}
	}
	return []ipt.Match{{Name: "udp", Info: &ipt.UDPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{port, port}}}}
}

func to(addr string, port uint16) *ipt.NATRange {
	a := netip.MustParseAddr(addr).As4()
	r := &ipt.NATRange{Flags: ipt.NATMapIPs, MinAddr: a, MaxAddr: a}
	if port != 0 {
		r.Flags |= ipt.NATProtoSpecified
		r.MinProto, r.MaxProto = port, port
	}
	return r
}

func target(name string, r *ipt.NATRange) ipt.Target {
	rev := uint8(0)
	if name == "SNAT" || name == "DNAT" {
		rev = 2
	}
	return ipt.Target{Name: name, Revision: rev, Info: r}
}

// tcpPair connects a socket of client host cl (bound to from when valid)
// to connect, which srv accepts on listen; it returns both ends.
func tcpPair(t *testing.T, w *topo.World, cl, srv string, from, listen, connect netip.AddrPort) (c, s *tcp.Sock) {
	t.Helper()
	l := tcp.Of(inet(w, srv)).NewSocket()
	if err := l.Bind(listen); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(4); err != nil {
		t.Fatal(err)
	}
	c = tcp.Of(inet(w, cl)).NewSocket()
	if from.IsValid() {
		if err := c.Bind(from); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Connect(connect); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	w.Run(50 * time.Millisecond)
	if done, err := c.ConnectDone(); !done || err != nil {
		t.Fatalf("connect to %v: done %v, %v", connect, done, err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return c, s
}

// transfer sends n bytes from a to b and reads them all.
func transfer(t *testing.T, w *topo.World, a, b *tcp.Sock, n int) {
	t.Helper()
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(i * 31)
	}
	sent := 0
	got := 0
	buf := make([]byte, 65536)
	for round := 0; round < 200 && got < n; round++ {
		if sent < n {
			k, err := a.Write(out[sent:])
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				t.Fatal(err)
			}
			sent += k
		}
		w.Run(5 * time.Millisecond)
		for {
			k, err := b.Read(buf)
			if k == 0 || err != nil {
				break
			}
			for i := range k {
				if buf[i] != out[got+i] {
					t.Fatalf("byte %d differs", got+i)
				}
			}
			got += k
		}
	}
	if got != n {
		t.Fatalf("%d of %d bytes arrived", got, n)
	}
}

// udpConn listens on h at addr.
func udpConn(t *testing.T, w *topo.World, h string, addr netip.AddrPort) *udp.Conn {
	t.Helper()
	c, err := udp.Of(inet(w, h)).Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recvAll drains c: how many datagrams came, and from where.
func recvAll(c *udp.Conn) (n int, from map[netip.AddrPort]int) {
	from = map[netip.AddrPort]int{}
	buf := make([]byte, 2048)
	for {
		_, f, _, err := c.Recv(buf)
		if err != nil {
			return n, from
		}
		n++
		from[f]++
	}
}
