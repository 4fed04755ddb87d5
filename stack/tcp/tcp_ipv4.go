package tcp

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
)

// Proto is a host's TCP: its sockets' hash tables, settings, secrets and
// counters (struct inet_hashinfo and the tcp parts of struct netns_ipv4).
type Proto struct {
	in    *ipv4.Inet
	cfg   atomic.Pointer[Config]
	cfgMu sync.Mutex

	mu     sync.Mutex
	ehash  map[fourTuple]*Sock    // connected sockets, TIME_WAIT included (ehash)
	reqs   map[fourTuple]*request // half-open connections (request socks, in ehash on Linux)
	lhash  map[uint16][]*Sock     // listeners by port (lhash2)
	bhash  map[uint16][]*Sock     // bound sockets by port (bhash)
	rnd    *rand.Rand
	socks  int // open sockets, for ss and the orphan count
	orphan int // orphans: closed by the user, still finishing

	seqKey, tsKey [16]byte // net_secret and ts_secret
	cookies       *CookieKeys

	// Stats are the Tcp and TcpExt counters.
	Stats Stats
}

// fourTuple is a connection's addresses from the host's side.
type fourTuple struct {
	laddr, raddr [4]byte
	lport, rport uint16
}

var key = stack.NewHostKey[Proto]()

// Init is tcp_v4_init for in's host: TCP registers with IPv4's protocol
// table and its settings join the host's sysctls.
func Init(in *ipv4.Inet) (*Proto, error) {
	p := &Proto{in: in, ehash: map[fourTuple]*Sock{}, reqs: map[fourTuple]*request{},
		lhash: map[uint16][]*Sock{}, bhash: map[uint16][]*Sock{}}
	c := DefaultConfig
	p.cfg.Store(&c)
	seed := in.Config().Seed
	h := fnv.New64a()
	h.Write([]byte(in.Host().Name()))
	p.rnd = rand.New(rand.NewSource(seed ^ int64(h.Sum64()) ^ 0x7463702d)) // "tcp-"
	for i := range p.seqKey {
		p.seqKey[i] = byte(p.rnd.Intn(256))
		p.tsKey[i] = byte(p.rnd.Intn(256))
	}
	var err error
	if p.cookies, err = NewCookieKeys(p.rnd); err != nil {
		return nil, err
	}
	if !key.Set(in.Host(), p) {
		return nil, fmt.Errorf("stack: %s: TCP already initialised: %w", in.Host().Name(), syscall.EEXIST)
	}
	in.AddProtocol(ipv4.IPProtoTCP, ipv4.NetProtocol{Handler: p.rcv, ErrHandler: p.err})
	in.Host().RegisterSysctls(p.sysctls)
	return p, nil
}

// Of returns the TCP of in's host (nil before Init).
func Of(in *ipv4.Inet) *Proto { return key.Get(in.Host()) }

// Inet returns the IPv4 TCP runs on.
func (p *Proto) Inet() *ipv4.Inet { return p.in }

// segment is a received segment's parsed header (struct tcp_skb_cb).
type segment struct {
	th       header.TCP
	seq, end uint32 // end: seq + payload + SYN + FIN
	ack      uint32
	flags    uint8
	wnd      uint32 // the raw window field
	payload  []byte
	opt      header.TCPOptions
	src, dst [4]byte
	sport    uint16
	dport    uint16
	tos      uint8
	skb      *stack.SKB
	ecnCE    bool
}

func (s *segment) has(f uint8) bool { return s.flags&f != 0 }

