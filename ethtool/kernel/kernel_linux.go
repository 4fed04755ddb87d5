//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"syscall"

	sethtool "github.com/safchain/ethtool"

	"vnic/ethtool"
)

// Backend opens the ethtool ioctl socket; close releases it.
func Backend() (ethtool.Backend, func(), error) {
	e, err := sethtool.NewEthtool()
	if err != nil {
		return nil, func() {}, fmt.Errorf("kernel backend: %w", err)
	}
	return backend{e}, e.Close, nil
}

type backend struct{ e *sethtool.Ethtool }

func (b backend) Device(name string) (ethtool.Device, error) {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil, ethtool.AttrErrorf("lookup", "dev", syscall.ENODEV, "no device matches name")
	}
	return &dev{e: b.e, name: name}, nil
}

type dev struct {
	e    *sethtool.Ethtool
	name string
}

// errno turns the library's errors into ethtool.Errors.
func errno(op string, err error) error {
	if err == nil {
		return nil
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return &ethtool.Error{Op: op, Errno: en}
	}
	return &ethtool.Error{Op: op, Errno: syscall.EINVAL, Msg: err.Error()}
}

// unsupported is an operation the library has no call for; like the
// kernel's own EOPNOTSUPP it carries no message.
func unsupported(op string) error {
	return &ethtool.Error{Op: op + " (not available through the kernel backend)", Errno: syscall.EOPNOTSUPP}
}

func (d *dev) Name() string { return d.name }

func (d *dev) DrvInfo() (ethtool.DrvInfo, error) {
	i, err := d.e.DriverInfo(d.name)
	if err != nil {
		return ethtool.DrvInfo{}, errno("drvinfo", err)
	}
	return ethtool.DrvInfo{Driver: i.Driver, Version: i.Version, FwVersion: i.FwVersion, BusInfo: i.BusInfo,
		EromVersion: i.EromVersion, NStats: i.NStats, TestInfoLen: i.TestInfoLen, EEDumpLen: i.EedumpLen,
		RegDumpLen: i.RegdumpLen, NPrivFlags: i.NPrivFlags}, nil
}

func (d *dev) LinkSettings() (ethtool.LinkSettings, error) {
	var c sethtool.EthtoolCmd
	if _, err := d.e.CmdGet(&c, d.name); err != nil {
		return ethtool.LinkSettings{}, errno("link settings", err)
	}
	speed := uint32(c.Speed) | uint32(c.Speed_hi)<<16
	if speed == 0xFFFF || speed == 0xFFFFFFFF {
		speed = ethtool.SpeedUnknown
	}
	return ethtool.LinkSettings{Speed: speed, Duplex: c.Duplex, Autoneg: c.Autoneg != 0, Port: c.Port,
		PHYAddr: c.Phy_address, Transceiver: c.Transceiver, MDIX: c.Eth_tp_mdix,
		Supported:        sethtool.SupportedLinkModes(uint64(c.Supported)),
		Advertising:      sethtool.SupportedLinkModes(uint64(c.Advertising)),
		PartnerAdv:       sethtool.SupportedLinkModes(uint64(c.Lp_advertising)),
		AutonegSupported: c.Supported&(1<<6) != 0, PauseSupported: c.Supported&(1<<13) != 0}, nil
}

func (d *dev) SetLinkSettings(ethtool.LinkRequest) error { return unsupported("set link settings") }

func (d *dev) Link() (bool, error) {
	v, err := d.e.LinkState(d.name)
	return v == 1, errno("link", err)
}

func (d *dev) PermAddr() ([]byte, error) {
	s, err := d.e.PermAddr(d.name)
	if err != nil {
		return nil, errno("permaddr", err)
	}
	if s == "" {
		return make([]byte, 6), nil
	}
	hw, err := net.ParseMAC(s)
	return hw, errno("permaddr", err)
}

func (d *dev) NwayReset() error { return unsupported("nway reset") }

