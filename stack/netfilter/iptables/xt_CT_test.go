package iptables_test

import (
	"errors"
	"syscall"
	"testing"

	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
)

// raw is a raw table spec with rules at one of its hooks.
func raw(hook stack.NFHook, rules ...ipt.Rule) *ipt.TableSpec {
	s := &ipt.TableSpec{Name: "raw"}
	for _, h := range []stack.NFHook{stack.NFPreRouting, stack.NFLocalOut} {
		c := ipt.Chain{Name: ipt.ChainNames[h], Policy: ipt.Accept}
		if h == hook {
			c.Rules = rules
		}
		s.Chains = append(s.Chains, c)
	}
	return s
}

func ctRule(ip ipt.IPMatch, i ipt.CTInfo) ipt.Rule {
	return ipt.Rule{IP: ip, Target: ipt.Target{Name: "CT", Revision: 2, Info: &i}}
}

// pass runs p through PRE_ROUTING (raw, tracking) and LOCAL_IN
// (confirmation) with the packet mark given: the connection it ended in.
func (r *rig) pass(p pkt, mark uint32) (*conntrack.Conn, conntrack.Info) {
	r.t.Helper()
	skb := r.skb(p)
	skb.Mark = mark
	for _, h := range []stack.NFHook{stack.NFPreRouting, stack.NFLocalIn} {
		st := skb.NF()
		*st = stack.NFState{Hook: h, In: r.dev}
		var got *stack.SKB
		r.h.Netfilter().Run(st, skb, func(s *stack.SKB) { got = s })
		if got == nil {
			r.t.Fatalf("dropped at %v", h)
		}
	}
	defer skb.Free()
	return conntrack.Get(skb)
}

// TestCTTemplate: the CT target's zone (of both directions, of one, from
// the mark) is the zone the packet's connection is found or made in; the
// same tuple in two zones is two connections.
func TestCTTemplate(t *testing.T) {
	q := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1000, dport: 53}
	cases := []struct {
		name  string
		info  ipt.CTInfo
		marks []uint32 // one packet of q for each
		zones []conntrack.Zone
	}{
		{"--zone 5", ipt.CTInfo{Zone: 5}, []uint32{0, 0}, []conntrack.Zone{{ID: 5}, {ID: 5}}},
		{"no option: the default zone", ipt.CTInfo{}, []uint32{0}, []conntrack.Zone{{}}},
		{"--zone-orig 6", ipt.CTInfo{Zone: 6, Flags: ipt.CTZoneDirOrig}, []uint32{0}, []conntrack.Zone{{ID: 6, Dir: conntrack.ZoneDirOrig}}},
		{"--zone-reply 7", ipt.CTInfo{Zone: 7, Flags: ipt.CTZoneDirRepl}, []uint32{0}, []conntrack.Zone{{ID: 7, Dir: conntrack.ZoneDirRepl}}},
		{"--zone-orig 1 --zone-reply 2: both", ipt.CTInfo{Zone: 2, Flags: ipt.CTZoneDirOrig | ipt.CTZoneDirRepl}, []uint32{0}, []conntrack.Zone{{ID: 2}}},
		{"--zone mark", ipt.CTInfo{Flags: ipt.CTZoneMark}, []uint32{1, 2, 0x10001}, []conntrack.Zone{{ID: 1}, {ID: 2}, {ID: 1}}},
		{"--zone-reply mark", ipt.CTInfo{Flags: ipt.CTZoneMark | ipt.CTZoneDirRepl}, []uint32{3}, []conntrack.Zone{{ID: 3, Dir: conntrack.ZoneDirRepl}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.replace(raw(stack.NFPreRouting, ctRule(protoIs(ipt.ProtoUDP), tc.info)))
			n := conntrack.Of(r.h)
			distinct := map[*conntrack.Conn]bool{}
			for i, mark := range tc.marks {
				ct, info := r.pass(q, mark)
				if ct == nil || ct.IsTemplate() || info != conntrack.New {
					t.Fatalf("packet %d: ct %v info %d", i, ct, info)
				}
				if ct.Zone() != tc.zones[i] {
					t.Errorf("packet %d: zone %+v, want %+v", i, ct.Zone(), tc.zones[i])
				}
				distinct[ct] = true
			}
			want := map[conntrack.Zone]bool{}
			for _, z := range tc.zones {
				want[z] = true
			}
			if len(distinct) != len(want) || n.Count() != len(want) {
				t.Errorf("%d connections (%d in the table), want %d", len(distinct), n.Count(), len(want))
			}
		})
	}
}

