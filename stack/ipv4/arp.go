package ipv4

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

// ARP for IPv4 over Ethernet (RFC 826): a 28-byte payload after the
// Ethernet header, htype 1, ptype 0x0800, hlen 6, plen 4.
const (
	ARPLen     = header.ARPLen
	ARPRequest = header.ARPRequest
	ARPReply   = header.ARPReply
)

// ARPPacket is an ARP message's fields.
type ARPPacket struct {
	Op                   uint16
	SenderMAC, TargetMAC stack.MAC
	SenderIP, TargetIP   [4]byte
}

// ErrARP is an ARP message vnic does not take: too short, not Ethernet
// and IPv4, or an operation other than request and reply.
var ErrARP = errors.New("stack: not an Ethernet/IPv4 ARP request or reply")

// ParseARP reads an ARP message from b (the payload after the Ethernet
// header; padding after 28 bytes is ignored).
func ParseARP(b []byte) (ARPPacket, error) {
	a := header.ARP(b)
	if !a.IsValid() || (a.Op() != ARPRequest && a.Op() != ARPReply) {
		return ARPPacket{}, ErrARP
	}
	return ARPPacket{Op: a.Op(), SenderMAC: stack.MAC(a.SHA()), SenderIP: a.SPA(), TargetMAC: stack.MAC(a.THA()), TargetIP: a.TPA()}, nil
}

// AppendARP appends p's 28 bytes to b.
func AppendARP(b []byte, p ARPPacket) []byte {
	n := len(b)
	b = append(b, make([]byte, ARPLen)...)
	a := header.ARP(b[n:])
	a.SetEthernetIPv4()
	a.SetOp(p.Op)
	a.SetSHA([6]byte(p.SenderMAC))
	a.SetSPA(p.SenderIP)
	a.SetTHA([6]byte(p.TargetMAC))
	a.SetTPA(p.TargetIP)
	return b
}

