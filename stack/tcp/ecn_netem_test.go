package tcp_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"vnic/header"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// An ECN flow between two vnic hosts (the emulated NIC, its driver, a
// cable) through netem's "loss 2% ecn" on the sender's egress, in virtual
// time: netem marks CE where it would have dropped, the receiver echoes
// ECE, the sender answers with CWR — and nothing is lost or retransmitted.
func TestECNOverNetem(t *testing.T) {
	w := topo.Started(t, topo.Config{Time: topo.VirtualTime, Seed: 1,
		Hosts: []topo.HostConfig{
			{Name: "a", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.0.1/24"}}}},
			{Name: "b", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.0.2/24"}}}},
		},
		Cables: []topo.CableConfig{{A: "a/vnic0", B: "b/vnic0", SpeedMbps: 1000}},
	}, 10*time.Millisecond)
	a, b := w.Host("a"), w.Host("b")
	pa, pb := tcp.Of(ipv4.Of(a.Stack)), tcp.Of(ipv4.Of(b.Stack))
	cfg := pa.Config()
	cfg.ECN = 1
	pa.SetConfig(cfg)

	c, s := connectPair(t, pa, pb, netip.MustParseAddrPort("198.18.0.2:5001"), func() { w.Run(10 * time.Millisecond) })
	if c.Info().Options&tcp.InfoOptECN == 0 {
		t.Fatal("ECN not negotiated")
	}

	// The sender's segments, counted before its qdisc: ECT ones and
	// those with CWR.
	var ect, cwr, notECT int
	count := &stack.NFHookOps{Name: "count", Hook: stack.NFPostRouting, Fn: func(skb *stack.SKB, _ *stack.NFState) stack.Verdict {
		ip := header.IPv4(skb.Data())
		th := header.TCP(skb.Data()[ip.HeaderLen():])
		switch {
		case len(th) == th.HeaderLen():
			notECT++
		case ip.TOS()&3 == 2:
			ect++
		}
		if th.Flags()&header.TCPCwr != 0 {
			cwr++
		}
		return stack.NFAccept
	}}
	if err := a.Stack.Netfilter().Register(count); err != nil {
		t.Fatal(err)
	}
	dev := a.Devices[0].Netdev
	const pct = ^uint32(0) / 100
	q, err := stack.NewNetem(dev, 0x80010000, stack.NetemConfig{Limit: 1000, Latency: 2 * time.Millisecond,
		Loss: 2 * pct, ECN: true, Seed: 7, Restart: stack.RestartSeed | stack.RestartCorr | stack.RestartLoss})
	if err != nil {
		t.Fatal(err)
	}
	dev.GraftQdisc(q)

	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	transfer(t, func() { w.Run(100 * time.Microsecond) }, c, s, data, 20000)
	w.Run(20 * time.Millisecond) // the last ACKs
	marks := q.Stats().Drops     // netem counts a mark with its drops
	ci := c.Info()
	// netem draws once per skb, and the sender's skbs grow to the TSO
	// size the window allows (tcp_grow_skb): the seed's two loss events
	// fall in different windows, two marks, two reductions, each
	// announced by one CWR; the ECE ACKs delivered 41 segments.
	if marks != 2 || cwr != 2 || ci.DeliveredCE != 41 {
		t.Errorf("%d marks, %d CWR segments, %d delivered CE; want 2, 2, 41", marks, cwr, ci.DeliveredCE)
	}
	if ci.TotalRetrans != 0 || pa.Stats.RetransSegs.Load() != 0 || ext(pa, "TCPTimeouts") != 0 || ext(pa, "TCPLossProbes") != 0 {
		t.Errorf("a loss: %d retransmitted, RetransSegs %d, %d timeouts, %d loss probes",
			ci.TotalRetrans, pa.Stats.RetransSegs.Load(), ext(pa, "TCPTimeouts"), ext(pa, "TCPLossProbes"))
	}
	if ci.SndSsthresh >= 0x7fffffff {
		t.Errorf("ssthresh %d: the window was never reduced", ci.SndSsthresh)
	}
	if notECT != 0 {
		t.Errorf("%d segments without data from the sender went through netem (it would have dropped them)", notECT)
	}
	if uint64(ci.DeliveredCE) != ext(pa, "TCPDeliveredCE") {
		t.Errorf("TCP_INFO's delivered CE %d, TCPDeliveredCE %d", ci.DeliveredCE, ext(pa, "TCPDeliveredCE"))
	}
}
