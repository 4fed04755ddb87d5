package conntrack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	ct "vnic/stack/netfilter/conntrack"
)

var update = flag.Bool("update", false, "rewrite testdata/output.golden from vnic's output")

// outputScript is run in order on the rig's four flows (the UDP query
// to port 53 marked 7): listings in every format and filter, gets,
// updates, deletes, the counters, and what vnic refuses. Its output is
// testdata/output.golden, whose lines were checked against conntrack
// 1.4.7's output over the kernel's table (testdata/cli.golden and the
// Kernel tests hold the formats themselves).
var outputScript = [][]string{
	{"-L"},
	{"-L", "-o", "extended"},
	{"-L", "-o", "id"},
	{"-L", "-o", "extended,id"},
	{"-L", "-o", "save"},
	{"-L", "-o", "userspace,timestamp"},
	{"-L", "-p", "tcp"},
	{"-L", "-p", "udp", "--dport", "53"},
	{"-L", "-p", "udp", "--reply-port-src", "9"},
	{"-L", "-s", "198.18.5.0/24"},
	{"-L", "-d", "198.18.7.0/24"},
	{"-L", "-s", "198.18.5.2", "--mask-src", "255.255.0.0"},
	{"-L", "-r", "198.18.6.2", "-p", "udp"},
	{"-L", "-q", "198.18.6.2"},
	{"-L", "-u", "UNREPLIED"},
	{"-L", "-u", "ASSURED"},
	{"-L", "-u", "!ASSURED"},
	{"-L", "-u", "SEEN_REPLY,!ASSURED"},
	{"-L", "-m", "7"},
	{"-L", "-m", "0x17/0xf"},
	{"-L", "-m", "0"},
	{"-L", "-f", "ipv6"},
	{"-L", "-f", "ipv4", "-p", "icmp", "--icmp-type", "8"},
	{"-L", "-p", "icmp", "--icmp-id", "2"},
	{"-L", "-p", "tcp", "--state", "ESTABLISHED"},
	{"-L", "-p", "tcp", "--state", "SYN_SENT"},
	{"-L", "-w", "0"},
	{"-L", "-w", "1"},
	{"-L", "-n"},
	{"-L", "-g", "198.18.6.2"},
	{"-L", "dying"},
	{"-L", "unconfirmed"},
	{"-G", "-p", "udp", "-s", "198.18.5.2", "-d", "198.18.6.2", "--sport", "5353", "--dport", "53"},
	{"-G", "-p", "udp", "-s", "198.18.6.2", "-d", "198.18.5.2", "--sport", "53", "--dport", "5353", "-o", "id"},
	{"-G", "-p", "tcp", "-s", "198.18.5.2", "-d", "198.18.6.2", "--sport", "40000", "--dport", "8080", "-o", "save"},
	{"-G", "-p", "icmp", "-s", "198.18.5.2", "-d", "198.18.6.2", "--icmp-type", "8", "--icmp-code", "0", "--icmp-id", "1"},
	{"-G", "-p", "tcp", "-s", "198.18.5.2", "-d", "198.18.6.2", "--sport", "40000", "--dport", "8080", "--state", "SYN_SENT"},
	{"-G", "-p", "tcp", "-s", "198.18.5.2", "-d", "198.18.6.2", "--sport", "1", "--dport", "8080"},
	{"-C"},
	{"-S"},
	{"-U", "-p", "udp", "--dport", "9", "-m", "5"},
	{"-U", "-m", "0x100/0xf00"},
	{"-U", "-m", "0x100/0xf00"},
	{"-L", "-o", "id"},
	{"-U", "-p", "udp", "-t", "100"},
	{"-U", "-p", "udp", "--dport", "9", "-u", "ASSURED"},
	{"-U", "-p", "tcp", "-u", "ASSURED"},
	{"-D", "-p", "icmp"},
	{"-D", "-s", "198.18.5.2", "-p", "udp", "--sport", "5354"},
	{"-D", "-p", "udp", "--sport", "5354"},
	{"-L"},
	{"-C"},
	{"-F"},
	{"-C"},
	{"-L"},
	{"-L", "-o", "xml"},
	{"-L", "-o", "ktimestamp"},
	{"-L", "-o", "labels"},
	{"-L", "-l", "x"},
	{"-L", "expect"},
	{"-F", "expect"},
	{"-L", "-z"},
	{"-I", "-p", "tcp", "-t", "100", "-s", "198.18.5.2", "-d", "198.18.6.2", "--sport", "1", "--dport", "2", "--state", "ESTABLISHED"},
	{"-A", "-p", "udp", "-t", "100", "-r", "198.18.6.2", "-q", "198.18.5.2", "--reply-port-src", "2", "--reply-port-dst", "1"},
	{"-R", "file"},
	{"-V"},
	{"-h", "-p", "tcp"},
	{},
}

// TestOutput runs outputScript and compares what it printed with
// testdata/output.golden (-update rewrites it).
func TestOutput(t *testing.T) {
	g := newRig(t)
	g.flows()
	dns, _ := g.r.Lookup(dnsT, ct.DefaultZone)
	dns.SetMark(7)
	var got bytes.Buffer
	for _, args := range outputScript {
		code, out, errs := g.conntrack(args...)
		line, _ := json.Marshal(cliCase{Args: args, RC: code, Stdout: out, Stderr: errs})
		got.Write(line)
		got.WriteByte('\n')
	}
	// Without a host, and with one the topology lacks.
	for _, host := range []string{"", "nohost"} {
		var out, errb bytes.Buffer
		code := Main([]string{"-L"}, Options{Stdout: &out, Stderr: &errb, Socket: g.path, Host: host})
		line, _ := json.Marshal(cliCase{Args: []string{"-L", "host=" + host}, RC: code, Stdout: out.String(), Stderr: errb.String()})
		got.Write(line)
		got.WriteByte('\n')
	}
	if *update {
		if err := os.WriteFile("testdata/output.golden", got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/output.golden")
	if err != nil {
		t.Fatal(err)
	}
	gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, g, w)
		}
	}
}