// rcv is tcp_v4_rcv: the header and checksum, then the socket the
// segment belongs to — a connection (TIME_WAIT included), a half-open
// one, a listener — or a reset when none takes it.
func (p *Proto) rcv(skb *stack.SKB) {
	defer skb.Consume()
	d := skb.Data()
	th := header.TCP(d)
	if !th.IsValid() || th.HeaderLen() < header.TCPMinHeaderLen || th.HeaderLen() > len(d) {
		p.Stats.InErrs.Add(1)
		return
	}
	iph := header.IPv4(skb.NetworkHeader())
	src, dst := iph.Src(), iph.Dst()
	if skb.IPSummed != stack.ChecksumUnnecessary && skb.IPSummed != stack.ChecksumPartial {
		sum := header.PseudoHeaderIPv4(src, dst, ipv4.IPProtoTCP, uint16(len(d)))
		if header.Fold(header.Sum(d, sum)) != 0xffff {
			p.Stats.InCsumErrors.Add(1)
			p.Stats.InErrs.Add(1)
			return
		}
	}
	p.Stats.InSegs.Add(1)
	seg := segment{th: th, seq: th.Seq(), ack: th.Ack(), flags: th.Flags(), wnd: uint32(th.Window()),
		payload: th.Payload(), src: src, dst: dst, sport: th.SrcPort(), dport: th.DstPort(),
		tos: iph.TOS(), skb: skb, ecnCE: iph.TOS()&3 == 3}
	seg.end = seg.seq + uint32(len(seg.payload))
	if seg.has(header.TCPSyn) {
		seg.end++
	}
	if seg.has(header.TCPFin) {
		seg.end++
	}
	seg.opt = header.ParseTCPOptions(th.Options(), seg.has(header.TCPSyn))
	t := fourTuple{laddr: dst, raddr: src, lport: seg.dport, rport: seg.sport}
	for range 3 { // a socket that changes state under us is looked up again
		p.mu.Lock()
		sk := p.ehash[t]
		req := p.reqs[t]
		var lsk *Sock
		if sk == nil && req == nil {
			lsk = p.listenerFor(dst, seg.dport)
		}
		p.mu.Unlock()
		switch {
		case sk != nil:
			if sk.rcv(&seg) {
				return
			}
		case req != nil:
			if req.lsk.rcvRequest(req, &seg) {
				return
			}
		case lsk != nil:
			if lsk.rcvListen(&seg) {
				return
			}
		default:
			p.noSocket(&seg)
			return
		}
	}
	p.noSocket(&seg)
}

// noSocket answers a segment no socket takes (tcp_v4_send_reset from
// tcp_v4_rcv's no_tcp_socket): a reset, never for a reset.
func (p *Proto) noSocket(seg *segment) {
	if !seg.has(header.TCPRst) {
		p.sendReset(seg)
	}
}

// listenerFor is __inet_lookup_listener: a listener on the address,
// else on the wildcard.
func (p *Proto) listenerFor(a [4]byte, port uint16) *Sock {
	var wild *Sock
	for _, l := range p.lhash[port] {
		switch l.laddr {
		case a:
			return l
		case [4]byte{}:
			if wild == nil {
				wild = l
			}
		}
	}
	return wild
}

// sendReset is tcp_v4_send_reset: a reset answering seg — with the
// segment's ACK as its sequence number, or else sequence 0 and an ACK of
// everything the segment occupied.
func (p *Proto) sendReset(seg *segment) {
	var seq, ack uint32
	flags := uint8(header.TCPRst)
	if seg.has(header.TCPAck) {
		seq = seg.ack
	} else {
		ack = seg.end
		flags |= header.TCPAck
	}
	p.Stats.OutRsts.Add(1)
	p.sendBare(nil, seg.dst, seg.src, seg.dport, seg.sport, seq, ack, flags, 0, nil)
}

// sendBare sends a segment of no full socket (a reset, a request sock's
// SYN-ACK or ACK: ip_send_unicast_reply), with opts as its options, owned
// by owner (nil: the host's).
func (p *Proto) sendBare(owner *stack.SockOwner, src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags uint8, wnd uint16, opts []byte) {
	in := p.in
	fl := flowKey(src, dst, sport, dport)
	rt, err := in.RouteOutput(&fl)
	if err != nil {
		return
	}
	var hb [header.TCPMaxHeaderLen]byte
	hl := header.TCPMinHeaderLen + len(opts)
	th := header.TCP(hb[:hl])
	th.SetSrcPort(sport)
	th.SetDstPort(dport)
	th.SetSeq(seq)
	th.SetAck(ack)
	th.SetHeaderLen(hl)
	th.SetFlags(flags)
	th.SetWindow(wnd)
	copy(hb[header.TCPMinHeaderLen:], opts)
	sum := header.PseudoHeaderIPv4(src, dst, ipv4.IPProtoTCP, uint16(hl))
	th.SetChecksum(^header.Fold(header.Sum(th, sum)))
	p.Stats.OutSegs.Add(1)
	// ip_send_unicast_reply: DF, ID 0, the default TTL, TOS 0 (with
	// tcp_reflect_tos off).
	_ = in.SendDatagram(rt, ipv4.IPHeader{Src: src, Dst: dst, Proto: ipv4.IPProtoTCP, TTL: in.Config().DefaultTTL, DF: true, Owner: owner}, th, nil, 0)
}

