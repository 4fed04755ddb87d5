package rtnetlink

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"
	"vnic/stack"
	"vnic/stack/neigh"

	"github.com/mdlayher/netlink"
)

// Every message survives a marshal/unmarshal round trip.
func TestMessagesRoundTrip(t *testing.T) {
	r := RouteMsg{DstLen: 24, TOS: 0x10, Table: 1000, Protocol: 4, Scope: 253, Type: 1, Flags: RTMFOnLink, Dst: netip.MustParseAddr("198.18.9.0"),
		Gateway: netip.MustParseAddr("198.18.5.1"), PrefSrc: netip.MustParseAddr("198.18.5.2"), Oif: 3, Iif: 4, Priority: 7, HasPrio: true, Flow: 0x30004}
	for t := RTAXLock; t <= RTAXMax; t++ {
		r.Metrics.Val[t] = uint32(100 + t)
	}
	r.Metrics.Val[RTAXCCAlgo], r.Metrics.CC = 0, "cubic"
	r.Via = netip.MustParseAddr("2001:db8:101::2")
	r.Multipath = []RtNexthop{{Weight: 1, Ifindex: 3, Via: netip.MustParseAddr("2001:db8:101::2")}, {Weight: 2, Ifindex: 4, Gateway: netip.MustParseAddr("198.18.5.9"), Flow: 6}}
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
	f.Add(RouteMsg{DstLen: 24, Dst: netip.MustParseAddr("198.18.9.0"), Metrics: Metrics{Val: [RTAXMax + 1]uint32{RTAXMTU: 1280}}}.Marshal())
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

// RTA_METRICS holds the set metrics in RTAX_* order, the lock mask first
// and the algorithm as a string, as rtnetlink_put_metrics writes them; a
// route without metrics has no RTA_METRICS.
func TestMetricsWire(t *testing.T) {
	var x Metrics
	x.Val[RTAXLock], x.Val[RTAXMTU], x.Val[RTAXRTOMin], x.CC = 1<<RTAXMTU|1<<RTAXRTOMin, 1400, 200, "reno"
	b := RouteMsg{Metrics: x}.Marshal()
	want := []byte{
		40, 0, rtaMetrics, 0,
		8, 0, RTAXLock, 0, 0x04, 0x20, 0, 0, // 1<<RTAX_MTU | 1<<RTAX_RTO_MIN
		8, 0, RTAXMTU, 0, 0x78, 0x05, 0, 0,
		8, 0, RTAXRTOMin, 0, 200, 0, 0, 0,
		9, 0, RTAXCCAlgo, 0, 'r', 'e', 'n', 'o', 0, 0, 0, 0,
	}
	i := bytes.Index(b, want[:4])
	if i < 0 || !bytes.Equal(b[i:i+len(want)], want) {
		t.Fatalf("RTA_METRICS % x, want % x", b[12:], want)
	}
	if b := (RouteMsg{}).Marshal(); bytes.Contains(b, []byte{rtaMetrics, 0}) && len(b) > 20 {
		t.Fatalf("an empty route carries RTA_METRICS: % x", b)
	}
}

// RTA_VIA is struct rtvia: the family in host order, then the address; a
// family that does not fit its address reads as none.
func TestViaWire(t *testing.T) {
	b := RouteMsg{Via: netip.MustParseAddr("2001:db8::2")}.Marshal()
	want := append([]byte{22, 0, rtaVia, 0, afInet6, 0}, netip.MustParseAddr("2001:db8::2").AsSlice()...)
	if !bytes.Contains(b, want) {
		t.Fatalf("RTA_VIA % x, want % x", b, want)
	}
	for _, c := range []struct {
		b    []byte
		want netip.Addr
	}{
		{[]byte{afInet, 0, 198, 18, 5, 1}, netip.MustParseAddr("198.18.5.1")},
		{[]byte{afInet6, 0, 198, 18, 5, 1}, netip.Addr{}},
		{[]byte{17, 0, 2, 0, 0, 0, 0, 1}, netip.Addr{}},
		{[]byte{afInet}, netip.Addr{}},
	} {
		if got := getVia(c.b); got != c.want {
			t.Errorf("getVia(% x) = %v, want %v", c.b, got, c.want)
		}
	}
}

// refRouteMarshal is RouteMsg.Marshal as it was written with
// netlink.AttributeEncoder: the appending encoder must write the same
// bytes.
func refRouteMarshal(m RouteMsg) []byte {
	tb := uint8(m.Table)
	if m.Table > 255 {
		tb = 252
	}
	b := []byte{afInet, m.DstLen, m.SrcLen, m.TOS, tb, m.Protocol, m.Scope, m.Type, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[8:], m.Flags)
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(rtaTable, m.Table)
	putAddr(ae, rtaDst, m.Dst)
	putAddr(ae, rtaSrc, m.Src)
	putAddr(ae, rtaGateway, m.Gateway)
	putVia(ae, m.Via)
	putAddr(ae, rtaPrefsrc, m.PrefSrc)
	if m.Oif != 0 {
		ae.Uint32(rtaOIF, m.Oif)
	}
	if m.Iif != 0 {
		ae.Uint32(rtaIIF, m.Iif)
	}
	if m.Flow != 0 {
		ae.Uint32(rtaFlow, m.Flow)
	}
	if m.HasPrio || m.Priority != 0 {
		ae.Uint32(rtaPriority, m.Priority)
	}
	if m.HasUID {
		ae.Uint32(rtaUID, m.UID)
	}
	if m.NhID != 0 {
		ae.Uint32(rtaNhID, m.NhID)
	}
	if m.Mark != 0 {
		ae.Uint32(rtaMark, m.Mark)
	}
	if len(m.Multipath) > 0 {
		ae.Bytes(rtaMultipath, marshalMultipath(m.Multipath))
	}
	if m.IPProto != 0 {
		ae.Uint8(rtaIPProto, m.IPProto)
	}
	if m.Sport != 0 {
		ae.Bytes(rtaSport, []byte{byte(m.Sport >> 8), byte(m.Sport)})
	}
	if m.Dport != 0 {
		ae.Bytes(rtaDport, []byte{byte(m.Dport >> 8), byte(m.Dport)})
	}
	if !m.Metrics.IsZero() {
		ne := netlink.NewAttributeEncoder()
		m.Metrics.encode(ne)
		mb, _ := ne.Encode()
		ae.Bytes(rtaMetrics, mb)
	}
	a, _ := ae.Encode()
	return append(b, a...)
}

// RouteMsg's appending encoder writes what the attribute encoder wrote,
// for every attribute, and a plain route costs no allocation.
func TestRouteMarshalAsAttributeEncoder(t *testing.T) {
	a := netip.MustParseAddr
	for i, m := range []RouteMsg{
		{},
		{DstLen: 24, Dst: a("1.0.0.0"), Gateway: a("198.18.0.2"), Table: 254, Protocol: 3, Type: 1},
		{DstLen: 32, Dst: a("198.18.9.1"), Src: a("198.18.0.1"), SrcLen: 32, PrefSrc: a("198.18.0.1"), Oif: 2, Iif: 3, Priority: 7, HasUID: true, UID: 1000, NhID: 5, Mark: 9, Table: 1000, Flags: 0x1234, TOS: 4, Scope: 253},
		{Via: a("198.18.0.3"), IPProto: 6, Sport: 80, Dport: 443, HasPrio: true},
		{Via: a("2001:db8::1")},
		{Metrics: Metrics{Val: [RTAXMax + 1]uint32{RTAXMTU: 1280}}},
		{Multipath: []RtNexthop{{Gateway: a("198.18.0.2"), Ifindex: 2}, {Gateway: a("198.18.0.3"), Ifindex: 3, Weight: 1, Flow: 0x30004}}},
		{Flow: 5, Oif: 2},
	} {
		if got, want := m.Marshal(), refRouteMarshal(m); !bytes.Equal(got, want) {
			t.Errorf("%d: % x\nwant % x", i, got, want)
		}
	}
	m := RouteMsg{DstLen: 24, Dst: a("1.0.0.0"), Gateway: a("198.18.0.2"), Table: 254, Protocol: 3, Type: 1}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { m.AppendMarshal(buf) }); n != 0 {
		t.Errorf("AppendMarshal: %v allocations, want 0", n)
	}
}
