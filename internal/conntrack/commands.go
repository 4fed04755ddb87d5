package conntrack

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/netlink"
)

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
	if t.set&(1<<aOrigSrc|1<<aOrigDst|1<<aOrigL4|1<<aOrigSport|1<<aOrigDport|1<<aOrigZone) != 0 {
		b = appendTemplateTuple(b, CTATupleOrig, t.origSrc, t.origDst, t.has(aOrigSrc), t.has(aOrigDst),
			t.origL4, t.has(aOrigL4), t.origSport, t.origDport, t.has(aOrigSport), t.has(aOrigDport), t.origZone, t.has(aOrigZone), t)
	}
	if t.set&(1<<aReplSrc|1<<aReplDst|1<<aReplL4|1<<aReplSport|1<<aReplDport|1<<aReplZone) != 0 {
		b = appendTemplateTuple(b, CTATupleReply, t.replSrc, t.replDst, t.has(aReplSrc), t.has(aReplDst),
			t.replL4, t.has(aReplL4), t.replSport, t.replDport, t.has(aReplSport), t.has(aReplDport), t.replZone, t.has(aReplZone), t)
	}
	return b
}

func appendTemplateTuple(b []byte, typ uint16, src, dst netip.Addr, hasSrc, hasDst bool, proto uint8, hasProto bool,
	sport, dport uint16, hasSport, hasDport bool, zone uint16, hasZone bool, t *template) []byte {
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
	if hasZone {
		b = appendBE16(b, CTATupleZone, zone) // nfct_nlmsg_build: after the tuple, in its nest
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

// entryKey is the request naming one entry: its original tuple (with
// the zone of that direction), zone and (for a delete) its id.
func (r *runner) entryKey(e *Entry, withID bool) []byte {
	b := appendZonedTuple(r.body(e.Family), CTATupleOrig, e.Orig, e.OrigZone, e.Fields&HasOrigZone != 0)
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
