package header

import "encoding/binary"

// IPv4 is an IPv4 header at the start of a byte slice (RFC 791):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	|         Identification        |Flags|      Fragment Offset    |
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	|                       Source Address                          |
//	|                    Destination Address                        |
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Call IsValid before any accessor on untrusted bytes.
type IPv4 []byte

const (
	ipv4MinLen = 20
	ipv4TOS    = 1
	ipv4TotLen = 2
	ipv4ID     = 4
	ipv4Flags  = 6
	ipv4TTL    = 8
	ipv4Proto  = 9
	ipv4Csum   = 10
	ipv4Src    = 12
	ipv4Dst    = 16

	// IPv4 flag bits in the flags/fragment-offset word.
	IPv4DF = 0x4000
	IPv4MF = 0x2000

	ProtoTCP = 6
	ProtoUDP = 17
)

// IsValid reports whether b holds a whole IPv4 header: version 4, IHL ≥ 5
// and at least IHL·4 bytes.
func (b IPv4) IsValid() bool {
	return len(b) >= ipv4MinLen && b[0]>>4 == 4 && int(b[0]&0xf)*4 >= ipv4MinLen && len(b) >= int(b[0]&0xf)*4
}

// HeaderLen is IHL·4.
func (b IPv4) HeaderLen() int { return int(b[0]&0xf) * 4 }

// TOS returns the type-of-service byte.
func (b IPv4) TOS() uint8 { return b[ipv4TOS] }

// TotalLen returns the total length field.
func (b IPv4) TotalLen() uint16 { return binary.BigEndian.Uint16(b[ipv4TotLen:]) }

// SetTotalLen stores the total length (the checksum is not updated).
func (b IPv4) SetTotalLen(v uint16) { binary.BigEndian.PutUint16(b[ipv4TotLen:], v) }

// ID returns the identification field.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[ipv4ID:]) }

// SetID stores the identification field.
func (b IPv4) SetID(v uint16) { binary.BigEndian.PutUint16(b[ipv4ID:], v) }

// FlagsFrag returns the flags and fragment offset word.
func (b IPv4) FlagsFrag() uint16 { return binary.BigEndian.Uint16(b[ipv4Flags:]) }

// IsFragment reports MF set or a non-zero offset.
func (b IPv4) IsFragment() bool { return b.FlagsFrag()&(IPv4MF|0x1fff) != 0 }

// TTL returns the time to live.
func (b IPv4) TTL() uint8 { return b[ipv4TTL] }

// Protocol returns the protocol number.
func (b IPv4) Protocol() uint8 { return b[ipv4Proto] }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipv4Csum:]) }

// SetChecksum stores the header checksum field.
func (b IPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[ipv4Csum:], v) }

// Src returns the source address.
func (b IPv4) Src() [4]byte { return [4]byte(b[ipv4Src : ipv4Src+4]) }

// Dst returns the destination address.
func (b IPv4) Dst() [4]byte { return [4]byte(b[ipv4Dst : ipv4Dst+4]) }

// UpdateChecksum recomputes the header checksum over HeaderLen bytes.
func (b IPv4) UpdateChecksum() {
	b.SetChecksum(0)
	b.SetChecksum(Checksum(b[:b.HeaderLen()]))
}

// ChecksumValid reports whether the header checksum verifies.
func (b IPv4) ChecksumValid() bool { return Checksum(b[:b.HeaderLen()]) == 0 }

// TCP is a TCP header (RFC 9293):
//
//	|          Source Port          |       Destination Port        |
//	|                        Sequence Number                        |
//	|                    Acknowledgment Number                      |
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|           Checksum            |         Urgent Pointer        |
//	|                    Options                    |    Padding    |
type TCP []byte

