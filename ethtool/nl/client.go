package nl

import (
	"encoding/binary"
	"syscall"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
)

// Transport carries one request to the server and returns its replies
// (commands and attribute bodies). A failure comes back as an
// *ethtool.Error with the errno, the extended ack's message and offset.
type Transport interface {
	Execute(family string, cmd uint8, flags netlink.HeaderFlags, body []byte) ([]Reply, error)
}

// client is an ethtool.Device over a Transport.
type client struct {
	t    Transport
	name string
}

// NewDevice returns the device name served at the other end of t.
func NewDevice(t Transport, name string) ethtool.Device { return &client{t, name} }

// Backend returns a Backend whose devices live behind t; the names are
// resolved by the server.
func Backend(t Transport) ethtool.Backend { return backend{t} }

type backend struct{ t Transport }

func (b backend) Device(name string) (ethtool.Device, error) { return NewDevice(b.t, name), nil }

// request encodes a request with the header (device name, flags when not
// zero) followed by fn's attributes.
func (c *client) request(flags uint32, fn func(ae *netlink.AttributeEncoder)) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		ae.Nested(1, func(h *netlink.AttributeEncoder) error {
			h.String(AHeaderDevName, c.name)
			if flags != 0 {
				h.Uint32(AHeaderFlags, flags)
			}
			return nil
		})
		if fn != nil {
			fn(ae)
		}
	})
}

// get runs a request expecting one reply, returning its attributes.
func (c *client) get(family string, cmd uint8, flags uint32, fn func(ae *netlink.AttributeEncoder)) (map[uint16][]byte, error) {
	r, err := c.t.Execute(family, cmd, netlink.Request, c.request(flags, fn))
	if err != nil {
		return nil, err
	}
	if len(r) != 1 {
		return nil, ethtool.Errorf("netlink", syscall.EPROTO, "%d replies to command %d, want 1", len(r), cmd)
	}
	m := map[uint16][]byte{}
	err = tlv(r[0].Attrs, func(_ int, typ uint16, p []byte) bool {
		if _, dup := m[typ]; !dup {
			m[typ] = p
		}
		return true
	})
	return m, err
}

// set runs a request expecting an acknowledgement only.
func (c *client) set(family string, cmd uint8, fn func(ae *netlink.AttributeEncoder)) error {
	_, err := c.t.Execute(family, cmd, netlink.Request|netlink.Acknowledge, c.request(0, fn))
	return err
}

func get32(m map[uint16][]byte, a uint16) uint32 { v, _ := u32(m[a]); return v }

func get8(m map[uint16][]byte, a uint16) uint8 {
	if b := m[a]; len(b) == 1 {
		return b[0]
	}
	return 0
}

