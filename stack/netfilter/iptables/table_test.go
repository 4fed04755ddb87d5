package iptables_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
)

// Tables register their hook functions only when made, at Linux's
// priorities: a probe between each pair of priorities sees the marks of
// the tables before it and not those after it.
func TestTablePriorities(t *testing.T) {
	r := newRig(t)
	if st := r.h.Netfilter().Stats(stack.NFLocalOut); st.Registered != 0 {
		t.Fatalf("%d functions at OUTPUT before any table", st.Registered)
	}
	setMark := func(m uint32) []ipt.Rule {
		return []ipt.Rule{{Target: ipt.Target{Name: "MARK", Revision: 2, Info: &ipt.MarkTargetInfo{Mark: m, Mask: 0xffffffff}}}}
	}
	for _, tc := range []struct {
		table string
		mark  uint32
	}{{"raw", 1}, {"mangle", 2}, {"filter", 3}, {"security", 4}} {
		spec, err := ipt.Get(r.h, tc.table)
		if err != nil {
			t.Fatal(err)
		}
		for i := range spec.Chains {
			if spec.Chains[i].Name == "OUTPUT" {
				spec.Chains[i].Rules = setMark(tc.mark)
			}
		}
		r.replace(spec)
	}
	if got := ipt.Tables(r.h); !slices.Equal(got, []string{"security", "filter", "mangle", "raw"}) {
		t.Errorf("tables %v", got)
	}
	// A route for the probe, which the mangle table's mark change routes
	// again (ipt_mangle_out).
	if err := r.dev.Open(); err != nil {
		t.Fatal(err)
	}
	if err := ipv4.Of(r.h).RouteAdd(fib.Route{Dst: addrB, Len: 32, Dev: r.dev, Scope: fib.ScopeLink}, false); err != nil {
		t.Fatal(err)
	}
	seen := map[int]uint32{}
	for _, prio := range []int{-301, -299, -151, -149, -1, 1, 49, 51} {
		r.h.Netfilter().Register(&stack.NFHookOps{Name: fmt.Sprint("probe", prio), Hook: stack.NFLocalOut, Priority: prio,
			Fn: func(skb *stack.SKB, _ *stack.NFState) stack.Verdict { seen[prio] = skb.Mark; return stack.NFAccept }})
	}
	if v, _ := r.run(stack.NFLocalOut, pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP}); v != stack.NFAccept {
		t.Fatalf("verdict %v", v)
	}
	want := map[int]uint32{-301: 0, -299: 1, -151: 1, -149: 2, -1: 2, 1: 3, 49: 3, 51: 4}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("marks seen %v, want %v", seen, want)
	}
	// The hooks of each table: filter 3, mangle 5, raw 2, security 3,
	// and the nat table's four, whose functions go to the NAT core: its
	// own are at the hooks (one each but FORWARD).
	if _, err := ipt.Open(r.h, "nat"); err != nil {
		t.Fatal(err)
	}
	for hook, n := range map[stack.NFHook]int{stack.NFPreRouting: 3, stack.NFLocalIn: 4, stack.NFForward: 3, stack.NFLocalOut: 4 + 8 + 1, stack.NFPostRouting: 2} {
		if got := r.h.Netfilter().Stats(hook).Registered; got != n {
			t.Errorf("%v: %d functions registered, want %d", hook, got, n)
		}
	}
	if _, err := ipt.Open(r.h, "broute"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("a table Linux lacks: %v", err)
	}
}

