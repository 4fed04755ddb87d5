package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"vnic/driver"
	"vnic/ethtool"
	"vnic/ethtool/cli"
	"vnic/ethtool/nl"
	"vnic/internal/nlclient"
)

func newEthtoolCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ethtool [--socket PATH] [--json] [-I] MODE DEV [ARGS]",
		Short: "ethtool for the devices of a running `vnic up` (ethtool 6.1's grammar, output and exit codes)",
		Long: `ethtool for vnic's devices. DEV is host/dev (h1/vnic0), or a bare name when
one host alone has it. The command talks netlink to the control socket of a
running 'vnic up' (--socket PATH, else $VNIC_SOCKET, else the default).

  vnic ethtool -k h1/vnic0
  vnic ethtool -K h1/vnic0 tso off
  vnic ethtool --monitor [DEV]     print change notifications until interrupted`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			code := runEthtool(args, a.out, os.Stderr)
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}

// runEthtool takes vnic's own options (--socket, --monitor, --kernel, -h)
// off the front and hands the rest to the ethtool CLI.
func runEthtool(args []string, stdout, stderr io.Writer) int {
	socket, monitor, kernel := "", false, false
	var rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--socket" && i+1 < len(args):
			socket = args[i+1]
			i++
		case strings.HasPrefix(a, "--socket="):
			socket = strings.TrimPrefix(a, "--socket=")
		case a == "--monitor":
			monitor = true
		case a == "--kernel":
			kernel = true
		case (a == "-h" || a == "--help") && len(rest) == 0:
			fmt.Fprintln(stdout, "usage: vnic ethtool [--socket PATH] [--kernel] [--json] [-I] MODE DEV [ARGS]\n       vnic ethtool [--socket PATH] --monitor [DEV]\nModes are ethtool 6.1's; see docs/ethtool.md for what vnic's device supports.")
			fmt.Fprintln(stdout)
			cli.Usage(stdout)
			return 0
		default:
			rest = append(rest, a)
		}
	}
	if kernel {
		return runKernelEthtool(rest, stdout, stderr)
	}
	if monitor {
		conn, err := nlclient.Dial(socketPath(socket))
		if err != nil {
			fmt.Fprintln(stderr, "vnic ethtool:", err)
			return 1
		}
		defer conn.Close()
		return runMonitor(conn, rest, stdout, stderr)
	}
	// The command line is parsed before the socket is dialled: its errors,
	// -h and --version need no running topology.
	open := func() (ethtool.Backend, func(), error) {
		conn, err := nlclient.Dial(socketPath(socket))
		if err != nil {
			return nil, nil, err
		}
		return nl.Backend(conn), func() { conn.Close() }, nil
	}
	return cli.Run(rest, cli.Options{Open: open, Stdout: stdout, Stderr: stderr, Stdin: os.Stdin, Pretty: driver.FormatRegs})
}

// runMonitor is ethtool --monitor: every notification, printed as the
// matching get prints it after a blank line, until interrupted.
func runMonitor(conn *nlclient.Conn, args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintln(stderr, "ethtool: bad command line argument(s)")
		return 1
	}
	dev := ""
	if len(args) == 1 {
		dev = args[0]
	}
	for _, f := range []string{nl.FamilyName, nl.VendorFamilyName} {
		if err := conn.Join(f, nl.MonitorGroup); err != nil {
			fmt.Fprintln(stderr, "vnic ethtool --monitor:", err)
			return 1
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	fmt.Fprintln(stdout, "listening...")
	for {
		select {
		case <-sig:
			return 0
		default:
		}
		evs, err := conn.Receive(200 * time.Millisecond)
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				continue
			}
			fmt.Fprintln(stderr, "vnic ethtool --monitor:", err)
			return 1
		}
		for _, ev := range evs {
			if ev.Overrun {
				fmt.Fprintln(stderr, "ethtool: notifications were lost (overrun)")
				continue
			}
			n, ok := nl.DecodeNtf(ev.Family, ev.Cmd, ev.Body)
			if !ok || (dev != "" && n.Dev != dev) {
				continue
			}
			fmt.Fprint(stdout, "\n"+formatNtf(n))
		}
	}
}

func formatNtf(n nl.Notification) string {
	switch n.Kind {
	case ethtool.NtfFeatures:
		return cli.FormatFeatures(n.Dev, n.Features)
	case ethtool.NtfRings:
		return cli.FormatRing(n.Dev, *n.Ring)
	case ethtool.NtfChannels:
		return cli.FormatChannels(n.Dev, *n.Channels)
	case ethtool.NtfCoalesce:
		return cli.FormatCoalesce(n.Dev, *n.Coalesce)
	case ethtool.NtfPause:
		return cli.FormatPause(n.Dev, *n.Pause, false)
	case ethtool.NtfLink:
		state := "down"
		if *n.Link {
			state = "up"
		}
		return fmt.Sprintf("Link state for %s: %s\n", n.Dev, state)
	}
	return ""
}
