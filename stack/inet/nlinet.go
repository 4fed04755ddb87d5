package inet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/netlink"
	"vnic/stack/tcp"
	"vnic/stack/udp"
)

// The vnic_inet family: ping and netstat for a host of the topology.
const (
	InetFamily = "vnic_inet"

	InetCmdPing  = 1 // stream: one message per reply, error or local failure, then a summary
	InetCmdStats = 2 // the host's SNMP counters

	// request attributes
	InetAttrHost     = 1  // string
	InetAttrDst      = 2  // 4 bytes
	InetAttrCount    = 3  // u32 (0: until the client goes)
	InetAttrSize     = 4  // u32: ICMP data bytes
	InetAttrTTL      = 5  // u8
	InetAttrPMTU     = 6  // u8: PMTUWant, PMTUDo, PMTUDont (ping -M)
	InetAttrInterval = 7  // u64 ns between requests (host clock)
	InetAttrWait     = 8  // u64 ns to wait for replies after the last request
	InetAttrTOS      = 9  // u8
	InetAttrSrc      = 10 // 4 bytes: ping -I ADDR (bind: it must be local)
	InetAttrDev      = 11 // string: ping -I DEV (SO_BINDTODEVICE)
	InetAttrDeadline = 12 // u64 ns: ping -w (host clock from the first request)
	InetAttrIPOpt    = 13 // u8: IPOptNone, IPOptRecordRoute, IPOptTS* (ping -R, -T)
	InetAttrPrespec  = 14 // 4 bytes per address: ping -T tsprespec's hosts

	// reply attributes
	InetAttrKind    = 20 // u8: PingReply, PingError, PingLocal, PingSummary
	InetAttrSeq     = 21 // u16
	InetAttrFrom    = 22 // 4 bytes
	InetAttrBytes   = 23 // u32: ICMP bytes of a reply
	InetAttrRTT     = 24 // u64 ns
	InetAttrType    = 25 // u8
	InetAttrCode    = 26 // u8
	InetAttrInfo    = 27 // u32
	InetAttrErrno   = 28 // u32
	InetAttrMTU     = 29 // u32
	InetAttrSent    = 30 // u32: requests sent (summary)
	InetAttrElapsed = 31 // u64 ns from the first request to the last (summary)
	InetAttrCounter = 32 // nested: name (1, string), value (2, u64)
	InetAttrOptions = 33 // bytes: the IP options of a reply (after -R or -T)
)

// ping's IP options (InetAttrIPOpt).
const (
	IPOptNone        = 0
	IPOptRecordRoute = 1 // -R
	IPOptTSOnly      = 2 // -T tsonly
	IPOptTSAndAddr   = 3 // -T tsandaddr
	IPOptTSPrespec   = 4 // -T tsprespec
)

// ping -M modes.
const (
	PMTUWant = 0 // DF when the datagram fits, fragment otherwise (ping's default)
	PMTUDo   = 1
	PMTUDont = 2
)

// Ping message kinds.
const (
	PingReply   = 1
	PingError   = 2
	PingLocal   = 3
	PingSummary = 4
	PingSent    = 5 // a request went out (InetAttrSeq, InetAttrElapsed: its time on the host's clock)
	// PingStart comes first, once the socket is set up (bound, routed):
	// InetAttrSrc is the source address the requests carry. An error
	// before it is a setup error (ping's connect, bind, SO_BINDTODEVICE),
	// its message worded as ping words it.
	PingStart = 6
)

// Service serves the vnic_inet family for the hosts of a running topology.
type Service struct {
	Host func(name string) *stack.Host
	Exec func(func())
}

// Family returns the family to register with Listen.
func (s *Service) Family() *netlink.Family {
	return &netlink.Family{Name: InetFamily, Version: 1, Handle: s.handle, StreamContext: s.stream}
}

func (s *Service) exec(fn func()) {
	if s.Exec != nil {
		s.Exec(fn)
		return
	}
	fn()
}

type pingReq struct {
	host                     string
	dst, src                 netip.Addr
	dev                      string
	oif                      int          // -I DEV's index (pingSetup)
	prespec                  []netip.Addr // -T tsprespec's hosts
	count, size              int
	ttl, tos, pmtu, ipopt    uint8
	interval, wait, deadline time.Duration
}

