package iptables

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"strconv"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/netlink"
)

// ipset is ipset 7.17's command line over the host's sets: create, add,
// del, test, list, save, restore, flush, destroy, swap and rename for
// hash:ip, hash:net and hash:ip,port (IPv4), with timeouts and counters.

// IPSetVersion is what ipset says it is.
const IPSetVersion = "v7.17"

// ipsetErr is an ipset failure: the status it exits with and its text.
type ipsetErr struct {
	code int
	msg  string
	help bool // the "Try `ipset help'" line follows
}

func (e *ipsetErr) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return &ipsetErr{code: 2, msg: fmt.Sprintf(format, args...), help: true}
}

func setFail(format string, args ...any) error {
	return &ipsetErr{code: 1, msg: fmt.Sprintf(format, args...)}
}

// ipsetRun is one ipset run.
type ipsetRun struct {
	o       Options
	be      backend
	exist   bool
	quiet   bool
	names   bool
	terse   bool
	save    bool
	out     *strings.Builder
	errOut  *strings.Builder
	restore bool
}

// setCommands are ipset's commands and their short forms.
var setCommands = map[string]string{
	"create": "create", "n": "create", "add": "add", "a": "add", "del": "del", "d": "del",
	"test": "test", "t": "test", "destroy": "destroy", "x": "destroy", "list": "list", "l": "list",
	"save": "save", "s": "save", "restore": "restore", "r": "restore", "flush": "flush", "f": "flush",
	"rename": "rename", "e": "rename", "swap": "swap", "w": "swap", "help": "help", "version": "version",
	"-v": "version", "-version": "version", "--version": "version",
}

func runIPSet(args []string, o Options) int {
	r := &ipsetRun{o: o, out: &strings.Builder{}, errOut: &strings.Builder{}}
	defer func() {
		if r.be != nil {
			r.be.close()
		}
	}()
	err := r.command(args)
	io.WriteString(o.Stdout, r.out.String())
	io.WriteString(o.Stderr, r.errOut.String())
	return r.report(err, "")
}

// report writes err as ipset does and returns the exit status.
func (r *ipsetRun) report(err error, prefix string) int {
	if err == nil {
		return 0
	}
	var e *ipsetErr
	if !errors.As(err, &e) {
		e = &ipsetErr{code: 1, msg: err.Error()}
	}
	if !r.quiet && e.msg != "" {
		fmt.Fprintf(r.o.Stderr, "ipset %s: %s%s\n", IPSetVersion, prefix, e.msg)
		if e.help {
			fmt.Fprintf(r.o.Stderr, "Try `ipset help' for more information.\n")
		}
	}
	return e.code
}

// request sends q to the host.
func (r *ipsetRun) request(q setRequest) (setResponse, error) {
	if r.be == nil {
		be, err := r.o.dial()
		if err != nil {
			return setResponse{}, setFail("Kernel error received: %v", err)
		}
		r.be = be
	}
	b, err := r.be.ipset(q.encode())
	if err != nil {
		var ne *netlink.Error
		if errors.As(err, &ne) {
			return setResponse{}, setFail("Kernel error received: %s", ne.Msg)
		}
		return setResponse{}, setFail("Kernel error received: %v", err)
	}
	return decodeSetResponse(b), nil
}

// setErrText is ipset's wording of a status for an operation.
func setErrText(op uint8, status uint8, msg string) string {
	switch status {
	case setNoSuch:
		return "The set with the given name does not exist"
	case setNameExist:
		if op == setOpRename {
			return "Set cannot be renamed: a set with the new name already exists"
		}
		return "Set cannot be created: set with the same name already exists"
	case setInUse:
		if op == setOpRename {
			return "Set cannot be renamed: it is in use by another system"
		}
		return "Set cannot be destroyed: it is in use by a kernel component"
	case setTypeMismatch:
		return "The sets cannot be swapped: their type does not match"
	case setSecondMissing:
		return "Sets cannot be swapped: the second set does not exist"
	case setElemExist:
		return "Element cannot be added to the set: it's already added"
	case setElemMissing:
		return "Element cannot be deleted from the set: it's not added"
	case setFull:
		return "Hash is full, cannot add more elements"
	case setType:
		return "Kernel error received: set type not supported"
	case setNoTimeout:
		return "Timeout cannot be used: set was created without timeout support"
	case setNoCounters:
		return "Packet/byte counters cannot be used: set was created without counter support"
	case setInvalid:
		return "Kernel error received: invalid element for the set's type"
	}
	return "Kernel error received: " + msg
}

