package ss

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
)

// The wire format of sock_diag for inet sockets, as
// include/uapi/linux/inet_diag.h and sock_diag.h lay it out: both ends of
// vnic_diag use these (the daemon fills them from the stack, ss reads
// them), so a reply is byte for byte what Linux answers on
// NETLINK_SOCK_DIAG. Integers are in host order except ports and
// addresses (network order), as in the kernel's structs.

// The vnic_diag generic netlink family: SOCK_DIAG_BY_FAMILY for the hosts
// of a running topology. A request's body is struct inet_diag_req_v2
// followed by attributes: the kernel's INET_DIAG_REQ_* and ReqHost, the
// host to ask. Each reply of the dump is struct inet_diag_msg followed
// by the INET_DIAG_* attributes the request's ext bits asked for.
const (
	FamilyName = "vnic_diag"
	// CmdSockDiagByFamily is the family's one command, numbered as the
	// netlink message type ss sends (SOCK_DIAG_BY_FAMILY).
	CmdSockDiagByFamily = 20
	// ReqHost is vnic's request attribute (a string): the host whose
	// sockets to dump. It is numbered far above the kernel's
	// INET_DIAG_REQ_* (1 to 3) so that the two never meet.
	ReqHost = 100
)

// Netlink and socket constants ss's requests and replies carry.
const (
	SockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	NlmsgDone        = 3  // NLMSG_DONE
	NlmsgError       = 2  // NLMSG_ERROR
	AFInet           = 2  // AF_INET
	AFInet6          = 10 // AF_INET6
	IPProtoTCP       = 6  // IPPROTO_TCP
)

// INET_DIAG_REQ_* request attributes.
const (
	ReqBytecode      = 1 // INET_DIAG_REQ_BYTECODE
	ReqSkBPFStorages = 2 // INET_DIAG_REQ_SK_BPF_STORAGES
	ReqProtocol      = 3 // INET_DIAG_REQ_PROTOCOL
)

// INET_DIAG_* reply attributes; the first eight are also the request's
// ext bits (1 << (attr - 1)).
const (
	AttrMemInfo       = 1  // INET_DIAG_MEMINFO: struct inet_diag_meminfo
	AttrInfo          = 2  // INET_DIAG_INFO: struct tcp_info
	AttrVegasInfo     = 3  // INET_DIAG_VEGASINFO: struct tcpvegas_info
	AttrCong          = 4  // INET_DIAG_CONG: the algorithm's name, NUL-terminated
	AttrTOS           = 5  // INET_DIAG_TOS
	AttrTClass        = 6  // INET_DIAG_TCLASS
	AttrSkMemInfo     = 7  // INET_DIAG_SKMEMINFO: u32 [SK_MEMINFO_VARS]
	AttrShutdown      = 8  // INET_DIAG_SHUTDOWN: u8, RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2
	AttrDCTCPInfo     = 9  // INET_DIAG_DCTCPINFO: struct tcp_dctcp_info
	AttrProtocol      = 10 // INET_DIAG_PROTOCOL: u8
	AttrSkV6Only      = 11 // INET_DIAG_SKV6ONLY: u8
	AttrMark          = 15 // INET_DIAG_MARK: u32
	AttrBBRInfo       = 16 // INET_DIAG_BBRINFO: struct tcp_bbr_info
	AttrClassID       = 17 // INET_DIAG_CLASS_ID
	AttrCgroupID      = 21 // INET_DIAG_CGROUP_ID: u64
	AttrSockopt       = 22 // INET_DIAG_SOCKOPT
	maxAttr           = 22 // INET_DIAG_MAX
	ExtMemInfo        = 1 << (AttrMemInfo - 1)
	ExtInfo           = 1 << (AttrInfo - 1)
	ExtVegasInfo      = 1 << (AttrVegasInfo - 1)
	ExtCong           = 1 << (AttrCong - 1)
	ExtSkMemInfo      = 1 << (AttrSkMemInfo - 1)
	skMemInfoVars     = 9 // SK_MEMINFO_VARS
	skMemInfoBacklog  = 7 // SK_MEMINFO_BACKLOG
	skMemInfoDrops    = 8 // SK_MEMINFO_DROPS
	diagNoCookie      = ^uint32(0)
	rtaHdrLen         = 4
	nlmsgHdrLen       = 16
	defaultRTONoPrint = 3000000 // TCP_TIMEOUT_FALLBACK in µs: ss leaves it out
)

