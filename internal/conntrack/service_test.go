package conntrack

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/nlclient"
	ct "vnic/stack/netfilter/conntrack"
	"vnic/stack/netlink"
)

// flows makes the rig's four flows through r: TCP h1:40000 → h2:8080
// (established, 3000 bytes), UDP 5353 → 53 answered, UDP 5354 → 9
// unanswered, and a ping; then runs 100 ms more.
func (g *rig) flows() {
	g.t.Helper()
	g.tcpFlow(40000, 3000)
	g.udpFlow(5353, 53, true)
	g.udpFlow(5354, 9, false)
	g.ping()
	g.w.Run(100 * time.Millisecond)
}

func (g *rig) dial() *nlclient.Conn {
	g.t.Helper()
	c, err := nlclient.Dial(g.path)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { c.Close() })
	return c
}

// body is a request for host: nfgenmsg, the host, then attrs.
func body(host string, family uint8, attrs ...func([]byte) []byte) []byte {
	b := appendString(appendNfgenmsg(nil, family, 0), AttrHost, host)
	for _, a := range attrs {
		b = a(b)
	}
	return b
}

func withTuple(typ uint16, t ct.Tuple) func([]byte) []byte {
	return func(b []byte) []byte { return appendTuple(b, typ, t) }
}

func withBE32(typ uint16, v uint32) func([]byte) []byte {
	return func(b []byte) []byte { return appendBE32(b, typ, v) }
}

func tuple(src, dst string, sport, dport uint16, proto uint8) ct.Tuple {
	return ct.Tuple{Src: netip.MustParseAddr(src).As4(), Dst: netip.MustParseAddr(dst).As4(), SrcPort: sport, DstPort: dport, Proto: proto}
}

func inverse(t ct.Tuple) ct.Tuple { r, _ := t.Invert(); return r }

// The rig's flows' tuples.
var (
	tcpT    = tuple("198.18.5.2", "198.18.6.2", 40000, 8080, 6)
	dnsT    = tuple("198.18.5.2", "198.18.6.2", 5353, 53, 17)
	closedT = tuple("198.18.5.2", "198.18.6.2", 5354, 9, 17)
	pingT   = tuple("198.18.5.2", "198.18.6.2", 1, 8<<8, 1)
)

func entries(t *testing.T, replies [][]byte) map[ct.Tuple]Entry {
	t.Helper()
	out := map[ct.Tuple]Entry{}
	for _, m := range replies {
		e, err := ParseEntry(m)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Orig] = e
	}
	return out
}

