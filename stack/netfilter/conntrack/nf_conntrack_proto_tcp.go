package conntrack

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"vnic/header"
)

// The TCP tracker's states (enum tcp_conntrack), then the pseudo-states
// of its transition table and timeout table.
const (
	TCPNone uint8 = iota
	TCPSynSent
	TCPSynRecv
	TCPEstablished
	TCPFinWait
	TCPCloseWait
	TCPLastAck
	TCPTimeWait
	TCPClose
	TCPSynSent2
	tcpMax            // sIV: invalid
	tcpIgnore         // sIG: let it through without changing the state
	tcpTimeoutRetrans // TCP_CONNTRACK_RETRANS's timeout
	tcpTimeoutUnack   // TCP_CONNTRACK_UNACK's timeout
	tcpTimeoutMax
)

// TCPStateNames are the states as conntrack prints them.
var TCPStateNames = [...]string{"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"}

// Indices into tcp_conntracks: the flags that decide a transition.
const (
	tcpSynSet = iota
	tcpSynAckSet
	tcpFinSet
	tcpAckSet
	tcpRstSet
	tcpNoneSet
)

// Shorter names, for the transition table.
const (
	sNO = TCPNone
	sSS = TCPSynSent
	sSR = TCPSynRecv
	sES = TCPEstablished
	sFW = TCPFinWait
	sCW = TCPCloseWait
	sLA = TCPLastAck
	sTW = TCPTimeWait
	sCL = TCPClose
	sS2 = TCPSynSent2
	sIV = tcpMax
	sIG = tcpIgnore
)

