package rtnetlink

import (
	"net/netip"
	"testing"
)

// A rule message with every attribute survives a round trip, and one
// without the optional ones decodes the kernel's unset values.
func TestRuleMsgRoundTrip(t *testing.T) {
	m := RuleMsg{Family: afInet, DstLen: 24, SrcLen: 16, TOS: 0x10, Table: 1000, Action: 1, Flags: RuleFlagInvert,
		Dst: netip.MustParseAddr("198.18.9.0"), Src: netip.MustParseAddr("198.18.0.0"), Iifname: "vnic0", Oifname: "vnic1",
		Priority: 100, HasPriority: true, Mark: 0x10, HasMark: true, Mask: 0xf0, HasMask: true, Flow: 7, TunID: 9,
		SuppressPrefixlen: 0, HasSuppressPrefixlen: true, SuppressIfgroup: 3, HasSuppressIfgroup: true,
		UIDStart: 1000, UIDEnd: 1999, HasUIDRange: true, Protocol: 4, HasProtocol: true, IPProto: 17,
		SportStart: 1024, SportEnd: 2048, HasSport: true, DportStart: 53, DportEnd: 53, HasDport: true}
	var m2 RuleMsg
	if err := m2.Unmarshal(m.Marshal()); err != nil || m2 != m {
		t.Fatalf("rule %+v\n   → %+v (%v)", m, m2, err)
	}
	g := RuleMsg{Action: 2, Goto: 200, HasGoto: true, Priority: 10, HasPriority: true}
	var g2 RuleMsg
	if err := g2.Unmarshal(g.Marshal()); err != nil || !g2.HasGoto || g2.Goto != 200 || g2.Family != afInet {
		t.Fatalf("goto rule %+v → %+v (%v)", g, g2, err)
	}
	if g2.SuppressPrefixlen != -1 || g2.SuppressIfgroup != -1 || g2.HasMark || g2.HasUIDRange {
		t.Errorf("unset attributes decoded as %+v", g2)
	}
	var m3 RuleMsg
	if err := m3.Unmarshal(m.Marshal()[:11]); err != ErrShort {
		t.Errorf("11 bytes: %v, want ErrShort", err)
	}
	// A uid range must be two u32s.
	hdr := RuleMsg{}.Marshal()[:12]
	bad := append(hdr, 8, 0, fraUIDRange, 0, 1, 2, 3, 4)
	if err := m3.Unmarshal(bad); err == nil {
		t.Error("a 4-byte FRA_UID_RANGE decoded")
	}
}

// The rule decoder takes any bytes without panicking.
func FuzzUnmarshalRule(f *testing.F) {
	f.Add(RuleMsg{DstLen: 24, Dst: netip.MustParseAddr("198.18.9.0"), HasUIDRange: true, UIDEnd: 5}.Marshal())
	f.Add(RuleMsg{Iifname: "vnic0", HasSport: true, SportStart: 1, SportEnd: 2}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		var m RuleMsg
		if m.Unmarshal(b) == nil {
			var m2 RuleMsg
			if err := m2.Unmarshal(m.Marshal()); err != nil {
				t.Fatalf("re-decoding %+v: %v", m, err)
			}
		}
	})
}
