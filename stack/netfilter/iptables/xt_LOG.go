package iptables

import (
	"fmt"
	"strings"

	"vnic/header"
	"vnic/stack"
)

// LogTargetInfo is the LOG target (struct xt_log_info).
type LogTargetInfo struct {
	Level    uint8
	LogFlags uint8
	Prefix   [30]byte
}

// LOG flags (XT_LOG_*).
const (
	LogTCPSeq    = 0x01
	LogTCPOpt    = 0x02
	LogIPOpt     = 0x04
	LogUID       = 0x08
	LogNFLog     = 0x10 // unsupported
	LogMACDecode = 0x20
	logFlagsMask = 0x2f
)

type logTarget struct {
	LogTargetInfo
	prefix string
	ring   *LogRing
}

// Target is log_tg: one line in the host's log, as nf_log_syslog formats
// it for IPv4; the packet goes on.
func (t *logTarget) Target(p Param) Verdict {
	var b strings.Builder
	b.WriteString(t.prefix)
	devName := func(d *stack.NetDevice) string {
		if d == nil {
			return ""
		}
		return d.Name()
	}
	fmt.Fprintf(&b, "IN=%s OUT=%s ", devName(p.State.In), devName(p.State.Out))
	if p.State.In != nil {
		dumpMAC(&b, p.SKB, t.LogFlags)
	}
	dumpIPv4(&b, p.IP, t.LogFlags, true)
	if t.LogFlags&LogUID != 0 && p.SKB.Owner != nil {
		fmt.Fprintf(&b, "UID=%d GID=%d ", p.SKB.Owner.UID, p.SKB.Owner.GID)
	}
	if p.SKB.Mark != 0 {
		fmt.Fprintf(&b, "MARK=0x%x ", p.SKB.Mark)
	}
	t.ring.add(t.Level, b.String())
	return Continue
}

// dumpMAC is dump_mac_header for an Ethernet frame.
func dumpMAC(b *strings.Builder, skb *stack.SKB, flags uint8) {
	mh := skb.MACHeader()
	if flags&LogMACDecode != 0 && len(mh) >= 14 && skb.Dev != nil && !skb.Dev.IsLoopback() {
		fmt.Fprintf(b, "MACSRC=%s MACDST=%s MACPROTO=%04x ", macString(mh[6:12]), macString(mh[0:6]), uint16(mh[12])<<8|uint16(mh[13]))
		return
	}
	b.WriteString("MAC=")
	if len(mh) >= 14 && skb.MACHeaderOffset() != skb.DataOffset() {
		for i := 0; i < 14; i++ {
			if i > 0 {
				b.WriteByte(':')
			}
			fmt.Fprintf(b, "%02x", mh[i])
		}
	}
	b.WriteByte(' ')
}

func macString(m []byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func ip4(a [4]byte) string { return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]) }

