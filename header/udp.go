package header

import "encoding/binary"

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
