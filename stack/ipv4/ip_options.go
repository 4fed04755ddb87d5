package ipv4

import (
	"encoding/binary"
	"errors"
)

// IPv4 option type bytes: copied flag (bit 7), class (bits 6-5), number
// (bits 4-0). These are Linux's values; the seed's table gives TIMESTAMP
// the copied flag and Router Alert none, the other way round from Linux
// (spec seed-A A-OPT-09): vnic follows Linux, so a timestamp stays in the
// first fragment only and Router Alert goes into every fragment.
const (
	IPOptEnd       = 0x00
	IPOptNoop      = 0x01
	IPOptSec       = 0x82 // 130
	IPOptLSRR      = 0x83 // 131
	IPOptTimestamp = 0x44 // 68
	IPOptCIPSO     = 0x86 // 134
	IPOptRR        = 0x07
	IPOptSID       = 0x88 // 136
	IPOptSSRR      = 0x89 // 137
	IPOptRA        = 0x94 // 148

	IPOptCopied = 0x80
	IPOptClass  = 0x60
	IPOptNumber = 0x1f

	// IPOptMinOff is the smallest pointer of a route or record option
	// (1-based, just past type, length and pointer).
	IPOptMinOff = 4
	// IPOptMaxLen is the most option bytes a header holds (60 − 20).
	IPOptMaxLen = 40
)

// Timestamp option flags (the low nibble of its fourth byte; the high
// nibble counts hosts that found no room).
const (
	IPOptTSOnly    = 0 // timestamps
	IPOptTSAndAddr = 1 // address and timestamp pairs
	IPOptTSPrespec = 3 // timestamps for the prespecified addresses only
)

// IPOptions is what compiling a header's options found: each option's
// offset from the start of the header (0: absent) and what the packet
// still needs on its way (ip_options).
type IPOptions struct {
	Len         int // option bytes: IHL×4 − 20
	SRR         int // LSRR or SSRR
	RR          int
	TS          int
	RouterAlert int
	CIPSO       int
	StrictRoute bool // SRR is strict (SSRR)
	// RRNeedAddr: RR has room; a forwarding hop writes its address.
	// TSNeedTime/TSNeedAddr: likewise for the timestamp option.
	RRNeedAddr, TSNeedTime, TSNeedAddr bool
	// Changed: compiling rewrote header bytes (the checksum must be
	// recomputed).
	Changed bool
	// FirstHop is a source route's first listed address (the next hop a
	// sender routes to; set for locally built options).
	FirstHop [4]byte
}

// ErrBadIPOption is a malformed option: the caller drops the packet and,
// for a received one, answers with ICMP parameter problem pointing at the
// offending byte.
var ErrBadIPOption = errors.New("stack: malformed IPv4 option")

// IPOptionContext is what compiling needs from the rest of the stack.
type IPOptionContext struct {
	// Received: the options came in a packet (they are updated as the
	// receiving host would: a record-route slot and timestamps filled,
	// the timestamp overflow counted). Otherwise they are a local
	// sender's, checked only.
	Received bool
	// Addr is the address a received packet's record route or
	// address-and-timestamp option records here (Linux's spec_dst: the
	// receiving interface's address towards the source); zero records
	// nothing.
	Addr [4]byte
	// Now is the timestamp to write: milliseconds since midnight UT.
	Now func() uint32
	// Local reports whether an address is not another host's unicast
	// one (inet_addr_type != RTN_UNICAST: this host's, a broadcast, zero
	// or multicast address): only such a prespecified timestamp slot is
	// filled here.
	Local func([4]byte) bool
	// Privileged lets a local sender use the options only a privileged
	// socket may set (security, stream ID, unknown ones, CIPSO).
	Privileged bool
}

