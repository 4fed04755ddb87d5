package stack

import (
	"math/bits"
	"time"

	"vnic/ethtool"
	"vnic/header"
	"vnic/offload"
)

// netem's queue and its enqueue and dequeue (netem_enqueue, netem_dequeue).

// tfifo is netem's time-ordered queue: a heap on (time to send, arrival),
// so that packets due at the same time leave in the order they came, as
// the kernel's list-and-rbtree keeps them. Its slice grows to the most
// packets held and is reused: no allocation per packet after that.
type tfifo struct {
	h   []tfEntry
	seq uint64
	max time.Duration // the latest time to send held (valid while non-empty)
}

type tfEntry struct {
	t   time.Duration
	seq uint64
	skb *SKB
}

func (e *tfEntry) before(o *tfEntry) bool { return e.t < o.t || (e.t == o.t && e.seq < o.seq) }

func (f *tfifo) len() int { return len(f.h) }

// push is tfifo_enqueue.
func (f *tfifo) push(skb *SKB, t time.Duration) {
	if len(f.h) == 0 || t > f.max {
		f.max = t
	}
	f.seq++
	f.h = append(f.h, tfEntry{t, f.seq, skb})
	for j := len(f.h) - 1; j > 0; {
		i := (j - 1) / 2
		if !f.h[j].before(&f.h[i]) {
			break
		}
		f.h[i], f.h[j] = f.h[j], f.h[i]
		j = i
	}
}

// peek is netem_peek: the first packet due and its time.
func (f *tfifo) peek() (*SKB, time.Duration) {
	if len(f.h) == 0 {
		return nil, 0
	}
	return f.h[0].skb, f.h[0].t
}

// pop removes the first packet (netem_erase_head).
func (f *tfifo) pop() *SKB {
	s := f.h[0].skb
	last := len(f.h) - 1
	f.h[0] = f.h[last]
	f.h[last] = tfEntry{}
	f.h = f.h[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(f.h) {
			break
		}
		m := l
		if r := l + 1; r < len(f.h) && f.h[r].before(&f.h[l]) {
			m = r
		}
		if !f.h[m].before(&f.h[i]) {
			break
		}
		f.h[i], f.h[m] = f.h[m], f.h[i]
		i = m
	}
	return s
}

// reset is tfifo_reset: every packet freed.
func (f *tfifo) reset() {
	for i := range f.h {
		f.h[i].skb.Free()
		f.h[i] = tfEntry{}
	}
	f.h = f.h[:0]
}

// enqueue is netem_enqueue, its draws in the kernel's order (duplicate,
// loss, corrupt, then reorder and delay), so that a seed gives the
// kernel's decisions.
func (n *netem) enqueue(q *Qdisc, skb *SKB, now time.Duration) error {
	c := &n.cfg
	count := 1
	if c.Duplicate != 0 && n.depth == 0 && c.Duplicate >= n.dupCor.get(&n.prng) {
		count++
	}
	if n.lossEvent() {
		if c.ECN && setCE(skb) {
			q.stats.Drops++ // marked: netem counts it with the drops
		} else {
			count--
		}
	}
	if count == 0 {
		q.stats.Drops++
		skb.Free()
		return nil // NET_XMIT_SUCCESS | __NET_XMIT_BYPASS: the sender is not told
	}
	var dup *SKB
	if count > 1 {
		dup = copySKB(skb) // before the original is corrupted
	}
	var rest []*SKB
	if c.Corrupt != 0 && c.Corrupt >= n.corruptCor.get(&n.prng) {
		if skb.GSOSize > 0 {
			// netem_segment: a super-packet cannot be corrupted as one;
			// its first segment is, the others are enqueued after it.
			segs := n.segment(q, skb)
			if segs == nil {
				q.stats.Drops++
				skb = nil
				goto finish
			}
			skb, rest = segs[0], segs[1:]
		}
		if skb.IPSummed == ChecksumPartial && !checksumHelp(skb) {
			q.stats.Drops++
			skb.Free()
			skb = nil
			goto finish
		}
		if l := skb.Len(); l > 0 {
			skb.Data()[n.prng.below(uint32(l))] ^= 1 << n.prng.below(8)
		}
	}
	if q.qlen >= int(c.Limit) {
		// qdisc_drop_all: the packet and its segments, one drop counted.
		skb.Free()
		for _, s := range rest {
			s.Free()
		}
		if dup != nil {
			dup.Free()
		}
		q.stats.Drops++
		return errXmitDrop
	}
	if dup != nil {
		// The duplicate goes through the root (netem itself) first, and
		// is not duplicated again.
		n.depth++
		n.enqueue(q, dup, now)
		n.depth--
		dup = nil
	}
	n.enqueueOne(q, skb, now)
finish:
	if dup != nil {
		dup.Free()
	}
	if len(rest) > 0 {
		for _, s := range rest {
			if n.enqueue(q, s, now) != nil {
				q.stats.Drops++ // as the kernel counts a refused segment again
			}
		}
		clear(n.segs)
		n.segs = n.segs[:0]
		return nil
	}
	if skb == nil {
		return errXmitDrop
	}
	return nil
}

