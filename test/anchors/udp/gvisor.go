package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"vnic/internal/topo"
)

// The gVisor pair: 198.18.0.1 and 198.18.0.2 on one /24, the NIC of each
// an Ethernet endpoint over a channel endpoint of channelSize packets
// (vnic's RX ring in RealPair holds 256 descriptors; gVisor's own users
// give a channel 256 to 1024) and a 1500-byte IP MTU.
const (
	nicID       = 1
	channelSize = 1024
	channelMTU  = 1500 + 14 // ethernet.Endpoint takes its header off the channel's MTU
)

var (
	gvAddrA = tcpip.AddrFrom4([4]byte{198, 18, 0, 1})
	gvAddrB = tcpip.AddrFrom4([4]byte{198, 18, 0, 2})
	gvMACA  = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")
	gvMACB  = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02")
)

// gvisorPair is two netstack stacks (IPv4, ARP, UDP) whose channel
// endpoints are joined by a goroutine each way: what one stack writes to
// its channel, the goroutine takes off and injects into the other, as a
// frame fresh from a wire. The inbound half of each stack (Ethernet, ARP
// or IPv4, UDP, the socket's queue) runs on the goroutine that injects.
type gvisorPair struct {
	a, b   *stack.Stack
	ea, eb *channel.Endpoint
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newGvisorStack(ep *channel.Endpoint, addr tcpip.Address) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol},
	})
	if err := s.CreateNIC(nicID, ethernet.New(ep)); err != nil {
		s.Close()
		return nil, fmt.Errorf("gvisor: create NIC: %s", err)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: 24}}
	if err := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
		s.Close()
		return nil, fmt.Errorf("gvisor: add %s: %s", addr, err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: nicID}})
	return s, nil
}

func newGvisorPair() (*gvisorPair, error) {
	p := &gvisorPair{ea: channel.New(channelSize, channelMTU, gvMACA), eb: channel.New(channelSize, channelMTU, gvMACB)}
	var err error
	if p.a, err = newGvisorStack(p.ea, gvAddrA); err != nil {
		return nil, err
	}
	if p.b, err = newGvisorStack(p.eb, gvAddrB); err != nil {
		p.a.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(2)
	go p.carry(ctx, p.ea, p.eb)
	go p.carry(ctx, p.eb, p.ea)
	return p, nil
}

// carry moves frames from's stack wrote to to's stack until ctx ends.
func (p *gvisorPair) carry(ctx context.Context, from, to *channel.Endpoint) {
	defer p.wg.Done()
	for {
		pkt := from.ReadContext(ctx)
		if pkt == nil {
			return
		}
		in := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: pkt.ToBuffer()})
		to.InjectInbound(pkt.NetworkProtocolNumber, in)
		in.DecRef()
		pkt.DecRef()
	}
}

func (p *gvisorPair) close() {
	p.cancel()
	p.wg.Wait()
	p.ea.Close()
	p.eb.Close()
	p.a.Close()
	p.b.Close()
	p.a.Wait()
	p.b.Wait()
}

// benchGvisor is topo.BenchUDP's scenario on the gVisor pair, measured by
// the same topo.UDPLoad: a connected gonet.UDPConn on a sending size-byte
// datagrams to a gonet.UDPConn bound to b's 198.18.0.2:9, whose reader
// takes them with ReadFrom.
//
// gVisor's channel endpoint drops a packet when its queue is full and
// tells the stack it was sent, and the sender's send buffer is given back
// when the stack hands the packet to the link (the channel keeps a
// clone), so the sender never waits: what the carrying goroutine cannot
// keep up with is lost at the channel (LostSocket counts the receive
// buffer's drops; the rest of Lost is the channel's).
func benchGvisor(size int, datagrams uint64, limit time.Duration) (topo.UDPResult, error) {
	p, err := newGvisorPair()
	if err != nil {
		return topo.UDPResult{}, err
	}
	defer p.close()
	rx, err := gonet.DialUDP(p.b, &tcpip.FullAddress{NIC: nicID, Addr: gvAddrB, Port: 9}, nil, ipv4.ProtocolNumber)
	if err != nil {
		return topo.UDPResult{}, err
	}
	defer rx.Close()
	tx, err := gonet.DialUDP(p.a, &tcpip.FullAddress{NIC: nicID, Addr: gvAddrA}, &tcpip.FullAddress{Addr: gvAddrB, Port: 9}, ipv4.ProtocolNumber)
	if err != nil {
		return topo.UDPResult{}, err
	}
	defer tx.Close()
	drops := p.b.Stats().UDP.ReceiveBufferErrors
	return topo.UDPLoad{
		Size: size, Datagrams: datagrams, Duration: limit,
		Send:        func(msg []byte) error { _, err := tx.Write(msg); return err },
		Reader:      rx,
		SocketDrops: drops.Value,
	}.Run()
}
