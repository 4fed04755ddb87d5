package iptables

import (
	"errors"
	"fmt"

	"vnic/stack"
)

func runIPSet(args []string, o Options) int {
	fmt.Fprintln(o.Stderr, "ipset: not yet")
	return 1
}

func ipsetServe(h *stack.Host, req []byte) ([]byte, error) { return nil, errors.New("no") }
