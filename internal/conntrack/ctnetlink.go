package conntrack

import (
	"encoding/binary"
	"errors"
)

// The families on vnic's control socket. FamilyName carries ctnetlink's
// requests and answers; EventFamilyName streams its events (what a
// socket bound to the NFNLGRP_CONNTRACK_* groups reads): the server
// answers every dump of a family that streams as a stream, and a table
// dump must not lose messages, so the two are kept apart.
const (
	FamilyName      = "vnic_ctnetlink"
	EventFamilyName = "vnic_ctnetlink_events"
)

// Message types (enum cntl_msg_types), sent as the generic netlink
// command. MsgEvents is vnic's: the event stream's request.
const (
	MsgNew            = 0 // IPCTNL_MSG_CT_NEW: create or update
	MsgGet            = 1 // IPCTNL_MSG_CT_GET: one entry, or the table (dump)
	MsgDelete         = 2 // IPCTNL_MSG_CT_DELETE: one entry, or flush
	MsgGetCtrZero     = 3 // IPCTNL_MSG_CT_GET_CTRZERO: dump and zero the counters
	MsgGetStatsCPU    = 4 // IPCTNL_MSG_CT_GET_STATS_CPU
	MsgGetStats       = 5 // IPCTNL_MSG_CT_GET_STATS
	MsgGetDying       = 6 // IPCTNL_MSG_CT_GET_DYING
	MsgGetUnconfirmed = 7 // IPCTNL_MSG_CT_GET_UNCONFIRMED
	MsgEvents         = 0x80
)

// Netlink header flags a request or event carries (NLM_F_*).
const (
	FlagCreate = 0x400 // NLM_F_CREATE
	FlagExcl   = 0x200 // NLM_F_EXCL
)

// Attributes of a conntrack message (enum ctattr_type).
const (
	CTATupleOrig    = 1
	CTATupleReply   = 2
	CTAStatus       = 3
	CTAProtoinfo    = 4
	CTAHelp         = 5
	CTANATSrc       = 6
	CTATimeout      = 7
	CTAMark         = 8
	CTACountersOrig = 9
	CTACountersRepl = 10
	CTAUse          = 11
	CTAID           = 12
	CTANATDst       = 13
	CTATupleMaster  = 14
	CTASeqAdjOrig   = 15
	CTASeqAdjReply  = 16
	CTASecmark      = 17
	CTAZone         = 18
	CTASecctx       = 19
	CTATimestamp    = 20
	CTAMarkMask     = 21
	CTALabels       = 22
	CTALabelsMask   = 23
	CTASynproxy     = 24
	CTAFilter       = 25
	CTAStatusMask   = 26
)

// vnic's attributes (above ctattr_type's range, as ss's ReqHost is
// above inet_diag's).
const (
	// AttrHost (string, NUL-terminated) names the host a request is for:
	// each host is a network namespace, and a Unix socket has none.
	AttrHost = 100
	// AttrGroups (u32, host order) is an event request's groups: the
	// NF_NETLINK_CONNTRACK_* bits a ctnetlink socket binds to.
	AttrGroups = 101
	// AttrMsgType and AttrMsgFlags (u16 each, host order) are the
	// netlink message type (MsgNew, MsgDelete) and flags (FlagCreate,
	// FlagExcl) the kernel would send an event with.
	AttrMsgType  = 102
	AttrMsgFlags = 103
)

// Event groups (NF_NETLINK_CONNTRACK_*).
const (
	GroupNew     = 1
	GroupUpdate  = 2
	GroupDestroy = 4
	GroupAll     = GroupNew | GroupUpdate | GroupDestroy
)

// Nested attributes: a tuple (ctattr_tuple), its addresses (ctattr_ip),
// its transport part (ctattr_l4proto), protocol state (ctattr_protoinfo,
// ctattr_protoinfo_tcp), counters (ctattr_counters).
const (
	CTATupleIP    = 1
	CTATupleProto = 2
	CTATupleZone  = 3

	CTAIPv4Src = 1
	CTAIPv4Dst = 2
	CTAIPv6Src = 3
	CTAIPv6Dst = 4

	CTAProtoNum      = 1
	CTAProtoSrcPort  = 2
	CTAProtoDstPort  = 3
	CTAProtoICMPID   = 4
	CTAProtoICMPType = 5
	CTAProtoICMPCode = 6

	CTAProtoinfoTCP      = 1
	CTAProtoinfoTCPState = 1

	CTACountersPackets = 1
	CTACountersBytes   = 2
	CTACountersPad     = 5
)

// Statistics (ctattr_stats_cpu, ctattr_stats_global).
const (
	CTAStatsSearched      = 1
	CTAStatsFound         = 2
	CTAStatsNew           = 3
	CTAStatsInvalid       = 4
	CTAStatsIgnore        = 5
	CTAStatsDelete        = 6
	CTAStatsDeleteList    = 7
	CTAStatsInsert        = 8
	CTAStatsInsertFailed  = 9
	CTAStatsDrop          = 10
	CTAStatsEarlyDrop     = 11
	CTAStatsError         = 12
	CTAStatsSearchRestart = 13
	CTAStatsClashResolve  = 14
	CTAStatsChainTooLong  = 15

	CTAStatsGlobalEntries    = 1
	CTAStatsGlobalMaxEntries = 2
)

// Address families (nfgen_family).
const (
	AFUnspec = 0
	AFInet   = 2
	AFInet6  = 10
)

