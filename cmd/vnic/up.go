package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"vnic/internal/control"
	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack/netlink"
)

// socketPath is --socket, else $VNIC_SOCKET, else the default.
func socketPath(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("VNIC_SOCKET"); env != "" {
		return env
	}
	return nlclient.DefaultPath()
}

// serveControl opens the control socket over w's devices.
func serveControl(a *app, w *topo.World, path string, exec func(func())) (*netlink.Server, error) {
	srv, err := control.Serve(w, path, exec)
	if err != nil {
		return nil, err
	}
	a.log.Info("control socket", zap.String("path", path))
	return srv, nil
}

// upRunning, when a test sets it, is closed once `up` has taken ten steps.
var upRunning chan struct{}

// upTick, when a test sets it, replaces the status line's wall-clock
// ticker.
var upTick chan time.Time

func newUpCmd(a *app) *cobra.Command {
	var asJSON, verbose bool
	var opts runOpts
	var socket string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a topology from --config until interrupted, then print its figures",
		Long: `up runs a topology from --config until interrupted (SIGINT, SIGTERM), serving
the control socket the other commands use, then prints its figures.

Its log goes to stderr: one line as it starts (the topology, the control
socket) and as it stops. The status line of every wall-clock second (the
clock and the packet counts) is off unless asked for with -v or an
explicit --log-level info (or debug), so that 'vnic up &' and the
commands typed after it in the same terminal do not interleave.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd, "time", "seed"); err != nil {
				return err
			}
			status := verbose || cmd.Flags().Changed("log-level") && a.level.Enabled(zap.InfoLevel)
			if verbose && !a.level.Enabled(zap.InfoLevel) {
				a.level.SetLevel(zap.InfoLevel)
			}
			if err := netlink.CheckFree(socketPath(socket)); err != nil {
				return err // before the topology is built
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sig)
			var serveErr error
			rep, err := a.runTopology("up", opts, func(w *topo.World) {
				reqs := make(chan func())
				stopped := make(chan struct{})
				var exec func(func())
				if w.VClock != nil {
					// Requests run between simulation steps, on the
					// simulation's goroutine; after it stops, in place.
					exec = func(fn func()) {
						done := make(chan struct{})
						select {
						case reqs <- func() { fn(); close(done) }:
							<-done
						case <-stopped:
							fn()
						}
					}
				}
				srv, err := serveControl(a, w, socketPath(socket), exec)
				if err != nil {
					serveErr = err
					return
				}
				defer srv.Close()
				runUntil(a, w, sig, reqs, status)
				close(stopped)
			})
			if err == nil {
				err = serveErr
			}
			if err != nil {
				return err
			}
			return rep.write(a.out, asJSON)
		},
	}
	cmd.Flags().String("time", "virtual", "virtual (deterministic) or real")
	cmd.Flags().Int64("seed", 1, "seed for RSS keys and flow addresses")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as one JSON object on exit")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log a status line every wall-clock second (at info)")
	cmd.Flags().StringVar(&socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	opts.flags(cmd)
	return cmd
}

// runUntil drives the world until a signal: virtual time advances 1 ms of
// simulated time per step, never ahead of the wall clock; real time just
// waits. With status, a status line is logged every wall-clock second.
func runUntil(a *app, w *topo.World, sig <-chan os.Signal, reqs <-chan func(), status bool) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	tickC := tick.C
	if upTick != nil {
		tickC = upTick
	}
	vstart, wstart := w.Clock.Now(), time.Now()
	for steps := 0; ; steps++ {
		if steps == 10 && upRunning != nil {
			close(upRunning)
		}
		select {
		case s := <-sig:
			a.log.Info("stopping", zap.String("signal", s.String()))
			return
		case fn := <-reqs:
			fn()
		case <-tickC:
			if !status {
				continue
			}
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
				// The simulated clock may lag the wall clock (a busy
				// simulation) but not run ahead of it: an idle topology
				// would otherwise race through hours a second, and
				// `vnic ping -i 1` would send thousands of requests.
				if ahead := (w.Clock.Now() - vstart) - time.Since(wstart); ahead > 0 {
					time.Sleep(min(ahead, 10*time.Millisecond))
					continue
				}
				w.Run(time.Millisecond)
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}
