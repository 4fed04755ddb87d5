package conntrack

import (
	"testing"
	"time"

	"vnic/header"
	"vnic/stack"
)

// passWith is pass with a template on the packet (nil: none) and the
// packet's mark, as the raw table's CT target leaves them.
func (r *rig) passWith(pkt []byte, tmpl *Conn, mark uint32, first, last stack.NFHook) result {
	skb := r.skb(pkt)
	skb.Mark = mark
	if tmpl != nil {
		SetTemplate(skb, tmpl)
	}
	v := r.n.conntrackIn(skb, &stack.NFState{Hook: first})
	if v == stack.NFAccept {
		v = r.n.confirmHook(skb, &stack.NFState{Hook: last})
	}
	ct, info := Get(skb)
	skb.Consume()
	return result{ct, info, v}
}

// TestZones: packets of one tuple with the templates of different zones
// are different connections; a zone of one direction keys that
// direction's tuple only, the other being the default zone's.
func TestZones(t *testing.T) {
	orig := udpBytes(addrA, addrB, 1000, 53, 4)
	reply := udpBytes(addrB, addrA, 53, 1000, 4)
	type step struct {
		pkt  []byte
		zone *Zone // the template's (nil: no template)
		mark uint32
		conn int  // which connection (1-based, in order of creation) the packet must be in
		info Info // and how
	}
	// lookup is a Lookup after the steps: the connection (0: none) and
	// direction it must find.
	type lookup struct {
		t    Tuple
		zone Zone
		conn int
		dir  Dir
	}
	ot := Tuple{Src: addrA, Dst: addrB, SrcPort: 1000, DstPort: 53, Proto: 17}
	rt, _ := ot.Invert()
	z := func(id uint16, dir ZoneDir, f ZoneFlags) *Zone { return &Zone{ID: id, Dir: dir, Flags: f} }
	cases := []struct {
		name    string
		steps   []step
		zones   []Zone // the zones of the connections made, in order
		lookups []lookup
	}{
		{"two zones, two connections", []step{
			{orig, z(1, ZoneDirBoth, 0), 0, 1, New},
			{orig, z(2, ZoneDirBoth, 0), 0, 2, New},
			{orig, z(1, ZoneDirBoth, 0), 0, 1, New},
			{orig, nil, 0, 3, New},
		}, []Zone{{ID: 1}, {ID: 2}, {}}, []lookup{{ot, Zone{ID: 3}, 0, 0}, {rt, Zone{ID: 2}, 2, Reply}}},
		{"a zone of both directions: the reply needs it too", []step{
			{orig, z(1, ZoneDirBoth, 0), 0, 1, New},
			{reply, nil, 0, 2, New},
			{reply, z(1, ZoneDirBoth, 0), 0, 1, EstablishedReply},
			{orig, z(1, ZoneDirBoth, 0), 0, 1, Established},
		}, []Zone{{ID: 1}, {}}, nil},
		{"a zone of the original direction: the reply in the default zone finds it", []step{
			{orig, z(3, ZoneDirOrig, 0), 0, 1, New},
			{reply, nil, 0, 1, EstablishedReply},
			{orig, z(3, ZoneDirOrig, 0), 0, 1, Established},
		}, []Zone{{ID: 3, Dir: ZoneDirOrig}}, []lookup{
			{ot, DefaultZone, 0, 0}, {ot, Zone{ID: 3}, 1, Original}, {ot, Zone{ID: 3, Dir: ZoneDirOrig}, 1, Original},
			{rt, DefaultZone, 1, Reply}, {rt, Zone{ID: 3, Dir: ZoneDirOrig}, 1, Reply}, {rt, Zone{ID: 3}, 0, 0},
		}},
		{"a zone of the reply direction: the original in the default zone finds it", []step{
			{orig, z(4, ZoneDirRepl, 0), 0, 1, New},
			{orig, nil, 0, 1, New},
			{reply, z(4, ZoneDirRepl, 0), 0, 1, EstablishedReply},
		}, []Zone{{ID: 4, Dir: ZoneDirRepl}}, []lookup{
			{ot, DefaultZone, 1, Original}, {rt, DefaultZone, 0, 0}, {rt, Zone{ID: 4}, 1, Reply}, {rt, Zone{ID: 4, Dir: ZoneDirRepl}, 1, Reply},
		}},
		{"the zone from the mark, its low 16 bits", []step{
			{orig, z(0, ZoneDirBoth, ZoneFromMark), 1, 1, New},
			{orig, z(0, ZoneDirBoth, ZoneFromMark), 2, 2, New},
			{orig, z(0, ZoneDirBoth, ZoneFromMark), 0x10001, 1, New},
			{orig, z(9, ZoneDirBoth, 0), 0x10001, 3, New},
		}, []Zone{{ID: 1}, {ID: 2}, {ID: 9}}, nil},
		{"the zone from the mark, one direction", []step{
			{orig, z(0, ZoneDirOrig, ZoneFromMark), 7, 1, New},
			{reply, nil, 7, 1, EstablishedReply},
		}, []Zone{{ID: 7, Dir: ZoneDirOrig}}, nil},
		{"a template without a zone is the default zone", []step{
			{orig, z(0, ZoneDirBoth, 0), 0, 1, New},
			{reply, nil, 0, 1, EstablishedReply},
		}, []Zone{{}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var conns []*Conn
			for i, s := range tc.steps {
				var tmpl *Conn
				if s.zone != nil {
					tmpl = r.n.NewTemplate(*s.zone, 0, 0)
				}
				res := r.passWith(s.pkt, tmpl, s.mark, stack.NFPreRouting, stack.NFLocalIn)
				if res.verdict != stack.NFAccept || res.ct == nil {
					t.Fatalf("step %d: verdict %v, ct %v", i, res.verdict, res.ct)
				}
				if res.ct.IsTemplate() {
					t.Fatalf("step %d: the skb still carries the template", i)
				}
				k := -1
				for j, c := range conns {
					if c == res.ct {
						k = j
					}
				}
				if k < 0 {
					conns = append(conns, res.ct)
					k = len(conns) - 1
				}
				if k+1 != s.conn || res.info != s.info {
					t.Fatalf("step %d: connection %d info %d, want %d info %d", i, k+1, res.info, s.conn, s.info)
				}
			}
			if len(conns) != len(tc.zones) || r.n.Count() != len(tc.zones) {
				t.Fatalf("%d connections (%d in the table), want %d", len(conns), r.n.Count(), len(tc.zones))
			}
			for i, c := range conns {
				if c.Zone() != tc.zones[i] {
					t.Errorf("connection %d: zone %+v, want %+v", i+1, c.Zone(), tc.zones[i])
				}
				// Lookup finds each by either tuple in its own zone.
				for _, d := range []Dir{Original, Reply} {
					if got, gd := r.n.Lookup(c.Tuple(d), c.Zone()); got != c || gd != d {
						t.Errorf("connection %d: Lookup of its %d tuple in its zone: %p dir %d", i+1, d, got, gd)
					}
				}
			}
			for _, l := range tc.lookups {
				got, d := r.n.Lookup(l.t, l.zone)
				var want *Conn
				if l.conn > 0 {
					want = conns[l.conn-1]
				}
				if got != want || (want != nil && d != l.dir) {
					t.Errorf("Lookup(%v, %+v): %p dir %d, want connection %d dir %d", l.t, l.zone, got, d, l.conn, l.dir)
				}
			}
		})
	}
}

