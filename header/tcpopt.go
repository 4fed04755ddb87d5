package header

import "encoding/binary"

// TCP option kinds Linux knows beyond the ones in tcp.go (include/net/tcp.h).
const (
	TCPOptMD5      = 19  // RFC 2385 signature
	TCPOptAO       = 29  // RFC 5925 authentication option
	TCPOptMPTCP    = 30  // RFC 8684
	TCPOptFastOpen = 34  // RFC 7413
	TCPOptAccECN0  = 172 // AccECN, ECT(0) order
	TCPOptAccECN1  = 174 // AccECN, ECT(1) order
	TCPOptExp      = 254 // RFC 6994 shared experimental kind

	// TCPOptFastOpenMagic follows kind 254 in a pre-RFC Fast Open option.
	TCPOptFastOpenMagic = 0xF989

	// TCPMaxWScale is the largest shift RFC 7323 allows; Linux clamps a
	// larger one to it (TCP_MAX_WSCALE).
	TCPMaxWScale = 14
)

// Option lengths and the room they take as Linux writes them (TCPOLEN_*).
const (
	tcpOptSpace       = 40 // MAX_TCP_OPTION_SPACE
	tcpOptLenMSS      = 4
	tcpOptLenWScale   = 3
	tcpOptLenSACKPerm = 2
	tcpOptLenTS       = 10
	tcpOptLenMD5      = 18
	tcpOptLenSACKBase = 2
	tcpOptLenSACKBlk  = 8
	tcpOptLenFOBase   = 2 // kind 34
	tcpOptLenFOExp    = 4 // kind 254 and the magic
	tcpOptLenAOHdr    = 4 // kind, length, keyid, rnextkeyid
	tcpFOCookieMin    = 4 // TCP_FASTOPEN_COOKIE_MIN
	tcpFOCookieMax    = 16

	tcpAlignedTS, tcpAlignedWScale, tcpAlignedSACKPerm = 12, 4, 4
	tcpAlignedMSS, tcpAlignedMD5, tcpAlignedSACKBase   = 4, 20, 4

	// tcpAuthMinLen is where tcp_do_parse_auth_options stops looking for a
	// signature: less room than the smallest AO option (built with
	// CONFIG_TCP_AO, as distribution kernels are).
	tcpAuthMinLen = tcpOptLenAOHdr + 1
)

// SACKBlock is one SACK block (RFC 2018): the bytes [Start, End) arrived.
type SACKBlock struct{ Start, End uint32 }

// TCPOptions is what Linux's tcp_parse_options (and, for the signature
// options, tcp_do_parse_auth_options) learns from a segment's options, and
// what AppendTCPOptions writes. It mirrors struct tcp_options_received and
// struct tcp_out_options, flattened; offsets are into the option bytes, not
// the header.
type TCPOptions struct {
	MSS    uint16 // maximum segment size; 0 in a SYN is ignored
	HasMSS bool

	WScale    uint8 // shift, clamped to TCPMaxWScale
	WScaleRaw uint8 // shift as received: above 14 Linux logs "Illegal window scaling value"
	HasWScale bool

	SACKPermitted bool

	TS    bool // a timestamp option of the right length was seen
	TSVal uint32
	TSEcr uint32

	// SACK holds the blocks of the last well-formed SACK option, at most
	// four (TCP_NUM_SACKS); whether the connection agreed to SACK is the
	// caller's to check.
	SACK    [4]SACKBlock
	NumSACK int

	// Fast Open (tcp_parse_fastopen_option): only in a SYN, only with an
	// even cookie length. FastOpenLen is struct tcp_fastopen_cookie's len:
	// 0 a cookie request, 4 to 16 a cookie in FastOpenCookie, -1 a length
	// Linux refuses.
	FastOpen       bool
	FastOpenExp    bool // the kind 254 form with TCPOptFastOpenMagic
	FastOpenLen    int8
	FastOpenCookie [16]byte

	// Signatures, found as tcp_do_parse_auth_options finds them: MD5Offset
	// is where the 16-byte digest starts, AOOffset where the AO option
	// starts. AuthBad is that function's error (a malformed option while
	// it looked, an MD5 option not 18 bytes, an AO option of 4 bytes or
	// less, or a second signature): Linux drops such a segment
	// (SKB_DROP_REASON_TCP_AUTH_HDR) before tcp_parse_options runs.
	MD5       bool
	MD5Offset uint8
	AO        bool
	AOOffset  uint8
	AuthBad   bool

	// AccECN is set when an AccECN option is present; Linux records its
	// offset and checks it later (tcp_accecn_process).
	AccECN       bool
	AccECNOffset uint8

	// Unknown is saw_unknown: a kind Linux does not handle (including
	// experimental options other than Fast Open's).
	Unknown bool
}

