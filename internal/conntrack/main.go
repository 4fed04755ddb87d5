package conntrack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/nlclient"
	"vnic/stack/netlink"
)

// Options are what Main runs with besides conntrack's command line.
type Options struct {
	Stdout, Stderr io.Writer
	// Socket is the control socket's path ("" : nlclient.DefaultPath()).
	Socket string
	// Host names the host whose table the command is for.
	Host string
	// Context ends -E (as SIGINT or SIGTERM ends conntrack -E): when it
	// is done the events stop and the summary is printed. nil: -E runs
	// until the stream ends.
	Context context.Context
	// Now is the clock -o timestamp prints event times from (nil:
	// time.Now).
	Now func() time.Time
}

const (
	progname = "conntrack"
	version  = "1.4.7"
	prefix   = progname + " v" + version + " (conntrack-tools): "
)

// runner is one run of Main.
type runner struct {
	o       Options
	c       *command
	conn    *nlclient.Conn
	counter int
}

// Main runs conntrack-tools 1.4.7's command line against a host of a
// running topology and returns the status conntrack exits with: 0, 1
// (OTHER_PROBLEM: a refused operation), 2 (PARAMETER_PROBLEM).
func Main(args []string, o Options) int {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &runner{o: o}
	defer func() {
		if r.conn != nil {
			r.conn.Close()
		}
	}()
	return r.run(args)
}

// fail prints an exit error as exit_error does and returns its status.
func (r *runner) fail(e *exitError) int {
	fmt.Fprintf(r.o.Stderr, "%s%s\n", prefix, e.msg)
	if e.tryHelp {
		fmt.Fprintf(r.o.Stderr, "Try `%s -h' or '%s --help' for more information.\n", progname, progname)
	}
	return e.code
}

// refuse is what vnic does not build: conntrack's line for EOPNOTSUPP,
// and why.
func (r *runner) refuse(format string, args ...any) int {
	fmt.Fprintf(r.o.Stderr, "%sOperation failed: %s\n", prefix, strerror(syscall.EOPNOTSUPP))
	fmt.Fprintf(r.o.Stderr, "vnic: %s\n", fmt.Sprintf(format, args...))
	return otherProblem
}

// opFailed is exit_error(OTHER_PROBLEM, "Operation failed: …") for the
// server's answer err to command cmd, the server's reason after it when
// it gave one.
func (r *runner) opFailed(err error, cmd int) int {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		fmt.Fprintf(r.o.Stderr, "%sOperation failed: %s\n", prefix, err2str(ne.Errno, cmd))
		if ne.Msg != "" {
			fmt.Fprintf(r.o.Stderr, "vnic: %s\n", ne.Msg)
		}
		return otherProblem
	}
	fmt.Fprintf(r.o.Stderr, "%s: %v\n", progname, err)
	return otherProblem
}

func (r *runner) run(args []string) int {
	if len(args) >= 2 && (args[0] == "-R" || args[0] == "--load-file") {
		return r.refuse("loading commands from a file (-R, --load-file) is not built")
	}
	c, perr := parseArgs(args)
	if c != nil {
		for _, w := range c.warnings {
			fmt.Fprintln(r.o.Stderr, w)
		}
	}
	if perr != nil {
		return r.fail(perr)
	}
	r.c = c
	if c.labels || c.output&outLabels != 0 {
		return r.refuse("connection labels (-l, --label-add, --label-del, -o labels) are not built")
	}
	switch c.command {
	case -1:
		fmt.Fprint(r.o.Stdout, Usage)
		return 0
	case cmdVersion:
		fmt.Fprintf(r.o.Stdout, "%s v%s (conntrack-tools)\n", progname, version)
		return 0
	case cmdHelp:
		fmt.Fprint(r.o.Stdout, Usage)
		if c.has(optProto) {
			fmt.Fprintf(r.o.Stdout, "Proto `%s' help:\n", helpName(c))
			fmt.Fprint(r.o.Stdout, protoHelp(c.proto))
		}
		return 0
	case expList, expCreate, expDelete, expGet, expFlush, expEvent, expCount, expStats:
		return r.refuse("the expectation table is not served: vnic's expectations have no ctnetlink side")
	}
	if c.output&(outXML|outKTimestamp) != 0 {
		return r.refuse("-o xml and -o ktimestamp are not built (the default, extended, id, timestamp and save formats are)")
	}
	if r.o.Host == "" {
		fmt.Fprintf(r.o.Stderr, "%s: which host? --host NAME (or VNIC_HOST)\n", progname)
		return otherProblem
	}
	path := r.o.Socket
	if path == "" {
		path = nlclient.DefaultPath()
	}
	conn, err := nlclient.Dial(path)
	if err != nil {
		fmt.Fprintf(r.o.Stderr, "%s: %v\n", progname, err)
		return otherProblem
	}
	r.conn = conn
	var code int
	switch c.command {
	case cmdList:
		code = r.list()
	case cmdGet:
		code = r.get()
	case cmdDelete:
		code = r.del()
	case cmdUpdate:
		code = r.update()
	case cmdFlush:
		code = r.flush()
	case cmdCreate, cmdAdd:
		code = r.create()
	case cmdEvent:
		return r.events(path)
	case cmdCount:
		return r.count()
	case cmdStats:
		return r.stats()
	}
	if code != 0 {
		return code
	}
	return r.summary()
}

