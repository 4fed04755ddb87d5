package tcp

// byteRing is a socket's byte queue (the send buffer's unacked and
// unsent bytes, the receive queue's unread ones): a ring that grows by
// doubling and never shrinks, so a connection in steady state copies
// bytes in and out without allocating.
type byteRing struct {
	buf  []byte
	head int // the first byte's index
	n    int // bytes held
}

// Len is the bytes held.
func (r *byteRing) Len() int { return r.n }

// Write appends p.
func (r *byteRing) Write(p []byte) {
	if len(p) == 0 {
		return
	}
	if r.n+len(p) > len(r.buf) {
		r.grow(r.n + len(p))
	}
	tail := (r.head + r.n) % len(r.buf)
	k := copy(r.buf[tail:], p)
	copy(r.buf, p[k:])
	r.n += len(p)
}

func (r *byteRing) grow(need int) {
	size := max(len(r.buf)*2, 4096)
	for size < need {
		size *= 2
	}
	nb := make([]byte, size)
	a, b := r.Slices(0, r.n)
	copy(nb[copy(nb, a):], b)
	r.buf, r.head = nb, 0
}

// Slices returns the n bytes from off as at most two slices (the second
// non-empty when they wrap).
func (r *byteRing) Slices(off, n int) ([]byte, []byte) {
	if n == 0 || len(r.buf) == 0 {
		return nil, nil
	}
	start := (r.head + off) % len(r.buf)
	if start+n <= len(r.buf) {
		return r.buf[start : start+n], nil
	}
	return r.buf[start:], r.buf[:n-(len(r.buf)-start)]
}

// Peek copies the first bytes into p without consuming them.
func (r *byteRing) Peek(p []byte) int {
	a, b := r.Slices(0, min(len(p), r.n))
	return copy(p[copy(p, a):], b) + min(len(a), len(p))
}

// Read copies the first bytes into p and consumes them.
func (r *byteRing) Read(p []byte) int {
	n := r.Peek(p)
	r.Discard(n)
	return n
}

// Discard drops the first n bytes.
func (r *byteRing) Discard(n int) {
	n = min(n, r.n)
	r.n -= n
	if r.n == 0 {
		r.head = 0
		return
	}
	r.head = (r.head + n) % len(r.buf)
}

// Reset empties the ring.
func (r *byteRing) Reset() { r.head, r.n = 0, 0 }
