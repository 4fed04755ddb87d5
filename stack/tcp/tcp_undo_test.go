package tcp_test

import (
	"bytes"
	"testing"
	"time"

	"vnic/stack/tcp"
)

// undoCase is a transfer on a path whose fate makes a loss episode that
// is (or is not) needless, and what Linux's undo counters say after it.
type undoCase struct {
	name       string
	timestamps bool
	dsack      bool
	noFRTO     bool // tcp_frto=0
	// fate, given the client's port and the path, decides each segment.
	fate func(pa *path, cport uint16) func(w *wireSeg) verdict
	want map[string]uint64
}

var undoCounters = []string{"TCPTimeouts", "TCPSpuriousRTOs", "TCPLossUndo", "TCPFullUndo", "TCPPartialUndo",
	"TCPDSACKUndo", "TCPSackRecovery", "TCPDSACKRecv", "TCPTSReorder"}

// nthData reports whether w is the client's n-th (from 1) data segment
// sent for the first time.
func nthData(pa *path, cport uint16, w *wireSeg, n int) bool {
	return w.sport == cport && w.len > 0 && dataSegs(pa.log, cport) == n-1 && !resent(pa, w)
}

// resent: a segment of the client's at a sequence number already sent.
func resent(pa *path, w *wireSeg) bool {
	for _, x := range pa.log {
		if x.sport == w.sport && x.len > 0 && x.seq == w.seq {
			return true
		}
	}
	return false
}

// runUndo moves 400 kB over a 5 ms path with tc's fate; atUndo is the
// sender's TCP_INFO right after the ACK that undid a reduction (the
// first), and prior its prior_cwnd then.
func runUndo(t *testing.T, tc undoCase) (pa *path, c *tcp.Sock, atUndo *tcp.TCPInfo, prior uint32) {
	pa = newPath(t, 5*time.Millisecond)
	pa.setConfig(func(cfg *tcp.Config) {
		cfg.Timestamps = 0
		if tc.timestamps {
			cfg.Timestamps = 1
		}
		cfg.DSACK = tc.dsack
		if tc.noFRTO {
			cfg.FRTO = 0
		}
	})
	c, s := pa.connect(ecnAddr)
	pa.fate = tc.fate(pa, c.LocalAddr().Port())
	undos := func() (n uint64) {
		for _, k := range []string{"TCPLossUndo", "TCPFullUndo", "TCPPartialUndo", "TCPDSACKUndo"} {
			n += ext(pa.p, k)
		}
		return n
	}
	pa.arrived = func(w *wireSeg) {
		if atUndo == nil && undos() > 0 {
			i := c.Info()
			atUndo, prior = &i, c.UndoState().PriorCwnd
		}
	}
	pa.transfer(c, s, bytes.Repeat([]byte("undo"), 100_000), 20*time.Second)
	pa.clk.RunFor(time.Second)
	return pa, c, atUndo, prior
}

// Undo as Linux's tcp_try_undo_*: an RTO or a fast retransmit that
// proves needless — by F-RTO (a segment never retransmitted is acked
// after the RTO), by timestamps echoing an original (tcp_packet_delayed)
// or by D-SACKs of every retransmission — gives back cwnd and ssthresh;
// a real loss keeps its reduction. The counters are exact for each
// episode.
func TestUndo(t *testing.T) {
	for _, tc := range undoCases() {
		t.Run(tc.name, func(t *testing.T) {
			pa, c, atUndo, prior := runUndo(t, tc)
			for _, k := range undoCounters {
				if got := ext(pa.p, k); got != tc.want[k] {
					t.Errorf("%s = %d, want %d", k, got, tc.want[k])
				}
			}
			undone := tc.want["TCPLossUndo"]+tc.want["TCPFullUndo"]+tc.want["TCPPartialUndo"]+tc.want["TCPDSACKUndo"] > 0
			if !undone {
				if i := c.Info(); i.SndSsthresh == 0x7fffffff {
					t.Errorf("the reduction of a real loss was undone: %+v", i)
				}
				return
			}
			// The first loss came in slow start: ssthresh returns to
			// infinity, cwnd to at least what it was.
			if atUndo == nil {
				t.Fatal("no undo seen")
			}
			if atUndo.SndSsthresh != 0x7fffffff || atUndo.SndCwnd < prior || atUndo.CAState != 0 || atUndo.Lost != 0 {
				t.Errorf("after the undo: ssthresh %d, cwnd %d (before the reduction %d), CA state %d, lost %d",
					atUndo.SndSsthresh, atUndo.SndCwnd, prior, atUndo.CAState, atUndo.Lost)
			}
		})
	}
}

