package hw

import (
	"encoding/binary"
	"time"

	"vnic/header"
	"vnic/ring"
)

// 802.3x flow control. A received PAUSE frame (MAC control, opcode 1)
// stops the transmitter for its quanta of 512 bit times when CTRL.RFCE is
// set; quanta 0 (XON) resumes at once. With CTRL.TFCE, the device sends
// XOFF (FCTTV quanta) when an RX queue has fewer free descriptors than
// FCRTH, refreshes it while the shortage lasts, and sends XON when the
// driver has given back FCRTL descriptors (if FCRTL.XONE). PAUSE frames are
// counted (XONRXC, XOFFRXC, XONTXC, XOFFTXC) and never reach the host.

// PauseDA is the reserved multicast address of PAUSE frames.
var PauseDA = [6]byte{0x01, 0x80, 0xC2, 0x00, 0x00, 0x01}

// pauseState is the flow-control state of a device.
type pauseState struct {
	untilPs  int64 // the transmitter is paused until this time
	xoffSent bool  // an XOFF is in force at the peer
	q        int   // the RX queue whose shortage it is for
	pending  int   // quanta of the frame to send (-1: none)
	timer    Timer // sends the pending frame
	refresh  Timer // resends XOFF at half its pause time while short
}

// IsPause reports whether f is a PAUSE frame and returns its quanta.
func IsPause(f []byte) (quanta uint16, ok bool) {
	const end = header.EthernetHeaderLen + header.MACControlLen
	if len(f) < end || header.Ethernet(f).Type() != header.EtherTypeMACControl {
		return 0, false
	}
	mc := header.MACControl(f[header.EthernetHeaderLen:end])
	if mc.Opcode() != header.MACControlPause {
		return 0, false
	}
	return mc.Quanta(), true
}

// PauseFrame builds a PAUSE frame from src with quanta (60 bytes, no FCS).
func PauseFrame(src [6]byte, quanta uint16) []byte {
	f := make([]byte, MinFrame)
	eth := header.Ethernet(f)
	eth.SetDst(PauseDA)
	eth.SetSrc(src)
	eth.SetType(header.EtherTypeMACControl)
	mc := header.MACControl(eth.Payload())
	mc.SetOpcode(header.MACControlPause)
	mc.SetQuanta(quanta)
	return f
}

// quantaPs is the length of q pause quanta at the link's rate.
func (d *Device) quantaPs(q uint16) int64 {
	mbps := int64(d.linkMbps)
	if mbps <= 0 {
		mbps = 1000
	}
	return int64(q) * 512 * 1_000_000 / mbps
}

// rxPause consumes a received PAUSE frame (d.mu held).
func (d *Device) rxPause(f []byte) bool {
	q, ok := IsPause(f)
	if !ok {
		return false
	}
	if q == 0 {
		d.count(XONRXC, 1)
	} else {
		d.count(XOFFRXC, 1)
	}
	if d.regs[CTRL/4]&CtrlRFCE == 0 {
		return true
	}
	now := int64(d.clock.Now()) * 1000
	if q == 0 {
		d.pause.untilPs = 0
	} else {
		d.pause.untilPs = now + d.quantaPs(q)
	}
	// Queues waiting for the pause to end look again.
	for i := range d.txq {
		if d.txq[i].waiting {
			d.txq[i].timer.Reset(max(0, time.Duration((d.pause.untilPs-now+999)/1000)))
		}
	}
	return true
}

// pausedUntil is the end of a pause in force, or 0 (d.mu held).
func (d *Device) pausedUntil() time.Duration {
	if d.pause.untilPs == 0 || d.regs[CTRL/4]&CtrlRFCE == 0 {
		return 0
	}
	until := time.Duration((d.pause.untilPs + 999) / 1000)
	if until <= d.clock.Now() {
		d.pause.untilPs = 0
		return 0
	}
	return until
}

// freeDescs is how many descriptors queue q's ring holds for the device.
func (d *Device) freeDescs(q int) (uint32, bool) {
	n, ok := ring.Count(d.regs[RDLEN(q)/4])
	if !ok || d.regs[RXDCTL(q)/4]&DctlEnable == 0 {
		return 0, false
	}
	head, tail := d.regs[RDH(q)/4], d.regs[RDT(q)/4]
	if head >= n || tail >= n {
		return 0, false
	}
	return ring.Used(head, tail, n), true
}

// fcAfterReceive checks queue q after a frame went to its ring (d.mu
// held): too few free descriptors send (or refresh) XOFF.
func (d *Device) fcAfterReceive(q int) {
	if d.regs[CTRL/4]&CtrlTFCE == 0 {
		return
	}
	free, ok := d.freeDescs(q)
	if !ok || free >= d.regs[FCRTH/4]&0xFFFF {
		return
	}
	if d.pause.xoffSent {
		return // the refresh timer keeps it in force
	}
	d.pause.xoffSent, d.pause.q = true, q
	d.xoff()
}

// xoff sends XOFF and arms its refresh at half the pause time (d.mu held).
func (d *Device) xoff() {
	quanta := uint16(d.regs[FCTTV/4])
	d.sendPause(int(quanta))
	d.pause.refresh.Reset(max(time.Nanosecond, time.Duration(d.quantaPs(quanta)/2000)))
}

// pauseRefresh resends XOFF while the shortage lasts (FCRTV's job on the
// 82576), or ends it.
func (d *Device) pauseRefresh() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.pause.xoffSent {
		return
	}
	free, ok := d.freeDescs(d.pause.q)
	if ok && d.regs[CTRL/4]&CtrlTFCE != 0 && free < d.regs[FCRTL/4]&0xFFFF {
		d.xoff()
		return
	}
	d.pause.xoffSent = false
	if d.regs[FCRTL/4]&FcrtlXONE != 0 {
		d.sendPause(0)
	}
}

// fcAfterRefill checks whether the driver's refill of queue q ends the
// shortage (d.mu held).
func (d *Device) fcAfterRefill(q int) {
	if !d.pause.xoffSent || q != d.pause.q || d.regs[CTRL/4]&CtrlTFCE == 0 {
		return
	}
	free, ok := d.freeDescs(q)
	if !ok || free < d.regs[FCRTL/4]&0xFFFF {
		return
	}
	d.pause.xoffSent = false
	d.pause.refresh.Stop()
	if d.regs[FCRTL/4]&FcrtlXONE != 0 {
		d.sendPause(0)
	}
}

// sendPause queues a PAUSE frame; it goes out from the timer, outside d.mu
// (the port may call into the other device).
func (d *Device) sendPause(quanta int) {
	d.pause.pending = quanta
	d.pause.timer.Reset(0)
}

// pauseTimer sends the pending PAUSE frame.
func (d *Device) pauseTimer() {
	d.mu.Lock()
	q := d.pause.pending
	d.pause.pending = -1
	port := d.port
	var src [6]byte
	ral, rah := d.regs[RAL0/4], d.regs[RAH0/4]
	binary.LittleEndian.PutUint32(src[0:4], ral)
	binary.LittleEndian.PutUint16(src[4:6], uint16(rah))
	up := d.linkUp()
	if q >= 0 && up && port != nil {
		if q == 0 {
			d.count(XONTXC, 1)
		} else {
			d.count(XOFFTXC, 1)
		}
	}
	d.mu.Unlock()
	if q < 0 || !up || port == nil {
		return
	}
	port.Transmit(PauseFrame(src, uint16(q)))
}
