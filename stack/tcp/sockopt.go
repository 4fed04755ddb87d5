package tcp

import (
	"syscall"
	"time"

	"vnic/stack/ipv4"
)

// Socket option levels and names, as Linux numbers them.
const (
	SolSocket = 1
	SolIP     = 0
	SolTCP    = 6

	SoReuseAddr = 2
	SoType      = 3
	SoError     = 4
	SoSndBuf    = 7
	SoRcvBuf    = 8
	SoKeepAlive = 9
	SoOOBInline = 10
	SoLinger    = 13
	SoReusePort = 15
	SoRcvLowat  = 18

	IPTOS = 1
	IPTTL = 2

	TCPNoDelay      = 1
	TCPMaxSeg       = 2
	TCPCork         = 3
	TCPKeepIdle     = 4
	TCPKeepIntvl    = 5
	TCPKeepCnt      = 6
	TCPSynCnt       = 7
	TCPLinger2      = 8
	TCPDeferAccept  = 9
	TCPWindowClamp  = 10
	TCPInfoOpt      = 11 // TCP_INFO: see Info
	TCPQuickAck     = 12
	TCPCongestion   = 13
	TCPUserTimeout  = 18
	TCPNotsentLowat = 25
)

// SetsockoptInt is setsockopt(2) for the options that take an int.
func (sk *Sock) SetsockoptInt(level, name, v int) error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	switch level {
	case SolSocket:
		switch name {
		case SoReuseAddr:
			sk.reuseAddr = v != 0
		case SoReusePort:
			// Accepted; port sharing by SO_REUSEPORT groups is not built.
		case SoKeepAlive:
			on := v != 0
			if on && !sk.keepOpen && (sk.state == Established || sk.state == CloseWait) {
				sk.armKeepalive(sk.keepIdleTime())
			}
			sk.keepOpen = on
		case SoOOBInline:
			sk.oobInline = v != 0
		case SoSndBuf:
			// sock_setsockopt: doubled, bounded by wmem_max, at least
			// SOCK_MIN_SNDBUF.
			n := min(v, sk.p.conf().WmemMax)
			sk.sndbuf, sk.sndbufLocked = max(2*n, 4608), true
		case SoRcvBuf:
			n := min(v, sk.p.conf().RmemMax)
			sk.rcvbuf, sk.rcvbufLocked = max(2*n, 2304), true
		case SoRcvLowat:
		default:
			return errf(syscall.ENOPROTOOPT, "setsockopt SOL_SOCKET %d", name)
		}
	case SolIP:
		switch name {
		case IPTOS:
			sk.tos = uint8(v) &^ 3 // the ECN bits are the stack's
		case IPTTL:
			if v < -1 || v == 0 || v > 255 {
				return errf(syscall.EINVAL, "IP_TTL %d", v)
			}
			if v == -1 {
				v = 0
			}
			sk.ttl = uint8(v)
		default:
			return errf(syscall.ENOPROTOOPT, "setsockopt SOL_IP %d", name)
		}
	case SolTCP:
		return sk.setTCPOpt(name, v)
	default:
		return errf(syscall.ENOPROTOOPT, "setsockopt level %d", level)
	}
	return nil
}

