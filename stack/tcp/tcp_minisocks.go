package tcp

import (
	"errors"
	"math/bits"
	"sync"
	"syscall"
	"time"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
)

// request is a half-open connection on a listener (struct
// tcp_request_sock): what the SYN asked for and what the SYN-ACK said.
type request struct {
	lsk          *Sock
	laddr, raddr [4]byte
	lport, rport uint16
	iss, irs     uint32
	peerMSS      uint16
	sndWscale    uint8
	rcvWscale    uint8
	wscaleOK     bool
	sackOK       bool
	tsOK         bool
	tsRecent     uint32
	tsOffset     uint32
	rcvWnd       uint32
	winClamp     uint32
	advMSS       uint32
	numTimeout   int
	acked        bool // a bare ACK was dropped (TCP_DEFER_ACCEPT, or a full accept queue)
	timer        stack.Timer
	peerWnd      uint32
	synTOS       uint8
	sentAt       time.Duration // the first SYN-ACK
	cookie       bool          // a SYN cookie, kept nowhere
	cookieTS     uint32        // its timestamp, before the offset
	ecnOK        bool          // ECN negotiated (inet_rsk(req)->ecn_ok)
}

func (r *request) tuple() fourTuple {
	return fourTuple{laddr: r.laddr, raddr: r.raddr, lport: r.lport, rport: r.rport}
}

// rcvListen is the LISTEN case of tcp_rcv_state_process: an ACK is
// reset, a RST dropped, a SYN starts a request (tcp_conn_request).
func (sk *Sock) rcvListen(seg *segment) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.state != Listen {
		return false
	}
	switch {
	case seg.has(header.TCPAck):
		if seg.has(header.TCPRst) {
			return true
		}
		if !seg.has(header.TCPSyn) && sk.cookieAck(seg) {
			return true
		}
		sk.p.sendReset(seg)
		return true
	case seg.has(header.TCPRst):
		return true
	case !seg.has(header.TCPSyn):
		return true
	case seg.has(header.TCPFin):
		return true // SYN-FIN: dropped as Linux's tcp_v4_rcv does
	}
	sk.connRequest(seg)
	return true
}

// connRequest is tcp_conn_request: a request sock and a SYN-ACK — unless
// the accept queue is full (the SYN is dropped) or the SYN queue is
// (then a SYN cookie, with tcp_syncookies, stands in for the request).
func (sk *Sock) connRequest(seg *segment) {
	p := sk.p
	cfg := p.conf()
	st := &p.Stats
	if len(sk.acceptQ) > sk.backlog {
		st.ExtListenOverflows.Add(1)
		st.ExtListenDrops.Add(1)
		return
	}
	// inet_csk_reqsk_queue_is_full: as many half-open connections as the
	// backlog. Without cookies, tcp_max_syn_backlog's last quarter is
	// kept back as well.
	synFull := sk.synQ >= sk.backlog
	if cfg.Syncookies == 0 && (synFull || cfg.MaxSynBacklog-sk.synQ < cfg.MaxSynBacklog>>2) {
		st.ExtListenDrops.Add(1)
		return
	}
	r := &request{lsk: sk, laddr: seg.dst, raddr: seg.src, lport: seg.dport, rport: seg.sport,
		irs: seg.seq, peerWnd: seg.wnd, synTOS: seg.tos}
	o := &seg.opt
	r.peerMSS = defaultMSS
	if o.HasMSS && o.MSS != 0 {
		r.peerMSS = o.MSS
	}
	if sk.userMSS > 0 && int(r.peerMSS) > sk.userMSS {
		r.peerMSS = uint16(sk.userMSS)
	}
	r.sackOK = o.SACKPermitted && cfg.SACK
	r.tsOK = o.TS && cfg.Timestamps != 0
	if r.tsOK {
		r.tsRecent = o.TSVal
		if cfg.Timestamps == 1 {
			r.tsOffset = SecureTSOffset(p.tsKey, r.laddr, r.raddr)
		}
	}
	r.wscaleOK = o.HasWScale && cfg.WindowScaling
	if r.wscaleOK {
		r.sndWscale = o.WScale
	}
	r.ecnOK = ecnCreateRequest(cfg, seg)
	fl := flowKey(r.laddr, r.raddr, r.lport, r.rport)
	rt, err := p.in.RouteOutput(&fl)
	if err != nil {
		st.ExtListenDrops.Add(1)
		return
	}
	r.advMSS = advMSS(rt, sk.userMSS)
	mss := r.advMSS
	if r.tsOK {
		mss -= 12
	}
	tmp := &Sock{p: p, rcvbuf: sk.rcvbuf, winClamp: routeWinClamp(sk.winClamp, rt)}
	r.rcvWnd, r.winClamp, r.rcvWscale = tmp.selectInitialWindow(tmp.fullSpace(), mss, r.wscaleOK, rtMetric(rt, fib.RtaxInitRwnd))
	if !r.wscaleOK {
		r.rcvWscale = 0
	}
	if synFull || cfg.Syncookies == 2 {
		// A SYN cookie: the ISN encodes the MSS, the timestamp the
		// options; no state is kept (cookie_v4_init_sequence).
		if synFull {
			st.ExtTCPReqQFullDoCookies.Add(1)
		}
		st.ExtSyncookiesSent.Add(1)
		isn, m := CookieInitSequence(p.cookies, r.raddr, r.laddr, r.rport, r.lport, r.irs, r.peerMSS, sk.now())
		r.iss, r.peerMSS, r.cookie = isn, m, true
		if r.tsOK {
			r.cookieTS = CookieTimestamp(sk.now(), CookieTSOptions{WScaleOK: r.wscaleOK, WScale: r.sndWscale, SACKOK: r.sackOK, ECNOK: r.ecnOK})
		} else {
			r.ecnOK = false // only the timestamp can carry it
		}
		if synFull {
			sk.lastOverflow, sk.overflowed = sk.now(), true
		}
		p.sendSynAck(r)
		return
	}
	r.iss = SecureSeq(p.seqKey, r.laddr, r.raddr, r.lport, r.rport, sk.now())
	p.mu.Lock()
	if _, dup := p.reqs[r.tuple()]; dup {
		p.mu.Unlock()
		return
	}
	p.reqs[r.tuple()] = r
	p.mu.Unlock()
	sk.synQ++
	sk.lpending[r] = struct{}{}
	r.timer = sk.host().Clock().NewTimer(func() { sk.requestTimer(r) })
	r.timer.Reset(timeoutInit)
	r.sentAt = sk.now()
	p.sendSynAck(r)
}

