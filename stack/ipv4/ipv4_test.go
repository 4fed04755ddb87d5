package ipv4_test

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/header"
	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
	"vnic/test/pkt"
)

func ping(t *testing.T, in *ipv4.Inet, dst string, seq uint16, size int, o ipv4.PingOptions) *ipv4.PingConn {
	t.Helper()
	c, err := in.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendEcho(mustAddr(dst), seq, make([]byte, size), o); err != nil {
		t.Fatal(err)
	}
	return c
}

// A-ARP-01 / A-20.21: the first packet to an unresolved neighbour sends
// one broadcast request and waits; the reply releases it; the echo comes
// back; the entries are REACHABLE on the asking side and STALE on the
// answering side (learned from a request).
func TestPingResolvesARP(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	c := ping(t, r.inet["h1"], "198.18.0.2", 1, 56, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	wantLines(t, "wire", r.summary(), []string{
		"h1/eth0 ARP who-has 198.18.0.2 tell 198.18.0.1",
		"h2/eth0 ARP 198.18.0.2 is-at " + w2.dev.Addr().String(),
		"h1/eth0 IP 198.18.0.1>198.18.0.2 ICMP 8/0 ttl 64 len 84",
		"h2/eth0 IP 198.18.0.2>198.18.0.1 ICMP 0/0 ttl 64 len 84",
	})
	m, ok := c.Recv()
	if !ok || m.Type != ipv4.ICMPEchoReply || m.Seq != 1 || m.TTL != 64 || m.Len != 64 || m.From != mustAddr("198.18.0.2") {
		t.Fatalf("reply %+v %v", m, ok)
	}
	n, ok := r.inet["h1"].ARP(w1.dev).Lookup([4]byte{198, 18, 0, 2})
	if !ok || n.State != neigh.NUDReachable || n.MAC != w2.dev.Addr() {
		t.Fatalf("h1's entry %+v", n)
	}
	// h2 learned h1 from the request (STALE) and used the entry for the
	// reply: DELAY, waiting for a confirmation before probing.
	n, ok = r.inet["h2"].ARP(w2.dev).Lookup([4]byte{198, 18, 0, 1})
	if !ok || n.State != neigh.NUDDelay {
		t.Fatalf("h2's entry %+v", n)
	}
	// A second echo needs no request.
	r.frames = nil
	if err := c.SendEcho(mustAddr("198.18.0.2"), 2, make([]byte, 56), ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	r.run(10 * time.Millisecond)
	if got := len(r.frames); got != 2 {
		t.Fatalf("second echo: %d frames, want 2: %v", got, r.summary())
	}
	// Nothing confirms h1 to h2 (no TCP): after delay_first_probe_time
	// h2 probes by unicast and the reply makes the entry REACHABLE.
	r.frames = nil
	r.run(6 * time.Second)
	wantLines(t, "probe", r.summary(), []string{
		"h2/eth0 ARP who-has 198.18.0.1 tell 198.18.0.2",
		"h1/eth0 ARP 198.18.0.1 is-at " + w1.dev.Addr().String(),
	})
	if d := r.frames[0].b[0:6]; stack.MAC(d) != w1.dev.Addr() {
		t.Fatalf("probe sent to %x, want unicast", d)
	}
	if n, _ := r.inet["h2"].ARP(w2.dev).Lookup([4]byte{198, 18, 0, 1}); n.State != neigh.NUDReachable {
		t.Fatalf("after probe %+v", n)
	}
	s1, s2 := r.inet["h1"].Stats.Snapshot(), r.inet["h2"].Stats.Snapshot()
	if s1.OutRequests != 2 || s1.InReceives != 2 || s1.InDelivers != 2 || s2.InReceives != 2 || s2.InDelivers != 2 || s2.OutRequests != 2 {
		t.Fatalf("counters h1 %+v h2 %+v", s1, s2)
	}
	ic := r.inet["h2"].ICMPStats.Snapshot()
	if ic.InType[ipv4.ICMPEcho] != 2 || ic.OutType[ipv4.ICMPEchoReply] != 2 {
		t.Fatalf("h2 icmp %+v", ic)
	}
}

// An on-link address nobody has: three broadcast requests a second apart,
// then the queued echo's source hears host unreachable (from itself, as
// Linux's ping prints "Destination Host Unreachable").
func TestNeighbourFailureUnreachable(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, _ := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	c := ping(t, r.inet["h1"], "198.18.0.9", 7, 56, ipv4.PingOptions{})
	r.run(5 * time.Second)
	wantLines(t, "wire", r.summary(), []string{
		"h1/eth0 ARP who-has 198.18.0.9 tell 198.18.0.1",
		"h1/eth0 ARP who-has 198.18.0.9 tell 198.18.0.1",
		"h1/eth0 ARP who-has 198.18.0.9 tell 198.18.0.1",
	})
	m, ok := c.Recv()
	if !ok || !m.IsError || m.Type != ipv4.ICMPDestUnreach || m.Code != ipv4.ICMPHostUnreach || m.Seq != 7 || m.From != mustAddr("198.18.0.1") {
		t.Fatalf("got %+v %v", m, ok)
	}
	if st := r.inet["h1"].ARP(w1.dev).Stats(); st.ResFailed != 1 {
		t.Fatalf("res_failed %d", st.ResFailed)
	}
}

// A-RF / seed-B TBL-09 and LK-05: longest prefix wins; the local table
// wins over main; an address makes local, broadcast and connected
// routes.
func TestRouteLookupShape(t *testing.T) {
	r := newInetRig(t, "h1", "h2", "h3")
	w1, _ := r.link("h1", "10.0.0.2/24", "h2", "10.0.0.1/24", 0)
	w3, _ := r.link("h1", "192.168.1.1/24", "h3", "192.168.1.2/24", 0)
	in := r.inet["h1"]
	eth0, eth1 := w1.dev, w3.dev
	for _, rt := range []fib.Route{
		{Dst: [4]byte{}, Len: 0, Gateway: [4]byte{10, 0, 0, 1}},
		{Dst: [4]byte{192, 168, 1, 100}, Len: 32, Gateway: [4]byte{10, 0, 0, 1}, Dev: eth0},
		{Dst: [4]byte{192, 168, 1, 1}, Len: 32, Gateway: [4]byte{10, 0, 0, 1}},
	} {
		if err := in.RouteAdd(rt, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		dst     string
		typ     fib.RouteType
		table   uint32
		plen    int
		dev     *stack.NetDevice
		gw      string
		scope   fib.Scope
		prefsrc string
	}{
		{"192.168.1.50", fib.RTNUnicast, fib.TableMain, 24, eth1, "", fib.ScopeLink, "192.168.1.1"},
		{"192.168.1.100", fib.RTNUnicast, fib.TableMain, 32, eth0, "10.0.0.1", fib.ScopeUniverse, ""},
		{"8.8.8.8", fib.RTNUnicast, fib.TableMain, 0, eth0, "10.0.0.1", fib.ScopeUniverse, ""},
		{"192.168.1.1", fib.RTNLocal, fib.TableLocal, 32, eth1, "", fib.ScopeHost, "192.168.1.1"},
		{"192.168.1.255", fib.RTNBroadcast, fib.TableLocal, 32, eth1, "", fib.ScopeLink, "192.168.1.1"},
		{"127.0.0.5", fib.RTNLocal, fib.TableLocal, 8, in.Loopback(), "", fib.ScopeHost, "127.0.0.1"},
	} {
		res, err := in.FibLookup(fib.FlowKey{Dst: mustAddr(c.dst).As4()})
		if err != nil {
			t.Fatalf("%s: %v", c.dst, err)
		}
		gw := ""
		if res.Route.Gateway != ([4]byte{}) {
			gw = netip.AddrFrom4(res.Route.Gateway).String()
		}
		ps := ""
		if res.Route.PrefSrc != ([4]byte{}) {
			ps = netip.AddrFrom4(res.Route.PrefSrc).String()
		}
		if res.Type != c.typ || res.Table != c.table || res.PrefixLen != c.plen || res.Route.Dev != c.dev || gw != c.gw || res.Scope != c.scope || ps != c.prefsrc {
			t.Errorf("%s: %v table %d /%d dev %v gw %q scope %v src %q", c.dst, res.Type, res.Table, res.PrefixLen, res.Route.Dev.Name(), gw, res.Scope, ps)
		}
	}
	// Deleting the default leaves 8.8.8.8 without a route.
	if _, err := in.RouteDel(fib.Route{Len: 0, Scope: fib.ScopeNowhere}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.FibLookup(fib.FlowKey{Dst: [4]byte{8, 8, 8, 8}}); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := in.RouteDel(fib.Route{Len: 0, Scope: fib.ScopeNowhere}); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("second delete: %v", err)
	}
	// A gateway that is not on a link is refused.
	if err := in.RouteAdd(fib.Route{Len: 0, Gateway: [4]byte{172, 16, 0, 1}}, false); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("off-link gateway: %v", err)
	}
	// Route types that refuse.
	for _, c := range []struct {
		typ fib.RouteType
		err syscall.Errno
	}{{fib.RTNBlackhole, syscall.EINVAL}, {fib.RTNUnreachable, syscall.EHOSTUNREACH}, {fib.RTNProhibit, syscall.EACCES}} {
		if err := in.RouteAdd(fib.Route{Dst: [4]byte{203, 0, 113, 0}, Len: 24, Type: c.typ, Scope: fib.ScopeNowhere}, true); err != nil {
			t.Fatal(err)
		}
		if _, err := in.FibLookup(fib.FlowKey{Dst: [4]byte{203, 0, 113, 7}}); !errors.Is(err, c.err) {
			t.Errorf("%v: %v, want %v", c.typ, err, c.err)
		}
	}
}

// a minimum frame's Ethernet padding is trimmed to the total
// length before ICMP checks its checksum (a 0-byte echo is 28 bytes of IP
// in a 60-byte frame).
func TestPaddingTrimmed(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	c := ping(t, r.inet["h1"], "198.18.0.2", 1, 0, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	if m, ok := c.Recv(); !ok || m.Type != ipv4.ICMPEchoReply || m.Len != 8 {
		t.Fatalf("%+v %v", m, ok)
	}
	for _, f := range r.frames {
		if len(f.b) != 60 {
			t.Fatalf("frame of %d bytes", len(f.b))
		}
	}
}

// A malformed option is answered with parameter problem pointing at the
// offending byte, and the packet is not delivered (InHdrErrors).
func TestBadOptionParameterProblem(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
	// An echo with a record-route option whose pointer (2) is below 4.
	f := make([]byte, 14+24+8)
	d, s := w2.dev.Addr(), w1.dev.Addr()
	copy(f[0:6], d[:])
	copy(f[6:12], s[:])
	f[12], f[13] = 0x08, 0x00
	ip := f[14:]
	ip[0], ip[2], ip[3], ip[8], ip[9] = 0x46, 0, 32, 64, ipv4.IPProtoICMP
	copy(ip[12:16], []byte{198, 18, 0, 1})
	copy(ip[16:20], []byte{198, 18, 0, 2})
	copy(ip[20:24], []byte{ipv4.IPOptRR, 4, 2, 0})
	setIPChecksum(ip[:24])
	icmp := ip[24:]
	icmp[0] = ipv4.ICMPEcho
	setICMPChecksum(icmp)
	r.inject(w2, f)
	r.run(10 * time.Millisecond)
	wantLines(t, "answer", wireOf(r, "h2/eth0"), []string{"h2/eth0 IP 198.18.0.2>198.18.0.1 ICMP 12/0 ttl 64 len 60"})
	ans := r.frames[len(r.frames)-1].b
	if ptr := ans[14+20+4]; ptr != 22 {
		t.Fatalf("pointer %d, want 22", ptr)
	}
	if s := r.inet["h2"].Stats.Snapshot(); s.InHdrErrors != 1 || s.InDelivers != 0 {
		t.Fatalf("%+v", s)
	}
}

func setIPChecksum(h []byte) { header.IPv4(h).UpdateChecksum() }

func setICMPChecksum(b []byte) {
	b[2], b[3] = 0, 0
	c := header.Checksum(b)
	b[2], b[3] = byte(c>>8), byte(c)
}

// An address added to a running device is announced by gratuitous ARP;
// the address, its local route, the connected route and the broadcast
// route are reported to subscribers, and deleting the address removes
// them, in Linux 6.18's order (ip monitor: fib_add_ifaddr adds local,
// prefix, broadcast; fib_del_ifaddr deletes prefix, broadcast, local).
func TestAddressLifecycle(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, _ := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	in := r.inet["h1"]
	var ev []string
	in.Subscribe(func(e ipv4.InetEvent) {
		switch e.Kind {
		case ipv4.EventNewAddr, ipv4.EventDelAddr:
			ev = append(ev, fmt.Sprintf("%d addr %v", e.Kind, e.Addr.Prefix()))
		case ipv4.EventNewRoute, ipv4.EventDelRoute:
			ev = append(ev, fmt.Sprintf("%d route %v %v table %d", e.Kind, e.Route.Type, e.Route.Prefix(), e.Route.Table))
		}
	})
	if err := in.AddAddr(w1.dev, netip.MustParsePrefix("198.18.7.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := in.AddAddr(w1.dev, netip.MustParsePrefix("198.18.7.1/24")); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("twice: %v", err)
	}
	r.run(time.Millisecond)
	wantLines(t, "announce", r.summary(), []string{"h1/eth0 ARP who-has 198.18.7.1 tell 198.18.7.1"})
	if err := in.DelAddr(w1.dev, netip.MustParsePrefix("198.18.7.1/24")); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "events", ev, []string{
		"0 addr 198.18.7.1/24",
		"2 route local 198.18.7.1/32 table 255",
		"2 route unicast 198.18.7.0/24 table 254",
		"2 route broadcast 198.18.7.255/32 table 255",
		"1 addr 198.18.7.1/24",
		"3 route unicast 198.18.7.0/24 table 254",
		"3 route broadcast 198.18.7.255/32 table 255",
		"3 route local 198.18.7.1/32 table 255",
	})
	if _, err := in.FibLookup(fib.FlowKey{Dst: [4]byte{198, 18, 7, 5}}); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("route left: %v", err)
	}
}

// Turning forwarding on takes LRO off the devices (dev_disable_lro), for
// good: it leaves the wanted set too.
func TestForwardingDisablesLRO(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	in, err := inet.Init(h, ipv4.InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := stacktest.NewDevFeatures(t, h, stack.MAC(pkt.MACB), ethtool.LRO|ethtool.SG, ethtool.LRO|ethtool.SG)
	if d.Features()&ethtool.LRO == 0 {
		t.Fatal("LRO not on to begin with")
	}
	if err := in.SetForwarding(true); err != nil {
		t.Fatal(err)
	}
	if d.Features()&ethtool.LRO != 0 || !in.DevForwarding(d) || in.DevForwarding(in.Loopback()) != true {
		t.Fatalf("features %v, forwarding %v", d.Features(), in.DevForwarding(d))
	}
	if err := d.UpdateFeatures(); err != nil || d.Features()&ethtool.LRO != 0 {
		t.Fatalf("LRO came back: %v %v", d.Features(), err)
	}
}

// A-DS-01/06, A-ECN-02: DSCP and ECN for every TOS value; CE marking
// changes only the ECN bits, keeps the checksum valid, and refuses
// Not-ECT packets.
func TestDSCPAndECN(t *testing.T) {
	if ipv4.DSCP(0xB8) != 46 || ipv4.ECN(0xB8) != 0 {
		t.Fatal("0xB8 is not EF / Not-ECT")
	}
	for tos := 0; tos < 256; tos++ {
		if ipv4.DSCP(uint8(tos)) != uint8(tos)>>2 || ipv4.ECN(uint8(tos)) != uint8(tos)&3 {
			t.Fatalf("tos %#x", tos)
		}
		h := make([]byte, 20)
		h[0], h[1], h[8], h[9] = 0x45, uint8(tos), 64, ipv4.IPProtoUDP
		h[3] = 20
		setIPChecksum(h)
		ok := ipv4.SetCE(h)
		switch {
		case tos&3 == ipv4.ECNNotECT:
			if ok || h[1] != uint8(tos) {
				t.Fatalf("tos %#x: a Not-ECT packet was marked", tos)
			}
		default:
			if !ok || h[1] != uint8(tos)|3 || header.Checksum(h) != 0 {
				t.Fatalf("tos %#x: marked %#x, checksum %#x", tos, h[1], header.Checksum(h))
			}
		}
	}
}

// A-RF-03 and A-RF-10: a packet that comes back through the loopback
// keeps its route decision (no second lookup), and a packet with a bad
// header checksum is never routed.
func TestRouteLookupCounts(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	_, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	in := r.inet["h1"]
	before, _ := in.FibStats()
	c := ping(t, in, "198.18.0.1", 1, 8, ipv4.PingOptions{})
	r.run(time.Millisecond)
	if m, ok := c.Recv(); !ok || m.Type != ipv4.ICMPEchoReply {
		t.Fatalf("ping self: %+v %v", m, ok)
	}
	// One lookup for the request, one for the reply; none on receive.
	if after, _ := in.FibStats(); after-before != 2 {
		t.Fatalf("%d lookups for a ping to self, want 2", after-before)
	}
	in2 := r.inet["h2"]
	before, _ = in2.FibStats()
	f := make([]byte, 14+28)
	mac := w2.dev.Addr()
	copy(f[0:6], mac[:])
	f[12] = 0x08
	ip := f[14:]
	ip[0], ip[3], ip[8], ip[9] = 0x45, 28, 64, ipv4.IPProtoUDP
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	setIPChecksum(ip[:20])
	ip[10] ^= 0xff // break it
	r.inject(w2, f)
	r.run(time.Millisecond)
	if after, _ := in2.FibStats(); after != before {
		t.Fatalf("a bad header was routed: %d lookups", after-before)
	}
	if s := in2.Stats.Snapshot(); s.InCsumErrors != 1 || s.InHdrErrors != 1 {
		t.Fatalf("%+v", s)
	}
}

// ICMP timestamp requests are answered (icmp_timestamp), the originate
// time echoed and the receive and transmit times the host's.
func TestICMPTimestamp(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
	r.run(1234 * time.Millisecond)
	f := make([]byte, 14+20+20)
	mac := w2.dev.Addr()
	copy(f[0:6], mac[:])
	f[12] = 0x08
	ip := f[14:]
	ip[0], ip[3], ip[8], ip[9] = 0x45, 40, 64, ipv4.IPProtoICMP
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	setIPChecksum(ip[:20])
	m := ip[20:]
	m[0] = ipv4.ICMPTimestamp
	m[4], m[5], m[6], m[7] = 0, 7, 0, 1         // id 7 seq 1
	m[8], m[9], m[10], m[11] = 0, 0, 0x30, 0x39 // originate 12345
	setICMPChecksum(m)
	r.frames = nil
	r.inject(w2, f)
	r.run(time.Millisecond)
	out := wireOf(r, "h2/eth0")
	wantLines(t, "reply", out, []string{"h2/eth0 IP 198.18.0.2>198.18.0.1 ICMP 14/0 ttl 64 len 40"})
	rep := r.frames[len(r.frames)-1].b[14+20:]
	if header.Checksum(rep[:20]) != 0 || rep[5] != 7 || rep[7] != 1 || rep[11] != 0x39 {
		t.Fatalf("reply %x", rep[:20])
	}
	if recv := int(rep[12])<<24 | int(rep[13])<<16 | int(rep[14])<<8 | int(rep[15]); recv < 1234 || recv > 1300 {
		t.Fatalf("receive time %d ms", recv)
	}
}

// icmp_echo_ignore_broadcasts: an echo request to a broadcast address is
// ignored by default and answered when the host says so.
func TestEchoToBroadcast(t *testing.T) {
	for _, answer := range []bool{false, true} {
		r := newInetRig(t, "h1", "h2")
		if answer {
			var err error
			h := stack.NewHost("h3", r.clk, []stack.CPU{hw.NewCPU(0, r.clk, hw.CostModel{})}, stack.HostConfig{})
			if r.inet["h3"], err = inet.Init(h, ipv4.InetConfig{Seed: 1, EchoBroadcasts: true}); err != nil {
				t.Fatal(err)
			}
			r.hosts["h3"] = h
		} else {
			r.hosts["h3"], r.inet["h3"] = r.hosts["h2"], r.inet["h2"]
		}
		w1, w3 := r.link("h1", "198.18.0.1/24", "h3", "198.18.0.3/24", 0)
		r.inet["h3"].NeighAdd(w3.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
		f := make([]byte, 14+28)
		copy(f[0:6], stack.BroadcastMAC[:])
		f[12] = 0x08
		ip := f[14:]
		ip[0], ip[3], ip[8], ip[9] = 0x45, 28, 64, ipv4.IPProtoICMP
		copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 255})
		setIPChecksum(ip[:20])
		ip[20] = ipv4.ICMPEcho
		setICMPChecksum(ip[20:28])
		r.frames = nil
		r.inject(w3, f)
		r.run(time.Millisecond)
		got := r.inet["h3"].ICMPStats.Snapshot().OutType[ipv4.ICMPEchoReply]
		if (got == 1) != answer || got > 1 {
			t.Fatalf("answer %v: %d replies", answer, got)
		}
	}
}
