package ss

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUsage is a command line ss refuses with its usage (exit 255).
var ErrUsage = errors.New("ss: usage")

// UsageError is a refused command line: Msg is what ss prints first
// (may be empty), then the usage when Usage is set; ss exits 255.
type UsageError struct {
	Msg   string
	Usage bool
}

func (e *UsageError) Error() string { return e.Msg }

// Is makes every UsageError match ErrUsage.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// Unsupported is an option of ss that vnic does not serve: the command
// line is refused with a message that says so (exit 1).
type Unsupported struct{ Msg string }

func (e *Unsupported) Error() string { return e.Msg }

// Usage is ss's usage for what vnic serves.
const Usage = `Usage: ss [ OPTIONS ]
       ss [ OPTIONS ] [ FILTER ]
   -h, --help          this message
   -n, --numeric       don't resolve service names
   -r, --resolve       resolve host names
   -a, --all           display all sockets
   -l, --listening     display listening sockets
   -o, --options       show timer information
   -e, --extended      show detailed socket information
   -m, --memory        show socket memory usage
   -p, --processes     show process using socket
   -i, --info          show internal TCP information
   -N, --net           switch to the specified network namespace name

   -4, --ipv4          display only IP version 4 sockets
   -6, --ipv6          display only IP version 6 sockets
   -t, --tcp           display only TCP sockets
   -f, --family=FAMILY display sockets of type FAMILY
       FAMILY := {inet|inet6}

   -H, --no-header     Suppress header line
   -O, --oneline       socket's data printed on a single line

   -A, --query=QUERY, --socket=QUERY
       QUERY := {tcp}[,QUERY]

       FILTER := [ state STATE-FILTER ]
       STATE-FILTER := {all|connected|synchronized|bucket|big|TCP-STATES}
         TCP-STATES := {established|syn-sent|syn-recv|fin-wait-{1,2}|time-wait|closed|close-wait|last-ack|listening|closing}
          connected := {established|syn-sent|syn-recv|fin-wait-{1,2}|time-wait|close-wait|last-ack|closing}
       synchronized := {established|syn-recv|fin-wait-{1,2}|time-wait|close-wait|last-ack|closing}
             bucket := {syn-recv|time-wait}
                big := {established|syn-sent|fin-wait-{1,2}|closed|close-wait|last-ack|listening|closing}
`

// ss's long options in its order (long_opts) and the short option each
// stands for; the ones that take an argument end in "=".
var longOpts = [][2]string{
	{"numeric", "n"}, {"resolve", "r"}, {"options", "o"}, {"extended", "e"}, {"memory", "m"}, {"info", "i"},
	{"processes", "p"}, {"threads", "T"}, {"bpf", "b"}, {"events", "E"}, {"dccp", "d"}, {"tcp", "t"}, {"sctp", "S"},
	{"udp", "u"}, {"raw", "w"}, {"unix", "x"}, {"tipc", "tipc"}, {"vsock", "vsock"}, {"all", "a"}, {"listening", "l"},
	{"ipv4", "4"}, {"ipv6", "6"}, {"packet", "0"}, {"family", "f="}, {"socket", "A="}, {"query", "A="}, {"summary", "s"},
	{"diag", "D="}, {"filter", "F="}, {"version", "V"}, {"help", "h"}, {"context", "Z"}, {"contexts", "z"}, {"net", "N="},
	{"tipcinfo", "tipcinfo"}, {"tos", "tos"}, {"cgroup", "cgroup"}, {"kill", "K"}, {"no-header", "H"}, {"xdp", "xdp"},
	{"mptcp", "M"}, {"oneline", "O"}, {"inet-sockopt", "inet-sockopt"},
}

// shortArg are the short options that take an argument (ss's optstring).
const shortArg = "fADFN"

