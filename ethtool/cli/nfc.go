package cli

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"vnic/ethtool"
)

// rx-flow-hash's flow names (ethtool's rxflow_str_to_type): ah4 and esp4
// are one hash flow, as are ah6 and esp6.
var hashFlows = map[string]ethtool.FlowType{
	"tcp4": ethtool.TCPv4Flow, "udp4": ethtool.UDPv4Flow, "ah4": ethtool.AHESPv4, "esp4": ethtool.AHESPv4, "sctp4": ethtool.SCTPv4Flow,
	"tcp6": ethtool.TCPv6Flow, "udp6": ethtool.UDPv6Flow, "ah6": ethtool.AHESPv6, "esp6": ethtool.AHESPv6, "sctp6": ethtool.SCTPv6Flow,
	"ether": ethtool.EtherFlow,
}

var hashFlowNames = map[ethtool.FlowType]string{
	ethtool.TCPv4Flow: "TCP over IPV4", ethtool.UDPv4Flow: "UDP over IPV4", ethtool.AHESPv4: "IPSEC AH/ESP over IPV4",
	ethtool.SCTPv4Flow: "SCTP over IPV4", ethtool.TCPv6Flow: "TCP over IPV6", ethtool.UDPv6Flow: "UDP over IPV6",
	ethtool.AHESPv6: "IPSEC AH/ESP over IPV6", ethtool.SCTPv6Flow: "SCTP over IPV6", ethtool.IPv4Flow: "IPV4",
	ethtool.IPv6Flow: "IPV6", ethtool.EtherFlow: "ETHER",
}

// hashFields are rx-flow-hash's field letters in ethtool's order.
var hashFields = []struct {
	c    byte
	bit  uint64
	text string
}{
	{'m', ethtool.RxhL2DA, "L2DA"}, {'v', ethtool.RxhVLAN, "VLAN tag"}, {'t', ethtool.RxhL3Proto, "L3 proto"},
	{'s', ethtool.RxhIPSrc, "IP SA"}, {'d', ethtool.RxhIPDst, "IP DA"},
	{'f', ethtool.RxhL4B01, "L4 bytes 0 & 1 [TCP/UDP src port]"}, {'n', ethtool.RxhL4B23, "L4 bytes 2 & 3 [TCP/UDP dst port]"},
}

// showNFC is a parsed -n command line: rx-flow-hash FLOW, rule N, or the
// whole table.
type showNFC struct {
	flow    ethtool.FlowType
	rule    uint32
	hasRule bool
}

// parseShowNFC is -n [rx-flow-hash FLOW [context N] | rule N].
func parseShowNFC(r *run) int {
	a := r.args
	var s showNFC
	switch {
	case len(a) == 0:
	case a[0] == "rx-flow-hash" && (len(a) == 2 || len(a) == 4):
		ft, ok := hashFlows[a[1]]
		if !ok {
			return r.badArgs()
		}
		if len(a) == 4 {
			if _, ok := parseNum(a[3]); !ok || a[2] != "context" {
				return r.badArgs()
			}
		}
		s.flow = ft
	case a[0] == "rule" && len(a) == 2:
		n, ok := parseNum(a[1])
		if !ok || n > math.MaxInt32 {
			return r.badArgs()
		}
		s.rule, s.hasRule = n, true
	default:
		return r.badArgs()
	}
	r.parsed = &s
	return -1
}

