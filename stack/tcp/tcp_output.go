package tcp

import (
	"math/bits"
	"slices"

	"vnic/ethtool"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
)

// The window a receive buffer makes (tcp_win_from_space): Linux 6.x
// keeps scaling_ratio, the payload share of a received buffer's memory
// (len << 8 / truesize of the last full-sized segment), starting at half.
// A vnic segment's memory is reckoned as Linux's page-fragment buffers
// would hold it — the payload plus an skb's fixed overhead — not as the
// stack's pool class, which would halve every window.
const (
	defaultScalingRatio = 128 // TCP_DEFAULT_SCALING_RATIO
	skbOverhead         = 832 // SKB_TRUESIZE's sk_buff and skb_shared_info
)

func (sk *Sock) winFromSpace(space int) int {
	if space < 0 {
		return 0
	}
	return space * int(sk.ratio()) >> 8
}

func (sk *Sock) ratio() uint32 {
	if sk.scalingRatio == 0 {
		return defaultScalingRatio
	}
	return sk.scalingRatio
}

// measureRatio updates scaling_ratio from a received segment of n bytes
// (tcp_measure_rcv_mss).
func (sk *Sock) measureRatio(n int) {
	if n > 0 && uint32(n) >= sk.rcvMSS {
		sk.scalingRatio = max(uint32(n<<8/(n+skbOverhead)), 1)
	}
}

// fullSpace is tcp_full_space: the window the whole receive buffer makes.
func (sk *Sock) fullSpace() int { return sk.winFromSpace(sk.rcvbuf) }

// freeSpace is tcp_space: the window what is unread leaves.
func (sk *Sock) freeSpace() int { return sk.winFromSpace(sk.rcvbuf - sk.rmemAlloc()) }

// rmemAlloc is sk_rmem_alloc: the memory of the data queued for the
// user and out of order, at the scaling ratio.
func (sk *Sock) rmemAlloc() int {
	n := sk.rq.Len()
	for _, o := range sk.ooo {
		n += len(o.data)
	}
	return n << 8 / int(sk.ratio())
}

// selectInitialWindow is tcp_select_initial_window: the first window
// (a multiple of mss, at most 65535) and the shift to announce.
func (sk *Sock) selectInitialWindow(space int, mss uint32, wscaleOK bool, initRwnd uint32) (rcvWnd, clamp uint32, wscale uint8) {
	clamp = sk.winClamp
	if clamp == 0 {
		clamp = maxWindow << maxWscale
	}
	sp := uint32(max(space, 0))
	sp = min(sp, clamp)
	if sp > mss {
		sp = sp / mss * mss
	}
	rcvWnd = min(sp, maxWindow)
	if initRwnd != 0 {
		rcvWnd = min(rcvWnd, initRwnd*mss)
	}
	if wscaleOK {
		cfg := sk.p.conf()
		s := max(sp, uint32(cfg.Rmem[2]), uint32(cfg.RmemMax))
		s = min(s, clamp)
		w := bits.Len32(s) - 1 - 15
		wscale = uint8(min(max(w, 0), maxWscale))
	}
	clamp = min(clamp, maxWindow<<wscale)
	return rcvWnd, clamp, wscale
}

// selectWindow is tcp_select_window: the window to advertise now,
// never shrinking the one advertised before, scaled for the header.
func (sk *Sock) selectWindow() uint16 {
	cur := sk.receiveWindow()
	nw := sk.computeWindow()
	if nw < cur {
		nw = alignUp(cur, 1<<sk.rcvWscale)
	}
	sk.rcvWnd = nw
	sk.rcvWup = sk.rcvNxt
	nw = min(nw, maxWindow<<sk.rcvWscale)
	nw >>= sk.rcvWscale
	if nw == 0 {
		sk.p.Stats.ExtTCPToZeroWindowAdv.Add(1)
	}
	return uint16(nw)
}

func alignUp(x, a uint32) uint32 { return (x + a - 1) &^ (a - 1) }

// receiveWindow is tcp_receive_window: what is left of the window last
// advertised.
func (sk *Sock) receiveWindow() uint32 {
	w := int32(sk.rcvWup + sk.rcvWnd - sk.rcvNxt)
	if w < 0 {
		return 0
	}
	return uint32(w)
}