// ParseArgs reads ss's command line as getopt_long does (options may
// follow the filter, "--" ends them) and builds the options, the state
// filter included. Help is reported as ErrHelp.
func ParseArgs(args []string) (Options, error) {
	var o Options
	stateFilter, tcp, other := uint32(0), false, ""
	var rest []string
	apply := func(opt, arg string) error {
		switch opt {
		case "n":
			o.Numeric = true
		case "r":
			o.Resolve = true
		case "o":
			o.Timers = true
		case "e":
			o.Timers, o.Details = true, true
		case "m":
			o.Memory = true
		case "i":
			o.Info = true
		case "p":
			o.Processes = true
		case "t":
			tcp = true
		case "a":
			stateFilter = StatesAll
		case "l":
			stateFilter = 1<<StateListen | 1<<StateClose
		case "4":
			o.Family = AFInet
		case "6":
			o.Family = AFInet6
		case "H":
			o.NoHeader = true
		case "O":
			o.OneLine = true
		case "N":
			o.Host = arg
		case "h":
			return ErrHelp
		case "f":
			switch arg {
			case "inet":
				o.Family = AFInet
			case "inet6":
				o.Family = AFInet6
			case "help":
				return ErrHelp
			case "link", "unix", "netlink", "tipc", "vsock", "xdp":
				other = "-f " + arg
			default:
				return &UsageError{Msg: fmt.Sprintf("ss: %q is invalid family", arg), Usage: true}
			}
		case "A":
			for _, q := range strings.Split(arg, ",") {
				switch strings.TrimPrefix(q, "!") {
				case "tcp":
					tcp = !strings.HasPrefix(q, "!")
				case "all", "inet", "udp", "dccp", "mptcp", "sctp", "raw", "unix", "unix_stream", "u_str",
					"unix_dgram", "u_dgr", "unix_seqpacket", "u_seq", "packet", "packet_raw", "p_raw",
					"packet_dgram", "p_dgr", "netlink", "tipc", "vsock", "vsock_stream", "v_str", "vsock_dgram", "v_dgr", "xdp":
					if !strings.HasPrefix(q, "!") {
						other = "-A " + q
					}
				default:
					return &UsageError{Msg: fmt.Sprintf("ss: %q is illegal socket table id", q), Usage: true}
				}
			}
		case "u", "w", "x", "d", "S", "M", "0", "vsock", "tipc", "xdp":
			other = "-" + opt
			if len(opt) > 1 {
				other = "--" + opt
			}
		default:
			name := "-" + opt
			if len(opt) > 1 {
				name = "--" + opt
			}
			return &Unsupported{Msg: fmt.Sprintf("ss: %s is not served by vnic: it keeps no %s", name, unsupportedWhat(opt))}
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			opt, err := longOpt(name, a)
			if err != nil {
				return o, err
			}
			if strings.HasSuffix(opt, "=") {
				opt = strings.TrimSuffix(opt, "=")
				if !hasVal {
					if i+1 >= len(args) {
						return o, &UsageError{Msg: fmt.Sprintf("ss: option '--%s' requires an argument", name), Usage: true}
					}
					i++
					val = args[i]
				}
			} else if hasVal {
				return o, &UsageError{Msg: fmt.Sprintf("ss: option '--%s' doesn't allow an argument", name), Usage: true}
			}
			if err := apply(opt, val); err != nil {
				return o, err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				c := string(a[j])
				if !strings.Contains("dhaletuwxnro460spTbEf:mMiA:D:F:vVzZN:KHSO", c) || c == ":" {
					return o, &UsageError{Msg: fmt.Sprintf("ss: invalid option -- '%s'", c), Usage: true}
				}
				if strings.Contains(shortArg, c) {
					val := a[j+1:]
					if val == "" {
						if i+1 >= len(args) {
							return o, &UsageError{Msg: fmt.Sprintf("ss: option requires an argument -- '%s'", c), Usage: true}
						}
						i++
						val = args[i]
					}
					if err := apply(c, val); err != nil {
						return o, err
					}
					break
				}
				if err := apply(c, ""); err != nil {
					return o, err
				}
			}
		default:
			rest = append(rest, a)
		}
	}
	// The state filter: "state S" and "exclude S" words, in order.
	saw := false
	for len(rest) > 0 {
		word := rest[0]
		if word != "state" && word != "exclude" && word != "excl" {
			break
		}
		if len(rest) < 2 {
			return o, &UsageError{Msg: "Command line is not complete. Try option \"help\""}
		}
		bits, err := scanState(rest[1])
		if err != nil {
			return o, err
		}
		if word == "state" {
			if !saw {
				stateFilter = 0
			}
			stateFilter |= bits
		} else {
			if !saw {
				stateFilter = StatesAll
			}
			stateFilter &^= bits
		}
		saw = true
		rest = rest[2:]
	}
	if other != "" {
		return o, &Unsupported{Msg: fmt.Sprintf("ss: %s: vnic serves TCP sockets only (ss -t)", other)}
	}
	if !tcp {
		return o, &Unsupported{Msg: "ss: vnic serves TCP sockets only: say so with -t (ss -t, -A tcp)"}
	}
	if len(rest) > 0 {
		return o, &Unsupported{Msg: fmt.Sprintf("ss: filter expressions are not supported by vnic (only state filters): %q", strings.Join(rest, " "))}
	}
	o.States = StatesConn
	if stateFilter != 0 {
		o.States = stateFilter
	}
	return o, nil
}

