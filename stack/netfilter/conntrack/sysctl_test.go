package conntrack

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/stack"
)

func sysctl(t *testing.T, h *stack.Host, name string) stack.Sysctl {
	t.Helper()
	for _, s := range h.Sysctls() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no sysctl %s", name)
	return stack.Sysctl{}
}

func TestSysctls(t *testing.T) {
	r := newRig(t)
	defaults := map[string]string{
		"net.netfilter.nf_conntrack_acct":                       "0",
		"net.netfilter.nf_conntrack_buckets":                    "65536",
		"net.netfilter.nf_conntrack_checksum":                   "1",
		"net.netfilter.nf_conntrack_count":                      "0",
		"net.netfilter.nf_conntrack_events":                     "2",
		"net.netfilter.nf_conntrack_expect_max":                 "1024",
		"net.netfilter.nf_conntrack_generic_timeout":            "600",
		"net.netfilter.nf_conntrack_icmp_timeout":               "30",
		"net.netfilter.nf_conntrack_max":                        "65536",
		"net.netfilter.nf_conntrack_tcp_be_liberal":             "0",
		"net.netfilter.nf_conntrack_tcp_loose":                  "1",
		"net.netfilter.nf_conntrack_tcp_max_retrans":            "3",
		"net.netfilter.nf_conntrack_tcp_timeout_close":          "10",
		"net.netfilter.nf_conntrack_tcp_timeout_close_wait":     "60",
		"net.netfilter.nf_conntrack_tcp_timeout_established":    "432000",
		"net.netfilter.nf_conntrack_tcp_timeout_fin_wait":       "120",
		"net.netfilter.nf_conntrack_tcp_timeout_last_ack":       "30",
		"net.netfilter.nf_conntrack_tcp_timeout_max_retrans":    "300",
		"net.netfilter.nf_conntrack_tcp_timeout_syn_recv":       "60",
		"net.netfilter.nf_conntrack_tcp_timeout_syn_sent":       "120",
		"net.netfilter.nf_conntrack_tcp_timeout_time_wait":      "120",
		"net.netfilter.nf_conntrack_tcp_timeout_unacknowledged": "300",
		"net.netfilter.nf_conntrack_timestamp":                  "0",
		"net.netfilter.nf_conntrack_udp_timeout":                "30",
		"net.netfilter.nf_conntrack_udp_timeout_stream":         "120",
	}
	for name, want := range defaults {
		if got := sysctl(t, r.h, name).Get(); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	writes := []struct {
		name, value string
		err         error
		check       func() bool
	}{
		{"net.netfilter.nf_conntrack_udp_timeout", "5", nil, func() bool { return r.n.Config().UDPTimeout == 5*time.Second }},
		{"net.netfilter.nf_conntrack_buckets", "128", nil, func() bool { return r.n.Buckets() == 128 }},
		{"net.netfilter.nf_conntrack_max", "0x10", nil, func() bool { return r.n.Config().Max == 16 }},
		{"net.netfilter.nf_conntrack_acct", "2", syscall.EINVAL, nil},
		{"net.netfilter.nf_conntrack_timestamp", "1", syscall.EOPNOTSUPP, nil},
		{"net.netfilter.nf_conntrack_count", "1", nil, nil},
	}
	for _, w := range writes {
		s := sysctl(t, r.h, w.name)
		if s.Set == nil {
			if w.name != "net.netfilter.nf_conntrack_count" {
				t.Errorf("%s read-only", w.name)
			}
			continue
		}
		err := s.Set(w.value)
		if !errors.Is(err, w.err) && !(err == nil && w.err == nil) {
			t.Errorf("%s=%s: %v, want %v", w.name, w.value, err, w.err)
		}
		if w.check != nil && !w.check() {
			t.Errorf("%s=%s did not take", w.name, w.value)
		}
	}
	// The new UDP timeout applies to the next packet.
	if res := r.in(udpBytes(addrA, addrB, 1, 2, 0)); res.ct.Timeout() != 5*time.Second {
		t.Fatalf("udp timeout %v, want 5s", res.ct.Timeout())
	}
}

func TestEnableDisableRefcount(t *testing.T) {
	r := newRig(t)
	nf := r.h.Netfilter()
	if got := nf.Stats(stack.NFPreRouting).Registered; got != 2 {
		t.Fatalf("PRE_ROUTING holds %d hooks, want 2 (defrag, conntrack)", got)
	}
	if _, err := Enable(r.h); err != nil {
		t.Fatal(err)
	}
	if err := Disable(r.h); err != nil || nf.Stats(stack.NFLocalIn).Registered != 1 {
		t.Fatalf("after one of two users left: %v, LOCAL_IN %d", err, nf.Stats(stack.NFLocalIn).Registered)
	}
	if err := Disable(r.h); err != nil {
		t.Fatal(err)
	}
	for h := range stack.NumNFHooks {
		if got := nf.Stats(h).Registered; got != 0 {
			t.Fatalf("%v holds %d hooks after the last user", h, got)
		}
	}
	if err := Disable(r.h); err == nil {
		t.Fatal("a third Disable succeeded")
	}
}

// FuzzPacketTuple feeds arbitrary datagrams to tracking: no panic, and a
// packet that gets a connection has its tuple in one direction.
func FuzzPacketTuple(f *testing.F) {
	f.Add(seg{src: addrA, dst: addrB, sport: 1, dport: 2, flags: syn, win: 9}.bytes())
	f.Add(udpBytes(addrA, addrB, 1, 2, 3))
	f.Add(icmpBytes(addrA, addrB, 8, 0, 1, nil))
	f.Add(icmpBytes(addrR, addrB, 3, 3, 0, udpBytes(addrB, addrA, 1, 2, 0)[:28]))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > 1500 {
			return
		}
		r := newRig(t)
		for _, hook := range []stack.NFHook{stack.NFPreRouting, stack.NFLocalOut} {
			res := r.pass(pkt, hook, stack.NFPostRouting)
			if res.ct == nil {
				continue
			}
			skb := r.skb(pkt)
			ip, ihl, total, ok := parse(skb)
			if !ok {
				skb.Consume()
				t.Fatalf("tracked a packet that does not parse")
			}
			p := pktInfo{skb: skb, ip: ip, ihl: ihl, total: total, l4: ip[ihl:], l4len: total - ihl, hook: hook}
			if tu, ok := p.tuple(); ok && tu != res.ct.Tuple(Original) && tu != res.ct.Tuple(Reply) && res.info != Related && res.info != RelatedReply {
				t.Fatalf("tuple %+v in neither direction of %+v / %+v", tu, res.ct.Tuple(Original), res.ct.Tuple(Reply))
			}
			skb.Consume()
		}
	})
}
