package ring

import "encoding/binary"

// TxDesc is one 16-byte advanced transmit descriptor: either a data
// descriptor (DTYP = 0x3) or a context descriptor (DTYP = 0x2), told apart by
// the DTYP field of dw2 (DEXT set in both).
//
// Data descriptor:
//
//	dw0-1  buffer address
//	dw2    cmd_type_len: DTALEN b15:0 | DTYP b23:20 = 0x3 |
//	       DCMD: EOP b24, IFCS b25, RS b27, DEXT b29, VLE b30, TSE b31
//	dw3    olinfo_status: STA b3:0 (DD b0 on write-back) | IDX b6:4 | CC b7 |
//	       POPTS b13:8 (IXSM b8, TXSM b9) | PAYLEN b31:14
//
// Context descriptor:
//
//	dw0    vlan_macip_lens: IPLEN b8:0 | MACLEN b15:9 | VLAN b31:16
//	dw1    seqnum_seed
//	dw2    type_tucmd_mlhl: TUCMD (IPV4 b10, L4T b12:11) | DTYP b23:20 = 0x2 | DEXT b29
//	dw3    mss_l4len_idx: IDX b6:4 | L4LEN b15:8 | MSS b31:16
type TxDesc []byte

// Descriptor types (dw2 b23:20).
const (
	TxDTypContext = 0x2
	TxDTypData    = 0x3
)

// cmd_type_len command bits.
const (
	TxCmdEOP  = 1 << 24
	TxCmdIFCS = 1 << 25
	TxCmdRS   = 1 << 27
	TxCmdDEXT = 1 << 29
	TxCmdVLE  = 1 << 30
	TxCmdTSE  = 1 << 31
)

// olinfo_status bits.
const (
	TxStatDD   = 1 << 0
	TxPOptIXSM = 1 << 8
	TxPOptTXSM = 1 << 9
)

// Context TUCMD bits and L4 types.
const (
	TxTUCmdIPv4  = 1 << 10
	TxTUCmdL4UDP = 0 << 11
	TxTUCmdL4TCP = 1 << 11
	TxTUCmdL4SCT = 2 << 11
)

// Addr is the buffer address of a data descriptor.
func (d TxDesc) Addr() uint64 { return binary.LittleEndian.Uint64(d[0:8]) }

// CmdTypeLen returns dw2.
func (d TxDesc) CmdTypeLen() uint32 { return binary.LittleEndian.Uint32(d[8:12]) }

// DTyp returns the descriptor type (dw2 b23:20).
func (d TxDesc) DTyp() uint8 { return uint8(d.CmdTypeLen()>>20) & 0xf }

// Len returns DTALEN of a data descriptor.
func (d TxDesc) Len() uint16 { return uint16(d.CmdTypeLen()) }

// OlinfoStatus loads dw3 atomically; DD is bit 0 after write-back.
func (d TxDesc) OlinfoStatus() uint32 { return loadLE32(d[12:16]) }

// PayLen returns PAYLEN (olinfo_status b31:14).
func (d TxDesc) PayLen() uint32 { return d.OlinfoStatus() >> 14 }

// POpts returns POPTS (olinfo_status b13:8).
func (d TxDesc) POpts() uint32 { return d.OlinfoStatus() & 0x3f00 }

// Done reports whether the device has written DD back.
func (d TxDesc) Done() bool { return d.OlinfoStatus()&TxStatDD != 0 }

// TxData holds the fields of a data descriptor.
type TxData struct {
	Addr   uint64
	Len    uint16
	Cmd    uint32 // TxCmd* bits; DEXT and DTYP are added by SetData
	POpts  uint32 // TxPOpt* bits
	Idx    uint8  // context slot (IDX, olinfo b6:4)
	PayLen uint32 // whole packet length, or the TSO payload length
}

// SetData writes a data descriptor (clearing a stale DD). Plain stores
// suffice: the tail doorbell that hands the descriptor over publishes them.
func (d TxDesc) SetData(f TxData) {
	binary.LittleEndian.PutUint64(d[0:8], f.Addr)
	binary.LittleEndian.PutUint32(d[8:12], uint32(f.Len)|TxDTypData<<20|TxCmdDEXT|f.Cmd)
	binary.LittleEndian.PutUint32(d[12:16], f.POpts&0x3f00|uint32(f.Idx&7)<<4|f.PayLen<<14)
}

// MarkDone is the device's write-back: it sets DD in dw3, atomically.
func (d TxDesc) MarkDone() { storeLE32(d[12:16], loadLE32(d[12:16])|TxStatDD) }

// TxContext holds the fields of a context descriptor.
type TxContext struct {
	MACLen uint8
	IPLen  uint16
	VLAN   uint16
	TUCmd  uint32 // TxTUCmd* bits
	L4Len  uint8
	MSS    uint16
	Idx    uint8
}

// SetContext writes a context descriptor.
func (d TxDesc) SetContext(c TxContext) {
	binary.LittleEndian.PutUint32(d[0:4], uint32(c.IPLen&0x1ff)|uint32(c.MACLen&0x7f)<<9|uint32(c.VLAN)<<16)
	binary.LittleEndian.PutUint32(d[4:8], 0)
	binary.LittleEndian.PutUint32(d[8:12], c.TUCmd&0xfe00|TxDTypContext<<20|TxCmdDEXT)
	binary.LittleEndian.PutUint32(d[12:16], uint32(c.Idx&7)<<4|uint32(c.L4Len)<<8|uint32(c.MSS)<<16)
}

// Context decodes a context descriptor.
func (d TxDesc) Context() TxContext {
	dw0 := binary.LittleEndian.Uint32(d[0:4])
	dw2 := binary.LittleEndian.Uint32(d[8:12])
	dw3 := loadLE32(d[12:16])
	return TxContext{
		IPLen:  uint16(dw0 & 0x1ff),
		MACLen: uint8(dw0>>9) & 0x7f,
		VLAN:   uint16(dw0 >> 16),
		TUCmd:  dw2 & 0xfe00,
		Idx:    uint8(dw3>>4) & 7,
		L4Len:  uint8(dw3 >> 8),
		MSS:    uint16(dw3 >> 16),
	}
}
