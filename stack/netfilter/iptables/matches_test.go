package iptables_test

import (
	"net/netip"
	"testing"
	"time"

	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
)

// matchCase is one rule (a DROP when it matches) against one packet.
type matchCase struct {
	name  string
	ip    ipt.IPMatch
	m     []ipt.Match
	p     pkt
	hook  stack.NFHook // 0 is PREROUTING: LOCAL_IN is the default
	skb   func(*stack.SKB)
	match bool
}

// checkMatches runs each case through a table holding its rule at its
// hook (mangle, which has every hook).
func checkMatches(t *testing.T, r *rig, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		hook := tc.hook
		if hook == 0 {
			hook = stack.NFLocalIn
		}
		spec, _ := ipt.Get(r.h, "mangle")
		for i := range spec.Chains {
			spec.Chains[i].Rules = nil
			if spec.Chains[i].Name == ipt.ChainNames[hook] {
				spec.Chains[i].Rules = []ipt.Rule{{IP: tc.ip, Matches: tc.m, Target: verdict(ipt.Drop)}}
			}
		}
		if _, err := ipt.Replace(r.h, spec); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		skb := r.skb(tc.p)
		if tc.skb != nil {
			tc.skb(skb)
		}
		v, _ := r.runSKB(hook, skb)
		if got := v == stack.NFDrop; got != tc.match {
			t.Errorf("%s: matched %v, want %v", tc.name, got, tc.match)
		}
	}
}

var ones = [4]byte{255, 255, 255, 255}