func doShowNFC(r *run, dev ethtool.Device) int {
	s := r.parsed.(*showNFC)
	switch {
	case s.flow != 0:
		return showFlowHash(r, dev, s.flow)
	case s.hasRule:
		rs, err := dev.RxClsRules()
		if err == nil {
			for _, rule := range rs.Rules {
				if rule.Location == s.rule {
					fmt.Fprint(r.Stdout, FormatRxClsRule(rule))
					return 0
				}
			}
			err = ethtool.Errorf("get rx class rule", syscall.EINVAL, "")
		}
		r.perror("rxclass: Cannot get RX class rule", err)
		fmt.Fprintln(r.Stderr, "Cannot get RX classification rule")
		return 1
	}
	if n, err := dev.RxRings(); err != nil {
		r.perror("Cannot get RX rings", err)
	} else {
		fmt.Fprintf(r.Stdout, "%d RX rings available\n", n)
	}
	rs, err := dev.RxClsRules()
	if err != nil {
		r.perror("rxclass: Cannot get RX class rule count", err)
		fmt.Fprintln(r.Stderr, "RX classification rule retrieval failed")
		return 1
	}
	fmt.Fprint(r.Stdout, FormatRxClsRules(rs))
	return 0
}

func showFlowHash(r *run, dev ethtool.Device, ft ethtool.FlowType) int {
	f, err := dev.RxFlowHash(ft)
	if err != nil {
		r.perror("Cannot get RX network flow hashing options", err)
		return 1
	}
	var b strings.Builder
	if f == 0 {
		fmt.Fprintf(&b, "No hash options set for %s\n", hashFlowNames[ft])
	} else {
		fmt.Fprintf(&b, "%s flows use these fields for computing Hash flow key:\n", hashFlowNames[ft])
		for _, h := range hashFields {
			if f&h.bit != 0 {
				fmt.Fprintf(&b, "%s\n", h.text)
			}
		}
	}
	fmt.Fprint(r.Stdout, b.String()+"\n")
	return 0
}

// setNFC is a parsed -N command line: a hash change, a rule or a delete.
type setNFC struct {
	hashFlow ethtool.FlowType
	fields   uint64
	del      bool
	loc      uint32
	rule     *ethtool.RxClsRule
	// ipv6 is a well-formed IPv6 rule, which vnic's rules cannot carry.
	ipv6 bool
}

// parseSetNFC is -N rx-flow-hash FLOW FIELDS [context N] | flow-type ... |
// delete N.
func parseSetNFC(r *run) int {
	a := r.args
	var s setNFC
	switch {
	case len(a) >= 3 && a[0] == "rx-flow-hash" && (len(a) == 3 || len(a) == 5):
		ft, ok := hashFlows[a[1]]
		if !ok {
			return r.badArgs()
		}
		f, ok := parseHashFields(a[2])
		if !ok {
			return r.badArgs()
		}
		if len(a) == 5 {
			if _, ok := parseNum(a[4]); !ok || a[3] != "context" {
				return r.badArgs()
			}
		}
		s.hashFlow, s.fields = ft, f
	case len(a) >= 2 && a[0] == "delete": // words after N are ignored, as in ethtool
		n, ok := parseNum(a[1])
		if !ok {
			return r.badArgs()
		}
		s.del, s.loc = true, n
	case len(a) >= 2 && a[0] == "flow-type":
		rule, ipv6, err := ParseRxClsRule(a[1:])
		if err != nil {
			if pe, ok := err.(*RuleError); ok {
				if pe.Stdout {
					fmt.Fprintln(r.Stdout, pe.Msg)
				} else {
					fmt.Fprintln(r.Stderr, pe.Msg)
				}
			}
			return r.badArgs()
		}
		s.rule, s.ipv6 = &rule, ipv6
	default:
		return r.badArgs()
	}
	r.parsed = &s
	return -1
}

