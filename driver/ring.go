package driver

import (
	"fmt"
	"sync/atomic"

	"vnic/hw"
	"vnic/ring"
	"vnic/stack"
)

// rxRing is one RX queue's ring: descriptors and one buffer per descriptor,
// all in DMA memory. Only its NAPI poll touches it while it runs.
type rxRing struct {
	q     int
	count uint32
	desc  hw.Region
	bufs  []hw.Region
	ntu   uint32     // next descriptor to hand to the device
	ntc   uint32     // next descriptor to clean
	skb   *stack.SKB // packet being assembled across descriptors
	posts int        // descriptors posted since the last RDT write

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
}

// txRing is one TX queue's ring: descriptors, one bounce buffer per
// descriptor ("dma_map" copies the skb in) and the skb each packet came in.
type txRing struct {
	q     int
	count uint32
	desc  hw.Region
	bufs  []hw.Region
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

func (a *Adapter) allocRx(q int) (*rxRing, error) {
	r := &rxRing{q: q, count: uint32(a.cfg.RxRing), tot: &a.qtot[q]}
	var err error
	if r.desc, err = a.fn.DMA.Alloc(int(r.count)*ring.DescSize, 4096); err != nil {
		return nil, fmt.Errorf("rx%d descriptors: %w", q, err)
	}
	for i := uint32(0); i < r.count; i++ {
		b, err := a.fn.DMA.Alloc(a.rxBuf, 0)
		if err != nil {
			a.freeRx(r)
			return nil, fmt.Errorf("rx%d buffers: %w", q, err)
		}
		r.bufs = append(r.bufs, b)
	}
	return r, nil
}

func (a *Adapter) freeRx(r *rxRing) {
	if r.skb != nil {
		r.skb.Free()
		r.skb = nil
	}
	for _, b := range r.bufs {
		a.fn.DMA.Free(b)
	}
	r.bufs = nil
	a.fn.DMA.Free(r.desc)
	r.desc = hw.Region{}
}

func (a *Adapter) allocTx(q int) (*txRing, error) {
	r := &txRing{q: q, count: uint32(a.cfg.TxRing), txq: a.netdev.TxQueue(q), tot: &a.qtot[q]}
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
	r.ntu.Store(0)
	r.ntc.Store(0)
	r.tail = 0
	clear(r.desc.Buf)
}

func (a *Adapter) freeTx(r *txRing) {
	r.cleanTxRing()
	for _, b := range r.bufs {
		a.fn.DMA.Free(b)
	}
	r.bufs = nil
	a.fn.DMA.Free(r.desc)
	r.desc = hw.Region{}
}