func TestMatches(t *testing.T) {
	r := newRig(t)
	tcpP := pkt{src: addrA, dst: addrB, proto: ipt.ProtoTCP, sport: 1234, dport: 80, flags: 0x02}
	udpP := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 53, dport: 4000, payload: []byte("hello, GET /index.html")}
	icmpP := pkt{src: addrA, dst: addrB, proto: ipt.ProtoICMP, icmpType: 8}
	tcpm := func(i ipt.TCPInfo) []ipt.Match {
		if i.SrcPorts == [2]uint16{} {
			i.SrcPorts = [2]uint16{0, 65535}
		}
		if i.DstPorts == [2]uint16{} {
			i.DstPorts = [2]uint16{0, 65535}
		}
		return []ipt.Match{match("tcp", 0, &i)}
	}
	tcpIP := protoIs(ipt.ProtoTCP)
	udpIP := protoIs(ipt.ProtoUDP)
	icmpIP := protoIs(ipt.ProtoICMP)
	mp := func(flags uint8, inv uint8, ports []uint16, ranges []uint8) []ipt.Match {
		i := ipt.MultiportInfo{Flags: flags, Count: uint8(len(ports)), Invert: inv}
		copy(i.Ports[:], ports)
		copy(i.Pflags[:], ranges)
		return []ipt.Match{match("multiport", 1, &i)}
	}
	withOpts := tcpP
	withOpts.tcpOptions = []byte{2, 4, 5, 0xb4, 1, 1, 4, 2} // MSS, NOP, NOP, SACK-permitted
	frag := udpP
	frag.frag = 100
	checkMatches(t, r, []matchCase{
		{name: "-p tcp", ip: tcpIP, p: tcpP, match: true},
		{name: "-p tcp, udp", ip: tcpIP, p: udpP},
		{name: "! -p tcp, udp", ip: ipt.IPMatch{Proto: ipt.ProtoTCP, InvFlags: ipt.InvProto}, p: udpP, match: true},
		{name: "-d", ip: ipt.IPMatch{Dst: addrB, DstMask: ones}, p: tcpP, match: true},
		{name: "! -d", ip: ipt.IPMatch{Dst: addrB, DstMask: ones, InvFlags: ipt.InvDstIP}, p: tcpP},
		{name: "-i vnic0", ip: iface(true, "vnic0", false), p: tcpP, match: true},
		{name: "-i vnic+", ip: iface(true, "vnic+", false), p: tcpP, match: true},
		{name: "-i vnic1", ip: iface(true, "vnic1", false), p: tcpP},
		{name: "! -i vnic1", ip: iface(true, "vnic1", true), p: tcpP, match: true},
		{name: "-o vnic0 at INPUT", ip: iface(false, "vnic0", false), p: tcpP},
		{name: "! -o vnic0 at INPUT", ip: iface(false, "vnic0", true), p: tcpP, match: true},
		{name: "-o vnic0 at OUTPUT", ip: iface(false, "vnic0", false), p: tcpP, hook: stack.NFLocalOut, match: true},
		{name: "-f, a first fragment", ip: ipt.IPMatch{Flags: ipt.FlagFrag}, p: udpP},
		{name: "-f, a later fragment", ip: ipt.IPMatch{Flags: ipt.FlagFrag}, p: frag, match: true},
		{name: "! -f, a later fragment", ip: ipt.IPMatch{Flags: ipt.FlagFrag, InvFlags: ipt.InvFrag}, p: frag},
		{name: "tcp --dport 80", ip: tcpIP, m: tcpm(ipt.TCPInfo{DstPorts: [2]uint16{80, 80}}), p: tcpP, match: true},
		{name: "tcp --dport 1:79", ip: tcpIP, m: tcpm(ipt.TCPInfo{DstPorts: [2]uint16{1, 79}}), p: tcpP},
		{name: "tcp ! --dport 1:79", ip: tcpIP, m: tcpm(ipt.TCPInfo{DstPorts: [2]uint16{1, 79}, InvFlags: ipt.TCPInvDstPort}), p: tcpP, match: true},
		{name: "tcp --sport 1234", ip: tcpIP, m: tcpm(ipt.TCPInfo{SrcPorts: [2]uint16{1234, 1234}}), p: tcpP, match: true},
		{name: "tcp --syn", ip: tcpIP, m: tcpm(ipt.TCPInfo{FlagMask: 0x17, FlagCmp: 0x02}), p: tcpP, match: true},
		{name: "tcp ! --syn", ip: tcpIP, m: tcpm(ipt.TCPInfo{FlagMask: 0x17, FlagCmp: 0x02, InvFlags: ipt.TCPInvFlags}), p: tcpP},
		{name: "tcp --tcp-flags ALL ACK", ip: tcpIP, m: tcpm(ipt.TCPInfo{FlagMask: 0x3f, FlagCmp: 0x10}), p: tcpP},
		{name: "tcp --tcp-option 4", ip: tcpIP, m: tcpm(ipt.TCPInfo{Option: 4}), p: withOpts, match: true},
		{name: "tcp --tcp-option 8", ip: tcpIP, m: tcpm(ipt.TCPInfo{Option: 8}), p: withOpts},
		{name: "tcp ! --tcp-option 8", ip: tcpIP, m: tcpm(ipt.TCPInfo{Option: 8, InvFlags: ipt.TCPInvOption}), p: withOpts, match: true},
		{name: "udp --sport 53", ip: udpIP, m: []ipt.Match{match("udp", 0, &ipt.UDPInfo{SrcPorts: [2]uint16{53, 53}, DstPorts: [2]uint16{0, 65535}})}, p: udpP, match: true},
		{name: "udp ! --dport 4000", ip: udpIP, m: []ipt.Match{match("udp", 0, &ipt.UDPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{4000, 4000}, InvFlags: ipt.UDPInvDstPort})}, p: udpP},
		{name: "udp, a later fragment", ip: udpIP, m: []ipt.Match{match("udp", 0, &ipt.UDPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{0, 65535}})}, p: frag},
		{name: "icmp echo-request", ip: icmpIP, m: []ipt.Match{match("icmp", 0, &ipt.ICMPInfo{Type: 8, Code: [2]uint8{0, 255}})}, p: icmpP, match: true},
		{name: "icmp any", ip: icmpIP, m: []ipt.Match{match("icmp", 0, &ipt.ICMPInfo{Type: 0xff, Code: [2]uint8{0, 255}})}, p: icmpP, match: true},
		{name: "icmp ! echo-request", ip: icmpIP, m: []ipt.Match{match("icmp", 0, &ipt.ICMPInfo{Type: 8, Code: [2]uint8{0, 255}, InvFlags: ipt.ICMPInv})}, p: icmpP},
		{name: "icmp 3/3", ip: icmpIP, m: []ipt.Match{match("icmp", 0, &ipt.ICMPInfo{Type: 3, Code: [2]uint8{3, 3}})}, p: icmpP},
		{name: "multiport --dports 22,80", ip: tcpIP, m: mp(ipt.MultiportDestination, 0, []uint16{22, 80}, nil), p: tcpP, match: true},
		{name: "multiport --dports 22,1024:2000", ip: tcpIP, m: mp(ipt.MultiportDestination, 0, []uint16{22, 1024, 2000}, []uint8{0, 1}), p: tcpP},
		{name: "multiport --sports 1000:2000", ip: tcpIP, m: mp(ipt.MultiportSource, 0, []uint16{1000, 2000}, []uint8{1}), p: tcpP, match: true},
		{name: "multiport --ports 1234", ip: tcpIP, m: mp(ipt.MultiportEither, 0, []uint16{1234}, nil), p: tcpP, match: true},
		{name: "multiport ! --ports 1234", ip: tcpIP, m: mp(ipt.MultiportEither, 1, []uint16{1234}, nil), p: tcpP},
		{name: "comment", m: []ipt.Match{match("comment", 0, &ipt.CommentInfo{})}, p: tcpP, match: true},
		{name: "length 40", m: []ipt.Match{match("length", 0, &ipt.LengthInfo{Min: 40, Max: 40})}, p: tcpP, match: true},
		{name: "length ! 0:100", m: []ipt.Match{match("length", 0, &ipt.LengthInfo{Min: 0, Max: 100, Invert: 1})}, p: tcpP},
		{name: "ttl --ttl-eq 64", m: []ipt.Match{match("ttl", 0, &ipt.TTLInfo{Mode: ipt.TTLEq, TTL: 64})}, p: tcpP, match: true},
		{name: "ttl --ttl-lt 64", m: []ipt.Match{match("ttl", 0, &ipt.TTLInfo{Mode: ipt.TTLLt, TTL: 64})}, p: tcpP},
		{name: "ttl --ttl-gt 63", m: []ipt.Match{match("ttl", 0, &ipt.TTLInfo{Mode: ipt.TTLGt, TTL: 63})}, p: tcpP, match: true},
		{name: "ttl ! --ttl-eq 64", m: []ipt.Match{match("ttl", 0, &ipt.TTLInfo{Mode: ipt.TTLNe, TTL: 64})}, p: tcpP},
		{name: "tos 0x10/0xff", m: []ipt.Match{match("tos", 1, &ipt.TOSInfo{Mask: 0xff, Value: 0x10})}, p: withTOS(tcpP, 0x10), match: true},
		{name: "tos 0x10/0x3f of 0x12", m: []ipt.Match{match("tos", 1, &ipt.TOSInfo{Mask: 0x10, Value: 0x10})}, p: withTOS(tcpP, 0x12), match: true},
		{name: "dscp 0x2e (EF)", m: []ipt.Match{match("dscp", 0, &ipt.DSCPInfo{DSCP: 0x2e})}, p: withTOS(tcpP, 0xb8), match: true},
		{name: "dscp ! 0x2e", m: []ipt.Match{match("dscp", 0, &ipt.DSCPInfo{DSCP: 0x2e, Invert: 1})}, p: withTOS(tcpP, 0xb8)},
		{name: "pkttype unicast", m: []ipt.Match{match("pkttype", 0, &ipt.PktTypeInfo{PktType: stack.PacketHost})}, p: tcpP, match: true},
		{name: "pkttype broadcast", m: []ipt.Match{match("pkttype", 0, &ipt.PktTypeInfo{PktType: stack.PacketBroadcast})}, p: tcpP,
			skb: func(s *stack.SKB) { s.PktType = stack.PacketBroadcast }, match: true},
		{name: "mac --mac-source", m: []ipt.Match{match("mac", 0, &ipt.MACInfo{Src: [6]byte{2, 0, 0, 0, 0, 9}})}, p: tcpP, skb: withMAC([6]byte{2, 0, 0, 0, 0, 9}), match: true},
		{name: "mac, another source", m: []ipt.Match{match("mac", 0, &ipt.MACInfo{Src: [6]byte{2, 0, 0, 0, 0, 8}})}, p: tcpP, skb: withMAC([6]byte{2, 0, 0, 0, 0, 9})},
		{name: "mac, no MAC header", m: []ipt.Match{match("mac", 0, &ipt.MACInfo{Src: [6]byte{2, 0, 0, 0, 0, 8}, Invert: 1})}, p: tcpP},
		{name: "iprange --src-range", m: []ipt.Match{match("iprange", 1, &ipt.IPRangeInfo{SrcMin: [4]byte{198, 18, 0, 0}, SrcMax: [4]byte{198, 18, 0, 9}, Flags: ipt.IPRangeSrc})}, p: tcpP, match: true},
		{name: "iprange ! --dst-range", m: []ipt.Match{match("iprange", 1, &ipt.IPRangeInfo{DstMin: [4]byte{198, 18, 0, 0}, DstMax: [4]byte{198, 18, 0, 9}, Flags: ipt.IPRangeDst | ipt.IPRangeDstInv})}, p: tcpP},
		{name: "iprange --dst-range above", m: []ipt.Match{match("iprange", 1, &ipt.IPRangeInfo{DstMin: [4]byte{198, 18, 0, 3}, DstMax: [4]byte{198, 18, 0, 9}, Flags: ipt.IPRangeDst})}, p: tcpP},
		{name: "mark 0x5/0xf", m: []ipt.Match{match("mark", 1, &ipt.MarkInfo{Mark: 5, Mask: 0xf})}, p: tcpP, skb: func(s *stack.SKB) { s.Mark = 0x35 }, match: true},
		{name: "mark ! 0x5/0xf", m: []ipt.Match{match("mark", 1, &ipt.MarkInfo{Mark: 5, Mask: 0xf, Invert: 1})}, p: tcpP, skb: func(s *stack.SKB) { s.Mark = 0x35 }},
		{name: "string", m: []ipt.Match{stringm("GET /", 0, 65535, 0)}, p: udpP, match: true},
		{name: "string, ignore case", m: []ipt.Match{stringm("get /", 0, 65535, ipt.StringIgnoreCase)}, p: udpP, match: true},
		{name: "string, case", m: []ipt.Match{stringm("get /", 0, 65535, 0)}, p: udpP},
		{name: "string --to before it", m: []ipt.Match{stringm("GET /", 0, 30, 0)}, p: udpP},
		{name: "string --to just after it", m: []ipt.Match{stringm("GET /", 0, 40, 0)}, p: udpP, match: true},
		{name: "string ! absent", m: []ipt.Match{stringm("POST", 0, 65535, ipt.StringInvert)}, p: udpP, match: true},
		{name: "owner, no socket", hook: stack.NFLocalOut, m: []ipt.Match{match("owner", 1, &ipt.OwnerInfo{UIDMin: 0, UIDMax: 0, Match: ipt.OwnerUID})}, p: udpP},
		{name: "owner --uid-owner 1000", hook: stack.NFLocalOut, m: []ipt.Match{match("owner", 1, &ipt.OwnerInfo{UIDMin: 1000, UIDMax: 1000, Match: ipt.OwnerUID})}, p: udpP,
			skb: func(s *stack.SKB) { s.Owner = &stack.SockOwner{UID: 1000, GID: 100} }, match: true},
		{name: "owner ! --uid-owner 1000", hook: stack.NFLocalOut, m: []ipt.Match{match("owner", 1, &ipt.OwnerInfo{UIDMin: 1000, UIDMax: 1000, Match: ipt.OwnerUID, Invert: ipt.OwnerUID})}, p: udpP,
			skb: func(s *stack.SKB) { s.Owner = &stack.SockOwner{UID: 1000, GID: 100} }},
		{name: "owner --gid-owner 100-200", hook: stack.NFLocalOut, m: []ipt.Match{match("owner", 1, &ipt.OwnerInfo{GIDMin: 100, GIDMax: 200, Match: ipt.OwnerGID})}, p: udpP,
			skb: func(s *stack.SKB) { s.Owner = &stack.SockOwner{UID: 1000, GID: 150} }, match: true},
		{name: "owner --socket-exists", hook: stack.NFLocalOut, m: []ipt.Match{match("owner", 1, &ipt.OwnerInfo{Match: ipt.OwnerSocket})}, p: udpP,
			skb: func(s *stack.SKB) { s.Owner = &stack.SockOwner{} }, match: true},
		{name: "owner ! --socket-exists, no socket", hook: stack.NFLocalOut, m: []ipt.Match{match("owner", 1, &ipt.OwnerInfo{Match: ipt.OwnerSocket, Invert: ipt.OwnerSocket})}, p: udpP, match: true},
	})
}

