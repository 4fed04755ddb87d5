package ipv4

import (
	"encoding/binary"
	"math/rand"
	"sync"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

// ICMP types and codes (RFC 792, 1812), by Linux's names (ICMP_*) for
// header's.
const (
	ICMPEchoReply      = header.ICMPv4EchoReply
	ICMPDestUnreach    = header.ICMPv4DstUnreachable
	ICMPSourceQuench   = header.ICMPv4SourceQuench
	ICMPRedirect       = header.ICMPv4Redirect
	ICMPEcho           = header.ICMPv4Echo
	ICMPTimeExceeded   = header.ICMPv4TimeExceeded
	ICMPParameterProb  = header.ICMPv4ParamProblem
	ICMPTimestamp      = header.ICMPv4Timestamp
	ICMPTimestampReply = header.ICMPv4TimestampReply
	nrICMPTypes        = 18 // NR_ICMP_TYPES: the highest type Linux knows
	icmpAddress        = 17
	icmpAddressReply   = 18
	icmpExtEcho        = 42 // ICMP_EXT_ECHO (RFC 8335 PROBE)
	icmpExtEchoReply   = 43

	ICMPNetUnreach  = header.ICMPv4NetUnreachable
	ICMPHostUnreach = header.ICMPv4HostUnreachable
	ICMPProtUnreach = header.ICMPv4ProtoUnreachable
	ICMPPortUnreach = header.ICMPv4PortUnreachable
	ICMPFragNeeded  = header.ICMPv4FragNeeded
	ICMPSRFailed    = header.ICMPv4SrcRouteFailed
	ICMPPktFiltered = header.ICMPv4AdminProhibited

	ICMPExcTTL      = header.ICMPv4TTLExceeded
	ICMPExcFragTime = header.ICMPv4ReassemblyTimeout
)

// icmpIsError reports the error types (icmp_pointers[].error).
func icmpIsError(t uint8) bool {
	switch t {
	case ICMPDestUnreach, ICMPSourceQuench, ICMPRedirect, ICMPTimeExceeded, ICMPParameterProb:
		return true
	}
	return false
}

// ICMPStats are the Icmp counters (and IcmpMsg's per type).
type ICMPStats struct {
	InMsgs, InErrors, InCsumErrors, OutMsgs, OutErrors stack.Counter
	// OutRateLimitGlobal and OutRateLimitHost count messages the
	// host-wide budget and the per-destination limit held back.
	OutRateLimitGlobal, OutRateLimitHost stack.Counter
	InType, OutType                      [256]stack.Counter
}

// ICMPStatsSnapshot is ICMPStats read at one time.
type ICMPStatsSnapshot struct {
	InMsgs, InErrors, InCsumErrors, OutMsgs, OutErrors uint64
	OutRateLimitGlobal, OutRateLimitHost               uint64
	InType, OutType                                    [256]uint64
}

// Snapshot reads the counters.
func (s *ICMPStats) Snapshot() ICMPStatsSnapshot {
	o := ICMPStatsSnapshot{InMsgs: s.InMsgs.Load(), InErrors: s.InErrors.Load(), InCsumErrors: s.InCsumErrors.Load(),
		OutMsgs: s.OutMsgs.Load(), OutErrors: s.OutErrors.Load(), OutRateLimitGlobal: s.OutRateLimitGlobal.Load(), OutRateLimitHost: s.OutRateLimitHost.Load()}
	for i := range s.InType {
		o.InType[i], o.OutType[i] = s.InType[i].Load(), s.OutType[i].Load()
	}
	return o
}

// icmpState is the rate limiters: a global token bucket and one per
// destination (the inet_peer's rate_tokens).
type icmpState struct {
	in     *Inet
	mu     sync.Mutex
	credit int
	stamp  time.Duration
	rnd    *rand.Rand
	peers  map[[4]byte]*icmpPeer
}

type icmpPeer struct {
	tokens    time.Duration
	last      time.Duration
	redirects int // n_redirects: redirects sent since the last silence
}

// xrlimBurst is XRLIM_BURST_FACTOR: a destination may take six messages
// at once.
const xrlimBurst = 6

func (s *icmpState) init(in *Inet) {
	s.in = in
	s.credit = in.cfg.ICMPMsgsBurst
	s.rnd = rand.New(rand.NewSource(in.cfg.Seed + 7))
	s.peers = map[[4]byte]*icmpPeer{}
	s.stamp = -time.Hour
}

// rateLimited is !icmpv4_mask_allow: whether type t (code c) is held to
// the budgets: a type in icmp_ratemask, never fragmentation needed (path
// MTU discovery must get through) nor a type past 18.
func (s *icmpState) rateLimited(t, c uint8) bool {
	if t > nrICMPTypes || (t == ICMPDestUnreach && c == ICMPFragNeeded) {
		return false
	}
	return s.in.cfg.ICMPRateMask&(1<<t) != 0
}

// globalAllow is icmp_global_allow: whether the host-wide budget has
// credit, refilled at icmp_msgs_per_sec (no more often than every 20 ms,
// a second's worth at most) up to icmp_msgs_burst. It takes nothing:
// globalConsume does, once the per-destination limit let the message go.
func (s *icmpState) globalAllow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.credit > 0 {
		return true
	}
	now := s.in.host.Clock().Now()
	delta := min(now-s.stamp, time.Second)
	if delta < 20*time.Millisecond {
		return false
	}
	inc := int(int64(s.in.cfg.ICMPMsgsPerSec) * int64(delta) / int64(time.Second))
	if inc == 0 {
		return false
	}
	s.stamp = now
	s.credit = min(s.credit+inc, s.in.cfg.ICMPMsgsBurst)
	return true
}