// The traversal: first match wins, non-terminating targets go on, jumps
// return after the jump, gotos return to the caller's caller, RETURN in
// a built-in chain is its policy, the policy applies when nothing
// decides; every matching rule counts the packet.
func TestTraversal(t *testing.T) {
	ssh := ipt.Match{Name: "tcp", Info: &ipt.TCPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{22, 22}}}
	mark := func(m uint32) ipt.Target {
		return ipt.Target{Name: "MARK", Revision: 2, Info: &ipt.MarkTargetInfo{Mark: m, Mask: 0xffffffff}}
	}
	markIs := func(m uint32) ipt.Match { return match("mark", 1, &ipt.MarkInfo{Mark: m, Mask: 0xffffffff}) }
	sshPkt := pkt{src: addrA, dst: addrB, proto: ipt.ProtoTCP, sport: 40000, dport: 22, flags: 0x02}
	webPkt := pkt{src: addrA, dst: addrB, proto: ipt.ProtoTCP, sport: 40000, dport: 80, flags: 0x02}
	for _, tc := range []struct {
		name   string
		spec   *ipt.TableSpec
		p      pkt
		want   stack.Verdict
		mark   uint32
		counts []uint64 // packets per rule, table order
		policy uint64   // INPUT policy packets
	}{
		{"accept ssh then drop all: ssh", filter([]ipt.Rule{
			{IP: protoIs(ipt.ProtoTCP), Matches: []ipt.Match{ssh}, Target: verdict(ipt.Accept)},
			{Target: verdict(ipt.Drop)}}), sshPkt, stack.NFAccept, 0, []uint64{1, 0}, 0},
		{"accept ssh then drop all: web", filter([]ipt.Rule{
			{IP: protoIs(ipt.ProtoTCP), Matches: []ipt.Match{ssh}, Target: verdict(ipt.Accept)},
			{Target: verdict(ipt.Drop)}}), webPkt, stack.NFDrop, 0, []uint64{0, 1}, 0},
		{"drop all first: ssh dropped too", filter([]ipt.Rule{
			{Target: verdict(ipt.Drop)},
			{IP: protoIs(ipt.ProtoTCP), Matches: []ipt.Match{ssh}, Target: verdict(ipt.Accept)}}), sshPkt, stack.NFDrop, 0, []uint64{1, 0}, 0},
		{"MARK goes on, the policy decides", filter([]ipt.Rule{
			{Target: mark(7)}, {Matches: []ipt.Match{markIs(8)}, Target: verdict(ipt.Drop)}}), webPkt, stack.NFAccept, 7, []uint64{1, 0}, 1},
		{"jump, RETURN, continue after the jump", filter([]ipt.Rule{
			{Target: jump("sub")}, {Matches: []ipt.Match{markIs(5)}, Target: verdict(ipt.Drop)}},
			ipt.Chain{Name: "sub", Rules: []ipt.Rule{{Target: mark(5)}, {Target: verdict(ipt.Return)}, {Target: verdict(ipt.Accept)}}}),
			webPkt, stack.NFDrop, 5, []uint64{1, 1, 1, 1, 0}, 0},
		{"a user chain's end returns", filter([]ipt.Rule{
			{Target: jump("sub")}, {Target: mark(9)}},
			ipt.Chain{Name: "sub", Rules: []ipt.Rule{{IP: srcIs(addrC), Target: verdict(ipt.Drop)}}}),
			webPkt, stack.NFAccept, 9, []uint64{1, 1, 0}, 1},
		{"goto: the chain's end returns past the caller", filter([]ipt.Rule{
			{Target: jump("a")}, {Target: mark(1)}},
			ipt.Chain{Name: "a", Rules: []ipt.Rule{{IP: ipt.IPMatch{Flags: ipt.FlagGoto}, Target: jump("b")}, {Target: mark(2)}}},
			ipt.Chain{Name: "b", Rules: []ipt.Rule{{Target: mark(3)}}}),
			webPkt, stack.NFAccept, 1, []uint64{1, 1, 1, 0, 1}, 1},
		{"RETURN in a built-in chain is the policy", &ipt.TableSpec{Name: "filter", Chains: []ipt.Chain{
			{Name: "INPUT", Policy: ipt.Drop, Rules: []ipt.Rule{{Target: verdict(ipt.Return)}, {Target: verdict(ipt.Accept)}}},
			{Name: "FORWARD", Policy: ipt.Accept}, {Name: "OUTPUT", Policy: ipt.Accept}}},
			webPkt, stack.NFDrop, 0, []uint64{1, 0}, 1},
		{"inverted source", filter([]ipt.Rule{
			{IP: ipt.IPMatch{Src: addrA, SrcMask: [4]byte{255, 255, 255, 255}, InvFlags: ipt.InvSrcIP}, Target: verdict(ipt.Drop)}}),
			webPkt, stack.NFAccept, 0, []uint64{0}, 1},
		{"a /16 source", filter([]ipt.Rule{
			{IP: ipt.IPMatch{Src: [4]byte{198, 18}, SrcMask: [4]byte{255, 255}}, Target: verdict(ipt.Drop)}}),
			webPkt, stack.NFDrop, 0, []uint64{1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.replace(tc.spec)
			v, skb := r.run(stack.NFLocalIn, tc.p)
			if v != tc.want {
				t.Errorf("verdict %v, want %v", v, tc.want)
			}
			if skb != nil && skb.Mark != tc.mark {
				t.Errorf("mark %d, want %d", skb.Mark, tc.mark)
			}
			got, _ := ipt.Get(r.h, "filter")
			var counts []uint64
			for _, c := range got.Chains {
				for _, rl := range c.Rules {
					counts = append(counts, rl.Counters.Packets)
					if rl.Counters.Packets > 0 && rl.Counters.Bytes != uint64(len(tc.p.bytes()))*rl.Counters.Packets {
						t.Errorf("rule counted %d bytes for %d packets of %d", rl.Counters.Bytes, rl.Counters.Packets, len(tc.p.bytes()))
					}
				}
			}
			if !slices.Equal(counts, tc.counts) {
				t.Errorf("rule counts %v, want %v", counts, tc.counts)
			}
			if p := got.Chains[0].Counters.Packets; p != tc.policy {
				t.Errorf("policy counted %d, want %d", p, tc.policy)
			}
		})
	}
}