func withTOS(p pkt, tos uint8) pkt { p.tos = tos; return p }

func withMAC(src [6]byte) func(*stack.SKB) {
	return func(s *stack.SKB) {
		h := s.Push(14)
		copy(h[6:12], src[:])
		h[12], h[13] = 0x08, 0x00
		s.ResetMACHeader()
		s.Pull(14)
	}
}

func stringm(pat string, from, to uint16, flags uint8) ipt.Match {
	i := &ipt.StringInfo{FromOffset: from, ToOffset: to, PatLen: uint8(len(pat)), Flags: flags}
	copy(i.Algo[:], "bm")
	copy(i.Pattern[:], pat)
	return match("string", 1, i)
}

func iface(in bool, name string, inv bool) ipt.IPMatch {
	var m ipt.IPMatch
	if in {
		ipt.SetIface(name, &m.InIface, &m.InMask)
		if inv {
			m.InvFlags |= ipt.InvViaIn
		}
	} else {
		ipt.SetIface(name, &m.OutIface, &m.OutMask)
		if inv {
			m.InvFlags |= ipt.InvViaOut
		}
	}
	return m
}

// The conntrack and state matches read what connection tracking attached
// to the skb: a connection and the packet's relation to it, "untracked",
// or nothing (INVALID).
func TestConntrackMatches(t *testing.T) {
	r := newRig(t)
	p := pkt{src: addrA, dst: addrB, proto: ipt.ProtoTCP, sport: 1, dport: 2}
	// A connection of the test's making, confirmed, so that the
	// tracking the rules turn on leaves it as it is.
	conn := func() *conntrack.Conn {
		c := &conntrack.Conn{}
		c.SetStatus(conntrack.StatusConfirmed)
		return c
	}
	tracked := func(info conntrack.Info) func(*stack.SKB) {
		return func(s *stack.SKB) { s.SetNFCT(conn(), uint8(info)) }
	}
	untracked := func(s *stack.SKB) { conntrack.SetUntracked(s) }
	state := func(mask uint32) []ipt.Match { return []ipt.Match{match("state", 0, &ipt.StateInfo{StateMask: mask})} }
	ct := func(i ipt.ConntrackInfo) []ipt.Match { return []ipt.Match{match("conntrack", 3, &i)} }
	est := uint32(ipt.CTStateBit(conntrack.Established))
	rel := uint32(ipt.CTStateBit(conntrack.Related))
	nw := uint32(ipt.CTStateBit(conntrack.New))
	if est != 2 || rel != 4 || nw != 8 {
		t.Fatalf("state bits %d %d %d", est, rel, nw)
	}
	checkMatches(t, r, []matchCase{
		{name: "state NEW, a new packet", m: state(nw), p: p, skb: tracked(conntrack.New), match: true},
		{name: "state ESTABLISHED,RELATED, a reply", m: state(est | rel), p: p, skb: tracked(conntrack.EstablishedReply), match: true},
		{name: "state ESTABLISHED,RELATED, an ICMP error", m: state(est | rel), p: p, skb: tracked(conntrack.RelatedReply), match: true},
		{name: "state NEW, a reply", m: state(nw), p: p, skb: tracked(conntrack.EstablishedReply)},
		{name: "state INVALID, untracked by nobody", m: state(ipt.CTStateInvalid), p: p, match: true},
		{name: "state UNTRACKED", m: state(ipt.StateUntracked), p: p, skb: untracked, match: true},
		{name: "state INVALID, untracked", m: state(ipt.CTStateInvalid), p: p, skb: untracked},
		{name: "ctstate NEW", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchState, StateMask: uint16(nw)}), p: p, skb: tracked(conntrack.New), match: true},
		{name: "! ctstate NEW", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchState, InvertFlags: ipt.CTMatchState, StateMask: uint16(nw)}), p: p, skb: tracked(conntrack.New)},
		{name: "ctstate UNTRACKED", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchState, StateMask: ipt.CTStateUntracked}), p: p, skb: untracked, match: true},
		{name: "ctdir ORIGINAL, a reply", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchDirection}), p: p, skb: tracked(conntrack.EstablishedReply)},
		{name: "ctdir REPLY, a reply", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchDirection, InvertFlags: ipt.CTMatchDirection}), p: p, skb: tracked(conntrack.EstablishedReply), match: true},
		{name: "ctdir without a connection", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchDirection}), p: p},
		{name: "ctorigsrc 0.0.0.0", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchOrigSrc, OrigSrcMask: ones}), p: p, skb: tracked(conntrack.New), match: true},
		{name: "ctorigdst 198.18.0.2", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchOrigDst, OrigDst: addrB, OrigDstMask: ones}), p: p, skb: tracked(conntrack.New)},
		{name: "ctstatus ASSURED of none", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchStatus, StatusMask: uint16(conntrack.StatusAssured)}), p: p, skb: tracked(conntrack.New)},
		{name: "! ctstatus ASSURED of none", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchStatus, InvertFlags: ipt.CTMatchStatus, StatusMask: uint16(conntrack.StatusAssured)}), p: p, skb: tracked(conntrack.New), match: true},
		{name: "ctexpire 0", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchExpires}), p: p, skb: tracked(conntrack.New), match: true},
		{name: "ctexpire 10:20", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchExpires, ExpiresMin: 10, ExpiresMax: 20}), p: p, skb: tracked(conntrack.New)},
		{name: "ctproto 0", m: ct(ipt.ConntrackInfo{MatchFlags: ipt.CTMatchProto}), p: p, skb: tracked(conntrack.New), match: true},
		{name: "connmark, untracked", m: []ipt.Match{match("connmark", 1, &ipt.MarkInfo{Mark: 0, Mask: 0})}, p: p},
		{name: "connmark 0", m: []ipt.Match{match("connmark", 1, &ipt.MarkInfo{Mark: 0, Mask: 0xffffffff})}, p: p, skb: tracked(conntrack.New), match: true},
		{name: "connmark 3", m: []ipt.Match{match("connmark", 1, &ipt.MarkInfo{Mark: 3, Mask: 0xffffffff})}, p: p,
			skb: func(s *stack.SKB) { c := conn(); c.SetMark(3); s.SetNFCT(c, uint8(conntrack.New)) }, match: true},
	})
}