// TestZoneICMPError: an ICMP error is related to the connection of the
// quoted packet in the error's own zone only.
func TestZoneICMPError(t *testing.T) {
	r := newRig(t)
	dgram := udpBytes(addrB, addrA, 4000, 9, 8)
	tmpl := r.n.NewTemplate(Zone{ID: 5}, 0, 0)
	res := r.passWith(dgram, tmpl, 0, stack.NFLocalOut, stack.NFPostRouting)
	if res.info != New || res.ct.Zone().ID != 5 {
		t.Fatalf("datagram: %+v", res)
	}
	errMsg := icmpBytes(addrR, addrB, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, 0, dgram[:28])
	if got := r.passWith(errMsg, nil, 0, stack.NFPreRouting, stack.NFLocalIn); got.ct != nil {
		t.Fatalf("error in the default zone: related to %p", got.ct)
	}
	got := r.passWith(errMsg, tmpl, 0, stack.NFPreRouting, stack.NFLocalIn)
	if got.ct != res.ct || got.info != RelatedReply {
		t.Fatalf("error in zone 5: ct %p info %d, want %p RELATED_REPLY", got.ct, got.info, res.ct)
	}
}

// TestZoneTupleTaken: a reply tuple is taken only in the zone (of the
// reply direction) of the connection asking.
func TestZoneTupleTaken(t *testing.T) {
	r := newRig(t)
	pkt := udpBytes(addrA, addrB, 1000, 53, 0)
	held := r.passWith(pkt, r.n.NewTemplate(Zone{ID: 1}, 0, 0), 0, stack.NFPreRouting, stack.NFLocalIn).ct
	reply := held.Tuple(Reply)
	other := udpBytes(addrR, addrB, 1000, 53, 0)
	cases := []struct {
		zone  Zone
		taken bool
	}{
		{Zone{ID: 1}, true},
		{Zone{ID: 2}, false},
		{DefaultZone, false},
		{Zone{ID: 1, Dir: ZoneDirOrig}, false}, // its reply direction is the default zone
		{Zone{ID: 1, Dir: ZoneDirRepl}, true},
	}
	for _, tc := range cases {
		skb := r.skb(other)
		SetTemplate(skb, r.n.NewTemplate(tc.zone, 0, 0))
		r.n.conntrackIn(skb, &stack.NFState{Hook: stack.NFPreRouting})
		asking, _ := Get(skb)
		if got := r.n.TupleTaken(reply, asking); got != tc.taken {
			t.Errorf("zone %+v: taken %v, want %v", tc.zone, got, tc.taken)
		}
		skb.Consume()
	}
}