// computeWindow is __tcp_select_window.
func (sk *Sock) computeWindow() uint32 {
	mss := int(sk.rcvMSS)
	free := sk.freeSpace()
	allowed := sk.fullSpace()
	full := min(int(sk.winClamp), allowed)
	if mss > full {
		mss = full
		if mss <= 0 {
			return 0
		}
	}
	if free < full>>1 {
		sk.quick = 0
		free = free &^ (1<<sk.rcvWscale - 1)
		if free < allowed>>4 || free < mss {
			return 0
		}
	}
	if free > int(sk.rcvSsthr) {
		free = int(sk.rcvSsthr)
	}
	if sk.rcvWscale != 0 {
		return alignUp(uint32(max(free, 0)), 1<<sk.rcvWscale)
	}
	win := int(sk.rcvWnd)
	switch {
	case mss <= 0:
		win = free
	case win <= free-mss || win > free:
		win = free / mss * mss
	case mss == full && free > win+full>>1:
		win = free
	}
	return uint32(max(win, 0))
}

// headerOptions is what an established segment carries: timestamps and
// SACK blocks (tcp_established_options).
func (sk *Sock) estOptions(buf []byte) []byte {
	o := header.TCPOptions{}
	if sk.tsOK {
		o.TS, o.TSVal, o.TSEcr = true, sk.tsNow(), sk.tsRecent
	}
	if sk.sackOK {
		n := 0
		if sk.dsack {
			o.SACK[0] = header.SACKBlock{Start: sk.dupSACK[0], End: sk.dupSACK[1]}
			n = 1
		}
		for _, b := range sk.selAcks {
			if n == len(o.SACK) {
				break
			}
			o.SACK[n] = b
			n++
		}
		o.NumSACK = n
	}
	return header.AppendTCPOptions(buf[:0], &o, header.TCPOptionsEstablished)
}

// tsNow is the timestamp clock (tcp_time_stamp_ts: milliseconds) plus
// the connection's offset.
func (sk *Sock) tsNow() uint32 { return uint32(sk.now().Milliseconds()) + sk.tsOffset }

// mtuToMSS is tcp_mtu_to_mss: the payload a segment of the path MTU
// carries, at most the peer's MSS, less the options every segment has.
func (sk *Sock) mtuToMSS(pmtu int) uint32 {
	mss := pmtu - ipv4.IPv4HdrLen - header.TCPMinHeaderLen
	if sk.mssClamp != 0 && mss > int(sk.mssClamp) {
		mss = int(sk.mssClamp)
	}
	if sk.tsOK {
		mss -= 12
	}
	return uint32(max(mss, minSndMSS))
}

// syncMSS is tcp_sync_mss: the send MSS for a path MTU, bounded by half
// the largest window the peer offered (tcp_bound_to_half_wnd).
func (sk *Sock) syncMSS(pmtu int) uint32 {
	sk.pmtu = pmtu
	mss := sk.mtuToMSS(pmtu)
	if sk.maxWindow != 0 {
		half := sk.maxWindow / 2
		if sk.maxWindow <= 536 {
			half = sk.maxWindow
		}
		if half > 68 && mss > half {
			mss = half
		}
	}
	sk.mssCache = mss
	return mss
}

// canGSO is sk_can_gso for the route's device: GSO (in software, or
// TSO in the device) builds segments of many MSS.
func (sk *Sock) canGSO() bool {
	rt := sk.route()
	if rt == nil || rt.Dev == nil {
		return false
	}
	f := rt.Dev.Features()
	return f&(ethtool.GSO|ethtool.TSO) != 0 && f&ethtool.SG != 0
}

// sizeGoal is tcp_xmit_size_goal: how big a segment sendmsg builds — one
// MSS, or with GSO the device's 64 KiB bounded by half the peer's largest
// window (tcp_bound_to_half_wnd), in whole MSS. TSO autosizing cuts it
// later, when it is sent.
func (sk *Sock) sizeGoal() uint32 {
	mss := sk.mssCache
	if !sk.canGSO() {
		return mss
	}
	goal := uint32(gsoMaxSize - 1 - header.TCPMaxHeaderLen - ipv4.IPv4HdrLen)
	if cut := sk.maxWindow; cut != 0 {
		if cut > defaultMSS {
			cut /= 2
		}
		goal = min(goal, max(cut, 68-header.TCPMinHeaderLen))
	}
	if goal < mss {
		return mss
	}
	return goal / mss * mss
}

