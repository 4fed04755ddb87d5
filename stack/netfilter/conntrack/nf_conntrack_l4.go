package conntrack

import (
	"time"

	"vnic/header"
	"vnic/stack"
)

// The protocols with their own tracker; the others are generic's.
const (
	protoGeneric = 0
	protoICMP    = header.ProtoICMP
	protoTCP     = header.ProtoTCP
	protoUDP     = header.ProtoUDP
)

// Dir is the direction a packet of this kind travels (CTINFO2DIR).
func (i Info) Dir() Dir {
	if i >= IsReply && i != Untracked {
		return Reply
	}
	return Original
}

// pktInfo is what the trackers read of one packet: the network header
// on, the transport header, and the lengths (the datagram's whole length,
// a frag_list chain's included).
type pktInfo struct {
	skb   *stack.SKB
	ip    header.IPv4
	ihl   int
	total int    // skb->len: the datagram's bytes
	l4    []byte // the transport header on, as far as the first buffer holds it
	l4len int    // the transport segment's length
	hook  stack.NFHook
	tmpl  *Conn         // the template the packet came with (nil: none)
	zone  Zone          // the zone it is tracked in (nf_ct_zone_tmpl)
	now   time.Duration // the host clock when tracking took the packet (nfct_time_stamp)
}

// parse is get_l4proto: the IPv4 header, its length and the datagram's
// (a frag_list chain's included). A non-first fragment has no transport
// header (false: not trackable).
func parse(skb *stack.SKB) (ip header.IPv4, ihl, total int, ok bool) {
	d := skb.Data()
	if len(d) < header.IPv4MinHeaderLen {
		return nil, 0, 0, false
	}
	ip = header.IPv4(d)
	ihl = ip.HeaderLen()
	if ihl < header.IPv4MinHeaderLen || ihl > len(d) || ip.FlagsFrag()&header.IPv4FragOffMask != 0 {
		return nil, 0, 0, false
	}
	return ip, ihl, skb.TotalLen(), true
}

// checkCsum says whether the transport checksum is to be verified
// (nf_checksum's conditions): at PRE_ROUTING with nf_conntrack_checksum,
// unless the device verified it.
func (p *pktInfo) checkCsum(cfg *Config) bool {
	return cfg.Checksum && p.hook == stack.NFPreRouting && p.skb.IPSummed != stack.ChecksumUnnecessary
}

// l4ChecksumValid is nf_ip_checksum for TCP and UDP (the pseudo-header
// included) over a linear packet; a frag_list chain is taken as valid.
func (p *pktInfo) l4ChecksumValid() bool {
	if p.skb.FragList() != nil || len(p.l4) < p.l4len {
		return true
	}
	return header.L4ChecksumValid(p.ip, p.l4[:p.l4len])
}

// tuple is nf_ct_get_tuple: the addresses, the protocol, and the ports
// (TCP, UDP), the ICMP id, type and code, or nothing (generic). ok is
// false when the transport header is too short.
func (p *pktInfo) tuple() (t Tuple, ok bool) {
	ip := p.ip[:header.IPv4MinHeaderLen]
	t = Tuple{Src: [4]byte(ip[12:16]), Dst: [4]byte(ip[16:20]), Proto: ip[9]}
	return t, l4Tuple(&t, p.l4)
}

// l4Tuple fills the transport part of t from l4.
func l4Tuple(t *Tuple, l4 []byte) bool {
	switch t.Proto {
	case protoTCP, protoUDP:
		if len(l4) < 4 {
			return false
		}
		t.SrcPort = uint16(l4[0])<<8 | uint16(l4[1])
		t.DstPort = uint16(l4[2])<<8 | uint16(l4[3])
	case protoICMP:
		if len(l4) < header.ICMPv4HeaderLen {
			return false
		}
		t.DstPort = uint16(l4[0])<<8 | uint16(l4[1])
		t.SrcPort = uint16(l4[4])<<8 | uint16(l4[5])
	}
	return true
}

// trackerOf is the tracker a protocol number gets.
func trackerOf(proto uint8) uint8 {
	switch proto {
	case protoTCP, protoUDP, protoICMP:
		return proto
	}
	return protoGeneric
}

// allowClash is l4proto->allow_clash.
func allowClash(l4 uint8) bool { return l4 == protoUDP || l4 == protoICMP }

// refresh is nf_ct_refresh_acct: a new timeout from the packet's time
// (from confirmation for an unconfirmed entry) and the packet counted.
func (c *Conn) refresh(p *pktInfo, info Info, timeout time.Duration) {
	if st := c.Status(); st&StatusFixedTimeout == 0 {
		if st&StatusConfirmed != 0 {
			timeout += p.now
		}
		// Written only when it changed, as Linux does: packets of a
		// flow in the same tick leave the entry's line clean.
		if c.expires.Load() != int64(timeout) {
			c.expires.Store(int64(timeout))
		}
	}
	c.account(info, p.total)
}

