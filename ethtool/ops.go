package ethtool

import "syscall"

// The value types mirror the kernel's ethtool structures field for field
// (struct ethtool_drvinfo, ethtool_ringparam, ethtool_coalesce,
// ethtool_channels). They are vnic's own rather than
// github.com/safchain/ethtool's: that package's types are Linux-only and
// carry ioctl layout details; the kernel backend converts between the two.

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
}

// Ring is ETHTOOL_GRINGPARAM/SRINGPARAM: maxima and current sizes.
type Ring struct {
	RxMax, RxMiniMax, RxJumboMax, TxMax uint32
	Rx, RxMini, RxJumbo, Tx             uint32
}

// Coalesce is ETHTOOL_GCOALESCE/SCOALESCE (the parameters vnic models;
// Supported says which a device implements, by CoalesceX bits).
type Coalesce struct {
	RxUsecs, RxMaxFrames, TxUsecs, TxMaxFrames uint32
	UseAdaptiveRx, UseAdaptiveTx               bool
	Supported                                  uint32
}

// Coalesce parameter bits (ETHTOOL_COALESCE_*).
const (
	CoalesceRxUsecs     = 1 << 0
	CoalesceRxMaxFrames = 1 << 1
	CoalesceTxUsecs     = 1 << 4
	CoalesceTxMaxFrames = 1 << 5
	CoalesceUseAdaptRx  = 1 << 20
	CoalesceUseAdaptTx  = 1 << 21
)

// Channels is ETHTOOL_GCHANNELS/SCHANNELS.
type Channels struct {
	MaxRx, MaxTx, MaxOther, MaxCombined uint32
	Rx, Tx, Other, Combined             uint32
}

// Ops is what a driver implements: the ethtool_ops subset vnic supports so
// far. A Set is validated by the core (ranges, what Supported allows) before
// the driver sees it, and changes nothing when it fails.
type Ops interface {
	DrvInfo() DrvInfo
	GetRingParam() Ring
	SetRingParam(r Ring) error
	GetCoalesce() Coalesce
	SetCoalesce(c Coalesce) error
	GetChannels() Channels
	GetLink() bool
}

// SetRing is the core of ethtool -G: it validates the request against the
// device's maxima (and the driver's own rules, returned as EINVAL) before
// calling the driver. Values of 0 mean "unchanged".
func SetRing(ops Ops, req Ring) error {
	cur := ops.GetRingParam()
	next := cur
	if req.Rx != 0 {
		next.Rx = req.Rx
	}
	if req.Tx != 0 {
		next.Tx = req.Tx
	}
	if req.RxMini != 0 || req.RxJumbo != 0 {
		return Errorf("set ringparam", syscall.EINVAL, "rx-mini and rx-jumbo rings are not supported")
	}
	if next.Rx > cur.RxMax || next.Tx > cur.TxMax {
		return Errorf("set ringparam", syscall.EINVAL, "requested ring size exceeds maximum (rx %d, tx %d)", cur.RxMax, cur.TxMax)
	}
	if next == cur {
		return nil
	}
	return ops.SetRingParam(next)
}

// SetCoalesce is the core of ethtool -C: every parameter that differs from
// the current value must be one the device supports (EOPNOTSUPP
// otherwise, as the kernel's ethtool_set_coalesce_supported check).
func SetCoalesce(ops Ops, req Coalesce) error {
	cur := ops.GetCoalesce()
	changed := uint32(0)
	if req.RxUsecs != cur.RxUsecs {
		changed |= CoalesceRxUsecs
	}
	if req.RxMaxFrames != cur.RxMaxFrames {
		changed |= CoalesceRxMaxFrames
	}
	if req.TxUsecs != cur.TxUsecs {
		changed |= CoalesceTxUsecs
	}
	if req.TxMaxFrames != cur.TxMaxFrames {
		changed |= CoalesceTxMaxFrames
	}
	if req.UseAdaptiveRx != cur.UseAdaptiveRx {
		changed |= CoalesceUseAdaptRx
	}
	if req.UseAdaptiveTx != cur.UseAdaptiveTx {
		changed |= CoalesceUseAdaptTx
	}
	if bad := changed &^ cur.Supported; bad != 0 {
		return Errorf("set coalesce", syscall.EOPNOTSUPP, "unsupported coalescing parameters %#x", bad)
	}
	if changed == 0 {
		return nil
	}
	req.Supported = cur.Supported
	return ops.SetCoalesce(req)
}