// do sends q and turns a refusal into ipset's error.
func (r *ipsetRun) do(q setRequest) (setResponse, error) {
	resp, err := r.request(q)
	if err != nil {
		return resp, err
	}
	if resp.status != setOK {
		return resp, setFail("%s", setErrText(q.op, resp.status, resp.msg))
	}
	return resp, nil
}

// options takes ipset's global options off args.
func (r *ipsetRun) options(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-exist", "-!", "--exist":
			r.exist = true
		case "-quiet", "-q", "--quiet":
			r.quiet = true
		case "-name", "-n", "--name":
			r.names = true
		case "-terse", "-t", "--terse":
			r.terse = true
		case "-sorted", "-s", "--sorted", "-resolve", "-r", "--resolve":
			// Entries are listed sorted; names are not resolved.
		case "-output", "-o", "--output":
			if i+1 >= len(args) {
				return nil, usageErr("Missing mandatory argument to option -output")
			}
			i++
			switch args[i] {
			case "save":
				r.save = true
			case "plain":
				r.save = false
			default:
				return nil, usageErr("Syntax error: unknown output mode '%s'", args[i])
			}
		default:
			rest = append(rest, args[i])
		}
	}
	return rest, nil
}

// command runs one ipset command line.
func (r *ipsetRun) command(args []string) error {
	args, err := r.options(args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usageErr("No command specified.")
	}
	cmd, ok := setCommands[args[0]]
	if !ok {
		return usageErr("No command specified: unknown argument %s", args[0])
	}
	args = args[1:]
	need := func(n int) error {
		if len(args) < 1 && n >= 1 {
			return usageErr("Missing mandatory argument to command %s", cmd)
		}
		if len(args) < 2 && n >= 2 {
			return usageErr("Missing second mandatory argument to command %s", cmd)
		}
		return nil
	}
	extra := func(n int) error {
		if len(args) > n {
			return usageErr("Unknown argument: `%s'", args[n])
		}
		return nil
	}
	switch cmd {
	case "version":
		fmt.Fprintf(r.out, "ipset %s, protocol version: 7\n", IPSetVersion)
		return nil
	case "help":
		fmt.Fprintf(r.out, "ipset %s\n\nUsage: ipset [options] COMMAND\n\nvnic's ipset keeps the sets of the host --host names: hash:ip, hash:net and hash:ip,port;\ndocs/iptables.md tells what it takes.\n", IPSetVersion)
		return nil
	case "create":
		if err := need(2); err != nil {
			return err
		}
		c, err := parseCreate(args[0], args[1], args[2:])
		if err != nil {
			return err
		}
		_, err = r.do(setRequest{op: setOpCreate, name: args[0], create: c, exist: r.exist})
		return err
	case "add", "del", "test":
		if err := need(2); err != nil {
			return err
		}
		return r.entryCommand(cmd, args[0], args[1], args[2:])
	case "destroy", "flush":
		if err := extra(1); err != nil {
			return err
		}
		name := ""
		if len(args) == 1 {
			name = args[0]
		}
		op := uint8(setOpDestroy)
		if cmd == "flush" {
			op = setOpFlush
		}
		_, err := r.do(setRequest{op: op, name: name})
		return err
	case "rename", "swap":
		if err := need(2); err != nil {
			return err
		}
		if err := extra(2); err != nil {
			return err
		}
		op := uint8(setOpRename)
		if cmd == "swap" {
			op = setOpSwap
		}
		_, err := r.do(setRequest{op: op, name: args[0], name2: args[1]})
		return err
	case "list", "save":
		if err := extra(1); err != nil {
			return err
		}
		name := ""
		if len(args) == 1 {
			name = args[0]
		}
		return r.list(name, cmd == "save" || r.save)
	case "restore":
		if r.restore {
			return usageErr("Restore command is not supported in restore mode")
		}
		return r.restoreFrom(r.o.Stdin)
	}
	return nil
}

