package conntrack

import (
	"strings"
)

// parseU32Mask is -m's value[/mask] as conntrack 1.4.7 reads it (strtoul,
// without checking what follows).
func parseU32Mask(s string) u32mask {
	v, n, _ := strtoul(s, 0)
	m := u32mask{value: uint32(v), mask: ^uint32(0)}
	if n < len(s) && s[n] == '/' {
		mv, _, _ := strtoul(s[n+1:], 0)
		m.mask = uint32(mv)
	}
	return m
}

// doParseParameter is do_parse_parameter: SRC_NAT and DST_NAT are
// warned about (and taken as nothing); else the first word of the table
// the text is a prefix of, any case.
func (c *command) doParseParameter(s string, value *uint32, table int) bool {
	prefix := func(word string) bool { return len(s) <= len(word) && strings.EqualFold(word[:len(s)], s) }
	if prefix("SRC_NAT") {
		c.warnings = append(c.warnings, "WARNING: ignoring SRC_NAT, use --src-nat instead")
		return true
	}
	if prefix("DST_NAT") {
		c.warnings = append(c.warnings, "WARNING: ignoring DST_NAT, use --dst-nat instead")
		return true
	}
	for _, p := range parseTables[table] {
		if prefix(p.name) {
			*value |= p.val
			return true
		}
	}
	return false
}

// parseParam is parse_parameter: comma-separated words.
func (c *command) parseParam(arg string, value *uint32, table int) *exitError {
	for {
		i := strings.IndexByte(arg, ',')
		if i < 0 {
			break
		}
		if i == 0 || !c.doParseParameter(arg[:i], value, table) {
			return paramErr("Bad parameter `%s'", arg)
		}
		arg = arg[i+1:]
	}
	if arg == "" || !c.doParseParameter(arg, value, table) {
		return paramErr("Bad parameter `%s'", arg)
	}
	return nil
}

// parseMask is parse_parameter_mask: -u's words, a '!' one into the
// mask only (the bit must be clear), UNREPLIED as !SEEN_REPLY. A bad
// word is reported with the text from it on, as conntrack reports it.
func (c *command) parseMask(arg string, status, mask *uint32, table int) *exitError {
	for {
		i := strings.IndexByte(arg, ',')
		last := i < 0
		if !last && i == 0 {
			return paramErr("Bad parameter `%s'", arg)
		}
		negated := strings.HasPrefix(arg, "!")
		if negated {
			arg = arg[1:]
			i--
		}
		if !last && i == 0 {
			return paramErr("Bad parameter `%s'", arg)
		}
		v := status
		if negated {
			v = mask
		}
		word := arg
		if !last {
			word = arg[:i]
		}
		switch {
		case !negated && strings.HasPrefix(arg, "UNREPLIED"):
			*mask |= ipsSeenReply
		case word == "" || !c.doParseParameter(word, v, table):
			return paramErr("Bad parameter `%s'", arg)
		}
		if last {
			return nil
		}
		arg = arg[i+1:]
	}
}
