package tcp

import (
	"syscall"

	"vnic/header"
)

// Urgent data as Linux handles it (tcp.c's tcp_mark_urg, tcp_recv_urg
// and recvmsg's mark, tcp_output.c's urgent pointer, tcp_input.c's
// tcp_check_urg and tcp_urg). send(MSG_OOB) makes the last byte written
// urgent: snd_up is the sequence number after it, and every segment
// before snd_up carries URG with the pointer snd_up − seq — one past the
// urgent byte, BSD's reading, which Linux keeps unless tcp_stdurg. The
// receiver takes the byte out of the stream (unless SO_OOBINLINE) for
// recv(MSG_OOB); a read stops at the mark, and poll reports POLLPRI while
// the byte waits.

// urg_data states (TCP_URG_*), the byte itself in the low 8 bits.
const (
	urgValid  = 0x0100 // the urgent byte arrived
	urgNotYet = 0x0200 // the pointer came, the byte not yet
	urgRead   = 0x0400 // recv(MSG_OOB) took it
)

// urgMode is tcp_urg_mode: urgent data sent and not yet acked.
func (sk *Sock) urgMode() bool { return sk.sndUna != sk.sndUp }

// urgPointer is what __tcp_transmit_skb puts in a segment at seq: URG
// and the offset of snd_up while urgent data before it is unacked (at
// most 0xffff: a pointer too far is 0xffff while snd_nxt is within it).
func (sk *Sock) urgPointer(seq uint32) (uint16, bool) {
	if !sk.urgMode() || !before(seq, sk.sndUp) {
		return 0, false
	}
	if before(sk.sndUp, seq+0x10000) {
		return uint16(sk.sndUp - seq), true
	}
	if after(seq+0xffff, sk.sndNxt) {
		return 0xffff, true
	}
	return 0, false
}

// urgAcked is tcp_clean_rtx_queue's end of urgent mode: snd_up passed.
func (sk *Sock) urgAcked(priorUna uint32) {
	if between(sk.sndUp, priorUna, sk.sndUna) {
		sk.sndUp = sk.sndUna
	}
}

// urg is tcp_urg, before a segment's data is queued: a new urgent
// pointer is taken (tcp_check_urg); when the byte it points to is in
// this segment, it is kept for recv(MSG_OOB) and readers are woken.
func (sk *Sock) urg(seg *segment) {
	if seg.has(header.TCPUrg) {
		sk.checkUrg(seg)
	}
	if sk.urgData != urgNotYet {
		return
	}
	off := sk.urgSeq - seg.seq
	if seg.has(header.TCPSyn) {
		off--
	}
	if off < uint32(len(seg.payload)) {
		sk.urgData = urgValid | uint16(seg.payload[off])
		sk.wakeUp()
	}
}

// checkUrg is tcp_check_urg: the pointer names the urgent byte (one
// before it with BSD's reading, the default); an old one, one behind
// rcv_nxt, or one not newer than the pointer held is ignored. A new one
// while the reader sits at the previous, unread, urgent byte moves the
// reader past that byte.
func (sk *Sock) checkUrg(seg *segment) {
	ptr := uint32(seg.th.Urgent())
	if ptr != 0 && !sk.p.conf().StdURG {
		ptr--
	}
	ptr += seg.seq
	if after(sk.copiedSeq, ptr) || before(ptr, sk.rcvNxt) {
		return
	}
	if sk.urgData != 0 && !after(ptr, sk.urgSeq) {
		return
	}
	if sk.urgSeq == sk.copiedSeq && sk.urgData != 0 && !sk.oobInline && sk.copiedSeq != sk.rcvNxt {
		sk.copiedSeq++
		sk.rq.Discard(1)
	}
	sk.urgData, sk.urgSeq = urgNotYet, ptr
}

// recvUrg is tcp_recv_urg, recv(MSG_OOB): the urgent byte, once; EINVAL
// with SO_OOBINLINE, none announced, or it read already; 0 at the end of
// the stream; EAGAIN (never a wait) while it has not arrived.
func (sk *Sock) recvUrg(b []byte, flags int) (int, error) {
	if sk.oobInline || sk.urgData == 0 || sk.urgData == urgRead {
		return 0, errf(syscall.EINVAL, "recv(MSG_OOB): no urgent data")
	}
	if sk.state == Closed && sk.iss == 0 {
		return 0, errf(syscall.ENOTCONN, "recv(MSG_OOB)")
	}
	if sk.urgData&urgValid != 0 {
		c := byte(sk.urgData)
		if flags&MsgPeek == 0 {
			sk.urgData = urgRead
		}
		if len(b) == 0 {
			return 0, nil // MSG_TRUNC
		}
		b[0] = c
		return 1, nil
	}
	if sk.state == Closed || sk.rdShut {
		return 0, nil
	}
	return 0, errRecvUrgAgain
}

var errRecvUrgAgain = errf(syscall.EAGAIN, "recv(MSG_OOB): the urgent byte has not arrived")

// readStream is tcp_recvmsg's copy from the receive queue: up to len(b)
// bytes from copied_seq, stopping at the urgent mark when something was
// read; at the mark the urgent byte is skipped unless SO_OOBINLINE.
// peek leaves the queue as it is. It returns the bytes copied and the
// sequence space consumed (copied plus skipped urgent bytes).
func (sk *Sock) readStream(b []byte, peek bool) (n, consumed int) {
	seq := sk.copiedSeq
	urg := sk.urgData
	for n < len(b) && consumed < sk.rq.Len() {
		used := min(len(b)-n, sk.rq.Len()-consumed)
		if urg != 0 {
			off := sk.urgSeq - seq
			if off == 0 {
				if n > 0 {
					break // stop at the mark
				}
				if !sk.oobInline {
					seq++ // the urgent byte is not in the stream
					consumed++
					continue
				}
			} else if off < uint32(used) {
				used = int(off)
			}
		}
		a, c := sk.rq.Slices(consumed, used)
		copy(b[n+copy(b[n:], a):], c)
		n += used
		consumed += used
		seq += uint32(used)
		if urg != 0 && after(seq, sk.urgSeq) {
			urg = 0
		}
	}
	if !peek {
		if sk.urgData != 0 && after(seq, sk.urgSeq) {
			sk.urgData = 0
		}
	}
	return n, consumed
}

// AtMark is ioctl(SIOCATMARK), sockatmark(3): the next byte to read is
// the urgent mark.
func (sk *Sock) AtMark() bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.urgData != 0 && sk.urgSeq == sk.copiedSeq
}

// readTarget is tcp_poll's bar for POLLIN: one byte, two when the next is
// an urgent byte out of band.
func (sk *Sock) readTarget() int {
	if sk.urgData != 0 && sk.urgSeq == sk.copiedSeq && !sk.oobInline {
		return 2
	}
	return 1
}
