package hw

import (
	"encoding/binary"
	"math/bits"

	"vnic/header"
	"vnic/ring"
)

// Frame sizes without FCS.
const (
	MinFrame    = 60
	MaxStdFrame = 1518 // 1514 + one VLAN tag
	fcsLen      = 4
)

// Receive is a frame arriving from the wire. The device copies it; the
// caller keeps the slice.
func (d *Device) Receive(frame []byte) {
	d.mu.Lock()
	d.receiveWire(frame)
	d.addRxCounts()
	d.mu.Unlock()
}

// ReceiveBurst is frames arriving back to back (a train on the wire, as a
// port that batches hands it over): the same as Receive for each in turn,
// except that the device takes its lock once for the burst and raises
// each RX queue's cause once, after the burst's last frame for it is
// written back. The caller keeps the slices. (Holding the descriptor
// write-backs to the burst's end as well, so that each descriptor cache
// line changes hands with the polling CPU once, measured slower: the
// driver then waits for the whole burst.)
func (d *Device) ReceiveBurst(frames [][]byte) {
	d.mu.Lock()
	d.inBurst = true
	for _, f := range frames {
		d.receiveWire(f)
	}
	d.inBurst = false
	d.addRxCounts()
	for c := d.burstCauses; c != 0; c &= c - 1 {
		d.rxCause(bits.TrailingZeros32(c))
	}
	d.burstCauses = 0
	d.mu.Unlock()
}

// receiveWire takes a frame from the wire (d.mu held).
func (d *Device) receiveWire(frame []byte) {
	if d.phyLoopback() {
		// The PHY loops our own transmissions back and does not listen
		// to the wire meanwhile.
		d.count(TPR, 1)
		d.diag[(VRXDIS-VUWC)/4]++
		return
	}
	d.receive(frame)
}

// rxWritten is a packet written back to queue q's ring: its cause is
// raised now, or at the end of the burst it came in.
func (d *Device) rxWritten(q int) {
	if d.inBurst {
		d.burstCauses |= 1 << q
		return
	}
	d.rxCause(q)
}

// loopReceive takes a frame the PHY looped back.
func (d *Device) loopReceive(frame []byte) {
	d.mu.Lock()
	d.receive(frame)
	d.addRxCounts()
	d.mu.Unlock()
}

// Drop counters the driver cannot see through standard registers are in the
// vnic diagnostics block (VRXFLT, VRXDIS); together with MPC, RUC and ROC
// they account for every frame TPR counts that GPRC does not.
func (d *Device) receive(frame []byte) {
	n := len(frame)
	d.rxc.total++
	d.rxc.totalOctets += uint64(n + fcsLen)
	rctl := d.regs[RCTL/4]
	if !d.linkUp() || rctl&RctlEN == 0 {
		d.diag[(VRXDIS-VUWC)/4]++
		return
	}
	if n < MinFrame {
		d.count(RUC, 1)
		d.count(RLEC, 1)
		return
	}
	max := MaxStdFrame
	if rctl&RctlLPE != 0 {
		max = int(d.regs[RLPML/4])
	}
	if n > max && rctl&RctlSBP == 0 {
		d.count(ROC, 1)
		d.count(RLEC, 1)
		return
	}
	// The EtherType and where L3 starts, read once for the MAC control,
	// RSS and checksum engines. A PAUSE frame is untagged: the type at 12.
	et, l3 := header.Ethernet(frame).InnerType()
	if et == header.EtherTypeMACControl && l3 == header.EthernetHeaderLen && d.rxPause(frame) {
		return // MAC control: consumed by the MAC
	}
	if !d.accept(frame, rctl) {
		d.diag[(VRXFLT-VUWC)/4]++
		return
	}
	var m rxMeta
	q := 0
	q, m.hash, m.rssType, m.pktType = d.classify(frame, et, l3)
	if d.filtersOn != 0 {
		// The queue filters come before RSS: the hash is still
		// reported, the queue is the filter's.
		if fq, pt, ok := d.steer(frame); ok {
			q = fq
			if pt != 0 {
				m.pktType = pt
			}
		}
	}
	m.status = d.rxChecksum(frame, et, l3)
	if d.regs[RSCCTL(q)/4]&RscctlEn != 0 && d.lroReceive(q, frame, &m) {
		return // coalesced, or held as the start of an aggregate
	}
	d.deliver1(q, frame, &m)
}

