package iptables

import (
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"

	ipt "vnic/stack/netfilter/iptables"
)

var fuzzRules = []string{
	"-A INPUT -s 198.18.0.0/15 ! -i eth+ -p tcp --dport 22 -m comment --comment \"a b\" -j ACCEPT",
	"-I FORWARD 2 -p udp -m multiport ! --sports 53,1024:65535 -j DROP",
	"-A OUTPUT -m owner --uid-owner 0 -m conntrack --ctstate NEW -j LOG --log-prefix x",
	"-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/85",
	"-t mangle -A FORWARD -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu",
	"-A INPUT -m hashlimit --hashlimit-upto 5/sec --hashlimit-name x -m string --hex-string |00|a --algo bm",
	"-A INPUT -p icmp --icmp-type echo-request -m limit --limit 3/min -j REJECT --reject-with icmp-host-prohibited",
	"-A INPUT -m recent --rcheck --seconds 60 -m statistic --mode nth --every 3 --packet 1 -j MARK --set-mark 5",
}

// FuzzParseArgs: the command line never panics, and a rule it takes
// prints (-S) to a line that parses to the same rule.
func FuzzParseArgs(f *testing.F) {
	for _, r := range fuzzRules {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p := &prog{name: "iptables", line: -1, out: io.Discard, errOut: io.Discard}
		words, err := p.splitParams(line)
		if err != nil || len(words) > 64 {
			return
		}
		c, err := p.parseArgs(append([]string{"iptables"}, words...), false, "filter")
		if err != nil || c.help || c.version || c.cmd != cmdAppend || len(c.saddrs) != 1 || len(c.daddrs) != 1 ||
			strings.ContainsAny(c.chain, " \t\n\"'") {
			return // a chain with blanks cannot exist (-N refuses it)
		}
		r, _ := c.makeRule(nil)
		r.IP.Src, r.IP.SrcMask, r.IP.Dst, r.IP.DstMask = c.saddrs[0], c.smasks[0], c.daddrs[0], c.dmasks[0]
		var w strings.Builder
		printRule4(&w, &r, c.chain, 0, nil)
		again, err := p.splitParams(w.String())
		if err != nil {
			t.Fatalf("%q printed %q, which does not split: %v", line, w.String(), err)
		}
		c2, err := p.parseArgs(append([]string{"iptables", "-t", c.table}, again...), false, "filter")
		if err != nil {
			t.Fatalf("%q printed %q, which does not parse: %v", line, w.String(), err)
		}
		r2, _ := c2.makeRule(nil)
		r2.IP.Src, r2.IP.SrcMask, r2.IP.Dst, r2.IP.DstMask = c2.saddrs[0], c2.smasks[0], c2.daddrs[0], c2.dmasks[0]
		var w2 strings.Builder
		printRule4(&w2, &r2, c2.chain, 0, nil)
		if w2.String() != w.String() {
			t.Fatalf("%q: printed %q, then %q", line, w.String(), w2.String())
		}
	})
}

// FuzzRestore: iptables-restore never panics on any input and exits with
// one of its statuses; what a successful restore leaves, saved and
// restored again, saves the same.
func FuzzRestore(f *testing.F) {
	f.Add("*filter\n:INPUT DROP [1:2]\n-A INPUT -p tcp --dport 99 -j ACCEPT\nCOMMIT\n")
	f.Add("*filter\n:X - [0:0]\n[3:4] -A X -j RETURN\n-A INPUT -j X\nCOMMIT\n*raw\n-A PREROUTING -j CT --notrack\nCOMMIT\n")
	f.Add("*filter\n-A INPUT -m comment --comment \"e\\\"f\" -j ACCEPT\nCOMMIT\n")
	f.Add("*mangle\n-A INPUT -j TTL --ttl-set 5\nCOMMIT\n# done\n")
	for _, r := range fuzzRules {
		f.Add("*filter\n" + r + "\nCOMMIT\n")
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 4096 {
			return
		}
		r := newRunner(t)
		_, _, code := r.run("iptables-restore", "-c", in)
		switch code {
		case 0:
		case 1, 2, 4:
			return
		default:
			t.Fatalf("exit %d", code)
		}
		saved := r.must("iptables-save", "-c", "")
		r2 := newRunner(t)
		if _, errs, code := r2.run("iptables-restore", "-c", saved); code != 0 {
			t.Fatalf("what was saved does not restore: %d %s\n%s", code, errs, saved)
		}
		if again := r2.must("iptables-save", "-c", ""); tableSections(again) != tableSections(saved) {
			t.Fatalf("saved twice differently:\n%s\n---\n%s", saved, again)
		}
	})
}

// FuzzDecodeTable: a blob never panics the decoder, and one it takes
// encodes back to a blob that decodes to the same table.
func FuzzDecodeTable(f *testing.F) {
	r := newRunner(f)
	for _, rule := range fuzzRules {
		if !strings.Contains(rule, "-t ") {
			r.run("iptables", rule, "")
		}
	}
	spec, _ := ipt.Get(r.h, "filter")
	blob, _ := EncodeTable(spec)
	f.Add(blob)
	f.Add(blob[:len(blob)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, err := DecodeTable(b)
		if err != nil {
			return
		}
		again, err := EncodeTable(spec)
		if err != nil {
			t.Fatalf("a decoded table does not encode: %v", err)
		}
		back, err := DecodeTable(again)
		if err != nil || !reflect.DeepEqual(back, spec) {
			t.Fatalf("re-encoded table differs: %v", err)
		}
	})
}

// FuzzIPSetRequest: the host's side of ipset never panics on a request.
func FuzzIPSetRequest(f *testing.F) {
	f.Add((&setRequest{op: setOpCreate, name: "s", create: ipt.SetCreate{Type: ipt.SetHashNet, Timeout: 5}}).encode())
	f.Add((&setRequest{op: setOpAdd, name: "s", entry: ipt.SetEntry{Addr: [4]byte{198, 18, 0, 0}, CIDR: 16}}).encode())
	f.Add((&setRequest{op: setOpList}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		h := newTestHost(t)
		ipt.IPSetCreate(h, ipt.SetCreate{Name: "s", Type: ipt.SetHashIP}, false)
		resp, err := ipsetServe(h, b)
		if err == nil && len(resp) == 0 {
			t.Fatal("an empty answer")
		}
	})
}

// tableSections is a save's tables sorted (a restore makes them in the
// order given, which the next save reverses).
func tableSections(save string) string {
	secs := strings.SplitAfter(save, "# Completed on Fri Jan  2 03:04:05 2026\n")
	sort.Strings(secs)
	return strings.Join(secs, "")
}
