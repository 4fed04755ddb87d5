package stack_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"vnic/internal/stacktest"
	"vnic/stack"
)

// TestNetfilterVerdicts: functions run in ascending priority (equal ones
// in registration order); ACCEPT goes on to the path, DROP frees and
// counts, STOLEN keeps the packet, QUEUE goes to the consumer or is
// dropped without one, REPEAT is refused.
func TestNetfilterVerdicts(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	nf := h.Netfilter()
	var trace []string
	verdict := map[string]stack.Verdict{}
	reg := func(name string, prio int) *stack.NFHookOps {
		ops := &stack.NFHookOps{Name: name, Hook: stack.NFLocalIn, Priority: prio, Fn: func(*stack.SKB, *stack.NFState) stack.Verdict {
			trace = append(trace, name)
			if v, ok := verdict[name]; ok {
				return v
			}
			return stack.NFAccept
		}}
		if err := nf.Register(ops); err != nil {
			t.Fatal(err)
		}
		return ops
	}
	reg("filter", 0)
	reg("mangle", -150)
	reg("conntrack", -200)
	reg("filter2", 0)
	reg("nat", 100)
	var stolen *stack.SKB
	run := func() (stack.Verdict, string, bool) {
		trace = nil
		skb := h.Pool().Alloc(64)
		ran := false
		v := nf.Run(&stack.NFState{Hook: stack.NFLocalIn}, skb, func(s *stack.SKB) { ran = true; s.Free() })
		if v == stack.NFStolen {
			stolen = skb
		}
		return v, strings.Join(trace, ","), ran
	}
	live := h.Pool().Live()
	for _, tc := range []struct {
		set   map[string]stack.Verdict
		want  string
		trace string
		okfn  bool
	}{
		{nil, "ACCEPT", "conntrack,mangle,filter,filter2,nat", true},
		{map[string]stack.Verdict{"filter": stack.NFDrop}, "DROP", "conntrack,mangle,filter", false},
		{map[string]stack.Verdict{"mangle": stack.NFStolen}, "STOLEN", "conntrack,mangle", false},
		{map[string]stack.Verdict{"filter2": stack.NFQueue}, "DROP", "conntrack,mangle,filter,filter2", false},
		{map[string]stack.Verdict{"nat": stack.NFRepeat}, "DROP", "conntrack,mangle,filter,filter2,nat", false},
	} {
		verdict = tc.set
		v, tr, ran := run()
		if v.String() != tc.want || tr != tc.trace || ran != tc.okfn {
			t.Errorf("%v: %v after %s, okfn %v; want %s after %s, okfn %v", tc.set, v, tr, ran, tc.want, tc.trace, tc.okfn)
		}
	}
	if st := nf.Stats(stack.NFLocalIn); fmt.Sprintf("%+v", st) != "{Drops:3 Stolen:1 Queued:0 Invalid:1 Registered:5}" {
		t.Errorf("stats %+v", st)
	}
	// Dropped packets were freed; the stolen one is the thief's.
	if got := h.Pool().Live() - live; got != 1 {
		t.Errorf("%d skbs live, want the stolen one", got)
	}
	stolen.Free()
	// With a consumer, QUEUE hands the packet over.
	var queued []stack.NFHook
	nf.SetQueue(func(s *stack.SKB, st *stack.NFState) { queued = append(queued, st.Hook); s.Free() })
	verdict = map[string]stack.Verdict{"filter2": stack.NFQueue}
	if v, _, ran := run(); v != stack.NFQueue || ran || len(queued) != 1 || nf.Stats(stack.NFLocalIn).Queued != 1 {
		t.Errorf("queue: %v, okfn %v, consumer saw %v", v, ran, queued)
	}
	// Other hook points have their own lists.
	ran := false
	if v := nf.Run(&stack.NFState{Hook: stack.NFForward}, h.Pool().Alloc(64), func(s *stack.SKB) { ran = true; s.Free() }); v != stack.NFAccept || !ran {
		t.Errorf("an empty hook point: %v, okfn %v", v, ran)
	}
	if h.Pool().Live() != live {
		t.Errorf("%d skbs leaked", h.Pool().Live()-live)
	}
}

// TestNetfilterRegistration: changes take effect with the next packet,
// including from inside a hook function; bad registrations are refused.
func TestNetfilterRegistration(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	nf := h.Netfilter()
	var seen []string
	late := &stack.NFHookOps{Name: "late", Hook: stack.NFPreRouting, Priority: 10, Fn: func(*stack.SKB, *stack.NFState) stack.Verdict {
		seen = append(seen, "late")
		return stack.NFAccept
	}}
	early := &stack.NFHookOps{Name: "early", Hook: stack.NFPreRouting, Priority: 0}
	early.Fn = func(*stack.SKB, *stack.NFState) stack.Verdict {
		seen = append(seen, "early")
		if err := nf.Register(late); err != nil { // during a traversal
			t.Error(err)
		}
		return stack.NFAccept
	}
	if err := nf.Register(early); err != nil {
		t.Fatal(err)
	}
	pass := func() {
		nf.Run(&stack.NFState{Hook: stack.NFPreRouting}, h.Pool().Alloc(64), func(s *stack.SKB) { s.Free() })
	}
	pass()
	if err := nf.Unregister(early); err != nil {
		t.Fatal(err)
	}
	pass()
	if got := strings.Join(seen, ","); got != "early,late" {
		t.Errorf("traversals saw %s, want early then late", got)
	}
	for _, bad := range []*stack.NFHookOps{nil, {Name: "nofn", Hook: stack.NFLocalOut}, {Name: "x", Hook: stack.NumNFHooks, Fn: late.Fn}, late} {
		if err := nf.Register(bad); !errors.Is(err, stack.ErrNFHook) {
			t.Errorf("register %+v: %v", bad, err)
		}
	}
	if err := nf.Unregister(early); !errors.Is(err, stack.ErrNFHook) {
		t.Errorf("unregister twice: %v", err)
	}
	if stack.NFPostRouting.String() != "POST_ROUTING" || int(stack.NFPostRouting) != 4 || stack.NFStolen.String() != "STOLEN" {
		t.Error("names or values")
	}
}