// ParseTCPOptions reads a segment's option bytes (TCP.Options) with
// tcp_parse_options' tolerance: EOL ends the list, NOP is skipped, and a
// kind with no length byte, a length below 2 or a length running past the
// end stops parsing with what was learnt so far. An option of the wrong
// length for its kind is skipped. syn says the segment is a SYN parsed
// outside an established connection (Linux's th->syn && !estab): only then
// are MSS, window scale, SACK-permitted and Fast Open taken. Timestamps and
// SACK blocks are taken from any segment; the sysctls and what the
// connection negotiated (tstamp_ok, sack_ok) are the caller's to apply, as
// is user_mss. Only the first 40 bytes are read: no header holds more. It
// does not allocate.
func ParseTCPOptions(b []byte, syn bool) TCPOptions {
	var o TCPOptions
	b = b[:min(len(b), tcpOptSpace)]
	auth := true // tcp_do_parse_auth_options still looking
	for i := 0; i < len(b); {
		rem := len(b) - i
		if rem < tcpAuthMinLen {
			auth = false
		}
		kind := b[i]
		if kind == TCPOptEOL {
			break
		}
		if kind == TCPOptNOP {
			i++
			continue
		}
		if rem < 2 {
			break
		}
		size := int(b[i+1])
		if size < 2 || size > rem {
			o.AuthBad = o.AuthBad || auth
			break
		}
		data := b[i+2 : i+size]
		switch kind {
		case TCPOptMSS:
			if size == tcpOptLenMSS && syn {
				if mss := binary.BigEndian.Uint16(data); mss != 0 {
					o.MSS, o.HasMSS = mss, true
				}
			}
		case TCPOptWindowScale:
			if size == tcpOptLenWScale && syn {
				o.HasWScale, o.WScaleRaw = true, data[0]
				o.WScale = min(data[0], TCPMaxWScale)
			}
		case TCPOptTimestamp:
			if size == tcpOptLenTS {
				o.TS = true
				o.TSVal = binary.BigEndian.Uint32(data[0:4])
				o.TSEcr = binary.BigEndian.Uint32(data[4:8])
			}
		case TCPOptSACKPermitted:
			if size == tcpOptLenSACKPerm && syn {
				o.SACKPermitted = true
			}
		case TCPOptSACK:
			if size >= tcpOptLenSACKBase+tcpOptLenSACKBlk && (size-tcpOptLenSACKBase)%tcpOptLenSACKBlk == 0 {
				o.NumSACK = min(len(o.SACK), (size-tcpOptLenSACKBase)/tcpOptLenSACKBlk)
				for j := range o.NumSACK {
					blk := data[j*tcpOptLenSACKBlk:]
					o.SACK[j] = SACKBlock{binary.BigEndian.Uint32(blk[0:4]), binary.BigEndian.Uint32(blk[4:8])}
				}
			}
		case TCPOptMD5, TCPOptAO, TCPOptMPTCP:
			// Signatures: authOption below. MPTCP: no unknown option
			// to Linux, though vnic has no MPTCP to hand it to.
		case TCPOptFastOpen:
			o.fastOpen(data, syn, false)
		case TCPOptAccECN0, TCPOptAccECN1:
			o.AccECN, o.AccECNOffset = true, uint8(i)
		case TCPOptExp:
			if size >= tcpOptLenFOExp && binary.BigEndian.Uint16(data) == TCPOptFastOpenMagic {
				o.fastOpen(data[2:], syn, true)
			} else {
				o.Unknown = true
			}
		default:
			o.Unknown = true
		}
		if auth {
			o.authOption(kind, size, i)
			auth = !o.AuthBad
		}
		i += size
	}
	return o
}

// authOption is one step of tcp_do_parse_auth_options over an option at
// offset off whose length is known to fit.
func (o *TCPOptions) authOption(kind byte, size, off int) {
	switch kind {
	case TCPOptMD5:
		switch {
		case size != tcpOptLenMD5 || o.MD5 || o.AO:
			o.AuthBad = true
		default:
			o.MD5, o.MD5Offset = true, uint8(off+2)
		}
	case TCPOptAO:
		switch {
		case size <= tcpOptLenAOHdr || o.MD5 || o.AO:
			o.AuthBad = true
		default:
			o.AO, o.AOOffset = true, uint8(off)
		}
	}
}