// summary is print_stats: the count a command ends with; none found is a
// failure but for a listing or -A.
func (r *runner) summary() int {
	cmd := r.c.command
	if exitMsgs[cmd] == "" {
		return 0
	}
	fmt.Fprintf(r.o.Stderr, prefix+exitMsgs[cmd]+"\n", r.counter)
	if r.counter == 0 && cmd != cmdList && cmd != expList && cmd != cmdAdd {
		return 1
	}
	return 0
}

// body starts a request: nfgenmsg with the family, the host.
func (r *runner) body(family uint8) []byte {
	return appendString(appendNfgenmsg(nil, family, 0), AttrHost, r.o.Host)
}

func (r *runner) dumpReq(cmd uint8, body []byte) ([][]byte, error) {
	return r.conn.Request(FamilyName, cmd, mnl.Request|mnl.Dump, body)
}

func (r *runner) req(cmd uint8, body []byte) ([][]byte, error) {
	return r.conn.Request(FamilyName, cmd, mnl.Request|mnl.Acknowledge, body)
}

// print writes an entry in the command's output format.
func (r *runner) print(e *Entry, kind int) {
	if r.c.output&outSave != 0 {
		if kind == typeNone {
			kind = typeNew // a dump's entries are saved as -A lines
		}
		fmt.Fprintln(r.o.Stdout, formatSave(e, kind))
		return
	}
	fmt.Fprintln(r.o.Stdout, formatEntry(e, kind, r.c.output))
}

// list is -L: the table (or the dying and unconfirmed lists), filtered
// by the kernel (family, mark, status) and then by conntrack.
func (r *runner) list() int {
	c := r.c
	if c.table == tableDying || c.table == tableUnconfirmed {
		cmd := uint8(MsgGetDying)
		if c.table == tableUnconfirmed {
			cmd = MsgGetUnconfirmed
		}
		replies, err := r.dumpReq(cmd, r.body(c.family))
		if err != nil {
			return r.opFailed(err, cmdList)
		}
		r.printAll(replies, false)
		return 0
	}
	if c.options&comparison != 0 && c.has(optZero) {
		return r.fail(paramErr("Can't use -z with filtering parameters"))
	}
	if err := c.filterInit(); err != nil {
		return r.fail(err)
	}
	b := r.body(c.family)
	if c.has(optMark) {
		b = appendBE32(b, CTAMark, c.markFilter.value)
		b = appendBE32(b, CTAMarkMask, c.markFilter.mask)
	}
	if c.has(optStatus) {
		b = appendBE32(b, CTAStatus, c.statusKern.value)
		b = appendBE32(b, CTAStatusMask, c.statusKern.mask)
	}
	cmd := uint8(MsgGet)
	if c.has(optZero) {
		cmd = MsgGetCtrZero
	}
	replies, err := r.dumpReq(cmd, b)
	if err != nil {
		return r.opFailed(err, cmdList)
	}
	r.printAll(replies, true)
	return 0
}

