package nl

import (
	"errors"
	"syscall"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
)

// Reply is one reply message: a command and its attributes.
type Reply struct {
	Cmd   uint8
	Attrs []byte
}

// AttrError is a failure about one attribute of the request: Path leads
// from the top level to it (the extended ack's offset is computed from it).
type AttrError struct {
	Err  error
	Path []uint16
	// Inner, with InnerSet, is the offset inside the payload of the
	// attribute at Path of the attribute really at fault (a bit deep in a
	// bitset).
	Inner    int
	InnerSet bool
}

func (e *AttrError) Error() string { return e.Err.Error() }
func (e *AttrError) Unwrap() error { return e.Err }

// Lister is a Backend that can name its devices (for dumps).
type Lister interface {
	Names() []string
}

// Changed tells what a set changed, for notifications: the device and
// the notification command with its attributes.
type Changed func(dev string, cmd uint8, attrs []byte)

// header is a parsed request header.
type header struct {
	dev   string
	flags uint32
}

func parseHeader(b []byte) (header, error) {
	var h header
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return h, err
	}
	for ad.Next() {
		switch ad.Type() {
		case AHeaderDevName:
			h.dev = ad.String()
		case AHeaderFlags:
			h.flags = ad.Uint32()
		case AHeaderDevIndex:
			// vnic's devices are named per host; indexes are not unique.
			return h, &AttrError{Err: ethtool.Errorf("header", syscall.EOPNOTSUPP, "device index lookup is not supported; use the name"), Path: []uint16{1, AHeaderDevIndex}}
		}
	}
	return h, ad.Err()
}

// attrs decodes a request's top-level attributes into a map (last wins);
// the header comes back parsed.
func attrs(b []byte) (map[uint16][]byte, header, error) {
	m := map[uint16][]byte{}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, header{}, err
	}
	for ad.Next() {
		m[ad.Type()] = ad.Bytes()
	}
	if err := ad.Err(); err != nil {
		return nil, header{}, err
	}
	h, err := parseHeader(m[1])
	return m, h, err
}

func encodeHeader(ae *netlink.AttributeEncoder, dev string) {
	ae.Nested(1, func(n *netlink.AttributeEncoder) error {
		n.String(AHeaderDevName, dev)
		return nil
	})
}

