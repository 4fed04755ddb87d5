package header

import "encoding/binary"

// TCP is a TCP header (RFC 9293):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	|                        Sequence Number                        |
//	|                    Acknowledgment Number                      |
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|           Checksum            |         Urgent Pointer        |
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Call IsValid before any accessor on untrusted bytes.
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

	// TCPMinHeaderLen is a header without options (data offset 5).
	TCPMinHeaderLen = 20
	// TCPMaxHeaderLen is a header with the most options (data offset 15).
	TCPMaxHeaderLen = 60

	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// TCP option kinds (RFC 9293, 7323, 2018).
const (
	TCPOptEOL           = 0
	TCPOptNOP           = 1
	TCPOptMSS           = 2
	TCPOptWindowScale   = 3
	TCPOptSACKPermitted = 4
	TCPOptSACK          = 5
	TCPOptTimestamp     = 8
)

// IsValid reports whether b holds the whole TCP header its data offset claims.
func (b TCP) IsValid() bool {
	return len(b) >= tcpMinLen && int(b[tcpOff]>>4)*4 >= tcpMinLen && len(b) >= int(b[tcpOff]>>4)*4
}

// HeaderLen is the data offset in bytes.
func (b TCP) HeaderLen() int { return int(b[tcpOff]>>4) * 4 }

// SetHeaderLen stores the data offset n/4 (n a multiple of 4, 20 to 60);
// the reserved bits are cleared.
func (b TCP) SetHeaderLen(n int) { b[tcpOff] = byte(n/4) << 4 }

// SrcPort returns the source port.
func (b TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(b[0:2:len(b)]) }

// SetSrcPort stores the source port.
func (b TCP) SetSrcPort(v uint16) { binary.BigEndian.PutUint16(b[0:2:len(b)], v) }

// DstPort returns the destination port.
func (b TCP) DstPort() uint16 { return binary.BigEndian.Uint16(b[2:4:len(b)]) }

// SetDstPort stores the destination port.
func (b TCP) SetDstPort(v uint16) { binary.BigEndian.PutUint16(b[2:4:len(b)], v) }

// Seq returns the sequence number.
func (b TCP) Seq() uint32 { return binary.BigEndian.Uint32(b[tcpSeq : tcpSeq+4 : len(b)]) }

// SetSeq stores the sequence number.
func (b TCP) SetSeq(v uint32) { binary.BigEndian.PutUint32(b[tcpSeq:tcpSeq+4:len(b)], v) }

// Ack returns the acknowledgment number.
func (b TCP) Ack() uint32 { return binary.BigEndian.Uint32(b[tcpAck : tcpAck+4 : len(b)]) }

// SetAck stores the acknowledgment number.
func (b TCP) SetAck(v uint32) { binary.BigEndian.PutUint32(b[tcpAck:tcpAck+4:len(b)], v) }

// Flags returns the flag byte.
func (b TCP) Flags() uint8 { return b[tcpFlags] }

// SetFlags stores the flag byte.
func (b TCP) SetFlags(f uint8) { b[tcpFlags] = f }

// Window returns the window field.
func (b TCP) Window() uint16 { return binary.BigEndian.Uint16(b[tcpWin : tcpWin+2 : len(b)]) }

// SetWindow stores the window field.
func (b TCP) SetWindow(v uint16) { binary.BigEndian.PutUint16(b[tcpWin:tcpWin+2:len(b)], v) }

// Checksum returns the checksum field.
func (b TCP) Checksum() uint16 {
	return binary.BigEndian.Uint16(b[TCPChecksumOffset : TCPChecksumOffset+2 : len(b)])
}

// SetChecksum stores the checksum field.
func (b TCP) SetChecksum(v uint16) {
	binary.BigEndian.PutUint16(b[TCPChecksumOffset:TCPChecksumOffset+2:len(b)], v)
}

// Urgent returns the urgent pointer.
func (b TCP) Urgent() uint16 { return binary.BigEndian.Uint16(b[tcpUrg : tcpUrg+2 : len(b)]) }

// SetUrgent stores the urgent pointer.
func (b TCP) SetUrgent(v uint16) { binary.BigEndian.PutUint16(b[tcpUrg:tcpUrg+2:len(b)], v) }

// Options returns the option bytes.
func (b TCP) Options() []byte { return b[tcpMinLen:b.HeaderLen()] }

// Payload returns the bytes after the header.
func (b TCP) Payload() []byte { return b[b.HeaderLen():] }
