package hw

import (
	"fmt"
	"net"
	"time"

	"vnic/offload"
	"vnic/ring"
)

// MMIO is a register BAR: aligned 32-bit reads and writes at byte offsets.
type MMIO interface {
	Read32(off uint32) uint32
	Write32(off uint32, v uint32)
}

// Function is what a driver gets at probe: the device's register BAR, its
// MSI-X table, the host's DMA memory and, in tests, the contract checker
// NAPI reports to. It is the whole of the driver's view of the hardware.
type Function struct {
	Name    string
	BAR0    MMIO
	MSIX    *MSIX
	DMA     *DMA
	Checker *Checker // nil unless contract checking is on
}

// DeviceConfig describes one vnic device.
type DeviceConfig struct {
	Name    string
	MAC     net.HardwareAddr // burnt into the EEPROM
	Vectors int              // MSI-X table size; default 10 (82576)
	Checker bool             // flag driver contract violations
}

// Device is the vnic NIC model. All register, RX and TX work runs under mu.
type Device struct {
	mu    mutex
	name  string
	clock Clock
	dma   *DMA
	msix  *MSIX

	regs   [regSpace / 4]uint32
	eeprom [eepromWords]uint16
	phy    [32]uint16

	// TDT writes waiting for the writing CPU's work to reach them
	// (virtual time; the clock's goroutine only).
	doorbells [NumQueues][]doorbell
	dbHead    [NumQueues]int // first pending entry
	dbTimer   [NumQueues]Timer

	port    Port // where transmitted frames go
	carrier bool // a peer is connected
	// linkOK: the PHY agreed speed and duplex with the other end;
	// linkMbps and linkFull are what it agreed.
	linkOK     bool
	linkMbps   int
	linkFull   bool
	negotiator negotiator
	pause      pauseState

	stats    [statWords]uint64 // statistics counters by (off-0x4000)/4
	rqdpc    [NumQueues]uint64
	diag     [(vdiagEnd-VUWC)/4 + 1]uint64 // VUWC..vdiagEnd
	txNoLink uint64                        // VTXNL

	rss      *offload.Toeplitz
	rssDirty bool

	// Queue filters (filter.go): the ones that can steer, and the frames
	// each steered since its counter was read.
	filtersOn  uint16
	filterHits [filterHitsCount]uint64

	vec [NumVectors]vecState
	rxd [NumQueues]rxDelay // RDTR/RADV state per RX queue
	txq [NumQueues]txQueue
	lro [NumQueues]lroState
	rxv [NumQueues]rxView
	rxc rxCounts // the receive counts not yet added (rx.go)
	// rxvGen counts writes to the registers an rxView is made from
	// (RDBAL, RDBAH, RDLEN, SRRCTL, RCTL) and resets: a view made at
	// another count is out of date.
	rxvGen uint64

	// A ReceiveBurst in progress and the RX queues whose causes wait for
	// its end.
	inBurst     bool
	burstCauses uint32

	checker *Checker
}

type vecState struct {
	until time.Duration // end of the throttle window
	timer Timer
}

type txQueue struct {
	mu      mutex  // serialises the engine of one queue (real time)
	scratch []byte // a burst's frames, gathered (maxFrame + txBurstBytes)
	seg     []byte // TSO segment being sent
	// The burst taken off the ring (the engine's, under mu): packets
	// [next, n) wait in the MAC for the port.
	burst   [txBurst]txPacket
	next, n int
	frames  [][]byte          // a run of them for a port that takes bursts (cap txBurst)
	ctx     [2]ring.TxContext // context slots (IDX)
	ctxOK   [2]bool
	waiting bool  // waiting for the wire (or a PAUSE)
	flushed bool  // a reset emptied the MAC: the engine drops [next, n)
	timer   Timer // wire-ready continuation
}

const statWords = (ICRXOC-CRCERRS)/4 + 1

// maxFrame is the largest frame the TX engine assembles (a TSO super-frame).
const maxFrame = 65536 + 256

