package stack

// prandom is struct rnd_state with prandom_u32_state (lib/random32.c): the
// maximally equidistributed combined Tausworthe generator (L'Ecuyer's
// LFSR113) that netem draws every decision from. Seeded with
// prandom_seed_state it gives the kernel's sequence for the same seed, so a
// run can be held against Linux's netem given TCA_NETEM_PRNG_SEED.
type prandom struct{ s1, s2, s3, s4 uint32 }

// seedState is prandom_seed_state: the 64-bit seed folded into 32 bits,
// each component lifted over its generator's smallest valid state.
func (p *prandom) seedState(seed uint64) {
	i := uint32((seed >> 32) ^ (seed << 10) ^ seed)
	lift := func(x, m uint32) uint32 {
		if x < m {
			return x + m
		}
		return x
	}
	p.s1, p.s2, p.s3, p.s4 = lift(i, 2), lift(i, 8), lift(i, 16), lift(i, 128)
}

// u32 is prandom_u32_state: each component steps its linear feedback
// shift register; the output is their exclusive or.
func (p *prandom) u32() uint32 {
	p.s1 = ((p.s1 & 0xfffffffe) << 18) ^ (((p.s1 << 6) ^ p.s1) >> 13)
	p.s2 = ((p.s2 & 0xfffffff8) << 2) ^ (((p.s2 << 2) ^ p.s2) >> 27)
	p.s3 = ((p.s3 & 0xfffffff0) << 7) ^ (((p.s3 << 13) ^ p.s3) >> 21)
	p.s4 = ((p.s4 & 0xffffff80) << 13) ^ (((p.s4 << 3) ^ p.s4) >> 12)
	return p.s1 ^ p.s2 ^ p.s3 ^ p.s4
}

// below returns a number in [0, n) from one draw (the multiply-shift of
// get_random_u32_below without its rejection step: netem's corruption
// draws from the kernel's unseeded pool, vnic from the seeded generator so
// that a run repeats).
func (p *prandom) below(n uint32) uint32 { return uint32(uint64(p.u32()) * uint64(n) >> 32) }

// splitmix64 is one step of SplitMix64: seeds derived from the host's
// seed (per device and qdisc), and the correlated generators' first value.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// crandom is struct crndstate: a correlated random stream, each value
// mixed with the last one by the correlation rho (scaled to 2^32-1).
type crandom struct {
	last uint32
	rho  uint32
}

// get is get_crandom: without correlation a plain draw; with it
// (value·(2^32−ρ') + last·ρ') >> 32 where ρ' = ρ+1, so that ρ = 2^32−1
// repeats the last value for ever.
func (c *crandom) get(p *prandom) uint32 {
	if c.rho == 0 {
		return p.u32()
	}
	value := uint64(p.u32())
	rho := uint64(c.rho) + 1
	answer := uint32((value*((1<<32)-rho) + uint64(c.last)*rho) >> 32)
	c.last = answer
	return answer
}