// globalConsume is icmp_global_consume: a message takes 0–2 credits at
// random (as Linux, so the budget does not reveal itself exactly); the
// credit may go below zero.
func (s *icmpState) globalConsume() {
	s.mu.Lock()
	s.credit -= s.rnd.Intn(3)
	s.mu.Unlock()
}

// peerAllow is inet_peer_xrlim_allow: per destination, one message per
// icmp_ratelimit with a burst of six; a new destination starts with a
// full burst.
func (s *icmpState) peerAllow(dst [4]byte) bool {
	if s.in.cfg.ICMPRateLimit == 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.in.host.Clock().Now()
	p := s.peer(dst, now)
	timeout := s.in.cfg.ICMPRateLimit
	tok := p.tokens + now - p.last
	p.last = now
	if tok > xrlimBurst*timeout {
		tok = xrlimBurst * timeout
	}
	ok := tok >= timeout
	if ok {
		tok -= timeout
	}
	p.tokens = tok
	return ok
}

// peer is inet_getpeer_v4 (locked): dst's state, made as Linux makes
// it (rate_last a minute back, so the first use finds a full bucket).
func (s *icmpState) peer(dst [4]byte, now time.Duration) *icmpPeer {
	p := s.peers[dst]
	if p == nil {
		if len(s.peers) >= 4096 {
			clear(s.peers) // inet_peer's garbage collection, coarsely
		}
		p = &icmpPeer{last: now - 60*time.Second}
		s.peers[dst] = p
	}
	return p
}

// allowGlobal is icmpv4_global_allow: a rate-limited type needs the
// host-wide budget to have credit (else OutRateLimitGlobal). It reports
// whether the message may go on and whether the per-destination limit
// then applies.
func (in *Inet) allowGlobal(t, c uint8) (ok, limit bool) {
	if !in.icmp.rateLimited(t, c) {
		return true, false
	}
	if in.icmp.globalAllow() {
		return true, true
	}
	in.ICMPStats.OutRateLimitGlobal.Add(1)
	return false, false
}

// allowPeer is icmpv4_xrlim_allow, after the route: the per-destination
// limit (none over the loopback; held back: OutRateLimitHost), and the
// budget's credit taken for a message that goes.
func (in *Inet) allowPeer(rt *Rtable, dst [4]byte, limit bool) bool {
	if !limit {
		return true
	}
	if (rt.Dev == nil || !rt.Dev.IsLoopback()) && !in.icmp.peerAllow(dst) {
		in.ICMPStats.OutRateLimitHost.Add(1)
		return false
	}
	in.icmp.globalConsume()
	return true
}

