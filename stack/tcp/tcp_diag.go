package tcp

import (
	"net/netip"
	"sort"
	"time"
)

// TCPInfo is struct tcp_info (TCP_INFO, and what ss -i shows), the
// fields vnic keeps; times in microseconds as Linux reports them.
type TCPInfo struct {
	State       State
	CAState     uint8
	Retransmits uint8 // icsk_retransmits
	Probes      uint8
	Backoff     uint8
	Options     uint8 // TCPI_OPT_TIMESTAMPS 1, SACK 2, WSCALE 4, ECN 8, ECN_SEEN 16
	SndWscale   uint8
	RcvWscale   uint8

	RTO, ATO        uint32 // µs
	SndMSS, RcvMSS  uint32
	Unacked, Sacked uint32
	Lost, Retrans   uint32
	LastDataSent    uint32 // ms ago
	LastDataRecv    uint32
	LastAckRecv     uint32
	PMTU            uint32
	RcvSsthresh     uint32
	RTT, RTTVar     uint32 // µs
	SndSsthresh     uint32
	SndCwnd         uint32
	AdvMSS          uint32
	Reordering      uint32
	RcvSpace        uint32
	TotalRetrans    uint32
	PacingRate      uint64 // bytes/s
	BytesAcked      uint64
	BytesReceived   uint64
	SegsOut, SegsIn uint32
	NotsentBytes    uint32
	MinRTT          uint32
	DataSegsIn      uint32
	DataSegsOut     uint32
	Delivered       uint32
	DeliveredCE     uint32 // delivered by ACKs with ECE
	DSACKDups       uint32 // segments D-SACKed
	BytesSent       uint64
	BytesRetrans    uint64
	SndWnd          uint32
	RcvWnd          uint32
	Congestion      string
}

// TCPI_OPT_* bits of TCPInfo.Options.
const (
	InfoOptTimestamps = 1
	InfoOptSACK       = 2
	InfoOptWscale     = 4
	InfoOptECN        = 8
	InfoOptECNSeen    = 16
)

// Info is getsockopt(TCP_INFO) (tcp_get_info).
func (sk *Sock) Info() TCPInfo {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.infoLocked()
}

func (sk *Sock) infoLocked() TCPInfo {
	if sk.state == Listen {
		// tcp_get_info stops early for a listener: the fields meaningful
		// in every state, and the accept queue against its backlog.
		return TCPInfo{State: Listen, CAState: uint8(sk.caState), Reordering: uint32(sk.reordering),
			SndCwnd: sk.cwnd, Unacked: uint32(len(sk.acceptQ)), Sacked: uint32(sk.backlog), Congestion: sk.congName}
	}
	now := sk.now()
	ms := func(t time.Duration) uint32 {
		if t == 0 {
			return 0
		}
		return uint32((now - t).Milliseconds())
	}
	i := TCPInfo{State: sk.state, CAState: uint8(sk.caState), Retransmits: uint8(sk.retransmits),
		Probes: uint8(sk.probesOut), Backoff: uint8(sk.backoff), SndWscale: sk.sndWscale, RcvWscale: sk.rcvWscale,
		RTO: uint32(sk.rto.Microseconds()), ATO: uint32(sk.ato.Microseconds()), SndMSS: sk.mssCache, RcvMSS: sk.rcvMSS,
		Unacked: uint32(sk.packetsOut()), Sacked: uint32(sk.sackedOut), Lost: uint32(sk.lostOut), Retrans: uint32(sk.retransOut),
		LastDataSent: ms(sk.lastSnd), LastDataRecv: ms(sk.lastRcvData), LastAckRecv: ms(sk.lastAckRcv),
		PMTU: uint32(sk.pmtu), RcvSsthresh: sk.rcvSsthr, RTT: uint32(sk.srtt8 >> 3), RTTVar: uint32(sk.mdev4 >> 2),
		SndSsthresh: sk.ssthresh, SndCwnd: sk.cwnd, AdvMSS: sk.advMSS, Reordering: uint32(sk.reordering),
		RcvSpace: sk.rcvSpace.space, TotalRetrans: uint32(sk.totalRetx), BytesAcked: sk.bytesAcked,
		BytesReceived: sk.bytesReceived, SegsOut: uint32(sk.segsOut), SegsIn: uint32(sk.segsIn),
		NotsentBytes: sk.writeSeq - sk.sndNxt, MinRTT: uint32(sk.minRTT.Microseconds()),
		DataSegsIn: uint32(sk.dataSegsIn), DataSegsOut: uint32(sk.dataSegsOut), Delivered: sk.delivered, DeliveredCE: sk.deliveredCE, DSACKDups: sk.dsackDups,
		BytesSent: sk.bytesSent, BytesRetrans: sk.bytesRetrans, SndWnd: sk.sndWnd, RcvWnd: sk.rcvWnd,
		Congestion: sk.congName}
	if sk.state == Listen || sk.state == Closed && sk.iss == 0 {
		i.NotsentBytes = 0
	}
	if sk.srtt8 != 0 {
		i.PacingRate = sk.pacingRate()
	}
	if sk.tsOK {
		i.Options |= InfoOptTimestamps
	}
	if sk.sackOK {
		i.Options |= InfoOptSACK
	}
	if sk.wscaleOK {
		i.Options |= InfoOptWscale
	}
	if sk.ecnFlags&ecnOK != 0 {
		i.Options |= InfoOptECN
	}
	if sk.ecnFlags&ecnSeen != 0 {
		i.Options |= InfoOptECNSeen
	}
	return i
}

