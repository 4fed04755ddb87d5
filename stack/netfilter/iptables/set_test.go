package iptables_test

import (
	"errors"
	"testing"
	"time"

	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
)

func setMatch(h *stack.Host, t *testing.T, name string, dim uint8, flags uint8) ipt.Match {
	t.Helper()
	idx, ok := ipt.IPSetIndex(h, name)
	if !ok {
		t.Fatalf("no set %s", name)
	}
	return match("set", 4, &ipt.SetMatchInfo{Index: idx, Dim: dim, Flags: flags})
}

// TestSetMatch looks packets up in hash:ip, hash:net and hash:ip,port
// sets, in each direction and inverted; a rule giving fewer dimensions
// than its set has never matches.
func TestSetMatch(t *testing.T) {
	r := newRig(t)
	for _, c := range []ipt.SetCreate{{Name: "ips", Type: ipt.SetHashIP}, {Name: "nets", Type: ipt.SetHashNet},
		{Name: "pairs", Type: ipt.SetHashIPPort}} {
		if err := ipt.IPSetCreate(r.h, c, false); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ipt.IPSetAdd(r.h, "ips", ipt.SetEntry{Addr: addrA}, false))
	must(ipt.IPSetAdd(r.h, "nets", ipt.SetEntry{Addr: [4]byte{198, 19, 0, 0}, CIDR: 16}, false))
	must(ipt.IPSetAdd(r.h, "nets", ipt.SetEntry{Addr: [4]byte{198, 19, 7, 0}, CIDR: 24}, false))
	must(ipt.IPSetAdd(r.h, "pairs", ipt.SetEntry{Addr: addrB, Proto: ipt.ProtoTCP, Port: 80}, false))
	src, dst := ipt.SetDimSrc(1), uint8(0)
	tcpTo := func(s, d [4]byte, dport uint16) pkt {
		return pkt{src: s, dst: d, proto: ipt.ProtoTCP, sport: 1000, dport: dport}
	}
	checkMatches(t, r, []matchCase{
		{name: "ip src hit", m: []ipt.Match{setMatch(r.h, t, "ips", 1, src)}, p: tcpTo(addrA, addrB, 1), match: true},
		{name: "ip src miss", m: []ipt.Match{setMatch(r.h, t, "ips", 1, src)}, p: tcpTo(addrB, addrA, 1), match: false},
		{name: "ip dst hit", m: []ipt.Match{setMatch(r.h, t, "ips", 1, dst)}, p: tcpTo(addrB, addrA, 1), match: true},
		{name: "ip inverted", m: []ipt.Match{setMatch(r.h, t, "ips", 1, src|ipt.SetInvMatch)}, p: tcpTo(addrA, addrB, 1), match: false},
		{name: "net hit", m: []ipt.Match{setMatch(r.h, t, "nets", 1, src)}, p: tcpTo(addrC, addrB, 1), match: true},
		{name: "net miss", m: []ipt.Match{setMatch(r.h, t, "nets", 1, src)}, p: tcpTo(addrA, addrB, 1), match: false},
		{name: "pair hit", m: []ipt.Match{setMatch(r.h, t, "pairs", 2, 0)}, p: tcpTo(addrA, addrB, 80), match: true},
		{name: "pair other port", m: []ipt.Match{setMatch(r.h, t, "pairs", 2, 0)}, p: tcpTo(addrA, addrB, 81), match: false},
		{name: "pair other proto", m: []ipt.Match{setMatch(r.h, t, "pairs", 2, 0)},
			p: pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 80}, match: false},
		{name: "pair one dim", m: []ipt.Match{setMatch(r.h, t, "pairs", 1, 0)}, p: tcpTo(addrA, addrB, 80), match: false},
	})
}

// TestSetLifecycle: timeouts in the host's time, counters updated by
// hits, a set in use refuses destroy, swap needs one type.
func TestSetLifecycle(t *testing.T) {
	r := newRig(t)
	if err := ipt.IPSetCreate(r.h, ipt.SetCreate{Name: "s", Type: ipt.SetHashIP, Timeout: 10, Counters: true}, false); err != nil {
		t.Fatal(err)
	}
	if err := ipt.IPSetCreate(r.h, ipt.SetCreate{Name: "s", Type: ipt.SetHashIP}, false); !errors.Is(err, ipt.ErrSetNameExist) {
		t.Fatalf("second create: %v", err)
	}
	if err := ipt.IPSetAdd(r.h, "s", ipt.SetEntry{Addr: addrA}, false); err != nil {
		t.Fatal(err)
	}
	if err := ipt.IPSetAdd(r.h, "s", ipt.SetEntry{Addr: addrB, Timeout: 100}, false); err != nil {
		t.Fatal(err)
	}
	if err := ipt.IPSetAdd(r.h, "s", ipt.SetEntry{Addr: addrA}, false); !errors.Is(err, ipt.ErrSetElemExist) {
		t.Fatalf("add twice: %v", err)
	}
	r.replace(filter([]ipt.Rule{{Matches: []ipt.Match{setMatch(r.h, t, "s", 1, ipt.SetDimSrc(1))}, Target: verdict(ipt.Drop)}}))
	for i := 0; i < 3; i++ {
		if v, _ := r.run(stack.NFLocalIn, pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}); v != stack.NFDrop {
			t.Fatalf("packet %d: %v", i, v)
		}
	}
	sets, err := ipt.IPSetList(r.h, "s")
	if err != nil || len(sets) != 1 || len(sets[0].Entries) != 2 {
		t.Fatalf("list: %v %+v", err, sets)
	}
	if e := sets[0].Entries[0]; e.Addr != addrA || e.Packets != 3 || e.Bytes != 3*28 || e.Timeout != 10 {
		t.Errorf("entry %+v, want 3 packets of 28 bytes, 10 s left", e)
	}
	if err := ipt.IPSetDestroy(r.h, "s"); !errors.Is(err, ipt.ErrSetInUse) {
		t.Errorf("destroy in use: %v", err)
	}
	r.advance(10 * time.Second)
	if v, _ := r.run(stack.NFLocalIn, pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}); v != stack.NFAccept {
		t.Errorf("after the timeout: %v", v)
	}
	if ok, _ := ipt.IPSetTest(r.h, "s", ipt.SetEntry{Addr: addrB}); !ok {
		t.Error("the 100 s entry went with the 10 s one")
	}
	if err := ipt.IPSetCreate(r.h, ipt.SetCreate{Name: "n", Type: ipt.SetHashNet}, false); err != nil {
		t.Fatal(err)
	}
	if err := ipt.IPSetSwap(r.h, "s", "n"); !errors.Is(err, ipt.ErrSetTypeMismatch) {
		t.Errorf("swap of two types: %v", err)
	}
	r.replace(filter(nil))
	if err := ipt.IPSetDestroy(r.h, "s"); err != nil {
		t.Errorf("destroy once unused: %v", err)
	}
}
