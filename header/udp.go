package header

import "encoding/binary"

// UDP is a UDP header (RFC 768):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	|            Length             |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The length counts header and data; checksum 0 means none was computed.
// Call IsValid before any accessor on untrusted bytes.
type UDP []byte

const (
	// UDPHeaderLen is the UDP header length.
	UDPHeaderLen = 8
	// UDPChecksumOffset is where the checksum sits in a UDP header.
	UDPChecksumOffset = 6
	udpLen            = 4
)

// IsValid reports whether b holds a UDP header.
func (b UDP) IsValid() bool { return len(b) >= UDPHeaderLen }

// SrcPort returns the source port.
func (b UDP) SrcPort() uint16 { return binary.BigEndian.Uint16(b[0:2:len(b)]) }

// SetSrcPort stores the source port.
func (b UDP) SetSrcPort(v uint16) { binary.BigEndian.PutUint16(b[0:2:len(b)], v) }

// DstPort returns the destination port.
func (b UDP) DstPort() uint16 { return binary.BigEndian.Uint16(b[2:4:len(b)]) }

// SetDstPort stores the destination port.
func (b UDP) SetDstPort(v uint16) { binary.BigEndian.PutUint16(b[2:4:len(b)], v) }

// Length returns the length field.
func (b UDP) Length() uint16 { return binary.BigEndian.Uint16(b[udpLen : udpLen+2 : len(b)]) }

// SetLength stores the length field.
func (b UDP) SetLength(v uint16) { binary.BigEndian.PutUint16(b[udpLen:udpLen+2:len(b)], v) }

// Checksum returns the checksum field.
func (b UDP) Checksum() uint16 {
	return binary.BigEndian.Uint16(b[UDPChecksumOffset : UDPChecksumOffset+2 : len(b)])
}

// SetChecksum stores the checksum field.
func (b UDP) SetChecksum(v uint16) {
	binary.BigEndian.PutUint16(b[UDPChecksumOffset:UDPChecksumOffset+2:len(b)], v)
}

// Payload returns the bytes after the header.
func (b UDP) Payload() []byte { return b[UDPHeaderLen:] }
