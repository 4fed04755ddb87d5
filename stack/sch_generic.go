package stack

import (
	"math/bits"
	"time"
)

// A device transmits through its default queueing, pfifo_fast in each TX
// queue (mq over them when it has several, noqueue for the loopback), until
// a root qdisc is grafted in their place (tc qdisc add dev D root KIND).
// A grafted root is one Qdisc for the whole device, as Linux grafts one
// root on every TX queue of a multiqueue device: dev_queue_xmit enqueues
// on it, and qdisc_run hands what it dequeues to the TX queue the packet
// was mapped to. There the queue's own bands serve as the driver's side
// of the hand-over (what sch_direct_xmit requeues): they hold at most what
// one run dequeued, and what the driver refused.

// Qdisc is struct Qdisc for a root qdisc grafted on a device: its handle,
// its lock, its statistics, its requeued packet (gso_skb), its watchdog
// (qdisc_watchdog) and its kind's algorithm (Qdisc_ops).
type Qdisc struct {
	dev    *NetDevice
	handle uint32
	ops    qdiscOps

	mu       mutex // the qdisc's root lock
	running  bool  // qdisc_run_begin: one CPU dequeues at a time
	dead     bool  // ungrafted: the watchdog and a late run do nothing
	requeued *SKB  // dev_requeue_skb's packet: its TX queue was stopped
	qlen     int   // sch->q.qlen: the packets the kind holds, requeued included
	backlog  int   // qstats.backlog: their bytes (qdisc_pkt_len)
	stats    QdiscStats
	batch    []*SKB // one run's dequeued packets, reused
	roomWait []func()

	watchdog Timer
	wdArmed  bool
	wdAt     time.Duration
}

// qdiscOps is Qdisc_ops: a kind's enqueue, dequeue and reset, called under
// the qdisc's lock.
type qdiscOps interface {
	kind() string
	// enqueue takes skb (its QueueMapping chosen) at now: nil when the
	// packet was taken or silently dropped (counted), errXmitDrop when
	// the kind refused it (NET_XMIT_DROP, the limit).
	enqueue(q *Qdisc, skb *SKB, now time.Duration) error
	// dequeue returns the next packet due at now, or nil having armed the
	// watchdog for the next one.
	dequeue(q *Qdisc, now time.Duration) *SKB
	// reset frees every packet held (qdisc_reset).
	reset(q *Qdisc)
	// full reports a queue at its limit (a refused sender waits for room).
	full(q *Qdisc) bool
}

// QdiscStats are a qdisc's counters (gnet_stats_basic, gnet_stats_queue).
type QdiscStats struct {
	Bytes, Packets              uint64 // dequeued towards the driver
	Drops, Overlimits, Requeues uint64
	Backlog, Qlen               uint64 // bytes and packets held now
}

// Qdisc handles (TC_H_*, include/uapi/linux/pkt_sched.h): the major number
// in the upper 16 bits.
const (
	TCHRoot     = 0xffffffff
	TCHUnspec   = 0
	TCHMajMask  = 0xffff0000
	TCHMinMask  = 0x0000ffff
	TCHIngress  = 0xfffffff1
	TCHAutoBase = 0x80000000 // qdisc_alloc_handle's range starts above it
)

// Kind returns the qdisc's kind ("netem").
func (q *Qdisc) Kind() string { return q.ops.kind() }

// Handle returns the qdisc's handle (major:0).
func (q *Qdisc) Handle() uint32 { return q.handle }

// Dev returns the device the qdisc is made for.
func (q *Qdisc) Dev() *NetDevice { return q.dev }

// Refcnt is what rtnetlink reports as tcm_info for a root qdisc: one
// reference per TX queue it is grafted on and the device's own.
func (q *Qdisc) Refcnt() int { return len(q.dev.txq) + 1 }

// Stats returns the qdisc's counters.
func (q *Qdisc) Stats() QdiscStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Backlog, s.Qlen = uint64(q.backlog), uint64(q.qlen)
	return s
}

func newQdisc(d *NetDevice, handle uint32, ops qdiscOps) *Qdisc {
	q := &Qdisc{dev: d, handle: handle, ops: ops, batch: make([]*SKB, 0, txQuota)}
	q.mu.off = d.host.clock.Virtual()
	cpu := d.host.cpus[d.txq[0].index%len(d.host.cpus)]
	fire := q.watchdogFire // one method value, not one a firing
	q.watchdog = d.host.clock.NewTimer(func() { cpu.RaiseTimer(fire) })
	return q
}

// Qdisc returns the root qdisc grafted on d, nil for its default queueing.
func (d *NetDevice) Qdisc() *Qdisc { return d.qdisc.Load() }