// TestCTNotrackIgnoresTheRest: --notrack with other options is the
// untracked template, as the kernel's check makes it.
func TestCTNotrackIgnoresTheRest(t *testing.T) {
	r := newRig(t)
	i := ipt.CTInfo{Flags: ipt.CTNoTrack | ipt.CTZoneDirOrig, Zone: 1, CTEvents: 1}
	ipt.PutCString(i.Helper[:], "ftp")
	r.replace(raw(stack.NFPreRouting, ctRule(ipt.IPMatch{}, i)))
	_, skb := r.run(stack.NFPreRouting, pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP})
	if !conntrack.IsUntracked(skb) {
		t.Fatal("not untracked")
	}
	if conntrack.Of(r.h) != nil && conntrack.Of(r.h).Users() != 0 {
		t.Fatalf("--notrack holds tracking: %d users", conntrack.Of(r.h).Users())
	}
}

// TestCTEvents: --ctevents decides what the connections made under the
// template report.
func TestCTEvents(t *testing.T) {
	r := newRig(t)
	r.replace(raw(stack.NFPreRouting, ctRule(ipt.IPMatch{}, ipt.CTInfo{CTEvents: 1 << conntrack.EventDestroy})))
	n := conntrack.Of(r.h)
	var got []conntrack.EventMask
	cancel := n.Subscribe(func(e conntrack.Event) { got = append(got, e.Events) })
	defer cancel()
	ct, _ := r.pass(pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}, 0)
	if len(got) != 0 {
		t.Fatalf("events %b before the delete, want none", got)
	}
	n.Delete(ct)
	if len(got) != 1 || got[0] != 1<<conntrack.EventDestroy {
		t.Fatalf("events %b, want one DESTROY", got)
	}
	if m := ct.EventMask(); m != 1<<conntrack.EventDestroy {
		t.Fatalf("event mask %b", m)
	}
}

// TestCTRefused: what the kernel's checkentry refuses, with its errno;
// a refused table leaves tracking's users as they were.
func TestCTRefused(t *testing.T) {
	withHelper := func(h string, i ipt.CTInfo) ipt.CTInfo { ipt.PutCString(i.Helper[:], h); return i }
	withTimeout := func(s string, i ipt.CTInfo) ipt.CTInfo { ipt.PutCString(i.Timeout[:], s); return i }
	var long ipt.CTInfo
	for k := range long.Helper {
		long.Helper[k] = 'h'
	}
	udp, notUDP := protoIs(ipt.ProtoUDP), ipt.IPMatch{Proto: ipt.ProtoUDP, InvFlags: ipt.InvProto}
	cases := []struct {
		name  string
		table *ipt.TableSpec
		errno syscall.Errno
	}{
		{"a helper: none is built", raw(stack.NFPreRouting, ctRule(udp, withHelper("ftp", ipt.CTInfo{}))), syscall.ENOENT},
		{"a helper without a protocol", raw(stack.NFPreRouting, ctRule(ipt.IPMatch{}, withHelper("ftp", ipt.CTInfo{}))), syscall.ENOENT},
		{"a helper name without its NUL", raw(stack.NFPreRouting, ctRule(udp, long)), syscall.ENAMETOOLONG},
		{"a timeout policy: none exists", raw(stack.NFPreRouting, ctRule(udp, withTimeout("pol", ipt.CTInfo{Zone: 1}))), syscall.ENOENT},
		{"a timeout policy without a protocol", raw(stack.NFPreRouting, ctRule(ipt.IPMatch{}, withTimeout("pol", ipt.CTInfo{}))), syscall.EINVAL},
		{"a timeout policy, the protocol inverted", raw(stack.NFPreRouting, ctRule(notUDP, withTimeout("pol", ipt.CTInfo{}))), syscall.EINVAL},
		{"unknown flags", raw(stack.NFPreRouting, ctRule(ipt.IPMatch{}, ipt.CTInfo{Flags: 0x20})), syscall.EINVAL},
		{"CT in mangle", mangle(stack.NFPreRouting, ctRule(ipt.IPMatch{}, ipt.CTInfo{Zone: 1})), syscall.EINVAL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			n := conntrack.Init(r.h)
			if _, err := ipt.Replace(r.h, tc.table); !errors.Is(err, tc.errno) {
				t.Fatalf("err %v, want %v", err, tc.errno)
			}
			if u := n.Users(); u != 0 {
				t.Fatalf("%d users of tracking after the refusal, want 0", u)
			}
		})
	}
}

// TestCTHoldsTracking: a CT template rule turns tracking on while it is
// in the table (nf_ct_netns_get), as a state match does.
func TestCTHoldsTracking(t *testing.T) {
	r := newRig(t)
	n := conntrack.Init(r.h)
	r.replace(raw(stack.NFPreRouting, ctRule(ipt.IPMatch{}, ipt.CTInfo{Zone: 3}), ctRule(ipt.IPMatch{}, ipt.CTInfo{})))
	if u := n.Users(); u != 2 {
		t.Fatalf("%d users, want 2", u)
	}
	r.replace(raw(stack.NFPreRouting))
	if u := n.Users(); u != 0 {
		t.Fatalf("%d users after the rules went, want 0", u)
	}
}
