package rtnetlink

import (
	"encoding/binary"
	"errors"
)

// Traffic control messages (linux/rtnetlink.h, linux/pkt_sched.h,
// linux/gen_stats.h): struct tcmsg with its TCA_* attributes, as the
// kernel dumps a qdisc and as tc asks for one.

// Qdisc message types.
const (
	RTMNewQdisc = 36
	RTMDelQdisc = 37
	RTMGetQdisc = 38

	GroupTC  = 4   // RTNLGRP_TC
	RTMGrpTC = 0x8 // RTMGRP_TC
)

// TCA_* attributes of a tcmsg.
const (
	tcaKind          = 1
	tcaOptions       = 2
	tcaStats         = 3
	tcaXstats        = 4
	tcaRate          = 5
	tcaStats2        = 7
	tcaStab          = 8
	tcaDumpInvisible = 10
	tcaHWOffload     = 12
	tcaIngressBlock  = 13
	tcaEgressBlock   = 14
	tcaExtWarnMsg    = 16

	tcaStatsBasic   = 1
	tcaStatsRateEst = 2
	tcaStatsQueue   = 3
	tcaStatsPkt64   = 8
)

// nlaFNested is NLA_F_NESTED; nlaTypeMask the type without the flags.
const (
	nlaFNested  = 0x8000
	nlaTypeMask = 0x3fff
)

// tcmsgLen is sizeof(struct tcmsg).
const tcmsgLen = 20

// ErrShortTC is a tcmsg shorter than its header.
var ErrShortTC = errors.New("rtnetlink: tcmsg too short")

// QdiscMsg is struct tcmsg with a qdisc's attributes. Handle and Parent
// are TC_H_* handles (major:minor in 16 bits each); Info is the qdisc's
// reference count in a dump. Options is TCA_OPTIONS as its kind encodes
// it (a netem's: NetemOptions).
type QdiscMsg struct {
	Family  uint8
	Ifindex int32
	Handle  uint32
	Parent  uint32
	Info    uint32

	Kind       string
	Options    []byte // nil: no TCA_OPTIONS
	HasOptions bool
	// Rate is TCA_RATE (struct tc_estimator); Stab, IngressBlock and
	// EgressBlock say the request carries those.
	Rate          []byte
	HasStab       bool
	IngressBlock  *uint32
	EgressBlock   *uint32
	HWOffload     *uint8
	Stats         *QdiscStats // TCA_STATS2 (and the TCA_STATS copy)
	DumpInvisible bool
	ExtWarn       string
}

// QdiscStats are gnet_stats_basic and gnet_stats_queue as a dump carries
// them (TCA_STATS_BASIC, TCA_STATS_PKT64, TCA_STATS_QUEUE).
type QdiscStats struct {
	Bytes, Packets                 uint64
	Qlen, Backlog, Drops           uint32
	Requeues, Overlimits           uint32
	HasBasic, HasQueue, HasRateEst bool
	BPS, PPS                       uint64 // the rate estimator's (TCA_STATS_RATE_EST)
	// Compat: the message had only the old TCA_STATS (struct tc_stats).
	Compat bool
}

// Marshal encodes the message body (the tcmsg and its attributes, in the
// order the kernel dumps them; a request's are a subset in tc's order).
func (m QdiscMsg) Marshal() []byte {
	b := make([]byte, tcmsgLen, 256)
	b[0] = m.Family
	binary.NativeEndian.PutUint32(b[4:], uint32(m.Ifindex))
	binary.NativeEndian.PutUint32(b[8:], m.Handle)
	binary.NativeEndian.PutUint32(b[12:], m.Parent)
	binary.NativeEndian.PutUint32(b[16:], m.Info)
	if m.Kind != "" {
		b = appendAttr(b, tcaKind, append([]byte(m.Kind), 0))
	}
	if m.Rate != nil {
		b = appendAttr(b, tcaRate, m.Rate)
	}
	if m.IngressBlock != nil {
		b = tcU32(b, tcaIngressBlock, *m.IngressBlock)
	}
	if m.EgressBlock != nil {
		b = tcU32(b, tcaEgressBlock, *m.EgressBlock)
	}
	if m.HasOptions || m.Options != nil {
		b = appendAttr(b, tcaOptions, m.Options)
	}
	if m.HWOffload != nil {
		b = appendAttr(b, tcaHWOffload, []byte{*m.HWOffload})
	}
	if m.DumpInvisible {
		b = appendAttr(b, tcaDumpInvisible, nil)
	}
	if s := m.Stats; s != nil {
		b = s.append(b)
	}
	if m.ExtWarn != "" {
		b = appendAttr(b, tcaExtWarnMsg, append([]byte(m.ExtWarn), 0))
	}
	return b
}

// append puts TCA_STATS2 (basic, the 64-bit packet count when it does not
// fit 32 bits, queue) and the compatibility TCA_STATS, as
// gnet_stats_copy_* and gnet_stats_finish_copy do.
func (s *QdiscStats) append(b []byte) []byte {
	start := len(b)
	b = appendAttr(b, tcaStats2, nil)
	basic := make([]byte, 16)
	binary.NativeEndian.PutUint64(basic, s.Bytes)
	binary.NativeEndian.PutUint32(basic[8:], uint32(min(s.Packets, 0xffffffff)))
	b = appendAttr(b, tcaStatsBasic, basic)
	if s.Packets > 0xffffffff {
		b = tcU64(b, tcaStatsPkt64, s.Packets)
	}
	q := make([]byte, 20)
	for i, v := range []uint32{s.Qlen, s.Backlog, s.Drops, s.Requeues, s.Overlimits} {
		binary.NativeEndian.PutUint32(q[4*i:], v)
	}
	b = appendAttr(b, tcaStatsQueue, q)
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	// struct tc_stats: bytes, packets, drops, overlimits, bps, pps,
	// qlen, backlog (and 4 bytes of alignment).
	c := make([]byte, 40)
	binary.NativeEndian.PutUint64(c, s.Bytes)
	for i, v := range []uint32{uint32(s.Packets), s.Drops, s.Overlimits, uint32(s.BPS), uint32(s.PPS), s.Qlen, s.Backlog} {
		binary.NativeEndian.PutUint32(c[8+4*i:], v)
	}
	return appendAttr(b, tcaStats, c)
}

