package tcp

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"vnic/stack"
)

// Config is a host's net.ipv4.tcp_* settings (sysctl_net_ipv4.c), with
// Linux 6.x's defaults. A socket reads them when it uses them.
type Config struct {
	Rmem, Wmem        [3]int // tcp_rmem, tcp_wmem: min, default, max bytes
	Timestamps        int    // tcp_timestamps: 1 on (with random offsets), 2 on without
	SACK, DSACK       bool   // tcp_sack, tcp_dsack
	WindowScaling     bool   // tcp_window_scaling
	Syncookies        int    // tcp_syncookies: 0 never, 1 when the SYN queue overflows, 2 always
	SynRetries        int    // tcp_syn_retries
	SynackRetries     int    // tcp_synack_retries
	FinTimeout        int    // tcp_fin_timeout, seconds
	Retries1          int    // tcp_retries1
	Retries2          int    // tcp_retries2
	OrphanRetries     int    // tcp_orphan_retries (0: 8)
	KeepaliveTime     int    // tcp_keepalive_time, seconds
	KeepaliveIntvl    int    // tcp_keepalive_intvl, seconds
	KeepaliveProbes   int    // tcp_keepalive_probes
	MaxSynBacklog     int    // tcp_max_syn_backlog
	Somaxconn         int    // net.core.somaxconn
	AbortOnOverflow   bool   // tcp_abort_on_overflow
	TwReuse           int    // tcp_tw_reuse: 0 never, 1 for any connect, 2 for loopback only
	TwReuseDelay      int    // tcp_tw_reuse_delay: ms after TIME-WAIT begins
	Congestion        string // tcp_congestion_control
	ECN               int    // tcp_ecn: 0 off, 1 ask and accept, 2 accept
	ECNFallback       bool   // tcp_ecn_fallback: a retransmitted SYN stops asking for ECN
	FRTO              int    // tcp_frto
	Recovery          int    // tcp_recovery: 1 RACK loss detection
	EarlyRetrans      int    // tcp_early_retrans: 3 or 4 TLP
	Reordering        int    // tcp_reordering
	MaxReordering     int    // tcp_max_reordering
	SlowStartAfterIdl bool   // tcp_slow_start_after_idle
	ModerateRcvbuf    bool   // tcp_moderate_rcvbuf
	AdvWinScale       int    // tcp_adv_win_scale
	TSOWinDivisor     int    // tcp_tso_win_divisor
	MinTSOSegs        int    // tcp_min_tso_segs
	Autocorking       bool   // tcp_autocorking
	NotsentLowat      uint32 // tcp_notsent_lowat
	PacingSSRatio     int    // tcp_pacing_ss_ratio
	PacingCARatio     int    // tcp_pacing_ca_ratio
	Fastopen          int    // tcp_fastopen (accepted; TFO is not built: a TFO request is refused)
	FastopenKey       string // tcp_fastopen_key
	ChallengeAckLimit int    // tcp_challenge_ack_limit
	RFC1337           bool   // tcp_rfc1337
	StdURG            bool   // tcp_stdurg
	BaseMSS           int    // tcp_base_mss
	MTUProbing        int    // tcp_mtu_probing
	NoMetricsSave     bool   // tcp_no_metrics_save
	LimitOutputBytes  int    // tcp_limit_output_bytes
	ThinLinearTimeout bool   // tcp_thin_linear_timeouts
	RmemMax, WmemMax  int    // net.core.rmem_max, wmem_max
}

// DefaultConfig is Linux 6.x's defaults on a machine with memory to
// spare (tcp_rmem/tcp_wmem's maxima and tcp_max_syn_backlog grow with
// memory there; these are the values a 4 GiB machine gets).
var DefaultConfig = Config{
	Rmem: [3]int{4096, 131072, 6291456}, Wmem: [3]int{4096, 16384, 4194304},
	Timestamps: 1, SACK: true, DSACK: true, WindowScaling: true, Syncookies: 1,
	SynRetries: 6, SynackRetries: 5, FinTimeout: 60, Retries1: 3, Retries2: 15,
	KeepaliveTime: 7200, KeepaliveIntvl: 75, KeepaliveProbes: 9,
	MaxSynBacklog: 512, Somaxconn: 4096, TwReuse: 2, TwReuseDelay: 1000, Congestion: "cubic", ECN: 2, ECNFallback: true,
	FRTO: 2, Recovery: 1, EarlyRetrans: 3, Reordering: 3, MaxReordering: 300,
	SlowStartAfterIdl: true, ModerateRcvbuf: true, AdvWinScale: 1, TSOWinDivisor: 3,
	MinTSOSegs: 2, Autocorking: true, NotsentLowat: ^uint32(0), PacingSSRatio: 200,
	PacingCARatio: 120, Fastopen: 1, ChallengeAckLimit: 1000,
	BaseMSS: 1024, LimitOutputBytes: 1048576, RmemMax: 212992, WmemMax: 212992,
	FastopenKey: "00000000-00000000-00000000-00000000",
}

