package ipv4_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/udp"
)

// sinkOps is a driver that frees what it is given.
type sinkOps struct {
	stacktest.NopOps
	dev *stack.NetDevice
}

func (s *sinkOps) Open() error { s.dev.CarrierOn(); return nil }
func (s *sinkOps) StartXmit(skb *stack.SKB, _ *stack.TxQueue) stack.TxResult {
	skb.Consume()
	return stack.TxOK
}

// fuzzHost is a forwarding host with two devices, a UDP socket, a ping
// socket and resolved neighbours, on the virtual clock.
type fuzzHost struct {
	clk  *hw.VirtualClock
	in   *ipv4.Inet
	eth0 *stack.NetDevice
	udp  *udp.Conn
	ping *ipv4.PingConn
}

func newFuzzHost(tb testing.TB) *fuzzHost {
	clk := hw.NewVirtualClock()
	h := stack.NewHost("f", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := inet.Init(h, ipv4.InetConfig{Seed: 1, Forwarding: true})
	if err != nil {
		tb.Fatal(err)
	}
	var devs []*stack.NetDevice
	for i, p := range []string{"198.18.0.1/24", "198.18.1.1/24"} {
		ops := &sinkOps{}
		d := stack.NewEtherDevice("eth%d", ops, 1, 1, 9000)
		ops.dev = d
		d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, byte(i + 1)})
		if err := h.Register(d); err != nil {
			tb.Fatal(err)
		}
		if err := d.Open(); err != nil {
			tb.Fatal(err)
		}
		if err := in.AddAddr(d, netip.MustParsePrefix(p)); err != nil {
			tb.Fatal(err)
		}
		devs = append(devs, d)
	}
	devs[1].SetMTUInit(1280)
	if err := in.SetForwarding(true); err != nil {
		tb.Fatal(err)
	}
	in.NeighAdd(devs[0], netip.MustParseAddr("198.18.0.2"), stack.MAC{2, 0, 0, 0, 0, 0x22})
	in.NeighAdd(devs[1], netip.MustParseAddr("198.18.1.2"), stack.MAC{2, 0, 0, 0, 0, 0x33})
	u, err := udp.Listen(in, netip.MustParseAddrPort("0.0.0.0:7"))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := in.OpenPing()
	if err != nil {
		tb.Fatal(err)
	}
	clk.RunFor(time.Millisecond)
	return &fuzzHost{clk: clk, in: in, eth0: devs[0], udp: u, ping: p}
}

// input hands b (an IPv4 packet) to the host as if eth0 received it,
// then lets timers run out and drains the sockets.
func (f *fuzzHost) input(b []byte, pktType uint8) {
	skb := f.in.Host().Pool().Alloc(len(b) + stack.NetIPAlign + 14)
	if skb == nil {
		return
	}
	skb.Reserve(stack.NetIPAlign + 14)
	copy(skb.Put(len(b)), b)
	skb.Dev, skb.PktType, skb.Protocol = f.eth0, pktType, stack.EthPIPv4
	skb.ResetNetworkHeader()
	f.in.Rcv(skb)
	// Reassembly gives up after 30 s; its ICMP error may then wait 3 s for
	// ARP to fail.
	f.clk.RunFor(40 * time.Second)
	buf := make([]byte, 70000)
	for {
		if _, _, _, err := f.udp.Recv(buf); err != nil {
			break
		}
	}
	for {
		if _, ok := f.ping.Recv(); !ok {
			break
		}
	}
}

func fuzzPacket(proto uint8, src, dst [4]byte, frag uint16, ttl uint8, opts, payload []byte) []byte {
	hl := 20 + len(opts)
	b := make([]byte, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], 77)
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8], b[9] = ttl, proto
	copy(b[12:], src[:])
	copy(b[16:], dst[:])
	copy(b[20:], opts)
	copy(b[hl:], payload)
	header.IPv4(b).UpdateChecksum()
	return b
}

// FuzzIPv4Input feeds arbitrary packets to a forwarding host's ip_rcv:
// nothing panics and, once timers ran and sockets were drained, every skb
// is back in the pool.
func FuzzIPv4Input(f *testing.F) {
	src, me, far := [4]byte{198, 18, 0, 2}, [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 1, 2}
	echo := []byte{8, 0, 0xf7, 0xff, 0, 0, 0, 0}
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, me, 0, 64, nil, echo), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, far, 0, 64, nil, echo), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, far, ipv4.IPDF, 64, nil, make([]byte, 1400)), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, far, 0, 1, nil, echo), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoUDP, src, me, ipv4.IPMF, 64, nil, make([]byte, 16)), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoUDP, src, me, 2, 64, nil, make([]byte, 8)), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoUDP, src, me, 0, 64, nil, []byte{0, 1, 0, 7, 0, 9, 0, 0, 'x'}), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoUDP, src, me, 0, 64, nil, []byte{0, 1, 0, 8, 0, 9, 0, 0, 'x'}), uint8(0))
	// Redirects (icmp_redirect): one quoting an echo this host sent
	// through src, one quoting too little.
	quoted := fuzzPacket(ipv4.IPProtoICMP, me, far, 0, 63, nil, echo)
	redirect := append([]byte{5, 1, 0, 0, 198, 18, 0, 3}, quoted...)
	binary.BigEndian.PutUint16(redirect[2:], header.Checksum(redirect))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, me, 0, 64, nil, redirect), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, me, 0, 64, nil, redirect[:8+20]), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, me, 0, 64, []byte{ipv4.IPOptRR, 7, 4, 0, 0, 0, 0, 0}, echo), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, far, 0, 64, []byte{ipv4.IPOptRR, 3, 2, 0}, echo), uint8(0))
	f.Add(fuzzPacket(99, src, me, 0, 64, nil, nil), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, [4]byte{198, 18, 0, 255}, 0, 64, nil, echo), uint8(stack.PacketBroadcast))
	inner := fuzzPacket(ipv4.IPProtoUDP, me, src, 0, 64, nil, []byte{0, 7, 0, 9, 0, 8, 0, 0})
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, me, 0, 64, nil, append([]byte{3, 3, 0, 0, 0, 0, 0, 0}, inner...)), uint8(0))
	ra := []byte{ipv4.IPOptRA, 4, 0, 0}
	allHosts := [4]byte{224, 0, 0, 1}
	f.Add(fuzzPacket(2, src, allHosts, 0, 1, ra, []byte{0x11, 100, 0xee, 0x9b, 0, 0, 0, 0}), uint8(stack.PacketMulticast))
	f.Add(fuzzPacket(2, src, allHosts, 0, 1, ra, []byte{0x11, 100, 0xec, 0x1e, 0, 0, 0, 0, 2, 125, 0, 0}), uint8(stack.PacketMulticast))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, allHosts, 0, 64, nil, echo), uint8(stack.PacketMulticast))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, me, 0, 64, []byte{ipv4.IPOptTimestamp, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0}, echo), uint8(0))
	f.Add(fuzzPacket(ipv4.IPProtoICMP, src, me, 0, 64, []byte{ipv4.IPOptTimestamp, 12, 5, 3, 198, 18, 0, 1, 0, 0, 0, 0}, echo), uint8(0))
	f.Add(fuzzPacket(99, src, me, 0, 64, []byte{ipv4.IPOptRR, 11, 8, 198, 18, 0, 2, 0, 0, 0, 0, 0}, nil), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, pktType uint8) {
		if len(b) > 9000 {
			return
		}
		h := newFuzzHost(t)
		h.input(b, pktType%4)
		if n := h.in.Host().Pool().Live(); n != 0 {
			t.Fatalf("%d skbs not freed", n)
		}
	})
}
