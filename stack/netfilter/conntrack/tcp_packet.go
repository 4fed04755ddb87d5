package conntrack

import (
	"time"

	"vnic/header"
)

// tcpPacket is nf_conntrack_tcp_packet: the segment moves the connection
// through tcp_conntracks after the window check, and sets its timeout.
func (c *Conn) tcpPacket(p *pktInfo, info Info, cfg *Config) l4Verdict {
	var s tcpSegment
	if !s.parse(p, cfg) {
		return l4Invalid
	}
	if c.Status()&StatusConfirmed == 0 && !c.tcpNew(&s, cfg) {
		return l4Invalid
	}
	c.mu.Lock()
	st := &c.proto.tcp
	old := st.state
	dir := info.Dir()
	index := tcpIndex(s.flag)
	ns := tcpNext[dir&1][index&7][old&15]
	ackSeq := s.ack
	switch ns {
	case TCPSynSent:
		if old < TCPTimeWait {
			break
		}
		// A SYN reopening a connection closed or aborted: the entry goes
		// and the packet is tracked anew.
		if (st.seen[dir].flags|st.seen[1-dir].flags)&tcpFlagCloseInit != 0 ||
			(st.lastDir == uint8(dir) && st.lastIndex == tcpRstSet) {
			c.mu.Unlock()
			if c.net.Delete(c) {
				return l4Repeat
			}
			return l4Drop
		}
		fallthrough
	case tcpIgnore:
		if index == tcpSynAckSet && st.lastIndex == tcpSynSet && st.lastDir != uint8(dir) && ackSeq == st.lastEnd {
			// This SYN/ACK answers a SYN we ignored: both ends are in
			// sync, so get in sync from what the SYN said.
			old, ns = TCPSynSent, TCPSynRecv
			ld := &st.seen[st.lastDir]
			ld.end, ld.maxend = st.lastEnd, st.lastEnd
			ld.maxwin = max(uint32(st.lastWin), 1)
			ld.scale = st.lastWscale
			st.lastFlags &^= tcpExpChallengeAck
			ld.flags = st.lastFlags
			st.seen[dir] = tcpSeen{flags: st.seen[dir].flags & tcpFlagBeLiberal}
			break
		}
		st.lastIndex, st.lastDir, st.lastSeq, st.lastEnd, st.lastWin = index, uint8(dir), s.seq, s.end, s.win
		if index == tcpSynSet && dir == Original {
			// Note the SYN's options, in case its SYN/ACK comes.
			var seen tcpSeen
			st.lastFlags, st.lastWscale = 0, 0
			tcpOptions(s.th, &seen)
			if seen.flags&tcpFlagWindowScale != 0 {
				st.lastFlags |= tcpFlagWindowScale
				st.lastWscale = seen.scale
			}
			if seen.flags&tcpFlagSackPerm != 0 {
				st.lastFlags |= tcpFlagSackPerm
			}
			if old == TCPLastAck {
				st.lastFlags |= tcpExpChallengeAck
			}
		}
		if old == TCPSynSent && index == tcpAckSet && dir == Reply {
			st.lastAck = ackSeq // a possible challenge ACK answering the SYN
		}
		c.mu.Unlock()
		return l4Accept
	case tcpMax:
		c.mu.Unlock()
		return l4Invalid
	case TCPTimeWait:
		if old == TCPLastAck && index == tcpAckSet && st.lastDir != uint8(dir) &&
			st.lastIndex == tcpSynSet && st.lastFlags&tcpExpChallengeAck != 0 {
			// An RFC 5961 challenge ACK, not the last ACK.
			st.lastFlags &^= tcpExpChallengeAck
			c.mu.Unlock()
			return l4Accept
		}
	case TCPSynSent2:
		st.lastFlags |= tcpSimultaneousOpen
	case TCPSynRecv:
		if dir == Reply && index == tcpAckSet && st.lastFlags&tcpSimultaneousOpen != 0 {
			ns = TCPEstablished
		}
	case TCPClose:
		if index != tcpRstSet {
			break
		}
		if tcpCanEarlyDrop(old) {
			goto inWindow // closing: the tuple may be reused, skip the checks
		}
		if st.seen[1-dir].flags&tcpFlagMaxackSet != 0 && st.lastIndex != tcpSynSet {
			seq := s.seq
			if seq == 0 && !c.tcpEstablishedAssured() {
				break
			}
			if seqBefore(seq, st.seen[1-dir].maxack) && !cfg.TCPIgnoreInvalidRST {
				c.mu.Unlock()
				return l4Invalid // invalid RST
			}
			if !c.tcpEstablishedAssured() || seq == st.seen[1-dir].maxack {
				break
			}
			if st.lastIndex == tcpAckSet && st.lastDir == uint8(dir) && seq == st.lastEnd {
				break // the RST of a train
			}
			ns = old // not exact: keep the state for a challenge ACK
		}
		if ((c.Status()&StatusSeenReply != 0 && st.lastIndex == tcpSynSet) ||
			(c.Status()&StatusAssured == 0 && st.lastIndex == tcpAckSet)) && ackSeq == st.lastEnd {
			goto inWindow // RST to a SYN or ACK we let through
		}
		if old == TCPSynSent && st.lastIndex == tcpAckSet && st.lastDir == uint8(Reply) && s.seq == st.lastAck {
			goto inWindow // RST answering a challenge ACK
		}
	}
	switch tcpInWindow(st, dir, index, &s, cfg) {
	case tcpActIgnore:
		c.mu.Unlock()
		return l4Accept
	case tcpActInvalid:
		c.tcpHandleInvalid(dir, index, cfg)
		c.mu.Unlock()
		return l4Invalid
	}
inWindow:
	st.lastIndex, st.lastDir = index, uint8(dir)
	st.state = ns
	if old != ns && ns == TCPFinWait {
		st.seen[dir].flags |= tcpFlagCloseInit
	}
	timeouts := &cfg.TCPTimeouts
	var timeout time.Duration
	switch {
	case int(st.retrans) >= cfg.TCPMaxRetrans && timeouts[ns] > timeouts[tcpTimeoutRetrans]:
		timeout = timeouts[tcpTimeoutRetrans]
	case index == tcpRstSet:
		timeout = timeouts[TCPClose]
	case (st.seen[0].flags|st.seen[1].flags)&tcpFlagDataUnacked != 0 && timeouts[ns] > timeouts[tcpTimeoutUnack]:
		timeout = timeouts[tcpTimeoutUnack]
	case st.lastWin == 0 && timeouts[ns] > timeouts[tcpTimeoutRetrans]:
		timeout = timeouts[tcpTimeoutRetrans]
	default:
		timeout = timeouts[ns]
	}
	c.mu.Unlock()
	if ns != old {
		c.cacheEvent(EventProtoinfo)
	}
	status := c.Status()
	if status&StatusSeenReply == 0 {
		if s.has(header.TCPRst) {
			// The only answer was a RST: no connection to keep.
			c.account(info, p.total)
			c.net.Delete(c)
			return l4Accept
		}
		if index == tcpSynSet && old == TCPSynSent {
			// A retransmitted SYN does not renew the timeout.
			c.account(info, p.total)
			return l4Accept
		}
		if ns == TCPEstablished && timeout > timeouts[tcpTimeoutUnack] {
			timeout = timeouts[tcpTimeoutUnack] // picked up: no days-long timeout
		}
	} else if status&StatusAssured == 0 && (old == TCPSynRecv || old == TCPEstablished) && ns == TCPEstablished {
		// A valid ACK in ESTABLISHED after SYN_RECV, or an answer to a
		// picked-up connection: ASSURED.
		if c.setStatusBit(StatusAssured) {
			c.cacheEvent(EventAssured)
		}
	}
	c.refresh(p, info, timeout)
	return l4Accept
}
