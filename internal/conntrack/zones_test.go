package conntrack

import (
	"strconv"
	"strings"
	"syscall"
	"testing"

	mnl "github.com/mdlayher/netlink"

	ct "vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
)

// zoneRule is a raw OUTPUT rule of the zone comparisons: a CT target
// for one port of one protocol.
type zoneRule struct {
	proto        uint8
	sport, dport uint16
	info         ipt.CTInfo
}

// zoneRules put the loopback flows in zones: the answered UDP query in
// zone 3 both ways, the TCP connection's original direction in zone 4,
// the unanswered query's reply direction in zone 5; the ping stays in
// the default zone.
var zoneRules = []zoneRule{
	{proto: 17, sport: udpAnswered, info: ipt.CTInfo{Zone: 3}},
	{proto: 17, dport: udpAnswered, info: ipt.CTInfo{Zone: 3}},
	{proto: 6, dport: 8080, info: ipt.CTInfo{Zone: 4, Flags: ipt.CTZoneDirOrig}},
	{proto: 17, dport: 5354, info: ipt.CTInfo{Zone: 5, Flags: ipt.CTZoneDirRepl}},
}

// args is the rule as iptables' arguments.
func (z zoneRule) args() []string {
	a := []string{"-p", map[uint8]string{6: "tcp", 17: "udp"}[z.proto]}
	if z.sport != 0 {
		a = append(a, "--sport", strconv.Itoa(int(z.sport)))
	}
	if z.dport != 0 {
		a = append(a, "--dport", strconv.Itoa(int(z.dport)))
	}
	opt := "--zone"
	switch z.info.Flags & (ipt.CTZoneDirOrig | ipt.CTZoneDirRepl) {
	case ipt.CTZoneDirOrig:
		opt = "--zone-orig"
	case ipt.CTZoneDirRepl:
		opt = "--zone-reply"
	}
	return append(a, "-j", "CT", opt, strconv.Itoa(int(z.info.Zone)))
}

// zoneRules loads zoneRules into r's raw table.
func (g *rig) zoneRules() {
	g.t.Helper()
	var rules []ipt.Rule
	for _, z := range zoneRules {
		r := ipt.Rule{IP: ipt.IPMatch{Proto: uint16(z.proto)}, Target: ipt.Target{Name: "CT", Revision: 2, Info: &z.info}}
		ports := func(p uint16) [2]uint16 {
			if p == 0 {
				return [2]uint16{0, 0xffff}
			}
			return [2]uint16{p, p}
		}
		if z.proto == 6 {
			r.Matches = []ipt.Match{{Name: "tcp", Info: &ipt.TCPInfo{SrcPorts: ports(z.sport), DstPorts: ports(z.dport)}}}
		} else {
			r.Matches = []ipt.Match{{Name: "udp", Info: &ipt.UDPInfo{SrcPorts: ports(z.sport), DstPorts: ports(z.dport)}}}
		}
		rules = append(rules, r)
	}
	spec := &ipt.TableSpec{Name: "raw", Chains: []ipt.Chain{
		{Name: "PREROUTING", Policy: ipt.Accept}, {Name: "OUTPUT", Policy: ipt.Accept, Rules: rules}}}
	if _, err := ipt.Replace(g.w.Host("r").Stack, spec); err != nil {
		g.t.Fatal(err)
	}
}

