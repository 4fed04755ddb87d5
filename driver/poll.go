package driver

import (
	"vnic/ethtool"
	"vnic/hw"
	"vnic/ring"
	"vnic/stack"
)

// irq is igb_msix_ring: the vector was auto-masked (EIAM) and its cause
// auto-cleared (EIAC) when the message was sent; schedule NAPI.
func (qv *qVector) irq() {
	qv.napi.Schedule()
}

// irqOther is igb_msix_other: read ICR (which clears it), handle link
// changes and DMA faults, and re-enable the vector.
func (a *Adapter) irqOther() {
	a.otherIRQs.Add(1)
	icr := a.rd32(hw.ICR)
	if icr&hw.IcrDOUTSYNC != 0 {
		a.dmaFaults.Add(1)
	}
	if icr&hw.IcrLSC != 0 {
		a.lscEvents.Add(1)
		// schedule_work: at most one link check queued at a time.
		if a.linkPending.CompareAndSwap(false, true) {
			a.cpus[0].RunTask(a.linkTask)
		}
	}
	a.wr32(hw.EIMS, 1<<otherVector)
}

// poll is igb_poll: clean TX, receive up to budget; complete and unmask only
// when both finished and the budget was not used up. A budget of 0
// (netpoll) cleans TX only and never completes.
func (qv *qVector) poll(n *stack.NAPI, budget int) int {
	txDone := qv.cleanTx()
	if budget <= 0 {
		return 0
	}
	work := qv.cleanRx(budget)
	qv.flushStats()
	if !txDone || work >= budget {
		return budget
	}
	if n.CompleteDone(work) {
		qv.a.wr32(hw.EIMS, qv.eims)
	}
	return work
}

// cleanRx is igb_clean_rx_irq: take written-back descriptors, copy each
// packet into an skb, hand it to the stack, and give the buffer straight
// back to the device; RDT moves every 16 buffers and at the end.
func (qv *qVector) cleanRx(budget int) int {
	r := qv.rx
	a := qv.a
	cpu := qv.cpu
	dev := a.netdev
	rxHash := dev.Features&ethtool.RxHash != 0
	now := cpu.Now() // one clock read per poll, not per packet
	work := 0
	for work < budget {
		d := r.descAt(r.ntc)
		st := d.Status()
		if st&ring.RxStatDD == 0 {
			break
		}
		// DD was loaded atomically: the rest of the write-back is visible.
		l := int(d.Length())
		buf := r.bufs[r.ntc].Buf[:l]
		skb := r.skb
		if skb == nil {
			skb = dev.Host().Pool().Alloc(a.rxBuf + stack.NetIPAlign)
			if skb == nil {
				r.dropped++
			} else {
				skb.Reserve(stack.NetIPAlign)
			}
		}
		if skb != nil {
			if skb.Tailroom() < l {
				skb.Free() // larger than any frame the MTU allows
				skb = nil
				r.dropped++
			} else {
				copy(skb.Put(l), buf)
				cpu.ChargeCopy(l)
			}
		}
		r.ntc = ring.Next(r.ntc, r.count)
		r.posts++
		if r.posts >= rxWriteBack {
			a.refill(r, uint32(r.posts))
		}
		if st&ring.RxStatEOP == 0 {
			r.skb = skb
			r.chained++
			continue
		}
		r.skb = nil
		work++
		cpu.Charge(cpu.Costs.RxPacket)
		if skb == nil {
			continue
		}
		if st&(ring.RxErrCE|ring.RxErrRXE) != 0 {
			skb.Free()
			r.dropped++
			continue
		}
		r.packets++
		r.bytes += uint64(skb.Len())
		if rxHash && d.RSSType() != ring.RSSTypeNone {
			skb.Hash = d.RSSHash()
			skb.L4Hash = d.RSSType() == ring.RSSTypeIPv4TCP || d.RSSType() == ring.RSSTypeIPv4UDP
		}
		skb.QueueMapping = uint16(r.q)
		skb.Tstamp = now
		skb.Protocol = stack.EthTypeTrans(skb, dev)
		qv.napi.Receive(skb)
	}
	if r.posts > 0 {
		a.refill(r, uint32(r.posts))
	}
	if work > 0 {
		dev.MarkRx(now)
	}
	return work
}

// flushStats moves poll-local counters to the netdev's per-queue stats.
func (qv *qVector) flushStats() {
	r := qv.rx
	if r.packets|r.bytes|r.dropped != 0 {
		s := qv.a.netdev.RxQueueStats(r.q)
		s.Add(r.packets, r.bytes)
		s.AddDrops(r.dropped)
		r.packets, r.bytes, r.dropped = 0, 0, 0
	}
}