// account is nf_ct_acct_update.
func (c *Conn) account(info Info, bytes int) {
	if c.acct != nil {
		a := &c.acct[info.Dir()]
		a.packets.Add(1)
		a.bytes.Add(uint64(bytes))
	}
}

// udpPacket is nf_conntrack_udp_packet: 30 s until replied; a flow
// replied to and still active 2 s after it began is a stream, 120 s and
// ASSURED (Linux ≥ 5.16's rule; the seed says only "replied"). As in
// Linux it takes no lock: stream_ts is written once, by the packet that
// owns the unconfirmed connection.
func (c *Conn) udpPacket(p *pktInfo, info Info, cfg *Config) l4Verdict {
	// udp_error, in line: a short or malformed header, or a bad checksum
	// where one is checked (a zero checksum is none).
	if p.l4len < header.UDPHeaderLen || len(p.l4) < header.UDPHeaderLen {
		return l4Invalid
	}
	u := header.UDP(p.l4)
	if int(u.Length()) > p.l4len || u.Length() < header.UDPHeaderLen {
		return l4Invalid
	}
	if u.Checksum() != 0 && p.checkCsum(cfg) && !p.l4ChecksumValid() {
		return l4Invalid
	}
	status := c.Status()
	if status&StatusConfirmed == 0 {
		c.proto.udpStream.Store(int64(p.now + 2*time.Second))
	}
	if status&StatusSeenReply == 0 {
		c.refresh(p, info, cfg.UDPTimeout)
		return l4Accept
	}
	extra, stream := cfg.UDPTimeout, false
	if int64(p.now) > c.proto.udpStream.Load() {
		extra, stream = cfg.UDPStreamTimeout, status&StatusAssured == 0
	}
	c.refresh(p, info, extra)
	if status&StatusNATClash != 0 {
		return l4Accept
	}
	if stream && c.setStatusBit(StatusAssured) {
		c.cacheEvent(EventAssured)
	}
	return l4Accept
}

// icmpValidNew is valid_new in nf_conntrack_icmp_packet: the queries that
// may open a connection.
func icmpValidNew(typ uint8) bool {
	switch typ {
	case header.ICMPv4Echo, header.ICMPv4Timestamp, header.ICMPv4InfoRequest, header.ICMPv4AddrMask:
		return true
	}
	return false
}

// icmpPacket is nf_conntrack_icmp_packet: only a query makes a connection;
// every packet renews the 30 s timeout.
func (c *Conn) icmpPacket(p *pktInfo, info Info, cfg *Config) l4Verdict {
	if !icmpValidNew(uint8(c.tuple[Original].DstPort >> 8)) {
		return l4Invalid
	}
	c.refresh(p, info, cfg.ICMPTimeout)
	return l4Accept
}

// icmpIsErr is icmp_is_err.
func icmpIsErr(typ uint8) bool {
	switch typ {
	case header.ICMPv4DstUnreachable, header.ICMPv4SourceQuench, header.ICMPv4TimeExceeded, header.ICMPv4ParamProblem, header.ICMPv4Redirect:
		return true
	}
	return false
}

// nrICMPTypes is NR_ICMP_TYPES.
const nrICMPTypes = 18

// icmpError is nf_conntrack_icmpv4_error with nf_conntrack_inet_error:
// an ICMP error quoting a packet of a tracked connection of the packet's
// zone is RELATED to it (the quoted tuple inverted finds the direction it
// answers, whose destination must be the error's). It reports whether it decided the
// packet (handled: the skb has its connection, or the error counts as
// invalid); a query goes on to the ICMP tracker.
func (n *Net) icmpError(p *pktInfo, cfg *Config) (handled, bad bool) {
	icmp := p.l4
	if len(icmp) < header.ICMPv4HeaderLen {
		return true, true
	}
	if p.checkCsum(cfg) && p.skb.FragList() == nil && len(icmp) >= p.l4len && header.Checksum(icmp[:p.l4len]) != 0 {
		return true, true
	}
	typ := icmp[0]
	if typ > nrICMPTypes {
		return true, true
	}
	if !icmpIsErr(typ) {
		return false, false
	}
	inner := icmp[header.ICMPv4HeaderLen:]
	if len(inner) < header.IPv4MinHeaderLen {
		return true, true
	}
	iph := header.IPv4(inner)
	ihl := iph.HeaderLen()
	if ihl < header.IPv4MinHeaderLen || ihl > len(inner) || iph.FlagsFrag()&header.IPv4FragOffMask != 0 {
		return true, true
	}
	orig := Tuple{Src: iph.Src(), Dst: iph.Dst(), Proto: iph.Protocol()}
	if !l4Tuple(&orig, inner[ihl:]) {
		return true, true
	}
	it, ok := orig.Invert()
	if !ok {
		return true, true
	}
	h := n.findZone(&it, p.zone, p.now)
	if h == nil {
		return true, true
	}
	ct, dir := h.ct, h.dir()
	if ct.tuple[dir].Dst != p.ip.Dst() {
		return true, true
	}
	info := Related
	if dir == Reply {
		info += IsReply
	}
	p.skb.SetNFCT(ct, uint8(info))
	return true, false
}
