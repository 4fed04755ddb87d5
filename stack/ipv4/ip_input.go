package ipv4

import (
	"errors"
	"syscall"
	"time"
	"unsafe"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

// ipCB is IPv4's per-packet control block (struct inet_skb_parm).
type ipCB struct {
	opt         IPOptions
	flags       uint16
	fragMaxSize uint16 // the largest fragment a reassembled datagram came in
	iif         int
	routedDst   [4]byte // the destination the output route was made for
}

// fragCB is reassembly's view of the control block (struct
// ipfrag_skb_cb): IPv4's, then where this fragment's payload sits.
type fragCB struct {
	ipCB
	off, end int32
}

// The IPv4 views of the control block must fit it (and hold no pointers:
// TestControlBlocksHoldNoPointers).
var _ [stack.CBSize - unsafe.Sizeof(fragCB{})]byte

// ipcb is IPCB(skb).
func ipcb(skb *stack.SKB) *ipCB { return (*ipCB)(skb.CB()) }

// fragcb is FRAG_CB(skb).
func fragcb(skb *stack.SKB) *fragCB { return (*fragCB)(skb.CB()) }

// ipCB flags (IPSKB_*).
const (
	ipskbForwarded = 1 << 0
	// ipskbDoRedirect: the input route found the packet leaving by the
	// device it came in on, towards a sender on that link (IPSKB_DOREDIRECT).
	ipskbDoRedirect = 1 << 5
	ipskbFragPMTU   = 1 << 6 // reassembled from DF fragments
)

// Rcv is ip_rcv (the ETH_P_IP handler): the header checks of ip_rcv_core (Linux's order and
// counters, see IPStats.RcvCore), the padding trimmed, then PRE_ROUTING.
// The header checksum is always verified, as Linux's ip_rcv_core does:
// the device's checksum verdict (CHECKSUM_UNNECESSARY) is about the
// transport checksum.
func (in *Inet) Rcv(skb *stack.SKB) {
	hdrLen, totLen, err := in.Stats.RcvCore(skb.Data(), skb.PktType, false)
	if err != nil {
		skb.Free()
		return
	}
	if skb.Len() > totLen {
		skb.Trim(totLen)
		if skb.IPSummed == stack.ChecksumComplete {
			skb.IPSummed = stack.ChecksumNone
		}
	}
	skb.ResetNetworkHeader()
	skb.SetTransportHeader(hdrLen)
	*ipcb(skb) = ipCB{iif: skb.Dev.Ifindex()}
	if nf := in.host.Netfilter(); nf.Active(stack.NFPreRouting) {
		st := skb.NF()
		*st = stack.NFState{Hook: stack.NFPreRouting, In: skb.Dev}
		nf.Run(st, skb, in.rcvFinishFn)
		return
	}
	in.rcvFinish(skb)
}

// rcvFinish is ip_rcv_finish: the route decision unless one is attached
// (read after PRE_ROUTING, so a hook's new destination routes anew), the
// options, the broadcast and multicast counters, then the decision's
// input function — the only thing that says local, forward or error.
func (in *Inet) rcvFinish(skb *stack.SKB) {
	iph := header.IPv4(skb.Data())
	if SkbRtable(skb) == nil {
		if err := in.routeInput(skb, iph.Dst(), iph.Src(), iph.TOS(), skb.Dev); err != nil {
			if err == syscall.EXDEV {
				in.Stats.InRPFilter.Add(1)
			}
			skb.Free()
			return
		}
	}
	if iph.HeaderLen() > IPv4HdrLen && in.rcvOptions(skb) {
		return
	}
	switch SkbRtable(skb).Type {
	case fib.RTNMulticast:
		in.Stats.InMcastPkts.Add(1)
	case fib.RTNBroadcast:
		in.Stats.InBcastPkts.Add(1)
	}
	SkbRtable(skb).Input(skb)
}

// tsNow is inet_current_timestamp, for the timestamp option and ICMP
// timestamp replies: milliseconds since midnight UT of the wall time the
// host's clock stands for (the clock's reading at the Unix epoch gives
// the offset: real time reads the wall clock, as Linux, and virtual time
// starts at VirtualEpoch, so it stays deterministic).
func (in *Inet) tsNow() uint32 {
	c := in.host.Clock()
	return uint32((c.Now() - c.At(time.Unix(0, 0))).Milliseconds() % 86400000)
}

// rcvOptions is ip_rcv_options: the options are compiled (a received
// record route or timestamp gets this host's address); a malformed one is
// answered with parameter problem and the packet dropped (InHdrErrors).
// A source-routed packet is dropped: accept_source_route is off, Linux's
// default for a host, and vnic has no switch for it yet. It reports
// whether the packet was dropped.
func (in *Inet) rcvOptions(skb *stack.SKB) bool {
	iph := header.IPv4(skb.Data())
	hdr := skb.Data()[:iph.HeaderLen()]
	opt, pp, err := CompileIPOptions(hdr, IPOptionContext{Received: true, Addr: in.specDst(skb), Now: in.tsNow, Local: in.notUnicast})
	ipcb(skb).opt = opt
	if err != nil {
		// What compiled before the bad option is echoed in the
		// parameter problem, as Linux's IPCB holds it.
		in.Stats.InHdrErrors.Add(1)
		in.ICMPSend(skb, ICMPParameterProb, 0, uint32(pp)<<24)
		skb.Free()
		return true
	}
	if opt.Changed {
		iph.UpdateChecksum()
	}
	if opt.SRR != 0 {
		skb.Free()
		return true
	}
	return false
}

// localDeliver is ip_local_deliver: fragments are reassembled first, so
// LOCAL_IN sees whole datagrams only (A-RX-06); then the hook.
func (in *Inet) localDeliver(skb *stack.SKB) {
	if header.IPv4(skb.Data()).IsFragment() {
		if skb = in.defrag(skb, defragLocalDeliver); skb == nil {
			return
		}
	}
	if nf := in.host.Netfilter(); nf.Active(stack.NFLocalIn) {
		st := skb.NF()
		*st = stack.NFState{Hook: stack.NFLocalIn, In: skb.Dev}
		nf.Run(st, skb, in.localDeliverFinishFn)
		return
	}
	in.localDeliverFinish(skb)
}

// localDeliverFinish is ip_local_deliver_finish and
// ip_protocol_deliver_rcu: the header is pulled and the protocol's
// handler gets the packet (InDelivers); without one, InUnknownProtos and
// protocol unreachable.
func (in *Inet) localDeliverFinish(skb *stack.SKB) {
	iph := header.IPv4(skb.Data())
	proto := iph.Protocol()
	skb.Pull(iph.HeaderLen())
	skb.ResetTransportHeader()
	raw := in.rawDeliver(skb, proto)
	if p := in.protos[proto].Load(); p != nil {
		in.Stats.InDelivers.Add(1)
		p.Handler(skb)
		return
	}
	if raw {
		// A raw socket took it: delivered, no protocol unreachable.
		in.Stats.InDelivers.Add(1)
		skb.Consume()
		return
	}
	in.Stats.InUnknownProtos.Add(1)
	in.ICMPSend(skb, ICMPDestUnreach, ICMPProtUnreach, 0)
	skb.Free()
}

// Reasons IPRcvCore drops a packet.
var (
	ErrIPOtherHost = errors.New("stack: IPv4 frame for another host")
	ErrIPHeader    = errors.New("stack: bad IPv4 header")
	ErrIPChecksum  = errors.New("stack: bad IPv4 header checksum")
	ErrIPTruncated = errors.New("stack: IPv4 packet shorter than its total length")
)

// IPv4HdrLen is the header without options.
const IPv4HdrLen = header.IPv4MinHeaderLen

// IPRcvCore is ip_rcv_core's checks, in Linux's order, on pkt (the
// frame from the network header on) and the frame's packet type, counted
// in s: a frame for another host is dropped silently; everything else
// counts in InReceives; then a header shorter than 20 bytes, a version
// other than 4, IHL under 5 or past the data → InHdrErrors; a header
// checksum that does not verify → InCsumErrors and InHdrErrors (skipped
// when the NIC verified it: hwChecked); fewer bytes than the total length
// → InTruncatedPkts; a total length under the header's → InHdrErrors. It
// returns the header length and the total length: the caller trims the
// data to it (Ethernet padding).
func (s *IPStats) RcvCore(pkt []byte, pktType uint8, hwChecked bool) (hdrLen, totLen int, err error) {
	if pktType == stack.PacketOtherHost {
		return 0, 0, ErrIPOtherHost
	}
	s.InReceives.Add(1)
	iph := header.IPv4(pkt)
	if len(iph) < IPv4HdrLen || iph.Version() != 4 || iph.HeaderLen() < IPv4HdrLen {
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPHeader
	}
	hdrLen = iph.HeaderLen()
	if len(iph) < hdrLen {
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPHeader
	}
	if !hwChecked && !iph.ChecksumValid() {
		s.InCsumErrors.Add(1)
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPChecksum
	}
	totLen = int(iph.TotalLen())
	if len(iph) < totLen {
		s.InTruncatedPkts.Add(1)
		return 0, 0, ErrIPTruncated
	}
	if totLen < hdrLen {
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPHeader
	}
	return hdrLen, totLen, nil
}

// specDst is fib_compute_spec_dst: the address this host answers a
// received packet from and records in its options. A packet to one of
// its addresses: that address. Otherwise (forwarded, broadcast,
// multicast) the preferred source of the route back to the packet's
// source, or the arrival device's address towards it.
func (in *Inet) specDst(skb *stack.SKB) [4]byte {
	iph := header.IPv4(skb.NetworkHeader())
	if rt := SkbRtable(skb); rt != nil && rt.Flags&(RTCFBroadcast|RTCFMulticast|RTCFLocal) == RTCFLocal {
		return iph.Dst()
	}
	src := iph.Src()
	scope := fib.ScopeUniverse
	if src != ([4]byte{}) {
		fl := fib.FlowKey{Dst: src, TOS: iph.TOS()}
		if res, err := in.fib.Lookup(&fl); err == nil && res.Route != nil {
			r := res.Route
			if r.PrefSrc != ([4]byte{}) {
				return r.PrefSrc
			}
			return in.selectAddr(r.Dev, r.Gateway, res.Scope)
		}
	} else {
		scope = fib.ScopeLink
	}
	return in.selectAddr(skb.Dev, src, scope)
}
