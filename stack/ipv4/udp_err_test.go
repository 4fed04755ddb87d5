package ipv4_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"vnic/stack/udp"
)

// An ICMP error quoting a UDP flow no socket has counts IcmpInErrors, as
// __udp4_lib_err does; one reaching an unconnected socket counts nothing
// (it hears no error without IP_RECVERR) and one reaching a connected
// socket neither.
func TestUDPErrorWithoutSocket(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	to := netip.MustParseAddrPort("198.18.0.2:7777") // closed on h2: port unreachable
	un, err := udp.Listen(r.inet["h1"], netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := un.SendTo([]byte("x"), to); err != nil {
		t.Fatal(err)
	}
	r.run(10 * time.Millisecond)
	if n := r.inet["h1"].ICMPStats.Snapshot().InErrors; n != 0 {
		t.Errorf("error for an unconnected socket: InErrors %d, want 0", n)
	}
	// Send, then close before the error comes back: nobody has the flow.
	if _, err := un.SendTo([]byte("y"), to); err != nil {
		t.Fatal(err)
	}
	un.Close()
	r.run(10 * time.Millisecond)
	if n := r.inet["h1"].ICMPStats.Snapshot().InErrors; n != 1 {
		t.Errorf("error quoting a flow without a socket: InErrors %d, want 1", n)
	}
}

// A connected socket's datagrams carry its own IP ID counter, counting up
// from a random start, DF or not (ip_select_ident_segs with inet_id); an
// unconnected socket's DF datagram carries 0.
func TestUDPConnectedIPID(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, _ := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	var ids []uint16
	w1.drop = func(b []byte) bool {
		if len(b) >= 14+20 && binary.BigEndian.Uint16(b[12:]) == 0x0800 && b[14+9] == 17 {
			ids = append(ids, binary.BigEndian.Uint16(b[14+4:]))
		}
		return false
	}
	if _, err := udp.Listen(r.inet["h2"], netip.MustParseAddrPort("198.18.0.2:7777")); err != nil {
		t.Fatal(err)
	}
	c, err := udp.Listen(r.inet["h1"], netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	c.DF = true
	if _, err := c.SendTo([]byte("unconnected"), netip.MustParseAddrPort("198.18.0.2:7777")); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	if err := c.Connect(netip.MustParseAddrPort("198.18.0.2:7777")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.Send([]byte("connected")); err != nil {
			t.Fatal(err)
		}
		r.run(time.Millisecond)
	}
	if len(ids) != 4 {
		t.Fatalf("saw %d datagrams, want 4 (%v)", len(ids), ids)
	}
	if ids[0] != 0 {
		t.Errorf("unconnected DF datagram: ID %d, want 0", ids[0])
	}
	if ids[2] != ids[1]+1 || ids[3] != ids[2]+1 {
		t.Errorf("connected IDs %v: want consecutive", ids[1:])
	}
	if ids[1] == 0 && ids[2] == 1 {
		t.Errorf("connected IDs %v start at 0, not at random", ids[1:])
	}
}
