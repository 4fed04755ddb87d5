package iptables

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/nlclient"
	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/netlink"
)

// TestCodecRoundTrip: a table of every kind of rule the CLI makes goes
// through the entries blob and comes back equal; every cut of the blob
// is refused.
func TestCodecRoundTrip(t *testing.T) {
	r := newRunner(t)
	for _, rule := range []string{
		"-A INPUT -s 198.18.0.0/15 ! -i eth+ -p tcp --dport 22 -m comment --comment hi -j ACCEPT",
		"-A INPUT -p udp -m multiport --dports 53,123 -m limit --limit 5/sec -j LOG --log-prefix x",
		"-A INPUT -m conntrack --ctstate NEW,ESTABLISHED -m mark --mark 0x5/0xff -j MARK --set-mark 7",
		"-A INPUT -f -g c1", "-A c1 -j RETURN", "-A INPUT -c 5 6",
	} {
		if strings.HasPrefix(rule, "-A c1") || strings.Contains(rule, "-g c1") {
			r.run("iptables", "-N c1", "")
		}
		r.must("iptables", rule, "")
	}
	spec, err := ipt.Get(r.h, "filter")
	if err != nil {
		t.Fatal(err)
	}
	blob, err := EncodeTable(spec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeTable(blob)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, spec) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, spec)
	}
	for n := 0; n < len(blob); n++ {
		if _, err := DecodeTable(blob[:n]); err == nil {
			t.Fatalf("a blob cut to %d of %d bytes decoded", n, len(blob))
		}
	}
	if _, err := DecodeTable(append(blob, 0)); err == nil {
		t.Error("a blob with a byte too many decoded")
	}
}

// TestCodecUnknownExtension: an extension the engine does not have is
// ENOENT, an info of the wrong size EINVAL.
func TestCodecUnknownExtension(t *testing.T) {
	spec := &ipt.TableSpec{Name: "filter", Chains: []ipt.Chain{{Name: "INPUT", Policy: ipt.Accept,
		Rules: []ipt.Rule{{Matches: []ipt.Match{{Name: "tcp", Info: &ipt.TCPInfo{}}}, Target: ipt.Target{Verdict: ipt.Accept}}}}}}
	blob, err := EncodeTable(spec)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(blob), "\x03tcp", "\x03xyz", 1)
	if _, err := DecodeTable([]byte(bad)); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("unknown match: %v", err)
	}
	spec.Chains[0].Rules[0].Matches[0] = ipt.Match{Name: "udp", Info: &ipt.TCPInfo{}}
	blob, _ = EncodeTable(spec)
	if _, err := DecodeTable(blob); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("info of the wrong size: %v", err)
	}
}

// TestServiceLargeTable: a table larger than a control socket packet is
// read in pieces and replaced in pieces, over a real socket.
func TestServiceLargeTable(t *testing.T) {
	h := newTestHost(t)
	svc := &Service{Host: func(n string) *stack.Host {
		if n == "h" {
			return h
		}
		return nil
	}}
	sock := filepath.Join(t.TempDir(), "s")
	srv, err := netlink.Listen(sock, svc.Family())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var in strings.Builder
	in.WriteString("*filter\n")
	const rules = 3000
	for i := 0; i < rules; i++ {
		fmt.Fprintf(&in, "-A INPUT -s 198.18.%d.%d -p tcp --dport %d -m comment --comment rule%d -j ACCEPT\n", i/250, i%250, 1+i, i)
	}
	in.WriteString("COMMIT\n")
	var out, errb strings.Builder
	o := Options{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(in.String()), Socket: sock, Host: "h"}
	if code := Main("iptables-restore", nil, o); code != 0 {
		t.Fatalf("restore: %d %s", code, errb.String())
	}
	spec, _ := ipt.Get(h, "filter")
	if n := len(spec.Chains[0].Rules); n != rules {
		t.Fatalf("%d rules on the host, want %d", n, rules)
	}
	if blob, _ := EncodeTable(spec); len(blob) < 4*chunkSize {
		t.Fatalf("the table is %d bytes: not enough pieces to test", len(blob))
	}
	out.Reset()
	o.Stdin = nil
	if code := Main("iptables", []string{"-S", "INPUT"}, o); code != 0 {
		t.Fatalf("-S: %d %s", code, errb.String())
	}
	if got := strings.Count(out.String(), "\n"); got != rules+1 {
		t.Errorf("-S printed %d lines, want %d", got, rules+1)
	}
	// Another host name is refused by the service.
	var e2 strings.Builder
	if code := Main("iptables", []string{"-L"}, Options{Stdout: &out, Stderr: &e2, Socket: sock, Host: "nosuch"}); code != versionProblem ||
		e2.String() != "iptables v1.8.9 (legacy): can't initialize iptables table `filter': no host \"nosuch\" in the running topology\nPerhaps iptables or your kernel needs to be upgraded.\n" {
		t.Errorf("unknown host: exit %d: %s", code, e2.String())
	}
	c, err := nlclient.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Request(FamilyName, CmdReplace, mnl.Request|mnl.Acknowledge, (&nlBackend{host: "h"}).attrs(func(ae *mnl.AttributeEncoder) {
		ae.Bytes(AttrBlob, []byte("junk"))
	})); err == nil {
		t.Error("a junk blob was taken")
	}
}

// TestServiceAddCounters adds to a rule's counters over the socket by
// its ID in the generation read (IPT_SO_SET_ADD_COUNTERS).
func TestServiceAddCounters(t *testing.T) {
	h := newTestHost(t)
	svc := &Service{Host: func(string) *stack.Host { return h }}
	sock := filepath.Join(t.TempDir(), "s")
	srv, err := netlink.Listen(sock, svc.Family())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var out strings.Builder
	o := Options{Stdout: &out, Stderr: &out, Socket: sock, Host: "h"}
	if code := Main("iptables", []string{"-A", "INPUT", "-j", "ACCEPT"}, o); code != 0 {
		t.Fatal(out.String())
	}
	spec, _ := ipt.Get(h, "filter")
	c, err := nlclient.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	add := func(gen uint64) error {
		_, err := c.Request(FamilyName, CmdAddCounters, mnl.Request|mnl.Acknowledge, (&nlBackend{host: "h"}).attrs(func(ae *mnl.AttributeEncoder) {
			ae.String(AttrTable, "filter")
			ae.Uint64(AttrGen, gen)
			ae.Bytes(AttrBlob, EncodeAdds(map[uint32]ipt.Counters{1: {Packets: 7, Bytes: 700}}))
		}))
		return err
	}
	if err := add(spec.Gen); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	Main("iptables-save", []string{"-c"}, o)
	if !strings.Contains(out.String(), "[7:700] -A INPUT -j ACCEPT") {
		t.Errorf("counters not added:\n%s", out.String())
	}
	if err := add(spec.Gen + 1); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("a generation not read: %v", err)
	}
}
