package ring

import "encoding/binary"

// RxDesc is one 16-byte advanced receive descriptor (SRRCTL.DESCTYPE = 001,
// advanced one-buffer). The driver writes the read format; the device
// overwrites it with the write-back format.
//
// Read format (driver → device):
//
//	 0                   63 64                 127
//	+----------------------+----------------------+
//	|  packet buffer addr  |  header buffer addr  |
//	+----------------------+----------------------+
//
// Write-back format (device → driver):
//
//	dw0  RSS type b3:0 | packet type b16:4 | HDR_LEN b30:21 | SPH b31
//	dw1  RSS hash (RXCSUM.PCSD = 1) or IP id / fragment checksum
//	dw2  extended status b19:0 | extended errors b31:20
//	dw3  PKT_LEN b15:0 | VLAN b31:16
//
// dw2 overlays the low half of the header buffer address: the driver clears
// the header address when it posts a buffer so that a stale DD is never seen.
type RxDesc []byte

// RX write-back status bits (dw2).
const (
	RxStatDD    = 1 << 0 // descriptor done
	RxStatEOP   = 1 << 1 // end of packet
	RxStatVP    = 1 << 3 // VLAN stripped
	RxStatUDPCS = 1 << 4 // UDP checksum computed
	RxStatL4CS  = 1 << 5 // TCP/UDP checksum computed
	RxStatIPCS  = 1 << 6 // IPv4 header checksum computed
	RxStatPIF   = 1 << 7 // passed in-exact filter
)

// RX write-back error bits (dw2, 82576 extended errors).
const (
	RxErrCE   = 1 << 24 // CRC error
	RxErrLE   = 1 << 25 // length error
	RxErrTCPE = 1 << 29 // L4 checksum error
	RxErrIPE  = 1 << 30 // IPv4 header checksum error
	RxErrRXE  = 1 << 31 // RX data error
)

// Packet type bits, placed at dw0 b16:4 (offsets within the field).
const (
	PktTypeIPv4 = 1 << 0
	PktTypeIPv6 = 1 << 2
	PktTypeTCP  = 1 << 4
	PktTypeUDP  = 1 << 5
	PktTypeSCTP = 1 << 6
)

// RSS types written to dw0 b3:0.
const (
	RSSTypeNone    = 0
	RSSTypeIPv4TCP = 1
	RSSTypeIPv4    = 2
	RSSTypeIPv6TCP = 3
	RSSTypeIPv6Ex  = 4
	RSSTypeIPv6    = 5
	RSSTypeIPv4UDP = 7
	RSSTypeIPv6UDP = 8
)

// PktAddr is the packet buffer address of the read format.
func (d RxDesc) PktAddr() uint64 { return binary.LittleEndian.Uint64(d[0:8]) }

// HdrAddr is the header buffer address of the read format.
func (d RxDesc) HdrAddr() uint64 { return binary.LittleEndian.Uint64(d[8:16]) }

// SetRead posts a buffer: it writes the packet address and clears the header
// address, which also clears DD in the status dword. Plain stores suffice:
// the tail doorbell that hands the descriptor over publishes them.
func (d RxDesc) SetRead(pkt uint64) {
	binary.LittleEndian.PutUint64(d[0:8], pkt)
	binary.LittleEndian.PutUint64(d[8:16], 0)
}

// ClearStatus clears the write-back status of a descriptor the driver
// owns and has not posted (the one at its next-to-use index), so that a
// DD left from its last write-back is not seen again. A plain store: the
// device does not read a descriptor it was not given.
func (d RxDesc) ClearStatus() { binary.LittleEndian.PutUint64(d[8:16], 0) }

// Status loads the write-back status/error dword atomically; check DD here
// before reading any other write-back field.
func (d RxDesc) Status() uint32 { return loadLE32(d[8:12]) }

// RSSType returns dw0 b3:0 of the write-back.
func (d RxDesc) RSSType() uint8 { return d[0] & 0xf }

// PktType returns dw0 b16:4 of the write-back.
func (d RxDesc) PktType() uint16 {
	return uint16((binary.LittleEndian.Uint32(d[0:4]) >> 4) & 0x1fff)
}

// RSCCount returns dw0 b20:17 of the write-back: the number of frames LRO
// coalesced into this packet (0 or 1: none; saturates at 15).
func (d RxDesc) RSCCount() uint8 {
	return uint8(binary.LittleEndian.Uint32(d[0:4])>>17) & 0xf
}

// RSSHash returns dw1 of the write-back.
func (d RxDesc) RSSHash() uint32 { return binary.LittleEndian.Uint32(d[4:8]) }

// Length returns PKT_LEN of the write-back.
func (d RxDesc) Length() uint16 { return binary.LittleEndian.Uint16(d[12:14]) }

// VLAN returns the stripped VLAN tag of the write-back.
func (d RxDesc) VLAN() uint16 { return binary.LittleEndian.Uint16(d[14:16]) }

// RxWriteBack holds the fields the device writes back.
type RxWriteBack struct {
	RSSType uint8
	PktType uint16
	RSSHash uint32
	Status  uint32 // status and error bits; DD is added by Encode
	Length  uint16
	VLAN    uint16
	RSCCnt  uint8 // frames coalesced by LRO (b20:17)
}

// WriteBack stores w into d in the order the 82576 uses: every other dword
// first, then the status dword with DD set, atomically.
func (d RxDesc) WriteBack(w RxWriteBack) {
	_ = d[15] // one bounds check for the stores below
	binary.LittleEndian.PutUint32(d[0:4], uint32(w.RSSType&0xf)|uint32(w.PktType&0x1fff)<<4|uint32(w.RSCCnt&0xf)<<17)
	binary.LittleEndian.PutUint32(d[4:8], w.RSSHash)
	binary.LittleEndian.PutUint16(d[12:14], w.Length)
	binary.LittleEndian.PutUint16(d[14:16], w.VLAN)
	storeLE32(d[8:12], w.Status|RxStatDD)
}