// NewDevice builds a device on clock whose DMA goes to dma.
func NewDevice(cfg DeviceConfig, clock Clock, dma *DMA) (*Device, error) {
	if len(cfg.MAC) != 6 {
		return nil, fmt.Errorf("hw: device %s: MAC %q is not 6 bytes", cfg.Name, cfg.MAC)
	}
	if cfg.Vectors == 0 {
		cfg.Vectors = 10
	}
	if cfg.Vectors < 1 || cfg.Vectors > NumVectors {
		return nil, fmt.Errorf("hw: device %s: %d MSI-X vectors, want 1..%d", cfg.Name, cfg.Vectors, NumVectors)
	}
	d := &Device{name: cfg.Name, clock: clock, dma: dma, msix: NewMSIX(cfg.Vectors)}
	virtual := clock.Virtual()
	d.mu.off = virtual
	d.msix.mu.off = virtual
	d.eeprom = DefaultEEPROM(cfg.MAC)
	for v := range d.vec {
		d.vec[v].timer = clock.NewTimer(func() { d.throttleExpired(v) })
	}
	for q := range d.lro {
		d.lro[q].timer = clock.NewTimer(func() { d.lroTimer(q) })
		d.rxd[q].packet = clock.NewTimer(func() { d.rxDelayExpired(q) })
		d.rxd[q].abs = clock.NewTimer(func() { d.rxDelayExpired(q) })
	}
	for q := range d.txq {
		d.txq[q].scratch = make([]byte, maxFrame+txBurstBytes)
		d.txq[q].seg = make([]byte, maxFrame)
		d.txq[q].frames = make([][]byte, 0, txBurst)
		d.txq[q].mu.off = virtual
		d.txq[q].timer = clock.NewTimer(func() {
			d.mu.Lock()
			d.txq[q].waiting = false
			d.mu.Unlock()
			d.txRun(q)
		})
	}
	d.pause.pending = -1
	d.pause.timer = clock.NewTimer(d.pauseTimer)
	d.pause.refresh = clock.NewTimer(d.pauseRefresh)
	if cfg.Checker {
		d.checker = newChecker(d)
		prev := dma.OnFree
		dma.OnFree = func(addr uint64, size int) {
			if prev != nil {
				prev(addr, size)
			}
			d.checkFree(addr, size)
		}
	}
	d.rss = offload.NewToeplitz(make([]byte, offload.RSSKeySize))
	d.phyReset()
	d.reset()
	return d, nil
}

// Name returns the device name.
func (d *Device) Name() string { return d.name }

// Function returns the driver's view of the device.
func (d *Device) Function() Function {
	return Function{Name: d.name, BAR0: d, MSIX: d.msix, DMA: d.dma, Checker: d.checker}
}

// Checker returns the contract checker, or nil.
func (d *Device) Checker() *Checker { return d.checker }

// MSIX returns the device's MSI-X table.
func (d *Device) MSIX() *MSIX { return d.msix }

// reset restores every register's reset value (CTRL.RST and power-on).
func (d *Device) reset() {
	clear(d.regs[:])
	d.rxvGen++
	for _, r := range regTable {
		for k := 0; k < r.n; k++ {
			d.regs[(r.off+uint32(k)*r.stride)/4] = r.reset
		}
	}
	mac := d.eepromMAC()
	d.regs[RAL(0)/4] = uint32(mac[0]) | uint32(mac[1])<<8 | uint32(mac[2])<<16 | uint32(mac[3])<<24
	d.regs[RAH(0)/4] = uint32(mac[4]) | uint32(mac[5])<<8 | RahAV
	// The PHY keeps its settings: CTRL.RST resets the MAC only (the PHY
	// has its own reset, BMCR.RESET).
	d.pause.untilPs, d.pause.xoffSent = 0, false
	if d.pause.refresh != nil {
		d.pause.refresh.Stop()
	}
	for v := range d.vec {
		d.vec[v].timer.Stop()
		d.vec[v].until = 0
	}
	for q := range d.txq {
		d.txq[q].ctxOK = [2]bool{}
		// The MAC's FIFO is emptied: nothing waits for the wire.
		d.txq[q].timer.Stop()
		d.txq[q].waiting = false
		d.txq[q].flushed = true
	}
	for q := range d.lro {
		d.lro[q].open = false
		d.lro[q].timer.Stop()
		// Delayed causes die with the registers that would deliver them.
		d.rxd[q].pending, d.rxd[q].absArmed = false, false
		d.rxd[q].packet.Stop()
		d.rxd[q].abs.Stop()
	}
	d.rssDirty = true
	d.filtersOn, d.filterHits = 0, [filterHitsCount]uint64{}
	if d.checker != nil {
		d.checker.resetRings()
	}
}

// linkUp is STATUS.LU: the MAC is told to bring the link up and there is a
// peer, or the PHY loops back.
func (d *Device) linkUp() bool {
	return d.regs[CTRL/4]&CtrlSLU != 0 && ((d.carrier && d.linkOK && !d.phyPoweredDown()) || d.phyLoopback())
}

