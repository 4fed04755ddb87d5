package topo

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"

	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/udp"
)

// MaxUDPPayload is the largest UDP payload over IPv4: 65535 less the IPv4
// and UDP headers.
const MaxUDPPayload = 65535 - 20 - 8

// UDPResult is one UDP run from a connected socket on one host to a
// reader on another. The timed window runs from the first datagram sent
// to the last one received (after a warm-up the figures leave out).
type UDPResult struct {
	Size     int    `json:"size"`     // payload bytes a datagram
	Sent     uint64 `json:"sent"`     // datagrams the sender's socket took
	Received uint64 `json:"received"` // datagrams the reader got
	Lost     uint64 `json:"lost"`     // Sent less Received
	// LostSocket is the part of Lost the receiving stack counted dropped
	// for a full receive buffer; the rest was lost below the socket (an
	// RX ring, a qdisc, a link's queue).
	LostSocket   uint64  `json:"lost_socket"`
	Seconds      float64 `json:"seconds"`
	SentPerS     float64 `json:"sent_per_s"` // over the time the sending took
	ReceivedPerS float64 `json:"received_per_s"`
	// AllocsPerDatagram and BytesPerDatagram are the process's heap
	// allocations and allocated bytes per datagram sent, CPUSeconds its
	// user+system CPU time over the window and ReceivedPerCore the
	// datagrams received per CPU-second.
	AllocsPerDatagram float64 `json:"allocs_per_datagram"`
	BytesPerDatagram  float64 `json:"bytes_per_datagram"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	ReceivedPerCore   float64 `json:"received_per_core"`
}

// UDPReader is the reading half of a net.PacketConn.
type UDPReader interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	SetReadDeadline(t time.Time) error
}

// UDPLoad is BenchUDP's measurement over any stack's sockets: a sender
// as fast as its socket takes datagrams, a reader counting what arrives.
// test/anchors drives gVisor's netstack through it, so that both figures
// come from the same loop.
type UDPLoad struct {
	Size int // payload bytes, 0 to MaxUDPPayload
	// The run stops after Datagrams datagrams or after Duration, whichever
	// comes first (zero: no limit; one of them must be set).
	Datagrams uint64
	Duration  time.Duration
	// Send sends one datagram of msg on the connected socket, waiting
	// while its send buffer is full if the stack has one.
	Send   func(msg []byte) error
	Reader UDPReader
	// SocketDrops, if set, reads the receiving stack's count of datagrams
	// dropped for a full receive buffer.
	SocketDrops func() uint64
}

const (
	udpWarm  = 10000                 // datagrams before the window: ARP, pools, rings
	udpQuiet = 20 * time.Millisecond // nothing arrived for this long: the tail is in
	udpTail  = 10 * time.Second      // the longest wait for the tail
)

var errUDPNoLimit = errors.New("topo: bench udp: neither a datagram count nor a duration")

// Run warms the path up, waits for it to drain, then measures.
func (l UDPLoad) Run() (UDPResult, error) {
	if l.Size < 0 || l.Size > MaxUDPPayload {
		return UDPResult{}, fmt.Errorf("topo: bench udp: size %d: want 0 to %d", l.Size, MaxUDPPayload)
	}
	if l.Datagrams == 0 && l.Duration <= 0 {
		return UDPResult{}, errUDPNoLimit
	}
	drops := l.SocketDrops
	if drops == nil {
		drops = func() uint64 { return 0 }
	}
	var got atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			if _, _, err := l.Reader.ReadFrom(buf); err != nil {
				return // the deadline below, or the socket closed
			}
			got.Add(1)
		}
	}()
	defer func() {
		_ = l.Reader.SetReadDeadline(time.Now())
		<-done
	}()
	msg := make([]byte, l.Size)
	for i := 0; i < udpWarm; i++ {
		if err := l.Send(msg); err != nil {
			return UDPResult{}, fmt.Errorf("topo: bench udp: warm-up: %w", err)
		}
	}
	waitTail(&got, udpWarm)
	g0, d0 := got.Load(), drops()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0 := cpuTime()
	start := time.Now()
	var sent uint64
	var err error
	for l.Datagrams == 0 || sent < l.Datagrams {
		if err = l.Send(msg); err != nil {
			break
		}
		sent++
		if l.Duration > 0 && sent%256 == 0 && time.Since(start) >= l.Duration {
			break
		}
	}
	sending := time.Since(start)
	n, end, c1 := waitTail(&got, g0+sent)
	runtime.ReadMemStats(&m1)
	if err != nil {
		return UDPResult{}, fmt.Errorf("topo: bench udp: datagram %d: %w", sent+1, err)
	}
	r := UDPResult{Size: l.Size, Sent: sent, Received: min(n-g0, sent)}
	r.Lost = sent - r.Received
	r.LostSocket = min(drops()-d0, r.Lost)
	el := end.Sub(start)
	r.Seconds = el.Seconds()
	r.SentPerS = float64(sent) / sending.Seconds()
	r.ReceivedPerS = float64(r.Received) / el.Seconds()
	r.AllocsPerDatagram = float64(m1.Mallocs-m0.Mallocs) / float64(max(sent, 1))
	r.BytesPerDatagram = float64(m1.TotalAlloc-m0.TotalAlloc) / float64(max(sent, 1))
	cpu := c1 - c0
	r.CPUSeconds = cpu.Seconds()
	if cpu > 0 {
		r.ReceivedPerCore = float64(r.Received) / cpu.Seconds()
	}
	return r, nil
}

// waitTail waits until got reaches want or nothing has arrived for
// udpQuiet (the rest was lost), at most udpTail, polling each
// millisecond. It returns the count, and the time and the process's CPU
// time when it last saw the count grow (or when it began).
func waitTail(got *atomic.Uint64, want uint64) (n uint64, at time.Time, cpu time.Duration) {
	n, at, cpu = got.Load(), time.Now(), cpuTime()
	deadline := at.Add(udpTail)
	for n < want {
		time.Sleep(time.Millisecond)
		now := time.Now()
		if k := got.Load(); k != n {
			n, at, cpu = k, now, cpuTime()
		} else if now.Sub(at) >= udpQuiet || now.After(deadline) {
			break
		}
	}
	return n, at, cpu
}

// BenchUDP is BenchmarkUDPSocketToSocket's scenario: RealPair's two hosts
// (real time, one CPU each, a 10 Gb/s cable), a connected socket on a
// (198.18.0.1) sending size-byte datagrams to b's 198.18.0.2:9 through
// both stacks, drivers and devices, waiting on its send buffer when it is
// full, and a reader on b taking them with ReadFrom. It sends datagrams
// datagrams, or for limit, whichever comes first (zero: no limit).
func BenchUDP(size int, datagrams uint64, limit time.Duration) (UDPResult, error) {
	if datagrams == 0 && limit <= 0 {
		return UDPResult{}, errUDPNoLimit
	}
	w, err := realPair()
	if err != nil {
		return UDPResult{}, err
	}
	defer w.Close()
	ha, hb := w.Host("a").Stack, w.Host("b").Stack
	rx, err := inet.ListenPacket(hb, "udp4", "198.18.0.2:9")
	if err != nil {
		return UDPResult{}, err
	}
	defer rx.Close()
	tx, err := inet.ListenPacket(ha, "udp4", "198.18.0.1:0")
	if err != nil {
		return UDPResult{}, err
	}
	defer tx.Close()
	if err := tx.Conn().Connect(netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
		return UDPResult{}, err
	}
	// A send waits for its buffer at most until the run should long be
	// over (a rate below 100 k/s, or limit and half a minute).
	bound := 30 * time.Second
	if limit > 0 {
		bound += limit
	} else {
		bound += time.Duration(udpWarm+min(datagrams, 1<<40)) * 10 * time.Microsecond
	}
	_ = tx.SetWriteDeadline(time.Now().Add(bound))
	st := &udp.Of(ipv4.Of(hb)).Stats
	return UDPLoad{
		Size: size, Datagrams: datagrams, Duration: limit,
		Send:        func(msg []byte) error { _, err := tx.Conn().Send(msg); return err },
		Reader:      rx,
		SocketDrops: st.RcvbufErrors.Load,
	}.Run()
}
