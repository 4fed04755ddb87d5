package driver

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"vnic/ethtool"
	"vnic/hw"
)

// Receive flow classification (ethtool -N flow-type ... action Q loc L),
// as igb_add_ethtool_nfc_entry and friends: the rules are kept in a table
// of NFCTableSize locations and programmed into the device's queue filters,
// EtherType rules into ETQF and IPv4 rules into the 5-tuple filters (which
// igb does not use on the 82576; vnic does). The table survives reset and
// ring or channel changes (igb_nfc_filter_restore); turning rx-ntuple-filter
// off empties it (igb_set_features).
//
// What the device can match, and so what is accepted (EINVAL otherwise,
// with the reason):
//   - ether: proto with the full mask (no MAC addresses, no VLAN);
//   - tcp4, udp4, sctp4: src-ip, dst-ip, src-port, dst-port, each with
//     a full mask or none (no tos, no partial masks);
//   - ip4: src-ip, dst-ip and l4proto, each full or none (no l4data, no tos).
//
// The action is a queue below the RX queue count; the device cannot drop
// (action -1 is EINVAL, as igb). A rule identical in what it matches to
// another is EEXIST ("this filter is already set"). EtherType rules take
// one of the 8 ETQF filters and IPv4 rules one of the 8 5-tuple filters;
// when those are used up the insert is EINVAL, as igb's "etype filters are
// all used". The device checks EtherType filters before 5-tuple filters;
// among rules of one kind the lower location wins.

// NFCTableSize is the rule table (IGB_MAX_RXNFC_FILTERS).
const NFCTableSize = 16

// nfcKey is what a rule matches: comparable, for the duplicate check.
type nfcKey struct {
	ether            bool // an EtherType rule; else an IPv4 5-tuple rule
	etype            uint16
	flow             ethtool.FlowType // the IPv4 flow type
	proto            uint8
	protoOK          bool // proto is compared
	src, dst         [4]byte
	srcOK, dstOK     bool
	sport, dport     uint16
	sportOK, dportOK bool
}

// nfcRule is one installed rule (struct igb_nfc_filter).
type nfcRule struct {
	key   nfcKey
	queue uint32
	hits  uint64 // frames its filter steered
	slot  int    // its ETQF or FTQF index while programmed, else -1
}

const nfcOp = "rx class rule"

func nfcErr(errno syscall.Errno, format string, args ...any) error {
	return ethtool.Errorf(nfcOp, errno, format, args...)
}

var _ ethtool.RxClsOps = (*Adapter)(nil)

// GetRxRings is ETHTOOL_GRXRINGS.
func (a *Adapter) GetRxRings() (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return uint32(a.cfg.Queues), nil
}

// GetRxClsRules lists the rules in location order (ETHTOOL_GRXCLSRLALL).
// Special is set: an insert may ask the driver to choose the location
// (igb leaves that to ethtool's rule manager, which picks the same slot:
// the highest free one for "any").
func (a *Adapter) GetRxClsRules() (ethtool.RxClsRules, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := ethtool.RxClsRules{TableSize: NFCTableSize, Special: true}
	for loc, r := range a.nfc {
		if r != nil {
			out.Rules = append(out.Rules, r.clsRule(uint32(loc)))
		}
	}
	return out, nil
}

// clsRule is the rule as ethtool -n shows it.
func (r *nfcRule) clsRule(loc uint32) ethtool.RxClsRule {
	k := r.key
	c := ethtool.RxClsRule{RingCookie: uint64(r.queue), Location: loc}
	if k.ether {
		c.FlowType = ethtool.EtherFlow
		c.Value.EtherType, c.Mask.EtherType = k.etype, 0xFFFF
		return c
	}
	c.FlowType = k.flow
	if k.srcOK {
		c.Value.Src, c.Mask.Src = k.src, [4]byte{0xff, 0xff, 0xff, 0xff}
	}
	if k.dstOK {
		c.Value.Dst, c.Mask.Dst = k.dst, [4]byte{0xff, 0xff, 0xff, 0xff}
	}
	if k.sportOK {
		c.Value.SrcPort, c.Mask.SrcPort = k.sport, 0xFFFF
	}
	if k.dportOK {
		c.Value.DstPort, c.Mask.DstPort = k.dport, 0xFFFF
	}
	if k.flow == ethtool.IPUserFlow && k.protoOK {
		c.Value.Proto, c.Mask.Proto = k.proto, 0xFF
	}
	return c
}