// ARPFrame builds the Ethernet frame carrying p to dst, padded to the
// 60-byte minimum (without FCS) as Linux's arp_create leaves it to the
// device to pad: vnic pads here so every frame on the wire is valid.
func ARPFrame(dst, src stack.MAC, p ARPPacket) []byte {
	f := make([]byte, 0, 60)
	f = append(f, dst[:]...)
	f = append(f, src[:]...)
	f = binary.BigEndian.AppendUint16(f, stack.EthPARP)
	f = AppendARP(f, p)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// ARPSolicit is arp_solicit's request for target from (mac, ip): to the
// broadcast address while resolving, or unicast to a cached address when
// probing. The target hardware address is zero.
func ARPSolicit(mac stack.MAC, ip, target [4]byte, to stack.MAC, broadcast bool) []byte {
	if broadcast {
		to = stack.BroadcastMAC
	}
	return ARPFrame(to, mac, ARPPacket{Op: ARPRequest, SenderMAC: mac, SenderIP: ip, TargetIP: target})
}

// GratuitousARP is the request a host broadcasts when an address is added
// (arp_send from inetaddr_event): sender and target are the new address.
func GratuitousARP(mac stack.MAC, ip [4]byte) []byte {
	return ARPFrame(stack.BroadcastMAC, mac, ARPPacket{Op: ARPRequest, SenderMAC: mac, SenderIP: ip, TargetIP: ip})
}

// arpRcv is arp_rcv and arp_process: a request for one of this host's
// addresses (any device's, arp_ignore 0) is answered and teaches the
// table the sender, unconfirmed (STALE); a reply addressed to us confirms
// the sender (REACHABLE); any other request or broadcast reply updates an
// existing entry only (arp_accept 0). A request from 0.0.0.0 is a
// duplicate-address probe: answered, nothing learned. A sender claiming
// one of this host's addresses is a martian: dropped unanswered and never
// learned; a request for a local address from it is counted in
// in_martian_src, as Linux's route lookup for the target counts it
// (fib_validate_source meets a local source).
func (in *Inet) arpRcv(skb *stack.SKB) {
	dev := skb.Dev
	if (dev.NoARP() || dev.IsLoopback()) || skb.PktType == stack.PacketOtherHost {
		skb.Free()
		return
	}
	p, err := ParseARP(skb.Data())
	if err != nil {
		skb.Free()
		return
	}
	idev := in.Attach(dev)
	sip, tip := p.SenderIP, p.TargetIP
	if header.IPv4IsMulticast(tip) || header.IPv4IsLoopback(tip) || header.IPv4IsMulticast(sip) || header.IPv4IsLbcast(sip) {
		skb.Free()
		return
	}
	tipLocal := in.IsLocalAddr(tip)
	if sip != ([4]byte{}) && in.IsLocalAddr(sip) {
		if p.Op == ARPRequest && tipLocal {
			in.rtStats.inMartianSrc.Add(1)
		}
		skb.Free()
		return
	}
	if p.Op == ARPRequest && tipLocal {
		if sip == ([4]byte{}) {
			in.arpReply(dev, p, tip)
			skb.Consume()
			return
		}
		if idev.arp.Update(sip, p.SenderMAC, neigh.FromRequest, true) {
			in.arpReply(dev, p, tip) // not without the entry: a full table refused it
		}
		skb.Consume()
		return
	}
	if sip != ([4]byte{}) {
		how := neigh.FromRequest
		if p.Op == ARPReply && skb.PktType == stack.PacketHost {
			how = neigh.FromReply
		}
		idev.arp.Update(sip, p.SenderMAC, how, false)
	}
	skb.Consume()
}

// arpReply answers request p for tip from dev.
func (in *Inet) arpReply(dev *stack.NetDevice, p ARPPacket, tip [4]byte) {
	mac := dev.Addr()
	in.sendARP(dev, ARPFrame(p.SenderMAC, mac, ARPPacket{Op: ARPReply, SenderMAC: mac, SenderIP: tip, TargetMAC: p.SenderMAC, TargetIP: p.SenderIP}))
}

// arpSolicit is arp_solicit: a request for addr, broadcast or unicast to
// the cached mac, from this device's address on addr's subnet.
func (in *Inet) arpSolicit(idev *InDevice, addr [4]byte, mac stack.MAC, bcast bool) {
	dev := idev.dev
	src := in.selectAddr(dev, addr, fib.ScopeLink)
	in.sendARP(dev, ARPSolicit(dev.Addr(), src, addr, mac, bcast))
}

// sendARP hands a built ARP frame to dev.
func (in *Inet) sendARP(dev *stack.NetDevice, frame []byte) {
	skb := in.host.Pool().Alloc(len(frame))
	if skb == nil {
		return
	}
	copy(skb.Put(len(frame)), frame)
	skb.Dev = dev
	skb.Protocol = stack.EthPARP
	skb.ResetMACHeader()
	_ = stack.DevQueueXmit(skb)
}

// neighFailed is arp_error_report: resolution failed, so the packet's
// source hears host unreachable (for this host's own packet: its socket,
// through the loopback).
func (in *Inet) neighFailed(skb *stack.SKB) {
	in.ICMPSend(skb, ICMPDestUnreach, ICMPHostUnreach, 0)
	skb.Free()
}

// NeighAdd is ip neigh add|replace ADDR lladdr MAC dev DEV nud permanent.
func (in *Inet) NeighAdd(dev *stack.NetDevice, addr netip.Addr, mac stack.MAC) {
	in.Attach(dev).arp.AddStatic(addr.As4(), mac)
}

// NeighDel is ip neigh del ADDR dev DEV.
func (in *Inet) NeighDel(dev *stack.NetDevice, addr netip.Addr) bool {
	return in.Attach(dev).arp.Delete(addr.As4())
}

// arpInvalidate is arp_invalidate without force: d's entry for addr, an
// address that has just become a broadcast one, goes unless it holds a
// valid link-layer address (a permanent entry stays).
func (in *Inet) arpInvalidate(d *stack.NetDevice, addr [4]byte) {
	t := in.ARP(d)
	if t == nil {
		return
	}
	if n, ok := t.Lookup(addr); ok && n.State&neigh.NUDValid == 0 {
		t.Delete(addr)
	}
}