func get64(m map[uint16][]byte, a uint16) uint64 {
	if b := m[a]; len(b) == 8 {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (c *client) Name() string { return c.name }

func (c *client) DrvInfo() (ethtool.DrvInfo, error) {
	m, err := c.get(VendorFamilyName, VMsgDrvinfoGet, 0, nil)
	if err != nil {
		return ethtool.DrvInfo{}, err
	}
	return ethtool.DrvInfo{Driver: cstring(m[VADriver]), Version: cstring(m[VAVersion]), FwVersion: cstring(m[VAFwVersion]),
		BusInfo: cstring(m[VABusInfo]), EromVersion: cstring(m[VAEromVersion]), NStats: get32(m, VANStats),
		TestInfoLen: get32(m, VATestInfoLen), EEDumpLen: get32(m, VAEEDumpLen), RegDumpLen: get32(m, VARegDumpLen),
		NPrivFlags: get32(m, VANPrivFlags)}, nil
}

func (c *client) LinkSettings() (ethtool.LinkSettings, error) {
	info, err := c.get(FamilyName, MsgLinkinfoGet, 0, nil)
	if err != nil {
		return ethtool.LinkSettings{}, err
	}
	modes, err := c.get(FamilyName, MsgLinkmodesGet, 0, nil)
	if err != nil {
		return ethtool.LinkSettings{}, err
	}
	ls := ethtool.LinkSettings{Port: get8(info, ALinkinfoPort), PHYAddr: get8(info, ALinkinfoPhyaddr),
		MDIX: get8(info, ALinkinfoTPMdix), Transceiver: get8(info, ALinkinfoTransceiver),
		Autoneg: get8(modes, ALinkmodesAutoneg) != 0, Speed: get32(modes, ALinkmodesSpeed), Duplex: get8(modes, ALinkmodesDuplex)}
	all, adv := decodeModes(modes[ALinkmodesOurs])
	for _, n := range all {
		switch n {
		case "Autoneg":
			ls.AutonegSupported = true
		case "TP":
			ls.Ports = append(ls.Ports, "TP")
		case "Pause":
			ls.PauseSupported = true
		default:
			ls.Supported = append(ls.Supported, n)
		}
	}
	for _, n := range adv {
		if _, special := map[string]bool{"Autoneg": true, "TP": true, "Pause": true}[n]; !special {
			ls.Advertising = append(ls.Advertising, n)
		}
	}
	if p, ok := modes[ALinkmodesPeer]; ok {
		ls.PartnerAdv, _ = decodeModes(p)
	}
	return ls, nil
}

func (c *client) SetLinkSettings(r ethtool.LinkRequest) error {
	return c.set(FamilyName, MsgLinkmodesSet, func(ae *netlink.AttributeEncoder) {
		if r.Speed.Set {
			ae.Uint32(ALinkmodesSpeed, r.Speed.V)
		}
		if r.Duplex.Set {
			ae.Uint8(ALinkmodesDuplex, uint8(r.Duplex.V))
		}
		if r.Autoneg.Set {
			ae.Uint8(ALinkmodesAutoneg, b2u8(r.Autoneg.V))
		}
	})
}

func (c *client) Link() (bool, error) {
	m, err := c.get(FamilyName, MsgLinkstateGet, 0, nil)
	if err != nil {
		return false, err
	}
	return get8(m, ALinkstateLink) != 0, nil
}

func (c *client) PermAddr() ([]byte, error) {
	m, err := c.get(VendorFamilyName, VMsgPermaddrGet, 0, nil)
	if err != nil {
		return nil, err
	}
	return m[VAAddr], nil
}

func (c *client) NwayReset() error { return c.set(VendorFamilyName, VMsgNwayAct, nil) }

func (c *client) Msglevel() (uint32, error) {
	m, err := c.get(FamilyName, MsgDebugGet, FlagCompactBitsets, nil)
	if err != nil {
		return 0, err
	}
	v, _, _, _ := decodeBitset(m[ADebugMsgmask], nil)
	return uint32(v[0]), nil
}

// SetMsglevel sends the whole mask as a compact bitset with every bit in
// the mask.
func (c *client) SetMsglevel(v uint32) error {
	var val, mask ethtool.Bitmap
	for i := range ethtool.MsglevelNames {
		val.Set(i, v&(1<<i) != 0)
		mask.Set(i, true)
	}
	return c.set(FamilyName, MsgDebugSet, func(ae *netlink.AttributeEncoder) {
		encodeBitset(ae, ADebugMsgmask, 32, val, &mask)
	})
}

func (c *client) Features() (ethtool.FeatureList, error) {
	r, err := c.t.Execute(FamilyName, MsgFeaturesGet, netlink.Request, c.request(FlagCompactBitsets, nil))
	if err != nil {
		return nil, err
	}
	if len(r) != 1 {
		return nil, ethtool.Errorf("netlink", syscall.EPROTO, "%d replies to FEATURES_GET", len(r))
	}
	return decodeFeatures(r[0].Attrs)
}

// SetFeatures sends the request as ethtool does: WANTED as a verbose
// bitset of the named features (VALUE for on), compact replies asked for.
func (c *client) SetFeatures(req ethtool.FeatureRequest) (ethtool.FeatureReply, error) {
	body := c.request(FlagCompactBitsets, func(ae *netlink.AttributeEncoder) {
		ae.Nested(AFeaturesWanted, func(w *netlink.AttributeEncoder) error {
			w.Nested(ABitsetBits, func(bits *netlink.AttributeEncoder) error {
				for i, n := range ethtool.KernelFeatureNames {
					if !req.Mask.Has(i) {
						continue
					}
					bits.Nested(ABitsetBitsBit, func(bit *netlink.AttributeEncoder) error {
						bit.String(ABitsetBitName, n)
						bit.Flag(ABitsetBitValue, req.Value.Has(i))
						return nil
					})
				}
				return nil
			})
			return nil
		})
	})
	r, err := c.t.Execute(FamilyName, MsgFeaturesSet, netlink.Request|netlink.Acknowledge, body)
	if err != nil {
		return ethtool.FeatureReply{}, err
	}
	for _, x := range r {
		if x.Cmd == MsgFeaturesSetReply {
			return decodeFeatureReply(x.Attrs), nil
		}
	}
	return ethtool.FeatureReply{}, ethtool.Errorf("netlink", syscall.EPROTO, "no FEATURES_SET reply")
}

func (c *client) Ring() (ethtool.Ring, error) {
	m, err := c.get(FamilyName, MsgRingsGet, 0, nil)
	if err != nil {
		return ethtool.Ring{}, err
	}
	return ethtool.Ring{RxMax: get32(m, ARingsRxMax), RxMiniMax: get32(m, ARingsRxMiniMax), RxJumboMax: get32(m, ARingsRxJumboMax),
		TxMax: get32(m, ARingsTxMax), Rx: get32(m, ARingsRx), RxMini: get32(m, ARingsRxMini), RxJumbo: get32(m, ARingsRxJumbo),
		Tx: get32(m, ARingsTx)}, nil
}

func put32(ae *netlink.AttributeEncoder, a uint16, o ethtool.Opt32) {
	if o.Set {
		ae.Uint32(a, o.V)
	}
}

func (c *client) SetRing(rx, rxMini, rxJumbo, tx ethtool.Opt32) error {
	return c.set(FamilyName, MsgRingsSet, func(ae *netlink.AttributeEncoder) {
		put32(ae, ARingsRx, rx)
		put32(ae, ARingsRxMini, rxMini)
		put32(ae, ARingsRxJumbo, rxJumbo)
		put32(ae, ARingsTx, tx)
	})
}

func (c *client) Coalesce() (ethtool.Coalesce, error) {
	m, err := c.get(FamilyName, MsgCoalesceGet, 0, nil)
	if err != nil {
		return ethtool.Coalesce{}, err
	}
	var co ethtool.Coalesce
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		b, ok := m[coalesceAttr(p)]
		if !ok {
			continue
		}
		co.Supported |= p.Bit()
		if p.Bool() && len(b) == 1 {
			co.V[p] = uint32(b[0])
		} else {
			co.V[p], _ = u32(b)
		}
	}
	return co, nil
}

func (c *client) SetCoalesce(co ethtool.Coalesce, mask uint32) error {
	return c.set(FamilyName, MsgCoalesceSet, func(ae *netlink.AttributeEncoder) {
		for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
			if mask&p.Bit() == 0 {
				continue
			}
			if p.Bool() {
				ae.Uint8(coalesceAttr(p), uint8(co.V[p]))
			} else {
				ae.Uint32(coalesceAttr(p), co.V[p])
			}
		}
	})
}