// setTCPOpt is do_tcp_setsockopt for the int options.
func (sk *Sock) setTCPOpt(name, v int) error {
	switch name {
	case TCPNoDelay:
		sk.noDelay = v != 0
		if sk.noDelay {
			sk.pushPending(false)
		}
	case TCPCork:
		sk.cork = v != 0
		if !sk.cork {
			sk.markPush()
			sk.pushPending(true)
		}
	case TCPMaxSeg:
		if v != 0 && (v < 88 || v > 65535) { // TCP_MIN_MSS, MAX_TCP_WINDOW
			return errf(syscall.EINVAL, "TCP_MAXSEG %d", v)
		}
		sk.userMSS = v
	case TCPKeepIdle:
		if v < 1 || v > 32767 {
			return errf(syscall.EINVAL, "TCP_KEEPIDLE %d", v)
		}
		sk.keepIdle = time.Duration(v) * time.Second
		if sk.keepOpen && sk.timers.keepKind == timerKeepalive {
			sk.armKeepalive(sk.keepIdle)
		}
	case TCPKeepIntvl:
		if v < 1 || v > 32767 {
			return errf(syscall.EINVAL, "TCP_KEEPINTVL %d", v)
		}
		sk.keepIntvl = time.Duration(v) * time.Second
	case TCPKeepCnt:
		if v < 1 || v > 127 {
			return errf(syscall.EINVAL, "TCP_KEEPCNT %d", v)
		}
		sk.keepCnt = v
	case TCPSynCnt:
		if v < 1 || v > 127 {
			return errf(syscall.EINVAL, "TCP_SYNCNT %d", v)
		}
		sk.userSynRetries = v
	case TCPLinger2:
		switch {
		case v < 0:
			sk.linger2 = -1
		case time.Duration(v)*time.Second > timeWaitLen:
			sk.linger2 = 0 // the sysctl's value
		default:
			sk.linger2 = time.Duration(v) * time.Second
		}
	case TCPDeferAccept:
		sk.deferAccept = time.Duration(retransToSecs(secsToRetrans(time.Duration(v)*time.Second))) * time.Second
		if v <= 0 {
			sk.deferAccept = 0
		}
	case TCPWindowClamp:
		if v < 0 {
			return errf(syscall.EINVAL, "TCP_WINDOW_CLAMP %d", v)
		}
		sk.winClamp = max(uint32(v), 0)
	case TCPQuickAck:
		if v != 0 {
			sk.pingpong = 0
			if sk.ackPending {
				sk.sendAck()
			}
		} else {
			sk.pingpong = 1
		}
	case TCPUserTimeout:
		if v < 0 {
			return errf(syscall.EINVAL, "TCP_USER_TIMEOUT %d", v)
		}
		sk.userTimeout = time.Duration(v) * time.Millisecond
	case TCPNotsentLowat:
	default:
		return errf(syscall.ENOPROTOOPT, "setsockopt SOL_TCP %d", name)
	}
	return nil
}

// SetLinger is SO_LINGER.
func (sk *Sock) SetLinger(on bool, secs int) {
	sk.mu.Lock()
	sk.lingerOn, sk.linger = on, time.Duration(max(secs, 0))*time.Second
	sk.mu.Unlock()
}

// SetCongestion is TCP_CONGESTION.
func (sk *Sock) SetCongestion(name string) error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	c := newCong(name)
	if c == nil {
		return errf(syscall.ENOENT, "TCP_CONGESTION %q", name)
	}
	if sk.caDstLocked {
		return errf(syscall.EPERM, "TCP_CONGESTION: the route locks congctl %s", sk.congName)
	}
	sk.cong, sk.congName = c, name
	return nil
}

// GetsockoptInt is getsockopt(2) for the int options.
func (sk *Sock) GetsockoptInt(level, name int) (int, error) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	b := func(x bool) int {
		if x {
			return 1
		}
		return 0
	}
	switch level {
	case SolSocket:
		switch name {
		case SoReuseAddr:
			return b(sk.reuseAddr), nil
		case SoType:
			return 1, nil // SOCK_STREAM
		case SoError:
			err := sk.err
			sk.err = nil
			if err == nil {
				return 0, nil
			}
			return int(errnoOf(err)), nil
		case SoKeepAlive:
			return b(sk.keepOpen), nil
		case SoOOBInline:
			return b(sk.oobInline), nil
		case SoSndBuf:
			return sk.sndbuf, nil
		case SoRcvBuf:
			return sk.rcvbuf, nil
		}
	case SolIP:
		switch name {
		case IPTOS:
			return int(sk.tos), nil
		case IPTTL:
			return int(sk.ipTTL()), nil
		}
	case SolTCP:
		switch name {
		case TCPNoDelay:
			return b(sk.noDelay), nil
		case TCPCork:
			return b(sk.cork), nil
		case TCPMaxSeg:
			if sk.state == Closed || sk.state == Listen {
				if sk.userMSS > 0 {
					return sk.userMSS, nil
				}
				return defaultMSS, nil
			}
			return int(sk.mssCache), nil
		case TCPKeepIdle:
			return int(sk.keepIdleTime() / time.Second), nil
		case TCPKeepIntvl:
			return int(sk.keepIntvlTime() / time.Second), nil
		case TCPKeepCnt:
			return sk.keepProbes(), nil
		case TCPDeferAccept:
			return int(sk.deferAccept / time.Second), nil
		case TCPQuickAck:
			return b(sk.pingpong == 0), nil
		case TCPUserTimeout:
			return int(sk.userTimeout / time.Millisecond), nil
		case TCPLinger2:
			if sk.linger2 < 0 {
				return -1, nil
			}
			return int(sk.finTimeout() / time.Second), nil
		}
	}
	return 0, errf(syscall.ENOPROTOOPT, "getsockopt %d/%d", level, name)
}