// GraftQdisc is qdisc_graft at the root: q (nil: the default queueing
// again) takes the device's traffic from now on. The old root and the
// packets every queueing held are freed, as dev_deactivate resets and
// qdisc_put destroys them (they are not counted as drops). It returns the
// old root (nil: it was the default).
func (d *NetDevice) GraftQdisc(q *Qdisc) *Qdisc {
	old := d.qdisc.Swap(q)
	if old != nil {
		old.mu.Lock()
		old.dead = true
		old.mu.Unlock()
		old.reset()
	}
	for _, t := range d.txq {
		t.purge()
	}
	return old
}

// purge frees what the queue's bands hold without counting drops
// (qdisc_reset of the default qdisc when a root is grafted).
func (q *TxQueue) purge() {
	q.mu.Lock()
	for b := range q.bands {
		for s := q.bands[b].Pop(); s != nil; s = q.bands[b].Pop() {
			s.Free()
		}
	}
	q.qlen = 0
	wait := q.takeRoomWaiters()
	q.mu.Unlock()
	for _, fn := range wait {
		fn()
	}
}

// reset is qdisc_reset: every packet freed, the watchdog cancelled.
func (q *Qdisc) reset() {
	q.mu.Lock()
	q.ops.reset(q)
	if q.requeued != nil {
		q.requeued.Free()
		q.requeued = nil
	}
	q.qlen, q.backlog = 0, 0
	q.wdArmed = false
	q.watchdog.Stop()
	wait := q.takeRoomWaiters()
	q.mu.Unlock()
	for _, fn := range wait {
		fn()
	}
}

// errXmitDrop is a packet the root qdisc refused (NET_XMIT_DROP): the
// sender sees the full qdisc's error.
var errXmitDrop = ErrXmitQueueFull

// xmit is __dev_xmit_skb for a root qdisc: enqueue, then run it unless the
// sender has more to come at once (XmitMore; KickTx runs it).
func (q *Qdisc) xmit(skb *SKB) error {
	more := skb.XmitMore
	q.mu.Lock()
	err := q.ops.enqueue(q, skb, q.dev.host.clock.Now())
	q.mu.Unlock()
	if !more {
		q.run()
	}
	return err
}

// txQuota is dev_tx_weight: the packets one run dequeues before it gives
// the CPU back (__qdisc_run's quota) and goes on in a later NET_TX.
const txQuota = 64

// run is qdisc_run with qdisc_restart: dequeue what is due, at most
// txQuota packets, and hand each to its TX queue, which sends them on to
// the driver. It stops when nothing is due (the watchdog brings it back),
// when a packet's queue is stopped (its wake does: the packet waits as the
// requeued one) or at the quota (NET_TX is raised again).
func (q *Qdisc) run() {
	q.mu.Lock()
	if q.running || q.dead {
		q.mu.Unlock()
		return
	}
	q.running = true
	dev := q.dev
	one := len(dev.txq) == 1
	batch := q.batch[:0]
	for len(batch) < txQuota {
		skb := q.requeued
		if skb != nil {
			if dev.txqOf(skb).Stopped() {
				break
			}
			q.requeued = nil
			q.qlen--
			q.backlog -= qdiscPktLen(skb)
		} else {
			if one && dev.txq[0].Stopped() {
				break // TCQ_F_ONETXQUEUE: nothing to dequeue for
			}
			if skb = q.ops.dequeue(q, dev.host.clock.Now()); skb == nil {
				break
			}
			if dev.txqOf(skb).Stopped() {
				// dev_requeue_skb: it goes first once its queue wakes.
				q.requeued = skb
				q.qlen++
				q.backlog += qdiscPktLen(skb)
				q.stats.Requeues++
				break
			}
		}
		batch = append(batch, skb)
	}
	more := len(batch) == txQuota
	q.mu.Unlock()

	// Each packet joins its queue's bands in order, then each queue that
	// got some sends them (with xmit_more between them).
	var dirty uint64 // TX queues touched, by index (at most 64 tracked)
	for i, skb := range batch {
		t := dev.txqOf(skb)
		t.mu.Lock()
		t.bands[prio2band[skb.Priority&15]].Push(skb)
		t.qlen++
		t.mu.Unlock()
		if t.index < 64 {
			dirty |= 1 << t.index
		} else {
			t.runBands()
		}
		batch[i] = nil
	}
	for dirty != 0 {
		i := bits.TrailingZeros64(dirty)
		dirty &^= 1 << i
		dev.txq[i].runBands()
	}

	q.mu.Lock()
	q.batch = batch[:0]
	q.running = false
	wait := q.takeRoomWaiters()
	q.mu.Unlock()
	for _, fn := range wait {
		fn()
	}
	if more {
		dev.txq[0].schedule()
	}
}

