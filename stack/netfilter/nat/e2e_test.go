package nat_test

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/header"
	"vnic/internal/topo"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/netfilter/nat"
	"vnic/stack/tcp"
)

// back is s's route back to c's network.
const back = "198.18.1.0/24 via 198.19.0.1"

func tup(src, dst netip.Addr, sport, dport uint16, proto uint8) conntrack.Tuple {
	return conntrack.Tuple{Src: src.As4(), Dst: dst.As4(), SrcPort: sport, DstPort: dport, Proto: proto}
}

// masqueradeOut is the router masquerading what leaves by vnic1, and c's
// UDP, ping and TCP flows to s through it.
func masqueradeOut(t *testing.T) (tw *topo.World, pingID uint16) {
	t.Helper()
	tw = natWorld(t)
	setNAT(t, st(tw, "r"), map[string][]ipt.Rule{
		"POSTROUTING": {{IP: ipm{out: "vnic1"}.match(), Target: target("MASQUERADE", &ipt.NATRange{})}},
	})
	// UDP: three queries and three answers.
	cu := udpConn(t, tw, "c", netip.AddrPortFrom(cAddr, 5353))
	su := udpConn(t, tw, "s", netip.AddrPortFrom(sAddr, 53))
	for range 3 {
		if _, err := cu.SendTo([]byte("query"), netip.AddrPortFrom(sAddr, 53)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Run(10 * time.Millisecond)
	n, from := recvAll(su)
	if n != 3 || from[netip.AddrPortFrom(rWAN, 5353)] != 3 {
		t.Fatalf("s got %d datagrams from %v, want 3 from %v:5353 (the port kept)", n, from, rWAN)
	}
	for range 3 {
		if _, err := su.SendTo([]byte("answer"), netip.AddrPortFrom(rWAN, 5353)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Run(10 * time.Millisecond)
	if n, from := recvAll(cu); n != 3 || from[netip.AddrPortFrom(sAddr, 53)] != 3 {
		t.Fatalf("c got %d answers from %v, want 3 from s:53", n, from)
	}
	// Ping: three echoes, three replies.
	p, err := inet(tw, "c").OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	for seq := range uint16(3) {
		if err := p.SendEcho(sAddr, seq+1, []byte("ping"), ipv4.PingOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Run(10 * time.Millisecond)
	replies := 0
	for {
		m, ok := p.Recv()
		if !ok {
			break
		}
		if !m.IsError && m.From == sAddr {
			replies++
		}
	}
	if replies != 3 {
		t.Fatalf("%d echo replies, want 3", replies)
	}
	// TCP: 20000 bytes each way.
	c, s := tcpPair(t, tw, "c", "s", netip.AddrPortFrom(cAddr, 40000), netip.AddrPortFrom(sAddr, 8080), netip.AddrPortFrom(sAddr, 8080))
	if got := s.RemoteAddr(); got != netip.AddrPortFrom(rWAN, 40000) {
		t.Fatalf("s sees the client as %v, want %v:40000", got, rWAN)
	}
	transfer(t, tw, c, s, 20000)
	transfer(t, tw, s, c, 20000)
	return tw, p.ID()
}

// TestMasquerade: c's flows leave with r's WAN address (ports and the
// echo id kept: nothing clashes) and their answers come back; conntrack
// shows both tuples, the reply's to r's address.
func TestMasquerade(t *testing.T) {
	w, id := masqueradeOut(t)
	r := conntrack.Of(st(w, "r"))
	for _, tc := range []struct {
		name string
		orig conntrack.Tuple
	}{
		{"udp", tup(cAddr, sAddr, 5353, 53, header.ProtoUDP)},
		{"icmp", tup(cAddr, sAddr, id, header.ICMPv4Echo<<8, header.ProtoICMP)},
		{"tcp", tup(cAddr, sAddr, 40000, 8080, header.ProtoTCP)},
	} {
		ct, dir := r.Lookup(tc.orig, conntrack.DefaultZone)
		if ct == nil || dir != conntrack.Original {
			t.Fatalf("%s: no entry for %+v", tc.name, tc.orig)
		}
		want, _ := tc.orig.Invert()
		want.Dst = rWAN.As4()
		if got := ct.Tuple(conntrack.Reply); got != want {
			t.Fatalf("%s: reply %+v, want %+v", tc.name, got, want)
		}
		if st := ct.Status(); st&(conntrack.StatusSrcNAT|conntrack.StatusDstNAT) != conntrack.StatusSrcNAT {
			t.Fatalf("%s: status %#x", tc.name, st)
		}
	}
	if got := r.Count(); got != 3 {
		t.Fatalf("%d entries, want 3", got)
	}
	if s := nat.Of(st(w, "r")).Stats(); s.Bindings != 3 || s.ManipDrops != 0 || s.ICMPDrops != 0 {
		t.Fatalf("nat stats %+v: want 3 bindings", s)
	}
}

// TestMasqueradeFlush: the address a connection was masqueraded to
// going, or its device going down, deletes the connection (and only
// masqueraded ones of that device).
func TestMasqueradeFlush(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, w *topo.World)
	}{
		{"address removed", func(t *testing.T, w *topo.World) {
			dev := w.Host("r").Devices[1].Netdev
			// Another address of the device first: its going takes
			// nothing.
			if err := inet(w, "r").AddAddr(dev, netip.MustParsePrefix("198.19.0.9/24")); err != nil {
				t.Fatal(err)
			}
			if err := inet(w, "r").DelAddr(dev, netip.MustParsePrefix("198.19.0.9/24")); err != nil {
				t.Fatal(err)
			}
			if got := conntrack.Of(st(w, "r")).Count(); got != 3 {
				t.Fatalf("%d entries after another address went, want 3", got)
			}
			if err := inet(w, "r").DelAddr(dev, netip.MustParsePrefix("198.19.0.1/24")); err != nil {
				t.Fatal(err)
			}
		}},
		{"device down", func(t *testing.T, w *topo.World) {
			// The LAN device going down takes nothing: nothing was
			// masqueraded to it.
			if err := w.Host("r").Devices[0].Netdev.Close(); err != nil {
				t.Fatal(err)
			}
			if got := conntrack.Of(st(w, "r")).Count(); got != 3 {
				t.Fatalf("%d entries after the LAN went down, want 3", got)
			}
			if err := w.Host("r").Devices[1].Netdev.Close(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := masqueradeOut(t)
			ct := conntrack.Of(st(w, "r"))
			if got := ct.Count(); got != 3 {
				t.Fatalf("%d entries, want 3", got)
			}
			tc.do(t, w)
			if got := ct.Count(); got != 0 {
				t.Fatalf("%d entries left, want 0", got)
			}
			if s := nat.Of(st(w, "r")).Stats(); s.MasqFlushed != 3 {
				t.Fatalf("flushed %d, want 3", s.MasqFlushed)
			}
		})
	}
}

// TestDNATPortForward: s reaches c's services through r's WAN address
// (TCP 8080 to c:80, UDP 5000 to c:53); c sees s itself (no source NAT),
// s sees answers from r's address.
func TestDNATPortForward(t *testing.T) {
	w := natWorld(t, back)
	setNAT(t, st(w, "r"), map[string][]ipt.Rule{
		"PREROUTING": {
			{IP: ipm{in: "vnic1", proto: ipt.ProtoTCP}.match(), Matches: dport(ipt.ProtoTCP, 8080), Target: target("DNAT", to("198.18.1.2", 80))},
			{IP: ipm{in: "vnic1", proto: ipt.ProtoUDP}.match(), Matches: dport(ipt.ProtoUDP, 5000), Target: target("DNAT", to("198.18.1.2", 53))},
		},
	})
	s, c := tcpPair(t, w, "s", "c", netip.AddrPortFrom(sAddr, 33000), netip.AddrPortFrom(netip.IPv4Unspecified(), 80), netip.AddrPortFrom(rWAN, 8080))
	if got := c.RemoteAddr(); got != netip.AddrPortFrom(sAddr, 33000) {
		t.Fatalf("c sees %v, want s itself", got)
	}
	if got := c.LocalAddr(); got != netip.AddrPortFrom(cAddr, 80) {
		t.Fatalf("c accepted on %v", got)
	}
	transfer(t, w, s, c, 30000)
	transfer(t, w, c, s, 5000)

	su := udpConn(t, w, "s", netip.AddrPortFrom(sAddr, 6000))
	cu := udpConn(t, w, "c", netip.AddrPortFrom(netip.IPv4Unspecified(), 53))
	for range 4 {
		if _, err := su.SendTo([]byte("q"), netip.AddrPortFrom(rWAN, 5000)); err != nil {
			t.Fatal(err)
		}
	}
	w.Run(10 * time.Millisecond)
	if n, from := recvAll(cu); n != 4 || from[netip.AddrPortFrom(sAddr, 6000)] != 4 {
		t.Fatalf("c got %d from %v, want 4 from s:6000", n, from)
	}
	for range 4 {
		if _, err := cu.SendTo([]byte("a"), netip.AddrPortFrom(sAddr, 6000)); err != nil {
			t.Fatal(err)
		}
	}
	w.Run(10 * time.Millisecond)
	if n, from := recvAll(su); n != 4 || from[netip.AddrPortFrom(rWAN, 5000)] != 4 {
		t.Fatalf("s got %d from %v, want 4 from r:5000", n, from)
	}
	ct, _ := conntrack.Of(st(w, "r")).Lookup(tup(sAddr, rWAN, 33000, 8080, header.ProtoTCP), conntrack.DefaultZone)
	if ct == nil || ct.Tuple(conntrack.Reply) != tup(cAddr, sAddr, 80, 33000, header.ProtoTCP) {
		t.Fatalf("tcp entry %v", ct)
	}
	if ct.Status()&(conntrack.StatusSrcNAT|conntrack.StatusDstNAT) != conntrack.StatusDstNAT {
		t.Fatalf("status %#x", ct.Status())
	}
}

// TestRedirect: at PRE_ROUTING a connection to anywhere's port 80 goes to
// r's own 3128 on the address of the device it came in by; at OUTPUT r's
// own datagrams to port 53 go to 127.0.0.1:5353.
func TestRedirect(t *testing.T) {
	w := natWorld(t, back)
	rr := &ipt.NATRange{Flags: ipt.NATProtoSpecified, MinProto: 3128, MaxProto: 3128}
	setNAT(t, st(w, "r"), map[string][]ipt.Rule{
		"PREROUTING": {{IP: ipm{in: "vnic0", proto: ipt.ProtoTCP}.match(), Matches: dport(ipt.ProtoTCP, 80), Target: target("REDIRECT", rr)}},
		"OUTPUT": {{IP: ipm{proto: ipt.ProtoUDP}.match(), Matches: dport(ipt.ProtoUDP, 53),
			Target: target("REDIRECT", &ipt.NATRange{Flags: ipt.NATProtoSpecified, MinProto: 5353, MaxProto: 5353})}},
	})
	c, p := tcpPair(t, w, "c", "r", netip.AddrPortFrom(cAddr, 41000), netip.AddrPortFrom(netip.IPv4Unspecified(), 3128), netip.AddrPortFrom(sAddr, 80))
	if got := p.LocalAddr(); got != netip.AddrPortFrom(rLAN, 3128) {
		t.Fatalf("the proxy accepted on %v, want %v:3128", got, rLAN)
	}
	if got := c.RemoteAddr(); got != netip.AddrPortFrom(sAddr, 80) {
		t.Fatalf("c is connected to %v", got)
	}
	transfer(t, w, c, p, 10000)
	transfer(t, w, p, c, 10000)

	local := udpConn(t, w, "r", netip.MustParseAddrPort("127.0.0.1:5353"))
	ru := udpConn(t, w, "r", netip.AddrPortFrom(netip.IPv4Unspecified(), 7000))
	su := udpConn(t, w, "s", netip.AddrPortFrom(sAddr, 53))
	for range 2 {
		if _, err := ru.SendTo([]byte("q"), netip.AddrPortFrom(sAddr, 53)); err != nil {
			t.Fatal(err)
		}
	}
	w.Run(10 * time.Millisecond)
	if n, _ := recvAll(su); n != 0 {
		t.Fatalf("s got %d, want none (redirected)", n)
	}
	if n, from := recvAll(local); n != 2 || from[netip.AddrPortFrom(rWAN, 7000)] != 2 {
		t.Fatalf("127.0.0.1:5353 got %d from %v, want 2 from %v:7000", n, from, rWAN)
	}
}

// TestNetmap: 198.20.1.0/24 stands for c's 198.18.1.0/24 on the WAN,
// both ways: s reaches c at 198.20.1.2 and sees c's traffic from there.
func TestNetmap(t *testing.T) {
	w := natWorld(t, "198.20.1.0/24 via 198.19.0.1")
	netmap := func(p string) *ipt.NATRange {
		pf := netip.MustParsePrefix(p)
		lo := pf.Masked().Addr().As4()
		v := uint32(lo[0])<<24 | uint32(lo[1])<<16 | uint32(lo[2])<<8 | uint32(lo[3]) | (1<<(32-pf.Bits()) - 1)
		return &ipt.NATRange{Flags: ipt.NATMapIPs, MinAddr: lo, MaxAddr: [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}}
	}
	setNAT(t, st(w, "r"), map[string][]ipt.Rule{
		"PREROUTING":  {{IP: ipm{dst: "198.20.1.0/24"}.match(), Target: target("NETMAP", netmap("198.18.1.0/24"))}},
		"POSTROUTING": {{IP: ipm{src: "198.18.1.0/24", out: "vnic1"}.match(), Target: target("NETMAP", netmap("198.20.1.0/24"))}},
	})
	mapped := netip.MustParseAddr("198.20.1.2")
	cu := udpConn(t, w, "c", netip.AddrPortFrom(cAddr, 9000))
	su := udpConn(t, w, "s", netip.AddrPortFrom(sAddr, 9001))
	if _, err := su.SendTo([]byte("in"), netip.AddrPortFrom(mapped, 9000)); err != nil {
		t.Fatal(err)
	}
	if _, err := cu.SendTo([]byte("out"), netip.AddrPortFrom(sAddr, 9001)); err != nil {
		t.Fatal(err)
	}
	w.Run(10 * time.Millisecond)
	if n, from := recvAll(cu); n != 1 || from[netip.AddrPortFrom(sAddr, 9001)] != 1 {
		t.Fatalf("c got %d from %v", n, from)
	}
	// c's datagram is the reply of s's connection (the same ports):
	// it leaves as its reply, from the mapped address.
	if n, from := recvAll(su); n != 1 || from[netip.AddrPortFrom(mapped, 9000)] != 1 {
		t.Fatalf("s got %d from %v, want 1 from %v", n, from, mapped)
	}
	// A ping of c's of its own: out through POSTROUTING's NETMAP.
	p, err := inet(w, "c").OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SendEcho(sAddr, 1, nil, ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Run(10 * time.Millisecond)
	if m, ok := p.Recv(); !ok || m.IsError || m.From != sAddr {
		t.Fatalf("echo reply %+v %v", m, ok)
	}
	ct, _ := conntrack.Of(st(w, "r")).Lookup(tup(cAddr, sAddr, p.ID(), header.ICMPv4Echo<<8, header.ProtoICMP), conntrack.DefaultZone)
	if ct == nil || ct.Tuple(conntrack.Reply).Dst != mapped.As4() {
		t.Fatalf("ping entry %v", ct)
	}
}

// TestLocalOutDNAT: r's own traffic to 198.18.1.77 (routed by the LAN) is
// rewritten at OUTPUT to s and routed again by the WAN: s gets it, the
// answers come back to r's sockets from the address they used, and
// nothing leaves by the LAN.
func TestLocalOutDNAT(t *testing.T) {
	w := natWorld(t, back)
	ghost := netip.MustParseAddr("198.18.1.77")
	setNAT(t, st(w, "r"), map[string][]ipt.Rule{
		"OUTPUT": {{IP: ipm{dst: "198.18.1.77/32"}.match(), Target: target("DNAT", to("198.19.0.2", 0))}},
	})
	lan := w.Host("r").Devices[0].Netdev
	lanBefore := lan.Stats64().TxPackets

	ru := udpConn(t, w, "r", netip.AddrPortFrom(netip.IPv4Unspecified(), 7100))
	su := udpConn(t, w, "s", netip.AddrPortFrom(sAddr, 53))
	for range 3 {
		if _, err := ru.SendTo([]byte("q"), netip.AddrPortFrom(ghost, 53)); err != nil {
			t.Fatal(err)
		}
	}
	w.Run(10 * time.Millisecond)
	if n, from := recvAll(su); n != 3 || from[netip.AddrPortFrom(rLAN, 7100)] != 3 {
		t.Fatalf("s got %d from %v, want 3 from %v:7100 (the source the LAN route chose)", n, from, rLAN)
	}
	for range 3 {
		if _, err := su.SendTo([]byte("a"), netip.AddrPortFrom(rLAN, 7100)); err != nil {
			t.Fatal(err)
		}
	}
	w.Run(10 * time.Millisecond)
	if n, from := recvAll(ru); n != 3 || from[netip.AddrPortFrom(ghost, 53)] != 3 {
		t.Fatalf("r got %d from %v, want 3 from %v:53", n, from, ghost)
	}
	c, s := tcpPair(t, w, "r", "s", netip.AddrPort{}, netip.AddrPortFrom(sAddr, 80), netip.AddrPortFrom(ghost, 80))
	transfer(t, w, c, s, 15000)
	transfer(t, w, s, c, 15000)
	if got := c.RemoteAddr(); got != netip.AddrPortFrom(ghost, 80) {
		t.Fatalf("r's socket is connected to %v", got)
	}
	if got := lan.Stats64().TxPackets - lanBefore; got != 0 {
		t.Fatalf("%d packets left by the LAN, want 0 (rerouted)", got)
	}
}

// hairpinWorld is r between the Internet (isp, on vnic0) and a LAN hub
// holding c (198.18.1.2) and s (198.18.1.3), whose default route is r
// (198.18.1.1). r forwards TCP to its WAN address's port 80 to s:8080.
func hairpinWorld(t *testing.T, hairpinRule bool) *topo.World {
	t.Helper()
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "r", CPUs: 1, Forwarding: true, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.19.0.1/24"}}}},
		{Name: "isp", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.19.0.2/24"}}}},
		{Name: "c", CPUs: 1, IPv4: true},
		{Name: "s", CPUs: 1, IPv4: true},
	}, Cables: []topo.CableConfig{{A: "r/vnic0", B: "isp/vnic0"}}}
	w := topo.Started(t, cfg, 10*time.Millisecond)
	var lan hub
	lan.plug(t, st(w, "r"), 1, "198.18.1.1/24")
	for i, h := range []string{"c", "s"} {
		dev := lan.plug(t, st(w, h), byte(2+i), fmt.Sprintf("198.18.1.%d/24", 2+i))
		if err := inet(w, h).RouteAdd(fib.Route{Table: fib.TableMain, Gateway: rLAN.As4(), Dev: dev, Protocol: fib.ProtoBoot}, false); err != nil {
			t.Fatal(err)
		}
	}
	rules := map[string][]ipt.Rule{
		"PREROUTING": {{IP: ipm{dst: "198.19.0.1/32", proto: ipt.ProtoTCP}.match(), Matches: dport(ipt.ProtoTCP, 80), Target: target("DNAT", to("198.18.1.3", 8080))}},
	}
	if hairpinRule {
		rules["POSTROUTING"] = []ipt.Rule{{IP: ipm{src: "198.18.1.0/24", dst: "198.18.1.3/32", proto: ipt.ProtoTCP}.match(),
			Matches: dport(ipt.ProtoTCP, 8080), Target: target("MASQUERADE", &ipt.NATRange{})}}
	}
	setNAT(t, st(w, "r"), rules)
	return w
}

// TestHairpin: c reaches s, on its own LAN, by r's public address. With
// the hairpin MASQUERADE s answers r, which turns the answers back into
// replies from the public address; without it s answers c directly, from
// an address c never asked, and the connection never opens.
func TestHairpin(t *testing.T) {
	sLAN := netip.MustParseAddr("198.18.1.3")
	t.Run("with the hairpin rule", func(t *testing.T) {
		w := hairpinWorld(t, true)
		c, s := tcpPair(t, w, "c", "s", netip.AddrPortFrom(cAddr, 42000), netip.AddrPortFrom(sLAN, 8080), netip.AddrPortFrom(rWAN, 80))
		if got := s.RemoteAddr(); got != netip.AddrPortFrom(rLAN, 42000) {
			t.Fatalf("s sees %v, want r's LAN address", got)
		}
		if got := c.RemoteAddr(); got != netip.AddrPortFrom(rWAN, 80) {
			t.Fatalf("c is connected to %v", got)
		}
		transfer(t, w, c, s, 25000)
		transfer(t, w, s, c, 25000)
		ct, _ := conntrack.Of(st(w, "r")).Lookup(tup(cAddr, rWAN, 42000, 80, header.ProtoTCP), conntrack.DefaultZone)
		if ct == nil {
			t.Fatal("no entry")
		}
		if got, want := ct.Tuple(conntrack.Reply), tup(sLAN, rLAN, 8080, 42000, header.ProtoTCP); got != want {
			t.Fatalf("reply tuple %+v, want %+v", got, want)
		}
		if st := ct.Status(); st&(conntrack.StatusSrcNAT|conntrack.StatusDstNAT) != conntrack.StatusSrcNAT|conntrack.StatusDstNAT {
			t.Fatalf("status %#x: want both ends rewritten", st)
		}
	})
	t.Run("without it", func(t *testing.T) {
		w := hairpinWorld(t, false)
		l := tcp.Of(inet(w, "s")).NewSocket()
		if err := l.Bind(netip.AddrPortFrom(sLAN, 8080)); err != nil {
			t.Fatal(err)
		}
		if err := l.Listen(4); err != nil {
			t.Fatal(err)
		}
		c := tcp.Of(inet(w, "c")).NewSocket()
		if err := c.Connect(netip.AddrPortFrom(rWAN, 80)); !errors.Is(err, syscall.EINPROGRESS) {
			t.Fatal(err)
		}
		w.Run(200 * time.Millisecond)
		if done, _ := c.ConnectDone(); done && c.State() == tcp.Established {
			t.Fatal("connected without the hairpin rule")
		}
		if _, err := l.Accept(); err == nil {
			t.Fatal("s accepted a connection c never opened")
		}
	})
}
