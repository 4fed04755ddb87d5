package fib

import (
	"testing"
	"time"
)

// A chain deeper than the depth drawn for a new entry loses its oldest
// entries first (fnhe_remove_oldest), so it never holds more than that
// depth plus the new one; an update keeps the entry and renews its stamp.
func TestExceptionReclaim(t *testing.T) {
	for _, c := range []struct {
		name     string
		maxDepth int
		adds     int
		wantLen  int
	}{
		{"under the depth", FNHEReclaimDepth, 4, 4},
		{"at the depth", FNHEReclaimDepth, 6, 6},
		{"past the depth", FNHEReclaimDepth, 12, 6},
		{"deepest draw", 2*FNHEReclaimDepth - 1, 30, 2 * FNHEReclaimDepth},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ca Cache
			const hash = 77
			for i := range c.adds {
				ca.UpdateException(ExceptionUpdate{Hash: hash, Daddr: [4]byte{198, 18, 9, byte(i + 1)}, PMTU: 1400,
					Expires: time.Hour, Now: time.Duration(i) * time.Second, MaxDepth: c.maxDepth})
			}
			if got := ca.ChainLen(hash); got != c.wantLen {
				t.Fatalf("chain of %d, want %d", got, c.wantLen)
			}
			// The survivors are the newest ones.
			for _, x := range ca.Exceptions() {
				if int(x.Daddr[3]) <= c.adds-c.wantLen {
					t.Fatalf("%v survived, an older one than the newest %d", x.Daddr, c.wantLen)
				}
			}
		})
	}
	// The oldest by stamp goes, not the first made: the first entry,
	// updated last, survives.
	var ca Cache
	u := func(d byte, now time.Duration) {
		ca.UpdateException(ExceptionUpdate{Hash: 5, Daddr: [4]byte{198, 18, 9, d}, PMTU: 1300, Expires: time.Hour, Now: now, MaxDepth: 2})
	}
	u(1, 0)
	u(2, 1)
	u(3, 2)
	u(1, 3) // update: renews 1's stamp
	u(4, 4) // depth 3 > 2: the oldest (2) goes
	var got []byte
	for _, x := range ca.Exceptions() {
		got = append(got, x.Daddr[3])
	}
	if len(got) != 3 || got[0] != 4 || got[1] != 3 || got[2] != 1 {
		t.Fatalf("chain %v, want [4 3 1]", got)
	}
}

// An exception lapses after its expiry (find_exception's ip_del_fnhe), and
// one made under an older generation is emptied when bound
// (rt_bind_exception after a flush).
func TestExceptionBind(t *testing.T) {
	var ca Cache
	d := [4]byte{198, 18, 9, 1}
	h := ExceptionHash(d, 1)
	if _, _, ok := ca.BindException(h, d, 0, 0); ok {
		t.Fatal("an exception before any was made")
	}
	ca.UpdateException(ExceptionUpdate{Hash: h, Daddr: d, PMTU: 1280, Expires: 600 * time.Second, Now: 0, MaxDepth: FNHEReclaimDepth})
	if x, _, ok := ca.BindException(h, d, 0, 600*time.Second); !ok || x.PMTU != 1280 || x.Expires != 600*time.Second {
		t.Fatalf("at its expiry: %+v %v", x, ok)
	}
	if x, _, ok := ca.BindException(h, d, 1, 10*time.Second); !ok || x.PMTU != 0 || x.Expires != 0 {
		t.Fatalf("new generation: %+v %v, want emptied", x, ok)
	}
	ca.UpdateException(ExceptionUpdate{Hash: h, Daddr: d, PMTU: 1280, Lock: true, Expires: 600 * time.Second, Genid: 1, MaxDepth: FNHEReclaimDepth})
	if x, _, ok := ca.BindException(h, d, 1, 600*time.Second+1); ok {
		t.Fatalf("past its expiry: %+v", x)
	}
	if n := len(ca.Exceptions()); n != 0 {
		t.Fatalf("%d left after expiry", n)
	}
}

// Every hash lands in the table.
func TestExceptionHashRange(t *testing.T) {
	seen := map[uint32]bool{}
	for i := range 4096 {
		h := ExceptionHash([4]byte{198, 18, byte(i >> 8), byte(i)}, 42)
		if h >= FNHEHashSize {
			t.Fatalf("hash %d", h)
		}
		seen[h] = true
	}
	if len(seen) < FNHEHashSize/2 {
		t.Fatalf("4096 addresses in %d chains", len(seen))
	}
}
