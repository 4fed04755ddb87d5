package iptables

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// optType is an option's value type (enum xt_option_type).
type optType uint8

// The option types.
const (
	xtNone optType = iota
	xtUint8
	xtUint16
	xtUint32
	xtUint64
	xtUint8RC
	xtUint16RC
	xtUint32RC
	xtUint64RC
	xtString
	xtTOSMask
	xtMarkMask32
	xtSyslogLevel
	xtHost
	xtHostMask
	xtProtocol
	xtPort
	xtPortRC
	xtPlen
	xtPlenMask
	xtEtherMAC
	xtDouble
)

// Option flags (XTOPT_*).
const (
	optInvert = 1 << iota
	optMand
	optMulti
)

// xtOpt is one option of an extension (struct xt_option_entry): its
// name, id (a bit in the extension's flags), type and checks. excl and
// also are masks of other options' ids.
type xtOpt struct {
	name     string
	id       uint
	typ      optType
	flags    uint
	min, max uint64
	excl     uint32
	also     uint32
	// n is how many components a range type takes (its field's size;
	// 0 is 2), or a string's buffer size (0: no limit).
	n int
}

// call is one option met on the command line (struct xt_option_call): the
// extension instance it belongs to and the parsed value.
type call struct {
	p      *prog
	g      *getopt
	entry  *xtOpt
	arg    string
	hasArg bool
	invert bool
	inst   *inst
	rule   *ipt.Rule

	// The parsed value, by type.
	u8    uint8
	u16   uint16
	u32   uint32
	u64   uint64
	rng   [2]uint64
	nvals int
	mark  uint32
	mask  uint32
	level uint8
	haddr [4]byte
	hmask [4]byte
	hlen  int
	proto uint8
	ports [2]uint16
	mac   [6]byte
	tos   [2]uint8 // value, mask
	dbl   float64
}

func (c *call) extName() string { return c.inst.ext.name }

func (c *call) errf(format string, args ...any) error {
	return c.p.xtError(parameterProblem, format, args...)
}

func maxByType(t optType) uint64 {
	switch t {
	case xtUint8, xtUint8RC:
		return math.MaxUint8
	case xtUint16, xtUint16RC:
		return math.MaxUint16
	case xtUint32, xtUint32RC:
		return math.MaxUint32
	case xtUint64, xtUint64RC:
		return math.MaxUint64
	}
	return 0
}

// parse is xtables_option_parse: the once-only and inversion rules, then
// the type's parser.
func (c *call) parse() error {
	e := c.entry
	eflag := uint32(1) << e.id
	if (e.flags&optMulti == 0 || e.excl&eflag != 0) && c.inst.flags&eflag != 0 {
		return c.errf("%s: option \"--%s\" can only be used once.\n", c.extName(), e.name)
	}
	if c.invert && e.flags&optInvert == 0 {
		return c.errf("%s: option \"--%s\" cannot be inverted.\n", c.extName(), e.name)
	}
	if e.typ != xtNone && !c.hasArg {
		return c.errf("%s: option \"--%s\" requires an argument.\n", c.extName(), e.name)
	}
	c.nvals = 1
	var err error
	switch e.typ {
	case xtUint8, xtUint16, xtUint32, xtUint64:
		err = c.parseInt()
	case xtUint8RC, xtUint16RC, xtUint32RC, xtUint64RC:
		err = c.parseMint()
	case xtString:
		err = c.parseString()
	case xtTOSMask:
		err = c.parseTOSMask()
	case xtMarkMask32:
		err = c.parseMarkMask()
	case xtSyslogLevel:
		err = c.parseSyslogLevel()
	case xtHost:
		err = c.parseHost(c.arg)
	case xtHostMask:
		err = c.parseHostMask()
	case xtProtocol:
		var n uint16
		n, err = c.p.parseProtocol(c.arg)
		c.proto = uint8(n)
	case xtPort:
		err = c.parsePort()
	case xtPortRC:
		err = c.parseMport()
	case xtPlen:
		err = c.parsePlen(c.arg)
	case xtPlenMask:
		err = c.parsePlenMask(c.arg)
	case xtEtherMAC:
		err = c.parseEtherMAC()
	case xtDouble:
		v, perr := strconv.ParseFloat(strings.TrimLeft(c.arg, " \t\n\v\f\r"), 64)
		if perr != nil && !errors.Is(perr, strconv.ErrRange) || e.min != e.max && (v < float64(e.min) || v > float64(e.max)) {
			err = c.errf("%s: bad value for option \"--%s\", or out of range (%d-%d).\n", c.extName(), e.name, e.min, e.max)
		}
		c.dbl = v
	}
	if err != nil {
		return err
	}
	c.inst.flags |= eflag
	return nil
}