// routeWinClamp is the window clamp a connection starts with: the
// socket's (TCP_WINDOW_CLAMP), else the route's window metric
// (tcp_connect_init, tcp_openreq_init_rwin).
func routeWinClamp(clamp uint32, rt *ipv4.Rtable) uint32 {
	if clamp != 0 {
		return clamp
	}
	return rtMetric(rt, fib.RtaxWindow)
}

// rtMetric is dst_metric: the route's RTAX_* metric n, 0 when unset.
func rtMetric(rt *ipv4.Rtable, n int) uint32 {
	if rt == nil || rt.Route == nil {
		return 0
	}
	return rt.Route.Metrics.Val[n]
}

// rtMetricLocked is dst_metric_locked: n's bit in RTAX_LOCK.
func rtMetricLocked(rt *ipv4.Rtable, n int) bool {
	return rtMetric(rt, fib.RtaxLock)&(1<<n) != 0
}

// initCwndFor is tcp_init_cwnd: the route's initcwnd, else
// TCP_INIT_CWND.
func (sk *Sock) initCwndFor(rt *ipv4.Rtable) uint32 {
	if c := rtMetric(rt, fib.RtaxInitCwnd); c != 0 {
		return min(c, sk.winClampCwnd())
	}
	return initCwnd
}

// caDstInit is tcp_ca_dst_init (and tcp_ca_openreq_child for a child):
// the route's congctl, when vnic has that algorithm, replaces the
// socket's; with congctl lock TCP_CONGESTION may not change it.
func (sk *Sock) caDstInit(rt *ipv4.Rtable) {
	if rt == nil || rt.Route == nil || rt.Route.Metrics.CC == "" {
		return
	}
	if c := newCong(rt.Route.Metrics.CC); c != nil {
		sk.cong, sk.congName = c, rt.Route.Metrics.CC
		sk.caDstLocked = rtMetricLocked(rt, fib.RtaxCCAlgo)
	}
}

// advMSS is dst_metric_advmss: the route's advmss metric, else its MTU
// less the headers; TCP_MAXSEG caps it.
func advMSS(rt *ipv4.Rtable, user int) uint32 {
	mss := uint32(rt.MTU() - ipv4.IPv4HdrLen - header.TCPMinHeaderLen)
	if rt.Route != nil {
		if a := rt.Route.Metrics.AdvMSS(); a != 0 {
			mss = a
		}
	}
	if user > 0 && uint32(user) < mss {
		mss = uint32(user)
	}
	return max(mss, minSndMSS)
}

