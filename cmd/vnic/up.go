package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"vnic/internal/control"
	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
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
	// Each host's kernel log (the LOG target's lines) reaches the
	// daemon's log too, as printk reaches syslog.
	logHost := func(name string, h *stack.Host) {
		ipt.Log(h).SetSink(func(ln ipt.LogLine) {
			a.log.Info("kernel", zap.String("host", name), zap.Duration("clock", ln.Time), zap.Uint8("level", ln.Level), zap.String("text", ln.Text))
		})
	}
	for _, h := range w.HostList() {
		logHost(h.Name, h.Stack)
	}
	w.Watch(func(ev topo.Event) {
		if ev.Kind == topo.HostAdded {
			logHost(ev.Host.Name, ev.Host.Stack)
		}
	})
	return srv, nil
}

// upRunning, when a test sets it, is closed once `up` has taken ten steps.
var upRunning chan struct{}

// upTick, when a test sets it, replaces the status line's wall-clock
// ticker.
var upTick chan time.Time

func newUpCmd(a *app) *cobra.Command {
	var asJSON, verbose, traffic, empty bool
	var opts runOpts
	var socket string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a topology from --config until interrupted, then print its figures",
		Long: `up runs a topology from --config until interrupted (SIGINT, SIGTERM), serving
the control socket the other commands use, then prints its figures.

Without --config, the embedded default topology runs idle: its demo
streams (what 'vnic demo' sends) start only with --traffic, so a 'vnic up &'
left alone costs no CPU (the simulation sleeps until something is due). A
topology file's own traffic and bulk streams always start.

With --empty it starts with no hosts at all: they are made while it runs,
with 'vnic ip netns add NAME' (a host: one CPU, IPv4, its loopback), and
their devices with 'vnic ip -n NAME link add … type veth peer name …'
(two vnics joined by a cable) or 'type dummy' (a vnic on an idle port).

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
			if empty {
				if a.configFile != "" || traffic {
					return fmt.Errorf("--empty starts with no hosts: it takes neither --config nor --traffic")
				}
				a.cfg.Hosts, a.cfg.Cables = nil, nil
			}
			if a.configFile == "" && !traffic {
				a.cfg.Traffic, a.cfg.Bulk, a.cfg.TCP = nil, nil, nil // the embedded topology, idle
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
				// A TAP deleted under the running topology is a pulled
				// cable: the device loses its link; say which.
				for _, p := range w.Ports {
					p.SetOnLost(func(err error) { a.log.Warn("port lost", zap.Error(err)) })
				}
				srv, err := serveControl(a, w, socketPath(socket), exec)
				if err != nil {
					serveErr = err
					return
				}
				runUntil(a, w, sig, reqs, status, srv.Close)
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
	cmd.Flags().BoolVar(&traffic, "traffic", false, "without --config: start the embedded topology's demo streams too")
	cmd.Flags().BoolVar(&empty, "empty", false, "start with no hosts (make them with vnic ip netns add)")
	cmd.Flags().StringVar(&socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	opts.flags(cmd)
	return cmd
}

// runUntil drives the world until a signal. In virtual time a Pacer runs
// the events that are due by the wall clock (the simulated clock may lag
// it, never run ahead) and says how long nothing is due, and the loop
// sleeps that long or until a request or signal comes: an idle topology
// costs no CPU. On a signal the control socket is closed while the
// simulation still serves requests (a streaming client gets its end at
// once), then the loop returns. With status, a status line is logged every
// wall-clock second.
func runUntil(a *app, w *topo.World, sig <-chan os.Signal, reqs <-chan func(), status bool, closeCtl func() error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	tickC := tick.C
	if upTick != nil {
		tickC = upTick
	}
	pace := topo.NewPacer(w, nil)
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	wstart := time.Now()
	running := upRunning
	var closed chan error // made once a signal came
	for steps := 0; ; steps++ {
		if running != nil && (steps >= 10 || time.Since(wstart) >= 10*time.Millisecond) {
			close(running)
			running = nil
		}
		sleep := pace.Advance()
		if running != nil {
			sleep = min(sleep, time.Millisecond)
		}
		var timeout <-chan time.Time
		if sleep > 0 {
			wake.Reset(sleep)
			timeout = wake.C
		} else {
			ready := make(chan time.Time)
			close(ready) // behind: take what is waiting, then go on
			timeout = ready
		}
		select {
		case s := <-sig:
			if closed == nil {
				a.log.Info("stopping", zap.String("signal", s.String()))
				closed = make(chan error, 1)
				go func() { closed <- closeCtl() }()
			}
		case err := <-closed:
			if err != nil {
				a.log.Warn("control socket", zap.Error(err))
			}
			return
		case fn := <-reqs:
			fn()
		case <-tickC:
			if status {
				var rx, tx uint64
				for _, h := range w.HostList() {
					for _, d := range h.DeviceList() {
						st := d.Netdev.Stats64()
						rx += st.RxPackets
						tx += st.TxPackets
					}
				}
				a.log.Info("running", zap.Duration("clock", w.Clock.Now()), zap.Uint64("rx_packets", rx), zap.Uint64("tx_packets", tx))
			}
		case <-timeout:
		}
		if sleep > 0 && !wake.Stop() {
			select {
			case <-wake.C:
			default:
			}
		}
	}
}
