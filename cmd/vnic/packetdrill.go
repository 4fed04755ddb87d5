package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"vnic/test/packetdrill"
)

// newPacketdrillCmd is `vnic packetdrill`: scripts run against vnic's
// TCP in virtual time, one line each, as test/packetdrill runs them.
func newPacketdrillCmd(a *app) *cobra.Command {
	var verbose bool
	var opts []string
	var seed int64
	cmd := &cobra.Command{
		Use:   "packetdrill [--verbose] [-o OPTION=VALUE]... SCRIPT...",
		Short: "Run packetdrill scripts against vnic's TCP in virtual time",
		Long: `packetdrill runs each script (google/packetdrill's language) against a new
vnic host on a virtual clock, so that its timing checks are exact: the
host is 198.18.0.1 on a tun-like device (checksum and TSO offloads), the
scripted peer 192.0.2.1. A script's shell lines are interpreted, not run:
its defaults.sh (beside the script; a missing one is looked for in the
directories above, and the line says so) sets the host's sysctls.

It prints a line a script: "ok PATH", or "FAIL FILE:LINE: " and the first
mismatch in packetdrill's words, with the expected and the actual packet.
--verbose logs every event at its virtual time and every packet injected
and sent. -o passes a packetdrill command-line option, which overrides the
script's own (-o tolerance_usecs=100000 as gVisor's harness runs its
scripts). The exit status is 0 when every script passed, 1 when one
failed, 2 for a usage error or a script that cannot be read or parsed.

  vnic packetdrill ../shared/oracles/packetdrill/tcp_basic_client.pkt
  vnic packetdrill --verbose -o tolerance_usecs=100000 fin_wait2_timeout.pkt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprintln(appErr, "vnic packetdrill: no scripts given\nTry `vnic packetdrill --help' for more information.")
				return exitError{2}
			}
			cfg := packetdrill.Config{Seed: seed, Args: opts}
			if verbose {
				cfg.Verbose = a.out
			}
			if code := runPacketdrill(args, cfg, a.out); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every event, packet and shell line of each run")
	cmd.Flags().StringArrayVarP(&opts, "option", "o", nil, "a packetdrill option for every script, NAME=VALUE or NAME (repeatable)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed of the host (its ISNs and timestamp offsets)")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintf(appErr, "vnic packetdrill: %v\nTry `vnic packetdrill --help' for more information.\n", err)
		return exitError{2}
	})
	return cmd
}

// runPacketdrill runs the scripts in order and prints their lines; the
// exit status is the worst: 2 for a script that could not be parsed, 1
// for one that failed.
func runPacketdrill(paths []string, cfg packetdrill.Config, out io.Writer) int {
	code := 0
	for _, p := range paths {
		res := packetdrill.RunFile(p, cfg)
		fmt.Fprintln(out, res.Line())
		switch {
		case res.Broken:
			code = 2
		case res.Err != nil && code == 0:
			code = 1
		}
	}
	return code
}
