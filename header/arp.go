package header

import "encoding/binary"

// ARP is an ARP message for IPv4 over Ethernet (RFC 826), the payload
// after the Ethernet header:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Hardware Type         |         Protocol Type         |
//	|    HW Len     |  Proto Len    |           Operation           |
//	|                Sender Hardware Address (SHA)                  |
//	|     (SHA, cont.)              |  Sender Protocol Addr (SPA)   |
//	|     (SPA, cont.)              |  Target Hardware Addr (THA)   |
//	|                         (THA, cont.)                          |
//	|                Target Protocol Address (TPA)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The address fields sit where an Ethernet/IPv4 message puts them (hlen 6,
// plen 4); IsValid checks that it is one. Frames are padded to the 60-byte
// minimum, so b may run past the 28 bytes.
type ARP []byte

const (
	arpHType = 0
	arpPType = 2
	arpHLen  = 4
	arpPLen  = 5
	arpOp    = 6
	arpSHA   = 8
	arpSPA   = 14
	arpTHA   = 18
	arpTPA   = 24

	// ARPLen is the length of an Ethernet/IPv4 ARP message.
	ARPLen = 28
	// ARPHardwareEthernet is the hardware type of Ethernet (ARPHRD_ETHER).
	ARPHardwareEthernet = 1

	// ARP operations.
	ARPRequest = 1
	ARPReply   = 2
)

// IsValid reports whether b holds a whole Ethernet/IPv4 ARP message:
// hardware type 1, protocol type 0x0800, hlen 6 and plen 4. The operation
// is not checked.
func (b ARP) IsValid() bool {
	return len(b) >= ARPLen && binary.BigEndian.Uint16(b[arpHType:arpHType+2:len(b)]) == ARPHardwareEthernet &&
		binary.BigEndian.Uint16(b[arpPType:arpPType+2:len(b)]) == EtherTypeIPv4 && b[arpHLen] == 6 && b[arpPLen] == 4
}

// HardwareType returns the hardware type.
func (b ARP) HardwareType() uint16 { return binary.BigEndian.Uint16(b[arpHType : arpHType+2 : len(b)]) }

// ProtocolType returns the protocol type (an EtherType).
func (b ARP) ProtocolType() uint16 { return binary.BigEndian.Uint16(b[arpPType : arpPType+2 : len(b)]) }

// HardwareLen returns the hardware address length.
func (b ARP) HardwareLen() uint8 { return b[arpHLen] }

// ProtocolLen returns the protocol address length.
func (b ARP) ProtocolLen() uint8 { return b[arpPLen] }

// SetEthernetIPv4 stores the fixed fields of an Ethernet/IPv4 message:
// hardware type 1, protocol type 0x0800, hlen 6, plen 4.
func (b ARP) SetEthernetIPv4() {
	binary.BigEndian.PutUint16(b[arpHType:arpHType+2:len(b)], ARPHardwareEthernet)
	binary.BigEndian.PutUint16(b[arpPType:arpPType+2:len(b)], EtherTypeIPv4)
	b[arpHLen], b[arpPLen] = 6, 4
}

// Op returns the operation.
func (b ARP) Op() uint16 { return binary.BigEndian.Uint16(b[arpOp : arpOp+2 : len(b)]) }

// SetOp stores the operation.
func (b ARP) SetOp(v uint16) { binary.BigEndian.PutUint16(b[arpOp:arpOp+2:len(b)], v) }

// SHA returns the sender hardware address.
func (b ARP) SHA() [6]byte { return [6]byte(b[arpSHA : arpSHA+6 : len(b)]) }

// SetSHA stores the sender hardware address.
func (b ARP) SetSHA(a [6]byte) { copy(b[arpSHA:arpSHA+6:len(b)], a[:]) }

// SPA returns the sender protocol address.
func (b ARP) SPA() [4]byte { return [4]byte(b[arpSPA : arpSPA+4 : len(b)]) }

// SetSPA stores the sender protocol address.
func (b ARP) SetSPA(a [4]byte) { copy(b[arpSPA:arpSPA+4:len(b)], a[:]) }

// THA returns the target hardware address.
func (b ARP) THA() [6]byte { return [6]byte(b[arpTHA : arpTHA+6 : len(b)]) }

// SetTHA stores the target hardware address.
func (b ARP) SetTHA(a [6]byte) { copy(b[arpTHA:arpTHA+6:len(b)], a[:]) }

// TPA returns the target protocol address.
func (b ARP) TPA() [4]byte { return [4]byte(b[arpTPA : arpTPA+4 : len(b)]) }

// SetTPA stores the target protocol address.
func (b ARP) SetTPA(a [4]byte) { copy(b[arpTPA:arpTPA+4:len(b)], a[:]) }