// sendSynAck is tcp_v4_send_synack.
func (p *Proto) sendSynAck(r *request) {
	o := header.TCPOptions{HasMSS: true, MSS: uint16(r.advMSS), SACKPermitted: r.sackOK}
	if r.tsOK {
		ts := uint32(p.in.Host().Clock().Now().Milliseconds())
		if r.cookie {
			ts = r.cookieTS // the SYN's options ride in it (cookie_init_timestamp)
		}
		o.TS, o.TSVal, o.TSEcr = true, ts+r.tsOffset, r.tsRecent
	}
	if r.wscaleOK {
		o.HasWScale, o.WScale = true, r.rcvWscale
	}
	var ob [40]byte
	kind := header.TCPOptionsSYNACK
	if r.cookie {
		kind = header.TCPOptionsSYNACKCookie
	}
	opts := header.AppendTCPOptions(ob[:0], &o, kind)
	flags := uint8(header.TCPSyn | header.TCPAck)
	if r.ecnOK {
		flags |= header.TCPEce // tcp_ecn_make_synack
	}
	// tcp_make_synack: a request's SYN-ACK is the request sock's, which
	// netfilter's owner match reads as its listener's; a cookie's belongs
	// to no socket (under a SYN flood nothing is attached).
	var owner *stack.SockOwner
	if !r.cookie {
		owner = &r.lsk.owner
	}
	p.sendBare(owner, r.laddr, r.raddr, r.lport, r.rport, r.iss, r.irs+1, flags, uint16(min(r.rcvWnd, maxWindow)), opts)
}

// requestTimer is reqsk_timer_handler: the SYN-ACK again with backoff
// until tcp_synack_retries; with TCP_DEFER_ACCEPT a request whose bare
// ACK came waits quietly until the deferral's last retransmission.
func (sk *Sock) requestTimer(r *request) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if _, ok := sk.lpending[r]; !ok || sk.state != Listen {
		return
	}
	cfg := sk.p.conf()
	maxRetries := cfg.SynackRetries
	defer_ := sk.deferRetrans()
	expire := r.numTimeout >= maxRetries
	resend := true
	if defer_ > 0 {
		expire = r.numTimeout >= maxRetries && (!r.acked || r.numTimeout >= defer_)
		resend = !r.acked || r.numTimeout >= defer_-1
	}
	if expire {
		sk.dropRequest(r)
		return
	}
	if resend {
		sk.p.Stats.ExtTCPSynRetrans.Add(1)
		sk.p.Stats.RetransSegs.Add(1)
		sk.p.sendSynAck(r)
	}
	r.numTimeout++
	r.timer.Reset(min(timeoutInit<<uint(r.numTimeout), rtoMax))
}

// deferRetrans is TCP_DEFER_ACCEPT's seconds as SYN-ACK retransmissions
// (secs_to_retrans).
func (sk *Sock) deferRetrans() int { return secsToRetrans(sk.deferAccept) }

func secsToRetrans(d time.Duration) int {
	secs := int(d / time.Second)
	if secs <= 0 {
		return 0
	}
	res, timeout, period := 1, 1, 1
	for secs > period && res < 255 {
		res++
		timeout = min(timeout*2, int(rtoMax/time.Second))
		period += timeout
	}
	return res
}

func retransToSecs(n int) int {
	if n <= 0 {
		return 0
	}
	timeout, period := 1, 1
	for n > 1 {
		n--
		timeout = min(timeout*2, int(rtoMax/time.Second))
		period += timeout
	}
	return period
}

func (sk *Sock) dropRequest(r *request) {
	r.timer.Stop()
	delete(sk.lpending, r)
	sk.synQ--
	sk.p.mu.Lock()
	if sk.p.reqs[r.tuple()] == r {
		delete(sk.p.reqs, r.tuple())
	}
	sk.p.mu.Unlock()
}

