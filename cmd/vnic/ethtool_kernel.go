package main

import (
	"fmt"
	"io"

	"vnic/driver"
	"vnic/ethtool/cli"
	"vnic/ethtool/kernel"
)

// runKernelEthtool drives a Linux interface through the kernel backend.
func runKernelEthtool(args []string, stdout, stderr io.Writer) int {
	b, closeFn, err := kernel.Backend()
	if err != nil {
		fmt.Fprintln(stderr, "vnic ethtool --kernel:", err)
		return 1
	}
	defer closeFn()
	return cli.Run(args, cli.Options{Backend: b, Stdout: stdout, Stderr: stderr, Pretty: driver.FormatRegs})
}
