package nl

import (
	"encoding/binary"
	"errors"
	"syscall"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
)

// tlv walks one level of attributes, with each one's offset from the
// start of b (for extended-ack offsets).
func tlv(b []byte, fn func(off int, typ uint16, payload []byte) bool) error {
	off := 0
	for off+4 <= len(b) {
		l := int(binary.LittleEndian.Uint16(b[off:]))
		typ := binary.LittleEndian.Uint16(b[off+2:]) & 0x3FFF // without NLA_F_NESTED / NET_BYTEORDER
		if l < 4 || off+l > len(b) {
			return errors.New("nl: truncated attribute")
		}
		if !fn(off, typ, b[off+4:off+l]) {
			return nil
		}
		off += (l + 3) &^ 3
	}
	return nil
}

// offsetOf returns the offset in b of the header of the attribute at
// path (each element the first attribute of that type one level down), or
// -1.
func offsetOf(b []byte, path []uint16) int {
	base := 0
	for k, t := range path {
		found := -1
		var inner []byte
		_ = tlv(b, func(off int, typ uint16, p []byte) bool {
			if typ == t {
				found, inner = off, p
				return false
			}
			return true
		})
		if found < 0 {
			return -1
		}
		if k == len(path)-1 {
			return base + found
		}
		base += found + 4
		b = inner
	}
	return -1
}

// ErrorOffset is where, in a request body, the attribute an error is
// about sits (-1: not known).
func ErrorOffset(body []byte, err error) int {
	var ae *AttrError
	if !errors.As(err, &ae) || len(ae.Path) == 0 {
		return -1
	}
	off := offsetOf(body, ae.Path)
	if off >= 0 && ae.InnerSet {
		off += 4 + ae.Inner
	}
	return off
}

// Bitsets: compact form, 32-bit words little-endian.

