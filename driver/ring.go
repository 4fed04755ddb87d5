package driver

import (
	"fmt"
	"sync/atomic"
	"syscall"

	"vnic/hw"
	"vnic/ring"
	"vnic/stack"
)

// rxRing is one RX queue's ring: descriptors and one page per descriptor,
// all in DMA memory; a packet's page goes up the stack in its skb and a
// page from the ring's pool takes its place. Only its NAPI poll touches
// it while it runs.
type rxRing struct {
	q     int
	count uint32
	desc  hw.Region
	pages []*rxPage   // each descriptor's page
	bufs  []hw.Region // each descriptor's buffer: the part of its page the device writes
	pool  *pagePool
	ntu   uint32          // next descriptor to hand to the device
	ntc   uint32          // next descriptor to clean
	skb   *stack.SKB      // packet being assembled across descriptors
	cache *stack.SKBCache // the poll's skbs (napi_alloc_cache)
	posts int             // descriptors posted since the last RDT write

	chainDropped bool // the rest of a too-long chain is dropped until EOP

	packets, bytes, chained, dropped uint64 // poll-local, flushed to netdev stats
	csumErr, lro                     uint64 // checksum errors seen, frames in LRO aggregates
	tot                              *queueTotals
}

// queueTotals are a queue pair's driver counters; they live in the adapter
// so that they survive ring re-allocation (ring, channel and MTU changes).
type queueTotals struct {
	csumErr, lro, restarts atomic.Uint64
	txPackets, txBytes     atomic.Uint64 // TX packets cleaned (dynamic ITR)
	// The poll counters of the queue's earlier vectors: a ring, channel
	// or MTU change makes new ones, whose NAPI counts start at zero.
	polls, pollWork, budgetHits, emptyPolls atomic.Uint64
}

// txRing is one TX queue's ring: descriptors, one mapping window per
// descriptor (the skb's data mapped for the device, igb_tx_map's
// dma_map_single), one bounce buffer per descriptor for the loopback
// self-test's frames, and the skb each packet came in.
type txRing struct {
	q     int
	count uint32
	desc  hw.Region
	bufs  []hw.Region
	win   hw.Windows
	info  []txInfo
	ntu   atomic.Uint32 // written by start_xmit under the xmit lock
	ntc   atomic.Uint32 // written by the NAPI poll
	txq   *stack.TxQueue
	tail  uint32 // last TDT written (under the xmit lock)
	tot   *queueTotals
}

type txInfo struct {
	skb   *stack.SKB
	eop   uint32 // index of the packet's last descriptor
	bytes int
}

func (r *rxRing) descAt(i uint32) ring.RxDesc {
	return ring.RxDesc(r.desc.Buf[i*ring.DescSize : (i+1)*ring.DescSize])
}

func (r *txRing) descAt(i uint32) ring.TxDesc {
	return ring.TxDesc(r.desc.Buf[i*ring.DescSize : (i+1)*ring.DescSize])
}

// unused is igb_desc_unused: descriptors start_xmit may still fill.
func (r *txRing) unused() uint32 {
	return ring.Unused(r.ntc.Load(), r.ntu.Load(), r.count)
}

// reconfigure applies change to a running device the way igb_set_ringparam
// does: the rings of next, the configuration change will make, are
// allocated first, while the device runs on its old ones. If they do not
// fit, nothing has changed and the error is ENOMEM. Otherwise down, change,
// up on the new rings — losing nothing: frames already in the RX rings are
// delivered first, and packets in the TX rings the device has not sent go
// back to the head of their qdisc, to leave again after up.
func (a *Adapter) reconfigure(next ringPlan, change func()) error {
	if !a.running {
		change()
		return nil
	}
	var rs ringSet
	reuse := next == a.plan() // same rings: keep them (an MTU in the same buffers)
	if !reuse {
		var err error
		if rs, err = a.allocRings(next); err != nil {
			return &noMemError{err}
		}
	}
	a.quiesce(true)
	if reuse {
		rs = a.detachRings()
	} else {
		a.freeAll()
	}
	change()
	if a.plan() != next { // change did other than announced: size anew
		a.freeRings(rs)
		return a.up(nil)
	}
	if err := a.up(&rs); err != nil {
		return err
	}
	for _, r := range a.tx {
		r.txq.Wake()
	}
	return nil
}

// noMemError is a reconfiguration whose rings did not fit in DMA memory:
// the device is as it was. It matches ENOMEM.
type noMemError struct{ err error }

func (e *noMemError) Error() string        { return "no DMA memory for the new rings: " + e.err.Error() }
func (e *noMemError) Is(target error) bool { return target == syscall.ENOMEM }
func (e *noMemError) Unwrap() error        { return e.err }

// detachRings takes the quiesced device's rings, emptied and still
// allocated, for up to program again (freeAll without the freeing).
func (a *Adapter) detachRings() ringSet {
	rs := ringSet{rx: a.rx, tx: a.tx}
	for _, r := range rs.rx {
		if r.skb != nil {
			r.skb.Free()
			r.skb = nil
		}
		r.chainDropped, r.posts = false, 0
		clear(r.desc.Buf)
	}
	for _, r := range rs.tx {
		r.cleanTxRing()
	}
	a.retireVectors()
	a.rx, a.tx, a.qv = nil, nil, nil
	return rs
}

// retireVectors adds the queue vectors' poll counters to the queues'
// totals before the vectors go (QueueStats adds them back).
func (a *Adapter) retireVectors() {
	for q, qv := range a.qv {
		if q >= len(a.qtot) {
			break
		}
		polls, work, hits, empty := qv.pollCounts()
		t := &a.qtot[q]
		t.polls.Add(polls)
		t.pollWork.Add(work)
		t.budgetHits.Add(hits)
		t.emptyPolls.Add(empty)
	}
}

