package main

import (
	"fmt"
	"io"
)

// runKernelEthtool drives a Linux interface through the kernel backend.
func runKernelEthtool(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "vnic ethtool --kernel: the kernel backend is not implemented yet")
	return 1
}
