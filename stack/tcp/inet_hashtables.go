package tcp

import (
	"fmt"
	"syscall"
	"time"
)

// An outgoing connection's local port and the TIME-WAIT sockets it may
// take the place of (inet_hashtables.c's __inet_hash_connect and
// __inet_check_established, tcp_ipv4.c's tcp_twsk_unique).

// twState is what a socket in TIME-WAIT leaves for connect to judge
// (tcp_timewait_sock); guarded by the Proto's lock, unlike the rest of
// the socket, so that connect may read it without the socket's lock.
type twState struct {
	at       time.Duration // tw_entry_stamp: when TIME-WAIT began (0: not in it)
	ts       bool          // timestamps were on (tw_ts_recent_stamp != 0)
	sndNxt   uint32        // tw_snd_nxt
	tsRecent uint32        // tw_ts_recent
}

// connectPort picks an ephemeral port for a connection to raddr:rport
// from laddr (__inet_hash_connect): a free one, or one held only by
// other connections (not by bind) whose four-tuple is free — or taken
// by a TIME-WAIT socket tcp_twsk_unique lets go (TWRecycled). It returns
// the port and, after a reuse, the ISN and ts_recent the connection
// starts from.
func (p *Proto) connectPort(sk *Sock, laddr, raddr [4]byte, rport uint16) (uint16, *twState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var tw *twState
	port, ok := p.portSearch(func(c uint16) bool {
		for _, o := range p.bhash[c] {
			if !o.connBound {
				return false // a port of bind()'s (tb->fastreuse >= 0)
			}
		}
		t := fourTuple{laddr, raddr, c, rport}
		if _, used := p.reqs[t]; used {
			return false
		}
		tw = nil
		if o, used := p.ehash[t]; used {
			tw = p.twUnique(o, true)
			return tw != nil
		}
		return true
	})
	if !ok {
		return 0, nil, fmt.Errorf("stack: tcp: no free port: %w", syscall.EADDRNOTAVAIL)
	}
	p.bhash[port] = append(p.bhash[port], sk)
	sk.connBound = true
	return port, tw, nil
}

// twUnique is tcp_twsk_unique for o, the socket holding a new
// connection's four-tuple (p.mu held): a TIME-WAIT socket whose
// connection had timestamps gives way — at once for a socket bound
// before connect (ephemeral false), else with tcp_tw_reuse (2: only for
// loopback addresses) once tcp_tw_reuse_delay has passed since
// TIME-WAIT began. PAWS keeps the old connection's segments out of the
// new one. It takes o out of the tables, counts TWRecycled and returns
// what the new connection starts from; nil when o stays.
func (p *Proto) twUnique(o *Sock, ephemeral bool) *twState {
	tw := o.tw
	if tw.at == 0 || !tw.ts {
		return nil
	}
	if ephemeral {
		cfg := p.conf()
		reuse := cfg.TwReuse
		if reuse == 2 && !isLoopback(o.raddr) && !isLoopback(o.laddr) {
			reuse = 0
		}
		now := p.in.Host().Clock().Now()
		if reuse == 0 || now.Milliseconds() <= (tw.at+time.Duration(cfg.TwReuseDelay)*time.Millisecond).Milliseconds() {
			return nil
		}
	}
	// inet_twsk_deschedule_put: the TIME-WAIT socket leaves the tables
	// now; its own timer closes it later, finding them without it.
	if p.ehash[o.tuple()] == o {
		delete(p.ehash, o.tuple())
	}
	p.unbindLocked(o)
	o.tw = twState{}
	p.Stats.ExtTWRecycled.Add(1)
	return &tw
}

func isLoopback(a [4]byte) bool { return a[0] == 127 }

// reuseISN is tcp_twsk_unique's start for a connection taking a
// TIME-WAIT socket's place: its sequence space beyond the old one's
// (tw_snd_nxt + 65535 + 2, never 0).
func reuseISN(tw *twState) uint32 {
	seq := tw.sndNxt + 65535 + 2
	if seq == 0 {
		seq = 1
	}
	return seq
}
