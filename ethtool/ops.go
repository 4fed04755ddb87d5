package ethtool

import (
	"fmt"
	"syscall"
)

// The value types mirror the kernel's ethtool structures (struct
// ethtool_drvinfo, ethtool_ringparam, ethtool_coalesce, ethtool_channels,
// ethtool_pauseparam, the rxfh and link-ksettings calls). They are vnic's
// own rather than github.com/safchain/ethtool's: that package's types are
// Linux-only ioctl layouts; the kernel backend converts (doc.go).

// DrvInfo is ETHTOOL_GDRVINFO.
type DrvInfo struct {
	Driver      string
	Version     string
	FwVersion   string
	BusInfo     string
	EromVersion string
	NStats      uint32
	TestInfoLen uint32
	EEDumpLen   uint32
	RegDumpLen  uint32
	NPrivFlags  uint32
}

// Ring is ETHTOOL_GRINGPARAM/SRINGPARAM: maxima and current sizes.
type Ring struct {
	RxMax, RxMiniMax, RxJumboMax, TxMax uint32
	Rx, RxMini, RxJumbo, Tx             uint32
}

// CoalesceParam numbers the interrupt coalescing parameters as the kernel
// does (the bit of ETHTOOL_COALESCE_* in supported_coalesce_params).
type CoalesceParam int

// Coalescing parameters.
const (
	RxUsecs CoalesceParam = iota
	RxFrames
	RxUsecsIRQ
	RxFramesIRQ
	TxUsecs
	TxFrames
	TxUsecsIRQ
	TxFramesIRQ
	StatsBlockUsecs
	AdaptiveRx
	AdaptiveTx
	PktRateLow
	RxUsecsLow
	RxFramesLow
	TxUsecsLow
	TxFramesLow
	PktRateHigh
	RxUsecsHigh
	RxFramesHigh
	TxUsecsHigh
	TxFramesHigh
	SampleInterval
	CQEModeRx
	CQEModeTx
	NumCoalesceParams
)

// coalesceNames are the ethtool -C keywords in parameter order.
var coalesceNames = [NumCoalesceParams]string{
	"rx-usecs", "rx-frames", "rx-usecs-irq", "rx-frames-irq",
	"tx-usecs", "tx-frames", "tx-usecs-irq", "tx-frames-irq",
	"stats-block-usecs", "adaptive-rx", "adaptive-tx",
	"pkt-rate-low", "rx-usecs-low", "rx-frames-low", "tx-usecs-low", "tx-frames-low",
	"pkt-rate-high", "rx-usecs-high", "rx-frames-high", "tx-usecs-high", "tx-frames-high",
	"sample-interval", "cqe-mode-rx", "cqe-mode-tx",
}

// String returns the parameter's ethtool -C keyword.
func (p CoalesceParam) String() string { return coalesceNames[p] }

// Bool reports whether the parameter is on/off rather than a number.
func (p CoalesceParam) Bool() bool {
	return p == AdaptiveRx || p == AdaptiveTx || p == CQEModeRx || p == CQEModeTx
}

// Bit is the parameter's ETHTOOL_COALESCE_* bit.
func (p CoalesceParam) Bit() uint32 { return 1 << p }

// CoalesceParamByName returns the parameter with ethtool -C keyword n.
func CoalesceParamByName(n string) (CoalesceParam, bool) {
	for i, s := range coalesceNames {
		if s == n {
			return CoalesceParam(i), true
		}
	}
	return 0, false
}

// Coalesce is ETHTOOL_GCOALESCE/SCOALESCE: every parameter's value (bools
// as 0/1) and, by ETHTOOL_COALESCE_* bits, which the device supports.
type Coalesce struct {
	V         [NumCoalesceParams]uint32
	Supported uint32
}

// Has reports whether the device supports p.
func (c Coalesce) Has(p CoalesceParam) bool { return c.Supported&p.Bit() != 0 }

// Channels is ETHTOOL_GCHANNELS/SCHANNELS.
type Channels struct {
	MaxRx, MaxTx, MaxOther, MaxCombined uint32
	Rx, Tx, Other, Combined             uint32
}