// err is tcp_v4_err: an ICMP error about one of the connections'
// segments — a PMTU change shrinks its MSS, a hard error during the
// handshake aborts it, other errors become the socket's soft error.
func (p *Proto) err(skb *stack.SKB, ie ipv4.ICMPError) {
	defer skb.Consume()
	if len(ie.L4) < 8 {
		return
	}
	sport, dport := binary.BigEndian.Uint16(ie.L4[0:2]), binary.BigEndian.Uint16(ie.L4[2:4])
	seq := binary.BigEndian.Uint32(ie.L4[4:8])
	t := fourTuple{laddr: ie.Inner.Src(), raddr: ie.Inner.Dst(), lport: sport, rport: dport}
	p.mu.Lock()
	sk := p.ehash[t]
	p.mu.Unlock()
	if sk == nil {
		p.in.ICMPStats.InErrors.Add(1)
		return
	}
	if ie.Type == ipv4.ICMPRedirect {
		p.in.SKRedirect(skb, ie)
		return
	}
	sk.icmpError(ie, seq)
}

// flowKey is the routing key of a connection's segments.
func flowKey(src, dst [4]byte, sport, dport uint16) fibFlow {
	return fibFlow{Dst: dst, Src: src, Proto: ipv4.IPProtoTCP, Sport: sport, Dport: dport}
}

// bind takes port for sk (0: an ephemeral one), as inet_csk_get_port:
// a port is shared by sockets bound to different addresses, or when
// every socket on it has SO_REUSEADDR and none listens.
func (p *Proto) bind(sk *Sock, laddr [4]byte, port uint16) (uint16, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	free := func(port uint16) bool {
		for _, o := range p.bhash[port] {
			if o.laddr != laddr && o.laddr != [4]byte{} && laddr != [4]byte{} {
				continue
			}
			if sk.reuseAddr && o.reuseAddr && !p.listeningLocked(o) {
				continue
			}
			return false
		}
		return true
	}
	if port == 0 {
		var ok bool
		if port, ok = p.portSearch(func(c uint16) bool { return len(p.bhash[c]) == 0 }); !ok {
			return 0, fmt.Errorf("stack: tcp: no free port: %w", syscall.EADDRINUSE)
		}
	} else if !free(port) {
		return 0, fmt.Errorf("stack: tcp: bind %v: %w", netip.AddrPortFrom(netip.AddrFrom4(laddr), port), syscall.EADDRINUSE)
	}
	p.bhash[port] = append(p.bhash[port], sk)
	return port, nil
}

// portSearch walks ip_local_port_range from a random start for the
// first port ok takes (p.mu held).
func (p *Proto) portSearch(ok func(port uint16) bool) (uint16, bool) {
	cfg := p.in.Config()
	lo, hi := int(cfg.PortLow), int(cfg.PortHigh)
	n := hi - lo + 1
	start := p.rnd.Intn(n)
	for i := 0; i < n; i++ {
		if c := uint16(lo + (start+i)%n); ok(c) {
			return c, true
		}
	}
	return 0, false
}

// unbind drops sk from its port's list.
func (p *Proto) unbindLocked(sk *Sock) {
	list := p.bhash[sk.lport]
	for i, o := range list {
		if o == sk {
			p.bhash[sk.lport] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(p.bhash[sk.lport]) == 0 {
		delete(p.bhash, sk.lport)
	}
	sk.connBound = false
}

// listeningLocked tells whether sk is a listener (p.mu held): lhash
// says so, as sk.state is sk.mu's to read.
func (p *Proto) listeningLocked(sk *Sock) bool {
	for _, o := range p.lhash[sk.lport] {
		if o == sk {
			return true
		}
	}
	return false
}

// unlistenLocked drops a listener from lhash.
func (p *Proto) unlistenLocked(sk *Sock) {
	list := p.lhash[sk.lport]
	for i, o := range list {
		if o == sk {
			p.lhash[sk.lport] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(p.lhash[sk.lport]) == 0 {
		delete(p.lhash, sk.lport)
	}
}