// InsertRxClsRule is ETHTOOL_SRXCLSRLINS (igb_add_ethtool_nfc_entry). A
// rule at an occupied location replaces it.
func (a *Adapter) InsertRxClsRule(r ethtool.RxClsRule) (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.RingCookie == ethtool.RxClsFlowDisc:
		return 0, nfcErr(syscall.EINVAL, "action -1 (drop): the device's queue filters cannot drop frames")
	case r.RingCookie >= uint64(a.cfg.Queues):
		return 0, nfcErr(syscall.EINVAL, "action %d: the specified action is invalid, want a queue below %d", int64(r.RingCookie), a.cfg.Queues)
	}
	loc := r.Location
	switch loc {
	case ethtool.RxClsLocAny, ethtool.RxClsLocLast, ethtool.RxClsLocFirst:
		free := -1
		for i := range a.nfc {
			if a.nfc[i] == nil && (free < 0 || loc != ethtool.RxClsLocFirst) {
				free = i
			}
		}
		if free < 0 {
			return 0, nfcErr(syscall.ENOSPC, "all %d rule locations are in use", NFCTableSize)
		}
		loc = uint32(free)
	default:
		if loc >= NFCTableSize {
			return 0, nfcErr(syscall.EINVAL, "location %d out of range: the table has %d", loc, NFCTableSize)
		}
	}
	key, err := nfcParse(r)
	if err != nil {
		return 0, err
	}
	for _, o := range a.nfc {
		if o != nil && o.key == key {
			return 0, nfcErr(syscall.EEXIST, "this filter is already set")
		}
	}
	used := 0
	for i, o := range a.nfc {
		if o != nil && uint32(i) != loc && o.key.ether == key.ether {
			used++
		}
	}
	kind, limit := "5-tuple", hw.NumFTQF
	if key.ether {
		kind, limit = "etype", hw.NumETQF
	}
	if key.ether && r.RingCookie > hw.EtqfQueueMask>>hw.EtqfQueueShift {
		return 0, nfcErr(syscall.EINVAL, "action %d: etype filters steer to queues 0-7 only", r.RingCookie)
	}
	if used >= limit {
		return 0, nfcErr(syscall.EINVAL, "%s filters are all used (%d)", kind, limit)
	}
	a.foldNFCHits()
	a.nfc[loc] = &nfcRule{key: key, queue: uint32(r.RingCookie), slot: -1}
	if a.running {
		a.programNFC()
	}
	return loc, nil
}

// DeleteRxClsRule is ETHTOOL_SRXCLSRLDEL. An empty location is EINVAL, as
// igb answers (igb_update_ethtool_nfc_entry), not ENOENT.
func (a *Adapter) DeleteRxClsRule(loc uint32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if loc >= NFCTableSize || a.nfc[loc] == nil {
		return nfcErr(syscall.EINVAL, "no rule at location %d", loc)
	}
	a.foldNFCHits()
	a.nfc[loc] = nil
	if a.running {
		a.programNFC()
	}
	return nil
}

