package main

import (
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

	"vnic/internal/nlclient"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
)

type pingOpts struct {
	socket, host, pmtu, src string
	count, size, ttl, tos   int
	interval, wait          float64
}

func newPingCmd(a *app) *cobra.Command {
	var o pingOpts
	cmd := &cobra.Command{
		Use:   "ping --host NAME [-c N] [-s SIZE] [-M do|dont|want] [-t TTL] [-i SECS] [-W SECS] ADDR",
		Short: "ping from a host of a running `vnic up` (iputils ping's options, output and summary)",
		Long: `ping sends ICMP echo requests from a host of a running 'vnic up' and prints
the replies and the summary as iputils ping does. Times are the host's clock
(virtual time in a virtual topology). Exit status: 0 when a reply came, 1 when
none did, 2 on other errors.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runPing(o, args[0], a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	f.StringVar(&o.host, "host", os.Getenv("VNIC_HOST"), "the host that pings (default $VNIC_HOST)")
	f.IntVarP(&o.count, "count", "c", 0, "stop after sending this many requests (default: until interrupted)")
	f.IntVarP(&o.size, "size", "s", 56, "ICMP data bytes")
	f.StringVarP(&o.pmtu, "pmtudisc", "M", "want", "path MTU discovery: do (DF, never fragment), dont (no DF), want (DF when it fits)")
	f.IntVarP(&o.ttl, "ttl", "t", 0, "IP time to live (default the host's, 64)")
	f.IntVarP(&o.tos, "tos", "Q", 0, "IP TOS byte")
	f.Float64VarP(&o.interval, "interval", "i", 1, "seconds between requests (host clock)")
	f.Float64VarP(&o.wait, "timeout", "W", 10, "seconds to wait for replies after the last request")
	f.StringVarP(&o.src, "interface", "I", "", "source address")
	return cmd
}

type pingStats struct {
	sent, recv, errs int
	rtts             []float64 // ms
	elapsed          time.Duration
	first, last      time.Duration // host clock of the first and last request
}

func runPing(o pingOpts, target string, stdout, stderr io.Writer) int {
	if o.host == "" {
		fmt.Fprintln(stderr, "ping: which host? --host NAME (or VNIC_HOST)")
		return 2
	}
	dst, err := netip.ParseAddr(target)
	if err != nil || !dst.Is4() {
		fmt.Fprintf(stderr, "ping: %s: Name or service not known (an IPv4 address is needed)\n", target)
		return 2
	}
	mode := map[string]uint8{"want": inet.PMTUWant, "do": inet.PMTUDo, "dont": inet.PMTUDont}
	pm, ok := mode[o.pmtu]
	if !ok {
		fmt.Fprintf(stderr, "ping: invalid -M argument: %s (want do, dont or want)\n", o.pmtu)
		return 2
	}
	if o.count < 0 || o.size < 0 || o.size > 65507 || o.ttl < 0 || o.ttl > 255 || o.tos < 0 || o.tos > 255 || o.interval < 0.001 || o.wait < 0 {
		fmt.Fprintln(stderr, "ping: invalid argument: -c ≥ 1, -s 0..65507, -t 0..255, -Q 0..255, -i ≥ 0.001, -W ≥ 0")
		return 2
	}
	ae := netlink.NewAttributeEncoder()
	ae.String(inet.InetAttrHost, o.host)
	d4 := dst.As4()
	ae.Bytes(inet.InetAttrDst, d4[:])
	if o.src != "" {
		s, err := netip.ParseAddr(o.src)
		if err != nil || !s.Is4() {
			fmt.Fprintf(stderr, "ping: -I %s: an IPv4 source address is needed\n", o.src)
			return 2
		}
		s4 := s.As4()
		ae.Bytes(inet.InetAttrSrc, s4[:])
	}
	ae.Uint32(inet.InetAttrCount, uint32(o.count))
	ae.Uint32(inet.InetAttrSize, uint32(o.size))
	ae.Uint8(inet.InetAttrTTL, uint8(o.ttl))
	ae.Uint8(inet.InetAttrTOS, uint8(o.tos))
	ae.Uint8(inet.InetAttrPMTU, pm)
	ae.Uint64(inet.InetAttrInterval, uint64(o.interval*float64(time.Second)))
	ae.Uint64(inet.InetAttrWait, uint64(o.wait*float64(time.Second)))
	body, _ := ae.Encode()
	conn, err := nlclient.Dial(socketPath(o.socket))
	if err != nil {
		fmt.Fprintln(stderr, "ping:", err)
		return 2
	}
	defer conn.Close()
	conn.Timeout = time.Duration(o.interval*float64(time.Second)) + time.Duration(o.wait*float64(time.Second)) + 30*time.Second
	fmt.Fprintf(stdout, "PING %v (%v) %d(%d) bytes of data.\n", dst, dst, o.size, o.size+28)
	var st pingStats
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
	err = conn.Stream(inet.InetFamily, inet.InetCmdPing, body, func(_ uint8, attrs []byte) {
		mu.Lock()
		printPing(stdout, stderr, attrs, &st)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	if interrupted.Load() {
		st.elapsed = st.last - st.first
		err = nil
	}
	if err != nil {
		reportErr(stderr, "ping", err, "")
		return 2
	}
	fmt.Fprintf(stdout, "\n--- %v ping statistics ---\n", dst)
	fmt.Fprint(stdout, formatPingSummary(st))
	if st.recv == 0 {
		return 1
	}
	return 0
}

func printPing(stdout, stderr io.Writer, attrs []byte, st *pingStats) {
	ad, err := netlink.NewAttributeDecoder(attrs)
	if err != nil {
		return
	}
	var kind, ttl, typ, code uint8
	var seq uint16
	var from netip.Addr
	var nbytes, info, errno, mtu, sent uint32
	var rtt, elapsed uint64
	for ad.Next() {
		switch ad.Type() {
		case inet.InetAttrKind:
			kind = ad.Uint8()
		case inet.InetAttrSeq:
			seq = ad.Uint16()
		case inet.InetAttrFrom:
			if b := ad.Bytes(); len(b) == 4 {
				from = netip.AddrFrom4([4]byte(b))
			}
		case inet.InetAttrTTL:
			ttl = ad.Uint8()
		case inet.InetAttrBytes:
			nbytes = ad.Uint32()
		case inet.InetAttrRTT:
			rtt = ad.Uint64()
		case inet.InetAttrType:
			typ = ad.Uint8()
		case inet.InetAttrCode:
			code = ad.Uint8()
		case inet.InetAttrInfo:
			info = ad.Uint32()
		case inet.InetAttrErrno:
			errno = ad.Uint32()
		case inet.InetAttrMTU:
			mtu = ad.Uint32()
		case inet.InetAttrSent:
			sent = ad.Uint32()
		case inet.InetAttrElapsed:
			elapsed = ad.Uint64()
		}
	}
	switch kind {
	case inet.PingReply:
		st.recv++
		ms := float64(rtt) / 1e6
		st.rtts = append(st.rtts, ms)
		fmt.Fprintf(stdout, "%d bytes from %v: icmp_seq=%d ttl=%d time=%s ms\n", nbytes, from, seq, ttl, pingTime(ms))
	case inet.PingError:
		st.errs++
		fmt.Fprintf(stdout, "From %v icmp_seq=%d %s\n", from, seq, icmpText(typ, code, info))
	case inet.PingLocal:
		st.errs++
		switch {
		case mtu != 0:
			fmt.Fprintf(stderr, "ping: local error: message too long, mtu=%d\n", mtu)
		case errno != 0:
			fmt.Fprintf(stderr, "ping: sendmsg: %s\n", capitalise(syscall.Errno(errno).Error()))
		default:
			fmt.Fprintln(stderr, "ping: sendmsg failed")
		}
	case inet.PingSent:
		if st.sent == 0 {
			st.first = time.Duration(elapsed)
		}
		st.sent++
		st.last = time.Duration(elapsed)
	case inet.PingSummary:
		st.sent = int(sent)
		st.elapsed = time.Duration(elapsed)
	}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// pingTime formats a round trip as iputils does: three significant
// decimals below 1 ms, fewer above.
func pingTime(ms float64) string {
	switch {
	case ms >= 100:
		return strconv.FormatInt(int64(ms), 10)
	case ms >= 10:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	case ms >= 1:
		return strconv.FormatFloat(ms, 'f', 2, 64)
	}
	return strconv.FormatFloat(ms, 'f', 3, 64)
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
		case ipv4.ICMPPktFiltered:
			return "Packet filtered"
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
	}
	return fmt.Sprintf("Bad ICMP type: %d", typ)
}

func formatPingSummary(st pingStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d packets transmitted, %d received", st.sent, st.recv)
	if st.errs > 0 {
		fmt.Fprintf(&b, ", +%d errors", st.errs)
	}
	loss := 0.0
	if st.sent > 0 {
		loss = float64(st.sent-st.recv) * 100 / float64(st.sent)
	}
	fmt.Fprintf(&b, ", %s%% packet loss, time %dms\n", strconv.FormatFloat(loss, 'g', 6, 64), st.elapsed.Milliseconds())
	if st.recv > 0 {
		mn, mx, sum, sq := math.Inf(1), 0.0, 0.0, 0.0
		for _, t := range st.rtts {
			mn, mx = math.Min(mn, t), math.Max(mx, t)
			sum += t
			sq += t * t
		}
		n := float64(len(st.rtts))
		avg := sum / n
		mdev := math.Sqrt(math.Max(sq/n-avg*avg, 0))
		fmt.Fprintf(&b, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", mn, avg, mx, mdev)
	}
	return b.String()
}