func inetErr(errno syscall.Errno, format string, args ...any) error {
	return netlink.Errorf(errno, format, args...)
}

func (s *Service) hostInet(name string) (*stack.Host, *ipv4.Inet, error) {
	h := s.Host(name)
	if h == nil {
		return nil, nil, inetErr(syscall.ENOENT, "no host %q in the running topology", name)
	}
	in := ipv4.Of(h)
	if in == nil {
		return nil, nil, inetErr(syscall.EAFNOSUPPORT, "host %s has no IPv4 (no addresses in its topology)", name)
	}
	return h, in, nil
}

func (s *Service) handle(cmd uint8, dump bool, body []byte) ([][]byte, int, error) {
	if cmd == InetCmdSysctl {
		return s.sysctl(body)
	}
	if cmd != InetCmdStats {
		return nil, -1, inetErr(syscall.EOPNOTSUPP, "unknown command %d", cmd)
	}
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return nil, -1, err
	}
	var host string
	for ad.Next() {
		if ad.Type() == InetAttrHost {
			host = ad.String()
		}
	}
	_, in, err := s.hostInet(host)
	if err != nil {
		return nil, -1, err
	}
	ae := mnl.NewAttributeEncoder()
	for _, c := range Counters(in) {
		ae.Nested(InetAttrCounter, func(n *mnl.AttributeEncoder) error {
			n.String(1, c.Name)
			n.Uint64(2, c.Value)
			return nil
		})
	}
	b, err := ae.Encode()
	return [][]byte{netlink.GenlData(InetCmdStats, 1, b)}, -1, err
}

// Counter is one named statistic (nstat's names: IpInReceives, …).
type Counter struct {
	Name  string
	Value uint64
}

// Counters lists a host's IPv4, ICMP, TCP and UDP counters with nstat's names,
// in the order of the kernel's /proc/net/snmp then /proc/net/netstat.
func Counters(in *ipv4.Inet) []Counter {
	ip, ic, u := in.Stats.Snapshot(), in.ICMPStats.Snapshot(), udp.Of(in).Stats.Snapshot()
	fwd := uint64(2)
	if in.Forwarding() {
		fwd = 1
	}
	out := []Counter{{"IpForwarding", fwd}, {"IpDefaultTTL", uint64(in.Config().DefaultTTL)},
		{"IpInReceives", ip.InReceives}, {"IpInHdrErrors", ip.InHdrErrors}, {"IpInAddrErrors", ip.InAddrErrors},
		{"IpForwDatagrams", ip.ForwDatagrams}, {"IpInUnknownProtos", ip.InUnknownProtos}, {"IpInDiscards", ip.InDiscards},
		{"IpInDelivers", ip.InDelivers}, {"IpOutRequests", ip.OutRequests}, {"IpOutDiscards", ip.OutDiscards},
		{"IpOutNoRoutes", ip.OutNoRoutes}, {"IpReasmTimeout", ip.ReasmTimeout}, {"IpReasmReqds", ip.ReasmReqds},
		{"IpReasmOKs", ip.ReasmOKs}, {"IpReasmFails", ip.ReasmFails}, {"IpFragOKs", ip.FragOKs}, {"IpFragFails", ip.FragFails},
		{"IpFragCreates", ip.FragCreates},
		{"IcmpInMsgs", ic.InMsgs}, {"IcmpInErrors", ic.InErrors}, {"IcmpInCsumErrors", ic.InCsumErrors},
	}
	// The Icmp line's per-type counts (the kernel's order), then the
	// IcmpMsg line's non-zero types, In then Out.
	hist := []struct {
		name string
		typ  int
	}{{"DestUnreachs", 3}, {"TimeExcds", 11}, {"ParmProbs", 12}, {"SrcQuenchs", 4}, {"Redirects", 5}, {"Echos", 8},
		{"EchoReps", 0}, {"Timestamps", 13}, {"TimestampReps", 14}, {"AddrMasks", 17}, {"AddrMaskReps", 18}}
	for _, h := range hist {
		out = append(out, Counter{"IcmpIn" + h.name, ic.InType[h.typ]})
	}
	out = append(out, []Counter{{"IcmpOutMsgs", ic.OutMsgs}, {"IcmpOutErrors", ic.OutErrors},
		{"IcmpOutRateLimitGlobal", ic.OutRateLimitGlobal}, {"IcmpOutRateLimitHost", ic.OutRateLimitHost}}...)
	for _, h := range hist {
		out = append(out, Counter{"IcmpOut" + h.name, ic.OutType[h.typ]})
	}
	for t := 0; t < 256; t++ {
		if ic.InType[t] != 0 {
			out = append(out, Counter{fmt.Sprintf("IcmpMsgInType%d", t), ic.InType[t]})
		}
	}
	for t := 0; t < 256; t++ {
		if ic.OutType[t] != 0 {
			out = append(out, Counter{fmt.Sprintf("IcmpMsgOutType%d", t), ic.OutType[t]})
		}
	}
	if t := tcp.Of(in); t != nil {
		for _, c := range t.Stats.Tcp() {
			out = append(out, Counter{"Tcp" + c.Name, c.Value})
		}
	}
	out = append(out, []Counter{
		{"UdpInDatagrams", u.InDatagrams}, {"UdpNoPorts", u.NoPorts}, {"UdpInErrors", u.InErrors}, {"UdpOutDatagrams", u.OutDatagrams},
		{"UdpRcvbufErrors", u.RcvbufErrors}, {"UdpSndbufErrors", u.SndbufErrors}, {"UdpInCsumErrors", u.InCsumErrors}, {"UdpIgnoredMulti", u.IgnoredMulti},
	}...)
	if t := tcp.Of(in); t != nil {
		for _, c := range t.Stats.TcpExt() {
			if c.Name == "TCPReqQFullDoCookies" {
				out = append(out, Counter{"TcpExtIPReversePathFilter", ip.InRPFilter})
			}
			out = append(out, Counter{"TcpExt" + c.Name, c.Value})
		}
	} else {
		out = append(out, Counter{"TcpExtIPReversePathFilter", ip.InRPFilter})
	}
	out = append(out, []Counter{
		{"IpExtInNoRoutes", ip.InNoRoutes}, {"IpExtInTruncatedPkts", ip.InTruncatedPkts}, {"IpExtInMcastPkts", ip.InMcastPkts},
		{"IpExtInBcastPkts", ip.InBcastPkts}, {"IpExtInCsumErrors", ip.InCsumErrors}, {"IpExtReasmOverlaps", ip.ReasmOverlaps},
	}...)
	return out
}

