package tcp

// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4; Linux's
// before/after/between).

// before reports a < b in sequence space.
func before(a, b uint32) bool { return int32(a-b) < 0 }

// after reports a > b in sequence space.
func after(a, b uint32) bool { return int32(b-a) < 0 }

// between reports lo <= x <= hi in sequence space.
func between(x, lo, hi uint32) bool { return hi-lo >= x-lo }

// seqMax is the later of a and b.
func seqMax(a, b uint32) uint32 {
	if after(a, b) {
		return a
	}
	return b
}

// seqMin is the earlier of a and b.
func seqMin(a, b uint32) uint32 {
	if before(a, b) {
		return a
	}
	return b
}
