package ipv4

import (
	"encoding/binary"
	"vnic/header"
)

// ECN codepoints (RFC 3168), the TOS byte's two low bits.
const (
	ECNNotECT = 0
	ECNECT1   = 1
	ECNECT0   = 2
	ECNCE     = 3
)

// DSCP is the differentiated-services code point: the TOS byte's six high
// bits (tos >> 2; 0xB8 is EF, 46).
func DSCP(tos uint8) uint8 { return tos >> 2 }

// ECN is the TOS byte's ECN field (tos & 3).
func ECN(tos uint8) uint8 { return tos & 3 }

// SetCE is IP_ECN_set_ce: a congested hop marks an ECN-capable packet
// CE instead of dropping it, leaving the DSCP alone and updating the
// header checksum incrementally. iph is an IPv4 header. It reports false,
// changing nothing, for a Not-ECT packet (which the hop must drop
// instead) and true for one already CE.
func SetCE(iph []byte) bool {
	tos := iph[1]
	switch ECN(tos) {
	case ECNNotECT:
		return false
	case ECNCE:
		return true
	}
	old := binary.BigEndian.Uint16(iph[0:2])
	iph[1] = tos | ECNCE
	check := header.Update16(binary.BigEndian.Uint16(iph[10:12]), old, binary.BigEndian.Uint16(iph[0:2]))
	binary.BigEndian.PutUint16(iph[10:12], check)
	return true
}
