package packetdrill

import (
	"encoding/binary"
	"fmt"

	"vnic/header"
	pd "vnic/internal/packetdrill"
)

// packetEvent is run_packet_event: find (or make) the connection the
// packet belongs to, then inject it at its time or sniff for it.
func (r *runner) packetEvent(p *pd.Packet) error {
	line := r.ev.Pos.Line
	if p.TCP == nil || len(p.Encaps) > 0 {
		return r.failf(line, "%v", unsupported("%s packets (vnic's runner drives TCP connections)", kindOf(p)))
	}
	s, err := r.socketFor(p)
	if err != nil {
		return r.failf(line, "error handling packet: %v", err)
	}
	if p.Direction == pd.Outbound {
		if err := r.outbound(p, s); err != nil {
			return r.failf(line, "error handling packet: %v", err)
		}
		return nil
	}
	if err := r.waitForEvent("inbound packet"); err != nil {
		return err
	}
	if err := r.inbound(p, s); err != nil {
		return r.failf(line, "error handling packet: %v", err)
	}
	return nil
}

func kindOf(p *pd.Packet) string {
	switch {
	case len(p.Encaps) > 0:
		return "encapsulated"
	case p.UDP != nil:
		return "UDP"
	case p.ICMP != nil:
		return "ICMP"
	}
	return "TCP"
}

// socketFor is find_or_create_socket_for_script_packet: an inbound packet
// while the socket under test listens (or before there is one) starts a
// passive connection; an outbound SYN of a connecting socket is its
// active open; anything else belongs to the socket under test.
func (r *runner) socketFor(p *pd.Packet) (*socket, error) {
	t := p.TCP
	if p.Direction == pd.Inbound && (r.sut == nil || r.sut.state == sockListening) {
		s := &socket{state: sockPassiveReceived, tsValMap: map[uint32]uint32{},
			scriptRemoteISN: t.Seq, liveRemoteISN: t.Seq}
		s.live.remote = endpoint{RemoteAddr, r.nextRemote}
		s.live.local = endpoint{LocalAddr, r.opt.bindPort}
		r.nextRemote++
		r.sockets = append(r.sockets, s)
		r.sut = s
		return s, nil
	}
	if p.Direction == pd.Outbound && t.Has('S') && !t.Has('.') && r.sut != nil && r.sut.state == sockConnecting {
		r.sut.state = sockActiveSynSent
		r.sut.scriptLocalISN = t.Seq
		return r.sut, nil
	}
	if r.sut != nil {
		return r.sut, nil
	}
	return nil, fmt.Errorf("no matching socket for script packet")
}

// tcpFlags turns a script's flag letters into the header's flag byte and
// AE bit; a digit is AccECN's ACE field (AE, CWR, ECE).
func tcpFlags(flags string) (f uint8, ae bool) {
	for i := 0; i < len(flags); i++ {
		switch c := flags[i]; c {
		case 'F':
			f |= header.TCPFin
		case 'S':
			f |= header.TCPSyn
		case 'R':
			f |= header.TCPRst
		case 'P':
			f |= header.TCPPsh
		case '.':
			f |= header.TCPAck
		case 'U':
			f |= header.TCPUrg
		case 'E':
			f |= header.TCPEce
		case 'W':
			f |= header.TCPCwr
		case 'A':
			ae = true
		default:
			if c >= '0' && c <= '7' {
				v := c - '0'
				ae = v&4 != 0
				if v&2 != 0 {
					f |= header.TCPCwr
				}
				if v&1 != 0 {
					f |= header.TCPEce
				}
			}
		}
	}
	return f, ae
}

