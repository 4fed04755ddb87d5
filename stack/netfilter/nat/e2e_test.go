package nat_test

import (
	"net/netip"
	"testing"
	"time"

	"vnic/header"
	"vnic/internal/topo"
	"vnic/stack/ipv4"
	"vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/netfilter/nat"
)

func tup(src, dst netip.Addr, sport, dport uint16, proto uint8) conntrack.Tuple {
	return conntrack.Tuple{Src: src.As4(), Dst: dst.As4(), SrcPort: sport, DstPort: dport, Proto: proto}
}

// masqueradeOut is the router masquerading what leaves by vnic1, and c's
// UDP, ping and TCP flows to s through it.
func masqueradeOut(t *testing.T) (tw *topo.World, pingID uint16) {
	t.Helper()
	tw = natWorld(t, false)
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
		ct, dir := r.Lookup(tc.orig, 0)
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
