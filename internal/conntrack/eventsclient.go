package conntrack

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"vnic/internal/nlclient"
	"vnic/stack/netlink"
)

// eventWait is how long -E waits for its next event: for ever, in
// effect (Options.Context ends it).
const eventWait = 100 * 365 * 24 * time.Hour

// events is -E: the host's events of the -e groups (all by default)
// that the family and the filters keep, printed as they come, until the
// context ends; then the summary. A stream that lost events (ENOBUFS)
// is warned about, as conntrack warns, and subscribed again.
func (r *runner) events(path string) int {
	c := r.c
	if c.has(optBufferSize) {
		// A connection's receive budget is the server's to set: what
		// SO_RCVBUF would read back is the budget it has.
		fmt.Fprintf(r.o.Stderr, "NOTICE: Netlink socket buffer size has been set to %d bytes.\n", netlink.DefaultRcvbuf)
	}
	if err := c.filterInit(); err != nil {
		return r.fail(err)
	}
	groups := uint32(GroupAll)
	if c.has(optEventMask) {
		groups = 0
		for bit, g := range map[uint32]uint32{eventNew: GroupNew, eventUpdate: GroupUpdate, eventDestroy: GroupDestroy} {
			if c.eventMask&bit != 0 {
				groups |= g
			}
		}
	}
	ctx := r.o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	body := appendNE32(r.body(AFUnspec), AttrGroups, groups)
	conn := r.conn
	for {
		conn.Timeout = eventWait
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		err := conn.Stream(EventFamilyName, MsgEvents, body, func(_ uint8, msg []byte) { r.event(msg) })
		stop()
		if ctx.Err() != nil {
			fmt.Fprintf(r.o.Stderr, "%s%d flow events have been shown.\n", prefix, r.counter)
			return 0
		}
		if errnoOf(err) != syscall.ENOBUFS {
			if err == nil {
				return 0
			}
			return r.opFailedEvent(err)
		}
		fmt.Fprint(r.o.Stderr, "WARNING: We have hit ENOBUFS! We are losing events.\n"+
			"This message means that the current netlink socket buffer size is too small.\n"+
			"Please, check --buffer-size in conntrack(8) manpage.\n")
		conn.Close()
		if conn, err = nlclient.Dial(path); err != nil {
			fmt.Fprintf(r.o.Stderr, "%s: %v\n", progname, err)
			return otherProblem
		}
		r.conn = conn
	}
}

// opFailedEvent is a stream that ended in error.
func (r *runner) opFailedEvent(err error) int {
	if ne := errnoOf(err); ne != 0 {
		return r.opFailed(err, cmdEvent)
	}
	fmt.Fprintf(r.o.Stderr, "%sfailed to received netlink event: %v\n", prefix, err)
	return otherProblem
}

// event is event_cb: one event, printed unless filtered.
func (r *runner) event(msg []byte) {
	typ, flags, err := eventHeader(msg)
	if err != nil {
		return
	}
	e, err := ParseEntry(msg)
	if err != nil {
		return
	}
	kind := typeUpdate
	switch {
	case typ == MsgDelete:
		kind = typeDestroy
	case flags&FlagCreate != 0:
		kind = typeNew
	}
	c := r.c
	if c.family != AFUnspec && c.family != e.Family || c.filtered(&e) {
		return
	}
	if c.output&outSave != 0 {
		fmt.Fprintln(r.o.Stdout, formatSave(&e, kind))
		r.counter++
		return
	}
	if c.output&outTimestamp != 0 {
		now := r.o.Now()
		fmt.Fprintf(r.o.Stdout, "[%08d.%06d]\t", now.Unix(), now.Nanosecond()/1000)
	}
	fmt.Fprintln(r.o.Stdout, formatEntry(&e, kind, c.output))
	r.counter++
}
