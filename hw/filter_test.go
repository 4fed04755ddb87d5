package hw

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"vnic/header"
	"vnic/ring"
)

// filterRig is a rig with four RX queues, RSS spreading by the default key
// over queues 0-3.
func filterRig(t *testing.T) *rig {
	r := newRig(t, false)
	for q := 0; q < 4; q++ {
		r.rxRing(q, 32, 2048)
	}
	var reta [128]byte
	for i := range reta {
		reta[i] = byte(i % 4)
	}
	var key [40]byte
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	r.programRSS(key[:], reta)
	return r
}

// landed receives f and returns the queue it reached (-1 for none) and its
// write-back packet type.
func (r *rig) landed(f []byte) (int, uint16) {
	r.dev.Receive(f)
	for q := 0; q < 4; q++ {
		rr := r.rx[q]
		d := rr.descAt(rr.ntc)
		pt := d.PktType()
		if len(r.reap(q)) == 1 {
			return q, pt
		}
	}
	return -1, 0
}

// etherFrame is a broadcast frame of EtherType et.
func etherFrame(et uint16) []byte {
	f := make([]byte, 60)
	eth := header.Ethernet(f)
	eth.SetDst([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	eth.SetType(et)
	return f
}

// wire is the register form of wire bytes: the first byte in bits 7:0.
func wireAddr(s string) uint32 {
	a := netip.MustParseAddr(s).As4()
	return binary.LittleEndian.Uint32(a[:])
}

func wirePort(p uint16) uint32 { return uint32(p>>8 | p<<8) }

// An enabled EtherType filter steers its frames to its queue with packet
// type b11 and its index, counts them in its hit counter (clear on read),
// and leaves other frames to RSS; without QUEUE_ENABLE it steers nothing.
func TestETQFSteersAndCounts(t *testing.T) {
	r := filterRig(t)
	r.wr(ETQF(2), 0x88B5|3<<EtqfQueueShift|EtqfFilterEn|EtqfQueueEnable)
	for i := 0; i < 5; i++ {
		q, pt := r.landed(etherFrame(0x88B5))
		if q != 3 || pt != pktTypeETQF|2 {
			t.Fatalf("0x88b5 frame on queue %d with packet type %#x, want 3 and %#x", q, pt, pktTypeETQF|2)
		}
	}
	if q, _ := r.landed(etherFrame(header.EtherTypeARP)); q != 0 {
		t.Fatalf("ARP on queue %d, want 0 (no filter, no RSS)", q)
	}
	if got := r.rd(VETQFHC(2)); got != 5 {
		t.Fatalf("VETQFHC(2) = %d, want 5", got)
	}
	if got := r.rd(VETQFHC(2)); got != 0 {
		t.Fatalf("VETQFHC(2) after a read = %d, want 0", got)
	}
	r.wr(ETQF(2), 0x88B5|3<<EtqfQueueShift|EtqfFilterEn) // no QUEUE_ENABLE
	if q, _ := r.landed(etherFrame(0x88B5)); q != 0 || r.rd(VETQFHC(2)) != 0 {
		t.Fatalf("a filter without QUEUE_ENABLE steered to queue %d", q)
	}
	// The lowest-numbered matching filter wins.
	r.wr(ETQF(5), 0x88B5|1<<EtqfQueueShift|etqfActive)
	r.wr(ETQF(6), 0x88B5|2<<EtqfQueueShift|etqfActive)
	if q, _ := r.landed(etherFrame(0x88B5)); q != 1 || r.rd(VETQFHC(5)) != 1 || r.rd(VETQFHC(6)) != 0 {
		t.Fatalf("two matching filters: queue %d, want 1 (filter 5)", q)
	}
	// A VLAN-tagged frame matches on the EtherType after the tag.
	f := etherFrame(header.EtherTypeVLAN)
	binary.BigEndian.PutUint16(f[16:], 0x88B5)
	if q, _ := r.landed(f); q != 1 {
		t.Fatalf("tagged 0x88b5 frame on queue %d, want 1", q)
	}
}

// The 5-tuple filters: each field compared unless bypassed, ports never
// matched on fragments, priority then index between several matches,
// EtherType filters ahead of them, RSS for the rest.
func TestFTQFMatching(t *testing.T) {
	const (
		src, dst     = "198.18.0.1", "198.18.0.2"
		sport, dport = 40000, 5201
	)
	tcp := rssFrame(rigMAC, src, dst, sport, dport)
	frag := rssFrame(rigMAC, src, dst, sport, dport)
	header.IPv4(frag[14:]).SetFlagsFrag(header.IPv4MF)
	udp := rssFrame(rigMAC, src, dst, sport, dport)
	header.IPv4(udp[14:]).SetProtocol(header.ProtoUDP)
	full := func(q uint32) uint32 { return header.ProtoTCP | FtqfQueueEnable | q<<FtqfQueueShift }
	type filt struct {
		n                int
		ftqf, imir       uint32
		saqf, daqf, spqf uint32
	}
	exact := func(n int, q uint32) filt {
		return filt{n, full(q), wirePort(dport), wireAddr(src), wireAddr(dst), wirePort(sport)}
	}
	for _, c := range []struct {
		name    string
		filters []filt
		frame   []byte
		queue   int
		hit     int // 5-tuple filter that counts, -1 none
	}{
		{"exact five-tuple", []filt{exact(0, 2)}, tcp, 2, 0},
		{"wrong protocol", []filt{exact(0, 2)}, udp, -1, -1},
		{"protocol bypassed", []filt{{0, full(2) | FtqfProtoBP, wirePort(dport), wireAddr(src), wireAddr(dst), wirePort(sport)}}, udp, 2, 0},
		{"wrong source address", []filt{{1, full(3), wirePort(dport), wireAddr("198.18.0.9"), wireAddr(dst), wirePort(sport)}}, tcp, -1, -1},
		{"source address bypassed", []filt{{1, full(3) | FtqfSrcAddrBP, wirePort(dport), wireAddr("198.18.0.9"), wireAddr(dst), wirePort(sport)}}, tcp, 3, 1},
		{"wrong destination port", []filt{{0, full(1), wirePort(80), wireAddr(src), wireAddr(dst), wirePort(sport)}}, tcp, -1, -1},
		{"destination port bypassed", []filt{{0, full(1), wirePort(80) | ImirPortBP, wireAddr(src), wireAddr(dst), wirePort(sport)}}, tcp, 1, 0},
		{"only the protocol", []filt{{0, full(1) | FtqfSrcAddrBP | FtqfDstAddrBP | FtqfSrcPortBP, ImirPortBP, 0, 0, 0}}, tcp, 1, 0},
		{"fragment: ports not compared, no match", []filt{exact(0, 2)}, frag, -1, -1},
		{"fragment: addresses only", []filt{{4, full(2) | FtqfSrcPortBP, ImirPortBP, wireAddr(src), wireAddr(dst), 0}}, frag, 2, 4},
		{"higher priority wins", []filt{exact(0, 1), {3, full(2), wirePort(dport) | 5<<ImirPriShift, wireAddr(src), wireAddr(dst), wirePort(sport)}}, tcp, 2, 3},
		{"equal priority: lower index", []filt{exact(6, 1), exact(2, 3)}, tcp, 3, 2},
		{"off without QUEUE_ENABLE", []filt{{0, full(2) &^ FtqfQueueEnable, wirePort(dport), wireAddr(src), wireAddr(dst), wirePort(sport)}}, tcp, -1, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := filterRig(t)
			// Where RSS alone puts the frame.
			rssQ, _ := r.landed(c.frame)
			for _, f := range c.filters {
				r.wr(SAQF(f.n), f.saqf)
				r.wr(DAQF(f.n), f.daqf)
				r.wr(SPQF(f.n), f.spqf)
				r.wr(IMIR(f.n), f.imir)
				r.wr(FTQF(f.n), f.ftqf)
			}
			want := c.queue
			if want < 0 {
				want = rssQ
			}
			for i := 0; i < 3; i++ {
				if q, _ := r.landed(c.frame); q != want {
					t.Fatalf("frame on queue %d, want %d", q, want)
				}
			}
			for n := 0; n < NumFTQF; n++ {
				want := uint32(0)
				if n == c.hit {
					want = 3
				}
				if got := r.rd(VFTQFHC(n)); got != want {
					t.Fatalf("VFTQFHC(%d) = %d, want %d", n, got, want)
				}
			}
		})
	}
	// An EtherType filter for IPv4 comes before any 5-tuple filter.
	r := filterRig(t)
	f := exact(0, 2)
	r.wr(SAQF(0), f.saqf)
	r.wr(DAQF(0), f.daqf)
	r.wr(SPQF(0), f.spqf)
	r.wr(IMIR(0), f.imir)
	r.wr(FTQF(0), f.ftqf)
	r.wr(ETQF(7), header.EtherTypeIPv4|1<<EtqfQueueShift|etqfActive)
	if q, pt := r.landed(tcp); q != 1 || pt != pktTypeETQF|7 || r.rd(VFTQFHC(0)) != 0 || r.rd(VETQFHC(7)) != 1 {
		t.Fatalf("ETQF for IPv4 and a 5-tuple filter: queue %d type %#x, want 1 (ETQF 7)", q, pt)
	}
}

// A 5-tuple match keeps the frame's L3/L4 packet type and its RSS hash;
// CTRL.RST turns every filter off and clears the hit counters.
func TestFTQFWriteBackAndReset(t *testing.T) {
	r := filterRig(t)
	tcp := rssFrame(rigMAC, "198.18.0.1", "198.18.0.2", 1, 2)
	r.dev.Receive(tcp)
	var hash uint32
	for q := 0; q < 4; q++ {
		if d := r.rx[q].descAt(r.rx[q].ntc); len(r.reap(q)) == 1 {
			hash = d.RSSHash()
		}
	}
	r.wr(FTQF(0), header.ProtoTCP|FtqfQueueEnable|3<<FtqfQueueShift|FtqfSrcAddrBP|FtqfDstAddrBP|FtqfSrcPortBP)
	r.wr(IMIR(0), ImirPortBP)
	r.dev.Receive(tcp)
	d := r.rx[3].descAt(r.rx[3].ntc)
	if len(r.reap(3)) != 1 || d.PktType() != ring.PktTypeIPv4|ring.PktTypeTCP || d.RSSHash() != hash || d.RSSType() != ring.RSSTypeIPv4TCP {
		t.Fatalf("steered write-back: type %#x hash %#x rss %d, want IPv4|TCP, %#x, 1", d.PktType(), d.RSSHash(), d.RSSType(), hash)
	}
	r.dev.Receive(tcp)
	r.wr(CTRL, CtrlRST)
	if r.rd(FTQF(0)) != 0 || r.rd(VFTQFHC(0)) != 0 || r.dev.filtersOn != 0 {
		t.Fatal("CTRL.RST kept a filter or its count")
	}
}

// With filters on, receiving allocates nothing.
func TestFilterReceiveNoAllocs(t *testing.T) {
	r := filterRig(t)
	r.wr(ETQF(0), 0x88B5|1<<EtqfQueueShift|etqfActive)
	r.wr(FTQF(7), header.ProtoUDP|FtqfQueueEnable|2<<FtqfQueueShift|FtqfSrcAddrBP|FtqfDstAddrBP|FtqfSrcPortBP)
	r.wr(IMIR(7), ImirPortBP)
	tcp := rssFrame(rigMAC, "198.18.0.1", "198.18.0.2", 1, 2)
	et := etherFrame(0x88B5)
	a := testing.AllocsPerRun(100, func() {
		r.dev.Receive(tcp)
		r.dev.Receive(et)
		for q := 0; q < 4; q++ {
			r.rx[q].recycle(r)
		}
	})
	if a != 0 {
		t.Fatalf("%v allocations per receive with filters on", a)
	}
}

// recycle re-posts every written-back descriptor without copying frames.
func (rr *rigRing) recycle(r *rig) {
	k := uint32(0)
	for rr.descAt(rr.ntc).Status()&ring.RxStatDD != 0 {
		rr.ntc = ring.Next(rr.ntc, rr.n)
		k++
	}
	if k > 0 {
		r.post(rr.q, k)
	}
}

// steerRef is the queue filters written plainly, the slow reference: which
// filter steers frame f (kind 'e' or 'f' and index), or none.
func steerRef(regs func(off uint32) uint32, f []byte) (kind byte, n int, q int) {
	if len(f) < 14 {
		return 0, 0, 0
	}
	et, l3 := binary.BigEndian.Uint16(f[12:14]), 14
	if et == 0x8100 && len(f) >= 18 {
		et, l3 = binary.BigEndian.Uint16(f[16:18]), 18
	}
	for i := 0; i < NumETQF; i++ {
		v := regs(ETQF(i))
		if v&EtqfFilterEn != 0 && v&EtqfQueueEnable != 0 && v&0xFFFF == uint32(et) {
			return 'e', i, int(v>>16) & 7
		}
	}
	if et != 0x0800 || len(f) < l3+20 || f[l3]>>4 != 4 {
		return 0, 0, 0
	}
	ip := f[l3:]
	ihl := int(ip[0]&0xF) * 4
	if ihl < 20 || len(ip) < ihl {
		return 0, 0, 0
	}
	frag := binary.BigEndian.Uint16(ip[6:8])&0x3FFF != 0
	proto := ip[9]
	hasPorts := !frag && len(ip) >= ihl+4 && (proto == 6 || proto == 17 || proto == 132)
	best, bestPri := -1, -1
	for i := 0; i < NumFTQF; i++ {
		ftqf, imir := regs(FTQF(i)), regs(IMIR(i))
		if ftqf&FtqfQueueEnable == 0 {
			continue
		}
		if ftqf&FtqfProtoBP == 0 && ftqf&0xFF != uint32(proto) {
			continue
		}
		if ftqf&FtqfSrcAddrBP == 0 && regs(SAQF(i)) != uint32(ip[12])|uint32(ip[13])<<8|uint32(ip[14])<<16|uint32(ip[15])<<24 {
			continue
		}
		if ftqf&FtqfDstAddrBP == 0 && regs(DAQF(i)) != uint32(ip[16])|uint32(ip[17])<<8|uint32(ip[18])<<16|uint32(ip[19])<<24 {
			continue
		}
		if ftqf&FtqfSrcPortBP == 0 && (!hasPorts || regs(SPQF(i)) != uint32(ip[ihl])|uint32(ip[ihl+1])<<8) {
			continue
		}
		if imir&ImirPortBP == 0 && (!hasPorts || imir&0xFFFF != uint32(ip[ihl+2])|uint32(ip[ihl+3])<<8) {
			continue
		}
		if pri := int(imir >> 29); pri > bestPri {
			best, bestPri = i, pri
		}
	}
	if best < 0 {
		return 0, 0, 0
	}
	return 'f', best, int(regs(FTQF(best))>>16) & 0xF
}

// The queue filters against the reference: for any frame and any filter
// registers, the same filter steers to the same queue and is the one that
// counts it; nothing panics.
func FuzzQueueFilters(f *testing.F) {
	tcp := rssFrame(rigMAC, "198.18.0.1", "198.18.0.2", 1000, 2000)
	prog := make([]byte, 4*8*7)
	binary.LittleEndian.PutUint32(prog[0:], 0x0800|2<<EtqfQueueShift|etqfActive)
	f.Add(tcp, prog)
	binary.LittleEndian.PutUint32(prog[0:], 0)
	binary.LittleEndian.PutUint32(prog[4*8*3:], header.ProtoTCP|FtqfQueueEnable|5<<FtqfQueueShift|FtqfSrcAddrBP|FtqfDstAddrBP|FtqfSrcPortBP)
	binary.LittleEndian.PutUint32(prog[4*8*4:], ImirPortBP)
	f.Add(tcp, prog)
	f.Add(etherFrame(0x88B5), prog)
	f.Add([]byte{1, 2, 3}, []byte{0xff})
	r := newRig(f, false)
	bases := []uint32{ETQF0, FTQF0, IMIR0, SAQF0, DAQF0, SPQF0, IMIREXT0}
	f.Fuzz(func(t *testing.T, frame, prog []byte) {
		r.wr(CTRL, CtrlRST)
		for i := 0; i+4 <= len(prog) && i/32 < len(bases); i += 4 {
			r.wr(bases[i/32]+uint32(i%32), binary.LittleEndian.Uint32(prog[i:]))
		}
		kind, n, wantQ := steerRef(r.rd, frame)
		r.dev.mu.Lock()
		var q int
		var pt uint16
		var ok bool
		if r.dev.filtersOn != 0 {
			q, pt, ok = r.dev.steer(frame)
		}
		r.dev.mu.Unlock()
		if ok != (kind != 0) || q != wantQ || (kind == 'e') != (pt != 0) {
			t.Fatalf("steered %v to %d (type %#x), reference %c%d to %d", ok, q, pt, kind, n, wantQ)
		}
		for i := 0; i < NumETQF+NumFTQF; i++ {
			off, want := VETQFHC(i), uint32(0)
			if i >= NumETQF {
				off = VFTQFHC(i - NumETQF)
			}
			if (kind == 'e' && i == n) || (kind == 'f' && i == NumETQF+n) {
				want = 1
			}
			if got := r.rd(off); got != want {
				t.Fatalf("hit counter %d = %d, want %d", i, got, want)
			}
		}
	})
}
