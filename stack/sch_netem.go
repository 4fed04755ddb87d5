package stack

import (
	"fmt"
	"syscall"
	"time"
)

// netem is the network emulator (net/sched/sch_netem.c, Linux 6.x): it
// delays packets (a fixed latency plus jitter drawn uniformly or from a
// distribution table, with correlation), serialises them at a rate, drops,
// duplicates, corrupts and reorders them with given probabilities, and
// holds them in a time-sorted queue (tfifo) that a watchdog on the host's
// clock releases. Every draw comes from one generator seeded from the
// host's seed (or TCA_NETEM_PRNG_SEED), so that a run in virtual time is
// the same run each time.

// NetemConfig is a netem qdisc's state as netem_change leaves it and
// netem_dump reports it. Probabilities and correlations are fractions of
// 2^32-1 (tc's percentages scaled, ~0 is 100%).
type NetemConfig struct {
	Limit     uint32        // packets held at most (sch->limit)
	Latency   time.Duration // added delay
	Jitter    time.Duration // its spread, at most 2^31-1 ns
	Loss      uint32        // the random loss model's probability
	Gap       uint32        // reorder: every gap-th packet goes first
	Duplicate uint32
	Reorder   uint32
	Corrupt   uint32

	DelayCorr, LossCorr, DupCorr, ReorderCorr, CorruptCorr uint32

	LossModel NetemLossModel
	GI        NetemGI // the 4-state model (loss state)
	GE        NetemGE // Gilbert-Elliot (loss gemodel)
	ECN       bool    // a loss marks ECN-capable packets CE instead

	Rate           uint64 // bytes per second (0: none)
	PacketOverhead int32
	CellSize       uint32
	CellOverhead   int32

	Slot NetemSlot

	DelayDist []int16 // the delay's distribution table (nil: uniform)
	SlotDist  []int16 // the slots' distribution table

	Seed uint64 // the generator's seed (TCA_NETEM_PRNG_SEED)

	// What a change restarts, netem_change's side effects: the
	// correlated generators of the attributes the request carries
	// (init_crandom), the slot (get_slot), the generator (a seed given).
	Restart NetemRestart
}

// NetemRestart says what a change re-initialises.
type NetemRestart uint8

// What NetemConfig.Restart may name.
const (
	RestartCorr    NetemRestart = 1 << iota // delay, loss and duplicate correlations (TCA_NETEM_CORR)
	RestartReorder                          // TCA_NETEM_REORDER
	RestartCorrupt                          // TCA_NETEM_CORRUPT
	RestartSlot                             // TCA_NETEM_SLOT
	RestartSeed                             // TCA_NETEM_PRNG_SEED
	RestartLoss                             // TCA_NETEM_LOSS: the loss model's chain starts in its first state
)

// NetemLossModel is netem's loss generator (CLG_*).
type NetemLossModel uint8

// Loss models.
const (
	LossRandom NetemLossModel = iota // independent, with correlation
	Loss4State                       // the GI model's 4-state Markov chain
	LossGE                           // Gilbert-Elliot
)

// NetemGI is struct tc_netem_gimodel: the 4-state chain's transition
// probabilities.
type NetemGI struct{ P13, P31, P32, P14, P23 uint32 }

// NetemGE is struct tc_netem_gemodel: Gilbert-Elliot's good→bad p, bad→good
// r, 1-h the loss in the bad state (kept as h), 1-k the loss in the good.
type NetemGE struct{ P, R, H, K1 uint32 }

// NetemSlot is struct tc_netem_slot: packets leave in slots of
// [MinDelay, MaxDelay] apart (or DistDelay±DistJitter from SlotDist), at
// most MaxPackets and MaxBytes a slot (0: no limit).
type NetemSlot struct {
	MinDelay, MaxDelay    int64
	MaxPackets, MaxBytes  int32
	DistDelay, DistJitter int64
}

// netemDistScale is NETEM_DIST_SCALE: a table's entries are deviations in
// units of sigma/8192.
const netemDistScale = 8192

