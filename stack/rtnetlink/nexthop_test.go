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
		{ID: 11, Group: []NexthopGrp{{1, 256}}, GroupType: NhGrpTypeRes, HasType: true, HasRes: true, ResAttrs: ResBuckets | ResIdleTimer, Buckets: 8, IdleTimer: 6000},
		{ID: 12, Group: []NexthopGrp{{1, 1}}, GroupType: NhGrpTypeRes, HasType: true, HasRes: true, ResAttrs: ResAll, Buckets: 128, IdleTimer: 12000, UnbalancedTimer: 300, UnbalancedTime: 1 << 40},
		{ID: 13, Group: []NexthopGrp{{1, 1}}, GroupType: NhGrpTypeRes, HasType: true, HasRes: true},
		{Oif: 4, Master: 7, Groups: true},
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

// Bucket messages survive a round trip, each NHA_RES_BUCKET attribute
// only when it was there; the nest goes out flagged nested, its attributes
// in the kernel's order (index, nexthop id, idle time).
func TestNexthopBucketMsgRoundTrip(t *testing.T) {
	for _, m := range []NexthopBucketMsg{
		{Protocol: 4, ID: 10, HasBucket: true, BucketAttrs: BucketAll, Index: 127, IdleTime: 251, NhID: 3},
		{ID: 10, HasBucket: true, BucketAttrs: BucketIndex},
		{Family: afInet, Oif: 3, Master: 9, HasBucket: true, BucketAttrs: BucketNhID, NhID: 2},
		{},
	} {
		var got NexthopBucketMsg
		if err := got.Unmarshal(m.Marshal()); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%+v\n→ %+v (%v)", m, got, err)
		}
	}
	b := NexthopBucketMsg{ID: 10, HasBucket: true, BucketAttrs: BucketAll, Index: 5, IdleTime: 7, NhID: 2}.Marshal()
	// nhmsg (8), NHA_ID (8), then the nest's header: type 13 with NLA_F_NESTED.
	nest := b[16:]
	if typ := uint16(nest[2]) | uint16(nest[3])<<8; typ != 13|0x8000 {
		t.Errorf("NHA_RES_BUCKET type %#x, want %#x", typ, 13|0x8000)
	}
	if order := []byte{nest[4+2], nest[4+8+2], nest[4+8+8+2]}; !reflect.DeepEqual(order, []byte{1, 3, 2}) {
		t.Errorf("bucket attributes in order %v, want [1 3 2]", order)
	}
}

// The bucket decoder takes any bytes without panicking, and what it
// decodes encodes back to the same message.
func FuzzUnmarshalNexthopBucket(f *testing.F) {
	f.Add(NexthopBucketMsg{ID: 10, HasBucket: true, BucketAttrs: BucketAll, Index: 3, IdleTime: 251, NhID: 2}.Marshal())
	f.Add(NexthopBucketMsg{Oif: 2, Master: 5, HasBucket: true, BucketAttrs: BucketNhID, NhID: 1}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		var m NexthopBucketMsg
		if m.Unmarshal(b) == nil {
			var m2 NexthopBucketMsg
			if err := m2.Unmarshal(m.Marshal()); err != nil || !reflect.DeepEqual(m, m2) {
				t.Fatalf("re-decoding %+v: %+v %v", m, m2, err)
			}
		}
	})
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