// printAll prints the entries of a dump that the filter keeps.
func (r *runner) printAll(replies [][]byte, filter bool) {
	for _, m := range replies {
		e, err := ParseEntry(m)
		if err != nil || filter && r.c.filtered(&e) {
			continue
		}
		r.print(&e, typeNone)
		r.counter++
	}
}

// appendTemplate appends the template's tuples as a request carries them
// (a tuple for each direction the command line said something of).
func appendTemplate(b []byte, c *command) []byte {
	t := &c.tmpl
	if t.set&(1<<aOrigSrc|1<<aOrigDst|1<<aOrigL4|1<<aOrigSport|1<<aOrigDport) != 0 {
		b = appendTemplateTuple(b, CTATupleOrig, t.origSrc, t.origDst, t.has(aOrigSrc), t.has(aOrigDst),
			t.origL4, t.has(aOrigL4), t.origSport, t.origDport, t.has(aOrigSport), t.has(aOrigDport), t)
	}
	if t.set&(1<<aReplSrc|1<<aReplDst|1<<aReplL4|1<<aReplSport|1<<aReplDport) != 0 {
		b = appendTemplateTuple(b, CTATupleReply, t.replSrc, t.replDst, t.has(aReplSrc), t.has(aReplDst),
			t.replL4, t.has(aReplL4), t.replSport, t.replDport, t.has(aReplSport), t.has(aReplDport), t)
	}
	return b
}

func appendTemplateTuple(b []byte, typ uint16, src, dst netip.Addr, hasSrc, hasDst bool, proto uint8, hasProto bool,
	sport, dport uint16, hasSport, hasDport bool, t *template) []byte {
	b, outer := nestStart(b, typ)
	if hasSrc || hasDst {
		var ip int
		b, ip = nestStart(b, CTATupleIP)
		for i, a := range [2]netip.Addr{src, dst} {
			if !([2]bool{hasSrc, hasDst})[i] {
				continue
			}
			if a.Is4() {
				v := a.As4()
				b = appendAttr(b, uint16(CTAIPv4Src+i), v[:])
			} else {
				v := a.As16()
				b = appendAttr(b, uint16(CTAIPv6Src+i), v[:])
			}
		}
		b = nestEnd(b, ip)
	}
	if hasProto || hasSport || hasDport {
		var p int
		b, p = nestStart(b, CTATupleProto)
		b = appendU8(b, CTAProtoNum, proto)
		if hasSport {
			b = appendBE16(b, CTAProtoSrcPort, sport)
		}
		if hasDport {
			b = appendBE16(b, CTAProtoDstPort, dport)
		}
		if proto == 1 {
			b = appendBE16(b, CTAProtoICMPID, t.icmpID)
			b = appendU8(b, CTAProtoICMPType, t.icmpType)
			b = appendU8(b, CTAProtoICMPCode, t.icmpCode)
		}
		b = nestEnd(b, p)
	}
	return nestEnd(b, outer)
}

// get is -G: the entry of the tuple given, if the filter keeps it.
func (r *runner) get() int {
	c := r.c
	b := appendTemplate(r.body(c.family), c)
	replies, err := r.req(MsgGet, b)
	if err != nil {
		return r.opFailed(err, cmdGet)
	}
	r.printAll(replies, true)
	return 0
}

// entryKey is the request naming one entry: its original tuple, zone
// and (for a delete) its id.
func (r *runner) entryKey(e *Entry, withID bool) []byte {
	b := appendTuple(r.body(e.Family), CTATupleOrig, e.Orig)
	if e.Fields&HasZone != 0 {
		b = appendBE16(b, CTAZone, e.Zone)
	}
	if withID && e.Fields&HasID != 0 {
		b = appendBE32(b, CTAID, e.ID)
	}
	return b
}

