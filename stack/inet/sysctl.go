package inet

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/netlink"
)

// The vnic_inet family's sysctl command: read or write a host's
// net.ipv4 settings. Request: InetAttrHost, InetAttrName (empty: all),
// InetAttrValue (set: write). Reply: InetAttrCounter-shaped pairs with a
// string value (name 1, value 3).
const (
	InetCmdSysctl = 3
	InetAttrName  = 40 // string
	InetAttrValue = 41 // string
	sysctlValue   = 3  // in a nested pair: the value as text
)

// sysctlKey is one setting: how to read it and, if writable, to write it.
type sysctlKey struct {
	name string
	get  func() string
	set  func(v string) error // nil: read-only
}

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

// sysctlKeys lists a host's net.ipv4 settings, in sysctl -a's order.
func sysctlKeys(h *stack.Host, in *ipv4.Inet) []sysctlKey {
	cfg := in.Config()
	ro := func(name, v string) sysctlKey {
		return sysctlKey{name: name, get: func() string { return v }}
	}
	keys := []sysctlKey{
		{name: "net.ipv4.conf.all.forwarding", get: func() string { return boolText(in.Forwarding()) }, set: func(v string) error {
			on, err := parseSwitch(v)
			if err != nil {
				return err
			}
			return in.SetForwarding(on)
		}},
		{name: "net.ipv4.conf.all.rp_filter", get: func() string { return strconv.Itoa(in.RPFilterConf(nil)) }, set: func(v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid argument %q: %w", v, syscall.EINVAL)
			}
			return in.SetRPFilter(nil, n)
		}},
	}
	for _, d := range h.Devices() {
		d := d
		pre := "net.ipv4.conf." + d.Name() + "."
		keys = append(keys,
			sysctlKey{name: pre + "forwarding", get: func() string { return boolText(in.DevForwarding(d)) }, set: func(v string) error {
				on, err := parseSwitch(v)
				if err != nil {
					return err
				}
				return in.SetDevForwarding(d, on)
			}},
			sysctlKey{name: pre + "rp_filter", get: func() string { return strconv.Itoa(in.RPFilterConf(d)) }, set: func(v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return fmt.Errorf("invalid argument %q: %w", v, syscall.EINVAL)
				}
				return in.SetRPFilter(d, n)
			}})
	}
	keys = append(keys,
		ro("net.ipv4.icmp_echo_ignore_broadcasts", boolText(!cfg.EchoBroadcasts)),
		ro("net.ipv4.icmp_msgs_burst", strconv.Itoa(cfg.ICMPMsgsBurst)),
		ro("net.ipv4.icmp_msgs_per_sec", strconv.Itoa(cfg.ICMPMsgsPerSec)),
		ro("net.ipv4.icmp_ratelimit", strconv.FormatInt(cfg.ICMPRateLimit.Milliseconds(), 10)),
		ro("net.ipv4.icmp_ratemask", strconv.FormatUint(uint64(cfg.ICMPRateMask), 10)),
		ro("net.ipv4.ip_default_ttl", strconv.Itoa(int(cfg.DefaultTTL))),
		sysctlKey{name: "net.ipv4.ip_forward", get: func() string { return boolText(in.Forwarding()) }, set: func(v string) error {
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

// sysctl answers InetCmdSysctl.
func (s *Service) sysctl(body []byte) ([][]byte, int, error) {
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return nil, -1, err
	}
	var host, name, value string
	write := false
	for ad.Next() {
		switch ad.Type() {
		case InetAttrHost:
			host = ad.String()
		case InetAttrName:
			name = ad.String()
		case InetAttrValue:
			value, write = ad.String(), true
		}
	}
	h, in, err := s.hostInet(host)
	if err != nil {
		return nil, -1, err
	}
	name = strings.ReplaceAll(name, "/", ".")
	var out []sysctlKey
	var ferr error
	s.exec(func() {
		for _, k := range sysctlKeys(h, in) {
			if name != "" && k.name != name {
				continue
			}
			if write {
				if k.set == nil {
					ferr = inetErr(syscall.EACCES, "permission denied on key %q (vnic keeps it fixed)", k.name)
					return
				}
				if err := k.set(value); err != nil {
					ferr = inetErr(syscall.EINVAL, "setting key %q: Invalid argument", k.name)
					return
				}
			}
			out = append(out, k)
		}
	})
	if ferr != nil {
		return nil, -1, ferr
	}
	if len(out) == 0 {
		return nil, -1, inetErr(syscall.ENOENT, "cannot stat /proc/sys/%s: No such file or directory", strings.ReplaceAll(name, ".", "/"))
	}
	ae := mnl.NewAttributeEncoder()
	s.exec(func() {
		for _, k := range out {
			ae.Nested(InetAttrCounter, func(n *mnl.AttributeEncoder) error {
				n.String(1, k.name)
				n.String(sysctlValue, k.get())
				return nil
			})
		}
	})
	b, err := ae.Encode()
	return [][]byte{netlink.GenlData(InetCmdSysctl, 1, b)}, -1, err
}
