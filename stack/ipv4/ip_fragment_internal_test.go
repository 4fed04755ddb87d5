package ipv4

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

func internalInet(t *testing.T) *Inet {
	t.Helper()
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := InetInit(h, InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// datagram builds an IPv4 datagram with options opts and n payload bytes
// as one linear skb, or (chain) as a frag_list chain cut at the geometry
// for mtu.
func datagram(in *Inet, opts []byte, n, mtu int, chain bool) *stack.SKB {
	hlen := IPv4HdrLen + len(opts)
	total := hlen + n
	hdr := make([]byte, hlen)
	hdr[0] = 0x40 | byte(hlen/4)
	binary.BigEndian.PutUint16(hdr[2:4], uint16(total))
	binary.BigEndian.PutUint16(hdr[4:6], 0x1234)
	hdr[8], hdr[9] = 64, IPProtoUDP
	copy(hdr[12:16], []byte{198, 18, 0, 1})
	copy(hdr[16:20], []byte{198, 18, 0, 2})
	copy(hdr[20:], opts)
	header.IPv4(hdr).UpdateChecksum()
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i*13 + 1)
	}
	first := total
	if chain {
		first = hlen + (mtu-hlen)&^7
	}
	skb := in.host.Pool().Alloc(LLReserve + first)
	skb.Reserve(LLReserve)
	b := skb.Put(first)
	copy(b, hdr)
	rest := payload[copy(b[hlen:], payload):]
	tail := skb
	for chain && len(rest) > 0 {
		c := min(len(rest), (mtu-hlen)&^7)
		f := in.host.Pool().Alloc(LLReserve + hlen + c)
		f.Reserve(LLReserve + hlen)
		copy(f.Put(c), rest[:c])
		rest = rest[c:]
		tail.SetFragList(f)
		tail = f
	}
	skb.ResetNetworkHeader()
	skb.SetDst(&(&Rtable{Dst: stack.Dst{Dev: in.lo}, Type: fib.RTNUnicast}).Dst)
	return skb
}

// FRAG-14 and V-15: the fast path (frag_list already cut) and the slow
// path (copying) give identical fragments; copied options (LSRR, RA)
// ride in every fragment, the others (RR, TS) in the first only, turned
// into NOOPs after it.
func TestFragmentFastSlowIdentical(t *testing.T) {
	in := internalInet(t)
	// RR (3 slots, pointer 4), RA, LSRR with one address, END padding.
	opts := []byte{
		IPOptRR, 15, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		IPOptRA, 4, 0, 0,
		IPOptLSRR, 7, 4, 198, 18, 9, 9,
		IPOptEnd, IPOptEnd,
	}
	const mtu = 600
	collect := func(skb *stack.SKB) [][]byte {
		var out [][]byte
		in.fragment(skb, mtu, func(f *stack.SKB) {
			out = append(out, append([]byte(nil), f.Data()...))
			f.Consume()
		})
		return out
	}
	chained := datagram(in, opts, 2000, mtu, true)
	if hl := IPv4HdrLen + len(opts); !in.fastGeometry(chained, hl, mtu-hl) {
		t.Fatal("the chain does not qualify for the fast path")
	}
	fast := collect(chained)
	fastCreates := in.Stats.FragCreates.Load()
	slow := collect(datagram(in, opts, 2000, mtu, false))
	if len(fast) != len(slow) || len(fast) != 4 {
		t.Fatalf("fast %d fragments, slow %d", len(fast), len(slow))
	}
	for i := range fast {
		if !bytes.Equal(fast[i], slow[i]) {
			t.Fatalf("fragment %d differs:\nfast %x\nslow %x", i, fast[i][:48], slow[i][:48])
		}
	}
	if fastCreates != 4 || in.Stats.FragOKs.Load() != 2 {
		t.Fatalf("FragCreates %d FragOKs %d", fastCreates, in.Stats.FragOKs.Load())
	}
	hlen := IPv4HdrLen + len(opts)
	var got []byte
	for i, f := range fast {
		ip := header.IPv4(f)
		if !ip.ChecksumValid() || ip.HeaderLen() != hlen || ip.ID() != 0x1234 {
			t.Fatalf("fragment %d header %x", i, f[:hlen])
		}
		o := f[IPv4HdrLen:hlen]
		if i == 0 {
			if !bytes.Equal(o, opts) {
				t.Fatalf("first fragment options %x", o)
			}
		} else {
			want := append(bytes.Repeat([]byte{IPOptNoop}, 15), opts[15:]...)
			if !bytes.Equal(o, want) {
				t.Fatalf("fragment %d options %x, want %x", i, o, want)
			}
		}
		off := int(ip.FlagsFrag()&IPOffset) * 8
		if off != len(got) {
			t.Fatalf("fragment %d at %d, want %d", i, off, len(got))
		}
		if (ip.FlagsFrag()&IPMF != 0) != (i < len(fast)-1) {
			t.Fatalf("fragment %d MF wrong", i)
		}
		if i < len(fast)-1 && (len(f)-hlen)%8 != 0 {
			t.Fatalf("fragment %d payload %d not a multiple of 8", i, len(f)-hlen)
		}
		got = append(got, f[hlen:]...)
	}
	for i, b := range got {
		if b != byte(i*13+1) {
			t.Fatalf("payload byte %d is %d", i, b)
		}
	}
	if in.host.Pool().Live() != 0 {
		t.Fatalf("%d skbs live", in.host.Pool().Live())
	}
}

