package control

import (
	"net/netip"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/ss"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/netlink"
	"vnic/stack/tcp"
)

// The vnic_diag family is sock_diag for the hosts of the topology: ss's
// SOCK_DIAG_BY_FAMILY request (struct inet_diag_req_v2, then the host in
// ss.ReqHost) answered with one struct inet_diag_msg per socket and the
// INET_DIAG_* attributes the request's ext bits ask for, laid out as
// Linux lays them out (inet_diag.c, tcp_diag.c), so that ss reads them as
// it reads the kernel's.

// diagFamily is the family over the hosts host names.
func diagFamily(host func(string) *stack.Host, exec func(func())) *netlink.Family {
	d := &diagService{host: host, exec: exec}
	if d.exec == nil {
		d.exec = func(fn func()) { fn() }
	}
	return &netlink.Family{Name: ss.FamilyName, Version: 1, Handle: d.handle}
}

type diagService struct {
	host func(string) *stack.Host
	exec func(func())
}

func diagErr(errno syscall.Errno, format string, args ...any) error {
	return netlink.Errorf(errno, format, args...)
}

// handle is inet_diag_handler_cmd: a dump of the sockets in the
// request's states, or (without NLM_F_DUMP) the one socket its id names
// (inet_diag_get_exact).
func (d *diagService) handle(cmd uint8, dump bool, body []byte) ([][]byte, int, error) {
	if cmd != ss.CmdSockDiagByFamily {
		return nil, -1, diagErr(syscall.EOPNOTSUPP, "unknown command %d", cmd)
	}
	req, attrs, err := ss.ParseReqV2(body)
	if err != nil {
		return nil, 0, diagErr(syscall.EINVAL, "the request is not an inet_diag_req_v2 (%d bytes, want %d)", len(body), ss.ReqV2Len)
	}
	var hostName string
	var ad *mnl.AttributeDecoder
	if len(attrs) > 0 {
		if ad, err = mnl.NewAttributeDecoder(attrs); err != nil {
			return nil, ss.ReqV2Len, diagErr(syscall.EINVAL, "malformed request attributes")
		}
		off := ss.ReqV2Len
		for ad.Next() {
			switch ad.Type() {
			case ss.ReqHost:
				hostName = ad.String()
			case ss.ReqBytecode:
				// ss compiles filter expressions to bytecode; vnic's ss
				// sends none.
				return nil, off, diagErr(syscall.EOPNOTSUPP, "bytecode filters are not supported")
			}
			off += 4 + (len(ad.Bytes())+3)&^3
		}
		if err := ad.Err(); err != nil {
			return nil, ss.ReqV2Len, diagErr(syscall.EINVAL, "malformed request attributes")
		}
	}
	if req.Protocol != ss.IPProtoTCP {
		// No handler for the protocol: inet_diag_lock_handler's ENOENT.
		return nil, 1, diagErr(syscall.ENOENT, "no sock_diag handler for protocol %d: vnic serves TCP", req.Protocol)
	}
	if req.Family != ss.AFInet && req.Family != ss.AFInet6 {
		return nil, 0, diagErr(syscall.ENOENT, "no sock_diag handler for family %d", req.Family)
	}
	h := d.host(hostName)
	if h == nil {
		return nil, -1, diagErr(syscall.ENOENT, "no host %q in the running topology", hostName)
	}
	in := ipv4.Of(h)
	if in == nil {
		return nil, -1, diagErr(syscall.EAFNOSUPPORT, "host %s has no IPv4 (no addresses in its topology)", hostName)
	}
	p := tcp.Of(in)
	if p == nil {
		return nil, -1, diagErr(syscall.EPROTONOSUPPORT, "host %s has no TCP", hostName)
	}
	if req.Family == ss.AFInet6 {
		return nil, -1, nil // vnic's stack is IPv4 only: no IPv6 sockets
	}
	var socks []tcp.SockDiag
	d.exec(func() { socks = p.Sockets() })
	var out [][]byte
	for _, sd := range socks {
		state := diagState(sd.State)
		if dump && req.States&(1<<state) == 0 {
			continue
		}
		if !dump && !sameID(req.ID, sd) {
			continue
		}
		out = append(out, netlink.GenlData(ss.CmdSockDiagByFamily, 1, diagMsg(sd, req.Ext)))
		if !dump {
			return out, -1, nil
		}
	}
	if !dump {
		return nil, -1, diagErr(syscall.ENOENT, "no such socket")
	}
	return out, -1, nil
}

// diagState is the state inet_diag reports: a request socket
// (NEW_SYN_RECV) shows as SYN-RECV.
func diagState(s tcp.State) uint8 {
	if s == tcp.NewSynRecv {
		return ss.StateSynRecv
	}
	return uint8(s)
}

func sameID(id ss.SockID, sd tcp.SockDiag) bool {
	return id.SPort == sd.Local.Port() && id.DPort == sd.Remote.Port() &&
		id.Src == sd.Local.Addr() && id.Dst == sd.Remote.Addr()
}

