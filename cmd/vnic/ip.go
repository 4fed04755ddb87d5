package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/mdlayher/netlink"
	"github.com/spf13/cobra"

	"vnic/internal/iproute"
	"vnic/internal/netns"
	"vnic/internal/nlclient"
	"vnic/stack/inet"
)

func newIPCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ip [--socket PATH] [--cpuprofile FILE] --host NAME OBJECT [COMMAND [ARGS]]",
		Short: "ip for the hosts of a running `vnic up` (iproute2's grammar and output over rtnetlink)",
		Long: `ip for a host of a running 'vnic up', speaking rtnetlink to its control socket
(--socket PATH, else $VNIC_SOCKET, else the default). --host (or $VNIC_HOST)
names the host, as ip netns exec names a namespace; ip's own -n NAME
(-netns NAME) before the object does the same.

  vnic ip --host h1 addr
  vnic ip --host h1 addr add 198.18.5.2/24 dev vnic0
  vnic ip --host h1 route add default via 198.18.5.1
  vnic ip --host h1 route get 198.18.9.1
  vnic ip --host h1 neigh
  vnic ip --host h1 link set vnic0 mtu 1280
  vnic ip --host h1 monitor [all|link|address|route|neigh] [--count N]

Exit codes are ip's: 1 for most errors, 2 when the host refuses, 255 for
usage errors.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runIP(args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}

// runIP takes vnic's own options (--socket, --host, --count) off and
// hands the rest to iproute, which reads ip's global options itself
// (-n/-netns NAME names the host, as ip netns exec names a namespace).
func runIP(args []string, stdout, stderr io.Writer) int {
	socket, host, count, profile := "", os.Getenv("VNIC_HOST"), 0, ""
	opts, rest := ownOptions(args, "--socket", "--host", "--cpuprofile", "--count")
	if v, ok := opts["--socket"]; ok {
		socket = v
	}
	if v, ok := opts["--host"]; ok {
		host = v
	}
	profile = opts["--cpuprofile"]
	if v, ok := opts["--count"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fmt.Fprintf(stderr, "vnic ip: --count %q: want a count of events\n", v)
			return 1
		}
		count = n
	}
	if profile != "" {
		// The root's --cpuprofile does not reach a command that parses
		// its own flags: ip takes it here (vnic --cpuprofile F ip … too).
		pa := &app{cpuProfile: profile}
		if err := pa.startProfile(); err != nil {
			fmt.Fprintln(stderr, "vnic ip:", err)
			return 1
		}
		defer pa.stopProfile()
	}
	if len(rest) == 1 && rest[0] == "--help" && len(args) == 1 {
		fmt.Fprint(stdout, "usage: vnic ip [--socket PATH] [--host NAME] [--count N] [ OPTIONS ] OBJECT { COMMAND | help }\n\n"+iproute.Usage)
		return 0
	}
	if name, argv, ok := iproute.NetnsExec(rest); ok {
		return netnsExec(socketPath(socket), name, argv, stdout, stderr)
	}
	if iproute.NeedsSocket(rest) {
		// ip netns: the topology's hosts, no host of its own.
		conn, err := nlclient.Dial(socketPath(socket))
		if err != nil {
			fmt.Fprintln(stderr, "vnic ip:", err)
			return 1
		}
		defer conn.Close()
		sock := socketPath(socket)
		return iproute.Run(rest, iproute.Options{T: conn, Stdout: stdout, Stderr: stderr,
			Exec: func(host string, argv []string) (int, bool, error) { return hostExec(sock, host, argv, stdout, stderr) }})
	}
	if !iproute.NeedsHost(rest) {
		// Usage texts, -V and option errors need no host.
		return iproute.Run(rest, iproute.Options{Stdout: stdout, Stderr: stderr})
	}
	viaNetns := false
	if n, err := iproute.Netns(rest); err == nil && n != "" {
		host, viaNetns = n, true
	}
	if host == "" {
		fmt.Fprintln(stderr, "vnic ip: which host? --host NAME, -n NAME (or VNIC_HOST)")
		return 1
	}
	groups, monitor, _ := iproute.MonitorRequest(rest)
	conn, err := nlclient.Dial(socketPath(socket))
	if err != nil {
		fmt.Fprintln(stderr, "vnic ip:", err)
		return 1
	}
	defer conn.Close()
	if err := conn.RouteBind(host, groups); err != nil {
		if viaNetns && errors.Is(err, syscall.ENOENT) {
			// ip -n NAME for a namespace that is not there.
			fmt.Fprintf(stderr, "Cannot open network namespace \"%s\": No such file or directory\n", host)
			return 255
		}
		reportErr(stderr, "vnic ip", err, " in the running topology")
		return 1
	}
	stop := make(chan struct{})
	if monitor {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		defer signal.Stop(sig)
		go func() {
			<-sig
			close(stop)
		}()
	}
	var nsConn *nlclient.Conn // a second, unbound connection, for ip link … netns NAME
	defer func() {
		if nsConn != nil {
			nsConn.Close()
		}
	}()
	namespaces := func() (netns.Client, error) {
		if nsConn == nil {
			c, err := nlclient.Dial(socketPath(socket))
			if err != nil {
				return nil, err
			}
			nsConn = c
		}
		return nsConn, nil
	}
	sysctl := func(name, value string) error {
		c, err := nlclient.Dial(socketPath(socket))
		if err != nil {
			return err
		}
		defer c.Close()
		ae := netlink.NewAttributeEncoder()
		ae.String(inet.InetAttrHost, host)
		ae.String(inet.InetAttrName, name)
		ae.String(inet.InetAttrValue, value)
		body, _ := ae.Encode()
		_, err = c.Execute(inet.InetFamily, inet.InetCmdSysctl, netlink.Request, body)
		return err
	}
	return iproute.Run(rest, iproute.Options{T: conn, Stdout: stdout, Stderr: stderr, Stop: stop, Count: count, Namespaces: namespaces, Stdin: os.Stdin, Sysctl: sysctl})
}

// netnsExec is ip netns exec NAME CMD…: CMD runs with VNIC_HOST=NAME
// (and the control socket in VNIC_SOCKET), so that the vnic tools it
// starts act on that host, as a command ip netns exec starts acts in the
// namespace. Its exit status is the command's.
func netnsExec(socket, name string, argv []string, stdout, stderr io.Writer) int {
	if name == "" {
		fmt.Fprintln(stderr, "No netns name specified")
		return 1
	}
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "No command specified")
		return 1
	}
	conn, err := nlclient.Dial(socket)
	if err != nil {
		fmt.Fprintln(stderr, "vnic ip:", err)
		return 1
	}
	_, err = netns.Get(conn, name)
	conn.Close()
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			fmt.Fprintf(stderr, "Cannot open network namespace \"%s\": No such file or directory\n", name)
			return 255
		}
		fmt.Fprintln(stderr, "vnic ip:", err)
		return 1
	}
	status, _, err := hostExec(socket, name, argv, stdout, stderr)
	if err != nil {
		// ip's execvp failed: it says why and exits 1.
		fmt.Fprintf(stderr, "exec of \"%s\" failed: %s\n", argv[0], iproute.ExecErrText(err))
		return 1
	}
	return status
}

// hostExec runs argv for host name (VNIC_HOST=NAME, VNIC_SOCKET), to its
// end: its exit status, signaled when a signal ended it (status -1), or
// why it could not be started.
func hostExec(socket, name string, argv []string, stdout, stderr io.Writer) (int, bool, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), "VNIC_HOST="+name, "VNIC_SOCKET="+socket)
	err := cmd.Run()
	if err == nil {
		return 0, false, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, true, nil
		}
		return ee.ExitCode(), false, nil
	}
	return 0, false, err
}