func words(b ethtool.Bitmap, n int) []byte {
	out := make([]byte, 4*((n+31)/32))
	for i := 0; i < n; i++ {
		if b.Has(i) {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

func fromWords(p []byte) ethtool.Bitmap {
	var b ethtool.Bitmap
	for i := 0; i < 8*len(p) && i < 128; i++ {
		if p[i/8]&(1<<(i%8)) != 0 {
			b.Set(i, true)
		}
	}
	return b
}

// encodeBitset writes a compact bitset; a nil mask makes it a list
// (NOMASK).
func encodeBitset(ae *netlink.AttributeEncoder, typ uint16, n int, value ethtool.Bitmap, mask *ethtool.Bitmap) {
	ae.Nested(typ, func(b *netlink.AttributeEncoder) error {
		b.Flag(ABitsetNomask, mask == nil)
		b.Uint32(ABitsetSize, uint32(n))
		b.Bytes(ABitsetValue, words(value, n))
		if mask != nil {
			b.Bytes(ABitsetMask, words(*mask, n))
		}
		return nil
	})
}

// decodeBitset reads a bitset in either form against a string set: the
// values, the mask (all bits of a NOMASK list) and, for a verbose bit
// naming no feature, its offset within p and an error.
func decodeBitset(p []byte, names []string) (value, mask ethtool.Bitmap, badOff int, err error) {
	nomask := false
	var bits []byte
	bitsOff := -1
	_ = tlv(p, func(off int, typ uint16, q []byte) bool {
		switch typ {
		case ABitsetNomask:
			nomask = true
		case ABitsetValue:
			value = fromWords(q)
		case ABitsetMask:
			mask = fromWords(q)
		case ABitsetBits:
			bits, bitsOff = q, off+4
		}
		return true
	})
	if bits == nil {
		if nomask {
			for i := range names {
				mask.Set(i, true)
			}
		}
		return value, mask, -1, nil
	}
	badOff = -1
	_ = tlv(bits, func(off int, typ uint16, q []byte) bool {
		if typ != ABitsetBitsBit {
			return true
		}
		idx, on := -1, false
		nameOff := -1
		var name string
		_ = tlv(q, func(o int, t uint16, r []byte) bool {
			switch t {
			case ABitsetBitIndex:
				if v, ok := u32(r); ok {
					idx = int(v)
				}
			case ABitsetBitName:
				name, nameOff = cstring(r), o
			case ABitsetBitValue:
				on = true
			}
			return true
		})
		if idx < 0 {
			for i, n := range names {
				if n != "" && n == name {
					idx = i
				}
			}
		}
		if idx < 0 || idx >= len(names) {
			badOff = bitsOff + off + 4 + max(nameOff, 0)
			err = ethtool.Errorf("set features", syscall.EOPNOTSUPP, "bit name not found")
			return false
		}
		mask.Set(idx, true)
		value.Set(idx, on)
		return true
	})
	if nomask {
		mask = value
	}
	return value, mask, badOff, err
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func encodeStrset(dev string) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		ae.Nested(AStrsetStringsets, func(s *netlink.AttributeEncoder) error {
			s.Nested(AStringsetsStringset, func(set *netlink.AttributeEncoder) error {
				set.Uint32(AStringsetID, SSFeatures)
				set.Uint32(AStringsetCount, uint32(ethtool.NumKernelFeatures))
				set.Nested(AStringsetStrings, func(str *netlink.AttributeEncoder) error {
					for i, n := range ethtool.KernelFeatureNames {
						str.Nested(AStringsString, func(e *netlink.AttributeEncoder) error {
							e.Uint32(AStringIndex, uint32(i))
							e.String(AStringValue, n)
							return nil
						})
					}
					return nil
				})
				return nil
			})
			return nil
		})
	})
}

func encodeFeatures(dev string, l ethtool.FeatureList) []byte {
	var hw, wanted, active, nochange ethtool.Bitmap
	for i, f := range l {
		hw.Set(i, f.Available)
		wanted.Set(i, f.Requested)
		active.Set(i, f.Active)
		nochange.Set(i, f.NeverChanged)
	}
	n := len(l)
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		encodeBitset(ae, AFeaturesHW, n, hw, nil)
		encodeBitset(ae, AFeaturesWanted, n, wanted, nil)
		encodeBitset(ae, AFeaturesActive, n, active, nil)
		encodeBitset(ae, AFeaturesNochange, n, nochange, nil)
	})
}

func decodeFeatures(b []byte) (ethtool.FeatureList, error) {
	var hw, wanted, active, nochange ethtool.Bitmap
	n := 0
	err := tlv(b, func(_ int, typ uint16, p []byte) bool {
		v, _, _, _ := decodeBitset(p, nil)
		_ = tlv(p, func(_ int, t uint16, q []byte) bool {
			if t == ABitsetSize {
				if s, ok := u32(q); ok {
					n = int(s)
				}
			}
			return true
		})
		switch typ {
		case AFeaturesHW:
			hw = v
		case AFeaturesWanted:
			wanted = v
		case AFeaturesActive:
			active = v
		case AFeaturesNochange:
			nochange = v
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	n = min(n, ethtool.NumKernelFeatures)
	l := make(ethtool.FeatureList, n)
	for i := 0; i < n; i++ {
		l[i] = ethtool.FeatureState{Name: ethtool.KernelFeatureNames[i], Available: hw.Has(i), Requested: wanted.Has(i),
			Active: active.Has(i), NeverChanged: nochange.Has(i)}
	}
	return l, nil
}

func (s *Server) setFeatures(dev ethtool.Device, h header, m map[uint16][]byte) ([]Reply, error) {
	names := ethtool.KernelFeatureNames[:]
	w, ok := m[AFeaturesWanted]
	if !ok {
		return nil, &AttrError{Err: ethtool.Errorf("set features", syscall.EINVAL, "missing wanted features"), Path: []uint16{AFeaturesWanted}}
	}
	value, mask, badOff, err := decodeBitset(w, names)
	if err != nil {
		// badOff is within the WANTED payload; find WANTED itself.
		return nil, &AttrError{Err: err, Path: []uint16{AFeaturesWanted}, Inner: badOff, InnerSet: badOff >= 0}
	}
	req := ethtool.FeatureRequest{Mask: mask, Value: value}
	for i := range names {
		req.Value.Set(i, req.Value.Has(i) && req.Mask.Has(i))
	}
	reply, err := dev.SetFeatures(req)
	if err != nil {
		return nil, err
	}
	name := dev.Name()
	// The FEATURES_NTF comes from the device's notifier (FeaturesNtf):
	// features change on other paths too.
	if h.flags&FlagOmitReply != 0 {
		return nil, nil
	}
	n := len(names)
	return []Reply{{MsgFeaturesSetReply, encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, name)
		encodeBitset(ae, AFeaturesWanted, n, reply.WantedValue, &reply.WantedMask)
		encodeBitset(ae, AFeaturesActive, n, reply.ActiveValue, &reply.ActiveMask)
	})}}, nil
}