func (d *dev) Msglevel() (uint32, error) {
	v, err := d.e.MsglvlGet(d.name)
	return v, errno("get msglevel", err)
}

func (d *dev) SetMsglevel(v uint32) error {
	if _, _, err := d.e.MsglvlSet(d.name, v); err != nil {
		return errno("set msglevel", err)
	}
	_, err := d.Msglevel()
	return err
}

func (d *dev) Features() (ethtool.FeatureList, error) {
	st, err := d.e.FeaturesWithState(d.name)
	if err != nil {
		return nil, errno("features", err)
	}
	idx, err := d.e.FeatureNames(d.name)
	if err != nil {
		return nil, errno("features", err)
	}
	n := 0
	for _, i := range idx {
		n = max(n, int(i)+1)
	}
	l := make(ethtool.FeatureList, n)
	for name, i := range idx {
		s := st[name]
		l[i] = ethtool.FeatureState{Name: name, Available: s.Available, Requested: s.Requested, Active: s.Active, NeverChanged: s.NeverChanged}
	}
	return l, nil
}

func (d *dev) SetFeatures(req ethtool.FeatureRequest) (ethtool.FeatureReply, error) {
	before, err := d.Features()
	if err != nil {
		return ethtool.FeatureReply{}, err
	}
	change := map[string]bool{}
	names := make([]string, len(before))
	for i, f := range before {
		names[i] = f.Name
		if req.Mask.Has(i) && f.Name != "" {
			change[f.Name] = req.Value.Has(i)
		}
	}
	if err := d.e.Change(d.name, change); err != nil {
		return ethtool.FeatureReply{}, errno("set features", err)
	}
	after, err := d.Features() // read back: the ioctl may ignore bits silently
	if err != nil {
		return ethtool.FeatureReply{}, err
	}
	return ethtool.NewFeatureReply(names, req, before.Active(), after.Active()), nil
}

func (d *dev) Ring() (ethtool.Ring, error) {
	r, err := d.e.GetRing(d.name)
	if err != nil {
		return ethtool.Ring{}, errno("get ring", err)
	}
	return ethtool.Ring{RxMax: r.RxMaxPending, RxMiniMax: r.RxMiniMaxPending, RxJumboMax: r.RxJumboMaxPending, TxMax: r.TxMaxPending,
		Rx: r.RxPending, RxMini: r.RxMiniPending, RxJumbo: r.RxJumboPending, Tx: r.TxPending}, nil
}

func apply(dst *uint32, o ethtool.Opt32) {
	if o.Set {
		*dst = o.V
	}
}

func (d *dev) SetRing(rx, rxMini, rxJumbo, tx ethtool.Opt32) error {
	r, err := d.e.GetRing(d.name)
	if err != nil {
		return errno("get ring", err)
	}
	// The kernel's netlink path names the offending value; the ioctl only
	// says EINVAL, so check the maxima here with the kernel's words.
	for _, c := range []struct {
		o    ethtool.Opt32
		max  uint32
		name string
	}{{rx, r.RxMaxPending, "rx"}, {rxMini, r.RxMiniMaxPending, "rx-mini"}, {rxJumbo, r.RxJumboMaxPending, "rx-jumbo"}, {tx, r.TxMaxPending, "tx"}} {
		if c.o.Set && c.o.V > c.max {
			return ethtool.AttrErrorf("set ringparam", c.name, syscall.EINVAL, "requested ring size exceeds maximum")
		}
	}
	apply(&r.RxPending, rx)
	apply(&r.RxMiniPending, rxMini)
	apply(&r.RxJumboPending, rxJumbo)
	apply(&r.TxPending, tx)
	if _, err := d.e.SetRing(d.name, r); err != nil {
		return errno("set ring", err)
	}
	_, err = d.Ring()
	return err
}