// tsoSegs is tcp_tso_segs / tcp_tso_autosize: about a millisecond of
// data at the pacing rate, at least tcp_min_tso_segs.
func (sk *Sock) tsoSegs() uint32 {
	minSegs := uint32(sk.p.conf().MinTSOSegs)
	rate := sk.pacingRate()
	bytes := rate >> 10 // sk_pacing_shift 10: ~1 ms
	segs := uint32(bytes) / max(sk.mssCache, 1)
	return min(max(segs, minSegs), gsoMaxSize/max(sk.mssCache, 1))
}

// pacingRate is tcp_update_pacing_rate: cwnd*mss per srtt, scaled by
// tcp_pacing_ss_ratio in slow start and tcp_pacing_ca_ratio after; in
// bytes per second.
func (sk *Sock) pacingRate() uint64 {
	cfg := sk.p.conf()
	rate := uint64(sk.mssCache) * 1e6 // per µs of srtt below
	ratio := cfg.PacingCARatio
	if sk.cwnd < sk.ssthresh/2 {
		ratio = cfg.PacingSSRatio
	}
	rate = rate * uint64(ratio) / 100
	rate *= uint64(max(sk.cwnd, sk.packetsOutCount()))
	if us := sk.srtt.Microseconds(); us > 0 {
		rate /= uint64(us)
	} else {
		rate /= 1000 // no RTT yet: Linux's srtt of 1 ms
	}
	return rate
}

func (sk *Sock) packetsOutCount() uint32 { return uint32(sk.packetsOut()) }

// queueData is the copy part of tcp_sendmsg: b joins the tail segment
// while it is unsent and under the size goal, else new segments;
// PSH marks the end of the write unless MSG_MORE; then tcp_push.
func (sk *Sock) queueData(b []byte, more, oob bool) int {
	goal := sk.sizeGoal()
	copied := 0
	for copied < len(b) {
		n := len(sk.wq)
		var t *txSeg
		if n > sk.sendHead && sk.wq[n-1].flags&(header.TCPSyn|header.TCPFin) == 0 && sk.wq[n-1].dataLen() < goal {
			t = &sk.wq[n-1] // tcp_skb_can_collapse_to: the tail takes more
		} else {
			// A new segment needs room in the send buffer
			// (sk_stream_memory_free); the one being filled may overshoot.
			if sk.wmemQueued() >= sk.sndbuf {
				break
			}
			sk.wq = append(sk.wq, txSeg{seq: sk.writeSeq, end: sk.writeSeq, flags: header.TCPAck})
			t = &sk.wq[len(sk.wq)-1]
		}
		k := min(len(b)-copied, int(goal-t.dataLen()))
		sk.sndData.Write(b[copied : copied+k])
		t.end += uint32(k)
		sk.writeSeq += uint32(k)
		copied += k
		if copied == len(b) || t.dataLen() < goal {
			continue
		}
		if sk.forcedPush() {
			sk.markPush()
			sk.writeXmitN(true, 0)
		} else if len(sk.wq)-1 == sk.sendHead {
			sk.writeXmitN(true, 1) // tcp_push_one
		}
	}
	if copied > 0 {
		// tcp_push: PSH at the end of the write unless MSG_MORE, and at
		// a send buffer that ran out (the caller's next write waits).
		if !more || copied < len(b) || sk.forcedPush() {
			sk.markPush()
		}
		if oob {
			sk.sndUp = sk.writeSeq // tcp_mark_urg
		}
		sk.pushPending(false)
	}
	return copied
}

// wmemQueued is sk_wmem_queued: the memory of the write queue, each
// segment charged its payload and an skb's fixed overhead.
func (sk *Sock) wmemQueued() int { return sk.sndData.Len() + len(sk.wq)*skbOverhead }

// writeable is __sk_stream_is_writeable: free room in the send buffer of
// at least half what is queued — when a blocked writer wakes and poll
// reports POLLOUT.
func (sk *Sock) writeable() bool {
	return sk.sndbuf-sk.wmemQueued() >= sk.wmemQueued()/2
}

// forcedPush is forced_push: more than half the peer's largest window
// written since the last push.
func (sk *Sock) forcedPush() bool { return after(sk.writeSeq, sk.pushedSeq+sk.maxWindow/2) }

// markPush is tcp_mark_push: the tail segment gets PSH.
func (sk *Sock) markPush() {
	if n := len(sk.wq); n > sk.sendHead {
		sk.wq[n-1].flags |= header.TCPPsh
		sk.pushedSeq = sk.writeSeq
	}
}

