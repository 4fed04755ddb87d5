package ipv4_test

import (
	"net/netip"
	"testing"
	"vnic/stack"
	"vnic/stack/ipv4"
)

// benchInput runs packet b through the host's ip_rcv b.N times and
// reports packets per second and allocations per packet.
func benchInput(b *testing.B, h *fuzzHost, pkt []byte, after func()) {
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	b.ResetTimer() // the host was built before: B/op is the packets' own
	for i := 0; i < b.N; i++ {
		skb := h.in.Host().Pool().Alloc(len(pkt) + stack.NetIPAlign + 14)
		skb.Reserve(stack.NetIPAlign + 14)
		copy(skb.Put(len(pkt)), pkt)
		skb.Dev, skb.PktType, skb.Protocol = h.eth0, stack.PacketHost, stack.EthPIPv4
		skb.ResetNetworkHeader()
		h.in.Rcv(skb)
		if after != nil {
			after()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkIPv4Forward: ip_rcv → route (cached) → ip_forward → FORWARD
// → ip_output → POST_ROUTING → neighbour → dev_queue_xmit, 64-byte UDP.
func BenchmarkIPv4Forward(b *testing.B) {
	h := newFuzzHost(b)
	pkt := fuzzPacket(ipv4.IPProtoUDP, [4]byte{198, 18, 0, 2}, [4]byte{198, 18, 1, 2}, 0, 64, nil, []byte{0, 1, 0, 2, 0, 44, 0, 0, 36: 0})
	benchInput(b, h, pkt, nil)
}

// BenchmarkUDPDeliver: ip_rcv → LOCAL_IN → udp_rcv → socket queue →
// Recv, 64 bytes of payload.
func BenchmarkUDPDeliver(b *testing.B) {
	h := newFuzzHost(b)
	payload := make([]byte, 8+64)
	payload[1], payload[3], payload[5] = 1, 7, 72
	pkt := fuzzPacket(ipv4.IPProtoUDP, [4]byte{198, 18, 0, 2}, [4]byte{198, 18, 0, 1}, 0, 64, nil, payload)
	buf := make([]byte, 2048)
	benchInput(b, h, pkt, func() {
		if _, _, _, err := h.udp.Recv(buf); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkUDPSend: udp_sendmsg → route (cached) → ip_local_out →
// LOCAL_OUT → ip_output → neighbour → dev_queue_xmit, 64 bytes.
func BenchmarkUDPSend(b *testing.B) {
	h := newFuzzHost(b)
	peer := netip.MustParseAddrPort("198.18.0.2:9")
	msg := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.udp.SendTo(msg, peer); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