// netem is netem_sched_data.
type netem struct {
	cfg NetemConfig

	prng                                              prandom
	delayCor, lossCor, dupCor, reorderCor, corruptCor crandom
	clgState                                          uint8
	counter                                           uint32

	// The slot (get_slot_next): Linux tells an open slot by a non-zero
	// slot_next, vnic (whose clock starts at 0) by slotOn.
	slotOn                 bool
	slotNext               time.Duration
	slotPackets, slotBytes int32

	tfifo tfifo
	// head is sch->q: reordered packets, sent before anything else, the
	// latest first (__qdisc_enqueue_head); headLast is the time of its
	// oldest, the tail (rate's reference point).
	head     SKBList
	headLast time.Duration
	depth    int // a duplicate being enqueued is not duplicated again (tc_depth)

	scratch []byte // software segmentation of a GSO packet to corrupt
	segs    []*SKB
}

// NewNetem makes a netem qdisc for d (registered) with handle (major:0),
// as netem_init with netem_change: the generator starts from a seed of the
// host's for this device and handle unless cfg restarts it from cfg.Seed.
func NewNetem(d *NetDevice, handle uint32, cfg NetemConfig) (*Qdisc, error) {
	if d.host == nil {
		return nil, fmt.Errorf("stack: %s: not registered: %w", d.name, syscall.ENODEV)
	}
	n := &netem{}
	q := newQdisc(d, handle, n)
	seed := splitmix64(uint64(d.host.cfg.Seed) ^ uint64(d.ifindex)<<32 ^ uint64(handle))
	n.cfg.Seed = seed
	n.prng.seedState(seed)
	n.clgState = 1
	n.apply(q, cfg, d.host.clock.Now())
	return q, nil
}