// enqueueOne places a packet netem keeps: at the head to be sent at once
// (one of every gap packets is reordered with the reorder probability),
// else in the tfifo at now plus the delay, behind the last packet and its
// serialisation time when a rate is set.
func (n *netem) enqueueOne(q *Qdisc, skb *SKB, now time.Duration) {
	c := &n.cfg
	l := qdiscPktLen(skb)
	q.backlog += l
	q.qlen++
	if c.Gap == 0 || n.counter < c.Gap-1 || c.Reorder < n.reorderCor.get(&n.prng) {
		delay := time.Duration(tabledist(int64(c.Latency), int64(c.Jitter), &n.delayCor, &n.prng, c.DelayDist))
		if c.Rate != 0 {
			if last, ok := n.lastTime(); ok {
				// The last packet's departure is the reference: what it
				// already waits counts against this one's delay.
				delay = max(0, delay-(last-now))
				now = last
			}
			delay += n.packetTime(l)
		}
		n.tfifo.push(skb, now+delay)
		n.counter++
		return
	}
	n.counter = 0
	if n.head.head == nil {
		n.headLast = now
	}
	n.head.PushFront(skb)
	q.stats.Requeues++
}

// lastTime is the latest time to send of the packets held (the reordered
// ones' oldest, the tfifo's latest).
func (n *netem) lastTime() (time.Duration, bool) {
	t, ok := time.Duration(0), false
	if n.head.head != nil {
		t, ok = n.headLast, true
	}
	if n.tfifo.len() > 0 && (!ok || n.tfifo.max > t) {
		t, ok = n.tfifo.max, true
	}
	return t, ok
}

// dequeue is netem_dequeue: reordered packets first, then the tfifo's
// first when it is due and the slot (if any) is open; otherwise the
// watchdog is armed for that time.
func (n *netem) dequeue(q *Qdisc, now time.Duration) *SKB {
	if skb := n.head.Pop(); skb != nil {
		return n.deliver(q, skb)
	}
	skb, t := n.tfifo.peek()
	if skb == nil {
		return nil
	}
	if n.slotOn && n.slotNext < t {
		n.nextSlot(now)
	}
	if t <= now && (!n.slotOn || n.slotNext <= now) {
		n.tfifo.pop()
		if n.slotOn {
			n.slotPackets--
			n.slotBytes -= int32(qdiscPktLen(skb))
			if n.slotPackets <= 0 || n.slotBytes <= 0 {
				n.nextSlot(now)
			}
		}
		return n.deliver(q, skb)
	}
	if n.slotOn {
		t = max(t, n.slotNext)
	}
	q.watchdogSchedule(t, now)
	return nil
}

// deliver accounts a packet leaving (qdisc_bstats_update).
func (n *netem) deliver(q *Qdisc, skb *SKB) *SKB {
	l := qdiscPktLen(skb)
	q.backlog -= l
	q.qlen--
	q.stats.Bytes += uint64(l)
	q.stats.Packets += uint64(qdiscPktSegs(skb))
	return skb
}