func (c *client) Channels() (ethtool.Channels, error) {
	m, err := c.get(FamilyName, MsgChannelsGet, 0, nil)
	if err != nil {
		return ethtool.Channels{}, err
	}
	return ethtool.Channels{MaxRx: get32(m, AChannelsRxMax), MaxTx: get32(m, AChannelsTxMax), MaxOther: get32(m, AChannelsOtherMax),
		MaxCombined: get32(m, AChannelsCombinedMax), Rx: get32(m, AChannelsRxCount), Tx: get32(m, AChannelsTxCount),
		Other: get32(m, AChannelsOtherCount), Combined: get32(m, AChannelsCombinedCount)}, nil
}

func (c *client) SetChannels(rx, tx, other, combined ethtool.Opt32) error {
	return c.set(FamilyName, MsgChannelsSet, func(ae *netlink.AttributeEncoder) {
		put32(ae, AChannelsRxCount, rx)
		put32(ae, AChannelsTxCount, tx)
		put32(ae, AChannelsOtherCount, other)
		put32(ae, AChannelsCombinedCount, combined)
	})
}

func (c *client) Pause() (ethtool.Pause, error) {
	m, err := c.get(FamilyName, MsgPauseGet, FlagStats, nil)
	if err != nil {
		return ethtool.Pause{}, err
	}
	p := ethtool.Pause{Autoneg: get8(m, APauseAutoneg) != 0, Rx: get8(m, APauseRx) != 0, Tx: get8(m, APauseTx) != 0}
	if st, ok := m[APauseStats]; ok {
		_ = tlv(st, func(_ int, t uint16, b []byte) bool {
			if len(b) == 8 {
				switch t {
				case APauseStatTxFrames:
					p.TxPauseFrames = binary.LittleEndian.Uint64(b)
				case APauseStatRxFrames:
					p.RxPauseFrames = binary.LittleEndian.Uint64(b)
				}
			}
			return true
		})
	}
	return p, nil
}

