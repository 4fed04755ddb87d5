package header

import "encoding/binary"

// IPv4 is an IPv4 header at the start of a byte slice (RFC 791):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	|         Identification        |Flags|      Fragment Offset    |
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	|                       Source Address                          |
//	|                    Destination Address                        |
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Setters do not update the checksum: call UpdateChecksum after them, or
// Update16 for one changed word. Call IsValid before any accessor on
// untrusted bytes.
type IPv4 []byte

const (
	ipv4MinLen = 20
	ipv4TOS    = 1
	ipv4TotLen = 2
	ipv4ID     = 4
	ipv4Flags  = 6
	ipv4TTL    = 8
	ipv4Proto  = 9
	ipv4Csum   = 10
	ipv4Src    = 12
	ipv4Dst    = 16

	// IPv4MinHeaderLen is a header without options (IHL 5).
	IPv4MinHeaderLen = 20
	// IPv4MaxHeaderLen is a header with the most options (IHL 15).
	IPv4MaxHeaderLen = 60

	// IPv4 flag bits in the flags/fragment-offset word, and the offset
	// (in 8-byte units) below them.
	IPv4DF          = 0x4000
	IPv4MF          = 0x2000
	IPv4FragOffMask = 0x1fff

	// Protocol numbers (IANA; Linux's IPPROTO_*).
	ProtoICMP = 1
	ProtoTCP  = 6
	ProtoUDP  = 17
)

// IsValid reports whether b holds a whole IPv4 header: version 4, IHL ≥ 5
// and at least IHL·4 bytes.
func (b IPv4) IsValid() bool {
	return len(b) >= ipv4MinLen && b[0]>>4 == 4 && int(b[0]&0xf)*4 >= ipv4MinLen && len(b) >= int(b[0]&0xf)*4
}

// IsValidNoOptions reports whether b holds a whole IPv4 header without
// options: IsValid with IHL 5, tested as one byte (0x45) the way Linux's
// inet_gro_receive does on its fast path.
func (b IPv4) IsValidNoOptions() bool { return len(b) >= ipv4MinLen && b[0] == 0x45 }

// TotalLenValid reports whether the total length covers the header and
// fits in b (b may run past it: Ethernet padding). Call it after IsValid.
func (b IPv4) TotalLenValid() bool {
	t := int(b.TotalLen())
	return t <= len(b) && t >= b.HeaderLen()
}

// Version returns the version field.
func (b IPv4) Version() uint8 { return b[0] >> 4 }

// HeaderLen is IHL·4.
func (b IPv4) HeaderLen() int { return int(b[0]&0xf) * 4 }

// SetHeaderLen stores version 4 and IHL n/4 (n a multiple of 4, 20 to 60).
func (b IPv4) SetHeaderLen(n int) { b[0] = 0x40 | byte(n/4)&0xf }

// TOS returns the type-of-service byte.
func (b IPv4) TOS() uint8 { return b[ipv4TOS] }

// SetTOS stores the type-of-service byte.
func (b IPv4) SetTOS(v uint8) { b[ipv4TOS] = v }

// TotalLen returns the total length field.
func (b IPv4) TotalLen() uint16 {
	return binary.BigEndian.Uint16(b[ipv4TotLen : ipv4TotLen+2 : len(b)])
}

// SetTotalLen stores the total length (the checksum is not updated).
func (b IPv4) SetTotalLen(v uint16) { binary.BigEndian.PutUint16(b[ipv4TotLen:ipv4TotLen+2:len(b)], v) }

// ID returns the identification field.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[ipv4ID : ipv4ID+2 : len(b)]) }

// SetID stores the identification field.
func (b IPv4) SetID(v uint16) { binary.BigEndian.PutUint16(b[ipv4ID:ipv4ID+2:len(b)], v) }

// FlagsFrag returns the flags and fragment offset word.
func (b IPv4) FlagsFrag() uint16 { return binary.BigEndian.Uint16(b[ipv4Flags : ipv4Flags+2 : len(b)]) }

// SetFlagsFrag stores the flags and fragment offset word.
func (b IPv4) SetFlagsFrag(v uint16) { binary.BigEndian.PutUint16(b[ipv4Flags:ipv4Flags+2:len(b)], v) }

// DontFragment reports DF.
func (b IPv4) DontFragment() bool { return b.FlagsFrag()&IPv4DF != 0 }

// MoreFragments reports MF.
func (b IPv4) MoreFragments() bool { return b.FlagsFrag()&IPv4MF != 0 }

// FragOffset returns the fragment offset in bytes (the field times 8).
func (b IPv4) FragOffset() int { return int(b.FlagsFrag()&IPv4FragOffMask) * 8 }

// IsFragment reports MF set or a non-zero offset.
func (b IPv4) IsFragment() bool { return b.FlagsFrag()&(IPv4MF|IPv4FragOffMask) != 0 }

// TTL returns the time to live.
func (b IPv4) TTL() uint8 { return b[ipv4TTL] }

// SetTTL stores the time to live.
func (b IPv4) SetTTL(v uint8) { b[ipv4TTL] = v }

// Protocol returns the protocol number.
func (b IPv4) Protocol() uint8 { return b[ipv4Proto] }

// SetProtocol stores the protocol number.
func (b IPv4) SetProtocol(v uint8) { b[ipv4Proto] = v }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipv4Csum : ipv4Csum+2 : len(b)]) }

// SetChecksum stores the header checksum field.
func (b IPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[ipv4Csum:ipv4Csum+2:len(b)], v) }

// Src returns the source address.
func (b IPv4) Src() [4]byte { return [4]byte(b[ipv4Src : ipv4Src+4 : len(b)]) }