// Pause is ETHTOOL_GPAUSEPARAM/SPAUSEPARAM with the pause frame counters
// (ETHTOOL_A_PAUSE_STATS).
type Pause struct {
	Autoneg, Rx, Tx              bool
	TxPauseFrames, RxPauseFrames uint64
}

// Link-settings constants (ethtool.h).
const (
	SpeedUnknown  = 0xFFFFFFFF
	DuplexHalf    = 0
	DuplexFull    = 1
	DuplexUnknown = 0xFF
	PortTP        = 0x00
	PortOther     = 0xFF
	XcvrInternal  = 0
	MDIXUnknown   = 0
	MDIX          = 2
	MDI           = 1
)

// LinkSettings is ETHTOOL_GLINKSETTINGS (ethtool_link_ksettings) reduced
// to what vnic models; link modes are by ethtool name
// ("1000baseT/Full").
type LinkSettings struct {
	Speed       uint32 // Mb/s, SpeedUnknown without link
	Duplex      uint8
	Autoneg     bool
	Port        uint8
	PHYAddr     uint8
	Transceiver uint8
	MDIX        uint8
	Supported   []string // link modes
	Advertising []string
	PartnerAdv  []string
	Ports       []string // "TP", ...
	// AutonegSupported and PauseSupported are the Autoneg and Pause
	// bits of the supported mask.
	AutonegSupported bool
	PauseSupported   bool
}

// LinkRequest is ethtool -s: the fields with Set are changed.
type LinkRequest struct {
	Speed   Opt32
	Duplex  Opt32
	Autoneg OptBool
}

// MsglevelNames are the netif_msg bits in order (NETIF_MSG_DRV = bit 0),
// as ethtool names them.
var MsglevelNames = []string{"drv", "probe", "link", "timer", "ifdown", "ifup", "rx_err", "tx_err",
	"tx_queued", "intr", "tx_done", "rx_status", "pktdata", "hw", "wol"}

// Opt32 is an optional u32 in a set request: netlink sends only the
// attributes the user named.
type Opt32 struct {
	V   uint32
	Set bool
}

// OptBool is an optional on/off in a set request.
type OptBool struct {
	V   bool
	Set bool
}

// Some32 returns a set Opt32.
func Some32(v uint32) Opt32 { return Opt32{v, true} }

// SomeBool returns a set OptBool.
func SomeBool(v bool) OptBool { return OptBool{v, true} }

// RSS hash functions (ETH_RSS_HASH_*, one bit each).
const (
	HashToeplitz = 1 << 0
	HashXOR      = 1 << 1
	HashCRC32    = 1 << 2
)

// HashFuncNames are the hash functions in bit order, as ethtool names them.
var HashFuncNames = []string{"toeplitz", "xor", "crc32"}

// RSS is ETHTOOL_GRSSH: hash key, indirection table and hash function.
type RSS struct {
	Key   []byte
	Indir []uint32
	HFunc uint32 // one HashX bit
	// RxRings is the number of RX rings the table may point at.
	RxRings uint32
	// UserSet says the table was set by the user (IFF_RXFH_CONFIGURED):
	// channel changes must keep it valid instead of replacing it.
	UserSet bool
}

// RSSRequest is ethtool -X: a nil Key or Indir leaves it unchanged,
// DefaultIndir restores the default table, HFunc 0 keeps the function.
type RSSRequest struct {
	Key          []byte
	Indir        []uint32
	DefaultIndir bool
	HFunc        uint32
}

// DefaultIndir is ethtool_rxfh_indir_default: entry i is i mod rings.
func DefaultIndir(size, rings uint32) []uint32 {
	t := make([]uint32, size)
	for i := range t {
		t[i] = uint32(i) % rings
	}
	return t
}

// Stat is one ethtool -S counter.
type Stat struct {
	Name  string
	Value uint64
}

// Regs is ETHTOOL_GREGS: a driver-defined dump and its layout version.
type Regs struct {
	Version uint32
	Data    []byte
}

// TestResult is one self-test line: its name (ETH_SS_TEST string) and
// result (0 pass).
type TestResult struct {
	Name  string
	Value uint64
}

// Flow types for rx-flow-hash (ethtool.h *_FLOW).
type FlowType uint32

// Flow types vnic's device hashes.
const (
	TCPv4Flow FlowType = 0x01
	UDPv4Flow FlowType = 0x02
	IPv4Flow  FlowType = 0x10
)

