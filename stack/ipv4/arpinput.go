package ipv4

import (
	"net/netip"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

// arpRcv is arp_rcv and arp_process: a request for one of this host's
// addresses (any device's, arp_ignore 0) is answered and teaches the
// table the sender, unconfirmed (STALE); a reply addressed to us confirms
// the sender (REACHABLE); any other request or broadcast reply updates an
// existing entry only (arp_accept 0). A request from 0.0.0.0 is a
// duplicate-address probe: answered, nothing learned.
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
	if p.Op == ARPRequest && tipLocal {
		if sip == ([4]byte{}) {
			in.arpReply(dev, p, tip)
			skb.Consume()
			return
		}
		idev.arp.Update(sip, p.SenderMAC, neigh.FromRequest, true)
		in.arpReply(dev, p, tip)
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