// CompileIPOptions parses and validates the options of hdr, an IPv4
// header of IHL×4 bytes, as Linux's ip_options_compile does. For a
// received packet it updates them in hdr in place: bytes after END become
// END, record route and address-and-timestamp record ctx.Addr, timestamp
// slots get ctx.Now, a full timestamp option counts the overflow. On a
// malformed option it returns ErrBadIPOption and the offset in hdr of the
// byte ICMP parameter problem points at.
func CompileIPOptions(hdr []byte, ctx IPOptionContext) (IPOptions, int, error) {
	var o IPOptions
	if len(hdr) < 20 {
		return o, 0, ErrBadIPOption
	}
	o.Len = len(hdr) - 20
	bad := func(at int) (IPOptions, int, error) { return o, at, ErrBadIPOption }
	for p := 20; p < len(hdr); {
		left := len(hdr) - p
		switch hdr[p] {
		case IPOptEnd:
			// Nothing follows END: a receiver clears what does.
			for q := p + 1; q < len(hdr); q++ {
				if hdr[q] != IPOptEnd {
					if ctx.Received {
						hdr[q] = IPOptEnd
						o.Changed = true
					}
				}
			}
			return o, 0, nil
		case IPOptNoop:
			p++
			continue
		}
		if left < 2 {
			return bad(p)
		}
		n := int(hdr[p+1])
		if n < 2 || n > left {
			return bad(p)
		}
		opt := hdr[p : p+n]
		switch hdr[p] {
		case IPOptSSRR, IPOptLSRR:
			if n < 3 {
				return bad(p + 1)
			}
			if opt[2] < IPOptMinOff {
				return bad(p + 2)
			}
			if o.SRR != 0 { // one source route (RFC 1812 5.2.4.1)
				return bad(p)
			}
			if !ctx.Received {
				// A sender's route starts at its first address, which
				// is the next hop: it leaves the list (the rest moves
				// up; the last slot is for the final destination when
				// the header is built).
				if opt[2] != IPOptMinOff || n < 7 || (n-3)%4 != 0 {
					return bad(p + 1)
				}
				copy(o.FirstHop[:], opt[3:7])
				copy(opt[3:], opt[7:])
			}
			o.StrictRoute = hdr[p] == IPOptSSRR
			o.SRR = p
		case IPOptRR:
			if o.RR != 0 {
				return bad(p)
			}
			if n < 3 {
				return bad(p + 1)
			}
			if opt[2] < IPOptMinOff {
				return bad(p + 2)
			}
			if int(opt[2]) <= n { // room left
				if int(opt[2])+3 > n {
					return bad(p + 2)
				}
				if ctx.Received && ctx.Addr != ([4]byte{}) {
					copy(opt[opt[2]-1:], ctx.Addr[:])
					o.Changed = true
				}
				opt[2] += 4
				o.RRNeedAddr = true
			}
			o.RR = p
		case IPOptTimestamp:
			if at, ok := compileTimestamp(&o, opt, p, ctx); !ok {
				return bad(at)
			}
		case IPOptRA:
			if n < 4 {
				return bad(p + 1)
			}
			if opt[2] == 0 && opt[3] == 0 {
				o.RouterAlert = p
			}
		case IPOptCIPSO:
			// No CIPSO domain of interpretation is configured, so any
			// label is refused, at its length when that is short, else
			// at its DOI (as cipso_v4_validate without a DOI).
			if (!ctx.Received && !ctx.Privileged) || o.CIPSO != 0 {
				return bad(p)
			}
			o.CIPSO = p
			if n < 8 {
				return bad(p + 1)
			}
			return bad(p + 2)
		default: // SEC, SID and unknown options pass through a router
			if !ctx.Received && !ctx.Privileged {
				return bad(p)
			}
		}
		p += n
	}
	return o, 0, nil
}

