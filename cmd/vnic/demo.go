package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"vnic/driver"
	"vnic/internal/topo"
)

func newDemoCmd(a *app) *cobra.Command {
	var asJSON bool
	var opts runOpts
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the default topology (two hosts, one 4-queue vnic each, cabled) with a mix of flows and print per-queue figures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd, "time", "seed", "duration"); err != nil {
				return err
			}
			rep, err := a.runTopology("demo", opts, func(w *topo.World) { w.Run(a.cfg.Duration) })
			if err != nil {
				return err
			}
			return rep.write(a.out, asJSON)
		},
	}
	cmd.Flags().String("time", "virtual", "virtual (deterministic) or real")
	cmd.Flags().Int64("seed", 1, "seed for RSS keys and flow addresses")
	cmd.Flags().Duration("duration", 20*time.Millisecond, "how long traffic runs (virtual or wall time)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
	opts.flags(cmd)
	return cmd
}

// runOpts are the flags demo and up share.
type runOpts struct {
	features string
	pcapDir  string
	rxMode   string
	// NAPI deferral and threaded NAPI for every device, when given.
	deferHardIRQs int
	groFlush      time.Duration
	threaded      string
	set           func(name string) bool // the flag was given
}

func (o *runOpts) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.rxMode, "rx-mode", "", "receive mode of every device, over the config's: napi, legacy (interrupt per packet batch, netif_rx backlog) quota (Mogul's polling thread) or tick (polling on a 1 ms tick)")
	cmd.Flags().IntVar(&o.deferHardIRQs, "napi-defer-hard-irqs", 0, "napi_defer_hard_irqs of every device, over the config's (NAPI deferral; with --gro-flush-timeout)")
	cmd.Flags().DurationVar(&o.groFlush, "gro-flush-timeout", 0, "gro_flush_timeout of every device, over the config's (e.g. 20us)")
	o.set = cmd.Flags().Changed
	cmd.Flags().StringVar(&o.threaded, "threaded", "", "threaded NAPI on every device, over the config's: on or off")
	cmd.Flags().StringVar(&o.features, "features", "", "feature changes applied to every device at start, as ethtool -K: 'tso=off,gro=off,lro=on'")
	cmd.Flags().StringVar(&o.pcapDir, "pcap", "", "write <host>-<dev>-stack.pcap (before the driver) and <host>-<dev>-wire.pcap (on the cable) into this directory")
}

// runTopology builds the configured topology, starts its traffic, lets run
// drive it, stops the traffic, drains for 1 ms and reports as command
// (demo or up) with the time the traffic ran.
func (a *app) runTopology(command string, opts runOpts, run func(w *topo.World)) (Report, error) {
	features, featureItems, err := featureArgs(opts.features)
	if err != nil {
		return Report{}, err
	}
	tc := a.cfg // the flags override its receive paths
	if opts.rxMode != "" {
		if _, ok := driver.ParseRxMode(opts.rxMode); !ok {
			return Report{}, fmt.Errorf("--rx-mode %q: want %s", opts.rxMode, driver.RxModeNames)
		}
		for i := range tc.Hosts {
			for j := range tc.Hosts[i].Devices {
				tc.Hosts[i].Devices[j].RxMode = opts.rxMode
			}
		}
	}
	if opts.threaded != "" && opts.threaded != "on" && opts.threaded != "off" {
		return Report{}, fmt.Errorf("--threaded %q: want on or off", opts.threaded)
	}
	given := func(name string) bool { return opts.set != nil && opts.set(name) }
	if opts.deferHardIRQs < 0 {
		return Report{}, fmt.Errorf("--napi-defer-hard-irqs %d: want 0 or more", opts.deferHardIRQs)
	}
	if opts.groFlush < 0 {
		return Report{}, fmt.Errorf("--gro-flush-timeout %v: want 0 or more", opts.groFlush)
	}
	if opts.threaded != "" {
		for i := range tc.Hosts {
			for j := range tc.Hosts[i].Devices {
				tc.Hosts[i].Devices[j].Threaded = opts.threaded == "on"
			}
		}
	}
	w, err := topo.Build(*tc)
	if err != nil {
		return Report{}, err
	}
	defer w.Close()
	// NAPI deferral is set on the built devices, before anything runs:
	// --gro-flush-timeout is finer than the config's µs.
	if given("napi-defer-hard-irqs") || given("gro-flush-timeout") {
		for _, h := range w.Hosts {
			for _, d := range h.Devices {
				n, timeout := d.Netdev.NAPIDefer()
				if given("napi-defer-hard-irqs") {
					n = opts.deferHardIRQs
				}
				if given("gro-flush-timeout") {
					timeout = opts.groFlush
				}
				if err := d.Netdev.SetNAPIDefer(n, timeout); err != nil {
					return Report{}, fmt.Errorf("topo: host %s device %s: %w", h.Name, d.Netdev.Name(), err)
				}
			}
		}
	}
	if err := a.applyFeatures(w, features, featureItems); err != nil {
		return Report{}, err
	}
	if opts.pcapDir != "" {
		closeCaptures, err := a.openCaptures(w, opts.pcapDir)
		if err != nil {
			return Report{}, err
		}
		defer func() {
			if err := closeCaptures(); err != nil {
				a.log.Error("captures", zap.Error(err))
			}
		}()
	}
	a.log.Info("topology up", zap.String("time", string(a.cfg.Time)), zap.Int64("seed", a.cfg.Seed),
		zap.Int("hosts", len(w.Hosts)), zap.Int("cables", len(w.Cables)))
	// Let the links come up before traffic starts.
	w.Run(time.Millisecond)
	streams, err := topo.StartTraffic(w, a.cfg.Traffic, a.cfg.Seed)
	if err != nil {
		return Report{}, err
	}
	bulks, err := topo.StartBulk(w, a.cfg.Bulk, streams)
	if err != nil {
		return Report{}, err
	}
	// TCP flows without a target of their own run as long as the demo
	// runs its traffic; under up, until it stops.
	until := a.cfg.Duration
	if command == "up" {
		until = 0
	}
	flows, err := topo.StartTCP(w, a.cfg.TCP, until)
	if err != nil {
		return Report{}, err
	}
	defer flows.Close()
	start := w.Clock.Now()
	run(w)
	for _, t := range streams {
		t.Pktgen.Stop()
	}
	for _, b := range bulks {
		b.Bulk.Stop()
	}
	// The demo lets TCP flows finish their bytes or transactions (for as
	// long again as the traffic ran, at least 100 ms); up stops them.
	if command == "up" || !flows.Wait(max(a.cfg.Duration, 100*time.Millisecond)) {
		flows.Stop()
		if !flows.Wait(time.Second) {
			a.log.Warn("tcp flows still open after stopping: closed")
		}
	}
	w.Run(time.Millisecond)
	elapsed := w.Clock.Now()
	rep := buildReport(w, a.cfg, streams, elapsed)
	rep.Command, rep.Duration = command, (w.Clock.Now() - start - time.Millisecond).String()
	rep.addBulk(w, bulks)
	rep.addTCP(flows.Results())
	a.log.Info("traffic done", zap.Duration("ran", w.Clock.Now()-start))
	for _, c := range w.Cables {
		if c.Pcap != nil {
			if err := c.Pcap.Err(); err != nil {
				return rep, err
			}
			a.log.Info("capture written", zap.String("file", c.Cfg.Pcap), zap.Uint64("frames", c.Pcap.Frames))
		}
	}
	return rep, nil
}