// SetSrc stores the source address.
func (b IPv4) SetSrc(a [4]byte) { copy(b[ipv4Src:ipv4Src+4:len(b)], a[:]) }

// Dst returns the destination address.
func (b IPv4) Dst() [4]byte { return [4]byte(b[ipv4Dst : ipv4Dst+4 : len(b)]) }

// SetDst stores the destination address.
func (b IPv4) SetDst(a [4]byte) { copy(b[ipv4Dst:ipv4Dst+4:len(b)], a[:]) }

// Options returns the option bytes: IHL·4 − 20 of them.
func (b IPv4) Options() IPv4Options { return IPv4Options(b[ipv4MinLen:b.HeaderLen()]) }

// Payload returns the bytes after the header up to the total length, or
// to the end of b if b is shorter (a truncated packet); nothing if the
// total length is under the header length.
func (b IPv4) Payload() []byte {
	h, t := b.HeaderLen(), min(int(b.TotalLen()), len(b))
	if t < h {
		return b[h:h]
	}
	return b[h:t]
}

// UpdateChecksum recomputes the header checksum over HeaderLen bytes.
func (b IPv4) UpdateChecksum() {
	b.SetChecksum(0)
	b.SetChecksum(Checksum(b[:b.HeaderLen()]))
}

// ChecksumValid reports whether the header checksum verifies.
func (b IPv4) ChecksumValid() bool { return Checksum(b[:b.HeaderLen()]) == 0 }

// IPv4 option types: the copied flag (bit 7: the option goes into every
// fragment), the class (bits 6-5) and the number (bits 4-0) (RFC 791 and
// the IANA registry).
const (
	IPv4OptEOL         = 0x00 // end of option list
	IPv4OptNOP         = 0x01 // no operation
	IPv4OptRR          = 0x07 // 7: record route
	IPv4OptTimestamp   = 0x44 // 68: internet timestamp
	IPv4OptSecurity    = 0x82 // 130: RFC 1108 security
	IPv4OptLSRR        = 0x83 // 131: loose source and record route
	IPv4OptCIPSO       = 0x86 // 134: commercial IP security (FIPS 188)
	IPv4OptStreamID    = 0x88 // 136: stream identifier
	IPv4OptSSRR        = 0x89 // 137: strict source and record route
	IPv4OptRouterAlert = 0x94 // 148: router alert (RFC 2113)

	IPv4OptCopied = 0x80
	IPv4OptClass  = 0x60
	IPv4OptNumber = 0x1f
)

// IPv4Options is the option bytes of an IPv4 header (at most 40). Each
// option is a type byte; all but EOL and NOP follow it with a length byte
// (counting type and length) and data:
//
//	+--------+--------+--------+---//---+
//	|  Type  | Length |      Data       |
//	+--------+--------+--------+---//---+
type IPv4Options []byte

// Iter returns an iterator over the options.
func (o IPv4Options) Iter() IPv4OptionIterator { return IPv4OptionIterator{opts: o} }

// IPv4Option is one option an IPv4OptionIterator found.
type IPv4Option struct {
	// Type is the option type byte.
	Type uint8
	// Offset is where the option starts in the option bytes (add
	// IPv4MinHeaderLen for its offset in the header).
	Offset int
	// Bytes is the whole option: type, length and data; the type byte
	// alone for EOL and NOP.
	Bytes []byte
}

// Data returns the option's data: its bytes after type and length.
func (o IPv4Option) Data() []byte {
	if len(o.Bytes) < 2 {
		return nil
	}
	return o.Bytes[2:]
}

// Pointer returns the third byte, the pointer of a route or timestamp
// option (1-based, counting from the type byte), or 0 if the option is
// shorter.
func (o IPv4Option) Pointer() uint8 {
	if len(o.Bytes) < 3 {
		return 0
	}
	return o.Bytes[2]
}

// Copied reports the copied flag.
func (o IPv4Option) Copied() bool { return o.Type&IPv4OptCopied != 0 }

// IPv4OptionIterator walks option bytes one option at a time, checking
// only their framing: what each option's data must hold is the caller's to
// judge. It never reads past the bytes and ends after at most one option a
// byte.
type IPv4OptionIterator struct {
	opts      IPv4Options
	off       int
	malformed bool
}

// Next returns the next option and true, or false at the end. EOL is
// returned as an option and ends the walk (the bytes after it are
// padding). A malformed option — its length byte missing, under 2 or past
// the end of the bytes — ends the walk too; Malformed then says where.
func (it *IPv4OptionIterator) Next() (IPv4Option, bool) {
	p := it.off
	if it.malformed || p >= len(it.opts) {
		return IPv4Option{}, false
	}
	t := it.opts[p]
	switch t {
	case IPv4OptEOL:
		it.off = len(it.opts)
		return IPv4Option{Type: t, Offset: p, Bytes: it.opts[p : p+1]}, true
	case IPv4OptNOP:
		it.off++
		return IPv4Option{Type: t, Offset: p, Bytes: it.opts[p : p+1]}, true
	}
	if len(it.opts)-p < 2 {
		it.malformed = true
		return IPv4Option{}, false
	}
	n := int(it.opts[p+1])
	if n < 2 || n > len(it.opts)-p {
		it.malformed = true
		return IPv4Option{}, false
	}
	it.off = p + n
	return IPv4Option{Type: t, Offset: p, Bytes: it.opts[p : p+n]}, true
}

// Malformed reports whether the walk ended at a malformed option, and the
// offset in the option bytes of its type byte (where ICMP parameter
// problem points, as Linux's ip_options_compile does).
func (it *IPv4OptionIterator) Malformed() (offset int, bad bool) {
	return it.off, it.malformed
}