const (
	tcpMinLen = 20
	tcpSeq    = 4
	tcpAck    = 8
	tcpOff    = 12
	tcpFlags  = 13
	tcpWin    = 14
	// TCPChecksumOffset is where the checksum sits in a TCP header.
	TCPChecksumOffset = 16
	tcpUrg            = 18

	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// IsValid reports whether b holds the whole TCP header its data offset claims.
func (b TCP) IsValid() bool {
	return len(b) >= tcpMinLen && int(b[tcpOff]>>4)*4 >= tcpMinLen && len(b) >= int(b[tcpOff]>>4)*4
}

// HeaderLen is the data offset in bytes.
func (b TCP) HeaderLen() int { return int(b[tcpOff]>>4) * 4 }

// SrcPort returns the source port.
func (b TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(b[0:]) }

// DstPort returns the destination port.
func (b TCP) DstPort() uint16 { return binary.BigEndian.Uint16(b[2:]) }

// Seq returns the sequence number.
func (b TCP) Seq() uint32 { return binary.BigEndian.Uint32(b[tcpSeq:]) }

// SetSeq stores the sequence number.
func (b TCP) SetSeq(v uint32) { binary.BigEndian.PutUint32(b[tcpSeq:], v) }

// Ack returns the acknowledgment number.
func (b TCP) Ack() uint32 { return binary.BigEndian.Uint32(b[tcpAck:]) }

// Flags returns the flag byte.
func (b TCP) Flags() uint8 { return b[tcpFlags] }

// SetFlags stores the flag byte.
func (b TCP) SetFlags(f uint8) { b[tcpFlags] = f }

// Window returns the window field.
func (b TCP) Window() uint16 { return binary.BigEndian.Uint16(b[tcpWin:]) }

// Checksum returns the checksum field.
func (b TCP) Checksum() uint16 { return binary.BigEndian.Uint16(b[TCPChecksumOffset:]) }

// SetChecksum stores the checksum field.
func (b TCP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[TCPChecksumOffset:], v) }

// Urgent returns the urgent pointer.
func (b TCP) Urgent() uint16 { return binary.BigEndian.Uint16(b[tcpUrg:]) }

// Options returns the option bytes.
func (b TCP) Options() []byte { return b[tcpMinLen:b.HeaderLen()] }

// UDP is a UDP header (RFC 768): source port, destination port, length,
// checksum, 16 bits each.
type UDP []byte

const (
	// UDPHeaderLen is the UDP header length.
	UDPHeaderLen = 8
	// UDPChecksumOffset is where the checksum sits in a UDP header.
	UDPChecksumOffset = 6
)

// IsValid reports whether b holds a UDP header.
func (b UDP) IsValid() bool { return len(b) >= UDPHeaderLen }

// Length returns the length field.
func (b UDP) Length() uint16 { return binary.BigEndian.Uint16(b[4:]) }

// SetLength stores the length field.
func (b UDP) SetLength(v uint16) { binary.BigEndian.PutUint16(b[4:], v) }

// Checksum returns the checksum field.
func (b UDP) Checksum() uint16 { return binary.BigEndian.Uint16(b[UDPChecksumOffset:]) }

// SetChecksum stores the checksum field.
func (b UDP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[UDPChecksumOffset:], v) }

// L4ChecksumValid verifies the TCP or UDP checksum of segment l4 (header
// and payload) carried in IPv4 packet ip. A UDP checksum of 0 means none
// and is valid.
func L4ChecksumValid(ip IPv4, l4 []byte) bool {
	if ip.Protocol() == ProtoUDP && len(l4) >= UDPHeaderLen && UDP(l4).Checksum() == 0 {
		return true
	}
	acc := PseudoHeaderIPv4(ip.Src(), ip.Dst(), ip.Protocol(), uint16(len(l4)))
	return ^Fold(Sum(l4, acc)) == 0
}

// L4Checksum computes the TCP or UDP checksum of l4 (whose checksum field
// must be zero) in IPv4 packet ip; a UDP result of 0 is returned as 0xFFFF.
func L4Checksum(ip IPv4, l4 []byte) uint16 {
	acc := PseudoHeaderIPv4(ip.Src(), ip.Dst(), ip.Protocol(), uint16(len(l4)))
	c := ^Fold(Sum(l4, acc))
	if c == 0 && ip.Protocol() == ProtoUDP {
		c = 0xFFFF
	}
	return c
}