// setLinkInputs runs fn, which may change what linkUp depends on, and raises
// LSC if the link state changed.
func (d *Device) setLinkInputs(fn func()) {
	before := d.linkUp()
	fn()
	if d.linkUp() != before {
		d.setICR(IcrLSC)
	}
}

// Read32 is an MMIO read.
func (d *Device) Read32(off uint32) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.read(off)
}

func (d *Device) read(off uint32) uint32 {
	r, ok := lookupReg(off)
	if !ok {
		d.diag[(VURC-VUWC)/4]++
		return 0
	}
	switch {
	case off == STATUS:
		v := uint32(StatusGIOME)
		if d.linkUp() {
			v |= StatusLU
			switch {
			case d.phyLoopback() && !(d.carrier && d.linkOK):
				v |= StatusFD | StatusSpeed1G
			case d.linkMbps >= 1000:
				v |= StatusSpeed1G
			case d.linkMbps >= 100:
				v |= StatusSpeed100
			}
			if d.linkFull || (d.phyLoopback() && !(d.carrier && d.linkOK)) {
				v |= StatusFD
			}
		}
		return v
	case off == VTXNL:
		return uint32(d.txNoLink)
	case off == VLSPD:
		if d.linkUp() && d.carrier && d.linkOK {
			return uint32(d.linkMbps)
		}
		return 0
	case off == ICR:
		v := d.regs[ICR/4]
		d.regs[ICR/4] = 0
		return v
	case off == ICS:
		return d.regs[ICR/4]
	case off >= VETQFHC0 && off < VFTQFHC0+4*NumFTQF:
		return d.readFilterHits(off)
	case off == IMC:
		return d.regs[IMS/4]
	case off >= VUWC && off <= vdiagEnd:
		if off == VCCV && d.checker != nil {
			return uint32(d.checker.Count())
		}
		return uint32(d.diag[(off-VUWC)/4])
	case r.kind == kWO:
		return 0
	case off >= CRCERRS && off <= ICRXOC:
		return d.readStat(off, r.kind)
	case off >= RDBAL0 && off < RDBAL0+0x40*NumQueues && (off-RDBAL0)%0x40 == qRQDPC:
		q := (off - RDBAL0) / 0x40
		v := sat32(d.rqdpc[q])
		d.rqdpc[q] = 0
		return v
	}
	return d.regs[off/4]
}

func sat32(v uint64) uint32 {
	if v > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(v)
}

// readStat reads a statistics register with clear-on-read semantics. A
// 64-bit pair is kept in the low register's slot; reading the high half
// clears it.
func (d *Device) readStat(off uint32, kind regKind) uint32 {
	i := (off - CRCERRS) / 4
	switch kind {
	case kRCL:
		return uint32(d.stats[i])
	case kRCH:
		v := uint32(d.stats[i-1] >> 32)
		d.stats[i-1] = 0
		return v
	}
	v := sat32(d.stats[i])
	d.stats[i] = 0
	return v
}

func (d *Device) count(off uint32, n uint64) {
	i := (off - CRCERRS) / 4
	v := d.stats[i] + n
	if v < n { // 64-bit saturation
		v = ^uint64(0)
	}
	d.stats[i] = v
}

// Write32 is an MMIO write.
func (d *Device) Write32(off uint32, v uint32) {
	if off >= TDBAL0 && off < TDBAL0+0x40*NumQueues && (off-TDBAL0)%0x40 == qDT {
		if vc, ok := d.clock.(*VirtualClock); ok && vc.current != nil && vc.current.charged > 0 {
			// A doorbell rings when the CPU gets to it: in virtual time
			// a work item's code runs at its start and its cost is
			// charged after, so the write takes effect that far in.
			d.deferDoorbell(int((off-TDBAL0)/0x40), off, v, vc.current.charged)
			return
		}
	}
	// Program order: doorbells written before a write that reconfigures
	// transmission (a queue's other registers, TCTL, CTRL) take effect
	// before it.
	switch {
	case off >= TDBAL0 && off < TDBAL0+0x40*NumQueues:
		d.flushDoorbells(int((off - TDBAL0) / 0x40))
	case off == TCTL || off == CTRL:
		for q := range d.doorbells {
			d.flushDoorbells(q)
		}
	}
	d.write32(off, v)
}

