package tcp

import "vnic/header"

// Explicit Congestion Notification (RFC 3168) as Linux runs it before
// AccECN (the tcp_ecn_* helpers of tcp_input.c and tcp_output.c, which
// Linux 6.18 gathers in include/net/tcp_ecn.h):
//
//   - negotiation: with net.ipv4.tcp_ecn=1 an active open asks with
//     ECE|CWR on its SYN; a listener with tcp_ecn 1 or 2 (the default)
//     accepts a SYN that asks and is not itself ECT, answering ECE on
//     the SYN-ACK; a SYN-ACK with ECE and without CWR completes it;
//   - the sender marks its new data segments ECT(0) in the IP header —
//     never SYNs, pure ACKs, window probes or retransmissions
//     (tcp_ecn_send's INET_ECN_xmit / INET_ECN_dontxmit) — and, on an
//     ACK with ECE, reduces its window once per window of data (CWR,
//     tcp_enter_cwr with PRR) and sets CWR on the next new data segment;
//   - the receiver, after a CE-marked segment, sets ECE on every segment
//     until one with CWR arrives, and acks at once (quick-ACK mode).

// ecn_flags bits (TCP_ECN_*).
const (
	ecnOK        = 1 << 0 // TCP_ECN_OK: negotiated
	ecnQueueCWR  = 1 << 1 // TCP_ECN_QUEUE_CWR: the next new data segment carries CWR
	ecnDemandCWR = 1 << 2 // TCP_ECN_DEMAND_CWR: CE seen; ECE until the peer's CWR
	ecnSeen      = 1 << 3 // TCP_ECN_SEEN: an ECT or CE segment came in
)

// The IP header's ECN field (INET_ECN_*).
const (
	ecnNotECT = 0
	ecnECT1   = 1
	ecnECT0   = 2
	ecnCE     = 3
	ecnMask   = 3
)

// tcpSynECN is TCPHDR_SYN_ECN: a SYN asking for ECN.
const tcpSynECN = header.TCPSyn | header.TCPEce | header.TCPCwr

// ecnSendSYN is tcp_ecn_send_syn: with tcp_ecn=1 the active open's SYN
// asks for ECN (ECE|CWR) and the connection is ECN-capable until the
// SYN-ACK says otherwise.
func (sk *Sock) ecnSendSYN(s *txSeg) {
	sk.ecnFlags = 0
	if sk.p.conf().ECN == 1 {
		s.flags |= header.TCPEce | header.TCPCwr
		sk.ecnFlags = ecnOK
	}
}

// ecnClearSYN is tcp_ecn_clear_syn: with tcp_ecn_fallback a retransmitted
// SYN stops asking, in case a middlebox drops SYNs that do.
func (sk *Sock) ecnClearSYN(s *txSeg) {
	if s.flags&tcpSynECN == tcpSynECN && sk.p.conf().ECNFallback {
		s.flags &^= header.TCPEce | header.TCPCwr
	}
}

// ecnRcvSynAck is tcp_ecn_rcv_synack: ECN stays on only for a SYN-ACK
// with ECE and without CWR.
func (sk *Sock) ecnRcvSynAck(seg *segment) {
	if sk.ecnFlags&ecnOK != 0 && (!seg.has(header.TCPEce) || seg.has(header.TCPCwr)) {
		sk.ecnFlags &^= ecnOK
	}
}

// ecnRcvSyn is tcp_ecn_rcv_syn (a simultaneous open): the peer's SYN must
// ask too.
func (sk *Sock) ecnRcvSyn(seg *segment) {
	if sk.ecnFlags&ecnOK != 0 && (!seg.has(header.TCPEce) || !seg.has(header.TCPCwr)) {
		sk.ecnFlags &^= ecnOK
	}
}

// ecnSynAckFlags is tcp_ecn_send_synack: a SYN-ACK never carries CWR, and
// ECE only when ECN is on.
func (sk *Sock) ecnSynAckFlags(flags uint8) uint8 {
	flags &^= header.TCPCwr
	if sk.ecnFlags&ecnOK == 0 {
		flags &^= header.TCPEce
	}
	return flags
}

