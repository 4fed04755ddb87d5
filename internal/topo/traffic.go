package topo

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"slices"

	"vnic/stack"
	"vnic/stack/ipv4"
)

// Stream is a running pktgen stream and the sink on its receiving host.
type Stream struct {
	Config   Traffic
	Pktgen   *stack.Pktgen
	Sink     *stack.Sink
	SinkHost string
}

// StartTraffic registers a counting sink on every host: the IPv4 handler
// of a host without the IPv4 stack, a PRE_ROUTING hook of one with it
// (pktgenHook); then it starts one pktgen per stream. The seed moves the
// streams' source addresses.
func StartTraffic(w *World, streams []Traffic, seed int64) ([]*Stream, error) {
	r := rand.New(rand.NewSource(seed))
	sinks := map[string]*stack.Sink{}
	for _, h := range w.Hosts {
		s := stack.NewSink(65536)
		sinks[h.Name] = s
		if ipv4.Of(h.Stack) == nil {
			h.Stack.AddProtocol(stack.EthPIPv4, s.Handle)
		}
	}
	var out []*Stream
	dsts := map[*Host][][4]byte{} // the streams' destinations on IPv4 hosts
	var ipHosts []*Host
	for i, t := range streams {
		from, err := w.Device(t.From)
		if err != nil {
			return nil, fmt.Errorf("traffic[%d].from: %w", i, err)
		}
		to, err := w.Device(t.To)
		if err != nil {
			return nil, fmt.Errorf("traffic[%d].to: %w", i, err)
		}
		src, dst := [4]byte{198, 18, byte(r.Intn(256)), 1}, [4]byte{198, 19, byte(i), 1}
		if ipv4.Of(to.Host.Stack) != nil {
			if dsts[to.Host] == nil {
				ipHosts = append(ipHosts, to.Host)
			}
			dsts[to.Host] = append(dsts[to.Host], dst)
		}
		pg, err := from.Host.Stack.NewPktgen(stack.PktgenConfig{
			Dev: from.Netdev, CPU: i % len(from.Host.CPUs), DstMAC: to.Netdev.Addr(),
			SrcIP: src, DstIP: dst,
			Size: t.Size, Flows: t.Flows, Rate: t.RatePPS, Burst: t.Burst, Queue: -1,
		})
		if err != nil {
			return nil, fmt.Errorf("traffic[%d]: %w", i, err)
		}
		out = append(out, &Stream{Config: t, Pktgen: pg, Sink: sinks[to.Host.Name], SinkHost: to.Host.Name})
	}
	for _, h := range ipHosts {
		if err := h.Stack.Netfilter().Register(pktgenHook(sinks[h.Name], dsts[h])); err != nil {
			return nil, err
		}
	}
	for _, t := range out {
		t.Pktgen.Start()
	}
	return out, nil
}

// priRawBeforeDefrag is NF_IP_PRI_RAW_BEFORE_DEFRAG: ahead of
// reassembly, conntrack and every table.
const priRawBeforeDefrag = -450

// pktgenHook is the sink of pktgen streams on a host that runs IPv4: at
// PRE_ROUTING, before anything else sees them, it takes the streams'
// frames (UDP to the discard port at one of dsts, the streams'
// destinations), as a raw-table rule that matches and drops them would
// count them, and lets every other packet through to routing.
func pktgenHook(s *stack.Sink, dsts [][4]byte) *stack.NFHookOps {
	return &stack.NFHookOps{Name: "pktgen sink", Hook: stack.NFPreRouting, Priority: priRawBeforeDefrag,
		Fn: func(skb *stack.SKB, _ *stack.NFState) stack.Verdict {
			d := skb.Data()
			if len(d) < 28 || d[0] != 0x45 || d[9] != 17 || binary.BigEndian.Uint16(d[22:24]) != stack.PktgenPort ||
				!slices.Contains(dsts, [4]byte(d[16:20])) {
				return stack.NFAccept
			}
			s.Handle(skb)
			return stack.NFStolen
		}}
}

// BulkStream is a running bulk stream: its sender and the sink that
// counts what arrived.
type BulkStream struct {
	Config Bulk
	Bulk   *stack.Bulk
	Sink   *stack.BulkSink
}

// StartBulk starts the bulk streams: each sender clocked by ACKs with a
// 4 MiB window, each receiving host answering with ACKs. Every host with a
// bulk stream gets a BulkMux as its IPv4 handler, in front of the UDP sink
// StartTraffic registered.
func StartBulk(w *World, streams []Bulk, traffic []*Stream) ([]*BulkStream, error) {
	muxes := map[string]*stack.BulkMux{}
	hosts := map[string]*Host{}
	mux := func(h *Host) *stack.BulkMux {
		m := muxes[h.Name]
		if m == nil {
			udp := stack.NewSink(0)
			for _, t := range traffic {
				if t.SinkHost == h.Name {
					udp = t.Sink
				}
			}
			m = &stack.BulkMux{Other: udp.Handle}
			muxes[h.Name], hosts[h.Name] = m, h
		}
		return m
	}
	var out []*BulkStream
	for i, s := range streams {
		from, err := w.Device(s.From)
		if err != nil {
			return nil, fmt.Errorf("bulk[%d].from: %w", i, err)
		}
		to, err := w.Device(s.To)
		if err != nil {
			return nil, fmt.Errorf("bulk[%d].to: %w", i, err)
		}
		rx := mux(to.Host)
		if rx.Sink == nil {
			rx.Sink = stack.NewBulkSink(false)
			rx.Sink.SendACKs = true
		}
		b, err := from.Host.Stack.NewBulk(stack.BulkConfig{Dev: from.Netdev, CPU: (i + 1) % len(from.Host.CPUs), DstMAC: to.Netdev.Addr(),
			Src: [4]byte{198, 18, 1, byte(i)}, Dst: [4]byte{198, 19, 1, byte(i)}, SPort: uint16(40000 + i), DPort: 5201,
			SendSize: s.SendSize, Rate: s.RateSends, Window: 4 << 20})
		if err != nil {
			return nil, fmt.Errorf("bulk[%d]: %w", i, err)
		}
		tx := mux(from.Host)
		tx.Senders = append(tx.Senders, b)
		out = append(out, &BulkStream{Config: s, Bulk: b, Sink: rx.Sink})
	}
	// Register the muxes once complete: traffic may already flow (in real
	// time the receive path reads them without a lock).
	for name, m := range muxes {
		hosts[name].Stack.AddProtocol(stack.EthPIPv4, m.Handle)
	}
	for _, b := range out {
		b.Bulk.Start()
	}
	return out, nil
}
