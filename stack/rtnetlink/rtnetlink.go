package rtnetlink

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"vnic/stack"
	"vnic/stack/netlink"
)

// rtnetlink group bits (RTMGRP_*): what a listener asks for when it binds.
const (
	RTMGrpLink     = 0x1
	RTMGrpNeigh    = 0x4
	RTMGrpIPv4Addr = 0x10
	RTMGrpIPv4Rt   = 0x40
)

// Request is one rtnetlink request: its type (RTM_*), its NLM_F_* flags
// and its body (the fixed header and the attributes).
type Request struct {
	Type  uint16
	Flags uint16
	Body  []byte
	UID   uint32 // the requesting socket's user (sk_uid)
}

// Dump reports a dump request: a GET type (RTM_GET* & 3 == 2, as
// rtnetlink_rcv_msg reads it) with NLM_F_DUMP; on a NEW type the same bits
// are NLM_F_REPLACE and NLM_F_EXCL.
func (r Request) Dump() bool { return r.Type&3 == 2 && r.Flags&flagDump == flagDump }

// Message is one message a handler answers with, or a notification.
type Message struct {
	Type uint16
	Body []byte
}

// Reply is a Message of type typ.
func Reply(typ uint16, body []byte) Message { return Message{Type: typ, Body: body} }

// NLM_F_* of requests that the handlers read (the others are in msg.go).
const (
	FlagRequest = 0x1
	FlagAck     = 0x4
	flagDump    = 0x300 // NLM_F_ROOT | NLM_F_MATCH
)

// DoIt answers a request on host h (rtnl_doit_func). Its error is a
// *netlink.Error (errno and extended-ack message) or a bare errno.
type DoIt func(h *stack.Host, req Request) ([]Message, error)

// DumpIt answers a dump request whole (rtnl_dumpit_func run to the end):
// every message at once. A Dumper answers it in batches instead.
type DumpIt = DoIt

// Callback is a dump's place between its batches (netlink_callback): a
// Dumper keeps in Args whatever it needs to go on where it stopped.
type Callback struct {
	Args [6]int64

	began  bool
	dumper Dumper    // the Dumper answering, or
	whole  []Message // a DumpIt's answer, handed out batch by batch
}

// Dumper fills one batch of a dump, as a dumpit fills one skb: it calls
// add for each message in order until add returns false (the batch is
// full: that message was not taken and must come first in the next call),
// records its place in cb and reports done once the dump is complete. It
// is called again, with the same cb, until then; between calls the
// tables may change (Linux's dumps are not atomic either).
type Dumper func(h *stack.Host, req Request, cb *Callback, add func(Message) bool) (done bool, err error)

// Listener is told of a notification of group (an RTMGRP_* bit). It runs
// in the context of the change, under whatever lock the change holds, and
// must not block.
type Listener func(group uint32, m Message)

type handlers struct {
	doit   DoIt
	dumpit DumpIt
	dumper Dumper
}

// table is a host's rtnetlink: its handlers by message type and its
// listeners (the rtnetlink kernel socket of the namespace).
type table struct {
	mu        sync.Mutex
	handlers  map[uint16]handlers
	listeners atomic.Pointer[[]listener] // copied on write
	linkOps   LinkOps
}

var key = stack.NewHostKey[table]()

func tableOf(h *stack.Host) *table {
	if t := key.Get(h); t != nil {
		return t
	}
	key.Set(h, &table{handlers: map[uint16]handlers{}})
	return key.Get(h)
}

// Register is rtnl_register on host h: doit answers requests of type typ,
// dumpit its dumps (either may be nil). A later registration of a type
// replaces the earlier one (and a Dumper registered for it).
func Register(h *stack.Host, typ uint16, doit DoIt, dumpit DumpIt) {
	t := tableOf(h)
	t.mu.Lock()
	t.handlers[typ] = handlers{doit: doit, dumpit: dumpit}
	t.mu.Unlock()
}

// RegisterDumper makes fn answer the dumps of type typ on host h, in
// batches, in place of a DumpIt; the type's doit stays.
func RegisterDumper(h *stack.Host, typ uint16, fn Dumper) {
	t := tableOf(h)
	t.mu.Lock()
	hs := t.handlers[typ]
	hs.dumpit, hs.dumper = nil, fn
	t.handlers[typ] = hs
	t.mu.Unlock()
}

