package conntrack

import (
	"runtime"
	"strings"
	"testing"

	"vnic/stack"
)

// fill puts n confirmed UDP entries into the table (sized n buckets, as
// nf_conntrack_buckets = nf_conntrack_max). With as many entries as
// buckets a chain now and then passes the limit drawn for an insertion
// (as low as 8: chain_toolong), which refuses it as Linux does; the next
// source address is taken instead, and more than one refusal in a
// thousand is an error (the hash would be spreading badly).
func fill(b testing.TB, r *rig, n int) {
	c := r.n.Config()
	c.Max = n
	r.n.SetConfig(c)
	r.n.Resize(n)
	refused := 0
	for i := 0; r.n.Count() < n; i++ {
		src := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		if !r.confirmUDP(Tuple{Src: src, Dst: addrB, SrcPort: 1000, DstPort: 53, Proto: 17}, &c) {
			if refused++; refused > n/1000 || r.n.Stats().ChainTooLong != uint64(refused) {
				b.Fatalf("entry %d refused (%d refusals, %d chains too long)", i, refused, r.n.Stats().ChainTooLong)
			}
		}
	}
}

// BenchmarkMillionEntries reports what an entry costs in memory with
// 1,000,000 in the table (their hash buckets included) and a lookup's time.
func BenchmarkMillionEntries(b *testing.B) {
	const n = 1_000_000
	var before, after runtime.MemStats
	r := newRig(b)
	r.n.Resize(1)
	runtime.GC()
	runtime.ReadMemStats(&before)
	fill(b, r, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / n
	t := Tuple{Src: [4]byte{10, 0, 0x30, 0x39}, Dst: addrB, SrcPort: 1000, DstPort: 53, Proto: 17}
	b.ResetTimer()
	var sink *Conn
	for i := range b.N {
		t.Src[3] = byte(i)
		sink, _ = r.n.Lookup(t, DefaultZone)
	}
	if sink == nil {
		b.Fatal("not found")
	}
	b.ReportMetric(perEntry, "bytes/entry")
}

// TestEntrySize holds an entry under 300 bytes, buckets included.
func TestEntrySize(t *testing.T) {
	if testing.Short() || strings.Contains(runtime.GOARCH, "386") {
		t.Skip("memory measure")
	}
	const n = 100_000
	var before, after runtime.MemStats
	r := newRig(t)
	r.n.Resize(1)
	runtime.GC()
	runtime.ReadMemStats(&before)
	fill(t, r, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	if per > 300 {
		t.Fatalf("%.0f bytes per entry, want at most 300", per)
	}
	runtime.KeepAlive(r)
}

// BenchmarkEstablished is one packet of an established TCP connection
// through tracking and confirmation.
func BenchmarkEstablished(b *testing.B) {
	r := newRig(b)
	fill(b, r, 65536)
	for _, p := range [][]byte{
		seg{src: addrA, dst: addrB, sport: 40000, dport: 80, flags: syn, seq: 1, win: 65535}.bytes(),
		seg{src: addrB, dst: addrA, sport: 80, dport: 40000, flags: syn | ack, seq: 9, ack: 2, win: 65535}.bytes(),
	} {
		r.in(p)
	}
	skb := r.skb(seg{src: addrA, dst: addrB, sport: 40000, dport: 80, flags: ack, seq: 2, ack: 10, win: 65535}.bytes())
	defer skb.Consume()
	pre, in := &stack.NFState{Hook: stack.NFPreRouting}, &stack.NFState{Hook: stack.NFLocalIn}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		skb.SetNFCT(nil, 0)
		r.n.conntrackIn(skb, pre)
		r.n.confirmHook(skb, in)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkSYNFlood is a new SYN a packet against a full table: each
// evicts an unassured entry or is dropped.
func BenchmarkSYNFlood(b *testing.B) {
	r := newRig(b)
	fill(b, r, 65536)
	c := r.n.Config()
	c.Checksum = false // the source ports below change under the checksum
	r.n.SetConfig(c)
	pkts := make([][]byte, 4096)
	for i := range pkts {
		pkts[i] = seg{src: [4]byte{198, 19, byte(i >> 8), byte(i)}, dst: addrB, sport: uint16(i), dport: 80, flags: syn, seq: 1, win: 9}.bytes()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := pkts[i%len(pkts)]
		p[21] = byte(i >> 12) // another source port each round
		r.in(p)
	}
	if r.n.Count() > 65536 {
		b.Fatalf("%d entries", r.n.Count())
	}
	s := r.n.Stats()
	b.ReportMetric(float64(s.EarlyDrop)/float64(b.N), "early_drops/op")
	b.ReportMetric(float64(s.Drop)/float64(b.N), "drops/op")
}
