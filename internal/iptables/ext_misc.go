package iptables

import (
	"fmt"
	"math"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// multiportProto is check_proto: the protocol name the ports are looked
// up for.
func (p *prog) multiportProto(ip *ipt.IPMatch) (string, error) {
	if ip.InvFlags&ipt.InvProto != 0 {
		return "", p.xtError(parameterProblem, "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
	}
	if n := multiportProtoName(ip.Proto); n != "" {
		return n, nil
	}
	if ip.Proto == 0 {
		return "", p.xtError(parameterProblem, "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
	}
	return "", p.xtError(parameterProblem, "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
}

func multiportProtoName(proto uint16) string {
	switch proto {
	case ipt.ProtoTCP:
		return "tcp"
	case ipt.ProtoUDP:
		return "udp"
	case ipt.ProtoUDPLite:
		return "udplite"
	case ipt.ProtoSCTP:
		return "sctp"
	case ipt.ProtoDCCP:
		return "dccp"
	}
	return ""
}

// parseMultiPorts is parse_multi_ports_v1.
func (p *prog) parseMultiPorts(s string, m *ipt.MultiportInfo, proto string) error {
	m.Pflags = [ipt.MultiPorts]uint8{}
	items := strings.Split(s, ",")
	i := 0
	for k, item := range items {
		if i >= ipt.MultiPorts {
			_ = k
			return p.xtError(parameterProblem, "too many ports specified")
		}
		lo, hi, isRange := strings.Cut(item, ":")
		if isRange && i == ipt.MultiPorts-1 {
			return p.xtError(parameterProblem, "too many ports specified")
		}
		v, err := p.parsePort(lo, proto)
		if err != nil {
			return err
		}
		m.Ports[i] = v
		if isRange {
			m.Pflags[i] = 1
			i++
			if m.Ports[i], err = p.parsePort(hi, proto); err != nil {
				return err
			}
			if m.Ports[i-1] >= m.Ports[i] {
				return p.xtError(parameterProblem, "invalid portrange specified")
			}
			m.Pflags[i] = 1
		}
		i++
	}
	m.Count = uint8(i)
	return nil
}

func printMultiPorts(w *strings.Builder, m *ipt.MultiportInfo, proto string, numeric bool) {
	for i := 0; i < int(m.Count) && i < ipt.MultiPorts; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		printPort(w, m.Ports[i], numeric, proto)
		if m.Pflags[i] != 0 && i+1 < ipt.MultiPorts {
			i++
			w.WriteByte(':')
			printPort(w, m.Ports[i], numeric, proto)
		}
	}
}

// dscpClasses are the DiffServ class names (dscp_helper.c).
var dscpClasses = []struct {
	name string
	dscp uint8
}{{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10}, {"CS3", 0x18}, {"CS4", 0x20}, {"CS5", 0x28}, {"CS6", 0x30},
	{"CS7", 0x38}, {"BE", 0x00}, {"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e}, {"AF21", 0x12}, {"AF22", 0x14},
	{"AF23", 0x16}, {"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e}, {"AF41", 0x22}, {"AF42", 0x24}, {"AF43", 0x26},
	{"EF", 0x2e}}

// classToDSCP is class_to_dscp: the first class the name starts with.
func (p *prog) classToDSCP(name string) (uint8, error) {
	for _, c := range dscpClasses {
		if len(name) >= len(c.name) && strings.EqualFold(name[:len(c.name)], c.name) {
			return c.dscp, nil
		}
	}
	return 0, p.xtError(parameterProblem, "Invalid DSCP value `%s'", name)
}

var pktTypes = []struct {
	name string
	typ  int32
}{{"unicast", 0}, {"broadcast", 1}, {"multicast", 2}, {"otherhost", 3}, {"bcast", 1}, {"mcast", 2}, {"host", 0}}

func pktTypeName(t int32) string {
	for _, p := range pktTypes {
		if p.typ == t {
			return p.name
		}
	}
	return fmt.Sprint(t)
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func printMark(w *strings.Builder, mark, mask uint32) {
	if mask != math.MaxUint32 {
		fmt.Fprintf(w, " 0x%x/0x%x", mark, mask)
	} else {
		fmt.Fprintf(w, " 0x%x", mark)
	}
}

// badValue is xtables_param_act(XTF_BAD_VALUE).
func (p *prog) badValue(ext, opt, val string) error {
	return p.xtError(parameterProblem, "%s: Bad value for \"%s\" option: \"%s\"", ext, opt, val)
}

func init() {
	const mpSrc, mpDst, mpBoth = 0, 1, 2
	mpAny := uint32(1<<mpSrc | 1<<mpDst | 1<<mpBoth)
	registerMatch(&ext{
		name: "multiport", revision: 1,
		opts: []xtOpt{{name: "source-ports", id: mpSrc, typ: xtString, excl: mpAny, flags: optInvert},
			{name: "sports", id: mpSrc, typ: xtString, excl: mpAny, flags: optInvert},
			{name: "destination-ports", id: mpDst, typ: xtString, excl: mpAny, flags: optInvert},
			{name: "dports", id: mpDst, typ: xtString, excl: mpAny, flags: optInvert},
			{name: "ports", id: mpBoth, typ: xtString, excl: mpAny, flags: optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			m := c.inst.info.(*ipt.MultiportInfo)
			proto, err := c.p.multiportProto(&c.rule.IP)
			if err != nil {
				return err
			}
			if err := c.p.parseMultiPorts(c.arg, m, proto); err != nil {
				return err
			}
			m.Flags = map[uint]uint8{mpSrc: ipt.MultiportSource, mpDst: ipt.MultiportDestination, mpBoth: ipt.MultiportEither}[c.entry.id]
			if c.invert {
				m.Invert = 1
			}
			return nil
		},
		final: func(i *inst) error {
			if i.flags == 0 {
				return i.p.xtError(parameterProblem, "multiport expection an option")
			}
			return nil
		},
		print: func(w *strings.Builder, env *extEnv, info any, numeric bool) {
			m := info.(*ipt.MultiportInfo)
			w.WriteString(" multiport ")
			w.WriteString(map[uint8]string{ipt.MultiportSource: "sports", ipt.MultiportDestination: "dports", ipt.MultiportEither: "ports"}[m.Flags])
			if m.Flags > ipt.MultiportEither {
				w.WriteString("ERROR")
			}
			w.WriteByte(' ')
			if m.Invert != 0 {
				w.WriteString(" !")
			}
			printMultiPorts(w, m, multiportProtoName(env.ip.Proto), numeric)
		},
		save: func(w *strings.Builder, env *extEnv, info any) {
			m := info.(*ipt.MultiportInfo)
			if m.Invert != 0 {
				w.WriteString(" !")
			}
			w.WriteString(map[uint8]string{ipt.MultiportSource: " --sports ", ipt.MultiportDestination: " --dports ", ipt.MultiportEither: " --ports "}[m.Flags])
			printMultiPorts(w, m, multiportProtoName(env.ip.Proto), true)
		},
	})

	registerMatch(&ext{
		name: "comment",
		opts: []xtOpt{{name: "comment", typ: xtString, flags: optMand}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.CommentInfo)
			ipt.PutCString(i.Comment[:], c.arg)
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			fmt.Fprintf(w, " /* %s */", ipt.CString(info.(*ipt.CommentInfo).Comment[:]))
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			w.WriteString(" --comment")
			saveString(w, ipt.CString(info.(*ipt.CommentInfo).Comment[:]))
		},
	})

	registerMatch(&ext{
		name: "length",
		opts: []xtOpt{{name: "length", typ: xtUint16RC, flags: optMand | optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.LengthInfo)
			i.Min, i.Max = uint16(c.rng[0]), uint16(c.rng[0])
			if c.nvals >= 2 {
				i.Max = uint16(c.rng[1])
			}
			if c.invert {
				i.Invert = 1
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.LengthInfo)
			fmt.Fprintf(w, " length %s", bang(i.Invert != 0))
			printRange16(w, i.Min, i.Max)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.LengthInfo)
			fmt.Fprintf(w, "%s --length ", sbang(i.Invert != 0))
			printRange16(w, i.Min, i.Max)
		},
	})

	const ttlEq, ttlLt, ttlGt = 0, 1, 2
	ttlAny := uint32(1<<ttlEq | 1<<ttlLt | 1<<ttlGt)
	registerMatch(&ext{
		name: "ttl",
		opts: []xtOpt{{name: "ttl-lt", id: ttlLt, typ: xtUint8, excl: ttlAny},
			{name: "ttl-gt", id: ttlGt, typ: xtUint8, excl: ttlAny},
			{name: "ttl-eq", id: ttlEq, typ: xtUint8, excl: ttlAny, flags: optInvert},
			{name: "ttl", id: ttlEq, typ: xtUint8, excl: ttlAny}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.TTLInfo)
			i.TTL = c.u8
			switch c.entry.id {
			case ttlEq:
				i.Mode = ipt.TTLEq
				if c.invert {
					i.Mode = ipt.TTLNe
				}
			case ttlLt:
				i.Mode = ipt.TTLLt
			case ttlGt:
				i.Mode = ipt.TTLGt
			}
			return nil
		},
		final: func(i *inst) error {
			if i.flags&ttlAny == 0 {
				return i.p.xtError(parameterProblem, "TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.TTLInfo)
			w.WriteString(" TTL match ")
			w.WriteString(map[uint8]string{ipt.TTLEq: "TTL == ", ipt.TTLNe: "TTL != ", ipt.TTLLt: "TTL < ", ipt.TTLGt: "TTL > "}[i.Mode])
			fmt.Fprintf(w, "%d", i.TTL)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.TTLInfo)
			w.WriteString(map[uint8]string{ipt.TTLEq: " --ttl-eq", ipt.TTLNe: " ! --ttl-eq", ipt.TTLLt: " --ttl-lt", ipt.TTLGt: " --ttl-gt"}[i.Mode])
			fmt.Fprintf(w, " %d", i.TTL)
		},
	})

	registerMatch(&ext{
		name: "tos", revision: 1,
		opts: []xtOpt{{name: "tos", typ: xtTOSMask, flags: optInvert | optMand, max: 0x3f}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.TOSInfo)
			i.Value, i.Mask = c.tos[0], c.tos[1]
			if c.invert {
				i.Invert = 1
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, numeric bool) {
			i := info.(*ipt.TOSInfo)
			w.WriteString(" tos match")
			if i.Invert != 0 {
				w.WriteByte('!')
			}
			if !numeric && i.Mask == 0x3f {
				for _, s := range tosSymbols {
					if s.value == i.Value {
						fmt.Fprintf(w, " %s", s.name)
						return
					}
				}
			}
			fmt.Fprintf(w, "0x%02x/0x%02x", i.Value, i.Mask)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.TOSInfo)
			fmt.Fprintf(w, "%s --tos 0x%02x/0x%02x", sbang(i.Invert != 0), i.Value, i.Mask)
		},
	})

	const dscpVal, dscpClass = 0, 1
	registerMatch(&ext{
		name: "dscp",
		opts: []xtOpt{{name: "dscp", id: dscpVal, typ: xtUint8, excl: 1 << dscpClass, flags: optInvert, max: ipt.DSCPMax},
			{name: "dscp-class", id: dscpClass, typ: xtString, excl: 1 << dscpVal, flags: optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.DSCPInfo)
			if c.entry.id == dscpVal {
				i.DSCP = c.u8
			} else {
				v, err := c.p.classToDSCP(c.arg)
				if err != nil {
					return err
				}
				i.DSCP = v
			}
			if c.invert {
				i.Invert = 1
			}
			return nil
		},
		final: func(i *inst) error {
			if i.flags == 0 {
				return i.p.xtError(parameterProblem, "DSCP match: Parameter --dscp is required")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.DSCPInfo)
			fmt.Fprintf(w, " DSCP match %s0x%02x", bang(i.Invert != 0), i.DSCP)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.DSCPInfo)
			fmt.Fprintf(w, "%s --dscp 0x%02x", sbang(i.Invert != 0), i.DSCP)
		},
	})

	registerMatch(&ext{
		name: "pkttype",
		opts: []xtOpt{{name: "pkt-type", typ: xtString, flags: optMand | optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.PktTypeInfo)
			found := false
			for _, t := range pktTypes {
				if strings.EqualFold(t.name, c.arg) {
					i.PktType, found = t.typ, true
					break
				}
			}
			if !found {
				return c.errf("Bad packet type '%s'", c.arg)
			}
			if c.invert {
				i.Invert = 1
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.PktTypeInfo)
			fmt.Fprintf(w, " PKTTYPE %s= %s", bang(i.Invert != 0), pktTypeName(i.PktType))
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.PktTypeInfo)
			fmt.Fprintf(w, "%s --pkt-type %s", sbang(i.Invert != 0), pktTypeName(i.PktType))
		},
	})

	registerMatch(&ext{
		name: "mac",
		opts: []xtOpt{{name: "mac-source", typ: xtEtherMAC, flags: optMand | optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.MACInfo)
			i.Src = c.mac
			if c.invert {
				i.Invert = 1
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.MACInfo)
			fmt.Fprintf(w, " MAC%s %s", sbang(i.Invert != 0), macString(i.Src))
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.MACInfo)
			fmt.Fprintf(w, "%s --mac-source %s", sbang(i.Invert != 0), macString(i.Src))
		},
	})

	const rangeSrc, rangeDst = 0, 1
	registerMatch(&ext{
		name: "iprange", revision: 1,
		opts: []xtOpt{{name: "src-range", id: rangeSrc, typ: xtString, flags: optInvert},
			{name: "dst-range", id: rangeDst, typ: xtString, flags: optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.IPRangeInfo)
			opt := "--src-range"
			lo, hi := &i.SrcMin, &i.SrcMax
			if c.entry.id == rangeSrc {
				i.Flags |= ipt.IPRangeSrc
				if c.invert {
					i.Flags |= ipt.IPRangeSrcInv
				}
			} else {
				opt, lo, hi = "--dst-range", &i.DstMin, &i.DstMax
				i.Flags |= ipt.IPRangeDst
				if c.invert {
					i.Flags |= ipt.IPRangeDstInv
				}
			}
			from, to, dash := strings.Cut(c.arg, "-")
			if !dash {
				to = from
			}
			var ok bool
			if *lo, ok = numericToIPAddr(from, false); !ok {
				return c.p.badValue("iprange", opt, from)
			}
			if *hi, ok = numericToIPAddr(to, false); !ok {
				return c.p.badValue("iprange", opt, to)
			}
			if dash && be32(*lo) > be32(*hi) {
				c.p.warn("xt_iprange: range %s-%s is reversed and will never match\n", from, to)
			}
			return nil
		},
		final: func(i *inst) error {
			if i.flags == 0 {
				return i.p.xtError(parameterProblem, "iprange match: You must specify `--src-range' or `--dst-range'")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.IPRangeInfo)
			if i.Flags&ipt.IPRangeSrc != 0 {
				fmt.Fprintf(w, " source IP range%s %s-%s", sbang(i.Flags&ipt.IPRangeSrcInv != 0), ipString(i.SrcMin), ipString(i.SrcMax))
			}
			if i.Flags&ipt.IPRangeDst != 0 {
				fmt.Fprintf(w, " destination IP range%s %s-%s", sbang(i.Flags&ipt.IPRangeDstInv != 0), ipString(i.DstMin), ipString(i.DstMax))
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.IPRangeInfo)
			if i.Flags&ipt.IPRangeSrc != 0 {
				fmt.Fprintf(w, "%s --src-range %s-%s", sbang(i.Flags&ipt.IPRangeSrcInv != 0), ipString(i.SrcMin), ipString(i.SrcMax))
			}
			if i.Flags&ipt.IPRangeDst != 0 {
				fmt.Fprintf(w, "%s --dst-range %s-%s", sbang(i.Flags&ipt.IPRangeDstInv != 0), ipString(i.DstMin), ipString(i.DstMax))
			}
		},
	})

	markParse := func(c *call) error {
		if err := c.parse(); err != nil {
			return err
		}
		i := c.inst.info.(*ipt.MarkInfo)
		i.Mark, i.Mask = c.mark, c.mask
		if c.invert {
			i.Invert = 1
		}
		return nil
	}
	registerMatch(&ext{
		name: "mark", revision: 1,
		opts:  []xtOpt{{name: "mark", typ: xtMarkMask32, flags: optMand | optInvert}},
		parse: markParse,
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.MarkInfo)
			w.WriteString(" mark match")
			if i.Invert != 0 {
				w.WriteString(" !")
			}
			printMark(w, i.Mark, i.Mask)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.MarkInfo)
			fmt.Fprintf(w, "%s --mark", sbang(i.Invert != 0))
			printMark(w, i.Mark, i.Mask)
		},
	})
	registerMatch(&ext{
		name: "connmark", revision: 1,
		opts:  []xtOpt{{name: "mark", typ: xtMarkMask32, flags: optMand | optInvert}},
		parse: markParse,
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.MarkInfo)
			w.WriteString(" connmark match ")
			if i.Invert != 0 {
				w.WriteByte('!')
			}
			printMark(w, i.Mark, i.Mask)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.MarkInfo)
			fmt.Fprintf(w, "%s --mark", sbang(i.Invert != 0))
			printMark(w, i.Mark, i.Mask)
		},
	})
}

func printRange16(w *strings.Builder, lo, hi uint16) {
	if lo == hi {
		fmt.Fprintf(w, "%d", lo)
	} else {
		fmt.Fprintf(w, "%d:%d", lo, hi)
	}
}
