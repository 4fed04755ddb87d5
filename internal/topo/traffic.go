package topo

import (
	"fmt"
	"math/rand"
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

// StartTraffic registers a counting IPv4 sink on every host without the
// IPv4 stack (config validation keeps streams off such hosts) and starts
// one pktgen per stream. The seed moves the streams' source addresses.
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
	for i, t := range streams {
		from, err := w.Device(t.From)
		if err != nil {
			return nil, fmt.Errorf("traffic[%d].from: %w", i, err)
		}
		to, err := w.Device(t.To)
		if err != nil {
			return nil, fmt.Errorf("traffic[%d].to: %w", i, err)
		}
		src := [4]byte{198, 18, byte(r.Intn(256)), 1}
		pg, err := from.Host.Stack.NewPktgen(stack.PktgenConfig{
			Dev: from.Netdev, CPU: i % len(from.Host.CPUs), DstMAC: to.Netdev.Addr(),
			SrcIP: src, DstIP: [4]byte{198, 19, byte(i), 1},
			Size: t.Size, Flows: t.Flows, Rate: t.RatePPS, Burst: t.Burst, Queue: -1,
		})
		if err != nil {
			return nil, fmt.Errorf("traffic[%d]: %w", i, err)
		}
		out = append(out, &Stream{Config: t, Pktgen: pg, Sink: sinks[to.Host.Name], SinkHost: to.Host.Name})
	}
	for _, t := range out {
		t.Pktgen.Start()
	}
	return out, nil
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
