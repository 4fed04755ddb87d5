package iptables

import (
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
)

// TCPMSSInfo is the TCPMSS target (struct xt_tcpmss_info): an MSS, or
// TCPMSSClampPMTU for the path MTU less 40.
type TCPMSSInfo struct{ MSS uint16 }

// TCPMSSClampPMTU is XT_TCPMSS_CLAMP_PMTU.
const TCPMSSClampPMTU = 0xffff

type tcpmssTarget struct {
	TCPMSSInfo
	host *stack.Host
}

// csumReplace2 is inet_proto_csum_replace2: a checksum follows a 16-bit
// change. Under CHECKSUM_PARTIAL the field holds the pseudo-header's sum:
// only a pseudo-header field moves it.
func csumReplace2(skb *stack.SKB, th header.TCP, old, new uint16, pseudo bool) {
	switch {
	case skb.IPSummed != stack.ChecksumPartial:
		th.SetChecksum(header.Update16(th.Checksum(), old, new))
	case pseudo:
		th.SetChecksum(^header.Update16(^th.Checksum(), old, new))
	}
}

// Target is tcpmss_tg4 with tcpmss_mangle_packet: a SYN's MSS option
// lowered to the MSS (never raised), or one added when the SYN has none
// and no payload.
func (t *tcpmssTarget) Target(p Param) Verdict {
	if p.FragOff != 0 {
		return Continue
	}
	skb := p.SKB
	ip := p.IP
	tcphoff := p.THOff
	length := int(ip.TotalLen()) - tcphoff
	if tl := len(ip); int(ip.TotalLen()) > tl {
		length = tl - tcphoff
	}
	if length < 20 {
		return Drop
	}
	th := header.TCP(ip[tcphoff:])
	hl := th.HeaderLen()
	if length < hl || hl < 20 {
		return Drop
	}
	newmss := t.MSS
	if t.MSS == TCPMSSClampPMTU {
		mtu := 0
		if rt := ipv4.SkbRtable(skb); rt != nil {
			mtu = rt.MTU()
		}
		if in := ipv4.Of(t.host); in != nil {
			if rt, err := in.RouteOutput(&fib.FlowKey{Dst: ip.Src()}); err == nil {
				mtu = min(mtu, rt.MTU())
			}
		}
		if mtu <= 40 {
			return Drop
		}
		newmss = uint16(mtu - 40)
	}
	opt := ip[tcphoff : tcphoff+hl]
	for i := 20; i <= hl-4; {
		if opt[i] == 2 && opt[i+1] == 4 {
			old := uint16(opt[i+2])<<8 | uint16(opt[i+3])
			if old <= newmss {
				return Continue
			}
			opt[i+2], opt[i+3] = byte(newmss>>8), byte(newmss)
			csumReplace2(skb, th, old, newmss, false)
			return Continue
		}
		if opt[i] <= 1 || opt[i+1] == 0 {
			i++
		} else {
			i += int(opt[i+1])
		}
	}
	if length > hl || hl >= 60 || skb.Tailroom() < 4 || int(ip.TotalLen()) != len(ip) {
		return Continue // data after the header, or no room: as it is
	}
	newmss = min(newmss, 536) // RFC 879's default without the option
	skb.Put(4)
	ip = skb.NetworkHeader()
	th = header.TCP(ip[tcphoff:])
	seg := ip[tcphoff : tcphoff+length+4]
	copy(seg[24:], seg[20:length])
	csumReplace2(skb, th, uint16(length), uint16(length+4), true)
	seg[20], seg[21], seg[22], seg[23] = 2, 4, byte(newmss>>8), byte(newmss)
	csumReplace2(skb, th, 0, 0x0204, false)
	csumReplace2(skb, th, 0, newmss, false)
	oldWord := uint16(seg[12])<<8 | uint16(seg[13])
	seg[12] += 1 << 4 // doff: one word more
	csumReplace2(skb, th, oldWord, uint16(seg[12])<<8|uint16(seg[13]), false)
	iph := header.IPv4(ip)
	oldLen := iph.TotalLen()
	iph.SetTotalLen(oldLen + 4)
	iph.SetChecksum(header.Update16(iph.Checksum(), oldLen, oldLen+4))
	return Continue
}

// findSYNMatch is find_syn_match: a tcp match that asks for SYN.
func findSYNMatch(r *Rule) bool {
	for _, m := range r.Matches {
		if i, ok := m.Info.(*TCPInfo); ok && m.Name == "tcp" && i.FlagCmp&tcpFlagSYN != 0 && i.InvFlags&TCPInvFlags == 0 {
			return true
		}
	}
	return false
}

func init() {
	RegisterTarget(&TargetType{Name: "TCPMSS", Proto: ProtoTCP, NewInfo: func() any { return new(TCPMSSInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*TCPMSSInfo)
			if i.MSS == TCPMSSClampPMTU && c.Hooks&^Hooks(stack.NFForward, stack.NFLocalOut, stack.NFPostRouting) != 0 {
				return nil, checkErr("xt_TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks")
			}
			if !findSYNMatch(c.Rule) {
				return nil, checkErr("xt_TCPMSS: Only works on TCP SYN packets")
			}
			return &tcpmssTarget{TCPMSSInfo: *i, host: c.Host}, nil
		}})
}
