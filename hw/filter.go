package hw

import (
	"encoding/binary"

	"vnic/header"
)

// Receive queue filters (82576 datasheet 7.1.2, "Receive Queues
// Assignment"): eight L2 EtherType filters (ETQF) and eight 5-tuple filters
// (FTQF with SAQF, DAQF, SPQF and IMIR). A frame that matches one is steered
// to the filter's queue ahead of RSS: EtherType filters first, then 5-tuple
// filters, then RSS (the datasheet's order; vnic has no SYN or flex
// filters). Neither kind can drop a frame. Every filter that steers a frame
// counts it in a vnic hit counter (VETQFHC, VFTQFHC).
//
// Field layouts are the Linux igb/e1000 definitions (E1000_ETQF_*,
// E1000_FTQF_*, E1000_IMIR_*). Addresses and ports are held as they appear
// on the wire, their first byte in bits 7:0 (igb writes htons(port)).

// Filter register offsets; n < NumETQF (NumFTQF).
const (
	SAQF0    = 0x5980 // 5-tuple source address
	DAQF0    = 0x59A0 // 5-tuple destination address
	SPQF0    = 0x59C0 // 5-tuple source port
	FTQF0    = 0x59E0 // 5-tuple control: protocol, queue, compare bypasses
	IMIR0    = 0x5A80 // 5-tuple destination port and priority
	IMIREXT0 = 0x5AA0 // immediate-interrupt size and TCP-flag controls (stored)
	ETQF0    = 0x5CB0 // EtherType filter

	VETQFHC0 = 0x8100 // vnic: frames each EtherType filter steered (clear on read)
	VFTQFHC0 = 0x8120 // vnic: frames each 5-tuple filter steered (clear on read)
)

// NumETQF and NumFTQF are the EtherType and 5-tuple filter counts.
const (
	NumETQF = 8
	NumFTQF = 8
)

// ETQF, FTQF and friends return filter n's register.
func ETQF(n int) uint32    { return ETQF0 + 4*uint32(n) }
func SAQF(n int) uint32    { return SAQF0 + 4*uint32(n) }
func DAQF(n int) uint32    { return DAQF0 + 4*uint32(n) }
func SPQF(n int) uint32    { return SPQF0 + 4*uint32(n) }
func FTQF(n int) uint32    { return FTQF0 + 4*uint32(n) }
func IMIR(n int) uint32    { return IMIR0 + 4*uint32(n) }
func IMIREXT(n int) uint32 { return IMIREXT0 + 4*uint32(n) }
func VETQFHC(n int) uint32 { return VETQFHC0 + 4*uint32(n) }
func VFTQFHC(n int) uint32 { return VFTQFHC0 + 4*uint32(n) }

// Filter register bits.
const (
	EtqfETypeMask   = 0xFFFF
	EtqfQueueShift  = 16
	EtqfQueueMask   = 7 << EtqfQueueShift // igb's E1000_ETQF_QUEUE_MASK: queues 0-7
	EtqfFilterEn    = 1 << 26
	EtqfImmInt      = 1 << 29 // stored: no immediate interrupts
	Etqf1588        = 1 << 30 // stored: no time stamping
	EtqfQueueEnable = 1 << 31

	FtqfProtoMask   = 0xFF
	FtqfQueueEnable = 1 << 8
	FtqfVFBypass    = 1 << 15 // stored: no pools
	FtqfQueueShift  = 16
	FtqfQueueMask   = 0xF << FtqfQueueShift
	Ftqf1588        = 1 << 27 // stored
	FtqfProtoBP     = 1 << 28 // do not compare the protocol
	FtqfSrcAddrBP   = 1 << 29 // do not compare SAQF
	FtqfDstAddrBP   = 1 << 30 // do not compare DAQF
	FtqfSrcPortBP   = 1 << 31 // do not compare SPQF

	ImirPortMask    = 0xFFFF
	ImirPortIMEn    = 1 << 16 // stored: no immediate interrupts
	ImirPortBP      = 1 << 17 // do not compare the destination port
	ImirPriShift    = 29
	ImirPriMask     = 7 << ImirPriShift
	ImirextSizeBP   = 1 << 12
	ImirextCtrlBP   = 1 << 19
	etqfActive      = EtqfFilterEn | EtqfQueueEnable
	pktTypeETQF     = 1 << 11 // packet type b11: an EtherType filter matched; b2:0 its index
	filterOnFTQF    = 8       // filtersOn bit of 5-tuple filter 0
	filterHitsCount = NumETQF + NumFTQF
	protoSCTP       = 132
)

