package irqbench

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// CSVHeader names the columns of WriteCSV.
var CSVHeader = []string{"experiment", "mode", "seed", "offered_pps", "delivered_pps", "ring_drop_pps", "backlog_drop_pps", "tx_drop_pps", "socket_drop_pps",
	"interrupts_per_sec", "interrupts_per_packet", "polls_per_interrupt", "packets_per_poll",
	"p50_latency_us", "p99_latency_us", "p999_latency_us", "cpu_hardirq", "cpu_softirq", "cpu_task", "cpu_idle", "cpu_ksoftirqd", "cpu_user", "cpu_per_packet_us", "mean_latency_us",
	"done_polls", "not_done_polls", "empty_polls", "time_squeeze_per_sec", "squeezed_rounds", "in_flight_growth", "timer_polls", "busy_polls", "p90_latency_us", "poll_histogram",
	"lat_irq_wait_us", "lat_irq_to_poll_us", "lat_ring_us", "lat_processing_us", "lat_socket_us",
	"queue_offered_pps", "queue_delivered_pps", "queue_ring_drop_pps"}

// WriteCSV writes one row per measurement; a point measured with several
// seeds has a row per seed and then one for their mean (seed "mean").
// Numbers are formatted with fixed precision, so the same run gives the
// same bytes.
func WriteCSV(w io.Writer, e Experiment) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	row := func(p Point, seed string) []string {
		return []string{e.ID, p.Mode, seed, f(p.OfferedPPS, 1), f(p.DeliveredPPS, 1), f(p.RingDropPPS, 1), f(p.BacklogDropPPS, 1), f(p.TxDropPPS, 1), f(p.SocketDropPPS, 1),
			f(p.InterruptsPerSec, 1), f(p.InterruptsPerPacket, 6), f(p.PollsPerInterrupt, 3), f(p.PacketsPerPoll, 3),
			f(p.P50LatencyUS, 3), f(p.P99LatencyUS, 3), f(p.P999LatencyUS, 3), f(p.CPUHardirq, 6), f(p.CPUSoftirq, 6), f(p.CPUTask, 6), f(p.CPUIdle, 6), f(p.CPUKsoftirqd, 6), f(p.CPUUser, 6), f(p.CPUPerPacketUS, 3), f(p.MeanLatencyUS, 3),
			strconv.FormatUint(p.DonePolls, 10), strconv.FormatUint(p.NotDonePolls, 10), strconv.FormatUint(p.EmptyPolls, 10), f(p.TimeSqueezePerSec, 1), f(p.SqueezedRounds, 4), strconv.FormatInt(p.InFlightGrowth, 10),
			strconv.FormatUint(p.TimerPolls, 10), strconv.FormatUint(p.BusyPolls, 10), f(p.P90LatencyUS, 3), counts(p.PollHistogram),
			f(p.LatIRQWaitUS, 3), f(p.LatIRQToPollUS, 3), f(p.LatRingUS, 3), f(p.LatProcessingUS, 3), f(p.LatSocketUS, 3),
			list(p.QueueOfferedPPS), list(p.QueueDeliveredPPS), list(p.QueueRingDropPPS)}
	}
	for _, s := range e.Series {
		for _, p := range s.Points {
			// A point over several seeds: a row per seed, then the mean.
			for _, sp := range p.Seeds {
				if err := cw.Write(row(sp, strconv.FormatInt(sp.Seed, 10))); err != nil {
					return err
				}
			}
			seed := strconv.FormatInt(p.Seed, 10)
			if len(p.Seeds) > 0 {
				seed = "mean"
			}
			if err := cw.Write(row(p, seed)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// TraceHeader names the columns of WriteTraceCSV.
var TraceHeader = []string{"experiment", "mode", "time_ms", "phase", "interval_us", "interrupts", "offered_pps", "interrupts_per_sec"}

// WriteTraceCSV writes the load-step runs' samples, one row each.
func WriteTraceCSV(w io.Writer, e Experiment) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TraceHeader); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for _, t := range e.Traces {
		for _, s := range t.Samples {
			if err := cw.Write([]string{e.ID, t.Mode, f(s.TimeMS, 3), strconv.Itoa(s.Phase), f(s.IntervalUS, 2),
				strconv.FormatUint(s.Interrupts, 10), f(s.OfferedPPS, 1), f(s.IntrPerSec, 1)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// CDFHeader names the columns of WriteCDFCSV.
var CDFHeader = []string{"experiment", "mode", "load", "offered_pps", "quantile", "latency_us"}

// WriteCDFCSV writes the latency distributions the CDF plot draws (each
// mode at light load, near its MLFRR and in overload; see CDFPoints), one
// row per sampled level. It writes nothing but the header when the
// experiment has no such points.
func WriteCDFCSV(w io.Writer, e Experiment) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CDFHeader); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for _, c := range CDFPoints(e) {
		for _, sp := range c.Points {
			for i, l := range CDFLevels {
				if err := cw.Write([]string{e.ID, sp.Mode, f(c.Load, 2), f(sp.Point.OfferedPPS, 1), f(l, 4), f(sp.Point.Quantiles[i], 3)}); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// CDFLoad is one load of the CDF plot: each mode's point there.
type CDFLoad struct {
	Load   float64 // multiple of the reference MLFRR
	Points []ModePoint
}

// ModePoint is one mode's measurement.
type ModePoint struct {
	Mode  string
	Point Point
}

// CDFLoads are the CDF plot's loads, multiples of the reference MLFRR
// (spec §2.8: a CDF at three fixed loads).
var CDFLoads = []float64{0.5, 0.9, 1.5}

// CDFPoints picks, for each of CDFLoads times the experiment's reference
// MLFRR (M1's, or the largest), each series' point nearest that offered
// rate if one lies within 10 % of it and has a latency distribution.
// Experiments whose series have fewer than three points (no sweep) have
// none.
func CDFPoints(e Experiment) []CDFLoad {
	ref := e.MLFRR["M1"]
	if ref == 0 {
		for _, v := range e.MLFRR {
			ref = max(ref, v)
		}
	}
	if ref == 0 {
		return nil
	}
	var out []CDFLoad
	for _, x := range CDFLoads {
		c := CDFLoad{Load: x}
		want := x * ref
		for _, s := range e.Series {
			if len(s.Points) < 3 {
				continue
			}
			best := -1
			for i, p := range s.Points {
				if len(p.Quantiles) == 0 || math.Abs(p.OfferedPPS-want) > 0.1*want {
					continue
				}
				if best < 0 || math.Abs(p.OfferedPPS-want) < math.Abs(s.Points[best].OfferedPPS-want) {
					best = i
				}
			}
			if best >= 0 {
				c.Points = append(c.Points, ModePoint{s.Mode, s.Points[best]})
			}
		}
		if len(c.Points) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// counts joins a histogram's counts with ';'.
func counts(v []uint64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(s, ";")
}

// list joins per-queue figures with ';' (empty with one queue).
func list(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(s, ";")
}

// WriteSummary prints each experiment's checks and each mode's headline
// numbers.
func WriteSummary(w io.Writer, exps []Experiment) {
	for _, e := range exps {
		verdict := "PASS"
		if !e.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%s %s (%s preset): %s\n", e.ID, e.Title, e.Preset, verdict)
		for _, c := range e.Checks {
			mark := "ok  "
			if !c.Pass {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "  %s %s: %s\n", mark, c.Name, c.Detail)
		}
		for _, s := range e.Series {
			peak := 0.0
			for _, p := range s.Points {
				peak = max(peak, p.DeliveredPPS)
			}
			last := s.Points[len(s.Points)-1]
			fmt.Fprintf(w, "  %-4s MLFRR %8.0f pps  peak %8.0f pps  at %8.0f offered: %8.0f delivered, %.2g interrupts/packet, %.1f packets/poll, p99 %.0f µs\n",
				s.Mode, e.MLFRR[s.Mode], peak, last.OfferedPPS, last.DeliveredPPS, last.InterruptsPerPacket, last.PacketsPerPoll, last.P99LatencyUS)
		}
	}
}
