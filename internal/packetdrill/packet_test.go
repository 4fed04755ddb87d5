package packetdrill

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func packet1(t *testing.T, src string) *Packet {
	t.Helper()
	return event1(t, src).Action.(*Packet)
}

func TestTCPPackets(t *testing.T) {
	for _, c := range []struct {
		in   string
		dir  Direction
		want TCP
	}{
		{"+0 > S 0:0(0) <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 8>", Outbound, TCP{Flags: "S", Options: []TCPOption{
			{Kind: OptMSS, MSS: 1460}, {Kind: OptSACKPerm}, {Kind: OptTimestamp}, {Kind: OptNOP}, {Kind: OptWScale, WScale: 8}}}},
		{"+0 < S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>", Inbound, TCP{Flags: "S.", HasAck: true, Ack: 1,
			HasWin: true, Win: 65535, Options: []TCPOption{{Kind: OptMSS, MSS: 1460}, {Kind: OptSACKPerm}, {Kind: OptNOP}, {Kind: OptNOP},
				{Kind: OptNOP}, {Kind: OptWScale, WScale: 7}}}},
		{"+0 < P. 1:1001(1000) ack 1 win 257", Inbound, TCP{Flags: "P.", Seq: 1, End: 1001, Len: 1000, HasAck: true, Ack: 1, HasWin: true, Win: 257}},
		{"+0 > . 1:1(0) ack 1001", Outbound, TCP{Flags: ".", Seq: 1, End: 1, HasAck: true, Ack: 1001}},
		{"+0 > FP. 13001:20001(7000) ack 1", Outbound, TCP{Flags: "FP.", Seq: 13001, End: 20001, Len: 7000, HasAck: true, Ack: 1}},
		{"+0 > R 2:2(0) win 0", Outbound, TCP{Flags: "R", Seq: 2, End: 2, HasWin: true}},
		{"+0 > R 1:1(0) ack 0 win 0", Outbound, TCP{Flags: "R", Seq: 1, End: 1, HasAck: true, HasWin: true}},
		{"+0 > S. 0:0(0) ack 1    <...>", Outbound, TCP{Flags: "S.", HasAck: true, Ack: 1, AnyOptions: true}},
		{"+0 < - 0:0(0) win 0", Inbound, TCP{Seq: 0, HasWin: true}},
		{"+0 < SEW 0:0(0) win 10 urg 5", Inbound, TCP{Flags: "SEW", HasWin: true, Win: 10, HasUrg: true, Urg: 5}},
		{"+0 > SA. 0:0(0) ack 1", Outbound, TCP{Flags: "SA.", HasAck: true, Ack: 1}},
		{"+0 > S5 0:0(0)", Outbound, TCP{Flags: "S5"}},
		{"+0 > U. 4294967295:4294967295(0) ack 4294967295", Outbound, TCP{Flags: "U.", Seq: 4294967295, End: 4294967295, HasAck: true, Ack: 4294967295}},
		{"+0 > . 1:1(0) <sack 1:2 3:4,nop,nop>", Outbound, TCP{Flags: ".", Seq: 1, End: 1, Options: []TCPOption{
			{Kind: OptSACK, Blocks: []SACKBlock{{1, 2}, {3, 4}}}, {Kind: OptNOP}, {Kind: OptNOP}}}},
		{"+0 > S 0:0(0) <mss 1460, sackOK, TS val 100 ecr 0, nop,wscale *>", Outbound, TCP{Flags: "S", Options: []TCPOption{
			{Kind: OptMSS, MSS: 1460}, {Kind: OptSACKPerm}, {Kind: OptTimestamp, TSVal: 100}, {Kind: OptNOP}, {Kind: OptWScale, WScaleAny: true}}}},
		{"+0 < S 0:0(0) win 1 <md5 000102030405060708090a0b0c0d0e0f,nop,nop>", Inbound, TCP{Flags: "S", HasWin: true, Win: 1, Options: []TCPOption{
			{Kind: OptMD5, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}}, {Kind: OptNOP}, {Kind: OptNOP}}}},
		{"+0 < S 0:0(0) win 1 <FO abcd1234,nop,nop>", Inbound, TCP{Flags: "S", HasWin: true, Win: 1, Options: []TCPOption{
			{Kind: OptFastOpen, Data: []byte{0xab, 0xcd, 0x12, 0x34}}, {Kind: OptNOP}, {Kind: OptNOP}}}},
		{"+0 > S 0:0(0) <FO 12345678,nop,nop>", Outbound, TCP{Flags: "S", Options: []TCPOption{
			{Kind: OptFastOpen, Data: []byte{0x12, 0x34, 0x56, 0x78}}, {Kind: OptNOP}, {Kind: OptNOP}}}},
		{"+0 > S 0:0(0) <FOEXP,eol,eol,eol,eol>", Outbound, TCP{Flags: "S", Options: []TCPOption{
			{Kind: OptFastOpenExp}, {Kind: OptEOL}, {Kind: OptEOL}, {Kind: OptEOL}, {Kind: OptEOL}}}},
		{"+0 > S 0:0(0) <FO,nop,nop>", Outbound, TCP{Flags: "S", Options: []TCPOption{{Kind: OptFastOpen}, {Kind: OptNOP}, {Kind: OptNOP}}}},
	} {
		pk := packet1(t, c.in)
		if pk.Direction != c.dir || pk.UDP != nil || pk.ICMP != nil || pk.Ports != nil || !reflect.DeepEqual(*pk.TCP, c.want) {
			t.Errorf("%q:\n got %v %+v\nwant %v %+v", c.in, pk.Direction, *pk.TCP, c.dir, c.want)
		}
	}
}