// parseHashFields parses rx-flow-hash's letters (m v t s d f n, r for
// discard).
func parseHashFields(s string) (uint64, bool) {
	var f uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		found := c == 'r'
		if found {
			f |= ethtool.RxhDiscard
		}
		for _, h := range hashFields {
			if h.c == c {
				f |= h.bit
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return f, true
}

func doSetNFC(r *run, dev ethtool.Device) int {
	s := r.parsed.(*setNFC)
	switch {
	case s.hashFlow != 0:
		if err := dev.SetRxFlowHash(s.hashFlow, s.fields); err != nil {
			// ethtool 6.1 reports the failure and still exits 0.
			r.perror("Cannot change RX network flow hashing options", err)
		}
		return 0
	case s.del:
		if err := dev.DeleteRxClsRule(s.loc); err != nil {
			r.perror("rmgr: Cannot delete RX class rule", err)
			fmt.Fprintln(r.Stderr, "Cannot delete classification rule")
			return 1
		}
		return 0
	}
	return insertRule(r, dev, s)
}

// insertRule is ethtool's rxclass_rule_ins: without "loc", a device that
// cannot choose a location (RX_CLS_LOC_SPECIAL) gets the highest free
// one (ethtool's rule manager puts new rules last), and the chosen ID is
// printed.
func insertRule(r *run, dev ethtool.Device, s *setNFC) int {
	rule := *s.rule
	special := rule.Location == ethtool.RxClsLocAny
	fail := func() int {
		fmt.Fprintln(r.Stderr, "Cannot insert classification rule")
		return 1
	}
	if special {
		rs, err := dev.RxClsRules()
		if err != nil {
			r.perror("rxclass: Cannot get RX class rule count", err)
			return fail()
		}
		if !rs.Special {
			used := map[uint32]bool{}
			for _, x := range rs.Rules {
				used[x.Location] = true
			}
			loc, found := rs.TableSize, false
			for loc > 0 && !found {
				loc--
				found = !used[loc]
			}
			if !found {
				fmt.Fprintln(r.Stderr, "rmgr: Cannot find appropriate slot to insert rule")
				return fail()
			}
			rule.Location = loc
		}
	}
	if s.ipv6 {
		// vnic's rules carry IPv4 and Ethernet fields only.
		r.perror("rmgr: Cannot insert RX class rule", ethtool.Errorf("insert rx class rule", syscall.EOPNOTSUPP, ""))
		if special {
			return fail()
		}
		return 0
	}
	loc, err := dev.InsertRxClsRule(rule)
	if err != nil {
		r.perror("rmgr: Cannot insert RX class rule", err)
		if special {
			return fail()
		}
		// With "loc", ethtool 6.1 exits 0 after the message.
		return 0
	}
	if special {
		fmt.Fprintf(r.Stdout, "Added rule with ID %d\n", loc)
	}
	return 0
}

// RuleError is a flow-type rule's parse error, printed as ethtool's
// rxclass parser prints it (one message goes to stdout).
type RuleError struct {
	Msg    string
	Stdout bool
}

func (e *RuleError) Error() string { return e.Msg }

// ruleVal is a parsed option value or kernel mask: a number, or the bytes
// of an address.
type ruleVal struct {
	x    uint64
	addr []byte
}

// ruleOpt is one keyword of a flow type's rule grammar.
type ruleOpt struct {
	name string
	typ  byte   // oU8...oQueue
	flag uint32 // ethtool's NFC_FLAG_*: a second use of a flag is an error
	// set stores the value and the kernel mask (nil: the option is not a
	// header field, or is parsed for its syntax only).
	set func(v, m *ethtool.FlowFields, val, mask ruleVal)
	// noMask options (action, vf, queue, loc) take no "m".
	noMask bool
}

// Value types of rule options.
const (
	oU8 = iota
	oU16
	oU32
	oU64
	oIP4
	oIP6
	oMAC
	oVF
	oQueue
)

// ethtool's NFC_FLAG_* bits; SPI shares SPORT|DPORT's bits, so spi and
// l4data exclude the ports, as in ethtool.
const (
	fRing      = 0x0001
	fLoc       = 0x0002
	fSaddr     = 0x0004
	fDaddr     = 0x0008
	fSport     = 0x0010
	fDport     = 0x0020
	fSPI       = 0x0030
	fTOS       = 0x0040
	fProto     = 0x0080
	fVLAN      = 0x0100
	fUDef      = 0x0200
	fVEth      = 0x0400
	fMAC       = 0x0800
	fRingVF    = 0x1000
	fRingQueue = 0x2000
)

func ipOpt(name string, flag uint32, dst bool) ruleOpt {
	return ruleOpt{name: name, typ: oIP4, flag: flag, set: func(v, m *ethtool.FlowFields, val, mask ruleVal) {
		if dst {
			copy(v.Dst[:], val.addr)
			copy(m.Dst[:], mask.addr)
		} else {
			copy(v.Src[:], val.addr)
			copy(m.Src[:], mask.addr)
		}
	}}
}

func macOpt(name string, flag uint32, field func(f *ethtool.FlowFields) *[6]byte) ruleOpt {
	return ruleOpt{name: name, typ: oMAC, flag: flag, set: func(v, m *ethtool.FlowFields, val, mask ruleVal) {
		copy(field(v)[:], val.addr)
		copy(field(m)[:], mask.addr)
	}}
}

func numOpt(name string, typ byte, flag uint32, set func(f *ethtool.FlowFields, x uint64)) ruleOpt {
	return ruleOpt{name: name, typ: typ, flag: flag, set: func(v, m *ethtool.FlowFields, val, mask ruleVal) {
		set(v, val.x)
		set(m, mask.x)
	}}
}

// l4PortOpt is a port of an ip4 rule: half of l4_4_bytes (the source port
// in the high half, as in network order).
func l4PortOpt(name string, flag uint32, shift uint) ruleOpt {
	return numOpt(name, oU16, flag, func(f *ethtool.FlowFields, x uint64) {
		f.L4Bytes = f.L4Bytes&^(0xFFFF<<shift) | uint32(uint16(x))<<shift
	})
}

var (
	tosOpt     = numOpt("tos", oU8, fTOS, func(f *ethtool.FlowFields, x uint64) { f.TOS = uint8(x) })
	commonOpts = []ruleOpt{
		{name: "action", typ: oU64, flag: fRing, noMask: true},
		{name: "vf", typ: oVF, flag: fRingVF, noMask: true},
		{name: "queue", typ: oQueue, flag: fRingQueue, noMask: true},
		{name: "loc", typ: oU32, flag: fLoc, noMask: true},
		numOpt("vlan-etype", oU16, fVEth, func(f *ethtool.FlowFields, x uint64) { f.VLANEtype = uint16(x) }),
		numOpt("vlan", oU16, fVLAN, func(f *ethtool.FlowFields, x uint64) { f.VLANTCI = uint16(x) }),
		numOpt("user-def", oU64, fUDef, func(f *ethtool.FlowFields, x uint64) { f.UserDef = [2]uint32{uint32(x >> 32), uint32(x)} }),
	}
	dstMACOpt = macOpt("dst-mac", fMAC, func(f *ethtool.FlowFields) *[6]byte { return &f.ExtDstMAC })
	portsOpts = []ruleOpt{ipOpt("src-ip", fSaddr, false), ipOpt("dst-ip", fDaddr, true), tosOpt,
		numOpt("src-port", oU16, fSport, func(f *ethtool.FlowFields, x uint64) { f.SrcPort = uint16(x) }),
		numOpt("dst-port", oU16, fDport, func(f *ethtool.FlowFields, x uint64) { f.DstPort = uint16(x) })}
	l4Set      = func(f *ethtool.FlowFields, x uint64) { f.L4Bytes = uint32(x) }
	spiOpts    = []ruleOpt{ipOpt("src-ip", fSaddr, false), ipOpt("dst-ip", fDaddr, true), tosOpt, numOpt("spi", oU32, fSPI, l4Set)}
	userIPOpts = []ruleOpt{ipOpt("src-ip", fSaddr, false), ipOpt("dst-ip", fDaddr, true), tosOpt,
		numOpt("l4proto", oU8, fProto, func(f *ethtool.FlowFields, x uint64) { f.Proto = uint8(x) }),
		numOpt("l4data", oU32, fSPI, l4Set), numOpt("spi", oU32, fSPI, l4Set),
		l4PortOpt("src-port", fSport, 16), l4PortOpt("dst-port", fDport, 0)}
	etherOpts = []ruleOpt{
		macOpt("src", fSaddr, func(f *ethtool.FlowFields) *[6]byte { return &f.SrcMAC }),
		macOpt("dst", fDaddr, func(f *ethtool.FlowFields) *[6]byte { return &f.DstMAC }),
		numOpt("proto", oU16, fProto, func(f *ethtool.FlowFields, x uint64) { f.EtherType = uint16(x) }),
	}
	// The IPv6 grammars, parsed for their syntax only.
	ip6Opts = []ruleOpt{{name: "src-ip", typ: oIP6, flag: fSaddr}, {name: "dst-ip", typ: oIP6, flag: fDaddr},
		{name: "tclass", typ: oU8, flag: fTOS}}
	ip6PortOpts = []ruleOpt{{name: "src-port", typ: oU16, flag: fSport}, {name: "dst-port", typ: oU16, flag: fDport}}
	ip6SPIOpts  = []ruleOpt{{name: "spi", typ: oU32, flag: fSPI}}
	ip6UserOpts = []ruleOpt{{name: "l4proto", typ: oU8, flag: fProto}, {name: "l4data", typ: oU32, flag: fSPI},
		{name: "spi", typ: oU32, flag: fSPI}, {name: "src-port", typ: oU16, flag: fSport}, {name: "dst-port", typ: oU16, flag: fDport}}
)

// ruleFlows are flow-type's names, their flow types and grammars.
var ruleFlows = map[string]struct {
	ft   ethtool.FlowType
	opts [][]ruleOpt
	ipv6 bool
}{
	"tcp4":  {ethtool.TCPv4Flow, [][]ruleOpt{portsOpts, commonOpts, {dstMACOpt}}, false},
	"udp4":  {ethtool.UDPv4Flow, [][]ruleOpt{portsOpts, commonOpts, {dstMACOpt}}, false},
	"sctp4": {ethtool.SCTPv4Flow, [][]ruleOpt{portsOpts, commonOpts, {dstMACOpt}}, false},
	"ah4":   {ethtool.AHv4Flow, [][]ruleOpt{spiOpts, commonOpts, {dstMACOpt}}, false},
	"esp4":  {ethtool.ESPv4Flow, [][]ruleOpt{spiOpts, commonOpts, {dstMACOpt}}, false},
	"ip4":   {ethtool.IPUserFlow, [][]ruleOpt{userIPOpts, commonOpts, {dstMACOpt}}, false},
	"ether": {ethtool.EtherFlow, [][]ruleOpt{etherOpts, commonOpts}, false},
	"tcp6":  {ethtool.TCPv6Flow, [][]ruleOpt{ip6Opts, ip6PortOpts, commonOpts, {dstMACOpt}}, true},
	"udp6":  {ethtool.UDPv6Flow, [][]ruleOpt{ip6Opts, ip6PortOpts, commonOpts, {dstMACOpt}}, true},
	"sctp6": {ethtool.SCTPv6Flow, [][]ruleOpt{ip6Opts, ip6PortOpts, commonOpts, {dstMACOpt}}, true},
	"ah6":   {ethtool.AHv6Flow, [][]ruleOpt{ip6Opts, ip6SPIOpts, commonOpts, {dstMACOpt}}, true},
	"esp6":  {ethtool.ESPv6Flow, [][]ruleOpt{ip6Opts, ip6SPIOpts, commonOpts, {dstMACOpt}}, true},
	"ip6":   {ethtool.IPv6User, [][]ruleOpt{ip6Opts, ip6UserOpts, commonOpts, {dstMACOpt}}, true},
}

// optBits are the widths of the numeric option types.
var optBits = map[byte]int{oU8: 8, oU16: 16, oU32: 32, oU64: 64, oVF: 8, oQueue: 32}

// parseRuleValue parses one option value or user mask.
func parseRuleValue(typ byte, s string) (ruleVal, bool) {
	switch typ {
	case oIP4:
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return ruleVal{}, false
		}
		v := a.As4()
		return ruleVal{addr: v[:]}, true
	case oIP6:
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return ruleVal{}, false
		}
		v := a.As16()
		return ruleVal{addr: v[:]}, true
	case oMAC:
		if !strings.Contains(s, ":") {
			return ruleVal{}, false
		}
		m, ok := scanMAC(s)
		return ruleVal{addr: m[:]}, ok
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil && strings.HasPrefix(s, "-") {
		// strtoull takes a minus and wraps (action -1 is drop).
		var m uint64
		m, err = strconv.ParseUint(s[1:], 0, 64)
		n = -m
	}
	if err != nil || (optBits[typ] < 64 && n > (uint64(1)<<optBits[typ])-1) {
		return ruleVal{}, false
	}
	return ruleVal{x: n}, true
}

// allOnes is the kernel mask of a field given without "m".
func allOnes(typ byte) ruleVal {
	switch typ {
	case oIP4:
		return ruleVal{addr: []byte{255, 255, 255, 255}}
	case oIP6:
		return ruleVal{addr: []byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}}
	case oMAC:
		return ruleVal{addr: []byte{255, 255, 255, 255, 255, 255}}
	}
	return ruleVal{x: ^uint64(0)}
}

