package control

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/iperf3"
	"vnic/stack"
	"vnic/stack/netlink"
)

// The vnic_iperf3 family: iperf3 -s or -c on a host of the running
// topology (internal/iperf3), what it prints streamed back line by line.
const (
	IperfFamily = "vnic_iperf3"

	// IperfCmdRun is a stream: IperfOut messages as iperf3 prints, then
	// one IperfExit with the status iperf3 would exit with. A request
	// that cannot run (no such host, a virtual-time host, an option
	// iperf3 refuses) is the stream's error instead.
	IperfCmdRun = 1

	// request attributes: the options of iperf3.Config
	IperfAttrHost       = 1  // string
	IperfAttrServer     = 2  // flag (u8 1): -s
	IperfAttrAddr       = 3  // 4 bytes: -c ADDR
	IperfAttrPort       = 4  // u32: -p
	IperfAttrBind       = 5  // 4 bytes: -B
	IperfAttrInterval   = 6  // u64 ns: -i
	IperfAttrNoInterval = 7  // flag: -i 0
	IperfAttrFormat     = 8  // u8: -f's letter
	IperfAttrJSON       = 9  // flag: -J
	IperfAttrOneOff     = 10 // flag: -1
	IperfAttrDuration   = 11 // u64 ns: -t
	IperfAttrParallel   = 12 // u32: -P
	IperfAttrReverse    = 13 // flag: -R
	IperfAttrLength     = 14 // u32: -l
	IperfAttrWindow     = 15 // u32: -w
	IperfAttrCongestion = 16 // string: -C
	IperfAttrMSS        = 17 // u32: -M
	IperfAttrNoDelay    = 18 // flag: -N
	IperfAttrConnectTO  = 19 // u64 ns: --connect-timeout

	// reply attributes
	IperfAttrKind   = 20 // u8: IperfOut or IperfExit
	IperfAttrStderr = 21 // flag: the text is iperf3's standard error
	IperfAttrText   = 22 // string
	IperfAttrStatus = 23 // u32: the exit status (IperfExit)
)

// Message kinds.
const (
	IperfOut  = 1
	IperfExit = 2
)

// maxIperfText is the most text one message carries: -J's document is
// sent in pieces of whole lines.
const maxIperfText = 16 << 10

// IperfRequest encodes a run of cfg on host: what vnic iperf3 sends.
func IperfRequest(host string, cfg iperf3.Config) []byte {
	ae := mnl.NewAttributeEncoder()
	ae.String(IperfAttrHost, host)
	flag := func(typ uint16, on bool) {
		if on {
			ae.Uint8(typ, 1)
		}
	}
	addr := func(typ uint16, a netip.Addr) {
		if a.Is4() {
			b := a.As4()
			ae.Bytes(typ, b[:])
		}
	}
	flag(IperfAttrServer, cfg.Server)
	addr(IperfAttrAddr, cfg.Host)
	if cfg.Port != 0 {
		ae.Uint32(IperfAttrPort, uint32(cfg.Port))
	}
	addr(IperfAttrBind, cfg.Bind)
	if cfg.Interval != 0 {
		ae.Uint64(IperfAttrInterval, uint64(cfg.Interval))
	}
	flag(IperfAttrNoInterval, cfg.NoInterval)
	if cfg.Format != 0 {
		ae.Uint8(IperfAttrFormat, cfg.Format)
	}
	flag(IperfAttrJSON, cfg.JSON)
	flag(IperfAttrOneOff, cfg.OneOff)
	if cfg.Duration != 0 {
		ae.Uint64(IperfAttrDuration, uint64(cfg.Duration))
	}
	if cfg.Parallel != 0 {
		ae.Uint32(IperfAttrParallel, uint32(cfg.Parallel))
	}
	flag(IperfAttrReverse, cfg.Reverse)
	if cfg.BlockSize != 0 {
		ae.Uint32(IperfAttrLength, uint32(cfg.BlockSize))
	}
	if cfg.Window != 0 {
		ae.Uint32(IperfAttrWindow, uint32(cfg.Window))
	}
	if cfg.Congestion != "" {
		ae.String(IperfAttrCongestion, cfg.Congestion)
	}
	if cfg.MSS != 0 {
		ae.Uint32(IperfAttrMSS, uint32(cfg.MSS))
	}
	flag(IperfAttrNoDelay, cfg.NoDelay)
	if cfg.ConnectTimeout != 0 {
		ae.Uint64(IperfAttrConnectTO, uint64(cfg.ConnectTimeout))
	}
	b, _ := ae.Encode()
	return b
}