// pollCounts are the vector's polls, the work they returned, the polls
// that used their whole budget and the empty ones (the quota mode: its
// receive callback's turns).
func (qv *qVector) pollCounts() (polls, work, hits, empty uint64) {
	ns := qv.napi.Stats()
	polls, work, hits, empty = ns.Polls, ns.Packets, ns.BudgetHits, ns.Empty
	if qv.poller != nil {
		cs := qv.poller.CallbackStats(qv.rxCB)
		polls, work, hits = cs.Turns, cs.Work, cs.Full
	}
	return polls, work, hits, empty
}

// ringPlan is what sizes a set of rings: queue pairs, descriptors per RX
// and TX ring, and the RX buffer size.
type ringPlan struct{ queues, rxCount, txCount, rxBuf int }

// plan is the current configuration's ringPlan.
func (a *Adapter) plan() ringPlan {
	return ringPlan{a.cfg.Queues, a.cfg.RxRing, a.cfg.TxRing, a.rxBuf}
}

// ringSet is one ringPlan's rings, RX and TX per queue pair.
type ringSet struct {
	rx []*rxRing
	tx []*txRing
}

// allocRings allocates every ring of p, or nothing: on failure what it
// took is freed (igb_setup_all_rx_resources / _tx_resources).
func (a *Adapter) allocRings(p ringPlan) (ringSet, error) {
	var rs ringSet
	for q := 0; q < p.queues; q++ {
		rx, err := a.allocRx(q, p.rxCount, p.rxBuf)
		if err != nil {
			a.freeRings(rs)
			return ringSet{}, err
		}
		rs.rx = append(rs.rx, rx)
		tx, err := a.allocTx(q, p.txCount)
		if err != nil {
			a.freeRings(rs)
			return ringSet{}, err
		}
		rs.tx = append(rs.tx, tx)
	}
	return rs, nil
}

func (a *Adapter) freeRings(rs ringSet) {
	for _, r := range rs.rx {
		a.freeRx(r)
	}
	for _, r := range rs.tx {
		a.freeTx(r)
	}
}

func (a *Adapter) allocRx(q, count, bufSize int) (*rxRing, error) {
	r := &rxRing{q: q, count: uint32(count), tot: &a.qtot[q]}
	var err error
	if r.desc, err = a.fn.DMA.Alloc(int(r.count)*ring.DescSize, 4096); err != nil {
		return nil, fmt.Errorf("rx%d descriptors: %w", q, err)
	}
	// Spares beyond the ring: enough for the packets a poll has out at
	// once (GRO and the sockets give most back within the poll).
	r.pool = newPagePool(a.fn.DMA, bufSize, min(count/2, 256))
	for i := uint32(0); i < r.count; i++ {
		pg, err := r.pool.alloc()
		if err != nil {
			a.freeRx(r)
			return nil, fmt.Errorf("rx%d buffers: %w", q, err)
		}
		r.pages = append(r.pages, pg)
		r.bufs = append(r.bufs, pg.data())
	}
	r.cache = a.netdev.Host().Pool().NewCache()
	return r, nil
}

// swapPage puts page pg on descriptor i in place of the one its packet
// went up in.
func (r *rxRing) swapPage(i uint32, pg *rxPage) {
	r.pages[i], r.bufs[i] = pg, pg.data()
}

func (a *Adapter) freeRx(r *rxRing) {
	if r.skb != nil {
		r.skb.Free()
		r.skb = nil
	}
	if r.cache != nil {
		r.cache.Release()
		r.cache = nil
	}
	if r.pool != nil {
		r.pool.close(r.pages)
	}
	r.pages, r.bufs = nil, nil
	a.fn.DMA.Free(r.desc)
	r.desc = hw.Region{}
}

func (a *Adapter) allocTx(q, count int) (*txRing, error) {
	r := &txRing{q: q, count: uint32(count), txq: a.netdev.TxQueue(q), tot: &a.qtot[q]}
	var err error
	if r.desc, err = a.fn.DMA.Alloc(int(r.count)*ring.DescSize, 4096); err != nil {
		return nil, fmt.Errorf("tx%d descriptors: %w", q, err)
	}
	r.info = make([]txInfo, r.count)
	for i := uint32(0); i < r.count; i++ {
		b, err := a.fn.DMA.Alloc(txBufSize, 0)
		if err != nil {
			a.freeTx(r)
			return nil, fmt.Errorf("tx%d buffers: %w", q, err)
		}
		r.bufs = append(r.bufs, b)
	}
	if r.win, err = a.fn.DMA.ReserveWindows(count); err != nil {
		a.freeTx(r)
		return nil, fmt.Errorf("tx%d mappings: %w", q, err)
	}
	return r, nil
}

// cleanTxRing frees every skb still on the ring (igb_clean_tx_ring); the
// queue must be disabled in the device.
func (r *txRing) cleanTxRing() {
	for i := range r.info {
		if r.info[i].skb != nil {
			r.info[i].skb.Free()
			r.info[i] = txInfo{}
		}
	}
	for i := 0; i < r.win.Len(); i++ {
		r.win.Unmap(i)
	}
	r.ntu.Store(0)
	r.ntc.Store(0)
	r.tail = 0
	clear(r.desc.Buf)
}

func (a *Adapter) freeTx(r *txRing) {
	r.cleanTxRing()
	r.win.Release()
	for _, b := range r.bufs {
		a.fn.DMA.Free(b)
	}
	r.bufs = nil
	a.fn.DMA.Free(r.desc)
	r.desc = hw.Region{}
}
