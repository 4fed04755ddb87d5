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