// TCP states as inet_diag numbers them (include/net/tcp_states.h), and
// their bits in a request's idiag_states.
const (
	StateEstablished = 1
	StateSynSent     = 2
	StateSynRecv     = 3
	StateFinWait1    = 4
	StateFinWait2    = 5
	StateTimeWait    = 6
	StateClose       = 7
	StateCloseWait   = 8
	StateLastAck     = 9
	StateListen      = 10
	StateClosing     = 11
	StateNewSynRecv  = 12
	stateMax         = 12 // SS_MAX in ss: the states ss knows end before NEW_SYN_RECV

	// StatesAll is ss's SS_ALL; StatesConn its SS_CONN (the default
	// with -t: no listeners, closed, TIME-WAIT or SYN-RECV sockets).
	StatesAll  = 1<<stateMax - 1
	StatesConn = StatesAll &^ (1<<StateListen | 1<<StateClose | 1<<StateTimeWait | 1<<StateSynRecv)
)

// Timer kinds of inet_diag_msg's idiag_timer.
const (
	TimerOff       = 0
	TimerOn        = 1 // retransmit, loss probe
	TimerKeepalive = 2 // keepalive, also an orphan's FIN_WAIT2
	TimerTimeWait  = 3
	TimerPersist   = 4 // zero-window probe
)

// SockID is struct inet_diag_sockid: ports, addresses (the first four
// bytes of each for AF_INET), the bound device and the socket's cookie.
type SockID struct {
	SPort, DPort uint16
	Src, Dst     netip.Addr
	If           uint32
	Cookie       [2]uint32
}

// sockIDLen is sizeof(struct inet_diag_sockid).
const sockIDLen = 48

func (id SockID) append(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, id.SPort)
	b = binary.BigEndian.AppendUint16(b, id.DPort)
	b = appendAddr(b, id.Src)
	b = appendAddr(b, id.Dst)
	b = binary.NativeEndian.AppendUint32(b, id.If)
	b = binary.NativeEndian.AppendUint32(b, id.Cookie[0])
	return binary.NativeEndian.AppendUint32(b, id.Cookie[1])
}

func appendAddr(b []byte, a netip.Addr) []byte {
	var raw [16]byte
	if a.Is4() {
		a4 := a.As4()
		copy(raw[:], a4[:])
	} else if a.Is6() {
		raw = a.As16()
	}
	return append(b, raw[:]...)
}

// parseSockID reads an inet_diag_sockid of b (sockIDLen bytes at least)
// for addresses of the family.
func parseSockID(b []byte, family uint8) SockID {
	id := SockID{SPort: binary.BigEndian.Uint16(b[0:]), DPort: binary.BigEndian.Uint16(b[2:]),
		If:     binary.NativeEndian.Uint32(b[36:]),
		Cookie: [2]uint32{binary.NativeEndian.Uint32(b[40:]), binary.NativeEndian.Uint32(b[44:])}}
	if family == AFInet6 {
		id.Src, id.Dst = netip.AddrFrom16([16]byte(b[4:20])), netip.AddrFrom16([16]byte(b[20:36]))
	} else {
		id.Src, id.Dst = netip.AddrFrom4([4]byte(b[4:8])), netip.AddrFrom4([4]byte(b[20:24]))
	}
	return id
}

// ReqV2 is struct inet_diag_req_v2, what ss sends for each family and
// protocol it dumps.
//
//	 0      1        2    3    4            8              56
//	+------+--------+----+----+------------+--------------+
//	|family|protocol|ext |pad |   states   | inet_diag_    |
//	|      |        |    |    |            | sockid        |
//	+------+--------+----+----+------------+--------------+
type ReqV2 struct {
	Family, Protocol uint8
	Ext              uint8 // 1 << (INET_DIAG_* - 1) for each extension wanted
	States           uint32
	ID               SockID
}

