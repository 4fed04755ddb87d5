package conntrack

import (
	"testing"
	"time"

	"vnic/stack"
)

// extLog records what the tracker tells an extension.
type extLog struct{ confirmed, destroyed int }

func (e *extLog) Confirmed(*Conn) { e.confirmed++ }
func (e *extLog) Destroyed(*Conn) { e.destroyed++ }

// TestExtension: an extension set before confirmation hears it once, and
// the entry's going once (deleted or expired); one set on a confirmed
// connection is refused; a connection never confirmed tells it nothing.
func TestExtension(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(r *rig, ct *Conn)
	}{
		{"deleted", func(r *rig, ct *Conn) { r.n.Delete(ct) }},
		{"expired", func(r *rig, ct *Conn) { r.advance(31 * time.Second); r.n.Lookup(ct.Tuple(Original), DefaultZone) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			skb := r.skb(udpBytes(addrA, addrB, 1000, 53, 4))
			if v := r.n.conntrackIn(skb, &stack.NFState{Hook: stack.NFPreRouting}); v != stack.NFAccept {
				t.Fatal(v)
			}
			ct, _ := Get(skb)
			var e extLog
			if !ct.SetExtension(&e) || ct.Extension() != &e {
				t.Fatal("extension refused before confirmation")
			}
			r.n.confirmHook(skb, &stack.NFState{Hook: stack.NFLocalIn})
			skb.Consume()
			if e != (extLog{confirmed: 1}) {
				t.Fatalf("after confirmation %+v", e)
			}
			if ct.SetExtension(&extLog{}) || ct.Extension() != &e {
				t.Fatal("extension replaced on a confirmed connection")
			}
			tc.end(r, ct)
			r.n.Delete(ct)
			if e != (extLog{confirmed: 1, destroyed: 1}) {
				t.Fatalf("after the end %+v", e)
			}
		})
	}
	r := newRig(t)
	skb := r.skb(udpBytes(addrA, addrB, 1001, 53, 4))
	r.n.conntrackIn(skb, &stack.NFState{Hook: stack.NFPreRouting})
	ct, _ := Get(skb)
	var e extLog
	ct.SetExtension(&e)
	skb.Free() // dropped before confirmation
	r.n.Delete(ct)
	if e != (extLog{}) {
		t.Fatalf("unconfirmed: %+v", e)
	}
}

// TestAlterReply: an unconfirmed connection's reply tuple can be changed
// (and replies then find it); a confirmed one's cannot.
func TestAlterReply(t *testing.T) {
	r := newRig(t)
	skb := r.skb(udpBytes(addrA, addrB, 1000, 53, 4))
	r.n.conntrackIn(skb, &stack.NFState{Hook: stack.NFPreRouting})
	ct, _ := Get(skb)
	nat := Tuple{Src: addrB, Dst: addrR, SrcPort: 53, DstPort: 2000, Proto: 17}
	if !ct.AlterReply(nat) {
		t.Fatal("refused")
	}
	ct.SetStatus(StatusSrcNAT | StatusSrcNATDone)
	r.n.confirmHook(skb, &stack.NFState{Hook: stack.NFPostRouting})
	skb.Consume()
	if got, dir := r.n.Lookup(nat, DefaultZone); got != ct || dir != Reply {
		t.Fatalf("reply lookup %v %v", got, dir)
	}
	if orig, _ := ct.Tuple(Original).Invert(); func() bool { c, _ := r.n.Lookup(orig, DefaultZone); return c != nil }() {
		t.Fatal("the unaltered reply tuple still finds it")
	}
	if ct.AlterReply(Tuple{}) || ct.Tuple(Reply) != nat {
		t.Fatal("altered after confirmation")
	}
	if ct.Status()&(StatusSrcNAT|StatusSrcNATDone) != StatusSrcNAT|StatusSrcNATDone {
		t.Fatalf("status %#x", ct.Status())
	}
	// A reply to the NAT address is ESTABLISHED_REPLY of it.
	if res := r.in(udpBytes(addrB, addrR, 53, 2000, 4)); res.ct != ct || res.info != EstablishedReply {
		t.Fatalf("reply %+v", res)
	}
}

// TestTupleTaken: a tuple is taken when another entry has it either way;
// the asking connection itself, an entry of the same flow and expired
// entries do not count.
func TestTupleTaken(t *testing.T) {
	r := newRig(t)
	held := r.in(udpBytes(addrA, addrB, 1000, 53, 4)).ct
	skb := r.skb(udpBytes(addrA, addrR, 1000, 53, 4))
	r.n.conntrackIn(skb, &stack.NFState{Hook: stack.NFPreRouting})
	asker, _ := Get(skb)
	defer skb.Consume()
	orig, reply := held.Tuple(Original), held.Tuple(Reply)
	for _, tc := range []struct {
		name    string
		t       Tuple
		ignored *Conn
		want    bool
	}{
		{"original tuple", orig, asker, true},
		{"reply tuple", reply, asker, true},
		{"another port", Tuple{Src: addrA, Dst: addrB, SrcPort: 1001, DstPort: 53, Proto: 17}, asker, false},
		{"the asker's own", orig, held, false},
	} {
		if got := r.n.TupleTaken(tc.t, tc.ignored); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// A second connection of held's own flow (the same original tuple)
	// is left to clash resolution.
	twin := &Conn{tuple: held.tuple, net: r.n}
	if r.n.TupleTaken(reply, twin) {
		t.Error("the same flow counted as taken")
	}
	r.advance(31 * time.Second)
	if r.n.TupleTaken(orig, asker) {
		t.Error("an expired entry counted")
	}
	if r.n.Count() != 0 {
		t.Errorf("the expired entry was not collected: %d", r.n.Count())
	}
}

// TestTCPEnd is the tracker's td_end by direction.
func TestTCPEnd(t *testing.T) {
	r := newRig(t)
	res := r.in(seg{src: addrA, dst: addrB, sport: 40000, dport: 80, flags: syn, seq: 1000, win: 65535}.bytes())
	r.in(seg{src: addrB, dst: addrA, sport: 80, dport: 40000, flags: syn | ack, seq: 7000, ack: 1001, win: 65535}.bytes())
	if got := res.ct.TCPEnd(Original); got != 1001 {
		t.Errorf("original end %d, want 1001", got)
	}
	if got := res.ct.TCPEnd(Reply); got != 7001 {
		t.Errorf("reply end %d, want 7001", got)
	}
	if u := r.in(udpBytes(addrA, addrB, 1, 2, 0)).ct; u.TCPEnd(Original) != 0 {
		t.Error("a UDP connection has a TCP end")
	}
}
