package header

// Network byte order at a fixed offset. Unlike binary.BigEndian on
// b[off:], each checks the slice's length once, against the last byte, and
// the compiler turns the byte loads into one load and a byte swap: an
// accessor costs what a hand-written read at a constant offset costs, and
// still panics on a slice too short for its field.

func be16(b []byte, off int) uint16 {
	_ = b[off+1]
	return uint16(b[off])<<8 | uint16(b[off+1])
}

func be32(b []byte, off int) uint32 {
	_ = b[off+3]
	return uint32(b[off])<<24 | uint32(b[off+1])<<16 | uint32(b[off+2])<<8 | uint32(b[off+3])
}

func put16(b []byte, off int, v uint16) {
	_ = b[off+1]
	b[off] = byte(v >> 8)
	b[off+1] = byte(v)
}

func put32(b []byte, off int, v uint32) {
	_ = b[off+3]
	b[off] = byte(v >> 24)
	b[off+1] = byte(v >> 16)
	b[off+2] = byte(v >> 8)
	b[off+3] = byte(v)
}
