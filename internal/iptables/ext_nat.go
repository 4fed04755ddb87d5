package iptables

import (
	"fmt"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// The NAT targets' options parse into the engine's NATRange (struct
// nf_nat_range2); what the NAT core does with them is the nat package's.

// natPortsOK is whether the rule's protocol has ports (or ICMP ids) a
// range may name.
func natPortsOK(ip *ipt.IPMatch) bool {
	if ip.InvFlags&ipt.InvProto != 0 {
		return false
	}
	switch ip.Proto {
	case ipt.ProtoTCP, ipt.ProtoUDP, ipt.ProtoUDPLite, ipt.ProtoSCTP, ipt.ProtoDCCP, ipt.ProtoICMP:
		return true
	}
	return false
}

// natPort is a port of a NAT range: a number or a service, 1 to 65535.
func (p *prog) natPort(s string) (uint16, error) {
	v := atoi(s)
	if v == 0 {
		if sp := servicePort(s, ""); sp > 0 {
			v = int64(sp)
		}
	}
	if v <= 0 || v > 0xffff {
		return 0, p.xtError(parameterProblem, "Port `%s' not valid", s)
	}
	return uint16(v), nil
}

// natPortRange is "port[-port][/base]" (the base only where base is
// given): each part read as atoi does, a service name where that reads
// nothing.
func (p *prog) natPortRange(s string, r *ipt.NATRange, base *uint16) error {
	v, err := p.natPort(s)
	if err != nil {
		return err
	}
	r.MinProto, r.MaxProto = v, v
	if i := strings.IndexByte(s, '-'); i >= 0 {
		hi := s[i+1:]
		m, err := p.natPort(hi)
		if err != nil {
			return err
		}
		if m < v {
			return p.xtError(parameterProblem, "Port range `%s' funky", hi)
		}
		r.MaxProto = m
	}
	r.Flags |= ipt.NATProtoSpecified
	if i := strings.IndexByte(s, '/'); i >= 0 && base != nil {
		b, err := p.natPort(s[i+1:])
		if err != nil {
			return err
		}
		r.Flags |= ipt.NATProtoOffset
		*base = b
	}
	return nil
}

// dnatPortRange is libxt_DNAT's parse_ports in 1.8.9, for DNAT and
// REDIRECT: the first port a number (any base, 0 to 65535) or, failing
// that, a service name taking the whole argument ("ftp-data"); after a
// dash a number only; after a slash the base, a number or a service.
func (p *prog) dnatPortRange(arg string, r *ipt.NATRange, base *uint16) error {
	r.Flags |= ipt.NATProtoSpecified
	port, end, ok := strtoulRest(arg, 0, 0xffff, 0)
	if !ok {
		sp := servicePort(arg, "")
		if sp < 0 {
			return p.xtError(parameterProblem, "Port `%s' not valid", arg)
		}
		port, end = uint64(sp), ""
	}
	switch {
	case end == "":
		r.MinProto, r.MaxProto = uint16(port), uint16(port)
		return nil
	case end[0] == '-':
		arg = end[1:]
	case end[0] == ':':
		return p.xtError(parameterProblem, "Invalid port:port syntax - use dash")
	default:
		return p.xtError(parameterProblem, "Garbage after port value: `%s'", end)
	}
	maxport, end, ok := strtoulRest(arg, 0, 0xffff, 0)
	if !ok {
		return p.xtError(parameterProblem, "Port `%s' not valid", arg)
	}
	if maxport < port {
		return p.xtError(parameterProblem, "Port range `%s' funky", arg)
	}
	r.MinProto, r.MaxProto = uint16(port), uint16(maxport)
	switch {
	case end == "":
		return nil
	case end[0] == '/':
		arg = end[1:]
	default:
		return p.xtError(parameterProblem, "Garbage after port range: `%s'", end)
	}
	b, ok := strtoui(arg, 1, 0xffff)
	if !ok {
		sp := servicePort(arg, "")
		if sp < 0 {
			return p.xtError(parameterProblem, "Port `%s' not valid", arg)
		}
		b = uint64(sp)
	}
	r.Flags |= ipt.NATProtoOffset
	if base != nil {
		*base = uint16(b)
	}
	return nil
}

// parseNATTo is the NAT targets' parse_to: "[ip[-ip]][:port[-port][/base]]".
func (p *prog) parseNATTo(arg string, portOK, dnat bool, r *ipt.NATRange) error {
	addrs, ports, hasPorts := strings.Cut(arg, ":")
	if hasPorts {
		if !portOK {
			return p.xtError(parameterProblem, "Need TCP, UDP, SCTP or DCCP with port specification")
		}
		if dnat {
			if err := p.dnatPortRange(ports, r, &r.BaseProto); err != nil {
				return err
			}
		} else {
			// SNAT's parser takes a base and keeps only its flag
			// (it prints as "/0", as 1.8.9's does).
			var base uint16
			if err := p.natPortRange(ports, r, &base); err != nil {
				return err
			}
		}
	}
	if addrs == "" {
		return nil
	}
	lo, hi, isRange := strings.Cut(addrs, "-")
	a, ok := numericToIPAddr(lo, false)
	if !ok {
		return p.xtError(parameterProblem, "Bad IP address \"%s\"", lo)
	}
	r.MinAddr, r.MaxAddr = a, a
	if isRange {
		b, ok := numericToIPAddr(hi, false)
		if !ok {
			return p.xtError(parameterProblem, "Bad IP address \"%s\"", hi)
		}
		r.MaxAddr = b
	}
	r.Flags |= ipt.NATMapIPs
	return nil
}

// natRangeString is the range as the NAT targets print it.
func natRangeString(r *ipt.NATRange) string {
	var b strings.Builder
	if r.Flags&ipt.NATMapIPs != 0 {
		b.WriteString(ipString(r.MinAddr))
		if r.MaxAddr != r.MinAddr {
			b.WriteString("-" + ipString(r.MaxAddr))
		}
	}
	if r.Flags&ipt.NATProtoSpecified != 0 {
		fmt.Fprintf(&b, ":%d", r.MinProto)
		if r.MaxProto != r.MinProto {
			fmt.Fprintf(&b, "-%d", r.MaxProto)
		}
		if r.Flags&ipt.NATProtoOffset != 0 {
			fmt.Fprintf(&b, "/%d", r.BaseProto)
		}
	}
	return b.String()
}

// natFlags are the flags' words, in their order.
func natFlags(w *strings.Builder, r *ipt.NATRange, prefix string) {
	if r.Flags&ipt.NATProtoRandom != 0 {
		w.WriteString(" " + prefix + "random")
	}
	if r.Flags&ipt.NATProtoRandomFully != 0 {
		w.WriteString(" " + prefix + "random-fully")
	}
	if r.Flags&ipt.NATPersistent != 0 {
		w.WriteString(" " + prefix + "persistent")
	}
}

func natPortsString(r *ipt.NATRange) string {
	s := fmt.Sprint(r.MinProto)
	if r.MaxProto != r.MinProto {
		s += fmt.Sprintf("-%d", r.MaxProto)
	}
	return s
}

func init() {
	const natTo, natRandom, natRandomFully, natPersistent = 0, 1, 2, 3
	flagOf := map[uint]uint32{natRandom: ipt.NATProtoRandom, natRandomFully: ipt.NATProtoRandomFully, natPersistent: ipt.NATPersistent}
	natExt := func(name, opt string, dnat bool, flags []xtOpt) *ext {
		return &ext{
			name: name, revision: 2,
			opts: append([]xtOpt{{name: opt, id: natTo, typ: xtString, flags: optMand}}, flags...),
			parse: func(c *call) error {
				if err := c.parse(); err != nil {
					return err
				}
				r := c.inst.info.(*ipt.NATRange)
				if c.entry.id == natTo {
					return c.p.parseNATTo(c.arg, natPortsOK(&c.rule.IP), dnat, r)
				}
				r.Flags |= flagOf[c.entry.id]
				return nil
			},
			print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
				r := info.(*ipt.NATRange)
				w.WriteString(" to:" + natRangeString(r))
				natFlags(w, r, "")
			},
			save: func(w *strings.Builder, _ *extEnv, info any) {
				r := info.(*ipt.NATRange)
				fmt.Fprintf(w, " --%s %s", opt, natRangeString(r))
				natFlags(w, r, "--")
			},
		}
	}
	random := xtOpt{name: "random", id: natRandom, typ: xtNone}
	fully := xtOpt{name: "random-fully", id: natRandomFully, typ: xtNone}
	persistent := xtOpt{name: "persistent", id: natPersistent, typ: xtNone}
	registerTarget(natExt("SNAT", "to-source", false, []xtOpt{random, fully, persistent}))
	registerTarget(natExt("DNAT", "to-destination", true, []xtOpt{random, persistent}))

	portsExt := func(name, word string, flags []xtOpt) *ext {
		return &ext{
			name: name,
			opts: append([]xtOpt{{name: "to-ports", id: natTo, typ: xtString}}, flags...),
			parse: func(c *call) error {
				if err := c.parse(); err != nil {
					return err
				}
				r := c.inst.info.(*ipt.NATRange)
				if c.entry.id != natTo {
					r.Flags |= flagOf[c.entry.id]
					return nil
				}
				if !natPortsOK(&c.rule.IP) {
					return c.errf("Need TCP, UDP, SCTP or DCCP with port specification")
				}
				if name != "REDIRECT" {
					return c.p.natPortRange(c.arg, r, nil)
				}
				// REDIRECT is libxt_DNAT's: its port parser, and
				// revision 0's refusal of a base (DNAT_fcheck).
				if err := c.p.dnatPortRange(c.arg, r, nil); err != nil {
					return err
				}
				if r.Flags&ipt.NATProtoOffset != 0 {
					return c.errf("Shifted portmap ranges not supported with this kernel")
				}
				return nil
			},
			print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
				r := info.(*ipt.NATRange)
				if r.Flags&ipt.NATProtoSpecified != 0 {
					fmt.Fprintf(w, " %s%s", word, natPortsString(r))
				}
				natFlags(w, r, "")
			},
			save: func(w *strings.Builder, _ *extEnv, info any) {
				r := info.(*ipt.NATRange)
				if r.Flags&ipt.NATProtoSpecified != 0 {
					fmt.Fprintf(w, " --to-ports %s", natPortsString(r))
				}
				natFlags(w, r, "--")
			},
		}
	}
	registerTarget(portsExt("MASQUERADE", "masq ports: ", []xtOpt{random, fully}))
	registerTarget(portsExt("REDIRECT", "redir ports ", []xtOpt{random}))

	registerTarget(&ext{
		name: "NETMAP",
		opts: []xtOpt{{name: "to", id: natTo, typ: xtString, flags: optMand}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			r := c.inst.info.(*ipt.NATRange)
			addr, mask, hasMask := strings.Cut(c.arg, "/")
			a, ok := numericToIPAddr(addr, false)
			if !ok {
				return c.errf("Bad IP address \"%s\"", addr)
			}
			m := [4]byte{255, 255, 255, 255}
			if hasMask {
				if mm, ok := numericToIPAddr(mask, true); ok {
					m = mm
				} else {
					bits, ok := strtoui(mask, 0, 0xffffffff)
					if !ok {
						return c.errf("Bad netmask \"%s\"\n", mask)
					}
					m = cidrMask(int(min(bits, 32)))
				}
			}
			r.Flags |= ipt.NATMapIPs
			r.MinAddr = put32(be32(a) & be32(m))
			r.MaxAddr = put32(be32(r.MinAddr) | ^be32(m))
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			fmt.Fprintf(w, " to:%s", netmapString(info.(*ipt.NATRange)))
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			fmt.Fprintf(w, " --to %s", netmapString(info.(*ipt.NATRange)))
		},
	})
}

func netmapString(r *ipt.NATRange) string {
	m := put32(^(be32(r.MinAddr) ^ be32(r.MaxAddr)))
	if n := maskToCIDR(m); n >= 0 {
		return fmt.Sprintf("%s/%d", ipString(r.MinAddr), n)
	}
	return ipString(r.MinAddr) + "/" + ipString(m)
}