// ParseIperfRequest decodes IperfRequest's attributes; the options are
// not checked (iperf3.Config.Check does that). Unknown attributes are
// ignored, a malformed one is EINVAL.
func ParseIperfRequest(body []byte) (string, iperf3.Config, error) {
	var host string
	var cfg iperf3.Config
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return "", cfg, netlink.Errorf(syscall.EINVAL, "%v", err)
	}
	addr := func() netip.Addr {
		if b := ad.Bytes(); len(b) == 4 {
			return netip.AddrFrom4([4]byte(b))
		}
		return netip.Addr{}
	}
	i32 := func() int { return int(int32(ad.Uint32())) }
	dur := func() time.Duration { return time.Duration(int64(ad.Uint64())) }
	for ad.Next() {
		switch ad.Type() {
		case IperfAttrHost:
			host = ad.String()
		case IperfAttrServer:
			cfg.Server = ad.Uint8() != 0
		case IperfAttrAddr:
			cfg.Host = addr()
		case IperfAttrPort:
			cfg.Port = i32()
		case IperfAttrBind:
			cfg.Bind = addr()
		case IperfAttrInterval:
			cfg.Interval = dur()
		case IperfAttrNoInterval:
			cfg.NoInterval = ad.Uint8() != 0
		case IperfAttrFormat:
			cfg.Format = ad.Uint8()
		case IperfAttrJSON:
			cfg.JSON = ad.Uint8() != 0
		case IperfAttrOneOff:
			cfg.OneOff = ad.Uint8() != 0
		case IperfAttrDuration:
			cfg.Duration = dur()
		case IperfAttrParallel:
			cfg.Parallel = i32()
		case IperfAttrReverse:
			cfg.Reverse = ad.Uint8() != 0
		case IperfAttrLength:
			cfg.BlockSize = i32()
		case IperfAttrWindow:
			cfg.Window = i32()
		case IperfAttrCongestion:
			cfg.Congestion = ad.String()
		case IperfAttrMSS:
			cfg.MSS = i32()
		case IperfAttrNoDelay:
			cfg.NoDelay = ad.Uint8() != 0
		case IperfAttrConnectTO:
			cfg.ConnectTimeout = dur()
		}
	}
	if err := ad.Err(); err != nil {
		return "", cfg, netlink.Errorf(syscall.EINVAL, "%v", err)
	}
	return host, cfg, nil
}

// Iperf serves the vnic_iperf3 family for the hosts of a running
// topology. A test runs on the stream's goroutine, outside the
// simulation's: only its socket calls touch the host, which a
// real-time host allows from any goroutine. A virtual-time host is
// refused (EOPNOTSUPP): iperf3 measures the wall clock.
type Iperf struct {
	Host func(name string) *stack.Host
}

// Family returns the family to register with Listen.
func (s *Iperf) Family() *netlink.Family {
	return &netlink.Family{Name: IperfFamily, Version: 1, Handle: s.handle, StreamContext: s.stream}
}

func (s *Iperf) handle(cmd uint8, dump bool, body []byte) ([][]byte, int, error) {
	return nil, -1, netlink.Errorf(syscall.EOPNOTSUPP, "vnic_iperf3: command %d is a stream (ask with NLM_F_DUMP)", cmd)
}

// iperfWriter sends each write as IperfOut messages.
type iperfWriter struct {
	emit   func([]byte) error
	stderr bool
	n      int // bytes written (what the client has seen)
}

func (w *iperfWriter) Write(p []byte) (int, error) {
	text := string(p)
	w.n += len(p)
	for text != "" {
		chunk := text
		if len(chunk) > maxIperfText {
			cut := strings.LastIndexByte(chunk[:maxIperfText], '\n') + 1
			if cut == 0 {
				cut = maxIperfText
			}
			chunk = chunk[:cut]
		}
		text = text[len(chunk):]
		ae := mnl.NewAttributeEncoder()
		ae.Uint8(IperfAttrKind, IperfOut)
		if w.stderr {
			ae.Uint8(IperfAttrStderr, 1)
		}
		ae.String(IperfAttrText, chunk)
		b, _ := ae.Encode()
		if err := w.emit(b); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (s *Iperf) stream(ctx context.Context, cmd uint8, body []byte, emit func([]byte) error) error {
	if cmd != IperfCmdRun {
		return netlink.Errorf(syscall.EOPNOTSUPP, "vnic_iperf3: unknown command %d", cmd)
	}
	name, cfg, err := ParseIperfRequest(body)
	if err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return netlink.Errorf(syscall.EINVAL, "parameter error - %v", err)
	}
	h := s.Host(name)
	if h == nil {
		return netlink.Errorf(syscall.ENOENT, "no host %q in the running topology", name)
	}
	if h.Clock().Virtual() {
		return netlink.Errorf(syscall.EOPNOTSUPP, "host %s runs on the virtual clock: iperf3 measures the wall clock (run the topology with vnic up --time real)", name)
	}
	stdout, stderr := &iperfWriter{emit: emit}, &iperfWriter{emit: emit, stderr: true}
	out := iperf3.Output{Stdout: stdout, Stderr: stderr}
	status := 0
	if cfg.Server {
		err = iperf3.Server(ctx, h, cfg, out)
		var ie *iperf3.Error
		if errors.As(err, &ie) && ie.Code == iperf3.IEListen || err != nil && !errors.As(err, &ie) {
			// What iperf3 exits on (the others it printed, and went on).
			_, _ = stderr.Write([]byte("iperf3: error - " + err.Error() + "\n"))
			status = 1
		}
	} else {
		err = iperf3.Client(ctx, h, cfg, out)
		if err != nil && !cfg.JSON {
			_, _ = stderr.Write([]byte("iperf3: error - " + err.Error() + "\n"))
			status = 1
		}
		// With -J the document has the error; iperf3 3.12 exits 0.
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ae := mnl.NewAttributeEncoder()
	ae.Uint8(IperfAttrKind, IperfExit)
	ae.Uint32(IperfAttrStatus, uint32(status))
	b, _ := ae.Encode()
	return emit(b)
}
