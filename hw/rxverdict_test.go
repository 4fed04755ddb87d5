package hw

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"vnic/header"
	"vnic/ring"
)

// The receive engine's verdicts as first written, each parsing the frame on
// its own: the slow references the fast paths in rx.go are compared with.
// (classify has none: only its parse moved to the caller, its body is the
// same.)

// rxChecksumRef is rxChecksum as first written, parsing the frame itself:
// the receive checksum verdict (RXCSUM.IPOFLD/TUOFLD): IPCS
// for an IPv4 header checked, with IPE if it is wrong; L4CS (and UDPCS for
// UDP) for a TCP or UDP checksum checked, with TCPE if it is wrong. No
// verdict for fragments, for UDP with checksum 0, or for malformed headers:
// the stack then checks for itself. Never "good" for a bad checksum. Only
// the sums a verdict needs are computed: the header's if IPOFLD, the
// segment's if TUOFLD and it carries a checksum.
func (d *Device) rxChecksumRef(f []byte) uint32 {
	rxcsum := d.regs[RXCSUM/4]
	if rxcsum&(RxcsumIPOFLD|RxcsumTUOFLD) == 0 {
		return 0
	}
	et, l3 := header.Ethernet(f).InnerType()
	ip := header.IPv4(f[l3:])
	if et != header.EtherTypeIPv4 || !ip.IsValid() || !ip.TotalLenValid() {
		return 0
	}
	ip = ip[:ip.TotalLen()]
	var st uint32
	if rxcsum&RxcsumIPOFLD != 0 {
		st |= ring.RxStatIPCS
		if !ipv4HeaderSumOK(ip) {
			st |= ring.RxErrIPE
		}
	}
	l4 := ip[ip.HeaderLen():]
	if rxcsum&RxcsumTUOFLD != 0 && !ip.IsFragment() {
		switch {
		case ip.Protocol() == header.ProtoTCP && len(l4) >= header.TCPMinHeaderLen:
			st |= ring.RxStatL4CS
		case ip.Protocol() == header.ProtoUDP && header.UDP(l4).IsValid() && header.UDP(l4).Checksum() != 0:
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

// acceptRef is the address filter as first written: broadcast, multicast,
// then the sixteen RAL/RAH entries in order.
func (d *Device) acceptRef(f []byte, rctl uint32) bool {
	switch eth := header.Ethernet(f); {
	case eth.IsBroadcast():
		return rctl&RctlBAM != 0
	case eth.IsMulticast():
		if rctl&RctlMPE != 0 {
			return true
		}
		h := MTAHash(f, (rctl>>RctlMOShift)&3)
		return d.regs[(MTA0/4)+h>>5]&(1<<(h&31)) != 0
	}
	if rctl&RctlUPE != 0 {
		return true
	}
	lo := binary.LittleEndian.Uint32(f[0:4])
	hi := uint32(binary.LittleEndian.Uint16(f[4:6]))
	for i := 0; i < 16; i++ {
		rah := d.regs[RAH(i)/4]
		if rah&RahAV != 0 && d.regs[RAL(i)/4] == lo && rah&0xFFFF == hi {
			return true
		}
	}
	return false
}

// rxVerdictFrames returns frames that reach every branch of the parse:
// untagged and VLAN-tagged, IPv4 with and without options, TCP, UDP (with
// and without a checksum), other protocols, fragments, short and lying
// length fields, bad checksums, ARP; and random bytes over a valid start.
func rxVerdictFrames(r *rand.Rand) [][]byte {
	var out [][]byte
	for _, tcp := range []bool{true, false} {
		for _, n := range []int{60, 64, 128, 1514} {
			f := benchTCPFrame(n)
			if !tcp {
				ip := header.IPv4(f[14:])
				ip.SetProtocol(header.ProtoUDP)
				binary.BigEndian.PutUint16(f[34+4:], uint16(len(f)-34))
				ip.UpdateChecksum()
				header.UDP(f[34:]).SetChecksum(header.L4Checksum(ip, f[34:]))
			}
			out = append(out, f)
		}
	}
	base := len(out)
	for i := 0; i < base; i++ {
		f := out[i]
		// VLAN-tagged copy.
		t := make([]byte, len(f)+4)
		copy(t, f[:12])
		binary.BigEndian.PutUint16(t[12:], header.EtherTypeVLAN)
		binary.BigEndian.PutUint16(t[14:], 5)
		copy(t[16:], f[12:])
		out = append(out, t)
	}
	mutate := func(f []byte, fn func([]byte)) {
		c := append([]byte(nil), f...)
		fn(c)
		out = append(out, c)
	}
	for i := 0; i < 2*base; i++ {
		f := out[i]
		l3 := 14
		if binary.BigEndian.Uint16(f[12:]) == header.EtherTypeVLAN {
			l3 = 18
		}
		mutate(f, func(c []byte) { c[l3+10] ^= 0x55 })                             // bad header sum
		mutate(f, func(c []byte) { c[len(c)-1] ^= 0x5a })                          // bad L4 sum (or padding)
		mutate(f, func(c []byte) { c[l3+6] |= 0x20 })                              // MF
		mutate(f, func(c []byte) { c[l3+7] = 1 })                                  // offset
		mutate(f, func(c []byte) { c[l3] = 0x46 })                                 // IHL 6
		mutate(f, func(c []byte) { c[l3] = 0x4f })                                 // IHL 15
		mutate(f, func(c []byte) { c[l3] = 0x44 })                                 // IHL 4
		mutate(f, func(c []byte) { c[l3] = 0x65 })                                 // version 6
		mutate(f, func(c []byte) { binary.BigEndian.PutUint16(c[l3+2:], 0xFFFF) }) // total length past the frame
		mutate(f, func(c []byte) { binary.BigEndian.PutUint16(c[l3+2:], 10) })     // total length short of the header
		mutate(f, func(c []byte) { binary.BigEndian.PutUint16(c[l3+2:], 22) })     // no room for L4
		mutate(f, func(c []byte) { c[l3+9] = 1 })                                  // ICMP
		mutate(f, func(c []byte) { c[l3+9] = protoSCTP })                          //
		mutate(f, func(c []byte) { binary.BigEndian.PutUint16(c[l3-2:], header.EtherTypeARP) })
		mutate(f, func(c []byte) { binary.BigEndian.PutUint16(c[12:], header.EtherTypeVLAN) }) // a tag over the IP header
		if c := f[l3+9]; c == header.ProtoUDP {
			mutate(f, func(c []byte) { binary.BigEndian.PutUint16(c[l3+20+6:], 0) }) // no UDP checksum
		}
	}
	for i := 0; i < 400; i++ {
		f := append([]byte(nil), out[r.IntN(len(out))]...)
		for k := r.IntN(6); k >= 0; k-- {
			f[r.IntN(min(len(f), 60))] = byte(r.Uint32())
		}
		out = append(out, f)
	}
	return out
}

// TestRxVerdictsMatchReference compares classify, rxChecksum and accept
// with their references on every frame of rxVerdictFrames, under RSS and
// checksum settings on and off and address filters of each kind.
func TestRxVerdictsMatchReference(t *testing.T) {
	d := benchDevice(t)
	r := rand.New(rand.NewPCG(17, 1))
	frames := rxVerdictFrames(r)
	for _, f := range frames[:8] { // group and other unicast destinations
		for _, dst := range [][6]byte{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x01, 0, 0x5e, 0, 0, 1}, {0x02, 0, 0, 0, 0, 9}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}} {
			c := append([]byte(nil), f...)
			copy(c, dst[:])
			frames = append(frames, c)
		}
	}
	d.regs[RAL(3)/4] = 0x00000002
	d.regs[RAH(3)/4] = 0x0900 | RahAV
	d.regs[MTA0/4+(MTAHash([]byte{0x01, 0, 0x5e, 0, 0, 1}, 0)>>5)] = ^uint32(0)
	for _, rxcsum := range []uint32{0, RxcsumIPOFLD, RxcsumTUOFLD, RxcsumIPOFLD | RxcsumTUOFLD | RxcsumPCSD, RxcsumPCSD} {
		for _, mrqc := range []uint32{0, MrqcEnableRSS | MrqcIPv4 | MrqcIPv4TCP | MrqcIPv4UDP, MrqcEnableRSS | MrqcIPv4, MrqcEnableRSS | MrqcIPv4TCP} {
			for _, rctl := range []uint32{RctlEN, RctlEN | RctlBAM, RctlEN | RctlMPE, RctlEN | RctlUPE, RctlEN | RctlBAM | 1<<RctlMOShift} {
				d.regs[RXCSUM/4], d.regs[MRQC/4] = rxcsum, mrqc
				for i, f := range frames {
					et, l3 := header.Ethernet(f).InnerType()
					if got, want := d.rxChecksum(f, et, l3), d.rxChecksumRef(f); got != want {
						t.Fatalf("frame %d, RXCSUM %#x: rxChecksum = %#x, reference %#x", i, rxcsum, got, want)
					}
					for _, av := range []uint32{RahAV, 0} { // the own address valid, then not
						d.regs[RAH(0)/4] = d.regs[RAH(0)/4]&^RahAV | av
						if got, want := d.accept(f, rctl), d.acceptRef(f, rctl); got != want {
							t.Fatalf("frame %d (dst % x), RCTL %#x, RAH0 %#x: accept = %v, reference %v", i, f[:6], rctl, d.regs[RAH(0)/4], got, want)
						}
					}
				}
			}
		}
	}
}

// FuzzRxVerdicts compares the fast verdicts with the references on
// arbitrary frames of at least MinFrame bytes (what reaches them).
func FuzzRxVerdicts(f *testing.F) {
	for _, fr := range rxVerdictFrames(rand.New(rand.NewPCG(1, 2)))[:40] {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, fr []byte) {
		if len(fr) < MinFrame {
			return
		}
		d := benchDevice(t)
		d.regs[RXCSUM/4] = RxcsumIPOFLD | RxcsumTUOFLD | RxcsumPCSD
		d.regs[MRQC/4] = MrqcEnableRSS | MrqcIPv4 | MrqcIPv4TCP | MrqcIPv4UDP
		et, l3 := header.Ethernet(fr).InnerType()
		if got, want := d.rxChecksum(fr, et, l3), d.rxChecksumRef(fr); got != want {
			t.Fatalf("rxChecksum = %#x, reference %#x", got, want)
		}
		for _, rctl := range []uint32{RctlEN | RctlBAM, RctlEN | RctlMPE, RctlEN | RctlUPE} {
			if got, want := d.accept(fr, rctl), d.acceptRef(fr, rctl); got != want {
				t.Fatalf("RCTL %#x: accept = %v, reference %v", rctl, got, want)
			}
		}
	})
}