// rcvRequest is tcp_check_req: a segment for a half-open connection —
// the SYN again (SYN-ACK again), out of window (an ACK), RST or SYN
// (the request dies), the handshake's ACK (the child is born).
func (sk *Sock) rcvRequest(r *request, seg *segment) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if _, ok := sk.lpending[r]; !ok || sk.state != Listen {
		return false
	}
	p := sk.p
	if seg.seq == r.irs && seg.flags&(header.TCPSyn|header.TCPAck|header.TCPRst|header.TCPFin) == header.TCPSyn {
		p.sendSynAck(r)
		r.timer.Reset(min(timeoutInit<<uint(r.numTimeout), rtoMax))
		return true
	}
	rcvNxt := r.irs + 1
	if !inWindow(seg.seq, seg.end, rcvNxt, rcvNxt+r.rcvWnd) {
		if !seg.has(header.TCPRst) {
			p.sendBare(nil, r.laddr, r.raddr, r.lport, r.rport, r.iss+1, rcvNxt, header.TCPAck, uint16(min(r.rcvWnd>>r.rcvWscale, maxWindow)), nil)
		}
		return true
	}
	if seg.has(header.TCPRst) || seg.has(header.TCPSyn) {
		p.Stats.AttemptFails.Add(1)
		if !seg.has(header.TCPRst) {
			p.sendReset(seg)
		}
		sk.dropRequest(r)
		return true
	}
	if !seg.has(header.TCPAck) {
		return true
	}
	if seg.ack != r.iss+1 {
		p.sendReset(seg) // the listener's answer to a bad ACK
		return true
	}
	if d := sk.deferRetrans(); r.numTimeout < d && seg.end == rcvNxt {
		r.acked = true
		p.Stats.ExtTCPDeferAcceptDrop.Add(1)
		return true
	}
	if len(sk.acceptQ) > sk.backlog {
		p.Stats.ExtListenOverflows.Add(1)
		p.Stats.ExtListenDrops.Add(1)
		if p.conf().AbortOnOverflow {
			p.sendReset(seg)
			sk.dropRequest(r)
			return true
		}
		r.acked = true
		return true
	}
	sk.dropRequest(r)
	c := sk.childFrom(r, seg)
	sk.acceptQ = append(sk.acceptQ, c)
	c.mu.Lock()
	c.rcvStateProcess(seg)
	c.mu.Unlock()
	sk.wakeUp()
	return true
}

// cookieValid is how long after the last cookie a listener checks ACKs
// for one (TCP_SYNCOOKIE_VALID).
const cookieValid = 2 * time.Minute

// cookieAck is cookie_v4_check: an ACK for no request may complete a
// SYN-cookie handshake — when cookies were sent lately (or always are),
// its acknowledgment holds a valid cookie and the timestamp the options.
// It reports whether the segment was taken (a connection made, or
// dropped for a full accept queue); false means a reset is due.
func (sk *Sock) cookieAck(seg *segment) bool {
	p := sk.p
	cfg := p.conf()
	if cfg.Syncookies == 0 || cfg.Syncookies == 1 && (!sk.overflowed || sk.now()-sk.lastOverflow > cookieValid) {
		return false
	}
	mss, ok := CookieCheck(p.cookies, seg.src, seg.dst, seg.sport, seg.dport, seg.seq-1, seg.ack-1, sk.now())
	if !ok {
		p.Stats.ExtSyncookiesFailed.Add(1)
		return false
	}
	p.Stats.ExtSyncookiesRecv.Add(1)
	r := &request{lsk: sk, laddr: seg.dst, raddr: seg.src, lport: seg.dport, rport: seg.sport,
		irs: seg.seq - 1, iss: seg.ack - 1, peerMSS: mss, peerWnd: seg.wnd, cookie: true}
	if seg.opt.TS && cfg.Timestamps != 0 {
		r.tsOK, r.tsRecent = true, seg.opt.TSVal
		if cfg.Timestamps == 1 {
			r.tsOffset = SecureTSOffset(p.tsKey, r.laddr, r.raddr)
		}
		o, ok := CookieTimestampDecode(seg.opt.TSEcr-r.tsOffset, cfg.SACK, cfg.WindowScaling)
		if !ok {
			return false
		}
		r.sackOK, r.wscaleOK, r.sndWscale = o.SACKOK, o.WScaleOK, o.WScale
		r.ecnOK = o.ECNOK && cfg.ECN != 0 // cookie_ecn_ok
	}
	fl := flowKey(r.laddr, r.raddr, r.lport, r.rport)
	rt, err := p.in.RouteOutput(&fl)
	if err != nil {
		return true
	}
	r.advMSS = advMSS(rt, sk.userMSS)
	m := r.advMSS
	if r.tsOK {
		m -= 12
	}
	tmp := &Sock{p: p, rcvbuf: sk.rcvbuf, winClamp: routeWinClamp(sk.winClamp, rt)}
	r.rcvWnd, r.winClamp, r.rcvWscale = tmp.selectInitialWindow(tmp.fullSpace(), m, r.wscaleOK, rtMetric(rt, fib.RtaxInitRwnd))
	if !r.wscaleOK {
		r.rcvWscale = 0
	}
	// The peer's window was its SYN's; the ACK's (scaled) stands in.
	r.peerWnd = seg.wnd << r.sndWscale
	if len(sk.acceptQ) > sk.backlog {
		p.Stats.ExtListenOverflows.Add(1)
		p.Stats.ExtListenDrops.Add(1)
		return true
	}
	r.sentAt = sk.now()
	c := sk.childFrom(r, seg)
	sk.acceptQ = append(sk.acceptQ, c)
	c.mu.Lock()
	c.rcvStateProcess(seg)
	c.mu.Unlock()
	sk.wakeUp()
	return true
}

