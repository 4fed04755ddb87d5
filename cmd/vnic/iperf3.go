package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vnic/internal/control"
	"vnic/internal/iperf3"
	"vnic/internal/nlclient"
)

// iperfOpts are iperf3's options as given: the numbers as text, read
// with iperf3's units (-l 64K) by parseIperfOpts.
type iperfOpts struct {
	socket, host                  string
	client, port, bind, interval  string
	format, duration, parallel    string
	length, window, congestion    string
	mss, connectTimeout           string
	server, json, oneOff, reverse bool
	noDelay, version              bool
}

func newIperf3Cmd(a *app) *cobra.Command {
	var o iperfOpts
	cmd := &cobra.Command{
		Use:   "iperf3 --host NAME -s|-c ADDR [-p PORT] [-t SECS] [-P N] [-R] [-l LEN] [-w SIZE] [-C ALGO] [-M MSS] [-N] [-i SECS] [-f kmgtKMGT] [-J] [-1] [-B ADDR]",
		Short: "iperf3 on a host of a running `vnic up`: iperf3 3.12's protocol, output and JSON",
		Long: `iperf3 runs an iperf3 server (-s) or client (-c ADDR) on a host of a running
'vnic up', speaking iperf3 3.12's control protocol over the host's TCP, so
that Debian's iperf3 measures a vnic server through a TAP port and vnic's
client measures the kernel's iperf3 -s. It prints what iperf3 3.12 prints:
the interval lines (Retr and Cwnd on the sender, from the socket's TCP_INFO),
the sender and receiver summary, "iperf Done."; -J prints iperf3's JSON
document (start, intervals, end with sum_sent and sum_received,
cpu_utilization_percent: the vnic process's CPU, which runs every host).

TCP only (the server refuses UDP, --bidir, -O and a paced -R with iperf3's
"not implemented" error), IPv4 addresses only. The topology must run on
the wall clock (vnic up --time real): iperf3 measures wall-clock
throughput, which a virtual-time topology does not have, and such a host
is refused (EOPNOTSUPP).

Exit status as iperf3's: 0 when the test ran (and with -J even when it
failed: the document's "error" says why, as 3.12 does), 1 on an error or a
refused option. Interrupted, the client stops the test (the server is told
CLIENT_TERMINATE) and the server stops listening.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runIperf3(o, args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	iperfFlags(cmd.Flags(), &o)
	return cmd
}

// iperfFlags binds iperf3's options to o.
func iperfFlags(f *pflag.FlagSet, o *iperfOpts) {
	f.StringVar(&o.socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	f.StringVar(&o.host, "host", os.Getenv("VNIC_HOST"), "the host iperf3 runs on (default $VNIC_HOST)")
	f.BoolVarP(&o.server, "server", "s", false, "run in server mode")
	f.StringVarP(&o.client, "client", "c", "", "run in client mode, connecting to ADDR")
	f.StringVarP(&o.port, "port", "p", "", "server port to listen on/connect to (default 5201)")
	f.StringVarP(&o.bind, "bind", "B", "", "bind to this local address")
	f.StringVarP(&o.interval, "interval", "i", "", "seconds between periodic throughput reports (default 1, 0 for none)")
	f.StringVarP(&o.format, "format", "f", "", "format to report: Kbits, Mbits, Gbits, Tbits (k m g t; K M G T for bytes)")
	f.BoolVarP(&o.json, "json", "J", false, "output in JSON format")
	f.BoolVarP(&o.oneOff, "one-off", "1", false, "handle one client connection then exit")
	f.StringVarP(&o.duration, "time", "t", "", "time in seconds to transmit for (default 10)")
	f.StringVarP(&o.parallel, "parallel", "P", "", "number of parallel client streams to run")
	f.BoolVarP(&o.reverse, "reverse", "R", false, "run in reverse mode (server sends, client receives)")
	f.StringVarP(&o.length, "length", "l", "", "length of buffer to read or write (default 128 KB)")
	f.StringVarP(&o.window, "window", "w", "", "set window size / socket buffer size")
	f.StringVarP(&o.congestion, "congestion", "C", "", "set TCP congestion control algorithm")
	f.StringVarP(&o.mss, "set-mss", "M", "", "set TCP maximum segment size (MTU - 40 bytes)")
	f.BoolVarP(&o.noDelay, "no-delay", "N", false, "set TCP no delay, disabling Nagle's Algorithm")
	f.StringVar(&o.connectTimeout, "connect-timeout", "", "timeout for control connection setup (ms)")
	f.BoolVarP(&o.version, "version", "v", false, "show version information and quit")
}

// iperfVersion is what -v prints.
const iperfVersion = "iperf " + iperf3.Version + " (vnic: iperf3 3.12's protocol and output over vnic's TCP)"

// badValue is an option value vnic refuses where iperf3 would read 0.
func badValue(flag, v, want string) error {
	return &iperf3.Error{Code: iperf3.IEBadValue, Detail: fmt.Sprintf("%s %q: %s", flag, v, want)}
}

// parseIperfOpts reads the command line into an iperf3.Config and
// checks it as iperf3 does (iperf3.Config.Check), every refusal an
// *iperf3.Error.
func parseIperfOpts(o iperfOpts, args []string) (iperf3.Config, error) {
	var c iperf3.Config
	if len(args) > 0 {
		return c, badValue("argument", args[0], "iperf3 takes options only")
	}
	c.Server, c.JSON, c.OneOff, c.Reverse, c.NoDelay = o.server, o.json, o.oneOff, o.reverse, o.noDelay
	addr := func(flag, s string) (netip.Addr, error) {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, badValue(flag, s, "want an IPv4 address (vnic has no names)")
		}
		return a, nil
	}
	integer := func(flag, s string, dst *int) error {
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return badValue(flag, s, "not a whole number")
		}
		*dst = n
		return nil
	}
	units := func(flag, s string, dst *int) error {
		if s == "" {
			return nil
		}
		v, err := iperf3.ParseUnits(s)
		if err != nil || v < 0 || v > 1<<31-1 {
			return badValue(flag, s, "want a size such as 128K or 1M")
		}
		*dst = int(v)
		return nil
	}
	var err error
	if o.client != "" {
		if c.Host, err = addr("-c", o.client); err != nil {
			return c, err
		}
	}
	if o.bind != "" {
		if c.Bind, err = addr("-B", o.bind); err != nil {
			return c, err
		}
	}
	if o.port != "" {
		if err := integer("-p", o.port, &c.Port); err != nil {
			return c, err
		}
		if c.Port == 0 {
			return c, &iperf3.Error{Code: iperf3.IEBadPort}
		}
	}
	if o.interval != "" {
		v, err := strconv.ParseFloat(o.interval, 64)
		if err != nil {
			return c, badValue("-i", o.interval, "want seconds")
		}
		if v == 0 {
			c.NoInterval = true
		} else {
			c.Interval = time.Duration(v * float64(time.Second))
			if c.Interval == 0 {
				c.Interval = -1 // below the minimum: refused by Check
			}
		}
	}
	if o.format != "" {
		c.Format = o.format[0]
	}
	var secs, ms int
	if err := integer("-t", o.duration, &secs); err != nil {
		return c, err
	}
	if o.duration != "" && secs <= 0 {
		return c, badValue("-t", o.duration, "want 1 second or more (vnic runs no test until interrupted)")
	}
	c.Duration = time.Duration(secs) * time.Second
	if err := integer("-P", o.parallel, &c.Parallel); err != nil {
		return c, err
	}
	if o.parallel != "" && c.Parallel <= 0 {
		return c, badValue("-P", o.parallel, "want 1 stream or more")
	}
	if err := units("-l", o.length, &c.BlockSize); err != nil {
		return c, err
	}
	if o.length != "" && c.BlockSize <= 0 {
		return c, badValue("-l", o.length, "want 1 byte or more")
	}
	if err := units("-w", o.window, &c.Window); err != nil {
		return c, err
	}
	c.Congestion = o.congestion
	if err := integer("-M", o.mss, &c.MSS); err != nil {
		return c, err
	}
	if err := integer("--connect-timeout", o.connectTimeout, &ms); err != nil {
		return c, err
	}
	c.ConnectTimeout = time.Duration(ms) * time.Millisecond
	return c, c.Check()
}

func runIperf3(o iperfOpts, args []string, stdout, stderr io.Writer) int {
	if o.version {
		fmt.Fprintln(stdout, iperfVersion)
		return 0
	}
	c, err := parseIperfOpts(o, args)
	if err != nil {
		fmt.Fprintf(stderr, "iperf3: parameter error - %v\n\nUsage: vnic iperf3 --host NAME [-s|-c host] [options]\nTry `vnic iperf3 --help' for more information.\n", err)
		return 1
	}
	if o.host == "" {
		fmt.Fprintln(stderr, "iperf3: which host? --host NAME (or VNIC_HOST)")
		return 1
	}
	conn, err := nlclient.Dial(socketPath(o.socket))
	if err != nil {
		fmt.Fprintln(stderr, "iperf3:", err)
		return 1
	}
	defer conn.Close()
	// Each read waits for the next line: a server may wait for its
	// clients as long as it runs; a client's test ends in its time.
	conn.Timeout = 365 * 24 * time.Hour
	if !c.Server {
		conn.Timeout = c.Duration + iperf3.DefaultDuration + 2*time.Minute
	}
	// Interrupted, iperf3 stops and says so; the host's iperf3 stops
	// when the connection goes.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	var interrupted atomic.Bool
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-sig:
			interrupted.Store(true)
			conn.Close()
		case <-stopped:
		}
	}()
	status := -1
	err = conn.Stream(control.IperfFamily, control.IperfCmdRun, control.IperfRequest(o.host, c), func(_ uint8, attrs []byte) {
		kind, text, toErr, st := decodeIperfMsg(attrs)
		switch kind {
		case control.IperfOut:
			if toErr {
				io.WriteString(stderr, text)
			} else {
				io.WriteString(stdout, text)
			}
		case control.IperfExit:
			status = st
		}
	})
	if interrupted.Load() {
		who := "client"
		if c.Server {
			who = "server"
		}
		fmt.Fprintf(stderr, "iperf3: interrupt - the %s has terminated\n", who)
		return 1
	}
	if err != nil {
		reportErr(stderr, "iperf3", err, "")
		return 1
	}
	if status < 0 {
		fmt.Fprintln(stderr, "iperf3: the host's iperf3 ended without an exit status")
		return 1
	}
	return status
}

func decodeIperfMsg(attrs []byte) (kind uint8, text string, stderr bool, status int) {
	ad, err := netlink.NewAttributeDecoder(attrs)
	if err != nil {
		return 0, "", false, 0
	}
	for ad.Next() {
		switch ad.Type() {
		case control.IperfAttrKind:
			kind = ad.Uint8()
		case control.IperfAttrText:
			text = ad.String()
		case control.IperfAttrStderr:
			stderr = ad.Uint8() != 0
		case control.IperfAttrStatus:
			status = int(ad.Uint32())
		}
	}
	return kind, text, stderr, status
}
