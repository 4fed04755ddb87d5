package stack

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"time"
	"vnic/header"
)

// TxQueue is struct netdev_queue: a device TX queue with its pfifo_fast
// qdisc, its stopped state and its counters.
type TxQueue struct {
	dev   *NetDevice
	index int

	mu         mutex      // the qdisc and xmit lock
	bands      [3]SKBList // pfifo_fast: band 0 first
	qlen       int
	segs       []*SKB // validate_xmit's output, reused
	gsoScratch []byte // software GSO's segment buffer
	running    bool
	// A run's time (XmitNow), read at most once per run or given by the
	// sender that started it (under mu, while running).
	runAt    time.Duration
	runAtSet bool
	// roomWait are one-shot callbacks for senders that found the qdisc
	// full; they run once the qdisc has handed packets on or been flushed.
	roomWait []func()

	stopped    atomic.Bool
	transStart atomicDuration

	Stats      QueueStats // sent to the driver
	qdiscDrops Counter
	requeues   Counter
	timeouts   Counter
	wakeups    Counter
	stops      Counter
}

// SKBList is a FIFO of skbs linked through the skbs themselves (the
// qdisc's bands, the backlog, a socket's receive queue): no allocation.
type SKBList struct{ head, tail *SKB }

// Push appends s.

func (l *SKBList) Push(s *SKB) {
	s.next = nil
	if l.tail == nil {
		l.head, l.tail = s, s
	} else {
		l.tail.next = s
		l.tail = s
	}
}

// PushFront puts s first (a requeue).
func (l *SKBList) PushFront(s *SKB) {
	s.next = l.head
	l.head = s
	if l.tail == nil {
		l.tail = s
	}
}

// Pop removes and returns the first skb (nil when empty).
func (l *SKBList) Pop() *SKB {
	s := l.head
	if s != nil {
		l.head = s.next
		if l.head == nil {
			l.tail = nil
		}
		s.next = nil
	}
	return s
}

// prio2band is pfifo_fast's priority map (TC_PRIO_* → band).
var prio2band = [16]uint8{1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}

// Index returns the queue number.
func (q *TxQueue) Index() int { return q.index }

// Dev returns the device.
func (q *TxQueue) Dev() *NetDevice { return q.dev }

// Lock takes the queue's xmit lock (__netif_tx_lock): a driver resetting a
// ring holds it so start_xmit cannot run meanwhile.
func (q *TxQueue) Lock() { q.mu.Lock() }

// Unlock releases the xmit lock.
func (q *TxQueue) Unlock() { q.mu.Unlock() }

// Stop is netif_tx_stop_queue: the driver has too few descriptors left.
func (q *TxQueue) Stop() {
	if !q.stopped.Swap(true) {
		q.stops.Add(1)
	}
}

// Stopped is netif_xmit_stopped.
func (q *TxQueue) Stopped() bool { return q.stopped.Load() }

// Len is the packets waiting in the queue's qdisc.
func (q *TxQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.qlen
}

// Wake is netif_tx_wake_queue: clears the stopped state and schedules the
// qdisc to run in NET_TX on the CPU the queue maps to.
func (q *TxQueue) Wake() {
	if q.stopped.Swap(false) {
		q.wakeups.Add(1)
		q.schedule()
	}
}

// TxQueueCounters are a TX queue's core counters.
type TxQueueCounters struct {
	QdiscDrops, Requeues, Timeouts, Stops, Wakeups uint64
	Backlog                                        int
}

// Counters returns the queue's counters.
func (q *TxQueue) Counters() TxQueueCounters {
	q.mu.Lock()
	bl := q.qlen
	q.mu.Unlock()
	return TxQueueCounters{q.qdiscDrops.Load(), q.requeues.Load(), q.timeouts.Load(), q.stops.Load(), q.wakeups.Load(), bl}
}

// MarkTrans records that the driver made progress (txq_trans_update).
func (q *TxQueue) MarkTrans(now time.Duration) { q.transStart.store(now) }