func (c *call) parseInt() error {
	e := c.entry
	lmin, lmax := uint64(0), maxByType(e.typ)
	if e.min != 0 {
		lmin = e.min
	}
	if e.max != 0 {
		lmax = e.max
	}
	v, ok := strtoulBase(c.arg, lmin, lmax, 0)
	if !ok {
		return c.errf("%s: bad value for option \"--%s\", or out of range (%d-%d).\n", c.extName(), e.name, lmin, lmax)
	}
	c.u8, c.u16, c.u32, c.u64 = uint8(v), uint16(v), uint32(v), v
	return nil
}

// parseMint is xtopt_parse_mint: "a", "a:b", ":b", "a:": a missing
// component is 0 first, the type's maximum second.
func (c *call) parseMint() error {
	e := c.entry
	lmax := maxByType(e.typ)
	maxiter := e.n
	if maxiter == 0 {
		maxiter = 2
	}
	c.nvals = 0
	arg := c.arg
	for {
		if c.nvals == maxiter {
			return c.errf("%s: Too many components for option \"--%s\" (max: %d)\n", c.extName(), e.name, maxiter)
		}
		var v uint64
		rest := arg
		if arg == "" || arg[0] == ':' {
			if c.nvals == 1 {
				v = lmax
			}
		} else {
			var ok bool
			v, rest, ok = strtoulRest(arg, 0, lmax, 0)
			if !ok {
				return c.errf("%s: bad value for option \"--%s\" near \"%s\", or out of range (0-%d).\n", c.extName(), e.name, arg, lmax)
			}
			if rest != "" && rest[0] != ':' {
				return c.errf("%s: Argument to \"--%s\" has unexpected characters near \"%s\".\n", c.extName(), e.name, rest)
			}
		}
		if c.nvals < 2 {
			c.rng[c.nvals] = v
		}
		c.nvals++
		if rest == "" {
			break
		}
		arg = rest[1:]
	}
	return nil
}

func (c *call) parseString() error {
	e := c.entry
	z := len(c.arg)
	if e.min != 0 && uint64(z) < e.min {
		return c.errf("Argument must have a minimum length of %d characters\n", e.min)
	}
	if e.max != 0 && uint64(z) > e.max {
		return c.errf("Argument must have a maximum length of %d characters\n", e.max)
	}
	return nil
}

var tosSymbols = []struct {
	value uint8
	name  string
}{{0x10, "Minimize-Delay"}, {0x08, "Maximize-Throughput"}, {0x04, "Maximize-Reliability"}, {0x02, "Minimize-Cost"}, {0x00, "Normal-Service"}}

// parseTOSMask is xtopt_parse_tosmask: "value[/mask]" or a symbolic name
// (mask: the entry's max).
func (c *call) parseTOSMask() error {
	if v, rest, ok := strtoulRest(c.arg, 0, math.MaxUint8, 0); ok {
		c.tos = [2]uint8{uint8(v), math.MaxUint8}
		if strings.HasPrefix(rest, "/") {
			m, r2, ok := strtoulRest(rest[1:], 0, math.MaxUint8, 0)
			if !ok {
				return c.errf("Illegal value: \"%s\"", c.arg)
			}
			c.tos[1], rest = uint8(m), r2
		}
		if rest != "" {
			return c.errf("Illegal value: \"%s\"", c.arg)
		}
		return nil
	}
	c.tos[1] = uint8(c.entry.max)
	for _, s := range tosSymbols {
		if strings.EqualFold(c.arg, s.name) {
			c.tos[0] = s.value
			return nil
		}
	}
	return c.errf("Symbolic name \"%s\" is unknown", c.arg)
}

// parseMarkMask is xtopt_parse_markmask: "mark[/mask]".
func (c *call) parseMarkMask() error {
	c.mark, c.mask = 0, math.MaxUint32
	v, rest, ok := strtoulRest(c.arg, 0, math.MaxUint32, 0)
	if !ok {
		return c.errf("%s: bad integer value for option \"--%s\", or out of range.\n", c.extName(), c.entry.name)
	}
	c.mark = uint32(v)
	if strings.HasPrefix(rest, "/") {
		m, r2, ok := strtoulRest(rest[1:], 0, math.MaxUint32, 0)
		if !ok {
			return c.errf("%s: bad integer value for option \"--%s\", or out of range.\n", c.extName(), c.entry.name)
		}
		c.mask, rest = uint32(m), r2
	}
	if rest != "" {
		return c.errf("%s: trailing garbage after value for option \"--%s\".\n", c.extName(), c.entry.name)
	}
	return nil
}

var syslogLevels = map[string]uint8{"alert": 1, "crit": 2, "debug": 7, "emerg": 0, "error": 3, "info": 6,
	"notice": 5, "panic": 0, "warning": 4}

func (c *call) parseSyslogLevel() error {
	if v, ok := strtoui(c.arg, 0, 7); ok {
		c.level = uint8(v)
		return nil
	}
	l, ok := syslogLevels[c.arg]
	if !ok {
		return c.errf("log level \"%s\" unknown\n", c.arg)
	}
	c.level = l
	return nil
}

