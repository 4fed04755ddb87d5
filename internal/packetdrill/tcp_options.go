package packetdrill

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// TCPOptionKind is a TCP option as the script names it.
type TCPOptionKind uint8

const (
	OptEOL         TCPOptionKind = iota + 1 // eol
	OptNOP                                  // nop
	OptMSS                                  // mss N
	OptWScale                               // wscale N, or wscale * (any shift)
	OptSACKPerm                             // sackOK
	OptSACK                                 // sack L:R [L:R …]
	OptTimestamp                            // TS val N ecr N
	OptMD5                                  // md5 HEX (RFC 2385; the digest as given, up to 16 bytes)
	OptFastOpen                             // FO [HEX] (RFC 7413, kind 34)
	OptFastOpenExp                          // FOEXP [HEX] (kind 254 with magic 0xF989)
)

// Wire is the option's kind byte on the wire.
func (k TCPOptionKind) Wire() uint8 {
	return [...]uint8{OptEOL: 0, OptNOP: 1, OptMSS: 2, OptWScale: 3, OptSACKPerm: 4, OptSACK: 5,
		OptTimestamp: 8, OptMD5: 19, OptFastOpen: 34, OptFastOpenExp: 254}[k]
}

// SACKBlock is one SACK block: the first sequence number and the one past
// the last.
type SACKBlock struct{ Left, Right uint32 }

// TCPOption is one option of a packet's <…> list. The fields that apply
// are the kind's; Data is md5's digest or a fast open cookie (empty when
// FO or FOEXP is written alone).
type TCPOption struct {
	Kind         TCPOptionKind
	MSS          uint16
	WScale       uint8
	WScaleAny    bool // wscale *: an outbound packet's shift is not checked
	Blocks       []SACKBlock
	TSVal, TSEcr uint32
	Data         []byte
}

// Len is the option's length on the wire, kind and length bytes included.
func (o TCPOption) Len() int {
	switch o.Kind {
	case OptEOL, OptNOP:
		return 1
	case OptMSS:
		return 4
	case OptWScale:
		return 3
	case OptSACKPerm:
		return 2
	case OptSACK:
		return 2 + 8*len(o.Blocks)
	case OptTimestamp:
		return 10
	case OptFastOpenExp:
		return 4 + len(o.Data)
	}
	return 2 + len(o.Data) // md5, FO
}

func (o TCPOption) String() string {
	switch o.Kind {
	case OptEOL:
		return "eol"
	case OptNOP:
		return "nop"
	case OptMSS:
		return fmt.Sprintf("mss %d", o.MSS)
	case OptWScale:
		if o.WScaleAny {
			return "wscale *"
		}
		return fmt.Sprintf("wscale %d", o.WScale)
	case OptSACKPerm:
		return "sackOK"
	case OptSACK:
		s := make([]string, len(o.Blocks))
		for i, b := range o.Blocks {
			s[i] = fmt.Sprintf("%d:%d", b.Left, b.Right)
		}
		return "sack " + strings.Join(s, " ")
	case OptTimestamp:
		return fmt.Sprintf("TS val %d ecr %d", o.TSVal, o.TSEcr)
	}
	name := map[TCPOptionKind]string{OptMD5: "md5", OptFastOpen: "FO", OptFastOpenExp: "FOEXP"}[o.Kind]
	if len(o.Data) == 0 {
		return name
	}
	return name + " " + hex.EncodeToString(o.Data)
}

// maxOptionBytes is the room for options in a TCP header (60 - 20).
const maxOptionBytes = 40

// mptcpOptions are option names of the multipath-tcp fork of packetdrill.
var mptcpOptions = map[string]bool{"mp_capable": true, "mp_capable_no_cs": true, "mp_join_syn": true,
	"mp_join_syn_ack": true, "mp_join_ack": true, "dss": true, "add_address": true,
	"remove_address": true, "mp_prio": true, "mp_fail": true, "mp_fastclose": true}

