package conntrack_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack/ipv4"
	"vnic/stack/netfilter/conntrack"
	"vnic/stack/tcp"
	"vnic/stack/udp"
)

// routerWorld is h1 — r — h2 in virtual time with tracking on r.
func routerWorld(t *testing.T) *topo.World {
	t.Helper()
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.2/24"}}}, Routes: []string{"default via 198.18.5.1"}},
		{Name: "r", CPUs: 1, Forwarding: true, Conntrack: true, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.1/24"}}, {Queues: 1, Addresses: []string{"198.18.6.1/24"}, MTU: 1280}}},
		{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.6.2/24"}}}, Routes: []string{"default via 198.18.6.1"}},
	}, Cables: []topo.CableConfig{{A: "h1/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "h2/vnic0"}}}
	return topo.Started(t, cfg, 10*time.Millisecond)
}

func tuple(src, dst string, sport, dport uint16, proto uint8) conntrack.Tuple {
	return conntrack.Tuple{Src: netip.MustParseAddr(src).As4(), Dst: netip.MustParseAddr(dst).As4(), SrcPort: sport, DstPort: dport, Proto: proto}
}

// TestRouterFlows tracks TCP, UDP and ICMP flows through a router: the
// entries, their states and timeouts, RELATED errors, and the expiry.
func TestRouterFlows(t *testing.T) {
	w := routerWorld(t)
	r := conntrack.Of(w.Host("r").Stack)
	h1, h2 := ipv4.Of(w.Host("h1").Stack), ipv4.Of(w.Host("h2").Stack)

	// TCP: h1 connects to h2:8080 and sends 3000 bytes (fragmented by no
	// one: TCP fits its MSS to the path).
	l := tcp.Of(h2).NewSocket()
	if err := l.Bind(netip.MustParseAddrPort("0.0.0.0:8080")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(5); err != nil {
		t.Fatal(err)
	}
	c := tcp.Of(h1).NewSocket()
	if err := c.Bind(netip.MustParseAddrPort("198.18.5.2:40000")); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(netip.MustParseAddrPort("198.18.6.2:8080")); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	w.Run(50 * time.Millisecond)
	if _, err := c.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	// UDP: a query and its answer, and a datagram to a closed port
	// whose port unreachable comes back RELATED.
	u1, err := udp.Of(h1).Listen(netip.MustParseAddrPort("198.18.5.2:5353"))
	if err != nil {
		t.Fatal(err)
	}
	u2, err := udp.Of(h2).Listen(netip.MustParseAddrPort("198.18.6.2:53"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u1.SendTo(make([]byte, 2000), netip.MustParseAddrPort("198.18.6.2:53")); err != nil {
		t.Fatal(err) // 2000 bytes: two fragments, reassembled by r's defrag
	}
	if _, err := u1.SendTo([]byte("x"), netip.MustParseAddrPort("198.18.6.2:9")); err != nil {
		t.Fatal(err)
	}
	w.Run(10 * time.Millisecond)
	if _, err := u2.SendTo([]byte("answer"), netip.MustParseAddrPort("198.18.5.2:5353")); err != nil {
		t.Fatal(err)
	}
	// ICMP: one echo and its reply.
	p, err := h1.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SendEcho(netip.MustParseAddr("198.18.6.2"), 1, []byte("ping"), ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Run(100 * time.Millisecond)

	type want struct {
		state   uint8
		timeout time.Duration // within the last 200 ms of virtual time
		status  conntrack.Status
	}
	tcpT := tuple("198.18.5.2", "198.18.6.2", 40000, 8080, 6)
	dnsT := tuple("198.18.5.2", "198.18.6.2", 5353, 53, 17)
	closedT := tuple("198.18.5.2", "198.18.6.2", 5353, 9, 17)
	pingT := tuple("198.18.5.2", "198.18.6.2", p.ID(), 8<<8, 1)
	cases := []struct {
		name string
		t    conntrack.Tuple
		want want
	}{
		{"tcp", tcpT, want{conntrack.TCPEstablished, 5 * 24 * time.Hour, conntrack.StatusAssured | conntrack.StatusSeenReply}},
		{"udp answered", dnsT, want{0, 30 * time.Second, conntrack.StatusSeenReply}},
		{"udp unanswered", closedT, want{0, 30 * time.Second, 0}},
		{"icmp", pingT, want{0, 30 * time.Second, conntrack.StatusSeenReply}},
	}
	for _, tc := range cases {
		ct, dir := r.Lookup(tc.t, conntrack.DefaultZone)
		if ct == nil || dir != conntrack.Original {
			t.Fatalf("%s: no entry for %+v", tc.name, tc.t)
		}
		inv, _ := tc.t.Invert()
		if ct.Tuple(conntrack.Reply) != inv {
			t.Fatalf("%s: reply tuple %+v, want %+v", tc.name, ct.Tuple(conntrack.Reply), inv)
		}
		st := ct.Status() &^ conntrack.StatusConfirmed
		if ct.ProtoState() != tc.want.state || st != tc.want.status || ct.Timeout() > tc.want.timeout || ct.Timeout() < tc.want.timeout-200*time.Millisecond {
			t.Fatalf("%s: state %d status %#x timeout %v, want %d %#x %v", tc.name, ct.ProtoState(), st, ct.Timeout(), tc.want.state, tc.want.status, tc.want.timeout)
		}
	}
	if got := r.Count(); got != 4 {
		t.Fatalf("%d entries, want 4 (the port unreachable is RELATED, no entry of its own)", got)
	}
	if got := ipv4.Of(w.Host("r").Stack).Stats.ReasmOKs.Load(); got != 1 {
		t.Fatalf("r reassembled %d datagrams, want 1 (the 2000-byte query, at PRE_ROUTING)", got)
	}
	if s := r.Stats(); s.Invalid != 0 || s.Drop != 0 || s.Error != 0 {
		t.Fatalf("stats %+v: want no invalid, drop or error", s)
	}
	// After 30 s of silence the datagram flows and the ping are gone,
	// the TCP connection stays.
	w.Run(31 * time.Second)
	for _, tc := range cases[1:] {
		if ct, _ := r.Lookup(tc.t, conntrack.DefaultZone); ct != nil {
			t.Fatalf("%s: still there after its timeout", tc.name)
		}
	}
	if ct, _ := r.Lookup(tcpT, conntrack.DefaultZone); ct == nil {
		t.Fatal("tcp entry gone")
	}
	w.Run(60 * time.Second)
	if got := r.Count(); got != 1 {
		t.Fatalf("%d entries after the collector ran, want 1", got)
	}
}