// inWindow is tcp_in_window: the segment [seq, end) starts at the
// window's left edge, or overlaps [lo, hi), or is empty at its right edge.
func inWindow(seq, end, lo, hi uint32) bool {
	if seq == lo {
		return true
	}
	if after(end, lo) && before(seq, hi) {
		return true
	}
	return seq == hi && seq == end
}

// childFrom is tcp_create_openreq_child: the connection a request
// becomes, in SYN_RECV until the ACK is processed.
func (sk *Sock) childFrom(r *request, seg *segment) *Sock {
	p := sk.p
	c := &Sock{p: p, state: SynRecv, parent: sk}
	c.cond = sync.NewCond(&c.mu)
	c.sndbuf, c.rcvbuf = sk.sndbuf, sk.rcvbuf
	c.congName = sk.congName
	// What sk_clone copies of the listener's options.
	c.noDelay, c.keepOpen, c.userMSS, c.reuseAddr = sk.noDelay, sk.keepOpen, sk.userMSS, sk.reuseAddr
	c.keepIdle, c.keepIntvl, c.keepCnt, c.linger2 = sk.keepIdle, sk.keepIntvl, sk.keepCnt, sk.linger2
	c.lingerOn, c.linger, c.tos, c.ttl, c.oobInline = sk.lingerOn, sk.linger, sk.tos, sk.ttl, sk.oobInline
	c.initSock()
	c.laddr, c.raddr, c.lport, c.rport = r.laddr, r.raddr, r.lport, r.rport
	c.caDstInit(c.route())
	c.iss, c.irs = r.iss, r.irs
	c.sndUna, c.sndNxt, c.writeSeq, c.pushedSeq, c.sndUp = r.iss+1, r.iss+1, r.iss+1, r.iss+1, r.iss+1
	c.sndBufSeq = r.iss + 1
	c.rcvNxt, c.rcvWup, c.copiedSeq = r.irs+1, r.irs+1, r.irs+1
	c.sndWl1 = r.irs
	c.sackOK, c.tsOK, c.wscaleOK = r.sackOK, r.tsOK, r.wscaleOK
	if r.ecnOK {
		c.ecnFlags = ecnOK // tcp_ecn_openreq_child
	}
	c.sndWscale, c.rcvWscale = r.sndWscale, r.rcvWscale
	c.tsRecent, c.tsRecentAt, c.tsOffset = r.tsRecent, sk.now(), r.tsOffset
	c.rcvWnd, c.winClamp, c.rcvSsthr = r.rcvWnd, r.winClamp, r.rcvWnd
	c.sndWnd = r.peerWnd // a SYN's window is not scaled
	c.maxWindow = c.sndWnd
	c.mssClamp = uint32(r.peerMSS)
	c.advMSS = r.advMSS
	c.rcvMSS = min(r.advMSS, uint32(r.peerMSS))
	c.rcvMSS = max(min(c.rcvMSS, uint32(defaultMSS)), minSndMSS)
	c.ipID = uint16(p.in.IDRandom())
	if r.numTimeout > 0 {
		// A retransmitted SYN-ACK: no RTT sample, the fallback RTO
		// (tcp_init_transfer after a lost SYN-ACK).
		c.rto = timeoutFallback
		c.totalRetx = r.numTimeout
	} else if !r.cookie {
		c.rttEstimator((sk.now() - r.sentAt).Microseconds()) // tcp_synack_rtt_meas
		c.setRTO()
	}
	p.Stats.PassiveOpens.Add(1)
	if rt := c.route(); rt != nil {
		c.syncMSS(rt.MTU())
	}
	p.mu.Lock()
	c.hashLocked()
	p.bhash[c.lport] = append(p.bhash[c.lport], c)
	c.bound = true
	p.socks++
	p.mu.Unlock()
	return c
}