// pushPending is tcp_push_pending_frames: send what the windows allow;
// fin forces the last partial segment out (a FIN is never held back).
func (sk *Sock) pushPending(fin bool) {
	if sk.state == Closed || sk.state == Listen || sk.state == SynSent {
		return
	}
	if !sk.writeXmit(fin || sk.noDelay) && sk.packetsOut() == 0 && sk.sendHead < len(sk.wq) {
		sk.armProbe() // tcp_check_probe_timer
	}
}

// writeXmit is tcp_write_xmit: the unsent segments go out while the
// congestion window has room and the peer's window takes them, each
// cut to what both allow; Nagle holds back a small segment while
// earlier data is unacked, unless nonagle. It reports whether it sent.
func (sk *Sock) writeXmit(nonagle bool) bool { return sk.writeXmitN(nonagle, 0) }

// writeXmitN is tcp_write_xmit sending at most max segments (0: no
// limit; 1: tcp_push_one).
func (sk *Sock) writeXmitN(nonagle bool, max int) bool {
	sent, limited, sentSegs := false, false, 0
	mss := sk.mssCache
	for n := 0; sk.sendHead < len(sk.wq) && (max == 0 || n < max); n++ {
		s := &sk.wq[sk.sendHead]
		inFlight := sk.inFlight()
		quota := int(sk.cwnd) - inFlight
		if quota <= 0 && s.flags&header.TCPFin == 0 || quota <= 0 && s.dataLen() > 0 {
			limited = true
			break
		}
		if sk.canGSO() {
			if missing := min(quota, int(sk.tsoSegs()))*int(mss) - int(s.dataLen()); missing > 0 {
				sk.growSeg(sk.sendHead, uint32(missing))
			}
		}
		// The peer's window (tcp_snd_wnd_test): the segment's first MSS
		// must fit.
		end := s.seq + min(s.dataLen(), mss)
		if s.dataLen() > 0 && after(end, sk.sndWndEnd()) {
			break
		}
		limit := uint32(quota) * mss
		if w := sk.sndWndEnd() - s.seq; limit > w {
			limit = w / mss * mss
			if limit == 0 {
				limit = w
			}
		}
		if !sk.canGSO() {
			limit = min(limit, mss)
		} else {
			limit = min(limit, sk.tsoSegs()*mss)
		}
		// Nagle looks at the queue's last segment only: the ones before
		// it go out whole (tcp_write_xmit's TCP_NAGLE_PUSH).
		last := sk.sendHead == len(sk.wq)-1
		// TCP_CORK holds it even with TCP_NODELAY (TCP_NAGLE_CORK).
		// Nor urgent data (tcp_nagle_test's tcp_urg_mode).
		if last && s.dataLen() < mss && s.flags&header.TCPFin == 0 && !sk.urgMode() && (sk.cork || !nonagle && !sk.nagleOK(s)) {
			break
		}
		if s.dataLen() > limit {
			sk.fragment(sk.sendHead, limit)
			s = &sk.wq[sk.sendHead]
		}
		sk.transmit(sk.sendHead, false)
		sk.sndNxt = s.end
		if s.dataLen() < mss {
			sk.sndSml = s.end // tcp_minshall_update
		}
		sk.sendHead++
		sent = true
		sentSegs += s.pc
	}
	if sent {
		if sk.inCwndReduction() {
			sk.prr.out += sentSegs
		}
		sk.armRetransmitIfIdle()
	}
	sk.cwndValidate(limited)
	return sent
}

// nagleOK is tcp_nagle_test for a segment under an MSS: it may go when
// corking is off and nothing small is unacked (tcp_nagle_check with
// TCP_NAGLE_OFF unset).
func (sk *Sock) nagleOK(s *txSeg) bool {
	if sk.cork {
		return false
	}
	if s.flags&header.TCPFin != 0 {
		return true
	}
	// Minshall's variant (tcp_minshall_check): a small segment waits
	// only while an earlier small one is unacked.
	return sk.packetsOut() == 0 || !after(sk.sndSml, sk.sndUna)
}

// cwndValidate is tcp_cwnd_validate after a send: whether the window,
// not the application, held data back, and the largest flight of the
// window, which slow start may double.
func (sk *Sock) cwndValidate(limited bool) {
	limited = limited || sk.inFlight() >= int(sk.cwnd)
	if !before(sk.sndUna, sk.cwndUsageSeq) || limited || sk.packetsOut() > sk.maxPktsOut {
		sk.maxPktsOut = sk.packetsOut()
		sk.cwndUsageSeq = sk.sndNxt
		sk.cwndLimitedFlag = limited
	}
}