func u32(b []byte) (uint32, bool) {
	if len(b) != 4 {
		return 0, false
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, true
}

// Server answers ethtool requests from a Backend.
type Server struct {
	Backend ethtool.Backend
	// Notify, if set, receives a notification after every set that
	// changed something.
	Notify Changed
}

// Serve handles one request: family, command and the attributes after the
// generic-netlink header. A GET without a device header is a dump over
// every device (when the backend can list them). A SET or an action has
// only a doit, as in the kernel: sent as a dump it is EOPNOTSUPP (the
// genetlink op has no dumpit), and it needs its device.
func (s *Server) Serve(family string, cmd uint8, dump bool, body []byte) ([]Reply, error) {
	if dump && changes(family, cmd) {
		return nil, &AttrError{Err: ethtool.Errorf("dump", syscall.EOPNOTSUPP, "command %d cannot be dumped", cmd)}
	}
	m, h, err := attrs(body)
	if err != nil {
		var ae *AttrError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, &AttrError{Err: ethtool.Errorf("parse", syscall.EINVAL, "malformed attributes: %v", err)}
	}
	if h.dev == "" {
		l, ok := s.Backend.(Lister)
		if !dump || !ok {
			return nil, &AttrError{Err: ethtool.Errorf("header", syscall.EINVAL, "request without a device"), Path: []uint16{1}}
		}
		var out []Reply
		for _, n := range l.Names() {
			r, err := s.one(family, cmd, n, h, m)
			if err != nil {
				if errors.Is(err, syscall.EOPNOTSUPP) {
					continue // as the kernel's dumps skip devices without the op
				}
				return nil, err
			}
			out = append(out, r...)
		}
		return out, nil
	}
	return s.one(family, cmd, h.dev, h, m)
}

// changes reports the commands that change a device or act on it: sets and
// actions, which the kernel's ethtool family answers only one device at a
// time.
func changes(family string, cmd uint8) bool {
	switch family {
	case FamilyName:
		switch cmd {
		case MsgLinkmodesSet, MsgDebugSet, MsgFeaturesSet, MsgRingsSet, MsgChannelsSet, MsgCoalesceSet, MsgPauseSet:
			return true
		}
	case VendorFamilyName:
		switch cmd {
		case VMsgEEPROMSet, VMsgRxfhSet, VMsgFlowHashSet, VMsgTestAct, VMsgNwayAct, VMsgRxClsIns, VMsgRxClsDel, VMsgExtAct:
			return true
		}
	}
	return false
}

func (s *Server) one(family string, cmd uint8, name string, h header, m map[uint16][]byte) ([]Reply, error) {
	dev, err := s.Backend.Device(name)
	if err != nil {
		return nil, &AttrError{Err: err, Path: []uint16{1, AHeaderDevName}}
	}
	var r []Reply
	switch family {
	case FamilyName:
		r, err = s.ethtoolCmd(dev, cmd, h, m)
	case VendorFamilyName:
		r, err = s.vendorCmd(dev, cmd, m)
	default:
		err = ethtool.Errorf("family", syscall.ENOENT, "unknown family %q", family)
	}
	if err != nil {
		var ae *AttrError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, &AttrError{Err: err, Path: pathOf(family, cmd, err)}
	}
	return r, nil
}

// pathOf finds the attribute an ethtool.Error names, by its CLI keyword.
func pathOf(family string, cmd uint8, err error) []uint16 {
	var e *ethtool.Error
	if !errors.As(err, &e) || e.Attr == "" || family != FamilyName {
		return nil
	}
	if e.Attr == "dev" {
		return []uint16{1, AHeaderDevName}
	}
	var table map[string]uint16
	switch cmd {
	case MsgRingsSet:
		table = map[string]uint16{"rx": ARingsRx, "rx-mini": ARingsRxMini, "rx-jumbo": ARingsRxJumbo, "tx": ARingsTx}
	case MsgChannelsSet:
		table = map[string]uint16{"rx": AChannelsRxCount, "tx": AChannelsTxCount, "other": AChannelsOtherCount, "combined": AChannelsCombinedCount}
	case MsgCoalesceSet:
		if p, ok := ethtool.CoalesceParamByName(e.Attr); ok {
			return []uint16{coalesceAttr(p)}
		}
	case MsgPauseSet:
		table = map[string]uint16{"autoneg": APauseAutoneg, "rx": APauseRx, "tx": APauseTx}
	case MsgLinkmodesSet:
		table = map[string]uint16{"speed": ALinkmodesSpeed, "duplex": ALinkmodesDuplex, "autoneg": ALinkmodesAutoneg}
	}
	if a, ok := table[e.Attr]; ok {
		return []uint16{a}
	}
	return nil
}

// coalesceAttr is a parameter's ETHTOOL_A_COALESCE_* attribute.
func coalesceAttr(p ethtool.CoalesceParam) uint16 {
	switch p {
	case ethtool.CQEModeRx:
		return 25
	case ethtool.CQEModeTx:
		return 24
	}
	return uint16(p) + 2
}

func encode(fn func(ae *netlink.AttributeEncoder)) []byte {
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	if err != nil {
		panic("nl: encoding a reply: " + err.Error()) // only oversize attributes fail
	}
	return b
}

func (s *Server) notify(dev string, cmd uint8, attrs []byte) {
	if s.Notify != nil {
		s.Notify(dev, cmd, attrs)
	}
}

func (s *Server) ethtoolCmd(dev ethtool.Device, cmd uint8, h header, m map[uint16][]byte) ([]Reply, error) {
	name := dev.Name()
	switch cmd {
	case MsgStrsetGet:
		return []Reply{{MsgStrsetGetReply, encodeStrset(name)}}, nil
	case MsgLinkinfoGet:
		ls, err := dev.LinkSettings()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgLinkinfoGetReply, encodeLinkinfo(name, ls)}}, nil
	case MsgLinkmodesGet:
		ls, err := dev.LinkSettings()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgLinkmodesGetReply, encodeLinkmodes(name, ls)}}, nil
	case MsgLinkmodesSet:
		var req ethtool.LinkRequest
		if v, ok := u32(m[ALinkmodesSpeed]); ok {
			req.Speed = ethtool.Some32(v)
		}
		if b := m[ALinkmodesDuplex]; len(b) == 1 {
			req.Duplex = ethtool.Some32(uint32(b[0]))
		}
		if b := m[ALinkmodesAutoneg]; len(b) == 1 {
			req.Autoneg = ethtool.SomeBool(b[0] != 0)
		}
		if err := dev.SetLinkSettings(req); err != nil {
			return nil, err
		}
		if ls, err := dev.LinkSettings(); err == nil {
			s.notify(name, MsgLinkmodesNtf, encodeLinkmodes(name, ls))
		}
		return nil, nil
	case MsgLinkstateGet:
		up, err := dev.Link()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgLinkstateGetReply, encode(func(ae *netlink.AttributeEncoder) {
			encodeHeader(ae, name)
			ae.Uint8(ALinkstateLink, b2u8(up))
		})}}, nil
	case MsgDebugGet:
		v, err := dev.Msglevel()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgDebugGetReply, encodeDebug(name, v)}}, nil
	case MsgDebugSet:
		b, ok := m[ADebugMsgmask]
		if !ok {
			return nil, &AttrError{Err: ethtool.Errorf("set debug", syscall.EINVAL, "missing message mask")}
		}
		cur, err := dev.Msglevel()
		if err != nil {
			return nil, err
		}
		v, mask, _, err := decodeBitset(b, ethtool.MsglevelNames)
		if err != nil {
			return nil, err
		}
		next := uint32(cur)
		for i := range ethtool.MsglevelNames {
			if mask.Has(i) {
				next &^= 1 << i
				if v.Has(i) {
					next |= 1 << i
				}
			}
		}
		if err := dev.SetMsglevel(next); err != nil {
			return nil, err
		}
		s.notify(name, MsgDebugNtf, encodeDebug(name, next))
		return nil, nil
	case MsgFeaturesGet:
		l, err := dev.Features()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgFeaturesGetReply, encodeFeatures(name, l)}}, nil
	case MsgFeaturesSet:
		return s.setFeatures(dev, h, m)
	case MsgRingsGet:
		g, err := dev.Ring()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgRingsGetReply, encodeRings(name, g)}}, nil
	case MsgRingsSet:
		err := dev.SetRing(opt32(m[ARingsRx]), opt32(m[ARingsRxMini]), opt32(m[ARingsRxJumbo]), opt32(m[ARingsTx]))
		if err != nil {
			return nil, err
		}
		if g, err := dev.Ring(); err == nil {
			s.notify(name, MsgRingsNtf, encodeRings(name, g))
		}
		return nil, nil
	case MsgChannelsGet:
		c, err := dev.Channels()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgChannelsGetReply, encodeChannels(name, c)}}, nil
	case MsgChannelsSet:
		err := dev.SetChannels(opt32(m[AChannelsRxCount]), opt32(m[AChannelsTxCount]), opt32(m[AChannelsOtherCount]), opt32(m[AChannelsCombinedCount]))
		if err != nil {
			return nil, err
		}
		if c, err := dev.Channels(); err == nil {
			s.notify(name, MsgChannelsNtf, encodeChannels(name, c))
		}
		return nil, nil
	case MsgCoalesceGet:
		c, err := dev.Coalesce()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgCoalesceGetReply, encodeCoalesce(name, c)}}, nil
	case MsgCoalesceSet:
		var c ethtool.Coalesce
		var mask uint32
		for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
			b, ok := m[coalesceAttr(p)]
			if !ok {
				continue
			}
			if p.Bool() && len(b) == 1 {
				c.V[p] = uint32(b[0])
			} else if v, ok := u32(b); ok {
				c.V[p] = v
			} else {
				return nil, &AttrError{Err: ethtool.Errorf("set coalesce", syscall.EINVAL, "malformed attribute"), Path: []uint16{coalesceAttr(p)}}
			}
			mask |= p.Bit()
		}
		if err := dev.SetCoalesce(c, mask); err != nil {
			return nil, err
		}
		if c, err := dev.Coalesce(); err == nil {
			s.notify(name, MsgCoalesceNtf, encodeCoalesce(name, c))
		}
		return nil, nil
	case MsgPauseGet:
		p, err := dev.Pause()
		if err != nil {
			return nil, err
		}
		return []Reply{{MsgPauseGetReply, encodePause(name, p, h.flags&FlagStats != 0)}}, nil
	case MsgPauseSet:
		if err := dev.SetPause(optBool(m[APauseAutoneg]), optBool(m[APauseRx]), optBool(m[APauseTx])); err != nil {
			return nil, err
		}
		if p, err := dev.Pause(); err == nil {
			s.notify(name, MsgPauseNtf, encodePause(name, p, false))
		}
		return nil, nil
	}
	return nil, ethtool.Errorf("ethtool", syscall.EOPNOTSUPP, "command %d is not implemented", cmd)
}