// rxMeta is the write-back metadata of a packet.
type rxMeta struct {
	hash    uint32
	status  uint32 // checksum status and error bits
	pktType uint16
	rssType uint8
	rscCnt  uint8 // frames LRO coalesced into the packet (0: a single frame)
}

// deliver1 writes a single frame to queue q's ring and counts it.
func (d *Device) deliver1(q int, frame []byte, m *rxMeta) {
	if !d.rxToRing(q, frame, m) {
		return
	}
	n := len(frame) + fcsLen
	d.fcAfterReceive(q)
	c := &d.rxc
	c.frames++
	c.octets += uint64(n)
	c.size[(sizeBucket(PRC64, n)-PRC64)/4]++
	if frame[0]&1 != 0 { // a group address
		if dstBroadcast(frame) {
			c.bcast++
		} else {
			c.mcast++
		}
	}
	d.rxWritten(q)
}

// rxCounts are the receive statistics of the frames the device takes under
// one hold of its lock (a ReceiveBurst, a Receive), summed as they come
// and added to the registers once at the end (saturating sums: the
// registers end where adding each frame's would leave them). The LRO
// flush counts its packets itself.
type rxCounts struct {
	total, totalOctets uint64 // TPR, TORL
	frameCounts               // GPRC, GORCL, PRC64..PRC1522, BPRC, MPRC
}

// addRxCounts adds the frames' counts to the statistics registers and
// clears them.
func (d *Device) addRxCounts() {
	c := &d.rxc
	if c.total == 0 {
		return
	}
	d.count(TPR, c.total)
	d.count(TORL, c.totalOctets)
	d.addFrameCounts(&c.frameCounts, GPRC, GORCL, PRC64, BPRC, MPRC)
	*c = rxCounts{}
}

// dstBroadcast reports whether frame f (at least 6 bytes) is sent to the
// broadcast address.
func dstBroadcast(f []byte) bool {
	return binary.LittleEndian.Uint32(f[0:4]) == 0xFFFFFFFF && binary.LittleEndian.Uint16(f[4:6]) == 0xFFFF
}

// rxCounted counts a packet of frames wire frames and octets octets (FCS
// included) that went to queue q's ring (the PRC size buckets are the
// caller's), after flow control's look at the ring.
func (d *Device) rxCounted(q int, frame []byte, frames, octets uint64) {
	d.fcAfterReceive(q)
	d.count(GPRC, frames)
	switch eth := header.Ethernet(frame); {
	case eth.IsBroadcast():
		d.count(BPRC, 1)
	case eth.IsMulticast():
		d.count(MPRC, 1)
	}
	d.count(GORCL, octets)
}

// rxChecksum is the receive checksum verdict (RXCSUM.IPOFLD/TUOFLD): IPCS
// for an IPv4 header checked, with IPE if it is wrong; L4CS (and UDPCS for
// UDP) for a TCP or UDP checksum checked, with TCPE if it is wrong. No
// verdict for fragments, for UDP with checksum 0, or for malformed headers:
// the stack then checks for itself. Never "good" for a bad checksum. Only
// the sums a verdict needs are computed: the header's if IPOFLD, the
// segment's if TUOFLD and it carries a checksum.
// et and l3 are the frame's InnerType.
func (d *Device) rxChecksum(f []byte, et uint16, l3 int) uint32 {
	rxcsum := d.regs[RXCSUM/4]
	if rxcsum&(RxcsumIPOFLD|RxcsumTUOFLD) == 0 || et != header.EtherTypeIPv4 {
		return 0
	}
	ip := header.IPv4(f[l3:])
	if !ip.IsValid() {
		return 0
	}
	ihl, tot := ip.HeaderLen(), int(ip.TotalLen())
	if tot > len(ip) || tot < ihl {
		return 0 // TotalLenValid
	}
	ip = ip[:tot]
	var st uint32
	if rxcsum&RxcsumIPOFLD != 0 {
		st |= ring.RxStatIPCS
		if !ipv4HeaderSumOK(ip) {
			st |= ring.RxErrIPE
		}
	}
	l4 := ip[ihl:]
	if rxcsum&RxcsumTUOFLD != 0 && !ip.IsFragment() {
		switch proto := ip.Protocol(); {
		case proto == header.ProtoTCP && len(l4) >= header.TCPMinHeaderLen:
			st |= ring.RxStatL4CS
		case proto == header.ProtoUDP && len(l4) >= header.UDPHeaderLen && binary.BigEndian.Uint16(l4[6:8]) != 0:
			st |= ring.RxStatL4CS | ring.RxStatUDPCS
		}
		if st&ring.RxStatL4CS != 0 && !l4SumOK(ip, l4) {
			st |= ring.RxErrTCPE
		}
	}
	if st&(ring.RxErrIPE|ring.RxErrTCPE) != 0 {
		d.diag[(VRXCSE-VUWC)/4]++
	}
	return st
}