// flushDoorbells applies queue q's pending TDT writes now.
func (d *Device) flushDoorbells(q int) {
	if d.dbHead[q] == len(d.doorbells[q]) {
		return
	}
	for d.dbHead[q] < len(d.doorbells[q]) {
		db := d.doorbells[q][d.dbHead[q]]
		d.dbHead[q]++
		d.write32(db.off, db.v)
	}
	d.doorbells[q], d.dbHead[q] = d.doorbells[q][:0], 0
	d.dbTimer[q].Stop()
}

// doorbell is a TDT write waiting for the CPU to get to it.
type doorbell struct {
	at  time.Duration
	off uint32
	v   uint32
}

// deferDoorbell queues a TDT write lag from now (virtual time).
func (d *Device) deferDoorbell(q int, off, v uint32, lag time.Duration) {
	at := d.clock.Now() + lag
	d.doorbells[q] = append(d.doorbells[q], doorbell{at, off, v})
	if len(d.doorbells[q])-d.dbHead[q] == 1 {
		if d.dbTimer[q] == nil {
			d.dbTimer[q] = d.clock.NewTimer(func() { d.ringDoorbells(q) })
		}
		d.dbTimer[q].Reset(lag)
	}
}

// ringDoorbells applies the queued TDT writes that are due.
func (d *Device) ringDoorbells(q int) {
	now := d.clock.Now()
	for d.dbHead[q] < len(d.doorbells[q]) && d.doorbells[q][d.dbHead[q]].at <= now {
		db := d.doorbells[q][d.dbHead[q]]
		d.dbHead[q]++
		d.write32(db.off, db.v)
	}
	if d.dbHead[q] == len(d.doorbells[q]) {
		d.doorbells[q], d.dbHead[q] = d.doorbells[q][:0], 0 // reuse the array
		return
	}
	d.dbTimer[q].Reset(d.doorbells[q][d.dbHead[q]].at - now)
}

func (d *Device) write32(off uint32, v uint32) {
	d.mu.Lock()
	kick := d.write(off, v)
	d.mu.Unlock()
	for q := 0; kick != 0; q++ {
		if kick&(1<<q) != 0 {
			kick &^= 1 << q
			d.txRun(q)
		}
	}
}

// write applies a register write; it returns the TX queues to run.
func (d *Device) write(off uint32, v uint32) uint32 {
	r, ok := lookupReg(off)
	if !ok || r.kind == kRO || r.kind == kRC || r.kind == kRCL || r.kind == kRCH {
		d.diag[0]++
		return 0
	}
	v &= r.mask
	idx := off / 4
	switch {
	case off == CTRL:
		if v&CtrlRST != 0 {
			d.setLinkInputs(d.reset)
			return 0
		}
		d.setLinkInputs(func() { d.regs[idx] = v })
		return 0
	case off == EERD:
		d.eerd(v)
		return 0
	case off == EEWR:
		d.eewr(v)
		return 0
	case off == MDIC:
		d.mdic(v)
		return 0
	case off == ICR:
		d.regs[ICR/4] &^= v
		return 0
	case off == RDTR:
		d.regs[idx] = v &^ RdtrFPD
		if v&RdtrFPD != 0 {
			d.flushRxDelays()
		}
		return 0
	case off == ICS:
		d.setICR(v)
		return 0
	case off == IMS:
		old := d.regs[ICR/4] & d.regs[IMS/4]
		d.regs[IMS/4] |= v
		if d.regs[ICR/4]&d.regs[IMS/4]&^old != 0 {
			d.raiseOther()
		}
		return 0
	case off == IMC:
		d.regs[IMS/4] &^= v
		return 0
	case off == EICS:
		d.setEICR(v)
		return 0
	case off == EIMS:
		d.regs[EIMS/4] |= v
		if d.checker != nil {
			d.checker.unmask(v)
		}
		// Unmasking (or re-writing) a vector with a cause pending fires it.
		d.fire(d.regs[EICR/4] & d.regs[EIMS/4] & v)
		return 0
	case off == EIMC:
		d.regs[EIMS/4] &^= v
		return 0
	case off == EICR:
		d.regs[EICR/4] &^= v
		return 0
	case off >= RSSRK0 && off < RSSRK0+40:
		d.regs[idx] = v
		d.rssDirty = true
		return 0
	case isFilterReg(off):
		d.filterWrite(off, v)
		return 0
	case off >= RDBAL0 && off < RDBAL0+0x40*NumQueues:
		q := int((off - RDBAL0) / 0x40)
		switch (off - RDBAL0) % 0x40 {
		case qDT:
			d.rdtWrite(q, v)
			return 0
		case qDBAL, qDBAH, qDLEN, qSRRCTL:
			d.rxvGen++
		case qRSCCTL:
			if v&RscctlEn == 0 {
				d.lroFlush(q)
			}
		case qDCTL:
			if v&DctlEnable == 0 && d.lro[q].open {
				// A disabled queue drops its aggregate, counted like any
				// frame that meets a disabled queue.
				d.lro[q].open = false
				d.lro[q].timer.Stop()
				d.diag[(VRXDIS-VUWC)/4] += uint64(d.lro[q].frames)
			}
		}
		d.regs[idx] = v
		return 0
	case off >= TDBAL0 && off < TDBAL0+0x40*NumQueues:
		q := int((off - TDBAL0) / 0x40)
		if (off-TDBAL0)%0x40 == qDT {
			if d.tdtWrite(q, v) {
				return 1 << q
			}
			return 0
		}
		d.regs[idx] = v
		if (off-TDBAL0)%0x40 == qDCTL && v&DctlEnable != 0 {
			return 1 << q
		}
		return 0
	case off == RCTL:
		d.regs[idx] = v
		d.rxvGen++
		return 0
	case off == TCTL:
		d.regs[idx] = v
		var kick uint32
		if v&TctlEN != 0 {
			// Enabling the transmitter starts every enabled queue.
			for q := 0; q < NumQueues; q++ {
				if d.regs[TXDCTL(q)/4]&DctlEnable != 0 && d.regs[TDH(q)/4] != d.regs[TDT(q)/4] {
					kick |= 1 << q
				}
			}
		}
		return kick
	}
	d.regs[idx] = v
	return 0
}

