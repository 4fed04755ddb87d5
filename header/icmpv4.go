package header

import "encoding/binary"

// ICMPv4 is an ICMP message (RFC 792): a type, a code, a checksum over the
// whole message and a 32-bit word whose meaning depends on the type, then
// the data (for errors, the offending IPv4 header and 8 bytes of what it
// carried):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	|                        Rest of Header                         |
//	|                             Data ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The rest of the header is, by type:
//
//	echo, echo reply, timestamp:  |  Identifier  | Sequence Number |
//	redirect:                     |       Gateway Address          |
//	parameter problem:            |Pointer|        unused          |
//	unreachable, frag. needed:    |    unused    |  Next-Hop MTU   |  (RFC 1191)
//
// Call IsValid before any accessor on untrusted bytes.
type ICMPv4 []byte

const (
	icmpType  = 0
	icmpCode  = 1
	icmpCsum  = 2
	icmpRest  = 4
	icmpIdent = 4
	icmpSeq   = 6
	icmpPtr   = 4
	icmpMTU   = 6

	// ICMPv4HeaderLen is type, code, checksum and the rest-of-header word.
	ICMPv4HeaderLen = 8
)

// ICMPv4 message types.
const (
	ICMPv4EchoReply      = 0
	ICMPv4DstUnreachable = 3
	ICMPv4SourceQuench   = 4
	ICMPv4Redirect       = 5
	ICMPv4Echo           = 8
	ICMPv4RouterAdvert   = 9
	ICMPv4RouterSolicit  = 10
	ICMPv4TimeExceeded   = 11
	ICMPv4ParamProblem   = 12
	ICMPv4Timestamp      = 13
	ICMPv4TimestampReply = 14
	ICMPv4InfoRequest    = 15
	ICMPv4InfoReply      = 16
	ICMPv4AddrMask       = 17
	ICMPv4AddrMaskReply  = 18
)

// ICMPv4 codes of destination unreachable (RFC 792, 1122, 1812).
const (
	ICMPv4NetUnreachable     = 0
	ICMPv4HostUnreachable    = 1
	ICMPv4ProtoUnreachable   = 2
	ICMPv4PortUnreachable    = 3
	ICMPv4FragNeeded         = 4
	ICMPv4SrcRouteFailed     = 5
	ICMPv4NetUnknown         = 6
	ICMPv4HostUnknown        = 7
	ICMPv4HostIsolated       = 8
	ICMPv4NetProhibited      = 9
	ICMPv4HostProhibited     = 10
	ICMPv4NetUnreachableTOS  = 11
	ICMPv4HostUnreachableTOS = 12
	ICMPv4AdminProhibited    = 13 // communication administratively prohibited
	ICMPv4HostPrecedence     = 14
	ICMPv4PrecedenceCutoff   = 15
)

// ICMPv4 codes of redirect, time exceeded and parameter problem.
const (
	ICMPv4RedirectNet     = 0
	ICMPv4RedirectHost    = 1
	ICMPv4RedirectTOSNet  = 2
	ICMPv4RedirectTOSHost = 3

	ICMPv4TTLExceeded        = 0
	ICMPv4ReassemblyTimeout  = 1
	ICMPv4ParamPointer       = 0 // the pointer marks the offending byte
	ICMPv4ParamMissingOption = 1
	ICMPv4ParamBadLength     = 2
)

// IsValid reports whether b holds an ICMP header.
func (b ICMPv4) IsValid() bool { return len(b) >= ICMPv4HeaderLen }

// Type returns the message type.
func (b ICMPv4) Type() uint8 { return b[icmpType] }

// SetType stores the message type.
func (b ICMPv4) SetType(v uint8) { b[icmpType] = v }

// Code returns the code.
func (b ICMPv4) Code() uint8 { return b[icmpCode] }

// SetCode stores the code.
func (b ICMPv4) SetCode(v uint8) { b[icmpCode] = v }

// Checksum returns the checksum field.
func (b ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpCsum : icmpCsum+2 : len(b)]) }

// SetChecksum stores the checksum field.
func (b ICMPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[icmpCsum:icmpCsum+2:len(b)], v) }

// Rest returns the rest-of-header word.
func (b ICMPv4) Rest() uint32 { return binary.BigEndian.Uint32(b[icmpRest : icmpRest+4 : len(b)]) }

// SetRest stores the rest-of-header word.
func (b ICMPv4) SetRest(v uint32) { binary.BigEndian.PutUint32(b[icmpRest:icmpRest+4:len(b)], v) }

// Ident returns the identifier of an echo or timestamp message.
func (b ICMPv4) Ident() uint16 { return binary.BigEndian.Uint16(b[icmpIdent : icmpIdent+2 : len(b)]) }

// SetIdent stores the identifier of an echo or timestamp message.
func (b ICMPv4) SetIdent(v uint16) { binary.BigEndian.PutUint16(b[icmpIdent:icmpIdent+2:len(b)], v) }

// Seq returns the sequence number of an echo or timestamp message.
func (b ICMPv4) Seq() uint16 { return binary.BigEndian.Uint16(b[icmpSeq : icmpSeq+2 : len(b)]) }

// SetSeq stores the sequence number of an echo or timestamp message.
func (b ICMPv4) SetSeq(v uint16) { binary.BigEndian.PutUint16(b[icmpSeq:icmpSeq+2:len(b)], v) }

// Gateway returns the gateway address of a redirect.
func (b ICMPv4) Gateway() [4]byte { return [4]byte(b[icmpRest : icmpRest+4 : len(b)]) }

// SetGateway stores the gateway address of a redirect.
func (b ICMPv4) SetGateway(a [4]byte) { copy(b[icmpRest:icmpRest+4:len(b)], a[:]) }

// Pointer returns the pointer of a parameter problem: the offset in the
// quoted header of the byte at fault.
func (b ICMPv4) Pointer() uint8 { return b[icmpPtr] }

// SetPointer stores the pointer of a parameter problem.
func (b ICMPv4) SetPointer(v uint8) { b[icmpPtr] = v }

// MTU returns the next-hop MTU of a fragmentation-needed message (RFC
// 1191; 0 from a router that predates it).
func (b ICMPv4) MTU() uint16 { return binary.BigEndian.Uint16(b[icmpMTU : icmpMTU+2 : len(b)]) }

// SetMTU stores the next-hop MTU of a fragmentation-needed message.
func (b ICMPv4) SetMTU(v uint16) { binary.BigEndian.PutUint16(b[icmpMTU:icmpMTU+2:len(b)], v) }

// Payload returns the data after the header: an error's quoted packet, an
// echo's data.
func (b ICMPv4) Payload() []byte { return b[ICMPv4HeaderLen:] }

// IsError reports whether the type is an error message (unreachable,
// source quench, redirect, time exceeded, parameter problem), which
// quotes the packet that caused it and is never answered with another.
func (b ICMPv4) IsError() bool {
	switch b[icmpType] {
	case ICMPv4DstUnreachable, ICMPv4SourceQuench, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// UpdateChecksum recomputes the checksum over the whole message.
func (b ICMPv4) UpdateChecksum() {
	b.SetChecksum(0)
	b.SetChecksum(Checksum(b))
}

// ChecksumValid reports whether the checksum over the whole message
// verifies.
func (b ICMPv4) ChecksumValid() bool { return Checksum(b) == 0 }
