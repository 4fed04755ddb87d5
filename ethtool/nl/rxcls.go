package nl

import (
	"bytes"
	"encoding/binary"
	"syscall"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
)

// flowFieldsLen is the size of ethtool.FlowFields in its wire layout
// (encoding/binary of the struct's fixed-size fields, little-endian).
var flowFieldsLen = binary.Size(ethtool.FlowFields{})

func encodeFlowFields(f ethtool.FlowFields) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, f)
	return b.Bytes()
}

// decodeFlowFields is the inverse; a payload of another size is EINVAL.
func decodeFlowFields(p []byte) (ethtool.FlowFields, error) {
	var f ethtool.FlowFields
	if len(p) != flowFieldsLen {
		return f, ethtool.Errorf("rx class rule", syscall.EINVAL, "flow fields of %d bytes, want %d", len(p), flowFieldsLen)
	}
	err := binary.Read(bytes.NewReader(p), binary.LittleEndian, &f)
	return f, err
}

func encodeRule(ae *netlink.AttributeEncoder, r ethtool.RxClsRule) {
	ae.Uint32(VAFlowType, uint32(r.FlowType))
	ae.Bytes(VARuleValue, encodeFlowFields(r.Value))
	ae.Bytes(VARuleMask, encodeFlowFields(r.Mask))
	ae.Uint64(VARing, r.RingCookie)
	ae.Uint32(VALoc, r.Location)
}

// decodeRule reads one rule's attributes (the VARule nest's payload, or a
// request's top level).
func decodeRule(p []byte) (ethtool.RxClsRule, error) {
	var r ethtool.RxClsRule
	var value, mask []byte
	have := 0
	err := tlv(p, func(_ int, t uint16, b []byte) bool {
		switch t {
		case VAFlowType:
			v, _ := u32(b)
			r.FlowType = ethtool.FlowType(v)
			have |= 1
		case VARuleValue:
			value = b
			have |= 2
		case VARuleMask:
			mask = b
			have |= 4
		case VARing:
			if len(b) == 8 {
				r.RingCookie = binary.LittleEndian.Uint64(b)
			}
		case VALoc:
			r.Location, _ = u32(b)
		}
		return true
	})
	if err != nil {
		return r, err
	}
	if have != 7 {
		return r, ethtool.Errorf("rx class rule", syscall.EINVAL, "rule without flow type, value or mask")
	}
	if r.Value, err = decodeFlowFields(value); err != nil {
		return r, err
	}
	r.Mask, err = decodeFlowFields(mask)
	return r, err
}

// decodeRxClsRules reads a VMsgRxClsGet reply.
func decodeRxClsRules(p []byte) (ethtool.RxClsRules, error) {
	var out ethtool.RxClsRules
	var ruleErr error
	err := tlv(p, func(_ int, t uint16, b []byte) bool {
		switch t {
		case VATableSize:
			out.TableSize, _ = u32(b)
		case VASpecial:
			out.Special = true
		case VARule:
			r, err := decodeRule(b)
			if err != nil {
				ruleErr = err
				return false
			}
			out.Rules = append(out.Rules, r)
		}
		return true
	})
	if err == nil {
		err = ruleErr
	}
	return out, err
}

func decodeTSInfo(m map[uint16][]byte) ethtool.TSInfo {
	return ethtool.TSInfo{Capabilities: get32(m, VATSCaps), PHCIndex: int32(get32(m, VAPHCIndex)),
		TxTypes: get32(m, VATxTypes), RxFilters: get32(m, VARxFilters)}
}