// Congestion returns the socket's algorithm's name (TCP_CONGESTION).
func (sk *Sock) CongestionName() string {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.congName
}

// icmpError is tcp_v4_err for one connection: fragmentation needed
// lowers the path MTU and resends at the new MSS; during the handshake
// a hard error fails the connect at once; otherwise the error is the
// socket's soft error, reported if the connection times out.
func (sk *Sock) icmpError(ie ipv4.ICMPError, seq uint32) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.state == Closed || sk.state == Listen || sk.state == TimeWait {
		return
	}
	if !between(seq, sk.sndUna, sk.sndNxt) && sk.state != SynSent {
		return
	}
	var e syscall.Errno
	switch {
	case ie.Type == ipv4.ICMPDestUnreach && ie.Code == ipv4.ICMPFragNeeded:
		mtu := int(ie.Info & 0xffff)
		if mtu >= 68 && mtu < sk.pmtu {
			sk.dst = nil
			if rt := sk.route(); rt != nil {
				mtu = min(mtu, rt.MTU())
			}
			sk.syncMSS(mtu)
			sk.retransmitHead()
		}
		return
	case ie.Type == ipv4.ICMPDestUnreach:
		switch ie.Code {
		case ipv4.ICMPPortUnreach:
			e = syscall.ECONNREFUSED
		case ipv4.ICMPNetUnreach:
			e = syscall.ENETUNREACH
		case ipv4.ICMPProtUnreach:
			e = syscall.ENOPROTOOPT
		default:
			e = syscall.EHOSTUNREACH
		}
	case ie.Type == ipv4.ICMPTimeExceeded:
		e = syscall.EHOSTUNREACH
	case ie.Type == ipv4.ICMPParameterProb:
		e = syscall.EPROTO
	default:
		return
	}
	err := errf(e, "ICMP %d/%d", ie.Type, ie.Code)
	if sk.state == SynSent || sk.state == SynRecv {
		if e == syscall.ECONNREFUSED || e == syscall.EPROTO || e == syscall.ENOPROTOOPT {
			sk.doneLocked(err)
			return
		}
	}
	sk.softErr = err
	sk.wakeUp()
}

// rcvSpaceAdjust is tcp_rcv_space_adjust: once per RTT the buffer grows
// to twice what the reader took in it (receive-buffer autotuning, with
// tcp_moderate_rcvbuf and no SO_RCVBUF of the user's).
func (sk *Sock) rcvSpaceAdjust(n int) {
	rs := &sk.rcvSpace
	rs.copied += uint32(n)
	rtt := sk.rcvRTT()
	if rtt == 0 || sk.now()-rs.time < rtt {
		return
	}
	copied := rs.copied
	if copied > rs.space && sk.p.conf().ModerateRcvbuf && !sk.rcvbufLocked {
		rcvwin := 2*uint64(copied) + 16*uint64(sk.advMSS)
		grow := rcvwin * uint64(copied-rs.space) / uint64(max(rs.space, 1))
		rcvwin += grow * 2
		rcvbuf := min(int(rcvwin*2), sk.p.conf().Rmem[2])
		if rcvbuf > sk.rcvbuf {
			sk.rcvbuf = rcvbuf
			sk.winClamp = uint32(sk.winFromSpace(rcvbuf))
		}
		rs.space = copied
	}
	rs.seq, rs.time, rs.copied = sk.copiedSeq, sk.now(), 0
}

// rcvRTT is the receiver's RTT estimate (rcv_rtt_est), taken here as
// the sender's smoothed RTT when there is one.
func (sk *Sock) rcvRTT() time.Duration {
	if sk.srtt > 0 {
		return sk.srtt
	}
	return 0
}
