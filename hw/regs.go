package hw

// Register offsets of the vnic device: the 82576 ("igb") layout. The table
// regTable below documents every register the device implements and is the
// source of docs/registers.md (a test keeps the two equal).
const (
	CTRL     = 0x0000
	STATUS   = 0x0008
	EECD     = 0x0010
	EERD     = 0x0014
	FCTTV    = 0x0170 // pause time (quanta of 512 bit times) sent in XOFF frames
	FCRTL    = 0x2160 // XON threshold (free RX descriptors) b15:0, XONE b31
	FCRTH    = 0x2168 // XOFF threshold (free RX descriptors) b15:0
	RDTR     = 0x2820 // RX packet delay timer (8254x register; vnic: every RX queue)
	RADV     = 0x282C // RX absolute delay timer (8254x register; vnic: every RX queue)
	EEWR     = 0x102C // EEPROM write: the EERD layout (82574's register)
	CTRL_EXT = 0x0018
	MDIC     = 0x0020
	ICR      = 0x00C0
	ICS      = 0x00C8
	IMS      = 0x00D0
	IMC      = 0x00D8
	IAM      = 0x00E0
	RCTL     = 0x0100
	TCTL     = 0x0400
	TIPG     = 0x0410
	GPIE     = 0x1514
	EICS     = 0x1520
	EIMS     = 0x1524
	EIMC     = 0x1528
	EIAC     = 0x152C
	EIAM     = 0x1530
	EICR     = 0x1580
	EITR0    = 0x1680 // EITR(n) = EITR0 + 4n, n < NumVectors
	IVAR0    = 0x1700 // IVAR(n) = IVAR0 + 4n, n < 8
	IVARMISC = 0x1740
	RXCSUM   = 0x5000
	RLPML    = 0x5004
	RFCTL    = 0x5008
	MTA0     = 0x5200 // 128 registers
	RAL0     = 0x5400 // RAL(i) = RAL0 + 8i, i < 16
	RAH0     = 0x5404 // RAH(i) = RAH0 + 8i
	MRQC     = 0x5818
	RETA0    = 0x5C00 // 32 registers, 4 entries each
	RSSRK0   = 0x5C80 // 10 registers
	RDBAL0   = 0xC000 // per RX queue, stride 0x40
	TDBAL0   = 0xE000 // per TX queue, stride 0x40

	// Statistics (clear on read).
	CRCERRS = 0x4000
	ALGNERR = 0x4004
	SYMERRS = 0x4008
	RXERRC  = 0x400C
	MPC     = 0x4010
	COLC    = 0x4028
	RLEC    = 0x4040
	XONRXC  = 0x4048
	XONTXC  = 0x404C
	XOFFRXC = 0x4050
	XOFFTXC = 0x4054
	PRC64   = 0x405C
	PRC127  = 0x4060
	PRC255  = 0x4064
	PRC511  = 0x4068
	PRC1023 = 0x406C
	PRC1522 = 0x4070
	GPRC    = 0x4074
	BPRC    = 0x4078
	MPRC    = 0x407C
	GPTC    = 0x4080
	GORCL   = 0x4088
	GORCH   = 0x408C
	GOTCL   = 0x4090
	GOTCH   = 0x4094
	RNBC    = 0x40A0
	RUC     = 0x40A4
	RFC     = 0x40A8
	ROC     = 0x40AC
	RJC     = 0x40B0
	TORL    = 0x40C0
	TORH    = 0x40C4
	TOTL    = 0x40C8
	TOTH    = 0x40CC
	TPR     = 0x40D0
	TPT     = 0x40D4
	PTC64   = 0x40D8
	PTC127  = 0x40DC
	PTC255  = 0x40E0
	PTC511  = 0x40E4
	PTC1023 = 0x40E8
	PTC1522 = 0x40EC
	MPTC    = 0x40F0
	BPTC    = 0x40F4
	TSCTC   = 0x40F8
	TSCTFC  = 0x40FC
	IAC     = 0x4100
	ICRXOC  = 0x4124

	// vnic diagnostics (not in the 82576): read-only running counters.
	VUWC     = 0x8000 // writes to unimplemented or read-only registers
	VURC     = 0x8004 // reads of unimplemented registers
	VDMAF    = 0x8008 // DMA faults
	VRXFLT   = 0x800C // frames dropped by the address filter
	VRXDIS   = 0x8010 // frames dropped because RX or the queue was disabled
	VCCV     = 0x8014 // contract violations flagged by the checker
	VTSOSG   = 0x8018 // segments produced by TSO
	VTXCSO   = 0x801C // checksums inserted on transmit (IPv4 header and L4)
	VTXCTE   = 0x8020 // offload requests without a valid context (not offloaded)
	VRXCSE   = 0x8024 // receive checksum errors reported (IPE or TCPE)
	VLROAG   = 0x8028 // frames coalesced by LRO into an earlier one
	VLROFL   = 0x802C // LRO aggregates written to the ring
	vdiagEnd = VLROFL
	VLSPD    = 0x8030 // link speed in Mb/s (0 without link)
	VTXNL    = 0x8034 // frames taken off a TX ring while the link was down (dropped)
)

