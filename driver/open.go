package driver

import (
	"fmt"
	"sync/atomic"

	"vnic/driver/dim"
	"vnic/hw"
	"vnic/ring"
	"vnic/stack"
)

// qVector is one MSI-X vector with its NAPI and the queue pair it serves
// (struct igb_q_vector).
type qVector struct {
	// legacy: the receive mode without NAPI (RxModeLegacy)
	legacy bool
	// dim moderates the vector while adaptive-rx is on.
	dim   atomic.Pointer[dim.DIM] // adaptive-rx: the RX queue's
	txDim atomic.Pointer[dim.DIM] // adaptive-tx: the TX queue's
	// rxMoved and txMoved: that side's DIM chose a new profile which
	// the apply task has not programmed yet.
	rxMoved, txMoved atomic.Bool
	apply            func() // programs dim's profile (a task: outside the fast path)
	pass             func() // the legacy handler's next pass (bound once)
	schedule         func() // scheduleNAPI, bound once for the tick's timer interrupt
	a                *Adapter
	vec              int
	cpu              *hw.CPU
	napi             *stack.NAPI
	rx               *rxRing
	tx               *txRing
	eims             uint32
	itr              itrState // igb's dynamic moderation (rx-usecs 1 or 3), poll context
	// itrReset asks the poll to start itr over (the setting changed).
	itrReset atomic.Bool
	// tick mode (M8): polled from the clock tick, never interrupted
	tick bool
	// quota mode: the polling thread and this vector's callbacks
	poller     *stack.PollThread
	rxCB, txCB *stack.PollCallback
}

// vector 0 serves the "other" causes; queue pair q uses vector q+1.
const otherVector = 0

// Open is igb_open (ndo_open).
func (a *Adapter) Open() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.up(nil)
}

// Stop is igb_close (ndo_stop).
func (a *Adapter) Stop() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.down(false)
	return nil
}

// up programs the device and enables interrupts, on rs when given (rings
// allocated for the current configuration, which up takes over) or on
// rings it allocates.
func (a *Adapter) up(rs *ringSet) error {
	if a.running {
		return nil
	}
	n := a.cfg.Queues
	fail := func(err error) error {
		a.freeAll()
		return fmt.Errorf("driver: %s: open: %w", a.netdev.Name(), err)
	}
	if rs == nil {
		set, err := a.allocRings(a.plan())
		if err != nil {
			return fail(err)
		}
		rs = &set
	}
	a.rx, a.tx = rs.rx, rs.tx
	a.powerUpLink()
	a.configure()
	// Vectors: "other" on CPU 0, queue pair q on CPU q mod n.
	if err := a.fn.MSIX.Request(otherVector, a.cpus[0], a.netdev.Name(), a.irqOther); err != nil {
		return fail(err)
	}
	for q := 0; q < n; q++ {
		cpu := a.cpus[q%len(a.cpus)]
		qv := &qVector{a: a, vec: q + 1, cpu: cpu, rx: a.rx[q], tx: a.tx[q], eims: 1 << (q + 1), legacy: a.cfg.RxMode == RxModeLegacy}
		weight := stack.NAPIWeight
		if a.cfg.RxMode == RxModeTick {
			weight, qv.tick = BurstMax, true
		}
		qv.napi = a.host.NewNAPI(a.netdev, cpu.ID(), qv.poll, weight)
		qv.napi.IRQ = qv.vec
		if a.fn.Checker != nil {
			qv.napi.Observer = a.fn.Checker
		}
		name := fmt.Sprintf("%s-TxRx-%d", a.netdev.Name(), q)
		handler := qv.irq
		if qv.legacy {
			handler = qv.legacyIRQ
		}
		if a.cfg.RxMode == RxModeQuota {
			qv.setupQuota(a.cfg.PollQuota)
			handler = qv.quotaIRQ
		}
		if err := a.fn.MSIX.Request(qv.vec, cpu, name, handler); err != nil {
			return fail(err)
		}
		qv.apply = qv.applyDIM
		qv.pass = qv.legacyPass
		qv.schedule = qv.scheduleNAPI
		if a.adaptiveRx {
			qv.dim.Store(dim.New())
		}
		if a.adaptiveTx {
			qv.txDim.Store(dim.New())
		}
		a.qv = append(a.qv, qv)
		qv.napi.Enable()
	}
	a.running = true
	a.isDown.Store(false)
	a.usedQueues = max(a.usedQueues, n)
	// Unmask: other causes (as igb_irq_enable: link and DMA faults; RX
	// overruns are counted, not interrupted for), then every vector.
	a.wr32(hw.IMS, hw.IcrLSC|hw.IcrDOUTSYNC)
	if a.cfg.RxMode == RxModeTick {
		a.wr32(hw.EIMS, 1<<otherVector) // queue causes are only polled
		a.startTick()
	} else {
		a.wr32(hw.EIMS, a.eimsAll())
	}
	a.checkLink()
	return nil
}