// timeWaitProcess is tcp_timewait_state_process: a RST ends TIME_WAIT
// (tcp_rfc1337 off), a new SYN beyond the old sequence space may reuse
// the four-tuple, the peer's FIN again is acked and restarts the wait,
// anything else in the old window gets an ACK.
func (sk *Sock) timeWaitProcess(seg *segment) {
	if seg.has(header.TCPRst) {
		if !sk.p.conf().RFC1337 {
			sk.setState(Closed)
		}
		return
	}
	if seg.has(header.TCPSyn) && !seg.has(header.TCPAck) && after(seg.seq, sk.rcvNxt) {
		// TCP_TW_SYN: the wait ends and the listener gets the SYN.
		sk.setState(Closed)
		sk.p.mu.Lock()
		l := sk.p.listenerFor(seg.dst, seg.dport)
		sk.p.mu.Unlock()
		if l != nil {
			sk.mu.Unlock()
			l.rcvListen(seg)
			sk.mu.Lock()
		}
		return
	}
	if seg.has(header.TCPFin) {
		sk.resetKeep(timerTimeWait, timeWaitLen)
	}
	var ob [40]byte
	sk.sendSegment(sk.sndNxt, header.TCPAck, nil, nil, sk.estOptions(ob[:]), 1)
}

// connectLocked is tcp_v4_connect and tcp_connect: a route, a source
// address and port, the ISN, the SYN.
func (sk *Sock) connectLocked(raddr [4]byte, rport uint16) error {
	p := sk.p
	fl := flowKey(sk.laddr, raddr, sk.lport, rport)
	rt, err := p.in.RouteOutput(&fl)
	if err != nil {
		return errf(errnoOf(err), "connect")
	}
	if rt.Flags&(ipv4.RTCFBroadcast|ipv4.RTCFMulticast) != 0 {
		return errf(syscall.ENETUNREACH, "connect to a broadcast or multicast address")
	}
	laddr := sk.laddr
	if laddr == ([4]byte{}) {
		laddr = fl.Src
	}
	sk.raddr, sk.rport = raddr, rport
	var tw *twState
	if !sk.bound {
		port, t, err := p.connectPort(sk, laddr, raddr, rport)
		if err != nil {
			return err
		}
		sk.lport, sk.bound, tw = port, true, t
	}
	sk.laddr = laddr
	p.mu.Lock()
	if o, used := p.ehash[sk.tuple()]; used && o != sk {
		// A port bound before connect: a TIME-WAIT socket with
		// timestamps gives way whatever tcp_tw_reuse says
		// (__inet_check_established without twp).
		if tw = p.twUnique(o, false); tw == nil {
			p.mu.Unlock()
			return errf(syscall.EADDRNOTAVAIL, "connect: the four-tuple is in use")
		}
	}
	sk.hashLocked()
	p.mu.Unlock()
	sk.dst = rt
	cfg := p.conf()
	sk.iss = SecureSeq(p.seqKey, sk.laddr, sk.raddr, sk.lport, sk.rport, sk.now())
	if tw != nil {
		sk.iss, sk.tsRecent = reuseISN(tw), tw.tsRecent
	}
	sk.tsOK = cfg.Timestamps != 0
	if cfg.Timestamps == 1 {
		sk.tsOffset = SecureTSOffset(p.tsKey, sk.laddr, sk.raddr)
	}
	sk.sackOK = cfg.SACK
	sk.wscaleOK = cfg.WindowScaling
	sk.ipID = uint16(p.in.IDRandom())
	sk.advMSS = advMSS(rt, sk.userMSS)
	sk.mssClamp = 0
	if sk.userMSS > 0 {
		sk.mssClamp = uint32(sk.userMSS)
	}
	sk.syncMSS(rt.MTU())
	mss := sk.advMSS
	if sk.tsOK {
		mss -= 12
	}
	sk.winClamp = routeWinClamp(sk.winClamp, rt)
	sk.caDstInit(rt)
	sk.rcvWnd, sk.winClamp, sk.rcvWscale = sk.selectInitialWindow(sk.fullSpace(), mss, sk.wscaleOK, rtMetric(rt, fib.RtaxInitRwnd))
	sk.rcvSsthr = sk.rcvWnd
	sk.rcvMSS = max(min(sk.advMSS, defaultMSS), minSndMSS)
	sk.sndUna, sk.sndNxt, sk.sndUp = sk.iss, sk.iss, sk.iss
	sk.writeSeq, sk.pushedSeq = sk.iss+1, sk.iss+1
	sk.sndBufSeq = sk.iss + 1
	sk.rcvNxt, sk.rcvWup, sk.copiedSeq = 0, 0, 0
	sk.wq = append(sk.wq[:0], txSeg{seq: sk.iss, end: sk.iss + 1, flags: header.TCPSyn})
	sk.ecnSendSYN(&sk.wq[0])
	sk.sendHead = 0
	sk.state = SynSent
	p.Stats.ActiveOpens.Add(1)
	sk.transmit(0, false)
	sk.sndNxt = sk.iss + 1
	sk.sendHead = 1
	sk.resetRetrans(timerRetrans, sk.rto)
	return errf(syscall.EINPROGRESS, "connect")
}