// Replace refuses what translate_table refuses, with Linux's errno, and
// leaves the old rules in place.
func TestReplaceRefuses(t *testing.T) {
	tcpNoProto := ipt.Rule{Matches: []ipt.Match{match("tcp", 0, &ipt.TCPInfo{DstPorts: [2]uint16{1, 1}})}, Target: verdict(ipt.Accept)}
	for _, tc := range []struct {
		name  string
		spec  *ipt.TableSpec
		errno syscall.Errno
	}{
		{"jump to a chain not there", filter([]ipt.Rule{{Target: jump("nope")}}), syscall.ENOENT},
		{"jump to a built-in chain", filter([]ipt.Rule{{Target: jump("OUTPUT")}}), syscall.EINVAL},
		{"a loop reached from INPUT", filter([]ipt.Rule{{Target: jump("a")}},
			ipt.Chain{Name: "a", Rules: []ipt.Rule{{Target: jump("b")}}},
			ipt.Chain{Name: "b", Rules: []ipt.Rule{{IP: ipt.IPMatch{Flags: ipt.FlagGoto}, Target: jump("a")}}}), syscall.ELOOP},
		{"policy RETURN", &ipt.TableSpec{Name: "filter", Chains: []ipt.Chain{{Name: "INPUT", Policy: ipt.Return},
			{Name: "FORWARD", Policy: ipt.Accept}, {Name: "OUTPUT", Policy: ipt.Accept}}}, syscall.EINVAL},
		{"a built-in chain missing", &ipt.TableSpec{Name: "filter", Chains: []ipt.Chain{{Name: "INPUT", Policy: ipt.Accept}}}, syscall.EINVAL},
		{"a chain twice", filter(nil, ipt.Chain{Name: "x"}, ipt.Chain{Name: "x"}), syscall.EEXIST},
		{"tcp without -p tcp", filter([]ipt.Rule{tcpNoProto}), syscall.EINVAL},
		{"an unknown match", filter([]ipt.Rule{{Matches: []ipt.Match{{Name: "nosuch"}}, Target: verdict(ipt.Accept)}}), syscall.ENOENT},
		{"an unknown target", filter([]ipt.Rule{{Target: ipt.Target{Name: "NOSUCH"}}}), syscall.ENOENT},
		{"mac at OUTPUT", &ipt.TableSpec{Name: "filter", Chains: []ipt.Chain{{Name: "INPUT", Policy: ipt.Accept},
			{Name: "FORWARD", Policy: ipt.Accept}, {Name: "OUTPUT", Policy: ipt.Accept, Rules: []ipt.Rule{
				{Matches: []ipt.Match{match("mac", 0, &ipt.MACInfo{})}, Target: verdict(ipt.Accept)}}}}}, syscall.EINVAL},
		{"mac in a user chain OUTPUT reaches", &ipt.TableSpec{Name: "filter", Chains: []ipt.Chain{{Name: "INPUT", Policy: ipt.Accept},
			{Name: "FORWARD", Policy: ipt.Accept}, {Name: "OUTPUT", Policy: ipt.Accept, Rules: []ipt.Rule{{Target: jump("u")}}},
			{Name: "u", Rules: []ipt.Rule{{Matches: []ipt.Match{match("mac", 0, &ipt.MACInfo{})}, Target: verdict(ipt.Accept)}}}}}, syscall.EINVAL},
		{"info of the wrong type", filter([]ipt.Rule{{IP: protoIs(ipt.ProtoTCP), Matches: []ipt.Match{match("tcp", 0, &ipt.UDPInfo{})}, Target: verdict(ipt.Accept)}}), syscall.EINVAL},
		{"REJECT tcp-reset for udp", filter([]ipt.Rule{{IP: protoIs(ipt.ProtoUDP), Target: ipt.Target{Name: "REJECT", Info: &ipt.RejectInfo{With: ipt.RejectTCPReset}}}}), syscall.EINVAL},
		{"limit with burst 0", filter([]ipt.Rule{{Matches: []ipt.Match{match("limit", 0, &ipt.LimitInfo{Avg: 100})}, Target: verdict(ipt.Accept)}}), syscall.ERANGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			before := filter([]ipt.Rule{{Target: verdict(ipt.Drop)}})
			r.replace(before)
			_, err := ipt.Replace(r.h, tc.spec)
			if !errors.Is(err, tc.errno) {
				t.Fatalf("err %v, want %v", err, tc.errno)
			}
			if v, _ := r.run(stack.NFLocalIn, pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP}); v != stack.NFDrop {
				t.Errorf("the old rules are gone: %v", v)
			}
			lines := ipt.Log(r.h).Lines(0)
			if len(lines) != 1 {
				t.Errorf("log %v, want the reason once", lines)
			}
		})
	}
	// A loop no built-in chain reaches is allowed (mark_source_chains
	// walks from the hooks).
	r := newRig(t)
	r.replace(filter(nil, ipt.Chain{Name: "a", Rules: []ipt.Rule{{Target: jump("b")}}},
		ipt.Chain{Name: "b", Rules: []ipt.Rule{{Target: jump("a")}}}))
}

