package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"vnic/internal/conntrack"
)

func newConntrackCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "conntrack [--socket PATH] --host NAME -L|-G|-D|-U|-E|-F|-C|-S [ OPTIONS ]",
		Short: "conntrack for a host of a running `vnic up` (conntrack-tools 1.4.7's command line and output over ctnetlink)",
		Long: `conntrack lists and changes a host's connection tracking table as
conntrack-tools 1.4.7's conntrack does the kernel's: the same options,
output, messages and exit codes, over a ctnetlink-like family on the control
socket (--socket PATH, else $VNIC_SOCKET, else the default). --host (or
$VNIC_HOST) names the host.

  vnic conntrack --host r -L
  vnic conntrack --host r -L -p tcp --dport 80 --state ESTABLISHED
  vnic conntrack --host r -E -e NEW,DESTROY
  vnic conntrack --host r -D -s 198.18.1.2
  vnic conntrack --host r -U -p udp -m 0x1
  vnic conntrack --host r -C
  vnic conntrack --host r -S

-E runs until interrupted (SIGINT, SIGTERM), then prints its summary.
What vnic refuses (creating entries, the expectation table, labels, -o xml)
and why: docs/conntrack.md.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if code := runConntrack(ctx, args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}

// runConntrack takes vnic's own options (--socket, --host) off and hands
// the rest to conntrack's command line; ctx ends -E.
func runConntrack(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, rest := ownOptions(args, "--socket", "--host")
	host, ok := opts["--host"]
	if !ok {
		host = os.Getenv("VNIC_HOST")
	}
	return conntrack.Main(rest, conntrack.Options{Stdout: stdout, Stderr: stderr,
		Socket: socketPath(opts["--socket"]), Host: host, Context: ctx})
}
