package iptables

import (
	"vnic/stack"
)

// IFNAMSIZ is the size of an interface name with its NUL.
const IFNAMSIZ = 16

// IPMatch is a rule's IPv4 part (struct ipt_ip): addresses under masks,
// interfaces under masks, the protocol and the fragment flag, each
// invertible by its bit in InvFlags. Src and Dst are stored masked.
type IPMatch struct {
	Src, Dst         [4]byte
	SrcMask, DstMask [4]byte
	InIface          [IFNAMSIZ]byte
	OutIface         [IFNAMSIZ]byte
	InMask           [IFNAMSIZ]byte
	OutMask          [IFNAMSIZ]byte
	Proto            uint16
	Flags            uint8
	InvFlags         uint8
}

// IPMatch flags (IPT_F_*) and inversion bits (IPT_INV_*).
const (
	FlagFrag = 0x01 // -f: non-first fragments only
	FlagGoto = 0x02 // the target's chain is gone to, not jumped to (-g)
	flagMask = 0x03

	InvViaIn  = 0x01
	InvViaOut = 0x02
	InvTOS    = 0x04
	InvSrcIP  = 0x08
	InvDstIP  = 0x10
	InvFrag   = 0x20
	InvProto  = 0x40
	invMask   = 0x7f
)

// SetIface sets an interface and its mask as iptables parses "-i name"
// (xtables_parse_interface): a trailing + (kept in the name, outside the
// mask) matches every name with the prefix; otherwise the mask covers
// the name and its NUL.
func SetIface(name string, iface, mask *[IFNAMSIZ]byte) {
	clear(iface[:])
	clear(mask[:])
	copy(iface[:IFNAMSIZ-1], name)
	n := len(name)
	if n == 0 {
		return
	}
	if name[n-1] == '+' {
		n--
	} else {
		n++
	}
	for i := 0; i < n && i < IFNAMSIZ; i++ {
		mask[i] = 0xff
	}
}

// ipm is an IPMatch compiled for the traversal.
type ipm struct {
	src, smsk, dst, dmsk uint32
	proto                uint8
	anyProto             bool
	flags, inv           uint8
	inAny, outAny        bool
	in, inMask           [IFNAMSIZ]byte
	out, outMask         [IFNAMSIZ]byte
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func compileIP(m *IPMatch) ipm {
	c := ipm{src: be32(m.Src), smsk: be32(m.SrcMask), dst: be32(m.Dst), dmsk: be32(m.DstMask),
		proto: uint8(m.Proto), anyProto: m.Proto == 0, flags: m.Flags, inv: m.InvFlags,
		in: m.InIface, inMask: m.InMask, out: m.OutIface, outMask: m.OutMask}
	c.inAny = m.InMask == [IFNAMSIZ]byte{}
	c.outAny = m.OutMask == [IFNAMSIZ]byte{}
	return c
}

// ifaceDiffers is ifname_compare_aligned: whether dev's name differs from
// iface under mask (a missing device has the empty name).
func ifaceDiffers(dev *stack.NetDevice, iface, mask *[IFNAMSIZ]byte) bool {
	var name string
	if dev != nil {
		name = dev.Name()
	}
	for i := 0; i < IFNAMSIZ; i++ {
		var c byte
		if i < len(name) {
			c = name[i]
		}
		if (c^iface[i])&mask[i] != 0 {
			return true
		}
	}
	return false
}

// match is ip_packet_match.
func (m *ipm) match(saddr, daddr uint32, proto uint8, fragoff uint16, st *stack.NFState) bool {
	if (saddr&m.smsk != m.src) != (m.inv&InvSrcIP != 0) ||
		(daddr&m.dmsk != m.dst) != (m.inv&InvDstIP != 0) {
		return false
	}
	if !m.inAny || m.inv&InvViaIn != 0 {
		if ifaceDiffers(st.In, &m.in, &m.inMask) != (m.inv&InvViaIn != 0) {
			return false
		}
	}
	if !m.outAny || m.inv&InvViaOut != 0 {
		if ifaceDiffers(st.Out, &m.out, &m.outMask) != (m.inv&InvViaOut != 0) {
			return false
		}
	}
	if !m.anyProto && (proto != m.proto) != (m.inv&InvProto != 0) {
		return false
	}
	if (m.flags&FlagFrag != 0 && fragoff == 0) != (m.inv&InvFrag != 0) {
		return false
	}
	return true
}

// ipCheck is ip_checkentry: only known flags and inversions.
func ipCheck(m *IPMatch) error {
	if m.Flags&^flagMask != 0 {
		return checkErr("ip_tables: unknown flags %#x", m.Flags)
	}
	if m.InvFlags&^invMask != 0 {
		return checkErr("ip_tables: unknown invflags %#x", m.InvFlags)
	}
	return nil
}
