package ipv4_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"vnic/hw"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/udp"
)

// TestICMPInErrors: Icmp InErrors as Linux's icmp_rcv counts it: an echo
// or timestamp request to a broadcast or multicast address that
// icmp_echo_ignore_broadcasts ignores, a type Linux does not know (over
// 18, but for RFC 8335's extended echo, unanswered with
// icmp_echo_enable_probe off), any other type but echo, timestamp and
// address mask to a broadcast; a known type that is only counted
// (timestamp reply, information request) is no error. Checked against
// the kernel in a netns with nstat: types 19 and 42, a timestamp request
// to a broadcast.
func TestICMPInErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dst    [4]byte
		mac    stack.MAC // zero: h2's
		typ    uint8
		errors uint64
	}{
		{"echo to the subnet broadcast", [4]byte{198, 18, 0, 255}, stack.BroadcastMAC, ipv4.ICMPEcho, 1},
		{"timestamp to the subnet broadcast", [4]byte{198, 18, 0, 255}, stack.BroadcastMAC, ipv4.ICMPTimestamp, 1},
		{"echo to all-hosts", [4]byte{224, 0, 0, 1}, stack.MAC{1, 0, 0x5e, 0, 0, 1}, ipv4.ICMPEcho, 1},
		{"echo reply to a broadcast", [4]byte{198, 18, 0, 255}, stack.BroadcastMAC, ipv4.ICMPEchoReply, 1},
		{"address mask request to a broadcast", [4]byte{198, 18, 0, 255}, stack.BroadcastMAC, 17, 0},
		{"unknown type 19", [4]byte{198, 18, 0, 2}, stack.MAC{}, 19, 1},
		{"unknown type 200", [4]byte{198, 18, 0, 2}, stack.MAC{}, 200, 1},
		{"extended echo (PROBE off)", [4]byte{198, 18, 0, 2}, stack.MAC{}, 42, 0},
		{"extended echo reply", [4]byte{198, 18, 0, 2}, stack.MAC{}, 43, 0},
		{"timestamp reply", [4]byte{198, 18, 0, 2}, stack.MAC{}, ipv4.ICMPTimestampReply, 0},
		{"information request", [4]byte{198, 18, 0, 2}, stack.MAC{}, 15, 0},
		{"type 18", [4]byte{198, 18, 0, 2}, stack.MAC{}, 18, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInetRig(t, "h1", "h2")
			w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
			r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
			m := make([]byte, 20)
			m[0] = tc.typ
			f := ipFrame(w2, tc.dst, nil, ipv4.IPProtoICMP, m)
			if tc.mac != (stack.MAC{}) {
				copy(f[0:6], tc.mac[:])
			}
			r.inject(w2, f)
			r.run(time.Millisecond)
			ic := r.inet["h2"].ICMPStats.Snapshot()
			if ic.InMsgs != 1 || ic.InType[tc.typ] != 1 || ic.InErrors != tc.errors {
				t.Fatalf("InMsgs %d InType %d InErrors %d, want 1 1 %d", ic.InMsgs, ic.InType[tc.typ], ic.InErrors, tc.errors)
			}
			if ic.OutMsgs != 0 {
				t.Fatalf("answered: %+v", r.summary())
			}
		})
	}
}

// TestForwardCounters: ForwDatagrams (OUTFORWDATAGRAMS) counts every
// packet ip_forward gets past its TTL and source-route checks, including
// one then dropped as too big with DF (which also counts in FragFails);
// a TTL 1 drop is not counted.
func TestForwardCounters(t *testing.T) {
	r, _, _ := routerRig(t, true, 1280)
	c := ping(t, r.inet["h1"], "198.18.2.2", 1, 1400, ipv4.PingOptions{DF: true})
	r.run(10 * time.Millisecond)
	if m, ok := c.Recv(); !ok || m.Code != ipv4.ICMPFragNeeded {
		t.Fatalf("%+v %v", m, ok)
	}
	if s := r.inet["r"].Stats.Snapshot(); s.ForwDatagrams != 1 || s.FragFails != 1 {
		t.Fatalf("too big: ForwDatagrams %d FragFails %d", s.ForwDatagrams, s.FragFails)
	}
	ping(t, r.inet["h1"], "198.18.2.2", 2, 56, ipv4.PingOptions{TTL: 1})
	r.run(10 * time.Millisecond)
	if s := r.inet["r"].Stats.Snapshot(); s.ForwDatagrams != 1 || s.InHdrErrors != 1 {
		t.Fatalf("ttl 1: ForwDatagrams %d InHdrErrors %d", s.ForwDatagrams, s.InHdrErrors)
	}
}