func (s *Service) stream(ctx context.Context, cmd uint8, body []byte, emit func([]byte) error) error {
	if cmd != InetCmdPing {
		return inetErr(syscall.EOPNOTSUPP, "command %d is not a stream", cmd)
	}
	r := pingReq{count: 0, size: 56, interval: time.Second, wait: 10 * time.Second}
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case InetAttrHost:
			r.host = ad.String()
		case InetAttrDst:
			if b := ad.Bytes(); len(b) == 4 {
				r.dst = netip.AddrFrom4([4]byte(b))
			}
		case InetAttrSrc:
			if b := ad.Bytes(); len(b) == 4 {
				r.src = netip.AddrFrom4([4]byte(b))
			}
		case InetAttrCount:
			r.count = int(ad.Uint32())
		case InetAttrSize:
			r.size = int(ad.Uint32())
		case InetAttrTTL:
			r.ttl = ad.Uint8()
		case InetAttrTOS:
			r.tos = ad.Uint8()
		case InetAttrPMTU:
			r.pmtu = ad.Uint8()
		case InetAttrInterval:
			r.interval = time.Duration(ad.Uint64())
		case InetAttrWait:
			r.wait = time.Duration(ad.Uint64())
		case InetAttrDeadline:
			r.deadline = time.Duration(ad.Uint64())
		case InetAttrDev:
			r.dev = ad.String()
		case InetAttrIPOpt:
			r.ipopt = ad.Uint8()
		case InetAttrPrespec:
			b := ad.Bytes()
			for i := 0; i+4 <= len(b); i += 4 {
				r.prespec = append(r.prespec, netip.AddrFrom4([4]byte(b[i:i+4])))
			}
		}
	}
	if err := ad.Err(); err != nil {
		return err
	}
	if !r.dst.IsValid() {
		return inetErr(syscall.EINVAL, "a destination address is needed")
	}
	if r.count < 0 {
		return inetErr(syscall.EINVAL, "count %d: want 0 (until stopped) or more", r.count)
	}
	if r.size < 0 {
		return inetErr(syscall.EINVAL, "packet size %d: want 0 or more", r.size)
	}
	if r.interval < time.Millisecond {
		return inetErr(syscall.EINVAL, "interval %v: 1 ms at least", r.interval)
	}
	if r.ipopt > IPOptTSPrespec || r.ipopt == IPOptTSPrespec && (len(r.prespec) == 0 || len(r.prespec) > 4) {
		return inetErr(syscall.EINVAL, "IP option kind %d with %d prespecified hosts", r.ipopt, len(r.prespec))
	}
	h, in, err := s.hostInet(r.host)
	if err != nil {
		return err
	}
	s.exec(func() { err = pingSetup(h, in, &r) })
	if err != nil {
		return err
	}
	var pc *ipv4.PingConn
	s.exec(func() { pc, err = in.OpenPing() })
	if err != nil {
		return err
	}
	defer s.exec(func() { pc.Close() })
	ae := mnl.NewAttributeEncoder()
	ae.Uint8(InetAttrKind, PingStart)
	src := r.src.As4()
	ae.Bytes(InetAttrSrc, src[:])
	b, _ := ae.Encode()
	if err := emit(b); err != nil {
		return err
	}
	return s.pingLoop(ctx, h, pc, r, emit)
}

