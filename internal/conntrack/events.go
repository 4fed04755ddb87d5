package conntrack

import (
	"context"
	"sync/atomic"
	"syscall"

	ct "vnic/stack/netfilter/conntrack"
	"vnic/stack/netlink"
)

// eventQueue bounds the events a stream holds between the tracker (which
// delivers them where the packet is, and must not wait) and the
// connection: past it events are lost and the stream ends with ENOBUFS,
// as a ctnetlink socket whose receive buffer overran reports it.
const eventQueue = 1024

func (s *Service) handleEvents(cmd uint8, _ bool, _ []byte) ([][]byte, int, error) {
	return nil, -1, netlink.Errorf(syscall.EOPNOTSUPP, "%s: message type %d is a stream (ask with NLM_F_DUMP)", EventFamilyName, cmd)
}

// events streams the host's events of the request's groups (AttrGroups,
// default all), each one message as ctnetlink_conntrack_event builds it,
// until the client goes.
func (s *Service) events(ctx context.Context, cmd uint8, body []byte, emit func([]byte) error) error {
	if cmd != MsgEvents {
		return netlink.Errorf(syscall.EOPNOTSUPP, "%s: unknown message type %d", EventFamilyName, cmd)
	}
	r, err := parseRequest(body)
	if err != nil {
		return err
	}
	n, err := s.net(r)
	if err != nil {
		return err
	}
	q := make(chan []byte, eventQueue)
	var lost atomic.Bool
	groups := r.groups
	var cancel func()
	s.exec(func() {
		cancel = n.Subscribe(func(ev ct.Event) {
			if eventGroup(ev.Events)&groups == 0 {
				return
			}
			select {
			case q <- appendEvent(nil, ev):
			default:
				lost.Store(true)
			}
		})
	})
	defer s.exec(cancel)
	if s.subscribed != nil {
		s.subscribed()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-q:
			if err := emit(m); err != nil {
				return err
			}
			if lost.Load() {
				return netlink.Errorf(syscall.ENOBUFS, "events were lost: more than %d waited for the connection", eventQueue)
			}
		}
	}
}

// eventGroup is the group an event goes to (NFNLGRP_CONNTRACK_*).
func eventGroup(ev ct.EventMask) uint32 {
	switch {
	case ev&(1<<ct.EventDestroy) != 0:
		return GroupDestroy
	case ev&(1<<ct.EventNew|1<<ct.EventRelated) != 0:
		return GroupNew
	case ev != 0:
		return GroupUpdate
	}
	return 0
}

// appendEvent is ctnetlink_conntrack_event: the message for ev, with the
// message type and flags it would carry. A destroyed entry reports its
// counters and state (and its timeout unless none is left); the others
// their timeout, their state when it changed (IPCT_PROTOINFO) and their
// master when related; the mark when it is set or changed.
func appendEvent(b []byte, ev ct.Event) []byte {
	c := ev.Conn
	typ, flags := uint16(MsgNew), uint16(0)
	switch eventGroup(ev.Events) {
	case GroupDestroy:
		typ = MsgDelete
	case GroupNew:
		flags = FlagCreate | FlagExcl
	}
	b = appendNfgenmsg(b, AFInet, 0)
	b = appendNE16(b, AttrMsgType, typ)
	b = appendNE16(b, AttrMsgFlags, flags)
	b = appendConnTuples(b, c)
	b = appendBE32(b, CTAID, c.ID())
	b = appendBE32(b, CTAStatus, uint32(c.Status()))
	tcp := c.Tuple(ct.Original).Proto == 6
	if typ == MsgDelete {
		if t := seconds(c); t != 0 {
			b = appendBE32(b, CTATimeout, t)
		}
		b = appendAcct(b, c)
		if tcp {
			b = appendTCPState(b, c.ProtoState())
		}
	} else {
		b = appendBE32(b, CTATimeout, seconds(c))
		if tcp && ev.Events&(1<<ct.EventProtoinfo) != 0 {
			b = appendTCPState(b, c.ProtoState())
		}
		if ev.Events&(1<<ct.EventRelated) != 0 {
			b = appendMaster(b, c)
		}
	}
	if m := c.Mark(); m != 0 || ev.Events&(1<<ct.EventMark) != 0 {
		b = appendBE32(b, CTAMark, m)
	}
	return b
}