// Hash field bits (RXH_*).
const (
	RxhL2DA    = 1 << 1
	RxhVLAN    = 1 << 2
	RxhL3Proto = 1 << 3
	RxhIPSrc   = 1 << 4
	RxhIPDst   = 1 << 5
	RxhL4B01   = 1 << 6 // source port
	RxhL4B23   = 1 << 7 // destination port
	RxhDiscard = 1 << 31
)

// Ops is what a driver implements (ethtool_ops). A driver without an
// operation returns EOPNOTSUPP from it, as a NULL op in the kernel. A Set is
// validated by the command core (SetRing, SetCoalesce, ...) before the
// driver sees it, and changes nothing when it fails.
type Ops interface {
	DrvInfo() DrvInfo
	GetLinkKsettings() (LinkSettings, error)
	SetLinkKsettings(LinkRequest) error
	GetLink() bool
	NwayReset() error
	PermAddr() [6]byte
	GetMsglevel() uint32
	SetMsglevel(uint32)

	GetRingParam() Ring
	SetRingParam(Ring) error
	GetCoalesce() Coalesce
	SetCoalesce(Coalesce) error
	GetChannels() Channels
	SetChannels(Channels) error
	GetPauseParam() (Pause, error)
	SetPauseParam(Pause) error

	GetStats() []Stat
	GetEEPROMLen() int
	GetEEPROM(off, n uint32) ([]byte, error)
	SetEEPROM(magic, off uint32, data []byte) error
	GetRegs() (Regs, error)
	SelfTest(offline bool) ([]TestResult, error)

	GetRxfh() (RSS, error)
	SetRxfh(RSS) error
	GetRxFlowHash(FlowType) (uint64, error)
	SetRxFlowHash(FlowType, uint64) error
}

// SetRing is the core of ethtool -G: unset values stay; the request is
// checked against the device's maxima (the driver adds its own rules)
// before the driver is called.
func SetRing(ops Ops, rx, rxMini, rxJumbo, tx Opt32) error {
	cur := ops.GetRingParam()
	next := cur
	if err := applyLimited("set ringparam", "requested ring size exceeds maximum", []limited{
		{rx, &next.Rx, cur.RxMax}, {rxMini, &next.RxMini, cur.RxMiniMax},
		{rxJumbo, &next.RxJumbo, cur.RxJumboMax}, {tx, &next.Tx, cur.TxMax},
	}, "rx", "rx-mini", "rx-jumbo", "tx"); err != nil {
		return err
	}
	if next == cur {
		return nil
	}
	return ops.SetRingParam(next)
}

// limited is one requested field and the maximum it may take.
type limited struct {
	o   Opt32
	dst *uint32
	max uint32
}

// applyLimited copies the set fields into place, refusing (EINVAL, naming
// the field) any above its maximum; names are the fields' CLI keywords.
func applyLimited(op, msg string, fields []limited, names ...string) error {
	for i, f := range fields {
		if !f.o.Set {
			continue
		}
		if f.o.V > f.max {
			return AttrErrorf(op, names[i], syscall.EINVAL, "%s", msg)
		}
		*f.dst = f.o.V
	}
	return nil
}

// SetCoalesce is the core of ethtool -C: every parameter named must be one
// the device supports (EOPNOTSUPP, as ethnl_set_coalesce_validate), bools
// must be 0 or 1; then the driver gets the whole merged set.
func SetCoalesce(ops Ops, req Coalesce, mask uint32) error {
	cur := ops.GetCoalesce()
	if bad := mask &^ cur.Supported; bad != 0 {
		var p CoalesceParam
		for bad&p.Bit() == 0 {
			p++
		}
		return AttrErrorf("set coalesce", p.String(), syscall.EOPNOTSUPP, "unsupported parameter")
	}
	next := cur
	for p := CoalesceParam(0); p < NumCoalesceParams; p++ {
		if mask&p.Bit() == 0 {
			continue
		}
		if p.Bool() && req.V[p] > 1 {
			return Errorf("set coalesce", syscall.EINVAL, "%s: want on or off", p)
		}
		next.V[p] = req.V[p]
	}
	if next == cur {
		return nil
	}
	return ops.SetCoalesce(next)
}

