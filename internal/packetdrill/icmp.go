package packetdrill

import (
	"fmt"
	"strconv"
	"strings"
)

// icmpType is a row of icmp_packet.c's tables: a type's name and number
// and, for the types that have them, its codes' names.
type icmpType struct {
	name  string
	num   uint8
	codes map[string]uint8
}

// ICMPv4 types and codes (RFC 792, 1122, 1812), as icmp_packet.c names them.
var icmpv4Types = []icmpType{
	{"echo_reply", 0, nil},
	{"unreachable", 3, map[string]uint8{
		"net_unreachable": 0, "host_unreachable": 1, "protocol_unreachable": 2,
		"port_unreachable": 3, "frag_needed": 4, "source_route_failed": 5,
		"net_unknown": 6, "host_unknown": 7, "source_host_isolated": 8,
		"net_prohibited": 9, "host_prohibited": 10, "net_unreachable_for_tos": 11,
		"host_unreachable_for_tos": 12, "packet_filtered": 13,
		"precedence_violation": 14, "precedence_cutoff": 15,
	}},
	{"source_quench", 4, nil},
	{"redirect", 5, nil},
	{"echo_request", 8, nil},
	{"time_exceeded", 11, nil},
	{"parameter_problem", 12, nil},
	{"timestamp_request", 13, nil},
	{"timestamp_reply", 14, nil},
	{"information_request", 15, nil},
	{"information_reply", 16, nil},
	{"address_mask_request", 17, nil},
	{"address_mask_reply", 18, nil},
}

// ICMPv6 types and codes (RFC 4443), for --ip_version=ipv6.
var icmpv6Types = []icmpType{
	{"unreachable", 1, map[string]uint8{
		"net_unreachable": 0, "no_route": 0, "admin_prohibited": 1, "not_neighbour": 2,
		"address_unreachable": 3, "port_unreachable": 4,
	}},
	{"packet_too_big", 2, nil},
	{"time_exceeded", 3, map[string]uint8{"exceeded_hop_limit": 0, "exceeded_frag_time": 1}},
	{"parameter_problem", 4, map[string]uint8{"header_field": 0, "unknown_next_header": 1, "unknown_option": 2}},
	{"echo_request", 128, nil},
	{"echo_reply", 129, nil},
}

// numbered reads tcpdump's "type_N" / "code_N" spelling of a number.
func numbered(s, prefix string) (uint8, bool, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
		return 0, false, false
	}
	n, err := strconv.Atoi(rest)
	return uint8(n), err == nil && n <= 255, true
}

// icmp: type [code] [mtu N] [id N] [[echoed]], after "icmp".
func (p *parser) icmp() *ICMP {
	m := &ICMP{}
	t := p.peek()
	if t.kind != tWord {
		p.expected("an ICMP type (echo_reply, unreachable, …, type_N)")
	}
	p.next()
	m.Type = t.text
	var c token
	if n := p.peek(); n.kind == tWord && n.text != "mtu" && n.text != "id" {
		c = p.next()
		m.Code = c.text
	}
	table := icmpv4Types
	if p.ipv6 {
		table = icmpv6Types
	}
	var codes map[string]uint8
	num, valid, isNum := numbered(m.Type, "type_")
	if !isNum {
		valid = false
		for _, row := range table {
			if row.name == m.Type {
				num, codes, valid = row.num, row.codes, true
			}
		}
	}
	if !valid {
		p.fail(t.pos, "bad ICMP type %s", m.Type)
	}
	m.TypeNum = num
	if m.Code != "" {
		code, ok, isNum := numbered(m.Code, "code_")
		if !isNum {
			code, ok = codes[m.Code]
		}
		if !ok {
			p.fail(c.pos, "bad ICMP code %s", m.Code)
		}
		m.CodeNum = code
	}
	if mt := p.peek(); mt.isWord("mtu") {
		p.next()
		m.HasMTU = true
		if p.ipv6 {
			m.MTU = uint32(p.number("the MTU", false, 1<<32-1, "ICMPv6 MTU out of 32-bit range"))
			if m.TypeNum != 2 || m.CodeNum != 0 {
				p.fail(mt.pos, "ICMPv6 MTU is only valid for packet_too_big-0")
			}
		} else {
			m.MTU = uint32(p.number("the MTU", false, 0xffff, "ICMPv4 MTU out of 16-bit range"))
			if m.TypeNum != 3 || m.CodeNum != 4 {
				p.fail(mt.pos, "ICMPv4 MTU is only valid for unreachable-frag_needed")
			}
		}
	}
	if p.atWord("id") {
		p.next()
		m.HasID = true
		m.ID = uint16(p.number("the echo id", false, 0xffff, "invalid echo_id, must be between 0 and 65535"))
	}
	if p.at("[") {
		p.next()
		e := &ICMPEchoed{}
		switch n := p.peek(); {
		case n.isWord("udp"), n.isWord("raw"):
			p.next()
			e.Proto = EchoedUDP
			if n.text == "raw" {
				e.Proto = EchoedRaw
			}
			p.expect("(", fmt.Sprintf("'(' and the length: %s (len)", n.text))
			e.Len = uint16(p.number("the length", false, 0xffff, "payload size out of range"))
			p.expect(")", "')' after the length")
			if e.Proto == EchoedRaw && e.Len < 8 {
				p.fail(n.pos, "icmp_bytes %d smaller than icmp header length 8", e.Len)
			}
		default:
			e.Proto = EchoedTCP
			e.Seq, e.End, e.Len = p.seqRange()
		}
		p.expect("]", "']' closing the echoed packet")
		m.Echoed = e
	}
	return m
}