// pingSetup is what ping does before its first request, with ping's
// wording for each failure: -I ADDR binds the socket (the address must be
// the host's: EADDRNOTAVAIL); otherwise a probe connect routes the
// destination (through -I DEV when given, which must exist) and gives the
// source address; a broadcast destination is refused (ping without -b).
// On success r.src is the source the requests carry.
func pingSetup(h *stack.Host, in *ipv4.Inet, r *pingReq) error {
	if r.src.IsValid() {
		if !in.IsLocalAddr(r.src.As4()) {
			return inetErr(syscall.EADDRNOTAVAIL, "bind: %s", errnoText(syscall.EADDRNOTAVAIL))
		}
		return nil
	}
	fl := fib.FlowKey{Dst: r.dst.As4(), TOS: r.tos, Proto: ipv4.IPProtoICMP}
	if r.dev != "" {
		d, err := h.Device(r.dev)
		if err != nil {
			return inetErr(syscall.ENODEV, "SO_BINDTODEVICE %s: %s", r.dev, errnoText(syscall.ENODEV))
		}
		fl.Oif = d.Ifindex()
		r.oif = fl.Oif
	}
	rt, err := in.RouteOutput(&fl)
	if err != nil {
		var en syscall.Errno
		if !errors.As(err, &en) {
			en = syscall.EINVAL
		}
		if en != syscall.EACCES {
			// ENETUNREACH (no route), EHOSTUNREACH (unreachable),
			// EINVAL (blackhole), as connect gives them.
			return inetErr(en, "connect: %s", errnoText(en))
		}
		// A prohibit route: ping takes EACCES for a broadcast.
	}
	if err != nil || rt.Flags&ipv4.RTCFBroadcast != 0 {
		return inetErr(syscall.EACCES, "Do you want to ping broadcast? Then -b. If not, check your local firewall rules")
	}
	r.src = netip.AddrFrom4(fl.Src)
	return nil
}

