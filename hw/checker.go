package hw

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"time"

	"vnic/ring"
)

// Violation kinds the contract checker reports.
const (
	VTailBeyondRing  = "tail-beyond-ring"   // RDT/TDT written ≥ the ring size
	VTailBackwards   = "tail-reclaims"      // a tail write took back descriptors the device owns
	VDescModified    = "desc-modified"      // a descriptor changed while the device owned it
	VBufferFreed     = "buffer-freed-owned" // DMA memory freed while a device-owned descriptor points into it
	VRingFreed       = "ring-freed-enabled" // a ring freed while its queue is enabled
	VPollOverBudget  = "poll-over-budget"   // a NAPI poll returned more work than its budget
	VUnmaskInPoll    = "unmask-in-poll"     // EIMS written for a vector whose NAPI is still scheduled
	VCompleteNoSched = "complete-unscheduled"
)

// Violation is one broken rule of the driver contract.
type Violation struct {
	At     time.Duration
	Device string
	Kind   string
	Detail string
}

func (v Violation) String() string {
	return fmt.Sprintf("%v %s: %s: %s", v.At, v.Device, v.Kind, v.Detail)
}

// Checker watches a driver use a device and records every violation of the
// contract in DESIGN.md §2. Turn it on with DeviceConfig.Checker; the
// conformance suite and the driver tests run with it on. NAPI reports to it
// through the Poll* methods (the stack's NAPI observer).
type Checker struct {
	d          *Device
	mu         sync.Mutex
	violations []Violation
	snap       [2][NumQueues][][ring.DescSize]byte // descriptors as handed over
	scheduled  uint32                              // vectors whose NAPI is scheduled
	// handed indexes the descriptors handed over by their buffer's
	// address, in blocks of 1<<handedShift bytes, so that checkFree looks
	// only at the descriptors that can point into the region being freed
	// (d.mu guards it, as it guards snap). An entry may be stale — its
	// descriptor since done, or handed again with another buffer —
	// checkFree validates each against the registers and the ring.
	handed map[uint64][]slotRef
}

// handedShift is the index's block: 64 KiB, a DMA mapping window.
const handedShift = 16

// slotRef names one descriptor: its direction, queue and index.
type slotRef struct {
	tx bool
	q  uint8
	i  uint32
}

// bufOf is the buffer address of descriptor bytes b (0 for a TX
// descriptor that is not a data descriptor: it points at no buffer).
func bufOf(tx bool, b []byte) uint64 {
	if !tx {
		return ring.RxDesc(b).PktAddr()
	}
	desc := ring.TxDesc(b)
	if desc.DTyp() != ring.TxDTypData {
		return 0
	}
	return desc.Addr()
}

// index records that descriptor s was handed over with a buffer at buf.
// Adding an entry drops the block's entries whose descriptors were handed
// again with a buffer elsewhere, so a block holds only a few more than
// the descriptors that point into it.
func (c *Checker) index(s slotRef, buf uint64) {
	if c.handed == nil {
		c.handed = map[uint64][]slotRef{}
	}
	blk := buf >> handedShift
	old := c.handed[blk]
	if slices.Contains(old, s) {
		return // as most often: the slot handed over again with a buffer of the same block
	}
	refs := old[:0]
	for _, e := range old {
		snaps := c.snap[b2i(e.tx)][e.q]
		if int(e.i) < len(snaps) && bufOf(e.tx, snaps[e.i][:])>>handedShift == blk {
			refs = append(refs, e)
		}
	}
	c.handed[blk] = append(refs, s)
}

func newChecker(d *Device) *Checker { return &Checker{d: d} }

// Violations returns a copy of what was flagged.
func (c *Checker) Violations() []Violation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Violation(nil), c.violations...)
}

// Count returns the number of violations.
func (c *Checker) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.violations)
}

