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

	"github.com/spf13/cobra"

	"vnic/cmd/vnic/irqbench"
)

func newBenchIRQCmd(a *app) *cobra.Command {
	var experiment, preset, out string
	var seed int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "irq --experiment E1,E5,E6,E7,E10,E11|all [--preset teaching|modern] [--seed N] [--out DIR] [--json]",
		Short: "Interrupts versus polling in virtual time: livelock (E1), ksoftirqd (E5), NAPI_HOWTO (E6), coalescing (E7), adaptive moderation (E10), multiqueue (E11); CSV, plots and report.html with --out",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			if _, ok := irqbench.Presets[preset]; !ok {
				return fmt.Errorf("bench irq: --preset %q: want teaching or modern", preset)
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
				e, err := irqbench.Experiments[id](preset, seed, progress)
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
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed (RSS keys); runs are deterministic")
	cmd.Flags().StringVar(&out, "out", "", "write <experiment>.csv, PNG and SVG plots, results.json and report.html into this directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
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
