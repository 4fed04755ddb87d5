package iperf3

import (
	"net/netip"
	"time"
)

// Version is the iperf3 release whose control protocol and output this
// package speaks (its client_version, and what -J's version names).
const Version = "3.12"

// The control connection's one-byte states (iperf_api.h).
const (
	testStart       = 1
	testRunning     = 2
	testEnd         = 4
	paramExchange   = 9
	createStreams   = 10
	serverTerminate = 11
	clientTerminate = 12
	exchangeResults = 13
	displayResults  = 14
	iperfStart      = 15
	iperfDone       = 16
	accessDenied    = -1
	serverError     = -2
)

// Defaults and limits, as iperf.h and iperf_api.h set them.
const (
	DefaultPort      = 5201
	DefaultDuration  = 10 * time.Second
	DefaultBlockSize = 128 * 1024 // DEFAULT_TCP_BLKSIZE
	MaxStreams       = 128
	MaxBlockSize     = 1 << 20   // MAX_BLOCKSIZE
	MaxTime          = 86400     // MAX_TIME, seconds
	MaxTCPBuffer     = 512 << 20 // MAX_TCP_BUFFER
	MaxMSS           = 9 * 1024  // MAX_MSS
	MinInterval      = 100 * time.Millisecond
	MaxInterval      = 60 * time.Second

	cookieSize = 37 // 36 characters and the C string's NUL
)

// Config is one iperf3 command line: the options vnic's iperf3 takes,
// with iperf3's meaning. The zero value of a field is iperf3's default
// unless its comment says otherwise; Check applies iperf3's limits.
type Config struct {
	Server bool       // -s
	Host   netip.Addr // -c: the server (client mode)
	Port   int        // -p (0: 5201)
	Bind   netip.Addr // -B: the local address (the listener's, or the client's sockets')

	Interval time.Duration // -i (0: 1 s; set NoInterval for -i 0)
	// NoInterval is -i 0: no interval reports, one for the whole test.
	NoInterval bool
	Format     byte // -f: k m g t (bits) or K M G T (bytes); 0: adaptive
	JSON       bool // -J
	OneOff     bool // -1: serve one test, then return

	Duration   time.Duration // -t (0: 10 s), whole seconds
	Parallel   int           // -P (0: 1)
	Reverse    bool          // -R: the server sends
	BlockSize  int           // -l (0: 128 KiB)
	Window     int           // -w: SO_SNDBUF and SO_RCVBUF on both ends (0: autotuning)
	Congestion string        // -C: TCP_CONGESTION on both ends
	MSS        int           // -M: TCP_MAXSEG
	NoDelay    bool          // -N: TCP_NODELAY

	// ConnectTimeout bounds the control connection's handshake
	// (--connect-timeout; 0: the stack's SYN retries).
	ConnectTimeout time.Duration
}

func (c Config) port() int {
	if c.Port == 0 {
		return DefaultPort
	}
	return c.Port
}

func (c Config) interval() time.Duration {
	switch {
	case c.NoInterval:
		return 0
	case c.Interval == 0:
		return time.Second
	}
	return c.Interval
}

func (c Config) duration() time.Duration {
	if c.Duration == 0 {
		return DefaultDuration
	}
	return c.Duration
}

func (c Config) parallel() int { return max(c.Parallel, 1) }

func (c Config) blockSize() int {
	if c.BlockSize == 0 {
		return DefaultBlockSize
	}
	return c.BlockSize
}

func (c Config) format() byte {
	if c.Format == 0 {
		return 'a'
	}
	return c.Format
}

// Check applies iperf3's checks of the command line (iperf_parse_arguments),
// each refusal an *Error with iperf3's parameter wording.
func (c Config) Check() error {
	client := c.Host.IsValid()
	switch {
	case c.Server && client:
		return &Error{Code: IEServClient}
	case !c.Server && !client:
		return &Error{Code: IENoRole}
	case c.Port < 0 || c.Port > 65535:
		return &Error{Code: IEBadPort}
	case !c.NoInterval && c.Interval != 0 && (c.Interval < MinInterval || c.Interval > MaxInterval):
		return &Error{Code: IEInterval}
	case c.Format != 0 && !validFormat(c.Format):
		return &Error{Code: IEBadFormat}
	case c.Duration > MaxTime*time.Second:
		return &Error{Code: IEDuration}
	case c.Duration < 0 || c.Duration%time.Second != 0:
		return &Error{Code: IEBadValue, Detail: "-t takes whole seconds, at least 1"}
	case c.Parallel > MaxStreams:
		return &Error{Code: IENumStreams}
	case c.Parallel < 0:
		return &Error{Code: IEBadValue, Detail: "-P takes 1 stream or more"}
	case c.BlockSize > MaxBlockSize:
		return &Error{Code: IEBlockSize}
	case c.BlockSize < 0:
		return &Error{Code: IEBadValue, Detail: "-l takes 1 byte or more"}
	case c.Window > MaxTCPBuffer:
		return &Error{Code: IEBufSize}
	case c.Window < 0:
		return &Error{Code: IEBadValue, Detail: "-w takes 0 bytes or more"}
	case c.MSS > MaxMSS:
		return &Error{Code: IEMSS}
	case c.MSS < 0:
		return &Error{Code: IEBadValue, Detail: "-M takes 0 bytes or more"}
	case c.Server && (c.Duration != 0 || c.Parallel != 0 || c.Reverse || c.BlockSize != 0 || c.Window != 0 ||
		c.Congestion != "" || c.MSS != 0 || c.NoDelay || c.ConnectTimeout != 0):
		return &Error{Code: IEClientOnly}
	case !c.Server && c.OneOff:
		return &Error{Code: IEServerOnly}
	}
	return nil
}

func validFormat(f byte) bool {
	switch f {
	case 'k', 'm', 'g', 't', 'K', 'M', 'G', 'T':
		return true
	}
	return false
}