// inbound is do_inbound_script_packet: the script's packet with the live
// connection's addresses and sequence numbers (map_inbound_packet),
// checksummed and handed to the stack.
func (r *runner) inbound(p *pd.Packet, s *socket) error {
	t := p.TCP
	flags, ae := tcpFlags(t.Flags)
	syn, ack := flags&header.TCPSyn != 0, flags&header.TCPAck != 0
	switch {
	case s.state == sockPassiveSynAckSent && ack:
		s.state = sockPassiveSynAckAcked
	case s.state == sockActiveSynSent && syn && ack:
		s.state = sockActiveSynAcked
		s.scriptRemoteISN, s.liveRemoteISN = t.Seq, t.Seq
	}
	if !s.live.remote.addr.IsValid() {
		// A socket that neither listens nor connects has no connection
		// yet: its packets come from the peer to the bind address.
		s.live.remote = endpoint{RemoteAddr, r.nextRemote}
		s.live.local = endpoint{LocalAddr, r.opt.bindPort}
		r.nextRemote++
	}
	src, dst := s.live.remote, s.live.local
	if p.Ports != nil {
		if p.Ports.Src != 0 {
			src.port = p.Ports.Src
		}
		if p.Ports.Dst != 0 {
			dst.port = p.Ports.Dst
		}
	}
	opts := append([]pd.TCPOption(nil), t.Options...)
	ackOff := s.localSeqOffset(syn)
	for i, o := range opts {
		switch o.Kind {
		case pd.OptSACK:
			bl := make([]pd.SACKBlock, len(o.Blocks))
			for j, b := range o.Blocks {
				bl[j] = pd.SACKBlock{Left: b.Left + ackOff, Right: b.Right + ackOff}
			}
			opts[i].Blocks = bl
		case pd.OptTimestamp:
			if !ack {
				break
			}
			if live, ok := s.tsValMap[o.TSEcr]; ok {
				opts[i].TSEcr = live
			} else if r.opt.tsEcrScaled && s.firstTS {
				opts[i].TSEcr = o.TSEcr - s.firstScriptTSVal + s.firstLiveTSVal
			} else {
				return fmt.Errorf("unable to infer live TS ecr for script TS ecr %d;  no matching or preceding outbound TS val", o.TSEcr)
			}
		}
	}
	ob := encodeOptions(opts)
	thl := 20 + len(ob)
	pkt := make([]byte, 20+thl+int(t.Len))
	ip := header.IPv4(pkt)
	ip.SetHeaderLen(20)
	ip.SetTOS(tosByte(p.IP))
	ip.SetTotalLen(uint16(len(pkt)))
	ttl := uint8(64)
	if p.IP.HasTTL {
		ttl = p.IP.TTL
	}
	ip.SetTTL(ttl)
	ip.SetProtocol(6)
	ip.SetSrc(src.addr.As4())
	ip.SetDst(dst.addr.As4())
	ip.UpdateChecksum()
	th := header.TCP(pkt[20:])
	th.SetSrcPort(src.port)
	th.SetDstPort(dst.port)
	th.SetSeq(t.Seq + s.remoteSeqOffset(syn))
	if ack {
		th.SetAck(t.Ack + ackOff)
	} else {
		th.SetAck(t.Ack)
	}
	th.SetHeaderLen(thl)
	if ae {
		th[12] |= 1
	}
	th.SetFlags(flags)
	th.SetWindow(t.Win)
	th.SetUrgent(t.Urg)
	copy(th[20:], ob)
	th.SetChecksum(0)
	th.SetChecksum(^header.Fold(header.Sum(th, header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), 6, uint16(len(th))))))
	r.logf("%s inject %s", secs(r.now()), describeIP(pkt))
	return r.tun.inject(pkt)
}

// tosByte is the TOS byte an inbound packet carries.
func tosByte(ip pd.IPInfo) uint8 {
	switch ip.Check {
	case pd.TOSCheckECN:
		if ip.ECN <= pd.CE {
			return uint8(ip.ECN)
		}
	case pd.TOSCheckValue:
		return ip.TOS
	}
	return 0
}

// nextLive is the oldest packet the stack sent that belongs to the
// socket under test (find_socket_for_live_packet), or to its connect
// (find_connect_for_live_packet: a SYN to the address connected to,
// which teaches the live local port and ISN). Other packets are passed
// over, as packetdrill's sniffer passes over other connections'.
func (r *runner) nextLive(s *socket) *livePacket {
	for r.sniffed < len(r.tun.sent) {
		p := &r.tun.sent[r.sniffed]
		r.sniffed++
		seg, err := parseSegment(p.ip)
		if err != nil {
			continue
		}
		if seg.src == s.live.local && seg.dst == s.live.remote {
			return p
		}
		if s.state == sockActiveSynSent && seg.has(header.TCPSyn) && !seg.has(header.TCPAck) && seg.dst == s.live.remote {
			s.live.local = seg.src
			s.liveLocalISN = seg.seq
			return p
		}
		r.logf("%s (not the connection under test: %s)", secs(r.scriptNow(p.at)), describeIP(p.ip))
	}
	return nil
}

// sniff waits for the connection's next packet, running the stack until
// one leaves or the script's time runs out.
func (r *runner) sniff(s *socket) (*livePacket, error) {
	var p *livePacket
	err := r.runUntil(r.vlimit, func() bool {
		p = r.nextLive(s)
		return p != nil
	})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, mismatchf("Timed out waiting for packet")
	}
	return p, nil
}