func (a *Adapter) eimsAll() uint32 {
	m := uint32(1) << otherVector
	for q := 0; q < a.cfg.Queues; q++ {
		m |= 1 << (q + 1)
	}
	return m
}

// configure programs the device for the allocated rings (igb_configure).
func (a *Adapter) configure() {
	n := a.cfg.Queues
	a.wr32(hw.CTRL, a.rd32(hw.CTRL)|hw.CtrlSLU|hw.CtrlFD)
	a.programFC()
	a.wr32(hw.GPIE, hw.GpieMSIXMode|hw.GpieEIAME|hw.GpiePBA|hw.GpieNSICR)
	// Queue pair q → vector q+1; other causes → vector 0.
	for m := 0; m < 8; m++ {
		a.wr32(hw.IVAR(m), 0)
	}
	for q := 0; q < n; q++ {
		e := uint32(q+1) | hw.IvarValid
		shift := uint(0)
		if q >= 8 {
			shift = 16
		}
		reg := hw.IVAR(q % 8)
		a.wr32(reg, a.rd32(reg)|(e|e<<8)<<shift)
	}
	a.wr32(hw.IVARMISC, (otherVector|hw.IvarValid)<<8)
	// As igb_irq_enable: every vector, "other" included, auto-clears its
	// EICR bit and auto-masks when its message is sent.
	a.wr32(hw.EIAC, a.eimsAll())
	a.wr32(hw.EIAM, a.eimsAll())
	itr := uint32(a.cfg.ITR.Microseconds()) << 2
	if a.adaptiveRx || a.adaptiveTx {
		itr = a.adaptiveInterval(dim.DefaultProfile, dim.DefaultProfile) << 2
	} else if dynamicITR(uint32(a.cfg.ITR.Microseconds())) {
		itr = itrStart
		for _, qv := range a.qv {
			qv.itrReset.Store(true)
		}
	}
	a.itrSetting.Store(uint32(a.cfg.ITR.Microseconds()))
	for v := 0; v <= n; v++ {
		a.wr32(hw.EITR(v), itr&hw.EitrIntervalMask)
	}
	// The receive delay timers (e1000's RxIntDelay/RxAbsIntDelay); RADV
	// first, as RDTR's write is what turns them on.
	a.wr32(hw.RADV, delayUnits(a.cfg.RxAbsIntDelay))
	a.wr32(hw.RDTR, delayUnits(a.cfg.RxIntDelay))
	a.setMACHW(a.netdev.Addr())

	// Transmit.
	for q, r := range a.tx {
		a.wr32(hw.TXDCTL(q), 0)
		a.wr32(hw.TDBAL(q), uint32(r.desc.Addr))
		a.wr32(hw.TDBAH(q), uint32(r.desc.Addr>>32))
		a.wr32(hw.TDLEN(q), r.count*ring.DescSize)
		a.wr32(hw.TDH(q), 0)
		a.wr32(hw.TDT(q), 0)
		a.wr32(hw.TXDCTL(q), hw.DctlEnable)
	}
	a.wr32(hw.TCTL, hw.TctlEN|hw.TctlPSP|0xF<<4|0x3F<<12)

	// Receive: off while the rings are set up.
	a.wr32(hw.RCTL, 0)
	for q, r := range a.rx {
		a.wr32(hw.RXDCTL(q), 0)
		a.wr32(hw.RDBAL(q), uint32(r.desc.Addr))
		a.wr32(hw.RDBAH(q), uint32(r.desc.Addr>>32))
		a.wr32(hw.RDLEN(q), r.count*ring.DescSize)
		a.wr32(hw.RDH(q), 0)
		a.wr32(hw.RDT(q), 0)
		a.wr32(hw.SRRCTL(q), uint32(a.rxBuf/1024)|hw.SrrctlDescAdv1Buf)
		a.wr32(hw.RXDCTL(q), hw.DctlEnable)
		r.ntu, r.ntc = 0, 0
		a.refill(r, r.count-1)
	}
	a.configureRSS()
	a.programNFC() // the queue filters come back after reset and ring changes
	a.programFeatures()
	a.wr32(hw.RLPML, uint32(a.netdev.MTU()+ethOverhead))
	a.wr32(hw.RCTL, a.rctlBase())
}