// nextSlot is get_slot_next: the next slot opens a uniform time in
// [min, max) from now (or a draw from the slot table), with a full
// allowance of packets and bytes.
func (n *netem) nextSlot(now time.Duration) {
	s := &n.cfg.Slot
	var next int64
	if len(n.cfg.SlotDist) == 0 {
		hi, lo := bits.Mul64(uint64(s.MaxDelay-s.MinDelay), uint64(n.prng.u32()))
		next = s.MinDelay + int64(hi<<32|lo>>32)
	} else {
		next = tabledist(s.DistDelay, int64(int32(s.DistJitter)), nil, &n.prng, n.cfg.SlotDist)
	}
	n.slotNext = now + time.Duration(next)
	n.slotPackets, n.slotBytes = s.MaxPackets, s.MaxBytes
}

// qdiscPktSegs is the packets a (GSO) packet counts for.
func qdiscPktSegs(skb *SKB) int {
	if skb.GSOSize == 0 {
		return 1
	}
	n, hdr := skb.Len(), gsoHeaderLen(skb.Data())
	if hdr <= 0 || n <= hdr {
		return 1
	}
	return gsoSegs(skb, n, hdr)
}

// copySKB is skb_clone for netem's duplicate: a copy of the packet and
// its metadata in a buffer of the same size (nil when it cannot be made:
// a chained datagram).
func copySKB(s *SKB) *SKB {
	if s.fragList != nil || s.pool == nil || s.class == nil {
		return nil
	}
	c := s.pool.allocClass(s.class)
	buf, home := c.buf, c.home
	copy(buf[:s.tail], s.buf[:s.tail])
	*c = *s
	c.buf, c.home, c.next, c.tapped = buf, home, nil, false
	c.wmem, c.wmemCharge = nil, 0 // a clone is not charged to the sender (skb_clone)
	return c
}

// setCE is INET_ECN_set_ce for an IPv4 frame: an ECN-capable packet is
// marked Congestion Experienced (its header checksum updated); it reports
// whether the packet is CE now.
func setCE(skb *SKB) bool {
	f := skb.Data()
	if len(f) < EthHdrLen+header.IPv4MinHeaderLen || header.Ethernet(f).Type() != EthPIPv4 {
		return false
	}
	ip := header.IPv4(f[EthHdrLen:])
	switch ip[1] & 3 {
	case 0:
		return false // not ECN-capable
	case 3:
		return true
	}
	ip[1] |= 3
	ip.UpdateChecksum()
	return true
}

// segment is netem_segment: a TCP/IPv4 super-packet cut into its segments
// in software (checksummed as the device's features want them), the
// original consumed; nil when it cannot be (it is dropped).
func (n *netem) segment(q *Qdisc, skb *SKB) []*SKB {
	h := q.dev.host
	data := skb.Data()
	if skb.GSOType != GSOTCPv4 || len(data) < EthHdrLen+40 {
		skb.Free()
		return nil
	}
	ip := header.IPv4(data[EthHdrLen:])
	if !ip.IsValid() || ip.Protocol() != header.ProtoTCP {
		skb.Free()
		return nil
	}
	th := header.TCP(ip[ip.HeaderLen():])
	if !th.IsValid() {
		skb.Free()
		return nil
	}
	ipLen, l4Len := ip.HeaderLen(), th.HeaderLen()
	th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoTCP, 0)))
	partial := q.dev.Features()&(ethtool.IPCsum|ethtool.HWCsum) != 0
	if n.scratch == nil {
		n.scratch = make([]byte, 65536+512)
	}
	out := n.segs[:0]
	_, res := offload.SegmentTCPv4(data, EthHdrLen, ipLen, l4Len, int(skb.GSOSize), partial, n.scratch, func(seg []byte) {
		s := h.pool.Alloc(len(seg) + NetIPAlign)
		s.Reserve(NetIPAlign)
		copy(s.Put(len(seg)), seg)
		s.ResetMACHeader()
		s.Dev, s.Protocol, s.Priority, s.Mark = skb.Dev, skb.Protocol, skb.Priority, skb.Mark
		s.QueueMapping, s.TxQueueSet, s.Hash, s.L4Hash = skb.QueueMapping, skb.TxQueueSet, skb.Hash, skb.L4Hash
		s.dst = skb.dst
		if partial {
			s.SetPartial(EthHdrLen+ipLen, header.TCPChecksumOffset)
		}
		out = append(out, s)
	})
	if res != offload.SegmentOK || len(out) == 0 {
		for _, s := range out {
			s.Free()
		}
		n.segs = out[:0]
		skb.Free()
		return nil
	}
	skb.Consume()
	n.segs = out
	return out
}
