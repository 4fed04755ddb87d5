package driver

import (
	"vnic/ethtool"
	"vnic/header"
	"vnic/hw"
	"vnic/ring"
	"vnic/stack"
)

// StartXmit is igb_xmit_frame_ring (ndo_start_xmit). The skb's data is
// mapped for the device (igb_tx_map), one descriptor per 2 KiB, each
// chunk in its descriptor's window, EOP and RS on the last; the tail
// doorbell hands the packet to the device. The skb stays on the ring,
// mapped, until the device reports DD.
func (a *Adapter) StartXmit(skb *stack.SKB, txq *stack.TxQueue) stack.TxResult {
	r := a.tx[txq.Index()]
	data := skb.Data()
	n := len(data)
	var o txOffloads
	ok := a.txOffload(skb, &o)
	if !ok || n == 0 || (o.cmd&ring.TxCmdTSE == 0 && n > a.netdev.MTU()+ethOverhead) {
		// Not a frame this device can send (the stack segments what the
		// active features say the device cannot): drop and count.
		a.txDropped.Add(1)
		skb.Free()
		return stack.TxOK
	}
	need := uint32((n + txBufSize - 1) / txBufSize)
	if o.hasCtx {
		need++
	}
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
	if o.hasCtx {
		// igb_tx_ctxtdesc: the context goes first, in its own descriptor.
		r.descAt(i).SetContext(o.ctx)
		r.info[i] = txInfo{}
		i = ring.Next(i, r.count)
	}
	for off := 0; off < n; off += txBufSize {
		chunk := n - off
		if chunk > txBufSize {
			chunk = txBufSize
		}
		addr := r.win.Map(int(i), data[off:off+chunk])
		c := o.cmd | ring.TxCmdIFCS
		if off+chunk == n {
			c |= ring.TxCmdEOP | ring.TxCmdRS
		}
		r.descAt(i).SetData(ring.TxData{Addr: addr, Len: uint16(chunk), Cmd: c, POpts: o.popts, PayLen: o.paylen})
		r.info[i] = txInfo{}
		if off+chunk < n {
			i = ring.Next(i, r.count)
		}
	}
	more := skb.XmitMore
	r.info[first] = txInfo{skb: skb, eop: i, bytes: n}
	next := ring.Next(i, r.count)
	r.ntu.Store(next)
	// dma_map of the skb's pages costs nothing extra on a host without an
	// IOMMU: only the per-packet driver work is charged.
	cpu.Charge(cpu.Costs.TxPacket)
	// igb_maybe_stop_tx: leave room for the largest packet.
	if need := a.stopThresh(r); r.unused() < need {
		txq.Stop()
		if r.unused() >= need {
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
// records the transmit start for the watchdog, once per burst, at the
// time of the qdisc run that called start_xmit (its sender's clock
// reading: reading the clock again would cost more than start_xmit).
func (a *Adapter) doorbell(r *txRing) {
	if n := r.ntu.Load(); n != r.tail {
		r.tail = n
		r.txq.MarkTrans(r.txq.XmitNow())
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
	done, bytes := 0, 0
	for ; done < txCleanWork && i != end; done++ {
		info := &r.info[i]
		if info.skb == nil {
			break
		}
		if !r.descAt(info.eop).Done() {
			break
		}
		bytes += info.bytes
		// igb_unmap_and_free_tx_resource: the mappings end before the
		// skb is freed.
		for j := i; ; j = ring.Next(j, r.count) {
			r.win.Unmap(int(j))
			if j == info.eop {
				break
			}
		}
		info.skb.Consume()
		next := ring.Next(info.eop, r.count)
		*info = txInfo{}
		i = next
	}
	r.ntc.Store(i)
	if done > 0 {
		r.tot.txPackets.Add(uint64(done))
		r.tot.txBytes.Add(uint64(bytes))
		r.txq.MarkTrans(qv.a.host.Clock().Now())
	}
	if r.txq.Stopped() && !qv.a.isDown.Load() && qv.a.netdev.Carrier() && r.unused() >= qv.a.wakeThresh(r) {
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
	r.tot.restarts.Add(1)
	r.txq.Unlock()
	if !a.isDown.Load() {
		r.txq.Wake()
	}
}

// txOffloads is what txOffload decides for one packet: the context
// descriptor, when it needs one, and its data descriptors' command, options
// and PAYLEN. start_xmit keeps it on its stack and txOffload fills it in
// place (returned by value, its copy out cost a store-forwarding stall a
// packet): start_xmit allocates nothing.
type txOffloads struct {
	ctx    ring.TxContext
	hasCtx bool
	cmd    uint32
	popts  uint32
	paylen uint32
}

// txOffload is igb_tso / igb_tx_csum: it fills o, zero on entry, with the
// context descriptor and the data descriptors' command, options and PAYLEN
// for skb. A GSO skb (TCP/IPv4) gets TSO: its TCP checksum field is
// reseeded with the pseudo-header sum without length, which the device
// completes per segment. A CHECKSUM_PARTIAL skb gets TXSM with the L4 type
// from its checksum offset. It returns false for a packet the device
// cannot take.
func (a *Adapter) txOffload(skb *stack.SKB, o *txOffloads) bool {
	data := skb.Data()
	switch {
	case skb.GSOSize > 0:
		if skb.GSOType != stack.GSOTCPv4 || a.netdev.Features()&ethtool.TSO == 0 ||
			len(data) < header.EthernetHeaderLen+header.IPv4MinHeaderLen+header.TCPMinHeaderLen {
			return false
		}
		ip := header.IPv4(data[header.EthernetHeaderLen:])
		if !ip.IsValid() || ip.Protocol() != header.ProtoTCP {
			return false
		}
		th := header.TCP(ip[ip.HeaderLen():])
		if !th.IsValid() {
			return false
		}
		hdr := header.EthernetHeaderLen + ip.HeaderLen() + th.HeaderLen()
		th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoTCP, 0)))
		o.ctx = ring.TxContext{MACLen: header.EthernetHeaderLen, IPLen: uint16(ip.HeaderLen()), L4Len: uint8(th.HeaderLen()),
			MSS: skb.GSOSize, TUCmd: ring.TxTUCmdIPv4 | ring.TxTUCmdL4TCP}
		o.hasCtx, o.cmd = true, ring.TxCmdTSE
		o.popts = ring.TxPOptIXSM | ring.TxPOptTXSM
		o.paylen = uint32(len(data) - hdr)
		return true
	case skb.IPSummed == stack.ChecksumPartial:
		start := skb.CsumStartOffset()
		const mac = header.EthernetHeaderLen
		if start < mac+header.IPv4MinHeaderLen || start > mac+header.IPv4MaxHeaderLen || int(skb.CsumOffset)+2+start > len(data) {
			return false
		}
		tucmd := uint32(ring.TxTUCmdIPv4 | ring.TxTUCmdL4TCP)
		l4len := uint8(header.TCPMinHeaderLen)
		if skb.CsumOffset == header.UDPChecksumOffset {
			tucmd, l4len = ring.TxTUCmdIPv4|ring.TxTUCmdL4UDP, header.UDPHeaderLen
		}
		o.ctx = ring.TxContext{MACLen: mac, IPLen: uint16(start - mac), L4Len: l4len, TUCmd: tucmd}
		o.hasCtx, o.popts = true, ring.TxPOptTXSM
		o.paylen = uint32(len(data))
		return true
	}
	o.paylen = uint32(len(data))
	return true
}

// tsoDescs is what the largest TSO packet takes: 64 KiB in 2 KiB buffers,
// its context descriptor and two spare.
const tsoDescs = (65536+256+txBufSize-1)/txBufSize + 1 + 2

// stopThresh is igb_maybe_stop_tx's DESC_NEEDED: room for the largest
// packet the stack may hand over, a TSO super-frame while TSO is on.
func (a *Adapter) stopThresh(r *txRing) uint32 {
	n := a.descNeeded
	if a.netdev.Features()&ethtool.TSO != 0 {
		n = max(n, tsoDescs)
	}
	return uint32(min(n, int(r.count)-1))
}

// wakeThresh is TX_WAKE_THRESHOLD: twice that, within the ring.
func (a *Adapter) wakeThresh(r *txRing) uint32 {
	s := a.stopThresh(r)
	return max(s, min(2*s, r.count-1))
}
