package driver

import (
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	"vnic/ethtool"
	"vnic/header"
	"vnic/hw"
	"vnic/stack"
)

// Config holds the driver's load-time parameters.
type Config struct {
	Name   string        // interface name template, default "vnic%d"
	Queues int           // RX/TX queue pairs, 1..8 (igb's limit), default 1
	RxRing int           // RX descriptors per ring, 8..4096, multiple of 8, default 256
	TxRing int           // TX descriptors per ring, default 256
	ITR    time.Duration // EITR interval per vector, 0 (no throttling) to 8191 µs
	// RxIntDelay and RxAbsIntDelay are e1000's module parameters of the
	// same names: the receive delay timers RDTR (restarted by every
	// frame) and RADV (from the first frame), in 1.024 µs steps up to
	// 67.1 ms, before EITR applies. RxAbsIntDelay needs RxIntDelay.
	RxIntDelay    time.Duration
	RxAbsIntDelay time.Duration
	RSSKey        []byte        // 40 bytes, or nil for a key drawn from Seed
	Seed          int64         // for the RSS key when RSSKey is nil
	TxTimeout     time.Duration // dev->watchdog_timeo, default 5 s
	MaxQueues     int           // cap on Queues and on ethtool -L, default 8 (igb's limit)
	DisableRSS    bool          // program MRQC without RSS: everything on queue 0
	// RxMode is how received packets reach the stack: RxModeNAPI (the
	// default), RxModeLegacy (interrupt per batch, netif_rx backlog),
	// RxModeQuota (Mogul's polling thread) or RxModeTick (tick polling).
	RxMode RxMode
	// LegacyBatch bounds the packets one legacy interrupt takes (0: all
	// the ring holds); 1 is one interrupt per packet.
	LegacyBatch int
	// PollQuota is RxModeQuota's packets per receive callback (0: no
	// bound, Mogul's Q = ∞).
	PollQuota int
}

// RxMode is how received packets reach the stack (the
// interrupts-versus-polling experiments' M1, M0, M7 and M8). The zero value
// is NAPI.
type RxMode uint8

// Receive modes.
const (
	RxModeNAPI RxMode = iota
	RxModeLegacy
	// RxModeQuota is Mogul and Ramakrishnan's polling thread (M7): the
	// interrupt schedules the CPU's polling thread, whose receive callback
	// takes at most PollQuota packets per turn through the whole stack
	// and whose transmit callback sends what the qdisc holds and cleans
	// completions (stack.PollThread).
	RxModeQuota
	// RxModeTick is pure polling on the clock tick (FreeBSD polling(4),
	// M8): the queue vectors are never unmasked; every TickPeriod a
	// timer interrupt schedules each queue's poll, which takes at most
	// BurstMax packets and waits for the next tick.
	RxModeTick
)

// rxModeNames are the modes as config files and flags spell them.
var rxModeNames = [...]string{RxModeNAPI: "napi", RxModeLegacy: "legacy", RxModeQuota: "quota", RxModeTick: "tick"}

// RxModeNames lists the spellings ParseRxMode takes, for messages:
// "napi, legacy, quota or tick".
const RxModeNames = "napi, legacy, quota or tick"

// String is the mode as ParseRxMode takes it.
func (m RxMode) String() string {
	if int(m) < len(rxModeNames) {
		return rxModeNames[m]
	}
	return fmt.Sprintf("RxMode(%d)", uint8(m))
}

// ParseRxMode reads a mode as config files and flags spell it: napi (also
// the empty string, the default), legacy, quota or tick.
func ParseRxMode(s string) (RxMode, bool) {
	if s == "" {
		return RxModeNAPI, true
	}
	for m, name := range rxModeNames {
		if s == name {
			return RxMode(m), true
		}
	}
	return 0, false
}

// delayUnit is RDTR's and RADV's step.
const delayUnit = 1024 * time.Nanosecond

// MaxRxIntDelay is the longest RxIntDelay and RxAbsIntDelay: 65535 steps
// of 1.024 µs, 67.1 ms.
const MaxRxIntDelay = time.Duration(hw.RdtrDelayMask) * delayUnit

// delayUnits converts a delay to RDTR/RADV units, rounded to the nearest.
func delayUnits(d time.Duration) uint32 {
	u := (d + delayUnit/2) / delayUnit
	if u > 1<<20 {
		u = 1 << 20 // out of range either way
	}
	return uint32(u)
}