func TestPacketIPInfoPortsAndEncaps(t *testing.T) {
	pk := packet1(t, "+0 > [ect0] S. 0:0(0) ack 1")
	if pk.IP != (IPInfo{Check: TOSCheckECN, ECN: ECT0}) {
		t.Errorf("ect0: %+v", pk.IP)
	}
	for _, c := range []struct {
		in   string
		want IPInfo
	}{
		{"(ce)", IPInfo{Check: TOSCheckECN, ECN: CE}},
		{"[noecn]", IPInfo{Check: TOSCheckECN, ECN: NoECN}},
		{"[ect1]", IPInfo{Check: TOSCheckECN, ECN: ECT1}},
		{"[ect01]", IPInfo{Check: TOSCheckECN, ECN: ECT01}},
		{"[tos 0x10]", IPInfo{Check: TOSCheckValue, TOS: 0x10}},
		{"(tos 0xfc)", IPInfo{Check: TOSCheckValue, TOS: 0xfc}},
		{"[flowlabel 0xfffff]", IPInfo{HasFlowLabel: true, FlowLabel: 0xfffff}},
		{"[ttl 64]", IPInfo{HasTTL: true, TTL: 64}},
		{"[ect0, flowlabel 0x12]", IPInfo{Check: TOSCheckECN, ECN: ECT0, HasFlowLabel: true, FlowLabel: 0x12}},
		{"[tos 0x3, flowlabel 0x1]", IPInfo{Check: TOSCheckValue, TOS: 3, HasFlowLabel: true, FlowLabel: 1}},
	} {
		if got := packet1(t, "+0 > "+c.in+" . 1:1(0)").IP; got != c.want {
			t.Errorf("%q: %+v, want %+v", c.in, got, c.want)
		}
	}
	if pk := packet1(t, "+0 < 1234>80 S 0:0(0) win 100"); *pk.Ports != (Ports{1234, 80}) {
		t.Errorf("ports %+v", pk.Ports)
	}
	pk = packet1(t, "+0 < ipv4 2.2.2.2 > 1.1.1.1: gre: mpls (label 0, tc 0, ttl 0) (label 1048575, tc 7, [S], ttl 255): . 1:1001(1000) ack 1 win 123")
	want := []Encap{
		{Kind: EncapIPv4, Src: netip.MustParseAddr("2.2.2.2"), Dst: netip.MustParseAddr("1.1.1.1")},
		{Kind: EncapGRE},
		{Kind: EncapMPLS, MPLS: []MPLSEntry{{}, {Label: 1048575, TC: 7, Bottom: true, TTL: 255}}},
	}
	if !reflect.DeepEqual(pk.Encaps, want) {
		t.Errorf("encaps %+v", pk.Encaps)
	}
	pk = packet1(t, "+0 > ipv6 [tos 0x1] 1::1111 > 2::2222 : gre flags 0xb000, sum 511, off 1023, key 0x80001234, seq 512: GREv0: . 1:1001(1000) ack 1")
	if e := pk.Encaps[0]; e.Kind != EncapIPv6 || e.Src != netip.MustParseAddr("1::1111") || e.IP.TOS != 1 {
		t.Errorf("ipv6 %+v", e)
	}
	if g := pk.Encaps[1].GRE; g == nil || *g != (GREHeader{Flags: 0xb000, Sum: 511, Off: 1023, Key: 0x80001234, Seq: 512}) {
		t.Errorf("gre %+v", g)
	}
	if e := pk.Encaps[2]; e.Kind != EncapGRE || e.GRE != nil {
		t.Errorf("GREv0 %+v", e)
	}
	packet1(t, "+0 > gre, flags [none], sum 0 off 0 key 0 seq 0: mpls: . 1:1(0)")
}

