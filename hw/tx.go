package hw

import (
	"time"

	"vnic/header"
	"vnic/offload"
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

// txDest says where a packet goes.
type txDest uint8

const (
	txNone     txDest = iota // dropped (no link, malformed): already counted
	txWire                   // to the port
	txLoopback               // PHY loopback: back into our own receive path
)

// txPacket is one packet the engine took off the ring.
type txPacket struct {
	frame []byte
	dest  txDest
	port  Port
	tso   bool
	// TSO parameters from the context descriptor.
	macLen, ipLen, l4Len, mss int
}

// txBurst is how many packets the engine takes off a ring under one hold
// of the device's lock in real time; txBurstBytes is how much of the
// gather buffer a burst fills before it stops (a packet starts only where
// a whole maxFrame remains, so the buffer is maxFrame + txBurstBytes).
const (
	txBurst      = 32
	txBurstBytes = 32 * 1536
)

// txRun is the TX engine of queue q: it sends every complete packet in
// [TDH, TDT). In virtual time it runs ahead of the wire by at most the MAC's
// FIFO and continues when the port is ready: it takes one packet off the
// ring, hands it to the port and takes the next only if the port can take
// it at once, so a packet's write-back never comes before the wire has
// room for it. In real time it sends as fast as it can, in bursts: up to
// txBurst packets are taken off the ring under one hold of d.mu (gather,
// write-back, counters, one interrupt cause after the last), then emitted
// outside it; should a port ask it to wait in the middle of a burst, the
// rest of the burst waits in the MAC (its descriptors were written back, as
// those of frames in a real MAC's FIFO are) and goes first when the port
// is ready. Neither the port nor our own receive path (loopback) is called
// with d.mu held, so two cabled devices never hold each other's lock.
func (d *Device) txRun(q int) {
	t := &d.txq[q]
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := txBurst
	if d.clock.Virtual() {
		limit = 1
	}
	for {
		d.mu.Lock()
		if t.waiting {
			d.mu.Unlock()
			return
		}
		if until := d.pausedUntil(); until != 0 {
			// A PAUSE is in force: the queue (and what its burst left in
			// the MAC) waits for it to end.
			t.waiting = true
			t.timer.Reset(until - d.clock.Now())
			d.mu.Unlock()
			return
		}
		if t.flushed {
			// A reset emptied the MAC's FIFO while packets of a burst
			// waited in it.
			t.flushed, t.next, t.n = false, 0, 0
		}
		if t.next == t.n {
			t.next, t.n = 0, d.txTake(q, t, limit)
		}
		pad := d.regs[TCTL/4]&TctlPSP != 0
		d.mu.Unlock()
		if t.n == 0 {
			return
		}
		for t.next < t.n {
			var ready time.Duration
			if p := &t.burst[t.next]; limit > 1 && p.dest == txWire && !p.tso {
				ready = d.emitRun(t, pad)
			} else {
				t.next++
				ready = d.emit(t, p, pad)
			}
			// A port ready at once (0: a real-time cable, a sink) needs no
			// look at the clock.
			if ready > 0 {
				if now := d.clock.Now(); ready > now {
					d.mu.Lock()
					t.waiting = true
					t.timer.Reset(ready - now)
					d.mu.Unlock()
					return
				}
			}
		}
	}
}

// txTake takes up to limit complete packets off queue q into t.burst,
// gathering their frames one after the other in t.scratch, and raises the
// queue's cause once, after the last write-back. It returns how many it
// took. Called with d.mu held.
func (d *Device) txTake(q int, t *txQueue, limit int) int {
	if d.regs[TCTL/4]&TctlEN == 0 || d.regs[TXDCTL(q)/4]&DctlEnable == 0 {
		return 0
	}
	var r txRingView
	var ok bool
	if r.n, ok = ring.Count(d.regs[TDLEN(q)/4]); !ok {
		return 0
	}
	r.base = uint64(d.regs[TDBAH(q)/4])<<32 | uint64(d.regs[TDBAL(q)/4])
	if limit > 1 {
		// The whole ring in one look when it is all mapped; otherwise (and
		// for a packet at a time, where one look costs more than the
		// two it saves) each descriptor is checked as it is reached, and
		// the first one out of bounds is the fault.
		r.descs, _ = d.dma.Slice(r.base, int(r.n)*ring.DescSize)
	}
	var c txCounts
	n, off := 0, 0
	for n < limit && len(t.scratch)-off >= maxFrame {
		p := &t.burst[n]
		if !d.txOne(q, t, &r, &c, t.scratch[off:off:off+maxFrame], p) {
			break
		}
		n++
		// Each frame keeps at least MinFrame bytes: padding a short one
		// (PSP) must not reach into the next.
		off += max(len(p.frame), MinFrame)
	}
	if n > 0 {
		d.addTxCounts(&c)
		d.raiseQueue(q, true)
	}
	return n
}

// txRingView is a TX ring as txTake found it: n descriptors at base and,
// when all of them are mapped, their bytes.
type txRingView struct {
	base  uint64
	n     uint32
	descs []byte
}

// txDesc returns descriptor i's 16 bytes, or false if DMA cannot reach
// them.
func (d *Device) txDesc(r *txRingView, i uint32) ([]byte, bool) {
	if b, ok := r.desc(i); ok {
		return b, true
	}
	return d.dma.Slice(r.base+uint64(i)*ring.DescSize, ring.DescSize)
}

// desc is descriptor i's bytes from the whole-ring look, if there was one
// (small enough to inline, where txDesc is not).
func (r *txRingView) desc(i uint32) ([]byte, bool) {
	if o := int(i) * ring.DescSize; o+ring.DescSize <= len(r.descs) {
		return r.descs[o : o+ring.DescSize], true
	}
	return nil, false
}

// emitRun hands the run of whole frames for the wire that starts the rest
// of the burst, t.burst[t.next], to the port: in one call if it takes
// bursts, else frame by frame. It returns when the port can take more.
// (Every packet of a burst for the wire has the same port: d.port when the
// burst was taken.)
func (d *Device) emitRun(t *txQueue, pad bool) (ready time.Duration) {
	bp, ok := t.burst[t.next].port.(burstPort)
	if !ok {
		p := &t.burst[t.next]
		t.next++
		return d.emit(t, p, pad)
	}
	frames := t.frames[:0]
	for ; t.next < t.n; t.next++ {
		p := &t.burst[t.next]
		if p.dest != txWire || p.tso {
			break
		}
		f := p.frame
		if len(f) < MinFrame && pad {
			n := len(f)
			f = f[:MinFrame]
			clear(f[n:])
		}
		frames = append(frames, f)
	}
	ready = bp.transmitBurst(frames)
	clear(frames) // no frame outlives its burst here
	return ready
}

// emit puts a packet's frame — or, for TSO, each of its segments — on its
// way, and returns when the port can take more. pad is TCTL.PSP: frames
// shorter than MinFrame are padded with zeros.
func (d *Device) emit(t *txQueue, p *txPacket, pad bool) (ready time.Duration) {
	if p.dest == txNone {
		return 0
	}
	send := func(f []byte) {
		if len(f) < MinFrame && pad {
			n := len(f)
			f = f[:MinFrame]
			clear(f[n:])
		}
		if p.dest == txLoopback {
			d.loopReceive(f)
			return
		}
		if r := p.port.Transmit(f); r > ready {
			ready = r
		}
	}
	if !p.tso {
		send(p.frame)
		return ready
	}
	offload.SegmentTCPv4(p.frame, p.macLen, p.ipLen, p.l4Len, p.mss, false, t.seg[:len(t.seg)-MinFrame], send)
	return ready
}

// txOne takes the next complete packet off queue q (enabled, its ring r)
// into p: it gathers the data buffers up to EOP into buf (empty, with room
// for maxFrame; context descriptors update the queue's context slots),
// writes back DD, applies checksum insertion or prepares TSO from the
// context, counts the frames that will go out (into c), and says where
// they go. It returns false when there is nothing (complete) to send. The
// caller adds c to the statistics and raises the queue's cause.
func (d *Device) txOne(q int, t *txQueue, r *txRingView, c *txCounts, buf []byte, p *txPacket) bool {
	n := r.n
	head, tail := d.regs[TDH(q)/4], d.regs[TDT(q)/4]
	if head >= n || tail >= n || head == tail {
		return false
	}
	frame := buf[:0]
	idx := head
	var last, cmd, olinfo uint32
	first, eop := true, false
	for k := uint32(0); k < n && idx != tail; k++ {
		dbytes, ok := r.desc(idx)
		if !ok {
			dbytes, ok = d.txDesc(r, idx)
		}
		if !ok {
			d.dmaFault(q, true)
			return false
		}
		if d.checker != nil {
			d.checker.fetch(true, q, idx, dbytes)
		}
		desc := ring.TxDesc(dbytes)
		last = idx
		idx = ring.Next(idx, n)
		if desc.DTyp() == ring.TxDTypContext {
			c := desc.Context()
			t.ctx[c.Idx&1], t.ctxOK[c.Idx&1] = c, true
			continue
		}
		if first {
			// POPTS, IDX, TSE and PAYLEN come from the packet's first data
			// descriptor, as on the 82576.
			cmd, olinfo, first = desc.CmdTypeLen(), desc.OlinfoStatus(), false
		}
		l := int(desc.Len())
		if len(frame)+l > maxFrame {
			d.dmaFault(q, true) // a packet larger than the TX FIFO can assemble
			return false
		}
		if l > 0 {
			data, ok := d.dma.Slice(desc.Addr(), l)
			if !ok {
				d.dmaFault(q, true)
				return false
			}
			frame = append(frame, data...)
		}
		if desc.CmdTypeLen()&ring.TxCmdEOP != 0 {
			eop = true
			break
		}
	}
	if !eop {
		return false // the rest of the packet is not posted yet
	}
	// Write back DD on every descriptor of the packet that asked for it.
	for i := head; ; i = ring.Next(i, n) {
		dbytes, ok := r.desc(i)
		if !ok {
			dbytes, _ = d.txDesc(r, i)
		}
		desc := ring.TxDesc(dbytes)
		if desc.CmdTypeLen()&ring.TxCmdRS != 0 {
			desc.MarkDone()
		}
		if i == last {
			break
		}
	}
	d.regs[TDH(q)/4] = idx

	// (p's other fields are set below for the packets that use them.)
	p.frame, p.dest, p.tso = frame, txNone, false
	slot := int(olinfo>>4) & 1
	popts := olinfo & 0x3f00
	switch {
	case cmd&ring.TxCmdTSE != 0:
		if !d.prepareTSO(t, slot, olinfo>>14, p) {
			d.count(TSCTFC, 1)
			return true // dropped: the context cannot describe this packet
		}
		d.count(TSCTC, 1)
	case popts != 0:
		d.insertChecksums(t, slot, popts, frame)
	}
	if !header.Ethernet(frame).IsValid() {
		return true // a runt no MAC would send
	}
	d.countTx(p, c)
	switch {
	case d.phyLoopback():
		p.dest = txLoopback
	case d.linkUp() && d.port != nil:
		p.dest, p.port = txWire, d.port
	default:
		d.txNoLink++ // no link (or no port): dropped, and said so
	}
	return true
}

// prepareTSO checks the context of a TSE packet and fills p's segmentation
// parameters. The TCP checksum field must hold the pseudo-header seed
// without the length (what igb_tso leaves there).
func (d *Device) prepareTSO(t *txQueue, slot int, paylen uint32, p *txPacket) bool {
	if !t.ctxOK[slot] {
		d.diag[(VTXCTE-VUWC)/4]++
		return false
	}
	c := t.ctx[slot]
	p.macLen, p.ipLen, p.l4Len, p.mss = int(c.MACLen), int(c.IPLen), int(c.L4Len), int(c.MSS)
	hdr := p.macLen + p.ipLen + p.l4Len
	if c.TUCmd&ring.TxTUCmdIPv4 == 0 || c.TUCmd&(3<<11) != ring.TxTUCmdL4TCP || // IPv4 TCP only
		p.mss == 0 || hdr > len(p.frame) || uint32(len(p.frame)-hdr) != paylen || hdr+p.mss > maxFrame-MinFrame {
		return false
	}
	if !header.IPv4(p.frame[p.macLen:]).IsValid() || !header.TCP(p.frame[p.macLen+p.ipLen:]).IsValid() {
		return false
	}
	p.tso = true
	return true
}

// insertChecksums applies IXSM (IPv4 header checksum over IPLEN) and TXSM
// (TCP or UDP checksum from the L4 header to the end, seeded with the
// pseudo-header sum by the driver) using the packet's context.
func (d *Device) insertChecksums(t *txQueue, slot int, popts uint32, frame []byte) {
	if !t.ctxOK[slot] {
		d.diag[(VTXCTE-VUWC)/4]++
		return
	}
	c := t.ctx[slot]
	mac, ipl := int(c.MACLen), int(c.IPLen)
	if popts&ring.TxPOptIXSM != 0 && mac+ipl <= len(frame) && ipl >= header.IPv4MinHeaderLen {
		// Over IPLEN bytes, as the context says, whatever the IHL.
		ip := header.IPv4(frame[mac : mac+ipl])
		ip.SetChecksum(0)
		ip.SetChecksum(header.Checksum(ip))
		d.diag[(VTXCSO-VUWC)/4]++
	}
	if popts&ring.TxPOptTXSM != 0 {
		udp := c.TUCmd&(3<<11) == ring.TxTUCmdL4UDP
		off := header.TCPChecksumOffset
		if udp {
			off = header.UDPChecksumOffset
		}
		if offload.FinishChecksum(frame, mac+ipl, off, udp) {
			d.diag[(VTXCSO-VUWC)/4]++
		}
	}
}

// txCounts are the transmit statistics of a burst, summed as its packets
// are taken and added to the registers once at its end (saturating sums:
// the registers end where adding each packet's would leave them).
type txCounts struct {
	frameCounts // GPTC and TPT, GOTCL and TOTL, PTC64..PTC1522, BPTC, MPTC
}

// frameCounts are the good frames of a direction summed for its
// statistics registers: frames, octets, the six size buckets (64, 127,
// 255, 511, 1023, 1522 bytes), broadcasts and multicasts.
type frameCounts struct {
	frames, octets uint64
	size           [6]uint64
	bcast, mcast   uint64
}

// addFrameCounts adds c to the registers of frames, octets, the first
// size bucket (the next five follow it), broadcasts and multicasts.
func (d *Device) addFrameCounts(c *frameCounts, frames, octets, size0, bcast, mcast uint32) {
	if c.frames == 0 {
		return
	}
	d.count(frames, c.frames)
	d.count(octets, c.octets)
	for i, n := range c.size {
		if n != 0 {
			d.count(size0+4*uint32(i), n)
		}
	}
	if c.bcast != 0 {
		d.count(bcast, c.bcast)
	}
	if c.mcast != 0 {
		d.count(mcast, c.mcast)
	}
}

// countTx counts the frames a packet puts on the wire into c: one, or each
// TSO segment (all of them the size the segmentation will give).
func (d *Device) countTx(p *txPacket, c *txCounts) {
	var cast *uint64
	switch eth := header.Ethernet(p.frame); {
	case eth.IsBroadcast():
		cast = &c.bcast
	case eth.IsMulticast():
		cast = &c.mcast
	}
	if !p.tso {
		c.one(len(p.frame), cast)
		return
	}
	hdr := p.macLen + p.ipLen + p.l4Len
	pay := len(p.frame) - hdr
	for off := 0; off < pay || off == 0; off += p.mss {
		c.one(hdr+min(p.mss, pay-off), cast)
		d.diag[(VTSOSG-VUWC)/4]++
		if pay == 0 {
			break
		}
	}
}

// one counts a frame of n bytes without FCS (cast: its broadcast or
// multicast count, or nil).
func (c *txCounts) one(n int, cast *uint64) {
	n = max(n, MinFrame) + fcsLen
	c.frames++
	c.octets += uint64(n)
	c.size[(sizeBucket(PTC64, n)-PTC64)/4]++
	if cast != nil {
		*cast++
	}
}

// addTxCounts adds a burst's counts to the statistics registers.
func (d *Device) addTxCounts(c *txCounts) {
	if c.frames == 0 {
		return
	}
	d.count(TPT, c.frames)
	d.count(TOTL, c.octets)
	d.addFrameCounts(&c.frameCounts, GPTC, GOTCL, PTC64, BPTC, MPTC)
}
