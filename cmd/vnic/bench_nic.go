package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"vnic/internal/topo"
)

func newBenchNICCmd(a *app) *cobra.Command {
	var asJSON bool
	var packets uint64
	cmd := &cobra.Command{
		Use:   "nic",
		Short: "Real-time RX and TX packet rates through device, driver and NAPI (64/1514 bytes, 1/2 queues), allocations per packet, and virtual-time speed (simulated frames per wall-clock second at 10 Gb/s line rate)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd); err != nil {
				return err
			}
			if packets < 1000 {
				return fmt.Errorf("--packets %d: want at least 1000", packets)
			}
			var results []topo.BenchResult
			for _, path := range []string{"rx", "tx"} {
				for _, size := range []int{64, 1514} {
					for _, q := range []int{1, 2} {
						n := packets
						if size > 1000 {
							n = packets / 4
						}
						a.log.Info("measuring", zap.String("path", path), zap.Int("size", size), zap.Int("queues", q), zap.Uint64("packets", n))
						var r topo.BenchResult
						var err error
						// Frames are 60 bytes without FCS for a 64-byte wire frame.
						if path == "rx" {
							r, err = topo.BenchRX(size-4, q, n)
						} else {
							r, err = topo.BenchTX(size-4, q, n)
						}
						if err != nil {
							return err
						}
						r.Size = size
						results = append(results, r)
					}
				}
			}
			a.log.Info("measuring", zap.String("path", "virtual"))
			v, err := topo.BenchVirtual(packets)
			if err != nil {
				return err
			}
			results = append(results, v)
			if asJSON {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Results []topo.BenchResult `json:"results"`
				}{results})
			}
			tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "path\tsize\tqueues\tpackets\tseconds\tpps\tcpu s\tpps/core\tallocs/pkt\tdrops\t")
			for _, r := range results {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%.0f\t%.3f\t%.0f\t%.3f\t%d\t\n", r.Path, r.Size, r.Queues, r.Packets, r.Seconds, r.PPS, r.CPUSeconds, r.PPSPerCore, r.AllocsPerPacket, r.Drops)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"results\":[...]} as JSON")
	cmd.Flags().Uint64Var(&packets, "packets", 2_000_000, "64-byte packets per case (1514-byte cases send a quarter)")
	return cmd
}