// Per-queue register offsets within a queue's 0x40 block.
const (
	qDBAL   = 0x00
	qDBAH   = 0x04
	qDLEN   = 0x08
	qSRRCTL = 0x0C
	qDH     = 0x10
	qDT     = 0x18
	qDCTL   = 0x28
	qRSCCTL = 0x2C
	qRQDPC  = 0x30
	qWBAL   = 0x38
	qWBAH   = 0x3C
)

// RDBAL and friends return queue q's RX registers.
func RDBAL(q int) uint32  { return RDBAL0 + 0x40*uint32(q) + qDBAL }
func RDBAH(q int) uint32  { return RDBAL0 + 0x40*uint32(q) + qDBAH }
func RDLEN(q int) uint32  { return RDBAL0 + 0x40*uint32(q) + qDLEN }
func SRRCTL(q int) uint32 { return RDBAL0 + 0x40*uint32(q) + qSRRCTL }
func RDH(q int) uint32    { return RDBAL0 + 0x40*uint32(q) + qDH }
func RDT(q int) uint32    { return RDBAL0 + 0x40*uint32(q) + qDT }
func RXDCTL(q int) uint32 { return RDBAL0 + 0x40*uint32(q) + qDCTL }
func RQDPC(q int) uint32  { return RDBAL0 + 0x40*uint32(q) + qRQDPC }
func RSCCTL(q int) uint32 { return RDBAL0 + 0x40*uint32(q) + qRSCCTL }

// TDBAL and friends return queue q's TX registers.
func TDBAL(q int) uint32  { return TDBAL0 + 0x40*uint32(q) + qDBAL }
func TDBAH(q int) uint32  { return TDBAL0 + 0x40*uint32(q) + qDBAH }
func TDLEN(q int) uint32  { return TDBAL0 + 0x40*uint32(q) + qDLEN }
func TDH(q int) uint32    { return TDBAL0 + 0x40*uint32(q) + qDH }
func TDT(q int) uint32    { return TDBAL0 + 0x40*uint32(q) + qDT }
func TXDCTL(q int) uint32 { return TDBAL0 + 0x40*uint32(q) + qDCTL }
func TDWBAL(q int) uint32 { return TDBAL0 + 0x40*uint32(q) + qWBAL }
func TDWBAH(q int) uint32 { return TDBAL0 + 0x40*uint32(q) + qWBAH }

// EITR returns vector n's throttle register.
func EITR(n int) uint32 { return EITR0 + 4*uint32(n) }

// IVAR returns IVAR register n.
func IVAR(n int) uint32 { return IVAR0 + 4*uint32(n) }

// RAL and RAH return receive-address pair i.
func RAL(i int) uint32 { return RAL0 + 8*uint32(i) }
func RAH(i int) uint32 { return RAH0 + 8*uint32(i) }