// coalesceFields maps the ioctl struct to the parameters it carries (no
// CQE modes).
func coalesceFields(c *sethtool.Coalesce) []*uint32 {
	return []*uint32{&c.RxCoalesceUsecs, &c.RxMaxCoalescedFrames, &c.RxCoalesceUsecsIrq, &c.RxMaxCoalescedFramesIrq,
		&c.TxCoalesceUsecs, &c.TxMaxCoalescedFrames, &c.TxCoalesceUsecsIrq, &c.TxMaxCoalescedFramesIrq,
		&c.StatsBlockCoalesceUsecs, &c.UseAdaptiveRxCoalesce, &c.UseAdaptiveTxCoalesce,
		&c.PktRateLow, &c.RxCoalesceUsecsLow, &c.RxMaxCoalescedFramesLow, &c.TxCoalesceUsecsLow, &c.TxMaxCoalescedFramesLow,
		&c.PktRateHigh, &c.RxCoalesceUsecsHigh, &c.RxMaxCoalescedFramesHigh, &c.TxCoalesceUsecsHigh, &c.TxMaxCoalescedFramesHigh,
		&c.RateSampleInterval}
}

// Coalesce reports every ioctl field as supported: the ioctl does not say
// which the driver has (netlink does).
func (d *dev) Coalesce() (ethtool.Coalesce, error) {
	c, err := d.e.GetCoalesce(d.name)
	if err != nil {
		return ethtool.Coalesce{}, errno("get coalesce", err)
	}
	var out ethtool.Coalesce
	for i, f := range coalesceFields(&c) {
		out.V[i] = *f
		out.Supported |= 1 << i
	}
	return out, nil
}

func (d *dev) SetCoalesce(req ethtool.Coalesce, mask uint32) error {
	c, err := d.e.GetCoalesce(d.name)
	if err != nil {
		return errno("get coalesce", err)
	}
	fields := coalesceFields(&c)
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		if mask&p.Bit() == 0 {
			continue
		}
		if int(p) >= len(fields) {
			return ethtool.AttrErrorf("set coalesce", p.String(), syscall.EOPNOTSUPP, "unsupported parameter")
		}
		*fields[p] = req.V[p]
	}
	if _, err := d.e.SetCoalesce(d.name, c); err != nil {
		return errno("set coalesce", err)
	}
	_, err = d.Coalesce()
	return err
}

func (d *dev) Channels() (ethtool.Channels, error) {
	c, err := d.e.GetChannels(d.name)
	if err != nil {
		return ethtool.Channels{}, errno("get channels", err)
	}
	return ethtool.Channels{MaxRx: c.MaxRx, MaxTx: c.MaxTx, MaxOther: c.MaxOther, MaxCombined: c.MaxCombined,
		Rx: c.RxCount, Tx: c.TxCount, Other: c.OtherCount, Combined: c.CombinedCount}, nil
}

func (d *dev) SetChannels(rx, tx, other, combined ethtool.Opt32) error {
	c, err := d.e.GetChannels(d.name)
	if err != nil {
		return errno("get channels", err)
	}
	for _, x := range []struct {
		o    ethtool.Opt32
		max  uint32
		name string
	}{{rx, c.MaxRx, "rx"}, {tx, c.MaxTx, "tx"}, {other, c.MaxOther, "other"}, {combined, c.MaxCombined, "combined"}} {
		if x.o.Set && x.o.V > x.max {
			return ethtool.AttrErrorf("set channels", x.name, syscall.EINVAL, "requested channel count exceeds maximum")
		}
	}
	apply(&c.RxCount, rx)
	apply(&c.TxCount, tx)
	apply(&c.OtherCount, other)
	apply(&c.CombinedCount, combined)
	if _, err := d.e.SetChannels(d.name, c); err != nil {
		return errno("set channels", err)
	}
	_, err = d.Channels()
	return err
}

