package ipv4

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"vnic/stack"
)

func boolText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func parseSwitch(v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("invalid argument %q: want 0 or 1: %w", v, syscall.EINVAL)
}

// sysctls lists the host's net.ipv4 settings, in sysctl -a's order
// (sysctl_net_ipv4.c and devinet's conf tables): ip_forward, the
// forwarding and rp_filter switches and the redirect switches
// (accept_redirects, secure_redirects, send_redirects, shared_media, with
// conf/default for devices) can be written, the rest is fixed at start.
func (in *Inet) sysctls() []stack.Sysctl {
	h, cfg := in.host, in.cfg
	ro := func(name, v string) stack.Sysctl {
		return stack.Sysctl{Name: name, Get: func() string { return v }}
	}
	// Each directory's keys in name order, as sysctl -a lists them.
	byName := func(ks []stack.Sysctl) []stack.Sysctl {
		slices.SortFunc(ks, func(a, b stack.Sysctl) int { return strings.Compare(a.Name, b.Name) })
		return ks
	}
	all := func(bool) *devConf { return &in.confAll }
	keys := byName(append(in.confSysctls("net.ipv4.conf.all.", all, false),
		stack.Sysctl{Name: "net.ipv4.conf.all.forwarding", Get: func() string { return boolText(in.Forwarding()) }, Set: func(v string) error {
			on, err := parseSwitch(v)
			if err != nil {
				return err
			}
			return in.SetForwarding(on)
		}},
		stack.Sysctl{Name: "net.ipv4.conf.all.rp_filter", Get: func() string { return strconv.Itoa(in.RPFilterConf(nil)) }, Set: func(v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid argument %q: %w", v, syscall.EINVAL)
			}
			return in.SetRPFilter(nil, n)
		}}))
	keys = append(keys, byName(in.confSysctls("net.ipv4.conf.default.", func(bool) *devConf { return &in.confDflt }, true))...)
	for _, d := range h.Devices() {
		pre := "net.ipv4.conf." + d.Name() + "."
		keys = append(keys, byName(append(in.confSysctls(pre, in.devConfOf(d), false),
			stack.Sysctl{Name: pre + "forwarding", Get: func() string { return boolText(in.DevForwarding(d)) }, Set: func(v string) error {
				on, err := parseSwitch(v)
				if err != nil {
					return err
				}
				return in.SetDevForwarding(d, on)
			}},
			stack.Sysctl{Name: pre + "rp_filter", Get: func() string { return strconv.Itoa(in.RPFilterConf(d)) }, Set: func(v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return fmt.Errorf("invalid argument %q: %w", v, syscall.EINVAL)
				}
				return in.SetRPFilter(d, n)
			}}))...)
	}
	keys = append(keys,
		stack.Sysctl{Name: "net.ipv4.fib_multipath_hash_policy", Get: func() string { return strconv.Itoa(in.fib.MultipathHashPolicy()) }, Set: func(v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid argument %q: %w", v, syscall.EINVAL)
			}
			return in.fib.SetMultipathHashPolicy(n)
		}},
		ro("net.ipv4.icmp_echo_ignore_broadcasts", boolText(!cfg.EchoBroadcasts)),
		ro("net.ipv4.icmp_msgs_burst", strconv.Itoa(cfg.ICMPMsgsBurst)),
		ro("net.ipv4.icmp_msgs_per_sec", strconv.Itoa(cfg.ICMPMsgsPerSec)),
		ro("net.ipv4.icmp_ratelimit", strconv.FormatInt(cfg.ICMPRateLimit.Milliseconds(), 10)),
		ro("net.ipv4.icmp_ratemask", strconv.FormatUint(uint64(cfg.ICMPRateMask), 10)),
		ro("net.ipv4.ip_default_ttl", strconv.Itoa(int(cfg.DefaultTTL))),
		stack.Sysctl{Name: "net.ipv4.ip_forward", Get: func() string { return boolText(in.Forwarding()) }, Set: func(v string) error {
			on, err := parseSwitch(v)
			if err != nil {
				return err
			}
			return in.SetForwarding(on)
		}},
		ro("net.ipv4.ip_local_port_range", fmt.Sprintf("%d\t%d", cfg.PortLow, cfg.PortHigh)),
		ro("net.ipv4.ipfrag_high_thresh", strconv.Itoa(cfg.FragHigh)),
		ro("net.ipv4.ipfrag_low_thresh", strconv.Itoa(cfg.FragLow)),
		ro("net.ipv4.ipfrag_time", strconv.FormatInt(int64(cfg.FragTime.Seconds()), 10)),
	)
	return keys
}