func (c *Checker) flag(kind, format string, args ...any) {
	c.mu.Lock()
	c.violations = append(c.violations, Violation{At: c.d.clock.Now(), Device: c.d.name, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	c.mu.Unlock()
}

func (c *Checker) resetRings() {
	for t := range c.snap {
		for q := range c.snap[t] {
			c.snap[t][q] = nil
		}
	}
	clear(c.handed)
}

func dirName(tx bool) string {
	if tx {
		return "tx"
	}
	return "rx"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tail checks a doorbell (called with d.mu held) and snapshots the
// descriptors it hands to the device.
func (c *Checker) tail(tx bool, q int, head, oldTail, newTail, n uint32) {
	if n == 0 {
		return
	}
	if newTail >= n {
		c.flag(VTailBeyondRing, "%s%d: tail %d on a ring of %d", dirName(tx), q, newTail, n)
		return
	}
	if head >= n || oldTail >= n {
		oldTail = head
	}
	ctl := RXDCTL(q)
	if tx {
		ctl = TXDCTL(q)
	}
	// A disabled queue owns nothing: setting it up writes head and tail freely.
	enabled := c.d.regs[ctl/4]&DctlEnable != 0
	if enabled && ring.Used(head, newTail, n) < ring.Used(head, oldTail, n) {
		c.flag(VTailBackwards, "%s%d: tail %d -> %d with head %d takes back owned descriptors", dirName(tx), q, oldTail, newTail, head)
		return
	}
	snaps := &c.snap[b2i(tx)][q]
	if uint32(len(*snaps)) != n {
		*snaps = make([][ring.DescSize]byte, n)
	}
	base := uint64(c.d.regs[TDBAH(q)/4])<<32 | uint64(c.d.regs[TDBAL(q)/4])
	if !tx {
		base = uint64(c.d.regs[RDBAH(q)/4])<<32 | uint64(c.d.regs[RDBAL(q)/4])
	}
	for i := oldTail; i != newTail; i = ring.Next(i, n) {
		if b, ok := c.d.dma.Slice(base+uint64(i)*ring.DescSize, ring.DescSize); ok {
			copy((*snaps)[i][:], b)
			if buf := bufOf(tx, b); buf != 0 || !tx {
				c.index(slotRef{tx: tx, q: uint8(q), i: i}, buf)
			}
		}
	}
}

// fetch checks that a descriptor the device is about to use is the one the
// driver handed over.
func (c *Checker) fetch(tx bool, q int, i uint32, desc []byte) {
	snaps := c.snap[b2i(tx)][q]
	if int(i) >= len(snaps) {
		return
	}
	if !bytes.Equal(snaps[i][:], desc) {
		c.flag(VDescModified, "%s%d: descriptor %d changed after the tail handed it to the device", dirName(tx), q, i)
	}
}

// unmask checks an EIMS write (d.mu held).
func (c *Checker) unmask(bits uint32) {
	c.mu.Lock()
	bad := bits & c.scheduled
	c.mu.Unlock()
	if bad != 0 {
		c.flag(VUnmaskInPoll, "EIMS %#x unmasks vectors %#x whose NAPI is still scheduled", bits, bad)
	}
}

// checkFree runs before DMA memory is freed: a ring freed while its
// queue is enabled, or a buffer while a descriptor the device owns (in
// [head, tail)) points into it, is flagged. The descriptors looked at are
// those the index holds for the region's blocks, not every ring's.
func (d *Device) checkFree(addr uint64, size int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	end := addr + uint64(size)
	// What is flagged, in ring order (RX queues, then TX), each ring's
	// descriptors from its head, as a scan of the rings would find them.
	type hit struct {
		s   slotRef
		pos int // from the ring's head; -1: the ring itself
	}
	var hits []hit
	for tx := range 2 {
		for q := range NumQueues {
			base, n, _, _, ok := d.ringState(tx == 1, q)
			if ok && base < end && addr < base+uint64(n)*ring.DescSize {
				hits = append(hits, hit{slotRef{tx: tx == 1, q: uint8(q)}, -1})
			}
		}
	}
	visit := func(blk uint64, refs []slotRef) {
		for _, s := range refs {
			base, n, head, tail, ok := d.ringState(s.tx, int(s.q))
			if !ok || base < end && addr < base+uint64(n)*ring.DescSize || head >= n || tail >= n ||
				s.i >= n || ring.Used(head, s.i, n) >= ring.Used(head, tail, n) {
				continue // not enabled, itself being freed, or not owned by the device
			}
			b, ok := d.dma.Slice(base+uint64(s.i)*ring.DescSize, ring.DescSize)
			if !ok {
				continue
			}
			// A slot's entry in a block its buffer has since left is stale:
			// its current block's entry stands for it.
			if buf := bufOf(s.tx, b); buf >= addr && buf < end && (buf != 0 || !s.tx) && buf>>handedShift == blk {
				hits = append(hits, hit{s, int(ring.Used(head, s.i, n))})
			}
		}
	}
	if size > 0 {
		first, last := addr>>handedShift, (end-1)>>handedShift
		if last-first >= uint64(len(d.checker.handed)) {
			for blk, refs := range d.checker.handed {
				if blk >= first && blk <= last {
					visit(blk, refs)
				}
			}
		} else {
			for blk := first; blk <= last; blk++ {
				visit(blk, d.checker.handed[blk])
			}
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.s.tx != b.s.tx {
			return b2i(a.s.tx) - b2i(b.s.tx)
		}
		if a.s.q != b.s.q {
			return int(a.s.q) - int(b.s.q)
		}
		return a.pos - b.pos
	})
	for _, h := range hits {
		base, _, _, _, _ := d.ringState(h.s.tx, int(h.s.q)) // enabled: every hit is of an enabled ring
		if h.pos < 0 {
			d.checker.flag(VRingFreed, "%s%d: ring at %#x freed while the queue is enabled", dirName(h.s.tx), h.s.q, base)
			continue
		}
		b, _ := d.dma.Slice(base+uint64(h.s.i)*ring.DescSize, ring.DescSize)
		d.checker.flag(VBufferFreed, "%s%d: buffer %#x of descriptor %d freed while the device owns it", dirName(h.s.tx), h.s.q, bufOf(h.s.tx, b), h.s.i)
	}
}

// ringState reads queue q's ring registers from its register block in
// one pass (every free asks it of every queue): base, size, head and
// tail, and whether the queue is enabled with a valid length.
func (d *Device) ringState(tx bool, q int) (base uint64, n, head, tail uint32, ok bool) {
	block0 := uint32(RDBAL0)
	if tx {
		block0 = TDBAL0
	}
	r := d.regs[(block0+0x40*uint32(q))/4:][:0x40/4]
	if r[qDCTL/4]&DctlEnable == 0 {
		return 0, 0, 0, 0, false
	}
	if n, ok = ring.Count(r[qDLEN/4]); !ok {
		return 0, 0, 0, 0, false
	}
	return uint64(r[qDBAH/4])<<32 | uint64(r[qDBAL/4]), n, r[qDH/4], r[qDT/4], true
}

// NAPIScheduled is told that the NAPI instance serving vector irq was
// scheduled.
func (c *Checker) NAPIScheduled(irq int) {
	if irq < 0 || irq >= NumVectors {
		return
	}
	c.mu.Lock()
	c.scheduled |= 1 << irq
	c.mu.Unlock()
}

// NAPICompleted is told that the NAPI instance serving vector irq completed.
func (c *Checker) NAPICompleted(irq int) {
	if irq < 0 || irq >= NumVectors {
		return
	}
	c.mu.Lock()
	was := c.scheduled&(1<<irq) != 0
	c.scheduled &^= 1 << irq
	c.mu.Unlock()
	if !was {
		c.flag(VCompleteNoSched, "vector %d: NAPI completed while not scheduled", irq)
	}
}

// NAPIPolled is told the result of one poll call.
func (c *Checker) NAPIPolled(irq, budget, work int) {
	if work > budget {
		c.flag(VPollOverBudget, "vector %d: poll did %d with budget %d", irq, work, budget)
	}
}
