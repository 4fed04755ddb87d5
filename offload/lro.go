package offload

import "vnic/header"

// LROResult is what a device's LRO does with a TCP/IPv4 frame given the
// aggregate it has open on the queue.
type LROResult int

const (
	// LROPass: not a frame LRO takes; deliver it as it is (nothing open).
	LROPass LROResult = iota
	// LROStart: open an aggregate with the frame.
	LROStart
	// LROAppend: append the frame to the open aggregate.
	LROAppend
	// LROAppendFlush: append, then write the aggregate out (PSH, or full).
	LROAppendFlush
	// LROFlushStart: write the open aggregate out, then open a new one with
	// the frame.
	LROFlushStart
	// LROFlushPass: write the open aggregate out, then deliver the frame as
	// it is.
	LROFlushPass
)

func (r LROResult) String() string {
	return [...]string{"pass", "start", "append", "append+flush", "flush+start", "flush+pass"}[r]
}

// LROOpen describes a device's open aggregate: its flow, the next expected
// sequence number, the TCP options of its first frame, its length in bytes
// and the most it may grow to.
type LROOpen struct {
	Key     [12]byte
	NextSeq uint32
	Options []byte
	Len     int
	Max     int
}

// TCPLRO decides, by the device's LRO rules, what happens to a TCP/IPv4
// frame of flen bytes (ip, th, with payload bytes of payload) given open
// (nil if none). A frame LRO takes has no IP options, is not a fragment,
// carries payload, has ACK and no flag but PSH besides, and a good checksum
// verdict (csumOK). It joins the open aggregate when it is of the same flow,
// continues its sequence, has identical TCP options and fits; PSH ends the
// aggregate after the frame. A frame that cannot join ends the open one.
// maxLen is what a new aggregate may grow to; a frame that already fills it
// is not worth holding.
func TCPLRO(open *LROOpen, ip header.IPv4, th header.TCP, payload, flen, maxLen int, csumOK bool) LROResult {
	flags := th.Flags()
	takes := csumOK && payload > 0 && GROEligible(ip, th) && flags&header.TCPAck != 0 && flags&^(header.TCPAck|header.TCPPsh) == 0
	if !takes {
		if open != nil {
			return LROFlushPass
		}
		return LROPass
	}
	psh := flags&header.TCPPsh != 0
	if open != nil && open.Key == GROFlowKey(ip, th) && th.Seq() == open.NextSeq &&
		open.Len+payload <= open.Max && string(th.Options()) == string(open.Options) {
		if psh || open.Len+payload >= open.Max {
			return LROAppendFlush
		}
		return LROAppend
	}
	start := !psh && flen < maxLen
	switch {
	case open == nil && start:
		return LROStart
	case open == nil:
		return LROPass
	case start:
		return LROFlushStart
	}
	return LROFlushPass
}