// Connect attaches the device's MAC to port p (nil disconnects). A connected
// port brings carrier up; the link follows CTRL.SLU and raises LSC.
func (d *Device) Connect(p Port) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setLinkInputs(func() {
		d.port = p
		d.carrier = p != nil
		// A port that is not a cable (a test sink, a TAP) takes the
		// PHY's default, 1000 Mb/s full duplex; a cable negotiates.
		d.linkOK, d.linkMbps, d.linkFull = p != nil, 1000, true
		d.negotiator = nil
	})
}

// negotiator is the medium a device's PHY negotiates over (a Cable).
type negotiator interface {
	renegotiate()
	repower()
}

// PHYConfig is what a device's PHY offers: autonegotiation (advertising
// every mode, or up to AdvMbps), or a forced speed (10, 100 or 1000 Mb/s)
// and duplex.
type PHYConfig struct {
	Autoneg bool
	AdvMbps int // 0: every mode (the link runs at the medium's rate)
	Mbps    int
	Full    bool
	// PowerDown: the PHY is powered down (BMCR.PDOWN), so no link.
	PowerDown bool
}

// phyConfig reads the PHY's BMCR.
func (d *Device) phyConfig() PHYConfig {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.phy[PhyBMCR]
	c := PHYConfig{Autoneg: b&BmcrANEnable != 0, Mbps: 10, Full: b&BmcrFD != 0, PowerDown: b&BmcrPowerDown != 0}
	switch {
	case b&BmcrSpeed1G != 0:
		c.Mbps = 1000
	case b&BmcrSpeed100 != 0:
		c.Mbps = 100
	}
	anar, gctl := d.phy[PhyANAR], d.phy[Phy1000CTL]
	if c.Autoneg && (anar != anarDefault || gctl != gctlDefault) {
		switch {
		case gctl&(Gctl1000Full|Gctl1000Half) != 0:
			c.AdvMbps = 1000
		case anar&(Anar100Full|Anar100Half) != 0:
			c.AdvMbps = 100
		case anar&(Anar10Full|Anar10Half) != 0:
			c.AdvMbps = 10
		default:
			c.AdvMbps = -1 // nothing advertised
		}
	}
	return c
}

// setNegotiated is the outcome of negotiation: the link comes up at
// mbps (ok) or stays down.
func (d *Device) setNegotiated(ok bool, mbps int, full bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setLinkInputs(func() {
		d.linkOK, d.linkMbps, d.linkFull = ok, mbps, full
	})
}

// SetCarrier changes the carrier without changing the port: a cable pulled
// and plugged back.
func (d *Device) SetCarrier(up bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setLinkInputs(func() { d.carrier = up && d.port != nil })
}

// LinkUp reports STATUS.LU.
func (d *Device) LinkUp() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.linkUp()
}
