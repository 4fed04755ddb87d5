package udp

import (
	"fmt"
	"math/rand"
	"net/netip"
	"sync"
	"syscall"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
)

// Stats are the Udp counters.
type Stats struct {
	InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors, InCsumErrors, IgnoredMulti stack.Counter
}

// StatsSnapshot is Stats read at one time.
type StatsSnapshot struct {
	InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors, InCsumErrors, IgnoredMulti uint64
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{InDatagrams: s.InDatagrams.Load(), NoPorts: s.NoPorts.Load(), InErrors: s.InErrors.Load(),
		OutDatagrams: s.OutDatagrams.Load(), RcvbufErrors: s.RcvbufErrors.Load(), SndbufErrors: s.SndbufErrors.Load(),
		InCsumErrors: s.InCsumErrors.Load(), IgnoredMulti: s.IgnoredMulti.Load()}
}

// rcv is udp_rcv: the length (a UDP length beyond the packet or under
// 8: InErrors; shorter than the packet: trimmed), the checksum unless
// zero or verified by the device (InCsumErrors and InErrors), then the
// socket: connected 4-tuple first, then the bound address, then the
// wildcard. Broadcasts go to every matching socket. No socket: NoPorts
// and port unreachable (unicast only; IgnoredMulti for broadcasts).
func (p *Proto) rcv(skb *stack.SKB) {
	in := p.in
	uh := header.UDP(skb.Data())
	if !uh.IsValid() {
		p.Stats.InErrors.Add(1)
		skb.Free()
		return
	}
	ulen := int(uh.Length())
	if ulen < header.UDPHeaderLen || ulen > len(uh) {
		p.Stats.InErrors.Add(1)
		skb.Free()
		return
	}
	skb.Trim(ulen)
	uh = header.UDP(skb.Data())
	iph := header.IPv4(skb.NetworkHeader())
	if uh.Checksum() != 0 && skb.IPSummed != stack.ChecksumUnnecessary {
		sum := header.PseudoHeaderIPv4(iph.Src(), iph.Dst(), ipv4.IPProtoUDP, uint16(ulen))
		if header.Fold(header.Sum(uh, sum)) != 0xffff {
			p.Stats.InCsumErrors.Add(1)
			p.Stats.InErrors.Add(1)
			skb.Free()
			return
		}
	}
	sport, dport := uh.SrcPort(), uh.DstPort()
	src, dst := iph.Src(), iph.Dst()
	bcast := ipv4.SkbRtable(skb) != nil && ipv4.SkbRtable(skb).Flags&(ipv4.RTCFBroadcast|ipv4.RTCFMulticast) != 0
	t := &p.table
	t.mu.Lock()
	var best *Conn
	bestScore := -1
	var all []*Conn
	for _, c := range t.ports[dport] {
		score := 0
		if c.laddr != ([4]byte{}) {
			if c.laddr != dst && !bcast {
				continue
			}
			score += 4
		}
		if c.rport != 0 {
			if c.raddr != src || c.rport != sport {
				continue
			}
			score += 4
		}
		if bcast {
			all = append(all, c)
		}
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	t.mu.Unlock()
	if bcast {
		if len(all) == 0 {
			p.Stats.IgnoredMulti.Add(1)
			skb.Consume()
			return
		}
		for _, c := range all[1:] {
			cp := in.Host().Pool().Alloc(skb.Len() + ipv4.IPv4HdrLen + 60)
			if cp == nil {
				p.Stats.RcvbufErrors.Add(1)
				continue
			}
			nh := skb.NetworkHeader()
			hl := len(nh) - skb.Len()
			copy(cp.Put(len(nh)), nh)
			cp.CopyMeta(skb)
			cp.ResetNetworkHeader()
			cp.Pull(hl)
			cp.ResetTransportHeader()
			p.queue(c, cp)
		}
		p.queue(all[0], skb)
		return
	}
	if best == nil {
		p.Stats.NoPorts.Add(1)
		in.ICMPSend(skb, ipv4.ICMPDestUnreach, ipv4.ICMPPortUnreach, 0)
		skb.Free()
		return
	}
	p.queue(best, skb)
}

// err is __udp4_lib_err: the socket that sent the quoted datagram
// hears the error — a connected one as a pending error (port
// unreachable: ECONNREFUSED; fragmentation needed: EMSGSIZE; others:
// EHOSTUNREACH), an unconnected one not at all (no IP_RECVERR).
func (p *Proto) err(skb *stack.SKB, ie ipv4.ICMPError) {
	defer skb.Consume()
	typ, code, inner, l4 := ie.Type, ie.Code, ie.Inner, ie.L4
	quoted := header.UDP(l4)
	sport, dport := quoted.SrcPort(), quoted.DstPort()
	t := &p.table
	t.mu.Lock()
	var c *Conn
	found := false // a socket the quoted flow would reach, connected or not
	for _, o := range t.ports[sport] {
		if o.laddr != [4]byte{} && o.laddr != inner.Src() {
			continue
		}
		if o.rport == 0 || o.rport == dport && o.raddr == inner.Dst() {
			found = true
		}
		if o.rport == dport && o.raddr == inner.Dst() {
			c = o
		}
	}
	t.mu.Unlock()
	if !found {
		p.in.ICMPStats.InErrors.Add(1) // __udp4_lib_err: no socket for the quoted flow
		return
	}
	if typ == ipv4.ICMPRedirect {
		// __udp4_lib_err: the socket's redirect is taken
		// (ipv4_sk_redirect); the socket is told nothing.
		p.in.SKRedirect(skb, ie)
		return
	}
	if c == nil {
		return // an unconnected socket without IP_RECVERR hears nothing
	}
	var e syscall.Errno
	switch {
	case typ == ipv4.ICMPDestUnreach && code == ipv4.ICMPPortUnreach:
		e = syscall.ECONNREFUSED
	case typ == ipv4.ICMPDestUnreach && code == ipv4.ICMPFragNeeded:
		e = syscall.EMSGSIZE
	case typ == ipv4.ICMPDestUnreach && code == ipv4.ICMPNetUnreach:
		e = syscall.ENETUNREACH
	case typ == ipv4.ICMPTimeExceeded:
		e = syscall.EHOSTUNREACH
	case typ == ipv4.ICMPParameterProb:
		e = syscall.EPROTO
	default:
		e = syscall.EHOSTUNREACH
	}
	c.mu.Lock()
	c.err = fmt.Errorf("stack: udp: ICMP %d/%d from %v: %w", typ, code, netip.AddrFrom4(header.IPv4(skb.NetworkHeader()).Src()), e)
	c.cond.Broadcast()
	c.mu.Unlock()
}

type table struct {
	portLow, portHigh uint16 // ip_local_port_range
	mu                sync.Mutex
	ports             map[uint16][]*Conn
	rnd               *rand.Rand
}

func (t *table) init(cfg ipv4.InetConfig) {
	t.ports = map[uint16][]*Conn{}
	t.rnd = rand.New(rand.NewSource(cfg.Seed + 17))
	t.portLow, t.portHigh = cfg.PortLow, cfg.PortHigh
}

// bind takes port (0: an ephemeral one). A port is shared only by sockets
// bound to different addresses (no SO_REUSEADDR yet).
func (t *table) bind(c *Conn, port uint16) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	free := func(p uint16) bool {
		for _, o := range t.ports[p] {
			if o.laddr == c.laddr || o.laddr == [4]byte{} || c.laddr == [4]byte{} {
				return false
			}
		}
		return true
	}
	if port == 0 {
		lo, hi := int(t.portLow), int(t.portHigh)
		n := hi - lo + 1
		start := t.rnd.Intn(n)
		for i := 0; i < n; i++ {
			p := uint16(lo + (start+i)%n)
			if free(p) {
				port = p
				break
			}
		}
		if port == 0 {
			return fmt.Errorf("stack: udp: no free ephemeral port: %w", syscall.EAGAIN)
		}
	} else if !free(port) {
		return fmt.Errorf("stack: udp: bind port %d: %w", port, syscall.EADDRINUSE)
	}
	c.lport = port
	t.ports[port] = append(t.ports[port], c)
	return nil
}
