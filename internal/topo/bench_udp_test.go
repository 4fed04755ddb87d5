package topo

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// fakeUDP is a stack of a queue: Send puts a datagram on it, or drops
// every dropEvery-th as a full receive buffer would; ReadFrom takes one,
// waiting until the read deadline.
type fakeUDP struct {
	q         chan struct{}
	dropEvery uint64
	sends     uint64
	drops     uint64
	failAt    uint64 // the send that fails (0: none)
	deadline  chan struct{}
}

var errFake = errors.New("fake: send failed")

func newFakeUDP(dropEvery, failAt uint64) *fakeUDP {
	return &fakeUDP{q: make(chan struct{}, 1<<16), dropEvery: dropEvery, failAt: failAt, deadline: make(chan struct{})}
}

// send runs on the load's goroutine only; drops is read there too.
func (f *fakeUDP) send([]byte) error {
	f.sends++
	if f.sends == f.failAt {
		return errFake
	}
	if f.dropEvery > 0 && f.sends%f.dropEvery == 0 {
		f.drops++
		return nil
	}
	f.q <- struct{}{}
	return nil
}

func (f *fakeUDP) ReadFrom([]byte) (int, net.Addr, error) {
	select {
	case <-f.q:
		return 0, nil, nil
	case <-f.deadline:
		return 0, nil, os.ErrDeadlineExceeded
	}
}

// SetReadDeadline supports only the one use the load makes: now.
func (f *fakeUDP) SetReadDeadline(time.Time) error {
	close(f.deadline)
	return nil
}

// TestUDPLoadCounts: the load's counts, exactly, over a fake stack: what
// was sent, what arrived, what the socket dropped.
func TestUDPLoadCounts(t *testing.T) {
	for _, tc := range []struct {
		name                             string
		dropEvery                        uint64
		datagrams                        uint64
		sent, received, lost, lostSocket uint64
	}{
		{"lossless", 0, 1000, 1000, 1000, 0, 0},
		{"socket drops a quarter", 4, 1000, 1000, 750, 250, 250},
		{"one datagram", 0, 1, 1, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeUDP(tc.dropEvery, 0)
			r, err := UDPLoad{Size: 64, Datagrams: tc.datagrams, Send: f.send, Reader: f,
				SocketDrops: func() uint64 { return f.drops }}.Run()
			if err != nil {
				t.Fatal(err)
			}
			if r.Size != 64 || r.Sent != tc.sent || r.Received != tc.received || r.Lost != tc.lost || r.LostSocket != tc.lostSocket {
				t.Fatalf("got %+v, want sent %d received %d lost %d (socket %d)", r, tc.sent, tc.received, tc.lost, tc.lostSocket)
			}
			if f.sends != udpWarm+tc.datagrams {
				t.Fatalf("%d sends, want the warm-up's %d and %d", f.sends, udpWarm, tc.datagrams)
			}
			if r.ReceivedPerS <= 0 || r.SentPerS <= 0 || r.Seconds <= 0 {
				t.Fatalf("no rate: %+v", r)
			}
		})
	}
}

// TestUDPLoadDuration: a run limited by time stops at a whole number of
// its 256-datagram checks.
func TestUDPLoadDuration(t *testing.T) {
	f := newFakeUDP(0, 0)
	r, err := UDPLoad{Size: 0, Duration: 2 * time.Millisecond, Send: f.send, Reader: f}.Run()
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent == 0 || r.Sent%256 != 0 || r.Received != r.Sent || r.LostSocket != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestUDPLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      int
		datagrams uint64
		failAt    uint64
		want      error // nil: any error
	}{
		{"negative size", -1, 10, 0, nil},
		{"size beyond IPv4", MaxUDPPayload + 1, 10, 0, nil},
		{"no limit", 64, 0, 0, errUDPNoLimit},
		{"warm-up send fails", 64, 10, 7, errFake},
		{"timed send fails", 64, 10, udpWarm + 3, errFake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeUDP(0, tc.failAt)
			_, err := UDPLoad{Size: tc.size, Datagrams: tc.datagrams, Send: f.send, Reader: f}.Run()
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestBenchUDP runs the real scenario briefly: every datagram sent is
// received or lost, and something arrives.
func TestBenchUDP(t *testing.T) {
	if _, err := BenchUDP(64, 0, 0); !errors.Is(err, errUDPNoLimit) {
		t.Fatalf("no limit: %v", err)
	}
	for _, tc := range []struct {
		size      int
		datagrams uint64
		limit     time.Duration
	}{
		{64, 2000, 0},
		{1472, 0, 10 * time.Millisecond},
	} {
		r, err := BenchUDP(tc.size, tc.datagrams, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if tc.datagrams > 0 && r.Sent != tc.datagrams || r.Sent == 0 {
			t.Errorf("size %d: sent %d, want %d", tc.size, r.Sent, tc.datagrams)
		}
		if r.Received == 0 || r.Received > r.Sent || r.Lost != r.Sent-r.Received || r.LostSocket > r.Lost || r.ReceivedPerS <= 0 {
			t.Errorf("size %d: %+v", tc.size, r)
		}
	}
}