// growSeg is tcp_grow_skb (Linux 6.10): before the unsent segment i goes
// out it takes up to amount bytes from the segment after it, so a TSO
// packet is as big as the window allows rather than as the writes cut
// the queue; a segment it empties is unlinked, its end (a FIN) and flags
// joining segment i.
func (sk *Sock) growSeg(i int, amount uint32) {
	if i+1 >= len(sk.wq) {
		return
	}
	s, next := &sk.wq[i], &sk.wq[i+1]
	if s.flags&(header.TCPSyn|header.TCPFin) != 0 || next.flags&header.TCPSyn != 0 {
		return
	}
	n := min(amount, next.dataLen())
	if n == 0 {
		return
	}
	s.end += n
	next.seq += n
	if next.dataLen() == 0 {
		s.end = next.end
		s.flags |= next.flags
		sk.wq = slices.Delete(sk.wq, i+1, i+2)
	}
}

// fragment is tso_fragment: segment i is cut at limit bytes; the first
// part loses FIN and PSH, which stay with the rest.
func (sk *Sock) fragment(i int, limit uint32) {
	s := sk.wq[i]
	first := s
	first.end = s.seq + limit
	first.flags &^= header.TCPFin | header.TCPPsh
	rest := s
	rest.seq = first.end
	rest.pc = 0
	sk.wq = append(sk.wq, txSeg{})
	copy(sk.wq[i+2:], sk.wq[i+1:])
	sk.wq[i], sk.wq[i+1] = first, rest
	if s.sent {
		// Both parts keep the marks; the weights follow the cut.
		sk.repc(&sk.wq[i], sk.segPcount(first.dataLen()))
		r := &sk.wq[i+1]
		pc := sk.segPcount(r.dataLen())
		r.pc = pc
		sk.pktsOut += pc
		for _, f := range [...]uint8{sackAcked, sackLost, sackRetrans} {
			if r.sacked&f != 0 {
				*sk.counterOf(f) += pc
			}
		}
	}
}

// transmit is tcp_transmit_skb for write-queue segment i: header,
// options, window, the payload from the send buffer, off to IPv4.
func (sk *Sock) transmit(i int, retrans bool) {
	s := &sk.wq[i]
	now := sk.now()
	s.sentAt = now
	if !s.sent {
		s.firstTx = now
		s.sent = true
		sk.sentNew(s, sk.segPcount(s.dataLen()))
	}
	var data, data2 []byte
	if n := s.dataLen(); n > 0 {
		start := s.seq
		if s.flags&header.TCPSyn != 0 {
			start++
		}
		data, data2 = sk.sndData.Slices(int(start-sk.sndBufSeq), int(n))
	}
	dlen := len(data) + len(data2)
	flags := s.flags
	seq := s.seq
	var ob [40]byte
	var opts []byte
	if flags&header.TCPSyn != 0 {
		opts = sk.synOptions(ob[:0])
	} else {
		opts = sk.estOptions(ob[:])
	}
	segs := 1
	if mss := sk.mssCache; uint32(dlen) > mss {
		segs = (dlen + int(mss) - 1) / int(mss)
	}
	if segs > 1 && flags&header.TCPSyn == 0 {
		// __tcp_transmit_skb (Linux 5.4+): every TSO packet of more than
		// one segment carries PSH, for the receiver's GRO to flush; the
		// queued segment keeps its own flags.
		flags |= header.TCPPsh
	}
	sk.sendSegment(seq, flags, data, data2, opts, segs)
	if retrans {
		sk.totalRetx += segs
		sk.bytesRetrans += uint64(dlen)
		s.retrans++
		if s.flags&header.TCPSyn != 0 {
			sk.p.Stats.ExtTCPSynRetrans.Add(1)
		}
		s.sacked |= everRetrans
		sk.p.Stats.RetransSegs.Add(uint64(segs))
	}
	sk.dataSegsOut += uint64(segs)
	sk.bytesSent += uint64(dlen)
}