// rctlBase is RCTL with receive on, broadcast accepted, 2 KiB buffers
// (SRRCTL overrides per queue), CRC stripped and LPE for jumbo MTUs.
func (a *Adapter) rctlBase() uint32 {
	v := uint32(hw.RctlEN | hw.RctlBAM | hw.RctlSECRC)
	if a.netdev.MTU() > 1500 {
		v |= hw.RctlLPE
	}
	return v | a.rxModeBits()
}

// configureRSS writes the key, the indirection table (by default entry j
// = j mod n, ethtool_rxfh_indir_default; igb itself uses j·n/128) and
// MRQC, with RXCSUM.PCSD so the write-back carries the hash.
func (a *Adapter) configureRSS() {
	for i := 0; i < hw.RSSKeySize/4; i++ {
		k := a.rssKey[4*i:]
		a.wr32(hw.RSSRK0+4*uint32(i), uint32(k[0])|uint32(k[1])<<8|uint32(k[2])<<16|uint32(k[3])<<24)
	}
	for r := 0; r < hw.RetaSize/4; r++ {
		var v uint32
		for b := 0; b < 4; b++ {
			v |= uint32(a.indir[4*r+b]) << (8 * b)
		}
		a.wr32(hw.RETA0+4*uint32(r), v)
	}
	a.wr32(hw.RXCSUM, a.rd32(hw.RXCSUM)|hw.RxcsumPCSD)
	a.wr32(hw.MRQC, a.mrqc())
}

// mrqc is the MRQC value: RSS over IPv4 and TCP/IPv4 (and UDP/IPv4 ports
// when asked) with more than one queue.
func (a *Adapter) mrqc() uint32 {
	if a.cfg.Queues == 1 || a.cfg.DisableRSS {
		return 0
	}
	v := uint32(hw.MrqcEnableRSS | hw.MrqcIPv4 | hw.MrqcIPv4TCP)
	if a.rssUDP {
		v |= hw.MrqcIPv4UDP
	}
	return v
}

// refill hands k buffers to the device starting at ntu, then bumps RDT.
// The descriptor at the new ntu, the one the device does not own, has its
// status cleared (as igb_alloc_rx_buffers does): cleaned there earlier, it
// would still show DD, and a poll that cleans up to it must not take it
// for a new packet.
func (a *Adapter) refill(r *rxRing, k uint32) {
	for i := uint32(0); i < k; i++ {
		r.descAt(r.ntu).SetRead(r.bufs[r.ntu].Addr)
		r.ntu = ring.Next(r.ntu, r.count)
	}
	r.descAt(r.ntu).ClearStatus()
	a.wr32(hw.RDT(r.q), r.ntu)
	r.posts = 0
}

// down quiesces the device and frees everything (igb_down + free). With
// keep (a reconfiguration) nothing queued is lost and the carrier stays.
func (a *Adapter) down(keep bool) {
	if !a.quiesce(keep) {
		return
	}
	a.freeAll()
	if !keep {
		a.netdev.CarrierOff()
		a.powerDownLink()
	}
}