// The nat table's chains are there to list; its NAT targets need
// connection tracking, which a host without IPv4 cannot have
// (nf_ct_netns_get fails: EOPNOTSUPP), and go only where Linux allows
// them.
func TestNATTargetChecks(t *testing.T) {
	r := newBareRig(t)
	spec, err := ipt.Get(r.h, "nat")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, c := range spec.Chains {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}) {
		t.Errorf("nat chains %v", names)
	}
	dnat := ipt.Target{Name: "DNAT", Revision: 2, Info: &ipt.NATRange{Flags: ipt.NATMapIPs, MinAddr: addrC, MaxAddr: addrC}}
	spec.Chains[0].Rules = []ipt.Rule{{Target: dnat}}
	if _, err := ipt.Replace(r.h, spec); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("DNAT on a host without tracking: %v", err)
	}
	spec.Chains[0].Rules = []ipt.Rule{{Target: verdict(ipt.Accept)}}
	if _, err := ipt.Replace(r.h, spec); err != nil {
		t.Errorf("ACCEPT in nat: %v", err)
	}

	h := inetRig(t)
	for _, tc := range []struct {
		name  string
		chain int // PREROUTING, INPUT, OUTPUT, POSTROUTING
		tg    ipt.Target
		errno syscall.Errno
	}{
		{"DNAT at PREROUTING", 0, dnat, 0},
		{"DNAT at OUTPUT", 2, dnat, 0},
		{"DNAT at POSTROUTING", 3, dnat, syscall.EINVAL},
		{"SNAT at INPUT", 1, ipt.Target{Name: "SNAT", Revision: 2, Info: &ipt.NATRange{Flags: ipt.NATMapIPs, MinAddr: addrA, MaxAddr: addrA}}, 0},
		{"SNAT at PREROUTING", 0, ipt.Target{Name: "SNAT", Revision: 2, Info: &ipt.NATRange{Flags: ipt.NATMapIPs, MinAddr: addrA, MaxAddr: addrA}}, syscall.EINVAL},
		{"MASQUERADE", 3, ipt.Target{Name: "MASQUERADE", Info: &ipt.NATRange{}}, 0},
		{"MASQUERADE at OUTPUT", 2, ipt.Target{Name: "MASQUERADE", Info: &ipt.NATRange{}}, syscall.EINVAL},
		{"MASQUERADE with addresses", 3, ipt.Target{Name: "MASQUERADE", Info: &ipt.NATRange{Flags: ipt.NATMapIPs}}, syscall.EINVAL},
		{"REDIRECT with addresses", 0, ipt.Target{Name: "REDIRECT", Info: &ipt.NATRange{Flags: ipt.NATMapIPs}}, syscall.EINVAL},
		{"NETMAP without addresses", 0, ipt.Target{Name: "NETMAP", Info: &ipt.NATRange{}}, syscall.EINVAL},
		{"unknown range flags", 0, ipt.Target{Name: "DNAT", Revision: 2, Info: &ipt.NATRange{Flags: 0x80}}, syscall.EINVAL},
		{"DNAT in filter", -1, dnat, syscall.EINVAL},
	} {
		spec, err := ipt.Get(h, "nat")
		if tc.chain < 0 {
			spec, err = ipt.Get(h, "filter")
			tc.chain = 0
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range spec.Chains {
			spec.Chains[i].Rules = nil
		}
		spec.Chains[tc.chain].Rules = []ipt.Rule{{Target: tc.tg}}
		_, err = ipt.Replace(h, spec)
		switch {
		case tc.errno == 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.errno != 0 && !errors.Is(err, tc.errno):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.errno)
		}
	}
	// Each NAT rule held the tracking while its ruleset was in: only the
	// last accepted one (MASQUERADE) holds it now; an empty table none.
	if got := conntrack.Of(h).Users(); got != 1 {
		t.Errorf("conntrack users %d, want 1 (the MASQUERADE rule)", got)
	}
	spec, _ = ipt.Get(h, "nat")
	for i := range spec.Chains {
		spec.Chains[i].Rules = nil
	}
	if _, err := ipt.Replace(h, spec); err != nil {
		t.Fatal(err)
	}
	if got := conntrack.Of(h).Users(); got != 0 {
		t.Errorf("conntrack users %d after the rules went, want 0", got)
	}
}

