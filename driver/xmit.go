package driver

import (
	"vnic/hw"
	"vnic/ring"
	"vnic/stack"
)

// StartXmit is igb_xmit_frame_ring (ndo_start_xmit). The skb is copied into
// the ring's bounce buffers ("mapped"), one descriptor per 2 KiB, EOP and
// RS on the last; the tail doorbell hands the packet to the device. The
// skb stays on the ring until the device reports DD.
func (a *Adapter) StartXmit(skb *stack.SKB, txq *stack.TxQueue) stack.TxResult {
	r := a.tx[txq.Index()]
	data := skb.Data()
	n := len(data)
	if n == 0 || n > a.netdev.MTU()+ethOverhead {
		// Not a frame this device can send: drop and count (no GSO yet).
		a.txDropped.Add(1)
		skb.Free()
		return stack.TxOK
	}
	need := uint32((n + txBufSize - 1) / txBufSize)
	if r.unused() < need+2 {
		txq.Stop()
		// Re-check after stopping: cleanup may have freed space meanwhile.
		if r.unused() < need+2 {
			a.doorbell(r) // packets written with xmit_more must go
			return stack.TxBusy
		}
		txq.Wake()
	}
	cpu := a.qv[r.q].cpu
	first := r.ntu.Load()
	i := first
	for off := 0; off < n; off += txBufSize {
		chunk := n - off
		if chunk > txBufSize {
			chunk = txBufSize
		}
		buf := r.bufs[i]
		copy(buf.Buf, data[off:off+chunk])
		cmd := uint32(ring.TxCmdIFCS)
		if off+chunk == n {
			cmd |= ring.TxCmdEOP | ring.TxCmdRS
		}
		r.descAt(i).SetData(ring.TxData{Addr: buf.Addr, Len: uint16(chunk), Cmd: cmd, PayLen: uint32(n)})
		r.info[i] = txInfo{}
		if off+chunk < n {
			i = ring.Next(i, r.count)
		}
	}
	more := skb.XmitMore
	r.info[first] = txInfo{skb: skb, eop: i, bytes: n}
	next := ring.Next(i, r.count)
	r.ntu.Store(next)
	cpu.Charge(cpu.Costs.TxPacket)
	cpu.ChargeCopy(n)
	// igb_maybe_stop_tx: leave room for the largest packet.
	if r.unused() < uint32(a.descNeeded) {
		txq.Stop()
		if r.unused() >= uint32(a.descNeeded) {
			txq.Wake()
		}
	}
	// The doorbell, unless the qdisc has more for us (xmit_more) and the
	// queue is still running.
	if !more || txq.Stopped() {
		a.doorbell(r)
	}
	return stack.TxOK
}

// doorbell writes TDT if descriptors were added since the last write, and
// records the transmit start for the watchdog (once per burst: reading the
// clock per packet would cost more than the rest of start_xmit).
func (a *Adapter) doorbell(r *txRing) {
	if n := r.ntu.Load(); n != r.tail {
		r.tail = n
		r.txq.MarkTrans(a.host.Clock().Now())
		a.wr32(hw.TDT(r.q), n)
	}
}

// cleanTx is igb_clean_tx_irq: free the skbs of packets the device has
// written back, at most txCleanWork of them; wake the queue when there is
// room again. It reports whether it finished.
func (qv *qVector) cleanTx() bool {
	r := qv.tx
	i := r.ntc.Load()
	end := r.ntu.Load()
	done := 0
	for ; done < txCleanWork && i != end; done++ {
		info := &r.info[i]
		if info.skb == nil {
			break
		}
		if !r.descAt(info.eop).Done() {
			break
		}
		info.skb.Consume()
		next := ring.Next(info.eop, r.count)
		*info = txInfo{}
		i = next
	}
	r.ntc.Store(i)
	if done > 0 {
		r.txq.MarkTrans(qv.a.host.Clock().Now())
	}
	if r.txq.Stopped() && qv.a.netdev.Carrier() && r.unused() >= uint32(qv.a.wakeThresh) {
		r.txq.Wake()
	}
	return done < txCleanWork
}

// TxTimeout is igb_tx_timeout (ndo_tx_timeout): the stack's watchdog saw
// the queue stopped without progress. The queue is reset on its vector's
// CPU: disabled in the device, its packets freed, its head and tail
// zeroed, re-enabled and woken. It is counted.
func (a *Adapter) TxTimeout(q int) {
	a.txTimeouts.Add(1)
	a.mu.Lock()
	if !a.running || q >= len(a.qv) {
		a.mu.Unlock()
		return
	}
	qv := a.qv[q]
	a.mu.Unlock()
	qv.cpu.RunSoftirq(func() { a.resetTxQueue(qv) })
}

func (a *Adapter) resetTxQueue(qv *qVector) {
	r := qv.tx
	r.txq.Lock()
	a.wr32(hw.TXDCTL(r.q), 0)
	r.cleanTxRing()
	// Reprogram the whole queue, as igb_configure_tx_ring does: whatever
	// upset the device, the ring registers are known good afterwards.
	a.wr32(hw.TDBAL(r.q), uint32(r.desc.Addr))
	a.wr32(hw.TDBAH(r.q), uint32(r.desc.Addr>>32))
	a.wr32(hw.TDLEN(r.q), r.count*ring.DescSize)
	a.wr32(hw.TDH(r.q), 0)
	a.wr32(hw.TDT(r.q), 0)
	a.wr32(hw.TXDCTL(r.q), hw.DctlEnable)
	r.restarts.Add(1)
	r.txq.Unlock()
	r.txq.Wake()
}
