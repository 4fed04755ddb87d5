package ethtool

import (
	"errors"
	"fmt"
	"syscall"
)

// Device is one interface as the ethtool CLI and the conformance suite see
// it, whatever drives it: vnic's in-process device (NewLocal), the control
// socket's netlink client, or a Linux interface through the kernel backend.
// Gets can fail (EOPNOTSUPP for what the device lacks); sets take only the
// fields the user named, as netlink requests do.
type Device interface {
	Name() string
	DrvInfo() (DrvInfo, error)
	LinkSettings() (LinkSettings, error)
	SetLinkSettings(LinkRequest) error
	Link() (bool, error)
	PermAddr() ([]byte, error)
	NwayReset() error
	Msglevel() (uint32, error)
	SetMsglevel(uint32) error

	Features() (FeatureList, error)
	SetFeatures(FeatureRequest) (FeatureReply, error)
	Ring() (Ring, error)
	SetRing(rx, rxMini, rxJumbo, tx Opt32) error
	Coalesce() (Coalesce, error)
	SetCoalesce(c Coalesce, mask uint32) error
	Channels() (Channels, error)
	SetChannels(rx, tx, other, combined Opt32) error
	Pause() (Pause, error)
	SetPause(autoneg, rx, tx OptBool) error

	Stats() ([]Stat, error)
	RSS() (RSS, error)
	SetRSS(RSSRequest) error
	RxFlowHash(FlowType) (uint64, error)
	SetRxFlowHash(FlowType, uint64) error
	EEPROM(off, n uint32) ([]byte, error)
	SetEEPROM(magic, off uint32, data []byte) error
	Regs() (Regs, error)
	SelfTest(offline bool) ([]TestResult, error)

	// TSInfo is ethtool -T (ETHTOOL_GET_TSINFO).
	TSInfo() (TSInfo, error)
	// RxRings, RxClsRules, InsertRxClsRule and DeleteRxClsRule are the
	// ntuple filter table (ETHTOOL_GRXRINGS, GRXCLSRLCNT/GRXCLSRLALL,
	// SRXCLSRLINS, SRXCLSRLDEL): EOPNOTSUPP from a driver without
	// RxClsOps.
	RxRings() (uint32, error)
	RxClsRules() (RxClsRules, error)
	InsertRxClsRule(RxClsRule) (uint32, error)
	DeleteRxClsRule(loc uint32) error
	// Ext runs one of the operations Ops has no method for; the command
	// core answers EOPNOTSUPP (ExtError).
	Ext(op ExtOp) error
}

// Backend resolves interface names to devices (ENODEV for none).
type Backend interface {
	Device(name string) (Device, error)
}

// FeatureOwner is the core's side of features: the stack's net_device.
type FeatureOwner interface {
	HWFeatures() Features
	WantedFeatures() Features
	Features() Features
	SetWantedFeatures(mask, on Features) (unsupported Features, err error)
}

// NtfKind is what a successful set changed, and so which notification it
// raises (ETHTOOL_MSG_*_NTF); NtfLink is vnic's link-state notification.
type NtfKind uint8

// Notification kinds.
const (
	NtfLinkModes NtfKind = iota + 1
	NtfDebug
	NtfFeatures
	NtfRings
	NtfChannels
	NtfCoalesce
	NtfPause
	NtfRSS
	NtfRxFH
	NtfEEPROM
	NtfLink
)

var ntfNames = [...]string{NtfLinkModes: "linkmodes", NtfDebug: "debug", NtfFeatures: "features", NtfRings: "rings",
	NtfChannels: "channels", NtfCoalesce: "coalesce", NtfPause: "pause", NtfRSS: "rss", NtfRxFH: "rxfh", NtfEEPROM: "eeprom", NtfLink: "link"}

// String names the kind as ethtool's netlink does ("rings", "features", …).
func (k NtfKind) String() string {
	if k != 0 && int(k) < len(ntfNames) {
		return ntfNames[k]
	}
	return fmt.Sprintf("NtfKind(%d)", uint8(k))
}

