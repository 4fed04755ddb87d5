package driver

import (
	"time"
	"vnic/driver/dim"
	"vnic/ethtool"
	"vnic/header"
	"vnic/hw"
	"vnic/ring"
	"vnic/stack"
)

// irq is igb_msix_ring: the vector was auto-masked (EIAM) and its cause
// auto-cleared (EIAC) when the message was sent; schedule NAPI.
func (qv *qVector) irq() {
	qv.writeITR()
	qv.napi.Schedule()
}

// legacyIRQ is the interrupt handler of the legacy receive mode (M0, the
// pre-NAPI drivers Mogul and Ramakrishnan studied): the hard IRQ itself
// cleans TX, takes every packet the ring holds — looping while
// descriptors are ready, as their batching ISR does — hands each to the
// backlog (netif_rx) for the stack to finish at softirq priority, and
// unmasks its vector at once: the driver never holds the interrupt off.
func (qv *qVector) legacyIRQ() {
	qv.cleanTx()
	if b := qv.a.cfg.LegacyBatch; b > 0 {
		// Without batching: b packets per interrupt; what is left
		// interrupts again (EICS), each interrupt paying its cost.
		if qv.cleanRx(b) == b && qv.rx.descAt(qv.rx.ntc).Status()&ring.RxStatDD != 0 {
			qv.a.wr32(hw.EICS, qv.eims)
		}
	} else {
		qv.legacyPass()
		return
	}
	qv.flushStats()
	qv.a.wr32(hw.EIMS, qv.eims)
}

// legacyPass is one pass of the batching handler: clear the vector's cause
// (frames taken now will not interrupt again; one arriving later will),
// take what the ring holds, and go on in another pass while there was
// work, so frames that arrive meanwhile are taken without a new interrupt.
// The vector is unmasked when a pass finds the ring empty.
func (qv *qVector) legacyPass() {
	qv.a.wr32(hw.EICR, qv.eims)
	if qv.cleanRx(int(qv.rx.count)) > 0 {
		qv.cpu.ContinueHardirq(qv.pass)
		return
	}
	qv.flushStats()
	qv.a.wr32(hw.EIMS, qv.eims)
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
	if qv.tick {
		// Tick polling: one burst per tick, never an interrupt.
		n.CompleteDone(work)
		return work
	}
	if !txDone || work >= budget {
		return budget
	}
	// In virtual time, take what arrives while this work runs in the same
	// poll, as the descriptor loop of a real CPU would.
	if n.Continue(work) {
		return work
	}
	if n.CompleteDone(work) {
		// igb_ring_irq_enable: moderation looks at the interval first.
		rxd, txd := qv.dim.Load(), qv.txDim.Load()
		if rxd != nil || txd != nil {
			qv.sampleDIM(rxd, txd)
		} else if s := qv.a.itrSetting.Load(); dynamicITR(s) {
			qv.updateITR(s, len(qv.a.qv) == 1)
		}
		qv.a.wr32(hw.EIMS, qv.eims)
	}
	return work
}

// sampleDIM is net_dim at a completion that re-enables the vector, for
// each side that has an instance: the vector's interrupts and the RX
// queue's packets and bytes so far (adaptive-rx), or the TX queue's
// cleaned packets and bytes (adaptive-tx). A new profile is programmed by
// a task, as the kernel's work item does.
func (qv *qVector) sampleDIM(rxd, txd *dim.DIM) {
	now, events := qv.cpu.Now(), uint16(qv.a.fn.MSIX.Count(qv.vec))
	moved := false
	if rxd != nil {
		p, b, _ := qv.a.netdev.RxQueueStats(qv.rx.q).Snapshot()
		if rxd.Sample(dim.Sample{Time: now, Events: events, Pkts: uint32(p), Bytes: uint32(b)}) {
			qv.rxMoved.Store(true)
			moved = true
		}
	}
	if txd != nil {
		tot := &qv.a.qtot[qv.tx.q]
		if txd.Sample(dim.Sample{Time: now, Events: events, Pkts: uint32(tot.txPackets.Load()), Bytes: uint32(tot.txBytes.Load())}) {
			qv.txMoved.Store(true)
			moved = true
		}
	}
	if moved {
		qv.cpu.RunTask(qv.apply)
	}
}

// adaptiveInterval is the vector's EITR interval in µs under adaptive
// moderation. The 82576 has one interval per vector and a queue pair
// shares it, so with both sides' profiles it takes the shorter: the side
// that asks for lower latency wins. A side that is not adaptive asks for
// the static rx-usecs (0: no throttling), which then bounds it.
func (a *Adapter) adaptiveInterval(rxProfile, txProfile int) uint32 {
	rx := uint32(a.cfg.ITR / time.Microsecond)
	if a.adaptiveRx {
		rx = dim.RxProfilesUsec[rxProfile]
	}
	if !a.adaptiveTx {
		return rx
	}
	tx := dim.TxProfilesUsec[txProfile]
	if !a.adaptiveRx && rx == 0 {
		return 0
	}
	return min(rx, tx)
}