// txqOf is the TX queue skb was mapped to (the first if the mapping is
// out of range: the device lost queues meanwhile).
func (d *NetDevice) txqOf(skb *SKB) *TxQueue {
	if i := int(skb.QueueMapping); i < len(d.txq) {
		return d.txq[i]
	}
	return d.txq[0]
}

// watchdogSchedule is qdisc_watchdog_schedule_ns: the qdisc runs again at
// t (a timer already armed for t stays).
func (q *Qdisc) watchdogSchedule(t, now time.Duration) {
	if q.dead || (q.wdArmed && q.wdAt == t) {
		return
	}
	q.wdArmed, q.wdAt = true, t
	q.watchdog.Reset(t - now)
}

// watchdogFire is qdisc_watchdog: the hrtimer's handler raises NET_TX for
// the qdisc (__netif_schedule of its root).
func (q *Qdisc) watchdogFire() {
	q.mu.Lock()
	q.wdArmed = false
	dead := q.dead
	q.mu.Unlock()
	if !dead {
		q.dev.txq[0].schedule()
	}
}

// onRoom registers fn for when the full qdisc has room (see TxQueue.OnRoom).
func (q *Qdisc) onRoom(fn func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead || !q.ops.full(q) {
		return false
	}
	q.roomWait = append(q.roomWait, fn)
	return true
}

// takeRoomWaiters returns the waiters to run once there is room; the
// caller holds q.mu and runs them after releasing it.
func (q *Qdisc) takeRoomWaiters() []func() {
	if len(q.roomWait) == 0 || (!q.dead && q.ops.full(q)) {
		return nil
	}
	w := q.roomWait
	q.roomWait = nil
	return w
}

// qdiscPktLen is qdisc_pkt_len after qdisc_pkt_len_init: a GSO packet
// counts the headers of every segment it will become, as the wire will.
func qdiscPktLen(skb *SKB) int {
	n := skb.Len()
	if skb.GSOSize == 0 {
		return n
	}
	hdr := gsoHeaderLen(skb.Data())
	if hdr <= 0 || n <= hdr {
		return n
	}
	return n + (gsoSegs(skb, n, hdr)-1)*hdr
}

// gsoSegs is gso_segs, or (when the sender left it 0) the segments the
// payload makes, as qdisc_pkt_len_init computes them.
func gsoSegs(skb *SKB, n, hdr int) int {
	if skb.GSOSegs > 0 {
		return int(skb.GSOSegs)
	}
	mss := int(skb.GSOSize)
	return (n - hdr + mss - 1) / mss
}

// gsoHeaderLen is the Ethernet, IPv4 and TCP headers of a TCP/IPv4 frame
// (0 when it is not one).
func gsoHeaderLen(f []byte) int {
	if len(f) < EthHdrLen+20 {
		return 0
	}
	ihl := int(f[EthHdrLen]&0x0f) * 4
	if ihl < 20 || len(f) < EthHdrLen+ihl+20 {
		return 0
	}
	return EthHdrLen + ihl + int(f[EthHdrLen+ihl+12]>>4)*4
}

// DefaultQdiscKind is the kind of d's default queueing as rtnetlink shows
// it (dev->qdisc without a grafted root): noop while the device is down
// (no queueing attached), noqueue for the loopback, mq over pfifo_fast for
// a device with several TX queues in use, pfifo_fast otherwise.
func (d *NetDevice) DefaultQdiscKind() string {
	switch {
	case !d.IsUp():
		return "noop"
	case d.IsLoopback():
		return "noqueue"
	}
	if tx, _ := d.RealNumQueues(); tx > 1 {
		return "mq"
	}
	return "pfifo_fast"
}

// QdiscKind is the kind of d's root queueing: the grafted root's, else
// the default's (IFLA_QDISC).
func (d *NetDevice) QdiscKind() string {
	if q := d.Qdisc(); q != nil {
		return q.Kind()
	}
	return d.DefaultQdiscKind()
}

// PfifoStats returns the counters of TX queue q's pfifo_fast: what it
// handed to the driver, its drops and requeues, and what it holds.
func (q *TxQueue) PfifoStats() QdiscStats {
	q.mu.Lock()
	bl := 0
	for b := range q.bands {
		for s := q.bands[b].head; s != nil; s = s.next {
			bl += qdiscPktLen(s)
		}
	}
	n := q.qlen
	q.mu.Unlock()
	p, by, _ := q.Stats.Snapshot()
	return QdiscStats{Bytes: by, Packets: p, Drops: q.qdiscDrops.Load(), Requeues: q.requeues.Load(), Backlog: uint64(bl), Qlen: uint64(n)}
}

// Seed returns the host's seed (HostConfig.Seed): what its randomised
// disciplines draw from, so that a run in virtual time repeats.
func (h *Host) Seed() int64 { return h.cfg.Seed }
