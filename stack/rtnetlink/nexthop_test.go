package rtnetlink

import (
	"net/netip"
	"reflect"
	"testing"
)

// Nexthop messages survive a round trip; a group's weight travels as
// weight − 1, as struct nexthop_grp carries it.
func TestNexthopMsgRoundTrip(t *testing.T) {
	for _, m := range []NexthopMsg{
		{Family: afInet, Scope: 253, Protocol: 4, Flags: RTNHFOnLink, ID: 2, Oif: 3, Gateway: netip.MustParseAddr("198.18.5.3")},
		{ID: 4, Blackhole: true},
		{ID: 10, Group: []NexthopGrp{{1, 1}, {2, 3}}, GroupType: NhGrpTypeMpath, HasType: true},
		{ID: 11, Group: []NexthopGrp{{1, 256}}, GroupType: NhGrpTypeRes, HasType: true, HasRes: true, Buckets: 8, IdleTimer: 6000},
		{Groups: true},
	} {
		var got NexthopMsg
		if err := got.Unmarshal(m.Marshal()); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%+v\n→ %+v (%v)", m, got, err)
		}
	}
	if b := (NexthopMsg{ID: 10, Group: []NexthopGrp{{1, 3}}}).Marshal(); b[8+8+4+4] != 2 {
		t.Errorf("weight 3 on the wire as %d, want 2", b[8+8+4+4])
	}
	r := RouteMsg{DstLen: 24, Dst: netip.MustParseAddr("198.18.9.0"), NhID: 10, Table: 254,
		Multipath: []RtNexthop{{Weight: 1, Ifindex: 2, Gateway: netip.MustParseAddr("198.18.5.1")}, {Flags: RTMFOnLink, Weight: 3, Ifindex: 2, Gateway: netip.MustParseAddr("198.18.5.3")}}}
	var r2 RouteMsg
	if err := r2.Unmarshal(r.Marshal()); err != nil || r2.NhID != 10 || !reflect.DeepEqual(r2.Multipath, r.Multipath) {
		t.Errorf("route nhid and multipath: %+v (%v)", r2, err)
	}
}

// The nexthop decoder takes any bytes without panicking.
func FuzzUnmarshalNexthop(f *testing.F) {
	f.Add(NexthopMsg{ID: 10, Group: []NexthopGrp{{1, 1}, {2, 3}}, HasRes: true, Buckets: 8}.Marshal())
	f.Add(NexthopMsg{ID: 2, Oif: 3, Gateway: netip.MustParseAddr("198.18.5.3")}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		var m NexthopMsg
		if m.Unmarshal(b) == nil {
			var m2 NexthopMsg
			if err := m2.Unmarshal(m.Marshal()); err != nil {
				t.Fatalf("re-decoding %+v: %v", m, err)
			}
		}
	})
}