// del is -D: the table (filtered by family and mark in the kernel, then
// by conntrack), each entry deleted by its tuple and printed.
func (r *runner) del() int {
	c := r.c
	if err := c.filterInit(); err != nil {
		return r.fail(err)
	}
	b := r.body(c.family)
	if c.has(optMark) {
		b = appendBE32(b, CTAMark, c.markFilter.value)
		b = appendBE32(b, CTAMarkMask, c.markFilter.mask)
	}
	replies, err := r.dumpReq(MsgGet, b)
	if err != nil {
		return r.opFailed(err, cmdDelete)
	}
	for _, m := range replies {
		e, err := ParseEntry(m)
		if err != nil || c.filtered(&e) {
			continue
		}
		if _, err := r.req(MsgDelete, r.entryKey(&e, true)); err != nil {
			if errnoOf(err) == syscall.ENOENT {
				continue // gone in the meantime
			}
			return r.opFailed(err, cmdDelete)
		}
		r.print(&e, typeNone)
		r.counter++
	}
	return 0
}

func errnoOf(err error) syscall.Errno {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		return ne.Errno
	}
	return 0
}

// update is -U: each entry of the table the command's tuples and NAT
// and network options keep gets the new mark (value under the mask),
// status bits and timeout; what that leaves as it was is not sent. The
// changed entry is read back and printed.
func (r *runner) update() int {
	c := r.c
	if err := c.filterInit(); err != nil {
		return r.fail(err)
	}
	replies, err := r.dumpReq(MsgGet, r.body(c.family))
	if err != nil {
		return r.opFailed(err, cmdUpdate)
	}
	t := &c.tmpl
	for _, m := range replies {
		e, err := ParseEntry(m)
		if err != nil || c.filterNAT(&e) || c.filterNetwork(&e) {
			continue
		}
		if t.has(aID) && e.Fields&HasID != 0 && t.id != e.ID {
			continue
		}
		if c.options&(1<<optOrigSrc|1<<optOrigDst|1<<optProto) != 0 && !c.cmp(&e, false, false, true, false) {
			continue
		}
		if c.options&(1<<optReplSrc|1<<optReplDst|1<<optProto) != 0 && !c.cmp(&e, false, false, false, true) {
			continue
		}
		b := r.entryKey(&e, false)
		changed := false
		if t.has(aTimeout) {
			b = appendBE32(b, CTATimeout, t.timeout)
			changed = changed || !(e.Fields&HasTimeout != 0 && e.Timeout == t.timeout)
		}
		if c.has(optStatus) {
			st := e.Status | t.status
			b = appendBE32(b, CTAStatus, st)
			changed = changed || st != e.Status
		}
		if c.has(optMark) {
			mark := e.Mark&^c.markFilter.mask ^ c.markFilter.value
			b = appendBE32(b, CTAMark, mark)
			changed = changed || mark != e.Mark
		}
		if !changed {
			continue
		}
		if _, err := r.req(MsgNew, b); err != nil {
			if errnoOf(err) == syscall.ENOENT {
				continue
			}
			var ne *netlink.Error
			if errors.As(err, &ne) {
				fmt.Fprintf(r.o.Stderr, "Operation failed: %s\n", err2str(ne.Errno, cmdUpdate))
			}
			return r.opFailed(err, cmdUpdate)
		}
		got, err := r.req(MsgGet, r.entryKey(&e, false))
		if err != nil {
			if errnoOf(err) == syscall.ENOENT {
				continue
			}
			return r.opFailed(err, cmdUpdate)
		}
		for _, m := range got {
			if g, err := ParseEntry(m); err == nil {
				r.print(&g, typeNone)
			}
		}
		r.counter++
	}
	return 0
}

// flush is -F: CT_DELETE without a tuple.
func (r *runner) flush() int {
	_, err := r.req(MsgDelete, r.body(r.c.family))
	fmt.Fprintf(r.o.Stderr, "%sconnection tracking table has been emptied.\n", prefix)
	if err != nil {
		return r.opFailed(err, cmdFlush)
	}
	return 0
}