func opt32(b []byte) ethtool.Opt32 {
	if v, ok := u32(b); ok {
		return ethtool.Some32(v)
	}
	return ethtool.Opt32{}
}

func optBool(b []byte) ethtool.OptBool {
	if len(b) == 1 {
		return ethtool.SomeBool(b[0] != 0)
	}
	return ethtool.OptBool{}
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// FeaturesNtf is ETHTOOL_MSG_FEATURES_NTF for dev's current features.
func FeaturesNtf(dev ethtool.Device) (uint8, []byte, error) {
	l, err := dev.Features()
	if err != nil {
		return 0, nil, err
	}
	return MsgFeaturesNtf, encodeFeatures(dev.Name(), l), nil
}

// LinkStateNtf is the vendor family's link-state notification. Linux
// reports carrier changes through rtnetlink (RTM_NEWLINK); until vnic's
// rtnetlink exists, they travel here.
func LinkStateNtf(dev string, up bool) (uint8, []byte) {
	return VMsgLinkstateNtf, encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		ae.Uint8(VALink, b2u8(up))
	})
}

// Notification is a decoded notification, for monitors.
type Notification struct {
	Dev      string
	Features ethtool.FeatureList // FEATURES_NTF
	Ring     *ethtool.Ring
	Channels *ethtool.Channels
	Coalesce *ethtool.Coalesce
	Pause    *ethtool.Pause
	Link     *bool
	Kind     ethtool.NtfKind // ethtool.NtfFeatures, NtfRings, ...
}