// Counters: a rule given the ID of a current one keeps its counters; a
// replace built on an old generation is refused (EAGAIN); Replace returns
// the old rules with the counts the swap left.
func TestReplaceCounters(t *testing.T) {
	r := newRig(t)
	r.replace(filter([]ipt.Rule{{IP: protoIs(ipt.ProtoUDP), Target: verdict(ipt.Accept)}, {Target: verdict(ipt.Accept)}}))
	udp := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP}
	for i := 0; i < 3; i++ {
		r.run(stack.NFLocalIn, udp)
	}
	r.run(stack.NFLocalIn, pkt{src: addrA, dst: addrB, proto: ipt.ProtoICMP, icmpType: 8})
	cur, _ := ipt.Get(r.h, "filter")
	in := &cur.Chains[0]
	if in.Rules[0].Counters.Packets != 3 || in.Rules[1].Counters.Packets != 1 || in.Rules[0].ID != 1 || in.Rules[1].ID != 2 {
		t.Fatalf("rules %+v", in.Rules)
	}
	// -I INPUT 1: a new rule first, the old ones keep their counters.
	next := *cur
	next.Chains = slices.Clone(cur.Chains)
	rules := []ipt.Rule{{IP: srcIs(addrC), Target: verdict(ipt.Drop)}}
	for _, rl := range in.Rules {
		rl.Origin = rl.ID
		rules = append(rules, rl)
	}
	next.Chains[0].Rules = rules
	next.Chains[0].KeepCounters = true
	old, err := ipt.Replace(r.h, &next)
	if err != nil {
		t.Fatal(err)
	}
	if old.Chains[0].Rules[0].Counters.Packets != 3 {
		t.Errorf("old counters %+v", old.Chains[0].Rules)
	}
	r.run(stack.NFLocalIn, udp)
	got, _ := ipt.Get(r.h, "filter")
	var counts []uint64
	for _, rl := range got.Chains[0].Rules {
		counts = append(counts, rl.Counters.Packets)
	}
	if !slices.Equal(counts, []uint64{0, 4, 1}) {
		t.Errorf("counts %v, want [0 4 1]", counts)
	}
	if got.Gen != cur.Gen+1 {
		t.Errorf("generation %d after %d", got.Gen, cur.Gen)
	}
	// The same edit again, on the generation it read before: refused.
	if _, err := ipt.Replace(r.h, &next); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("stale generation: %v", err)
	}
	// Explicit counters (iptables-restore --counters).
	set := filter([]ipt.Rule{{Target: verdict(ipt.Accept), Counters: ipt.Counters{Packets: 10, Bytes: 1000}}})
	set.Chains[0].Counters = ipt.Counters{Packets: 5, Bytes: 50}
	r.replace(set)
	got, _ = ipt.Get(r.h, "filter")
	if c := got.Chains[0]; c.Rules[0].Counters != (ipt.Counters{10, 1000}) || c.Counters != (ipt.Counters{5, 50}) {
		t.Errorf("set counters %+v %+v", c.Rules[0].Counters, c.Counters)
	}
}

