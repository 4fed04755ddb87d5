package tcp

import (
	"sync"
	"time"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
)

type fibFlow = fib.FlowKey

// State is a socket's TCP state, numbered as Linux numbers them (ss and
// /proc/net/tcp show these numbers).
type State uint8

const (
	Established State = iota + 1
	SynSent
	SynRecv
	FinWait1
	FinWait2
	TimeWait
	Closed
	CloseWait
	LastAck
	Listen
	Closing
	NewSynRecv
)

var stateNames = [...]string{"", "ESTABLISHED", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
	"TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING", "NEW-SYN-RECV"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// Linux's time constants (include/net/tcp.h).
const (
	rtoMin           = 200 * time.Millisecond // TCP_RTO_MIN
	rtoMax           = 120 * time.Second      // TCP_RTO_MAX
	timeoutInit      = time.Second            // TCP_TIMEOUT_INIT
	timeoutFallback  = 3 * time.Second        // TCP_TIMEOUT_FALLBACK: a SYN's RTT lost to a retransmission
	timeWaitLen      = 60 * time.Second       // TCP_TIMEWAIT_LEN
	delackMin        = 40 * time.Millisecond  // TCP_DELACK_MIN
	delackMax        = 200 * time.Millisecond // TCP_DELACK_MAX
	atoMin           = 40 * time.Millisecond  // TCP_ATO_MIN
	resourceProbe    = 500 * time.Millisecond // TCP_RESOURCE_PROBE_INTERVAL
	initCwnd         = 10                     // TCP_INIT_CWND
	maxQuickacks     = 16                     // TCP_MAX_QUICKACKS
	defaultMSS       = 536                    // TCP_MSS_DEFAULT
	minSndMSS        = 48                     // TCP_MIN_SND_MSS
	maxWscale        = 14                     // TCP_MAX_WSCALE
	maxWindow        = 65535
	infiniteSsthresh = 0x7fffffff // TCP_INFINITE_SSTHRESH
	gsoMaxSize       = 65536      // GSO_LEGACY_MAX_SIZE
)

// txSeg is a segment of the write queue (an skb of sk_write_queue and
// the retransmit queue): the sequence range it covers, its flags, when
// it was last sent and its scoreboard bits.
type txSeg struct {
	seq, end uint32
	flags    uint8 // SYN, FIN, PSH as they go on the wire
	sent     bool
	sentAt   time.Duration // last transmission
	firstTx  time.Duration
	retrans  uint8 // times retransmitted
	sacked   uint8 // sackAcked, sackRetrans, sackLost
	pc       int   // its weight on the scoreboard: segments its transmission made (0: unsent)
}

const (
	sackAcked   = 1 << 0 // TCPCB_SACKED_ACKED
	sackRetrans = 1 << 1 // TCPCB_SACKED_RETRANS
	sackLost    = 1 << 2 // TCPCB_LOST
	everRetrans = 1 << 3 // TCPCB_EVER_RETRANS
)

// dataLen is the payload bytes of a segment.
func (s *txSeg) dataLen() uint32 {
	n := s.end - s.seq
	if s.flags&header.TCPSyn != 0 {
		n--
	}
	if s.flags&header.TCPFin != 0 {
		n--
	}
	return n
}

// oooSeg is a received segment held out of order (the ofo queue).
type oooSeg struct {
	seq, end uint32
	fin      bool
	data     []byte
}

// Sock is a TCP socket (struct tcp_sock and the inet and sock parts it
// needs). Everything about it is guarded by mu; the host's tables by the
// Proto's lock, taken after mu.
type Sock struct {
	p     *Proto
	mu    sync.Mutex
	cond  *sync.Cond
	wake  func() // OnWake
	kicks int

	mstamp    time.Duration // the current event's clock reading (now)
	mstampSet bool

	state        State
	laddr, raddr [4]byte
	lport, rport uint16
	// owner is the socket's credentials as netfilter's owner match
	// sees them on the skbs it sends (skb_set_owner_w in
	// __tcp_transmit_skb); vnic's sockets are root's, as its UDP
	// sockets are.
	owner      stack.SockOwner
	bound      bool    // bind took a port (bhash)
	connBound  bool    // connect took it, sharing it with other connections (Proto.mu)
	tw         twState // what TIME-WAIT leaves for tcp_twsk_unique (Proto.mu)
	hashed     bool    // in ehash
	userClosed bool    // close() was called: an orphan once finishing
	orphan     bool

	// Socket options.
	nonblock     bool
	reuseAddr    bool
	noDelay      bool
	cork         bool
	keepOpen     bool // SO_KEEPALIVE
	lingerOn     bool
	linger       time.Duration
	deferAccept  time.Duration
	userTimeout  time.Duration
	keepIdle     time.Duration // 0: the sysctl
	keepIntvl    time.Duration
	keepCnt      int
	userMSS      int
	sndbuf       int
	rcvbuf       int
	sndbufLocked bool
	rcvbufLocked bool
	tos          uint8
	ttl          uint8
	cong         Congestion
	congName     string
	caDstLocked  bool // the route locks the algorithm (congctl lock)

	err       error // sk_err: reported once
	softErr   error // sk_err_soft: reported when a timeout aborts
	rdShut    bool  // RCV_SHUTDOWN
	wrShut    bool  // SEND_SHUTDOWN
	finQueued bool  // a FIN is in the write queue

	// Listener.
	backlog      int
	acceptQ      []*Sock
	synQ         int
	lpending     map[*request]struct{}
	lastOverflow time.Duration // the last SYN answered with a cookie
	overflowed   bool
	parent       *Sock // the listener a child is queued on, until accepted

	// Sequence space (RFC 9293 §3.3.1).
	iss, irs   uint32
	sndUna     uint32
	sndNxt     uint32
	sndWnd     uint32 // scaled
	sndWl1     uint32
	maxWindow  uint32
	sndUp      uint32 // snd_up: after the last urgent byte sent (snd_una when none is unacked)
	urgData    uint16 // urg_data: urgValid | the byte, urgNotYet, urgRead, or 0
	urgSeq     uint32 // urg_seq: the urgent byte received
	oobInline  bool   // SO_OOBINLINE
	writeSeq   uint32 // after the last byte queued
	pushedSeq  uint32
	sndSml     uint32 // the end of the last small segment sent (snd_sml)
	rcvNxt     uint32
	rcvWnd     uint32 // the window last advertised, scaled
	rcvWup     uint32 // rcv_nxt when it was advertised
	copiedSeq  uint32 // the next byte the user reads
	rcvSsthr   uint32 // rcv_ssthresh
	winClamp   uint32
	sndWscale  uint8
	rcvWscale  uint8
	wscaleOK   bool
	sackOK     bool
	tsOK       bool
	tsRecent   uint32
	tsRecentAt time.Duration
	tsOffset   uint32

	mssCache uint32 // the current send MSS
	advMSS   uint32 // the MSS this end announces
	mssClamp uint32 // the peer's MSS (rx_opt.mss_clamp)
	pmtu     int
	ipID     uint16 // inet_id
	dst      *ipv4.Rtable

	// The write queue: segments in sequence order from snd_una, the
	// first not yet sent at sendHead; their bytes from sndBufSeq.
	wq        []txSeg
	sendHead  int
	sndData   byteRing
	sndBufSeq uint32

	// Receive side: in-order bytes not yet read, and the out-of-order
	// queue.
	rq           byteRing
	ooo          []oooSeg
	finRcvd      bool      // the peer's FIN is in order (rcv_nxt covers it)
	dupSACK      [2]uint32 // a D-SACK block to report (start, end), valid when dsack
	dsack        bool
	selAcks      []header.SACKBlock // the SACK blocks this end reports
	rcvSpace     rcvSpace
	scalingRatio uint32 // scaling_ratio: 0 the default

	// Loss recovery and RTT (RFC 6298, RFC 8985).
	srtt         time.Duration // smoothed (srtt_us >> 3)
	srtt8        int64         // srtt_us: 8 × the smoothed RTT, µs
	mdev4        int64         // mdev_us: 4 × the mean deviation, µs
	mdevMax      int64         // mdev_max_us
	rttvar       int64         // rttvar_us
	rttSeq       uint32
	minRTT       time.Duration
	rto          time.Duration
	backoff      int
	retransmits  int // icsk_retransmits
	totalRetx    int
	probesOut    int
	retransStamp time.Duration // retrans_stamp: when the first retransmission of this episode went out (0: none)
	lastRcv      time.Duration // lrcvtime
	lastSnd      time.Duration // lsndtime
	lastAckRcv   time.Duration
	caState      caState
	highSeq      uint32 // high_seq: snd_nxt when recovery began
	undoMarker   uint32 // undo_marker: snd_una when the reduction began (0: nothing to undo)
	undoRetrans  int    // undo_retrans: retransmissions not yet proven needless (D-SACKed); -1 none yet
	priorCwnd    uint32
	priorSsth    uint32 // prior_ssthresh: 0 forbids an undo of ssthresh (ECE)
	frto         bool   // F-RTO (RFC 5682) is under way after an RTO
	dsackDups    uint32 // dsack_dups: segments D-SACKed
	renoSacked   int    // sacked_out of a connection without SACK: the duplicate ACKs
	reordering   int
	pktsOut      int
	sackedOut    int
	lostOut      int
	retransOut   int
	rack         rack
	tlpHighSeq   uint32
	prr          prr
	ecnFlags     uint8  // ecn_flags: ecnOK, ecnQueueCWR, ecnDemandCWR, ecnSeen
	lost         uint32 // tp->lost: segments marked lost, ever
	sawTS        bool   // the segment being processed had timestamps (rx_opt.saw_tstamp)
	rcvTSEcr     uint32 // its echo, less the connection's offset (rx_opt.rcv_tsecr)

	cwnd            uint32
	ssthresh        uint32
	cwndCnt         uint32
	cwndLimitedFlag bool   // is_cwnd_limited
	maxPktsOut      int    // max_packets_out
	cwndUsageSeq    uint32 // cwnd_usage_seq

	// Delayed ACKs (inet_connection_sock's icsk_ack).
	ato        time.Duration
	pingpong   int
	quick      int
	ackPending bool // ICSK_ACK_SCHED
	ackTimer   bool // ICSK_ACK_TIMER armed
	rcvMSS     uint32

	timers timers

	userSynRetries int           // TCP_SYNCNT
	linger2        time.Duration // TCP_LINGER2: 0 the sysctl, <0 none
	ackNow         bool          // ICSK_ACK_NOW
	lastRcvData    time.Duration

	// Counters for TCP_INFO.
	segsIn, segsOut, dataSegsIn, dataSegsOut uint64
	bytesAcked, bytesReceived, bytesSent     uint64
	bytesRetrans                             uint64
	delivered, deliveredCE                   uint32
}

// caState is the congestion-avoidance state machine's state
// (icsk_ca_state).
type caState uint8

const (
	caOpen caState = iota
	caDisorder
	caCWR
	caRecovery
	caLoss
)

// rcvSpace is the receive-buffer autotuning state (tp->rcvq_space).
type rcvSpace struct {
	space  uint32
	seq    uint32
	time   time.Duration
	copied uint32
}

// NewSocket is socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) on p's host.
func (p *Proto) NewSocket() *Sock {
	sk := &Sock{p: p, state: Closed}
	sk.cond = sync.NewCond(&sk.mu)
	cfg := p.conf()
	sk.sndbuf, sk.rcvbuf = cfg.Wmem[1], cfg.Rmem[1]
	sk.congName = cfg.Congestion
	sk.initSock()
	p.mu.Lock()
	p.socks++
	p.mu.Unlock()
	return sk
}

// initSock is tcp_init_sock: the values a socket starts with before it
// connects or is born from a listener.
func (sk *Sock) initSock() {
	sk.rto = timeoutInit
	sk.mdevMax = timeoutInit.Microseconds()
	sk.rttvar = timeoutInit.Microseconds()
	sk.cwnd = initCwnd
	sk.ssthresh = infiniteSsthresh
	sk.mssCache = defaultMSS
	sk.reordering = sk.p.conf().Reordering
	sk.cong = newCong(sk.congName)
	if sk.cong == nil {
		sk.congName = "reno"
		sk.cong = newCong("reno")
	}
	sk.initTimers()
}

// OnWake sets fn to run whenever the socket's state changes in a way a
// waiting call cares about (data, space, a connection, an error, a
// state change): sk_data_ready, sk_write_space and sk_state_change.
// It runs with the socket's lock held and must not call into it.
func (sk *Sock) OnWake(fn func()) {
	sk.mu.Lock()
	sk.wake = fn
	sk.mu.Unlock()
}

// wakeUp tells waiters something changed.
func (sk *Sock) wakeUp() {
	sk.cond.Broadcast()
	if sk.wake != nil {
		sk.wake()
	}
}

// State returns the socket's state.
func (sk *Sock) State() State {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.state
}

// now is the host's clock.
// now is the clock as the socket's current event sees it: read once
// per arriving segment and per send (tp->tcp_mstamp, refreshed by
// tcp_mstamp_refresh at those points), so one event's timestamps, RTT
// samples and timers agree, and the clock is not read a dozen times a
// segment. Outside such an event it reads the clock.
func (sk *Sock) now() time.Duration {
	if sk.mstampSet {
		return sk.mstamp
	}
	return sk.p.in.Host().Clock().Now()
}

// mstampRefresh starts an event (sk.mu held): the clock is read once
// for all of it. It reports whether this call started it; only then
// does mstampEnd end it (an event inside another keeps the outer one's
// reading).
func (sk *Sock) mstampRefresh() bool {
	if sk.mstampSet {
		return false
	}
	sk.mstamp, sk.mstampSet = sk.p.in.Host().Clock().Now(), true
	return true
}

// mstampEnd ends the event mstampRefresh started.
func (sk *Sock) mstampEnd() { sk.mstampSet = false }

func (sk *Sock) host() *stack.Host { return sk.p.in.Host() }

// setState is tcp_set_state: counters, and the tables a state leaves.
func (sk *Sock) setState(s State) {
	old := sk.state
	if old == s {
		return
	}
	st := &sk.p.Stats
	switch {
	case s == Established:
		st.CurrEstab.Add(1)
	case old == Established:
		st.CurrEstab.Add(^uint64(0))
	}
	if s == Closed {
		if old == CloseWait || old == Established {
			st.EstabResets.Add(1)
		}
		sk.p.mu.Lock()
		sk.tw = twState{}
		sk.unhashLocked()
		if sk.bound {
			sk.p.unbindLocked(sk)
			sk.bound = false
		}
		if sk.orphan {
			sk.p.orphan--
			sk.orphan = false
		}
		sk.p.mu.Unlock()
		sk.stopTimers()
	}
	sk.state = s
	sk.wakeUp()
}

// hashLocked puts sk in ehash (p.mu held).
func (sk *Sock) hashLocked() {
	sk.p.ehash[sk.tuple()] = sk
	sk.hashed = true
}

func (sk *Sock) unhashLocked() {
	if sk.hashed {
		if sk.p.ehash[sk.tuple()] == sk {
			delete(sk.p.ehash, sk.tuple())
		}
		sk.hashed = false
	}
	if sk.state == Listen {
		sk.p.unlistenLocked(sk)
	}
}

func (sk *Sock) tuple() fourTuple {
	return fourTuple{laddr: sk.laddr, raddr: sk.raddr, lport: sk.lport, rport: sk.rport}
}

// inFlight is tcp_packets_in_flight: segments sent and not acked, minus
// those SACKed (without SACK: one a duplicate ACK) or marked lost, plus
// those retransmitted.
func (sk *Sock) inFlight() int {
	return sk.packetsOut() - sk.leftOut() + sk.retransOut
}

// leftOut is tcp_left_out: SACKed and lost segments.
func (sk *Sock) leftOut() int { return sk.sackedOut + sk.renoSacked + sk.lostOut }

// sndWndEnd is the right edge of the peer's window.
func (sk *Sock) sndWndEnd() uint32 { return sk.sndUna + sk.sndWnd }

// sendQueueBytes is the data in the write queue (not yet acked).
func (sk *Sock) sendQueueBytes() int { return sk.sndData.Len() }
