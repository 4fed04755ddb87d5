package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"text/tabwriter"
	"time"

	"vnic/cmd/vnic/topo"
	"vnic/stack"
)

// Report is what `vnic demo` prints, and with --json its exact shape.
type Report struct {
	Time     string          `json:"time"`
	Seed     int64           `json:"seed"`
	Duration string          `json:"duration"`
	Devices  []DeviceReport  `json:"devices"`
	Traffic  []TrafficReport `json:"traffic"`
	CPUs     []CPUReport     `json:"cpus,omitempty"`
}

// DeviceReport covers one vnic.
type DeviceReport struct {
	Host       string        `json:"host"`
	Name       string        `json:"name"`
	MAC        string        `json:"mac"`
	Link       bool          `json:"link"`
	RxPackets  uint64        `json:"rx_packets"`
	TxPackets  uint64        `json:"tx_packets"`
	RxBytes    uint64        `json:"rx_bytes"`
	TxBytes    uint64        `json:"tx_bytes"`
	RxMissed   uint64        `json:"rx_missed"`
	TxDropped  uint64        `json:"tx_dropped"`
	Violations int           `json:"contract_violations"`
	Queues     []QueueReport `json:"queues"`
}

// QueueReport covers one queue pair.
type QueueReport struct {
	ID             int     `json:"id"`
	RxPackets      uint64  `json:"rx_packets"`
	TxPackets      uint64  `json:"tx_packets"`
	RxBytes        uint64  `json:"rx_bytes"`
	TxBytes        uint64  `json:"tx_bytes"`
	Interrupts     uint64  `json:"interrupts"`
	Polls          uint64  `json:"polls"`
	PacketsPerPoll float64 `json:"packets_per_poll"`
	Drops          uint64  `json:"drops"`
	RSSShare       float64 `json:"rss_share"`
}

// TrafficReport covers one pktgen stream.
type TrafficReport struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Sent     uint64 `json:"sent"`
	Refused  uint64 `json:"refused"`
	Received uint64 `json:"received"`
}

// CPUReport is a virtual CPU's busy time per context.
type CPUReport struct {
	Host    string  `json:"host"`
	CPU     int     `json:"cpu"`
	Hardirq float64 `json:"hardirq_pct"`
	Softirq float64 `json:"softirq_pct"`
	Task    float64 `json:"task_pct"`
}

// traffic is a running stream.
type traffic struct {
	cfg  Traffic
	pg   *stack.Pktgen
	sink *stack.Sink
}

// startTraffic registers a counting IPv4 sink on every host and starts one
// pktgen per stream. The seed moves the streams' source addresses.
func startTraffic(w *topo.World, streams []Traffic, seed int64) ([]*traffic, error) {
	r := rand.New(rand.NewSource(seed))
	sinks := map[string]*stack.Sink{}
	for _, h := range w.Hosts {
		s := stack.NewSink(65536)
		sinks[h.Name] = s
		h.Stack.AddProtocol(stack.EthPIPv4, s.Handle)
	}
	var out []*traffic
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
		out = append(out, &traffic{cfg: t, pg: pg, sink: sinks[to.Host.Name]})
	}
	for _, t := range out {
		t.pg.Start()
	}
	return out, nil
}