func TestUDPAndICMPPackets(t *testing.T) {
	if pk := packet1(t, "+0 < udp (1472)"); pk.UDP == nil || pk.UDP.Len != 1472 || pk.TCP != nil {
		t.Errorf("udp %+v", pk)
	}
	if pk := packet1(t, "+0 > [tos 0x4] udp 53>1024 (0)"); pk.UDP.Len != 0 || *pk.Ports != (Ports{53, 1024}) || pk.IP.TOS != 4 {
		t.Errorf("udp %+v", pk)
	}
	for _, c := range []struct {
		in   string
		want ICMP
	}{
		{"icmp unreachable frag_needed mtu 1234 [1:1001(1000)]", ICMP{Type: "unreachable", Code: "frag_needed", TypeNum: 3, CodeNum: 4,
			HasMTU: true, MTU: 1234, Echoed: &ICMPEchoed{Proto: EchoedTCP, Seq: 1, End: 1001, Len: 1000}}},
		{"icmp unreachable port_unreachable [udp (100)]", ICMP{Type: "unreachable", Code: "port_unreachable", TypeNum: 3, CodeNum: 3,
			Echoed: &ICMPEchoed{Proto: EchoedUDP, Len: 100}}},
		{"icmp echo_reply id 7 [raw (64)]", ICMP{Type: "echo_reply", HasID: true, ID: 7, Echoed: &ICMPEchoed{Proto: EchoedRaw, Len: 64}}},
		{"icmp unreachable", ICMP{Type: "unreachable", TypeNum: 3}},
		{"icmp time_exceeded", ICMP{Type: "time_exceeded", TypeNum: 11}},
		{"icmp type_42 code_7", ICMP{Type: "type_42", Code: "code_7", TypeNum: 42, CodeNum: 7}},
		{"icmp source_quench code_0", ICMP{Type: "source_quench", Code: "code_0", TypeNum: 4}},
	} {
		pk := packet1(t, "+0 < "+c.in)
		if pk.ICMP == nil || !reflect.DeepEqual(*pk.ICMP, c.want) {
			t.Errorf("%q: %+v", c.in, pk.ICMP)
		}
	}
	mustParse(t, "0 > udp (65490)")
	s := mustParse(t, "--ip_version=ipv6\n0 < icmp packet_too_big mtu 1280 [1:1(0)]\n+0 < icmp unreachable port_unreachable\n")
	if m := s.Events[0].Action.(*Packet).ICMP; m.TypeNum != 2 || m.MTU != 1280 {
		t.Errorf("icmpv6 %+v", m)
	}
	if m := s.Events[1].Action.(*Packet).ICMP; m.TypeNum != 1 || m.CodeNum != 4 {
		t.Errorf("icmpv6 %+v", m)
	}
}

