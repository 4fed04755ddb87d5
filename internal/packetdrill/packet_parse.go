package packetdrill

import (
	"fmt"
	"net/netip"
)

// Sizes packetdrill's new_tcp_packet and new_udp_packet check a packet
// against (packet.h: MAX_TCP_DATAGRAM_BYTES, MAX_UDP_DATAGRAM_BYTES).
const (
	maxDatagramBytes = 64 * 1024
	tcpHeaderBytes   = 20
	udpHeaderBytes   = 8
)

// ipHeaderBytes is the IP header packetdrill builds: IPv4 unless the
// script says --ip_version=ipv6.
func (p *parser) ipHeaderBytes() int {
	if p.ipv6 {
		return 40
	}
	return 20
}

// packet: a direction, encapsulations, IP info, then TCP, UDP or ICMP.
func (p *parser) packet() *Packet {
	d := p.next()
	pk := &Packet{Pos: d.pos, Direction: Inbound}
	if d.text == ">" {
		pk.Direction = Outbound
	}
	for p.encap(pk) {
	}
	pk.IP = p.ipInfo()
	t := p.peek()
	if ect01 := pk.IP.Check == TOSCheckECN && pk.IP.ECN == ECT01; ect01 && pk.Direction != Outbound && !t.isWord("udp") {
		p.fail(d.pos, "[ect01] can only be used with outbound packets")
	}
	switch {
	case t.isWord("udp"):
		p.next()
		if pk.IP.Check == TOSCheckECN {
			p.fail(d.pos, "ECN can only be used with TCP packets")
		}
		pk.Ports = p.ports()
		p.expect("(", "'(' and the UDP payload's length: udp (len)")
		pk.UDP = &UDP{Len: uint16(p.number("the UDP payload's length", false, 0xffff, "UDP payload size out of range"))}
		p.expect(")", "')' after the UDP payload's length")
		if p.ipHeaderBytes()+udpHeaderBytes+int(pk.UDP.Len) > maxDatagramBytes {
			p.fail(d.pos, "UDP datagram too large")
		}
	case t.isWord("icmp"):
		p.next()
		pk.ICMP = p.icmp()
	default:
		pk.Ports = p.ports()
		pk.TCP = p.tcp(pk.Direction)
	}
	return pk
}

// encap reads one outer header of an encapsulated packet, if one comes.
func (p *parser) encap(pk *Packet) bool {
	t := p.peek()
	switch {
	case t.isWord("ipv4"), t.isWord("ipv6"):
		p.next()
		e := Encap{Kind: EncapIPv4, IP: p.ipInfo()}
		kind, name := tIPv4, "an IPv4 address"
		if t.text == "ipv6" {
			e.Kind, kind, name = EncapIPv6, tIPv6, "an IPv6 address"
		}
		e.Src = p.address(kind, name)
		p.expect(">", "'>' between the outer header's addresses")
		e.Dst = p.address(kind, name)
		p.expect(":", "':' ending the outer IP header")
		pk.Encaps = append(pk.Encaps, e)
	case t.isWord("gre"), t.isWord("GREv0"):
		p.next()
		e := Encap{Kind: EncapGRE}
		if !p.at(":") {
			if p.at(",") {
				p.next()
			}
			if !p.atWord("flags") && !p.atWord("Flags") {
				p.expected("':' or the GRE header's fields (flags …, sum …, off …, key …, seq …)")
			}
			g := p.greHeader()
			e.GRE = &g
		}
		p.expect(":", "':' ending the GRE header")
		pk.Encaps = append(pk.Encaps, e)
	case t.isWord("mpls"):
		p.next()
		e := Encap{Kind: EncapMPLS}
		for p.at("(") {
			if len(e.MPLS) == maxMPLSEntries {
				p.fail(p.peek().pos, "too many MPLS labels")
			}
			e.MPLS = append(e.MPLS, p.mplsEntry())
		}
		p.expect(":", "'(' starting an MPLS entry or ':' ending the MPLS stack")
		pk.Encaps = append(pk.Encaps, e)
	case t.isWord("psp"), t.isWord("encap"):
		p.refuse(t.pos, "%s encapsulation is not supported (packetdrill's PSP extension)", t.text)
	default:
		return false
	}
	return true
}

func (p *parser) address(kind tokKind, what string) netip.Addr {
	t := p.peek()
	if t.kind != kind {
		p.expected(what)
	}
	p.next()
	a, err := netip.ParseAddr(t.text)
	if err != nil {
		p.fail(t.pos, "invalid address %s", t.text)
	}
	return a
}

// ipInfo: nothing, or (info) or [info]: an ECN name or tos 0xNN,
// flowlabel 0xNNNNN, ttl N, or the first, a comma and the second.
func (p *parser) ipInfo() IPInfo {
	var ip IPInfo
	close := "]"
	switch {
	case p.at("["):
	case p.at("("):
		close = ")"
	default:
		return ip
	}
	p.next()
	t := p.peek()
	ecn, isECN := ecnNames[t.text]
	switch {
	case t.kind == tWord && isECN:
		p.next()
		ip.Check, ip.ECN = TOSCheckECN, ecn
	case t.isWord("tos"):
		p.next()
		ip.Check = TOSCheckValue
		ip.TOS = uint8(p.hexNumber("a hex TOS byte (tos 0x10)", 0xff, "tos out of range for 8 bits"))
	case t.isWord("flowlabel"):
		p.flowLabel(&ip)
	case t.isWord("ttl"):
		p.next()
		ip.HasTTL = true
		ip.TTL = uint8(p.number("the TTL", false, 255, "ttl out of range"))
	default:
		p.expected("IP info: noecn, ect0, ect1, ect01, ce, tos 0xNN, flowlabel 0xNNNNN or ttl N")
	}
	if ip.Check != TOSUnchecked && p.at(",") {
		p.next()
		if !p.atWord("flowlabel") {
			p.expected("flowlabel 0xNNNNN after the comma")
		}
		p.flowLabel(&ip)
	}
	p.expect(close, fmt.Sprintf("'%s' closing the IP info", close))
	return ip
}

