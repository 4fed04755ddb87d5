package offload

// RSSKeySize is the size of the 82576 RSS key (RSSRK, ten registers).
const RSSKeySize = 40

// MaxToeplitzInput is the longest input a 40-byte key can hash: the IPv6
// four-tuple (16+16+2+2 bytes).
const MaxToeplitzInput = RSSKeySize - 4

// Toeplitz computes the Microsoft RSS Toeplitz hash with a fixed key. Build
// one with NewToeplitz whenever the key changes; Hash does no allocation.
//
// Definition: treat the key as a bit string, most significant bit of key[0]
// first. For every set bit i of the input (most significant bit of input[0]
// is bit 0), XOR into the result the 32 key bits starting at bit i.
type Toeplitz struct {
	// table[p][v] is the contribution of byte value v at input position p.
	table [MaxToeplitzInput][256]uint32
}

// NewToeplitz precomputes the per-byte tables for key, which must be
// RSSKeySize bytes long.
func NewToeplitz(key []byte) *Toeplitz {
	t := new(Toeplitz)
	t.SetKey(key)
	return t
}

// SetKey recomputes the tables for a new key.
func (t *Toeplitz) SetKey(key []byte) {
	if len(key) != RSSKeySize {
		panic("offload: RSS key must be 40 bytes")
	}
	for p := 0; p < MaxToeplitzInput; p++ {
		// window[b] is the 32-bit key window starting at bit 8p+b.
		var window [8]uint32
		for b := 0; b < 8; b++ {
			window[b] = keyWindow(key, 8*p+b)
		}
		for v := 0; v < 256; v++ {
			var h uint32
			for b := 0; b < 8; b++ {
				if v&(0x80>>b) != 0 {
					h ^= window[b]
				}
			}
			t.table[p][v] = h
		}
	}
}

// keyWindow returns the 32 key bits starting at bit position bit.
func keyWindow(key []byte, bit int) uint32 {
	byteOff, shift := bit/8, uint(bit%8)
	var w uint64
	for i := 0; i < 5; i++ {
		w <<= 8
		if byteOff+i < len(key) {
			w |= uint64(key[byteOff+i])
		}
	}
	return uint32(w >> (8 - shift))
}

// Hash returns the Toeplitz hash of input (in wire order: source address,
// destination address, source port, destination port). Input longer than
// MaxToeplitzInput is cut there.
func (t *Toeplitz) Hash(input []byte) uint32 {
	if len(input) > MaxToeplitzInput {
		input = input[:MaxToeplitzInput]
	}
	var h uint32
	for p, v := range input {
		h ^= t.table[p][v]
	}
	return h
}

// HashIPv4 hashes an IPv4 source/destination pair and, if withPorts, the
// ports, without building an input slice: one table lookup a byte, at
// fixed positions.
func (t *Toeplitz) HashIPv4(src, dst [4]byte, sport, dport uint16, withPorts bool) uint32 {
	tb := &t.table
	h := tb[0][src[0]] ^ tb[1][src[1]] ^ tb[2][src[2]] ^ tb[3][src[3]] ^
		tb[4][dst[0]] ^ tb[5][dst[1]] ^ tb[6][dst[2]] ^ tb[7][dst[3]]
	if withPorts {
		h ^= tb[8][byte(sport>>8)] ^ tb[9][byte(sport)] ^ tb[10][byte(dport>>8)] ^ tb[11][byte(dport)]
	}
	return h
}

// DefaultRSSKey is the key of the Microsoft RSS verification suite, which
// the hw-model verification vectors use. Drivers normally program a random
// key; tests program this one.
var DefaultRSSKey = [RSSKeySize]byte{
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
}