// Config returns the host's current settings.
func (p *Proto) Config() Config { return *p.cfg.Load() }

// SetConfig replaces the settings (a sysctl write, or a test's setup).
func (p *Proto) SetConfig(c Config) { p.cfg.Store(&c) }

func (p *Proto) conf() *Config { return p.cfg.Load() }

// sysctl entry kinds.
func intEntry(name string, get func(*Config) *int, lo, hi int) sysEntry {
	return sysEntry{name, func(c *Config) string { return strconv.Itoa(*get(c)) }, func(c *Config, v string) error {
		// proc_dointvec reads with base 0: 0x3 and 010 are numbers too.
		n, err := strconv.ParseInt(strings.TrimSpace(v), 0, 64)
		if err != nil || n < int64(lo) || n > int64(hi) {
			return syscall.EINVAL
		}
		*get(c) = int(n)
		return nil
	}}
}

func boolEntry(name string, get func(*Config) *bool) sysEntry {
	return sysEntry{name, func(c *Config) string {
		if *get(c) {
			return "1"
		}
		return "0"
	}, func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return syscall.EINVAL
		}
		*get(c) = n != 0
		return nil
	}}
}

func vecEntry(name string, get func(*Config) *[3]int) sysEntry {
	return sysEntry{name, func(c *Config) string {
		v := get(c)
		return fmt.Sprintf("%d\t%d\t%d", v[0], v[1], v[2])
	}, func(c *Config, s string) error {
		f := strings.Fields(s)
		if len(f) != 3 {
			return syscall.EINVAL
		}
		var v [3]int
		for i := range f {
			n, err := strconv.Atoi(f[i])
			if err != nil || n < 1 {
				return syscall.EINVAL
			}
			v[i] = n
		}
		*get(c) = v
		return nil
	}}
}

type sysEntry struct {
	name string
	get  func(*Config) string
	set  func(*Config, string) error
}