// holdACKs holds every segment the server sends from its n-th ACK on for
// d, releasing them all at once, in order: the ACKs of a flight that
// arrived whole come late — the RTO fires for nothing.
func holdACKs(n int, d time.Duration) func(pa *path, cport uint16) func(w *wireSeg) verdict {
	return func(pa *path, cport uint16) func(w *wireSeg) verdict {
		acks, until := 0, time.Duration(0)
		return func(w *wireSeg) verdict {
			if w.sport == cport {
				return pass
			}
			if acks++; acks == n {
				until = w.at + d
			}
			if w.at < until {
				return verdict{extra: until - w.at}
			}
			return pass
		}
	}
}

// delayData delays the client's n-th data segment by d more: reordering.
func delayData(n int, d time.Duration) func(pa *path, cport uint16) func(w *wireSeg) verdict {
	return func(pa *path, cport uint16) func(w *wireSeg) verdict {
		return func(w *wireSeg) verdict {
			if nthData(pa, cport, w, n) {
				return verdict{extra: d}
			}
			return pass
		}
	}
}

// dropData drops everything the client sends for d from its n-th new
// data segment: a loss that only the RTO repairs.
func dropData(n int, d time.Duration) func(pa *path, cport uint16) func(w *wireSeg) verdict {
	return func(pa *path, cport uint16) func(w *wireSeg) verdict {
		from := time.Duration(-1)
		return func(w *wireSeg) verdict {
			if w.sport != cport {
				return pass
			}
			if from < 0 && nthData(pa, cport, w, n) {
				from = w.at
			}
			if from >= 0 && w.at < from+d {
				return verdict{drop: true}
			}
			return pass
		}
	}
}

func undoCases() []undoCase {
	return []undoCase{
		// 800 ms without ACKs: two RTOs (210, then 420 ms). The late
		// ACKs come in order: the first acks the head (retransmitted),
		// and F-RTO sends new data; the second acks a segment never
		// retransmitted: spurious.
		{name: "ACKs late, no timestamps: F-RTO", fate: holdACKs(10, 800*time.Millisecond),
			want: map[string]uint64{"TCPTimeouts": 2, "TCPSpuriousRTOs": 1, "TCPLossUndo": 1}},
		// tcp_frto=0: the same late ACKs prove nothing.
		{name: "ACKs late, tcp_frto 0", noFRTO: true, fate: holdACKs(10, 800*time.Millisecond),
			want: map[string]uint64{"TCPTimeouts": 2}},
		// With timestamps the first late ACK echoes the original head's:
		// undone at once (Eifel), no F-RTO needed.
		{name: "ACKs late, timestamps: Eifel", timestamps: true, fate: holdACKs(10, 800*time.Millisecond),
			want: map[string]uint64{"TCPTimeouts": 2, "TCPLossUndo": 1}},
		// The D-SACKs of the two retransmissions come after the late
		// ACKs: F-RTO has undone it already.
		{name: "ACKs late, D-SACK", dsack: true, fate: holdACKs(10, 800*time.Millisecond),
			want: map[string]uint64{"TCPTimeouts": 2, "TCPSpuriousRTOs": 1, "TCPLossUndo": 1, "TCPDSACKRecv": 2}},
		// 50 ms of the flight lost, its probe too: one RTO, F-RTO's new
		// data SACKed above the holes — the loss is real.
		{name: "a real loss after the RTO", timestamps: true, dsack: true, fate: dropData(30, 50*time.Millisecond),
			want: map[string]uint64{"TCPTimeouts": 1}},
		// The 30th segment 17 ms late: fast retransmit, then its ACK
		// echoes the original's timestamp before the retransmission
		// arrived: TCPFullUndo at the end of recovery.
		{name: "reordering, timestamps", timestamps: true, fate: delayData(30, 17*time.Millisecond),
			want: map[string]uint64{"TCPSackRecovery": 1, "TCPFullUndo": 1}},
		// 20 ms late, after its retransmission: the receiver D-SACKs the
		// duplicate, which accounts for the one retransmission.
		{name: "reordering, D-SACK", dsack: true, fate: delayData(30, 20*time.Millisecond),
			want: map[string]uint64{"TCPSackRecovery": 1, "TCPDSACKUndo": 1, "TCPDSACKRecv": 1}},
		// Neither timestamps nor D-SACKs: nothing tells the reduction
		// was needless; it stays.
		{name: "reordering, neither", fate: delayData(30, 20*time.Millisecond),
			want: map[string]uint64{"TCPSackRecovery": 1}},
	}
}
