package conntrack

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vnic/stack"
)

// Config is a host's net.netfilter.nf_conntrack_* settings with Linux
// 6.x's defaults (DefaultConfig).
type Config struct {
	// Max is nf_conntrack_max: past it a new connection must evict an
	// unassured one (early_drop) or its packet is dropped. 0: no limit.
	Max int
	// Acct is nf_conntrack_acct: connections made while it is on count
	// packets and bytes per direction.
	Acct bool
	// Checksum is nf_conntrack_checksum: TCP, UDP and ICMP checksums are
	// verified at PRE_ROUTING; a bad one makes the packet invalid.
	Checksum bool
	// Events is nf_conntrack_events: 0 none, 1 always, 2 (the default)
	// when someone listens; vnic delivers to the subscribers in both 1
	// and 2.
	Events int
	// ExpectMax is nf_conntrack_expect_max.
	ExpectMax int
	// LogInvalid is nf_conntrack_log_invalid (accepted; vnic logs nothing
	// per packet).
	LogInvalid int
	// The TCP tracker's switches (tcp_be_liberal 0, tcp_loose 1,
	// tcp_ignore_invalid_rst 0, tcp_max_retrans 3).
	TCPBeLiberal, TCPLoose, TCPIgnoreInvalidRST bool
	TCPMaxRetrans                               int
	// TCPTimeouts are the TCP timeouts by tracker state, then the
	// retransmission and unacknowledged-data ones (tcp_timeouts[]).
	TCPTimeouts [tcpTimeoutMax]time.Duration
	// UDP: unreplied and stream (udp_timeout 30 s, udp_timeout_stream
	// 120 s); ICMP 30 s; other protocols 600 s.
	UDPTimeout, UDPStreamTimeout, ICMPTimeout, GenericTimeout time.Duration
}

// DefaultBuckets is nf_conntrack_htable_size for a machine of mem bytes
// (nf_conntrack_init_start): a 16384th of memory in 8-byte list heads,
// 65536 above 1 GiB, 262144 above 4 GiB, at least 1024.
func DefaultBuckets(mem uint64) int {
	const page = 4096
	pages := mem / page
	n := int(mem / 16384 / 8)
	switch {
	case pages > 4*(1<<30)/page:
		n = 262144
	case pages > (1<<30)/page:
		n = 65536
	}
	return max(n, 1024)
}

// HostMemory is the memory a vnic host stands for when the table is sized:
// 4 GiB, the machine whose defaults TCP takes too (65536 buckets and
// entries).
const HostMemory = 4 << 30

// DefaultConfig is Linux 6.x's defaults for a HostMemory machine: as many
// entries as buckets (max_factor 1), the expectation limit 4 per 256
// buckets.
var DefaultConfig = func() Config {
	b := DefaultBuckets(HostMemory)
	c := Config{Max: b, Checksum: true, Events: 2, ExpectMax: b / 256 * 4, TCPLoose: true, TCPMaxRetrans: 3,
		UDPTimeout: 30 * time.Second, UDPStreamTimeout: 120 * time.Second,
		ICMPTimeout: 30 * time.Second, GenericTimeout: 600 * time.Second}
	c.TCPTimeouts = tcpDefaultTimeouts
	return c
}()

// Config returns the current settings.
func (n *Net) Config() Config { return *n.cfg.Load() }

// SetConfig replaces the settings.
func (n *Net) SetConfig(c Config) {
	n.cfgMu.Lock()
	n.cfg.Store(&c)
	n.cfgMu.Unlock()
}

func (n *Net) conf() *Config { return n.cfg.Load() }

// Stats are the per-namespace statistics (struct ip_conntrack_stat), as
// conntrack -S lists them. vnic counts them per host, not per CPU.
type Stats struct {
	Found, Invalid, Insert, InsertFailed, Drop, EarlyDrop, Error       uint64
	ExpectNew, ExpectCreate, ExpectDelete, SearchRestart, ClashResolve uint64
	ChainTooLong                                                       uint64
}

type stats struct {
	found, invalid, insert, insertFailed, drop, earlyDrop, errors stack.Counter
	expectNew, expectCreate, expectDelete, searchRestart          stack.Counter
	clashResolve, chainTooLong                                    stack.Counter
}

// Stats returns the statistics.
func (n *Net) Stats() Stats {
	s := &n.stats
	return Stats{Found: s.found.Load(), Invalid: s.invalid.Load(), Insert: s.insert.Load(),
		InsertFailed: s.insertFailed.Load(), Drop: s.drop.Load(), EarlyDrop: s.earlyDrop.Load(),
		Error: s.errors.Load(), ExpectNew: s.expectNew.Load(), ExpectCreate: s.expectCreate.Load(),
		ExpectDelete: s.expectDelete.Load(), SearchRestart: s.searchRestart.Load(),
		ClashResolve: s.clashResolve.Load(), ChainTooLong: s.chainTooLong.Load()}
}

// sysctl entry kinds, as proc_dointvec reads and writes them.
type sysEntry struct {
	name string
	get  func(n *Net, c *Config) string
	set  func(n *Net, c *Config, v string) error // nil: read-only
}

func parseInt(v string, lo, hi int) (int, error) {
	x, err := strconv.ParseInt(strings.TrimSpace(v), 0, 64)
	if err != nil || x < int64(lo) || x > int64(hi) {
		return 0, fmt.Errorf("invalid argument %q: %w", v, syscall.EINVAL)
	}
	return int(x), nil
}

