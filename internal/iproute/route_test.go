package iproute

import (
	"net/netip"
	"strings"
	"testing"

	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

func TestParseRoute(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // RouteSpec fields as FormatRoute would print them, or "error: …"
	}{
		{"default via 198.18.5.1", "default via 198.18.5.1"},
		{"198.18.9.0/24 via 198.18.5.1 dev vnic0 metric 10", "198.18.9.0/24 via 198.18.5.1 dev vnic0 metric 10"},
		{"to 198.18.9.7 dev vnic0 scope link src 198.18.5.2 mtu lock 1280 table 100 proto static", "198.18.9.7 dev vnic0 table 100 proto static scope link src 198.18.5.2 mtu 1280"},
		{"unreachable 203.0.113.0/24", "unreachable 203.0.113.0/24"},
		{"blackhole default table main", "blackhole default"},
		{"198.18.9.0/24 via 198.18.5.1 onlink dev vnic0", "198.18.9.0/24 via 198.18.5.1 dev vnic0 onlink"},
		{"", "error: need at least a destination address"},
		{"default via", `error: argument to "via" is missing`},
		{"default via 2001:db8::1", `error: inet address is expected rather than "2001:db8::1".`},
		{"198.18.9.0/33", `error: any valid prefix is expected rather than "198.18.9.0/33".`},
		{"default default", `error: either "to" is duplicate, or "default" is a garbage.`},
		{"default table nope", `error: "table" value is invalid: nope`},
		{"default metric x", `error: "metric" value is invalid: x`},
		{"default scope wide", `error: invalid "scope" value: wide`},
		{"default mtu 10", `error: "mtu" value is invalid: 10`},
	} {
		r, err := ParseRoute(strings.Fields(c.in))
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			m := RouteMsg{DstLen: uint8(r.Dst.Bits()), Type: uint8(r.Type), Table: r.Table, Protocol: r.Protocol, Gateway: r.Gateway, PrefSrc: r.Src,
				Priority: r.Metric, HasPrio: r.Set["metric"], MTU: r.MTU}
			if m.Table == 0 {
				m.Table = fib.TableMain
			}
			if m.Protocol == 0 {
				m.Protocol = fib.ProtoBoot
			}
			if r.HasScope {
				m.Scope = uint8(r.Scope)
			}
			if r.Dst.Bits() > 0 {
				m.Dst = r.Dst.Addr()
			}
			if r.Dev != "" {
				m.Oif = 2
			}
			if r.OnLink {
				m.Flags |= RTMFOnLink
			}
			got = FormatRoute(m, func(uint32) string { return r.Dev })
		}
		if got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// Every message survives a marshal/unmarshal round trip.
func TestMessagesRoundTrip(t *testing.T) {
	r := RouteMsg{DstLen: 24, TOS: 0x10, Table: 1000, Protocol: 4, Scope: 253, Type: 1, Flags: RTMFOnLink, Dst: netip.MustParseAddr("198.18.9.0"),
		Gateway: netip.MustParseAddr("198.18.5.1"), PrefSrc: netip.MustParseAddr("198.18.5.2"), Oif: 3, Iif: 4, Priority: 7, HasPrio: true, MTU: 1280}
	var r2 RouteMsg
	if err := r2.Unmarshal(r.Marshal()); err != nil || r2 != r {
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

func FuzzParseRoute(f *testing.F) {
	f.Add("default via 198.18.5.1 dev vnic0 metric 10")
	f.Add("unreachable 203.0.113.0/24 table 7 mtu lock 1280")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoute(strings.Fields(s))
		if err != nil {
			return
		}
		if !r.Dst.IsValid() || r.Dst.Bits() > 32 {
			t.Fatalf("%q: accepted %v", s, r.Dst)
		}
		_, _ = r.Route(func(string) *stack.NetDevice { return nil })
	})
}

// The decoders take any bytes without panicking.
func FuzzUnmarshalMessages(f *testing.F) {
	f.Add(RouteMsg{DstLen: 24, Dst: netip.MustParseAddr("198.18.9.0"), MTU: 1280}.Marshal())
	f.Add(AddrMsg{PrefixLen: 24, Local: netip.MustParseAddr("198.18.5.2")}.Marshal())
	f.Add(LinkMsg{Name: "vnic0"}.Marshal())
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