// Netem returns the netem qdisc's configuration (false: q is not netem).
func (q *Qdisc) Netem() (NetemConfig, bool) {
	n, ok := q.ops.(*netem)
	if !ok {
		return NetemConfig{}, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	c := n.cfg
	c.Restart = 0
	return c, true
}

// ChangeNetem is netem_change's commit: cfg replaces the configuration,
// and what cfg.Restart names starts over.
func (q *Qdisc) ChangeNetem(cfg NetemConfig) error {
	n, ok := q.ops.(*netem)
	if !ok {
		return fmt.Errorf("stack: %s qdisc is not netem: %w", q.Kind(), syscall.EINVAL)
	}
	q.mu.Lock()
	n.apply(q, cfg, q.dev.host.clock.Now())
	q.mu.Unlock()
	return nil
}

// apply commits cfg (the caller holds q.mu or q is new).
func (n *netem) apply(q *Qdisc, cfg NetemConfig, now time.Duration) {
	r := cfg.Restart
	if r&RestartSeed == 0 {
		cfg.Seed = n.cfg.Seed
	} else {
		n.prng.seedState(cfg.Seed)
	}
	if cfg.Jitter < 0 {
		cfg.Jitter = -cfg.Jitter
	}
	cfg.Jitter = min(cfg.Jitter, 1<<31-1)
	// init_crandom draws the first "last" from the kernel's pool; vnic
	// takes it from the seed, off the generator's sequence.
	init := func(c *crandom, rho uint32, k uint64) {
		c.rho, c.last = rho, uint32(splitmix64(cfg.Seed^k))
	}
	if r&RestartCorr != 0 {
		init(&n.delayCor, cfg.DelayCorr, 1)
		init(&n.lossCor, cfg.LossCorr, 2)
		init(&n.dupCor, cfg.DupCorr, 3)
	}
	if r&RestartReorder != 0 {
		init(&n.reorderCor, cfg.ReorderCorr, 4)
	}
	if r&RestartCorrupt != 0 {
		init(&n.corruptCor, cfg.CorruptCorr, 5)
	}
	if r&RestartLoss != 0 {
		n.clgState = 1 // TX_IN_GAP_PERIOD, GOOD_STATE
	}
	if r&RestartSlot != 0 {
		s := &cfg.Slot
		if s.MaxPackets == 0 {
			s.MaxPackets = 1<<31 - 1
		}
		if s.MaxBytes == 0 {
			s.MaxBytes = 1<<31 - 1
		}
		if s.DistJitter < 0 {
			s.DistJitter = -s.DistJitter
		}
		s.DistJitter = min(s.DistJitter, 1<<31-1)
		n.slotPackets, n.slotBytes = s.MaxPackets, s.MaxBytes
		n.slotOn, n.slotNext = s.MinDelay|s.MaxDelay|s.DistJitter != 0, now
	}
	n.counter = 0
	cfg.Restart = 0
	n.cfg = cfg
}

func (n *netem) kind() string { return "netem" }

func (n *netem) full(q *Qdisc) bool { return q.qlen >= int(n.cfg.Limit) }

func (n *netem) reset(q *Qdisc) {
	for s := n.head.Pop(); s != nil; s = n.head.Pop() {
		s.Free()
	}
	n.tfifo.reset()
}

// lossEvent is loss_event: the configured model decides.
func (n *netem) lossEvent() bool {
	switch n.cfg.LossModel {
	case Loss4State:
		return n.loss4State()
	case LossGE:
		return n.lossGE()
	}
	return n.cfg.Loss != 0 && n.cfg.Loss >= n.lossCor.get(&n.prng)
}

// loss4State is loss_4state: one draw moves the GI model's chain
// (1: sent in a gap, 2: sent in a burst, 3: lost in a burst, 4: an
// isolated loss in a gap) and says whether this packet is lost.
func (n *netem) loss4State() bool {
	g := &n.cfg.GI
	rnd := n.prng.u32()
	switch n.clgState {
	case 1:
		switch {
		case rnd < g.P14:
			n.clgState = 4
			return true
		case rnd < g.P13+g.P14:
			n.clgState = 3
			return true
		}
		n.clgState = 1
	case 2:
		if rnd < g.P23 {
			n.clgState = 3
			return true
		}
		n.clgState = 2
	case 3:
		switch {
		case rnd < g.P32:
			n.clgState = 2
		case rnd < g.P31+g.P32:
			n.clgState = 1
		default:
			n.clgState = 3
			return true
		}
	case 4:
		n.clgState = 1
	}
	return false
}

// lossGE is loss_gilb_ell: a draw for the state's transition, another for
// the state's loss.
func (n *netem) lossGE() bool {
	g := &n.cfg.GE
	switch n.clgState {
	case 1:
		if n.prng.u32() < g.P {
			n.clgState = 2
		}
		if n.prng.u32() < g.K1 {
			return true
		}
	case 2:
		if n.prng.u32() < g.R {
			n.clgState = 1
		}
		if n.prng.u32() > g.H {
			return true
		}
	}
	return false
}

// tabledist is tabledist: mu plus a deviation of sigma, uniform in
// [-sigma, sigma) without a table, else the table's entry for a draw
// (scaled by sigma/NETEM_DIST_SCALE, rounded as the kernel rounds).
func tabledist(mu, sigma int64, c *crandom, p *prandom, dist []int16) int64 {
	if sigma == 0 {
		return mu
	}
	var rnd uint32
	if c != nil {
		rnd = c.get(p)
	} else {
		rnd = p.u32()
	}
	if len(dist) == 0 {
		return int64(rnd%(2*uint32(sigma))) + mu - sigma
	}
	t := int64(dist[rnd%uint32(len(dist))])
	x := (sigma % netemDistScale) * t
	if x >= 0 {
		x += netemDistScale / 2
	} else {
		x -= netemDistScale / 2
	}
	return x/netemDistScale + (sigma/netemDistScale)*t + mu
}

// packetTime is packet_time_ns: how long len bytes (with the per-packet
// overhead, in whole cells when a cell size is set) take at the rate.
func (n *netem) packetTime(l int) time.Duration {
	c := &n.cfg
	ln := int64(l) + int64(c.PacketOverhead)
	if c.CellSize != 0 {
		cs := int64(c.CellSize)
		cells := ln / cs
		if ln > cells*cs {
			cells++
		}
		ln = cells * (cs + int64(c.CellOverhead))
	}
	return time.Duration(uint64(ln) * uint64(time.Second) / c.Rate)
}