// limit: a bucket of burst packets, refilled at the rate on the host
// clock; hashlimit: one such bucket per key.
func TestRateMatches(t *testing.T) {
	r := newRig(t)
	// 10/second, burst 3.
	spec := filter([]ipt.Rule{{Matches: []ipt.Match{match("limit", 0, &ipt.LimitInfo{Avg: ipt.LimitScale / 10, Burst: 3})}, Target: verdict(ipt.Accept)},
		{Target: verdict(ipt.Drop)}})
	r.replace(spec)
	send := func(p pkt) bool { v, _ := r.run(stack.NFLocalIn, p); return v == stack.NFAccept }
	a := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}
	b := pkt{src: addrC, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}
	var got []bool
	for i := 0; i < 5; i++ {
		got = append(got, send(a))
	}
	r.advance(100 * time.Millisecond)
	got = append(got, send(a), send(a))
	if want := []bool{true, true, true, false, false, true, false}; !equalBools(got, want) {
		t.Errorf("limit: %v, want %v", got, want)
	}
	// hashlimit: 1/s burst 2 per source address.
	hl := &ipt.HashlimitInfo{Avg: ipt.HashlimitScale, Burst: 2, Mode: ipt.HashSrcIP, GCInterval: 1000, Expire: 10000, SrcMask: 32, DstMask: 32}
	copy(hl.Name[:], "per-src")
	r.replace(filter([]ipt.Rule{{Matches: []ipt.Match{match("hashlimit", 3, hl)}, Target: verdict(ipt.Accept)}, {Target: verdict(ipt.Drop)}}))
	got = nil
	for i := 0; i < 3; i++ {
		got = append(got, send(a))
	}
	got = append(got, send(b), send(b), send(b))
	r.advance(time.Second)
	got = append(got, send(a), send(a))
	if want := []bool{true, true, false, true, true, false, true, false}; !equalBools(got, want) {
		t.Errorf("hashlimit: %v, want %v", got, want)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// recent: --set records the source, --rcheck/--update with --seconds and
// --hitcount look at its hits, --remove forgets it.
func TestRecent(t *testing.T) {
	r := newRig(t)
	rec := func(set uint8, secs, hits uint32) ipt.Match {
		i := &ipt.RecentInfo{CheckSet: set, Seconds: secs, HitCount: hits, Mask: ones}
		copy(i.Name[:], "DEFAULT")
		return match("recent", 1, i)
	}
	// INPUT: a source seen 3 times in 10 s is dropped; every packet is
	// recorded.
	r.replace(filter([]ipt.Rule{
		{Matches: []ipt.Match{rec(ipt.RecentUpdate, 10, 3)}, Target: verdict(ipt.Drop)},
		{Matches: []ipt.Match{rec(ipt.RecentSet, 0, 0)}, Target: verdict(ipt.Accept)},
	}))
	a := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}
	var got []stack.Verdict
	for i := 0; i < 4; i++ {
		v, _ := r.run(stack.NFLocalIn, a)
		got = append(got, v)
		r.advance(time.Second)
	}
	r.advance(20 * time.Second)
	v, _ := r.run(stack.NFLocalIn, a)
	got = append(got, v)
	want := []stack.Verdict{stack.NFAccept, stack.NFAccept, stack.NFAccept, stack.NFDrop, stack.NFAccept}
	if len(got) != len(want) || got[3] != want[3] || got[2] != want[2] || got[4] != want[4] {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	if l := ipt.RecentList(r.h, "DEFAULT"); len(l) != 1 || l[0] != addrA {
		t.Errorf("list %v", l)
	}
	r.replace(filter([]ipt.Rule{{Matches: []ipt.Match{rec(ipt.RecentRemove, 0, 0)}, Target: verdict(ipt.Accept)}}))
	r.run(stack.NFLocalIn, a)
	if l := ipt.RecentList(r.h, "DEFAULT"); len(l) != 0 {
		t.Errorf("list after --remove %v", l)
	}
}

// statistic --mode nth --every 3 matches one packet in three, from the
// start given; --mode random with probability 0 never matches, 1 always.
func TestStatistic(t *testing.T) {
	r := newRig(t)
	a := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}
	count := func(i ipt.StatisticInfo, n int) int {
		r.replace(filter([]ipt.Rule{{Matches: []ipt.Match{match("statistic", 0, &i)}, Target: verdict(ipt.Drop)}}))
		k := 0
		for j := 0; j < n; j++ {
			if v, _ := r.run(stack.NFLocalIn, a); v == stack.NFDrop {
				k++
			}
		}
		return k
	}
	for _, tc := range []struct {
		info ipt.StatisticInfo
		want int
	}{
		{ipt.StatisticInfo{Mode: ipt.StatisticNth, Every: 2}, 10},
		{ipt.StatisticInfo{Mode: ipt.StatisticNth, Every: 2, Flags: ipt.StatisticInvert}, 20},
		{ipt.StatisticInfo{Mode: ipt.StatisticRandom, Probability: 0}, 0},
		{ipt.StatisticInfo{Mode: ipt.StatisticRandom, Probability: 0x80000000}, 30},
	} {
		if got := count(tc.info, 30); got != tc.want {
			t.Errorf("%+v: %d of 30, want %d", tc.info, got, tc.want)
		}
	}
}