// local is a Device over a driver's Ops and the stack's features: the
// kernel's ethtool core, in process.
type local struct {
	name  string
	ops   Ops
	feats FeatureOwner
	// changed, if set, is told about every successful set (the control
	// socket's notifications).
	changed func(what NtfKind)
}

// NewLocal returns the Device of an in-process interface. changed (may be
// nil) is called after every successful set with what changed
// (NtfFeatures, NtfRings, ...).
func NewLocal(name string, ops Ops, feats FeatureOwner, changed func(what NtfKind)) Device {
	return &local{name: name, ops: ops, feats: feats, changed: changed}
}

func (l *local) notify(what NtfKind, err error) error {
	if err == nil && l.changed != nil {
		l.changed(what)
	}
	return err
}

func (l *local) Name() string                        { return l.name }
func (l *local) DrvInfo() (DrvInfo, error)           { return l.ops.DrvInfo(), nil }
func (l *local) LinkSettings() (LinkSettings, error) { return l.ops.GetLinkKsettings() }
func (l *local) SetLinkSettings(r LinkRequest) error {
	return l.notify(NtfLinkModes, l.ops.SetLinkKsettings(r))
}
func (l *local) Link() (bool, error) { return l.ops.GetLink(), nil }
func (l *local) PermAddr() ([]byte, error) {
	a := l.ops.PermAddr()
	return a[:], nil
}
func (l *local) NwayReset() error { return l.ops.NwayReset() }

func (l *local) Msglevel() (uint32, error) { return l.ops.GetMsglevel(), nil }
func (l *local) SetMsglevel(v uint32) error {
	l.ops.SetMsglevel(v)
	return l.notify(NtfDebug, nil)
}

func (l *local) Features() (FeatureList, error) {
	return ListOf(l.feats.HWFeatures(), l.feats.WantedFeatures(), l.feats.Features()), nil
}

// SetFeatures is ethnl_set_features: never-change bits are EINVAL; bits
// the device cannot change are ignored; the reply carries the differences.
func (l *local) SetFeatures(req FeatureRequest) (FeatureReply, error) {
	names := KernelFeatureNames[:]
	for i := range names {
		if req.Mask.Has(i) && NeverChange.Has(i) {
			return FeatureReply{}, Errorf("set features", syscall.EINVAL, "attempt to change non-ethtool features")
		}
	}
	before := ListOf(l.feats.HWFeatures(), l.feats.WantedFeatures(), l.feats.Features()).Active()
	mask, _ := FromKernelBitmap(req.Mask)
	on, _ := FromKernelBitmap(req.Value)
	if _, err := l.feats.SetWantedFeatures(mask, on&mask); err != nil && !errors.Is(err, syscall.EOPNOTSUPP) {
		return FeatureReply{}, err
	}
	after := KernelBitmap(l.feats.Features())
	r := NewFeatureReply(names, req, before, after)
	if !r.ActiveMask.IsZero() && l.changed != nil {
		l.changed(NtfFeatures)
	}
	return r, nil
}

