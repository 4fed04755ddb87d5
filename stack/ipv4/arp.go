package ipv4

import (
	"encoding/binary"
	"errors"
	"vnic/stack"
)

// ARP for IPv4 over Ethernet (RFC 826): a 28-byte payload after the
// Ethernet header, htype 1, ptype 0x0800, hlen 6, plen 4.
const (
	ARPLen     = 28
	ARPRequest = 1
	ARPReply   = 2
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
	var p ARPPacket
	if len(b) < ARPLen || binary.BigEndian.Uint16(b[0:2]) != 1 || binary.BigEndian.Uint16(b[2:4]) != stack.EthPIPv4 || b[4] != 6 || b[5] != 4 {
		return p, ErrARP
	}
	p.Op = binary.BigEndian.Uint16(b[6:8])
	if p.Op != ARPRequest && p.Op != ARPReply {
		return p, ErrARP
	}
	copy(p.SenderMAC[:], b[8:14])
	copy(p.SenderIP[:], b[14:18])
	copy(p.TargetMAC[:], b[18:24])
	copy(p.TargetIP[:], b[24:28])
	return p, nil
}

// AppendARP appends p's 28 bytes to b.
func AppendARP(b []byte, p ARPPacket) []byte {
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, stack.EthPIPv4)
	b = append(b, 6, 4)
	b = binary.BigEndian.AppendUint16(b, p.Op)
	b = append(b, p.SenderMAC[:]...)
	b = append(b, p.SenderIP[:]...)
	b = append(b, p.TargetMAC[:]...)
	return append(b, p.TargetIP[:]...)
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