// ipv4HeaderSumOK checks the header checksum of ip (IsValid): a header
// without options, the common case, as five 32-bit words in host order (a
// ones-complement sum of all ones is all ones in either byte order).
func ipv4HeaderSumOK(ip header.IPv4) bool {
	if ip[0] != 0x45 {
		return ip.ChecksumValid()
	}
	_ = ip[19]
	s := uint64(binary.NativeEndian.Uint32(ip[0:])) + uint64(binary.NativeEndian.Uint32(ip[4:])) +
		uint64(binary.NativeEndian.Uint32(ip[8:])) + uint64(binary.NativeEndian.Uint32(ip[12:])) +
		uint64(binary.NativeEndian.Uint32(ip[16:]))
	return onesSumValid(s)
}

// l4SumOK checks the TCP or UDP checksum of l4 in ip: the pseudo-header's
// addresses summed as two 32-bit words straight from the IP header.
func l4SumOK(ip header.IPv4, l4 []byte) bool {
	acc := uint64(binary.BigEndian.Uint32(ip[12:16])) + uint64(binary.BigEndian.Uint32(ip[16:20])) +
		uint64(ip.Protocol()) + uint64(len(l4))
	return onesSumValid(header.Sum(l4, acc))
}

// onesSumValid reports whether an unfolded ones-complement sum folds to
// all ones (what a correct checksum gives): 2^16 is 1 modulo 0xFFFF, so a
// non-zero sum folds to its residue, and all ones means the residue 0.
// One multiply instead of Fold's chain of dependent folds.
func onesSumValid(s uint64) bool { return s != 0 && s%0xFFFF == 0 }

// sizeBucket returns the PRC/PTC register for a frame of n bytes with FCS.
func sizeBucket(base uint32, n int) uint32 {
	switch {
	case n <= 64:
		return base
	case n <= 127:
		return base + 4
	case n <= 255:
		return base + 8
	case n <= 511:
		return base + 12
	case n <= 1023:
		return base + 16
	}
	return base + 20
}

// MTAHash returns the 12-bit multicast hash of dst for RCTL.MO = mo: the
// MTA register is h>>5 and the bit h&31.
func MTAHash(dst []byte, mo uint32) uint32 {
	shift := [4]uint{4, 3, 2, 0}[mo&3]
	return ((uint32(dst[5])<<8 | uint32(dst[4])) >> shift) & 0xFFF
}

// accept is the address filter: broadcast by BAM, multicast by MPE or the
// MTA hash, unicast by UPE or an RAL/RAH entry with AV.
// The device's own address (RAL0/RAH0) is tried first, as the common case.
func (d *Device) accept(f []byte, rctl uint32) bool {
	lo := binary.LittleEndian.Uint32(f[0:4])
	hi := uint32(binary.LittleEndian.Uint16(f[4:6]))
	if lo&1 != 0 { // a group address
		if lo == 0xFFFFFFFF && hi == 0xFFFF {
			return rctl&RctlBAM != 0
		}
		if rctl&RctlMPE != 0 {
			return true
		}
		h := MTAHash(f, (rctl>>RctlMOShift)&3)
		return d.regs[(MTA0/4)+h>>5]&(1<<(h&31)) != 0
	}
	if rctl&RctlUPE != 0 {
		return true
	}
	if rah := d.regs[RAH0/4]; rah&RahAV != 0 && d.regs[RAL0/4] == lo && rah&0xFFFF == hi {
		return true
	}
	for i := 1; i < 16; i++ {
		rah := d.regs[RAH(i)/4]
		if rah&RahAV != 0 && d.regs[RAL(i)/4] == lo && rah&0xFFFF == hi {
			return true
		}
	}
	return false
}