// synOptions are a SYN's (tcp_syn_options): MSS, SACK-permitted,
// timestamps, window scale, in Linux's layout.
func (sk *Sock) synOptions(buf []byte) []byte {
	o := header.TCPOptions{HasMSS: true, MSS: uint16(sk.advMSS), SACKPermitted: sk.sackOK}
	if sk.tsOK {
		o.TS, o.TSVal, o.TSEcr = true, sk.tsNow(), sk.tsRecent
	}
	if sk.wscaleOK {
		o.HasWScale, o.WScale = true, sk.rcvWscale
	}
	return header.AppendTCPOptions(buf, &o, header.TCPOptionsSYN)
}

// rcvSynSent is tcp_rcv_synsent_state_process: the SYN-ACK (the
// connection is established and acked), a RST with an acceptable ACK
// (refused), a bare SYN (simultaneous open: SYN_RECV).
func (sk *Sock) rcvSynSent(seg *segment) {
	p := sk.p
	if seg.has(header.TCPAck) {
		if !after(seg.ack, sk.iss) || after(seg.ack, sk.sndNxt) {
			if !seg.has(header.TCPRst) {
				p.sendReset(seg)
			}
			return
		}
		if seg.has(header.TCPRst) {
			sk.reset()
			return
		}
		if !seg.has(header.TCPSyn) {
			return
		}
		sk.synAckReceived(seg)
		return
	}
	if seg.has(header.TCPRst) {
		return
	}
	if seg.has(header.TCPSyn) {
		// Simultaneous open (RFC 9293 3.5): SYN-ACK of our own SYN.
		sk.ecnRcvSyn(seg)
		sk.takeSynOptions(seg)
		sk.irs = seg.seq
		sk.rcvNxt, sk.rcvWup, sk.copiedSeq = seg.seq+1, seg.seq+1, seg.seq+1
		sk.sndWnd = seg.wnd
		sk.sndWl1 = seg.seq
		sk.maxWindow = sk.sndWnd
		sk.setState(SynRecv)
		var ob [40]byte
		// The SYN in the queue becomes the SYN-ACK (tcp_send_synack).
		if len(sk.wq) > 0 && sk.wq[0].flags&header.TCPSyn != 0 {
			sk.wq[0].flags = sk.ecnSynAckFlags(sk.wq[0].flags | header.TCPAck)
		}
		sk.sendSegment(sk.iss, sk.ecnSynAckFlags(header.TCPSyn|header.TCPAck|header.TCPEce), nil, nil, sk.synOptions(ob[:0]), 1)
		sk.resetRetrans(timerRetrans, sk.rto)
	}
}

// takeSynOptions applies what the peer's SYN offered.
func (sk *Sock) takeSynOptions(seg *segment) {
	o := &seg.opt
	sk.sackOK = sk.sackOK && o.SACKPermitted
	sk.tsOK = sk.tsOK && o.TS
	if sk.tsOK {
		sk.tsRecent, sk.tsRecentAt = o.TSVal, sk.now()
	} else {
		sk.tsOffset = 0
	}
	if sk.wscaleOK && o.HasWScale {
		sk.sndWscale = o.WScale
	} else {
		sk.wscaleOK = false
		sk.sndWscale, sk.rcvWscale = 0, 0
		sk.winClamp = min(sk.winClamp, maxWindow)
	}
	sk.mssClamp = defaultMSS
	if o.HasMSS && o.MSS != 0 {
		sk.mssClamp = uint32(o.MSS)
	}
	if sk.userMSS > 0 && sk.mssClamp > uint32(sk.userMSS) {
		sk.mssClamp = uint32(sk.userMSS)
	}
}

