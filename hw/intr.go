package hw

import "time"

// Interrupt logic of the 82576 in MSI-X mode (GPIE.MSIX_MODE = 1):
//
//   - A cause sets an EICR bit: the bit of the vector IVAR maps the queue to,
//     or IVAR_MISC's vector for the "other" causes collected in ICR.
//   - A vector fires when its EICR bit becomes pending (EICR & EIMS), or when
//     EIMS is written for it while the cause is pending.
//   - EITR throttles each vector, leading edge: the first message goes at
//     once and opens a window of INTERVAL µs; causes raised in the window are
//     held, and at its end the vector fires (and re-arms) if EICR & EIMS still
//     has its bit. Nothing is sent at expiry without a pending cause.
//   - RDTR/RADV (the 8254x receive delay timers, which vnic applies to
//     every RX queue) delay a queue's receive cause before it reaches EICR:
//     RDTR restarts with every frame, RADV runs from the first delayed
//     frame; the cause is raised when either expires, then EITR applies.
//   - On sending: EIAC auto-clears the EICR bit, and with GPIE.EIAME, EIAM
//     auto-masks the EIMS bit. Neither happens to a message held back.
//
// Without MSIX_MODE the device sends no interrupt at all: INTx and MSI are not
// modelled, and the vnic driver uses MSI-X only.

// setICR raises "other" causes. Causes that cannot wait (link change,
// overrun) flush the delayed receive causes first.
func (d *Device) setICR(bits uint32) {
	if bits&(IcrLSC|IcrRXO) != 0 {
		d.flushRxDelays()
	}
	old := d.regs[ICR/4] & d.regs[IMS/4]
	d.regs[ICR/4] |= bits
	if bits&IcrRXO != 0 {
		d.count(ICRXOC, 1)
	}
	if d.regs[ICR/4]&d.regs[IMS/4]&^old != 0 {
		d.raiseOther()
	}
}

// raiseOther sets the EICR bit of the "other" vector.
func (d *Device) raiseOther() {
	misc := d.regs[IVARMISC/4] >> 8
	if misc&IvarValid == 0 {
		return
	}
	d.setEICR(1 << (misc & 0x1f))
}

// queueVector returns the vector IVAR maps RX (tx=false) or TX queue q to.
func (d *Device) queueVector(q int, tx bool) (int, bool) {
	shift := uint(0)
	if q >= 8 {
		shift = 16
	}
	if tx {
		shift += 8
	}
	e := d.regs[IVAR(q%8)/4] >> shift
	if e&IvarValid == 0 {
		return 0, false
	}
	return int(e & 0x1f), true
}

// raiseQueue sets the EICR bit for a queue's completion.
func (d *Device) raiseQueue(q int, tx bool) {
	if v, ok := d.queueVector(q, tx); ok {
		d.setEICR(1 << v)
	}
}

// rxDelay is one RX queue's receive delay timers.
type rxDelay struct {
	pending  bool // a cause waits for a timer
	absArmed bool // RADV runs
	packet   Timer
	abs      Timer
}

// delayUnit is the 8254x delay timers' tick.
const delayUnit = 1024 * time.Nanosecond

// rxCause is a frame written back on RX queue q: its cause is raised now,
// or, with RDTR set, when the queue's timers say.
func (d *Device) rxCause(q int) {
	rdtr := d.regs[RDTR/4] & RdtrDelayMask
	if rdtr == 0 {
		d.raiseQueue(q, false)
		return
	}
	st := &d.rxd[q]
	st.pending = true
	st.packet.Reset(time.Duration(rdtr) * delayUnit)
	if radv := d.regs[RADV/4] & 0xFFFF; radv != 0 && !st.absArmed {
		st.absArmed = true
		st.abs.Reset(time.Duration(radv) * delayUnit)
	}
}

// flushRx raises queue q's delayed cause, if any, and stops its timers.
func (d *Device) flushRx(q int) {
	st := &d.rxd[q]
	st.packet.Stop()
	st.abs.Stop()
	st.absArmed = false
	if st.pending {
		st.pending = false
		d.raiseQueue(q, false)
	}
}

// flushRxDelays raises every delayed receive cause (RDTR.FPD, LSC, RXO).
func (d *Device) flushRxDelays() {
	for q := range d.rxd {
		if d.rxd[q].pending {
			d.flushRx(q)
		}
	}
}

// rxDelayExpired is either of queue q's timers running out.
func (d *Device) rxDelayExpired(q int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flushRx(q)
}

// setEICR raises vector causes and fires the vectors that became pending.
func (d *Device) setEICR(bits uint32) {
	bits &= 1<<NumVectors - 1
	old := d.regs[EICR/4] & d.regs[EIMS/4]
	d.regs[EICR/4] |= bits
	d.fire(d.regs[EICR/4] & d.regs[EIMS/4] &^ old)
}

// fire tries to send each vector in bits.
func (d *Device) fire(bits uint32) {
	if bits == 0 || d.regs[GPIE/4]&GpieMSIXMode == 0 {
		return
	}
	now := d.clock.Now()
	for v := 0; bits != 0; v++ {
		if bits&(1<<v) == 0 {
			continue
		}
		bits &^= 1 << v
		if now < d.vec[v].until {
			continue // held: the window's timer re-checks at its end
		}
		d.deliver(v, now)
	}
}

// deliver sends vector v's message and opens its throttle window.
func (d *Device) deliver(v int, now time.Duration) {
	bit := uint32(1) << v
	d.count(IAC, 1)
	if d.regs[EIAC/4]&bit != 0 {
		d.regs[EICR/4] &^= bit
	}
	if d.regs[GPIE/4]&GpieEIAME != 0 && d.regs[EIAM/4]&bit != 0 {
		d.regs[EIMS/4] &^= bit
	}
	if us := (d.regs[EITR(v)/4] & EitrIntervalMask) >> 2; us != 0 {
		iv := time.Duration(us) * time.Microsecond
		d.vec[v].until = now + iv
		d.vec[v].timer.Reset(iv)
	}
	d.msix.signal(v)
}

// throttleExpired ends vector v's window.
func (d *Device) throttleExpired(v int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.regs[GPIE/4]&GpieMSIXMode == 0 {
		return
	}
	if d.regs[EICR/4]&d.regs[EIMS/4]&(1<<v) != 0 {
		d.deliver(v, d.clock.Now())
	}
}
