package iptables

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mdlayher/netlink"

	ipt "vnic/stack/netfilter/iptables"
)

// The host's kernel log — what the LOG target prints and why a table was
// refused — read as util-linux's dmesg reads /dev/kmsg, and printed as it
// prints it.

// dmesgLevels are the syslog levels' names as dmesg's -l takes them
// and -x prints them.
var dmesgLevels = []string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

func encodeLogLine(ln ipt.LogLine) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.Uint64(AttrSeq, ln.Seq)
	ae.Uint64(AttrTime, uint64(ln.Time))
	ae.Uint8(AttrLevel, ln.Level)
	ae.String(AttrText, ln.Text)
	b, _ := ae.Encode()
	return b
}

func decodeLogLine(b []byte) (ipt.LogLine, error) {
	var ln ipt.LogLine
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return ln, err
	}
	for ad.Next() {
		switch ad.Type() {
		case AttrSeq:
			ln.Seq = ad.Uint64()
		case AttrTime:
			ln.Time = time.Duration(ad.Uint64())
		case AttrLevel:
			ln.Level = ad.Uint8()
		case AttrText:
			ln.Text = ad.String()
		}
	}
	return ln, ad.Err()
}

// dmesgOpts are the options vnic's dmesg takes.
type dmesgOpts struct {
	noTime, raw, decode bool
	levels              uint8 // bit per level; 0: all
}

// parseDmesg reads dmesg's options; those that need what a vnic host has
// not (a console, a clock of its own beside the host's, following) are
// refused by name.
func parseDmesg(args []string) (dmesgOpts, error) {
	var o dmesgOpts
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := ""
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "--") {
			a, val = k, v
		}
		switch a {
		case "-t", "--notime":
			o.noTime = true
		case "-r", "--raw":
			o.raw = true
		case "-x", "--decode":
			o.decode = true
		case "-k", "--kernel":
			// Every line is the kernel's.
		case "-l", "--level":
			if val == "" {
				if i+1 >= len(args) {
					return o, fmt.Errorf("option requires an argument -- '%s'", strings.TrimLeft(a, "-"))
				}
				i++
				val = args[i]
			}
			for _, w := range strings.Split(val, ",") {
				found := false
				for l, n := range dmesgLevels {
					if w == n {
						o.levels |= 1 << l
						found = true
					}
				}
				if !found {
					return o, fmt.Errorf("unknown level '%s'", w)
				}
			}
		case "-C", "--clear", "-c", "--read-clear", "-w", "--follow", "-W", "--follow-new", "-T", "--ctime",
			"-H", "--human", "-e", "--reltime", "-d", "--show-delta", "-s", "--buffer-size", "-n", "--console-level",
			"-D", "--console-off", "-E", "--console-on", "-f", "--facility", "-u", "--userspace", "-F", "--file", "-S", "--syslog":
			return o, fmt.Errorf("%s: not supported by vnic's dmesg (the host's log is read whole, with the host's clock)", a)
		default:
			return o, fmt.Errorf("unrecognized option '%s'", a)
		}
	}
	return o, nil
}

// runDmesg prints the host's log: "[seconds.micro] text" a line, the
// time the host's clock's since it started.
func runDmesg(args []string, o Options) int {
	opts, err := parseDmesg(args)
	if err != nil {
		fmt.Fprintf(o.Stderr, "dmesg: %v\nTry 'dmesg --help' for more information.\n", err)
		return 1
	}
	b, err := o.dial()
	if err != nil {
		fmt.Fprintf(o.Stderr, "dmesg: read kernel buffer failed: %v\n", err)
		return 1
	}
	defer b.close()
	lines, err := b.log()
	if err != nil {
		fmt.Fprintf(o.Stderr, "dmesg: read kernel buffer failed: %v\n", err)
		return 1
	}
	printDmesg(o.Stdout, lines, opts)
	return 0
}

func printDmesg(w io.Writer, lines []ipt.LogLine, o dmesgOpts) {
	var sb strings.Builder
	for _, ln := range lines {
		if o.levels != 0 && (ln.Level > 7 || o.levels&(1<<ln.Level) == 0) {
			continue
		}
		switch {
		case o.raw:
			fmt.Fprintf(&sb, "<%d>", ln.Level)
		case o.decode && ln.Level < 8:
			fmt.Fprintf(&sb, "%-6s:%-6s: ", "kern", dmesgLevels[ln.Level])
		}
		if !o.noTime {
			us := ln.Time.Microseconds()
			fmt.Fprintf(&sb, "[%5d.%06d] ", us/1e6, us%1e6)
		}
		sb.WriteString(ln.Text)
		sb.WriteByte('\n')
	}
	io.WriteString(w, sb.String())
}