// TestOutNoRoutes: OutNoRoutes counts a socket's send that finds no route
// (ENETUNREACH, as ping_v4_sendmsg, udp_sendmsg and raw_sendmsg count
// it); an unreachable route (EHOSTUNREACH) and an ICMP message that
// cannot be routed back count nothing.
func TestOutNoRoutes(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	in := r.inet["h2"]
	in.NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
	c, err := in.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendEcho(mustAddr("203.0.113.1"), 1, nil, ipv4.PingOptions{}); err == nil {
		t.Fatal("sent without a route")
	}
	if got := in.Stats.Snapshot().OutNoRoutes; got != 1 {
		t.Fatalf("no route: OutNoRoutes %d, want 1", got)
	}
	if err := in.RouteAdd(fib.Route{Dst: [4]byte{203, 0, 113, 0}, Len: 24, Type: fib.RTNUnreachable}, false); err != nil {
		t.Fatal(err)
	}
	if err := c.SendEcho(mustAddr("203.0.113.1"), 2, nil, ipv4.PingOptions{}); err == nil {
		t.Fatal("sent on an unreachable route")
	}
	// An echo from a source with no route back: no reply, not counted.
	f := ipFrame(w2, [4]byte{198, 18, 0, 2}, nil, ipv4.IPProtoICMP, echoRequest(8))
	copy(f[14+12:], []byte{192, 0, 2, 7})
	setIPChecksum(f[14:34])
	if err := in.SetRPFilter(w2.dev, 0); err != nil {
		t.Fatal(err)
	}
	r.inject(w2, f)
	r.run(time.Millisecond)
	if got := in.Stats.Snapshot().OutNoRoutes; got != 1 {
		t.Fatalf("OutNoRoutes %d, want 1 (the send without a route)", got)
	}
}

