package ipv4

import (
	"slices"
	"sync"
	"vnic/header"
	"vnic/stack"
)

// Reassembly users (IP_DEFRAG_*): queues of different users never mix.
const (
	defragLocalDeliver = 0
	defragCallRA       = 1
)

// fragKey identifies a datagram's fragments: source, destination, ID,
// protocol and the user (Linux's key without a VRF). The arrival
// interface is not part of it (seed-B U-5).
type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
	user     uint8
}

// fragQueue is struct ipq: one datagram's fragments sorted by offset.
type fragQueue struct {
	key         fragKey
	frags       []*stack.SKB // data at the IP header; fragOff/fragEnd in payload bytes
	len, meat   int
	first, last bool
	dead        bool
	truesize    int
	maxSize     int // the largest fragment (frag_max_size)
	maxDFSize   int // the largest fragment with DF
	ecn         uint8
	seq         uint64 // creation order, for eviction
	timer       stack.Timer
	iif         int
}

// fragTable is a namespace's reassembly state (struct fqdir).
type fragTable struct {
	in     *Inet
	mu     sync.Mutex
	queues map[fragKey]*fragQueue
	mem    int
	seq    uint64
}

func (t *fragTable) init(in *Inet) {
	t.in = in
	t.queues = map[fragKey]*fragQueue{}
}

// ECN bits of the fragments seen (ip4_frag_ecn): one bit per codepoint.
const (
	ecnNotECT = 1 << 0
	ecnECT1   = 1 << 1
	ecnECT0   = 1 << 2
	ecnCE     = 1 << 3
)

// fragECN maps the set of codepoints to the reassembled datagram's ECN
// (ip_frag_ecn_table): 0xff means the mix is invalid (Not-ECT with ECT
// or CE: RFC 3168 says drop); CE with ECT makes CE.
func fragECN(set uint8) uint8 {
	switch {
	case set&ecnNotECT != 0 && set != ecnNotECT:
		return 0xff
	case set&ecnCE != 0:
		return 3
	}
	return 0
}

// Mem returns the bytes held by reassembly queues.
func (in *Inet) FragMem() int {
	in.frags.mu.Lock()
	defer in.frags.mu.Unlock()
	return in.frags.mem
}

// FragQueues returns the number of reassembly queues.
func (in *Inet) FragQueues() int {
	in.frags.mu.Lock()
	defer in.frags.mu.Unlock()
	return len(in.frags.queues)
}

// defrag is ip_defrag: skb (data at its IP header) joins its datagram's
// queue; the reassembled datagram is returned when the first and last
// fragments are in and no byte is missing, nil otherwise (the skb is held
// or dropped).
func (in *Inet) defrag(skb *stack.SKB, user uint8) *stack.SKB {
	t := &in.frags
	in.Stats.ReasmReqds.Add(1)
	iph := header.IPv4(skb.Data())
	key := fragKey{src: iph.Src(), dst: iph.Dst(), id: iph.ID(), proto: iph.Protocol(), user: user}
	t.mu.Lock()
	if t.mem > in.cfg.FragHigh {
		in.evictLocked()
	}
	q := t.queues[key]
	if q == nil {
		t.seq++
		q = &fragQueue{key: key, seq: t.seq}
		q.timer = in.host.Clock().NewTimer(func() { in.fragExpire(q) })
		q.timer.Reset(in.cfg.FragTime)
		t.queues[key] = q
	}
	out, drop := in.fragQueueLocked(q, skb)
	t.mu.Unlock()
	for _, s := range drop {
		s.Free()
	}
	return out
}

// fragQueueLocked is ip_frag_queue (and ip_frag_reasm when complete). It
// returns the datagram, or nil, and the skbs to free outside the lock.
func (in *Inet) fragQueueLocked(q *fragQueue, skb *stack.SKB) (*stack.SKB, []*stack.SKB) {
	t := &in.frags
	iph := header.IPv4(skb.Data())
	ihl := iph.HeaderLen()
	ff := iph.FlagsFrag()
	offset := int(ff&IPOffset) << 3
	end := offset + skb.Len() - ihl
	// discard_qp: the queue goes (ReasmFails); an overlap also counts
	// in ReasmOverlaps, as Linux's ip_frag_queue counts them.
	discard := func() (*stack.SKB, []*stack.SKB) {
		in.Stats.ReasmFails.Add(1)
		return nil, append(in.killLocked(q), skb)
	}
	if ff&IPMF == 0 {
		// The last fragment: nothing may lie beyond it, and it must
		// agree with an earlier last fragment.
		if end < q.len || (q.last && end != q.len) {
			return discard()
		}
		q.last = true
		q.len = end
	} else {
		if end&7 != 0 {
			end &^= 7
			if skb.IPSummed != stack.ChecksumUnnecessary {
				skb.IPSummed = stack.ChecksumNone
			}
		}
		if end > q.len {
			if q.last {
				return discard()
			}
			q.len = end
		}
	}
	if end == offset {
		return discard()
	}
	skb.Trim(ihl + end - offset)
	fragcb(skb).off, fragcb(skb).end = int32(offset), int32(end)
	// RFC 5722 (Linux ≥ 4.19 for IPv4 too): an exact duplicate is
	// dropped alone; any other overlap discards the whole queue.
	i, _ := slices.BinarySearchFunc(q.frags, offset, func(f *stack.SKB, off int) int { return int(fragcb(f).off) - off })
	if i < len(q.frags) && int(fragcb(q.frags[i]).off) == offset && int(fragcb(q.frags[i]).end) == end {
		return nil, []*stack.SKB{skb}
	}
	if (i > 0 && int(fragcb(q.frags[i-1]).end) > offset) || (i < len(q.frags) && int(fragcb(q.frags[i]).off) < end) {
		in.Stats.ReasmOverlaps.Add(1)
		return discard()
	}
	q.frags = slices.Insert(q.frags, i, skb)
	q.meat += end - offset
	if offset == 0 {
		q.first = true
	}
	q.iif = skb.Dev.Ifindex()
	q.ecn |= 1 << (iph.TOS() & 3)
	sz := skb.Len()
	q.maxSize = max(q.maxSize, sz)
	if ff&IPDF != 0 {
		q.maxDFSize = max(q.maxDFSize, sz)
	}
	ts := skb.Truesize()
	q.truesize += ts
	t.mem += ts
	if q.first && q.last && q.meat == q.len {
		return in.reasmLocked(q)
	}
	return nil, nil
}

