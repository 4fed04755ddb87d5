package ipv4

import (
	"encoding/binary"
	"syscall"
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
	ipskbFragPMTU  = 1 << 6 // reassembled from DF fragments
)

// tos2prio is ip_tos2prio: a forwarded packet's priority (the qdisc band
// and TC class) from its TOS (FWD-10).
var tos2prio = [16]uint32{0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4}

// RTTos2Priority is rt_tos2priority.
func RTTos2Priority(tos uint8) uint32 { return tos2prio[(tos&0x1e)>>1] }

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
	st := skb.NF()
	*st = stack.NFState{Hook: stack.NFPreRouting, In: skb.Dev}
	in.host.Netfilter().Run(st, skb, in.rcvFinishFn)
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

// tsNow is the timestamp option's clock: milliseconds since midnight UT,
// on the host's clock.
func (in *Inet) tsNow() uint32 {
	return uint32(in.host.Clock().Now().Milliseconds() % 86400000)
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
	spec := iph.Dst()
	if SkbRtable(skb).Flags&RTCFLocal == 0 || SkbRtable(skb).Type == fib.RTNBroadcast {
		spec = in.selectAddr(skb.Dev, iph.Src(), fib.ScopeUniverse)
	}
	opt, pp, err := CompileIPOptions(hdr, IPOptionContext{Received: true, Addr: spec, Now: in.tsNow, Local: in.IsLocalAddr})
	if err != nil {
		in.Stats.InHdrErrors.Add(1)
		in.ICMPSend(skb, ICMPParameterProb, 0, uint32(pp)<<24)
		skb.Free()
		return true
	}
	if opt.Changed {
		iph.UpdateChecksum()
	}
	ipcb(skb).opt = opt
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
	st := skb.NF()
	*st = stack.NFState{Hook: stack.NFLocalIn, In: skb.Dev}
	in.host.Netfilter().Run(st, skb, in.localDeliverFinishFn)
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

// forward is ip_forward, its checks in the seed's order (FWD-13): an LRO
// aggregate is dropped; a frame not addressed to this host's MAC is
// dropped; TTL ≤ 1 → time exceeded; a strict source route through a
// gateway → source route failed; too big with DF → fragmentation needed
// with the route's MTU; then TTL−1 with an incremental checksum update,
// the priority from the TOS and the FORWARD hook.
// ICMP redirects are the routing issue's. A packet with Router Alert goes
// to the raw sockets that asked for it instead, when there are any.
func (in *Inet) forward(skb *stack.SKB) {
	if skb.LRO {
		in.Stats.InDiscards.Add(1)
		skb.Free()
		return
	}
	if ipcb(skb).opt.RouterAlert != 0 && in.routerAlert(skb) {
		return
	}
	if skb.PktType != stack.PacketHost {
		skb.Free()
		return
	}
	skb.IPSummed = stack.ChecksumNone // skb_forward_csum
	iph := header.IPv4(skb.Data())
	if iph.TTL() <= 1 {
		in.Stats.InHdrErrors.Add(1)
		in.ICMPSend(skb, ICMPTimeExceeded, ICMPExcTTL, 0)
		skb.Free()
		return
	}
	d := SkbRtable(skb)
	if ipcb(skb).opt.StrictRoute && d.Gateway != ([4]byte{}) {
		in.ICMPSend(skb, ICMPDestUnreach, ICMPSRFailed, 0)
		skb.Free()
		return
	}
	mtu := d.MTU()
	if in.exceedsMTU(skb, mtu) {
		in.Stats.FragFails.Add(1)
		in.ICMPSend(skb, ICMPDestUnreach, ICMPFragNeeded, uint32(mtu))
		skb.Free()
		return
	}
	// ip_decrease_ttl: TTL is the high byte of its 16-bit word.
	iph[8]--
	check := uint32(binary.BigEndian.Uint16(iph[10:12])) + 0x0100
	binary.BigEndian.PutUint16(iph[10:12], uint16(check+check>>16))
	skb.Priority = RTTos2Priority(iph.TOS())
	ipcb(skb).flags |= ipskbForwarded
	st := skb.NF()
	*st = stack.NFState{Hook: stack.NFForward, In: skb.Dev, Out: d.Dev}
	in.host.Netfilter().Run(st, skb, in.forwardFinishFn)
}

// exceedsMTU is ip_exceeds_mtu: too big for mtu with DF set, unless the
// stack may fragment anyway or every GSO segment fits; a reassembled
// datagram is judged by its largest fragment.
func (in *Inet) exceedsMTU(skb *stack.SKB, mtu int) bool {
	if skb.TotalLen() <= mtu {
		return false
	}
	if header.IPv4(skb.Data()).FlagsFrag()&IPDF == 0 {
		return false
	}
	if ipcb(skb).fragMaxSize != 0 && int(ipcb(skb).fragMaxSize) > mtu {
		return true
	}
	if skb.IgnoreDF {
		return false
	}
	if skb.GSOSize != 0 {
		return !gsoFits(skb, mtu)
	}
	return true
}

// gsoFits is skb_gso_validate_network_len: each segment's network length
// fits mtu.
func gsoFits(skb *stack.SKB, mtu int) bool {
	d := skb.NetworkHeader()
	if len(d) < IPv4HdrLen {
		return false
	}
	ihl := header.IPv4(d).HeaderLen()
	l4 := 0
	if len(d) >= ihl+20 && d[9] == IPProtoTCP {
		l4 = int(d[ihl+12]>>4) * 4
	}
	return ihl+l4+int(skb.GSOSize) <= mtu
}

// forwardFinish is ip_forward_finish: ForwDatagrams, the options a
// forwarding hop updates (its address in record route and timestamp),
// then the route's output.
func (in *Inet) forwardFinish(skb *stack.SKB) {
	in.Stats.ForwDatagrams.Add(1)
	if ipcb(skb).opt.Len > 0 {
		in.forwardOptions(skb)
	}
	SkbRtable(skb).Output(skb)
}

// forwardOptions is ip_forward_options: record route and the address
// slot of timestamp take the outgoing interface's address.
func (in *Inet) forwardOptions(skb *stack.SKB) {
	opt := &ipcb(skb).opt
	iph := header.IPv4(skb.Data())
	hdr := skb.Data()[:iph.HeaderLen()]
	d := SkbRtable(skb)
	src := d.Src
	if src == ([4]byte{}) {
		gw := d.Gateway
		if gw == ([4]byte{}) {
			gw = iph.Dst()
		}
		src = in.selectAddr(d.Dev, gw, fib.ScopeUniverse)
	}
	changed := false
	if opt.RRNeedAddr && opt.RR != 0 {
		p := opt.RR + int(hdr[opt.RR+2]) - 5
		if p >= opt.RR && p+4 <= len(hdr) {
			copy(hdr[p:p+4], src[:])
			changed = true
		}
	}
	if opt.TSNeedAddr && opt.TS != 0 {
		p := opt.TS + int(hdr[opt.TS+2]) - 9
		if p >= opt.TS && p+4 <= len(hdr) {
			copy(hdr[p:p+4], src[:])
			changed = true
		}
	}
	if changed {
		iph.UpdateChecksum()
	}
}
