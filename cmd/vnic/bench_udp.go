package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"vnic/internal/topo"
)

func newBenchUDPCmd(a *app) *cobra.Command {
	var asJSON bool
	var size int
	var datagrams uint64
	cmd := &cobra.Command{
		Use:   "udp",
		Short: "UDP socket to socket between two vnic hosts in one process, real time: datagrams received per second, loss, allocations and CPU per datagram",
		Long: `bench udp sends --datagrams datagrams of --size bytes from a connected UDP
socket on host a (198.18.0.1) to a reader on host b (198.18.0.2:9), both
vnic hosts in this process on the wall clock, one CPU each, joined by a
10 Gb/s cable: through both stacks, drivers and NIC models. The sender
waits while its send buffer is full, as on Linux; UDP has no flow control,
so what the receiver's ring or socket buffer cannot take is lost, and the
figure is what the reader got per second.

The anchor, gVisor's netstack in the same scenario and the same run:
(cd test/anchors && go run ./udp).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd); err != nil {
				return err
			}
			if size < 0 || size > topo.MaxUDPPayload {
				return fmt.Errorf("--size %d: want 0 to %d", size, topo.MaxUDPPayload)
			}
			if datagrams < 1000 {
				return fmt.Errorf("--datagrams %d: want at least 1000", datagrams)
			}
			a.log.Info("measuring", zap.Int("size", size), zap.Uint64("datagrams", datagrams))
			r, err := topo.BenchUDP(size, datagrams, 0)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "size\tsent\treceived\tlost\tat socket\tseconds\tsent/s\treceived/s\tcpu s\treceived/core\tallocs/dgram\t")
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%.3f\t%.0f\t%.0f\t%.3f\t%.0f\t%.3f\t\n", r.Size, r.Sent, r.Received, r.Lost, r.LostSocket,
				r.Seconds, r.SentPerS, r.ReceivedPerS, r.CPUSeconds, r.ReceivedPerCore, r.AllocsPerDatagram)
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"size":…,"sent":…,"received":…,"received_per_s":…,…} as JSON`)
	cmd.Flags().IntVar(&size, "size", 64, "UDP payload bytes a datagram")
	cmd.Flags().Uint64Var(&datagrams, "datagrams", 1_000_000, "datagrams to send after the warm-up")
	return cmd
}
