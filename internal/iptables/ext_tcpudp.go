package iptables

import (
	"fmt"
	"math"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// tcpFlagNames are libxt_tcp's flag names in its order.
var tcpFlagNames = []struct {
	name string
	flag uint8
}{{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20}, {"ALL", 0x3f}, {"NONE", 0}}

// printTCPFlags is print_tcpf.
func printTCPFlags(w *strings.Builder, flags uint8) {
	have := false
	for flags&0x3f != 0 {
		for _, f := range tcpFlagNames {
			if f.flag != 0 && flags&f.flag != 0 {
				if have {
					w.WriteByte(',')
				}
				w.WriteString(f.name)
				have = true
				flags &^= f.flag
				break
			}
		}
	}
	if !have {
		w.WriteString("NONE")
	}
}

func (p *prog) parseTCPFlagList(s string) (uint8, error) {
	var out uint8
	for _, f := range strings.Split(s, ",") {
		found := false
		for _, n := range tcpFlagNames {
			if strings.EqualFold(f, n.name) {
				out |= n.flag
				found = true
				break
			}
		}
		if !found {
			return 0, p.xtError(parameterProblem, "Unknown TCP flag `%s'", f)
		}
	}
	return out, nil
}

// parsePortRange is parse_tcp_ports / parse_udp_ports.
func (p *prog) parsePortRange(s, proto string) ([2]uint16, error) {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		v, err := p.parsePort(s, proto)
		return [2]uint16{v, v}, err
	}
	r := [2]uint16{0, math.MaxUint16}
	var err error
	if lo != "" {
		if r[0], err = p.parsePort(lo, proto); err != nil {
			return r, err
		}
	}
	if hi != "" {
		if r[1], err = p.parsePort(hi, proto); err != nil {
			return r, err
		}
	}
	if r[0] > r[1] {
		return r, p.xtError(parameterProblem, "invalid portrange (min > max)")
	}
	return r, nil
}

// printPort is print_port: a service name unless numeric.
func printPort(w *strings.Builder, port uint16, numeric bool, proto string) {
	if !numeric {
		if s := serviceName(int(port), proto); s != "" {
			w.WriteString(s)
			return
		}
	}
	fmt.Fprintf(w, "%d", port)
}

// printPorts is print_ports of libxt_tcp and libxt_udp.
func printPorts(w *strings.Builder, name string, r [2]uint16, invert, numeric bool, proto string) {
	if r[0] == 0 && r[1] == 0xffff && !invert {
		return
	}
	inv := ""
	if invert {
		inv = "!"
	}
	fmt.Fprintf(w, " %s", name)
	if r[0] == r[1] {
		fmt.Fprintf(w, ":%s", inv)
		printPort(w, r[0], numeric, proto)
		return
	}
	fmt.Fprintf(w, "s:%s", inv)
	printPort(w, r[0], numeric, proto)
	w.WriteByte(':')
	printPort(w, r[1], numeric, proto)
}

// savePorts is the --sport/--dport part of tcp_save and udp_save.
func savePorts(w *strings.Builder, opt string, r [2]uint16, invert bool) {
	if r[0] == 0 && r[1] == 0xffff {
		return
	}
	if invert {
		w.WriteString(" !")
	}
	if r[0] != r[1] {
		fmt.Fprintf(w, " --%s %d:%d", opt, r[0], r[1])
	} else {
		fmt.Fprintf(w, " --%s %d", opt, r[0])
	}
}