// A replace is atomic: each ruleset marks and then checks its own mark;
// a packet that saw half of one and half of the other would be dropped.
func TestReplaceAtomic(t *testing.T) {
	r := newRig(t)
	set := func(m uint32) *ipt.TableSpec {
		return filter([]ipt.Rule{
			{Target: ipt.Target{Name: "MARK", Revision: 2, Info: &ipt.MarkTargetInfo{Mark: m, Mask: 0xffffffff}}},
			{Matches: []ipt.Match{match("mark", 1, &ipt.MarkInfo{Mark: m, Mask: 0xffffffff})}, Target: verdict(ipt.Accept)},
			{Target: verdict(ipt.Drop)},
		})
	}
	r.replace(set(1))
	const packets, swaps = 2000, 200
	var wg sync.WaitGroup
	drops := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < swaps; i++ {
			if _, err := ipt.Replace(r.h, set(uint32(i%2+1))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// Each goroutine its own skb, made before and never freed on the
	// way (the virtual host's pool is not for concurrent use).
	var mu sync.Mutex
	var live []*stack.SKB
	for g := 0; g < 2; g++ {
		skb := r.skb(pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP})
		live = append(live, skb)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < packets; i++ {
				skb.Mark = 0
				st := skb.NF()
				*st = stack.NFState{Hook: stack.NFLocalIn, In: r.dev}
				if v := r.h.Netfilter().Run(st, skb, func(*stack.SKB) {}); v != stack.NFAccept {
					mu.Lock()
					drops++
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if drops != 0 {
		t.Fatalf("%d packets saw a mixed ruleset", drops)
	}
	for _, skb := range live {
		skb.Free()
	}
}

// TestAddCounters adds to rules by their IDs in the generation read; a
// generation replaced since is EAGAIN, an ID it lacks EINVAL.
func TestAddCounters(t *testing.T) {
	r := newRig(t)
	r.replace(filter([]ipt.Rule{{Target: verdict(ipt.Accept)}, {Target: verdict(ipt.Drop)}}))
	tb, _ := ipt.Open(r.h, "filter")
	spec := tb.Get()
	if err := tb.AddCounters(spec.Gen, map[uint32]ipt.Counters{2: {Packets: 3, Bytes: 4}}); err != nil {
		t.Fatal(err)
	}
	if c := tb.Get().Chains[0].Rules[1].Counters; c != (ipt.Counters{Packets: 3, Bytes: 4}) {
		t.Errorf("counters %+v", c)
	}
	if err := tb.AddCounters(spec.Gen, map[uint32]ipt.Counters{3: {}}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("rule 3 of 2: %v", err)
	}
	r.replace(filter(nil))
	if err := tb.AddCounters(spec.Gen, map[uint32]ipt.Counters{1: {}}); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("an old generation: %v", err)
	}
}

// A rule reading connection state holds the host's tracking while it is
// in the table (nf_ct_netns_get at check, _put at destroy): loading one
// turns tracking on, replacing the table keeps one reference per such
// rule, and removing the rules turns it off again.
func TestStateRulesHoldConntrack(t *testing.T) {
	r := newRig(t)
	users := func() int {
		if n := conntrack.Of(r.h); n != nil {
			return n.Users()
		}
		return 0
	}
	state := ipt.Rule{Matches: []ipt.Match{match("state", 0, &ipt.StateInfo{StateMask: ipt.CTStateInvalid})}, Target: verdict(ipt.Drop)}
	ctmark := ipt.Rule{Matches: []ipt.Match{match("connmark", 1, &ipt.MarkInfo{Mark: 1, Mask: 1})}, Target: verdict(ipt.Accept)}
	for _, tc := range []struct {
		name  string
		rules []ipt.Rule
		want  int
	}{
		{"none", nil, 0},
		{"a state rule", []ipt.Rule{state}, 1},
		{"the same again", []ipt.Rule{state}, 1},
		{"state and connmark", []ipt.Rule{state, ctmark}, 2},
		{"plain rules only", []ipt.Rule{{Target: verdict(ipt.Accept)}}, 0},
	} {
		r.replace(filter(tc.rules))
		if got := users(); got != tc.want {
			t.Errorf("%s: %d users of tracking, want %d", tc.name, got, tc.want)
		}
	}
}

// A sink on the log gets each line as it is written, after the lines it
// came too late for, until it is taken away; the ring keeps them all.
func TestLogSink(t *testing.T) {
	r := newRig(t)
	log := ipt.Log(r.h)
	log.Printf(ipt.LogInfo, "before")
	var got []string
	log.SetSink(func(ln ipt.LogLine) { got = append(got, fmt.Sprintf("%d %d %s", ln.Seq, ln.Level, ln.Text)) })
	log.Printf(ipt.LogWarning, "during %d", 1)
	log.SetSink(nil)
	log.Printf(ipt.LogInfo, "after")
	if fmt.Sprint(got) != "[2 4 during 1]" || len(log.Lines(0)) != 3 {
		t.Errorf("sink saw %q, the ring has %d lines", got, len(log.Lines(0)))
	}
}
