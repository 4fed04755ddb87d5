package ring

// DescSize is the size of every advanced descriptor in bytes.
const DescSize = 16

// Next returns the index after i on a ring of n descriptors.
func Next(i, n uint32) uint32 {
	i++
	if i == n {
		return 0
	}
	return i
}

// Add returns i advanced by k slots on a ring of n descriptors. k may exceed n.
func Add(i, k, n uint32) uint32 {
	return uint32((uint64(i) + uint64(k)) % uint64(n))
}

// Used is the number of descriptors in [head, tail): the ones the device owns.
// It returns 0 when head == tail (empty). Inputs must be < n.
func Used(head, tail, n uint32) uint32 {
	if tail >= head {
		return tail - head
	}
	return n - head + tail
}

// Unused is the number of descriptors the driver may still hand to the device
// before the ring is full, keeping one slot free: n - 1 - Used(head, tail, n).
func Unused(head, tail, n uint32) uint32 {
	return n - 1 - Used(head, tail, n)
}

// Owned reports whether slot i lies in [head, tail), that is, whether the
// device owns it.
func Owned(i, head, tail, n uint32) bool {
	return Used(head, i, n) < Used(head, tail, n)
}

// Count returns the number of descriptors of a ring of lenBytes bytes, and
// whether the length is valid: a non-zero multiple of 128 bytes (8 descriptors).
func Count(lenBytes uint32) (uint32, bool) {
	if lenBytes == 0 || lenBytes%128 != 0 {
		return 0, false
	}
	return lenBytes / DescSize, true
}