// powerUpLink is igb_power_up_link: the PHY's power-down bit cleared
// (the link comes up with the other end's).
func (a *Adapter) powerUpLink() {
	if bmcr, err := a.phyRead(hw.PhyBMCR); err == nil && bmcr&hw.BmcrPowerDown != 0 {
		_ = a.phyWrite(hw.PhyBMCR, bmcr&^hw.BmcrPowerDown)
	}
}

// powerDownLink is igb_power_down_link, as igb_reset does it for an
// interface that is not running (at probe and on close): the PHY
// powered down, so the other end of the cable loses its link too.
func (a *Adapter) powerDownLink() {
	if bmcr, err := a.phyRead(hw.PhyBMCR); err == nil && bmcr&hw.BmcrPowerDown == 0 {
		_ = a.phyWrite(hw.PhyBMCR, bmcr|hw.BmcrPowerDown)
	}
}

// quiesce is igb_down without the freeing: queues, interrupts and NAPI
// stopped, vectors released; false if the device was not running.
func (a *Adapter) quiesce(keep bool) bool {
	if !a.running {
		return false
	}
	a.eraseNFC()
	a.running = false
	a.isDown.Store(true)
	for _, r := range a.tx {
		// netif_tx_disable: wait for a start_xmit in flight, then stop.
		r.txq.Lock()
		r.txq.Stop()
		r.txq.Unlock()
	}
	a.wr32(hw.RCTL, a.rd32(hw.RCTL)&^hw.RctlEN)
	for q := range a.rx {
		a.wr32(hw.RXDCTL(q), 0)
	}
	for q := range a.tx {
		a.wr32(hw.TXDCTL(q), 0)
	}
	a.wr32(hw.TCTL, a.rd32(hw.TCTL)&^hw.TctlEN)
	a.wr32(hw.EIMC, 0xFFFFFFFF)
	a.wr32(hw.IMC, 0xFFFFFFFF)
	for _, qv := range a.qv {
		qv.napi.Disable()
		if qv.poller != nil {
			qv.poller.Unregister(qv.rxCB)
			qv.poller.Unregister(qv.txCB)
		}
		a.fn.MSIX.Free(qv.vec)
		if keep {
			qv.drain()
		}
		qv.flushStats()
	}
	a.fn.MSIX.Free(otherVector)
	a.updateStats()
	if keep {
		for _, r := range a.tx {
			r.txq.Requeue(r.unsent())
		}
	}
	return true
}

// drain delivers what the device already wrote to the RX ring and cleans
// the TX ring, with the NAPI disabled (reconfiguration).
func (qv *qVector) drain() {
	for qv.cleanRx(int(qv.rx.count)) > 0 {
	}
	qv.napi.FlushGRO()
	qv.cleanTx()
}

// unsent takes the skbs of packets on the ring the device has not written
// back, oldest first, and frees the rest.
func (r *txRing) unsent() []*stack.SKB {
	var out []*stack.SKB
	for i, end := r.ntc.Load(), r.ntu.Load(); i != end; {
		info := &r.info[i]
		if info.skb == nil {
			i = ring.Next(i, r.count)
			continue
		}
		if r.descAt(info.eop).Done() {
			info.skb.Consume()
		} else {
			out = append(out, info.skb)
		}
		next := ring.Next(info.eop, r.count)
		*info = txInfo{}
		i = next
	}
	return out
}

func (a *Adapter) freeAll() {
	for _, qv := range a.qv {
		a.fn.MSIX.Free(qv.vec)
	}
	a.retireVectors()
	a.fn.MSIX.Free(otherVector)
	for _, r := range a.rx {
		a.freeRx(r)
	}
	for _, r := range a.tx {
		a.freeTx(r)
	}
	a.rx, a.tx, a.qv = nil, nil, nil
}

// checkLink is the link half of igb_watchdog_task: STATUS.LU → carrier.
func (a *Adapter) checkLink() {
	a.linkRechecks.Add(1)
	if a.rd32(hw.STATUS)&hw.StatusLU != 0 {
		if !a.netdev.Carrier() {
			a.netdev.CarrierOn()
			for _, r := range a.tx {
				r.txq.Wake()
			}
		}
		return
	}
	if a.netdev.Carrier() {
		a.netdev.CarrierOff()
	}
}
