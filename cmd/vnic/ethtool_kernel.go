package main

import (
	"io"
	"os"

	"vnic/driver"
	"vnic/ethtool/cli"
	"vnic/ethtool/kernel"
)

// runKernelEthtool drives a Linux interface through the kernel backend,
// opened once the command line has parsed.
func runKernelEthtool(args []string, stdout, stderr io.Writer) int {
	return cli.Run(args, cli.Options{Open: kernel.Backend, Stdout: stdout, Stderr: stderr, Stdin: os.Stdin, Pretty: driver.FormatRegs})
}
