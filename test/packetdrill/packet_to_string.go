package packetdrill

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"vnic/header"
	pd "vnic/internal/packetdrill"
)

// segment is a live IPv4/TCP packet's fields, as packetdrill's struct
// packet exposes them to the checks.
type segment struct {
	src, dst   endpoint
	version    uint8
	ihl        int // bytes
	totLen     int
	tos, ttl   uint8
	proto      uint8
	ipsumOK    bool
	seq, ack   uint32
	doff       int // bytes
	flags      uint8
	ae         bool
	reserved   uint8 // the three bits left of AE
	win, urg   uint16
	opts       []byte
	payload    []byte
	payloadLen int
}

func (s *segment) has(f uint8) bool { return s.flags&f != 0 }

// parseSegment reads an IPv4 packet carrying TCP; other packets are an
// error (the runner knows only TCP connections).
func parseSegment(ip []byte) (*segment, error) {
	h := header.IPv4(ip)
	if len(ip) < 20 || h.Version() != 4 || h.HeaderLen() < 20 || h.HeaderLen() > len(ip) {
		return nil, fmt.Errorf("not an IPv4 packet")
	}
	s := &segment{version: h.Version(), ihl: h.HeaderLen(), totLen: int(h.TotalLen()), tos: h.TOS(),
		ttl: h.TTL(), proto: h.Protocol(), ipsumOK: h.ChecksumValid()}
	s.src.addr, s.dst.addr = netip.AddrFrom4(h.Src()), netip.AddrFrom4(h.Dst())
	if s.proto != 6 {
		return s, mismatchf("IP protocol %d, not TCP", s.proto)
	}
	end := min(s.totLen, len(ip))
	t := header.TCP(ip[s.ihl:end])
	if len(t) < 20 || t.HeaderLen() < 20 || t.HeaderLen() > len(t) {
		return s, fmt.Errorf("truncated TCP header")
	}
	s.src.port, s.dst.port = t.SrcPort(), t.DstPort()
	s.seq, s.ack, s.doff, s.flags = t.Seq(), t.Ack(), t.HeaderLen(), t.Flags()
	s.ae, s.reserved = t[12]&1 != 0, t[12]>>1&7
	s.win, s.urg = t.Window(), t.Urgent()
	s.opts, s.payload = t.Options(), t.Payload()
	s.payloadLen = len(s.payload)
	return s, nil
}

// rawOption is one option as it is on the wire.
type rawOption struct {
	kind byte
	data []byte // after kind and length
	len  int    // the length byte (1 for EOL and NOP)
}

// rawOptions splits an option area (tcp_options_iterator); a malformed
// one is an error.
func rawOptions(b []byte) ([]rawOption, error) {
	var out []rawOption
	for i := 0; i < len(b); {
		k := b[i]
		if k == 0 || k == 1 {
			out = append(out, rawOption{kind: k, len: 1})
			i++
			continue
		}
		if i+1 >= len(b) || int(b[i+1]) < 2 || i+int(b[i+1]) > len(b) {
			return out, fmt.Errorf("bad TCP option length at byte %d", i)
		}
		l := int(b[i+1])
		out = append(out, rawOption{kind: k, data: b[i+2 : i+l], len: l})
		i += l
	}
	return out, nil
}

// optionString prints an option in the script's notation
// (tcp_options_to_string).
func optionString(o rawOption) string {
	d := o.data
	switch {
	case o.kind == 0:
		return "eol"
	case o.kind == 1:
		return "nop"
	case o.kind == 2 && len(d) == 2:
		return fmt.Sprintf("mss %d", binary.BigEndian.Uint16(d))
	case o.kind == 3 && len(d) == 1:
		return fmt.Sprintf("wscale %d", d[0])
	case o.kind == 4 && len(d) == 0:
		return "sackOK"
	case o.kind == 5 && len(d)%8 == 0:
		s := "sack"
		for i := 0; i < len(d); i += 8 {
			s += fmt.Sprintf(" %d:%d", binary.BigEndian.Uint32(d[i:]), binary.BigEndian.Uint32(d[i+4:]))
		}
		return s
	case o.kind == 8 && len(d) == 8:
		return fmt.Sprintf("TS val %d ecr %d", binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:]))
	case o.kind == 19:
		return "md5 " + hex.EncodeToString(d)
	case o.kind == 34:
		return strings.TrimSpace("FO " + hex.EncodeToString(d))
	case o.kind == 254 && len(d) >= 2 && d[0] == 0xf9 && d[1] == 0x89:
		return strings.TrimSpace("FOEXP " + hex.EncodeToString(d[2:]))
	}
	return fmt.Sprintf("opt%d len %d", o.kind, o.len)
}

