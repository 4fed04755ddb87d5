package header

import "encoding/binary"

// Ethernet is an Ethernet II header at the start of a frame (IEEE 802.3,
// without preamble and FCS):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Destination Address                      |
//	|      (Destination, cont.)     |        Source Address         |
//	|                      (Source Address, cont.)                  |
//	|           EtherType           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// An 802.1Q-tagged frame carries TPID 0x8100 where the EtherType is, then
// the tag control word and the inner EtherType (InnerType).
//
// Call IsValid before any accessor on untrusted bytes.
type Ethernet []byte

const (
	ethDst       = 0
	ethSrc       = 6
	ethType      = 12
	ethInnerType = 16 // after an 802.1Q tag

	// EthernetHeaderLen is the length of an untagged Ethernet header.
	EthernetHeaderLen = 14
	// VLANTagLen is the length of an 802.1Q tag (TPID and TCI).
	VLANTagLen = 4
)

// EtherTypes (IEEE registry; Linux's ETH_P_*).
const (
	EtherTypeIPv4       = 0x0800
	EtherTypeARP        = 0x0806
	EtherTypeVLAN       = 0x8100 // 802.1Q tag
	EtherTypeIPv6       = 0x86DD
	EtherTypeMACControl = 0x8808 // 802.3x flow control: PAUSE
)

// IsValid reports whether b holds an Ethernet header.
func (b Ethernet) IsValid() bool { return len(b) >= EthernetHeaderLen }

// Dst returns the destination address.
func (b Ethernet) Dst() [6]byte { return [6]byte(b[ethDst : ethDst+6 : len(b)]) }

// SetDst stores the destination address.
func (b Ethernet) SetDst(a [6]byte) { copy(b[ethDst:ethDst+6:len(b)], a[:]) }

// Src returns the source address.
func (b Ethernet) Src() [6]byte { return [6]byte(b[ethSrc : ethSrc+6 : len(b)]) }

// SetSrc stores the source address.
func (b Ethernet) SetSrc(a [6]byte) { copy(b[ethSrc:ethSrc+6:len(b)], a[:]) }

// Type returns the EtherType field (the TPID of a tagged frame).
func (b Ethernet) Type() uint16 { return binary.BigEndian.Uint16(b[ethType : ethType+2 : len(b)]) }

// SetType stores the EtherType field.
func (b Ethernet) SetType(v uint16) { binary.BigEndian.PutUint16(b[ethType:ethType+2:len(b)], v) }

// IsBroadcast reports whether the destination is ff:ff:ff:ff:ff:ff.
func (b Ethernet) IsBroadcast() bool {
	return b[0]&b[1]&b[2]&b[3]&b[4]&b[5] == 0xff
}

// IsMulticast reports whether the destination is a group address (the
// I/G bit): multicast or broadcast.
func (b Ethernet) IsMulticast() bool { return b[0]&1 != 0 }

// InnerType returns the EtherType of what the frame carries and the offset
// of that payload: past one 802.1Q tag when the frame has one (and is long
// enough to hold it), else the header's own EtherType at offset 14.
func (b Ethernet) InnerType() (etherType uint16, offset int) {
	t := binary.BigEndian.Uint16(b[ethType : ethType+2 : len(b)])
	if t == EtherTypeVLAN && len(b) >= EthernetHeaderLen+VLANTagLen {
		return binary.BigEndian.Uint16(b[ethInnerType : ethInnerType+2 : len(b)]), EthernetHeaderLen + VLANTagLen
	}
	return t, EthernetHeaderLen
}

// Payload returns the bytes after the (untagged) header.
func (b Ethernet) Payload() []byte { return b[EthernetHeaderLen:] }

// MACControl is the payload of an 802.3 MAC control frame (EtherType
// 0x8808, IEEE 802.3 Annex 31B): an opcode and, for PAUSE, the time to
// pause in quanta of 512 bit times (0 resumes at once: XON).
//
//	|            Opcode             |         Pause Quanta          |
//
// Call IsValid before any accessor on untrusted bytes.
type MACControl []byte

const (
	// MACControlLen is the opcode and the PAUSE quanta.
	MACControlLen = 4
	// MACControlPause is the PAUSE opcode.
	MACControlPause = 0x0001
)

// IsValid reports whether b holds an opcode and a quanta field.
func (b MACControl) IsValid() bool { return len(b) >= MACControlLen }

// Opcode returns the opcode.
func (b MACControl) Opcode() uint16 { return binary.BigEndian.Uint16(b[0:2:len(b)]) }

// SetOpcode stores the opcode.
func (b MACControl) SetOpcode(v uint16) { binary.BigEndian.PutUint16(b[0:2:len(b)], v) }

// Quanta returns a PAUSE frame's pause time.
func (b MACControl) Quanta() uint16 { return binary.BigEndian.Uint16(b[2:4:len(b)]) }

// SetQuanta stores a PAUSE frame's pause time.
func (b MACControl) SetQuanta(v uint16) { binary.BigEndian.PutUint16(b[2:4:len(b)], v) }