// tcpOptions: <...> or <option, …>; returns the options' bytes. As in
// new_tcp_packet, the list must fit in 40 bytes and fill whole 32-bit
// words (a script pads with nop itself).
func (p *parser) tcpOptions(tcp *TCP, dir Direction) int {
	open := p.next()
	if p.peek().kind == tEllipsis {
		p.next()
		p.expect(">", "'>' after <...")
		if dir != Outbound {
			p.fail(open.pos, "<...> for TCP options can only be used with outbound packets")
		}
		tcp.AnyOptions = true
		return 0
	}
	total := 0
	for {
		pos := p.peek().pos
		o := p.tcpOption()
		if total += o.Len(); total > maxOptionBytes {
			p.fail(pos, "TCP option list too long (%d bytes, at most %d)", total, maxOptionBytes)
		}
		tcp.Options = append(tcp.Options, o)
		if !p.at(",") {
			break
		}
		p.next()
	}
	p.expect(">", "',' or '>' after a TCP option")
	if total%4 != 0 {
		p.fail(open.pos, "TCP options are not padded correctly to ensure TCP header is a multiple of 4 bytes: %d excess bytes", total%4)
	}
	return total
}

func (p *parser) tcpOption() TCPOption {
	t := p.peek()
	if t.kind != tWord {
		p.expected("a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP)")
	}
	p.next()
	var o TCPOption
	switch t.text {
	case "nop":
		o.Kind = OptNOP
	case "eol":
		o.Kind = OptEOL
	case "sackOK":
		o.Kind = OptSACKPerm
	case "mss":
		o.Kind = OptMSS
		o.MSS = uint16(p.number("the MSS", false, 0xffff, "mss value out of range"))
	case "wscale":
		o.Kind = OptWScale
		if p.at("*") {
			p.next()
			o.WScaleAny = true
		} else {
			o.WScale = uint8(p.number("the window scale shift or *", false, 255, "window scale shift count out of range"))
		}
	case "sack":
		o.Kind = OptSACK
		for {
			l := uint32(p.number("a SACK block left:right", false, 1<<32-1, "TCP SACK left sequence number out of range"))
			p.expect(":", "':' in the SACK block left:right")
			r := uint32(p.number("the right edge of the SACK block", false, 1<<32-1, "TCP SACK right sequence number out of range"))
			o.Blocks = append(o.Blocks, SACKBlock{l, r})
			if p.peek().kind != tInt {
				break
			}
		}
	case "TS":
		o.Kind = OptTimestamp
		p.expectWord("val", "val after TS (TS val N ecr N)")
		o.TSVal = uint32(p.number("the TS value", false, 1<<32-1, "ts val out of range"))
		p.expectWord("ecr", "ecr after TS val N (TS val N ecr N)")
		o.TSEcr = uint32(p.number("the TS echo reply", false, 1<<32-1, "ecr val out of range"))
	case "md5":
		o.Kind = OptMD5
		b := p.peek()
		if b.kind != tWord && b.kind != tInt {
			p.expected("the MD5 digest in hex")
		}
		p.next()
		if len(b.text)/2 > 16 {
			p.fail(b.pos, "TCP MD5 digest longer than 16 bytes")
		}
		var err error
		if o.Data, err = hex.DecodeString(b.text); err != nil {
			p.fail(b.pos, "TCP MD5 digest is not a valid hex string")
		}
	case "FO", "FOEXP":
		o.Kind = OptFastOpen
		max := maxOptionBytes - 2
		if t.text == "FOEXP" {
			o.Kind, max = OptFastOpenExp, maxOptionBytes-4
		}
		if b := p.peek(); b.kind == tWord || b.kind == tInt {
			p.next()
			switch {
			case len(b.text)%2 != 0:
				p.fail(b.pos, "TCP fast open cookie has an odd number of digits")
			case len(b.text)/2 > max:
				p.fail(b.pos, "TCP fast open cookie of %d bytes exceeds maximum cookie length of %d bytes", len(b.text)/2, max)
			}
			var err error
			if o.Data, err = hex.DecodeString(b.text); err != nil {
				p.fail(b.pos, "TCP fast open cookie '%s' is not a valid hex string", b.text)
			}
		}
	default:
		if mptcpOptions[t.text] {
			p.refuse(t.pos, "MPTCP option %s is not supported (an extension of the multipath-tcp fork)", t.text)
		}
		p.fail(t.pos, "unknown TCP option %s (want nop, eol, mss, wscale, sackOK, sack, TS, md5, FO or FOEXP)", t.text)
	}
	return o
}
