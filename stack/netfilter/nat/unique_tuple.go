package nat

import (
	"encoding/binary"
	"math/bits"

	"vnic/header"
	"vnic/stack/netfilter/conntrack"
)

// The tuple a binding chooses (nf_nat_core.c's get_unique_tuple and its
// helpers).

// Bounds of the port search (NF_NAT_MAX_ATTEMPTS, NF_NAT_HARDER_THRESH).
const (
	maxAttempts  = 128
	harderThresh = maxAttempts / 4
)

// uniqueTuple is get_unique_tuple: orig (what the packet looks like now)
// changed at end m into r, unique if it can be. A source mapping first
// tries the tuple as it is (when in range) or the mapping the same source
// already has; then the address is chosen by hash (find_best_ips_proto)
// and the port kept when it is in range and free, else searched for
// (nf_nat_l4proto_unique_tuple). A duplicate that remains is refused at
// confirmation.
func (n *Net) uniqueTuple(orig conntrack.Tuple, r *Range, ct *conntrack.Conn, m Manip) conntrack.Tuple {
	if m == ManipSrc && r.Flags&ProtoRandomAll == 0 {
		if inRange(&orig, r) {
			if !n.usedTupleNew(orig, ct) {
				return orig
			}
		} else if t, ok := n.findAppropriateSrc(orig, r, ct.Zone()); ok {
			if !n.usedTuple(t, ct) {
				return t
			}
		}
	}
	t := orig
	findBestIPsProto(&t, r, m, ct.Zone().ID)
	if r.Flags&ProtoRandomAll == 0 {
		if r.Flags&ProtoSpecified != 0 {
			if r.Flags&ProtoOffset == 0 && l4InRange(&t, m, r.MinProto, r.MaxProto) &&
				(r.MinProto == r.MaxProto || !n.usedTuple(t, ct)) {
				return t
			}
		} else if !n.usedTuple(t, ct) {
			return t
		}
	}
	n.l4UniqueTuple(&t, r, m, ct)
	return t
}

// usedTuple is nf_nat_used_tuple: whether a connection other than ct
// would have t's inverse as a tuple (its replies could not be told
// apart).
func (n *Net) usedTuple(t conntrack.Tuple, ct *conntrack.Conn) bool {
	reply, ok := t.Invert()
	return ok && n.ct.TupleTaken(reply, ct)
}

// allowClash is the protocol's allow_clash (UDP, ICMP).
func allowClash(proto uint8) bool { return proto == header.ProtoUDP || proto == header.ProtoICMP }

// usedTupleNew is nf_nat_used_tuple_new, for a tuple ct keeps unchanged:
// as usedTuple, except that for a protocol whose clashes are resolved at
// confirmation a clash with an entry neither of which is NATed, and which
// is ct's own flow seen the other way (two first packets crossing), is
// left to that resolution.
func (n *Net) usedTupleNew(t conntrack.Tuple, ct *conntrack.Conn) bool {
	const usesNAT = natMask | conntrack.StatusSeqAdjust
	if !n.usedTuple(t, ct) {
		return false
	}
	if !allowClash(t.Proto) || ct.Status()&usesNAT != 0 {
		return true
	}
	other, _ := n.ct.Lookup(t, ct.Zone())
	if other == nil {
		reply, _ := t.Invert()
		if other, _ = n.ct.Lookup(reply, ct.Zone()); other == nil {
			return false // the clashing entry went
		}
	}
	if other.Status()&usesNAT != 0 {
		return true
	}
	return other.Tuple(conntrack.Original) != ct.Tuple(conntrack.Reply)
}

// usedTupleHarder is nf_nat_used_tuple_harder: usedTuple, except in the
// last attempts for a TCP SYN, where an entry in TIME_WAIT or CLOSE that
// holds the tuple for a source NAT, and whose sequence space the new
// connection has moved past, is evicted to free it.
func (n *Net) usedTupleHarder(t conntrack.Tuple, ct *conntrack.Conn, attemptsLeft int) bool {
	reply, ok := t.Invert()
	if !ok {
		return false
	}
	if attemptsLeft > harderThresh || t.Proto != header.ProtoTCP || ct.ProtoState() != conntrack.TCPSynSent {
		return n.ct.TupleTaken(reply, ct)
	}
	other, dir := n.ct.Lookup(reply, ct.Zone())
	if other == nil {
		return false
	}
	if dir == conntrack.Original || other == ct {
		return true
	}
	flags := other.Status()
	if !mayKill(other, flags) || int32(ct.TCPEnd(conntrack.Original)-other.TCPEnd(conntrack.Original)) <= 0 {
		return true
	}
	if n.ct.Delete(other) {
		return flags&(conntrack.StatusOffload|conntrack.StatusHWOffload) != 0
	}
	return true
}

// mayKill is nf_nat_may_kill: a source-NATed TCP entry past TIME_WAIT
// whose timeout is not fixed and that is not dying already.
func mayKill(ct *conntrack.Conn, flags conntrack.Status) bool {
	if ct.ProtoState() < conntrack.TCPTimeWait {
		return false
	}
	if flags&(conntrack.StatusFixedTimeout|conntrack.StatusDying) != 0 {
		return false
	}
	return flags&conntrack.StatusSrcNAT != 0
}

