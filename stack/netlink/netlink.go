// Package netlink is the kernel side of vnic's control socket (af_netlink
// and genetlink): netlink messages over a Unix SOCK_SEQPACKET socket (one
// packet carries one or more messages, as a netlink datagram does). It
// speaks generic netlink: the controller family "nlctrl" resolves family
// names to ids and multicast groups, and families register handlers.
// Replies match requests by sequence number; dumps are NLM_F_MULTI
// messages ending in one NLMSG_DONE; failures are NLMSG_ERROR with the
// errno and an extended ack (message and attribute offset); a set with
// NLM_F_ACK gets an acknowledgement.
//
// Everything a connection is sent goes through its output queue, written
// by a goroutine of its own, so nothing the server does waits on a client.
// The queue is bounded by a byte budget, the connection's receive buffer
// (DefaultRcvbuf, Linux's rmem_default, unless SetRcvbuf): a notification,
// reply or stream message that finds the budget exceeded is dropped, as a
// netlink socket's receive buffer overrun drops it, and the client is told
// ENOBUFS by an NLMSG_OVERRUN message ahead of what follows (a Unix socket
// cannot carry the socket error that recvmsg would return). Dumps are
// never dropped: like netlink_dump they fill a batch (DumpBatch bytes) at
// a time, each when the budget has room, so a dump of any size holds a
// bounded amount in memory. Close cancels the requests in progress (a
// stream ends with ESHUTDOWN), writes what is queued and closes every
// connection within a bounded time.
//
// A connection bound with CtrlCmdRouteBind becomes an rtnetlink socket of
// one host: its messages go to a RouteService (stack/rtnetlink's).
package netlink

import (
	"encoding/binary"
	"syscall"

	mnl "github.com/mdlayher/netlink"
)

// Generic netlink controller (linux/genetlink.h).
const (
	GenlIDCtrl = 0x10

	CtrlCmdNewFamily = 1
	CtrlCmdGetFamily = 3
	// CtrlCmdJoinGroup stands in for setsockopt(NETLINK_ADD_MEMBERSHIP):
	// a Unix socket has no netlink socket options.
	CtrlCmdJoinGroup = 0x80

	CtrlAttrFamilyID    = 1
	CtrlAttrFamilyName  = 2
	CtrlAttrVersion     = 3
	CtrlAttrMcastGroups = 7

	CtrlAttrMcastGrpName = 1
	CtrlAttrMcastGrpID   = 2

	// CtrlAttrJoinGroupID is JOIN_GROUP's group id (u32).
	CtrlAttrJoinGroupID = 0x80

	// CtrlCmdRouteBind turns the connection into an rtnetlink socket of
	// one namespace (what socket(AF_NETLINK, …, NETLINK_ROUTE) in that
	// namespace and bind(2) with nl_groups do): from then on every
	// message is rtnetlink. CtrlAttrNetns names the host (string),
	// CtrlAttrGroups is the RTMGRP_* bitmask to receive (u32).
	CtrlCmdRouteBind = 0x81
	CtrlAttrNetns    = 0x81
	CtrlAttrGroups   = 0x82
)

// MsgSetOption stands in for setsockopt(SOL_NETLINK) on any connection,
// bound to rtnetlink or not (its type is below NLMSG_MIN_TYPE, a
// control message: no family's). Its payload is two u32s, the option and
// its value; it is answered as a request with NLM_F_ACK is.
const MsgSetOption = 0x0e

// OptStopAtRefusal (value 1: on, 0: off) makes a refused rtnetlink request
// end its packet: the requests after it in the same packet are not run
// and are answered ECANCELED. A client can then send many changes a
// packet and still stop at the first that fails, as ip -batch without
// -force must (Linux runs every message of a datagram whatever the ones
// before it did; it has no such option).
const OptStopAtRefusal = 0x8001

// Extended ack attributes (NLMSGERR_ATTR_*).
const (
	nlmsgerrAttrMsg  = 1
	nlmsgerrAttrOffs = 2
)

const (
	nlmsgHdrLen = 16
	genlHdrLen  = 4
	MaxPacket   = 1 << 16 // the largest packet either side reads
)

// SplitGenl splits a generic netlink payload into command, version and body.
func SplitGenl(data []byte) (cmd, version uint8, body []byte, ok bool) {
	if len(data) < genlHdrLen {
		return 0, 0, nil, false
	}
	return data[0], data[1], data[4:], true
}

// GenlData joins a generic netlink header and body.
func GenlData(cmd, version uint8, body []byte) []byte {
	out := make([]byte, genlHdrLen+len(body))
	out[0], out[1] = cmd, version
	copy(out[genlHdrLen:], body)
	return out
}

