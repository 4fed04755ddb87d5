package iptables

import (
	"syscall"

	"vnic/header"
	"vnic/stack/netfilter/conntrack"
)

// MarkTargetInfo is the MARK target, revision 2 (struct
// xt_mark_tginfo2): mark = (mark &^ Mask) ^ Mark.
type MarkTargetInfo struct{ Mark, Mask uint32 }

type markTarget struct{ MarkTargetInfo }

func (t *markTarget) Target(p Param) Verdict {
	p.SKB.Mark = p.SKB.Mark&^t.Mask ^ t.Mark
	return Continue
}

// ConnmarkTargetInfo is the CONNMARK target, revision 2 (struct
// xt_connmark_tginfo2).
type ConnmarkTargetInfo struct {
	CTMark, CTMask, NFMask uint32
	ShiftDir, ShiftBits    uint8
	Mode                   uint8 // ConnmarkSet, ConnmarkSave, ConnmarkRestore
}

// CONNMARK modes and shifts (XT_CONNMARK_*, D_SHIFT_*).
const (
	ConnmarkSet     = 0
	ConnmarkSave    = 1
	ConnmarkRestore = 2
	ShiftLeft       = 0
	ShiftRight      = 1
)

type connmarkTarget struct {
	ConnmarkTargetInfo
	ctUser
}

func (t *connmarkTarget) shift(v uint32) uint32 {
	if t.ShiftDir == ShiftRight {
		return v >> t.ShiftBits
	}
	return v << t.ShiftBits
}

// Target is connmark_tg_shift.
func (t *connmarkTarget) Target(p Param) Verdict {
	ct, _ := conntrack.Get(p.SKB)
	if ct == nil {
		return Continue
	}
	switch t.Mode {
	case ConnmarkSet:
		ct.SetMark(t.shift(ct.Mark()&^t.CTMask ^ t.CTMark))
	case ConnmarkSave:
		ct.SetMark(ct.Mark()&^t.CTMask ^ t.shift(p.SKB.Mark&t.NFMask))
	case ConnmarkRestore:
		p.SKB.Mark = p.SKB.Mark&^t.NFMask ^ t.shift(ct.Mark()&t.CTMask)
	}
	return Continue
}

// TTLTargetInfo is the TTL target (struct ipt_TTL_info).
type TTLTargetInfo struct {
	Mode uint8 // TTLSet, TTLInc, TTLDec
	TTL  uint8
}

// TTL target modes (IPT_TTL_*).
const (
	TTLSet = 0
	TTLInc = 1
	TTLDec = 2
)

type ttlTarget struct{ TTLTargetInfo }

// Target is ttl_tg: the TTL set, raised or lowered (within 0..255), the
// header checksum updated.
func (t *ttlTarget) Target(p Param) Verdict {
	old := int(p.IP.TTL())
	n := int(t.TTL)
	switch t.Mode {
	case TTLInc:
		n = min(old+n, 255)
	case TTLDec:
		n = max(old-n, 0)
	}
	if n != old {
		p.IP.SetChecksum(header.Update16(p.IP.Checksum(), uint16(old)<<8|uint16(p.IP.Protocol()), uint16(n)<<8|uint16(p.IP.Protocol())))
		p.IP.SetTTL(uint8(n))
	}
	return Continue
}

// DSCPTargetInfo is the DSCP target (struct xt_DSCP_info).
type DSCPTargetInfo struct{ DSCP uint8 }

type dscpTarget struct{ DSCPTargetInfo }

// Target is dscp_tg: the code point set, the ECN bits kept.
func (t *dscpTarget) Target(p Param) Verdict {
	old := p.IP.TOS()
	n := old&0x03 | t.DSCP<<2
	if n != old {
		p.IP.SetChecksum(header.Update16(p.IP.Checksum(), uint16(p.IP[0])<<8|uint16(old), uint16(p.IP[0])<<8|uint16(n)))
		p.IP.SetTOS(n)
	}
	return Continue
}

func init() {
	RegisterTarget(&TargetType{Name: "MARK", Revision: 2, NewInfo: func() any { return new(MarkTargetInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) { return &markTarget{*info.(*MarkTargetInfo)}, nil }})
	RegisterTarget(&TargetType{Name: "CONNMARK", Revision: 2, NewInfo: func() any { return new(ConnmarkTargetInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*ConnmarkTargetInfo)
			if i.Mode > ConnmarkRestore || i.ShiftDir > ShiftRight || i.ShiftBits > 31 {
				return nil, checkErr("x_tables: CONNMARK: bad mode or shift")
			}
			u, err := holdConntrack(c, "CONNMARK")
			if err != nil {
				return nil, err
			}
			return &connmarkTarget{ConnmarkTargetInfo: *i, ctUser: u}, nil
		}})
	RegisterTarget(&TargetType{Name: "TTL", Table: "mangle", NewInfo: func() any { return new(TTLTargetInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*TTLTargetInfo)
			if i.Mode > TTLDec {
				return nil, checkErr("x_tables: TTL: invalid or unknown mode %d", i.Mode)
			}
			if i.Mode != TTLSet && i.TTL == 0 {
				return nil, checkErr("x_tables: TTL: increment/decrement by 0")
			}
			return &ttlTarget{*i}, nil
		}})
	RegisterTarget(&TargetType{Name: "DSCP", Table: "mangle", NewInfo: func() any { return new(DSCPTargetInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*DSCPTargetInfo)
			if i.DSCP > DSCPMax {
				return nil, errorf(syscall.EDOM, "x_tables: DSCP: dscp %x out of range", i.DSCP)
			}
			return &dscpTarget{*i}, nil
		}})
}