// Register bits.
const (
	CtrlFD   = 1 << 0
	CtrlSLU  = 1 << 6
	CtrlRST  = 1 << 26
	CtrlRFCE = 1 << 27 // honour received PAUSE frames
	CtrlTFCE = 1 << 28 // send PAUSE frames

	FcrtlXONE = 1 << 31 // send XON when free descriptors recover

	StatusFD       = 1 << 0
	StatusLU       = 1 << 1
	StatusSpeed1G  = 2 << 6
	StatusSpeed100 = 1 << 6
	StatusGIOME    = 1 << 19

	EecdPres   = 1 << 8
	EecdAutoRd = 1 << 9

	EerdStart     = 1 << 0
	EerdDone      = 1 << 1
	EerdAddrShift = 2
	EerdDataShift = 16

	MdicDataMask = 0xFFFF
	MdicRegShift = 16
	MdicPhyShift = 21
	MdicOpWrite  = 1 << 26
	MdicOpRead   = 1 << 27
	MdicReady    = 1 << 28
	MdicError    = 1 << 30

	RdtrDelayMask = 0xFFFF
	RdtrFPD       = 1 << 31 // flush partial descriptor block: deliver now

	IcrTXDW     = 1 << 0
	IcrLSC      = 1 << 2
	IcrRXO      = 1 << 6
	IcrMDAC     = 1 << 9
	IcrDOUTSYNC = 1 << 28 // vnic: a DMA fault stopped a queue

	RctlEN        = 1 << 1
	RctlSBP       = 1 << 2
	RctlUPE       = 1 << 3
	RctlMPE       = 1 << 4
	RctlLPE       = 1 << 5
	RctlMOShift   = 12
	RctlBAM       = 1 << 15
	RctlBSIZEMask = 3 << 16
	RctlBSEX      = 1 << 25
	RctlSECRC     = 1 << 26

	TctlEN  = 1 << 1
	TctlPSP = 1 << 3

	GpieNSICR    = 1 << 0
	GpieMSIXMode = 1 << 4
	GpieEIAME    = 1 << 30
	GpiePBA      = 1 << 31

	EitrIntervalMask = 0x7FFC // INTERVAL b14:2, in µs

	IvarValid = 1 << 7

	RxcsumIPOFLD = 1 << 8
	RxcsumTUOFLD = 1 << 9
	RxcsumPCSD   = 1 << 13

	MrqcEnableMask = 7
	MrqcEnableRSS  = 2
	MrqcIPv4TCP    = 1 << 16
	MrqcIPv4       = 1 << 17
	MrqcIPv4UDP    = 1 << 22

	RahAV = 1 << 31

	SrrctlBSizePktMask = 0x7F // in KiB
	SrrctlDescAdv1Buf  = 1 << 25
	SrrctlDropEn       = 1 << 31

	DctlEnable = 1 << 25

	RscctlEn           = 1 << 0
	RscctlMaxDescShift = 2 // MAXDESC b3:2: 1, 4, 8 or 16 descriptors
)

// NumQueues is the number of RX and TX queue pairs.
const NumQueues = 16

// RetaSize is the number of RSS indirection table entries (RETA: 32
// registers of four one-byte entries).
const RetaSize = 128

// RSSKeySize is the RSS hash key length in bytes (RSSRK: 10 registers).
const RSSKeySize = 40

// NumVectors is the number of MSI-X vectors (EICR bits in MSI-X mode).
const NumVectors = 25

// regKind says how reads and writes behave.
type regKind uint8

const (
	kRW   regKind = iota // read/write
	kRO                  // read-only; writes are ignored and counted
	kWO                  // write-only; reads return 0 unless noted
	kW1C                 // write 1 to clear
	kRC                  // read clears (statistics)
	kRCL                 // low half of a 64-bit counter: read does not clear
	kRCH                 // high half of a 64-bit counter: read clears both halves
	kSPEC                // special semantics, see the note
)

func (k regKind) String() string {
	return [...]string{"RW", "RO", "WO", "RW1C", "RC", "RC64-L", "RC64-H", "SPEC"}[k]
}

// regDef is one row of the register table.
type regDef struct {
	name   string
	off    uint32
	n      int    // instances
	stride uint32 // between instances
	reset  uint32
	mask   uint32 // writable bits
	kind   regKind
	note   string
}