// SetChannels is the core of ethtool -L: within the maxima, at least one
// RX and one TX channel, and no user-set RSS table entry left pointing past
// the new RX count (ethnl_set_channels' checks).
func SetChannels(ops Ops, rx, tx, other, combined Opt32) error {
	cur := ops.GetChannels()
	next := cur
	if err := applyLimited("set channels", "requested channel count exceeds maximum", []limited{
		{rx, &next.Rx, cur.MaxRx}, {tx, &next.Tx, cur.MaxTx},
		{other, &next.Other, cur.MaxOther}, {combined, &next.Combined, cur.MaxCombined},
	}, "rx", "tx", "other", "combined"); err != nil {
		return err
	}
	if next.Combined+next.Rx == 0 || next.Combined+next.Tx == 0 {
		return Errorf("set channels", syscall.EINVAL, "requested channel counts are too low")
	}
	if next == cur {
		return nil
	}
	if rss, err := ops.GetRxfh(); err == nil && rss.UserSet {
		rxCount := next.Combined + next.Rx
		for _, q := range rss.Indir {
			if q >= rxCount {
				return Errorf("set channels", syscall.EINVAL, "requested channel counts are too low for existing indirection table settings")
			}
		}
	}
	return ops.SetChannels(next)
}

// SetRxfh is the core of ethtool -X: the key must have the device's key
// size, table entries must point at existing RX rings, and the hash
// function must be one the device has.
func SetRxfh(ops Ops, req RSSRequest) error {
	cur, err := ops.GetRxfh()
	if err != nil {
		return err
	}
	next := cur
	if req.Key != nil {
		if len(req.Key) != len(cur.Key) {
			return Errorf("set rxfh", syscall.EINVAL, "hash key of %d bytes, the device takes %d", len(req.Key), len(cur.Key))
		}
		next.Key = req.Key
	}
	switch {
	case req.DefaultIndir:
		next.Indir = nil // the driver restores its default
	case req.Indir != nil:
		if len(req.Indir) != len(cur.Indir) {
			return Errorf("set rxfh", syscall.EINVAL, "indirection table of %d entries, the device has %d", len(req.Indir), len(cur.Indir))
		}
		for _, q := range req.Indir {
			if q >= cur.RxRings {
				return Errorf("set rxfh", syscall.EINVAL, "indirection table entry %d: no RX ring %d (%d rings)", q, q, cur.RxRings)
			}
		}
		next.Indir = req.Indir
	}
	if req.HFunc != 0 {
		if req.HFunc&^HashToeplitz != 0 || req.HFunc&(req.HFunc-1) != 0 {
			return Errorf("set rxfh", syscall.EOPNOTSUPP, "hash function %#x not supported", req.HFunc)
		}
		next.HFunc = req.HFunc
	}
	return ops.SetRxfh(next)
}

// SetEEPROM is the core of ethtool -E: the range must lie inside the
// EEPROM (EINVAL), the magic is the driver's to check.
func SetEEPROM(ops Ops, magic, off uint32, data []byte) error {
	n := ops.GetEEPROMLen()
	if n == 0 {
		return Errorf("set eeprom", syscall.EOPNOTSUPP, "no EEPROM access")
	}
	if len(data) == 0 || uint64(off)+uint64(len(data)) > uint64(n) {
		return Errorf("set eeprom", syscall.EINVAL, "offset %d length %d outside the %d-byte EEPROM", off, len(data), n)
	}
	return ops.SetEEPROM(magic, off, data)
}

// GetEEPROM is the core of ethtool -e.
func GetEEPROM(ops Ops, off, n uint32) ([]byte, error) {
	size := ops.GetEEPROMLen()
	if size == 0 {
		return nil, Errorf("get eeprom", syscall.EOPNOTSUPP, "no EEPROM access")
	}
	if uint64(off)+uint64(n) > uint64(size) {
		return nil, Errorf("get eeprom", syscall.EINVAL, "offset %d length %d outside the %d-byte EEPROM", off, n, size)
	}
	return ops.GetEEPROM(off, n)
}

// String renders a request field for messages.
func (o Opt32) String() string {
	if !o.Set {
		return "-"
	}
	return fmt.Sprint(o.V)
}
