package conntrack

import (
	"bufio"
	"os"
	"strings"
	"sync"

	ct "vnic/stack/netfilter/conntrack"
)

// protoHandler is a protocol extension (struct ctproto_handler): its
// options (merged into the command line once -p names it), how it reads
// them and checks them, and how -o save prints its part of a tuple.
type protoHandler struct {
	name  string
	num   uint8
	opts  []longOpt
	names []string // its flags' names, as its final check reports them
	table [numCmd + 1][]byte
	parse func(c *command, r rune, arg string) *exitError
	check func(c *command) *exitError
	save  func(e *Entry) []string
}

// Option values of the extensions: above every short option.
const (
	tcpBase  = 0x1100
	udpBase  = 0x1200
	icmpBase = 0x1300
)

// The TCP and UDP extensions' flags (CT_TCP_*, CT_UDP_*): the TCP one has
// the state between the masks and the expectation tuple, the UDP one
// not.
const (
	l4OrigSport = 1 << iota
	l4OrigDport
	l4ReplSport
	l4ReplDport
	l4MaskSport
	l4MaskDport
	l4State // TCP only
)

func rows(spec map[int]string) [numCmd + 1][]byte {
	var t [numCmd + 1][]byte
	for cmd, s := range spec {
		for _, f := range strings.Fields(s) {
			t[cmd] = append(t[cmd], f[0]-'0')
		}
	}
	return t
}

func portOpts(base rune, state bool) []longOpt {
	o := []longOpt{
		{"orig-port-src", requiredArg, base + 1}, {"sport", requiredArg, base + 1},
		{"orig-port-dst", requiredArg, base + 2}, {"dport", requiredArg, base + 2},
		{"reply-port-src", requiredArg, base + 3}, {"reply-port-dst", requiredArg, base + 4},
		{"mask-port-src", requiredArg, base + 5}, {"mask-port-dst", requiredArg, base + 6},
	}
	if state {
		o = append(o, longOpt{"state", requiredArg, base + 7})
	}
	return append(o, longOpt{"tuple-port-src", requiredArg, base + 8}, longOpt{"tuple-port-dst", requiredArg, base + 9})
}

var tcpHandler = &protoHandler{
	name: "tcp", num: 6, opts: portOpts(tcpBase, true),
	names: []string{"sport", "dport", "reply-port-src", "reply-port-dst", "mask-port-src", "mask-port-dst", "state", "tuple-port-src", "tuple-port-dst"},
	table: rows(map[int]string{
		cmdList: "2 2 2 2 0 0 2 0 0", cmdCreate: "3 3 3 3 0 0 1 0 0", cmdUpdate: "2 2 2 2 0 0 2 0 0",
		cmdDelete: "2 2 2 2 0 0 2 0 0", cmdGet: "3 3 3 3 0 0 2 0 0", cmdEvent: "2 2 2 2 0 0 2 0 0",
		expCreate: "1 1 0 0 1 1 0 1 1", expDelete: "1 1 1 1 0 0 0 0 0", expGet: "1 1 1 1 0 0 0 0 0",
		cmdAdd: "3 3 3 3 0 0 1 0 0",
	}),
}

var udpHandler = &protoHandler{
	name: "udp", num: 17, opts: portOpts(udpBase, false),
	names: []string{"sport", "dport", "reply-port-src", "reply-port-dst", "mask-port-src", "mask-port-dst", "tuple-port-src", "tuple-port-dst"},
	table: rows(map[int]string{
		cmdList: "2 2 2 2 0 0 0 0", cmdCreate: "3 3 3 3 0 0 0 0", cmdUpdate: "2 2 2 2 0 0 0 0",
		cmdDelete: "2 2 2 2 0 0 0 0", cmdGet: "3 3 3 3 0 0 0 0", cmdEvent: "2 2 2 2 0 0 0 0",
		expCreate: "1 1 0 0 1 1 1 1", expDelete: "1 1 1 1 0 0 0 0", expGet: "1 1 1 1 0 0 0 0",
		cmdAdd: "3 3 3 3 0 0 0 0",
	}),
}

var icmpHandler = &protoHandler{
	name: "icmp", num: 1,
	opts:  []longOpt{{"icmp-type", requiredArg, icmpBase + 1}, {"icmp-code", requiredArg, icmpBase + 2}, {"icmp-id", requiredArg, icmpBase + 3}},
	names: []string{"icmp-type", "icmp-code", "icmp-id"},
	table: rows(map[int]string{
		cmdList: "2 2 2", cmdCreate: "1 1 2", cmdUpdate: "2 2 2", cmdDelete: "2 2 2", cmdGet: "1 1 2",
		cmdEvent: "2 2 2", cmdAdd: "1 1 2",
	}),
}

func init() {
	for _, h := range []*protoHandler{tcpHandler, udpHandler} {
		h.parse, h.check, h.save = portParse(h), portCheck(h), portSave(h)
	}
	icmpHandler.parse, icmpHandler.check, icmpHandler.save = icmpParse, icmpCheck, icmpSave
}

// The protocols conntrack has an extension for but vnic only names: vnic
// tracks them with the generic tracker, whose tuples have no ports or
// keys, so their options (sctp's --state, gre's keys …) are not built.
var bareHandlers = []*protoHandler{
	{name: "udplite", num: 136}, {name: "icmpv6", num: 58}, {name: "sctp", num: 132},
	{name: "dccp", num: 33}, {name: "gre", num: 47},
}