// TestTemplateLeftAlone: a packet already tracked (looped back) or
// untracked keeps what it has; SetTemplate does not replace it.
func TestTemplateLeftAlone(t *testing.T) {
	r := newRig(t)
	tmpl := r.n.NewTemplate(Zone{ID: 3}, 0, 0)
	skb := r.skb(udpBytes(addrA, addrB, 1, 2, 0))
	defer skb.Consume()
	SetUntracked(skb)
	SetTemplate(skb, tmpl)
	if !IsUntracked(skb) {
		t.Fatal("an untracked packet took a template")
	}
	skb.SetNFCT(nil, 0)
	SetTemplate(skb, tmpl)
	if ct, info := Get(skb); ct != tmpl || info != New {
		t.Fatalf("template not attached: %p %d", ct, info)
	}
	r.n.conntrackIn(skb, &stack.NFState{Hook: stack.NFPreRouting})
	ct, _ := Get(skb)
	SetTemplate(skb, tmpl)
	if got, _ := Get(skb); got != ct || ct.Zone().ID != 3 {
		t.Fatalf("a tracked packet's connection was replaced: %p, had %p", got, ct)
	}
}

// TestTemplateEvents: a template's masks decide what its connections
// report, whatever nf_conntrack_events says; without one, the sysctl at
// the connection's creation does.
func TestTemplateEvents(t *testing.T) {
	cases := []struct {
		name          string
		ctmask, expm  EventMask
		noTemplate    bool
		sysctl, after int // nf_conntrack_events at creation, and after it
		want          []EventMask
	}{
		{"no template", 0, 0, true, 2, 2, []EventMask{1 << EventNew, 1 << EventReply, 1 << EventDestroy}},
		{"a template without masks", 0, 0, false, 2, 2, []EventMask{1 << EventNew, 1 << EventReply, 1 << EventDestroy}},
		{"no template, events off", 0, 0, true, 0, 2, nil},
		{"no template, events turned off after", 0, 0, true, 1, 0, []EventMask{1 << EventNew, 1 << EventReply, 1 << EventDestroy}},
		{"destroy only", 1 << EventDestroy, 0, false, 2, 2, []EventMask{1 << EventDestroy}},
		{"new and destroy with events off", 1<<EventNew | 1<<EventDestroy, 0, false, 0, 0, []EventMask{1 << EventNew, 1 << EventDestroy}},
		{"reply only", 1 << EventReply, 0, false, 2, 2, []EventMask{1 << EventReply}},
		{"expectation events only: no connection events", 0, 1 << ExpEventNew, false, 2, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			cfg := r.n.Config()
			cfg.Events = tc.sysctl
			r.n.SetConfig(cfg)
			var got []EventMask
			cancel := r.n.Subscribe(func(e Event) { got = append(got, e.Events) })
			defer cancel()
			var tmpl *Conn
			if !tc.noTemplate {
				tmpl = r.n.NewTemplate(DefaultZone, tc.ctmask, tc.expm)
			}
			ct := r.passWith(udpBytes(addrA, addrB, 1000, 53, 0), tmpl, 0, stack.NFPreRouting, stack.NFLocalIn).ct
			cfg.Events = tc.after
			r.n.SetConfig(cfg)
			r.passWith(udpBytes(addrB, addrA, 53, 1000, 0), nil, 0, stack.NFPreRouting, stack.NFLocalIn)
			r.n.Delete(ct)
			sameEvents(t, got, tc.want)
		})
	}
}