// XmitNow is the time of the run that is calling start_xmit (only valid
// there, under the queue's lock): the clock as its sender read it, or
// read once for the run, so the driver does not read it again for its
// transmit start.
func (q *TxQueue) XmitNow() time.Duration {
	if !q.runAtSet {
		q.runAt, q.runAtSet = q.dev.host.clock.Now(), true
	}
	return q.runAt
}

func (q *TxQueue) cpu() *Softnet {
	sn := q.dev.host.sn
	return sn[q.index%len(sn)]
}

// schedule is __netif_schedule: put the queue on its CPU's output list.
func (q *TxQueue) schedule() {
	sn := q.cpu()
	sn.mu.Lock()
	for _, o := range sn.output {
		if o == q {
			sn.mu.Unlock()
			return
		}
	}
	sn.output = append(sn.output, q)
	sn.mu.Unlock()
	sn.cpu.RaiseSoftirq()
}

// txAction is NET_TX: run the qdiscs of woken queues.
func (s *Softnet) txAction() {
	for {
		s.mu.Lock()
		if len(s.output) == 0 {
			s.mu.Unlock()
			return
		}
		q := s.output[0]
		copy(s.output, s.output[1:])
		s.output = s.output[:len(s.output)-1]
		s.mu.Unlock()
		q.run()
	}
}

// Requeue puts skbs back at the head of the queue's qdisc, in order (the
// driver salvaging packets it had not sent, dev_requeue_skb); they are not
// subject to txqueuelen.
func (q *TxQueue) Requeue(skbs []*SKB) {
	if len(skbs) == 0 {
		return
	}
	q.mu.Lock()
	for i := len(skbs) - 1; i >= 0; i-- {
		s := skbs[i]
		s.XmitMore = false
		q.bands[prio2band[s.Priority&15]].PushFront(s)
		q.qlen++
	}
	q.mu.Unlock()
	q.requeues.Add(uint64(len(skbs)))
}