// Unmarshal decodes a message body. Attributes it does not know, and a
// malformed tail, are skipped as the kernel's deprecated parsing and
// iproute2's parse_rtattr skip them.
func (m *QdiscMsg) Unmarshal(b []byte) error {
	if len(b) < tcmsgLen {
		return ErrShortTC
	}
	*m = QdiscMsg{
		Family:  b[0],
		Ifindex: int32(binary.NativeEndian.Uint32(b[4:])),
		Handle:  binary.NativeEndian.Uint32(b[8:]),
		Parent:  binary.NativeEndian.Uint32(b[12:]),
		Info:    binary.NativeEndian.Uint32(b[16:]),
	}
	var stats, compat []byte
	walkAttrs(b[tcmsgLen:], func(typ uint16, v []byte) {
		switch typ {
		case tcaKind:
			m.Kind = cString(v)
		case tcaOptions:
			m.Options, m.HasOptions = v, true
		case tcaRate:
			m.Rate = v
		case tcaStab:
			m.HasStab = true
		case tcaIngressBlock:
			if len(v) >= 4 {
				x := binary.NativeEndian.Uint32(v)
				m.IngressBlock = &x
			}
		case tcaEgressBlock:
			if len(v) >= 4 {
				x := binary.NativeEndian.Uint32(v)
				m.EgressBlock = &x
			}
		case tcaHWOffload:
			if len(v) >= 1 {
				x := v[0]
				m.HWOffload = &x
			}
		case tcaDumpInvisible:
			m.DumpInvisible = true
		case tcaStats2:
			stats = v
		case tcaStats:
			compat = v
		case tcaExtWarnMsg:
			m.ExtWarn = cString(v)
		}
	})
	if stats != nil {
		m.Stats = parseStats2(stats)
	} else if compat != nil {
		m.Stats = parseCompatStats(compat)
	}
	return nil
}

// parseStats2 reads TCA_STATS2 as iproute2 does: short structs are taken
// as far as they go.
func parseStats2(b []byte) *QdiscStats {
	s := &QdiscStats{}
	var pkt64 uint64
	walkAttrs(b, func(typ uint16, v []byte) {
		switch typ {
		case tcaStatsBasic:
			var x [16]byte
			copy(x[:], v)
			s.Bytes = binary.NativeEndian.Uint64(x[:])
			s.Packets = uint64(binary.NativeEndian.Uint32(x[8:]))
			s.HasBasic = true
		case tcaStatsPkt64:
			if len(v) >= 8 {
				pkt64 = binary.NativeEndian.Uint64(v)
			}
		case tcaStatsQueue:
			var x [20]byte
			copy(x[:], v)
			s.Qlen = binary.NativeEndian.Uint32(x[:])
			s.Backlog = binary.NativeEndian.Uint32(x[4:])
			s.Drops = binary.NativeEndian.Uint32(x[8:])
			s.Requeues = binary.NativeEndian.Uint32(x[12:])
			s.Overlimits = binary.NativeEndian.Uint32(x[16:])
			s.HasQueue = true
		case tcaStatsRateEst:
			var x [8]byte
			copy(x[:], v)
			s.BPS = uint64(binary.NativeEndian.Uint32(x[:]))
			s.PPS = uint64(binary.NativeEndian.Uint32(x[4:]))
			s.HasRateEst = true
		}
	})
	if pkt64 != 0 {
		s.Packets = pkt64
	}
	return s
}

// parseCompatStats reads the old TCA_STATS (struct tc_stats).
func parseCompatStats(b []byte) *QdiscStats {
	var x [40]byte
	copy(x[:], b)
	u := func(i int) uint32 { return binary.NativeEndian.Uint32(x[8+4*i:]) }
	return &QdiscStats{Bytes: binary.NativeEndian.Uint64(x[:]), Packets: uint64(u(0)), Drops: u(1), Overlimits: u(2),
		BPS: uint64(u(3)), PPS: uint64(u(4)), Qlen: u(5), Backlog: u(6), HasBasic: true, HasQueue: true, Compat: true}
}

// walkAttrs calls fn for each attribute of b with its type (flags masked
// off) and payload; it stops at a malformed one.
func walkAttrs(b []byte, fn func(typ uint16, v []byte)) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&nlaTypeMask, b[4:l])
		a := (l + 3) &^ 3
		if a > len(b) {
			return
		}
		b = b[a:]
	}
}

func tcU32(b []byte, typ uint16, v uint32) []byte {
	var x [4]byte
	binary.NativeEndian.PutUint32(x[:], v)
	return appendAttr(b, typ, x[:])
}

func tcU64(b []byte, typ uint16, v uint64) []byte {
	var x [8]byte
	binary.NativeEndian.PutUint64(x[:], v)
	return appendAttr(b, typ, x[:])
}

// cString is a NUL-terminated string attribute's text.
func cString(v []byte) string {
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}