// parseCreate reads create's type and options.
func parseCreate(name, typ string, opts []string) (ipt.SetCreate, error) {
	c := ipt.SetCreate{Name: name, Type: typ}
	known := false
	for _, t := range ipt.SetTypes {
		known = known || t == typ
	}
	if !known {
		for _, t := range []string{"bitmap:ip", "bitmap:ip,mac", "bitmap:port", "hash:mac", "hash:ip,mac", "hash:net,net",
			"hash:net,port", "hash:net,port,net", "hash:net,iface", "hash:ip,port,ip", "hash:ip,port,net", "hash:ip,mark", "list:set"} {
			if t == typ {
				return c, setFail("Kernel error received: set type not supported")
			}
		}
		return c, setFail("Syntax error: typename '%s' is unknown", typ)
	}
	for i := 0; i < len(opts); i++ {
		arg := func() (string, error) {
			if i+1 >= len(opts) {
				return "", usageErr("Missing mandatory argument of option %s", opts[i])
			}
			i++
			return opts[i], nil
		}
		switch opts[i] {
		case "family":
			v, err := arg()
			if err != nil {
				return c, err
			}
			switch v {
			case "inet", "ipv4", "-4":
			case "inet6", "ipv6", "-6":
				return c, setFail("Kernel error received: family inet6 is not supported: vnic's stack is IPv4")
			default:
				return c, setFail("Syntax error: unknown family '%s'", v)
			}
		case "initval":
			// The hash seed: vnic's is the name's (as list shows it).
			if _, err := arg(); err != nil {
				return c, err
			}
		case "hashsize", "maxelem", "timeout", "bucketsize":
			opt := opts[i]
			v, err := arg()
			if err != nil {
				return c, err
			}
			max := uint64(0xffffffff)
			if opt == "timeout" {
				max = 2147483
			}
			n, ok := strtoulBase(v, 0, max, 10)
			if !ok {
				return c, setFail("Syntax error: '%s' is out of range 0-%d", v, max)
			}
			switch opt {
			case "hashsize":
				c.HashSize = roundPow2(uint32(n))
			case "maxelem":
				c.MaxElem = uint32(n)
			case "timeout":
				c.Timeout = uint32(n)
				if c.Timeout == 0 {
					c.Timeout = 0
				}
			}
		case "counters":
			c.Counters = true
		case "comment", "skbinfo", "forceadd", "netmask", "markmask", "maxelem-hard":
			return c, setFail("Kernel error received: the create option %s is not supported by vnic's sets", opts[i])
		default:
			return c, usageErr("Unknown argument: `%s'", opts[i])
		}
	}
	return c, nil
}

// roundPow2 is the hash size the kernel makes of one asked for: a power
// of two, at least 64.
func roundPow2(n uint32) uint32 {
	if n <= 64 {
		return 64
	}
	return 1 << bits.Len32(n-1)
}

// setProtos are the protocol names of hash:ip,port entries.
var setProtos = map[string]uint8{"tcp": ipt.ProtoTCP, "udp": ipt.ProtoUDP, "udplite": ipt.ProtoUDPLite,
	"sctp": ipt.ProtoSCTP, "icmp": ipt.ProtoICMP}

// parseEntry reads an entry of the set type typ.
func parseEntry(typ, s string) (ipt.SetEntry, error) {
	var e ipt.SetEntry
	addr := s
	var second string
	if typ == ipt.SetHashIPPort {
		var ok bool
		if addr, second, ok = strings.Cut(s, ","); !ok {
			return e, setFail("Syntax error: Second element is missing from %s.", s)
		}
	}
	host, plen, hasLen := strings.Cut(addr, "/")
	a, ok := inetAton(host)
	if !ok {
		if a, ok = hostByName(host); !ok {
			return e, setFail("Syntax error: cannot parse %s: resolving to IPv4 address failed", host)
		}
	}
	e.Addr = a
	if hasLen {
		n, ok := strtoulBase(plen, 0, 32, 10)
		if !ok {
			return e, setFail("Syntax error: '%s' is out of range 0-32", plen)
		}
		e.CIDR = uint8(n)
		if e.CIDR == 0 && typ == ipt.SetHashNet {
			return e, setFail("Syntax error: '0' is out of range 1-32")
		}
	}
	if typ != ipt.SetHashIPPort {
		return e, nil
	}
	proto, port, hasProto := strings.Cut(second, ":")
	if !hasProto {
		proto, port = "tcp", second
	}
	p, ok := setProtos[proto]
	if !ok {
		return e, setFail("Syntax error: cannot parse '%s' as a protocol", proto)
	}
	e.Proto = p
	if p == ipt.ProtoICMP {
		var typ uint8
		var code [2]uint8
		pp := &prog{name: "ipset", line: -1, out: io.Discard, errOut: io.Discard}
		if err := pp.parseICMP(port, &typ, &code); err != nil {
			return e, setFail("Syntax error: cannot parse '%s' as an icmp type", port)
		}
		e.Port = uint16(typ)<<8 | uint16(code[0])
		return e, nil
	}
	if v, ok := strtoulBase(port, 0, 65535, 10); ok {
		e.Port = uint16(v)
		return e, nil
	}
	if v := servicePort(port, proto); v >= 0 {
		e.Port = uint16(v)
		return e, nil
	}
	if _, ok := strtoulBase(port, 0, 0, 10); ok {
		return e, setFail("Syntax error: '%s' is out of range 0-65535\nSyntax error: '%s' is invalid as number\ncannot parse '%s' as a %s port", port, proto, port, proto)
	}
	return e, setFail("Syntax error: cannot parse '%s' as a %s port", port, proto)
}