func (c *client) SetPause(autoneg, rx, tx ethtool.OptBool) error {
	return c.set(FamilyName, MsgPauseSet, func(ae *netlink.AttributeEncoder) {
		for _, f := range []struct {
			a uint16
			o ethtool.OptBool
		}{{APauseAutoneg, autoneg}, {APauseRx, rx}, {APauseTx, tx}} {
			if f.o.Set {
				ae.Uint8(f.a, b2u8(f.o.V))
			}
		}
	})
}

// named runs a vendor request whose replies carry nests of typ, each a
// name and a u64 value (statistics, self-test results).
func (c *client) named(cmd uint8, typ uint16, fn func(ae *netlink.AttributeEncoder)) ([]ethtool.Stat, error) {
	r, err := c.t.Execute(VendorFamilyName, cmd, netlink.Request, c.request(0, fn))
	if err != nil {
		return nil, err
	}
	var out []ethtool.Stat
	for _, x := range r {
		_ = tlv(x.Attrs, func(_ int, t uint16, p []byte) bool {
			if t != typ {
				return true
			}
			var s ethtool.Stat
			_ = tlv(p, func(_ int, t uint16, b []byte) bool {
				switch t {
				case VAName:
					s.Name = cstring(b)
				case VAValue:
					if len(b) == 8 {
						s.Value = binary.LittleEndian.Uint64(b)
					}
				}
				return true
			})
			out = append(out, s)
			return true
		})
	}
	return out, nil
}

func (c *client) Stats() ([]ethtool.Stat, error) { return c.named(VMsgStatsGet, VAStat, nil) }

func (c *client) RSS() (ethtool.RSS, error) {
	m, err := c.get(VendorFamilyName, VMsgRxfhGet, 0, nil)
	if err != nil {
		return ethtool.RSS{}, err
	}
	_, user := m[VAUserSet]
	return ethtool.RSS{Key: m[VAKey], Indir: fromU32s(m[VAIndir]), HFunc: get32(m, VAHFunc), RxRings: get32(m, VARxRings), UserSet: user}, nil
}

func (c *client) SetRSS(r ethtool.RSSRequest) error {
	return c.set(VendorFamilyName, VMsgRxfhSet, func(ae *netlink.AttributeEncoder) {
		if r.Key != nil {
			ae.Bytes(VAKey, r.Key)
		}
		if r.Indir != nil {
			ae.Bytes(VAIndir, u32s(r.Indir))
		}
		ae.Flag(VADefault, r.DefaultIndir)
		if r.HFunc != 0 {
			ae.Uint32(VAHFunc, r.HFunc)
		}
	})
}

func (c *client) RxFlowHash(ft ethtool.FlowType) (uint64, error) {
	m, err := c.get(VendorFamilyName, VMsgFlowHashGet, 0, func(ae *netlink.AttributeEncoder) { ae.Uint32(VAFlowType, uint32(ft)) })
	if err != nil {
		return 0, err
	}
	return get64(m, VAFields), nil
}

func (c *client) SetRxFlowHash(ft ethtool.FlowType, f uint64) error {
	return c.set(VendorFamilyName, VMsgFlowHashSet, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(VAFlowType, uint32(ft))
		ae.Uint64(VAFields, f)
	})
}

func (c *client) EEPROM(off, n uint32) ([]byte, error) {
	m, err := c.get(VendorFamilyName, VMsgEEPROMGet, 0, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(VAOffset, off)
		ae.Uint32(VALength, n)
	})
	if err != nil {
		return nil, err
	}
	return append([]byte{}, m[VAData]...), nil
}

func (c *client) SetEEPROM(magic, off uint32, data []byte) error {
	return c.set(VendorFamilyName, VMsgEEPROMSet, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(VAMagic, magic)
		ae.Uint32(VAOffset, off)
		ae.Bytes(VAData, data)
	})
}

func (c *client) Regs() (ethtool.Regs, error) {
	m, err := c.get(VendorFamilyName, VMsgRegsGet, 0, nil)
	if err != nil {
		return ethtool.Regs{}, err
	}
	return ethtool.Regs{Version: get32(m, VAVersionNum), Data: m[VAData]}, nil
}

func (c *client) SelfTest(offline bool) ([]ethtool.TestResult, error) {
	st, err := c.named(VMsgTestAct, VAResult, func(ae *netlink.AttributeEncoder) { ae.Flag(VAOffline, offline) })
	if err != nil {
		return nil, err
	}
	out := make([]ethtool.TestResult, len(st))
	for i, s := range st {
		out[i] = ethtool.TestResult(s)
	}
	return out, nil
}