// zoneFilterCases are the zone filters over the zoned loopback flows,
// the deletes last.
var zoneFilterCases = [][]string{
	{"-L", "-w", "3"}, {"-L", "-w", "4"}, {"-L", "-w", "5"}, {"-L", "-w", "0"}, {"-L", "--zone", "3", "-p", "udp"},
	{"-L", "--orig-zone", "4"}, {"-L", "--orig-zone", "3"}, {"-L", "--orig-zone", "0"},
	{"-L", "--reply-zone", "5"}, {"-L", "--reply-zone", "4"}, {"-L", "--reply-zone", "0"},
	{"-L", "-w", "0", "--orig-zone", "4"}, {"-L", "-w", "3", "--reply-zone", "0"},
	{"-L", "-p", "tcp", "--orig-zone", "4", "--state", "ESTABLISHED"},
	{"-G", "-w", "3", "-p", "udp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "40000", "--dport", "5353"},
	{"-G", "-p", "udp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "40000", "--dport", "5353"},
	{"-G", "-p", "udp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "40002", "--dport", "5354"},
	{"-G", "-p", "tcp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "40001", "--dport", "8080"},
	{"-G", "-p", "tcp", "-r", "127.0.0.1", "-q", "127.0.0.1", "--reply-port-src", "8080", "--reply-port-dst", "40001"},
	{"-U", "-w", "3", "-m", "1"}, {"-U", "-p", "udp", "--sport", "1", "-m", "5"},
	{"-D", "--orig-zone", "4"}, {"-L"}, {"-D", "--reply-zone", "5"}, {"-L"}, {"-D", "-w", "3"}, {"-L"},
}

// TestZoneDump: ctnetlink dumps a zone of both directions as CTA_ZONE,
// one of one direction as that tuple's CTA_TUPLE_ZONE, the default zone
// not at all; conntrack prints them as zone=, zone-orig= and zone-reply=
// where 1.4.7 does, and -o save as -w, --orig-zone and --reply-zone.
func TestZoneDump(t *testing.T) {
	g := newRig(t)
	g.zoneRules()
	vnicLoopbackFlows(t, g)
	cases := []struct {
		key        string // flowKey of the entry
		zone       uint16
		orig, repl uint16
		fields     Fields
		text, save string // what -L and -L -o save print of it (the timeout's word replaced by T)
	}{
		{"udp sport=40000", 3, 0, 0, HasZone, "udp 17 T src=127.0.0.1 dst=127.0.0.1 sport=40000 dport=5353 src=127.0.0.1 dst=127.0.0.1 sport=5353 dport=40000 mark=0 zone=3 use=1",
			"-A -t T -u SEEN_REPLY -w 3 -s 127.0.0.1 -d 127.0.0.1 -r 127.0.0.1 -q 127.0.0.1 -p udp --sport 40000 --dport 5353 --reply-port-src 5353 --reply-port-dst 40000"},
		{"tcp sport=40001", 0, 4, 0, HasOrigZone, "tcp 6 T ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=40001 dport=8080 zone-orig=4 src=127.0.0.1 dst=127.0.0.1 sport=8080 dport=40001 [ASSURED] mark=0 use=1",
			"-A -t T -u SEEN_REPLY,ASSURED --orig-zone 4 -s 127.0.0.1 -d 127.0.0.1 -r 127.0.0.1 -q 127.0.0.1 -p tcp --sport 40001 --dport 8080 --reply-port-src 8080 --reply-port-dst 40001 --state ESTABLISHED"},
		{"udp sport=40002", 0, 0, 5, HasReplZone, "udp 17 T src=127.0.0.1 dst=127.0.0.1 sport=40002 dport=5354 [UNREPLIED] src=127.0.0.1 dst=127.0.0.1 sport=5354 dport=40002 zone-reply=5 mark=0 use=1",
			"-A -t T -u UNSET --reply-zone 5 -s 127.0.0.1 -d 127.0.0.1 -r 127.0.0.1 -q 127.0.0.1 -p udp --sport 40002 --dport 5354 --reply-port-src 5354 --reply-port-dst 40002"},
		{"icmp type=8", 0, 0, 0, 0, "", ""},
	}
	byKey := map[string]Entry{}
	var n *ct.Net = g.r
	n.Walk(func(c *ct.Conn) bool {
		e, err := ParseEntry(appendConn(nil, c, 1))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		appendTupleText(&b, AFInet, e.Orig)
		byKey[flowKey(protoName(e.Orig.Proto)+" "+b.String())] = e
		return true
	})
	text := func(s string) string {
		f := strings.Fields(s)
		if len(f) > 2 {
			f[2] = "T"
		}
		return strings.Join(f, " ")
	}
	for _, tc := range cases {
		e, ok := byKey[tc.key]
		if !ok {
			t.Errorf("%s: no entry (have %v)", tc.key, byKey)
			continue
		}
		if got := e.Fields & (HasZone | HasOrigZone | HasReplZone); got != tc.fields || e.Zone != tc.zone || e.OrigZone != tc.orig || e.ReplZone != tc.repl {
			t.Errorf("%s: zone fields %b (%d, orig %d, reply %d), want %b (%d, %d, %d)", tc.key, got, e.Zone, e.OrigZone, e.ReplZone, tc.fields, tc.zone, tc.orig, tc.repl)
		}
		if tc.text == "" {
			continue
		}
		if got := text(formatEntry(&e, typeNone, 0)); got != tc.text {
			t.Errorf("%s:\n got %s\nwant %s", tc.key, got, tc.text)
		}
		if got := text(formatSave(&e, typeNew)); got != tc.save {
			t.Errorf("%s -o save:\n got %s\nwant %s", tc.key, got, tc.save)
		}
		// The message parses back to what it was made from.
		if b := e.Append(nil); string(b) != string(appendEntryRoundTrip(t, b)) {
			t.Errorf("%s: Append and ParseEntry do not round-trip", tc.key)
		}
	}
}

func appendEntryRoundTrip(t *testing.T, b []byte) []byte {
	t.Helper()
	e, err := ParseEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	return e.Append(nil)
}

// TestZoneRequests: a request's CTA_TUPLE_ZONE makes the zone one of its
// tuple's direction (ctnetlink_parse_tuple_zone): the entry of a zone of
// one direction is found only with it; with a CTA_ZONE already given it
// is EINVAL; a short one is ERANGE. A dump's CTA_ZONE keeps the entries
// whose zone has that id, whatever its direction.
func TestZoneRequests(t *testing.T) {
	g := newRig(t)
	g.zoneRules()
	vnicLoopbackFlows(t, g)
	c := g.dial()
	lo := "127.0.0.1"
	zTCP := tuple(lo, lo, tcpClient, 8080, 6)
	zUDP := tuple(lo, lo, udpAnswered, 5353, 17)
	zLone := tuple(lo, lo, udpUnanswered, 5354, 17)
	zoned := func(typ uint16, tu ct.Tuple, z uint16) func([]byte) []byte {
		return func(b []byte) []byte { return appendZonedTuple(b, typ, tu, z, true) }
	}
	zone := func(z uint16) func([]byte) []byte { return func(b []byte) []byte { return appendBE16(b, CTAZone, z) } }
	short := func(b []byte) []byte {
		b, n := nestStart(b, CTATupleOrig)
		b = appendAttr(b, CTATupleZone, []byte{4})
		return nestEnd(b, n)
	}
	cases := []struct {
		name  string
		body  []byte
		want  ct.Tuple // the entry's original tuple
		errno syscall.Errno
	}{
		{"zone-orig entry, its zone", body("r", AFInet, zoned(CTATupleOrig, zTCP, 4)), zTCP, 0},
		{"zone-orig entry, the default zone", body("r", AFInet, withTuple(CTATupleOrig, zTCP)), zTCP, syscall.ENOENT},
		{"zone-orig entry by its reply, the default zone", body("r", AFInet, withTuple(CTATupleReply, inverse(zTCP))), zTCP, 0},
		{"zone-orig entry, zone 4 of both directions", body("r", AFInet, withTuple(CTATupleOrig, zTCP), zone(4)), zTCP, 0},
		{"zone 3 entry, its zone", body("r", AFInet, withTuple(CTATupleOrig, zUDP), zone(3)), zUDP, 0},
		{"zone 3 entry, the original direction's zone 3", body("r", AFInet, zoned(CTATupleOrig, zUDP, 3)), zUDP, 0},
		{"zone 3 entry, the default zone", body("r", AFInet, withTuple(CTATupleOrig, zUDP)), zUDP, syscall.ENOENT},
		{"zone-reply entry by its original, the default zone", body("r", AFInet, withTuple(CTATupleOrig, zLone)), zLone, 0},
		{"zone-reply entry by its reply, its zone", body("r", AFInet, zoned(CTATupleReply, inverse(zLone), 5)), zLone, 0},
		{"zone-reply entry by its reply, the default zone", body("r", AFInet, withTuple(CTATupleReply, inverse(zLone))), zLone, syscall.ENOENT},
		{"CTA_ZONE and CTA_TUPLE_ZONE", body("r", AFInet, zoned(CTATupleOrig, zTCP, 4), zone(4)), zTCP, syscall.EINVAL},
		{"a short CTA_TUPLE_ZONE", body("r", AFInet, short), zTCP, syscall.ERANGE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			replies := ask(t, c, tc.body, tc.errno)
			if tc.errno != 0 {
				return
			}
			if got := entries(t, replies); len(got) != 1 || got[tc.want].Orig != tc.want {
				t.Fatalf("got %v, want the entry of %v", got, tc.want)
			}
		})
	}
	// The dump filter's zone is the id, whatever its direction.
	for _, tc := range []struct {
		zone uint16
		want ct.Tuple
	}{{3, zUDP}, {4, zTCP}, {5, zLone}} {
		replies, err := c.Request(FamilyName, MsgGet, mnl.Request|mnl.Dump, body("r", AFInet, zone(tc.zone)))
		if err != nil {
			t.Fatal(err)
		}
		if got := entries(t, replies); len(got) != 1 || got[tc.want].Orig != tc.want {
			t.Errorf("dump of zone %d: %v, want the entry of %v", tc.zone, got, tc.want)
		}
	}
}