func init() {
	registerMatch(&ext{
		name: "tcp",
		longs: []longOpt{{"source-port", 1, '1'}, {"sport", 1, '1'}, {"destination-port", 1, '2'}, {"dport", 1, '2'},
			{"syn", 0, '3'}, {"tcp-flags", 1, '4'}, {"tcp-option", 1, '5'}},
		init: func(i *inst) {
			t := i.info.(*ipt.TCPInfo)
			t.SrcPorts[1], t.DstPorts[1] = 0xffff, 0xffff
		},
		oldParse: func(c *call, id int) error {
			t := c.inst.info.(*ipt.TCPInfo)
			const srcPorts, dstPorts, flags, option = 1, 2, 4, 8
			var err error
			switch id {
			case '1', '2':
				flag, ports, inv, opt := uint32(srcPorts), &t.SrcPorts, uint8(ipt.TCPInvSrcPort), "source-port"
				if id == '2' {
					flag, ports, inv, opt = dstPorts, &t.DstPorts, ipt.TCPInvDstPort, "destination-port"
				}
				if c.inst.flags&flag != 0 {
					return c.errf("Only one `--%s' allowed", opt)
				}
				if *ports, err = c.p.parsePortRange(c.arg, "tcp"); err != nil {
					return err
				}
				if c.invert {
					t.InvFlags |= inv
				}
				c.inst.flags |= flag
			case '3', '4':
				if c.inst.flags&flags != 0 {
					return c.errf("Only one of `--syn' or `--tcp-flags'  allowed")
				}
				mask, cmp := "SYN,RST,ACK,FIN", "SYN"
				if id == '4' {
					g := c.g
					if g.optind >= len(g.args) || strings.HasPrefix(g.args[g.optind], "-") || strings.HasPrefix(g.args[g.optind], "!") {
						return c.errf("--tcp-flags requires two args.")
					}
					mask, cmp = c.arg, g.args[g.optind]
					g.optind++
				}
				if t.FlagMask, err = c.p.parseTCPFlagList(mask); err != nil {
					return err
				}
				if t.FlagCmp, err = c.p.parseTCPFlagList(cmp); err != nil {
					return err
				}
				if c.invert {
					t.InvFlags |= ipt.TCPInvFlags
				}
				c.inst.flags |= flags
			case '5':
				if c.inst.flags&option != 0 {
					return c.errf("Only one `--tcp-option' allowed")
				}
				v, ok := strtoui(c.arg, 1, math.MaxUint8)
				if !ok {
					return c.errf("Bad TCP option \"%s\"", c.arg)
				}
				t.Option = uint8(v)
				if c.invert {
					t.InvFlags |= ipt.TCPInvOption
				}
				c.inst.flags |= option
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, numeric bool) {
			t := info.(*ipt.TCPInfo)
			w.WriteString(" tcp")
			printPorts(w, "spt", t.SrcPorts, t.InvFlags&ipt.TCPInvSrcPort != 0, numeric, "tcp")
			printPorts(w, "dpt", t.DstPorts, t.InvFlags&ipt.TCPInvDstPort != 0, numeric, "tcp")
			if inv := t.InvFlags&ipt.TCPInvOption != 0; t.Option != 0 || inv {
				fmt.Fprintf(w, " option=%s%d", bang(inv), t.Option)
			}
			if inv := t.InvFlags&ipt.TCPInvFlags != 0; t.FlagMask != 0 || inv {
				fmt.Fprintf(w, " flags:%s", bang(inv))
				if numeric {
					fmt.Fprintf(w, "0x%02X/0x%02X", t.FlagMask, t.FlagCmp)
				} else {
					printTCPFlags(w, t.FlagMask)
					w.WriteByte('/')
					printTCPFlags(w, t.FlagCmp)
				}
			}
			if t.InvFlags&^0x0f != 0 {
				fmt.Fprintf(w, " Unknown invflags: 0x%X", t.InvFlags&^0x0f)
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			t := info.(*ipt.TCPInfo)
			savePorts(w, "sport", t.SrcPorts, t.InvFlags&ipt.TCPInvSrcPort != 0)
			savePorts(w, "dport", t.DstPorts, t.InvFlags&ipt.TCPInvDstPort != 0)
			if inv := t.InvFlags&ipt.TCPInvOption != 0; t.Option != 0 || inv {
				fmt.Fprintf(w, "%s --tcp-option %d", sbang(inv), t.Option)
			}
			if inv := t.InvFlags&ipt.TCPInvFlags != 0; t.FlagMask != 0 || inv {
				fmt.Fprintf(w, "%s --tcp-flags ", sbang(inv))
				printTCPFlags(w, t.FlagMask)
				w.WriteByte(' ')
				printTCPFlags(w, t.FlagCmp)
			}
		},
	})

	const udpSrc, udpDst = 0, 1
	registerMatch(&ext{
		name: "udp",
		opts: []xtOpt{{name: "source-port", id: udpSrc, typ: xtPortRC, flags: optInvert},
			{name: "sport", id: udpSrc, typ: xtPortRC, flags: optInvert},
			{name: "destination-port", id: udpDst, typ: xtPortRC, flags: optInvert},
			{name: "dport", id: udpDst, typ: xtPortRC, flags: optInvert}},
		init: func(i *inst) {
			u := i.info.(*ipt.UDPInfo)
			u.SrcPorts[1], u.DstPorts[1] = 0xffff, 0xffff
		},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			u := c.inst.info.(*ipt.UDPInfo)
			if c.entry.id == udpSrc {
				u.SrcPorts = c.ports
				if c.invert {
					u.InvFlags |= ipt.UDPInvSrcPort
				}
			} else {
				u.DstPorts = c.ports
				if c.invert {
					u.InvFlags |= ipt.UDPInvDstPort
				}
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, numeric bool) {
			u := info.(*ipt.UDPInfo)
			w.WriteString(" udp")
			printPorts(w, "spt", u.SrcPorts, u.InvFlags&ipt.UDPInvSrcPort != 0, numeric, "udp")
			printPorts(w, "dpt", u.DstPorts, u.InvFlags&ipt.UDPInvDstPort != 0, numeric, "udp")
			if u.InvFlags&^0x03 != 0 {
				fmt.Fprintf(w, " Unknown invflags: 0x%X", u.InvFlags&^0x03)
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			u := info.(*ipt.UDPInfo)
			savePorts(w, "sport", u.SrcPorts, u.InvFlags&ipt.UDPInvSrcPort != 0)
			savePorts(w, "dport", u.DstPorts, u.InvFlags&ipt.UDPInvDstPort != 0)
		},
	})

	registerMatch(&ext{
		name: "icmp",
		opts: []xtOpt{{name: "icmp-type", id: 0, typ: xtString, flags: optMand | optInvert}},
		init: func(i *inst) {
			m := i.info.(*ipt.ICMPInfo)
			m.Type, m.Code[1] = 0xff, 0xff
		},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			m := c.inst.info.(*ipt.ICMPInfo)
			if err := c.p.parseICMP(c.arg, &m.Type, &m.Code); err != nil {
				return err
			}
			if c.invert {
				m.InvFlags |= ipt.ICMPInv
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, numeric bool) {
			m := info.(*ipt.ICMPInfo)
			w.WriteString(" icmp")
			printICMPType(w, m.Type, m.Code, m.InvFlags&ipt.ICMPInv != 0, numeric)
			if m.InvFlags&^ipt.ICMPInv != 0 {
				fmt.Fprintf(w, " Unknown invflags: 0x%X", m.InvFlags&^ipt.ICMPInv)
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			m := info.(*ipt.ICMPInfo)
			if m.InvFlags&ipt.ICMPInv != 0 {
				w.WriteString(" !")
			}
			if m.Type == 0xff {
				w.WriteString(" --icmp-type any")
				return
			}
			fmt.Fprintf(w, " --icmp-type %d", m.Type)
			if m.Code[0] != 0 || m.Code[1] != 0xff {
				fmt.Fprintf(w, "/%d", m.Code[0])
			}
		},
	})
}

func bang(b bool) string {
	if b {
		return "!"
	}
	return ""
}

func sbang(b bool) string {
	if b {
		return " !"
	}
	return ""
}

// icmpCodes are the ICMP type names iptables knows (icmp_codes).
var icmpCodes = []struct {
	name     string
	typ      uint8
	min, max uint8
}{
	{"any", 0xff, 0, 0xff},
	{"echo-reply", 0, 0, 0xff},
	{"pong", 0, 0, 0xff},
	{"destination-unreachable", 3, 0, 0xff},
	{"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1},
	{"protocol-unreachable", 3, 2, 2},
	{"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4},
	{"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6},
	{"host-unknown", 3, 7, 7},
	{"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10},
	{"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12},
	{"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14},
	{"precedence-cutoff", 3, 15, 15},
	{"source-quench", 4, 0, 0xff},
	{"redirect", 5, 0, 0xff},
	{"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1},
	{"TOS-network-redirect", 5, 2, 2},
	{"TOS-host-redirect", 5, 3, 3},
	{"echo-request", 8, 0, 0xff},
	{"ping", 8, 0, 0xff},
	{"router-advertisement", 9, 0, 0xff},
	{"router-solicitation", 10, 0, 0xff},
	{"time-exceeded", 11, 0, 0xff},
	{"ttl-exceeded", 11, 0, 0xff},
	{"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1},
	{"parameter-problem", 12, 0, 0xff},
	{"ip-header-bad", 12, 0, 0},
	{"required-option-missing", 12, 1, 1},
	{"timestamp-request", 13, 0, 0xff},
	{"timestamp-reply", 14, 0, 0xff},
	{"address-mask-request", 17, 0, 0xff},
	{"address-mask-reply", 18, 0, 0xff},
}

// parseICMP is parse_icmp: a name (or an unambiguous start of one), or
// "type[/code]".
func (p *prog) parseICMP(s string, typ *uint8, code *[2]uint8) error {
	match := -1
	for i, c := range icmpCodes {
		if len(s) <= len(c.name) && strings.EqualFold(c.name[:len(s)], s) {
			if match >= 0 {
				return p.xtError(parameterProblem, "Ambiguous ICMP type `%s': `%s' or `%s'?", s, icmpCodes[match].name, c.name)
			}
			match = i
		}
	}
	if match >= 0 {
		c := icmpCodes[match]
		*typ, code[0], code[1] = c.typ, c.min, c.max
		return nil
	}
	t, cs, slash := strings.Cut(s, "/")
	v, ok := strtoui(t, 0, math.MaxUint8)
	if !ok {
		return p.xtError(parameterProblem, "Unknown ICMP type `%s'", s)
	}
	*typ = uint8(v)
	if !slash {
		code[0], code[1] = 0, 0xff
		return nil
	}
	cv, ok := strtoui(cs, 0, math.MaxUint8)
	if !ok {
		return p.xtError(parameterProblem, "Unknown ICMP code `%s'", s)
	}
	code[0], code[1] = uint8(cv), uint8(cv)
	return nil
}

// printICMPType is print_icmptype.
func printICMPType(w *strings.Builder, typ uint8, code [2]uint8, invert, numeric bool) {
	if !numeric {
		for _, c := range icmpCodes {
			if c.typ == typ && c.min == code[0] && c.max == code[1] {
				fmt.Fprintf(w, " %s%s", bang(invert), c.name)
				return
			}
		}
	}
	if invert {
		w.WriteString(" !")
	}
	fmt.Fprintf(w, "type %d", typ)
	if code[0] == code[1] {
		fmt.Fprintf(w, " code %d", code[0])
	} else if code[0] != 0 || code[1] != 0xff {
		fmt.Fprintf(w, " codes %d-%d", code[0], code[1])
	}
}
