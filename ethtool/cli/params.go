package cli

import (
	"fmt"
	"strconv"
	"strings"

	"vnic/ethtool"
)

// kind is a set parameter's value type.
type kind int

const (
	kU32  kind = iota // a number (decimal, 0x hex or 0 octal)
	kBool             // on|off
	kStr              // any word
)

// pspec is one keyword a set mode accepts.
type pspec struct {
	name string
	kind kind
}

// pval is a parsed parameter.
type pval struct {
	name string
	u32  uint32
	on   bool
	str  string
	// off is the parameter's attribute offset in the netlink request
	// ethtool would send (header first, then parameters in order).
	off int
}

// parseParams is ethtool's nl_parser: keyword value pairs from a table;
// unknown keywords, missing and malformed values are errors printed as
// ethtool prints them (exit 1).
func (r *run) parseParams(table []pspec) ([]pval, bool) {
	var out []pval
	off := 20 + headerLen(r.devname, false)
	for i := 0; i < len(r.args); i++ {
		name := r.args[i]
		var spec *pspec
		for k := range table {
			if table[k].name == name {
				spec = &table[k]
			}
		}
		if spec == nil {
			fmt.Fprintf(r.Stderr, "ethtool (%s): unknown parameter '%s'\n", r.mode.short, name)
			return nil, false
		}
		if i+1 >= len(r.args) {
			fmt.Fprintf(r.Stderr, "ethtool (%s): no value for parameter '%s'\n", r.mode.short, name)
			return nil, false
		}
		v := r.args[i+1]
		i++
		p := pval{name: name, off: off}
		switch spec.kind {
		case kU32:
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				fmt.Fprintf(r.Stderr, "ethtool (%s): invalid value '%s' for parameter '%s'\n", r.mode.short, v, name)
				return nil, false
			}
			p.u32 = uint32(n)
		case kBool:
			switch v {
			case "on":
				p.on = true
			case "off":
			default:
				fmt.Fprintf(r.Stderr, "ethtool (%s): invalid value '%s' for parameter '%s'\n", r.mode.short, v, name)
				return nil, false
			}
		case kStr:
			p.str = v
		}
		off += 8 // a u32 or u8 attribute, padded
		out = append(out, p)
	}
	return out, true
}

// headerLen is the size of a request's header nest: the device name and,
// for feature requests, the flags.
func headerLen(dev string, flags bool) int {
	n := 4 + align4(4+len(dev)+1)
	if flags {
		n += 8
	}
	return n
}

func align4(n int) int { return (n + 3) &^ 3 }

// offsetOf returns the request offset of the parameter err names.
func offsetOf(ps []pval, err error) int {
	e, ok := err.(*ethtool.Error)
	if !ok || e.Attr == "" {
		return 0
	}
	for _, p := range ps {
		if p.name == e.Attr {
			return p.off
		}
	}
	return 0
}

// onOff renders a bool as ethtool does.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// parseNum parses an ethtool number (decimal, 0x hex, 0 octal).
func parseNum(s string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	return uint32(n), err == nil
}