// fastOpen is tcp_parse_fastopen_option: cookie is the option's value
// after the kind, length (and magic).
func (o *TCPOptions) fastOpen(cookie []byte, syn, exp bool) {
	n := len(cookie)
	if !syn || n&1 != 0 {
		return
	}
	switch {
	case n >= tcpFOCookieMin && n <= tcpFOCookieMax:
		copy(o.FastOpenCookie[:], cookie)
	case n != 0:
		n = -1
	}
	o.FastOpen, o.FastOpenExp, o.FastOpenLen = true, exp, int8(n)
}

// TCPOptionsKind names the segment an option set is written for; each kind
// applies the rules of the Linux function that chooses that segment's
// options. AppendTCPOptions then lays them out as tcp_options_write does,
// in this order, every option padded with NOPs in front to 4 bytes (bytes
// in hex, then packetdrill's notation):
//
//	01 01 13 12 <16-byte digest>             nop,nop,md5 (digest written as zeros)
//	02 04 <mss>                              mss 1460
//	04 02 08 0a <tsval> <tsecr>              sackOK,TS val V ecr E (both on)
//	01 01 08 0a <tsval> <tsecr>              nop,nop,TS val V ecr E
//	01 01 04 02                              nop,nop,sackOK (without TS)
//	01 03 03 <shift>                         nop,wscale 7
//	01 01 05 <2+8n> {<start> <end>}×n        nop,nop,sack S1:E1 S2:E2
//	22 <2+n> <cookie> [01 01]                FO cookie (NOP NOP when 2+n ≡ 2 mod 4)
//	fe <4+n> f9 89 <cookie> [01 01]          the experimental form
//
// So a SYN with everything on is <mss 1460,sackOK,TS val V ecr 0,nop,wscale 7>
// (20 bytes), without timestamps <mss 1460,nop,nop,sackOK,nop,wscale 7>
// (12 bytes), an established segment <nop,nop,TS val V ecr E> or, with
// SACK, <nop,nop,TS val V ecr E,nop,nop,sack S1:E1 S2:E2 S3:E3> (at most
// three blocks beside timestamps, four without).
type TCPOptionsKind uint8

const (
	// TCPOptionsSYN is tcp_syn_options: MD5 if set, MSS, timestamps
	// (never beside MD5), window scale, SACK-permitted, then the Fast
	// Open option if it still fits.
	TCPOptionsSYN TCPOptionsKind = iota + 1
	// TCPOptionsSYNACK is tcp_synack_options: as a SYN, except that with
	// MD5 a SACK-permitted set loses its timestamps (MD5 + TS would leave
	// no room for SACK blocks); Linux clears tstamp_ok for the connection
	// then, and so must the caller.
	TCPOptionsSYNACK
	// TCPOptionsSYNACKCookie is a SYN-ACK carrying a SYN cookie
	// (TCP_SYNACK_COOKIE): the timestamps stay even beside MD5 and
	// SACK-permitted, since the cookie's options ride in TSval.
	TCPOptionsSYNACKCookie
	// TCPOptionsEstablished is tcp_established_options: MD5 if set,
	// timestamps, then as many SACK blocks as fit in the 40 bytes, if at
	// least one does. MSS, window scale, SACK-permitted and Fast Open are
	// never written.
	TCPOptionsEstablished
)

// tcpOptPlan is what a kind writes of a set, and how many bytes it takes.
type tcpOptPlan struct {
	md5, mss, ts, sackPerm, wscale, fastOpen bool
	nsack, n                                 int
}