// ecnCreateRequest is tcp_ecn_create_request: a SYN asking for ECN with
// ECE|CWR gets it when tcp_ecn is not 0 and the SYN is not ECT itself
// (RFC 3168 6.1.1 forbids that), unless one of the header's reserved
// bits is set (an AccECN-era sender).
func ecnCreateRequest(cfg *Config, seg *segment) bool {
	if !seg.has(header.TCPEce) || !seg.has(header.TCPCwr) {
		return false
	}
	ect := seg.tos&ecnMask != ecnNotECT
	res1 := seg.th[12]&0x0f != 0
	return (!ect || res1) && cfg.ECN != 0
}

// ecnSend is tcp_ecn_send for a segment other than a SYN about to go
// out: it returns the IP header's ECN field and sets ECE and CWR in
// flags. A new data segment is ECT(0) and takes a queued CWR; anything
// else (an ACK, a probe, a retransmission, a FIN alone) is Not-ECT.
func (sk *Sock) ecnSend(seq uint32, dlen int, flags *uint8) uint8 {
	if sk.ecnFlags&ecnOK == 0 || sk.state == TimeWait {
		return ecnNotECT
	}
	ecn := uint8(ecnNotECT)
	if dlen > 0 && !before(seq, sk.sndNxt) {
		ecn = ecnECT0
		if sk.ecnFlags&ecnQueueCWR != 0 {
			sk.ecnFlags &^= ecnQueueCWR
			*flags |= header.TCPCwr
		}
	}
	if sk.ecnFlags&ecnDemandCWR != 0 {
		*flags |= header.TCPEce
	}
	return ecn
}

// ecnQueueCWR is tcp_ecn_queue_cwr: the window was reduced; the next new
// data segment says so.
func (sk *Sock) ecnQueueCWR() {
	if sk.ecnFlags&ecnOK != 0 {
		sk.ecnFlags |= ecnQueueCWR
	}
}

// ecnWithdrawCWR is tcp_ecn_withdraw_cwr: an undone reduction is not
// announced.
func (sk *Sock) ecnWithdrawCWR() { sk.ecnFlags &^= ecnQueueCWR }

// ecnAcceptCWR is tcp_ecn_accept_cwr, for every acceptable ACK (Linux
// takes CWR on pure ACKs too): the peer reduced its window, so ECE
// stops; a data segment with CWR is acked at once, the sender's window
// being small now.
func (sk *Sock) ecnAcceptCWR(seg *segment) {
	if seg.has(header.TCPCwr) {
		sk.ecnFlags &^= ecnDemandCWR
		if seg.seq != seg.end {
			sk.ackNow = true
		}
	}
}

// ecnCheckCE is tcp_ecn_check_ce for a data segment: CE starts ECE (and a
// quick ACK); an ECT segment is remembered; a Not-ECT one after ECT ones
// is probably a retransmission, acked quickly.
func (sk *Sock) ecnCheckCE(seg *segment) {
	if sk.ecnFlags&ecnOK == 0 {
		return
	}
	switch seg.tos & ecnMask {
	case ecnNotECT:
		if sk.ecnFlags&ecnSeen != 0 {
			sk.enterQuickack(2)
		}
	case ecnCE:
		if sk.ecnFlags&ecnDemandCWR == 0 {
			sk.enterQuickack(2)
			sk.ecnFlags |= ecnDemandCWR
		}
		sk.ecnFlags |= ecnSeen
	default:
		sk.ecnFlags |= ecnSeen
	}
}

// ecnEcho is tcp_ecn_rcv_ecn_echo: an ACK of an ECN connection carrying
// ECE (a SYN's ECE is negotiation, not an echo).
func (sk *Sock) ecnEcho(seg *segment) bool {
	return seg.has(header.TCPEce) && !seg.has(header.TCPSyn) && sk.ecnFlags&ecnOK != 0
}