func (d *dev) Pause() (ethtool.Pause, error) {
	p, err := d.e.GetPause(d.name)
	if err != nil {
		return ethtool.Pause{}, errno("get pause", err)
	}
	return ethtool.Pause{Autoneg: p.Autoneg != 0, Rx: p.RxPause != 0, Tx: p.TxPause != 0}, nil
}

func b32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func (d *dev) SetPause(autoneg, rx, tx ethtool.OptBool) error {
	p, err := d.e.GetPause(d.name)
	if err != nil {
		return errno("get pause", err)
	}
	if autoneg.Set {
		p.Autoneg = b32(autoneg.V)
	}
	if rx.Set {
		p.RxPause = b32(rx.V)
	}
	if tx.Set {
		p.TxPause = b32(tx.V)
	}
	if _, err := d.e.SetPause(d.name, p); err != nil {
		return errno("set pause", err)
	}
	_, err = d.Pause()
	return err
}

func (d *dev) Stats() ([]ethtool.Stat, error) {
	m, err := d.e.Stats(d.name)
	if err != nil {
		return nil, errno("stats", err)
	}
	out := make([]ethtool.Stat, 0, len(m))
	for k, v := range m {
		out = append(out, ethtool.Stat{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (d *dev) RSS() (ethtool.RSS, error) {
	ind, err := d.e.GetIndir(d.name)
	if err != nil {
		return ethtool.RSS{}, errno("get rxfh", err)
	}
	c, err := d.Channels()
	rings := uint32(0)
	if err == nil {
		rings = c.Combined + c.Rx
	}
	return ethtool.RSS{Indir: append([]uint32(nil), ind.RingIndex[:ind.Size]...), RxRings: rings}, nil
}

// SetRSS handles what the library's SetIndir can say: an "equal N" table.
func (d *dev) SetRSS(r ethtool.RSSRequest) error {
	if r.Key != nil || r.HFunc != 0 || r.DefaultIndir || r.Indir == nil {
		return unsupported("set rxfh")
	}
	n := uint32(0)
	for _, q := range r.Indir {
		n = max(n, q+1)
	}
	for i, q := range r.Indir {
		if q != uint32(i)%n {
			return unsupported("set rxfh (only equal spreading)")
		}
	}
	if _, err := d.e.SetIndir(d.name, sethtool.SetIndir{Equal: uint8(n)}); err != nil {
		return errno("set rxfh", err)
	}
	_, err := d.RSS()
	return err
}

func (d *dev) RxFlowHash(ethtool.FlowType) (uint64, error)  { return 0, unsupported("rx flow hash") }
func (d *dev) SetRxFlowHash(ethtool.FlowType, uint64) error { return unsupported("rx flow hash") }
func (d *dev) EEPROM(uint32, uint32) ([]byte, error)        { return nil, unsupported("eeprom") }
func (d *dev) SetEEPROM(uint32, uint32, []byte) error       { return unsupported("eeprom") }
func (d *dev) Regs() (ethtool.Regs, error)                  { return ethtool.Regs{}, unsupported("register dump") }
func (d *dev) SelfTest(bool) ([]ethtool.TestResult, error) {
	return nil, unsupported("self test")
}

// The library has no call for timestamping information, the ntuple
// table or the operations Ops lacks: EOPNOTSUPP.
func (d *dev) TSInfo() (ethtool.TSInfo, error) { return ethtool.TSInfo{}, unsupported("tsinfo") }
func (d *dev) RxRings() (uint32, error)        { return 0, unsupported("rx rings") }
func (d *dev) RxClsRules() (ethtool.RxClsRules, error) {
	return ethtool.RxClsRules{}, unsupported("rx class rules")
}
func (d *dev) InsertRxClsRule(ethtool.RxClsRule) (uint32, error) {
	return 0, unsupported("insert rx class rule")
}
func (d *dev) DeleteRxClsRule(uint32) error { return unsupported("delete rx class rule") }
func (d *dev) Ext(op ethtool.ExtOp) error   { return unsupported(op.String()) }