func (o *TCPOptions) plan(kind TCPOptionsKind) tcpOptPlan {
	var p tcpOptPlan
	if kind < TCPOptionsSYN || kind > TCPOptionsEstablished {
		return p
	}
	rem := tcpOptSpace
	if p.md5 = o.MD5; p.md5 {
		rem -= tcpAlignedMD5
	}
	if kind == TCPOptionsEstablished {
		if p.ts = o.TS; p.ts {
			rem -= tcpAlignedTS
		}
		if o.NumSACK > 0 && rem >= tcpAlignedSACKBase+tcpOptLenSACKBlk {
			p.nsack = min(o.NumSACK, len(o.SACK), (rem-tcpAlignedSACKBase)/tcpOptLenSACKBlk)
			rem -= tcpAlignedSACKBase + p.nsack*tcpOptLenSACKBlk
		}
		p.n = tcpOptSpace - rem
		return p
	}
	if o.HasMSS && o.MSS != 0 {
		p.mss = true
		rem -= tcpAlignedMSS
	}
	p.ts = o.TS
	switch {
	case kind == TCPOptionsSYN && o.MD5:
		p.ts = false
	case kind == TCPOptionsSYNACK && o.MD5 && o.SACKPermitted:
		p.ts = false
	}
	if p.ts {
		rem -= tcpAlignedTS
	}
	if p.wscale = o.HasWScale; p.wscale {
		rem -= tcpAlignedWScale
	}
	if p.sackPerm = o.SACKPermitted; p.sackPerm && !p.ts {
		rem -= tcpAlignedSACKPerm
	}
	if n := int(o.FastOpenLen); o.FastOpen && n >= 0 && n <= tcpFOCookieMax && n&1 == 0 {
		need := n + tcpOptLenFOBase
		if o.FastOpenExp {
			need = n + tcpOptLenFOExp
		}
		if need = (need + 3) &^ 3; rem >= need {
			p.fastOpen = true
			rem -= need
		}
	}
	p.n = tcpOptSpace - rem
	return p
}

// OptionsLen is the number of bytes AppendTCPOptions writes for o as kind:
// a multiple of 4, at most 40. A header carrying them is
// TCPMinHeaderLen+OptionsLen long.
func (o *TCPOptions) OptionsLen(kind TCPOptionsKind) int { return o.plan(kind).n }

// AppendTCPOptions appends o's options as Linux writes them on a segment of
// the given kind (see TCPOptionsKind for the rules and the exact bytes) and
// returns the extended slice; it does not allocate when dst has
// o.OptionsLen(kind) bytes of spare capacity. With o.MD5 the digest's 16
// bytes follow the first 4 written, zeroed for the caller to fill once the
// segment is complete. Signature options other than MD5 (TCP-AO) are not
// written.
func AppendTCPOptions(dst []byte, o *TCPOptions, kind TCPOptionsKind) []byte {
	p := o.plan(kind)
	be := binary.BigEndian
	if p.md5 {
		dst = append(dst, TCPOptNOP, TCPOptNOP, TCPOptMD5, tcpOptLenMD5)
		dst = append(dst, make([]byte, tcpOptLenMD5-2)...)
	}
	if p.mss {
		dst = append(dst, TCPOptMSS, tcpOptLenMSS)
		dst = be.AppendUint16(dst, o.MSS)
	}
	if p.ts {
		if p.sackPerm {
			dst = append(dst, TCPOptSACKPermitted, tcpOptLenSACKPerm, TCPOptTimestamp, tcpOptLenTS)
		} else {
			dst = append(dst, TCPOptNOP, TCPOptNOP, TCPOptTimestamp, tcpOptLenTS)
		}
		dst = be.AppendUint32(dst, o.TSVal)
		dst = be.AppendUint32(dst, o.TSEcr)
	} else if p.sackPerm {
		dst = append(dst, TCPOptNOP, TCPOptNOP, TCPOptSACKPermitted, tcpOptLenSACKPerm)
	}
	if p.wscale {
		dst = append(dst, TCPOptNOP, TCPOptWindowScale, tcpOptLenWScale, o.WScale)
	}
	if p.nsack > 0 {
		dst = append(dst, TCPOptNOP, TCPOptNOP, TCPOptSACK, byte(tcpOptLenSACKBase+p.nsack*tcpOptLenSACKBlk))
		for _, blk := range o.SACK[:p.nsack] {
			dst = be.AppendUint32(dst, blk.Start)
			dst = be.AppendUint32(dst, blk.End)
		}
	}
	if p.fastOpen {
		n := int(o.FastOpenLen)
		size := tcpOptLenFOBase + n
		if o.FastOpenExp {
			size = tcpOptLenFOExp + n
			dst = append(dst, TCPOptExp, byte(size))
			dst = be.AppendUint16(dst, TCPOptFastOpenMagic)
		} else {
			dst = append(dst, TCPOptFastOpen, byte(size))
		}
		dst = append(dst, o.FastOpenCookie[:n]...)
		if size&3 == 2 {
			dst = append(dst, TCPOptNOP, TCPOptNOP)
		}
	}
	return dst
}
