package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"vnic/cmd/vnic/topo"
)

// upRunning, when a test sets it, is closed once `up` has taken ten steps.
var upRunning chan struct{}

func newUpCmd(a *app) *cobra.Command {
	var asJSON bool
	var opts runOpts
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a topology from --config until interrupted, then print its figures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd, "time", "seed"); err != nil {
				return err
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sig)
			rep, err := a.runTopology(opts, func(w *topo.World) { runUntil(a, w, sig) })
			if err != nil {
				return err
			}
			return rep.write(a.out, asJSON)
		},
	}
	cmd.Flags().String("time", "virtual", "virtual (deterministic) or real")
	cmd.Flags().Int64("seed", 1, "seed for RSS keys and flow addresses")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as one JSON object on exit")
	opts.flags(cmd)
	return cmd
}

// runUntil drives the world until a signal: virtual time advances 1 ms of
// simulated time per step; real time just waits. A status line is logged
// every wall-clock second.
func runUntil(a *app, w *topo.World, sig <-chan os.Signal) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for steps := 0; ; steps++ {
		if steps == 10 && upRunning != nil {
			close(upRunning)
		}
		select {
		case s := <-sig:
			a.log.Info("stopping", zap.String("signal", s.String()))
			return
		case <-tick.C:
			var rx, tx uint64
			for _, h := range w.Hosts {
				for _, d := range h.Devices {
					st := d.Netdev.Stats64()
					rx += st.RxPackets
					tx += st.TxPackets
				}
			}
			a.log.Info("running", zap.Duration("clock", w.Clock.Now()), zap.Uint64("rx_packets", rx), zap.Uint64("tx_packets", tx))
		default:
			if w.VClock != nil {
				w.Run(time.Millisecond)
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}