// create is -I and -A: the entry of the tuples given (the other
// direction made up from the one given), its timeout, status, mark and
// state. vnic's service refuses it: entries come from packets.
func (r *runner) create() int {
	c := r.c
	t := &c.tmpl
	orig := t.set&(1<<aOrigSrc|1<<aOrigDst) != 0
	repl := t.set&(1<<aReplSrc|1<<aReplDst) != 0
	switch {
	case orig && !repl:
		t.replSrc, t.replDst, t.replSport, t.replDport, t.replL4 = t.origDst, t.origSrc, t.origDport, t.origSport, t.origL4
		t.set |= 1<<aReplSrc | 1<<aReplDst | 1<<aReplSport | 1<<aReplDport | 1<<aReplL4
	case repl && !orig:
		t.origSrc, t.origDst, t.origSport, t.origDport = t.replDst, t.replSrc, t.replDport, t.replSport
		t.set |= 1<<aOrigSrc | 1<<aOrigDst | 1<<aOrigSport | 1<<aOrigDport
	}
	b := appendTemplate(r.body(c.family), c)
	if t.has(aTimeout) {
		b = appendBE32(b, CTATimeout, t.timeout)
	}
	if t.has(aStatus) {
		b = appendBE32(b, CTAStatus, t.status)
	}
	if c.has(optMark) {
		b = appendBE32(b, CTAMark, c.markFilter.value)
	}
	if t.has(aZone) {
		b = appendBE16(b, CTAZone, t.zone)
	}
	if t.has(aTCPState) {
		b = appendTCPState(b, t.tcpState)
	}
	flags := uint16(FlagCreate)
	if c.command == cmdCreate {
		flags |= FlagExcl
	}
	b = appendNE16(b, AttrMsgFlags, flags)
	if _, err := r.req(MsgNew, b); err != nil {
		if c.command == cmdAdd && errnoOf(err) == syscall.EEXIST {
			return 0
		}
		return r.opFailed(err, c.command)
	}
	r.counter++
	return 0
}

// count is -C: the number of entries.
func (r *runner) count() int {
	replies, err := r.req(MsgGetStats, r.body(AFUnspec))
	if err != nil {
		return r.opFailed(err, cmdCount)
	}
	for _, m := range replies {
		if n, _, ok, err := ParseCount(m); err == nil && ok {
			fmt.Fprintf(r.o.Stdout, "%d\n", int32(n))
		}
	}
	return 0
}

// stats is -S: one line per CPU (vnic counts per host: one, cpu=0).
func (r *runner) stats() int {
	replies, err := r.dumpReq(MsgGetStatsCPU, r.body(AFUnspec))
	if err != nil {
		return r.opFailed(err, cmdStats)
	}
	for _, m := range replies {
		if s, err := ParseStats(m); err == nil {
			fmt.Fprintln(r.o.Stdout, formatStats(&s))
		}
	}
	return 0
}

// err2str is conntrack's table of errno texts by command, else
// strerror.
func err2str(errno syscall.Errno, cmd int) string {
	bit := uint32(1) << cmd
	has := func(cmds ...int) bool {
		for _, c := range cmds {
			if bit == 1<<c {
				return true
			}
		}
		return false
	}
	switch {
	case errno == 524 && has(cmdList):
		return "function not implemented"
	case errno == syscall.EINVAL && bit&0xffff != 0:
		return "invalid parameters"
	case errno == syscall.EEXIST && has(cmdCreate):
		return "Such conntrack exists, try -U to update"
	case errno == syscall.ENOENT && has(cmdCreate, cmdGet, cmdDelete, cmdAdd):
		return "such conntrack doesn't exist"
	case errno == syscall.ENOMEM && has(cmdCreate, cmdGet, cmdAdd):
		return "not enough memory"
	case errno == syscall.EAFNOSUPPORT && has(cmdGet):
		return "protocol not supported"
	case errno == syscall.ETIME && has(cmdCreate, cmdAdd):
		return "conntrack has expired"
	case errno == syscall.ENOENT && has(expCreate):
		return "master conntrack not found"
	case errno == syscall.EINVAL && has(expCreate):
		return "invalid parameters"
	case errno == syscall.EPERM:
		return "sorry, you must be root or get CAP_NET_ADMIN capability to do this"
	}
	return strerror(errno)
}

// strerror is glibc's text for errno (Go's, capitalized as glibc writes
// it).
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