func decodeFeatureReply(b []byte) ethtool.FeatureReply {
	r := ethtool.FeatureReply{Names: ethtool.KernelFeatureNames[:]}
	_ = tlv(b, func(_ int, typ uint16, p []byte) bool {
		v, m, _, _ := decodeBitset(p, nil)
		switch typ {
		case AFeaturesWanted:
			r.WantedValue, r.WantedMask = v, m
		case AFeaturesActive:
			r.ActiveValue, r.ActiveMask = v, m
		}
		return true
	})
	return r
}

func encodeDebug(dev string, v uint32) []byte {
	var b ethtool.Bitmap
	for i := range ethtool.MsglevelNames {
		b.Set(i, v&(1<<i) != 0)
	}
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		encodeBitset(ae, ADebugMsgmask, 32, b, nil)
	})
}

func encodeRings(dev string, g ethtool.Ring) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		ae.Uint32(ARingsRxMax, g.RxMax)
		if g.RxMiniMax != 0 {
			ae.Uint32(ARingsRxMiniMax, g.RxMiniMax)
			ae.Uint32(ARingsRxMini, g.RxMini)
		}
		if g.RxJumboMax != 0 {
			ae.Uint32(ARingsRxJumboMax, g.RxJumboMax)
			ae.Uint32(ARingsRxJumbo, g.RxJumbo)
		}
		ae.Uint32(ARingsTxMax, g.TxMax)
		ae.Uint32(ARingsRx, g.Rx)
		ae.Uint32(ARingsTx, g.Tx)
	})
}

func encodeChannels(dev string, c ethtool.Channels) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		for _, f := range []struct {
			max, cur   uint32
			amax, acur uint16
		}{{c.MaxRx, c.Rx, AChannelsRxMax, AChannelsRxCount}, {c.MaxTx, c.Tx, AChannelsTxMax, AChannelsTxCount},
			{c.MaxOther, c.Other, AChannelsOtherMax, AChannelsOtherCount}, {c.MaxCombined, c.Combined, AChannelsCombinedMax, AChannelsCombinedCount}} {
			if f.max != 0 {
				ae.Uint32(f.amax, f.max)
				ae.Uint32(f.acur, f.cur)
			}
		}
	})
}

func encodeCoalesce(dev string, c ethtool.Coalesce) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
			if !c.Has(p) {
				continue
			}
			if p.Bool() {
				ae.Uint8(coalesceAttr(p), uint8(c.V[p]))
			} else {
				ae.Uint32(coalesceAttr(p), c.V[p])
			}
		}
	})
}

func encodePause(dev string, p ethtool.Pause, stats bool) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		ae.Uint8(APauseAutoneg, b2u8(p.Autoneg))
		ae.Uint8(APauseRx, b2u8(p.Rx))
		ae.Uint8(APauseTx, b2u8(p.Tx))
		if stats {
			ae.Nested(APauseStats, func(s *netlink.AttributeEncoder) error {
				s.Uint64(APauseStatTxFrames, p.TxPauseFrames)
				s.Uint64(APauseStatRxFrames, p.RxPauseFrames)
				return nil
			})
		}
	})
}