// compileTimestamp is the timestamp option at offset p of the header: its
// failure offset, or ok.
func compileTimestamp(o *IPOptions, opt []byte, p int, ctx IPOptionContext) (int, bool) {
	n := len(opt)
	if o.TS != 0 {
		return p, false
	}
	if n < 4 {
		return p + 1, false
	}
	if opt[2] < 5 {
		return p + 2, false
	}
	ptr := int(opt[2])
	if ptr <= n { // room left
		if ptr+3 > n {
			return p + 2, false
		}
		stamp := -1 // where the timestamp goes, if one is written here
		switch opt[3] & 0x0f {
		case IPOptTSOnly:
			stamp = ptr - 1
			o.TSNeedTime = true
			opt[2] += 4
		case IPOptTSAndAddr:
			if ptr+7 > n {
				return p + 2, false
			}
			if ctx.Received && ctx.Addr != ([4]byte{}) {
				copy(opt[ptr-1:], ctx.Addr[:])
				stamp = ptr + 3
			}
			o.TSNeedAddr, o.TSNeedTime = true, true
			opt[2] += 8
		case IPOptTSPrespec:
			if ptr+7 > n {
				return p + 2, false
			}
			var a [4]byte
			copy(a[:], opt[ptr-1:ptr+3])
			if ctx.Local != nil && ctx.Local(a) {
				stamp = ptr + 3
				o.TSNeedTime = true
				opt[2] += 8
			}
			// Another host's slot: left for it.
		default:
			if !ctx.Received && !ctx.Privileged {
				return p + 3, false
			}
		}
		if stamp >= 0 && ctx.Received && ctx.Now != nil {
			binary.BigEndian.PutUint32(opt[stamp:], ctx.Now())
			o.Changed = true
		}
	} else if opt[3]&0x0f != IPOptTSPrespec {
		// Full: count the hosts that found no room, 15 at most.
		over := opt[3] >> 4
		if over == 15 {
			return p + 3, false
		}
		if ctx.Received {
			opt[3] = opt[3]&0x0f | (over+1)<<4
			o.Changed = true
		}
	}
	o.TS = p
	return 0, true
}

// FragmentIPOptions prepares the options of hdr, the header of a
// datagram's first fragment, for the fragments that follow
// (ip_options_fragment): options without the copied flag become NOOPs,
// so every later fragment keeps the header length and only the options
// that must travel with each fragment (source routes, security, Router
// Alert) stay. The caller copies the result into each later fragment.
func FragmentIPOptions(hdr []byte) {
	for p := 20; p < len(hdr); {
		switch hdr[p] {
		case IPOptEnd:
			return
		case IPOptNoop:
			p++
			continue
		}
		if p+1 >= len(hdr) {
			return
		}
		n := int(hdr[p+1])
		if n < 2 || p+n > len(hdr) {
			return // compile refused it already; never read past
		}
		if hdr[p]&IPOptCopied == 0 {
			for q := p; q < p+n; q++ {
				hdr[q] = IPOptNoop
			}
		}
		p += n
	}
}

// ErrEchoIPOptions is a received option set that leaves no room for the
// answer's own entry (a record route or timestamp slot half there):
// __ip_options_echo refuses it and nothing is sent.
var ErrEchoIPOptions = errors.New("stack: IPv4 options cannot be echoed")