// DecodeNtf decodes a notification of either family (family "" means the
// ethtool family); ok is false for commands it does not know.
func DecodeNtf(family string, cmd uint8, body []byte) (Notification, bool) {
	m, h, err := attrs(body)
	if err != nil {
		return Notification{}, false
	}
	n := Notification{Dev: h.dev}
	if family == VendorFamilyName {
		if cmd != VMsgLinkstateNtf {
			return n, false
		}
		up := len(m[VALink]) == 1 && m[VALink][0] != 0
		n.Link, n.Kind = &up, ethtool.NtfLink
		return n, true
	}
	switch cmd {
	case MsgFeaturesNtf:
		l, err := decodeFeatures(body)
		if err != nil {
			return n, false
		}
		n.Features, n.Kind = l, ethtool.NtfFeatures
	case MsgRingsNtf:
		g := ethtool.Ring{RxMax: get32(m, ARingsRxMax), RxMiniMax: get32(m, ARingsRxMiniMax), RxJumboMax: get32(m, ARingsRxJumboMax),
			TxMax: get32(m, ARingsTxMax), Rx: get32(m, ARingsRx), RxMini: get32(m, ARingsRxMini), RxJumbo: get32(m, ARingsRxJumbo), Tx: get32(m, ARingsTx)}
		n.Ring, n.Kind = &g, ethtool.NtfRings
	case MsgChannelsNtf:
		c := ethtool.Channels{MaxRx: get32(m, AChannelsRxMax), MaxTx: get32(m, AChannelsTxMax), MaxOther: get32(m, AChannelsOtherMax),
			MaxCombined: get32(m, AChannelsCombinedMax), Rx: get32(m, AChannelsRxCount), Tx: get32(m, AChannelsTxCount),
			Other: get32(m, AChannelsOtherCount), Combined: get32(m, AChannelsCombinedCount)}
		n.Channels, n.Kind = &c, ethtool.NtfChannels
	case MsgCoalesceNtf:
		var co ethtool.Coalesce
		for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
			if b, ok := m[coalesceAttr(p)]; ok {
				co.Supported |= p.Bit()
				if len(b) == 1 {
					co.V[p] = uint32(b[0])
				} else {
					co.V[p], _ = u32(b)
				}
			}
		}
		n.Coalesce, n.Kind = &co, ethtool.NtfCoalesce
	case MsgPauseNtf:
		p := ethtool.Pause{Autoneg: get8(m, APauseAutoneg) != 0, Rx: get8(m, APauseRx) != 0, Tx: get8(m, APauseTx) != 0}
		n.Pause, n.Kind = &p, ethtool.NtfPause
	default:
		return n, false
	}
	return n, true
}