// msCeil is a timer's remaining time in whole milliseconds, rounded up
// as the kernel's jiffies count ahead of the clock.
func msCeil(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32((d + time.Millisecond - 1) / time.Millisecond)
}

// diagMsg is one socket as inet_diag answers for it with the request's
// ext bits: inet_sk_diag_fill for a full socket (INET_DIAG_INFO, then
// INET_DIAG_CONG), inet_twsk_diag_fill for TIME-WAIT (its timer, empty
// queues, no attributes). vnic's sockets have no inode, owner or cookie
// (zero), and vnic keeps no shutdown state or memory accounting to
// report (no INET_DIAG_SHUTDOWN, MEMINFO or SKMEMINFO).
func diagMsg(sd tcp.SockDiag, ext uint8) []byte {
	m := ss.Msg{Family: ss.AFInet, State: diagState(sd.State),
		ID:     ss.SockID{SPort: sd.Local.Port(), DPort: sd.Remote.Port(), Src: addr4(sd.Local.Addr()), Dst: addr4(sd.Remote.Addr())},
		RQueue: sd.RecvQ, WQueue: sd.SendQ}
	if sd.Timer != tcp.DiagTimerNone {
		m.Timer, m.Retrans, m.Expires = uint8(sd.Timer), uint8(min(sd.TimerRetrans, 255)), msCeil(sd.TimerExpires)
	}
	if sd.State == tcp.TimeWait {
		m.RQueue, m.WQueue, m.Retrans = 0, 0, 0
		m.Timer = ss.TimerTimeWait
		return m.Append(nil)
	}
	b := m.Append(nil)
	if ext&ss.ExtInfo != 0 {
		b = ss.AppendAttr(b, ss.AttrInfo, tcpInfo(sd).Marshal())
	}
	if ext&ss.ExtCong != 0 && sd.Info.Congestion != "" {
		b = ss.AppendAttr(b, ss.AttrCong, append([]byte(sd.Info.Congestion), 0))
	}
	return b
}

func addr4(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return netip.IPv4Unspecified()
	}
	return a.Unmap()
}

// tcpInfo is tcp_get_info's struct from the stack's TCPInfo. A listener
// reports what Linux reports for one and no more: its state, pacing
// rates, reordering and cwnd, and its accept queue and backlog in
// unacked and sacked (tcp_get_info returns there). What vnic does not keep reads as zero (fackets and
// last_ack_sent, zero in Linux too; rcv_rtt, delivery_rate, busy times,
// delivered_ce, dsack_dups, reord_seen, rcv_ooopack, rehash); the
// maximum pacing rate is unlimited (~0), as sk_max_pacing_rate is until
// SO_MAX_PACING_RATE.
func tcpInfo(sd tcp.SockDiag) ss.TCPInfo {
	i := sd.Info
	t := ss.TCPInfo{State: diagState(i.State), CAState: i.CAState, Retransmits: i.Retransmits, Probes: i.Probes,
		Backoff: i.Backoff, Options: i.Options, SndWscale: i.SndWscale, RcvWscale: i.RcvWscale,
		RTO: i.RTO, ATO: i.ATO, SndMSS: i.SndMSS, RcvMSS: i.RcvMSS, Unacked: i.Unacked, Sacked: i.Sacked,
		Lost: i.Lost, Retrans: i.Retrans, LastDataSent: i.LastDataSent, LastDataRecv: i.LastDataRecv,
		LastAckRecv: i.LastAckRecv, PMTU: i.PMTU, RcvSsthresh: i.RcvSsthresh, RTT: i.RTT, RTTVar: i.RTTVar,
		SndSsthresh: i.SndSsthresh, SndCwnd: i.SndCwnd, AdvMSS: i.AdvMSS, Reordering: i.Reordering,
		RcvSpace: i.RcvSpace, TotalRetrans: i.TotalRetrans, PacingRate: i.PacingRate, MaxPacingRate: ^uint64(0),
		BytesAcked: i.BytesAcked, BytesReceived: i.BytesReceived, SegsOut: i.SegsOut, SegsIn: i.SegsIn,
		NotsentBytes: i.NotsentBytes, MinRTT: i.MinRTT, DataSegsIn: i.DataSegsIn, DataSegsOut: i.DataSegsOut,
		Delivered: i.Delivered, DeliveredCE: i.DeliveredCE, DSACKDups: i.DSACKDups, BytesSent: i.BytesSent, BytesRetrans: i.BytesRetrans, SndWnd: i.SndWnd, RcvWnd: i.RcvWnd}
	if sd.State == tcp.Listen {
		t = ss.TCPInfo{State: t.State, PacingRate: t.PacingRate, MaxPacingRate: t.MaxPacingRate,
			Reordering: t.Reordering, SndCwnd: t.SndCwnd, Unacked: sd.RecvQ, Sacked: sd.SendQ}
	}
	return t
}
