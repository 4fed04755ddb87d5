package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"vnic/internal/iproute"
	"vnic/internal/nlclient"
)

func newTCCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "tc [--socket PATH] --host NAME [ OPTIONS ] qdisc { add | change | replace | link | del | show } ...",
		Short: "tc for the hosts of a running `vnic up` (iproute2's grammar and output over rtnetlink; netem)",
		Long: `tc for a host of a running 'vnic up', speaking rtnetlink to its control socket
(--socket PATH, else $VNIC_SOCKET, else the default). --host (or $VNIC_HOST)
names the host; tc's own -n NAME (-netns NAME) does the same.

  vnic tc --host h1 qdisc add dev vnic0 root netem delay 10ms 1ms loss 1%
  vnic tc --host h1 qdisc change dev vnic0 root netem delay 20ms rate 1mbit
  vnic tc --host h1 -s qdisc show dev vnic0
  vnic tc --host h1 qdisc del dev vnic0 root

netem's draws come from the host's seed: in virtual time a run repeats.
Exit codes are tc's: 1 for most errors, 2 when the host refuses, 255 for
usage errors.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runTC(args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}

// runTC takes vnic's own options (--socket, --host) off and hands the
// rest to iproute's tc.
func runTC(args []string, stdout, stderr io.Writer) int {
	socket, host := "", os.Getenv("VNIC_HOST")
	opts, rest := ownOptions(args, "--socket", "--host")
	if v, ok := opts["--socket"]; ok {
		socket = v
	}
	if v, ok := opts["--host"]; ok {
		host = v
	}
	if len(rest) == 1 && rest[0] == "--help" && len(args) == 1 {
		fmt.Fprint(stdout, "usage: vnic tc [--socket PATH] [--host NAME] [ OPTIONS ] OBJECT { COMMAND | help }\n\n"+iproute.TCUsage)
		return 0
	}
	if !iproute.TCNeedsHost(rest) {
		// Usage texts, -V and option errors need no host.
		return iproute.RunTC(rest, iproute.Options{Stdout: stdout, Stderr: stderr})
	}
	viaNetns := false
	if n := iproute.TCNetns(rest); n != "" {
		host, viaNetns = n, true
	}
	if host == "" {
		fmt.Fprintln(stderr, "vnic tc: which host? --host NAME, -n NAME (or VNIC_HOST)")
		return 1
	}
	conn, err := nlclient.Dial(socketPath(socket))
	if err != nil {
		fmt.Fprintln(stderr, "vnic tc:", err)
		return 1
	}
	defer conn.Close()
	if err := conn.RouteBind(host, 0); err != nil {
		if viaNetns && errors.Is(err, syscall.ENOENT) {
			fmt.Fprintf(stderr, "Cannot open network namespace \"%s\": No such file or directory\n", host)
			return 255
		}
		reportErr(stderr, "vnic tc", err, " in the running topology")
		return 1
	}
	return iproute.RunTC(rest, iproute.Options{T: conn, Stdout: stdout, Stderr: stderr})
}
