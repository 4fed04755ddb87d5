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

// DumpIt answers a dump request (rtnl_dumpit_func).
type DumpIt = DoIt

// Listener is told of a notification of group (an RTMGRP_* bit). It runs
// in the context of the change, under whatever lock the change holds, and
// must not block.
type Listener func(group uint32, m Message)

type handlers struct {
	doit   DoIt
	dumpit DumpIt
}

// table is a host's rtnetlink: its handlers by message type and its
// listeners (the rtnetlink kernel socket of the namespace).
type table struct {
	mu        sync.Mutex
	handlers  map[uint16]handlers
	listeners atomic.Pointer[[]Listener] // copied on write
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
// replaces the earlier one.
func Register(h *stack.Host, typ uint16, doit DoIt, dumpit DumpIt) {
	t := tableOf(h)
	t.mu.Lock()
	t.handlers[typ] = handlers{doit, dumpit}
	t.mu.Unlock()
}

// Handle is rtnetlink_rcv_msg: the request goes to its type's handler
// (the dump handler for a dump). A type without one is EOPNOTSUPP.
func Handle(h *stack.Host, req Request) ([]Message, error) {
	t := tableOf(h)
	t.mu.Lock()
	hs, ok := t.handlers[req.Type]
	t.mu.Unlock()
	fn := hs.doit
	if req.Dump() && hs.dumpit != nil {
		fn = hs.dumpit
	}
	if !ok && req.Type >= RTMNewAddr && req.Type <= RTMGetNeigh {
		// A protocol family's message on a host without the protocol
		// (rtnetlink's EAFNOSUPPORT); IPv4 is the only family.
		return nil, Errorf(syscall.EAFNOSUPPORT, "host %s has no IPv4 (no addresses in its topology)", h.Name())
	}
	if fn == nil {
		return nil, Errorf(syscall.EOPNOTSUPP, "message type %d is not supported", req.Type)
	}
	return fn(h, req)
}

// Listen adds fn to h's listeners (a bound rtnetlink socket).
func Listen(h *stack.Host, fn Listener) {
	t := tableOf(h)
	t.mu.Lock()
	defer t.mu.Unlock()
	var next []Listener
	if cur := t.listeners.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, fn)
	t.listeners.Store(&next)
}

// Notify is rtnl_notify: m goes to h's listeners of group.
func Notify(h *stack.Host, group uint32, typ uint16, body []byte) {
	t := key.Get(h)
	if t == nil {
		return
	}
	if ls := t.listeners.Load(); ls != nil {
		for _, fn := range *ls {
			fn(group, Message{Type: typ, Body: body})
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
	var e syscall.Errno
	if errors.As(err, &e) {
		return e, true
	}
	return 0, false
}
