package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"vnic/internal/topo"
)

func newBenchOffloadCmd(a *app) *cobra.Command {
	var asJSON bool
	var sends uint64
	cmd := &cobra.Command{
		Use:   "offload",
		Short: "Bulk TCP (64 KiB sends, MSS 1460) between two hosts in virtual time with the config's cost model: all offloads on, TSO off, GSO off, GRO off, all off",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd); err != nil {
				return err
			}
			if sends < 10 {
				return fmt.Errorf("--sends %d: want at least 10", sends)
			}
			var results []topo.OffloadResult
			for i, c := range topo.OffloadConfigs {
				fmt.Fprintf(os.Stderr, "\rbench offload: %d/%d %-8s", i+1, len(topo.OffloadConfigs), c.Name)
				r, err := topo.BenchOffload(c.Name, c.Off, a.cfg.Costs.Model(), sends)
				if err != nil {
					fmt.Fprintln(os.Stderr)
					return err
				}
				results = append(results, r)
			}
			fmt.Fprintf(os.Stderr, "\rbench offload: done%20s\n", "")
			for i := range results {
				results[i].Ratio = round2(results[i].Gbps / results[0].Gbps)
			}
			if asJSON {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Results []topo.OffloadResult `json:"results"`
				}{results})
			}
			tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "config\tGbit/s\twire pkts\tstack pkts\tinterrupts\tcpu s/GB (modelled)\tvs all-on\t")
			for _, r := range results {
				fmt.Fprintf(tw, "%s\t%.2f\t%d\t%d\t%d\t%.3f\t%.2f\t\n", r.Config, r.Gbps, r.WirePackets, r.StackPkts, r.Interrupts, r.CPUPerGB, r.Ratio)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"results\":[...]} as JSON")
	cmd.Flags().Uint64Var(&sends, "sends", 3000, "64 KiB sends per configuration")
	return cmd
}
