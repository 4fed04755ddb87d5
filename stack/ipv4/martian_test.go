package ipv4_test

import (
	"math/rand"
	"runtime"
	"testing"
	"time"

	"vnic/stack"
	"vnic/stack/ipv4"
)

// arpIn hands h's eth0 the ARP message p, sent to dst, as if off the
// wire, and lets the stack run.
func arpIn(t *testing.T, h *fuzzHost, dst stack.MAC, p ipv4.ARPPacket) {
	f := ipv4.ARPFrame(dst, p.SenderMAC, p)
	skb := h.in.Host().Pool().Alloc(len(f) + stack.NetIPAlign)
	if skb == nil {
		t.Fatal("skb pool empty")
	}
	skb.Reserve(stack.NetIPAlign)
	copy(skb.Put(len(f)), f)
	skb.Protocol = stack.EthTypeTrans(skb, h.eth0)
	stack.NetifReceiveSKB(skb)
}

var (
	hostA   = [4]byte{198, 18, 0, 1} // eth0's address
	hostB   = [4]byte{198, 18, 1, 1} // eth1's address
	peerMAC = stack.MAC{2, 0, 0, 0, 0, 0x99}
)

// TestARPMartianSender: an ARP message whose sender claims one of the
// host's addresses (another machine's duplicate, or a forgery) is dropped
// unanswered and never learned; a request for a local address from it is
// a martian source (in_martian_src), as Linux's route lookup for the
// target counts it. Before the fix the request was answered and the
// host's own address learned into its neighbour table.
func TestARPMartianSender(t *testing.T) {
	cases := []struct {
		name    string
		op      uint16
		sip     [4]byte
		tip     [4]byte
		replies int
		martian uint64
		learned bool
	}{
		{name: "request from a neighbour", op: ipv4.ARPRequest, sip: [4]byte{198, 18, 0, 3}, tip: hostA, replies: 1, learned: true},
		{name: "duplicate of the target", op: ipv4.ARPRequest, sip: hostA, tip: hostA, martian: 1},
		{name: "another device's address", op: ipv4.ARPRequest, sip: hostB, tip: hostA, martian: 1},
		{name: "reply from our address", op: ipv4.ARPReply, sip: hostA, tip: hostA},
		{name: "request for another host", op: ipv4.ARPRequest, sip: hostB, tip: [4]byte{198, 18, 0, 77}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newFuzzHost(t)
			sent := xmitCounter(h)
			dst := stack.BroadcastMAC
			if c.op == ipv4.ARPReply {
				dst = h.eth0.Addr()
			}
			arpIn(t, h, dst, ipv4.ARPPacket{Op: c.op, SenderMAC: peerMAC, SenderIP: c.sip, TargetIP: c.tip, TargetMAC: h.eth0.Addr()})
			h.clk.RunFor(time.Millisecond)
			_, learned := h.in.ARP(h.eth0).Lookup(c.sip)
			if *sent != c.replies || learned != c.learned || h.in.RouteStats().InMartianSrc != c.martian {
				t.Fatalf("%d frames sent, learned %v, in_martian_src %d; want %d, %v, %d",
					*sent, learned, h.in.RouteStats().InMartianSrc, c.replies, c.learned, c.martian)
			}
			checkDone(t, h, c.name, "in_martian_src", h.in.RouteStats().InMartianSrc, c.martian)
		})
	}
}