func (p *parser) flowLabel(ip *IPInfo) {
	p.next()
	ip.HasFlowLabel = true
	ip.FlowLabel = uint32(p.hexNumber("a hex flow label (flowlabel 0x12345)", 1<<20-1, "flowlabel out of range for 20 bits"))
}

// hexNumber reads a 0x… integer, as parser.y wants for tos and flowlabel.
func (p *parser) hexNumber(what string, max uint64, rangeMsg string) uint64 {
	if p.peek().kind != tHex {
		p.expected(what)
	}
	return p.number(what, true, max, rangeMsg)
}

// ports: nothing or sport>dport.
func (p *parser) ports() *Ports {
	if p.peek().kind != tInt || !p.peekAt(1).is(">") {
		return nil
	}
	src := uint16(p.number("the source port", false, 0xffff, "src port out of range"))
	p.next()
	dst := uint16(p.number("the destination port", false, 0xffff, "dst port out of range"))
	return &Ports{Src: src, Dst: dst}
}

// seqRange: start:end(len), end being start+len.
func (p *parser) seqRange() (seq, end uint32, n uint16) {
	t := p.peek()
	seq = uint32(p.number("a sequence range start:end(len)", false, 1<<32-1, "TCP start sequence number out of range"))
	p.expect(":", "':' in the sequence range start:end(len)")
	end = uint32(p.number("the end of the sequence range start:end(len)", false, 1<<32-1, "TCP end sequence number out of range"))
	p.expect("(", "'(' and the payload's length in start:end(len)")
	n = uint16(p.number("the payload's length in start:end(len)", false, 0xffff, "TCP payload size out of range"))
	p.expect(")", "')' after the payload's length")
	if uint64(end) != uint64(seq)+uint64(n) {
		p.fail(t.pos, "inconsistent TCP sequence numbers and payload size")
	}
	return seq, end, n
}

// tcp: flags seq:end(len) [ack N] [win N] [urg N] [<options>].
func (p *parser) tcp(dir Direction) *TCP {
	tcp := &TCP{}
	t := p.next()
	switch {
	case t.is("."):
		tcp.Flags = "."
	case t.is("-"):
	case t.kind == tWord:
		tcp.Flags = t.text
		if p.at(".") {
			p.next()
			tcp.Flags += "."
		}
	default:
		p.fail(t.pos, "expected TCP flags (S, S., P., ., -, …), udp or icmp, found %s", t.describe())
	}
	if msg := checkFlags(tcp.Flags); msg != "" {
		p.fail(t.pos, "%s", msg)
	}
	tcp.Seq, tcp.End, tcp.Len = p.seqRange()
	if p.atWord("ack") {
		p.next()
		tcp.HasAck = true
		tcp.Ack = uint32(p.number("the ack number", false, 1<<32-1, "TCP ack sequence number out of range"))
	}
	if p.atWord("win") {
		p.next()
		tcp.HasWin = true
		tcp.Win = uint16(p.number("the window", false, 0xffff, "TCP window value out of range"))
	}
	if p.atWord("urg") {
		p.next()
		tcp.HasUrg = true
		tcp.Urg = uint16(p.number("the urgent pointer", false, 0xffff, "urg_ptr value out of range"))
	}
	optBytes := 0
	if p.at("<") {
		optBytes = p.tcpOptions(tcp, dir)
	}
	if n := p.peek(); n.isWord("ack") || n.isWord("win") || n.isWord("urg") {
		p.fail(n.pos, "%s out of place: a TCP packet gives ack, win, urg and <options> in this order", n.text)
	}
	if !tcp.HasWin && dir == Inbound {
		p.fail(t.pos, "window must be specified for inbound packets")
	}
	if p.ipHeaderBytes()+tcpHeaderBytes+optBytes+int(tcp.Len) > maxDatagramBytes {
		p.fail(t.pos, "TCP segment too large")
	}
	return tcp
}

// checkFlags applies tcp_packet.c's rules to a flags word: its letters,
// and an AccECN ACE digit never beside E, W, A or another digit.
func checkFlags(flags string) string {
	ecn, ace := false, false
	for i := 0; i < len(flags); i++ {
		c := flags[i]
		switch {
		case c == 'E' || c == 'W' || c == 'A':
			if ace {
				return fmt.Sprintf("conflicting TCP flag '%c'", c)
			}
			ecn = true
		case c >= '0' && c <= '7':
			if ecn || ace {
				return fmt.Sprintf("conflicting TCP flag '%c'", c)
			}
			ace = true
		case c == '.' || c == 'F' || c == 'S' || c == 'R' || c == 'P' || c == 'U':
		default:
			return fmt.Sprintf("invalid TCP flag '%c' (flags are F S R P . U E W A, or an AccECN digit 0-7)", c)
		}
	}
	return ""
}
