package hw

import (
	"bytes"
	"fmt"
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

// checkFree runs before DMA memory is freed.
func (d *Device) checkFree(addr uint64, size int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	end := addr + uint64(size)
	for tx := 0; tx < 2; tx++ {
		for q := 0; q < NumQueues; q++ {
			var baseL, baseH, lenR, hR, tR, ctl uint32
			if tx == 1 {
				baseL, baseH, lenR, hR, tR, ctl = TDBAL(q), TDBAH(q), TDLEN(q), TDH(q), TDT(q), TXDCTL(q)
			} else {
				baseL, baseH, lenR, hR, tR, ctl = RDBAL(q), RDBAH(q), RDLEN(q), RDH(q), RDT(q), RXDCTL(q)
			}
			if d.regs[ctl/4]&DctlEnable == 0 {
				continue
			}
			n, ok := ring.Count(d.regs[lenR/4])
			if !ok {
				continue
			}
			base := uint64(d.regs[baseH/4])<<32 | uint64(d.regs[baseL/4])
			if base < end && addr < base+uint64(n)*ring.DescSize {
				d.checker.flag(VRingFreed, "%s%d: ring at %#x freed while the queue is enabled", dirName(tx == 1), q, base)
				continue
			}
			head, tail := d.regs[hR/4], d.regs[tR/4]
			if head >= n || tail >= n {
				continue
			}
			for i := head; i != tail; i = ring.Next(i, n) {
				b, ok := d.dma.Slice(base+uint64(i)*ring.DescSize, ring.DescSize)
				if !ok {
					continue
				}
				var buf uint64
				if tx == 1 {
					desc := ring.TxDesc(b)
					if desc.DTyp() != ring.TxDTypData {
						continue
					}
					buf = desc.Addr()
				} else {
					buf = ring.RxDesc(b).PktAddr()
				}
				if buf >= addr && buf < end {
					d.checker.flag(VBufferFreed, "%s%d: buffer %#x of descriptor %d freed while the device owns it", dirName(tx == 1), q, buf, i)
				}
			}
		}
	}
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