// nfcParse checks that the device can match r and returns what it matches.
func nfcParse(r ethtool.RxClsRule) (nfcKey, error) {
	var k nfcKey
	ft := r.FlowType &^ (ethtool.FlowExt | ethtool.FlowMACExt | ethtool.FlowRSS)
	v, m := r.Value, r.Mask
	switch {
	case r.FlowType&ethtool.FlowRSS != 0:
		return k, nfcErr(syscall.EINVAL, "RSS contexts are not supported")
	case r.FlowType&ethtool.FlowMACExt != 0 && m.ExtDstMAC != [6]byte{}:
		return k, nfcErr(syscall.EINVAL, "dst-mac is not matched by the queue filters")
	case r.FlowType&ethtool.FlowExt != 0 && (m.VLANEtype != 0 || m.VLANTCI != 0 || m.UserDef != [2]uint32{}):
		return k, nfcErr(syscall.EINVAL, "vlan, vlan-etype and user-def are not matched: the device has no VLAN priority filter")
	}
	full4 := func(name string, mask [4]byte) (bool, error) {
		switch mask {
		case [4]byte{}:
			return false, nil
		case [4]byte{0xff, 0xff, 0xff, 0xff}:
			return true, nil
		}
		return false, nfcErr(syscall.EINVAL, "%s mask %d.%d.%d.%d: the device compares the whole address or none of it", name, mask[0], mask[1], mask[2], mask[3])
	}
	full16 := func(name string, mask uint16) (bool, error) {
		switch mask {
		case 0:
			return false, nil
		case 0xFFFF:
			return true, nil
		}
		return false, nfcErr(syscall.EINVAL, "%s mask %#x: the device compares the whole port or none of it", name, mask)
	}
	var err error
	switch ft {
	case ethtool.EtherFlow:
		if m.DstMAC != [6]byte{} || m.SrcMAC != [6]byte{} {
			return k, nfcErr(syscall.EINVAL, "ether rules cannot match MAC addresses")
		}
		if m.EtherType != 0xFFFF {
			return k, nfcErr(syscall.EINVAL, "ether rules match proto, with the full mask (mask %#x)", m.EtherType)
		}
		k.ether, k.etype = true, v.EtherType
		return k, nil
	case ethtool.TCPv4Flow, ethtool.UDPv4Flow, ethtool.SCTPv4Flow:
		k.proto, k.protoOK = map[ethtool.FlowType]uint8{ethtool.TCPv4Flow: 6, ethtool.UDPv4Flow: 17, ethtool.SCTPv4Flow: 132}[ft], true
		if m.Proto != 0 || m.L4Bytes != 0 {
			return k, nfcErr(syscall.EINVAL, "l4proto and l4data are not fields of flow type %#x", uint32(ft))
		}
		if k.sportOK, err = full16("src-port", m.SrcPort); err != nil {
			return k, err
		}
		if k.dportOK, err = full16("dst-port", m.DstPort); err != nil {
			return k, err
		}
	case ethtool.IPUserFlow:
		switch m.Proto {
		case 0:
		case 0xFF:
			k.proto, k.protoOK = v.Proto, true
		default:
			return k, nfcErr(syscall.EINVAL, "l4proto mask %#x: the device compares the whole protocol or none of it", m.Proto)
		}
		if m.L4Bytes != 0 {
			return k, nfcErr(syscall.EINVAL, "l4data is not matched by the queue filters")
		}
		if m.SrcPort != 0 || m.DstPort != 0 {
			return k, nfcErr(syscall.EINVAL, "ports are not fields of ip4 rules; use tcp4, udp4 or sctp4")
		}
	default:
		return k, nfcErr(syscall.EINVAL, "flow type %#x is not supported: use ether, tcp4, udp4, sctp4 or ip4", uint32(r.FlowType))
	}
	if m.TOS != 0 {
		return k, nfcErr(syscall.EINVAL, "tos is not matched by the queue filters")
	}
	if m.DstMAC != [6]byte{} || m.SrcMAC != [6]byte{} || m.EtherType != 0 {
		return k, nfcErr(syscall.EINVAL, "MAC addresses and proto are not fields of IPv4 rules")
	}
	k.flow = ft
	if k.srcOK, err = full4("src-ip", m.Src); err != nil {
		return k, err
	}
	if k.dstOK, err = full4("dst-ip", m.Dst); err != nil {
		return k, err
	}
	if k.srcOK {
		k.src = v.Src
	}
	if k.dstOK {
		k.dst = v.Dst
	}
	if k.sportOK {
		k.sport = v.SrcPort
	}
	if k.dportOK {
		k.dport = v.DstPort
	}
	return k, nil
}

// wirePort is a port as the filter registers hold it: network order, the
// first byte in bits 7:0 (igb writes htons(port)).
func wirePort(p uint16) uint32 { return uint32(p>>8) | uint32(p&0xFF)<<8 }