// errnoText is strerror's wording (Go's errno strings, capitalised).
func errnoText(en syscall.Errno) string {
	s := en.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// pingRun is a ping in progress: the requests are sent by a timer on
// the host's clock, so their spacing is exact in virtual time too.
type pingRun struct {
	mu          sync.Mutex
	sent        map[uint16]time.Duration // outstanding requests: when each went
	answered    map[uint16]bool          // sequences a reply came for (duplicates are not counted again)
	first, last time.Duration
	nsent       int
	nrecv, nerr int           // ping's nreceived and nerrors
	tmax        time.Duration // the longest round trip
	exitAt      time.Duration // when the wait after the last request ends (0: not yet set)
	locals      [][]byte      // local failures and sends to report
}

// maxPingData is the most ICMP data an IPv4 datagram carries: 65535 − 20 − 8.
const maxPingData = 65507

// pingLoop is iputils ping's main loop on the host's clock: a request
// every r.interval, r.count of them (0: until the client goes), or with a
// deadline (-w) until it expires, more than r.count if replies are
// missing. It stops when r.count requests are answered (a reply or an
// error each), at the deadline, on an error with a deadline, or once the
// last request has waited: twice the longest round trip (at least the
// interval) when a reply came, r.wait (-W) when none did. What comes back
// is emitted as it comes. Wall-clock bounds stop it if the host's clock
// stalls.
func (s *Service) pingLoop(ctx context.Context, h *stack.Host, pc *ipv4.PingConn, r pingReq, emit func([]byte) error) error {
	clock := h.Clock()
	var data []byte
	if r.size <= maxPingData {
		data = make([]byte, r.size)
		for i := range data {
			data[i] = byte(i)
		}
	}
	run := &pingRun{sent: map[uint16]time.Duration{}, answered: map[uint16]bool{}}
	var tm stack.Timer
	var start time.Duration // the deadline counts from here
	seq := 1
	send := func() {
		run.mu.Lock()
		defer run.mu.Unlock()
		now := clock.Now()
		if r.count > 0 && run.nsent >= r.count && r.deadline == 0 || r.deadline > 0 && now >= start+r.deadline {
			return
		}
		o := ipv4.PingOptions{TTL: r.ttl, TOS: r.tos, DF: r.pmtu != PMTUDont, Src: r.src, Oif: r.oif, IPOptions: pingIPOptions(r)}
		var err error
		if data == nil {
			// Larger than any datagram: ip_append_data's EMSGSIZE with
			// the largest MTU (ping's "message too long, mtu=65535").
			err = &ipv4.ErrMsgSize{MTU: 65535}
		} else {
			err = pc.SendEcho(r.dst, uint16(seq), data, o)
		}
		var ms *ipv4.ErrMsgSize
		if data != nil && r.pmtu == PMTUWant && errors.As(err, &ms) {
			o.DF = false
			err = pc.SendEcho(r.dst, uint16(seq), data, o)
		}
		if run.nsent == 0 {
			run.first = now
		}
		run.last = now
		run.nsent++
		{
			ae := mnl.NewAttributeEncoder()
			ae.Uint8(InetAttrKind, PingSent)
			ae.Uint16(InetAttrSeq, uint16(seq))
			ae.Uint64(InetAttrElapsed, uint64(now))
			b, _ := ae.Encode()
			run.locals = append(run.locals, b)
		}
		if err != nil {
			ae := mnl.NewAttributeEncoder()
			ae.Uint8(InetAttrKind, PingLocal)
			ae.Uint16(InetAttrSeq, uint16(seq))
			if errors.As(err, &ms) {
				// A local error on the socket's queue: ping counts it.
				ae.Uint32(InetAttrMTU, uint32(ms.MTU))
				run.nerr++
			}
			var en syscall.Errno
			if errors.As(err, &en) {
				ae.Uint32(InetAttrErrno, uint32(en))
			}
			b, _ := ae.Encode()
			run.locals = append(run.locals, b)
		} else {
			run.sent[uint16(seq)] = now
		}
		seq++
		if r.count == 0 || run.nsent < r.count || r.deadline != 0 {
			tm.Reset(r.interval)
		} else {
			wait := r.wait
			if run.nrecv > 0 {
				wait = max(2*run.tmax, r.interval)
			}
			run.exitAt = now + wait
		}
	}
	s.exec(func() {
		start = clock.Now()
		tm = clock.NewTimer(send)
		tm.Reset(0)
	})
	defer s.exec(func() { tm.Stop() })
	// A ping without a count ends when the client goes (an emit fails:
	// each request emits one).
	wallEnd := time.Now().Add(time.Minute + time.Duration(r.count)*(2*time.Second+2*r.interval) + 2*r.deadline + 2*r.wait)
	if r.count == 0 && r.deadline == 0 {
		wallEnd = time.Now().Add(1000000 * (2*time.Second + 2*r.interval))
	}
	for {
		var msgs []ipv4.PingMsg
		var now time.Duration
		s.exec(func() {
			now = clock.Now()
			for m, ok := pc.Recv(); ok; m, ok = pc.Recv() {
				msgs = append(msgs, m)
			}
		})
		run.mu.Lock()
		locals := run.locals
		run.locals = nil
		var out [][]byte
		for _, m := range msgs {
			at, ok := run.sent[m.Seq]
			if !ok {
				continue // not one of ours
			}
			ae := mnl.NewAttributeEncoder()
			ae.Uint16(InetAttrSeq, m.Seq)
			f := m.From.As4()
			ae.Bytes(InetAttrFrom, f[:])
			ae.Uint8(InetAttrTTL, m.TTL)
			ae.Uint8(InetAttrType, m.Type)
			ae.Uint8(InetAttrCode, m.Code)
			ae.Uint32(InetAttrInfo, m.Info)
			if m.IsError {
				ae.Uint8(InetAttrKind, PingError)
				run.nerr++
			} else {
				ae.Uint8(InetAttrKind, PingReply)
				if len(m.IPOptions) > 0 {
					ae.Bytes(InetAttrOptions, m.IPOptions)
				}
				ae.Uint32(InetAttrBytes, uint32(m.Len))
				ae.Uint64(InetAttrRTT, uint64(m.At-at))
				if !run.answered[m.Seq] {
					run.answered[m.Seq] = true
					run.nrecv++
					run.tmax = max(run.tmax, m.At-at)
				}
			}
			b, _ := ae.Encode()
			out = append(out, b)
		}
		stop := r.count > 0 && run.nrecv+run.nerr >= r.count ||
			r.deadline > 0 && (run.nerr > 0 || now >= start+r.deadline) ||
			run.exitAt != 0 && now >= run.exitAt
		run.mu.Unlock()
		for _, b := range append(locals, out...) {
			if err := emit(b); err != nil {
				return err
			}
		}
		if stop {
			break
		}
		if time.Now().After(wallEnd) {
			return inetErr(syscall.ETIMEDOUT, "the host's clock stopped advancing")
		}
		select {
		case <-ctx.Done(): // the control socket is closing
			s.exec(func() { tm.Stop() })
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	s.exec(func() { tm.Stop() })
	run.mu.Lock()
	locals := run.locals
	run.locals = nil
	run.mu.Unlock()
	for _, b := range locals {
		if err := emit(b); err != nil {
			return err
		}
	}
	run.mu.Lock()
	ae := mnl.NewAttributeEncoder()
	ae.Uint8(InetAttrKind, PingSummary)
	ae.Uint32(InetAttrSent, uint32(run.nsent))
	ae.Uint64(InetAttrElapsed, uint64(run.last-run.first))
	run.mu.Unlock()
	b, _ := ae.Encode()
	return emit(b)
}

// pingIPOptions are the IP_OPTIONS iputils ping sets for -R and -T: a
// NOP then a record route of 39 bytes; a timestamp option of 40 bytes
// (tsonly), 36 (tsandaddr) or 4 + 8 per host (tsprespec, the hosts in
// its address slots), pointer 5, the flag in its low bits.
func pingIPOptions(r pingReq) []byte {
	var b []byte
	switch r.ipopt {
	case IPOptRecordRoute:
		b = make([]byte, ipv4.IPOptMaxLen)
		b[0], b[1], b[2], b[3] = ipv4.IPOptNoop, ipv4.IPOptRR, ipv4.IPOptMaxLen-1, ipv4.IPOptMinOff
	case IPOptTSOnly, IPOptTSAndAddr:
		n, flag := ipv4.IPOptMaxLen, byte(ipv4.IPOptTSOnly)
		if r.ipopt == IPOptTSAndAddr {
			n, flag = 36, ipv4.IPOptTSAndAddr
		}
		b = make([]byte, n)
		b[0], b[1], b[2], b[3] = ipv4.IPOptTimestamp, byte(n), 5, flag
	case IPOptTSPrespec:
		n := 4 + 8*len(r.prespec)
		b = make([]byte, n)
		b[0], b[1], b[2], b[3] = ipv4.IPOptTimestamp, byte(n), 5, ipv4.IPOptTSPrespec
		for i, a := range r.prespec {
			a4 := a.As4()
			copy(b[4+8*i:], a4[:])
		}
	}
	return b
}