// Link modes by their ETHTOOL_LINK_MODE_* bits (the ones vnic's PHY has).
var linkModeBits = map[string]int{
	"10baseT/Half": 0, "10baseT/Full": 1, "100baseT/Half": 2, "100baseT/Full": 3,
	"1000baseT/Half": 4, "1000baseT/Full": 5, "Autoneg": 6, "TP": 7, "Pause": 13,
}

// encodeModes writes a verbose bitset of link modes: every mode in all,
// with VALUE for those in on; a nil on makes it a list of all.
func encodeModes(ae *netlink.AttributeEncoder, typ uint16, all, on []string) {
	ae.Nested(typ, func(b *netlink.AttributeEncoder) error {
		b.Flag(ABitsetNomask, on == nil)
		b.Nested(ABitsetBits, func(bits *netlink.AttributeEncoder) error {
			for _, m := range all {
				bits.Nested(ABitsetBitsBit, func(bit *netlink.AttributeEncoder) error {
					if i, ok := linkModeBits[m]; ok {
						bit.Uint32(ABitsetBitIndex, uint32(i))
					}
					bit.String(ABitsetBitName, m)
					bit.Flag(ABitsetBitValue, on == nil || contains(on, m))
					return nil
				})
			}
			return nil
		})
		return nil
	})
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// decodeModes reads a verbose link-mode bitset: every named mode, and
// those with VALUE.
func decodeModes(p []byte) (all, on []string) {
	_ = tlv(p, func(_ int, typ uint16, q []byte) bool {
		if typ != ABitsetBits {
			return true
		}
		_ = tlv(q, func(_ int, _ uint16, bit []byte) bool {
			name, v := "", false
			_ = tlv(bit, func(_ int, t uint16, r []byte) bool {
				switch t {
				case ABitsetBitName:
					name = cstring(r)
				case ABitsetBitValue:
					v = true
				}
				return true
			})
			all = append(all, name)
			if v {
				on = append(on, name)
			}
			return true
		})
		return true
	})
	return all, on
}

func encodeLinkinfo(dev string, ls ethtool.LinkSettings) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		ae.Uint8(ALinkinfoPort, ls.Port)
		ae.Uint8(ALinkinfoPhyaddr, ls.PHYAddr)
		ae.Uint8(ALinkinfoTPMdix, ls.MDIX)
		ae.Uint8(ALinkinfoTransceiver, ls.Transceiver)
	})
}

// encodeLinkmodes carries the link modes as the kernel does: OURS lists
// the supported modes with VALUE on the advertised ones, PEER the link
// partner's.
func encodeLinkmodes(dev string, ls ethtool.LinkSettings) []byte {
	return encode(func(ae *netlink.AttributeEncoder) {
		encodeHeader(ae, dev)
		ae.Uint8(ALinkmodesAutoneg, b2u8(ls.Autoneg))
		sup := append([]string{}, ls.Supported...)
		if ls.AutonegSupported {
			sup = append(sup, "Autoneg")
		}
		if contains(ls.Ports, "TP") {
			sup = append(sup, "TP")
		}
		if ls.PauseSupported {
			sup = append(sup, "Pause")
		}
		adv := append([]string{}, ls.Advertising...)
		if len(adv) == 0 {
			adv = []string{}
		}
		encodeModes(ae, ALinkmodesOurs, sup, adv)
		if len(ls.PartnerAdv) > 0 {
			encodeModes(ae, ALinkmodesPeer, ls.PartnerAdv, nil)
		}
		ae.Uint32(ALinkmodesSpeed, ls.Speed)
		ae.Uint8(ALinkmodesDuplex, ls.Duplex)
	})
}