// Tick polling's defaults: HZ = 1000 and kern.polling.burst_max.
const (
	TickPeriod = time.Millisecond
	BurstMax   = 150
)

// Load-time defaults, igb's: one queue pair, at most 8 (IGB_MAX_RX_QUEUES
// for the 82576), rings of 256 descriptors (IGB_DEFAULT_RXD/TXD).
const (
	DefaultQueues    = 1
	DefaultMaxQueues = 8
	DefaultRing      = 256
)

// Driver limits.
const (
	MinMTU      = 68
	MaxMTU      = 9216
	minRing     = 8
	maxRing     = 4096
	txBufSize   = 2048
	rxWriteBack = stack.NAPIWeight // buffers between RDT writes: one doorbell a poll (igb: 16, IGB_RX_BUFFER_WRITE)
	txCleanWork = 128
	mcListMax   = 512 // above this the driver uses MPE instead of the MTA
	rxHdrCopy   = 256 // IGB_RX_HDR_LEN: what igb copies out of an RX page

	// ethOverhead is an Ethernet header and one VLAN tag, without FCS.
	ethOverhead = header.EthernetHeaderLen + header.VLANTagLen
)

// ErrEEPROM is returned by Probe when the NVM checksum is wrong, in igb's
// words (igb_probe: "The NVM Checksum Is Not Valid", -EIO).
var ErrEEPROM = errors.New("driver: The NVM Checksum Is Not Valid")

// Adapter is the driver's per-device state (struct igb_adapter).
type Adapter struct {
	fn     hw.Function
	bar    hw.MMIO
	host   *stack.Host
	cpus   []*hw.CPU
	cfg    Config
	netdev *stack.NetDevice
	mac    stack.MAC

	mu      sync.Mutex // open/stop/reconfiguration
	running bool
	rx      []*rxRing
	tx      []*txRing
	qv      []*qVector
	rxBuf   int // RX buffer size in bytes
	rssKey  [40]byte
	// indir is the RSS indirection table (RETA); userIndir says the user
	// set it (ethtool -X), so a channel change keeps it.
	indir     [hw.RetaSize]uint8
	userIndir bool
	// usedQueues is the most queue pairs the device has run with: ethtool
	// -S reports them all, so totals never drop when channels shrink.
	usedQueues int
	rssUDP     bool   // MRQC hashes UDP/IPv4 ports (ethtool -N rx-flow-hash udp4 sdfn)
	msglevel   uint32 // netif_msg bits (ethtool -s msglvl)
	// adaptiveRx: each vector's EITR follows lib/dim (ethtool -C
	// adaptive-rx on).
	adaptiveRx bool
	// adaptiveTx: a second lib/dim instance per vector follows the TX
	// queue (ethtool -C adaptive-tx on); see adaptiveInterval.
	adaptiveTx bool
	tickTimer  stack.Timer // the tick receive mode's clock
	// itrSetting is rx-usecs as igb keeps it: 0, 1 (dynamic), 3
	// (dynamic conservative) or the fixed interval in µs; read by the
	// poll without the lock.
	itrSetting atomic.Uint32
	fcRx       bool // honour PAUSE (ethtool -A rx)
	fcTx       bool // send PAUSE (ethtool -A tx)
	qtot       [hw.NumQueues]queueTotals
	features   ethtool.Features // as last set by the stack
	// nfc is the ethtool -N rule table by location (nfc.go); nfcHits
	// counts every frame a rule steered.
	nfc     [NFCTableSize]*nfcRule
	nfcHits uint64

	descNeeded int // descriptors of the largest frame of the MTU, plus 2

	statsMu sync.Mutex
	hwStats HWStats

	txTimeouts   atomic.Uint64
	dmaFaults    atomic.Uint64
	lscEvents    atomic.Uint64
	txDropped    atomic.Uint64
	otherIRQs    atomic.Uint64
	linkRechecks atomic.Uint64
	linkPending  atomic.Bool
	// isDown is __IGB_DOWN: set while the device is being taken down or
	// is down, so that nothing (TX cleanup, the watchdog) wakes a queue.
	isDown   atomic.Bool
	linkTask func() // bound once: queueing it allocates nothing
}

