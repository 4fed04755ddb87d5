package hw

import (
	"vnic/ring"
)

// tdtWrite is the TX tail doorbell; it reports whether the engine should run.
func (d *Device) tdtWrite(q int, v uint32) bool {
	n, ok := ring.Count(d.regs[TDLEN(q)/4])
	if d.checker != nil {
		d.checker.tail(true, q, d.regs[TDH(q)/4], d.regs[TDT(q)/4], v, n)
	}
	d.regs[TDT(q)/4] = v
	return ok && v < n
}

// txRun is the TX engine of queue q: it sends every complete packet in
// [TDH, TDT). In virtual time it sends one packet per wire slot and continues
// when the port is ready; in real time it sends as fast as it can. It is
// called without d.mu held; the port is called without d.mu held, so two
// cabled devices never hold each other's lock.
func (d *Device) txRun(q int) {
	t := &d.txq[q]
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := 0; ; i++ {
		d.mu.Lock()
		if t.waiting {
			d.mu.Unlock()
			return
		}
		frame, port := d.txOne(q, t)
		d.mu.Unlock()
		if frame == nil {
			return
		}
		if port == nil {
			continue // no cable: the frame is lost on the floor, as on a real NIC
		}
		ready := port.Transmit(frame)
		if now := d.clock.Now(); ready > now {
			d.mu.Lock()
			t.waiting = true
			t.timer.Reset(ready - now)
			d.mu.Unlock()
			return
		}
	}
}

// txOne takes the next complete packet off queue q, writes back its
// descriptors and returns the frame (in t.scratch) and the port to send it
// to. It returns a nil frame when there is nothing (complete) to send.
// PHY loopback sends the frame to the device's own receive path here.
func (d *Device) txOne(q int, t *txQueue) ([]byte, Port) {
	if d.regs[TCTL/4]&TctlEN == 0 || d.regs[TXDCTL(q)/4]&DctlEnable == 0 {
		return nil, nil
	}
	n, ok := ring.Count(d.regs[TDLEN(q)/4])
	if !ok {
		return nil, nil
	}
	base := uint64(d.regs[TDBAH(q)/4])<<32 | uint64(d.regs[TDBAL(q)/4])
	head, tail := d.regs[TDH(q)/4], d.regs[TDT(q)/4]
	if head >= n || tail >= n || head == tail {
		return nil, nil
	}
	frame := t.scratch[:0]
	idx := head
	var last uint32
	eop := false
	for k := uint32(0); k < n && idx != tail; k++ {
		dbytes, ok := d.dma.Slice(base+uint64(idx)*ring.DescSize, ring.DescSize)
		if !ok {
			d.dmaFault(q, true)
			return nil, nil
		}
		if d.checker != nil {
			d.checker.fetch(true, q, idx, dbytes)
		}
		desc := ring.TxDesc(dbytes)
		last = idx
		idx = ring.Next(idx, n)
		if desc.DTyp() == ring.TxDTypContext {
			continue // offload contexts: the offload issue gives them meaning
		}
		l := int(desc.Len())
		if len(frame)+l > len(t.scratch) {
			d.dmaFault(q, true) // a packet larger than the TX FIFO can assemble
			return nil, nil
		}
		if l > 0 {
			buf, ok := d.dma.Slice(desc.Addr(), l)
			if !ok {
				d.dmaFault(q, true)
				return nil, nil
			}
			frame = append(frame, buf...)
		}
		if desc.CmdTypeLen()&ring.TxCmdEOP != 0 {
			eop = true
			break
		}
	}
	if !eop {
		return nil, nil // the rest of the packet is not posted yet
	}
	// Write back DD on every descriptor of the packet that asked for it.
	for i := head; ; i = ring.Next(i, n) {
		dbytes, _ := d.dma.Slice(base+uint64(i)*ring.DescSize, ring.DescSize)
		desc := ring.TxDesc(dbytes)
		if desc.CmdTypeLen()&ring.TxCmdRS != 0 {
			desc.MarkDone()
		}
		if i == last {
			break
		}
	}
	d.regs[TDH(q)/4] = idx
	if len(frame) < MinFrame && d.regs[TCTL/4]&TctlPSP != 0 {
		pad := frame[len(frame):MinFrame]
		clear(pad)
		frame = frame[:MinFrame]
	}
	d.raiseQueue(q, true)
	if len(frame) < 14 {
		return frame, nil // a runt no MAC would send
	}
	d.count(GPTC, 1)
	d.count(TPT, 1)
	d.count(GOTCL, uint64(len(frame)+fcsLen))
	d.count(TOTL, uint64(len(frame)+fcsLen))
	d.count(sizeBucket(PTC64, len(frame)+fcsLen), 1)
	switch {
	case isBroadcast(frame):
		d.count(BPTC, 1)
	case frame[0]&1 != 0:
		d.count(MPTC, 1)
	}
	if d.phyLoopback() {
		d.receive(frame)
		return frame, nil
	}
	if !d.linkUp() {
		return frame, nil
	}
	return frame, d.port
}