// Timer kinds as ss and /proc/net/tcp report them (the timer field).
const (
	DiagTimerNone      = 0
	DiagTimerRetrans   = 1 // "on": retransmit, loss probe
	DiagTimerKeepalive = 2 // "keepalive", also FIN_WAIT2's
	DiagTimerTimeWait  = 3 // "timewait"
	DiagTimerProbe     = 4 // "persist": zero-window probe
)

// SockDiag is one socket as inet_diag reports it (ss -tan): state,
// ends, queues, the pending timer, and TCP_INFO.
type SockDiag struct {
	State         State
	Local, Remote netip.AddrPort
	RecvQ, SendQ  uint32 // for a listener: the accept queue and its limit
	Timer         int    // DiagTimer*
	TimerExpires  time.Duration
	TimerRetrans  int
	Info          TCPInfo
}

// Sockets lists the host's TCP sockets in the order ss shows them from
// the kernel's tables: listeners, then the others by local and remote
// address (inet_diag_dump's walk, made stable).
func (p *Proto) Sockets() []SockDiag {
	p.mu.Lock()
	var socks []*Sock
	seen := map[*Sock]bool{}
	for _, list := range p.lhash {
		for _, sk := range list {
			if !seen[sk] {
				socks, seen[sk] = append(socks, sk), true
			}
		}
	}
	for _, sk := range p.ehash {
		if !seen[sk] {
			socks, seen[sk] = append(socks, sk), true
		}
	}
	for _, list := range p.bhash {
		for _, sk := range list {
			if !seen[sk] {
				socks, seen[sk] = append(socks, sk), true
			}
		}
	}
	p.mu.Unlock()
	out := make([]SockDiag, 0, len(socks))
	for _, sk := range socks {
		out = append(out, sk.diag())
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.State == Listen) != (b.State == Listen) {
			return a.State == Listen
		}
		if c := a.Local.Compare(b.Local); c != 0 {
			return c < 0
		}
		return a.Remote.Compare(b.Remote) < 0
	})
	return out
}

// diag is inet_diag's view of sk (inet_sk_diag_fill, tcp_diag_get_info).
func (sk *Sock) diag() SockDiag {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	d := SockDiag{State: sk.state,
		Local:  netip.AddrPortFrom(netip.AddrFrom4(sk.laddr), sk.lport),
		Remote: netip.AddrPortFrom(netip.AddrFrom4(sk.raddr), sk.rport),
		Info:   sk.infoLocked()}
	if sk.state == Listen {
		d.RecvQ, d.SendQ = uint32(len(sk.acceptQ)), uint32(sk.backlog)
		return d
	}
	d.RecvQ = uint32(sk.rq.Len())
	d.SendQ = sk.writeSeq - sk.sndUna
	now := sk.now()
	switch {
	case sk.state == TimeWait:
		d.Timer, d.TimerExpires = DiagTimerTimeWait, sk.timers.keepAt-now
	case sk.timers.pending == timerRetrans || sk.timers.pending == timerLossProbe:
		d.Timer, d.TimerExpires, d.TimerRetrans = DiagTimerRetrans, sk.timers.retransAt-now, sk.retransmits
	case sk.timers.pending == timerProbe:
		d.Timer, d.TimerExpires, d.TimerRetrans = DiagTimerProbe, sk.timers.retransAt-now, sk.probesOut
	case sk.timers.keepKind == timerKeepalive || sk.timers.keepKind == timerFinWait2:
		d.Timer, d.TimerExpires, d.TimerRetrans = DiagTimerKeepalive, sk.timers.keepAt-now, sk.probesOut
	}
	if d.TimerExpires < 0 {
		d.TimerExpires = 0
	}
	return d
}