// classify picks the queue by RSS and returns the write-back metadata.
// Without RSS (MRQC enable != 010 or RXCSUM.PCSD = 0), or for a frame RSS
// does not hash (ARP, IPv6, fragments with only L4 types on), the queue is 0
// and the RSS type 0: the 82576 behaviour, documented in docs/hw.md.
// et and l3 are the frame's InnerType.
func (d *Device) classify(f []byte, et uint16, l3 int) (q int, hash uint32, rssType uint8, pktType uint16) {
	if et != header.EtherTypeIPv4 || len(f) < l3+header.IPv4MinHeaderLen {
		return 0, 0, 0, 0
	}
	ip := header.IPv4(f[l3:])
	if ip.Version() != 4 {
		return 0, 0, 0, 0
	}
	// Not IsValid: a header whose IHL is short or runs past the frame is
	// still typed IPv4; only its ports are not read.
	pktType = ring.PktTypeIPv4
	ihl := ip.HeaderLen()
	proto := ip.Protocol()
	l4ok := !ip.IsFragment() && ihl >= header.IPv4MinHeaderLen && len(ip) >= ihl+4
	switch {
	case proto == header.ProtoTCP && l4ok:
		pktType |= ring.PktTypeTCP
	case proto == header.ProtoUDP && l4ok:
		pktType |= ring.PktTypeUDP
	}
	mrqc := d.regs[MRQC/4]
	if mrqc&MrqcEnableMask != MrqcEnableRSS || d.regs[RXCSUM/4]&RxcsumPCSD == 0 {
		return 0, 0, 0, pktType
	}
	if d.rssDirty {
		var key [40]byte
		for k := 0; k < 40; k++ {
			key[k] = byte(d.regs[RSSRK0/4+k/4] >> (8 * (k % 4)))
		}
		d.rss.SetKey(key[:])
		d.rssDirty = false
	}
	src, dst := ip.Src(), ip.Dst()
	switch {
	case proto == header.ProtoTCP && l4ok && mrqc&MrqcIPv4TCP != 0:
		th := header.TCP(ip[ihl:]) // the ports only: l4ok holds 4 bytes
		hash = d.rss.HashIPv4(src, dst, th.SrcPort(), th.DstPort(), true)
		rssType = ring.RSSTypeIPv4TCP
	case proto == header.ProtoUDP && l4ok && mrqc&MrqcIPv4UDP != 0:
		uh := header.UDP(ip[ihl:])
		hash = d.rss.HashIPv4(src, dst, uh.SrcPort(), uh.DstPort(), true)
		rssType = ring.RSSTypeIPv4UDP
	case mrqc&MrqcIPv4 != 0:
		hash = d.rss.HashIPv4(src, dst, 0, 0, false)
		rssType = ring.RSSTypeIPv4
	default:
		return 0, 0, 0, pktType
	}
	idx := hash & 0x7F
	entry := d.regs[RETA0/4+idx/4] >> (8 * (idx % 4))
	return int(entry & 0xF), hash, rssType, pktType
}

// rxBufSize is queue q's buffer size: SRRCTL.BSIZEPKT KiB, or RCTL.BSIZE.
func (d *Device) rxBufSize(q int) int {
	if kb := d.regs[SRRCTL(q)/4] & SrrctlBSizePktMask; kb != 0 {
		return int(kb) * 1024
	}
	rctl := d.regs[RCTL/4]
	bs := (rctl & RctlBSIZEMask) >> 16
	if rctl&RctlBSEX != 0 {
		return [4]int{2048, 16384, 8192, 4096}[bs]
	}
	return [4]int{2048, 1024, 512, 256}[bs]
}

// rxView is how an RX queue's registers and descriptor ring look to the
// receive engine: worked out again only when a register it comes from
// changes (Device.rxvGen) or DMA memory is unmapped, not for every frame.
type rxView struct {
	made   bool
	gen    uint64 // the register write count it was made at
	unmaps uint64 // the DMA's unmap count it was checked at
	n      uint32 // descriptors (ok false: RDLEN invalid)
	ok     bool
	bsz    int
	base   uint64
	// desc is the whole descriptor ring if all of it is mapped; nil, each
	// descriptor's address is checked as it is fetched.
	desc []byte
}