func (l *local) Ring() (Ring, error) { return l.ops.GetRingParam(), nil }
func (l *local) SetRing(rx, rxMini, rxJumbo, tx Opt32) error {
	return l.notify(NtfRings, SetRing(l.ops, rx, rxMini, rxJumbo, tx))
}
func (l *local) Coalesce() (Coalesce, error) { return l.ops.GetCoalesce(), nil }
func (l *local) SetCoalesce(c Coalesce, mask uint32) error {
	return l.notify(NtfCoalesce, SetCoalesce(l.ops, c, mask))
}
func (l *local) Channels() (Channels, error) { return l.ops.GetChannels(), nil }
func (l *local) SetChannels(rx, tx, other, combined Opt32) error {
	return l.notify(NtfChannels, SetChannels(l.ops, rx, tx, other, combined))
}
func (l *local) Pause() (Pause, error) { return l.ops.GetPauseParam() }
func (l *local) SetPause(autoneg, rx, tx OptBool) error {
	cur, err := l.ops.GetPauseParam()
	if err != nil {
		return err
	}
	if autoneg.Set {
		cur.Autoneg = autoneg.V
	}
	if rx.Set {
		cur.Rx = rx.V
	}
	if tx.Set {
		cur.Tx = tx.V
	}
	return l.notify(NtfPause, l.ops.SetPauseParam(cur))
}
func (l *local) Stats() ([]Stat, error) { return l.ops.GetStats(), nil }
func (l *local) RSS() (RSS, error)      { return l.ops.GetRxfh() }
func (l *local) SetRSS(r RSSRequest) error {
	return l.notify(NtfRSS, SetRxfh(l.ops, r))
}
func (l *local) RxFlowHash(ft FlowType) (uint64, error) { return l.ops.GetRxFlowHash(ft) }
func (l *local) SetRxFlowHash(ft FlowType, f uint64) error {
	return l.notify(NtfRxFH, l.ops.SetRxFlowHash(ft, f))
}
func (l *local) EEPROM(off, n uint32) ([]byte, error) { return GetEEPROM(l.ops, off, n) }
func (l *local) SetEEPROM(magic, off uint32, data []byte) error {
	return l.notify(NtfEEPROM, SetEEPROM(l.ops, magic, off, data))
}
func (l *local) Regs() (Regs, error)                         { return l.ops.GetRegs() }
func (l *local) SelfTest(offline bool) ([]TestResult, error) { return l.ops.SelfTest(offline) }

// TSInfo is the driver's get_ts_info, or the software capabilities the
// kernel reports for a driver without one.
func (l *local) TSInfo() (TSInfo, error) {
	if t, ok := l.ops.(TSInfoOps); ok {
		return t.GetTSInfo(), nil
	}
	return SoftwareTSInfo, nil
}

func (l *local) rxcls(op string) (RxClsOps, error) {
	if c, ok := l.ops.(RxClsOps); ok {
		return c, nil
	}
	return nil, Errorf(op, syscall.EOPNOTSUPP, "")
}

func (l *local) RxRings() (uint32, error) {
	c, err := l.rxcls("get rx rings")
	if err != nil {
		return 0, err
	}
	return c.GetRxRings()
}

func (l *local) RxClsRules() (RxClsRules, error) {
	c, err := l.rxcls("get rx class rules")
	if err != nil {
		return RxClsRules{}, err
	}
	return c.GetRxClsRules()
}

// InsertRxClsRule is the core of ETHTOOL_SRXCLSRLINS: a rule that selects
// an RSS context is EINVAL (vnic's devices have none, the kernel's answer
// for a driver without rxfh contexts), and a queue action must name one of
// the device's RX rings (EINVAL), as ethtool_set_rxnfc checks before the
// driver sees the rule.
func (l *local) InsertRxClsRule(r RxClsRule) (uint32, error) {
	c, err := l.rxcls("insert rx class rule")
	if err != nil {
		return 0, err
	}
	if r.FlowType&FlowRSS != 0 {
		return 0, Errorf("insert rx class rule", syscall.EINVAL, "")
	}
	if r.RingCookie != RxClsFlowDisc && r.RingCookie != RxClsFlowWake {
		rings, err := c.GetRxRings()
		if err != nil {
			return 0, err
		}
		if r.RingCookie>>32 != 0 || uint32(r.RingCookie) >= rings {
			return 0, Errorf("insert rx class rule", syscall.EINVAL, "")
		}
	}
	return c.InsertRxClsRule(r)
}

func (l *local) DeleteRxClsRule(loc uint32) error {
	c, err := l.rxcls("delete rx class rule")
	if err != nil {
		return err
	}
	return c.DeleteRxClsRule(loc)
}

// Ext answers every operation Ops has no member for: EOPNOTSUPP.
func (l *local) Ext(op ExtOp) error { return ExtError(op) }
