package iperf3_test

import (
	"testing"

	"vnic/internal/topo"
	"vnic/stack"
)

// realPair is topo.RealPair: two real-time hosts on a cable.
func realPair(t *testing.T) (a, b *stack.Host) { return topo.RealPair(t) }