// programNFC writes every rule to the device (igb_nfc_filter_restore): the
// EtherType rules to ETQF 0.., the IPv4 rules to the 5-tuple filters 0..,
// each kind in location order, so that between two matching rules of a
// kind the lower location wins (equal IMIR priority: the lower filter).
// Unused filters are turned off. The hit counters must have been folded.
func (a *Adapter) programNFC() {
	var e, f int
	for _, r := range a.nfc {
		if r == nil {
			continue
		}
		k := r.key
		if k.ether {
			r.slot = e
			a.wr32(hw.ETQF(e), uint32(k.etype)|r.queue<<hw.EtqfQueueShift&hw.EtqfQueueMask|hw.EtqfFilterEn|hw.EtqfQueueEnable)
			e++
			continue
		}
		r.slot = f
		ftqf := uint32(k.proto) | r.queue<<hw.FtqfQueueShift&hw.FtqfQueueMask | hw.FtqfQueueEnable
		imir := wirePort(k.dport)
		if !k.protoOK {
			ftqf |= hw.FtqfProtoBP
		}
		if !k.srcOK {
			ftqf |= hw.FtqfSrcAddrBP
		}
		if !k.dstOK {
			ftqf |= hw.FtqfDstAddrBP
		}
		if !k.sportOK {
			ftqf |= hw.FtqfSrcPortBP
		}
		if !k.dportOK {
			imir |= hw.ImirPortBP
		}
		a.wr32(hw.FTQF(f), 0) // off while its fields change
		a.wr32(hw.SAQF(f), binary.LittleEndian.Uint32(k.src[:]))
		a.wr32(hw.DAQF(f), binary.LittleEndian.Uint32(k.dst[:]))
		a.wr32(hw.SPQF(f), wirePort(k.sport))
		a.wr32(hw.IMIR(f), imir)
		a.wr32(hw.IMIREXT(f), hw.ImirextSizeBP|hw.ImirextCtrlBP)
		a.wr32(hw.FTQF(f), ftqf)
		f++
	}
	for ; e < hw.NumETQF; e++ {
		a.wr32(hw.ETQF(e), 0)
	}
	for ; f < hw.NumFTQF; f++ {
		a.wr32(hw.FTQF(f), 0)
	}
}

// eraseNFC turns every filter off, the rules kept (igb_nfc_filter_exit at
// igb_down), after folding their counts.
func (a *Adapter) eraseNFC() {
	a.foldNFCHits()
	for n := 0; n < hw.NumETQF; n++ {
		a.wr32(hw.ETQF(n), 0)
	}
	for n := 0; n < hw.NumFTQF; n++ {
		a.wr32(hw.FTQF(n), 0)
	}
	for _, r := range a.nfc {
		if r != nil {
			r.slot = -1
		}
	}
}

// clearNFC empties the table: rx-ntuple-filter turned off.
func (a *Adapter) clearNFC() {
	if a.running {
		a.eraseNFC()
	}
	a.nfc = [NFCTableSize]*nfcRule{}
}

// foldNFCHits adds the device's clear-on-read hit counters to the rules
// programmed into the filters.
func (a *Adapter) foldNFCHits() {
	if !a.running {
		return
	}
	for _, r := range a.nfc {
		if r == nil || r.slot < 0 {
			continue
		}
		off := hw.VFTQFHC(r.slot)
		if r.key.ether {
			off = hw.VETQFHC(r.slot)
		}
		n := uint64(a.rd32(off))
		r.hits += n
		a.nfcHits += n
	}
}

// nfcStats are the ntuple counters of ethtool -S: rx_ntuple_hits (every
// frame a rule steered since probe), then rx_ntuple_<loc>_hits for each
// installed rule (since it was inserted).
func (a *Adapter) nfcStats() []ethtool.Stat {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.foldNFCHits()
	out := []ethtool.Stat{{Name: "rx_ntuple_hits", Value: a.nfcHits}}
	for loc, r := range a.nfc {
		if r != nil {
			out = append(out, ethtool.Stat{Name: fmt.Sprintf("rx_ntuple_%d_hits", loc), Value: r.hits})
		}
	}
	return out
}

// nfcMaxQueue is the highest queue a rule steers to, or -1.
func (a *Adapter) nfcMaxQueue() int {
	m := -1
	for _, r := range a.nfc {
		if r != nil {
			m = max(m, int(r.queue))
		}
	}
	return m
}