// OnRoom registers fn to run once when the full qdisc has room again: a
// sender that was refused with ErrXmitQueueFull waits instead of spinning.
// It reports false (and registers nothing) when there is room already.
func (q *TxQueue) OnRoom(fn func()) bool {
	if root := q.dev.qdisc.Load(); root != nil {
		return root.onRoom(fn)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.qlen < q.dev.TxQueueLen {
		return false
	}
	q.roomWait = append(q.roomWait, fn)
	return true
}

// takeRoomWaiters returns the waiters to run now that there is room; the
// caller holds q.mu and runs them after releasing it.
func (q *TxQueue) takeRoomWaiters() []func() {
	if len(q.roomWait) == 0 || q.qlen >= q.dev.TxQueueLen {
		return nil
	}
	w := q.roomWait
	q.roomWait = nil
	return w
}

// flush drops everything waiting in the qdisc (dev_deactivate, dev_close);
// the first queue's flush resets the device's root qdisc too (which
// counts no drops, as qdisc_reset counts none).
func (q *TxQueue) flush() {
	if root := q.dev.qdisc.Load(); root != nil && q.index == 0 {
		root.reset()
	}
	q.mu.Lock()
	var n uint64
	for b := range q.bands {
		for s := q.bands[b].Pop(); s != nil; s = q.bands[b].Pop() {
			s.Free()
			n++
		}
	}
	q.qlen = 0
	wait := q.takeRoomWaiters()
	q.mu.Unlock()
	for _, fn := range wait {
		fn()
	}
	q.qdiscDrops.Add(n)
	q.dev.txDropped.Add(n)
}

// Errors DevQueueXmit returns; they match the errno with errors.Is and are
// preallocated so that a refused packet costs no allocation.
var (
	ErrXmitDown      = fmt.Errorf("stack: xmit: device down: %w", syscall.ENETDOWN)
	ErrXmitNoCarrier = fmt.Errorf("stack: xmit: no carrier: %w", syscall.ENOBUFS)
	ErrXmitQueueFull = fmt.Errorf("stack: xmit: qdisc full: %w", syscall.ENOBUFS)
)

// DevQueueXmit is dev_queue_xmit: pick a TX queue, enqueue on its qdisc and
// run it. skb's data starts at the Ethernet header. It takes ownership of
// skb; an error says the packet was dropped (and counted).
func DevQueueXmit(skb *SKB) error {
	dev := skb.Dev
	up, carrier := dev.up.Load(), dev.carrierOK.Load()
	if !up {
		dev.txDropped.Add(1)
		skb.Free()
		return ErrXmitDown
	}
	if !carrier {
		// noop_qdisc while the carrier is off.
		dev.txDropped.Add(1)
		skb.Free()
		return ErrXmitNoCarrier
	}
	q := dev.txq[pickTx(dev, skb)]
	skb.QueueMapping = uint16(q.index)
	// The path's time goes no further than this run: a queued packet is
	// sent by whoever reads the clock anew, and one that comes back into
	// the stack (a loopback) starts a path of its own.
	at, atSet := skb.xmitAt, skb.xmitAtSet
	skb.ClearXmitTime()
	if root := dev.qdisc.Load(); root != nil {
		return root.xmit(skb)
	}
	q.mu.Lock()
	if q.qlen >= dev.TxQueueLen {
		q.mu.Unlock()
		q.qdiscDrops.Add(1)
		dev.txDropped.Add(1)
		skb.Free()
		return ErrXmitQueueFull
	}
	more := skb.XmitMore
	if !more && q.qlen == 0 && !q.running && !q.stopped.Load() {
		// TCQ_F_CAN_BYPASS: with nothing waiting and no run under way,
		// pfifo_fast hands the packet straight to the driver
		// (sch_direct_xmit) — what enqueuing it and running the qdisc would
		// do, without the trip through the band.
		q.running = true
		q.runLocked(skb, at, atSet)
	} else {
		q.bands[prio2band[skb.Priority&15]].Push(skb)
		q.qlen++
		q.mu.Unlock()
		if more {
			return nil
		}
		q.runBandsAt(at, atSet)
	}
	if root := q.dev.qdisc.Load(); root != nil {
		root.run()
	}
	return nil
}

// KickTx runs the qdisc of every queue with packets waiting: the end of a
// burst sent with XmitMore.
func (d *NetDevice) KickTx() {
	if root := d.qdisc.Load(); root != nil {
		root.run()
		return
	}
	for _, q := range d.txq {
		q.mu.Lock()
		n := q.qlen
		q.mu.Unlock()
		if n > 0 {
			q.run()
		}
	}
}

// pickTx is netdev_pick_tx: an explicit in-range QueueMapping set by the
// caller wins (the socket's cached queue); otherwise the flow hash picks the
// queue (skb_tx_hash), so one flow always uses one queue.
func pickTx(dev *NetDevice, skb *SKB) int {
	if dev.realTx.Load() == 1 {
		return 0 // the only queue, whatever the sender chose (inlined)
	}
	return pickTxOf(dev, skb)
}

// pickTxOf is pickTx for a device that had several queues when it looked
// (the count read again: whichever reading is used, the queue exists).
func pickTxOf(dev *NetDevice, skb *SKB) int {
	n := int(dev.realTx.Load())
	if skb.TxQueueSet && int(skb.QueueMapping) < n {
		return int(skb.QueueMapping)
	}
	h := skb.Hash
	if !skb.L4Hash {
		h = FlowHash(skb.Data())
		skb.Hash, skb.L4Hash = h, true
	}
	return int((uint64(h) * uint64(n)) >> 32) // reciprocal_scale
}

// FlowHash hashes an Ethernet frame's IPv4 addresses, protocol and ports
// (the software flow dissector's job), or returns 0 for other frames.
func FlowHash(f []byte) uint32 {
	eh := header.Ethernet(f)
	if len(f) < EthHdrLen+header.IPv4MinHeaderLen || eh.Type() != EthPIPv4 {
		return 0
	}
	ip := header.IPv4(eh.Payload())
	ihl := ip.HeaderLen()
	h := uint32(2166136261)
	mix := func(b []byte) {
		for _, c := range b {
			h ^= uint32(c)
			h *= 16777619
		}
	}
	mix(ip[12:20])
	mix(ip[9:10])
	if p := ip.Protocol(); (p == header.ProtoTCP || p == header.ProtoUDP) && !ip.IsFragment() && len(ip) >= ihl+4 {
		mix(ip[ihl : ihl+4])
	}
	return h
}

// run is qdisc_run for the queue: its bands go to the driver, then, when
// the device has a root qdisc, that qdisc runs (a woken queue's packet
// may be the one it was waiting to send).
func (q *TxQueue) run() {
	q.runBands()
	if root := q.dev.qdisc.Load(); root != nil {
		root.run()
	}
}

// runBands hands the bands' packets to the driver until they are empty,
// the queue stops or the driver is busy (then the skb is requeued).
func (q *TxQueue) runBands() { q.runBandsAt(0, false) }

// runBandsAt is runBands for a sender that read the clock (at, if atSet):
// the run takes its time from it.
func (q *TxQueue) runBandsAt(at time.Duration, atSet bool) {
	q.mu.Lock()
	if q.running {
		q.mu.Unlock()
		return
	}
	q.running = true
	q.runLocked(nil, at, atSet)
}

// runLocked is the run that runBandsAt started (q.mu held, q.running set;
// it unlocks): first, when not nil, is a packet that bypassed the empty
// bands and goes before them — or into its band, should the queue have
// stopped meanwhile.
func (q *TxQueue) runLocked(first *SKB, at time.Duration, atSet bool) {
	q.runAt, q.runAtSet = at, atSet
	dev := q.dev
	var pkts, bytes uint64
	for !q.stopped.Load() {
		skb := first
		if skb != nil {
			first = nil
		} else {
			if q.qlen == 0 {
				break // the bands are empty: qlen counts what they hold
			}
			for b := range q.bands {
				if skb = q.bands[b].Pop(); skb != nil {
					break
				}
			}
			if skb == nil {
				break
			}
			q.qlen--
		}
		band := prio2band[skb.Priority&15]
		segs := q.segs[:0]
		if skb.GSOSize == 0 && skb.IPSummed != ChecksumPartial {
			segs = append(segs, skb) // nothing for validate_xmit to do
		} else {
			segs = q.validateXmit(skb, dev.Features(), segs)
		}
		busy := false
		for i, s := range segs {
			s.XmitMore = q.qlen > 0 || i < len(segs)-1
			if !s.tapped {
				// A requeued packet is not captured twice.
				s.tapped = true
				for _, t := range dev.host.xtaps {
					t(s)
				}
			}
			n := s.Len()
			if dev.ops.StartXmit(s, q) == TxBusy {
				// Requeue what is left at the head of its band, in order;
				// the driver's wake reschedules us.
				for j := len(segs) - 1; j >= i; j-- {
					q.bands[band].PushFront(segs[j])
					q.qlen++
				}
				q.requeues.Add(1)
				busy = true
				break
			}
			pkts++
			bytes += uint64(n)
		}
		q.segs = segs[:0]
		if busy {
			break
		}
	}
	if first != nil {
		q.bands[prio2band[first.Priority&15]].Push(first)
		q.qlen++
	}
	var now time.Duration
	if pkts > 0 {
		now = q.XmitNow()
	}
	q.running, q.runAtSet = false, false
	wait := q.takeRoomWaiters()
	q.mu.Unlock()
	for _, fn := range wait {
		fn()
	}
	if pkts > 0 {
		q.Stats.Add(pkts, bytes)
		dev.lastTx.store(now)
	}
}

// startWatchdog arms dev_watchdog: a queue stopped with no progress for
// WatchdogTimeout gets ndo_tx_timeout.
func (d *NetDevice) startWatchdog() {
	if d.WatchdogTimeout <= 0 {
		return
	}
	if d.watchdog == nil {
		d.watchdog = d.host.clock.NewTimer(d.watchdogFire)
	}
	d.watchdog.Reset(d.WatchdogTimeout)
}

func (d *NetDevice) watchdogFire() {
	if !d.IsUp() {
		return
	}
	now := d.host.clock.Now()
	cpu := d.host.cpus[0]
	for _, q := range d.txq {
		if q.Stopped() && d.Carrier() && now-q.transStart.load() >= d.WatchdogTimeout {
			q.timeouts.Add(1)
			idx := q.index
			cpu.RunSoftirq(func() { d.ops.TxTimeout(idx) })
		}
	}
	d.watchdog.Reset(d.WatchdogTimeout)
}