// invert turns a user mask (1: ignore) into the kernel's (1: match).
func invert(v ruleVal) ruleVal {
	out := ruleVal{x: ^v.x}
	for _, b := range v.addr {
		out.addr = append(out.addr, ^b)
	}
	return out
}

// scanMAC is sscanf("%2x:%2x:%2x:%2x:%2x:%2x"): six fields of one or two
// hex digits (text after the sixth is ignored, as sscanf does).
func scanMAC(s string) ([6]byte, bool) {
	var a [6]byte
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		return a, false
	}
	for i, p := range parts {
		if i == 5 {
			n := 0
			for n < len(p) && n < 2 && strings.ContainsRune("0123456789abcdefABCDEF", rune(p[n])) {
				n++
			}
			p = p[:n]
		}
		if len(p) == 0 || len(p) > 2 {
			return a, false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return a, false
		}
		a[i] = byte(v)
	}
	return a, true
}

// ParseRxClsRule parses what follows "flow-type" as ethtool's rxclass
// parser does: the flow type, then keyword values, each with an optional
// "m MASK" or "<keyword>-mask MASK". The user's masks have a 1 in every
// bit to ignore; the rule gets the kernel's (a 1 in every bit to match:
// all ones for a field given without a mask, zero for a field not given).
// ipv6 reports a well-formed IPv6 rule, whose fields vnic's rules cannot
// hold (the returned rule then has no fields).
func ParseRxClsRule(args []string) (rule ethtool.RxClsRule, ipv6 bool, err error) {
	syntax := &RuleError{Msg: "Add rule, invalid syntax"}
	if len(args) < 1 {
		return rule, false, syntax
	}
	flow, ok := ruleFlows[args[0]]
	if !ok {
		return rule, false, syntax
	}
	rule.FlowType = flow.ft
	rule.Location = ethtool.RxClsLocAny
	var flags uint32
	var vf, queue uint64
	for i := 1; i < len(args); {
		if args[i] == "context" {
			i++
			if i >= len(args) {
				return rule, false, &RuleError{Msg: "'context' missing value"}
			}
			n, err := strconv.ParseUint(args[i], 0, 32)
			if err != nil {
				return rule, false, &RuleError{Msg: fmt.Sprintf("Invalid context value[%s]", args[i])}
			}
			if n == 0xFFFFFFFF {
				return rule, false, &RuleError{Msg: fmt.Sprintf("Bad context value %x", n)}
			}
			rule.FlowType |= ethtool.FlowRSS
			i++
			continue
		}
		var o *ruleOpt
		for _, group := range flow.opts {
			for k := range group {
				if group[k].name == args[i] {
					o = &group[k]
				}
			}
		}
		if o == nil {
			return rule, false, &RuleError{Msg: fmt.Sprintf("Add rule, unrecognized option[%s]", args[i]), Stdout: true}
		}
		i++
		if i >= len(args) {
			break // a keyword without a value ends the rule, as in ethtool
		}
		val, ok := parseRuleValue(o.typ, args[i])
		if !ok || flags&o.flag != 0 {
			return rule, false, &RuleError{Msg: fmt.Sprintf("Invalid %s value[%s]", o.name, args[i])}
		}
		flags |= o.flag
		mask := allOnes(o.typ)
		i++
		if i < len(args) && !o.noMask && (args[i] == "m" || args[i] == o.name+"-mask") {
			i++
			if i >= len(args) {
				return rule, false, syntax
			}
			um, ok := parseRuleValue(o.typ, args[i])
			if !ok {
				return rule, false, &RuleError{Msg: fmt.Sprintf("Invalid %s mask[%s]", o.name, args[i])}
			}
			mask = invert(um)
			i++
		}
		switch {
		case o.name == "action":
			rule.RingCookie = val.x
		case o.name == "vf":
			vf = val.x + 1
		case o.name == "queue":
			queue = val.x
		case o.name == "loc":
			rule.Location = uint32(val.x)
		case o.set != nil:
			o.set(&rule.Value, &rule.Mask, val, mask)
		}
	}
	if flags&fRing != 0 && flags&fRingQueue != 0 {
		return rule, false, &RuleError{Msg: "action and queue are not compatible"}
	}
	if flags&fRing != 0 && flags&fRingVF != 0 {
		return rule, false, &RuleError{Msg: "action and vf are not compatible"}
	}
	if flags&(fRingVF|fRingQueue) != 0 {
		rule.RingCookie = vf<<32 | queue
	}
	if flags&(fVLAN|fUDef|fVEth) != 0 {
		rule.FlowType |= ethtool.FlowExt
	}
	if flags&fMAC != 0 {
		rule.FlowType |= ethtool.FlowMACExt
	}
	if flow.ipv6 {
		return ethtool.RxClsRule{FlowType: rule.FlowType, Location: rule.Location, RingCookie: rule.RingCookie}, true, nil
	}
	return rule, false, nil
}