// rxView returns queue q's view, made anew if it is out of date.
func (d *Device) rxView(q int) *rxView {
	v := &d.rxv[q]
	if unmaps := d.dma.Unmaps(); v.made && v.gen == d.rxvGen && v.unmaps == unmaps {
		return v
	}
	return d.makeRxView(q, v)
}

// makeRxView makes queue q's view into v.
func (d *Device) makeRxView(q int, v *rxView) *rxView {
	rdbal, rdbah, rdlen := d.regs[RDBAL(q)/4], d.regs[RDBAH(q)/4], d.regs[RDLEN(q)/4]
	*v = rxView{made: true, gen: d.rxvGen, unmaps: d.dma.Unmaps()}
	v.n, v.ok = ring.Count(rdlen)
	v.bsz = d.rxBufSize(q)
	v.base = uint64(rdbah)<<32 | uint64(rdbal)
	if v.ok {
		v.desc, _ = d.dma.Slice(v.base, int(v.n)*ring.DescSize)
	}
	return v
}

// rxToRing DMAs frame into queue q's ring. It reports false if the frame
// was dropped (no descriptors, queue off, DMA fault); drops are counted here.
func (d *Device) rxToRing(q int, frame []byte, m *rxMeta) bool {
	if d.regs[RXDCTL(q)/4]&DctlEnable == 0 {
		d.diag[(VRXDIS-VUWC)/4]++
		return false
	}
	v := d.rxView(q)
	if !v.ok {
		d.dmaFault(q, false)
		return false
	}
	n := v.n
	head, tail := d.regs[RDH(q)/4], d.regs[RDT(q)/4]
	if head >= n || tail >= n {
		// The checker flagged the doorbell; the device treats the ring as empty.
		head, tail = 0, 0
	}
	bsz := v.bsz
	need := uint32(1)
	if len(frame) > bsz {
		need = uint32((len(frame) + bsz - 1) / bsz)
	}
	if ring.Used(head, tail, n) < need {
		d.count(MPC, 1)
		d.count(RNBC, 1)
		d.rqdpc[q]++
		d.setICR(IcrRXO)
		d.fcAfterReceive(q)
		return false
	}
	off := 0
	for off < len(frame) {
		var dbytes []byte
		if v.desc != nil {
			dbytes = v.desc[head*ring.DescSize : (head+1)*ring.DescSize : (head+1)*ring.DescSize]
		} else {
			var ok bool
			if dbytes, ok = d.dma.Slice(v.base+uint64(head)*ring.DescSize, ring.DescSize); !ok {
				d.dmaFault(q, false)
				return false
			}
		}
		desc := ring.RxDesc(dbytes)
		if d.checker != nil {
			d.checker.fetch(false, q, head, dbytes)
		}
		chunk := min(len(frame)-off, bsz)
		buf, ok := d.dma.Slice(desc.PktAddr(), chunk)
		if !ok {
			d.dmaFault(q, false)
			return false
		}
		copy(buf, frame[off:off+chunk])
		off += chunk
		wb := ring.RxWriteBack{Length: uint16(chunk)}
		if off == len(frame) {
			wb.Status = ring.RxStatEOP | m.status
			wb.RSSType, wb.RSSHash, wb.PktType = m.rssType, m.hash, m.pktType
			wb.RSCCnt = m.rscCnt
		}
		desc.WriteBack(wb)
		head = ring.Next(head, n)
		d.regs[RDH(q)/4] = head
	}
	return true
}

// dmaFault stops queue q after a bad DMA address: counted, the queue's
// enable bit cleared and ICR.DOUTSYNC raised.
func (d *Device) dmaFault(q int, tx bool) {
	d.diag[(VDMAF-VUWC)/4]++
	if tx {
		d.regs[TXDCTL(q)/4] &^= DctlEnable
	} else {
		d.regs[RXDCTL(q)/4] &^= DctlEnable
	}
	d.setICR(IcrDOUTSYNC)
}

// rdtWrite is the RX tail doorbell.
func (d *Device) rdtWrite(q int, v uint32) {
	if d.checker != nil {
		n, _ := ring.Count(d.regs[RDLEN(q)/4])
		d.checker.tail(false, q, d.regs[RDH(q)/4], d.regs[RDT(q)/4], v, n)
	}
	d.regs[RDT(q)/4] = v
	d.fcAfterRefill(q)
}