func be32(a [4]byte) uint32 { return binary.BigEndian.Uint32(a[:]) }

func addr4(v uint32) [4]byte {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v)
	return a
}

// inRange is nf_in_range: whether t, as a source mapping, is in r — its
// address when r maps addresses, its port (identifier) when r gives
// ports.
func inRange(t *conntrack.Tuple, r *Range) bool {
	if r.Flags&MapIPs != 0 && (be32(t.Src) < be32(r.MinAddr) || be32(t.Src) > be32(r.MaxAddr)) {
		return false
	}
	if r.Flags&ProtoSpecified == 0 {
		return true
	}
	return l4InRange(t, ManipSrc, r.MinProto, r.MaxProto)
}

// l4InRange is l4proto_in_range: whether the part of t end m rewrites —
// the port of TCP and UDP, the ICMP identifier (either end) — is in
// [lo, hi]; true for the protocols without one.
func l4InRange(t *conntrack.Tuple, m Manip, lo, hi uint16) bool {
	switch t.Proto {
	case header.ProtoICMP:
		return t.SrcPort >= lo && t.SrcPort <= hi
	case header.ProtoTCP, header.ProtoUDP:
		p := t.SrcPort
		if m == ManipDst {
			p = t.DstPort
		}
		return p >= lo && p <= hi
	}
	return true
}

// findBestIPsProto is find_best_ips_proto: the address of end m chosen in
// r's by a hash of the source and (unless Persistent) the destination, so
// that a client keeps its mapped address across connections. The hash is
// the kernel's (jhash2 of the address words as a little-endian machine
// reads them) with the zone's id whatever its direction, so a vnic host
// picks the address Linux picks.
func findBestIPsProto(t *conntrack.Tuple, r *Range, m Manip, zone uint16) {
	if r.Flags&MapIPs == 0 {
		return
	}
	p := &t.Src
	if m == ManipDst {
		p = &t.Dst
	}
	if r.MinAddr == r.MaxAddr {
		*p = r.MinAddr
		return
	}
	var initval uint32
	if r.Flags&Persistent == 0 {
		initval = binary.LittleEndian.Uint32(t.Dst[:]) ^ uint32(zone)
	}
	j := jhash1(binary.LittleEndian.Uint32(t.Src[:]), initval)
	minip, maxip := be32(r.MinAddr), be32(r.MaxAddr)
	dist := maxip - minip + 1
	*p = addr4(minip + uint32(uint64(j)*uint64(dist)>>32))
}

// jhash1 is jhash2 over one 32-bit word: Bob Jenkins' lookup3 with the
// kernel's initial value (JHASH_INITVAL) and its final mix.
func jhash1(k, initval uint32) uint32 {
	a := 0xdeadbeef + 4 + initval
	b, c := a, a
	a += k
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// l4UniqueTuple is nf_nat_l4proto_unique_tuple: the port (or ICMP
// identifier) of end m moved into r until t is unique. Without ports in r
// a destination keeps its port and a source searches its port's class
// (1–511, 600–1023, 1024–65535); ICMP searches every identifier. The
// search starts at the port's offset from BaseProto (ProtoOffset), at a
// random offset (a source, or --random), or at the range's start; it
// tries at most 128 ports, then ever fewer from new random offsets.
func (n *Net) l4UniqueTuple(t *conntrack.Tuple, r *Range, m Manip, ct *conntrack.Conn) {
	var keyp *uint16
	var base, size uint32
	switch t.Proto {
	case header.ProtoICMP:
		keyp = &t.SrcPort
		if r.Flags&ProtoSpecified == 0 {
			base, size = 0, 65536
		} else {
			base = uint32(r.MinProto)
			size = uint32(r.MaxProto) - uint32(r.MinProto) + 1
		}
	case header.ProtoTCP, header.ProtoUDP:
		keyp = &t.SrcPort
		if m == ManipDst {
			keyp = &t.DstPort
		}
		if r.Flags&ProtoSpecified == 0 {
			if m == ManipDst {
				return // a destination keeps its port
			}
			switch {
			case *keyp < 512:
				base, size = 1, 511 // "loose convention: >> 512 is credential passing"
			case *keyp < 1024:
				base, size = 600, 1023-600+1
			default:
				base, size = 1024, 65535-1024+1
			}
		} else {
			lo, hi := uint32(r.MinProto), uint32(r.MaxProto)
			if hi < lo {
				lo, hi = hi, lo
			}
			base, size = lo, hi-lo+1
		}
	default:
		return
	}
	var off uint16
	switch {
	case r.Flags&ProtoOffset != 0:
		off = *keyp - r.BaseProto
	case r.Flags&ProtoRandomAll != 0 || m != ManipDst:
		off = n.rand16()
	}
	attempts := min(size, maxAttempts)
	for {
		for i := uint32(0); i < attempts; i, off = i+1, off+1 {
			*keyp = uint16(base + uint32(off)%size)
			if !n.usedTupleHarder(*t, ct, int(attempts-i)) {
				return
			}
		}
		if attempts >= size || attempts < 16 {
			return
		}
		attempts /= 2
		off = n.rand16()
	}
}