// synAckReceived finishes an active open (tcp_finish_connect): the
// peer's options and window, RTT from the SYN, the ACK (at once, in
// quick-ACK mode, as Linux acks a SYN-ACK).
func (sk *Sock) synAckReceived(seg *segment) {
	sk.ecnRcvSynAck(seg)
	sk.takeSynOptions(seg)
	sk.irs = seg.seq
	sk.rcvNxt, sk.rcvWup, sk.copiedSeq = seg.seq+1, seg.seq+1, seg.seq+1
	sk.sndWl1 = seg.seq
	sk.sndWnd = seg.wnd // a SYN-ACK's window is not scaled
	sk.maxWindow = sk.sndWnd
	if len(sk.wq) > 0 {
		s := sk.wq[0]
		if s.retrans == 0 {
			sk.rttEstimator((sk.now() - s.firstTx).Microseconds())
			sk.setRTO()
		} else {
			sk.rto = timeoutFallback
		}
		sk.forget(&sk.wq[0])
		sk.wq = sk.wq[:copy(sk.wq, sk.wq[1:])]
		sk.sendHead = 0
	}
	sk.sndUna = seg.ack
	sk.urgAcked(sk.iss)
	sk.clearRetrans()
	sk.backoff, sk.retransmits = 0, 0
	if rt := sk.route(); rt != nil {
		sk.syncMSS(rt.MTU())
	}
	sk.setState(Established)
	sk.initTransfer()
	sk.lastRcv = sk.now()
	sk.sendAck()
	sk.pushPending(false)
}

// initTransfer is tcp_init_transfer: the initial window (TCP_INIT_CWND)
// and buffer autotuning's start, keepalive.
func (sk *Sock) initTransfer() {
	// RFC 5681's cut to one segment after a lost SYN or SYN-ACK, which
	// Linux makes only after more than one (the 1 s initial RTO of RFC
	// 6298 makes one loss likely).
	sk.cwnd = sk.initCwndFor(sk.route())
	if sk.totalRetx > 1 {
		sk.cwnd = 1
	}
	sk.cwndCnt = 0
	sk.lastSnd = sk.now()
	sk.sndbufExpand()
	sk.rcvSpace = rcvSpace{space: min(sk.rcvWnd, 10*sk.advMSS), seq: sk.copiedSeq, time: sk.now()}
	if sk.keepOpen {
		sk.armKeepalive(sk.keepIdleTime())
	}
}

// sndbufExpand is tcp_sndbuf_expand: unless the user set SO_SNDBUF, the
// send buffer holds twice the window's segments at their worst-case
// memory (a power-of-two buffer per MSS with header room), up to
// tcp_wmem's maximum.
func (sk *Sock) sndbufExpand() {
	if sk.sndbufLocked {
		return
	}
	perMSS := max(sk.mssClamp, sk.mssCache) + 320 + 320 // MAX_TCP_HEADER, skb_shared_info
	perMSS = 1<<bits.Len32(perMSS-1) + 256              // roundup_pow_of_two + sk_buff
	segs := max(uint32(initCwnd), sk.cwnd, uint32(sk.reordering+1))
	mem := int(2 * segs * perMSS) // CUBIC and Reno: room for fast recovery
	if mem > sk.sndbuf {
		sk.sndbuf = min(mem, sk.p.conf().Wmem[2])
	}
}

// route is the socket's cached output decision (__sk_dst_check),
// routed again when the routing changed.
func (sk *Sock) route() *ipv4.Rtable {
	in := sk.p.in
	if in.DstCheck(sk.dst) {
		return sk.dst
	}
	fl := flowKey(sk.laddr, sk.raddr, sk.lport, sk.rport)
	fl.TOS = sk.tos
	rt, err := in.RouteOutput(&fl)
	if err != nil {
		sk.softErr = errf(errnoOf(err), "route")
		return nil
	}
	sk.dst = rt
	return rt
}

// errnoOf is the errno inside err (EHOSTUNREACH when there is none).
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EHOSTUNREACH
}
