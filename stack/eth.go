package stack

import "encoding/binary"

// EtherTypes.
const (
	EthPIPv4 = 0x0800
	EthPARP  = 0x0806
	EthPIPv6 = 0x86DD
	EthPVLAN = 0x8100
)

// EthHdrLen is the Ethernet header length.
const EthHdrLen = 14

// EthTypeTrans is eth_type_trans: it marks the MAC header, sets pkt_type
// from the destination (broadcast, multicast, this host, other host), pulls
// the 14-byte header and returns the EtherType, which the caller stores in
// skb.Protocol. A frame shorter than a header gets protocol 0.
func EthTypeTrans(skb *SKB, dev *NetDevice) uint16 {
	skb.Dev = dev
	skb.ResetMACHeader()
	d := skb.Data()
	if len(d) < EthHdrLen {
		return 0
	}
	switch {
	case d[0]&1 != 0:
		if d[0]&d[1]&d[2]&d[3]&d[4]&d[5] == 0xff {
			skb.PktType = PacketBroadcast
		} else {
			skb.PktType = PacketMulticast
		}
	case MAC(d[0:6]) == dev.Addr():
		skb.PktType = PacketHost
	default:
		skb.PktType = PacketOtherHost
	}
	proto := binary.BigEndian.Uint16(d[12:14])
	skb.Pull(EthHdrLen)
	skb.ResetNetworkHeader()
	return proto
}

// EthHeader writes an Ethernet header in front of skb's data (eth_header).
func EthHeader(skb *SKB, dst, src MAC, proto uint16) {
	h := skb.Push(EthHdrLen)
	copy(h[0:6], dst[:])
	copy(h[6:12], src[:])
	binary.BigEndian.PutUint16(h[12:14], proto)
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
