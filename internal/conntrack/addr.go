package conntrack

import (
	"net/netip"
	"strings"
)

// setFamily is set_family.
func (c *command) setFamily(f uint8) *exitError {
	if c.family == AFUnspec {
		c.family = f
	} else if c.family != f {
		return paramErr("mismatched address family")
	}
	return nil
}

// parseAddr is parse_addr with a netmask: the address, its family (0:
// not one) and the mask length (-1: none, -2: invalid).
func parseAddr(s string, withMask bool) (netip.Addr, uint8, int) {
	if len(s) > 45 {
		s = s[:45] // strncpy into INET6_ADDRSTRLEN
	}
	mask := -1
	if withMask {
		if i := strings.IndexByte(s, '/'); i >= 0 {
			v, n := strtol(s[i+1:])
			if v < 0 || n != len(s)-i-1 || v > 1<<31-1 {
				mask = -2
			} else {
				mask = int(v)
			}
			s = s[:i]
		}
	}
	if a, ok := inetAton(s); ok {
		if mask > 32 {
			mask = -2
		}
		return a, AFInet, mask
	}
	if a, ok := inetPton6(s); ok {
		if mask > 128 {
			mask = -2
		}
		return a, AFInet6, mask
	}
	return netip.Addr{}, AFUnspec, mask
}

// address is nfct_parse_addr_from_opt for -s -d -r -q, --tuple-src and
// --tuple-dst (whose CIDR netmask is a --mask-src or --mask-dst), and
// --mask-src and --mask-dst themselves.
func (c *command) address(r rune, arg string) *exitError {
	maskOpt := map[rune]rune{'s': '{', 'd': '}', '[': '{', ']': '}'}[r]
	a, family, mask := parseAddr(arg, true)
	if family == AFUnspec {
		return paramErr("Invalid IP address `%s'", arg)
	}
	if err := c.setFamily(family); err != nil {
		return err
	}
	if mask != -1 && maskOpt == 0 {
		return paramErr("CIDR notation unavailable for `--%s'", longName(r))
	} else if mask == -2 {
		return paramErr("Invalid netmask")
	}
	c.setAddr(r, a, family)
	bits := 32
	if family == AFInet6 {
		bits = 128
	}
	if mask == -1 || maskOpt == 0 || mask == bits {
		return nil
	}
	m := make([]byte, bits/8)
	for i := range m {
		n := min(max(mask-8*i, 0), 8)
		m[i] = byte(0xff << (8 - n))
	}
	netmask, _ := netip.AddrFromSlice(m)
	c.setAddr(maskOpt, netmask, family)
	return nil
}

// longName is get_long_opt: the first long option of a short one.
func longName(r rune) string {
	for _, o := range baseLongOpts {
		if o.val == r {
			return o.name
		}
	}
	return "unknown"
}

// setAddr is nfct_set_addr_opt: the option's bit, its address and the
// direction's family.
func (c *command) setAddr(r rune, a netip.Addr, family uint8) {
	t := &c.tmpl
	switch r {
	case 's':
		c.options |= 1 << optOrigSrc
		t.origSrc, t.origL3 = a, family
		t.mark(aOrigSrc)
		t.mark(aOrigL3)
	case 'd':
		c.options |= 1 << optOrigDst
		t.origDst, t.origL3 = a, family
		t.mark(aOrigDst)
		t.mark(aOrigL3)
	case 'r':
		c.options |= 1 << optReplSrc
		t.replSrc, t.replL3 = a, family
		t.mark(aReplSrc)
		t.mark(aReplL3)
	case 'q':
		c.options |= 1 << optReplDst
		t.replDst, t.replL3 = a, family
		t.mark(aReplDst)
		t.mark(aReplL3)
	case '[':
		c.options |= 1 << optExpSrc
	case ']':
		c.options |= 1 << optExpDst
	case '{':
		c.options |= 1 << optMaskSrc
		c.nets[0].mask = a
	case '}':
		c.options |= 1 << optMaskDst
		c.nets[1].mask = a
	}
}

// nat is -n, -g and -j: the option, and its optional [address][:port].
func (c *command) nat(g *getopt, r rune) *exitError {
	c.options |= 1 << map[rune]int{'n': optSrcNAT, 'g': optDstNAT, 'j': optAnyNAT}[r]
	arg, ok := c.optionalArg(g)
	if !ok {
		return nil
	}
	addr, port, err := splitAddrPort(arg)
	if err != nil {
		return err
	}
	a, family, mask := parseAddr(addr, true)
	if family == AFUnspec {
		return paramErr("Invalid IP address `%s'", addr)
	}
	if err := c.setFamily(family); err != nil {
		return err
	}
	if mask != -1 {
		return paramErr("CIDR notation unavailable for `--%s'", longName(r))
	}
	t := &c.tmpl
	set := func(snat bool) {
		p := uint16(atoi(port))
		if snat {
			t.snatIP = a
			t.mark(aSNATIP)
			if port != "" {
				t.snatPort = p
				t.mark(aSNATPort)
			}
		} else {
			t.dnatIP = a
			t.mark(aDNATIP)
			if port != "" {
				t.dnatPort = p
				t.mark(aDNATPort)
			}
		}
	}
	switch r {
	case 'n':
		set(true)
	case 'g':
		set(false)
	case 'j':
		set(false)
		set(true)
	}
	t.origL3 = family
	t.mark(aOrigL3)
	return nil
}

// splitAddrPort is split_address_and_port: "addr", "addr:port",
// "[v6]:port" or a bare IPv6 address.
func splitAddrPort(arg string) (addr, port string, err *exitError) {
	if i := strings.IndexByte(arg, '['); i >= 0 {
		start := arg[i+1:]
		j := strings.IndexByte(start, ']')
		switch {
		case j == 0:
			return "", "", paramErr("No IPv6 address specified")
		case j < 0:
			return "", "", paramErr("No closing ']' around IPv6 address")
		}
		rest := start[j:]
		k := strings.IndexByte(rest, ':')
		if k < 0 {
			return arg, "", nil
		}
		addr, port = start[:j], rest[k+1:]
	} else {
		k := strings.IndexByte(arg, ':')
		if k < 0 || strings.IndexByte(arg[k+1:], ':') >= 0 {
			return arg, "", nil
		}
		addr, port = arg[:k], arg[k+1:]
	}
	if port == "" {
		return "", "", paramErr("No port specified after `:'")
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", "", paramErr("Invalid port `%s'", port)
		}
	}
	if v, _, over := strtoul(port, 10); over || v > 65535 {
		return "", "", paramErr("Invalid port `%s'", port)
	}
	return addr, port, nil
}