func intEntry(name string, f func(*Config) *int, lo, hi int) sysEntry {
	return sysEntry{name, func(_ *Net, c *Config) string { return strconv.Itoa(*f(c)) },
		func(_ *Net, c *Config, v string) error {
			x, err := parseInt(v, lo, hi)
			if err == nil {
				*f(c) = x
			}
			return err
		}}
}

func boolEntry(name string, f func(*Config) *bool) sysEntry {
	return sysEntry{name, func(_ *Net, c *Config) string {
		if *f(c) {
			return "1"
		}
		return "0"
	}, func(_ *Net, c *Config, v string) error {
		x, err := parseInt(v, 0, 1)
		if err == nil {
			*f(c) = x != 0
		}
		return err
	}}
}

// secEntry is a timeout in seconds (proc_dointvec_jiffies).
func secEntry(name string, f func(*Config) *time.Duration) sysEntry {
	return sysEntry{name, func(_ *Net, c *Config) string { return strconv.Itoa(int(*f(c) / time.Second)) },
		func(_ *Net, c *Config, v string) error {
			x, err := parseInt(v, 0, 1<<31-1)
			if err == nil {
				*f(c) = time.Duration(x) * time.Second
			}
			return err
		}}
}

func tcpEntry(name string, i int) sysEntry {
	return secEntry("nf_conntrack_tcp_timeout_"+name, func(c *Config) *time.Duration { return &c.TCPTimeouts[i] })
}

// sysTable is nf_ct_sysctl_table for IPv4, in name order (sysctl -a's).
// Linux writes nf_conntrack_max and nf_conntrack_buckets only in the
// initial namespace; a vnic host is its own machine, so both are
// writable (buckets resizes the table). nf_conntrack_timestamp can only be
// 0: timestamps are not built.
var sysTable = []sysEntry{
	boolEntry("nf_conntrack_acct", func(c *Config) *bool { return &c.Acct }),
	{"nf_conntrack_buckets", func(n *Net, _ *Config) string { return strconv.Itoa(n.Buckets()) },
		func(n *Net, _ *Config, v string) error {
			x, err := parseInt(v, 1, 1<<26)
			if err == nil {
				n.Resize(x)
			}
			return err
		}},
	boolEntry("nf_conntrack_checksum", func(c *Config) *bool { return &c.Checksum }),
	{"nf_conntrack_count", func(n *Net, _ *Config) string { return strconv.Itoa(n.Count()) }, nil},
	intEntry("nf_conntrack_events", func(c *Config) *int { return &c.Events }, 0, 2),
	intEntry("nf_conntrack_expect_max", func(c *Config) *int { return &c.ExpectMax }, 1, 1<<31-1),
	secEntry("nf_conntrack_generic_timeout", func(c *Config) *time.Duration { return &c.GenericTimeout }),
	secEntry("nf_conntrack_icmp_timeout", func(c *Config) *time.Duration { return &c.ICMPTimeout }),
	intEntry("nf_conntrack_log_invalid", func(c *Config) *int { return &c.LogInvalid }, 0, 255),
	intEntry("nf_conntrack_max", func(c *Config) *int { return &c.Max }, 0, 1<<31-1),
	boolEntry("nf_conntrack_tcp_be_liberal", func(c *Config) *bool { return &c.TCPBeLiberal }),
	boolEntry("nf_conntrack_tcp_ignore_invalid_rst", func(c *Config) *bool { return &c.TCPIgnoreInvalidRST }),
	boolEntry("nf_conntrack_tcp_loose", func(c *Config) *bool { return &c.TCPLoose }),
	intEntry("nf_conntrack_tcp_max_retrans", func(c *Config) *int { return &c.TCPMaxRetrans }, 0, 1<<31-1),
	tcpEntry("close", tcpClose),
	tcpEntry("close_wait", tcpCloseWait),
	tcpEntry("established", tcpEstablished),
	tcpEntry("fin_wait", tcpFinWait),
	tcpEntry("last_ack", tcpLastAck),
	tcpEntry("max_retrans", int(tcpTimeoutRetrans)),
	tcpEntry("syn_recv", tcpSynRecv),
	tcpEntry("syn_sent", tcpSynSent),
	tcpEntry("time_wait", tcpTimeWait),
	tcpEntry("unacknowledged", int(tcpTimeoutUnack)),
	{"nf_conntrack_timestamp", func(*Net, *Config) string { return "0" }, func(_ *Net, _ *Config, v string) error {
		x, err := parseInt(v, 0, 1)
		if err == nil && x != 0 {
			return fmt.Errorf("conntrack timestamps are not built: %w", syscall.EOPNOTSUPP)
		}
		return err
	}},
	secEntry("nf_conntrack_udp_timeout", func(c *Config) *time.Duration { return &c.UDPTimeout }),
	secEntry("nf_conntrack_udp_timeout_stream", func(c *Config) *time.Duration { return &c.UDPStreamTimeout }),
}

// sysctls is the host's net.netfilter table.
func (n *Net) sysctls() []stack.Sysctl {
	out := make([]stack.Sysctl, 0, len(sysTable))
	for _, e := range sysTable {
		s := stack.Sysctl{Name: "net.netfilter." + e.name, Get: func() string { return e.get(n, n.conf()) }}
		if e.set != nil {
			s.Set = func(v string) error {
				n.cfgMu.Lock()
				defer n.cfgMu.Unlock()
				c := *n.conf()
				if err := e.set(n, &c, v); err != nil {
					return err
				}
				n.cfg.Store(&c)
				return nil
			}
		}
		out = append(out, s)
	}
	return out
}
