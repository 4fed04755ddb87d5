package hw

import (
	"time"

	"vnic/header"
	"vnic/offload"
	"vnic/ring"
)

// LRO (receive side coalescing), modelled on the 82599's RSC with a vnic
// control register (RSCCTL) on the 82576 layout. With RSCCTL.RSCEN a queue
// keeps one open aggregate: a TCP/IPv4 frame without IP options, not a
// fragment, with payload and no flag but ACK (PSH allowed: it is appended and
// ends the aggregate) starts one; following frames of the same flow are
// appended when their sequence number continues it, their TCP options are
// identical, and the aggregate stays within MAXDESC buffers, 64 KiB and the
// 15 frames RSCCNT (4 bits) can report. The
// aggregate takes the newest ACK number and window and the union of PSH. It
// is written to the ring as one packet (IPv4 length, header checksum and TCP
// checksum recomputed; RSCCNT in the write-back) when a frame cannot join
// it, when it is full, on PSH, when RSCEN is cleared, and when its timer
// fires: the queue's interrupt throttle interval (EITR). With EITR 0 there
// is no time to wait and nothing is coalesced (ixgbe likewise refuses RSC at
// low interrupt intervals).

// maxRSCCnt is the most frames an aggregate holds: RSCCNT is dw0 b20:17.
const maxRSCCnt = 15

type lroState struct {
	open    bool
	buf     []byte
	key     [12]byte
	nextSeq uint32
	frames  int
	meta    rxMeta
	l3, hdr int // offsets of the IPv4 header and of the payload
	bytes   uint64
	sizes   [6]uint32 // frames per PRC bucket
	timer   Timer
}

// lroReceive offers a frame to queue q's LRO (offload.TCPLRO decides). It
// reports true if the frame was taken (appended, or held to start an
// aggregate); false means the caller delivers it normally, after any open
// aggregate was flushed, so order is kept.
func (d *Device) lroReceive(q int, f []byte, m *rxMeta) bool {
	l := &d.lro[q]
	ip, th, payload, ok := lroParse(f)
	if !ok || d.lroInterval(q) == 0 {
		d.lroFlush(q)
		return false
	}
	maxLen := d.lroMax(q)
	var open *offload.LROOpen
	if l.open {
		lip := header.IPv4(l.buf[l.l3:])
		open = &offload.LROOpen{Key: l.key, NextSeq: l.nextSeq, Len: len(l.buf), Max: maxLen,
			Options: header.TCP(l.buf[l.l3+lip.HeaderLen():]).Options()}
	}
	csumOK := m.status&(ring.RxErrIPE|ring.RxErrTCPE) == 0
	switch offload.TCPLRO(open, ip, th, payload, len(f), maxLen, csumOK) {
	case offload.LROStart:
		d.lroStart(q, f, ip, th, payload, m)
		return true
	case offload.LROAppend:
		d.lroAppend(q, f, th, payload)
		if d.lro[q].frames == maxRSCCnt {
			d.lroFlush(q) // RSCCNT cannot count more
		}
		return true
	case offload.LROAppendFlush:
		d.lroAppend(q, f, th, payload)
		d.lroFlush(q)
		return true
	case offload.LROFlushStart:
		d.lroFlush(q)
		d.lroStart(q, f, ip, th, payload, m)
		return true
	case offload.LROFlushPass:
		d.lroFlush(q)
	}
	return false
}

func (d *Device) lroStart(q int, f []byte, ip header.IPv4, th header.TCP, payload int, m *rxMeta) {
	l := &d.lro[q]
	l.open = true
	l.buf = append(l.buf[:0], f...)
	l.key = offload.GROFlowKey(ip, th)
	l.nextSeq = th.Seq() + uint32(payload)
	l.frames = 1
	l.meta = *m
	l.l3 = len(f) - len(ip)
	l.hdr = len(f) - payload
	l.bytes, l.sizes = 0, [6]uint32{}
	l.account(len(f))
	l.timer.Reset(d.lroInterval(q))
}

