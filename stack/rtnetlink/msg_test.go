package rtnetlink

import (
	"net/netip"
	"reflect"
	"testing"
	"vnic/stack"
	"vnic/stack/neigh"
)

// Every message survives a marshal/unmarshal round trip.
func TestMessagesRoundTrip(t *testing.T) {
	r := RouteMsg{DstLen: 24, TOS: 0x10, Table: 1000, Protocol: 4, Scope: 253, Type: 1, Flags: RTMFOnLink, Dst: netip.MustParseAddr("198.18.9.0"),
		Gateway: netip.MustParseAddr("198.18.5.1"), PrefSrc: netip.MustParseAddr("198.18.5.2"), Oif: 3, Iif: 4, Priority: 7, HasPrio: true, MTU: 1280}
	var r2 RouteMsg
	if err := r2.Unmarshal(r.Marshal()); err != nil || !reflect.DeepEqual(r2, r) {
		t.Fatalf("route %+v\n   → %+v (%v)", r, r2, err)
	}
	a := AddrMsg{PrefixLen: 24, Flags: IFAFPermanent, Scope: 0, Index: 2, Local: netip.MustParseAddr("198.18.5.2"), Address: netip.MustParseAddr("198.18.5.2"),
		Broadcast: netip.MustParseAddr("198.18.5.255"), Label: "vnic0"}
	var a2 AddrMsg
	if err := a2.Unmarshal(a.Marshal()); err != nil || a2 != a {
		t.Fatalf("addr %+v → %+v (%v)", a, a2, err)
	}
	n := NeighMsg{Index: 2, State: uint16(neigh.NUDReachable), Type: 1, Dst: netip.MustParseAddr("198.18.5.1"), LLAddr: []byte{2, 0, 0, 0, 0, 1}}
	var n2 NeighMsg
	if err := n2.Unmarshal(n.Marshal()); err != nil || n2.Dst != n.Dst || n2.LLAddr.String() != n.LLAddr.String() || n2.State != n.State || n2.Index != 2 {
		t.Fatalf("neigh %+v → %+v (%v)", n, n2, err)
	}
	l := LinkMsg{Index: 2, Flags: stack.IFFUp | stack.IFFBroadcast, Type: 1, Name: "vnic0", MAC: []byte{2, 0, 0, 0, 0, 1}, MTU: 1500, TxQLen: 1000, Operstate: 6, Qdisc: "mq"}
	var l2 LinkMsg
	if err := l2.Unmarshal(l.Marshal()); err != nil || l2.Name != l.Name || l2.MTU != 1500 || l2.MAC.String() != l.MAC.String() || l2.Qdisc != "mq" || l2.Flags != l.Flags {
		t.Fatalf("link %+v → %+v (%v)", l, l2, err)
	}
}

// The decoders take any bytes without panicking.
func FuzzUnmarshalMessages(f *testing.F) {
	f.Add(RouteMsg{DstLen: 24, Dst: netip.MustParseAddr("198.18.9.0"), MTU: 1280}.Marshal())
	f.Add(AddrMsg{PrefixLen: 24, Local: netip.MustParseAddr("198.18.5.2")}.Marshal())
	f.Add(LinkMsg{Name: "vnic0"}.Marshal())
	f.Add(LinkMsg{Name: "veth1", Kind: "veth", Peer: &LinkMsg{Name: "veth2", NetnsFD: 3, HasNetns: true}}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		var r RouteMsg
		var a AddrMsg
		var l LinkMsg
		var n NeighMsg
		_ = r.Unmarshal(b)
		_ = a.Unmarshal(b)
		_ = l.Unmarshal(b)
		_ = n.Unmarshal(b)
	})
}