// ICMPSend is __icmp_send: an error (or other message) about skbIn, whose
// network header is the offending packet's. Nothing is sent about a
// packet to a broadcast or multicast address or not addressed to this
// host's MAC, a non-first fragment, an ICMP error, or a packet from a
// zero, broadcast, multicast or (off the loopback) loopback source; the
// global budget and the per-destination limit apply to the masked types.
// The message quotes the packet up to 576 bytes in all.
func (in *Inet) ICMPSend(skbIn *stack.SKB, typ, code uint8, info uint32) {
	nh := skbIn.NetworkHeader()
	d := SkbRtable(skbIn)
	if d == nil || len(nh) < IPv4HdrLen {
		return
	}
	iph := header.IPv4(nh)
	ihl := iph.HeaderLen()
	if len(nh) < ihl {
		return
	}
	if d.Flags&(RTCFBroadcast|RTCFMulticast) != 0 {
		return
	}
	if skbIn.PktType != stack.PacketHost {
		return
	}
	if iph.FlagsFrag()&IPOffset != 0 {
		return
	}
	src := iph.Src()
	if src == ([4]byte{}) || header.IPv4IsMulticast(src) || header.IPv4IsLbcast(src) || (header.IPv4IsLoopback(src) && (skbIn.Dev == nil || !skbIn.Dev.IsLoopback())) {
		return
	}
	if icmpIsError(typ) && iph.Protocol() == IPProtoICMP {
		if len(nh) < ihl+1 {
			return
		}
		if it := nh[ihl]; it >= nrICMPTypes || icmpIsError(it) {
			return
		}
	}
	// Nothing is rate limited about a packet that came in over the
	// loopback: Linux 6.18 skips icmpv4_global_allow, which leaves
	// apply_ratelimit off for icmpv4_xrlim_allow too.
	ok, limit := true, false
	if skbIn.Dev == nil || !skbIn.Dev.IsLoopback() {
		if ok, limit = in.allowGlobal(typ, code); !ok {
			return
		}
	}
	var saddr [4]byte
	if d.Flags&RTCFLocal != 0 && d.Type == fib.RTNLocal {
		saddr = iph.Dst()
	}
	tos := iph.TOS()&0x1e | 0xc0 // IPTOS_PREC_INTERNETCONTROL
	if !icmpIsError(typ) {
		tos = iph.TOS()
	}
	var ro ipOptData
	if !in.echoOptions(&ro, skbIn) {
		return
	}
	fl := fib.FlowKey{Dst: src, Src: saddr, TOS: tos, Proto: IPProtoICMP}
	if ro.opt.SRR != 0 {
		fl.Dst = ro.opt.FirstHop
	}
	rt, err := in.routeOutput(&fl)
	if err != nil {
		return
	}
	if !in.allowPeer(rt, fl.Dst, limit) {
		return
	}
	room := min(rt.MTU(), 576) - IPv4HdrLen - ro.opt.Len - 8
	if room <= IPv4HdrLen {
		return
	}
	quote := nh
	if len(quote) > room {
		quote = quote[:room]
	}
	var hb [header.ICMPv4HeaderLen]byte
	hdr := header.ICMPv4(hb[:])
	hdr.SetType(typ)
	hdr.SetCode(code)
	hdr.SetRest(info)
	hdr.SetChecksum(^header.Fold(header.Sum(quote, header.Sum(hdr, 0))))
	in.icmpXmit(rt, fl.Src, fl.Dst, tos, hdr, quote, &ro)
}

// echoOptions is ip_options_echo for skb: the options its answer
// carries, from the packet's compiled options (IPCB) and its header, in
// o. It reports false when they cannot be echoed: nothing is sent then.
// A packet whose options were never compiled (the control block's
// length disagrees with the header's) is answered without options.
func (in *Inet) echoOptions(o *ipOptData, skb *stack.SKB) bool {
	o.opt = IPOptions{}
	nh := skb.NetworkHeader()
	sopt := &ipcb(skb).opt
	if sopt.Len == 0 || len(nh) < IPv4HdrLen || header.IPv4(nh).HeaderLen() != IPv4HdrLen+sopt.Len || len(nh) < IPv4HdrLen+sopt.Len {
		return true
	}
	opt, err := EchoIPOptions(&o.data, nh[:IPv4HdrLen+sopt.Len], sopt, in.notUnicast)
	if err != nil {
		return false
	}
	o.opt = opt
	o.dst = header.IPv4(nh).Src()
	return true
}

// notUnicast is inet_addr_type(addr) != RTN_UNICAST: one of the host's
// addresses, a broadcast (the limited one, zero, or a subnet's in the
// local table) or a multicast group.
func (in *Inet) notUnicast(a [4]byte) bool {
	if a[0] == 0 || header.IPv4IsLbcast(a) || header.IPv4IsMulticast(a) {
		return true
	}
	r := in.fib.TableLookup(fib.TableLocal, a)
	return r != nil && r.Type != fib.RTNUnicast
}