// buildReport gathers the figures.
func buildReport(w *topo.World, cfg *Config, streams []*traffic, elapsed time.Duration) Report {
	rep := Report{Time: cfg.Time, Seed: cfg.Seed, Duration: cfg.Duration.String()}
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			nd := d.Netdev
			st := nd.Stats64()
			dr := DeviceReport{
				Host: h.Name, Name: nd.Name(), MAC: nd.Addr().String(), Link: nd.Carrier(),
				RxPackets: st.RxPackets, TxPackets: st.TxPackets, RxBytes: st.RxBytes, TxBytes: st.TxBytes,
				RxMissed: st.RxMissedErrors, TxDropped: st.TxDropped,
			}
			if c := d.HW.Checker(); c != nil {
				dr.Violations = c.Count()
			}
			for q := 0; q < d.Adapter.Queues(); q++ {
				qs := d.Adapter.QueueStats(q)
				rp, rb, rd := nd.RxQueueStats(q).Snapshot()
				tp, tb, _ := nd.TxQueue(q).Stats.Snapshot()
				tc := nd.TxQueue(q).Counters()
				qr := QueueReport{
					ID: q, RxPackets: rp, TxPackets: tp, RxBytes: rb, TxBytes: tb,
					Interrupts: qs.Interrupts, Polls: qs.Polls,
					Drops: qs.RxDrops + rd + tc.QdiscDrops,
				}
				if qs.Polls > 0 {
					qr.PacketsPerPoll = round2(float64(qs.PollWork) / float64(qs.Polls))
				}
				if st.RxPackets > 0 {
					qr.RSSShare = round2(100 * float64(rp) / float64(st.RxPackets))
				}
				dr.Queues = append(dr.Queues, qr)
			}
			rep.Devices = append(rep.Devices, dr)
		}
		if w.VClock != nil && elapsed > 0 {
			for _, c := range h.CPUs {
				s := c.Stats()
				pct := func(d time.Duration) float64 { return round2(100 * float64(d) / float64(elapsed)) }
				rep.CPUs = append(rep.CPUs, CPUReport{Host: h.Name, CPU: c.ID(), Hardirq: pct(s.Busy[2]), Softirq: pct(s.Busy[1]), Task: pct(s.Busy[0])})
			}
		}
	}
	for _, t := range streams {
		rep.Traffic = append(rep.Traffic, TrafficReport{From: t.cfg.From, To: t.cfg.To, Sent: t.pg.Sent(), Refused: t.pg.Failed()})
	}
	// Received is per destination host; streams to one host share it.
	seen := map[*stack.Sink]bool{}
	for i, t := range streams {
		if !seen[t.sink] {
			rep.Traffic[i].Received = t.sink.Packets()
			seen[t.sink] = true
		}
	}
	return rep
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// write prints the report as JSON or as text.
func (r Report) write(out io.Writer, asJSON bool) error {
	if asJSON {
		return r.writeJSON(out)
	}
	r.writeText(out)
	return nil
}

func (r Report) writeJSON(out io.Writer) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r Report) writeText(out io.Writer) {
	fmt.Fprintf(out, "vnic demo: %s time, seed %d, %s of traffic\n", r.Time, r.Seed, r.Duration)
	for _, d := range r.Devices {
		link := "down"
		if d.Link {
			link = "up"
		}
		fmt.Fprintf(out, "\n%s/%s  %s  link %s  rx %d pkts %d bytes  tx %d pkts %d bytes  missed %d  tx dropped %d  contract violations %d\n",
			d.Host, d.Name, d.MAC, link, d.RxPackets, d.RxBytes, d.TxPackets, d.TxBytes, d.RxMissed, d.TxDropped, d.Violations)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "queue\trx pkts\trx bytes\ttx pkts\ttx bytes\tirqs\tpolls\tpkts/poll\tdrops\trss %\t")
		for _, q := range d.Queues {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%d\t%.2f\t\n", q.ID, q.RxPackets, q.RxBytes, q.TxPackets, q.TxBytes, q.Interrupts, q.Polls, q.PacketsPerPoll, q.Drops, q.RSSShare)
		}
		tw.Flush()
	}
	fmt.Fprintln(out, "\ntraffic")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "from\tto\tsent\trefused\t")
	for _, t := range r.Traffic {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t\n", t.From, t.To, t.Sent, t.Refused)
	}
	tw.Flush()
	if len(r.CPUs) > 0 {
		fmt.Fprintln(out, "\ncpu busy (virtual time)")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "host\tcpu\thardirq %\tsoftirq %\ttask %\t")
		for _, c := range r.CPUs {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t\n", c.Host, c.CPU, c.Hardirq, c.Softirq, c.Task)
		}
		tw.Flush()
	}
}
