package packetdrill

import (
	"fmt"
	"net/netip"
	"time"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/tcp"
)

// The addresses of a run (packetdrill's live_local_ip and live_remote_ip,
// moved out of 192.168/16 into ranges vnic's tests may use): the host
// under test is 198.18.0.1 on a point-to-point device, the scripted peer
// 192.0.2.1 (TEST-NET-1) behind it, on-link.
var (
	LocalAddr  = netip.MustParseAddr("198.18.0.1")
	RemoteAddr = netip.MustParseAddr("192.0.2.1")
)

// Ports packetdrill fills in for "...": bind(…, ...) binds
// live_bind_port, connect(…, ...) connects to live_connect_port, and the
// scripted peer of a passive connection uses a fresh port of its own.
const (
	defaultBindPort    = 8080
	defaultConnectPort = 8080
	firstRemotePort    = 40000
)

var (
	devMAC  = stack.MAC{0x02, 0x70, 0x64, 0, 0, 1} // "pd": the device under test
	peerMAC = stack.MAC{0x02, 0x70, 0x64, 0, 0, 2} // the scripted peer
)

// livePacket is an IPv4 packet the stack sent, as the tun device hands it
// to packetdrill's packet socket: whole (TSO and GSO packets unsplit), at
// the virtual time it left.
type livePacket struct {
	at time.Duration
	ip []byte
}

// tun is the device under test's driver: packetdrill's tun0, which the
// kernel treats as a point-to-point link and which takes checksum and
// TSO offloads (netdev.c sets TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6|
// TUN_F_TSO_ECN), so that the stack hands over whole TSO packets.
type tun struct {
	dev  *stack.NetDevice
	clk  *hw.VirtualClock
	sent []livePacket
	// onSend, when set, sees each packet as it leaves (verbose output).
	onSend func(livePacket)
}

// tunFeatures are what TUNSETOFFLOAD with packetdrill's flags turns on:
// scatter-gather, checksums of any protocol, TSO for IPv4 (with ECN) and
// IPv6.
const tunFeatures = ethtool.SG | ethtool.HWCsum | ethtool.TSO | ethtool.TSOECN | ethtool.TSO6

func (t *tun) Open() error                   { t.dev.CarrierOn(); return nil }
func (t *tun) Stop() error                   { return nil }
func (t *tun) ChangeMTU(int) error           { return nil }
func (t *tun) SetMACAddress(stack.MAC) error { return nil }
func (t *tun) SetRxMode()                    {}
func (t *tun) GetStats64(*stack.LinkStats64) {}
func (t *tun) TxTimeout(int)                 {}

// StartXmit takes the frame off the wire: its IPv4 packet is kept for the
// script to compare.
func (t *tun) StartXmit(skb *stack.SKB, _ *stack.TxQueue) stack.TxResult {
	b := skb.Data()
	if len(b) > stack.EthHdrLen && b[12] == 0x08 && b[13] == 0x00 {
		p := livePacket{at: t.clk.Now(), ip: append([]byte(nil), b[stack.EthHdrLen:]...)}
		t.sent = append(t.sent, p)
		if t.onSend != nil {
			t.onSend(p)
		}
	}
	skb.Consume()
	return stack.TxOK
}

// inject hands an IPv4 packet to the stack as the tun device's receive
// path does (netif_rx), framed as if from the peer.
func (t *tun) inject(ip []byte) error {
	h := t.dev.Host()
	skb := h.Pool().Alloc(stack.NetIPAlign + stack.EthHdrLen + len(ip))
	if skb == nil {
		return fmt.Errorf("no buffer for an inbound packet")
	}
	skb.Reserve(stack.NetIPAlign)
	b := skb.Put(stack.EthHdrLen + len(ip))
	copy(b[0:6], devMAC[:])
	copy(b[6:12], peerMAC[:])
	b[12], b[13] = 0x08, 0x00
	copy(b[stack.EthHdrLen:], ip)
	skb.Protocol = stack.EthTypeTrans(skb, t.dev)
	return stack.NetifRx(skb, 0)
}

// testHost is the machine a script runs on: one host on a virtual clock
// with IPv4, UDP and TCP, and the tun device with the local address and a
// route to the remote one.
type testHost struct {
	clk  *hw.VirtualClock
	host *stack.Host
	in   *ipv4.Inet
	tcp  *tcp.Proto
	tun  *tun
}

// newTestHost builds the host as local_netdev_new sets up the machine:
// the device up with its offloads, the local address, the route to the
// remote address through the device, and a permanent neighbour entry
// for it so that nothing is resolved (a tun has no link layer).
func newTestHost(seed int64) (*testHost, error) {
	clk := hw.NewVirtualClock()
	h := stack.NewHost("pd", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := inet.Init(h, ipv4.InetConfig{Seed: seed})
	if err != nil {
		return nil, err
	}
	t := &tun{clk: clk}
	d := stack.NewEtherDevice("tun%d", t, 1, 1, 65535)
	d.SetAddrInit(devMAC)
	d.InitFeatures(tunFeatures, tunFeatures)
	t.dev = d
	if err := h.Register(d); err != nil {
		return nil, err
	}
	if err := d.Open(); err != nil {
		return nil, err
	}
	if err := in.AddAddr(d, netip.PrefixFrom(LocalAddr, 32)); err != nil {
		return nil, err
	}
	if err := in.RouteAdd(fib.Route{Dst: netip.PrefixFrom(RemoteAddr, 24).Masked().Addr().As4(), Len: 24, Dev: d, Scope: fib.ScopeLink}, false); err != nil {
		return nil, err
	}
	in.NeighAdd(d, RemoteAddr, peerMAC)
	clk.RunFor(time.Millisecond) // the device's own start-up
	t.sent = nil
	return &testHost{clk: clk, host: h, in: in, tcp: tcp.Of(in), tun: t}, nil
}