// parseHost is xtopt_parse_host: an address (as getaddrinfo reads it) or
// a name of /etc/hosts.
func (c *call) parseHost(arg string) error {
	a, ok := inetAton(arg)
	if !ok {
		if a, ok = hostByName(arg); !ok {
			return c.errf("getaddrinfo: Name or service not known\n")
		}
	}
	c.haddr, c.hmask, c.hlen = a, [4]byte{255, 255, 255, 255}, 32
	return nil
}

// parseHostMask is xtopt_parse_hostmask: "host[/plen or mask]".
func (c *call) parseHostMask() error {
	host, plen, ok := strings.Cut(c.arg, "/")
	if err := c.parseHost(host); err != nil {
		return err
	}
	if ok {
		return c.parsePlenMask(plen)
	}
	return nil
}

func (c *call) parsePlen(arg string) error {
	if v, ok := strtoui(arg, 0, 32); ok {
		c.hlen = int(v)
		return nil
	}
	if m, ok := inetAton(arg); ok {
		c.hmask = m
		c.hlen = maskToCIDR(m)
		return nil
	}
	return c.errf("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (%d-%d).\n", c.extName(), c.entry.name, 0, 32)
}

func (c *call) parsePlenMask(arg string) error {
	if err := c.parsePlen(arg); err != nil {
		return err
	}
	if c.hlen < 0 {
		return nil // a non-contiguous mask, kept as given
	}
	c.hmask = cidrMask(c.hlen)
	return nil
}

// parsePort is xtopt_parse_port: a number or a service (any protocol).
func (c *call) parsePort() error {
	p := portByName(c.arg)
	if p < 0 {
		return c.errf("Port \"%s\" does not resolve to anything.\n", c.arg)
	}
	c.ports[0] = uint16(p)
	return nil
}

// portByName is xtables_getportbyname (getaddrinfo's service): decimal
// digits (taken modulo 65536, as glibc stores them) or a service name.
func portByName(s string) int {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	t = strings.TrimPrefix(t, "+")
	if t != "" && strings.Trim(t, "0123456789") == "" {
		v, _, _, overflow := strtoumax(t, 10)
		if overflow {
			v = math.MaxUint64
		}
		return int(v & 0xffff)
	}
	return servicePort(s, "")
}

// parseMport is xtopt_parse_mport: "port[:port]", an empty end open.
func (c *call) parseMport() error {
	maxiter := c.entry.n
	if maxiter == 0 {
		maxiter = 2
	}
	c.ports = [2]uint16{0, math.MaxUint16}
	c.nvals = 0
	for _, a := range strings.Split(c.arg, ":") {
		if c.nvals == maxiter {
			return c.errf("%s: Too many components for option \"--%s\" (max: %d)\n", c.extName(), c.entry.name, maxiter)
		}
		if a == "" {
			c.nvals++
			continue
		}
		v := portByName(a)
		if v < 0 {
			return c.errf("Port \"%s\" does not resolve to anything.\n", a)
		}
		if c.nvals < 2 {
			c.ports[c.nvals] = uint16(v)
		}
		c.nvals++
	}
	if c.nvals == 1 {
		c.ports[1] = c.ports[0]
		c.nvals++
	}
	return nil
}

func (c *call) parseEtherMAC() error {
	m, ok := parseMAC(c.arg)
	if !ok {
		return c.errf("Invalid MAC address specified.")
	}
	c.mac = m
	return nil
}

// parseMAC reads six hex bytes separated by colons (1 or 2 digits each).
func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, false
	}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return m, false
		}
		v, rest, ok, _ := strtoumax(p, 16)
		if !ok || rest != "" {
			return m, false
		}
		m[i] = byte(v)
	}
	return m, true
}

// fcheck is xtables_options_fcheck: the mandatory options given, and
// every "also" and "excl" relation kept.
func fcheck(p *prog, name string, xflags uint32, opts []xtOpt) error {
	for i := range opts {
		e := &opts[i]
		if e.flags&optMand != 0 && xflags&(1<<e.id) == 0 {
			return p.xtError(parameterProblem, "%s: option \"--%s\" must be specified\n", name, e.name)
		}
		if xflags&(1<<e.id) == 0 {
			continue
		}
		seen := map[uint]bool{}
		ids := []uint{}
		for j := range opts {
			if !seen[opts[j].id] {
				seen[opts[j].id] = true
				ids = append(ids, opts[j].id)
			}
		}
		sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
		for _, id := range ids {
			if id == e.id {
				continue
			}
			other := lookupOpt(opts, id)
			of := uint32(1) << id
			if e.also&of != 0 && xflags&of == 0 {
				return p.xtError(parameterProblem, "%s: option \"--%s\" also requires \"--%s\".\n", name, e.name, other.name)
			}
			if e.excl&of != 0 && xflags&of != 0 {
				return p.xtError(parameterProblem, "%s: option \"--%s\" cannot be used together with \"--%s\".\n", name, e.name, other.name)
			}
		}
	}
	return nil
}

func lookupOpt(opts []xtOpt, id uint) *xtOpt {
	for i := range opts {
		if opts[i].id == id {
			return &opts[i]
		}
	}
	return nil
}
