package tcp

import (
	"encoding/binary"
	"math/bits"
	"time"
)

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012) is the keyed function behind Linux's initial sequence numbers,
// timestamp offsets and SYN cookies (lib/siphash.c). A 16-byte key is the
// two 64-bit words k0 and k1, little-endian, as in the paper and as Linux's
// siphash_key_t holds random bytes on x86.
//
// Linux's siphash_Nu32 helpers hash their 32-bit arguments as the
// little-endian bytes of each word, so on x86 a field kept in network order
// (an address, a port) is hashed in network order: vnic hashes exactly
// those bytes, and its values are x86 Linux's for the same key.

// sipState is the four words v0..v3.
type sipState [4]uint64

func sipInit(key *[16]byte) sipState {
	k0 := binary.LittleEndian.Uint64(key[0:8])
	k1 := binary.LittleEndian.Uint64(key[8:16])
	return sipState{
		k0 ^ 0x736f6d6570736575, // "somepseu"
		k1 ^ 0x646f72616e646f6d, // "dorandom"
		k0 ^ 0x6c7967656e657261, // "lygenera"
		k1 ^ 0x7465646279746573, // "tedbytes"
	}
}

// sipRound is one SipRound of the paper's figure 2.
func (v *sipState) sipRound() {
	v[0] += v[1]
	v[1] = bits.RotateLeft64(v[1], 13) ^ v[0]
	v[0] = bits.RotateLeft64(v[0], 32)
	v[2] += v[3]
	v[3] = bits.RotateLeft64(v[3], 16) ^ v[2]
	v[0] += v[3]
	v[3] = bits.RotateLeft64(v[3], 21) ^ v[0]
	v[2] += v[1]
	v[1] = bits.RotateLeft64(v[1], 17) ^ v[2]
	v[2] = bits.RotateLeft64(v[2], 32)
}

// sipBlock takes one message word: two compression rounds.
func (v *sipState) sipBlock(m uint64) {
	v[3] ^= m
	v.sipRound()
	v.sipRound()
	v[0] ^= m
}

// sipHash is SipHash-2-4 of msg under key. It does not allocate.
func sipHash(key *[16]byte, msg []byte) uint64 {
	v := sipInit(key)
	last := uint64(len(msg)) << 56 // the length's low byte tops the last word
	for ; len(msg) >= 8; msg = msg[8:] {
		v.sipBlock(binary.LittleEndian.Uint64(msg))
	}
	for i, c := range msg {
		last |= uint64(c) << (8 * i)
	}
	v.sipBlock(last)
	v[2] ^= 0xff
	for range 4 {
		v.sipRound()
	}
	return v[0] ^ v[1] ^ v[2] ^ v[3]
}

// secureTuple is the 12 bytes secure_tcp_seq hashes (siphash_3u32 of
// saddr, daddr and sport<<16|dport taken from the header): the two
// addresses, then the destination port and the source port, each in
// network order. The word puts dport's bytes first because x86 stores its
// low half, the raw dport, first.
func secureTuple(saddr, daddr [4]byte, sport, dport uint16) [12]byte {
	var m [12]byte
	copy(m[0:4], saddr[:])
	copy(m[4:8], daddr[:])
	binary.BigEndian.PutUint16(m[8:10], dport)
	binary.BigEndian.PutUint16(m[10:12], sport)
	return m
}

// secureClock is seq_scale's clock term: the real-time clock in units of
// 64 ns, modulo 2^32 (it wraps every 2^38 ns, about 274.9 s).
func secureClock(now time.Duration) uint32 { return uint32(uint64(now) >> 6) }

// SecureSeq is the initial sequence number Linux picks for a connection
// (secure_tcp_seq, RFC 6528): saddr:sport is this host's end and
// daddr:dport the peer's, whichever side opened (Linux passes a SYN's
// destination as saddr). With H the SipHash-2-4 of the 12 bytes
//
//	saddr ‖ daddr ‖ dport ‖ sport   (addresses and ports in network order)
//
// under key (Linux's net_secret), the value is
//
//	ISN = (H mod 2^32 + ⌊now/64 ns⌋) mod 2^32
//
// now being the real-time clock since the Unix epoch (ktime_get_real_ns):
// the secret term keeps one flow's numbers unguessable to others, and the
// clock term, a 64 ns tick (15.625 MHz, where RFC 793 suggested 4 µs),
// moves a reused 4-tuple forward between incarnations. The caller supplies the clock, so virtual
// time gives reproducible numbers.
func SecureSeq(key [16]byte, saddr, daddr [4]byte, sport, dport uint16, now time.Duration) uint32 {
	m := secureTuple(saddr, daddr, sport, dport)
	return uint32(sipHash(&key, m[:])) + secureClock(now)
}

// SecureTSOffset is the offset Linux adds to every TSval of a connection
// (secure_tcp_ts_off): the low 32 bits of SipHash-2-4 of saddr ‖ daddr
// (this host's address first, both in network order) under key, Linux's
// ts_secret, which is not SecureSeq's key. It depends on the address pair
// only, so all connections between two hosts share one timestamp clock.
// Linux uses 0 instead unless net.ipv4.tcp_timestamps is 1; that choice is
// the caller's.
func SecureTSOffset(key [16]byte, saddr, daddr [4]byte) uint32 {
	var m [8]byte
	copy(m[0:4], saddr[:])
	copy(m[4:8], daddr[:])
	return uint32(sipHash(&key, m[:]))
}