// sameEvents fails t unless got is want, in order.
func sameEvents(t *testing.T, got, want []EventMask) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("events %b, want %b", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event %d: %b, want %b", i, got[i], want[i])
		}
	}
}

// ftpData is the expectation of a data connection A → B:2000 for
// master, the SYN that meets it, and the master's first segment.
var (
	ftpControl = seg{src: addrA, dst: addrB, sport: 40000, dport: 21, flags: syn, seq: 1, win: 100}
	ftpData    = seg{src: addrA, dst: addrB, sport: 33333, dport: 2000, flags: syn, seq: 1, win: 100}
)

func ftpExpect(master *Conn) *Expect {
	return &Expect{Tuple: Tuple{Src: addrA, Dst: addrB, DstPort: 2000, Proto: 6},
		Mask: Tuple{Src: [4]byte{255, 255, 255, 255}, Dst: [4]byte{255, 255, 255, 255}, DstPort: 0xffff, Proto: 0xff}, Master: master}
}

// TestExpectEvents: an expectation's NEW and DESTROY go to the
// expectation subscribers when its master's expmask has them.
func TestExpectEvents(t *testing.T) {
	cases := []struct {
		name       string
		tmpl       bool
		ctm, expm  EventMask
		wantEvents []EventMask
	}{
		{"no template", false, 0, 0, []EventMask{1 << ExpEventNew, 1 << ExpEventDestroy}},
		{"expevents new", true, 0, 1 << ExpEventNew, []EventMask{1 << ExpEventNew}},
		{"ctevents only", true, 1 << EventNew, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var got []EventMask
			cancel := r.n.SubscribeExpect(func(e ExpectEvent) { got = append(got, e.Events) })
			defer cancel()
			var tmpl *Conn
			if tc.tmpl {
				tmpl = r.n.NewTemplate(DefaultZone, tc.ctm, tc.expm)
			}
			master := r.passWith(ftpControl.bytes(), tmpl, 0, stack.NFPreRouting, stack.NFLocalIn).ct
			if err := r.n.Expect(ftpExpect(master), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if res := r.in(ftpData.bytes()); res.info != Related {
				t.Fatalf("expected connection: info %d", res.info)
			}
			sameEvents(t, got, tc.wantEvents)
		})
	}
}

// TestExpectationZone: an expectation is met only by a connection of its
// master's zone (the ids: nf_ct_zone_equal_any).
func TestExpectationZone(t *testing.T) {
	for _, tc := range []struct {
		name    string
		zone    *Zone
		related bool
	}{{"the master's zone", &Zone{ID: 4}, true}, {"its id in one direction", &Zone{ID: 4, Dir: ZoneDirRepl}, true},
		{"the default zone", nil, false}, {"another zone", &Zone{ID: 5}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			master := r.passWith(ftpControl.bytes(), r.n.NewTemplate(Zone{ID: 4}, 0, 0), 0, stack.NFPreRouting, stack.NFLocalIn).ct
			if err := r.n.Expect(ftpExpect(master), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			var tmpl *Conn
			if tc.zone != nil {
				tmpl = r.n.NewTemplate(*tc.zone, 0, 0)
			}
			res := r.passWith(ftpData.bytes(), tmpl, 0, stack.NFPreRouting, stack.NFLocalIn)
			if got := res.info == Related; got != tc.related {
				t.Fatalf("info %d, related %v, want %v", res.info, got, tc.related)
			}
		})
	}
}