// outbound is do_outbound_script_packet: sniff the connection's next
// packet (and, unless --strict_segments, the ones that continue it up
// to the script's payload: TSO seen as the script writes it), map it to
// the script's numbers and check it.
func (r *runner) outbound(p *pd.Packet, s *socket) error {
	t := p.TCP
	synack := s.state == sockPassiveReceived && t.Has('S') && t.Has('.')
	if synack {
		s.scriptLocalISN = t.Seq
	}
	want := int(t.Len)
	var segs []*segment
	var first *livePacket
	got := 0
	for len(segs) == 0 || got < want && !r.opt.strictSegments {
		lp, err := r.sniff(s)
		if err != nil {
			if len(segs) > 0 {
				break // what came is checked below
			}
			return fmt.Errorf("%v; script packet: %s %s", err, secs(r.evTime), scriptPacketString(p))
		}
		seg, err := parseSegment(lp.ip)
		if err != nil {
			return err
		}
		if synack && len(segs) == 0 {
			s.state = sockPassiveSynAckSent
			s.liveLocalISN = seg.seq
		}
		r.toScript(s, seg)
		if len(segs) == 0 {
			first = lp
		} else if err := continues(seg, segs[len(segs)-1], got, want); err != nil {
			return fmt.Errorf("%v; script packet: %s %s; actual packet: %s %s", err, secs(r.evTime), scriptPacketString(p),
				secs(r.scriptNow(lp.at)), seg)
		}
		segs = append(segs, seg)
		got += seg.payloadLen
	}
	seg := aggregate(segs)
	actual := r.scriptNow(first.at)
	if len(segs) > 1 {
		actual = r.scriptNow(r.tun.sent[r.sniffed-1].at)
	}
	dump := func(err error) error {
		return fmt.Errorf("%v; script packet: %s %s; actual packet: %s %s", err, secs(r.evTime), scriptPacketString(p), secs(actual), seg)
	}
	if got != want {
		return dump(fmt.Errorf("live packet payload: expected %d bytes vs actual %d bytes", want, got))
	}
	if err := r.verifyOutbound(p, s, seg); err != nil {
		return dump(err)
	}
	if err := r.verifyTime(r.ev.Time.Kind, r.evTime, r.evEnd, actual, r.lastTime, r.lastKnown, "outbound packet"); err != nil {
		return dump(err)
	}
	return nil
}

// toScript maps a live segment's numbers into the script's
// (tcp_convert_seq_number): sequence, ACK and SACK blocks.
func (r *runner) toScript(s *socket, seg *segment) {
	syn := seg.has(header.TCPSyn)
	seg.seq -= s.localSeqOffset(syn)
	ackOff := s.remoteSeqOffset(syn)
	if seg.has(header.TCPAck) {
		seg.ack -= ackOff
	}
	ro, _ := rawOptions(seg.opts)
	if len(ro) == 0 {
		return
	}
	opts := append([]byte(nil), seg.opts...)
	off := 0
	for _, o := range ro {
		if o.kind == 5 {
			for i := 0; i+8 <= len(o.data); i += 8 {
				b := opts[off+2+i:]
				binary.BigEndian.PutUint32(b, binary.BigEndian.Uint32(b)-ackOff)
				binary.BigEndian.PutUint32(b[4:], binary.BigEndian.Uint32(b[4:])-ackOff)
			}
		}
		off += o.len
	}
	seg.opts = opts
}

// continues is verify_packet_fragments: a packet that continues the one
// before it (aggregated into what the script expects) has the same
// header but for its sequence number, which follows on, and all but the
// last are the same size.
func continues(seg, prev *segment, got, want int) error {
	sameFlags := uint8(header.TCPSyn | header.TCPRst | header.TCPAck | header.TCPUrg | header.TCPEce)
	checks := []struct {
		name string
		w, a uint32
	}{
		{"tcp_data_offset", uint32(prev.doff / 4), uint32(seg.doff / 4)},
		{"tcp_flags", uint32(prev.flags & sameFlags), uint32(seg.flags & sameFlags)},
		{"tcp_seq", prev.seq + uint32(prev.payloadLen), seg.seq},
		{"tcp_ack_seq", prev.ack, seg.ack},
		{"tcp_window", uint32(prev.win), uint32(seg.win)},
		{"tcp_urg_ptr", uint32(prev.urg), uint32(seg.urg)},
	}
	for _, c := range checks {
		if c.w != c.a {
			return fmt.Errorf("aggregate candidate packet field %s: expected: %d (%#x) vs actual: %d (%#x)", c.name, c.w, c.w, c.a, c.a)
		}
	}
	if seg.payloadLen < want-got && seg.payloadLen != prev.payloadLen {
		return fmt.Errorf("fragment payload: expected %d bytes vs actual %d bytes; total payload: expected %d bytes vs actual %d bytes",
			prev.payloadLen, seg.payloadLen, want, got+seg.payloadLen)
	}
	return nil
}

// aggregate joins sniffed packets into one (aggregate_packets): the
// first's header with the last's FIN and PSH, the payloads in order.
func aggregate(segs []*segment) *segment {
	if len(segs) == 1 {
		return segs[0]
	}
	a := *segs[0]
	last := segs[len(segs)-1]
	keep := uint8(header.TCPFin | header.TCPPsh)
	a.flags = a.flags&^keep | last.flags&keep
	a.payload = nil
	for _, s := range segs {
		a.payload = append(a.payload, s.payload...)
	}
	a.payloadLen = len(a.payload)
	a.totLen = a.ihl + a.doff + a.payloadLen
	return &a
}
