package header

import "encoding/binary"

// IGMP is an IGMP message (RFC 2236 for versions 1 and 2, RFC 3376 for
// version 3): a type, the maximum response code, a checksum over the
// whole message and a group address; a version 3 query goes on with the
// querier's robustness variable and interval and a list of sources:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      | Max Resp Code |           Checksum            |
//	|                         Group Address                         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Resv  |S| QRV |     QQIC      |     Number of Sources (N)     |  v3 query
//	|                       Source Address [1..N]                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A version 3 report (IGMPv3Report) has its own layout after the
// checksum. The version of a query is told by its length (RFC 3376
// 7.1): 8 bytes is version 1 (max response code 0) or 2; 12 or more is
// version 3. Call IsValid before any accessor on untrusted bytes.
type IGMP []byte

const (
	igmpType    = 0
	igmpMaxResp = 1
	igmpCsum    = 2
	igmpGroup   = 4
	igmpSQRV    = 8
	igmpQQIC    = 9
	igmpNSrcs   = 10
	igmpSrcs    = 12

	// IGMPMinLen is a version 1 or 2 message.
	IGMPMinLen = 8
	// IGMPv3QueryMinLen is a version 3 query without sources.
	IGMPv3QueryMinLen = 12
)

// IGMP message types.
const (
	IGMPMembershipQuery    = 0x11
	IGMPv1MembershipReport = 0x12
	IGMPv2MembershipReport = 0x16
	IGMPLeaveGroup         = 0x17
	IGMPv3MembershipReport = 0x22
)

// IsValid reports whether b holds the 8 bytes every IGMP message has.
func (b IGMP) IsValid() bool { return len(b) >= IGMPMinLen }

// Type returns the message type.
func (b IGMP) Type() uint8 { return b[igmpType] }

// MaxRespCode returns the maximum response code (in tenths of a second
// for version 2; version 3 encodes it: IGMPv3Code).
func (b IGMP) MaxRespCode() uint8 { return b[igmpMaxResp] }

// Checksum returns the checksum field.
func (b IGMP) Checksum() uint16 { return binary.BigEndian.Uint16(b[igmpCsum:]) }

// SetChecksum sets the checksum field.
func (b IGMP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[igmpCsum:], v) }

// Group returns the group address (zero in a general query).
func (b IGMP) Group() [4]byte { return [4]byte(b[igmpGroup : igmpGroup+4]) }

// IsV3Query reports whether b is long enough for a version 3 query's
// fixed part (a query of 12 bytes or more is version 3).
func (b IGMP) IsV3Query() bool { return len(b) >= IGMPv3QueryMinLen }

// QRV returns a version 3 query's robustness variable (0: the default).
func (b IGMP) QRV() uint8 { return b[igmpSQRV] & 7 }

// SuppressRouter returns a version 3 query's S flag.
func (b IGMP) SuppressRouter() bool { return b[igmpSQRV]&8 != 0 }

// QQIC returns a version 3 query's interval code.
func (b IGMP) QQIC() uint8 { return b[igmpQQIC] }

// NumSources returns a version 3 query's source count.
func (b IGMP) NumSources() int { return int(binary.BigEndian.Uint16(b[igmpNSrcs:])) }

// SourcesValid reports whether b holds all NumSources sources.
func (b IGMP) SourcesValid() bool { return len(b) >= igmpSrcs+4*b.NumSources() }

// Source returns source i (SourcesValid first).
func (b IGMP) Source(i int) [4]byte { return [4]byte(b[igmpSrcs+4*i : igmpSrcs+4*i+4]) }

// IGMPv3Code decodes a version 3 maximum response code or QQIC (RFC 3376
// 4.1.1): below 128 the value itself; above, a floating-point value
// (mantissa and exponent) (mant | 0x10) << (exp + 3). The unit is a
// tenth of a second for the response code, a second for QQIC.
func IGMPv3Code(c uint8) int {
	if c < 128 {
		return int(c)
	}
	return (int(c&0x0f) | 0x10) << (int(c>>4&7) + 3)
}

// IGMPFields are a version 1 or 2 message's fields.
type IGMPFields struct {
	Type    uint8
	MaxResp uint8
	Group   [4]byte
}

// Encode writes f into b (8 bytes) with its checksum.
func (f IGMPFields) Encode(b IGMP) {
	b[igmpType], b[igmpMaxResp] = f.Type, f.MaxResp
	b.SetChecksum(0)
	copy(b[igmpGroup:], f.Group[:])
	b.SetChecksum(Checksum(b[:IGMPMinLen]))
}

// IGMPv3Report is a version 3 membership report (RFC 3376 4.2): type
// 0x22, a reserved byte, the checksum, a reserved word, the number of
// group records, then the records:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Type = 0x22  |    Reserved   |           Checksum            |
//	|           Reserved            |  Number of Group Records (M)  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Record Type  |  Aux Data Len |     Number of Sources (N)     |  each record
//	|                       Multicast Address                       |
//	|                       Source Address [1..N]                   |
//	|                       Auxiliary Data (Aux Data Len words)     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IGMPv3Report []byte

// IGMPv3ReportHeaderLen is the report's fixed part; IGMPv3GrecLen a
// record's.
const (
	IGMPv3ReportHeaderLen = 8
	IGMPv3GrecLen         = 8
)

// IGMPv3 group record types (RFC 3376 4.2.12).
const (
	IGMPv3ModeIsInclude   = 1
	IGMPv3ModeIsExclude   = 2
	IGMPv3ChangeToInclude = 3
	IGMPv3ChangeToExclude = 4
	IGMPv3AllowNewSources = 5
	IGMPv3BlockOldSources = 6
)

// IsValid reports whether b holds the fixed part.
func (b IGMPv3Report) IsValid() bool { return len(b) >= IGMPv3ReportHeaderLen }

// NumRecords returns the record count.
func (b IGMPv3Report) NumRecords() int { return int(binary.BigEndian.Uint16(b[6:])) }

// IGMPv3Grec is one group record of a report.
type IGMPv3Grec struct {
	Type    uint8
	Group   [4]byte
	Sources [][4]byte
}

// Records returns the records, or false when one runs past b.
func (b IGMPv3Report) Records() ([]IGMPv3Grec, bool) {
	var out []IGMPv3Grec
	p := IGMPv3ReportHeaderLen
	for i := 0; i < b.NumRecords(); i++ {
		if len(b) < p+IGMPv3GrecLen {
			return out, false
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		end := p + IGMPv3GrecLen + 4*n + 4*int(b[p+1])
		if len(b) < end {
			return out, false
		}
		g := IGMPv3Grec{Type: b[p], Group: [4]byte(b[p+4 : p+8])}
		for k := range n {
			g.Sources = append(g.Sources, [4]byte(b[p+8+4*k:p+12+4*k]))
		}
		out = append(out, g)
		p = end
	}
	return out, true
}

// AppendIGMPv3Report appends a report of recs (no auxiliary data) with
// its checksum to b.
func AppendIGMPv3Report(b []byte, recs []IGMPv3Grec) []byte {
	start := len(b)
	b = append(b, IGMPv3MembershipReport, 0, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(recs)))
	for _, g := range recs {
		b = append(b, g.Type, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(len(g.Sources)))
		b = append(b, g.Group[:]...)
		for _, s := range g.Sources {
			b = append(b, s[:]...)
		}
	}
	binary.BigEndian.PutUint16(b[start+2:], Checksum(b[start:]))
	return b
}