// regTable lists every implemented register, ordered by offset.
var regTable = []regDef{
	{"CTRL", CTRL, 1, 0, 0x00000001, 0xFFFFFFFF, kSPEC, "FD b0, SLU b6 (set link up), RST b26 self-clearing: restores every register's reset value, RFCE b27 (honour PAUSE), TFCE b28 (send PAUSE)"},
	{"STATUS", STATUS, 1, 0, 0, 0, kRO, "FD b0, LU b1 (link up: cable connected and CTRL.SLU), SPEED b7:6 = 10 (1000 Mb/s), GIO_MASTER_ENABLE b19"},
	{"EECD", EECD, 1, 0, EecdPres | EecdAutoRd, 0, kRO, "PRES b8 (EEPROM present), AUTO_RD b9 (auto-read done)"},
	{"EERD", EERD, 1, 0, 0, 0xFFFF, kSPEC, "START b0, DONE b1, ADDR b15:2, DATA b31:16; a read completes at once"},
	{"CTRL_EXT", CTRL_EXT, 1, 0, 0, 0xFFFFFFFF, kRW, "stored; no side effects"},
	{"MDIC", MDIC, 1, 0, MdicReady, 0x0FFFFFFF, kSPEC, "DATA b15:0, REG b20:16, PHY b25:21, OP b27:26, READY b28, ERROR b30; PHY address 1 only"},
	{"ICR", ICR, 1, 0, 0, 0xFFFFFFFF, kSPEC, "other causes: TXDW b0, LSC b2, RXO b6, MDAC b9, DOUTSYNC b28 (DMA fault); read clears, writing 1s clears"},
	{"ICS", ICS, 1, 0, 0, 0xFFFFFFFF, kSPEC, "write sets ICR bits; read returns ICR without clearing"},
	{"IMS", IMS, 1, 0, 0, 0xFFFFFFFF, kSPEC, "write ORs into the ICR mask; read returns the mask"},
	{"IMC", IMC, 1, 0, 0, 0xFFFFFFFF, kSPEC, "write clears mask bits; read returns IMS"},
	{"IAM", IAM, 1, 0, 0, 0xFFFFFFFF, kRW, "stored"},
	{"RCTL", RCTL, 1, 0, 0, 0x07FFFFFE, kRW, "EN b1, SBP b2, UPE b3, MPE b4, LPE b5, MO b13:12, BAM b15, BSIZE b17:16, BSEX b25, SECRC b26"},
	{"FCTTV", FCTTV, 1, 0, 0, 0xFFFF, kRW, "pause time in XOFF frames, quanta of 512 bit times"},
	{"TCTL", TCTL, 1, 0, 0x000000F8, 0xFFFFFFFE, kRW, "EN b1, PSP b3 (pad short packets to 60 bytes), CT b11:4, COLD b21:12"},
	{"TIPG", TIPG, 1, 0, 0, 0x3FFFFFFF, kRW, "stored; no effect"},
	{"EEWR", EEWR, 1, 0, 0, 0xFFFFFFFD, kSPEC, "START b0, DONE b1, ADDR b15:2, DATA b31:16: START writes DATA to word ADDR at once and sets DONE"},
	{"GPIE", GPIE, 1, 0, 0, 0xC0000011, kRW, "NSICR b0, MSIX_MODE b4 (interrupts are sent only in MSI-X mode), EIAME b30, PBA b31"},
	{"EICS", EICS, 1, 0, 0, 0x01FFFFFF, kWO, "write sets EICR bits"},
	{"EIMS", EIMS, 1, 0, 0, 0x01FFFFFF, kSPEC, "write ORs into the vector mask and fires any vector it unmasks with a cause pending; read returns the mask"},
	{"EIMC", EIMC, 1, 0, 0, 0x01FFFFFF, kWO, "write clears mask bits"},
	{"EIAC", EIAC, 1, 0, 0, 0x01FFFFFF, kRW, "auto-clear: EICR bit n clears when vector n's message is sent"},
	{"EIAM", EIAM, 1, 0, 0, 0x01FFFFFF, kRW, "auto-mask: with GPIE.EIAME, EIMS bit n clears when vector n's message is sent"},
	{"EICR", EICR, 1, 0, 0, 0x01FFFFFF, kW1C, "cause per vector (bit n = vector n); reading does not clear in MSI-X mode"},
	{"EITR", EITR0, NumVectors, 4, 0, 0x80007FFC, kRW, "INTERVAL b14:2 in µs (0 = no throttling), CNT_IGNR b31; leading edge: the first message goes at once, later causes wait for the interval"},
	{"IVAR", IVAR0, 8, 4, 0, 0x9F9F9F9F, kRW, "queue-to-vector map: IVAR[m] byte0 RX m, byte1 TX m, byte2 RX m+8, byte3 TX m+8; VALID b7, vector b4:0"},
	{"IVAR_MISC", IVARMISC, 1, 0, 0, 0x00009F9F, kRW, "byte1: vector for the other causes (ICR), VALID b7"},
	{"FCRTL", FCRTL, 1, 0, 0, 0x8000FFFF, kRW, "XON threshold in free RX descriptors b15:0 (vnic has no packet buffer: the 82576 counts its bytes), XONE b31"},
	{"FCRTH", FCRTH, 1, 0, 0, 0xFFFF, kRW, "XOFF threshold in free RX descriptors b15:0: with CTRL.TFCE, a queue with fewer free descriptors makes the device send XOFF"},
	{"RDTR", RDTR, 1, 0, 0, 0x8000FFFF, kSPEC, "vnic: the 8254x receive delay timers, for every RX queue (the 82576 has only EITR). DELAY b15:0 in 1.024 µs: a queue's receive cause waits until no frame has arrived on it for DELAY, or RADV after its first (0: no delay, RADV off too); FPD b31 (write): flush every delayed cause now, not stored. Delayed causes are raised before LSC and RXO, and by CTRL.RST's clear"},
	{"RADV", RADV, 1, 0, 0, 0xFFFF, kRW, "vnic: the 8254x absolute receive delay b15:0 in 1.024 µs, from a queue's first delayed frame, not restarted (0: off; only with RDTR ≠ 0); EITR still throttles the vector after either timer"},
	{"CRCERRS", CRCERRS, 1, 0, 0, 0, kRC, "CRC errors (never on a vnic cable)"},
	{"ALGNERRC", ALGNERR, 1, 0, 0, 0, kRC, "alignment errors (always 0)"},
	{"SYMERRS", SYMERRS, 1, 0, 0, 0, kRC, "symbol errors (always 0)"},
	{"RXERRC", RXERRC, 1, 0, 0, 0, kRC, "RX errors (always 0)"},
	{"MPC", MPC, 1, 0, 0, 0, kRC, "missed packets: no free RX descriptor"},
	{"COLC", COLC, 1, 0, 0, 0, kRC, "collisions (always 0: full duplex)"},
	{"RLEC", RLEC, 1, 0, 0, 0, kRC, "length errors: undersize plus oversize"},
	{"XONRXC", XONRXC, 1, 0, 0, 0, kRC, "PAUSE frames received with quanta 0 (XON)"},
	{"XONTXC", XONTXC, 1, 0, 0, 0, kRC, "XON frames sent"},
	{"XOFFRXC", XOFFRXC, 1, 0, 0, 0, kRC, "PAUSE frames received with quanta > 0 (XOFF)"},
	{"XOFFTXC", XOFFTXC, 1, 0, 0, 0, kRC, "XOFF frames sent"},
	{"PRC64", PRC64, 6, 4, 0, 0, kRC, "good packets received by size with FCS: 64, 65-127, 128-255, 256-511, 512-1023, 1024-max"},
	{"GPRC", GPRC, 1, 0, 0, 0, kRC, "good packets received (passed the filter)"},
	{"BPRC", BPRC, 1, 0, 0, 0, kRC, "broadcast packets received"},
	{"MPRC", MPRC, 1, 0, 0, 0, kRC, "multicast packets received"},
	{"GPTC", GPTC, 1, 0, 0, 0, kRC, "good packets transmitted"},
	{"GORCL", GORCL, 1, 0, 0, 0, kRCL, "good octets received, low; FCS included"},
	{"GORCH", GORCH, 1, 0, 0, 0, kRCH, "good octets received, high; reading it clears both halves"},
	{"GOTCL", GOTCL, 1, 0, 0, 0, kRCL, "good octets transmitted, low; FCS included"},
	{"GOTCH", GOTCH, 1, 0, 0, 0, kRCH, "good octets transmitted, high; reading it clears both halves"},
	{"RNBC", RNBC, 1, 0, 0, 0, kRC, "receive no buffers: counted with MPC when a frame finds no descriptor"},
	{"RUC", RUC, 1, 0, 0, 0, kRC, "undersize frames (< 60 bytes without FCS), dropped"},
	{"RFC", RFC, 1, 0, 0, 0, kRC, "fragments (always 0)"},
	{"ROC", ROC, 1, 0, 0, 0, kRC, "oversize frames, dropped"},
	{"RJC", RJC, 1, 0, 0, 0, kRC, "jabber (always 0)"},
	{"TORL", TORL, 1, 0, 0, 0, kRCL, "total octets received, low; FCS included"},
	{"TORH", TORH, 1, 0, 0, 0, kRCH, "total octets received, high; reading it clears both halves"},
	{"TOTL", TOTL, 1, 0, 0, 0, kRCL, "total octets transmitted, low"},
	{"TOTH", TOTH, 1, 0, 0, 0, kRCH, "total octets transmitted, high; reading it clears both halves"},
	{"TPR", TPR, 1, 0, 0, 0, kRC, "total packets received (every frame that reached the MAC)"},
	{"TPT", TPT, 1, 0, 0, 0, kRC, "total packets transmitted"},
	{"PTC64", PTC64, 6, 4, 0, 0, kRC, "packets transmitted by size with FCS, buckets as PRC"},
	{"MPTC", MPTC, 1, 0, 0, 0, kRC, "multicast packets transmitted"},
	{"BPTC", BPTC, 1, 0, 0, 0, kRC, "broadcast packets transmitted"},
	{"TSCTC", TSCTC, 1, 0, 0, 0, kRC, "TSO contexts transmitted"},
	{"TSCTFC", TSCTFC, 1, 0, 0, 0, kRC, "TSO context failures"},
	{"IAC", IAC, 1, 0, 0, 0, kRC, "interrupt assertions (MSI-X messages sent)"},
	{"ICRXOC", ICRXOC, 1, 0, 0, 0, kRC, "RX overrun causes raised"},
	{"RXCSUM", RXCSUM, 1, 0, 0, 0x000023FF, kRW, "PCSS b7:0, IPOFLD b8, TUOFLD b9, PCSD b13 (dword 1 of the write-back holds the RSS hash; RSS needs it)"},
	{"RLPML", RLPML, 1, 0, 0x00002600, 0x00003FFF, kRW, "maximum frame length with RCTL.LPE, without FCS"},
	{"RFCTL", RFCTL, 1, 0, 0, 0xFFFFFFFF, kRW, "stored"},
	{"MTA", MTA0, 128, 4, 0, 0xFFFFFFFF, kRW, "multicast hash table, 4096 bits: bit h of the table, h from RCTL.MO"},
	{"RAL", RAL0, 16, 8, 0, 0xFFFFFFFF, kRW, "receive address low: MAC bytes 0-3; RAL0 resets to the EEPROM MAC"},
	{"RAH", RAH0, 16, 8, 0, 0x83FFFFFF, kRW, "receive address high: MAC bytes 4-5 b15:0, pool b25:18, AV b31; RAH0 resets to the EEPROM MAC with AV"},
	{"MRQC", MRQC, 1, 0, 0, 0x01FF0007, kRW, "enable b2:0 (010 = RSS), hash fields IPV4_TCP b16, IPV4 b17, IPV4_UDP b22 (IPv6 fields stored)"},
	{"SAQF", SAQF0, NumFTQF, 4, 0, 0xFFFFFFFF, kRW, "5-tuple filter n: IPv4 source address as on the wire, first byte in b7:0; compared unless FTQF.SRC_ADDR_BP"},
	{"DAQF", DAQF0, NumFTQF, 4, 0, 0xFFFFFFFF, kRW, "5-tuple filter n: IPv4 destination address, first byte in b7:0; compared unless FTQF.DST_ADDR_BP"},
	{"SPQF", SPQF0, NumFTQF, 4, 0, 0x0000FFFF, kRW, "5-tuple filter n: TCP/UDP/SCTP source port b15:0 in network order (first byte in b7:0); compared unless FTQF.SRC_PORT_BP"},
	{"FTQF", FTQF0, NumFTQF, 4, 0, 0xF80F81FF, kRW, "5-tuple filter n: PROTOCOL b7:0, QUEUE_ENABLE b8 (the filter is on), VF_BP b15 (stored), QUEUE b19:16, 1588 b27 (stored), bypasses PROTO_BP b28, SRC_ADDR_BP b29, DST_ADDR_BP b30, SRC_PORT_BP b31. IPv4 only; a port compare fails for fragments and frames without ports. Checked after ETQF, before RSS; of several matches the highest IMIR.PRIORITY wins, then the lowest n"},
	{"IMIR", IMIR0, NumFTQF, 4, 0, 0xE003FFFF, kRW, "5-tuple filter n: destination port b15:0 in network order, PORT_IM_EN b16 (stored: no immediate interrupts), PORT_BP b17 (do not compare the port), PRIORITY b31:29"},
	{"IMIREXT", IMIREXT0, NumFTQF, 4, 0, 0x000FFFFF, kRW, "5-tuple filter n: size threshold b11:0, SIZE_BP b12, TCP flag checks b18:13, CTRL_BP b19: stored, not matched (they qualify immediate interrupts, which vnic does not model)"},
	{"RETA", RETA0, 32, 4, 0, 0xFFFFFFFF, kRW, "128 one-byte entries, entry i in byte i%4 of RETA[i/4]; queue = entry & 0xF"},
	{"RSSRK", RSSRK0, 10, 4, 0, 0xFFFFFFFF, kRW, "40-byte RSS key, byte k in RSSRK[k/4] bits 8(k%4)+7:8(k%4)"},
	{"ETQF", ETQF0, NumETQF, 4, 0, 0xE407FFFF, kRW, "EtherType filter n: ETYPE b15:0 (the EtherType after one VLAN tag), QUEUE b18:16, FILTER_ENABLE b26, IMM_INT b29 and 1588 b30 (stored), QUEUE_ENABLE b31. With FILTER_ENABLE and QUEUE_ENABLE a frame of that type goes to QUEUE before the 5-tuple filters and RSS (the lowest n first), with packet type b11 set and n in b2:0"},
	{"VUWC", VUWC, 1, 0, 0, 0, kRO, "vnic: writes to unimplemented or read-only registers"},
	{"VURC", VURC, 1, 0, 0, 0, kRO, "vnic: reads of unimplemented registers"},
	{"VDMAF", VDMAF, 1, 0, 0, 0, kRO, "vnic: DMA faults (bad descriptor or buffer address)"},
	{"VRXFLT", VRXFLT, 1, 0, 0, 0, kRO, "vnic: frames dropped by the address filter"},
	{"VRXDIS", VRXDIS, 1, 0, 0, 0, kRO, "vnic: frames dropped because RCTL.EN or the queue was off"},
	{"VCCV", VCCV, 1, 0, 0, 0, kRO, "vnic: driver contract violations seen by the checker"},
	{"VTSOSG", VTSOSG, 1, 0, 0, 0, kRO, "vnic: segments produced by TSO"},
	{"VTXCSO", VTXCSO, 1, 0, 0, 0, kRO, "vnic: checksums inserted on transmit (IXSM and TXSM each count)"},
	{"VTXCTE", VTXCTE, 1, 0, 0, 0, kRO, "vnic: checksum requests (IXSM/TXSM) without a valid context descriptor: sent without the checksum"},
	{"VRXCSE", VRXCSE, 1, 0, 0, 0, kRO, "vnic: receive checksum errors reported in the write-back (IPE, TCPE)"},
	{"VLROAG", VLROAG, 1, 0, 0, 0, kRO, "vnic: frames LRO coalesced into an earlier frame"},
	{"VLROFL", VLROFL, 1, 0, 0, 0, kRO, "vnic: LRO aggregates written to the ring"},
	{"VLSPD", VLSPD, 1, 0, 0, 0, kRO, "vnic: link speed in Mb/s as negotiated with the cable's other end (0 without link); STATUS.SPEED only tells 10/100/1000"},
	{"VTXNL", VTXNL, 1, 0, 0, 0, kRO, "vnic: frames taken off a TX ring while the link was down: dropped, never on the wire (still counted in GPTC/GOTC, as the MAC took them)"},
	{"VETQFHC", VETQFHC0, NumETQF, 4, 0, 0, kRC, "vnic: frames EtherType filter n steered since the last read (saturates; CTRL.RST clears)"},
	{"VFTQFHC", VFTQFHC0, NumFTQF, 4, 0, 0, kRC, "vnic: frames 5-tuple filter n steered since the last read (saturates; CTRL.RST clears)"},
	{"RDBAL", RDBAL0 + qDBAL, NumQueues, 0x40, 0, 0xFFFFFF80, kRW, "RX ring base low, 128-byte aligned"},
	{"RDBAH", RDBAL0 + qDBAH, NumQueues, 0x40, 0, 0xFFFFFFFF, kRW, "RX ring base high"},
	{"RDLEN", RDBAL0 + qDLEN, NumQueues, 0x40, 0, 0x000FFF80, kRW, "RX ring length in bytes, a multiple of 128"},
	{"SRRCTL", RDBAL0 + qSRRCTL, NumQueues, 0x40, 0x00000002, 0x8FF00F7F, kRW, "BSIZEPKT b6:0 (KiB; 0 = RCTL.BSIZE), DESCTYPE b27:25 (001 advanced one-buffer), DROP_EN b31"},
	{"RDH", RDBAL0 + qDH, NumQueues, 0x40, 0, 0x0000FFFF, kRW, "RX head; the device advances it, the driver writes it only at init"},
	{"RDT", RDBAL0 + qDT, NumQueues, 0x40, 0, 0x0000FFFF, kSPEC, "RX tail doorbell: the device owns [RDH, RDT)"},
	{"RXDCTL", RDBAL0 + qDCTL, NumQueues, 0x40, 0, 0x061F1F1F, kRW, "thresholds b20:0 stored, ENABLE b25; a DMA fault clears ENABLE"},
	{"RSCCTL", RDBAL0 + qRSCCTL, NumQueues, 0x40, 0, 0x0000000F, kSPEC, "vnic LRO control (the 82599's RSCCTL): RSCEN b0, MAXDESC b3:2 (an aggregate spans at most 1, 4, 8 or 16 buffers); clearing RSCEN flushes the open aggregate"},
	{"RQDPC", RDBAL0 + qRQDPC, NumQueues, 0x40, 0, 0, kRC, "per-queue RX drops (no descriptor)"},
	{"TDBAL", TDBAL0 + qDBAL, NumQueues, 0x40, 0, 0xFFFFFF80, kRW, "TX ring base low, 128-byte aligned"},
	{"TDBAH", TDBAL0 + qDBAH, NumQueues, 0x40, 0, 0xFFFFFFFF, kRW, "TX ring base high"},
	{"TDLEN", TDBAL0 + qDLEN, NumQueues, 0x40, 0, 0x000FFF80, kRW, "TX ring length in bytes, a multiple of 128"},
	{"TDH", TDBAL0 + qDH, NumQueues, 0x40, 0, 0x0000FFFF, kRW, "TX head; the device advances it"},
	{"TDT", TDBAL0 + qDT, NumQueues, 0x40, 0, 0x0000FFFF, kSPEC, "TX tail doorbell: writing it starts transmission of [TDH, TDT)"},
	{"TXDCTL", TDBAL0 + qDCTL, NumQueues, 0x40, 0, 0x061F1F1F, kRW, "thresholds stored, ENABLE b25; a DMA fault clears ENABLE"},
	{"TDWBAL", TDBAL0 + qWBAL, NumQueues, 0x40, 0, 0xFFFFFFFC, kRW, "head write-back address low: stored, not used (DD write-back only)"},
	{"TDWBAH", TDBAL0 + qWBAH, NumQueues, 0x40, 0, 0xFFFFFFFF, kRW, "head write-back address high: stored, not used"},
}

