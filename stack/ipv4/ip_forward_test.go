package ipv4_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
	"vnic/header"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/udp"
)

// routerRig is h1 — r — h2 with r forwarding (or not); r's link to h2
// has MTU mtu2.
func routerRig(t *testing.T, forwarding bool, mtu2 int) (*inetRig, *wire, *wire) {
	r := newInetRig(t, "h1", "r", "h2")
	r.link("h1", "198.18.1.2/24", "r", "198.18.1.1/24", 0)
	w2, _ := r.link("r", "198.18.2.1/24", "h2", "198.18.2.2/24", mtu2)
	for _, c := range []struct{ h, gw string }{{"h1", "198.18.1.1"}, {"h2", "198.18.2.1"}} {
		if err := r.inet[c.h].RouteAdd(fib.Route{Gateway: mustAddr(c.gw).As4()}, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.inet["r"].SetForwarding(forwarding); err != nil {
		t.Fatal(err)
	}
	return r, nil, w2
}

func wireOf(r *inetRig, from string) []string {
	var out []string
	for _, l := range r.summary() {
		if strings.HasPrefix(l, from+" IP") {
			out = append(out, l)
		}
	}
	return out
}

// FWD-04/08, V-13: forwarded with TTL−1 and a valid checksum; TTL 1
// arriving → time exceeded from the router.
func TestForwardTTL(t *testing.T) {
	r, _, _ := routerRig(t, true, 0)
	c := ping(t, r.inet["h1"], "198.18.2.2", 1, 56, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	if m, ok := c.Recv(); !ok || m.Type != ipv4.ICMPEchoReply || m.TTL != 63 {
		t.Fatalf("reply %+v %v", m, ok)
	}
	wantLines(t, "router out", wireOf(r, "r/eth1"), []string{"r/eth1 IP 198.18.1.2>198.18.2.2 ICMP 8/0 ttl 63 len 84"})
	wantLines(t, "router back", wireOf(r, "r/eth0"), []string{"r/eth0 IP 198.18.2.2>198.18.1.2 ICMP 0/0 ttl 63 len 84"})
	if s := r.inet["r"].Stats.Snapshot(); s.ForwDatagrams != 2 || s.InDelivers != 0 {
		t.Fatalf("router %+v", s)
	}
	r.frames = nil
	c2 := ping(t, r.inet["h1"], "198.18.2.2", 2, 56, ipv4.PingOptions{TTL: 1})
	r.run(10 * time.Millisecond)
	m, ok := c2.Recv()
	if !ok || !m.IsError || m.Type != ipv4.ICMPTimeExceeded || m.Code != ipv4.ICMPExcTTL || m.From != mustAddr("198.18.1.1") || m.Seq != 2 {
		t.Fatalf("ttl 1: %+v %v", m, ok)
	}
	wantLines(t, "ttl 1", wireOf(r, "r/eth1"), nil)
	// TTL 2 is forwarded with TTL 1 (U-3).
	r.frames = nil
	ping(t, r.inet["h1"], "198.18.2.2", 3, 56, ipv4.PingOptions{TTL: 2})
	r.run(10 * time.Millisecond)
	wantLines(t, "ttl 2", wireOf(r, "r/eth1"), []string{"r/eth1 IP 198.18.1.2>198.18.2.2 ICMP 8/0 ttl 1 len 84"})
}

// PMTU-02, FWD-06: DF and too big for the egress link → fragmentation
// needed carrying its MTU, nothing sent on; without DF → fragmented by the
// router and reassembled at h2.
func TestForwardMTU(t *testing.T) {
	r, _, _ := routerRig(t, true, 1280)
	c := ping(t, r.inet["h1"], "198.18.2.2", 1, 1400, ipv4.PingOptions{DF: true})
	r.run(10 * time.Millisecond)
	m, ok := c.Recv()
	if !ok || !m.IsError || m.Type != ipv4.ICMPDestUnreach || m.Code != ipv4.ICMPFragNeeded || m.Info != 1280 || m.From != mustAddr("198.18.1.1") {
		t.Fatalf("DF: %+v %v", m, ok)
	}
	wantLines(t, "DF", wireOf(r, "r/eth1"), nil)
	if s := r.inet["r"].Stats.Snapshot(); s.FragFails != 1 {
		t.Fatalf("router %+v", s)
	}
	r.frames = nil
	c2 := ping(t, r.inet["h1"], "198.18.2.2", 2, 1400, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	if m, ok := c2.Recv(); !ok || m.Type != ipv4.ICMPEchoReply || m.Len != 1408 {
		t.Fatalf("no DF: %+v %v", m, ok)
	}
	wantLines(t, "fragmented by the router", wireOf(r, "r/eth1"), []string{
		"r/eth1 IP 198.18.1.2>198.18.2.2 frag off 0 mf 1 ICMP 8/0 ttl 63 len 1276",
		"r/eth1 IP 198.18.1.2>198.18.2.2 frag off 157 mf 0 ttl 63 len 172",
	})
}

// With forwarding off a packet for another host is counted
// (InAddrErrors) and dropped without an ICMP message, as Linux's ip_error
// does; turning forwarding on disables LRO on the devices.
func TestForwardingOff(t *testing.T) {
	r, _, _ := routerRig(t, false, 0)
	c := ping(t, r.inet["h1"], "198.18.2.2", 1, 56, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	if m, ok := c.Recv(); ok {
		t.Fatalf("got %+v", m)
	}
	wantLines(t, "router sends", append(wireOf(r, "r/eth0"), wireOf(r, "r/eth1")...), nil)
	if s := r.inet["r"].Stats.Snapshot(); s.InAddrErrors != 1 || s.ForwDatagrams != 0 {
		t.Fatalf("router %+v", s)
	}
}

// With no route at a forwarding router: net unreachable to the source,
// InNoRoutes.
func TestForwardNoRoute(t *testing.T) {
	r, _, _ := routerRig(t, true, 0)
	c := ping(t, r.inet["h1"], "203.0.113.9", 1, 56, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	m, ok := c.Recv()
	if !ok || m.Type != ipv4.ICMPDestUnreach || m.Code != ipv4.ICMPNetUnreach || m.From != mustAddr("198.18.1.1") {
		t.Fatalf("%+v %v", m, ok)
	}
	if s := r.inet["r"].Stats.Snapshot(); s.InNoRoutes != 1 {
		t.Fatalf("%+v", s)
	}
}

// §16: the hooks each path passes, in order, recorded on every host.
func TestHookOrderPerPath(t *testing.T) {
	r, _, _ := routerRig(t, true, 0)
	var log []string
	for _, name := range []string{"h1", "r", "h2"} {
		for h := stack.NFPreRouting; h < stack.NumNFHooks; h++ {
			ops := &stack.NFHookOps{Name: "rec", Hook: h, Fn: func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
				log = append(log, fmt.Sprintf("%s %v", name, st.Hook))
				return stack.NFAccept
			}}
			if err := r.hosts[name].Netfilter().Register(ops); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.inet["h1"].NeighAdd(r.hosts["h1"].Devices()[1], mustAddr("198.18.1.1"), r.hosts["r"].Devices()[1].Addr())
	r.inet["r"].NeighAdd(r.hosts["r"].Devices()[2], mustAddr("198.18.2.2"), r.hosts["h2"].Devices()[1].Addr())
	r.inet["h2"].NeighAdd(r.hosts["h2"].Devices()[1], mustAddr("198.18.2.1"), r.hosts["r"].Devices()[2].Addr())
	r.inet["r"].NeighAdd(r.hosts["r"].Devices()[1], mustAddr("198.18.1.2"), r.hosts["h1"].Devices()[1].Addr())
	c := ping(t, r.inet["h1"], "198.18.2.2", 1, 56, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	if _, ok := c.Recv(); !ok {
		t.Fatal("no reply")
	}
	wantLines(t, "hooks", log, []string{
		"h1 LOCAL_OUT", "h1 POST_ROUTING",
		"r PRE_ROUTING", "r FORWARD", "r POST_ROUTING",
		"h2 PRE_ROUTING", "h2 LOCAL_IN", "h2 LOCAL_OUT", "h2 POST_ROUTING",
		"r PRE_ROUTING", "r FORWARD", "r POST_ROUTING",
		"h1 PRE_ROUTING", "h1 LOCAL_IN",
	})
}

// A-RX-03: a PRE_ROUTING hook that rewrites the destination to a local
// address makes the packet local; one that drops it stops it before
// routing (no lookup).
func TestPreRoutingRewrite(t *testing.T) {
	r, _, _ := routerRig(t, true, 0)
	ops := &stack.NFHookOps{Name: "dnat", Hook: stack.NFPreRouting, Fn: func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
		d := skb.Data()
		if d[9] == ipv4.IPProtoICMP && d[16] == 198 && d[18] == 2 && d[19] == 2 {
			copy(d[16:20], []byte{198, 18, 1, 1})
			setIPChecksum(d[:20])
		}
		return stack.NFAccept
	}}
	if err := r.hosts["r"].Netfilter().Register(ops); err != nil {
		t.Fatal(err)
	}
	c := ping(t, r.inet["h1"], "198.18.2.2", 1, 56, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	m, ok := c.Recv()
	if !ok || m.From != mustAddr("198.18.1.1") || m.Type != ipv4.ICMPEchoReply {
		t.Fatalf("%+v %v", m, ok)
	}
	if s := r.inet["r"].Stats.Snapshot(); s.ForwDatagrams != 0 || s.InDelivers != 1 {
		t.Fatalf("%+v", s)
	}
}

// UDP: port unreachable from a closed port (NoPorts), seen by a connected
// socket as ECONNREFUSED; a zero checksum is accepted; a bad one counted.
func TestUDPPortUnreachAndChecksums(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	cli, err := udp.Listen(r.inet["h1"], netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	if p := cli.LocalAddrPort().Port(); p < 32768 || p > 60999 {
		t.Fatalf("ephemeral port %d", p)
	}
	if err := cli.Connect(netip.MustParseAddrPort("198.18.0.2:7777")); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Send([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	r.run(10 * time.Millisecond)
	if _, err := cli.Send([]byte("again")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("after port unreachable: %v", err)
	}
	if s := udp.Of(r.inet["h2"]).Stats.Snapshot(); s.NoPorts != 1 {
		t.Fatalf("h2 %+v", s)
	}
	if s := r.inet["h2"].ICMPStats.Snapshot(); s.OutType[ipv4.ICMPDestUnreach] != 1 {
		t.Fatalf("h2 icmp %+v", s)
	}
	srv, err := udp.Listen(r.inet["h2"], netip.MustParseAddrPort("198.18.0.2:7777"))
	if err != nil {
		t.Fatal(err)
	}
	// A second socket on the same address and port is refused.
	if _, err := udp.Listen(r.inet["h2"], netip.MustParseAddrPort("0.0.0.0:7777")); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second bind: %v", err)
	}
	cli.NoChecksum = true
	if _, err := cli.Send([]byte("no checksum")); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	buf := make([]byte, 100)
	if n, from, _, err := srv.Recv(buf); err != nil || string(buf[:n]) != "no checksum" || from != cli.LocalAddrPort() {
		t.Fatalf("zero checksum: %q from %v: %v", buf[:n], from, err)
	}
	// Corrupt one payload byte on the wire: counted, not delivered.
	w1.drop = func(b []byte) bool {
		c := append([]byte(nil), b...)
		c[14+20+8] ^= 0xff // the first payload byte
		r.inject(w2, c)
		return true
	}
	cli.NoChecksum = false
	if _, err := cli.Send([]byte("checked")); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	if _, _, _, err := srv.Recv(buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("corrupt datagram delivered: %v", err)
	}
	if s := udp.Of(r.inet["h2"]).Stats.Snapshot(); s.InCsumErrors != 1 || s.InErrors != 1 || s.InDatagrams != 1 {
		t.Fatalf("h2 %+v", s)
	}
}

// Linux's per-destination ICMP limit: a burst of six, then one a second
// (icmp_ratelimit 1000 ms); echo replies are not limited.
func TestICMPRateLimit(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	cli, err := udp.Listen(r.inet["h1"], netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := cli.SendTo([]byte("x"), netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
				t.Fatal(err)
			}
			r.run(10 * time.Millisecond)
		}
	}
	send(20) // 200 ms
	out := func() uint64 { return r.inet["h2"].ICMPStats.Snapshot().OutType[ipv4.ICMPDestUnreach] }
	if got := out(); got != 6 {
		t.Fatalf("burst: %d port unreachables, want 6", got)
	}
	if got := r.inet["h2"].ICMPStats.Snapshot().OutRateLimitHost; got != 14 {
		t.Fatalf("held back %d, want 14", got)
	}
	r.run(time.Second)
	send(3)
	if got := out(); got != 7 {
		t.Fatalf("after a second: %d, want 7", got)
	}
	for i := 0; i < 20; i++ {
		ping(t, r.inet["h1"], "198.18.0.2", uint16(i), 8, ipv4.PingOptions{})
	}
	r.run(10 * time.Millisecond)
	if got := r.inet["h2"].ICMPStats.Snapshot().OutType[ipv4.ICMPEchoReply]; got != 20 {
		t.Fatalf("echo replies %d", got)
	}
}

// §7: no ICMP error about a packet to a broadcast address, a non-first
// fragment, an ICMP error, or one from a zero, multicast or broadcast
// source; a plain one to a closed port gets port unreachable.
func TestICMPErrorSuppression(t *testing.T) {
	for _, c := range []struct {
		name     string
		src, dst [4]byte
		frag     uint16
		proto    uint8
		l4       []byte
		dstMAC   stack.MAC // zero: h2's
		want     uint64
	}{
		{"plain", [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}, 0, ipv4.IPProtoUDP, []byte{0, 1, 0, 9, 0, 8, 0, 0}, stack.MAC{}, 1},
		{"to the subnet broadcast", [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 255}, 0, ipv4.IPProtoUDP, []byte{0, 1, 0, 9, 0, 8, 0, 0}, stack.BroadcastMAC, 0},
		{"to 255.255.255.255", [4]byte{198, 18, 0, 1}, [4]byte{255, 255, 255, 255}, 0, ipv4.IPProtoUDP, []byte{0, 1, 0, 9, 0, 8, 0, 0}, stack.BroadcastMAC, 0},
		{"non-first fragment", [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}, 1, 99, make([]byte, 8), stack.MAC{}, 0},
		{"first fragment of an unknown protocol", [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}, ipv4.IPMF, 99, make([]byte, 8), stack.MAC{}, 0},
		{"unknown protocol", [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}, 0, 99, make([]byte, 8), stack.MAC{}, 1},
		{"an ICMP error", [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}, 0, ipv4.IPProtoICMP, []byte{3, 3, 0xfc, 0xfc, 0, 0, 0, 0}, stack.MAC{}, 0},
		{"from 0.0.0.0", [4]byte{0, 0, 0, 0}, [4]byte{198, 18, 0, 2}, 0, ipv4.IPProtoUDP, []byte{0, 1, 0, 9, 0, 8, 0, 0}, stack.MAC{}, 0},
		{"from a multicast source", [4]byte{224, 0, 0, 1}, [4]byte{198, 18, 0, 2}, 0, ipv4.IPProtoUDP, []byte{0, 1, 0, 9, 0, 8, 0, 0}, stack.MAC{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newInetRig(t, "h1", "h2")
			w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
			r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
			f := make([]byte, 14+20+len(c.l4))
			mac := c.dstMAC
			if mac == (stack.MAC{}) {
				mac = w2.dev.Addr()
			}
			src := w1.dev.Addr()
			copy(f[0:6], mac[:])
			copy(f[6:12], src[:])
			f[12] = 0x08
			ip := f[14:]
			ip[0], ip[8], ip[9] = 0x45, 64, c.proto
			ip[2], ip[3] = byte((20+len(c.l4))>>8), byte(20+len(c.l4))
			ip[6], ip[7] = byte(c.frag>>8), byte(c.frag)
			copy(ip[12:16], c.src[:])
			copy(ip[16:20], c.dst[:])
			copy(ip[20:], c.l4)
			setIPChecksum(ip[:20])
			r.inject(w2, f)
			r.run(10 * time.Millisecond)
			ic := r.inet["h2"].ICMPStats.Snapshot()
			if got := ic.OutType[ipv4.ICMPDestUnreach]; got != c.want {
				t.Fatalf("%d destination unreachable sent, want %d", got, c.want)
			}
		})
	}
}

// A-TX-07: a LOCAL_OUT hook that changes the destination sends the
// packet by the new destination's route.
func TestLocalOutRewriteReroutes(t *testing.T) {
	r := newInetRig(t, "h1", "h2", "h3")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	r.link("h1", "198.18.3.1/24", "h3", "198.18.3.3/24", 0)
	// The request keeps its source (198.18.0.1): h3 answers by h1.
	if err := r.inet["h3"].RouteAdd(fib.Route{Gateway: [4]byte{198, 18, 3, 1}}, false); err != nil {
		t.Fatal(err)
	}
	ops := &stack.NFHookOps{Name: "dnat", Hook: stack.NFLocalOut, Fn: func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
		d := skb.Data()
		if d[9] == ipv4.IPProtoICMP && d[16] == 198 && d[18] == 0 && d[19] == 2 {
			d[18], d[19] = 3, 3
			setIPChecksum(d[:20])
		}
		return stack.NFAccept
	}}
	if err := r.hosts["h1"].Netfilter().Register(ops); err != nil {
		t.Fatal(err)
	}
	c := ping(t, r.inet["h1"], "198.18.0.2", 1, 8, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	m, ok := c.Recv()
	if !ok || m.From != mustAddr("198.18.3.3") {
		t.Fatalf("reply %+v %v", m, ok)
	}
	if got := r.inet["h2"].Stats.Snapshot().InReceives; got != 0 {
		t.Fatalf("h2 received %d", got)
	}
}

// RouteMeHarder: a LOCAL_OUT hook that changes the destination routes
// the packet itself (NAT's nf_nat_ipv4_local_fn), so dst_output finds it
// routed; a destination without a route is an error the hook drops on.
func TestRouteMeHarder(t *testing.T) {
	r := newInetRig(t, "h1", "h2", "h3")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	r.link("h1", "198.18.3.1/24", "h3", "198.18.3.3/24", 0)
	if err := r.inet["h3"].RouteAdd(fib.Route{Gateway: [4]byte{198, 18, 3, 1}}, false); err != nil {
		t.Fatal(err)
	}
	var errs []error
	ops := &stack.NFHookOps{Name: "dnat", Hook: stack.NFLocalOut, Fn: func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
		d := skb.Data()
		if d[9] != ipv4.IPProtoICMP || d[16] != 198 || d[18] != 0 {
			return stack.NFAccept
		}
		d[18], d[19] = 3, 3 // the first echo: 198.18.3.3, by h1's other link
		if seq := uint16(d[26])<<8 | uint16(d[27]); seq == 2 {
			d[16] = 203 // the second: 203.18.3.3, which has no route
		}
		setIPChecksum(d[:20])
		if err := r.inet["h1"].RouteMeHarder(skb); err != nil {
			errs = append(errs, err)
			return stack.NFDrop
		}
		if ipv4.SkbRtable(skb).Dev.Name() != st.Out.Name() {
			return stack.NFAccept
		}
		errs = append(errs, errors.New("not rerouted"))
		return stack.NFDrop
	}}
	if err := r.hosts["h1"].Netfilter().Register(ops); err != nil {
		t.Fatal(err)
	}
	c := ping(t, r.inet["h1"], "198.18.0.2", 1, 8, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	if m, ok := c.Recv(); !ok || m.From != mustAddr("198.18.3.3") {
		t.Fatalf("reply %+v %v", m, ok)
	}
	if err := c.SendEcho(mustAddr("198.18.0.2"), 2, make([]byte, 8), ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	r.run(10 * time.Millisecond)
	if len(errs) != 1 || !errors.Is(errs[0], syscall.ENETUNREACH) {
		t.Fatalf("errors %v, want one ENETUNREACH (the second echo)", errs)
	}
	if got := r.inet["h2"].Stats.Snapshot().InReceives; got != 0 {
		t.Fatalf("h2 received %d", got)
	}
}

// A-RX-08 and FWD-02: a raw socket gets a copy of each local datagram of
// its protocol beside the handler; with one, an unknown protocol is
// delivered (no protocol unreachable); a router's Router Alert socket
// takes a forwarded packet carrying the option, which goes no further.
func TestRawSocketsAndRouterAlert(t *testing.T) {
	r, _, _ := routerRig(t, true, 0)
	raw99, err := r.inet["h2"].OpenRaw(99, false)
	if err != nil {
		t.Fatal(err)
	}
	rawICMP, err := r.inet["h2"].OpenRaw(ipv4.IPProtoICMP, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.inet["h1"].OpenRaw(99, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendTo([]byte("ninety-nine"), mustAddr("198.18.2.2"), 0); err != nil {
		t.Fatal(err)
	}
	c := ping(t, r.inet["h1"], "198.18.2.2", 1, 8, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	d, ok := raw99.Recv()
	if !ok || len(d) != 20+11 || string(d[20:]) != "ninety-nine" || d[9] != 99 {
		t.Fatalf("raw 99 got %q %v", d, ok)
	}
	if d, ok := rawICMP.Recv(); !ok || d[20] != ipv4.ICMPEcho {
		t.Fatalf("raw ICMP got %x %v", d, ok)
	}
	if m, ok := c.Recv(); !ok || m.Type != ipv4.ICMPEchoReply {
		t.Fatal("the stack did not answer the echo beside the raw socket")
	}
	if st := r.inet["h2"].Stats.Snapshot(); st.InUnknownProtos != 0 || st.InDelivers != 2 {
		t.Fatalf("h2 %+v", st)
	}
	if got := r.inet["h2"].ICMPStats.Snapshot().OutType[ipv4.ICMPDestUnreach]; got != 0 {
		t.Fatalf("%d protocol unreachables", got)
	}
	raw99.Close()

	// Router Alert at the router.
	ra, err := r.inet["r"].OpenRaw(99, true)
	if err != nil {
		t.Fatal(err)
	}
	rdev := r.hosts["r"].Devices()[1]
	var w *wire
	for _, h := range []string{"r"} {
		for _, d := range r.hosts[h].Devices() {
			if d == rdev {
				w = d.Ops().(*wire)
			}
		}
	}
	f := make([]byte, 14+24+4)
	mac := rdev.Addr()
	copy(f[0:6], mac[:])
	f[12] = 0x08
	ip := f[14:]
	ip[0], ip[3], ip[8], ip[9] = 0x46, 28, 64, 99
	copy(ip[12:], []byte{198, 18, 1, 2, 198, 18, 2, 2})
	copy(ip[20:24], []byte{ipv4.IPOptRA, 4, 0, 0})
	setIPChecksum(ip[:24])
	r.frames = nil
	before := r.inet["r"].Stats.Snapshot().ForwDatagrams
	r.inject(w, f)
	r.run(10 * time.Millisecond)
	if d, ok := ra.Recv(); !ok || len(d) != 28 || d[20] != ipv4.IPOptRA {
		t.Fatalf("router alert socket got %x %v", d, ok)
	}
	if st := r.inet["r"].Stats.Snapshot(); st.ForwDatagrams != before {
		t.Fatal("a packet a Router Alert socket took was forwarded")
	}
	wantLines(t, "router out", wireOf(r, "r/eth1"), nil)
}

// A-RF-12: reverse-path filtering. Strict: a packet whose way back leaves
// by another device is dropped (IPReversePathFilter); loose: any unicast
// route back will do; none: no check.
func TestReversePathFilter(t *testing.T) {
	for _, c := range []struct {
		mode      int
		src       [4]byte
		forwarded bool
	}{
		{0, [4]byte{198, 18, 2, 9}, true},
		{1, [4]byte{198, 18, 1, 2}, true},
		{1, [4]byte{198, 18, 2, 9}, false},
		{2, [4]byte{198, 18, 2, 9}, true},
		{2, [4]byte{203, 0, 113, 5}, false},
	} {
		r, _, _ := routerRig(t, true, 0)
		in := r.inet["r"]
		if err := in.SetRPFilter(nil, c.mode); err != nil {
			t.Fatal(err)
		}
		eth0 := r.hosts["r"].Devices()[1]
		in.NeighAdd(r.hosts["r"].Devices()[2], mustAddr("198.18.2.2"), stack.MAC{2, 0, 0, 0, 0, 0x42})
		f := make([]byte, 14+28)
		mac := eth0.Addr()
		copy(f[0:6], mac[:])
		f[12] = 0x08
		ip := f[14:]
		ip[0], ip[3], ip[8], ip[9] = 0x45, 28, 64, ipv4.IPProtoUDP
		copy(ip[12:16], c.src[:])
		copy(ip[16:20], []byte{198, 18, 2, 2})
		copy(ip[20:], []byte{0, 1, 0, 9, 0, 8, 0, 0})
		setIPChecksum(ip[:20])
		r.inject(eth0.Ops().(*wire), f)
		r.run(time.Millisecond)
		st := in.Stats.Snapshot()
		if (st.ForwDatagrams == 1) != c.forwarded || (st.InRPFilter == 1) == c.forwarded {
			t.Errorf("rp_filter %d from %v: %+v", c.mode, c.src, st)
		}
	}
	r, _, _ := routerRig(t, true, 0)
	if err := r.inet["r"].SetRPFilter(nil, 3); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("mode 3: %v", err)
	}
}

// ip_options_compile and ip_forward_options: a forwarded packet's record
// route gets the router's outgoing address (the slot compiling filled
// with the incoming one is overwritten as it leaves), while an
// address-and-timestamp entry keeps the address compiling wrote, the
// router's address towards the source (fib_compute_spec_dst): Linux
// rewrites it only for a source-routed hop.
func TestForwardRecordsAddresses(t *testing.T) {
	r, _, _ := routerRig(t, true, 0)
	r.run(1234 * time.Millisecond)
	var w *wire
	// r's eth0 (198.18.1.1) faces h1; inject there as if from h1.
	for _, f := range r.hosts["r"].Devices() {
		if f.Name() == "eth0" {
			w = &wire{dev: f}
		}
	}
	opts := cat([]byte{7, 7, 4}, z4, []byte{1, 68, 12, 5, 1}, z4, z4)
	f := ipFrame(w, [4]byte{198, 18, 2, 2}, opts, ipv4.IPProtoICMP, echoRequest(8))
	copy(f[14+12:], []byte{198, 18, 1, 2})
	setIPChecksum(f[14 : 14+20+len(opts)])
	r.frames = nil
	at := r.clk.Now()
	r.inject(w, f)
	r.run(time.Millisecond)
	var got []byte
	for _, fr := range r.frames {
		if fr.from == "r/eth1" {
			got = fr.b[14+20 : 14+20+len(opts)]
		}
	}
	want := cat([]byte{7, 7, 8}, []byte{198, 18, 2, 1}, []byte{1, 68, 12, 13, 1}, []byte{198, 18, 1, 1}, stamp(at))
	if string(got) != string(want) {
		t.Fatalf("forwarded options % d\nwant % d\n%v", got, want, r.summary())
	}
}

// FWD-06 for a GSO packet (ip_finish_output_gso): a train of four 1400-byte
// TCP segments arriving as one GSO packet without DF, forwarded onto a
// 1280-byte link, is segmented in software and each segment fragmented;
// h2 reassembles four TCP segments with their own sequence numbers,
// checksums and PSH on the last only. With DF the router answers
// fragmentation needed instead and sends nothing on.
func TestForwardGSOResegmented(t *testing.T) {
	for _, df := range []bool{false, true} {
		t.Run(fmt.Sprintf("df=%v", df), func(t *testing.T) {
			r := newInetRig(t, "h1", "r", "h2")
			_, rIn := r.link("h1", "198.18.1.2/24", "r", "198.18.1.1/24", 0)
			r.link("r", "198.18.2.1/24", "h2", "198.18.2.2/24", 1280)
			if err := r.inet["h2"].RouteAdd(fib.Route{Gateway: mustAddr("198.18.2.1").As4()}, false); err != nil {
				t.Fatal(err)
			}
			if err := r.inet["r"].SetForwarding(true); err != nil {
				t.Fatal(err)
			}
			raw, err := r.inet["h2"].OpenRaw(ipv4.IPProtoTCP, false)
			if err != nil {
				t.Fatal(err)
			}
			const mss, segs = 1400, 4
			payload := make([]byte, mss*segs)
			for i := range payload {
				payload[i] = byte(i * 7)
			}
			th := make([]byte, 20)
			binary.BigEndian.PutUint16(th[0:], 40000)
			binary.BigEndian.PutUint16(th[2:], 80)
			binary.BigEndian.PutUint32(th[4:], 1000)
			binary.BigEndian.PutUint32(th[8:], 1)
			th[12], th[13] = 5<<4, header.TCPAck|header.TCPPsh
			binary.BigEndian.PutUint16(th[14:], 512)
			f := ipFrame(rIn, [4]byte{198, 18, 2, 2}, nil, ipv4.IPProtoTCP, append(th, payload...))
			ip := header.IPv4(f[14:])
			copy(ip[12:], []byte{198, 18, 1, 2})
			if df {
				ip.SetFlagsFrag(ipv4.IPDF)
			}
			ip.UpdateChecksum()
			d := rIn.dev
			s := d.Host().Pool().Alloc(len(f) + stack.NetIPAlign)
			s.Reserve(stack.NetIPAlign)
			copy(s.Put(len(f)), f)
			s.Protocol = stack.EthTypeTrans(s, d)
			// As GRO leaves a merged train: verified, GSO fields set.
			s.GSOSize, s.GSOSegs, s.GSOType, s.IPSummed = mss, segs, stack.GSOTCPv4, stack.ChecksumUnnecessary
			_ = stack.NetifRx(s, 0)
			r.run(10 * time.Millisecond)

			out := wireOf(r, "r/eth1")
			if df {
				wantLines(t, "DF", out, nil)
				if n := r.inet["r"].ICMPStats.Snapshot().OutType[ipv4.ICMPDestUnreach]; n != 1 {
					t.Fatalf("%d destination unreachables, want 1 (fragmentation needed)", n)
				}
				return
			}
			var want []string
			for range segs {
				want = append(want,
					"r/eth1 IP 198.18.1.2>198.18.2.2 frag off 0 mf 1 ttl 63 len 1276",
					"r/eth1 IP 198.18.1.2>198.18.2.2 frag off 157 mf 0 ttl 63 len 184")
			}
			wantLines(t, "segmented, then fragmented", out, want)
			for k := range segs {
				dg, ok := raw.Recv()
				if !ok {
					t.Fatalf("segment %d not reassembled at h2", k)
				}
				dip := header.IPv4(dg)
				seg := header.TCP(dg[dip.HeaderLen():])
				if int(dip.TotalLen()) != 20+20+mss || seg.Seq() != uint32(1000+k*mss) {
					t.Fatalf("segment %d: len %d seq %d", k, dip.TotalLen(), seg.Seq())
				}
				if got, want := seg.Flags()&header.TCPPsh != 0, k == segs-1; got != want {
					t.Fatalf("segment %d: PSH %v", k, got)
				}
				sum := header.PseudoHeaderIPv4(dip.Src(), dip.Dst(), header.ProtoTCP, uint16(len(seg)))
				if header.Fold(header.Sum(seg, sum)) != 0xffff {
					t.Fatalf("segment %d: bad TCP checksum", k)
				}
				if !bytes.Equal(seg[20:], payload[k*mss:(k+1)*mss]) {
					t.Fatalf("segment %d: payload differs", k)
				}
			}
			st := r.inet["r"].Stats.Snapshot()
			// h2 has no listener: its four resets come back through r.
			if st.ForwDatagrams != 1+segs || st.FragOKs != segs || st.FragCreates != 2*segs || st.FragFails != 0 {
				t.Fatalf("router %+v", st)
			}
			if o := r.hosts["r"].OffloadStats(); o.GSOPackets != 1 || o.GSOSegments != segs {
				t.Fatalf("router offload %+v", o)
			}
		})
	}
}