// ErrorMsg builds NLMSG_ERROR for req: errno 0 is an acknowledgement. The
// request's header is echoed (capped: without payload) and an extended
// ack carries msg and, when off ≥ 0, the offset of the attribute at fault
// from the start of the request message.
func ErrorMsg(req mnl.Header, errno syscall.Errno, msg string, off int) mnl.Message {
	b := make([]byte, 4+nlmsgHdrLen)
	binary.LittleEndian.PutUint32(b, uint32(-int32(errno)))
	h := req
	h.Length = nlmsgHdrLen
	binary.LittleEndian.PutUint32(b[4:], h.Length)
	binary.LittleEndian.PutUint16(b[8:], uint16(h.Type))
	binary.LittleEndian.PutUint16(b[10:], uint16(h.Flags))
	binary.LittleEndian.PutUint32(b[12:], h.Sequence)
	binary.LittleEndian.PutUint32(b[16:], h.PID)
	flags := mnl.Capped
	if msg != "" || off >= 0 {
		ae := mnl.NewAttributeEncoder()
		if msg != "" {
			ae.String(nlmsgerrAttrMsg, msg)
		}
		if off >= 0 {
			ae.Uint32(nlmsgerrAttrOffs, uint32(off))
		}
		tlvs, err := ae.Encode()
		if err == nil {
			b = append(b, tlvs...)
			flags |= mnl.AcknowledgeTLVs
		}
	}
	return mnl.Message{Header: mnl.Header{Type: mnl.Error, Flags: flags, Sequence: req.Sequence}, Data: b}
}

// ParseError reads NLMSG_ERROR: the errno (0 for an ack), the extended
// ack's message and offset (-1 when absent).
func ParseError(m mnl.Message) (errno syscall.Errno, msg string, off int) {
	off = -1
	if len(m.Data) < 4 {
		return syscall.EPROTO, "short NLMSG_ERROR", -1
	}
	errno = syscall.Errno(-int32(binary.LittleEndian.Uint32(m.Data)))
	if m.Header.Flags&mnl.AcknowledgeTLVs == 0 {
		return errno, "", -1
	}
	rest := m.Data[4:]
	if len(rest) < nlmsgHdrLen {
		return errno, "", -1
	}
	hl := int(binary.LittleEndian.Uint32(rest))
	if m.Header.Flags&mnl.Capped != 0 || hl < nlmsgHdrLen {
		hl = nlmsgHdrLen
	}
	if hl > len(rest) {
		return errno, "", -1
	}
	ad, err := mnl.NewAttributeDecoder(rest[hl:])
	if err != nil {
		return errno, "", -1
	}
	for ad.Next() {
		switch ad.Type() {
		case nlmsgerrAttrMsg:
			msg = ad.String()
		case nlmsgerrAttrOffs:
			off = int(ad.Uint32())
		}
	}
	return errno, msg, off
}

// Marshal packs messages into one packet, padding each payload to the
// netlink alignment and filling in the lengths.
func Marshal(msgs []mnl.Message) ([]byte, error) {
	n := 0
	for _, m := range msgs {
		n += msgLen(m)
	}
	return AppendMarshal(make([]byte, 0, n), msgs...), nil
}

// AppendMarshal appends msgs to b as Marshal packs them (a payload padded
// to 4 bytes, the length counting the padding) and returns the result:
// one allocation at most, none when b has room.
func AppendMarshal(b []byte, msgs ...mnl.Message) []byte {
	for _, m := range msgs {
		l := msgLen(m)
		at := len(b)
		b = append(b, make([]byte, l)...) // compiled to a grow and a clear
		h := b[at : at+l]
		binary.LittleEndian.PutUint32(h[0:], uint32(l))
		binary.LittleEndian.PutUint16(h[4:], uint16(m.Header.Type))
		binary.LittleEndian.PutUint16(h[6:], uint16(m.Header.Flags))
		binary.LittleEndian.PutUint32(h[8:], m.Header.Sequence)
		binary.LittleEndian.PutUint32(h[12:], m.Header.PID)
		copy(h[nlmsgHdrLen:], m.Data)
	}
	return b
}

// Unmarshal splits a packet into messages.
func Unmarshal(b []byte) ([]mnl.Message, error) {
	var out []mnl.Message
	for len(b) >= nlmsgHdrLen {
		l := int(binary.LittleEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return nil, syscall.EINVAL
		}
		var m mnl.Message
		if err := m.UnmarshalBinary(b[:l]); err != nil {
			return nil, err
		}
		out = append(out, m)
		b = b[(l+3)&^3:]
	}
	return out, nil
}
