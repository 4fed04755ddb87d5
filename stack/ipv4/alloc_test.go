package ipv4_test

import (
	"net/netip"
	"testing"

	"vnic/stack"
	"vnic/stack/ipv4"
)

// The per-packet IPv4 paths allocate nothing in steady state (DESIGN §7).
// Each test builds the fuzz host (forwarding, resolved neighbours, a UDP
// socket on port 7), warms the path up (the skb pool, the route's cached
// decision, the socket's queue reach their size), then measures batches
// of packets with testing.AllocsPerRun. AllocsPerRun reports whole
// allocations per run, so with allocRuns runs a result of 0 means fewer
// than allocRuns allocations in all the measured batches together:
// anything done per packet or per batch shows. Each test also checks that
// every packet went the whole way and every skb went back to the pool, so
// a path that fails early cannot pass for one that allocates nothing.
const (
	allocRuns  = 20
	allocWarm  = 20 // warm-up batches
	allocBatch = 32 // packets per batch
)

// noAllocs warms batch up, then measures it and fails if it allocates; it
// returns how many batches ran.
func noAllocs(t *testing.T, what string, batch func()) uint64 {
	t.Helper()
	for i := 0; i < allocWarm; i++ {
		batch()
	}
	if n := testing.AllocsPerRun(allocRuns, batch); n != 0 {
		t.Fatalf("%s: %v allocations per batch of %d packets in steady state, want 0", what, n, allocBatch)
	}
	return allocWarm + 1 + allocRuns // AllocsPerRun runs it once more first
}

// rcv hands pkt (an IPv4 packet) to h's ip_rcv as if eth0 received it.
func rcv(t *testing.T, h *fuzzHost, pkt []byte) {
	skb := h.in.Host().Pool().Alloc(len(pkt) + stack.NetIPAlign + 14)
	if skb == nil {
		t.Fatal("skb pool empty")
	}
	skb.Reserve(stack.NetIPAlign + 14)
	copy(skb.Put(len(pkt)), pkt)
	skb.Dev, skb.PktType, skb.Protocol = h.eth0, stack.PacketHost, stack.EthPIPv4
	skb.ResetNetworkHeader()
	h.in.Rcv(skb)
}

// udpPayload is a UDP header and n bytes of data from port 1 to port dport
// (checksum 0: none).
func udpPayload(dport uint16, n int) []byte {
	b := make([]byte, 8+n)
	b[1] = 1
	b[2], b[3] = byte(dport>>8), byte(dport)
	b[4], b[5] = byte((8+n)>>8), byte(8+n)
	return b
}

// xmitCounter counts what the stack hands the host's drivers.
func xmitCounter(h *fuzzHost) *int {
	n := new(int)
	h.in.Host().AddXmitTap(func(*stack.SKB) { *n++ })
	return n
}

func checkDone(t *testing.T, h *fuzzHost, what string, counter string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %s %d, want %d", what, counter, got, want)
	}
	if n := h.in.Host().Pool().Live(); n != 0 {
		t.Fatalf("%s: %d skbs not back in the pool", what, n)
	}
}

// Forwarding a 64-byte UDP datagram (ip_rcv → route (cached) → ip_forward
// → FORWARD → ip_output → POST_ROUTING → neighbour → dev_queue_xmit)
// allocates nothing.
func TestForwardNoAllocs(t *testing.T) {
	h := newFuzzHost(t)
	sent := xmitCounter(h)
	pkt := fuzzPacket(ipv4.IPProtoUDP, [4]byte{198, 18, 0, 2}, [4]byte{198, 18, 1, 2}, 0, 64, nil, udpPayload(9, 64-20-8))
	if len(pkt) != 64 {
		t.Fatalf("packet of %d bytes", len(pkt))
	}
	batches := noAllocs(t, "forward", func() {
		for i := 0; i < allocBatch; i++ {
			rcv(t, h, pkt)
		}
	})
	want := batches * allocBatch
	checkDone(t, h, "forward", "ForwDatagrams", h.in.Stats.ForwDatagrams.Load(), want)
	checkDone(t, h, "forward", "transmitted", uint64(*sent), want)
}

// Delivering a UDP datagram to a socket (ip_rcv → LOCAL_IN → udp_rcv →
// the socket's queue) and reading it with Recv allocates nothing.
func TestUDPDeliverNoAllocs(t *testing.T) {
	h := newFuzzHost(t)
	pkt := fuzzPacket(ipv4.IPProtoUDP, [4]byte{198, 18, 0, 2}, [4]byte{198, 18, 0, 1}, 0, 64, nil, udpPayload(7, 64))
	buf := make([]byte, 2048)
	var got, bad uint64
	batches := noAllocs(t, "deliver", func() {
		for i := 0; i < allocBatch; i++ {
			rcv(t, h, pkt)
		}
		for i := 0; i < allocBatch; i++ {
			n, from, _, err := h.udp.Recv(buf)
			switch {
			case err != nil:
				return
			case n != 64 || from != netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, 2}), 1):
				bad++
			}
			got++
		}
	})
	if bad != 0 {
		t.Fatalf("deliver: %d datagrams read wrong", bad)
	}
	want := batches * allocBatch
	checkDone(t, h, "deliver", "InDelivers", h.in.Stats.InDelivers.Load(), want)
	checkDone(t, h, "deliver", "read", got, want)
}

// Sending a UDP datagram through the socket's cached route (udp_sendmsg →
// route → ip_local_out → LOCAL_OUT → ip_output → neighbour →
// dev_queue_xmit) allocates nothing.
func TestUDPSendNoAllocs(t *testing.T) {
	h := newFuzzHost(t)
	sent := xmitCounter(h)
	peer := netip.MustParseAddrPort("198.18.0.2:9")
	msg := make([]byte, 64)
	var failed uint64
	batches := noAllocs(t, "send", func() {
		for i := 0; i < allocBatch; i++ {
			if n, err := h.udp.SendTo(msg, peer); err != nil || n != len(msg) {
				failed++
			}
		}
	})
	if failed != 0 {
		t.Fatalf("send: %d SendTo failed", failed)
	}
	want := batches * allocBatch
	checkDone(t, h, "send", "OutRequests", h.in.Stats.OutRequests.Load(), want)
	checkDone(t, h, "send", "transmitted", uint64(*sent), want)
}