// HWStats accumulates the device's clear-on-read statistics registers
// (igb_update_stats): each read returns what happened since the last one.
type HWStats struct {
	CRCErrs, MPC, RLEC, GPRC, BPRC, MPRC, GPTC uint64
	GORC, GOTC, TOR, TOT                       uint64
	RNBC, RUC, ROC, TPR, TPT, MPTC, BPTC       uint64
	IAC, ICRXOC, TSCTC                         uint64
	XONRXC, XONTXC, XOFFRXC, XOFFTXC           uint64
	PRC, PTC                                   [6]uint64
	RQDPC                                      [hw.NumQueues]uint64
	// vnic diagnostics (running counters, not clear-on-read).
	RxFiltered, RxDisabled, DMAFaults uint64
	TxNoLink                          uint64 // taken off a TX ring with the link down: dropped
}

func (a *Adapter) rd32(off uint32) uint32 { return a.bar.Read32(off) }
func (a *Adapter) wr32(off, v uint32)     { a.bar.Write32(off, v) }

// Probe is igb_probe: reset the device, read and check the EEPROM, take the
// MAC from it and register a net_device on host. cpus are the host's CPUs,
// which the vectors are spread over.
func Probe(fn hw.Function, host *stack.Host, cpus []*hw.CPU, cfg Config) (*Adapter, error) {
	if err := cfg.normalise(); err != nil {
		return nil, fmt.Errorf("driver: %s: %w", fn.Name, err)
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("driver: %s: no CPUs", fn.Name)
	}
	if fn.MSIX.Len() < cfg.Queues+1 {
		return nil, fmt.Errorf("driver: %s: %d queues need %d MSI-X vectors, device has %d", fn.Name, cfg.Queues, cfg.Queues+1, fn.MSIX.Len())
	}
	a := &Adapter{fn: fn, bar: fn.BAR0, host: host, cpus: cpus, cfg: cfg}
	a.isDown.Store(true)
	a.linkTask = func() {
		a.linkPending.Store(false)
		// Under the lock, as up() calls it: checkLink reads the rings,
		// which down() frees (a race a real-time close found).
		a.mu.Lock()
		if a.running {
			a.checkLink()
		}
		a.mu.Unlock()
	}
	if err := a.resetHW(); err != nil {
		return nil, fmt.Errorf("driver: %s: %w", fn.Name, err)
	}
	a.powerDownLink() // igb_reset for an interface not running: the link waits for open
	nvm, err := a.readNVM()
	if err != nil {
		return nil, fmt.Errorf("driver: %s: %w", fn.Name, err)
	}
	var sum uint16
	for _, w := range nvm {
		sum += w
	}
	if sum != hw.EEPROMChecksumSum {
		return nil, fmt.Errorf("%w: %s: words 0x00-0x3F sum to %#04x, want %#04x", ErrEEPROM, fn.Name, sum, hw.EEPROMChecksumSum)
	}
	a.mac = stack.MAC{byte(nvm[0]), byte(nvm[0] >> 8), byte(nvm[1]), byte(nvm[1] >> 8), byte(nvm[2]), byte(nvm[2] >> 8)}
	if a.mac.IsMulticast() || a.mac.IsZero() {
		return nil, fmt.Errorf("driver: %s: Invalid MAC Address %s in the EEPROM (not a unicast address)", fn.Name, a.mac)
	}
	if cfg.RSSKey != nil {
		copy(a.rssKey[:], cfg.RSSKey)
	} else {
		rand.New(rand.NewSource(cfg.Seed)).Read(a.rssKey[:])
	}
	maxq := min(cfg.MaxQueues, fn.MSIX.Len()-1)
	nd := stack.NewEtherDevice(cfg.Name, a, maxq, maxq, MaxMTU)
	if err := nd.SetRealNumQueues(cfg.Queues, cfg.Queues); err != nil {
		return nil, fmt.Errorf("driver: %s: %w", fn.Name, err)
	}
	a.defaultIndir()
	nd.SetAddrInit(a.mac)
	// LRO is off after probe (LRO-07); rx-ntuple-filter too, as igb
	// announces it only in hw_features.
	a.features = hwFeatures &^ (ethtool.LRO | ethtool.NTuple)
	nd.InitFeatures(hwFeatures, a.features)
	nd.WatchdogTimeout = cfg.TxTimeout
	a.netdev = nd
	a.setBufSizes(nd.MTU())
	if err := host.Register(nd); err != nil {
		return nil, fmt.Errorf("driver: %s: %w", fn.Name, err)
	}
	return a, nil
}

