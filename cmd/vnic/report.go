package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
)

// Report is what `vnic demo` and `vnic up` print, and with --json its
// exact shape: command (demo or up), the time the traffic ran (duration),
// and per device every queue that carried traffic, also one -L took away
// since (its packets still count in the device's).
type Report struct {
	Command  string          `json:"command"`
	Time     string          `json:"time"`
	Seed     int64           `json:"seed"`
	Duration string          `json:"duration"`
	Devices  []DeviceReport  `json:"devices"`
	Traffic  []TrafficReport `json:"traffic"`
	Bulk     []BulkReport    `json:"bulk,omitempty"`
	TCP      []TCPReport     `json:"tcp,omitempty"`
	Offload  []OffloadReport `json:"offload"`
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

// BulkReport covers one synthetic TCP-shaped bulk stream (config key bulk).
type BulkReport struct {
	From          string `json:"from"`
	To            string `json:"to"`
	Sends         uint64 `json:"sends"`
	SentBytes     uint64 `json:"sent_bytes"`
	ReceivedBytes uint64 `json:"received_bytes"`
	StackPackets  uint64 `json:"stack_packets"`
	MergedPackets uint64 `json:"merged_packets"`
	BadPackets    uint64 `json:"bad_packets"`
	ACKs          uint64 `json:"acks"`
}

// TCPReport covers one tcp flow (its connections summed): goodput over
// the time from the first connection established to the last byte read
// (bulk) or answer in (rr); retransmitted segments of both ends
// (TCP_INFO); for rr the transactions and their latency, a request's
// write to its answer's last byte.
type TCPReport struct {
	Type         string  `json:"type"`
	Client       string  `json:"client"`
	Server       string  `json:"server"`
	Address      string  `json:"address"`
	Connections  int     `json:"connections"`
	Complete     bool    `json:"complete"`
	Error        string  `json:"error,omitempty"`
	Bytes        uint64  `json:"bytes"`
	Duration     string  `json:"duration"`
	GoodputMbps  float64 `json:"goodput_mbps"`
	Retrans      uint64  `json:"retrans"`
	Transactions uint64  `json:"transactions,omitempty"`
	TPS          float64 `json:"transactions_per_sec,omitempty"`
	LatencyP50US float64 `json:"latency_p50_us,omitempty"`
	LatencyP90US float64 `json:"latency_p90_us,omitempty"`
	LatencyP99US float64 `json:"latency_p99_us,omitempty"`
	LatencyMaxUS float64 `json:"latency_max_us,omitempty"`
}

// OffloadReport is a host's software offload counters and its devices'
// active features.
type OffloadReport struct {
	Host         string `json:"host"`
	Features     string `json:"features"`
	GSOSegments  uint64 `json:"gso_segments"`
	CsumHelp     uint64 `json:"tx_csum_software"`
	CsumVerified uint64 `json:"rx_csum_software"`
	GROMerged    uint64 `json:"gro_merged"`
	GROFlushed   uint64 `json:"gro_flushed"`
}

// CPUReport is a virtual CPU's busy time per context.
type CPUReport struct {
	Host    string  `json:"host"`
	CPU     int     `json:"cpu"`
	Hardirq float64 `json:"hardirq_pct"`
	Softirq float64 `json:"softirq_pct"`
	Task    float64 `json:"task_pct"`
}

func (r *Report) addBulk(w *topo.World, bulks []*topo.BulkStream) {
	for _, b := range bulks {
		st := b.Sink.Stats()
		r.Bulk = append(r.Bulk, BulkReport{From: b.Config.From, To: b.Config.To, Sends: b.Bulk.Sends(), SentBytes: b.Bulk.Bytes(),
			ReceivedBytes: st.Bytes, StackPackets: st.Packets, MergedPackets: st.Super, BadPackets: st.Bad, ACKs: b.Bulk.ACKs()})
	}
	for _, h := range w.Hosts {
		o := h.Stack.OffloadStats()
		feat := ""
		if len(h.Devices) > 0 {
			feat = h.Devices[0].Netdev.Features().String()
		}
		r.Offload = append(r.Offload, OffloadReport{Host: h.Name, Features: feat, GSOSegments: o.GSOSegments,
			CsumHelp: o.CsumHelp, CsumVerified: o.CsumVerified, GROMerged: o.GROMerged, GROFlushed: o.GROFlushed})
	}
}

func (r *Report) addTCP(res []topo.TCPFlowResult) {
	us := func(d time.Duration) float64 { return round2(float64(d) / float64(time.Microsecond)) }
	for _, f := range res {
		t := TCPReport{Type: f.Type, Client: f.Client, Server: f.Server, Address: f.Addr, Connections: f.Connections,
			Complete: f.Complete, Bytes: f.Bytes, Duration: f.Duration.Round(time.Microsecond).String(), GoodputMbps: round2(f.GoodputMbps), Retrans: f.Retrans,
			Transactions: f.Transactions, TPS: round2(f.TPS), LatencyP50US: us(f.P50), LatencyP90US: us(f.P90), LatencyP99US: us(f.P99), LatencyMaxUS: us(f.Max)}
		if f.Err != nil {
			t.Error = f.Err.Error()
		}
		r.TCP = append(r.TCP, t)
	}
}

// buildReport gathers the figures.
func buildReport(w *topo.World, cfg *topo.Config, streams []*topo.Stream, elapsed time.Duration) Report {
	rep := Report{Time: string(cfg.Time), Seed: cfg.Seed, Duration: cfg.Duration.String()}
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
			// The queues in use, and those that are not any more (ethtool
			// -L) but carried traffic: the netdev keeps their counts.
			for q := 0; q < max(nd.NumRxQueues(), nd.NumTxQueues()); q++ {
				var rp, rb, rd, tp, tb, qdrops uint64
				if q < nd.NumRxQueues() {
					rp, rb, rd = nd.RxQueueStats(q).Snapshot()
				}
				if q < nd.NumTxQueues() {
					tp, tb, _ = nd.TxQueue(q).Stats.Snapshot()
					qdrops = nd.TxQueue(q).Counters().QdiscDrops
				}
				if q >= d.Adapter.Queues() && rp+tp+rd+qdrops == 0 {
					continue
				}
				qs := d.Adapter.QueueStats(q)
				qr := QueueReport{
					ID: q, RxPackets: rp, TxPackets: tp, RxBytes: rb, TxBytes: tb,
					Interrupts: qs.Interrupts, Polls: qs.Polls,
					Drops: qs.RxDrops + rd + qdrops,
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
		rep.Traffic = append(rep.Traffic, TrafficReport{From: t.Config.From, To: t.Config.To, Sent: t.Pktgen.Sent(), Refused: t.Pktgen.Failed()})
	}
	// Received is per destination host; streams to one host share it.
	seen := map[*stack.Sink]bool{}
	for i, t := range streams {
		if !seen[t.Sink] {
			rep.Traffic[i].Received = t.Sink.Packets()
			seen[t.Sink] = true
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
	cmd := r.Command
	if cmd == "" {
		cmd = "demo"
	}
	fmt.Fprintf(out, "vnic %s: %s time, seed %d, %s of traffic\n", cmd, r.Time, r.Seed, r.Duration)
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
	if len(r.Bulk) > 0 {
		fmt.Fprintln(out, "\nbulk (synthetic, TCP-shaped)")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "from\tto\tsends\tsent bytes\treceived bytes\tstack pkts\tmerged\tbad\tacks\t")
		for _, b := range r.Bulk {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", b.From, b.To, b.Sends, b.SentBytes, b.ReceivedBytes, b.StackPackets, b.MergedPackets, b.BadPackets, b.ACKs)
		}
		tw.Flush()
	}
	r.writeTCP(out)
	fmt.Fprintln(out, "\noffloads")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "host\tgso segs\ttx csum sw\trx csum sw\tgro merged\tgro packets\tfeatures")
	for _, o := range r.Offload {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", o.Host, o.GSOSegments, o.CsumHelp, o.CsumVerified, o.GROMerged, o.GROFlushed, o.Features)
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

// writeTCP prints the tcp flows: bulk, then rr, each as a table, and
// what failed.
func (r Report) writeTCP(out io.Writer) {
	if len(r.TCP) == 0 {
		return
	}
	done := func(t TCPReport) string {
		if t.Complete {
			return "yes"
		}
		return "no"
	}
	for _, kind := range []string{topo.TCPBulk, topo.TCPRR} {
		var rows []TCPReport
		for _, t := range r.TCP {
			if t.Type == kind {
				rows = append(rows, t)
			}
		}
		if len(rows) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		if kind == topo.TCPBulk {
			fmt.Fprintln(out, "\ntcp bulk")
			fmt.Fprintln(tw, "client\tserver\tconns\tbytes\ttime\tMbit/s\tretrans\tdone\t")
			for _, t := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.2f\t%d\t%s\t\n", t.Client, t.Address, t.Connections, t.Bytes, t.Duration, t.GoodputMbps, t.Retrans, done(t))
			}
		} else {
			fmt.Fprintln(out, "\ntcp rr")
			fmt.Fprintln(tw, "client\tserver\tconns\ttrans\ttime\ttrans/s\tp50 µs\tp90 µs\tp99 µs\tmax µs\tretrans\tdone\t")
			for _, t := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%s\t\n", t.Client, t.Address, t.Connections, t.Transactions, t.Duration,
					t.TPS, t.LatencyP50US, t.LatencyP90US, t.LatencyP99US, t.LatencyMaxUS, t.Retrans, done(t))
			}
		}
		tw.Flush()
	}
	for i, t := range r.TCP {
		if t.Error != "" {
			fmt.Fprintf(out, "tcp[%d]: %s\n", i, t.Error)
		}
	}
}