// applyDIM writes the vector's EITR from its DIM profiles and restarts
// the measurement of each side that moved.
func (qv *qVector) applyDIM() {
	a := qv.a
	a.mu.Lock()
	rxd, txd := qv.dim.Load(), qv.txDim.Load()
	if a.running && (rxd != nil && a.adaptiveRx || txd != nil && a.adaptiveTx) {
		rp, tp := dim.DefaultProfile, dim.DefaultProfile
		if rxd != nil {
			rp = rxd.Profile
		}
		if txd != nil {
			tp = txd.Profile
		}
		a.wr32(hw.EITR(qv.vec), a.adaptiveInterval(rp, tp)<<2)
		if rxd != nil && qv.rxMoved.Swap(false) {
			rxd.Applied()
		}
		if txd != nil && qv.txMoved.Swap(false) {
			txd.Applied()
		}
	}
	a.mu.Unlock()
}

// cleanRx is igb_clean_rx_irq: take written-back descriptors, build an
// skb over each packet's page (or copy a chained one into an skb), hand
// it to the stack, and give the descriptor back to the device with a
// page; RDT moves once at the end (every rxWriteBack buffers in a longer
// pass).
func (qv *qVector) cleanRx(budget int) int {
	r := qv.rx
	a := qv.a
	cpu := qv.cpu
	dev := a.netdev
	feat := dev.Features()
	rxHash := feat&ethtool.RxHash != 0
	rxCsum := feat&ethtool.RxCsum != 0
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
		built := false
		if skb == nil && !r.chainDropped {
			if skb, built = r.rxSKB(a.rxBuf, st&ring.RxStatEOP != 0, l); skb == nil {
				r.dropped++
			}
		}
		if !built && skb != nil {
			if skb.Tailroom() < l {
				skb.Free() // larger than any packet the device should build
				skb = nil
				r.dropped++
				r.chainDropped = st&ring.RxStatEOP == 0
			} else {
				copy(skb.Put(l), buf)
			}
		}
		if skb != nil {
			// igb copies the headers (IGB_RX_HDR_LEN) and attaches the
			// page, whether or not vnic copied: the model charges the
			// header copy only.
			cpu.ChargeCopy(min(l, rxHdrCopy))
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
		r.skb, r.chainDropped = nil, false
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
		// igb_rx_checksum: the device checked L4 and found no error.
		if rxCsum && st&ring.RxStatL4CS != 0 && st&(ring.RxErrTCPE|ring.RxErrIPE) == 0 {
			skb.IPSummed = stack.ChecksumUnnecessary
		} else if st&(ring.RxErrTCPE|ring.RxErrIPE) != 0 {
			r.csumErr++
		}
		// An LRO aggregate keeps its segment size so it can be re-segmented
		// (ixgbe_set_rsc_gso_size).
		if n := int(d.RSCCount()); n > 1 {
			hdr := lroHeaderLen(skb.Data())
			skb.GSOSize = uint16((skb.Len() - hdr + n - 1) / n)
			skb.GSOSegs = uint16(n)
			skb.GSOType = stack.GSOTCPv4
			skb.LRO = true // ip_forward refuses it (FWD-01)
			r.lro += uint64(n)
		}
		skb.QueueMapping = uint16(r.q)
		skb.Tstamp = now
		skb.Protocol = stack.EthTypeTrans(skb, dev)
		switch {
		case qv.legacy:
			_ = stack.NetifRx(skb, cpu.ID()) // a full backlog drops and counts
		case qv.poller != nil:
			stack.NetifReceiveSKB(skb) // to completion, in the polling thread
		default:
			qv.napi.Receive(skb)
		}
	}
	if r.posts > 0 {
		a.refill(r, uint32(r.posts))
	}
	r.cache.Flush()
	if work > 0 {
		dev.MarkRx(now)
	}
	return work
}

// rxSKB is the skb the packet at ntc goes up in. A frame in one buffer
// longer than rxHdrCopy is built over its page (igb_build_skb), a page
// from the pool taking its place on the ring; a short one is copied out
// and its page stays (igb_construct_skb's header copy and page reuse:
// for a few dozen bytes a copy is cheaper than a page's round trip), as
// is a chained frame or one with no spare page to swap in. built says
// which; nil when no skb could be had.
func (r *rxRing) rxSKB(bufSize int, eop bool, l int) (skb *stack.SKB, built bool) {
	size := bufSize
	if !eop {
		size = 65536 + 256 // an LRO aggregate or a chained frame
	}
	if skb = r.cache.Alloc(size + stack.NetIPAlign); skb == nil {
		return nil, false
	}
	if eop && l > rxHdrCopy {
		if pg := r.pool.get(); pg != nil {
			old := r.pages[r.ntc]
			skb.BuildOver(old.reg.Buf, rxHeadroom, old)
			r.swapPage(r.ntc, pg)
			skb.Put(l)
			return skb, true
		}
	}
	skb.Reserve(stack.NetIPAlign)
	return skb, false
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
	if r.csumErr|r.lro != 0 {
		r.tot.csumErr.Add(r.csumErr)
		r.tot.lro.Add(r.lro)
		r.csumErr, r.lro = 0, 0
	}
}

// lroHeaderLen is the Ethernet, IPv4 and TCP header length of an LRO
// aggregate (0 if the headers do not parse).
func lroHeaderLen(f []byte) int {
	const mac = header.EthernetHeaderLen
	if len(f) < mac+header.IPv4MinHeaderLen+header.TCPMinHeaderLen {
		return 0
	}
	ip := header.IPv4(f[mac:])
	if !ip.IsValid() {
		return 0
	}
	th := header.TCP(ip[ip.HeaderLen():])
	if !th.IsValid() {
		return 0
	}
	return mac + ip.HeaderLen() + th.HeaderLen()
}
