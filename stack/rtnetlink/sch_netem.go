package rtnetlink

import (
	"syscall"
	"time"

	"vnic/stack"
)

// netem's netlink side (sch_netem.c's netem_change and netem_dump): the
// options a request carries, applied to the qdisc's configuration as the
// kernel applies them, and the configuration as the kernel dumps it.

// netemChange is netem_change: cfg (the qdisc's configuration, zero for a
// new one) with o applied. The qopt's fields are always taken; the
// attributes only when present (a correlation, a rate, a slot or ECN set
// once stays until a request names it again), except the loss model,
// which is the random one unless the request carries another.
func netemChange(cfg stack.NetemConfig, o NetemOptions) (stack.NetemConfig, error) {
	if s := o.Slot; s != nil {
		switch {
		case s.MinDelay < 0 || s.MaxDelay < 0:
			return cfg, Errorf(syscall.EINVAL, "negative slot delay")
		case s.MinDelay > s.MaxDelay:
			return cfg, Errorf(syscall.EINVAL, "slot min delay greater than max delay")
		case s.DistDelay < 0 || s.DistJitter < 0:
			return cfg, Errorf(syscall.EINVAL, "negative dist delay")
		case s.MaxPackets < 0 || s.MaxBytes < 0:
			return cfg, Errorf(syscall.EINVAL, "negative slot limit")
		}
	}
	if o.Latency64 != nil && *o.Latency64 < 0 {
		return cfg, Errorf(syscall.EINVAL, "negative latency")
	}
	if o.Jitter64 != nil && *o.Jitter64 < 0 {
		return cfg, Errorf(syscall.EINVAL, "negative jitter")
	}
	cfg.Restart = 0
	cfg.LossModel = stack.LossRandom
	if l := o.Loss; l != nil {
		switch {
		case l.GI != nil:
			cfg.LossModel, cfg.GI = stack.Loss4State, *l.GI
			cfg.Restart |= stack.RestartLoss
		case l.GE != nil:
			cfg.LossModel, cfg.GE = stack.LossGE, *l.GE
			cfg.Restart |= stack.RestartLoss
		}
	}
	if o.DelayDist != nil {
		cfg.DelayDist = o.DelayDist
	}
	if o.SlotDist != nil {
		cfg.SlotDist = o.SlotDist
	}
	q := o.Qopt
	cfg.Limit = q.Limit
	cfg.Latency = time.Duration(uint64(q.Latency) << PschedShift)
	cfg.Jitter = time.Duration(uint64(q.Jitter) << PschedShift)
	cfg.Gap, cfg.Loss, cfg.Duplicate = q.Gap, q.Loss, q.Duplicate
	if cfg.Gap != 0 {
		cfg.Reorder = ^uint32(0) // a gap alone reorders every gap-th packet
	}
	if c := o.Corr; c != nil {
		cfg.DelayCorr, cfg.LossCorr, cfg.DupCorr = c.Delay, c.Loss, c.Dup
		cfg.Restart |= stack.RestartCorr
	}
	if r := o.Reorder; r != nil {
		cfg.Reorder, cfg.ReorderCorr = r.Probability, r.Correlation
		cfg.Restart |= stack.RestartReorder
	}
	if r := o.Corrupt; r != nil {
		cfg.Corrupt, cfg.CorruptCorr = r.Probability, r.Correlation
		cfg.Restart |= stack.RestartCorrupt
	}
	if r := o.Rate; r != nil {
		cfg.Rate, cfg.PacketOverhead, cfg.CellSize, cfg.CellOverhead = uint64(r.Rate), r.PacketOverhead, r.CellSize, r.CellOverhead
	}
	if o.Rate64 != nil {
		cfg.Rate = max(cfg.Rate, *o.Rate64)
	}
	if o.Latency64 != nil {
		cfg.Latency = time.Duration(*o.Latency64)
	}
	if o.Jitter64 != nil {
		cfg.Jitter = time.Duration(*o.Jitter64)
	}
	if o.ECN != nil {
		cfg.ECN = *o.ECN != 0
	}
	if o.Slot != nil {
		cfg.Slot = *o.Slot
		cfg.Restart |= stack.RestartSlot
	}
	if cfg.Jitter < 0 {
		cfg.Jitter = -cfg.Jitter
	}
	cfg.Jitter = min(cfg.Jitter, 1<<31-1)
	if o.Seed != nil {
		cfg.Seed = *o.Seed
		cfg.Restart |= stack.RestartSeed
	}
	return cfg, nil
}

// netemDump is netem_dump: the qopt (times in ticks, at most 2^32-1),
// the 64-bit times, the correlations, reorder and corrupt always; the
// rate (with RATE64 beyond 32 bits), ECN, the loss model and the slot when
// set; the generator's seed.
func netemDump(c stack.NetemConfig) NetemOptions {
	ticks := func(d time.Duration) uint32 { return uint32(min(uint64(d)>>PschedShift, 0xffffffff)) }
	lat, jit := int64(c.Latency), int64(c.Jitter)
	o := NetemOptions{
		Qopt:      NetemQopt{Latency: ticks(c.Latency), Limit: c.Limit, Loss: c.Loss, Gap: c.Gap, Duplicate: c.Duplicate, Jitter: ticks(c.Jitter)},
		Latency64: &lat,
		Jitter64:  &jit,
		Corr:      &NetemCorr{c.DelayCorr, c.LossCorr, c.DupCorr},
		Reorder:   &NetemProb{c.Reorder, c.ReorderCorr},
		Corrupt:   &NetemProb{c.Corrupt, c.CorruptCorr},
		Rate:      &NetemRate{uint32(c.Rate), c.PacketOverhead, c.CellSize, c.CellOverhead},
		Seed:      &c.Seed,
	}
	if c.Rate >= 1<<32 {
		r := c.Rate
		o.Rate64, o.Rate.Rate = &r, ^uint32(0)
	}
	if c.ECN {
		one := uint32(1)
		o.ECN = &one
	}
	switch c.LossModel {
	case stack.Loss4State:
		gi := c.GI
		o.Loss = &NetemLoss{GI: &gi}
	case stack.LossGE:
		ge := c.GE
		o.Loss = &NetemLoss{GE: &ge}
	}
	if s := c.Slot; s.MinDelay|s.MaxDelay|s.DistJitter != 0 {
		if s.MaxPackets == 1<<31-1 {
			s.MaxPackets = 0
		}
		if s.MaxBytes == 1<<31-1 {
			s.MaxBytes = 0
		}
		o.Slot = &s
	}
	return o
}