// reasmLocked is ip_frag_reasm: the first fragment's header (with all its
// options) and every payload in order, total length set, offset and MF
// cleared (DF kept when the largest fragment had it), checksum
// recomputed. Over 65,535 bytes or an invalid ECN mix: dropped
// (ReasmFails).
func (in *Inet) reasmLocked(q *fragQueue) (*stack.SKB, []*stack.SKB) {
	head := q.frags[0]
	hlen := header.IPv4(head.Data()).HeaderLen()
	total := hlen + q.len
	ecn := fragECN(q.ecn)
	frags := in.killLocked(q)
	if total > 65535 || ecn == 0xff {
		in.Stats.ReasmFails.Add(1)
		return nil, frags
	}
	skb := in.host.Pool().Alloc(LLReserve + total)
	if skb == nil {
		in.Stats.ReasmFails.Add(1)
		return nil, frags
	}
	skb.Reserve(LLReserve)
	skb.CopyMeta(head)
	skb.IPSummed = stack.ChecksumNone
	b := skb.Put(total)
	copy(b[:hlen], head.Data()[:hlen])
	for _, f := range frags {
		d := f.Data()
		copy(b[hlen+int(fragcb(f).off):], d[header.IPv4(d).HeaderLen():])
	}
	in.host.CPUs()[0].ChargeCopy(total)
	iph := header.IPv4(b)
	iph.SetTotalLen(uint16(total))
	var ff uint16
	if q.maxDFSize == q.maxSize {
		ff = IPDF
		ipcb(skb).flags |= ipskbFragPMTU
	}
	header.IPv4(b).SetFlagsFrag(ff)
	if ecn == 3 {
		b[1] |= 3
	}
	iph.UpdateChecksum()
	skb.ResetNetworkHeader()
	skb.SetTransportHeader(hlen)
	ipcb(skb).fragMaxSize = uint16(q.maxSize)
	in.Stats.ReasmOKs.Add(1)
	return skb, frags
}

// killLocked is inet_frag_kill: the queue leaves the table, its timer
// stops and its memory is returned; the fragments are the caller's.
func (in *Inet) killLocked(q *fragQueue) []*stack.SKB {
	t := &in.frags
	if q.dead {
		return nil
	}
	q.dead = true
	q.timer.Stop()
	if t.queues[q.key] == q {
		delete(t.queues, q.key)
	}
	t.mem -= q.truesize
	q.truesize = 0
	f := q.frags
	q.frags = nil
	return f
}

// evictLocked is the evictor: the oldest queues go until the memory is
// at the low threshold, each counted as a reassembly failure.
func (in *Inet) evictLocked() []*stack.SKB {
	t := &in.frags
	var drop []*stack.SKB
	for t.mem > in.cfg.FragLow && len(t.queues) > 0 {
		var oldest *fragQueue
		for _, q := range t.queues {
			if oldest == nil || q.seq < oldest.seq {
				oldest = q
			}
		}
		drop = append(drop, in.killLocked(oldest)...)
		in.Stats.ReasmFails.Add(1)
	}
	for _, s := range drop {
		s.Free() // Free takes only the pool's lock
	}
	return nil
}

// fragExpire is ip_expire: the queue times out (ReasmFails, ReasmTimeout)
// and, if its first fragment arrived, the source hears time exceeded
// (fragment reassembly) quoting it.
func (in *Inet) fragExpire(q *fragQueue) {
	t := &in.frags
	t.mu.Lock()
	if q.dead {
		t.mu.Unlock()
		return
	}
	first := q.first
	frags := in.killLocked(q)
	t.mu.Unlock()
	in.Stats.ReasmFails.Add(1)
	in.Stats.ReasmTimeout.Add(1)
	if first && len(frags) > 0 && fragcb(frags[0]).off == 0 {
		head := frags[0]
		if SkbRtable(head) != nil && SkbRtable(head).Flags&RTCFLocal != 0 {
			in.ICMPSend(head, ICMPTimeExceeded, ICMPExcFragTime, 0)
		}
	}
	for _, s := range frags {
		s.Free()
	}
}