// lroAppend adds a frame's payload: the aggregate takes its ACK number,
// window and PSH.
func (d *Device) lroAppend(q int, f []byte, th header.TCP, payload int) {
	l := &d.lro[q]
	l.buf = append(l.buf, f[len(f)-payload:]...)
	lt := header.TCP(l.buf[l.l3+header.IPv4(l.buf[l.l3:]).HeaderLen():])
	lt.SetAck(th.Ack())
	lt.SetWindow(th.Window())
	lt.SetFlags(lt.Flags() | th.Flags()&header.TCPPsh)
	l.nextSeq += uint32(payload)
	l.frames++
	l.account(len(f))
	d.diag[(VLROAG-VUWC)/4]++
}

func (l *lroState) account(n int) {
	l.bytes += uint64(n + fcsLen)
	l.sizes[(sizeBucket(PRC64, n+fcsLen)-PRC64)/4]++
}

// lroParse finds the IPv4 and TCP headers of a frame LRO may take.
func lroParse(f []byte) (header.IPv4, header.TCP, int, bool) {
	eth := header.Ethernet(f)
	if len(f) < header.EthernetHeaderLen+header.IPv4MinHeaderLen+header.TCPMinHeaderLen || eth.Type() != header.EtherTypeIPv4 {
		return nil, nil, 0, false
	}
	ip := header.IPv4(eth.Payload())
	if !ip.IsValid() || int(ip.TotalLen()) != len(ip) {
		return nil, nil, 0, false // padding or a short frame: not worth the risk
	}
	th := header.TCP(ip[ip.HeaderLen():])
	if !offload.GROEligible(ip, th) {
		return nil, nil, 0, false
	}
	return ip, th, len(th) - th.HeaderLen(), true
}

// lroMax is the largest aggregate, in frame bytes: MAXDESC buffers, and an
// IPv4 packet of at most 64 KiB.
func (d *Device) lroMax(q int) int {
	maxDesc := [4]int{1, 4, 8, 16}[(d.regs[RSCCTL(q)/4]>>RscctlMaxDescShift)&3]
	return min(maxDesc*d.rxBufSize(q), header.EthernetHeaderLen+65535)
}

// lroInterval is the aggregation timer: the queue's vector's EITR interval.
func (d *Device) lroInterval(q int) time.Duration {
	v, ok := d.queueVector(q, false)
	if !ok {
		return 0
	}
	return time.Duration((d.regs[EITR(v)/4]&EitrIntervalMask)>>2) * time.Microsecond
}

// lroFlush writes queue q's open aggregate to the ring.
func (d *Device) lroFlush(q int) {
	l := &d.lro[q]
	if !l.open {
		return
	}
	l.open = false
	l.timer.Stop()
	f := l.buf
	m := &l.meta
	if l.frames > 1 {
		m.rscCnt = uint8(l.frames) // at most maxRSCCnt
		ip := header.IPv4(f[l.l3:])
		ip.SetTotalLen(uint16(len(f) - l.l3))
		ip.UpdateChecksum()
		l4 := f[l.l3+ip.HeaderLen():]
		header.TCP(l4).SetChecksum(0)
		header.TCP(l4).SetChecksum(header.L4Checksum(ip, l4))
		d.diag[(VLROFL-VUWC)/4]++
	}
	if !d.rxToRing(q, f, m) {
		if l.frames > 1 {
			d.count(MPC, uint64(l.frames-1)) // rxToRing counted the first
			d.count(RNBC, uint64(l.frames-1))
			d.rqdpc[q] += uint64(l.frames - 1)
		}
		return
	}
	d.rxCounted(q, f, uint64(l.frames), l.bytes)
	for i, n := range l.sizes {
		if n != 0 {
			d.count(PRC64+4*uint32(i), uint64(n))
		}
	}
	d.rxWritten(q)
}

// lroTimer fires when an aggregate has waited the throttle interval.
func (d *Device) lroTimer(q int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lroFlush(q)
}
