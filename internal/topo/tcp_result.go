package topo

import (
	"fmt"
	"math"
	"slices"
	"time"

	"vnic/stack/tcp"
)

// TCPFlowResult is what a tcp entry's connections did, summed.
type TCPFlowResult struct {
	Type        string
	Client      string
	Server      string // the listener's host
	Addr        string // address:port the clients connected to
	Connections int
	// Complete: every connection did its work (its bytes or count, when
	// it had one) and closed cleanly. Err is the first connection's error.
	Complete bool
	Err      error
	// Bytes is what the servers read (bulk), or the requests and
	// responses of the answered transactions (rr).
	Bytes uint64
	// Duration runs from the first connection established to the last
	// byte read (bulk) or answer in (rr); Goodput is Bytes over it.
	Duration    time.Duration
	GoodputMbps float64
	// Retrans is both ends' retransmitted segments (tcpi_total_retrans).
	Retrans uint64
	// Transactions are the rr requests answered, TPS them over Duration,
	// and the latencies a request's write to its answer's last byte, by
	// nearest rank.
	Transactions uint64
	TPS          float64
	P50, P90     time.Duration
	P99, Max     time.Duration
}

// Results returns each flow's figures now (a flow still running gives
// what it has done so far, not complete).
func (t *TCPTraffic) Results() []TCPFlowResult {
	if t == nil {
		return nil
	}
	var out []TCPFlowResult
	for _, f := range t.Flows {
		out = append(out, f.result())
	}
	return out
}

func (f *TCPRun) result() TCPFlowResult {
	fc := f.Config
	r := TCPFlowResult{Type: fc.Type, Client: fc.Client, Server: fc.Server, Addr: f.Addr.String(), Connections: fc.Connections, Complete: true}
	var lat []time.Duration
	var first, last time.Duration
	started := false
	for i, c := range f.conns {
		c.mu.Lock()
		if c.err != nil && r.Err == nil {
			r.Err = fmt.Errorf("connection %d: %w", i, c.err)
		}
		reached := fc.Bytes == 0 && fc.Count == 0 || fc.Bytes > 0 && c.sent == fc.Bytes || fc.Count > 0 && c.trans == fc.Count
		r.Complete = r.Complete && c.done && c.err == nil && reached
		if fc.Type == TCPBulk {
			r.Bytes += uint64(c.rcvd)
		} else {
			r.Bytes += uint64(c.trans) * uint64(fc.RequestSize+fc.ResponseSize)
		}
		r.Transactions += uint64(c.trans)
		lat = append(lat, c.lat...)
		if c.up {
			if !started || c.start < first {
				first = c.start
			}
			started = true
			last = max(last, c.end)
		}
		r.Retrans += c.retrans()
		c.mu.Unlock()
	}
	if started && last > first {
		r.Duration = last - first
		secs := r.Duration.Seconds()
		r.GoodputMbps = float64(r.Bytes) * 8 / secs / 1e6
		if fc.Type == TCPRR {
			r.TPS = float64(r.Transactions) / secs
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		rank := func(p float64) time.Duration {
			i := int(math.Ceil(p*float64(len(lat)))) - 1
			return lat[min(max(i, 0), len(lat)-1)]
		}
		r.P50, r.P90, r.P99, r.Max = rank(0.50), rank(0.90), rank(0.99), lat[len(lat)-1]
	}
	return r
}

// retrans is both ends' retransmitted segments: from the TCP_INFO kept
// as an end closed, or from its socket now.
func (c *tcpConn) retrans() uint64 {
	var n uint64
	for _, e := range []struct {
		info *tcp.TCPInfo
		sk   *tcp.Sock
	}{{c.cinfo, c.cli}, {c.sinfo, c.srv}} {
		switch {
		case e.info != nil:
			n += uint64(e.info.TotalRetrans)
		case e.sk != nil:
			n += uint64(e.sk.Info().TotalRetrans)
		}
	}
	return n
}