// ask sends a CT_GET: it must fail with errno when that is set (nil
// returned), else succeed with its replies.
func ask(t *testing.T, c *nlclient.Conn, body []byte, errno syscall.Errno) [][]byte {
	t.Helper()
	replies, err := c.Request(FamilyName, MsgGet, mnl.Request, body)
	if errno != 0 {
		wantErrno(t, err, errno)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return replies
}

func wantErrno(t *testing.T, err error, errno syscall.Errno) {
	t.Helper()
	var ne *netlink.Error
	if !errors.As(err, &ne) || ne.Errno != errno {
		t.Fatalf("error %v, want %v", err, errno)
	}
}

// attrOrder lists a message's top-level attribute types in order.
func attrOrder(t *testing.T, m []byte) []uint16 {
	t.Helper()
	_, _, attrs, err := splitNfgenmsg(m)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint16
	if err := parseAttrs(attrs, func(a attr) error { out = append(out, a.typ); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDump: a dump answers each entry as ctnetlink_fill_info does — the
// attributes in the kernel's order, the values the tracker holds.
func TestDump(t *testing.T) {
	g := newRig(t)
	g.flows()
	c := g.dial()
	replies, err := c.Request(FamilyName, MsgGet, mnl.Request|mnl.Dump, body("r", AFUnspec))
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, replies)
	const confirmed = uint32(ct.StatusConfirmed)
	base := Fields(HasOrig | HasReply | HasStatus | HasMark | HasID | HasUse | HasTimeout)
	want := map[ct.Tuple]Entry{
		tcpT: {Family: AFInet, Orig: tcpT, Reply: inverse(tcpT), Fields: base | HasTCPState, Status: confirmed | ipsSeenReply | ipsAssured,
			Timeout: 5*24*3600 - 1, ID: 1, Use: 1, TCPState: ct.TCPEstablished},
		dnsT:    {Family: AFInet, Orig: dnsT, Reply: inverse(dnsT), Fields: base, Status: confirmed | ipsSeenReply, Timeout: 29, ID: 2, Use: 1},
		closedT: {Family: AFInet, Orig: closedT, Reply: inverse(closedT), Fields: base, Status: confirmed, Timeout: 29, ID: 3, Use: 1},
		pingT:   {Family: AFInet, Orig: pingT, Reply: inverse(pingT), Fields: base, Status: confirmed | ipsSeenReply, Timeout: 29, ID: 4, Use: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dump:\n got %+v\nwant %+v", got, want)
	}
	// ctnetlink_fill_info's order: tuples, status, mark, id, use,
	// timeout, protocol state.
	for _, m := range replies {
		e, _ := ParseEntry(m)
		order := []uint16{CTATupleOrig, CTATupleReply, CTAStatus, CTAMark, CTAID, CTAUse, CTATimeout}
		if e.Orig.Proto == 6 {
			order = append(order, CTAProtoinfo)
		}
		if got := attrOrder(t, m); !reflect.DeepEqual(got, order) {
			t.Errorf("%v: attributes %v, want %v", e.Orig, got, order)
		}
	}
}

// TestDumpFilter: the kernel's dump filter (family, mark under a mask,
// status under a mask) and its refusals.
func TestDumpFilter(t *testing.T) {
	g := newRig(t)
	g.flows()
	dns, _ := g.r.Lookup(dnsT, ct.DefaultZone)
	dns.SetMark(0x1234)
	c := g.dial()
	cases := []struct {
		name  string
		body  []byte
		want  []ct.Tuple
		errno syscall.Errno
	}{
		{"ipv4", body("r", AFInet), []ct.Tuple{tcpT, dnsT, closedT, pingT}, 0},
		{"ipv6", body("r", AFInet6), nil, 0},
		{"mark", body("r", AFUnspec, withBE32(CTAMark, 0x1234)), []ct.Tuple{dnsT}, 0},
		{"mark/mask", body("r", AFUnspec, withBE32(CTAMark, 0x34), withBE32(CTAMarkMask, 0xff)), []ct.Tuple{dnsT}, 0},
		{"mark 0", body("r", AFUnspec, withBE32(CTAMark, 0)), []ct.Tuple{tcpT, closedT, pingT}, 0},
		{"assured", body("r", AFUnspec, withBE32(CTAStatus, ipsAssured)), []ct.Tuple{tcpT}, 0},
		{"unreplied", body("r", AFUnspec, withBE32(CTAStatus, 0), withBE32(CTAStatusMask, ipsSeenReply)), []ct.Tuple{closedT}, 0},
		{"status mask 0", body("r", AFUnspec, withBE32(CTAStatus, 0)), nil, syscall.EINVAL},
		{"mask without mark", body("r", AFUnspec, withBE32(CTAMarkMask, 1)), nil, syscall.EINVAL},
		{"no host", body("nohost", AFUnspec), nil, syscall.ENOENT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			replies, err := c.Request(FamilyName, MsgGet, mnl.Request|mnl.Dump, tc.body)
			if tc.errno != 0 {
				wantErrno(t, err, tc.errno)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := entries(t, replies)
			if len(got) != len(tc.want) {
				t.Fatalf("%d entries, want %d", len(got), len(tc.want))
			}
			for _, w := range tc.want {
				if _, ok := got[w]; !ok {
					t.Fatalf("no entry %v", w)
				}
			}
		})
	}
}

// TestGet: an entry by either direction's tuple (use 2: the get holds a
// reference), and the kernel's errors for tuples it cannot parse or
// find.
func TestGet(t *testing.T) {
	g := newRig(t)
	g.flows()
	c := g.dial()
	icmp3 := pingT
	icmp3.DstPort = 3 << 8
	cases := []struct {
		name  string
		body  []byte
		errno syscall.Errno
	}{
		{"orig", body("r", AFInet, withTuple(CTATupleOrig, dnsT)), 0},
		{"reply", body("r", AFInet, withTuple(CTATupleReply, inverse(dnsT))), 0},
		{"reply as orig", body("r", AFInet, withTuple(CTATupleOrig, inverse(dnsT))), 0},
		{"none", body("r", AFInet, withTuple(CTATupleOrig, tuple("198.18.5.2", "198.18.6.2", 1, 2, 17))), syscall.ENOENT},
		{"ipv6", body("r", AFInet6, func(b []byte) []byte {
			b, o := nestStart(b, CTATupleOrig)
			b, ip := nestStart(b, CTATupleIP)
			b = appendAttr(b, CTAIPv6Src, make([]byte, 16))
			b = appendAttr(b, CTAIPv6Dst, make([]byte, 16))
			b = nestEnd(b, ip)
			b, p := nestStart(b, CTATupleProto)
			b = appendU8(b, CTAProtoNum, 17)
			b = appendBE16(b, CTAProtoSrcPort, 1)
			b = appendBE16(b, CTAProtoDstPort, 2)
			return nestEnd(nestEnd(b, p), o)
		}), syscall.ENOENT},
		{"no tuple", body("r", AFInet), syscall.EINVAL},
		{"unspec family", body("r", AFUnspec, withTuple(CTATupleOrig, dnsT)), syscall.EOPNOTSUPP},
		{"icmp without reply", body("r", AFInet, withTuple(CTATupleOrig, icmp3)), syscall.EINVAL},
		{"no ports", body("r", AFInet, func(b []byte) []byte {
			b, o := nestStart(b, CTATupleOrig)
			b, ip := nestStart(b, CTATupleIP)
			b = appendAttr(b, CTAIPv4Src, dnsT.Src[:])
			b = appendAttr(b, CTAIPv4Dst, dnsT.Dst[:])
			b = nestEnd(b, ip)
			b, p := nestStart(b, CTATupleProto)
			b = appendU8(b, CTAProtoNum, 17)
			return nestEnd(nestEnd(b, p), o)
		}), syscall.EINVAL},
		{"no address", body("r", AFInet, func(b []byte) []byte {
			b, o := nestStart(b, CTATupleOrig)
			b, p := nestStart(b, CTATupleProto)
			b = appendU8(b, CTAProtoNum, 17)
			return nestEnd(nestEnd(b, p), o)
		}), syscall.EINVAL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			replies := ask(t, c, tc.body, tc.errno)
			if tc.errno != 0 {
				return
			}
			got := entries(t, replies)
			e, ok := got[dnsT]
			if len(got) != 1 || !ok || e.Use != 2 || e.ID != 2 || e.Timeout != 29 {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

// TestDeleteAndFlush: a delete by tuple (its id checked), a flush under
// a mark filter, a flush of all; what each took is gone from the table.
func TestDeleteAndFlush(t *testing.T) {
	g := newRig(t)
	g.flows()
	c := g.dial()
	if _, err := c.Request(FamilyName, MsgDelete, mnl.Request|mnl.Acknowledge, body("r", AFInet, withTuple(CTATupleOrig, dnsT), withBE32(CTAID, 99))); err != nil {
		wantErrno(t, err, syscall.ENOENT)
	} else {
		t.Fatal("deleted with the wrong id")
	}
	if _, err := c.Request(FamilyName, MsgDelete, mnl.Request|mnl.Acknowledge, body("r", AFInet, withTuple(CTATupleReply, inverse(dnsT)), withBE32(CTAID, 2))); err != nil {
		t.Fatal(err)
	}
	if e, _ := g.r.Lookup(dnsT, ct.DefaultZone); e != nil || g.r.Count() != 3 {
		t.Fatalf("after the delete: entry %v, %d entries, want none and 3", e, g.r.Count())
	}
	if _, err := c.Request(FamilyName, MsgDelete, mnl.Request|mnl.Acknowledge, body("r", AFInet, withTuple(CTATupleOrig, dnsT))); err != nil {
		wantErrno(t, err, syscall.ENOENT)
	} else {
		t.Fatal("deleted twice")
	}
	ping, _ := g.r.Lookup(pingT, ct.DefaultZone)
	ping.SetMark(7)
	if _, err := c.Request(FamilyName, MsgDelete, mnl.Request|mnl.Acknowledge, body("r", AFUnspec, withBE32(CTAMark, 7))); err != nil {
		t.Fatal(err)
	}
	if e, _ := g.r.Lookup(pingT, ct.DefaultZone); e != nil || g.r.Count() != 2 {
		t.Fatalf("after the marked flush: %d entries, want 2", g.r.Count())
	}
	if _, err := c.Request(FamilyName, MsgDelete, mnl.Request|mnl.Acknowledge, body("r", AFInet)); err != nil {
		t.Fatal(err)
	}
	if n := g.r.Count(); n != 0 {
		t.Fatalf("after the flush: %d entries", n)
	}
}

// TestChange: an update sets the mark (under the mask), keeps what
// equals the entry's; what the tracker cannot set is EOPNOTSUPP, the
// kernel's refusals are its errnos.
func TestChange(t *testing.T) {
	g := newRig(t)
	g.flows()
	c := g.dial()
	closed, _ := g.r.Lookup(closedT, ct.DefaultZone)
	closed.SetMark(0xab00)
	key := func(t ct.Tuple) func([]byte) []byte { return withTuple(CTATupleOrig, t) }
	flags := func(f uint16) func([]byte) []byte {
		return func(b []byte) []byte { return appendNE16(b, AttrMsgFlags, f) }
	}
	cur := uint32(closed.Status())
	cases := []struct {
		name  string
		body  []byte
		errno syscall.Errno
		mark  uint32
	}{
		{"mark", body("r", AFInet, key(closedT), withBE32(CTAMark, 0x12)), 0, 0x12},
		{"mark/mask", body("r", AFInet, key(closedT), withBE32(CTAMark, 0x0034), withBE32(CTAMarkMask, 0x00ff)), 0, 0x34},
		{"status unchanged", body("r", AFInet, key(closedT), withBE32(CTAStatus, cur)), 0, 0x34},
		{"status set", body("r", AFInet, key(closedT), withBE32(CTAStatus, cur|ipsAssured)), syscall.EOPNOTSUPP, 0x34},
		{"status cleared", body("r", AFInet, key(tcpT), withBE32(CTAStatus, uint32(ct.StatusConfirmed))), syscall.EBUSY, 0x34},
		{"timeout", body("r", AFInet, key(closedT), withBE32(CTATimeout, 100), withBE32(CTAMark, 1)), syscall.EOPNOTSUPP, 0x34},
		{"excl", body("r", AFInet, key(closedT), flags(FlagCreate|FlagExcl)), syscall.EEXIST, 0x34},
		{"none", body("r", AFInet, key(tuple("198.18.5.2", "198.18.6.2", 1, 2, 17)), withBE32(CTAMark, 1)), syscall.ENOENT, 0x34},
		{"create", body("r", AFInet, key(tuple("198.18.5.2", "198.18.6.2", 1, 2, 17)),
			withTuple(CTATupleReply, inverse(tuple("198.18.5.2", "198.18.6.2", 1, 2, 17))), flags(FlagCreate)), syscall.EOPNOTSUPP, 0x34},
		{"create one tuple", body("r", AFInet, key(tuple("198.18.5.2", "198.18.6.2", 1, 2, 17)), flags(FlagCreate)), syscall.EINVAL, 0x34},
	}
	for _, tc := range cases {
		_, err := c.Request(FamilyName, MsgNew, mnl.Request|mnl.Acknowledge, tc.body)
		if tc.errno != 0 {
			wantErrno(t, err, tc.errno)
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m := closed.Mark(); m != tc.mark {
			t.Fatalf("%s: mark %#x, want %#x", tc.name, m, tc.mark)
		}
	}
}

// TestCountAndStats: -C's and -S's messages.
func TestCountAndStats(t *testing.T) {
	g := newRig(t)
	g.flows()
	c := g.dial()
	replies, err := c.Request(FamilyName, MsgGetStats, mnl.Request, body("r", AFUnspec))
	if err != nil || len(replies) != 1 {
		t.Fatal(replies, err)
	}
	n, max, ok, err := ParseCount(replies[0])
	if err != nil || !ok || n != 4 || max != uint32(ct.DefaultConfig.Max) {
		t.Fatalf("count %d max %d (%v %v), want 4 and %d", n, max, ok, err, ct.DefaultConfig.Max)
	}
	replies, err = c.Request(FamilyName, MsgGetStatsCPU, mnl.Request|mnl.Dump, body("r", AFUnspec))
	if err != nil || len(replies) != 1 {
		t.Fatal(replies, err)
	}
	s, err := ParseStats(replies[0])
	if err != nil {
		t.Fatal(err)
	}
	st := g.r.Stats()
	want := map[uint16]uint64{CTAStatsFound: st.Found, CTAStatsInvalid: st.Invalid, CTAStatsInsert: st.Insert,
		CTAStatsInsertFailed: st.InsertFailed, CTAStatsDrop: st.Drop, CTAStatsEarlyDrop: st.EarlyDrop,
		CTAStatsError: st.Error, CTAStatsSearchRestart: st.SearchRestart, CTAStatsClashResolve: st.ClashResolve,
		CTAStatsChainTooLong: st.ChainTooLong}
	for typ := range s.Values {
		w, in := want[uint16(typ)]
		if s.Has[typ] != in || uint64(s.Values[typ]) != w {
			t.Errorf("attribute %d: %v %d, want %v %d", typ, s.Has[typ], s.Values[typ], in, w)
		}
	}
	if s.CPU != 0 {
		t.Errorf("cpu %d", s.CPU)
	}
	for _, cmd := range []uint8{MsgGetDying, MsgGetUnconfirmed} {
		replies, err := c.Request(FamilyName, cmd, mnl.Request|mnl.Dump, body("r", AFUnspec))
		if err != nil || len(replies) != 0 {
			t.Errorf("list %d: %d messages, %v", cmd, len(replies), err)
		}
	}
	_, err = c.Request(FamilyName, MsgGetCtrZero, mnl.Request|mnl.Dump, body("r", AFUnspec))
	wantErrno(t, err, syscall.EOPNOTSUPP)
}

// TestLargeDump: a table of more entries than one batch holds comes
// whole, each once.
func TestLargeDump(t *testing.T) {
	g := newRig(t)
	u, err := udpListen(g, "h1", 6000)
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	for i := range n {
		if _, err := u.SendTo([]byte("x"), netip.AddrPortFrom(netip.MustParseAddr("198.18.6.2"), uint16(10000+i))); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			g.w.Run(time.Millisecond)
		}
	}
	g.w.Run(10 * time.Millisecond)
	if got := g.r.Count(); got != n {
		t.Fatalf("%d entries tracked, want %d", got, n)
	}
	replies, err := g.dial().Request(FamilyName, MsgGet, mnl.Request|mnl.Dump, body("r", AFUnspec))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]bool{}
	for _, m := range replies {
		e, err := ParseEntry(m)
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Orig.DstPort] = true
	}
	if len(replies) != n || len(seen) != n {
		t.Fatalf("%d messages, %d ports, want %d", len(replies), len(seen), n)
	}
	_ = fmt.Sprint
}