func TestTCPOptionWire(t *testing.T) {
	for _, c := range []struct {
		o         TCPOption
		kind, len int
		str       string
	}{
		{TCPOption{Kind: OptEOL}, 0, 1, "eol"},
		{TCPOption{Kind: OptNOP}, 1, 1, "nop"},
		{TCPOption{Kind: OptMSS, MSS: 536}, 2, 4, "mss 536"},
		{TCPOption{Kind: OptWScale, WScale: 14}, 3, 3, "wscale 14"},
		{TCPOption{Kind: OptSACKPerm}, 4, 2, "sackOK"},
		{TCPOption{Kind: OptSACK, Blocks: []SACKBlock{{1, 2}, {3, 4}, {5, 6}}}, 5, 26, "sack 1:2 3:4 5:6"},
		{TCPOption{Kind: OptTimestamp, TSVal: 7, TSEcr: 8}, 8, 10, "TS val 7 ecr 8"},
		{TCPOption{Kind: OptMD5, Data: make([]byte, 16)}, 19, 18, "md5 00000000000000000000000000000000"},
		{TCPOption{Kind: OptFastOpen, Data: []byte{1, 2}}, 34, 4, "FO 0102"},
		{TCPOption{Kind: OptFastOpenExp}, 254, 4, "FOEXP"},
	} {
		if int(c.o.Kind.Wire()) != c.kind || c.o.Len() != c.len || c.o.String() != c.str {
			t.Errorf("%+v: kind %d len %d %q", c.o, c.o.Kind.Wire(), c.o.Len(), c.o.String())
		}
	}
}

func TestPacketErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0 < S 0:0(0)", "t.pkt:1:5: window must be specified for inbound packets"},
		{"0 < S 0:0(0) win 1 <...>", "t.pkt:1:20: <...> for TCP options can only be used with outbound packets"},
		{"0 < [ect01] S 0:0(0) win 1", "t.pkt:1:3: [ect01] can only be used with outbound packets"},
		{"0 < [ect0] udp (1)", "t.pkt:1:3: ECN can only be used with TCP packets"},
		{"0 < [ect01] udp (1)", "t.pkt:1:3: ECN can only be used with TCP packets"},
		{"0 > SX 0:0(0)", "t.pkt:1:5: invalid TCP flag 'X' (flags are F S R P . U E W A, or an AccECN digit 0-7)"},
		{"0 > S8 0:0(0)", "t.pkt:1:5: invalid TCP flag '8' (flags are F S R P . U E W A, or an AccECN digit 0-7)"},
		{"0 > SE1 0:0(0)", "t.pkt:1:5: conflicting TCP flag '1'"},
		{"0 > S1A 0:0(0)", "t.pkt:1:5: conflicting TCP flag 'A'"},
		{"0 > S12 0:0(0)", "t.pkt:1:5: conflicting TCP flag '2'"},
		{"0 > .S 0:0(0)", "t.pkt:1:6: expected a sequence range start:end(len), found \"S\""},
		{"0 > 1:1(0)", "t.pkt:1:5: expected TCP flags (S, S., P., ., -, …), udp or icmp, found \"1\""},
		{"0 > . 1:5(3)", "t.pkt:1:7: inconsistent TCP sequence numbers and payload size"},
		{"0 > . 1:1(0", "t.pkt:1:12: expected ')' after the payload's length, found end of file"},
		{"0 > . 4294967296:4294967296(0)", "t.pkt:1:7: TCP start sequence number out of range"},
		{"0 > . 4294967295:4294967296(1)", "t.pkt:1:18: TCP end sequence number out of range"},
		{"0 > . 0:65536(65536)", "t.pkt:1:15: TCP payload size out of range"},
		{"0 > . -1:0(1)", "t.pkt:1:7: TCP start sequence number out of range"},
		{"0 > . 1:1(0) ack 4294967296", "t.pkt:1:18: TCP ack sequence number out of range"},
		{"0 > . 1:1(0) win 65536", "t.pkt:1:18: TCP window value out of range"},
		{"0 > . 1:1(0) urg 65536", "t.pkt:1:18: urg_ptr value out of range"},
		{"0 < . 1:1(0) win 1 ack 1", "t.pkt:1:20: ack out of place: a TCP packet gives ack, win, urg and <options> in this order"},
		{"0 > . 1:1(0) <nop,nop,nop,nop> ack 1", "t.pkt:1:32: ack out of place: a TCP packet gives ack, win, urg and <options> in this order"},
		{"0 > 70000>1 . 1:1(0)", "t.pkt:1:5: src port out of range"},
		{"0 > 1>70000 . 1:1(0)", "t.pkt:1:7: dst port out of range"},
		{"0 > [tos 16] . 1:1(0)", "t.pkt:1:10: expected a hex TOS byte (tos 0x10), found \"16\""},
		{"0 > [tos 0x100] . 1:1(0)", "t.pkt:1:10: tos out of range for 8 bits"},
		{"0 > [flowlabel 0x100000] . 1:1(0)", "t.pkt:1:16: flowlabel out of range for 20 bits"},
		{"0 > [ttl 256] . 1:1(0)", "t.pkt:1:10: ttl out of range"},
		{"0 > [ttl 1, flowlabel 0x1] . 1:1(0)", "t.pkt:1:11: expected ']' closing the IP info, found \",\""},
		{"0 > [ect0, ttl 1] . 1:1(0)", "t.pkt:1:12: expected flowlabel 0xNNNNN after the comma, found \"ttl\""},
		{"0 > [ecn] . 1:1(0)", "t.pkt:1:6: expected IP info: noecn, ect0, ect1, ect01, ce, tos 0xNN, flowlabel 0xNNNNN or ttl N, found \"ecn\""},
		{"0 > (ect0] . 1:1(0)", "t.pkt:1:10: expected ')' closing the IP info, found \"]\""},
		{"0 > udp 1", "t.pkt:1:9: expected '(' and the UDP payload's length: udp (len), found \"1\""},
		{"0 > udp (65536)", "t.pkt:1:10: UDP payload size out of range"},
		{"0 > udp (65530)", "t.pkt:1:3: UDP datagram too large"},
		{"0 > . 0:65500(65500)", "t.pkt:1:5: TCP segment too large"},
		{"--ip_version=ipv6\n0 > udp (65490)", "t.pkt:2:3: UDP datagram too large"},
		{"0 > icmp 1", "t.pkt:1:10: expected an ICMP type (echo_reply, unreachable, …, type_N), found \"1\""},
		{"0 > icmp bogus", "t.pkt:1:10: bad ICMP type bogus"},
		{"0 > icmp packet_too_big", "t.pkt:1:10: bad ICMP type packet_too_big"},
		{"0 > icmp type_256", "t.pkt:1:10: bad ICMP type type_256"},
		{"0 > icmp unreachable bogus", "t.pkt:1:22: bad ICMP code bogus"},
		{"0 > icmp echo_reply frag_needed", "t.pkt:1:21: bad ICMP code frag_needed"},
		{"0 > icmp unreachable port_unreachable mtu 1", "t.pkt:1:39: ICMPv4 MTU is only valid for unreachable-frag_needed"},
		{"0 > icmp unreachable frag_needed mtu 65536", "t.pkt:1:38: ICMPv4 MTU out of 16-bit range"},
		{"--ip_version=ipv6\n0 > icmp unreachable mtu 1280", "t.pkt:2:22: ICMPv6 MTU is only valid for packet_too_big-0"},
		{"--ip_version=ipv6\n0 > icmp packet_too_big mtu 4294967296", "t.pkt:2:29: ICMPv6 MTU out of 32-bit range"},
		{"0 > icmp echo_reply id 65536", "t.pkt:1:24: invalid echo_id, must be between 0 and 65535"},
		{"0 > icmp unreachable [raw (7)]", "t.pkt:1:23: icmp_bytes 7 smaller than icmp header length 8"},
		{"0 > icmp unreachable [1:1(0)", "t.pkt:1:29: expected ']' closing the echoed packet, found end of file"},
		{"0 > ipv4 1::1 > 2::2: . 1:1(0)", "t.pkt:1:10: expected an IPv4 address, found \"1::1\""},
		{"0 > ipv4 1.1.1.999 > 2.2.2.2: . 1:1(0)", "t.pkt:1:10: invalid address 1.1.1.999"},
		{"0 > ipv4 1.1.1.1 2.2.2.2: . 1:1(0)", "t.pkt:1:18: expected '>' between the outer header's addresses, found \"2.2.2.2\""},
		{"0 > ipv4 1.1.1.1 > 2.2.2.2 . 1:1(0)", "t.pkt:1:28: expected ':' ending the outer IP header, found \".\""},
		{"0 > gre 1: . 1:1(0)", "t.pkt:1:9: expected ':' or the GRE header's fields (flags …, sum …, off …, key …, seq …), found \"1\""},
		{"0 > gre flags 0x10000, sum 0, off 0, key 0, seq 0: . 1:1(0)", "t.pkt:1:15: GRE flags out of range (16 bits)"},
		{"0 > mpls (label 1048576, tc 0, ttl 0): . 1:1(0)", "t.pkt:1:17: MPLS label out of range (20 bits)"},
		{"0 > mpls . 1:1(0)", "t.pkt:1:10: expected '(' starting an MPLS entry or ':' ending the MPLS stack, found \".\""},
		{"0 > encap psp spi 12 . 1:1(0)", "t.pkt:1:5: encap encapsulation is not supported (packetdrill's PSP extension)"},
	} {
		if got := parseError(t, c.in); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestTCPOptionErrors(t *testing.T) {
	for _, c := range []struct{ opts, want string }{
		{"<mss 1460>x", "t.pkt:1:24: expected an event time (0, 0.100, +0, +.1 or *), found \"x\""},
		{"<mss 1460", "t.pkt:1:23: expected ',' or '>' after a TCP option, found end of file"},
		{"<>", "t.pkt:1:15: expected a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP), found \">\""},
		{"<opt 5>", "t.pkt:1:15: unknown TCP option opt (want nop, eol, mss, wscale, sackOK, sack, TS, md5, FO or FOEXP)"},
		{"<exp 0xf989>", "t.pkt:1:15: unknown TCP option exp (want nop, eol, mss, wscale, sackOK, sack, TS, md5, FO or FOEXP)"},
		{"<mp_capable 1>", "t.pkt:1:15: MPTCP option mp_capable is not supported (an extension of the multipath-tcp fork)"},
		{"<mss 65536>", "t.pkt:1:19: mss value out of range"},
		{"<mss 0x10>", "t.pkt:1:19: expected the MSS, found \"0x10\""},
		{"<wscale 256>", "t.pkt:1:22: window scale shift count out of range"},
		{"<nop,wscale 7,nop>", "t.pkt:1:14: TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: 1 excess bytes"},
		{"<nop,nop,wscale 7,nop>", "t.pkt:1:14: TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: 2 excess bytes"},
		{"<sackOK>", "t.pkt:1:14: TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: 2 excess bytes"},
		{"<TS val 1>", "t.pkt:1:23: expected ecr after TS val N (TS val N ecr N), found \">\""},
		{"<TS ecr 1>", "t.pkt:1:18: expected val after TS (TS val N ecr N), found \"ecr\""},
		{"<TS val 4294967296 ecr 0>", "t.pkt:1:22: ts val out of range"},
		{"<TS val 0 ecr 4294967296>", "t.pkt:1:28: ecr val out of range"},
		{"<sack 1:2 3>", "t.pkt:1:25: expected ':' in the SACK block left:right, found \">\""},
		{"<sack 4294967296:1>", "t.pkt:1:20: TCP SACK left sequence number out of range"},
		{"<nop,nop,sack 1:2 3:4 5:6 7:8 9:10>", "t.pkt:1:23: TCP option list too long (44 bytes, at most 40)"},
		{"<md5>", "t.pkt:1:18: expected the MD5 digest in hex, found \">\""},
		{"<md5 000102030405060708090a0b0c0d0e0f10>", "t.pkt:1:19: TCP MD5 digest longer than 16 bytes"},
		{"<md5 0g>", "t.pkt:1:19: TCP MD5 digest is not a valid hex string"},
		{"<md5 012>", "t.pkt:1:19: TCP MD5 digest is not a valid hex string"},
		{"<FO 123>", "t.pkt:1:18: TCP fast open cookie has an odd number of digits"},
		{"<FO zz>", "t.pkt:1:18: TCP fast open cookie 'zz' is not a valid hex string"},
		{"<FO " + strings.Repeat("00", 39) + ">",
			"t.pkt:1:18: TCP fast open cookie of 39 bytes exceeds maximum cookie length of 38 bytes"},
		{"<FOEXP " + strings.Repeat("00", 37) + ">",
			"t.pkt:1:21: TCP fast open cookie of 37 bytes exceeds maximum cookie length of 36 bytes"},
	} {
		if got := parseError(t, "0 > S 0:0(0) "+c.opts); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.opts, got, c.want)
		}
	}
}
