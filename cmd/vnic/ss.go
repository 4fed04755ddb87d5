package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mdlayher/netlink"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"vnic/internal/nlclient"
	"vnic/internal/ss"
	"vnic/stack/inet"
)

func newSSCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ss [--socket PATH] --host NAME -t [ OPTIONS ] [ state STATE ]",
		Short: "ss for a host of a running `vnic up` (iproute2 ss's TCP listing over sock_diag)",
		Long: `ss lists a host's TCP sockets as iproute2-6.1.0's ss lists the kernel's:
the same columns, widths and alignment, state names, queues, -o's timers and
-i's TCP_INFO line, asked over the control socket (--socket PATH, else
$VNIC_SOCKET, else the default) with ss's own request (SOCK_DIAG_BY_FAMILY's
inet_diag_req_v2) and read from Linux's reply layout. --host (or $VNIC_HOST,
or ss's -N NAME) names the host.

  vnic ss --host h1 -tan
  vnic ss --host h1 -tanio
  vnic ss --host h1 -tl
  vnic ss --host h1 -tn state established

-t is required (vnic serves TCP only). Taken: -a -l -n -r -o -e -m -p -i -H
-O -4 -6 -f inet|inet6 -A tcp and state filters; -r keeps addresses numeric
and -p shows no process (vnic's hosts have neither names nor processes), -m
shows nothing (vnic keeps no socket memory accounting). Without -n, ports are
named from /etc/services except those in the host's ip_local_port_range.
Filter expressions and the other tables are refused. Exit codes are ss's:
255 for a usage error, 1 when the host cannot be asked.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runSS(args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}

// runSS takes vnic's own options (--socket, --host) off and hands the
// rest to ss's command line.
func runSS(args []string, stdout, stderr io.Writer) int {
	socket, host := "", os.Getenv("VNIC_HOST")
	opts, rest := ownOptions(args, "--socket", "--host")
	if v, ok := opts["--socket"]; ok {
		socket = v
	}
	if v, ok := opts["--host"]; ok {
		host = v
	}
	o, err := ss.ParseArgs(rest)
	var ue *ss.UsageError
	var un *ss.Unsupported
	switch {
	case errors.Is(err, ss.ErrHelp):
		fmt.Fprint(stdout, ss.Usage)
		return 0
	case errors.As(err, &ue):
		if ue.Msg != "" {
			fmt.Fprintln(stderr, ue.Msg)
		}
		if ue.Usage {
			fmt.Fprint(stderr, ss.Usage)
		}
		return 255
	case errors.As(err, &un):
		fmt.Fprintln(stderr, un.Msg)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	}
	if o.Host != "" {
		host = o.Host
	}
	if host == "" {
		fmt.Fprintln(stderr, "ss: which host? --host NAME (or VNIC_HOST, or -N NAME)")
		return 1
	}
	conn, err := nlclient.Dial(socketPath(socket))
	if err != nil {
		fmt.Fprintln(stderr, "ss:", err)
		return 1
	}
	defer conn.Close()
	var replies [][]byte
	for _, r := range o.Requests() {
		body := ss.AppendAttr(r.Append(nil), ss.ReqHost, append([]byte(host), 0))
		rs, err := conn.Request(ss.FamilyName, ss.CmdSockDiagByFamily, netlink.Request|netlink.Dump, body)
		if err != nil {
			reportErr(stderr, "ss", err, "")
			return 1
		}
		replies = append(replies, rs...)
	}
	env := ss.Env{Screen: terminalWidth(stdout)}
	if !o.Numeric {
		if f, err := os.Open("/etc/services"); err == nil {
			env.Services = ss.ParseServices(f)
			f.Close()
		}
		env.PortLow, env.PortHigh = hostPortRange(conn, host)
	}
	if err := ss.Print(stdout, o, env, replies); err != nil {
		fmt.Fprintln(stderr, "ss:", err)
		return 1
	}
	return 0
}

// hostPortRange is the host's net.ipv4.ip_local_port_range, which ss
// reads to leave ephemeral ports unnamed (0, 0: not to be had, and ss
// falls back to its own range).
func hostPortRange(conn *nlclient.Conn, host string) (int, int) {
	ae := netlink.NewAttributeEncoder()
	ae.String(inet.InetAttrHost, host)
	ae.String(inet.InetAttrName, "net.ipv4.ip_local_port_range")
	body, _ := ae.Encode()
	replies, err := conn.Execute(inet.InetFamily, inet.InetCmdSysctl, netlink.Request, body)
	if err != nil {
		return 0, 0
	}
	for _, r := range replies {
		ad, err := netlink.NewAttributeDecoder(r.Attrs)
		if err != nil {
			continue
		}
		for ad.Next() {
			var value string
			ad.Nested(func(n *netlink.AttributeDecoder) error {
				for n.Next() {
					if n.Type() == 3 {
						value = n.String()
					}
				}
				return nil
			})
			if lo, hi, ok := ss.ParsePortRange(value); ok {
				return lo, hi
			}
		}
	}
	return 0, 0
}

// terminalWidth is the width of the terminal w writes to, 0 when it is
// not one (ss's render_screen_width).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 0
	}
	return int(ws.Col)
}
