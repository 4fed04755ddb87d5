package ipv4

import (
	"fmt"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

// LLReserve is the link-layer headroom an IPv4 packet keeps in front of
// its header (LL_RESERVED_SPACE for Ethernet: 16).
const LLReserve = 16

// IPHeader is what a sender puts in the header (the socket's and the
// route's share of ip_push_pending_frames).
type IPHeader struct {
	Src, Dst [4]byte
	Proto    uint8
	TOS      uint8
	TTL      uint8
	DF       bool
	// Connected: the datagram is a connected socket's, whose own
	// counter gave ID (ip_select_ident uses inet_sk(sk)->inet_id for a
	// socket with a destination, DF or not). Otherwise a DF datagram
	// gets ID 0 and any other one an ID from the per-destination
	// counters.
	Connected bool
	ID        uint16
	// Owner is the sending socket's credentials, given to the skb (nil:
	// no socket).
	Owner *stack.SockOwner
	// CT and CTInfo attach a tracked connection to the datagram before
	// LOCAL_OUT (nf_ct_attach: a REJECT's reset joins the connection of
	// the packet it answers, as the related reply); nil: none.
	CT     any
	CTInfo uint8
}

// ErrMsgSize is a datagram too big for the path with DF set (EMSGSIZE):
// Linux's ip_append_data refuses it before building anything.
type ErrMsgSize struct{ MTU int }

func (e *ErrMsgSize) Error() string {
	return fmt.Sprintf("stack: message too long (path MTU %d)", e.MTU)
}

// Unwrap makes errors.Is(err, syscall.EMSGSIZE) hold.
func (e *ErrMsgSize) Unwrap() error { return syscall.EMSGSIZE }

// SendDatagram builds and sends one datagram: l4 (the transport header,
// its checksum done) then payload, behind an IPv4 header, routed by d
// (ip_make_skb, ip_send_skb). A datagram over the route's MTU is built as
// a frag_list chain whose pieces already have fragment geometry, so
// ip_fragment takes its fast path; with DF set it is refused (ErrMsgSize).
func (in *Inet) SendDatagram(d *Rtable, h IPHeader, l4, payload []byte, prio uint32) error {
	return in.sendDatagram(d, h, nil, l4, payload, prio)
}

// ipOptData is a datagram's compiled options and their bytes (struct
// ip_options_data), with the real destination a source route ends at.
type ipOptData struct {
	opt  IPOptions
	dst  [4]byte
	data [IPOptMaxLen]byte
}

// sendDatagram is SendDatagram with options o (nil: none), put in the
// header and filled as ip_options_build does: the source route's last
// slot, then the record-route and timestamp entries they claimed.
func (in *Inet) sendDatagram(d *Rtable, h IPHeader, o *ipOptData, l4, payload []byte, prio uint32) error {
	hlen := IPv4HdrLen
	if o != nil {
		hlen += o.opt.Len
	}
	total := hlen + len(l4) + len(payload)
	if total > 65535 {
		return fmt.Errorf("stack: datagram of %d bytes: %w", total, syscall.EMSGSIZE)
	}
	mtu := d.MTU()
	if total > mtu && h.DF {
		return &ErrMsgSize{MTU: mtu}
	}
	first := total
	if total > mtu {
		first = (mtu-hlen)&^7 + hlen
	}
	skb := in.host.Pool().Alloc(LLReserve + first)
	if skb == nil {
		return fmt.Errorf("stack: datagram of %d bytes: %w", total, syscall.ENOBUFS)
	}
	skb.Reserve(LLReserve)
	b := skb.Put(first)
	now := in.host.Clock().Now() // the one reading of this send (SetXmitTime)
	in.buildHeader(header.IPv4(b), h, hlen, total, now)
	ipcb(skb).routedDst = h.Dst // the rest of a new skb's control block is zero
	if o != nil && o.opt.Len > 0 {
		copy(b[IPv4HdrLen:hlen], o.data[:o.opt.Len])
		BuildIPOptions(b[:hlen], &o.opt, o.dst, h.Src, in.tsNow())
		ipcb(skb).opt = o.opt
	}
	n := copy(b[hlen:], l4)
	rest := payload
	k := copy(b[hlen+n:], rest)
	rest = rest[k:]
	skb.ResetNetworkHeader()
	skb.SetTransportHeader(hlen)
	skb.Protocol = stack.EthPIPv4
	skb.Priority = prio
	skb.SetOwner(h.Owner)
	skb.SetXmitTime(now)
	if h.CT != nil {
		skb.SetNFCT(h.CT, h.CTInfo)
	}
	skb.SetDst(&d.Dst)
	tail := skb
	for len(rest) > 0 {
		chunk := min(len(rest), (mtu-hlen)&^7)
		f := in.host.Pool().Alloc(LLReserve + hlen + chunk)
		if f == nil {
			skb.Free()
			return fmt.Errorf("stack: datagram of %d bytes: %w", total, syscall.ENOBUFS)
		}
		f.Reserve(LLReserve + hlen)
		f.SetOwner(h.Owner)
		copy(f.Put(chunk), rest[:chunk])
		rest = rest[chunk:]
		tail.SetFragList(f)
		tail = f
	}
	in.host.CPUs()[0].ChargeCopy(total)
	in.localOut(skb)
	return nil
}

// localOut is ip_local_out: the total length and header checksum are set
// before LOCAL_OUT (hooks see a consistent header, A-TX-06), then the
// hook, then dst_output.
func (in *Inet) localOut(skb *stack.SKB) {
	iph := header.IPv4(skb.Data())
	iph.SetTotalLen(uint16(skb.TotalLen()))
	iph.UpdateChecksum()
	in.Stats.OutRequests.Add(1)
	skb.Protocol = stack.EthPIPv4
	if nf := in.host.Netfilter(); nf.Active(stack.NFLocalOut) {
		st := skb.NF()
		*st = stack.NFState{Hook: stack.NFLocalOut, Out: SkbRtable(skb).Dev}
		nf.Run(st, skb, in.dstOutputFn)
		return
	}
	in.dstOutput(skb)
}

// dstOutput is dst_output after LOCAL_OUT: a hook that changed the
// destination makes the packet route anew (ip_route_me_harder, A-TX-07)
// unless it did so itself.
func (in *Inet) dstOutput(skb *stack.SKB) {
	if header.IPv4(skb.Data()).Dst() != ipcb(skb).routedDst {
		if err := in.RouteMeHarder(skb); err != nil {
			in.Stats.OutDiscards.Add(1)
			skb.Free()
			return
		}
	}
	SkbRtable(skb).Output(skb)
}

// RouteMeHarder is ip_route_me_harder for a packet at LOCAL_OUT whose
// header a hook changed (NAT's DNAT): it is routed again for the
// destination, TOS and mark it has now, from its source when that is one
// of the host's (Linux's FLOWI_FLAG_ANYSRC keeps any unicast source; vnic's
// output lookup takes only local ones), and the new decision replaces the
// old. No route is an error, the packet left as it was.
func (in *Inet) RouteMeHarder(skb *stack.SKB) error {
	iph := header.IPv4(skb.Data())
	fl := fib.FlowKey{Dst: iph.Dst(), TOS: iph.TOS(), Mark: skb.Mark}
	if src := iph.Src(); in.IsLocalAddr(src) {
		fl.Src = src
	}
	d, err := in.routeOutput(&fl)
	if err != nil {
		return err
	}
	skb.SetDst(&d.Dst)
	ipcb(skb).routedDst = iph.Dst()
	return nil
}

// output is ip_output: the egress device, then POST_ROUTING, which sees
// the whole datagram — Linux fragments after the hook, in
// ip_finish_output (the seed's order is the other way, seed-A §18.5).
func (in *Inet) output(skb *stack.SKB) {
	skb.Dev = SkbRtable(skb).Dev
	skb.Protocol = stack.EthPIPv4
	if nf := in.host.Netfilter(); nf.Active(stack.NFPostRouting) {
		st := skb.NF()
		*st = stack.NFState{Hook: stack.NFPostRouting, Out: skb.Dev}
		nf.Run(st, skb, in.outputFn)
		return
	}
	in.postRoutingDone(skb)
}

// postRoutingDone is ip_finish_output: a datagram over the MTU (or
// carrying a frag_list) is fragmented; a GSO packet goes whole when its
// segments fit.
func (in *Inet) postRoutingDone(skb *stack.SKB) {
	mtu := SkbRtable(skb).MTU()
	if skb.GSOSize != 0 && skb.FragList() == nil {
		if gsoFits(skb, mtu) {
			in.finishOutput2(skb)
			return
		}
		in.finishOutputGSO(skb, mtu)
		return
	}
	// A datagram reassembled on the way (conntrack's defragmentation) goes
	// out in fragments again, as it came, whatever its size
	// (__ip_finish_output: frag_max_size set).
	if skb.TotalLen() > mtu || skb.FragList() != nil || ipcb(skb).fragMaxSize != 0 {
		in.fragment(skb, mtu, in.finishOutputFn)
		return
	}
	in.finishOutput2(skb)
}

// finishOutputGSO is ip_finish_output_gso's slow path: a GSO packet whose
// segments exceed mtu (a forwarded GRO train without DF, or a packet that
// came in with a GSO size another stack chose) is segmented in software and
// each segment fragmented as any datagram is — with DF that means
// fragmentation needed back to the source for each.
func (in *Inet) finishOutputGSO(skb *stack.SKB, mtu int) {
	if !in.host.SegmentGSO(skb, LLReserve, func(seg *stack.SKB) {
		if seg.TotalLen() > mtu {
			in.fragment(seg, mtu, in.finishOutputFn)
			return
		}
		in.finishOutput2(seg)
	}) {
		in.Stats.OutDiscards.Add(1)
		skb.Free()
	}
}

// finishOutput2 is ip_finish_output2 and neigh_output: the next hop's
// link-layer address, from the neighbour table or, for broadcast,
// multicast and the loopback, without one; then dev_queue_xmit.
func (in *Inet) finishOutput2(skb *stack.SKB) {
	dev := skb.Dev
	d := SkbRtable(skb)
	switch {
	case dev.IsLoopback():
		neighXmit(skb, stack.MAC{})
		return
	case d.Type == fib.RTNBroadcast || dev.NoARP():
		neighXmit(skb, stack.BroadcastMAC)
		return
	case d.Type == fib.RTNMulticast:
		dst := header.IPv4(skb.Data()).Dst()
		neighXmit(skb, stack.MAC{0x01, 0x00, 0x5e, dst[1] & 0x7f, dst[2], dst[3]})
		return
	}
	nh := d.Gateway
	if nh == ([4]byte{}) {
		nh = header.IPv4(skb.Data()).Dst()
	}
	idev := in.Attach(dev)
	idev.arp.Output(nh, skb)
}

// neighXmit puts the Ethernet header on skb (for mac) and hands it to the
// device.
func neighXmit(skb *stack.SKB, mac stack.MAC) {
	dev := skb.Dev
	if skb.Headroom() < stack.EthHdrLen {
		dev.TxDroppedInc()
		skb.Free()
		return
	}
	stack.EthHeader(skb, mac, dev.Addr(), skb.Protocol)
	_ = stack.DevQueueXmit(skb) // a refused packet is counted by the device
}

// fragment is ip_fragment / ip_do_fragment: DF, unless the stack may
// ignore it — and even then if the datagram was reassembled from
// fragments bigger than mtu — → FragFails and fragmentation needed to the
// source. Otherwise the
// fast path, when the frag_list pieces already have the geometry (each
// fits, all but the last a multiple of 8, headroom for a header), puts a
// header on each piece without copying payload; the slow path copies
// into new buffers. Both give the same bytes (FRAG-14): options without
// the copied flag only in the first fragment.
func (in *Inet) fragment(skb *stack.SKB, mtu int, out func(*stack.SKB)) {
	iph := header.IPv4(skb.Data())
	if iph.FlagsFrag()&IPDF != 0 && (!skb.IgnoreDF || (ipcb(skb).fragMaxSize != 0 && int(ipcb(skb).fragMaxSize) > mtu)) {
		in.Stats.FragFails.Add(1)
		in.ICMPSend(skb, ICMPDestUnreach, ICMPFragNeeded, uint32(mtu))
		skb.Free()
		return
	}
	// Refragmented, a reassembled datagram's pieces are no bigger than
	// the biggest it came in (ip_do_fragment).
	if fm := int(ipcb(skb).fragMaxSize); fm != 0 && fm < mtu {
		mtu = fm
	}
	hlen := iph.HeaderLen()
	room := mtu - hlen // payload per fragment
	if room < 8 {
		in.Stats.FragFails.Add(1)
		skb.Free()
		return
	}
	if skb.FragList() != nil && in.fastGeometry(skb, hlen, room) {
		in.fragmentFast(skb, hlen, out)
		return
	}
	in.fragmentSlow(skb, hlen, room, out)
}

func (in *Inet) fastGeometry(skb *stack.SKB, hlen, room int) bool {
	first := skb.Len() - hlen
	if first > room || first&7 != 0 || header.IPv4(skb.Data()).IsFragment() || skb.Headroom() < LLReserve {
		return false
	}
	for f := skb.FragList(); f != nil; f = f.FragList() {
		if f.Len() > room || (f.Len()&7 != 0 && f.FragList() != nil) || f.Headroom() < hlen+stack.EthHdrLen {
			return false
		}
	}
	return true
}

// fragHeader writes fragment header fields: total length, offset (in
// bytes of the original payload, plus the original's own offset), MF and
// the checksum.
func fragHeader(h []byte, hlen, payload int, origFrag uint16, off int, more bool) {
	header.IPv4(h).SetTotalLen(uint16(hlen + payload))
	v := origFrag&^IPOffset | uint16((int(origFrag&IPOffset)*8+off)>>3)
	if more {
		v |= IPMF
	}
	header.IPv4(h).SetFlagsFrag(v)
	header.IPv4(h).UpdateChecksum()
}

func (in *Inet) fragmentFast(skb *stack.SKB, hlen int, out func(*stack.SKB)) {
	iph := header.IPv4(skb.Data())
	orig := iph.FlagsFrag()
	var hdr [60]byte
	copy(hdr[:hlen], skb.Data()[:hlen])
	FragmentIPOptions(hdr[:hlen])
	chain := skb.FragList()
	skb.SetFragList(nil)
	var meta stack.SKB // the first fragment is gone once sent
	meta.CopyMeta(skb)
	off := skb.Len() - hlen
	fragHeader(skb.Data()[:hlen], hlen, off, orig, 0, true)
	in.Stats.FragCreates.Add(1)
	out(skb)
	for f := chain; f != nil; {
		next := f.FragList()
		f.SetFragList(nil)
		f.CopyMeta(&meta)
		h := f.Push(hlen)
		copy(h, hdr[:hlen])
		f.ResetNetworkHeader()
		f.SetTransportHeader(hlen)
		more := next != nil || orig&IPMF != 0
		fragHeader(h, hlen, f.Len()-hlen, orig, off, more)
		off += f.Len() - hlen
		in.Stats.FragCreates.Add(1)
		out(f)
		f = next
	}
	in.Stats.FragOKs.Add(1)
}

func (in *Inet) fragmentSlow(skb *stack.SKB, hlen, room int, out func(*stack.SKB)) {
	iph := header.IPv4(skb.Data())
	orig := iph.FlagsFrag()
	var hdr [60]byte
	copy(hdr[:hlen], skb.Data()[:hlen])
	left := skb.TotalLen() - hlen
	src := payloadReader{skb: skb, off: hlen}
	off := 0
	for left > 0 {
		n := left
		if n > room {
			n = room &^ 7
		}
		f := in.host.Pool().Alloc(LLReserve + hlen + n)
		if f == nil {
			in.Stats.FragFails.Add(1)
			skb.Free()
			return
		}
		f.Reserve(LLReserve)
		f.CopyMeta(skb)
		b := f.Put(hlen + n)
		copy(b[:hlen], hdr[:hlen])
		src.read(b[hlen:])
		f.ResetNetworkHeader()
		f.SetTransportHeader(hlen)
		left -= n
		fragHeader(b, hlen, n, orig, off, left > 0 || orig&IPMF != 0)
		if off == 0 {
			FragmentIPOptions(hdr[:hlen])
		}
		off += n
		in.host.CPUs()[0].ChargeCopy(n)
		in.Stats.FragCreates.Add(1)
		out(f)
	}
	skb.Consume()
	in.Stats.FragOKs.Add(1)
}

// payloadReader reads a datagram's bytes across its frag_list chain.
type payloadReader struct {
	skb *stack.SKB
	off int
}

func (r *payloadReader) read(b []byte) {
	for len(b) > 0 && r.skb != nil {
		d := r.skb.Data()
		if r.off >= len(d) {
			r.skb, r.off = r.skb.FragList(), 0
			continue
		}
		n := copy(b, d[r.off:])
		b = b[n:]
		r.off += n
	}
}

// nextID is __ip_select_ident and ip_idents_reserve: segs IDs from the
// counter of the (destination, source, protocol) hash bucket, the hash
// keyed by a per-namespace secret (Linux: siphash with ip_id_key). The
// counters start at random values (as Linux fills ip_idents with random
// bytes), and a bucket first used in a new jiffy (1 ms here) jumps by a
// random amount below the jiffies it sat idle, so the IDs tell neither
// how many datagrams went to other destinations nor how many went to
// this one meanwhile.
func (in *Inet) nextID(src, dst [4]byte, proto uint8, segs int) uint16 {
	return in.nextIDAt(src, dst, proto, segs, in.host.Clock().Now())
}

// nextIDAt is nextID with the clock as the caller read it.
func (in *Inet) nextIDAt(src, dst [4]byte, proto uint8, segs int, clock time.Duration) uint16 {
	h := idHash(uint64(header.IPv4Uint32(dst))<<32|uint64(header.IPv4Uint32(src)), uint64(proto), in.idKey)
	b := h & (idBuckets - 1)
	now := uint32(clock / time.Millisecond)
	var delta uint32
	if old := in.idStamps[b].Load(); old != now && in.idStamps[b].CompareAndSwap(old, now) {
		delta = uint32(uint64(in.idRandom()) * uint64(now-old) >> 32)
	}
	return uint16(in.idents[b].Add(uint32(segs)+delta) - uint32(segs))
}

// idBuckets is the number of ID counters (Linux's minimum for
// ip_idents).
const idBuckets = 2048

// idHash mixes a and b under key (a keyed 64-bit finaliser: not siphash,
// but as unpredictable without the key for this purpose).
func idHash(a, b, key uint64) uint64 {
	x := a ^ key
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x ^= b + 0x9e3779b97f4a7c15 + key>>7
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// IDRandom is a random number from the namespace's seeded generator, for
// a connected socket's first IP ID.
func (in *Inet) IDRandom() uint32 { return in.idRandom() }

// idRandom is a 32-bit random number from the namespace's seeded
// generator (splitmix64 on an atomic counter: no lock, no allocation).
func (in *Inet) idRandom() uint32 {
	x := in.idRand.Add(0x9e3779b97f4a7c15)
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return uint32((x ^ x>>31) >> 32)
}

// buildHeader writes h into iph (hlen bytes of header, total the
// datagram's length, now the clock), the checksum left for ip_local_out.
func (in *Inet) buildHeader(iph header.IPv4, h IPHeader, hlen, total int, now time.Duration) {
	iph.SetHeaderLen(hlen)
	iph.SetTOS(h.TOS)
	iph.SetTotalLen(uint16(total))
	var frag uint16
	if h.DF {
		frag = IPDF
	}
	switch {
	case h.Connected:
		iph.SetID(h.ID)
	case h.DF:
		// ip_select_ident: a DF datagram of no connected socket gets ID 0.
		iph.SetID(0)
	default:
		iph.SetID(in.nextIDAt(h.Src, h.Dst, h.Proto, 1, now))
	}
	iph.SetFlagsFrag(frag)
	iph.SetTTL(h.TTL)
	iph.SetProtocol(h.Proto)
	iph.SetChecksum(0)
	iph.SetSrc(h.Src)
	iph.SetDst(h.Dst)
}

// QueueXmit is ip_queue_xmit for a transport that builds its own
// segments (TCP): skb's data is the transport header and payload, with
// headroom for the IPv4 header and the link layer; the header h
// describes goes in front and the packet leaves through LOCAL_OUT on
// decision d. A GSO packet (skb.GSOSize set) takes h.ID for its first
// segment, the next IDs for the others (ip_select_ident_segs).
func (in *Inet) QueueXmit(d *Rtable, h IPHeader, skb *stack.SKB, prio uint32) {
	b := skb.Push(IPv4HdrLen)
	now := in.host.Clock().Now() // the one reading of this send (SetXmitTime)
	in.buildHeader(header.IPv4(b), h, IPv4HdrLen, min(skb.Len(), 65535), now)
	*ipcb(skb) = ipCB{routedDst: h.Dst}
	skb.ResetNetworkHeader()
	skb.SetTransportHeader(IPv4HdrLen)
	skb.Protocol = stack.EthPIPv4
	skb.Priority = prio
	skb.SetOwner(h.Owner)
	skb.SetXmitTime(now)
	skb.SetDst(&d.Dst)
	in.localOut(skb)
}

// DstCheck is dst_check for a decision a socket keeps: whether d still
// stands (no routing change since it was made).
func (in *Inet) DstCheck(d *Rtable) bool { return d != nil && d.genid == in.fib.Genid() }