// tcpConntracks is tcp_conntracks[dir][index][state]: the state a packet
// of direction dir with the flags index moves a connection in state to.
// See nf_conntrack_proto_tcp.c for the reasoning of each entry.
var tcpConntracks = [2][6][tcpMax]uint8{
	{ // original
		//        sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
		/*syn*/ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
		/*synack*/ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
		/*fin*/ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		/*ack*/ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
		/*rst*/ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		/*none*/ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
	{ // reply
		//        sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
		/*syn*/ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
		/*synack*/ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
		/*fin*/ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		/*ack*/ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
		/*rst*/ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		/*none*/ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
}

// tcpNext is tcpConntracks padded to powers of two with sIV, for the
// per-packet lookup: its indices masked (the same for every index and
// state there is) rather than checked.
var tcpNext = func() (t [2][8][16]uint8) {
	for d := range t {
		for i := range t[d] {
			for s := range t[d][i] {
				t[d][i][s] = sIV
				if i < len(tcpConntracks[d]) && s < len(tcpConntracks[d][i]) {
					t[d][i][s] = tcpConntracks[d][i][s]
				}
			}
		}
	}
	return t
}()

// tcpDefaultTimeouts are tcp_timeouts[].
var tcpDefaultTimeouts = [tcpTimeoutMax]time.Duration{
	TCPSynSent:        120 * time.Second,
	TCPSynRecv:        60 * time.Second,
	TCPEstablished:    5 * 24 * time.Hour,
	TCPFinWait:        120 * time.Second,
	TCPCloseWait:      60 * time.Second,
	TCPLastAck:        30 * time.Second,
	TCPTimeWait:       120 * time.Second,
	TCPClose:          10 * time.Second,
	TCPSynSent2:       120 * time.Second,
	tcpTimeoutRetrans: 300 * time.Second,
	tcpTimeoutUnack:   300 * time.Second,
}

// Timeout indices for the sysctl table.
const (
	tcpSynSent     = int(TCPSynSent)
	tcpSynRecv     = int(TCPSynRecv)
	tcpEstablished = int(TCPEstablished)
	tcpFinWait     = int(TCPFinWait)
	tcpCloseWait   = int(TCPCloseWait)
	tcpLastAck     = int(TCPLastAck)
	tcpTimeWait    = int(TCPTimeWait)
	tcpClose       = int(TCPClose)
)

// Per-direction flags (IP_CT_TCP_FLAG_*) and the connection's last_flags
// bits (IP_CT_EXP_CHALLENGE_ACK, IP_CT_TCP_SIMULTANEOUS_OPEN).
const (
	tcpFlagWindowScale   = 0x01
	tcpFlagSackPerm      = 0x02
	tcpFlagCloseInit     = 0x04
	tcpFlagBeLiberal     = 0x08
	tcpFlagDataUnacked   = 0x10
	tcpFlagMaxackSet     = 0x20
	tcpExpChallengeAck   = 0x40
	tcpSimultaneousOpen  = 0x80
	tcpMaxWscale         = 14
	maxAckWinConst       = 66000
	tcpValidFlagsIndexes = header.TCPFin | header.TCPSyn | header.TCPRst | header.TCPAck | header.TCPUrg
)

// tcpSeen is one direction's window (struct ip_ct_tcp_state).
type tcpSeen struct {
	end, maxend, maxwin, maxack uint32
	scale, flags                uint8
}

// tcpState is struct ip_ct_tcp.
type tcpState struct {
	seen       [2]tcpSeen
	state      uint8
	lastDir    uint8
	retrans    uint8
	lastIndex  uint8
	lastWscale uint8
	lastFlags  uint8
	lastWin    uint16
	lastSeq    uint32
	lastAck    uint32
	lastEnd    uint32
}

// protoState is ct->proto: TCP's state, or UDP's stream time.
type protoState struct {
	tcp       tcpState
	udpStream atomic.Int64 // stream_ts: the host-clock time after which a replied UDP flow is a stream (set before confirmation, read without ct->lock)
}

// The tracker's verdicts (nf_conntrack_handle_packet's return: NF_ACCEPT,
// -NF_ACCEPT for an invalid packet, -NF_REPEAT to start over with a new
// connection, NF_DROP).
type l4Verdict uint8

const (
	l4Accept l4Verdict = iota
	l4Invalid
	l4Repeat
	l4Drop
)

func seqBefore(a, b uint32) bool { return int32(a-b) < 0 }
func seqAfter(a, b uint32) bool  { return seqBefore(b, a) }

// tcpIndex is get_conntrack_index.
func tcpIndex(flags uint8) uint8 {
	switch {
	case flags&header.TCPRst != 0:
		return tcpRstSet
	case flags&header.TCPSyn != 0:
		if flags&header.TCPAck != 0 {
			return tcpSynAckSet
		}
		return tcpSynSet
	case flags&header.TCPFin != 0:
		return tcpFinSet
	case flags&header.TCPAck != 0:
		return tcpAckSet
	}
	return tcpNoneSet
}

// tcpValidFlags is tcp_valid_flags: the combinations of FIN, SYN, RST,
// ACK and URG a segment may carry (PSH, ECE and CWR are always valid).
func tcpValidFlags(f uint8) bool {
	switch f {
	case header.TCPSyn, header.TCPSyn | header.TCPUrg, header.TCPSyn | header.TCPAck,
		header.TCPRst, header.TCPRst | header.TCPAck, header.TCPFin | header.TCPAck,
		header.TCPFin | header.TCPAck | header.TCPUrg, header.TCPAck, header.TCPAck | header.TCPUrg:
		return true
	}
	return false
}

// tcpSegment is what the tracker reads of a segment.
type tcpSegment struct {
	th   header.TCP
	seq  uint32
	ack  uint32
	win  uint16
	flag uint8
	end  uint32 // segment_seq_plus_len
}

func (s *tcpSegment) syn() bool { return s.flag&header.TCPSyn != 0 }
func (s *tcpSegment) has(f uint8) bool {
	return s.flag&f != 0
}

// parse is tcp_error — a truncated header, a bad checksum (at
// PRE_ROUTING, nf_conntrack_checksum on) or an impossible flag
// combination make it false — and then reads the segment, whose header
// it has found whole.
func (s *tcpSegment) parse(p *pktInfo, cfg *Config) bool {
	if len(p.l4) < header.TCPMinHeaderLen {
		return false
	}
	th := header.TCP(p.l4)
	hl := th.HeaderLen()
	if hl < header.TCPMinHeaderLen || p.l4len < hl || len(th) < hl {
		return false
	}
	if p.checkCsum(cfg) && !p.l4ChecksumValid() {
		return false
	}
	flag := th.Flags()
	if !tcpValidFlags(flag &^ (header.TCPEce | header.TCPCwr | header.TCPPsh)) {
		return false
	}
	s.th, s.seq, s.ack, s.win, s.flag = th, th.Seq(), th.Ack(), th.Window(), flag
	s.end = s.seq + uint32(p.l4len-hl)
	if flag&header.TCPSyn != 0 {
		s.end++
	}
	if flag&header.TCPFin != 0 {
		s.end++
	}
	return true
}

// tcpOptions is tcp_options: the window scale and SACK-permitted options
// into st (which loses its other flags but BE_LIBERAL).
func tcpOptions(th header.TCP, st *tcpSeen) {
	opts := th[header.TCPMinHeaderLen:min(th.HeaderLen(), len(th))]
	if len(opts) == 0 {
		return
	}
	st.scale = 0
	st.flags &= tcpFlagBeLiberal
	for len(opts) > 0 {
		switch opts[0] {
		case header.TCPOptEOL:
			return
		case header.TCPOptNOP:
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 {
			return
		}
		size := int(opts[1])
		if size < 2 || size > len(opts) {
			return
		}
		switch {
		case opts[0] == header.TCPOptSACKPermitted && size == 2:
			st.flags |= tcpFlagSackPerm
		case opts[0] == header.TCPOptWindowScale && size == 3:
			st.scale = min(opts[2], tcpMaxWscale)
			st.flags |= tcpFlagWindowScale
		}
		opts = opts[size:]
	}
}

// tcpSack is tcp_sack: the highest right edge of the SACK blocks, if it is
// after sack.
func tcpSack(th header.TCP, sack uint32) uint32 {
	opts := th[header.TCPMinHeaderLen:min(th.HeaderLen(), len(th))]
	// The timestamp-only fast path: NOP, NOP, TS.
	if len(opts) == 12 && opts[0] == header.TCPOptNOP && opts[1] == header.TCPOptNOP && opts[2] == header.TCPOptTimestamp && opts[3] == 10 {
		return sack
	}
	for len(opts) > 0 {
		switch opts[0] {
		case header.TCPOptEOL:
			return sack
		case header.TCPOptNOP:
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 {
			return sack
		}
		size := int(opts[1])
		if size < 2 || size > len(opts) {
			return sack
		}
		if opts[0] == header.TCPOptSACK && size >= 2+8 && (size-2)%8 == 0 {
			for i := 2; i < size; i += 8 {
				if e := binary.BigEndian.Uint32(opts[i+4 : i+8]); seqAfter(e, sack) {
					sack = e
				}
			}
			return sack
		}
		opts = opts[size:]
	}
	return sack
}

// tcpInitSender is tcp_init_sender: a SYN-ACK answering a SYN (or a SYN
// of the reply direction in a simultaneous open) starts its direction's
// window.
func tcpInitSender(sender, receiver *tcpSeen, s *tcpSegment, dir Dir) {
	sender.end, sender.maxend = s.end, s.end
	sender.maxwin = max(uint32(s.win), 1)
	tcpOptions(s.th, sender)
	if dir == Reply && !(sender.flags&tcpFlagWindowScale != 0 && receiver.flags&tcpFlagWindowScale != 0) {
		sender.scale, receiver.scale = 0, 0
	}
}

// Window results (enum nf_ct_tcp_action).
const (
	tcpActIgnore = iota
	tcpActInvalid
	tcpActAccept
)

// logInvalid is nf_tcp_log_invalid: with be_liberal (the sender's flag or
// the sysctl) nothing is invalid.
func logInvalid(sender *tcpSeen, cfg *Config, ret int) int {
	if sender.flags&tcpFlagBeLiberal != 0 || cfg.TCPBeLiberal {
		return tcpActAccept
	}
	return ret
}

func maxAckWindow(sender *tcpSeen) uint32 { return max(sender.maxwin, maxAckWinConst) }

// tcpInWindow is tcp_in_window: the segment must intersect the window the
// other side advertised and its acknowledgement must fall in the data the
// other side sent; the windows are updated from it.
func tcpInWindow(st *tcpState, dir Dir, index uint8, s *tcpSegment, cfg *Config) int {
	sender, receiver := &st.seen[dir&1], &st.seen[(dir^1)&1] // dir is 0 or 1: no bounds checks
	seq, ack := s.seq, s.ack
	sack := ack
	win := uint32(s.win)
	end := s.end
	if receiver.flags&tcpFlagSackPerm != 0 {
		sack = tcpSack(s.th, sack)
	}
	if sender.maxwin == 0 {
		if s.syn() {
			tcpInitSender(sender, receiver, s, dir)
			if !s.has(header.TCPAck) {
				return tcpActAccept // simultaneous open
			}
		} else {
			// Picked up mid-stream: the history is lost, use the packet.
			sender.end = end
			swin := win << sender.scale
			sender.maxwin = max(swin, 1)
			sender.maxend = end + sender.maxwin
			if receiver.maxwin == 0 {
				receiver.end, receiver.maxend = sack, sack
			} else if sack == receiver.end+1 {
				receiver.end++ // a keepalive's answer
			}
		}
	} else if s.syn() && seqAfter(end, sender.end) && (st.state == TCPSynSent || st.state == TCPSynRecv) {
		// A reinitialised connection (RFC 793) starts its window over.
		tcpInitSender(sender, receiver, s, dir)
		if dir == Reply && !s.has(header.TCPAck) {
			return tcpActAccept
		}
	}
	if !s.has(header.TCPAck) {
		ack, sack = receiver.end, receiver.end
	} else if s.flag&(header.TCPAck|header.TCPRst) == header.TCPAck|header.TCPRst && ack == 0 {
		ack, sack = receiver.end, receiver.end // broken stacks' RST+ACK with ack 0
	}
	if s.has(header.TCPRst) && seq == 0 && st.state == TCPSynSent {
		seq, end = sender.end, sender.end // RST answering a SYN
	}
	if !seqBefore(seq, sender.maxend+1) {
		overshot := end - sender.maxend + 1
		ackOK := seqAfter(sack, receiver.end-maxAckWindow(sender)-1)
		inRecvWin := receiver.maxwin != 0 && seqAfter(end, sender.end-receiver.maxwin-1)
		if inRecvWin && ackOK && overshot <= receiver.maxwin && seqBefore(sack, receiver.end+1) {
			// More than the window allowed: remember it, so that its
			// acknowledgement is not over the bound.
			sender.end = end
			sender.flags |= tcpFlagDataUnacked
			return logInvalid(sender, cfg, tcpActIgnore)
		}
		return logInvalid(sender, cfg, tcpActInvalid) // SEQ over the upper bound
	}
	if !seqBefore(sack, receiver.end+1) {
		return logInvalid(sender, cfg, tcpActInvalid) // ACK over the upper bound
	}
	if receiver.maxwin != 0 && !seqAfter(end, sender.end-receiver.maxwin-1) {
		return logInvalid(sender, cfg, tcpActIgnore) // SEQ under the lower bound
	}
	if !seqAfter(sack, receiver.end-maxAckWindow(sender)-1) {
		return logInvalid(sender, cfg, tcpActIgnore) // ACK under the lower bound
	}
	if !s.syn() {
		win <<= sender.scale
	}
	if swin := win + (sack - ack); sender.maxwin < swin {
		sender.maxwin = swin
	}
	if seqAfter(end, sender.end) {
		sender.end = end
		sender.flags |= tcpFlagDataUnacked
	}
	if s.has(header.TCPAck) {
		if sender.flags&tcpFlagMaxackSet == 0 {
			sender.maxack = ack
			sender.flags |= tcpFlagMaxackSet
		} else if seqAfter(ack, sender.maxack) {
			sender.maxack = ack
		}
	}
	if receiver.maxwin != 0 && seqAfter(end, sender.maxend) {
		receiver.maxwin += end - sender.maxend
	}
	if seqAfter(sack+win, receiver.maxend-1) {
		receiver.maxend = sack + win
		if win == 0 {
			receiver.maxend++
		}
	}
	if ack == receiver.end {
		receiver.flags &^= tcpFlagDataUnacked
	}
	if index == tcpAckSet {
		if st.lastDir == uint8(dir) && st.lastSeq == seq && st.lastAck == ack && st.lastEnd == end && st.lastWin == s.win {
			st.retrans++
		} else {
			st.lastDir, st.lastSeq, st.lastAck, st.lastEnd, st.lastWin = uint8(dir), seq, ack, end, s.win
			st.retrans = 0
		}
	}
	return tcpActAccept
}

// tcpHandleInvalid is nf_tcp_handle_invalid: an ASSURED connection whose
// FIN or RST was out of window, answered by one of the other direction,
// gets the unacknowledged-data timeout rather than days.
func (c *Conn) tcpHandleInvalid(dir Dir, index uint8, cfg *Config) {
	st := &c.proto.tcp
	if c.Status()&StatusAssured == 0 || c.Status()&StatusFixedTimeout != 0 {
		return
	}
	if index != tcpRstSet && index != tcpFinSet {
		return
	}
	if st.lastDir != uint8(dir) && (st.lastIndex == tcpFinSet || st.lastIndex == tcpRstSet) {
		expires := c.Timeout()
		if expires < 120*time.Second {
			return
		}
		if t := cfg.TCPTimeouts[tcpTimeoutUnack]; expires > t {
			c.expires.Store(int64(c.net.clock.Now() + t))
		}
		return
	}
	st.lastIndex, st.lastDir = index, uint8(dir)
}

// tcpNew is tcp_new: only a SYN opens a connection, or with tcp_loose any
// valid packet picks one up mid-stream (liberal windows, SACK assumed).
func (c *Conn) tcpNew(s *tcpSegment, cfg *Config) bool {
	st := &c.proto.tcp
	ns := tcpConntracks[0][tcpIndex(s.flag)][TCPNone]
	if ns >= tcpMax {
		return false
	}
	*st = tcpState{}
	st.seen[0].end = s.end
	st.seen[0].maxwin = max(uint32(s.win), 1)
	if ns == TCPSynSent {
		st.seen[0].maxend = st.seen[0].end
		tcpOptions(s.th, &st.seen[0])
	} else {
		if !cfg.TCPLoose {
			return false
		}
		st.seen[0].maxend = st.seen[0].end + st.seen[0].maxwin
		st.seen[0].flags = tcpFlagSackPerm | tcpFlagBeLiberal
		st.seen[1].flags = tcpFlagSackPerm | tcpFlagBeLiberal
	}
	st.lastIndex = tcpNoneSet
	return true
}

// tcpCanEarlyDrop is tcp_can_early_drop: the closing states.
func tcpCanEarlyDrop(s uint8) bool {
	switch s {
	case TCPFinWait, TCPLastAck, TCPTimeWait, TCPClose, TCPCloseWait:
		return true
	}
	return false
}

// tcpEstablishedAssured is nf_conntrack_tcp_established.
func (c *Conn) tcpEstablishedAssured() bool {
	return c.proto.tcp.state == TCPEstablished && c.Status()&StatusAssured != 0
}