// unknownHandler is ct_proto_unknown: a protocol conntrack has no
// extension for.
var unknownHandler = &protoHandler{name: "unknown"}

func handlers() []*protoHandler {
	return append([]*protoHandler{tcpHandler, udpHandler, icmpHandler}, bareHandlers...)
}

// findProto is findproto: an extension's name (any case), a name from
// /etc/protocols, or a number up to 255.
func findProto(name string) (*protoHandler, uint8, bool) {
	for _, h := range handlers() {
		if strings.EqualFold(h.name, name) {
			return h, h.num, true
		}
	}
	if num, ok := protocolByName(name); ok {
		return unknownHandler, num, true
	}
	v, n, _ := strtoul(name, 0)
	if n == 0 || n != len(name) || v > 255 {
		return nil, 0, false
	}
	for _, h := range handlers() {
		if h.num == uint8(v) {
			return h, h.num, true
		}
	}
	return unknownHandler, uint8(v), true
}

var (
	protocolsOnce sync.Once
	protocols     map[string]uint8
)

// protocolByName is getprotobyname: /etc/protocols' names and aliases.
func protocolByName(name string) (uint8, bool) {
	protocolsOnce.Do(func() {
		protocols = map[string]uint8{}
		f, err := os.Open("/etc/protocols")
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			v, n, _ := strtoul(fields[1], 10)
			if n != len(fields[1]) || v > 255 {
				continue
			}
			for _, f := range append(fields[:1:1], fields[2:]...) {
				if _, dup := protocols[f]; !dup {
					protocols[f] = uint8(v)
				}
			}
		}
	})
	v, ok := protocols[name]
	return v, ok
}

// portParse is the TCP and UDP extensions' parse_options.
func portParse(h *protoHandler) func(c *command, r rune, arg string) *exitError {
	base := rune(tcpBase)
	if h == udpHandler {
		base = udpBase
	}
	return func(c *command, r rune, arg string) *exitError {
		t := &c.tmpl
		port := uint16(atoi(arg))
		switch r - base {
		case 1:
			t.origSport, t.origL4 = port, h.num
			t.mark(aOrigSport)
			t.mark(aOrigL4)
			c.l4flags |= l4OrigSport
		case 2:
			t.origDport, t.origL4 = port, h.num
			t.mark(aOrigDport)
			t.mark(aOrigL4)
			c.l4flags |= l4OrigDport
		case 3:
			t.replSport, t.replL4 = port, h.num
			t.mark(aReplSport)
			t.mark(aReplL4)
			c.l4flags |= l4ReplSport
		case 4:
			t.replDport, t.replL4 = port, h.num
			t.mark(aReplDport)
			t.mark(aReplL4)
			c.l4flags |= l4ReplDport
		case 5:
			c.l4flags |= l4MaskSport
		case 6:
			c.l4flags |= l4MaskDport
		case 7:
			state := -1
			for i, s := range ct.TCPStateNames {
				if s == arg {
					state = i
					break
				}
			}
			if arg == "LISTEN" {
				state = int(ct.TCPSynSent2) // TCP_CONNTRACK_LISTEN, before 2.6.31
			} else if state < 0 {
				return paramErr("unknown TCP state `%s'", arg)
			}
			t.tcpState = uint8(state)
			t.mark(aTCPState)
			c.l4flags |= l4State
		case 8, 9:
			// The expectation tuple's ports: after the state's flag
			// (TCP), after the masks' (UDP).
			bit := uint32(1) << (uint(r-base) - 1)
			if h == udpHandler {
				bit = uint32(1) << (uint(r-base) - 2)
			}
			c.l4flags |= bit
		}
		return nil
	}
}

// portCheck is the TCP and UDP extensions' final_check.
func portCheck(h *protoHandler) func(c *command) *exitError {
	return func(c *command) *exitError {
		row := h.table[c.command]
		if c.command < 0 {
			row = nil
		}
		if err := optCheck(c.l4flags, len(h.names), padRow(row, len(h.names)), h.names); err != nil {
			return err
		}
		for _, v := range row {
			if v == 3 {
				return coupled(c.l4flags, [2]uint32{l4OrigSport | l4OrigDport, l4ReplSport | l4ReplDport},
					"you have to specify `--sport' and `--dport'", "you have to specify `--reply-src-port' and `--reply-dst-port'")
			}
		}
		return nil
	}
}

// padRow is a table row with its missing options illegal (the rows
// conntrack leaves zero).
func padRow(row []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, row)
	return out
}

// icmpParse is the ICMP extension's parse.
func icmpParse(c *command, r rune, arg string) *exitError {
	t := &c.tmpl
	switch r - icmpBase {
	case 1:
		t.icmpType = uint8(atoi(arg))
		t.mark(aICMPType)
		c.l4flags |= 1 << 0
	case 2:
		t.icmpCode = uint8(atoi(arg))
		t.mark(aICMPCode)
		c.l4flags |= 1 << 1
	case 3:
		t.icmpID = uint16(atoi(arg))
		t.mark(aICMPID)
		c.l4flags |= 1 << 2
	}
	t.origL4 = 1
	t.mark(aOrigL4)
	if t.has(aReplL3) {
		t.replL4 = 1
		t.mark(aReplL4)
	}
	return nil
}

func icmpCheck(c *command) *exitError {
	var row []byte
	if c.command >= 0 {
		row = icmpHandler.table[c.command]
	}
	return optCheck(c.l4flags, 3, padRow(row, 3), icmpHandler.names)
}