// ReqV2Len is sizeof(struct inet_diag_req_v2).
const ReqV2Len = 8 + sockIDLen

// Append appends the request's bytes to b.
func (r ReqV2) Append(b []byte) []byte {
	b = append(b, r.Family, r.Protocol, r.Ext, 0)
	b = binary.NativeEndian.AppendUint32(b, r.States)
	return r.ID.append(b)
}

// ParseReqV2 reads a request: the struct, then its attributes (the rest).
func ParseReqV2(b []byte) (ReqV2, []byte, error) {
	if len(b) < ReqV2Len {
		return ReqV2{}, nil, fmt.Errorf("ss: inet_diag_req_v2 of %d bytes, want %d: %w", len(b), ReqV2Len, syscall.EINVAL)
	}
	r := ReqV2{Family: b[0], Protocol: b[1], Ext: b[2], States: binary.NativeEndian.Uint32(b[4:]),
		ID: parseSockID(b[8:], b[0])}
	return r, b[ReqV2Len:], nil
}

// Msg is struct inet_diag_msg, one socket of a dump.
//
//	 0      1     2     3       4                52      56     60     64    68    72
//	+------+-----+-----+-------+-----------------+-------+------+------+-----+-----+
//	|family|state|timer|retrans| inet_diag_sockid|expires|rqueue|wqueue| uid |inode|
//	+------+-----+-----+-------+-----------------+-------+------+------+-----+-----+
type Msg struct {
	Family, State, Timer, Retrans uint8
	ID                            SockID
	Expires                       uint32 // ms until the timer fires
	RQueue, WQueue                uint32 // a listener: its accept queue and backlog
	UID, Inode                    uint32
}

// MsgLen is sizeof(struct inet_diag_msg).
const MsgLen = 4 + sockIDLen + 20

// Append appends the message's bytes to b.
func (m Msg) Append(b []byte) []byte {
	b = append(b, m.Family, m.State, m.Timer, m.Retrans)
	b = m.ID.append(b)
	for _, v := range [...]uint32{m.Expires, m.RQueue, m.WQueue, m.UID, m.Inode} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b
}

// ParseMsg reads a reply: the message, then its attributes (the rest).
func ParseMsg(b []byte) (Msg, []byte, error) {
	if len(b) < MsgLen {
		return Msg{}, nil, fmt.Errorf("ss: inet_diag_msg of %d bytes, want %d: %w", len(b), MsgLen, syscall.EINVAL)
	}
	m := Msg{Family: b[0], State: b[1], Timer: b[2], Retrans: b[3], ID: parseSockID(b[4:], b[0])}
	m.Expires = binary.NativeEndian.Uint32(b[52:])
	m.RQueue = binary.NativeEndian.Uint32(b[56:])
	m.WQueue = binary.NativeEndian.Uint32(b[60:])
	m.UID = binary.NativeEndian.Uint32(b[64:])
	m.Inode = binary.NativeEndian.Uint32(b[68:])
	return m, b[MsgLen:], nil
}

// AppendAttr appends one netlink attribute (struct rtattr and its
// payload, padded to four bytes).
func AppendAttr(b []byte, typ uint16, payload []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(rtaHdrLen+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, payload...)
	for len(payload)%4 != 0 {
		b, payload = append(b, 0), append(payload, 0)
	}
	return b
}

// Attrs are a message's attributes by type, as iproute2's parse_rtattr
// indexes them: the first of each type up to INET_DIAG_MAX, the walk
// ending at the first attribute that does not fit (RTA_OK).
type Attrs [maxAttr + 1][]byte

// ParseAttrs indexes the attributes of b.
func ParseAttrs(b []byte) Attrs {
	var tb Attrs
	for len(b) >= rtaHdrLen {
		n := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:])
		if n < rtaHdrLen || n > len(b) {
			break
		}
		if int(typ) <= maxAttr && tb[typ] == nil {
			tb[typ] = b[rtaHdrLen:n]
		}
		adv := (n + 3) &^ 3
		if adv > len(b) {
			break
		}
		b = b[adv:]
	}
	return tb
}