// Register describes one implemented register (or array of them) for
// register dumps: name, first offset, instances and their stride.
type Register struct {
	Name   string
	Offset uint32
	Count  int
	Stride uint32
}

// Registers lists every implemented register, ordered by offset.
func Registers() []Register {
	out := make([]Register, len(regTable))
	for i, r := range regTable {
		out[i] = Register{r.name, r.off, r.n, r.stride}
	}
	return out
}

// PCI identity of the device (82576).
const (
	VendorID = 0x8086
	DeviceID = 0x10C9
)

// ReadHasSideEffects reports whether reading off changes the device
// (clear-on-read statistics, read-to-clear causes): a register dump skips
// such registers.
func ReadHasSideEffects(off uint32) bool {
	r, ok := lookupReg(off)
	if !ok {
		return false
	}
	return r.kind == kRC || r.kind == kRCH || off == ICR
}

// regSpace is the size of the register BAR.
const regSpace = 0x10000

// regIndex maps a dword index of the BAR to its row in regTable, or -1.
var regIndex = func() [regSpace / 4]int16 {
	var idx [regSpace / 4]int16
	for i := range idx {
		idx[i] = -1
	}
	for row, r := range regTable {
		for k := 0; k < r.n; k++ {
			idx[(r.off+uint32(k)*r.stride)/4] = int16(row)
		}
	}
	return idx
}()

// lookupReg returns the row for offset off, if implemented.
func lookupReg(off uint32) (*regDef, bool) {
	if off >= regSpace || off%4 != 0 {
		return nil, false
	}
	row := regIndex[off/4]
	if row < 0 {
		return nil, false
	}
	return &regTable[row], true
}