var sysTable = []sysEntry{
	intEntry("net.core.rmem_max", func(c *Config) *int { return &c.RmemMax }, 0, 1<<31-1),
	intEntry("net.core.somaxconn", func(c *Config) *int { return &c.Somaxconn }, 0, 1<<31-1),
	intEntry("net.core.wmem_max", func(c *Config) *int { return &c.WmemMax }, 0, 1<<31-1),
	boolEntry("net.ipv4.tcp_abort_on_overflow", func(c *Config) *bool { return &c.AbortOnOverflow }),
	intEntry("net.ipv4.tcp_adv_win_scale", func(c *Config) *int { return &c.AdvWinScale }, -31, 31),
	boolEntry("net.ipv4.tcp_autocorking", func(c *Config) *bool { return &c.Autocorking }),
	intEntry("net.ipv4.tcp_base_mss", func(c *Config) *int { return &c.BaseMSS }, 0, 1<<31-1),
	intEntry("net.ipv4.tcp_challenge_ack_limit", func(c *Config) *int { return &c.ChallengeAckLimit }, 0, 1<<31-1),
	{"net.ipv4.tcp_congestion_control", func(c *Config) string { return c.Congestion }, func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if newCong(v) == nil {
			return syscall.ENOENT
		}
		c.Congestion = v
		return nil
	}},
	boolEntry("net.ipv4.tcp_dsack", func(c *Config) *bool { return &c.DSACK }),
	intEntry("net.ipv4.tcp_early_retrans", func(c *Config) *int { return &c.EarlyRetrans }, 0, 4),
	intEntry("net.ipv4.tcp_ecn", func(c *Config) *int { return &c.ECN }, 0, 2),
	boolEntry("net.ipv4.tcp_ecn_fallback", func(c *Config) *bool { return &c.ECNFallback }),
	intEntry("net.ipv4.tcp_fastopen", func(c *Config) *int { return &c.Fastopen }, 0, 1<<31-1),
	{"net.ipv4.tcp_fastopen_key", func(c *Config) string { return c.FastopenKey }, func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if len(strings.Split(v, "-")) != 4 {
			return syscall.EINVAL
		}
		c.FastopenKey = v
		return nil
	}},
	intEntry("net.ipv4.tcp_fin_timeout", func(c *Config) *int { return &c.FinTimeout }, 1, 1<<31-1),
	intEntry("net.ipv4.tcp_frto", func(c *Config) *int { return &c.FRTO }, 0, 2),
	intEntry("net.ipv4.tcp_keepalive_intvl", func(c *Config) *int { return &c.KeepaliveIntvl }, 1, 32767),
	intEntry("net.ipv4.tcp_keepalive_probes", func(c *Config) *int { return &c.KeepaliveProbes }, 1, 127),
	intEntry("net.ipv4.tcp_keepalive_time", func(c *Config) *int { return &c.KeepaliveTime }, 1, 32767),
	intEntry("net.ipv4.tcp_limit_output_bytes", func(c *Config) *int { return &c.LimitOutputBytes }, 0, 1<<31-1),
	intEntry("net.ipv4.tcp_max_reordering", func(c *Config) *int { return &c.MaxReordering }, 1, 1<<31-1),
	intEntry("net.ipv4.tcp_max_syn_backlog", func(c *Config) *int { return &c.MaxSynBacklog }, 0, 1<<31-1),
	intEntry("net.ipv4.tcp_min_tso_segs", func(c *Config) *int { return &c.MinTSOSegs }, 1, 255),
	boolEntry("net.ipv4.tcp_moderate_rcvbuf", func(c *Config) *bool { return &c.ModerateRcvbuf }),
	intEntry("net.ipv4.tcp_mtu_probing", func(c *Config) *int { return &c.MTUProbing }, 0, 2),
	boolEntry("net.ipv4.tcp_no_metrics_save", func(c *Config) *bool { return &c.NoMetricsSave }),
	{"net.ipv4.tcp_notsent_lowat", func(c *Config) string { return strconv.FormatUint(uint64(c.NotsentLowat), 10) }, func(c *Config, v string) error {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return syscall.EINVAL
		}
		c.NotsentLowat = uint32(n)
		return nil
	}},
	intEntry("net.ipv4.tcp_orphan_retries", func(c *Config) *int { return &c.OrphanRetries }, 0, 1<<31-1),
	intEntry("net.ipv4.tcp_pacing_ca_ratio", func(c *Config) *int { return &c.PacingCARatio }, 0, 1000),
	intEntry("net.ipv4.tcp_pacing_ss_ratio", func(c *Config) *int { return &c.PacingSSRatio }, 0, 1000),
	intEntry("net.ipv4.tcp_recovery", func(c *Config) *int { return &c.Recovery }, 0, 7),
	intEntry("net.ipv4.tcp_reordering", func(c *Config) *int { return &c.Reordering }, 1, 1<<31-1),
	boolEntry("net.ipv4.tcp_rfc1337", func(c *Config) *bool { return &c.RFC1337 }),
	vecEntry("net.ipv4.tcp_rmem", func(c *Config) *[3]int { return &c.Rmem }),
	intEntry("net.ipv4.tcp_retries1", func(c *Config) *int { return &c.Retries1 }, 0, 255),
	intEntry("net.ipv4.tcp_retries2", func(c *Config) *int { return &c.Retries2 }, 0, 1<<31-1),
	boolEntry("net.ipv4.tcp_sack", func(c *Config) *bool { return &c.SACK }),
	boolEntry("net.ipv4.tcp_slow_start_after_idle", func(c *Config) *bool { return &c.SlowStartAfterIdl }),
	boolEntry("net.ipv4.tcp_stdurg", func(c *Config) *bool { return &c.StdURG }),
	intEntry("net.ipv4.tcp_syn_retries", func(c *Config) *int { return &c.SynRetries }, 1, 127),
	intEntry("net.ipv4.tcp_synack_retries", func(c *Config) *int { return &c.SynackRetries }, 0, 255),
	intEntry("net.ipv4.tcp_syncookies", func(c *Config) *int { return &c.Syncookies }, 0, 2),
	boolEntry("net.ipv4.tcp_thin_linear_timeouts", func(c *Config) *bool { return &c.ThinLinearTimeout }),
	intEntry("net.ipv4.tcp_timestamps", func(c *Config) *int { return &c.Timestamps }, 0, 2),
	intEntry("net.ipv4.tcp_tso_win_divisor", func(c *Config) *int { return &c.TSOWinDivisor }, 1, 255),
	intEntry("net.ipv4.tcp_tw_reuse", func(c *Config) *int { return &c.TwReuse }, 0, 2),
	intEntry("net.ipv4.tcp_tw_reuse_delay", func(c *Config) *int { return &c.TwReuseDelay }, 1, 60000),
	boolEntry("net.ipv4.tcp_window_scaling", func(c *Config) *bool { return &c.WindowScaling }),
	vecEntry("net.ipv4.tcp_wmem", func(c *Config) *[3]int { return &c.Wmem }),
}

// sysctls is the host's table of TCP settings.
func (p *Proto) sysctls() []stack.Sysctl {
	out := make([]stack.Sysctl, 0, len(sysTable))
	for _, e := range sysTable {
		out = append(out, stack.Sysctl{
			Name: e.name,
			Get:  func() string { return e.get(p.conf()) },
			Set: func(v string) error {
				p.cfgMu.Lock()
				defer p.cfgMu.Unlock()
				c := *p.conf()
				if err := e.set(&c, v); err != nil {
					return err
				}
				p.cfg.Store(&c)
				return nil
			},
		})
	}
	return out
}
