package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vnic/internal/nlclient"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
)

// pingVersion is what ping -V prints: vnic's ping, written to behave as
// iputils 20221126 (Debian 12's ping) does.
const pingVersion = "ping from vnic (iputils 20221126 behaviour)"

// pingOpts are ping's options as given: the numeric ones as text, parsed
// with iputils' rules and wording by parsePingOpts.
type pingOpts struct {
	socket, host                          string
	count, size, ttl, tos, pmtu           string
	interval, linger, deadline, iface, ts string
	rr, version, four, quiet, stamps      bool
	asJSON                                bool
}

func newPingCmd(a *app) *cobra.Command {
	var o pingOpts
	cmd := &cobra.Command{
		Use:   "ping --host NAME [-c COUNT] [-s SIZE] [-M do|dont|want] [-t TTL] [-Q TOS] [-i INTERVAL] [-W TIMEOUT] [-w DEADLINE] [-I ADDR|DEV] [-R|-T tsonly|tsandaddr|tsprespec] [-q] [-D] [-V] [-4] [--json] ADDR",
		Short: "ping from a host of a running `vnic up` (iputils ping's options, output, summary and exit status)",
		Long: `ping sends ICMP echo requests from a host of a running 'vnic up' and prints
the replies and the summary as iputils ping 20221126 does, with its error
wording. Times are the host's clock (virtual time in a virtual topology);
-D stamps lines with the wall clock as ping does. Exit status as ping's: 0
when replies came (with -w: as many as -c asked for), 1 when none did or on
a bad option value, 2 on other errors (an unknown destination, connect or
bind failures). The destination is an IPv4 address (vnic has no names).

-R and -T set the record route and timestamp options on the host's ping
socket (IP_OPTIONS, as iputils builds them) and print what the replies
bring back (IP_RETOPTS), as ping does.

--json prints, instead of the text, one JSON object: the summary's figures
with the keys of iputils' own JSON output (ping -j of later iputils):
host, transmitted, received, duplicates, corrupted, errors, loss (percent),
time (ms), rtt {min, avg, max, mdev} (ms, as text with three decimals, only
when a reply came) and pipe (when more than one request was in flight), and
replies: one object per reply or error (seq, from, bytes, ttl, time_ms,
dup; or error).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runPing(o, args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	pingFlags(cmd.Flags(), &o)
	return cmd
}

// pingFlags binds ping's options to o.
func pingFlags(f *pflag.FlagSet, o *pingOpts) {
	f.StringVar(&o.socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	f.StringVar(&o.host, "host", os.Getenv("VNIC_HOST"), "the host that pings (default $VNIC_HOST)")
	f.StringVarP(&o.count, "count", "c", "", "stop after sending (and receiving) COUNT requests")
	f.StringVarP(&o.size, "size", "s", "56", "ICMP data bytes")
	f.StringVarP(&o.pmtu, "pmtudisc", "M", "want", "path MTU discovery: do (DF, never fragment), dont (no DF), want (DF when it fits)")
	f.StringVarP(&o.ttl, "ttl", "t", "", "IP time to live (default the host's, 64)")
	f.StringVarP(&o.tos, "tos", "Q", "", "IP TOS byte (decimal or 0x hex)")
	f.StringVarP(&o.interval, "interval", "i", "", "seconds between requests (host clock; 0.002 at least)")
	f.StringVarP(&o.linger, "timeout", "W", "", "seconds to wait for a reply after the last request when none came (default 10)")
	f.StringVarP(&o.deadline, "deadline", "w", "", "stop after this many seconds (host clock), however many requests that takes")
	f.StringVarP(&o.iface, "interface", "I", "", "source address (bind) or device (SO_BINDTODEVICE)")
	f.BoolVarP(&o.rr, "record-route", "R", false, "ask for the record route option and print the routes")
	f.StringVarP(&o.ts, "timestamp", "T", "", "ask for the timestamp option: tsonly, tsandaddr or tsprespec (then: HOST1 [HOST2...] ADDR)")
	f.BoolVarP(&o.version, "version", "V", false, "print the version and exit")
	f.BoolVarP(&o.four, "ipv4", "4", false, "IPv4 only (vnic's only family)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print the header and the summary only")
	f.BoolVarP(&o.stamps, "timestamps", "D", false, "print the wall-clock time [seconds.microseconds] before each line")
	f.BoolVar(&o.asJSON, "json", false, "print the summary and the replies as one JSON object")
}

// pingConfig is a checked ping command line.
type pingConfig struct {
	target                     string
	dst, src                   netip.Addr
	dev                        string
	count                      int64 // 0: no -c
	size, ttl, tos             int
	pmtu, ipopt                uint8
	interval, linger, deadline time.Duration
	prespec                    []netip.Addr
	quiet, stamps, asJSON      bool
}

const (
	longMax = math.MaxInt64
	intMax  = math.MaxInt32
)

// pingArgErr is an option ping refuses: its message and exit status.
type pingArgErr struct {
	msg  string
	code int
}

// strtolOrErr is iputils' strtol_or_err: a decimal integer within
// [lo, hi], else "invalid argument: 'S'" (with the range when it is a
// number out of it), exit 1.
func strtolOrErr(s string, lo, hi int64) (int64, *pingArgErr) {
	n, err := strconv.ParseInt(strings.TrimLeft(s, " \t\n"), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, &pingArgErr{fmt.Sprintf("invalid argument: '%s': out of range: %d <= value <= %d", s, lo, hi), 1}
		}
		return 0, &pingArgErr{fmt.Sprintf("invalid argument: '%s'", s), 1}
	}
	if n < lo || n > hi {
		return 0, &pingArgErr{fmt.Sprintf("invalid argument: '%s': out of range: %d <= value <= %d", s, lo, hi), 1}
	}
	return n, nil
}

// pingSeconds parses -i and -W as Debian's iputils 20221126 does: the
// leading number counts; trailing garbage is warned about (two lines on
// stderr) but not refused.
func pingSeconds(s string, warn io.Writer) float64 {
	end := 0
	for i := len(s); i > 0; i-- {
		if _, err := strconv.ParseFloat(s[:i], 64); err == nil {
			end = i
			break
		}
	}
	v := 0.0
	if end > 0 {
		v, _ = strconv.ParseFloat(s[:end], 64)
	}
	if end < len(s) {
		fmt.Fprintf(warn, "ping: option argument contains garbage: %s\nping: this will become fatal error in the future\n", s[end:])
	}
	return v
}

// parsePingOpts checks the command line as iputils ping does, with its
// wording for each refusal. Warnings go to warn.
func parsePingOpts(o pingOpts, args []string, warn io.Writer) (pingConfig, *pingArgErr) {
	c := pingConfig{size: 56, interval: time.Second, linger: 10 * time.Second, quiet: o.quiet, stamps: o.stamps, asJSON: o.asJSON}
	if o.count != "" {
		n, e := strtolOrErr(o.count, 1, longMax)
		if e != nil {
			return c, e
		}
		c.count = n
	}
	if o.interval != "" {
		v := pingSeconds(o.interval, warn)
		if v < 0 || v > intMax/1000 || math.IsNaN(v) {
			// Debian's 20221126 lets a negative interval through;
			// upstream iputils refuses it so, as vnic does.
			return c, &pingArgErr{"bad timing interval: " + o.interval, 2}
		}
		c.interval = time.Duration(int64(v*1000)) * time.Millisecond
	}
	if o.iface != "" {
		if a, err := netip.ParseAddr(o.iface); err == nil && a.Is4() {
			c.src = a
		} else {
			c.dev = o.iface
		}
	}
	switch o.pmtu {
	case "do":
		c.pmtu = inet.PMTUDo
	case "dont":
		c.pmtu = inet.PMTUDont
	case "want":
		c.pmtu = inet.PMTUWant
	default:
		return c, &pingArgErr{"invalid -M argument: " + o.pmtu, 2}
	}
	if o.tos != "" {
		var v int64
		var err error
		if strings.HasPrefix(o.tos, "0x") || strings.HasPrefix(o.tos, "0X") {
			v, err = strconv.ParseInt(o.tos[2:], 16, 64)
		} else {
			v, err = strconv.ParseInt(o.tos, 10, 64)
		}
		if err != nil {
			return c, &pingArgErr{"bad TOS value: " + o.tos, 2}
		}
		if v > 255 || v < 0 {
			return c, &pingArgErr{fmt.Sprintf("the decimal value of TOS bits must be in range 0-255: %d", v), 2}
		}
		c.tos = int(v)
	}
	n, e := strtolOrErr(o.size, 0, intMax)
	if e != nil {
		return c, e
	}
	c.size = int(n)
	c.ttl = -1
	if o.ttl != "" {
		n, e := strtolOrErr(o.ttl, 0, 255)
		if e != nil {
			return c, e
		}
		c.ttl = int(n)
	}
	if o.deadline != "" {
		n, e := strtolOrErr(o.deadline, 0, intMax)
		if e != nil {
			return c, e
		}
		c.deadline = time.Duration(n) * time.Second
	}
	if o.linger != "" {
		v := pingSeconds(o.linger, warn)
		if v < 0 || v > intMax/1000 || math.IsNaN(v) {
			return c, &pingArgErr{"bad linger time: " + o.linger, 2}
		}
		c.linger = time.Duration(int64(v*1000)) * time.Millisecond
	}
	if o.rr && o.ts != "" {
		return c, &pingArgErr{"only one of -T or -R may be used", 2}
	}
	if o.rr {
		c.ipopt = inet.IPOptRecordRoute
	}
	switch o.ts {
	case "":
	case "tsonly":
		c.ipopt = inet.IPOptTSOnly
	case "tsandaddr":
		c.ipopt = inet.IPOptTSAndAddr
	case "tsprespec":
		c.ipopt = inet.IPOptTSPrespec
	default:
		return c, &pingArgErr{"invalid timestamp type: " + o.ts, 2}
	}
	if len(args) == 0 {
		return c, &pingArgErr{"usage error: Destination address required", 1}
	}
	c.target = args[len(args)-1]
	hosts := args
	if len(args) > 1 && (c.ipopt != inet.IPOptTSPrespec || len(args) > 5) {
		// More hosts make a source route in iputils (or, with -R or
		// too many for -T tsprespec, a usage error): vnic's ping
		// sends no source route.
		return c, &pingArgErr{"a source route (more than one host): " + errnoText(syscall.EOPNOTSUPP), 2}
	}
	for _, h := range hosts {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() {
			return c, &pingArgErr{h + ": Name or service not known", 2}
		}
		if c.ipopt == inet.IPOptTSPrespec {
			c.prespec = append(c.prespec, a)
		}
		c.dst = a
	}
	if c.interval < 2*time.Millisecond {
		// ping's rule for a user without CAP_NET_RAW; vnic's ping is a
		// client of the control socket, never privileged.
		return c, &pingArgErr{"cannot flood; minimal interval allowed for user is 2ms", 2}
	}
	if c.ttl == 0 {
		return c, &pingArgErr{"cannot set unicast time-to-live: " + errnoText(syscall.EINVAL), 2}
	}
	return c, nil
}

func errnoText(en syscall.Errno) string {
	s := en.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// request encodes c as a vnic_inet ping request for host.
func (c pingConfig) request(host string) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.String(inet.InetAttrHost, host)
	d4 := c.dst.As4()
	ae.Bytes(inet.InetAttrDst, d4[:])
	if c.src.IsValid() {
		s4 := c.src.As4()
		ae.Bytes(inet.InetAttrSrc, s4[:])
	}
	if c.dev != "" {
		ae.String(inet.InetAttrDev, c.dev)
	}
	ae.Uint32(inet.InetAttrCount, uint32(min(c.count, math.MaxUint32)))
	ae.Uint32(inet.InetAttrSize, uint32(c.size))
	if c.ttl > 0 {
		ae.Uint8(inet.InetAttrTTL, uint8(c.ttl))
	}
	ae.Uint8(inet.InetAttrTOS, uint8(c.tos))
	ae.Uint8(inet.InetAttrPMTU, c.pmtu)
	ae.Uint64(inet.InetAttrInterval, uint64(c.interval))
	ae.Uint64(inet.InetAttrWait, uint64(c.linger))
	if c.deadline > 0 {
		ae.Uint64(inet.InetAttrDeadline, uint64(c.deadline))
	}
	if c.ipopt != inet.IPOptNone {
		ae.Uint8(inet.InetAttrIPOpt, c.ipopt)
		if len(c.prespec) > 0 {
			var b []byte
			for _, a := range c.prespec {
				a4 := a.As4()
				b = append(b, a4[:]...)
			}
			ae.Bytes(inet.InetAttrPrespec, b)
		}
	}
	body, _ := ae.Encode()
	return body
}

func runPing(o pingOpts, args []string, stdout, stderr io.Writer) int {
	if o.version {
		fmt.Fprintln(stdout, pingVersion)
		return 0
	}
	c, perr := parsePingOpts(o, args, stderr)
	if perr != nil {
		fmt.Fprintln(stderr, "ping: "+perr.msg)
		return perr.code
	}
	if o.host == "" {
		fmt.Fprintln(stderr, "ping: which host? --host NAME (or VNIC_HOST)")
		return 2
	}
	conn, err := nlclient.Dial(socketPath(o.socket))
	if err != nil {
		fmt.Fprintln(stderr, "ping:", err)
		return 2
	}
	defer conn.Close()
	conn.Timeout = c.interval + c.linger + 2*c.deadline + 30*time.Second
	ps := newPingSession(c, stdout, stderr)
	// Interrupted, ping stops and prints its summary (the server stops
	// when the connection goes).
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
	var mu sync.Mutex
	err = conn.Stream(inet.InetFamily, inet.InetCmdPing, c.request(o.host), func(_ uint8, attrs []byte) {
		mu.Lock()
		ps.event(attrs)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	if interrupted.Load() && ps.started {
		ps.elapsed = ps.last - ps.first
		err = nil
	}
	if err != nil {
		// Before the header: a setup error, worded by the host as ping
		// words it (connect, bind, SO_BINDTODEVICE).
		reportErr(stderr, "ping", err, "")
		return 2
	}
	ps.finish()
	return ps.exitCode()
}

// pingSession is one ping's output and statistics as iputils keeps them.
type pingSession struct {
	c              pingConfig
	stdout, stderr io.Writer
	now            func() time.Time // the wall clock of -D

	started                                  bool
	ntransmitted, nreceived, nrepeats, nerrs int64
	tsum, tsum2, tmin, tmax                  int64 // µs
	pipesize                                 int
	acked                                    uint16
	rcvd                                     map[uint16]bool
	first, last, elapsed                     time.Duration
	oldRR                                    []byte
	replies                                  []pingReplyJSON
}

func newPingSession(c pingConfig, stdout, stderr io.Writer) *pingSession {
	return &pingSession{c: c, stdout: stdout, stderr: stderr, now: time.Now, rcvd: map[uint16]bool{}, tmin: math.MaxInt64, pipesize: -1}
}

// optlen is the IP option bytes ping reserves (-R, -T: 40).
func (p *pingSession) optlen() int {
	if p.c.ipopt != inet.IPOptNone {
		return 40
	}
	return 0
}

func (p *pingSession) timing() bool { return p.c.size >= 16 }

func (p *pingSession) text() bool { return !p.c.asJSON }

func (p *pingSession) stamp() string {
	if !p.c.stamps {
		return ""
	}
	t := p.now()
	return fmt.Sprintf("[%d.%06d] ", t.Unix(), t.Nanosecond()/1000)
}

// header is ping's first line; src is the socket's source address.
func (p *pingSession) header(src netip.Addr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "PING %s (%v) ", p.c.target, p.c.dst)
	if p.c.dev != "" || p.c.src.IsValid() {
		fmt.Fprintf(&b, "from %v %s: ", src, p.c.dev)
	}
	fmt.Fprintf(&b, "%d(%d) bytes of data.\n", p.c.size, p.c.size+8+p.optlen()+20)
	return b.String()
}

// acknowledge is iputils' acknowledge: the pipe is how many requests
// were out when the answer to seq came.
func (p *pingSession) acknowledge(seq uint16) {
	diff := uint16(p.ntransmitted) - seq
	if diff <= 0x7fff {
		if int(diff)+1 > p.pipesize {
			p.pipesize = int(diff) + 1
		}
		if int16(seq-p.acked) > 0 || uint16(p.ntransmitted)-p.acked > 0x7fff {
			p.acked = seq
		}
	}
}

type pingEvent struct {
	kind, ttl, typ, code uint8
	seq                  uint16
	from                 netip.Addr
	nbytes, info, errno  uint32
	mtu, sent            uint32
	rtt, elapsed         uint64
	options              []byte
}

func decodePingEvent(attrs []byte) (pingEvent, bool) {
	var e pingEvent
	ad, err := netlink.NewAttributeDecoder(attrs)
	if err != nil {
		return e, false
	}
	for ad.Next() {
		switch ad.Type() {
		case inet.InetAttrKind:
			e.kind = ad.Uint8()
		case inet.InetAttrSeq:
			e.seq = ad.Uint16()
		case inet.InetAttrFrom, inet.InetAttrSrc:
			if b := ad.Bytes(); len(b) == 4 {
				e.from = netip.AddrFrom4([4]byte(b))
			}
		case inet.InetAttrTTL:
			e.ttl = ad.Uint8()
		case inet.InetAttrBytes:
			e.nbytes = ad.Uint32()
		case inet.InetAttrRTT:
			e.rtt = ad.Uint64()
		case inet.InetAttrType:
			e.typ = ad.Uint8()
		case inet.InetAttrCode:
			e.code = ad.Uint8()
		case inet.InetAttrInfo:
			e.info = ad.Uint32()
		case inet.InetAttrErrno:
			e.errno = ad.Uint32()
		case inet.InetAttrMTU:
			e.mtu = ad.Uint32()
		case inet.InetAttrSent:
			e.sent = ad.Uint32()
		case inet.InetAttrElapsed:
			e.elapsed = ad.Uint64()
		case inet.InetAttrOptions:
			e.options = append([]byte(nil), ad.Bytes()...)
		}
	}
	return e, ad.Err() == nil
}

func (p *pingSession) event(attrs []byte) {
	if e, ok := decodePingEvent(attrs); ok {
		p.handle(e)
	}
}

// handle prints one message of the host's stream as ping prints it and
// keeps the statistics.
func (p *pingSession) handle(e pingEvent) {
	switch e.kind {
	case inet.PingStart:
		p.started = true
		if p.text() {
			fmt.Fprint(p.stdout, p.header(e.from))
		}
	case inet.PingSent:
		if p.ntransmitted == 0 {
			p.first = time.Duration(e.elapsed)
		}
		p.ntransmitted++
		p.last = time.Duration(e.elapsed)
	case inet.PingReply:
		p.reply(e)
	case inet.PingError:
		p.acknowledge(e.seq)
		p.nerrs++
		p.replies = append(p.replies, pingReplyJSON{Seq: e.seq, From: e.from.String(), Error: icmpText(e.typ, e.code, e.info)})
		if p.c.quiet || !p.text() {
			return
		}
		fmt.Fprintf(p.stdout, "%sFrom %v icmp_seq=%d %s\n", p.stamp(), e.from, e.seq, icmpText(e.typ, e.code, e.info))
	case inet.PingLocal:
		if e.mtu != 0 {
			p.nerrs++
			if !p.c.quiet {
				fmt.Fprintf(p.stderr, "ping: local error: message too long, mtu=%d\n", e.mtu)
			}
			return
		}
		if !p.c.quiet {
			if e.errno != 0 {
				fmt.Fprintf(p.stderr, "ping: sendmsg: %s\n", errnoText(syscall.Errno(e.errno)))
			} else {
				fmt.Fprintln(p.stderr, "ping: sendmsg failed")
			}
		}
	case inet.PingSummary:
		p.ntransmitted = int64(e.sent)
		p.elapsed = time.Duration(e.elapsed)
	}
}

func (p *pingSession) reply(e pingEvent) {
	p.nreceived++
	p.acknowledge(e.seq)
	us := int64(e.rtt / 1000)
	if p.timing() {
		p.tsum += us
		p.tsum2 += us * us
		p.tmin = min(p.tmin, us)
		p.tmax = max(p.tmax, us)
	}
	dup := p.rcvd[e.seq]
	if dup {
		p.nrepeats++
		p.nreceived--
	}
	p.rcvd[e.seq] = true
	r := pingReplyJSON{Seq: e.seq, From: e.from.String(), Bytes: int(e.nbytes), TTL: int(e.ttl), Dup: dup}
	if p.timing() {
		r.TimeMS = float64(us) / 1000
	}
	p.replies = append(p.replies, r)
	if p.c.quiet || !p.text() {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%d bytes from %v: icmp_seq=%d ttl=%d", p.stamp(), e.nbytes, e.from, e.seq, e.ttl)
	if p.timing() {
		fmt.Fprintf(&b, " time=%s ms", pingTime(us))
	}
	if dup {
		b.WriteString(" (DUP!)")
	}
	if len(e.options) > 0 {
		b.WriteString(p.prOptions(e.options))
	}
	b.WriteString("\n")
	fmt.Fprint(p.stdout, b.String())
}

// pingTime formats a round trip of us microseconds as iputils does:
// three decimals below 1 ms, two below 10, one below 100, none above
// (rounded; truncated below 1 ms).
func pingTime(us int64) string {
	switch {
	case us >= 100000:
		return strconv.FormatInt((us+500)/1000, 10)
	case us >= 10000:
		return fmt.Sprintf("%d.%01d", (us+50)/1000, ((us+50)%1000)/100)
	case us >= 1000:
		return fmt.Sprintf("%d.%02d", (us+5)/1000, ((us+5)%1000)/10)
	}
	return fmt.Sprintf("%d.%03d", us/1000, us%1000)
}

// prOptions prints a reply's IP options as ping's pr_options does: the
// record route (or "(same route)" when it repeats the last one) and the
// timestamps, each entry on its own line.
func (p *pingSession) prOptions(opts []byte) string {
	var b strings.Builder
	addr := func(x []byte) string {
		a := netip.AddrFrom4([4]byte(x))
		if a.IsUnspecified() {
			return "0.0.0.0"
		}
		return a.String()
	}
	for len(opts) > 0 {
		switch opts[0] {
		case ipv4.IPOptEnd:
			return b.String()
		case ipv4.IPOptNoop:
			opts = opts[1:]
			b.WriteString("\nNOP")
			continue
		}
		if len(opts) < 2 {
			return b.String()
		}
		olen := int(opts[1])
		if olen < 2 || olen > len(opts) {
			return b.String()
		}
		o := opts[:olen]
		switch o[0] {
		case ipv4.IPOptLSRR, ipv4.IPOptSSRR:
			if o[0] == ipv4.IPOptSSRR {
				b.WriteString("\nSSRR: ")
			} else {
				b.WriteString("\nLSRR: ")
			}
			for i := 3; i+4 <= olen; i += 4 {
				fmt.Fprintf(&b, "\t%s\n", addr(o[i:i+4]))
			}
		case ipv4.IPOptRR:
			if olen < 3 {
				break
			}
			n := min(int(o[2]), olen) - ipv4.IPOptMinOff
			if n <= 0 {
				break
			}
			rr := o[3:min(3+n, olen)]
			if p.oldRR != nil && string(rr) == string(p.oldRR) {
				b.WriteString("\t(same route)")
				break
			}
			p.oldRR = append([]byte(nil), rr...)
			b.WriteString("\nRR: ")
			for i := 0; i+4 <= len(rr); i += 4 {
				fmt.Fprintf(&b, "\t%s\n", addr(rr[i:i+4]))
			}
		case ipv4.IPOptTimestamp:
			if olen < 4 {
				break
			}
			n := min(int(o[2]), olen) - 5
			if n <= 0 {
				break
			}
			flags := o[3]
			b.WriteString("\nTS: ")
			var std, nonstd uint32
			// As pr_options: i counts the bytes the pointer says are
			// filled; a pair's timestamp is read even when only its
			// address is counted in.
			for i, cp := n, 4; ; {
				if flags&0xf != ipv4.IPOptTSOnly {
					if cp+4 > olen {
						break
					}
					b.WriteString("\t" + addr(o[cp:cp+4]))
					cp += 4
					if i -= 4; i <= 0 {
						break
					}
				}
				if cp+4 > olen {
					break
				}
				l := uint32(o[cp])<<24 | uint32(o[cp+1])<<16 | uint32(o[cp+2])<<8 | uint32(o[cp+3])
				cp += 4
				switch {
				case l&0x80000000 != 0 && nonstd == 0:
					fmt.Fprintf(&b, "\t%d absolute not-standard", l&0x7fffffff)
					nonstd = l & 0x7fffffff
				case l&0x80000000 != 0:
					fmt.Fprintf(&b, "\t%d not-standard", int64(l&0x7fffffff)-int64(nonstd))
					nonstd = l & 0x7fffffff
				case std == 0:
					fmt.Fprintf(&b, "\t%d absolute", l)
					std = l
				default:
					fmt.Fprintf(&b, "\t%d", int64(l)-int64(std))
					std = l
				}
				b.WriteString("\n")
				if i -= 4; i <= 0 {
					break
				}
			}
			if flags>>4 != 0 {
				fmt.Fprintf(&b, "Unrecorded hops: %d\n", flags>>4)
			}
		default:
			fmt.Fprintf(&b, "\nunknown option %x", o[0])
		}
		opts = opts[olen:]
	}
	return b.String()
}

// icmpText is iputils ping's wording for an ICMP error.
func icmpText(typ, code uint8, info uint32) string {
	switch typ {
	case ipv4.ICMPDestUnreach:
		switch code {
		case ipv4.ICMPNetUnreach:
			return "Destination Net Unreachable"
		case ipv4.ICMPHostUnreach:
			return "Destination Host Unreachable"
		case ipv4.ICMPProtUnreach:
			return "Destination Protocol Unreachable"
		case ipv4.ICMPPortUnreach:
			return "Destination Port Unreachable"
		case ipv4.ICMPFragNeeded:
			return fmt.Sprintf("Frag needed and DF set (mtu = %d)", info&0xffff)
		case ipv4.ICMPSRFailed:
			return "Source Route Failed"
		case 6:
			return "Destination Net Unknown"
		case 7:
			return "Destination Host Unknown"
		case 8:
			return "Source Host Isolated"
		case 9:
			return "Destination Net Prohibited"
		case 10:
			return "Destination Host Prohibited"
		case 11:
			return "Destination Net Unreachable for Type of Service"
		case 12:
			return "Destination Host Unreachable for Type of Service"
		case ipv4.ICMPPktFiltered:
			return "Packet filtered"
		case 14:
			return "Precedence Violation"
		case 15:
			return "Precedence Cutoff"
		}
		return fmt.Sprintf("Dest Unreachable, Bad Code: %d", code)
	case ipv4.ICMPTimeExceeded:
		if code == ipv4.ICMPExcFragTime {
			return "Frag reassembly time exceeded"
		}
		return "Time to live exceeded"
	case ipv4.ICMPParameterProb:
		return fmt.Sprintf("Parameter problem: pointer = %d", info>>24)
	case ipv4.ICMPSourceQuench:
		return "Source Quench"
	case ipv4.ICMPRedirect:
		gw := netip.AddrFrom4([4]byte{byte(info >> 24), byte(info >> 16), byte(info >> 8), byte(info)})
		what := fmt.Sprintf("Redirect, Bad Code: %d", code)
		switch code {
		case 0:
			what = "Redirect Network"
		case 1:
			what = "Redirect Host"
		case 2:
			what = "Redirect Type of Service and Network"
		case 3:
			what = "Redirect Type of Service and Host"
		}
		return fmt.Sprintf("%s(New nexthop: %s)", what, gw)
	}
	return fmt.Sprintf("Bad ICMP type: %d", typ)
}

// llsqrt is an integer square root (Newton's, as iputils computes mdev).
func llsqrt(a int64) int64 {
	x, prev := a, int64(math.MaxInt64)
	if x > 0 {
		for x < prev {
			prev = x
			x = (x + a/x) / 2
		}
	}
	return x
}

func ms3(us int64) string { return fmt.Sprintf("%d.%03d", us/1000, us%1000) }

// rtt is the summary's min/avg/max/mdev (µs), iputils' arithmetic.
func (p *pingSession) rtt() (mn, avg, mx, mdev int64) {
	total := p.nreceived + p.nrepeats
	avg = p.tsum / total
	var tmvar int64
	if p.tsum < math.MaxInt32 {
		tmvar = (p.tsum2 - p.tsum*p.tsum/total) / total
	} else {
		tmvar = p.tsum2/total - avg*avg
	}
	return p.tmin, avg, p.tmax, llsqrt(tmvar)
}

func (p *pingSession) lossPct() float64 {
	if p.ntransmitted == 0 {
		return 0
	}
	return float64(float32(float64(p.ntransmitted-p.nreceived) * 100 / float64(p.ntransmitted)))
}

func (p *pingSession) timeMS() int64 { return (int64(p.elapsed) + 500000) / 1000000 }

// summary is ping's statistics, from the blank line on.
func (p *pingSession) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n--- %s ping statistics ---\n", p.c.target)
	fmt.Fprintf(&b, "%d packets transmitted, %d received", p.ntransmitted, p.nreceived)
	if p.nrepeats > 0 {
		fmt.Fprintf(&b, ", +%d duplicates", p.nrepeats)
	}
	if p.nerrs > 0 {
		fmt.Fprintf(&b, ", +%d errors", p.nerrs)
	}
	if p.ntransmitted > 0 {
		fmt.Fprintf(&b, ", %s%% packet loss, time %dms", strconv.FormatFloat(p.lossPct(), 'g', 6, 64), p.timeMS())
	}
	b.WriteString("\n")
	comma := false
	if p.nreceived > 0 && p.timing() {
		mn, avg, mx, mdev := p.rtt()
		fmt.Fprintf(&b, "rtt min/avg/max/mdev = %s/%s/%s/%s ms", ms3(mn), ms3(avg), ms3(mx), ms3(mdev))
		comma = true
	}
	if p.pipesize > 1 {
		if comma {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "pipe %d", p.pipesize)
	}
	b.WriteString("\n")
	return b.String()
}

// pingJSON is vnic ping's --json object (see the command's help).
type pingJSON struct {
	Host        string          `json:"host"`
	Transmitted int64           `json:"transmitted"`
	Received    int64           `json:"received"`
	Duplicates  int64           `json:"duplicates"`
	Corrupted   int64           `json:"corrupted"`
	Errors      int64           `json:"errors"`
	Loss        float64         `json:"loss"`
	Time        int64           `json:"time"`
	RTT         *pingRTTJSON    `json:"rtt,omitempty"`
	Pipe        int             `json:"pipe,omitempty"`
	Replies     []pingReplyJSON `json:"replies"`
}

type pingRTTJSON struct {
	Min  string `json:"min"`
	Avg  string `json:"avg"`
	Max  string `json:"max"`
	Mdev string `json:"mdev"`
}

type pingReplyJSON struct {
	Seq    uint16  `json:"seq"`
	From   string  `json:"from"`
	Bytes  int     `json:"bytes,omitempty"`
	TTL    int     `json:"ttl,omitempty"`
	TimeMS float64 `json:"time_ms,omitempty"`
	Dup    bool    `json:"dup,omitempty"`
	Error  string  `json:"error,omitempty"`
}

func (p *pingSession) json() pingJSON {
	j := pingJSON{Host: p.c.target, Transmitted: p.ntransmitted, Received: p.nreceived, Duplicates: p.nrepeats, Errors: p.nerrs,
		Loss: p.lossPct(), Time: p.timeMS(), Replies: p.replies}
	if j.Replies == nil {
		j.Replies = []pingReplyJSON{}
	}
	if p.nreceived > 0 && p.timing() {
		mn, avg, mx, mdev := p.rtt()
		j.RTT = &pingRTTJSON{ms3(mn), ms3(avg), ms3(mx), ms3(mdev)}
	}
	if p.pipesize > 1 {
		j.Pipe = p.pipesize
	}
	return j
}

// finish prints the summary (text or JSON).
func (p *pingSession) finish() {
	if p.c.asJSON {
		enc := json.NewEncoder(p.stdout)
		enc.Encode(p.json())
		return
	}
	fmt.Fprint(p.stdout, p.summary())
}

// exitCode is ping's: 1 when no reply came, or with -w fewer than -c
// asked for; else 0.
func (p *pingSession) exitCode() int {
	if p.nreceived == 0 || p.c.deadline > 0 && p.nreceived < p.c.count {
		return 1
	}
	return 0
}
