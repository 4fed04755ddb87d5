package topo

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"time"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// TCPResult is one configuration's bulk transfer over vnic's TCP.
type TCPResult struct {
	Config   string  `json:"config"`
	Gbps     float64 `json:"gbps"` // payload
	CPUPerGB float64 `json:"cpu_s_per_gb"`
	Bytes    uint64  `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	// WirePackets are the frames the cable carried (both ways), Retrans
	// the sender's retransmitted segments.
	WirePackets uint64  `json:"wire_packets"`
	Retrans     uint64  `json:"retrans"`
	Ratio       float64 `json:"ratio_to_all_on,omitempty"`
}

// tcpBenchWorld is two hosts of one CPU and one queue joined by a cable
// (100 Gb/s in virtual time; in real time the cable hands frames over at
// once), 198.18.0.1 and 198.18.0.2, with the features off turned off on
// both devices.
func tcpBenchWorld(virtual bool, off ethtool.Features, costs hw.CostModel) (*World, error) {
	w, err := Build(tcpBenchConfig(virtual, costs))
	if err != nil {
		return nil, err
	}
	if virtual {
		w.Run(10 * time.Millisecond)
	} else {
		w.waitCarrier(5 * time.Second)
	}
	for _, h := range w.Hosts {
		if _, err := h.Devices[0].Netdev.SetWantedFeatures(off, 0); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// tcpBenchConfig is tcpBenchWorld's topology.
func tcpBenchConfig(virtual bool, costs hw.CostModel) Config {
	cfg := Config{Seed: 1, Costs: Costs(costs),
		Hosts: []HostConfig{
			{Name: "h1", CPUs: 1, Devices: []DeviceConfig{{Queues: 1, RxRing: 1024, TxRing: 1024, Addresses: []string{"198.18.0.1/24"}}}},
			{Name: "h2", CPUs: 1, Devices: []DeviceConfig{{Queues: 1, RxRing: 1024, TxRing: 1024, Addresses: []string{"198.18.0.2/24"}}}},
		},
		Cables: []CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 100000}},
	}
	if virtual {
		cfg.Time = VirtualTime
	}
	return cfg
}

var benchServer = netip.MustParseAddrPort("198.18.0.2:5201")

// BenchTCP moves total bytes from h1 to h2 over one TCP connection with
// the features off turned off on both devices. In real time (virtual
// false) it measures the wall clock and the process's CPU time, as
// iperf3 over a veth would; in virtual time the modelled clock and CPU
// busy time, the same for a seed on any machine.
func BenchTCP(config string, off ethtool.Features, virtual bool, costs hw.CostModel, total uint64) (TCPResult, error) {
	w, err := tcpBenchWorld(virtual, off, costs)
	if err != nil {
		return TCPResult{}, err
	}
	defer w.Close()
	var el, cpu time.Duration
	if virtual {
		el, cpu, err = benchTCPVirtual(w, total)
	} else {
		el, cpu, err = benchTCPReal(w, total)
	}
	if err != nil {
		return TCPResult{}, fmt.Errorf("topo: bench tcp %s: %w", config, err)
	}
	h1 := w.Hosts[0].Stack
	wire, _, back, _ := w.Cables[0].Wire.Stats()
	st := &tcp.Of(ipv4.Of(h1)).Stats
	return TCPResult{Config: config, Gbps: float64(total) * 8 / el.Seconds() / 1e9,
		CPUPerGB: cpu.Seconds() / (float64(total) / 1e9), Bytes: total, Seconds: el.Seconds(),
		WirePackets: wire + back, Retrans: st.RetransSegs.Load()}, nil
}

// benchTCPReal runs the transfer with a goroutine a side, as two
// processes would, over the net.Conn adapters.
func benchTCPReal(w *World, total uint64) (el, cpu time.Duration, err error) {
	h1, h2 := w.Hosts[0].Stack, w.Hosts[1].Stack
	l, err := inet.ListenTCP(h2, "tcp", benchServer.String())
	if err != nil {
		return 0, 0, err
	}
	defer l.Close()
	type res struct {
		n   uint64
		err error
	}
	got := make(chan res, 1)
	go func() {
		_ = l.SetDeadline(time.Now().Add(10 * time.Second))
		c, err := l.Accept()
		if err != nil {
			got <- res{0, err}
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(120 * time.Second))
		buf := make([]byte, 256<<10)
		var n uint64
		for n < total {
			k, err := c.Read(buf)
			n += uint64(k)
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				got <- res{n, err}
				return
			}
		}
		got <- res{n, nil}
	}()
	c, err := inet.DialTCP(h1, "tcp", benchServer.String(), time.Now().Add(10*time.Second))
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(120 * time.Second))
	buf := make([]byte, 128<<10) // iperf3's TCP block
	t0, c0 := time.Now(), cpuTime()
	for left := total; left > 0; {
		k := min(left, uint64(len(buf)))
		if _, err := c.Write(buf[:k]); err != nil {
			return 0, 0, err
		}
		left -= k
	}
	r := <-got
	el, cpu = time.Since(t0), cpuTime()-c0
	if r.err != nil || r.n != total {
		return 0, 0, fmt.Errorf("received %d of %d bytes: %v", r.n, total, r.err)
	}
	return el, cpu, nil
}

// benchTCPVirtual runs the transfer between the clock's steps.
func benchTCPVirtual(w *World, total uint64) (el, cpu time.Duration, err error) {
	h1, h2 := w.Hosts[0].Stack, w.Hosts[1].Stack
	p1, p2 := tcp.Of(ipv4.Of(h1)), tcp.Of(ipv4.Of(h2))
	l := p2.NewSocket()
	if err := l.Bind(benchServer); err != nil {
		return 0, 0, err
	}
	if err := l.Listen(1); err != nil {
		return 0, 0, err
	}
	c := p1.NewSocket()
	if err := c.Connect(benchServer); !errors.Is(err, syscall.EINPROGRESS) {
		return 0, 0, err
	}
	w.Run(10 * time.Millisecond)
	s, err := l.Accept()
	if err != nil {
		return 0, 0, fmt.Errorf("no connection: %w", err)
	}
	busy := func() time.Duration {
		var d time.Duration
		for _, h := range w.Hosts {
			for _, c := range h.CPUs {
				st := c.Stats()
				d += st.Busy[0] + st.Busy[1] + st.Busy[2]
			}
		}
		return d
	}
	buf := make([]byte, 128<<10)
	rbuf := make([]byte, 256<<10)
	var sent, rcvd uint64
	t0, b0 := w.Clock.Now(), busy()
	for rcvd < total && w.Clock.Now()-t0 < 600*time.Second {
		for sent < total {
			k := min(total-sent, uint64(len(buf)))
			n, err := c.Write(buf[:k])
			sent += uint64(n)
			if err != nil {
				if !errors.Is(err, syscall.EAGAIN) {
					return 0, 0, err
				}
				break
			}
		}
		w.Run(50 * time.Microsecond)
		for {
			n, err := s.Read(rbuf)
			rcvd += uint64(n)
			if err != nil || n == 0 {
				break
			}
		}
	}
	if rcvd != total {
		return 0, 0, fmt.Errorf("received %d of %d bytes in %v", rcvd, total, w.Clock.Now()-t0)
	}
	return w.Clock.Now() - t0, busy() - b0, nil
}