// ErrHelp is -h (--help): ss prints its usage and exits 0.
var ErrHelp = errors.New("ss: help")

// longOpt finds a long option by its name or a prefix of it, as
// getopt_long does: an exact name wins, else the one option it begins;
// several that differ are ambiguous (glibc's message).
func longOpt(name, arg string) (string, error) {
	var found string
	var names []string
	for _, o := range longOpts {
		if o[0] == name {
			return o[1], nil
		}
		if strings.HasPrefix(o[0], name) {
			if len(names) == 0 || o[1] != found {
				names = append(names, "'--"+o[0]+"'")
			}
			found = o[1]
		}
	}
	switch {
	case len(names) == 1 && name != "":
		return found, nil
	case len(names) > 1 && name != "":
		return "", &UsageError{Msg: fmt.Sprintf("ss: option '--%s' is ambiguous; possibilities: %s", name, strings.Join(names, " ")), Usage: true}
	}
	return "", &UsageError{Msg: fmt.Sprintf("ss: unrecognized option '%s'", arg), Usage: true}
}

func unsupportedWhat(opt string) string {
	switch opt {
	case "s":
		return "socket summary (/proc/net/sockstat)"
	case "E":
		return "socket destruction events"
	case "K":
		return "way to kill a socket from outside"
	case "D", "F":
		return "raw dump or filter files"
	case "b":
		return "BPF socket filters"
	case "T":
		return "threads"
	case "Z", "z":
		return "SELinux contexts"
	case "V", "v":
		return "version of its own: it follows iproute2-6.1.0's ss"
	}
	return opt + " information"
}

// scanState is ss's scan_state: a state name or a group of them.
func scanState(s string) (uint32, error) {
	switch strings.ToLower(s) {
	case "close", "closed":
		return 1 << StateClose, nil
	case "syn-rcv":
		return 1 << StateSynRecv, nil
	case "established":
		return 1 << StateEstablished, nil
	case "all":
		return StatesAll, nil
	case "connected":
		return StatesAll &^ (1<<StateClose | 1<<StateListen), nil
	case "synchronized":
		return StatesAll &^ (1<<StateClose | 1<<StateListen | 1<<StateSynSent), nil
	case "bucket":
		return 1<<StateSynRecv | 1<<StateTimeWait, nil
	case "big":
		return StatesAll &^ (1<<StateSynRecv | 1<<StateTimeWait), nil
	}
	names := [...]string{"unknown", "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
		"time-wait", "unconnected", "close-wait", "last-ack", "listening", "closing"}
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return 1 << i, nil
		}
	}
	return 0, &UsageError{Msg: "ss: wrong state name: " + s}
}
