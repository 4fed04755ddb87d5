package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/mdlayher/netlink"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vnic/ethtool"
	"vnic/internal/nlclient"
	"vnic/stack/inet"
	stacknl "vnic/stack/netlink"
)

// sysctlOpts are procps sysctl's options vnic has.
type sysctlOpts struct {
	socket, host, pattern                  string
	all, write, values, names, quiet, skip bool
}

func newSysctlCmd(a *app) *cobra.Command {
	var o sysctlOpts
	cmd := &cobra.Command{
		Use:   "sysctl --host NAME [-n|-N] [-q] [-e] [-w] [-a] [-r PATTERN] [KEY[=VALUE] ...]",
		Short: "read or set a host's net.ipv4 settings while `vnic up` runs (procps sysctl's grammar, output and errors)",
		Long: `sysctl reads or sets a host's net.ipv4 settings as procps-ng sysctl 4.0
does: KEY reads, KEY=VALUE sets (with or without -w; with -w a KEY alone is
a syntax error), a key that is a prefix of others (a /proc/sys directory)
lists them. -a lists every setting, sorted; -r PATTERN (--pattern, an
extended regular expression) keeps the keys it matches, with -a or the
given keys; -n prints values only, -N names only; -q does not echo what was
set; -e ignores unknown keys. Writable: ip_forward,
conf.{all,DEV}.forwarding (turning forwarding on takes LRO off the
devices) and conf.{all,DEV}.rp_filter; the others are shown and fixed
(permission denied). Errors are worded as procps words them; the exit
status is 1 when any key failed, as procps's.

  vnic sysctl --host r -a
  vnic sysctl --host r net.ipv4.ip_forward=0
  vnic sysctl --host r -n net.ipv4.conf.vnic1.rp_filter
  vnic sysctl --host r -a -r 'forwarding$'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runSysctl(o, args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	sysctlFlags(cmd.Flags(), &o)
	return cmd
}

func sysctlFlags(f *pflag.FlagSet, o *sysctlOpts) {
	f.StringVar(&o.socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	f.StringVar(&o.host, "host", os.Getenv("VNIC_HOST"), "the host (default $VNIC_HOST)")
	f.BoolVarP(&o.all, "all", "a", false, "show every setting")
	f.BoolVarP(&o.all, "A", "A", false, "alias of -a")
	f.BoolVarP(&o.all, "X", "X", false, "alias of -a")
	f.Lookup("A").Hidden = true
	f.Lookup("X").Hidden = true
	f.BoolVarP(&o.write, "write", "w", false, "set KEY=VALUE (a KEY alone is then an error)")
	f.BoolVarP(&o.values, "values", "n", false, "print only values")
	f.BoolVarP(&o.names, "names", "N", false, "print only names")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not echo what was set")
	f.BoolVarP(&o.skip, "ignore", "e", false, "ignore unknown keys")
	f.StringVarP(&o.pattern, "pattern", "r", "", "select the keys that match this (extended) regular expression")
}

// sysctlPair is a key and its value as the host reported them.
type sysctlPair struct{ name, value string }

// sysctlCall is one request to the host: read name ("" for all) or, when
// write, set it to value.
type sysctlCall func(name, value string, write bool) ([]sysctlPair, error)

func runSysctl(o sysctlOpts, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 && !o.all {
		fmt.Fprintln(stderr, "sysctl: no variables specified\nTry `vnic sysctl --help' for more information.")
		return 1
	}
	if o.host == "" {
		fmt.Fprintln(stderr, "sysctl: which host? --host NAME (or VNIC_HOST)")
		return 1
	}
	conn, err := nlclient.Dial(socketPath(o.socket))
	if err != nil {
		fmt.Fprintln(stderr, "sysctl:", err)
		return 1
	}
	defer conn.Close()
	call := func(name, value string, write bool) ([]sysctlPair, error) {
		ae := netlink.NewAttributeEncoder()
		ae.String(inet.InetAttrHost, o.host)
		ae.String(inet.InetAttrName, name)
		if write {
			ae.String(inet.InetAttrValue, value)
		}
		body, _ := ae.Encode()
		replies, err := conn.Execute(inet.InetFamily, inet.InetCmdSysctl, netlink.Request, body)
		if err != nil {
			return nil, err
		}
		var out []sysctlPair
		for _, r := range replies {
			ad, err := netlink.NewAttributeDecoder(r.Attrs)
			if err != nil {
				continue
			}
			for ad.Next() {
				var p sysctlPair
				ad.Nested(func(n *netlink.AttributeDecoder) error {
					for n.Next() {
						switch n.Type() {
						case 1:
							p.name = n.String()
						case 3:
							p.value = n.String()
						}
					}
					return nil
				})
				out = append(out, p)
			}
		}
		return out, nil
	}
	return sysctlRun(o, args, call, stdout, stderr)
}

// errnoOf is the errno of a control-socket error reply (0: none).
func errnoOf(err error) syscall.Errno {
	var ne *stacknl.Error
	if errors.As(err, &ne) {
		return ne.Errno
	}
	var ee *ethtool.Error
	if errors.As(err, &ee) {
		return ee.Errno
	}
	return 0
}

// sysctlRun is procps sysctl's main loop over call.
func sysctlRun(o sysctlOpts, args []string, call sysctlCall, stdout, stderr io.Writer) int {
	// procps compiles the pattern for each key and a bad one matches
	// nothing (no error).
	var re *regexp.Regexp
	badPattern := false
	if o.pattern != "" {
		var err error
		if re, err = regexp.Compile(o.pattern); err != nil {
			badPattern = true
		}
	}
	match := func(name string) bool {
		if badPattern {
			return false
		}
		return re == nil || re.MatchString(name)
	}
	show := func(p sysctlPair) {
		switch {
		case o.names:
			fmt.Fprintln(stdout, p.name)
		case o.values:
			fmt.Fprintln(stdout, p.value)
		default:
			fmt.Fprintf(stdout, "%s = %s\n", p.name, p.value)
		}
	}
	// fail reports a host's refusal; it returns the exit status it adds.
	fail := func(err error) int {
		if o.skip && errnoOf(err) == syscall.ENOENT {
			return 0 // -e: an unknown key is no error
		}
		reportErr(stderr, "sysctl", err, "")
		return 1
	}
	rc := 0
	if o.all {
		ps, err := call("", "", false)
		if err != nil {
			return fail(err)
		}
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].name < ps[j].name })
		for _, p := range ps {
			if match(p.name) {
				show(p)
			}
		}
		return 0
	}
	for _, arg := range args {
		name, value, isSet := strings.Cut(arg, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !isSet && o.write {
			fmt.Fprintln(stderr, "sysctl: command line(0): invalid syntax, continuing...")
			rc = 1
			continue
		}
		if isSet && name == "" {
			fmt.Fprintln(stderr, "sysctl: Path is not under /proc/sys/: /proc/sys/")
			rc = 1
			continue
		}
		display := strings.ReplaceAll(name, "/", ".")
		if !isSet && !match(display) {
			continue
		}
		ps, err := call(name, value, isSet)
		if err != nil {
			rc |= fail(err)
			continue
		}
		if isSet && o.quiet {
			continue
		}
		for _, p := range ps {
			if isSet || match(p.name) {
				show(p)
			}
		}
	}
	return rc
}
