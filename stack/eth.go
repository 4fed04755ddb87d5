package stack

import (
	"vnic/header"
)

// EtherTypes (header's, by the names the stack's code uses).
const (
	EthPIPv4 = header.EtherTypeIPv4
	EthPARP  = header.EtherTypeARP
	EthPIPv6 = header.EtherTypeIPv6
	EthPVLAN = header.EtherTypeVLAN
)

// EthHdrLen is the Ethernet header length.
const EthHdrLen = header.EthernetHeaderLen

// EthTypeTrans is eth_type_trans: it marks the MAC header, sets pkt_type
// from the destination (broadcast, multicast, this host, other host), pulls
// the 14-byte header and returns the EtherType, which the caller stores in
// skb.Protocol. A frame shorter than a header gets protocol 0.
func EthTypeTrans(skb *SKB, dev *NetDevice) uint16 {
	skb.Dev = dev
	skb.ResetMACHeader()
	eh := header.Ethernet(skb.Data())
	if !eh.IsValid() {
		return 0
	}
	switch {
	case eh.IsMulticast():
		if eh.IsBroadcast() {
			skb.PktType = PacketBroadcast
		} else {
			skb.PktType = PacketMulticast
		}
	case MAC(eh.Dst()) == dev.Addr():
		skb.PktType = PacketHost
	default:
		skb.PktType = PacketOtherHost
	}
	proto := eh.Type()
	skb.Pull(EthHdrLen)
	skb.ResetNetworkHeader()
	return proto
}

// EthHeader writes an Ethernet header in front of skb's data (eth_header).
func EthHeader(skb *SKB, dst, src MAC, proto uint16) {
	h := header.Ethernet(skb.Push(EthHdrLen))
	h.SetDst(dst)
	h.SetSrc(src)
	h.SetType(proto)
	skb.ResetMACHeader()
}

// NetifReceiveSKB is netif_receive_skb: taps see the frame, then the
// handler registered for skb.Protocol gets it. A device that is not up
// drops it; a protocol without a handler counts rx_nohandler. The caller
// (the driver's poll) has run EthTypeTrans.
func NetifReceiveSKB(skb *SKB) {
	dev := skb.Dev
	h := dev.host
	h.cpus[0].Charge(h.cfg.Costs.Proto) // to the running CPU
	if !dev.up.Load() {
		dev.rxDropped.Add(1)
		skb.Free()
		return
	}
	for _, t := range h.taps {
		t(skb)
	}
	if pt := h.ptypes.Load(); pt != nil {
		for i := range *pt {
			if (*pt)[i].proto == skb.Protocol {
				(*pt)[i].fn(skb)
				return
			}
		}
	}
	dev.rxNoHandler.Add(1)
	skb.Free()
}
