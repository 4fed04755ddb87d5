package iptables

import (
	"fmt"
	"math"
	"strings"

	"vnic/internal/cnum"
)

// inetAton is inet_aton (what getaddrinfo reads as a numeric IPv4 host):
// one to four parts, each in C's bases, the last one filling the rest.
func inetAton(s string) ([4]byte, bool) {
	var a [4]byte
	if s == "" {
		return a, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return a, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" || p[0] == '-' || p[0] == '+' || cnum.IsSpace(p[0]) {
			return a, false
		}
		v, rest, ok, overflow := strtoumax(p, 0)
		if !ok || rest != "" || overflow {
			return a, false
		}
		vals[i] = v
	}
	n := len(vals)
	for i := 0; i < n-1; i++ {
		if vals[i] > 255 {
			return a, false
		}
		a[i] = byte(vals[i])
	}
	last := vals[n-1]
	if last >= 1<<(8*uint(5-n)) {
		return a, false
	}
	for i := 3; i >= n-1; i-- {
		a[i] = byte(last)
		last >>= 8
	}
	return a, true
}

// hostByName looks a name up in /etc/hosts (vnic's CLI does not ask DNS).
func hostByName(name string) (addr [4]byte, found bool) {
	eachLine(etcDir+"/hosts", func(fs []string) bool {
		a, ok := inetAton(fs[0])
		if !ok || strings.Count(fs[0], ".") != 3 {
			return true
		}
		for _, n := range fs[1:] {
			if n == name {
				addr, found = a, true
				return false
			}
		}
		return true
	})
	return addr, found
}

// addrName is xtables_ipaddr_to_anyname: a host name of /etc/hosts for
// the address, else the number (vnic's CLI asks no DNS).
func addrName(a [4]byte) string {
	if n := hostByAddr(a); n != "" {
		return n
	}
	return ipString(a)
}

// hostByAddr is gethostbyaddr over /etc/hosts: the first name of the
// first line with the address.
func hostByAddr(a [4]byte) (name string) {
	eachLine(etcDir+"/hosts", func(fs []string) bool {
		if b, ok := inetAton(fs[0]); ok && strings.Count(fs[0], ".") == 3 && b == a {
			name = fs[1]
			return false
		}
		return true
	})
	return name
}

func be32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func put32(v uint32) [4]byte { return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// maskToCIDR is xtables_ipmask_to_cidr (-1 for a non-contiguous mask).
func maskToCIDR(m [4]byte) int {
	v := be32(m)
	if v == math.MaxUint32 {
		return 32
	}
	bits := uint32(0xFFFFFFFE)
	for i := 31; i >= 0; i-- {
		if v == bits {
			return i
		}
		bits <<= 1
	}
	return -1
}

func cidrMask(n int) [4]byte {
	if n <= 0 {
		return [4]byte{}
	}
	return put32(^uint32(0) << (32 - uint(n)))
}

func ipString(a [4]byte) string { return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]) }

// maskNumeric is xtables_ipmask_to_numeric: "" for /32, "/n", or the
// dotted mask.
func maskNumeric(m [4]byte) string {
	switch n := maskToCIDR(m); {
	case n < 0:
		return "/" + ipString(m)
	case n == 32:
		return ""
	default:
		return fmt.Sprintf("/%d", n)
	}
}

// maskSave is mask_to_str: the prefix length, or the dotted mask.
func maskSave(m [4]byte) string {
	if n := maskToCIDR(m); n >= 0 {
		return fmt.Sprint(n)
	}
	return ipString(m)
}

// numericToIPAddr is __numeric_to_ipaddr: dotted parts in C's bases, each
// a byte; fewer than four parts leave the rest zero (not as inet_aton). A
// mask needs all four.
func numericToIPAddr(s string, isMask bool) ([4]byte, bool) {
	var a [4]byte
	if len(s) > 19 {
		s = s[:19]
	}
	parts := strings.SplitN(s, ".", 4)
	if isMask && len(parts) < 4 {
		return a, false
	}
	for i, p := range parts {
		v, ok := strtoui(p, 0, 255)
		if !ok {
			return a, false
		}
		a[i] = byte(v)
	}
	return a, true
}

// parseIPMask is parse_ipmask.
func (p *prog) parseIPMask(mask string, given bool) ([4]byte, error) {
	if !given {
		return [4]byte{255, 255, 255, 255}, nil
	}
	if m, ok := numericToIPAddr(mask, true); ok {
		return m, nil
	}
	bits, ok := strtoui(mask, 0, 32)
	if !ok {
		return [4]byte{}, p.xtError(parameterProblem, "invalid mask `%s' specified", mask)
	}
	return cidrMask(int(bits)), nil
}

// ipparseMultiple is xtables_ipparse_multiple: comma-separated
// host[/mask], each address masked.
func (p *prog) ipparseMultiple(name string) (addrs, masks [][4]byte, err error) {
	for _, item := range strings.Split(name, ",") {
		item = strings.TrimLeft(item, " \t\n\v\f\r")
		if len(item) > 255 {
			return nil, nil, p.xtError(parameterProblem, "Hostname too long")
		}
		host, mask, hasMask := item, "", false
		if i := strings.LastIndexByte(item, '/'); i >= 0 {
			host, mask, hasMask = item[:i], item[i+1:], true
		}
		m, err := p.parseIPMask(mask, hasMask)
		if err != nil {
			return nil, nil, err
		}
		if m == ([4]byte{}) {
			host = "0.0.0.0"
		}
		a, ok := numericToIPAddr(host, false)
		if !ok {
			if a, ok = hostByName(host); !ok {
				return nil, nil, p.xtError(parameterProblem, "host/network `%s' not found", host)
			}
		}
		addrs = append(addrs, put32(be32(a)&be32(m)))
		masks = append(masks, m)
	}
	return addrs, masks, nil
}

// parseProtocol is xtables_parse_protocol.
func (p *prog) parseProtocol(s string) (uint16, error) {
	if v, ok := strtoui(s, 0, math.MaxUint8); ok {
		return uint16(v), nil
	}
	if s == "all" {
		return 0, nil
	}
	if n, ok := protoNumber(s); ok {
		return uint16(n), nil
	}
	for _, cp := range chainProtos {
		if cp.name == s {
			return uint16(cp.num), nil
		}
	}
	return 0, p.xtError(parameterProblem, "unknown protocol \"%s\" specified", s)
}

// parsePort is xtables_parse_port: a number (C's bases) or a service of
// proto.
func (p *prog) parsePort(port, proto string) (uint16, error) {
	if v, ok := strtoui(port, 0, math.MaxUint16); ok {
		return uint16(v), nil
	}
	if v := servicePort(port, proto); v >= 0 {
		return uint16(v), nil
	}
	return 0, p.xtError(parameterProblem, "invalid port/service `%s' specified", port)
}

// saveString is xtables_save_string: a word as is, anything else quoted
// with ", \ and ' escaped.
func saveString(w *strings.Builder, v string) {
	plain := v != ""
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		w.WriteString(" " + v)
		return
	}
	w.WriteString(" \"")
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' || c == '\'' {
			w.WriteByte('\\')
		}
		w.WriteByte(v[i])
	}
	w.WriteByte('"')
}