// tracer is a hook function as a method (an NFHooker).
type tracer struct {
	name  string
	trace *[]string
	v     stack.Verdict
}

func (tr *tracer) NFHook(*stack.SKB, *stack.NFState) stack.Verdict {
	*tr.trace = append(*tr.trace, tr.name)
	return tr.v
}

// TestNetfilterHooker: a registration's Hooker runs in priority order
// among Fn registrations, its verdict ends the traversal as an Fn's does;
// an ops with both Fn and Hooker runs Fn, there and through Call.
func TestNetfilterHooker(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	nf := h.Netfilter()
	var trace []string
	fn := func(name string) func(*stack.SKB, *stack.NFState) stack.Verdict {
		return func(*stack.SKB, *stack.NFState) stack.Verdict {
			trace = append(trace, name)
			return stack.NFAccept
		}
	}
	drop := &tracer{"drop", &trace, stack.NFAccept}
	both := &stack.NFHookOps{Name: "both", Hook: stack.NFForward, Priority: 5, Fn: fn("fn"), Hooker: &tracer{"hooker", &trace, stack.NFAccept}}
	for _, ops := range []*stack.NFHookOps{
		{Name: "b", Hook: stack.NFForward, Priority: 10, Fn: fn("b")},
		{Name: "a", Hook: stack.NFForward, Priority: -10, Hooker: &tracer{"a", &trace, stack.NFAccept}},
		{Name: "drop", Hook: stack.NFForward, Priority: 20, Hooker: drop},
		{Name: "c", Hook: stack.NFForward, Priority: 30, Fn: fn("c")},
		both,
	} {
		if err := nf.Register(ops); err != nil {
			t.Fatal(err)
		}
	}
	run := func() (stack.Verdict, string) {
		trace = nil
		v := nf.Run(&stack.NFState{Hook: stack.NFForward}, h.Pool().Alloc(64), func(s *stack.SKB) { s.Free() })
		return v, strings.Join(trace, ",")
	}
	if v, got := run(); v != stack.NFAccept || got != "a,fn,b,drop,c" {
		t.Errorf("all accept: %v after %s, want ACCEPT after a,fn,b,drop,c", v, got)
	}
	drop.v = stack.NFDrop
	if v, got := run(); v != stack.NFDrop || got != "a,fn,b,drop" {
		t.Errorf("a Hooker drops: %v after %s, want DROP after a,fn,b,drop", v, got)
	}
	trace = nil
	if v := both.Call(nil, nil); v != stack.NFAccept || strings.Join(trace, ",") != "fn" {
		t.Errorf("Call: %v after %v, want ACCEPT after fn", v, trace)
	}
}

// TestNetfilterActive: a hook point is active from its first registration
// to its last unregistration, and only that point; Run on an inactive one
// goes straight to okfn.
func TestNetfilterActive(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	nf := h.Netfilter()
	active := func() (got [stack.NumNFHooks]bool) {
		for hk := range stack.NumNFHooks {
			got[hk] = nf.Active(hk)
		}
		return got
	}
	if got := active(); got != [stack.NumNFHooks]bool{} {
		t.Fatalf("active before any registration: %v", got)
	}
	fn := func(*stack.SKB, *stack.NFState) stack.Verdict { return stack.NFAccept }
	a := &stack.NFHookOps{Name: "a", Hook: stack.NFForward, Fn: fn}
	b := &stack.NFHookOps{Name: "b", Hook: stack.NFForward, Priority: 1, Fn: fn}
	for _, ops := range []*stack.NFHookOps{a, b} {
		if err := nf.Register(ops); err != nil {
			t.Fatal(err)
		}
	}
	want := [stack.NumNFHooks]bool{stack.NFForward: true}
	if got := active(); got != want {
		t.Fatalf("active with two at FORWARD: %v, want %v", got, want)
	}
	if err := nf.Unregister(a); err != nil {
		t.Fatal(err)
	}
	if got := active(); got != want {
		t.Fatalf("active with one left at FORWARD: %v, want %v", got, want)
	}
	if err := nf.Unregister(b); err != nil {
		t.Fatal(err)
	}
	if got := active(); got != [stack.NumNFHooks]bool{} {
		t.Fatalf("active after the last unregistration: %v", got)
	}
	if s := nf.Stats(stack.NFForward); s.Registered != 0 {
		t.Fatalf("registered after the last unregistration: %d", s.Registered)
	}
	ran := false
	skb := h.Pool().Alloc(64)
	if v := nf.Run(&stack.NFState{Hook: stack.NFForward}, skb, func(s *stack.SKB) { ran = true; s.Consume() }); v != stack.NFAccept || !ran {
		t.Fatalf("Run with no function: %v, okfn ran %v", v, ran)
	}
	if err := nf.Register(a); err != nil {
		t.Fatal(err)
	}
	if !nf.Active(stack.NFForward) {
		t.Fatal("FORWARD inactive after registering again")
	}
}