func (c *Config) normalise() error {
	if c.Name == "" {
		c.Name = "vnic%d"
	}
	if c.MaxQueues == 0 {
		c.MaxQueues = DefaultMaxQueues
	}
	if c.Queues == 0 {
		c.Queues = DefaultQueues
	}
	if c.MaxQueues > hw.NumQueues {
		return fmt.Errorf("max queues %d above the device's %d", c.MaxQueues, hw.NumQueues)
	}
	if c.Queues < 1 || c.Queues > c.MaxQueues {
		return fmt.Errorf("queues %d outside [1, %d]", c.Queues, c.MaxQueues)
	}
	for _, r := range []*int{&c.RxRing, &c.TxRing} {
		if *r == 0 {
			*r = DefaultRing
		}
		if *r < minRing || *r > maxRing || *r%8 != 0 {
			return fmt.Errorf("ring size %d: want a multiple of 8 in [%d, %d]", *r, minRing, maxRing)
		}
	}
	if c.ITR < 0 || c.ITR > MaxITRUsecs*time.Microsecond || c.ITR%time.Microsecond != 0 || !validITR(uint32(c.ITR/time.Microsecond)) {
		return fmt.Errorf("ITR %v: want 0 (off), 1µs (dynamic), 3µs (dynamic conservative) or whole µs from %dµs to %dµs", c.ITR, MinITRUsecs, MaxITRUsecs)
	}
	if c.RSSKey != nil && len(c.RSSKey) != 40 {
		return fmt.Errorf("RSS key of %d bytes, want 40", len(c.RSSKey))
	}
	if int(c.RxMode) >= len(rxModeNames) {
		return fmt.Errorf("receive mode %q: want %s", c.RxMode, RxModeNames)
	}
	if c.PollQuota < 0 {
		return fmt.Errorf("poll quota %d: want 0 (none) or more", c.PollQuota)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"receive delay", c.RxIntDelay}, {"absolute receive delay", c.RxAbsIntDelay}} {
		if d.v < 0 || delayUnits(d.v) > hw.RdtrDelayMask {
			return fmt.Errorf("%s %v: want 0 to %v", d.name, d.v, time.Duration(hw.RdtrDelayMask)*delayUnit)
		}
	}
	if c.RxAbsIntDelay > 0 && delayUnits(c.RxIntDelay) == 0 {
		return fmt.Errorf("absolute receive delay %v without a receive delay: the device ignores RADV while RDTR is 0", c.RxAbsIntDelay)
	}
	if c.TxTimeout == 0 {
		c.TxTimeout = 5 * time.Second
	}
	return nil
}