// setHeader is what the tool knows of a set before it sends an entry:
// its type (the kernel's ipset tool asks for it too).
func (r *ipsetRun) setHeader(name string) (ipt.SetInfo, error) {
	resp, err := r.do(setRequest{op: setOpList, name: name})
	if err != nil {
		return ipt.SetInfo{}, err
	}
	sets, err := resp.sets()
	if err != nil || len(sets) != 1 {
		return ipt.SetInfo{}, setFail("Kernel error received: malformed answer")
	}
	return sets[0], nil
}

func (r *ipsetRun) entryCommand(cmd, name, entry string, opts []string) error {
	info, err := r.setHeader(name)
	if err != nil {
		return err
	}
	e, err := parseEntry(info.Type, entry)
	if err != nil {
		return err
	}
	for i := 0; i < len(opts); i++ {
		val := func() (uint64, error) {
			if i+1 >= len(opts) {
				return 0, usageErr("Missing mandatory argument of option %s", opts[i])
			}
			i++
			v, ok := strtoulBase(opts[i], 0, 0, 10)
			if !ok {
				return 0, setFail("Syntax error: '%s' is invalid as number", opts[i])
			}
			return v, nil
		}
		switch o := opts[i]; {
		case o == "timeout" && cmd == "add":
			v, err := val()
			if err != nil {
				return err
			}
			if v > 2147483 {
				return setFail("Syntax error: '%d' is out of range 0-2147483", v)
			}
			if info.Timeout == 0 {
				return setFail("Timeout cannot be used: set was created without timeout support")
			}
			e.Timeout = uint32(v)
		case (o == "packets" || o == "bytes") && cmd == "add":
			v, err := val()
			if err != nil {
				return err
			}
			if !info.Counters {
				return setFail("Packet/byte counters cannot be used: set was created without counter support")
			}
			e.HasCounters = true
			if o == "packets" {
				e.Packets = v
			} else {
				e.Bytes = v
			}
		default:
			return usageErr("Unknown argument: `%s'", o)
		}
	}
	switch cmd {
	case "add":
		_, err = r.do(setRequest{op: setOpAdd, name: name, entry: e, exist: r.exist})
	case "del":
		_, err = r.do(setRequest{op: setOpDel, name: name, entry: e, exist: r.exist})
	case "test":
		var resp setResponse
		if resp, err = r.do(setRequest{op: setOpTest, name: name, entry: e}); err != nil {
			return err
		}
		if resp.r.u8() != 0 {
			fmt.Fprintf(r.errOut, "Warning: %s is in set %s.\n", entry, name)
			return nil
		}
		fmt.Fprintf(r.errOut, "%s is NOT in set %s.\n", entry, name)
		return &ipsetErr{code: 1, msg: ""}
	}
	return err
}

// setInitval is the hash seed a set shows: vnic derives it from the
// name (the kernel draws one at random).
func setInitval(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()
}

// setRevision is the kernel's revision of each type.
var setRevision = map[string]int{ipt.SetHashIP: 6, ipt.SetHashNet: 7, ipt.SetHashIPPort: 7}

func headerText(s *ipt.SetInfo) string {
	h := fmt.Sprintf("family inet hashsize %d maxelem %d", s.HashSize, s.MaxElem)
	if s.Timeout != 0 {
		h += fmt.Sprintf(" timeout %d", s.Timeout)
	}
	if s.Counters {
		h += " counters"
	}
	return h + fmt.Sprintf(" bucketsize 12 initval 0x%08x", setInitval(s.Name))
}