// encodeOptions writes a script's option list as new_tcp_packet does.
func encodeOptions(opts []pd.TCPOption) []byte {
	var b []byte
	for _, o := range opts {
		k := o.Kind.Wire()
		switch o.Kind {
		case pd.OptEOL, pd.OptNOP:
			b = append(b, k)
		case pd.OptMSS:
			b = binary.BigEndian.AppendUint16(append(b, k, 4), o.MSS)
		case pd.OptWScale:
			b = append(b, k, 3, o.WScale)
		case pd.OptSACKPerm:
			b = append(b, k, 2)
		case pd.OptSACK:
			b = append(b, k, byte(2+8*len(o.Blocks)))
			for _, s := range o.Blocks {
				b = binary.BigEndian.AppendUint32(b, s.Left)
				b = binary.BigEndian.AppendUint32(b, s.Right)
			}
		case pd.OptTimestamp:
			b = append(b, k, 10)
			b = binary.BigEndian.AppendUint32(b, o.TSVal)
			b = binary.BigEndian.AppendUint32(b, o.TSEcr)
		case pd.OptFastOpenExp:
			b = append(append(b, k, byte(4+len(o.Data)), 0xf9, 0x89), o.Data...)
		default: // md5, FO
			b = append(append(b, k, byte(2+len(o.Data))), o.Data...)
		}
	}
	return b
}

// flagString prints TCP flags in tcpdump's order, as packet_to_string
// does.
func flagString(s *segment) string {
	var b strings.Builder
	for _, f := range []struct {
		bit uint8
		c   byte
	}{{header.TCPFin, 'F'}, {header.TCPSyn, 'S'}, {header.TCPRst, 'R'}, {header.TCPPsh, 'P'}, {header.TCPAck, '.'},
		{header.TCPUrg, 'U'}, {header.TCPEce, 'E'}, {header.TCPCwr, 'W'}} {
		if s.has(f.bit) {
			b.WriteByte(f.c)
		}
	}
	if s.ae {
		b.WriteByte('A')
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// String prints the segment in the script's notation:
// FLAGS seq:end(len) [ack N] win N [<options>].
func (s *segment) String() string {
	str := fmt.Sprintf("%s %d:%d(%d)", flagString(s), s.seq, s.seq+uint32(s.payloadLen), s.payloadLen)
	if s.has(header.TCPAck) {
		str += fmt.Sprintf(" ack %d", s.ack)
	}
	str += fmt.Sprintf(" win %d", s.win)
	if s.has(header.TCPUrg) {
		str += fmt.Sprintf(" urg %d", s.urg)
	}
	if len(s.opts) > 0 {
		ro, err := rawOptions(s.opts)
		parts := make([]string, len(ro))
		for i, o := range ro {
			parts[i] = optionString(o)
		}
		if err != nil {
			parts = append(parts, "[bad options]")
		}
		str += " <" + strings.Join(parts, ",") + ">"
	}
	return str
}

// describeIP prints a live packet with its addresses (DUMP_FULL), for
// the verbose log.
func describeIP(ip []byte) string {
	s, err := parseSegment(ip)
	if s == nil {
		return fmt.Sprintf("[%v]", err)
	}
	if err != nil {
		return fmt.Sprintf("%v > %v: [%v]", s.src.addr, s.dst.addr, err)
	}
	return fmt.Sprintf("%v:%d > %v:%d %s", s.src.addr, s.src.port, s.dst.addr, s.dst.port, s)
}

// scriptPacketString prints a script packet for a message: its time and
// the packet as the script writes it.
func scriptPacketString(p *pd.Packet) string {
	s := p.String()
	return strings.TrimPrefix(strings.TrimPrefix(s, "> "), "< ")
}
