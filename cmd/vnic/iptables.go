package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"vnic/internal/iptables"
)

// newIptablesCmds are iptables, iptables-save, iptables-restore, ipset
// and dmesg for a host of a running `vnic up` (internal/iptables; see
// docs/iptables.md).
func newIptablesCmds(a *app) []*cobra.Command {
	var cmds []*cobra.Command
	for _, c := range []struct{ name, short string }{
		{"iptables", "iptables 1.8.9 (legacy) on a host of a running `vnic up`"},
		{"iptables-save", "iptables-save: a host's tables in iptables-restore's format"},
		{"iptables-restore", "iptables-restore: tables into a host, each swapped in at its COMMIT"},
		{"ipset", "ipset 7.17 on a host's IP sets (hash:ip, hash:net, hash:ip,port)"},
		{"dmesg", "dmesg: a host's kernel log (the LOG target's lines, refused tables), as util-linux's dmesg prints it"},
	} {
		name := c.name
		cmds = append(cmds, &cobra.Command{
			Use:                name + " [--socket PATH] --host NAME [ ARGS ]",
			Short:              c.short,
			DisableFlagParsing: true,
			RunE: func(cmd *cobra.Command, args []string) error {
				if code := runIptables(name, args, os.Stdin, a.out, os.Stderr); code != 0 {
					return exitError{code}
				}
				return nil
			},
		})
	}
	return cmds
}

// runIptables takes vnic's own options (--socket, --host, else
// $VNIC_HOST) off and runs prog (iptables, iptables-save,
// iptables-restore or ipset) with the rest.
func runIptables(prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	socket, host := "", os.Getenv("VNIC_HOST")
	opts, rest := ownOptions(args, "--socket", "--host")
	if v, ok := opts["--socket"]; ok {
		socket = v
	}
	if v, ok := opts["--host"]; ok {
		host = v
	}
	return iptables.Main(prog, rest, iptables.Options{Stdout: stdout, Stderr: stderr, Stdin: stdin,
		Socket: socketPath(socket), Host: host})
}