// A GRO packet is forwarded whole (the device or software GSO cuts it to
// its original segments); an LRO one is dropped (FWD-01).
func TestForwardLRODropped(t *testing.T) {
	in := internalInet(t)
	skb := datagram(in, nil, 3000, 1500, false)
	skb.PktType = stack.PacketHost
	skb.LRO = true
	skb.GSOSize, skb.GSOType = 1448, stack.GSOTCPv4
	in.forward(skb)
	if in.Stats.InDiscards.Load() != 1 || in.host.Pool().Live() != 0 {
		t.Fatalf("InDiscards %d live %d", in.Stats.InDiscards.Load(), in.host.Pool().Live())
	}
}

// Past ipfrag_high_thresh the oldest queues go until the memory is under
// ipfrag_low_thresh, each a reassembly failure; a datagram reassembling to
// more than 65,535 bytes is dropped and counted.
func TestDefragMemoryAndOversize(t *testing.T) {
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := InetInit(h, InetConfig{Seed: 1, FragHigh: 40000, FragLow: 30000})
	if err != nil {
		t.Fatal(err)
	}
	frag := func(id uint16, off int, mf bool, n int) *stack.SKB {
		ff := uint16(off / 8)
		if mf {
			ff |= IPMF
		}
		hdr := make([]byte, 20+n)
		hdr[0], hdr[8], hdr[9] = 0x45, 64, IPProtoUDP
		binary.BigEndian.PutUint16(hdr[2:], uint16(20+n))
		binary.BigEndian.PutUint16(hdr[4:], id)
		binary.BigEndian.PutUint16(hdr[6:], ff)
		copy(hdr[12:], []byte{198, 18, 0, 2, 198, 18, 0, 1})
		header.IPv4(hdr).UpdateChecksum()
		s := in.host.Pool().Alloc(len(hdr))
		copy(s.Put(len(hdr)), hdr)
		s.Dev = in.lo
		s.ResetNetworkHeader()
		return s
	}
	// Each first fragment holds a 2 KiB buffer: 20 queues are ≈ 47 KB.
	for id := uint16(1); id <= 20; id++ {
		if got := in.defrag(frag(id, 0, true, 8), defragLocalDeliver); got != nil {
			t.Fatal("reassembled from one fragment")
		}
	}
	q, mem := in.FragQueues(), in.FragMem()
	if mem > 40000+frag(99, 0, true, 8).Truesize() || q >= 20 {
		t.Fatalf("%d queues, %d bytes held", q, mem)
	}
	evicted := in.Stats.ReasmFails.Load()
	if evicted == 0 || uint64(20-q) != evicted {
		t.Fatalf("%d queues left, %d evicted", q, evicted)
	}
	// The newest queue survived, the oldest did not.
	in.frags.mu.Lock()
	_, oldest := in.frags.queues[fragKey{src: [4]byte{198, 18, 0, 2}, dst: [4]byte{198, 18, 0, 1}, id: 1, proto: IPProtoUDP}]
	_, newest := in.frags.queues[fragKey{src: [4]byte{198, 18, 0, 2}, dst: [4]byte{198, 18, 0, 1}, id: 20, proto: IPProtoUDP}]
	in.frags.mu.Unlock()
	if oldest || !newest {
		t.Fatalf("oldest kept %v, newest kept %v", oldest, newest)
	}
	clk.RunFor(31 * time.Second)
	if in.FragQueues() != 0 || in.FragMem() != 0 {
		t.Fatalf("after the timeout: %d queues, %d bytes", in.FragQueues(), in.FragMem())
	}

	// 66,000 bytes of payload would make a 66,020-byte datagram (on a
	// host whose thresholds leave it room).
	in, err = InetInit(stack.NewHost("h2", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{}), InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	before := in.Stats.ReasmFails.Load()
	if got := in.defrag(frag(501, 0, true, 65000), defragLocalDeliver); got != nil {
		t.Fatal("early")
	}
	if got := in.defrag(frag(501, 65000, false, 1000), defragLocalDeliver); got != nil {
		t.Fatal("an oversized datagram was reassembled")
	}
	if in.Stats.ReasmFails.Load() != before+1 || in.FragQueues() != 0 {
		t.Fatalf("ReasmFails %d→%d, %d queues", before, in.Stats.ReasmFails.Load(), in.FragQueues())
	}
	clk.RunFor(31 * time.Second)
	if in.host.Pool().Live() != 0 {
		t.Fatalf("%d skbs live", in.host.Pool().Live())
	}
}

// icmp_global_allow: the host-wide budget refuses rate-masked messages once
// its 50 credits are spent (each message taking 0–2), and is back after a
// second; unmasked types (echo replies) are never held.
func TestICMPGlobalBudget(t *testing.T) {
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := InetInit(h, InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		for i := 0; i < 200; i++ {
			if ok, _ := in.allowGlobal(ICMPDestUnreach, ICMPPortUnreach); ok {
				in.icmp.globalConsume()
				n++
			}
		}
		return n
	}
	first := count()
	if first < 25 || first >= 200 {
		t.Fatalf("%d of 200 allowed at once", first)
	}
	for i := 0; i < 100; i++ {
		if ok, limit := in.allowGlobal(ICMPEchoReply, 0); !ok || limit {
			t.Fatal("an echo reply was held")
		}
		if ok, limit := in.allowGlobal(ICMPDestUnreach, ICMPFragNeeded); !ok || limit {
			t.Fatal("fragmentation needed was held")
		}
	}
	clk.RunFor(time.Second)
	if again := count(); again < 25 {
		t.Fatalf("%d allowed after a second", again)
	}
}

// A datagram reassembled on the way (frag_max_size set) leaves in
// fragments no bigger than the biggest it came in, though the route's MTU
// would take it whole: postRoutingDone fragments it and ip_do_fragment
// cuts at frag_max_size, as the kernel's router does.
func TestRefragmentAtFragMaxSize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxSize uint16
		mtu     int
		want    []int // fragment sizes
	}{
		{"came in at 820", 820, 1500, []int{820, 428}},
		{"came in bigger than the mtu", 1300, 1000, []int{996, 252}},
		{"came whole", 0, 1500, []int{1228}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := internalInet(t)
			skb := datagram(in, nil, 1208, tc.mtu, false)
			ipcb(skb).fragMaxSize = tc.maxSize
			var sizes []int
			// postRoutingDone's decision, then the cut, at the test's mtu.
			if skb.TotalLen() > tc.mtu || ipcb(skb).fragMaxSize != 0 {
				in.fragment(skb, tc.mtu, func(f *stack.SKB) { sizes = append(sizes, f.Len()); f.Consume() })
			} else {
				sizes = append(sizes, skb.Len())
				skb.Consume()
			}
			if len(sizes) != len(tc.want) {
				t.Fatalf("fragments %v, want %v", sizes, tc.want)
			}
			for i := range sizes {
				if sizes[i] != tc.want[i] {
					t.Fatalf("fragments %v, want %v", sizes, tc.want)
				}
			}
		})
	}
}