// TestMartianSource: ip_route_input_slow's martians on a packet that
// arrives from outside: a source that is one of the host's addresses (any
// device's; fib_validate_source, rp_filter off) — for local delivery,
// forwarding or a limited broadcast — a zero or loopback source count in
// in_martian_src, a loopback destination in in_martian_dst, and the packet
// is dropped. Before the fix a local source was delivered or forwarded,
// and nothing was counted.
func TestMartianSource(t *testing.T) {
	peer, far := [4]byte{198, 18, 0, 2}, [4]byte{198, 18, 1, 2}
	cases := []struct {
		name          string
		src, dst      [4]byte
		delivered     bool
		sent          int
		martSrc, mDst uint64
	}{
		{name: "neighbour to us", src: peer, dst: hostA, delivered: true},
		{name: "neighbour forwarded", src: peer, dst: far, sent: 1},
		{name: "our address to us", src: hostA, dst: hostA, martSrc: 1},
		{name: "other device's address to us", src: hostB, dst: hostA, martSrc: 1},
		{name: "our address forwarded", src: hostA, dst: far, martSrc: 1},
		{name: "our address, limited broadcast", src: hostA, dst: [4]byte{255, 255, 255, 255}, martSrc: 1},
		{name: "zero source", src: [4]byte{}, dst: hostA, martSrc: 1},
		{name: "loopback source", src: [4]byte{127, 0, 0, 1}, dst: hostA, martSrc: 1},
		{name: "loopback destination", src: peer, dst: [4]byte{127, 0, 0, 1}, mDst: 1},
	}
	buf := make([]byte, 2048)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newFuzzHost(t)
			sent := xmitCounter(h)
			rcv(t, h, fuzzPacket(17, c.src, c.dst, 0, 64, nil, udpPayload(7, 16)))
			h.clk.RunFor(time.Millisecond)
			_, _, _, err := h.udp.Recv(buf)
			st := h.in.RouteStats()
			if (err == nil) != c.delivered || *sent != c.sent || st.InMartianSrc != c.martSrc || st.InMartianDst != c.mDst {
				t.Fatalf("delivered %v, %d sent, in_martian_src %d, in_martian_dst %d; want %v, %d, %d, %d",
					err == nil, *sent, st.InMartianSrc, st.InMartianDst, c.delivered, c.sent, c.martSrc, c.mDst)
			}
			checkDone(t, h, c.name, "in_martian_src", st.InMartianSrc, c.martSrc)
		})
	}
}

// TestARPFloodBounded: 500,000 requests for eth0's address from random
// senders in 198.18.0.0/15 (random MACs, 20 µs apart: 10 s of a 50,000
// requests/s flood) through arp_rcv. The table never holds more than
// gc_thresh3 entries, the heap does not grow with the flood, the senders
// that are the host's own addresses are martians (counted exactly, never
// learned), every request that found room was answered and every skb is
// back in the pool.
func TestARPFloodBounded(t *testing.T) {
	const flood = 500000
	h := newFuzzHost(t)
	sent := xmitCounter(h)
	tab := h.in.ARP(h.eth0)
	rnd := rand.New(rand.NewSource(13))
	var martians uint64
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	most := 0
	for i := 0; i < flood; i++ {
		n := rnd.Intn(1 << 17)
		sip := [4]byte{198, 18 + byte(n>>16), byte(n >> 8), byte(n)}
		if sip == hostA || sip == hostB {
			martians++
		}
		mac := stack.MAC{2, byte(rnd.Intn(256)), byte(rnd.Intn(256)), byte(rnd.Intn(256)), byte(rnd.Intn(256)), byte(rnd.Intn(256))}
		arpIn(t, h, stack.BroadcastMAC, ipv4.ARPPacket{Op: ipv4.ARPRequest, SenderMAC: mac, SenderIP: sip, TargetIP: hostA})
		h.clk.RunFor(20 * time.Microsecond)
		if i%5000 == 0 {
			most = max(most, len(tab.Entries()))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := tab.Stats()
	entries := len(tab.Entries())
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d requests: %d entries at the end (most sampled %d), %d table fulls, %d forced collections, %d answered, %d martians, heap grew %d KiB",
		flood, entries, most, st.TableFulls, st.ForcedGCRuns, *sent, martians, grew>>10)
	// 1024 from the flood, one static (198.18.0.2).
	if most > 1025 || entries > 1025 || st.TableFulls == 0 {
		t.Fatalf("%d entries (most %d), %d table fulls", entries, most, st.TableFulls)
	}
	for _, a := range [][4]byte{hostA, hostB} {
		if _, ok := tab.Lookup(a); ok {
			t.Fatalf("own address %v learned", a)
		}
	}
	if got := h.in.RouteStats().InMartianSrc; got != martians || uint64(*sent) != flood-martians-st.TableFulls {
		t.Fatalf("in_martian_src %d, want %d; %d answered, want %d", got, martians, *sent, flood-martians-st.TableFulls)
	}
	if grew > 4<<20 {
		t.Fatalf("heap grew %d KiB over the flood", grew>>10)
	}
	checkDone(t, h, "flood", "in_martian_src", h.in.RouteStats().InMartianSrc, martians)
}