// addrtype reads the host's local table.
func TestAddrType(t *testing.T) {
	r := ipRig(t)
	at := func(src, dst uint16, flags uint32) []ipt.Match {
		return []ipt.Match{match("addrtype", 1, &ipt.AddrTypeInfo{Source: src, Dest: dst, Flags: flags})}
	}
	const local, unicast, bcast, mcast = 1 << 2, 1 << 1, 1 << 3, 1 << 5
	toUs := pkt{src: addrC, dst: addrA, proto: ipt.ProtoUDP}
	toBcast := pkt{src: addrC, dst: [4]byte{198, 18, 0, 255}, proto: ipt.ProtoUDP}
	toMcast := pkt{src: addrC, dst: [4]byte{224, 0, 0, 1}, proto: ipt.ProtoUDP}
	checkMatches(t, r, []matchCase{
		{name: "--dst-type LOCAL", m: at(0, local, 0), p: toUs, match: true},
		{name: "--src-type LOCAL", m: at(local, 0, 0), p: toUs},
		{name: "--src-type UNICAST", m: at(unicast, 0, 0), p: toUs, match: true},
		{name: "! --dst-type LOCAL", m: at(0, local, ipt.AddrTypeInvertDest), p: toUs},
		{name: "--dst-type BROADCAST", m: at(0, bcast, 0), p: toBcast, match: true},
		{name: "--dst-type MULTICAST", m: at(0, mcast, 0), p: toMcast, match: true},
		{name: "--dst-type LOCAL --limit-iface-in", m: at(0, local, ipt.AddrTypeLimitIn), p: toUs, match: true},
	})
}

// ipRig is a rig whose host has IPv4, 198.18.0.1/24 on its device.
func ipRig(t *testing.T) *rig {
	r := newBareRig(t)
	in, err := inet.Init(r.h, ipv4.InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.dev.Open(); err != nil {
		t.Fatal(err)
	}
	if err := in.AddAddr(r.dev, netip.MustParsePrefix("198.18.0.1/24")); err != nil {
		t.Fatal(err)
	}
	return r
}

// advance moves the rig's clock on by d.
func (r *rig) advance(d time.Duration) { r.clk.RunFor(d) }
