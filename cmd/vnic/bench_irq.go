package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"vnic/hw"
	"vnic/test/irqbench"
)

func newBenchIRQCmd(a *app) *cobra.Command {
	var experiment, preset, out, timeMode, replayFile string
	var seed int64
	var asJSON bool
	var rates []float64
	var indirect, switchCost time.Duration
	cmd := &cobra.Command{
		Use:   "irq [--experiment E1,E3,...|all] [--preset teaching|modern] [--indirect D] [--switch D] [--seed N] [--out DIR] [--json] [--time virtual|real [--rates R,...]] [--replay FILE]",
		Short: "Interrupts versus polling: livelock and tick polling (E1), ISR batching (E2), Mogul's quota polling (E3, E4), ksoftirqd and the cycle limit (E5), NAPI_HOWTO (E6), coalescing in three timer semantics (E7), deferral (E8), busy polling and IRQ suspension (E9), adaptive moderation (E10), multiqueue (E11); CSV, plots and report.html with --out (docs/irq.md); --time real runs M0 and M1 on goroutines beside the model's prediction",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if replayFile != "" {
				if timeMode != "virtual" {
					return fmt.Errorf("bench irq: --replay runs in virtual time")
				}
				return benchIRQReplay(a, replayFile, preset, rates, asJSON)
			}
			switch timeMode {
			case "virtual":
			case "real":
				return benchIRQReal(a, rates, asJSON)
			default:
				return fmt.Errorf("bench irq: --time %q: want virtual or real", timeMode)
			}
			var ids []string
			if experiment == "all" {
				ids = implemented()
			} else {
				for _, id := range strings.Split(experiment, ",") {
					id = strings.ToUpper(strings.TrimSpace(id))
					if _, ok := irqbench.Experiments[id]; !ok {
						return fmt.Errorf("bench irq: no experiment %q (implemented: %s)", id, strings.Join(implemented(), ", "))
					}
					ids = append(ids, id)
				}
			}
			model, err := irqbench.LookupPreset(preset)
			if err != nil {
				return fmt.Errorf("bench irq: --preset %q: want teaching or modern", preset)
			}
			if indirect != 0 || switchCost != 0 {
				if model, err = irqbench.WithKnobs(preset, indirect, switchCost); err != nil {
					return fmt.Errorf("bench irq: %w", err)
				}
			}
			if out != "" {
				if err := os.MkdirAll(out, 0o755); err != nil {
					return err
				}
			}
			var exps []irqbench.Experiment
			figs := map[string][]irqbench.Figure{}
			for _, id := range ids {
				var progress irqbench.Progress
				if isTerminal(os.Stderr) {
					progress = func(done, total int) {
						fmt.Fprintf(os.Stderr, "\rbench irq %-4s %s %d/%d runs", id, bar(done, total, 30), done, total)
						if done == total {
							fmt.Fprintln(os.Stderr)
						}
					}
				}
				e, err := irqbench.Experiments[id](model, seed, progress)
				if err != nil {
					return err
				}
				exps = append(exps, e)
				if out != "" {
					if err := writeFile(filepath.Join(out, id+".csv"), func(w io.Writer) error { return irqbench.WriteCSV(w, e) }); err != nil {
						return err
					}
					if len(e.Traces) > 0 {
						if err := writeFile(filepath.Join(out, id+"-trace.csv"), func(w io.Writer) error { return irqbench.WriteTraceCSV(w, e) }); err != nil {
							return err
						}
					}
					if len(irqbench.CDFPoints(e)) > 0 {
						if err := writeFile(filepath.Join(out, id+"-cdf.csv"), func(w io.Writer) error { return irqbench.WriteCDFCSV(w, e) }); err != nil {
							return err
						}
					}
					fg, err := irqbench.Plot(e, out)
					if err != nil {
						return fmt.Errorf("bench irq: plotting %s: %w", id, err)
					}
					figs[id] = fg
				}
			}
			result := struct {
				Experiments []irqbench.Experiment `json:"experiments"`
			}{exps}
			if out != "" {
				b, err := json.MarshalIndent(result, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(out, "results.json"), append(b, '\n'), 0o644); err != nil {
					return err
				}
				if err := irqbench.WriteReport(out, exps, figs); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(result); err != nil {
					return err
				}
			} else {
				irqbench.WriteSummary(a.out, exps)
			}
			for _, e := range exps {
				if !e.Pass {
					return exitError{1}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&experiment, "experiment", "all", "experiments to run: E1 (comma-separated), or all")
	cmd.Flags().StringVar(&preset, "preset", "teaching", "cost model: teaching (round numbers) or modern")
	cmd.Flags().DurationVar(&indirect, "indirect", 0, "c_ind: what an interrupt costs the work it preempts (e.g. 2us), added to the preset (E6 and E10 keep their own cost models)")
	cmd.Flags().DurationVar(&switchCost, "switch", 0, "context-switch cost charged when a thread is switched in from another thread or from idle (e.g. 1us), added to the preset like --indirect")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the RSS keys and of random arrivals (points of random input also use seed+1 and seed+2); runs are deterministic")
	cmd.Flags().StringVar(&out, "out", "", "write <experiment>.csv, PNG and SVG plots, results.json and report.html into this directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	cmd.Flags().StringVar(&timeMode, "time", "virtual", "virtual (the experiments, deterministic) or real (M0 and M1 on goroutines at --rates, beside the model's prediction)")
	cmd.Flags().Float64SliceVar(&rates, "rates", []float64{5000, 20000, 80000, 200000}, "offered packets per second for --time real and --replay")
	cmd.Flags().StringVar(&replayFile, "replay", "", "a pcap file whose timing and frame sizes M0 and M1 receive, scaled to each of --rates (virtual time)")
	return cmd
}

// implemented lists the experiments in number order (E1, E5, …, E11).
func implemented() []string {
	var ids []string
	for id := range irqbench.Experiments {
		ids = append(ids, id)
	}
	num := func(id string) int { n, _ := strconv.Atoi(strings.TrimPrefix(id, "E")); return n }
	sort.Slice(ids, func(i, j int) bool { return num(ids[i]) < num(ids[j]) })
	return ids
}

// isTerminal reports whether f is a character device (a progress bar's
// place).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// writeFile creates path and writes it with fn.
func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// bar draws a progress bar of width cells for done of total.
func bar(done, total, width int) string {
	n := 0
	if total > 0 {
		n = min(width, done*width/total)
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// benchIRQReal is `bench irq --time real`: M0 and M1 on the real clock at
// each rate, with what happened (interrupts, softirq runs, the CPU
// goroutine's wake-ups) beside the virtual-time model's prediction.
func benchIRQReal(a *app, rates []float64, asJSON bool) error {
	for _, r := range rates {
		if !(r > 0) || r > 2e6 {
			return fmt.Errorf("bench irq: --rates %v: want rates in (0, 2000000] packets per second", r)
		}
	}
	var progress irqbench.Progress
	if isTerminal(os.Stderr) {
		progress = func(done, total int) {
			fmt.Fprintf(os.Stderr, "\rbench irq real %s %d/%d runs", bar(done, total, 30), done, total)
			if done == total {
				fmt.Fprintln(os.Stderr)
			}
		}
	}
	ps, err := irqbench.RealSweep(rates, 200*time.Millisecond, progress)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Real []irqbench.RealPoint `json:"real"`
		}{ps})
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\toffered pps\tdelivered pps\tinterrupts/s\tsoftirqs/s\twake-ups/s\tmodel: delivered\tmodel: interrupts/s\t")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", p.Mode, p.OfferedPPS, p.DeliveredPPS, p.Interrupts, p.Softirqs, p.Wakeups,
			p.PredictedDeliveredPPS, p.PredictedInterrupts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "Real time: the work costs what it costs on this machine, and the generator sends what it owes every ~50 µs (sleep granularity), so packets come in small bursts;")
	fmt.Fprintln(a.out, "the model (modern preset, constant rate) takes one interrupt per packet below capacity. Real figures vary from run to run.")
	return nil
}

// benchIRQReplay is `bench irq --replay FILE`: M0 and M1 receive the
// capture's timing and sizes at each rate (virtual time, the preset's
// costs), with the summary of each point.
func benchIRQReplay(a *app, file, preset string, rates []float64, asJSON bool) error {
	c, ok := irqbench.Presets[preset]
	if !ok {
		return fmt.Errorf("bench irq: --preset %q: want teaching or modern", preset)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("bench irq: --replay: %w", err)
	}
	trace, err := hw.ReadPcapTiming(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("bench irq: --replay %s: %w", file, err)
	}
	var pts []irqbench.Point
	for _, m := range []irqbench.Mode{irqbench.M0, irqbench.M1} {
		for _, r := range rates {
			p, err := irqbench.Measure(irqbench.Run{Mode: m, Costs: c, Offered: r, Arrivals: irqbench.ArrivalsReplay, Trace: trace,
				Warmup: irqbench.Warmup, Window: irqbench.Window, Seed: 1})
			if err != nil {
				return err
			}
			pts = append(pts, p)
		}
	}
	if asJSON {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Replay string           `json:"replay"`
			Frames int              `json:"frames"`
			Points []irqbench.Point `json:"points"`
		}{file, len(trace), pts})
	}
	fmt.Fprintf(a.out, "%s: %d frames over %v, replayed at each rate (%s preset)\n", file, len(trace), trace[len(trace)-1].At, preset)
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\toffered pps\tdelivered pps\tring drops/s\tbacklog drops/s\tinterrupts/pkt\tpkts/poll\tp50 µs\tp99 µs\t")
	for _, p := range pts {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\t%.1f\t%.1f\t%.1f\t\n", p.Mode, p.OfferedPPS, p.DeliveredPPS, p.RingDropPPS, p.BacklogDropPPS,
			p.InterruptsPerPacket, p.PacketsPerPoll, p.P50LatencyUS, p.P99LatencyUS)
	}
	return tw.Flush()
}