// Netlink attribute framing (struct nlattr): a 4-byte header, the
// payload, padding to 4 bytes.
const (
	nlaHdrLen     = 4
	nlaFNested    = 0x8000
	nlaFByteorder = 0x4000
	nlaTypeMask   = ^uint16(nlaFNested | nlaFByteorder)
)

// nfgenmsgLen is struct nfgenmsg: family, version, res_id (big endian),
// at the head of every ctnetlink message.
const nfgenmsgLen = 4

// ErrMalformed is a message that does not parse: a short header, an
// attribute running past its container, a value of the wrong size.
var ErrMalformed = errors.New("conntrack: malformed ctnetlink message")

// appendNfgenmsg starts a message: its family and res_id.
func appendNfgenmsg(b []byte, family uint8, resID uint16) []byte {
	return append(b, family, 0, byte(resID>>8), byte(resID))
}

// appendAttr appends one attribute (nla_put).
func appendAttr(b []byte, typ uint16, v []byte) []byte {
	n := nlaHdrLen + len(v)
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for n%4 != 0 {
		b = append(b, 0)
		n++
	}
	return b
}

func appendU8(b []byte, typ uint16, v uint8) []byte { return appendAttr(b, typ, []byte{v}) }

func appendBE16(b []byte, typ uint16, v uint16) []byte {
	return appendAttr(b, typ, []byte{byte(v >> 8), byte(v)})
}

func appendBE32(b []byte, typ uint16, v uint32) []byte {
	return appendAttr(b, typ, binary.BigEndian.AppendUint32(nil, v))
}

// appendBE64 is nla_put_be64: Linux puts a CTA_COUNTERS_PAD attribute
// first where the value would not be 8-byte aligned; vnic's messages are
// read by vnic and the kernel's readers skip it, so none is needed and
// none is sent.
func appendBE64(b []byte, typ uint16, v uint64) []byte {
	return appendAttr(b, typ, binary.BigEndian.AppendUint64(nil, v))
}

func appendNE16(b []byte, typ uint16, v uint16) []byte {
	return appendAttr(b, typ, binary.NativeEndian.AppendUint16(nil, v))
}

func appendNE32(b []byte, typ uint16, v uint32) []byte {
	return appendAttr(b, typ, binary.NativeEndian.AppendUint32(nil, v))
}

func appendString(b []byte, typ uint16, s string) []byte {
	return appendAttr(b, typ, append([]byte(s), 0))
}

// nestStart opens a nested attribute (nla_nest_start, NLA_F_NESTED set
// as Linux sets it); nestEnd closes it at its length.
func nestStart(b []byte, typ uint16) ([]byte, int) {
	at := len(b)
	b = binary.NativeEndian.AppendUint16(b, 0)
	b = binary.NativeEndian.AppendUint16(b, typ|nlaFNested)
	return b, at
}

func nestEnd(b []byte, at int) []byte {
	binary.NativeEndian.PutUint16(b[at:], uint16(len(b)-at))
	return b
}

// attr is one parsed attribute: its type (flags masked off), payload,
// and offset from the start of what was parsed.
type attr struct {
	typ uint16
	v   []byte
	off int
}

// parseAttrs splits b into attributes; a length that runs short or past
// b is ErrMalformed. A later attribute of a type replaces an earlier one,
// as nla_parse keeps the last.
func parseAttrs(b []byte, fn func(a attr) error) error {
	off := 0
	for len(b) >= nlaHdrLen {
		n := int(binary.NativeEndian.Uint16(b))
		if n < nlaHdrLen || n > len(b) {
			return ErrMalformed
		}
		a := attr{typ: binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask, v: b[nlaHdrLen:n], off: off}
		if err := fn(a); err != nil {
			return err
		}
		step := min((n+3)&^3, len(b))
		b = b[step:]
		off += step
	}
	if len(b) != 0 {
		return ErrMalformed
	}
	return nil
}

func (a attr) u8() (uint8, error) {
	if len(a.v) < 1 {
		return 0, ErrMalformed
	}
	return a.v[0], nil
}

func (a attr) be16() (uint16, error) {
	if len(a.v) < 2 {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint16(a.v), nil
}

func (a attr) be32() (uint32, error) {
	if len(a.v) < 4 {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint32(a.v), nil
}

func (a attr) be64() (uint64, error) {
	if len(a.v) < 8 {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint64(a.v), nil
}

func (a attr) ne16() (uint16, error) {
	if len(a.v) < 2 {
		return 0, ErrMalformed
	}
	return binary.NativeEndian.Uint16(a.v), nil
}

func (a attr) ne32() (uint32, error) {
	if len(a.v) < 4 {
		return 0, ErrMalformed
	}
	return binary.NativeEndian.Uint32(a.v), nil
}

func (a attr) str() string {
	s := a.v
	for i, c := range s {
		if c == 0 {
			s = s[:i]
			break
		}
	}
	return string(s)
}

// splitNfgenmsg reads a message's struct nfgenmsg and returns its family,
// res_id and the attributes after it.
func splitNfgenmsg(b []byte) (family uint8, resID uint16, attrs []byte, err error) {
	if len(b) < nfgenmsgLen {
		return 0, 0, nil, ErrMalformed
	}
	return b[0], binary.BigEndian.Uint16(b[2:]), b[nfgenmsgLen:], nil
}