// TestICMPRateLimitOrder: Linux 6.18's order. The host-wide budget is
// only looked at first (icmpv4_global_allow); its credit is taken after
// the per-destination limit let the message through
// (icmp_global_consume in icmpv4_xrlim_allow), so messages the
// per-destination limit holds back (OutRateLimitHost) cost the budget
// nothing and never count in OutRateLimitGlobal.
func TestICMPRateLimitOrder(t *testing.T) {
	r := newInetRig(t, "h1")
	h := stack.NewHost("h2", r.clk, []stack.CPU{hw.NewCPU(0, r.clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := inet.Init(h, ipv4.InetConfig{Seed: 1, ICMPMsgsPerSec: 1, ICMPMsgsBurst: 13})
	if err != nil {
		t.Fatal(err)
	}
	r.hosts["h2"], r.inet["h2"] = h, in
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	in.NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
	for range 30 {
		r.inject(w2, ipFrame(w2, [4]byte{198, 18, 0, 2}, nil, 253, make([]byte, 8)))
	}
	r.run(time.Millisecond)
	ic := in.ICMPStats.Snapshot()
	if ic.OutType[ipv4.ICMPDestUnreach] != 6 || ic.OutRateLimitHost != 24 || ic.OutRateLimitGlobal != 0 {
		t.Fatalf("sent %d, held back per destination %d, by the budget %d; want 6 24 0",
			ic.OutType[ipv4.ICMPDestUnreach], ic.OutRateLimitHost, ic.OutRateLimitGlobal)
	}
}

// TestFragNeededNotRateLimited: fragmentation needed is never rate
// limited (icmpv4_mask_allow: path MTU discovery must not stall), though
// destination unreachable is in icmp_ratemask.
func TestFragNeededNotRateLimited(t *testing.T) {
	r, _, _ := routerRig(t, true, 1280)
	c, err := r.inet["h1"].OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := c.SendEcho(mustAddr("198.18.2.2"), uint16(i), make([]byte, 1400), ipv4.PingOptions{DF: true}); err != nil {
			t.Fatal(err)
		}
	}
	r.run(10 * time.Millisecond)
	ic := r.inet["r"].ICMPStats.Snapshot()
	if ic.OutType[ipv4.ICMPDestUnreach] != 10 || ic.OutRateLimitHost != 0 {
		t.Fatalf("sent %d, held back %d; want 10 0", ic.OutType[ipv4.ICMPDestUnreach], ic.OutRateLimitHost)
	}
}

// TestICMPErrorDelivery: icmp_unreach. An error goes to the socket of the
// datagram it quotes; destination unreachable codes over 15 and a
// reassembly timeout go to no one, without an error count; a quoted
// header with IHL under 5, or without 8 bytes after it, counts in
// InErrors.
func TestICMPErrorDelivery(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ, code uint8
		ihl       byte
		after     int // bytes after the quoted header
		delivered bool
		errors    uint64
	}{
		{"port unreachable", 3, 3, 5, 8, true, 0},
		{"code 15", 3, 15, 5, 8, true, 0},
		{"code 16", 3, 16, 5, 8, false, 0},
		{"ttl exceeded", 11, 0, 5, 8, true, 0},
		{"reassembly timeout", 11, 1, 5, 8, false, 0},
		{"IHL 4", 3, 3, 4, 8, false, 1},
		{"4 bytes after the header", 3, 3, 5, 4, false, 1},
		{"a quoted header of another version", 3, 3, 5, 8, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInetRig(t, "h1", "h2")
			w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
			in := r.inet["h2"]
			in.NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
			c, err := in.OpenPing()
			if err != nil {
				t.Fatal(err)
			}
			quoted := make([]byte, 20+tc.after)
			quoted[0] = 0x40 | tc.ihl
			if tc.name == "a quoted header of another version" {
				quoted[0] = 0x60 | tc.ihl
			}
			quoted[9] = ipv4.IPProtoICMP
			copy(quoted[12:], []byte{198, 18, 0, 2, 198, 18, 0, 9})
			if tc.after >= 8 {
				quoted[20] = ipv4.ICMPEcho
				binary.BigEndian.PutUint16(quoted[24:], c.ID())
				binary.BigEndian.PutUint16(quoted[26:], 5)
			}
			m := append([]byte{tc.typ, tc.code, 0, 0, 0, 0, 0, 0}, quoted...)
			r.inject(w2, ipFrame(w2, [4]byte{198, 18, 0, 2}, nil, ipv4.IPProtoICMP, m))
			r.run(time.Millisecond)
			msg, ok := c.Recv()
			if ok != tc.delivered || (ok && (!msg.IsError || msg.Seq != 5 || msg.Type != tc.typ)) {
				t.Fatalf("delivered %v %+v", ok, msg)
			}
			if got := in.ICMPStats.Snapshot().InErrors; got != tc.errors {
				t.Fatalf("InErrors %d, want %d", got, tc.errors)
			}
		})
	}
}

// TestICMPLoopbackNotLimited: nothing is rate limited about a packet that
// came in over the loopback (icmp_send skips the host-wide budget, and
// with it the per-destination limit): every datagram to a closed local
// port gets its port unreachable, whatever the budget.
func TestICMPLoopbackNotLimited(t *testing.T) {
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := inet.Init(h, ipv4.InetConfig{Seed: 1, ICMPMsgsPerSec: 1, ICMPMsgsBurst: 3})
	if err != nil {
		t.Fatal(err)
	}
	c, err := udp.Listen(in, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := c.SendTo([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9")); err != nil {
			t.Fatal(err)
		}
	}
	clk.RunFor(time.Millisecond)
	ic := in.ICMPStats.Snapshot()
	if ic.OutType[ipv4.ICMPDestUnreach] != 30 || ic.OutRateLimitGlobal != 0 || ic.OutRateLimitHost != 0 {
		t.Fatalf("sent %d, held back %d/%d", ic.OutType[ipv4.ICMPDestUnreach], ic.OutRateLimitGlobal, ic.OutRateLimitHost)
	}
}