// rxclsCmd serves the vendor family's timestamping, ntuple and
// absent-operation commands.
func rxclsCmd(dev ethtool.Device, cmd uint8, m map[uint16][]byte, reply func(fn func(ae *netlink.AttributeEncoder)) []Reply) ([]Reply, bool, error) {
	switch cmd {
	case VMsgTSInfoGet:
		t, err := dev.TSInfo()
		if err != nil {
			return nil, true, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			ae.Uint32(VATSCaps, t.Capabilities)
			ae.Uint32(VAPHCIndex, uint32(t.PHCIndex))
			ae.Uint32(VATxTypes, t.TxTypes)
			ae.Uint32(VARxFilters, t.RxFilters)
		}), true, nil
	case VMsgRxRingsGet:
		n, err := dev.RxRings()
		if err != nil {
			return nil, true, err
		}
		return reply(func(ae *netlink.AttributeEncoder) { ae.Uint32(VARxRings, n) }), true, nil
	case VMsgRxClsGet:
		rs, err := dev.RxClsRules()
		if err != nil {
			return nil, true, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			ae.Uint32(VATableSize, rs.TableSize)
			ae.Flag(VASpecial, rs.Special)
			for _, r := range rs.Rules {
				ae.Nested(VARule, func(n *netlink.AttributeEncoder) error {
					encodeRule(n, r)
					return nil
				})
			}
		}), true, nil
	case VMsgRxClsIns:
		b, ok := m[VARule]
		if !ok {
			return nil, true, ethtool.Errorf("insert rx class rule", syscall.EINVAL, "request without a rule")
		}
		r, err := decodeRule(b)
		if err != nil {
			return nil, true, err
		}
		loc, err := dev.InsertRxClsRule(r)
		if err != nil {
			return nil, true, err
		}
		return reply(func(ae *netlink.AttributeEncoder) { ae.Uint32(VALoc, loc) }), true, nil
	case VMsgRxClsDel:
		loc, ok := u32(m[VALoc])
		if !ok {
			return nil, true, ethtool.Errorf("delete rx class rule", syscall.EINVAL, "request without a location")
		}
		return nil, true, dev.DeleteRxClsRule(loc)
	case VMsgExtAct:
		b := m[VAExtOp]
		if len(b) != 1 || b[0] == 0 || ethtool.ExtOp(b[0]) >= ethtool.NumExtOps {
			return nil, true, ethtool.Errorf("ext", syscall.EINVAL, "unknown operation")
		}
		return nil, true, dev.Ext(ethtool.ExtOp(b[0]))
	}
	return nil, false, nil
}

func (c *client) TSInfo() (ethtool.TSInfo, error) {
	m, err := c.get(VendorFamilyName, VMsgTSInfoGet, 0, nil)
	if err != nil {
		return ethtool.TSInfo{}, err
	}
	return decodeTSInfo(m), nil
}

func (c *client) RxRings() (uint32, error) {
	m, err := c.get(VendorFamilyName, VMsgRxRingsGet, 0, nil)
	if err != nil {
		return 0, err
	}
	return get32(m, VARxRings), nil
}

func (c *client) RxClsRules() (ethtool.RxClsRules, error) {
	r, err := c.t.Execute(VendorFamilyName, VMsgRxClsGet, netlink.Request, c.request(0, nil))
	if err != nil {
		return ethtool.RxClsRules{}, err
	}
	if len(r) != 1 {
		return ethtool.RxClsRules{}, ethtool.Errorf("netlink", syscall.EPROTO, "%d replies to command %d, want 1", len(r), VMsgRxClsGet)
	}
	return decodeRxClsRules(r[0].Attrs)
}

func (c *client) InsertRxClsRule(rule ethtool.RxClsRule) (uint32, error) {
	m, err := c.get(VendorFamilyName, VMsgRxClsIns, 0, func(ae *netlink.AttributeEncoder) {
		ae.Nested(VARule, func(n *netlink.AttributeEncoder) error {
			encodeRule(n, rule)
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	return get32(m, VALoc), nil
}

func (c *client) DeleteRxClsRule(loc uint32) error {
	return c.set(VendorFamilyName, VMsgRxClsDel, func(ae *netlink.AttributeEncoder) { ae.Uint32(VALoc, loc) })
}

func (c *client) Ext(op ethtool.ExtOp) error {
	return c.set(VendorFamilyName, VMsgExtAct, func(ae *netlink.AttributeEncoder) { ae.Uint8(VAExtOp, uint8(op)) })
}