// icmpXmit sends an ICMP message with options o (nil: none), counting it.
func (in *Inet) icmpXmit(rt *Rtable, src, dst [4]byte, tos uint8, hdr, data []byte, o *ipOptData) {
	err := in.sendDatagram(rt, IPHeader{Src: src, Dst: dst, Proto: IPProtoICMP, TOS: tos, TTL: in.cfg.DefaultTTL}, o, hdr, data, 0)
	if err != nil {
		in.ICMPStats.OutErrors.Add(1)
		return
	}
	in.ICMPStats.OutMsgs.Add(1)
	in.ICMPStats.OutType[hdr[0]].Add(1)
}

// icmpRcv is icmp_rcv: the checksum (unless the device verified it), the
// counters, then by type: echo answered (except to a broadcast, by
// default), echo replies to the ping socket of their identifier, errors
// to the protocol of the packet they quote.
func (in *Inet) icmpRcv(skb *stack.SKB) {
	b := skb.Data()
	in.ICMPStats.InMsgs.Add(1)
	if len(b) < 8 {
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
		return
	}
	if skb.IPSummed != stack.ChecksumUnnecessary && header.Checksum(b) != 0 {
		in.ICMPStats.InCsumErrors.Add(1)
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
		return
	}
	typ := b[0]
	in.ICMPStats.InType[typ].Add(1)
	if typ == icmpExtEcho || typ == icmpExtEchoReply {
		// RFC 8335 PROBE: icmp_echo_enable_probe is off (Linux's
		// default), so a request goes unanswered, and no socket asks
		// for replies; neither is an error.
		skb.Consume()
		return
	}
	if SkbRtable(skb) != nil && SkbRtable(skb).Flags&(RTCFBroadcast|RTCFMulticast) != 0 {
		// RFC 1122 3.2.2.6 and 3.2.2.8: an echo or timestamp request to
		// a broadcast or multicast address is answered only when
		// icmp_echo_ignore_broadcasts is off; any other type but the
		// address mask ones is an error there.
		if ((typ == ICMPEcho || typ == ICMPTimestamp) && !in.cfg.EchoBroadcasts) ||
			(typ != ICMPEcho && typ != ICMPTimestamp && typ != icmpAddress && typ != icmpAddressReply) {
			in.ICMPStats.InErrors.Add(1)
			skb.Free()
			return
		}
	}
	switch {
	case typ == ICMPEchoReply:
		in.pings.deliver(in, skb, false)
	case typ > nrICMPTypes:
		// RFC 1122 3.2.2: an unknown type is silently discarded
		// (counted as an error).
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
	case typ == ICMPEcho:
		in.icmpEcho(skb)
	case typ == ICMPTimestamp:
		in.icmpTimestamp(skb)
	case typ == ICMPDestUnreach, typ == ICMPTimeExceeded, typ == ICMPParameterProb, typ == ICMPSourceQuench:
		in.icmpUnreach(skb)
	case typ == ICMPRedirect:
		in.icmpRedirect(skb)
	default: // icmp_discard
		skb.Consume()
	}
}

// icmpEcho is icmp_echo and icmp_reply: the request's identifier,
// sequence and data back to its source, from the address it was sent to
// (or this host's address on the arrival device for a broadcast), with
// the request's options echoed (ip_options_echo).
func (in *Inet) icmpEcho(skb *stack.SKB) {
	b := header.ICMPv4(skb.Data())
	var hb [header.ICMPv4HeaderLen]byte
	hdr := header.ICMPv4(hb[:])
	copy(hdr, b)
	hdr.SetType(ICMPEchoReply)
	hdr.SetCode(0)
	hdr.SetChecksum(0)
	hdr.SetChecksum(^header.Fold(header.Sum(b.Payload(), header.Sum(hdr, 0))))
	in.icmpReply(skb, hdr, b.Payload())
	skb.Consume()
}

