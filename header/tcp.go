package header

import "encoding/binary"

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
