package iproute

import (
	"strconv"
	"strings"
)

// Route realms (RTA_FLOW: from<<16 | to), as iproute2 reads and prints
// them. A realm is a number 0..255 or a name of rt_realms (Debian's
// file names only 0, "cosmos").

// realmName is rtnl_rtrealm_n2a.
func realmName(id uint32) string {
	if id == 0 {
		return "cosmos"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// parseRealm is rtnl_rtrealm_a2n: a name or a number up to 255.
func parseRealm(s string) (uint32, bool) {
	if s == "cosmos" {
		return 0, true
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil || n > 255 {
		return 0, false
	}
	return uint32(n), true
}

// parseRealms is get_rt_realms_or_raw: "FROM/TO", "TO" (FROM 0), or a
// raw 32-bit value (what a realm past 255 is read as).
func parseRealms(s string) (uint32, bool) {
	var realms uint32
	arg := s
	if from, to, ok := strings.Cut(s, "/"); ok {
		f, ok := parseRealm(from)
		if !ok {
			return rawRealms(s)
		}
		realms, arg = f<<16, to
	}
	if arg != "" {
		t, ok := parseRealm(arg)
		if !ok {
			return rawRealms(s)
		}
		realms |= t
	}
	return realms, true
}

func rawRealms(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 0, 32)
	return uint32(n), err == nil
}

// realmFilter is iproute_list's realm selector: the value and the mask
// of its halves that were named ("TO" alone leaves FROM free, "FROM/"
// leaves TO free).
func realmFilter(s string) (realm, mask uint32, ok bool) {
	realm, ok = parseRealms(s)
	if !ok {
		return 0, 0, false
	}
	mask = ^uint32(0)
	if realm&0xffff == 0 && strings.HasSuffix(s, "/") {
		mask &^= 0xffff
	}
	if realm&0xffff0000 == 0 && (!strings.Contains(s, "/") || strings.HasPrefix(s, "/")) {
		mask &^= 0xffff0000
	}
	return realm, mask, true
}

// printFlow is print_rta_flow.
func printFlow(p *out, flow uint32) {
	from, to := flow>>16, flow&0xffff
	if p.json {
		p.openObj("flow")
		if from != 0 {
			p.str("from", "", realmName(from))
		}
		p.str("to", "", realmName(to))
		p.closeObj()
		return
	}
	if from != 0 {
		p.fp("realms %s/%s ", realmName(from), realmName(to))
		return
	}
	p.fp("realm %s ", realmName(to))
}