// EchoIPOptions is __ip_options_echo: from sopt, the compiled options of
// the received header hdr, it builds in dst the options an answer to that
// packet carries and returns them compiled (offsets from the start of the
// answer's header). As Linux, in this order and without the NOPs:
//   - record route is copied, and when it still has room the answer
//     claims the next slot (RRNeedAddr: the answer's source goes there
//     as it leaves);
//   - the timestamp option is copied, the answer claiming its next entry
//     the same way (an address and a time, or a time; a prespecified
//     entry only when its address is not another host's unicast one:
//     notUnicast);
//   - a source route comes back reversed: the last hop it passed is the
//     answer's first hop (FirstHop), the earlier hops follow in reverse
//     order (the packet's own source left out, RFC 1812 5.2.4.1), and the
//     last slot is for the destination, written as the answer is built;
//   - a CIPSO label is copied.
//
// Every other option (security, stream ID, Router Alert, unknown ones)
// stays behind: Linux echoes none of them. The result is padded with END
// to a multiple of four bytes.
func EchoIPOptions(dst *[IPOptMaxLen]byte, hdr []byte, sopt *IPOptions, notUnicast func([4]byte) bool) (IPOptions, error) {
	var d IPOptions
	if sopt.Len == 0 {
		return d, nil
	}
	n := 0
	if sopt.RR != 0 {
		opt := hdr[sopt.RR : sopt.RR+int(hdr[sopt.RR+1])]
		optlen, soff := len(opt), int(opt[2])
		d.RR = IPv4HdrLen + n
		copy(dst[n:], opt)
		if sopt.RRNeedAddr && soff <= optlen {
			if soff+3 > optlen {
				return IPOptions{}, ErrEchoIPOptions
			}
			dst[n+2] = byte(soff + 4)
			d.RRNeedAddr = true
		}
		n += optlen
	}
	if sopt.TS != 0 {
		opt := hdr[sopt.TS : sopt.TS+int(hdr[sopt.TS+1])]
		optlen, soff := len(opt), int(opt[2])
		d.TS = IPv4HdrLen + n
		copy(dst[n:], opt)
		if soff <= optlen {
			if sopt.TSNeedAddr {
				if soff+3 > optlen {
					return IPOptions{}, ErrEchoIPOptions
				}
				d.TSNeedAddr = true
				soff += 4
			}
			if sopt.TSNeedTime {
				if soff+3 > optlen {
					return IPOptions{}, ErrEchoIPOptions
				}
				if opt[3]&0x0f != IPOptTSPrespec {
					d.TSNeedTime = true
					soff += 4
				} else if soff+7 <= optlen {
					var a [4]byte
					copy(a[:], opt[soff-1:soff+3])
					if notUnicast != nil && notUnicast(a) {
						d.TSNeedTime = true
						soff += 8
					}
				}
			}
			dst[n+2] = byte(soff)
		}
		n += optlen
	}
	if sopt.SRR != 0 {
		opt := hdr[sopt.SRR : sopt.SRR+int(hdr[sopt.SRR+1])]
		optlen, soff := len(opt), int(opt[2])
		if soff > optlen {
			soff = optlen + 1
		}
		soff -= 4 // the last address the packet passed
		doff := 0
		var faddr [4]byte
		if soff > 3 {
			copy(faddr[:], opt[soff-1:soff+3])
			for soff, doff = soff-4, 4; soff > 3; soff, doff = soff-4, doff+4 {
				copy(dst[n+doff-1:n+doff+3], opt[soff-1:soff+3])
			}
			if [4]byte(opt[soff+3:soff+7]) == [4]byte(hdr[12:16]) {
				doff -= 4 // the source itself heads the route: left out
			}
		}
		if doff > 3 {
			d.FirstHop = faddr
			dst[n], dst[n+1], dst[n+2] = opt[0], byte(doff+3), IPOptMinOff
			d.SRR = IPv4HdrLen + n
			d.StrictRoute = sopt.StrictRoute
			n += doff + 3
		}
	}
	if sopt.CIPSO != 0 {
		optlen := int(hdr[sopt.CIPSO+1])
		d.CIPSO = IPv4HdrLen + n
		copy(dst[n:], hdr[sopt.CIPSO:sopt.CIPSO+optlen])
		n += optlen
	}
	for n&3 != 0 {
		dst[n] = IPOptEnd
		n++
	}
	d.Len = n
	return d, nil
}

// BuildIPOptions is ip_options_build: hdr is a header being sent with the
// compiled options opt already copied in; the source route's last slot
// gets the real destination daddr, and the entries the options claimed
// (RRNeedAddr, TSNeedAddr, TSNeedTime) get the packet's source saddr and
// the time now. For the fragments after the first the caller then
// applies FragmentIPOptions.
func BuildIPOptions(hdr []byte, opt *IPOptions, daddr, saddr [4]byte, now uint32) {
	if opt.SRR != 0 {
		copy(hdr[opt.SRR+int(hdr[opt.SRR+1])-4:], daddr[:])
	}
	if opt.RRNeedAddr {
		copy(hdr[opt.RR+int(hdr[opt.RR+2])-5:], saddr[:])
	}
	if opt.TSNeedAddr {
		copy(hdr[opt.TS+int(hdr[opt.TS+2])-9:], saddr[:])
	}
	if opt.TSNeedTime {
		binary.BigEndian.PutUint32(hdr[opt.TS+int(hdr[opt.TS+2])-5:], now)
	}
}