// icmpReply is icmp_reply: the answer (hdr, then data) to the request
// skb goes back to its source with the request's options echoed, from
// the address the request was sent to (for a broadcast or multicast,
// this host's address on the arrival device: fib_compute_spec_dst).
// Options that cannot be echoed mean no answer.
func (in *Inet) icmpReply(skb *stack.SKB, hdr, data []byte) {
	var ro ipOptData
	if !in.echoOptions(&ro, skb) {
		return
	}
	ok, limit := in.allowGlobal(hdr[0], hdr[1])
	if !ok {
		return
	}
	iph := header.IPv4(skb.NetworkHeader())
	fl := fib.FlowKey{Dst: iph.Src(), Src: in.specDst(skb), TOS: iph.TOS(), Proto: IPProtoICMP}
	if ro.opt.SRR != 0 {
		fl.Dst = ro.opt.FirstHop
	}
	rt, err := in.routeOutput(&fl)
	if err != nil || !in.allowPeer(rt, fl.Dst, limit) {
		return
	}
	in.icmpXmit(rt, fl.Src, fl.Dst, iph.TOS(), hdr, data, &ro)
}

// icmpTimestamp is icmp_timestamp: a request with at least its originate
// time (12 bytes, all Linux reads) is answered with that time and this
// host's receive and transmit times, milliseconds since midnight UT on
// the host's clock.
func (in *Inet) icmpTimestamp(skb *stack.SKB) {
	b := skb.Data()
	if len(b) < 12 {
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
		return
	}
	var msg [20]byte
	copy(msg[:], b[:12])
	msg[0], msg[1], msg[2], msg[3] = ICMPTimestampReply, 0, 0, 0
	now := in.tsNow()
	binary.BigEndian.PutUint32(msg[12:16], now)
	binary.BigEndian.PutUint32(msg[16:20], now)
	binary.BigEndian.PutUint16(msg[2:4], header.Checksum(msg[:]))
	in.icmpReply(skb, msg[:8], msg[8:])
	skb.Consume()
}

// icmpUnreach is icmp_unreach and friends: the quoted header must be
// there (20 bytes, IHL at least 5; else InErrors); destination
// unreachable codes over 15 and reassembly timeouts stop here; then, with
// 8 bytes past the quoted header (else InErrors), the error goes to the
// error handler the quoted protocol registered (icmp_socket_deliver).
func (in *Inet) icmpUnreach(skb *stack.SKB) {
	b := header.ICMPv4(skb.Data())
	if len(b) < header.ICMPv4HeaderLen+IPv4HdrLen {
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
		return
	}
	inner := header.IPv4(b.Payload())
	ihl := inner.HeaderLen()
	if ihl < IPv4HdrLen {
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
		return
	}
	// Codes past those RFC 1812 defines, and a reassembly timeout, go to
	// no one (icmp_unreach).
	if (b.Type() == ICMPDestUnreach && b.Code() > header.ICMPv4PrecedenceCutoff) ||
		(b.Type() == ICMPTimeExceeded && b.Code() == ICMPExcFragTime) {
		skb.Consume()
		return
	}
	if b.Type() == ICMPDestUnreach && b.Code() == ICMPFragNeeded && len(inner) >= ihl+8 {
		// The protocols' error handlers call ipv4_update_pmtu (ping_err,
		// udp_err, icmp_err); vnic learns the path MTU once, here,
		// before any of them (with or without a socket).
		in.updatePMTU(inner, uint32(b.MTU()))
	}
	in.icmpSocketDeliver(skb, b)
}

// icmpSocketDeliver is icmp_socket_deliver: with the quoted header and 8
// bytes past it (else InErrors) the error goes to the error handler the
// quoted protocol registered.
func (in *Inet) icmpSocketDeliver(skb *stack.SKB, b header.ICMPv4) {
	inner := header.IPv4(b.Payload())
	ihl := inner.HeaderLen()
	if len(inner) < ihl+8 {
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
		return
	}
	if p := in.protos[inner.Protocol()].Load(); p != nil && p.ErrHandler != nil {
		p.ErrHandler(skb, ICMPError{Type: b.Type(), Code: b.Code(), Info: b.Rest(), Inner: inner, L4: inner[ihl:]})
		return
	}
	skb.Consume()
}

// ICMPError is what an error handler learns of an ICMP error: its type,
// code and the word after the checksum (the next-hop MTU, a pointer, a
// gateway), and the quoted datagram's IPv4 header and first transport
// bytes (at least 8).
type ICMPError struct {
	Type, Code uint8
	Info       uint32
	Inner      header.IPv4
	L4         []byte
}