// memSize is vnic's estimate of a set's size in memory, in the kernel's
// layout: the set, then each entry with its extensions.
func memSize(s *ipt.SetInfo) int {
	per := 40
	if s.Type != ipt.SetHashIP {
		per = 48
	}
	if s.Timeout != 0 {
		per += 8
	}
	if s.Counters {
		per += 16
	}
	return 216 + per*len(s.Entries)
}

func entryText(typ string, e *ipt.SetEntry) string {
	s := ipString(e.Addr)
	switch typ {
	case ipt.SetHashNet:
		if e.CIDR != 32 {
			s += fmt.Sprintf("/%d", e.CIDR)
		}
	case ipt.SetHashIPPort:
		proto := ""
		for n, p := range setProtos {
			if p == e.Proto {
				proto = n
			}
		}
		switch {
		case e.Proto == ipt.ProtoICMP:
			name := fmt.Sprintf("%d/%d", e.Port>>8, e.Port&0xff)
			for _, c := range icmpCodes {
				code := uint8(e.Port)
				if uint16(c.typ) == e.Port>>8 && (c.min == code && c.max == code || c.min == 0 && c.max == 0xff && code == 0) {
					name = c.name
					break
				}
			}
			s += ",icmp:" + name
		case proto != "":
			s += fmt.Sprintf(",%s:%d", proto, e.Port)
		default:
			s += fmt.Sprintf(",%s:%d", protoToName(int(e.Proto), false), e.Port)
		}
	}
	if e.Timeout != 0 {
		s += fmt.Sprintf(" timeout %d", e.Timeout)
	}
	if e.HasCounters {
		s += fmt.Sprintf(" packets %d bytes %d", e.Packets, e.Bytes)
	}
	return s
}

func (r *ipsetRun) list(name string, save bool) error {
	resp, err := r.do(setRequest{op: setOpList, name: name})
	if err != nil {
		return err
	}
	sets, err := resp.sets()
	if err != nil {
		return setFail("Kernel error received: malformed answer")
	}
	for i := range sets {
		s := &sets[i]
		switch {
		case r.names:
			fmt.Fprintf(r.out, "%s\n", s.Name)
		case save:
			fmt.Fprintf(r.out, "create %s %s %s\n", s.Name, s.Type, headerText(s))
			for j := range s.Entries {
				fmt.Fprintf(r.out, "add %s %s\n", s.Name, entryText(s.Type, &s.Entries[j]))
			}
		default:
			if i > 0 {
				r.out.WriteString("\n")
			}
			fmt.Fprintf(r.out, "Name: %s\nType: %s\nRevision: %d\nHeader: %s\nSize in memory: %d\nReferences: %d\nNumber of entries: %d\n",
				s.Name, s.Type, setRevision[s.Type], headerText(s), memSize(s), s.Refs, len(s.Entries))
			if r.terse {
				continue
			}
			r.out.WriteString("Members:\n")
			for j := range s.Entries {
				fmt.Fprintf(r.out, "%s\n", entryText(s.Type, &s.Entries[j]))
			}
		}
	}
	return nil
}

// restoreFrom is ipset restore: one command a line (create, add, del,
// flush, destroy, swap, rename); a failing line ends the run with its
// number, the lines before it staying done.
func (r *ipsetRun) restoreFrom(in io.Reader) error {
	r.restore = true
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") || text == "COMMIT" {
			continue
		}
		words := strings.Fields(text)
		if _, ok := setCommands[words[0]]; !ok {
			return usageErr("No command specified: unknown argument %s", words[0])
		}
		if err := r.command(words); err != nil {
			var e *ipsetErr
			if errors.As(err, &e) && !e.help {
				return &ipsetErr{code: e.code, msg: fmt.Sprintf("Error in line %d: %s", line, e.msg)}
			}
			return err
		}
	}
	return nil
}

// setIndexOf asks the host for set name's index.
func (r *ipsetRun) setIndexOf(name string) (uint16, bool) {
	resp, err := r.request(setRequest{op: setOpIndex, name: name})
	if err != nil || resp.status != setOK {
		return 0, false
	}
	i := resp.r.u16()
	return i, resp.r.u8() != 0
}

// setNameOf asks the host for the name of the set at index.
func (r *ipsetRun) setNameOf(index uint16) (string, bool) {
	resp, err := r.request(setRequest{op: setOpName, index: index})
	if err != nil || resp.status != setOK {
		return "", false
	}
	n := resp.r.str()
	return n, resp.r.u8() != 0
}

// atoiU64 is strconv's unsigned parse for the set match's counters.
func atoiU64(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}