// sendSegment builds and sends one segment (or a GSO packet of segs
// segments) of the connection, with the ACK and window every segment
// but a SYN carries.
func (sk *Sock) sendSegment(seq uint32, flags uint8, data, data2, opts []byte, segs int) {
	rt := sk.route()
	if rt == nil {
		return
	}
	hl := header.TCPMinHeaderLen + len(opts)
	in := sk.p.in
	dlen := len(data) + len(data2)
	skb := in.Host().Pool().Alloc(ipv4.LLReserve + ipv4.IPv4HdrLen + hl + dlen)
	if skb == nil {
		return
	}
	skb.Reserve(ipv4.LLReserve + ipv4.IPv4HdrLen)
	b := skb.Put(hl + dlen)
	th := header.TCP(b)
	th.SetSrcPort(sk.lport)
	th.SetDstPort(sk.rport)
	th.SetSeq(seq)
	th.SetHeaderLen(hl)
	tos := sk.tos
	if flags&header.TCPSyn == 0 {
		tos |= sk.ecnSend(seq, dlen, &flags)
	}
	if flags&header.TCPSyn != 0 && flags&header.TCPAck == 0 {
		th.SetAck(0)
		th.SetWindow(uint16(min(sk.rcvWnd, maxWindow)))
	} else {
		flags |= header.TCPAck
		th.SetAck(sk.rcvNxt)
		if flags&header.TCPSyn != 0 {
			th.SetWindow(uint16(min(sk.rcvWnd, maxWindow))) // a SYN's window is never scaled
		} else {
			th.SetWindow(sk.selectWindow())
		}
		sk.ackSent()
	}
	urg, isUrg := sk.urgPointer(seq)
	if isUrg {
		flags |= header.TCPUrg
	}
	th.SetFlags(flags)
	th.SetUrgent(urg)
	copy(b[header.TCPMinHeaderLen:], opts)
	copy(b[hl+copy(b[hl:], data):], data2)
	in.Host().CPUs()[0].ChargeCopy(dlen)
	th.SetChecksum(0)
	sum := header.PseudoHeaderIPv4(sk.laddr, sk.raddr, ipv4.IPProtoTCP, uint16(len(b)))
	if rt.Dev != nil && rt.Dev.Features()&(ethtool.IPCsum|ethtool.HWCsum) != 0 {
		// CHECKSUM_PARTIAL: the pseudo-header sum in the field, the
		// rest for the device (or for validate, in software).
		th.SetChecksum(header.Fold(sum))
		skb.SetPartial(0, header.TCPChecksumOffset)
	} else {
		th.SetChecksum(^header.Fold(header.Sum(b, sum)))
	}
	if segs > 1 {
		skb.GSOSize = uint16(sk.mssCache)
		skb.GSOType = stack.GSOTCPv4
	}
	sk.segsOut += uint64(segs)
	sk.lastSnd = sk.now()
	sk.p.Stats.OutSegs.Add(uint64(segs))
	id := sk.ipID
	sk.ipID += uint16(segs)
	// A segment of the socket is the socket's; TIME-WAIT's ACKs are the
	// host's (Linux sends them from its control socket, with no owner).
	var owner *stack.SockOwner
	if sk.state != TimeWait {
		owner = &sk.owner
	}
	in.QueueXmit(rt, ipv4.IPHeader{Src: sk.laddr, Dst: sk.raddr, Proto: ipv4.IPProtoTCP, TOS: tos,
		TTL: sk.ipTTL(), DF: true, Connected: true, ID: id, Owner: owner}, skb, 0)
}

func (sk *Sock) ipTTL() uint8 {
	if sk.ttl != 0 {
		return sk.ttl
	}
	return sk.p.in.Config().DefaultTTL
}

// sendAck is tcp_send_ack: a bare ACK at snd_nxt.
func (sk *Sock) sendAck() {
	if sk.state == Closed || sk.state == Listen {
		return
	}
	var ob [40]byte
	sk.sendSegment(sk.sndNxt, header.TCPAck, nil, nil, sk.estOptions(ob[:]), 1)
}

// sendActiveReset is tcp_send_active_reset: RST|ACK at snd_nxt.
func (sk *Sock) sendActiveReset() {
	sk.p.Stats.OutRsts.Add(1)
	var ob [40]byte
	sk.sendSegment(sk.sndNxt, header.TCPRst|header.TCPAck, nil, nil, sk.estOptions(ob[:]), 1)
}

// ackSent is tcp_event_ack_sent: a pending delayed ACK is done with.
func (sk *Sock) ackSent() {
	sk.ackPending = false
	if sk.ackTimer {
		sk.timers.delack.Stop()
		sk.ackTimer = false
	}
	sk.dsack = false
	if sk.quick > 0 {
		sk.quick--
	}
}