// Remove is igb_remove, the device going away (hot-unplugged, or the
// host that held it gone): the net_device unregistered, which closes it
// first (ndo_stop frees its rings and vectors), then the device reset so
// that it stops doing DMA.
func (a *Adapter) Remove() error {
	if err := a.host.Unregister(a.netdev); err != nil {
		return fmt.Errorf("driver: %s: %w", a.fn.Name, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.resetHW(); err != nil {
		return fmt.Errorf("driver: %s: remove: %w", a.fn.Name, err)
	}
	return nil
}

// NetDevice returns the registered net_device.
func (a *Adapter) NetDevice() *stack.NetDevice { return a.netdev }

// resetHW is igb_reset_hw: CTRL.RST, then wait for it to self-clear and for
// the EEPROM auto-read.
func (a *Adapter) resetHW() error {
	a.wr32(hw.EIMC, 0xFFFFFFFF)
	a.wr32(hw.IMC, 0xFFFFFFFF)
	a.wr32(hw.CTRL, a.rd32(hw.CTRL)|hw.CtrlRST)
	if !a.pollReg(hw.CTRL, hw.CtrlRST, 0) {
		return errors.New("reset did not complete")
	}
	if !a.pollReg(hw.EECD, hw.EecdAutoRd, hw.EecdAutoRd) {
		return errors.New("EEPROM auto-read did not complete")
	}
	a.wr32(hw.EIMC, 0xFFFFFFFF)
	a.wr32(hw.IMC, 0xFFFFFFFF)
	return nil
}

// pollReg reads off until (v & mask) == want, at most 1000 times.
func (a *Adapter) pollReg(off, mask, want uint32) bool {
	for i := 0; i < 1000; i++ {
		if a.rd32(off)&mask == want {
			return true
		}
	}
	return false
}

// readNVM reads words 0x00-0x3F through EERD.
func (a *Adapter) readNVM() ([64]uint16, error) {
	var w [64]uint16
	for i := range w {
		a.wr32(hw.EERD, uint32(i)<<hw.EerdAddrShift|hw.EerdStart)
		ok := false
		for k := 0; k < 1000; k++ {
			v := a.rd32(hw.EERD)
			if v&hw.EerdDone != 0 {
				w[i] = uint16(v >> hw.EerdDataShift)
				ok = true
				break
			}
		}
		if !ok {
			return w, fmt.Errorf("EERD read of word %#x timed out", i)
		}
	}
	return w, nil
}

// setBufSizes derives the RX buffer size and the TX stop thresholds from the MTU.
func (a *Adapter) setBufSizes(mtu int) {
	frame := mtu + ethOverhead
	a.rxBuf = rxBufSize(mtu)
	a.descNeeded = (frame+txBufSize-1)/txBufSize + 2
}

// rxBufSize is the RX buffer for an MTU: 2 KiB, or the frame rounded up to
// SRRCTL's 1 KiB units.
func rxBufSize(mtu int) int {
	if frame := mtu + ethOverhead; frame > 2048 {
		return (frame + 1023) / 1024 * 1024
	}
	return 2048
}

// Stats are the driver's own event counters.
type Stats struct {
	TxTimeouts, DMAFaults, LinkChanges, TxDropped, OtherIRQs uint64
}

// DriverStats returns the driver's counters.
func (a *Adapter) DriverStats() Stats {
	return Stats{a.txTimeouts.Load(), a.dmaFaults.Load(), a.lscEvents.Load(), a.txDropped.Load(), a.otherIRQs.Load()}
}

// QueueStats are one queue pair's driver-side figures.
type QueueStats struct {
	Interrupts uint64 // MSI-X messages on the pair's vector
	Polls      uint64 // NAPI poll calls
	PollWork   uint64 // RX packets those polls returned
	BudgetHits uint64 // polls that used their whole budget
	EmptyPolls uint64 // polls that found no RX work (spurious interrupts)
	RxDrops    uint64 // RQDPC: frames the device dropped for want of descriptors
	TxRestarts uint64 // queue resets by the TX timeout watchdog
	CsumErrors uint64 // packets the device reported with a bad checksum
	LROFrames  uint64 // wire frames received inside LRO aggregates
}

// QueueStats returns queue pair q's figures since probe, for every queue
// the device has run with.
func (a *Adapter) QueueStats(q int) QueueStats {
	hs := a.HWStats()
	a.mu.Lock()
	defer a.mu.Unlock()
	var s QueueStats
	// Every queue the device has run with answers (ethtool -S lists them
	// all), with its counts across ring, channel and MTU changes.
	if q < 0 || q >= max(a.cfg.Queues, a.usedQueues) || q >= len(a.qtot) {
		return s
	}
	s.RxDrops = hs.RQDPC[q]
	s.Interrupts = a.fn.MSIX.Count(q + 1) // queue q's vector (otherVector is 0)
	t := &a.qtot[q]
	s.Polls, s.PollWork, s.BudgetHits, s.EmptyPolls = t.polls.Load(), t.pollWork.Load(), t.budgetHits.Load(), t.emptyPolls.Load()
	if q < len(a.qv) {
		polls, work, hits, empty := a.qv[q].pollCounts()
		s.Polls, s.PollWork, s.BudgetHits, s.EmptyPolls = s.Polls+polls, s.PollWork+work, s.BudgetHits+hits, s.EmptyPolls+empty
	}
	s.TxRestarts = t.restarts.Load()
	s.CsumErrors = t.csumErr.Load()
	s.LROFrames = t.lro.Load()
	return s
}

// Queues returns the number of queue pairs.
func (a *Adapter) Queues() int { return a.cfg.Queues }

// RSSKey returns the RSS hash key programmed into RSSRK (get_rxfh).
func (a *Adapter) RSSKey() [40]byte { return a.rssKey }

// NAPI returns queue pair q's NAPI instance (what a socket busy-polls:
// the napi_id its packets carry), or nil when the device is down.
func (a *Adapter) NAPI(q int) *stack.NAPI {
	a.mu.Lock()
	defer a.mu.Unlock()
	if q < 0 || q >= len(a.qv) {
		return nil
	}
	return a.qv[q].napi
}