func (t *table) lookup(h *stack.Host, typ uint16) (handlers, error) {
	t.mu.Lock()
	hs, ok := t.handlers[typ]
	t.mu.Unlock()
	if !ok && typ >= RTMNewAddr && typ <= RTMGetNeigh {
		// A protocol family's message on a host without the protocol
		// (rtnetlink's EAFNOSUPPORT); IPv4 is the only family.
		return hs, Errorf(syscall.EAFNOSUPPORT, "host %s has no IPv4 (no addresses in its topology)", h.Name())
	}
	return hs, nil
}

// Handle is rtnetlink_rcv_msg: the request goes to its type's handler
// (the dump handler for a dump, a Dumper run to the end). A type without
// one is EOPNOTSUPP.
func Handle(h *stack.Host, req Request) ([]Message, error) {
	hs, err := tableOf(h).lookup(h, req.Type)
	if err != nil {
		return nil, err
	}
	if req.Dump() && hs.dumper != nil {
		var out []Message
		cb := &Callback{}
		for {
			done, err := hs.dumper(h, req, cb, func(m Message) bool { out = append(out, m); return true })
			if err != nil || done {
				return out, err
			}
		}
	}
	fn := hs.doit
	if req.Dump() && hs.dumpit != nil {
		fn = hs.dumpit
	}
	if fn == nil {
		return nil, Errorf(syscall.EOPNOTSUPP, "message type %d is not supported", req.Type)
	}
	return fn(h, req)
}

// Dump answers a dump request batch by batch, as netlink_dump calls a
// dumpit: each call fills one batch through add (see Dumper) and reports
// whether the dump is complete. A type with a Dumper is asked for each
// batch; any other is answered whole by Handle on the first call and its
// messages handed out from there. A request that is not a dump is
// answered whole too.
func Dump(h *stack.Host, req Request, cb *Callback, add func(Message) bool) (done bool, err error) {
	if !cb.began {
		cb.began = true
		hs, err := tableOf(h).lookup(h, req.Type)
		if err != nil {
			return true, err
		}
		if req.Dump() && hs.dumper != nil {
			cb.dumper = hs.dumper // the dump keeps its handler (cb->dump)
		} else if cb.whole, err = Handle(h, req); err != nil {
			return true, err
		}
	}
	if cb.dumper != nil {
		return cb.dumper(h, req, cb, add)
	}
	for len(cb.whole) > 0 && add(cb.whole[0]) {
		cb.whole = cb.whole[1:]
	}
	return len(cb.whole) == 0, nil
}

// Listen adds fn to h's listeners (a bound rtnetlink socket).
func Listen(h *stack.Host, fn Listener) { ListenGroups(h, fn, nil) }

// ListenGroups is Listen for a listener that says which groups it wants
// now (nil: all): Listening asks it, so that a change nobody listens to
// need not build its notification.
func ListenGroups(h *stack.Host, fn Listener, wants func(group uint32) bool) {
	t := tableOf(h)
	t.mu.Lock()
	defer t.mu.Unlock()
	var next []listener
	if cur := t.listeners.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, listener{fn, wants})
	t.listeners.Store(&next)
}

// Listening reports whether a listener of h wants group's notifications
// (rtnl_has_listeners).
func Listening(h *stack.Host, group uint32) bool {
	t := key.Get(h)
	if t == nil {
		return false
	}
	if ls := t.listeners.Load(); ls != nil {
		for _, l := range *ls {
			if l.wants == nil || l.wants(group) {
				return true
			}
		}
	}
	return false
}

type listener struct {
	fn    Listener
	wants func(group uint32) bool
}

// Notify is rtnl_notify: m goes to h's listeners of group.
func Notify(h *stack.Host, group uint32, typ uint16, body []byte) {
	t := key.Get(h)
	if t == nil {
		return
	}
	if ls := t.listeners.Load(); ls != nil {
		for _, l := range *ls {
			l.fn(group, Message{Type: typ, Body: body})
		}
	}
}

// Errorf is a handler's error: errno with an extended-ack message.
func Errorf(errno syscall.Errno, format string, args ...any) error {
	return netlink.Errorf(errno, format, args...)
}

// KernErr reports a subsystem's error as the kernel would: its errno alone
// ("RTNETLINK answers: …"); an error without one is EINVAL with its text.
func KernErr(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := UnwrapErrno(err); ok {
		return e
	}
	return Errorf(syscall.EINVAL, "%v", err)
}

// UnwrapErrno finds the errno an error wraps.
func UnwrapErrno(err error) (syscall.Errno, bool) {
	switch e := err.(type) {
	case nil:
		return 0, false // no allocation for the common case
	case syscall.Errno:
		return e, true
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e, true
	}
	return 0, false
}
