package ipv4

import (
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

// tos2prio is ip_tos2prio: a forwarded packet's priority (the qdisc band
// and TC class) from its TOS (FWD-10).
var tos2prio = [16]uint32{0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4}

// RTTos2Priority is rt_tos2priority.
func RTTos2Priority(tos uint8) uint32 { return tos2prio[(tos&0x1e)>>1] }

// forward is ip_forward, its checks in the seed's order (FWD-13): an LRO
// aggregate is dropped; a frame not addressed to this host's MAC is
// dropped; TTL ≤ 1 → time exceeded; a strict source route through a
// gateway → source route failed; too big with DF → fragmentation needed
// with the route's MTU; then TTL−1 with an incremental checksum update,
// the priority from the TOS and the FORWARD hook.
// A packet the input route marked (leaving by the device it came in on,
// towards a sender on that link) makes a redirect to its sender
// (redirect.go) and is forwarded all the same. A packet with Router Alert
// goes to the raw sockets that asked for it instead, when there are any.
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
	// OUTFORWDATAGRAMS: counted here, before the size check and the
	// FORWARD hook, as Linux's ip_forward does.
	in.Stats.ForwDatagrams.Add(1)
	ipcb(skb).flags |= ipskbForwarded
	mtu := d.MTU()
	if in.exceedsMTU(skb, mtu) {
		in.Stats.FragFails.Add(1)
		in.ICMPSend(skb, ICMPDestUnreach, ICMPFragNeeded, uint32(mtu))
		skb.Free()
		return
	}
	// ip_decrease_ttl: TTL is the high byte of its 16-bit word.
	iph.SetTTL(iph.TTL() - 1)
	check := uint32(iph.Checksum()) + 0x0100
	iph.SetChecksum(uint16(check + check>>16))
	// A redirect quotes the packet as it leaves (TTL already lowered);
	// none for a source-routed one.
	if ipcb(skb).flags&ipskbDoRedirect != 0 && ipcb(skb).opt.SRR == 0 {
		in.sendRedirect(skb)
	}
	skb.Priority = RTTos2Priority(iph.TOS())
	if nf := in.host.Netfilter(); nf.Active(stack.NFForward) {
		st := skb.NF()
		*st = stack.NFState{Hook: stack.NFForward, In: skb.Dev, Out: d.Dev}
		nf.Run(st, skb, in.forwardFinishFn)
		return
	}
	in.forwardFinish(skb)
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

// forwardFinish is ip_forward_finish: the options a forwarding hop
// updates (its outgoing address in record route), then the route's
// output.
func (in *Inet) forwardFinish(skb *stack.SKB) {
	if ipcb(skb).opt.Len > 0 {
		in.forwardOptions(skb)
	}
	SkbRtable(skb).Output(skb)
}

// forwardOptions is ip_forward_options: the record-route slot compiling
// claimed (and filled with the address towards the source) takes the
// outgoing interface's address instead (ip_rt_get_source). An
// address-and-timestamp entry keeps what compiling wrote: Linux rewrites
// it only on a source-routed hop, and vnic does not forward those
// (accept_source_route is off).
func (in *Inet) forwardOptions(skb *stack.SKB) {
	opt := &ipcb(skb).opt
	if !opt.RRNeedAddr || opt.RR == 0 {
		return
	}
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
	if p := opt.RR + int(hdr[opt.RR+2]) - 5; p >= opt.RR && p+4 <= len(hdr) {
		copy(hdr[p:p+4], src[:])
		iph.UpdateChecksum()
	}
}