// filterWrite stores a filter register and keeps filtersOn, the set of
// filters that can steer (bit n: ETQF n; bit 8+n: FTQF n), so that the
// receive path skips the filters entirely while none is on.
func (d *Device) filterWrite(off, v uint32) {
	d.regs[off/4] = v
	switch {
	case off >= ETQF0 && off < ETQF0+4*NumETQF:
		n := (off - ETQF0) / 4
		if v&etqfActive == etqfActive {
			d.filtersOn |= 1 << n
		} else {
			d.filtersOn &^= 1 << n
		}
	case off >= FTQF0 && off < FTQF0+4*NumFTQF:
		n := filterOnFTQF + (off-FTQF0)/4
		if v&FtqfQueueEnable != 0 {
			d.filtersOn |= 1 << n
		} else {
			d.filtersOn &^= 1 << n
		}
	}
}

// isFilterReg reports whether off is a filter register filterWrite keeps.
func isFilterReg(off uint32) bool {
	return off >= ETQF0 && off < ETQF0+4*NumETQF || off >= FTQF0 && off < FTQF0+4*NumFTQF
}

// steer applies the queue filters to frame f: the queue of the filter that
// matches, with the descriptor's packet type for an EtherType match (0 for a
// 5-tuple match: the L3/L4 type stays). Callers check filtersOn first.
func (d *Device) steer(f []byte) (q int, pktType uint16, ok bool) {
	if len(f) < header.EthernetHeaderLen {
		return 0, 0, false // receive drops runts first; steer stands alone
	}
	et, l3 := header.Ethernet(f).InnerType()
	if on := d.filtersOn & 0xFF; on != 0 {
		for n := 0; n < NumETQF; n++ {
			if on&(1<<n) == 0 {
				continue
			}
			if v := d.regs[ETQF(n)/4]; uint16(v) == et {
				d.filterHits[n]++
				return int(v&EtqfQueueMask) >> EtqfQueueShift, pktTypeETQF | uint16(n), true
			}
		}
	}
	on := d.filtersOn >> filterOnFTQF
	if on == 0 || et != header.EtherTypeIPv4 || len(f) < l3+header.IPv4MinHeaderLen {
		return 0, 0, false
	}
	ip := header.IPv4(f[l3:])
	ihl := ip.HeaderLen()
	if ip.Version() != 4 || ihl < header.IPv4MinHeaderLen || len(ip) < ihl {
		return 0, 0, false
	}
	proto := ip.Protocol()
	var sport, dport uint32
	ports := !ip.IsFragment() && len(ip) >= ihl+4 &&
		(proto == header.ProtoTCP || proto == header.ProtoUDP || proto == protoSCTP)
	if ports {
		sport = uint32(binary.LittleEndian.Uint16(ip[ihl:]))
		dport = uint32(binary.LittleEndian.Uint16(ip[ihl+2:]))
	}
	src := binary.LittleEndian.Uint32(ip[12:16])
	dst := binary.LittleEndian.Uint32(ip[16:20])
	best, bestPri := -1, uint32(0)
	for n := 0; n < NumFTQF; n++ {
		if on&(1<<n) == 0 {
			continue
		}
		ftqf := d.regs[FTQF(n)/4]
		imir := d.regs[IMIR(n)/4]
		switch {
		case ftqf&FtqfProtoBP == 0 && uint8(ftqf) != proto,
			ftqf&FtqfSrcAddrBP == 0 && d.regs[SAQF(n)/4] != src,
			ftqf&FtqfDstAddrBP == 0 && d.regs[DAQF(n)/4] != dst,
			ftqf&FtqfSrcPortBP == 0 && (!ports || d.regs[SPQF(n)/4]&0xFFFF != sport),
			imir&ImirPortBP == 0 && (!ports || imir&ImirPortMask != dport):
			continue
		}
		if pri := imir >> ImirPriShift; best < 0 || pri > bestPri {
			best, bestPri = n, pri
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	d.filterHits[NumETQF+best]++
	return int(d.regs[FTQF(best)/4]&FtqfQueueMask) >> FtqfQueueShift, 0, true
}

// readFilterHits is a read of VETQFHC(n) or VFTQFHC(n): the frames the
// filter steered since the last read (saturating), then cleared.
func (d *Device) readFilterHits(off uint32) uint32 {
	i := (off - VETQFHC0) / 4
	v := sat32(d.filterHits[i])
	d.filterHits[i] = 0
	return v
}