// dumpIPv4 is dump_ipv4_packet: the header's fields, then the transport
// header's (an ICMP error's quoted packet in brackets, once).
func dumpIPv4(b *strings.Builder, ip header.IPv4, flags uint8, outer bool) {
	if len(ip) < 20 {
		fmt.Fprintf(b, "TRUNCATED ")
		return
	}
	fmt.Fprintf(b, "SRC=%s DST=%s ", ip4(ip.Src()), ip4(ip.Dst()))
	fmt.Fprintf(b, "LEN=%d TOS=0x%02X PREC=0x%02X TTL=%d ID=%d ", ip.TotalLen(), ip.TOS()&0x1e, ip.TOS()&0xe0, ip.TTL(), ip.ID())
	ff := ip.FlagsFrag()
	if ff&0x8000 != 0 {
		b.WriteString("CE ")
	}
	if ff&0x4000 != 0 {
		b.WriteString("DF ")
	}
	if ff&0x2000 != 0 {
		b.WriteString("MF ")
	}
	frag := ff & 0x1fff
	if frag != 0 {
		fmt.Fprintf(b, "FRAG:%d ", frag)
	}
	hl := ip.HeaderLen()
	if hl < 20 || hl > len(ip) {
		return
	}
	if flags&LogIPOpt != 0 && hl > 20 {
		b.WriteString("OPT (")
		for _, c := range ip[20:hl] {
			fmt.Fprintf(b, "%02X", c)
		}
		b.WriteString(") ")
	}
	l4 := ip[hl:]
	switch proto := ip.Protocol(); proto {
	case ProtoTCP:
		b.WriteString("PROTO=TCP ")
		if frag != 0 {
			return
		}
		if len(l4) < 20 {
			fmt.Fprintf(b, "INCOMPLETE [%d bytes] ", len(l4))
			return
		}
		th := header.TCP(l4)
		fmt.Fprintf(b, "SPT=%d DPT=%d ", th.SrcPort(), th.DstPort())
		if flags&LogTCPSeq != 0 {
			fmt.Fprintf(b, "SEQ=%d ACK=%d ", th.Seq(), th.Ack())
		}
		fmt.Fprintf(b, "WINDOW=%d ", th.Window())
		fmt.Fprintf(b, "RES=0x%02x ", (l4[12]&0x0f)<<2)
		for _, f := range []struct {
			bit  uint8
			name string
		}{{0x80, "CWR "}, {0x40, "ECE "}, {0x20, "URG "}, {0x10, "ACK "}, {0x08, "PSH "}, {0x04, "RST "}, {0x02, "SYN "}, {0x01, "FIN "}} {
			if l4[13]&f.bit != 0 {
				b.WriteString(f.name)
			}
		}
		fmt.Fprintf(b, "URGP=%d ", th.Urgent())
		if doff := th.HeaderLen(); flags&LogTCPOpt != 0 && doff > 20 && doff <= len(l4) {
			b.WriteString("OPT (")
			for _, c := range l4[20:doff] {
				fmt.Fprintf(b, "%02X", c)
			}
			b.WriteString(") ")
		}
	case ProtoUDP, ProtoUDPLite:
		if proto == ProtoUDP {
			b.WriteString("PROTO=UDP ")
		} else {
			b.WriteString("PROTO=UDPLITE ")
		}
		if frag != 0 {
			return
		}
		if len(l4) < 8 {
			fmt.Fprintf(b, "INCOMPLETE [%d bytes] ", len(l4))
			return
		}
		fmt.Fprintf(b, "SPT=%d DPT=%d LEN=%d ", uint16(l4[0])<<8|uint16(l4[1]), uint16(l4[2])<<8|uint16(l4[3]), uint16(l4[4])<<8|uint16(l4[5]))
	case ProtoICMP:
		b.WriteString("PROTO=ICMP ")
		if frag != 0 {
			return
		}
		if len(l4) < 4 {
			fmt.Fprintf(b, "INCOMPLETE [%d bytes] ", len(l4))
			return
		}
		typ, code := l4[0], l4[1]
		fmt.Fprintf(b, "TYPE=%d CODE=%d ", typ, code)
		switch typ {
		case 0, 8: // echo reply, echo
			if len(l4) >= 8 {
				fmt.Fprintf(b, "ID=%d SEQ=%d ", uint16(l4[4])<<8|uint16(l4[5]), uint16(l4[6])<<8|uint16(l4[7]))
			}
		case 12: // parameter problem
			if len(l4) >= 5 {
				fmt.Fprintf(b, "PARAMETER=%d ", l4[4])
			}
		case 5: // redirect
			if len(l4) >= 8 {
				fmt.Fprintf(b, "GATEWAY=%s ", ip4([4]byte(l4[4:8])))
			}
		case 3, 4, 11: // destination unreachable, source quench, time exceeded
			if outer && len(l4) > 8 {
				b.WriteByte('[')
				dumpIPv4(b, header.IPv4(l4[8:]), flags, false)
				b.WriteString("] ")
			}
			if typ == 3 && code == 4 && len(l4) >= 8 {
				fmt.Fprintf(b, "MTU=%d ", uint16(l4[6])<<8|uint16(l4[7]))
			}
		}
	default:
		fmt.Fprintf(b, "PROTO=%d ", proto)
	}
}

// NFLogInfo is the NFLOG target (struct xt_nflog_info).
type NFLogInfo struct {
	Len       uint32
	Group     uint16
	Threshold uint16
	Flags     uint16 // NFLogCopyLen
	Pad       uint16
	Prefix    [64]byte
}

// NFLogCopyLen is XT_NFLOG_F_COPY_LEN: Len bounds the copied payload.
const NFLogCopyLen = 0x1

func init() {
	RegisterTarget(&TargetType{Name: "LOG", NewInfo: func() any { return new(LogTargetInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*LogTargetInfo)
			if i.Level > 7 {
				return nil, checkErr("x_tables: LOG: level %d >= 8", i.Level)
			}
			if i.Prefix[len(i.Prefix)-1] != 0 {
				return nil, checkErr("x_tables: LOG: prefix is not null-terminated")
			}
			if i.LogFlags&^logFlagsMask != 0 {
				return nil, checkErr("x_tables: LOG: unknown flags %#x", i.LogFlags)
			}
			return &logTarget{LogTargetInfo: *i, prefix: cstr(i.Prefix[:]), ring: Log(c.Host)}, nil
		}})
}