// FormatRxClsRules is ethtool -n's rule table: the count, then each rule.
func FormatRxClsRules(rs ethtool.RxClsRules) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Total %d rules\n\n", len(rs.Rules))
	for _, r := range rs.Rules {
		b.WriteString(FormatRxClsRule(r))
	}
	return b.String()
}

// FormatRxClsRule is one rule as ethtool prints it (rxclass.c): masks are
// shown the user's way, a 1 in every bit ignored — except the dst-mac of
// an IP rule, which ethtool prints as the kernel holds it.
func FormatRxClsRule(r ethtool.RxClsRule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Filter: %d\n", r.Location)
	ft := r.FlowType &^ (ethtool.FlowExt | ethtool.FlowMACExt | ethtool.FlowRSS)
	v, m := r.Value, r.Mask
	inv4 := func(a [4]byte) string {
		return netip.AddrFrom4([4]byte{^a[0], ^a[1], ^a[2], ^a[3]}).String()
	}
	ip := func() {
		fmt.Fprintf(&b, "\tSrc IP addr: %s mask: %s\n\tDest IP addr: %s mask: %s\n\tTOS: 0x%x mask: 0x%x\n",
			netip.AddrFrom4(v.Src), inv4(m.Src), netip.AddrFrom4(v.Dst), inv4(m.Dst), v.TOS, ^m.TOS)
	}
	mac := func(a [6]byte) string {
		return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", a[0], a[1], a[2], a[3], a[4], a[5])
	}
	invMAC := func(a [6]byte) [6]byte {
		for i := range a {
			a[i] = ^a[i]
		}
		return a
	}
	switch ft {
	case ethtool.TCPv4Flow, ethtool.UDPv4Flow, ethtool.SCTPv4Flow:
		name := map[ethtool.FlowType]string{ethtool.TCPv4Flow: "TCP", ethtool.UDPv4Flow: "UDP", ethtool.SCTPv4Flow: "SCTP"}[ft]
		fmt.Fprintf(&b, "\tRule Type: %s over IPv4\n", name)
		ip()
		fmt.Fprintf(&b, "\tSrc port: %d mask: 0x%x\n\tDest port: %d mask: 0x%x\n", v.SrcPort, ^m.SrcPort, v.DstPort, ^m.DstPort)
	case ethtool.AHv4Flow, ethtool.ESPv4Flow:
		name := "AH"
		if ft == ethtool.ESPv4Flow {
			name = "ESP"
		}
		fmt.Fprintf(&b, "\tRule Type: IPSEC %s over IPv4\n", name)
		ip()
		fmt.Fprintf(&b, "\tSPI: %d mask: 0x%x\n", v.L4Bytes, ^m.L4Bytes)
	case ethtool.IPUserFlow:
		b.WriteString("\tRule Type: Raw IPv4\n")
		ip()
		fmt.Fprintf(&b, "\tProtocol: %d mask: 0x%x\n\tL4 bytes: 0x%x mask: 0x%x\n", v.Proto, ^m.Proto, v.L4Bytes, ^m.L4Bytes)
	case ethtool.EtherFlow:
		fmt.Fprintf(&b, "\tFlow Type: Raw Ethernet\n\tSrc MAC addr: %s mask: %s\n\tDest MAC addr: %s mask: %s\n\tEthertype: 0x%X mask: 0x%X\n",
			mac(v.SrcMAC), mac(invMAC(m.SrcMAC)), mac(v.DstMAC), mac(invMAC(m.DstMAC)), v.EtherType, ^m.EtherType)
	default:
		fmt.Fprintf(&b, "\tUnknown Flow type: %d\n", ft)
	}
	if r.FlowType&ethtool.FlowExt != 0 {
		data := uint64(v.UserDef[0])<<32 | uint64(v.UserDef[1])
		datam := uint64(^m.UserDef[0])<<32 | uint64(^m.UserDef[1])
		fmt.Fprintf(&b, "\tVLAN EtherType: 0x%x mask: 0x%x\n\tVLAN: 0x%x mask: 0x%x\n\tUser-defined: 0x%x mask: 0x%x\n",
			v.VLANEtype, ^m.VLANEtype, v.VLANTCI, ^m.VLANTCI, data, datam)
	}
	if r.FlowType&ethtool.FlowMACExt != 0 {
		fmt.Fprintf(&b, "\tDest MAC addr: %s mask: %s\n", mac(v.ExtDstMAC), mac(m.ExtDstMAC))
	}
	switch {
	case r.RingCookie == ethtool.RxClsFlowDisc:
		b.WriteString("\tAction: Drop\n")
	case r.RingCookie == ethtool.RxClsFlowWake:
		b.WriteString("\tAction: Wake-on-LAN\n")
	case r.FlowType&ethtool.FlowRSS != 0:
		b.WriteString("\tRSS context id 0\n")
	default:
		vf := (r.RingCookie >> 32) & 0xFF
		q := r.RingCookie & 0xFFFFFFFF
		if vf != 0 {
			fmt.Fprintf(&b, "\tAction: Direct to VF %d queue %d\n", vf-1, q)
		} else {
			fmt.Fprintf(&b, "\tAction: Direct to queue %d\n", q)
		}
	}
	b.WriteString("\n")
	return b.String()
}
