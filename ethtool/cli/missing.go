package cli

import "vnic/ethtool"

// missing is a device the backend could not find: every operation fails
// with the lookup's error, so each mode reports it as ethtool reports the
// kernel's ENODEV for its first request.
type missing struct {
	name string
	err  error
}

var _ ethtool.Device = missing{}

func (m missing) Name() string                                 { return m.name }
func (m missing) DrvInfo() (ethtool.DrvInfo, error)            { return ethtool.DrvInfo{}, m.err }
func (m missing) LinkSettings() (ethtool.LinkSettings, error)  { return ethtool.LinkSettings{}, m.err }
func (m missing) SetLinkSettings(ethtool.LinkRequest) error    { return m.err }
func (m missing) Link() (bool, error)                          { return false, m.err }
func (m missing) PermAddr() ([]byte, error)                    { return nil, m.err }
func (m missing) NwayReset() error                             { return m.err }
func (m missing) Msglevel() (uint32, error)                    { return 0, m.err }
func (m missing) SetMsglevel(uint32) error                     { return m.err }
func (m missing) Features() (ethtool.FeatureList, error)       { return nil, m.err }
func (m missing) Ring() (ethtool.Ring, error)                  { return ethtool.Ring{}, m.err }
func (m missing) Coalesce() (ethtool.Coalesce, error)          { return ethtool.Coalesce{}, m.err }
func (m missing) SetCoalesce(ethtool.Coalesce, uint32) error   { return m.err }
func (m missing) Channels() (ethtool.Channels, error)          { return ethtool.Channels{}, m.err }
func (m missing) Pause() (ethtool.Pause, error)                { return ethtool.Pause{}, m.err }
func (m missing) SetPause(_, _, _ ethtool.OptBool) error       { return m.err }
func (m missing) Stats() ([]ethtool.Stat, error)               { return nil, m.err }
func (m missing) RSS() (ethtool.RSS, error)                    { return ethtool.RSS{}, m.err }
func (m missing) SetRSS(ethtool.RSSRequest) error              { return m.err }
func (m missing) RxFlowHash(ethtool.FlowType) (uint64, error)  { return 0, m.err }
func (m missing) SetRxFlowHash(ethtool.FlowType, uint64) error { return m.err }
func (m missing) EEPROM(uint32, uint32) ([]byte, error)        { return nil, m.err }
func (m missing) SetEEPROM(uint32, uint32, []byte) error       { return m.err }
func (m missing) Regs() (ethtool.Regs, error)                  { return ethtool.Regs{}, m.err }
func (m missing) SelfTest(bool) ([]ethtool.TestResult, error)  { return nil, m.err }
func (m missing) TSInfo() (ethtool.TSInfo, error)              { return ethtool.TSInfo{}, m.err }
func (m missing) RxRings() (uint32, error)                     { return 0, m.err }
func (m missing) RxClsRules() (ethtool.RxClsRules, error)      { return ethtool.RxClsRules{}, m.err }
func (m missing) InsertRxClsRule(ethtool.RxClsRule) (uint32, error) {
	return 0, m.err
}
func (m missing) DeleteRxClsRule(uint32) error { return m.err }
func (m missing) Ext(ethtool.ExtOp) error      { return m.err }
func (m missing) SetFeatures(ethtool.FeatureRequest) (ethtool.FeatureReply, error) {
	return ethtool.FeatureReply{}, m.err
}
func (m missing) SetRing(_, _, _, _ ethtool.Opt32) error     { return m.err }
func (m missing) SetChannels(_, _, _, _ ethtool.Opt32) error { return m.err }
