package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"vnic/internal/iperf3"
)

const iperfUsage = "\nUsage: vnic iperf3 --host NAME [-s|-c host] [options]\nTry `vnic iperf3 --help' for more information.\n"

// TestIperf3OptionErrors: each refused option is worded as iperf3 3.12
// words it ("iperf3: parameter error - …", then the usage), exit 1,
// nothing on stdout; vnic's own refusals (a name, a count that is not
// one) likewise.
func TestIperf3OptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		errOut string
	}{
		{nil, "must either be a client (-c) or server (-s)"},
		{[]string{"-s", "-c", "198.18.0.1"}, "cannot be both server and client"},
		{[]string{"-c", "198.18.0.1", "-P", "129"}, "number of parallel streams too large (maximum = 128)"},
		{[]string{"-c", "198.18.0.1", "-t", "86401"}, "test duration too long (maximum = 86400 seconds)"},
		{[]string{"-c", "198.18.0.1", "-l", "2M"}, "block size too large (maximum = 1048576 bytes)"},
		{[]string{"-c", "198.18.0.1", "-w", "600M"}, "socket buffer size too large (maximum = 536870912 bytes)"},
		{[]string{"-c", "198.18.0.1", "-i", "0.05"}, "invalid report interval (min = 0.1, max = 60 seconds)"},
		{[]string{"-c", "198.18.0.1", "-i", "61"}, "invalid report interval (min = 0.1, max = 60 seconds)"},
		{[]string{"-c", "198.18.0.1", "-f", "x"}, "bad format specifier (valid formats are in the set [kmgtKMGT])"},
		{[]string{"-c", "198.18.0.1", "-p", "0"}, "port number must be between 1 and 65535 inclusive"},
		{[]string{"-c", "198.18.0.1", "-p", "70000"}, "port number must be between 1 and 65535 inclusive"},
		{[]string{"-s", "-R"}, "some option you are trying to set is client only"},
		{[]string{"-s", "-t", "3"}, "some option you are trying to set is client only"},
		{[]string{"-c", "198.18.0.1", "-1"}, "some option you are trying to set is server only"},
		{[]string{"-c", "198.18.0.1", "-M", "99999"}, "TCP MSS too large (maximum = 9216 bytes)"},
		{[]string{"-c", "nosuchhost"}, `-c "nosuchhost": want an IPv4 address (vnic has no names)`},
		{[]string{"-c", "2001:db8::1"}, `-c "2001:db8::1": want an IPv4 address (vnic has no names)`},
		{[]string{"-c", "198.18.0.1", "-t", "abc"}, `-t "abc": not a whole number`},
		{[]string{"-c", "198.18.0.1", "-t", "0"}, `-t "0": want 1 second or more (vnic runs no test until interrupted)`},
		{[]string{"-c", "198.18.0.1", "-P", "0"}, `-P "0": want 1 stream or more`},
		{[]string{"-c", "198.18.0.1", "-l", "big"}, `-l "big": want a size such as 128K or 1M`},
		{[]string{"-c", "198.18.0.1", "-i", "x"}, `-i "x": want seconds`},
		{[]string{"-c", "198.18.0.1", "extra"}, `argument "extra": iperf3 takes options only`},
	} {
		var o iperfOpts
		fs := pflag.NewFlagSet("iperf3", pflag.ContinueOnError)
		iperfFlags(fs, &o)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		o.host = "h1"
		var out, errOut bytes.Buffer
		rc := runIperf3(o, fs.Args(), &out, &errOut)
		if want := "iperf3: parameter error - " + tc.errOut + "\n" + iperfUsage; rc != 1 || errOut.String() != want || out.Len() != 0 {
			t.Errorf("iperf3 %v: rc %d, stderr %q, stdout %q; want 1, %q", tc.args, rc, errOut.String(), out.String(), want)
		}
	}
	var out, errOut bytes.Buffer
	if rc := runIperf3(iperfOpts{server: true}, nil, &out, &errOut); rc != 1 || errOut.String() != "iperf3: which host? --host NAME (or VNIC_HOST)\n" {
		t.Errorf("no host: rc %d, %q", rc, errOut.String())
	}
	if rc := runIperf3(iperfOpts{version: true}, nil, &out, &errOut); rc != 0 || out.String() != iperfVersion+"\n" {
		t.Errorf("-v: rc %d, %q", rc, out.String())
	}
}

// The options as iperf3 reads them: seconds, iperf3's K/M units (powers
// of 1024), milliseconds for --connect-timeout.
func TestIperf3Options(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want iperf3.Config
	}{
		{[]string{"-c", "198.18.0.2", "-t", "5", "-P", "4", "-R", "-l", "64K", "-w", "1M", "-C", "reno", "-M", "1400", "-N",
			"-i", "0.5", "-f", "m", "-J", "-p", "5202", "-B", "198.18.0.1", "--connect-timeout", "2500"},
			iperf3.Config{Host: netip.MustParseAddr("198.18.0.2"), Duration: 5 * time.Second, Parallel: 4, Reverse: true, BlockSize: 64 << 10,
				Window: 1 << 20, Congestion: "reno", MSS: 1400, NoDelay: true, Interval: 500 * time.Millisecond, Format: 'm',
				JSON: true, Port: 5202, Bind: netip.MustParseAddr("198.18.0.1"), ConnectTimeout: 2500 * time.Millisecond}},
		{[]string{"-s", "-1", "-i", "0"}, iperf3.Config{Server: true, OneOff: true, NoInterval: true}},
		{[]string{"--server", "--one-off", "--json", "--port", "6000"}, iperf3.Config{Server: true, OneOff: true, JSON: true, Port: 6000}},
		{[]string{"--client", "198.18.0.2", "--time", "1", "--reverse", "--parallel", "2", "--length", "0.5m", "--window", "256k"},
			iperf3.Config{Host: netip.MustParseAddr("198.18.0.2"), Duration: time.Second, Reverse: true, Parallel: 2, BlockSize: 1 << 19, Window: 256 << 10}},
	} {
		var o iperfOpts
		fs := pflag.NewFlagSet("iperf3", pflag.ContinueOnError)
		iperfFlags(fs, &o)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got, err := parseIperfOpts(o, fs.Args())
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: %+v, %v\nwant %+v", tc.args, got, err, tc.want)
		}
	}
}

// TestUpIperf3 runs the router topology on the wall clock under `vnic
// up` and measures h1 → h2 through the router with vnic iperf3 over the
// control socket: a one-off server on h2, a client on h1 (text, then
// -R -J), a refused connection, and the same topology on the virtual
// clock refused.
func TestUpIperf3(t *testing.T) {
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../configs/examples/router.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "router.yaml")
	os.WriteFile(f, append(cfg, []byte("log:\n  level: error\n")...), 0o644)
	sock := filepath.Join(dir, "vnic.sock")
	opts := func(host string, args ...string) (iperfOpts, []string) {
		var o iperfOpts
		fs := pflag.NewFlagSet("iperf3", pflag.ContinueOnError)
		iperfFlags(fs, &o)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		o.socket, o.host = sock, host
		return o, fs.Args()
	}
	var server upResult
	serverDone := make(chan struct{})
	// client runs vnic iperf3 on h1, again while the server is not yet
	// listening (bounded).
	client := func(o, e *bytes.Buffer, args ...string) int {
		for try := 0; ; try++ {
			o.Reset()
			e.Reset()
			opt, rest := opts("h1", args...)
			rc := runIperf3(opt, rest, o, e)
			// Refused: the server is not listening yet; reset: it was
			// still closing the previous test's listener, which resets
			// the connections queued on it (as Linux and iperf3 do).
			if got := e.String() + o.String(); try == 100 || !strings.Contains(got, "Connection refused") && !strings.Contains(got, "Connection reset by peer") {
				return rc
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	cmds := []func(o, e *bytes.Buffer) int{
		func(o, e *bytes.Buffer) int {
			go func() {
				defer close(serverDone)
				var so, se bytes.Buffer
				opt, rest := opts("h2", "-s")
				server.rc = runIperf3(opt, rest, &so, &se)
				server.out, server.errOut = so.String(), se.String()
			}()
			return client(o, e, "-c", "198.18.6.2", "-t", "1", "-P", "2")
		},
		func(o, e *bytes.Buffer) int { return client(o, e, "-c", "198.18.6.2", "-t", "1", "-R", "-J") },
		func(o, e *bytes.Buffer) int {
			opt, rest := opts("h1", "-c", "198.18.6.2", "-p", "5999", "-t", "1")
			return runIperf3(opt, rest, o, e)
		},
	}
	_, results, err := runUp(t, cmds, "up", "--time", "real", "--config", f, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-serverDone:
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not end with vnic up")
	}
	if len(results) != len(cmds) {
		t.Fatalf("%d results", len(results))
	}
	const num = `[ 0-9.]{4} [KMGT]?Bytes +[ 0-9.]{4} [KMGT]?bits/sec`
	want := []struct {
		rc       int
		out, err string
	}{
		{0, `(?s)^Connecting to host 198\.18\.6\.2, port 5201\n\[  5\] local 198\.18\.5\.2 port \d+ connected to 198\.18\.6\.2 port 5201\n` +
			`\[  7\] local .*\[SUM\]   0\.00-1\.\d\d   sec  ` + num + `                  receiver\n\niperf Done\.\n$`, `^$`},
		{0, `(?s)^\{\n\t"start":\t\{\n\t\t"connected":\t\[\{.*"reverse":\t1,.*"sum_received":\t\{.*\}\n$`, `^$`},
		{1, `^$`, `^iperf3: error - unable to connect to server: Connection refused\n$`},
	}
	for i, w := range want {
		r := results[i]
		if r.rc != w.rc || !regexp.MustCompile(w.out).MatchString(r.out) || !regexp.MustCompile(w.err).MatchString(r.errOut) {
			t.Errorf("command %d: rc %d\n%s\nstderr %q", i, r.rc, r.out, r.errOut)
		}
	}
	var doc struct {
		End struct {
			SumSent struct {
				Bytes float64 `json:"bytes"`
			} `json:"sum_sent"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(results[1].out), &doc); err != nil || doc.End.SumSent.Bytes <= 0 {
		t.Errorf("-R -J: %v %+v", err, doc)
	}
	// The server served both tests and listened for a third; the SIGINT
	// that stops vnic up reaches it too, and it says so as iperf3 -s does
	// (or, when vnic up's closing socket comes first, says that).
	if !strings.Contains(server.out, "Server listening on 5201 (test #1)\n") || !strings.Contains(server.out, "(test #2)") ||
		!strings.Contains(server.out, "(test #3)") || server.rc != 1 || !strings.HasPrefix(server.errOut, "iperf3: ") {
		t.Errorf("server: rc %d\n%s\nstderr %q", server.rc, server.out, server.errOut)
	}

	// On the virtual clock: refused.
	sock2 := filepath.Join(dir, "vnic2.sock")
	cmds = []func(o, e *bytes.Buffer) int{func(o, e *bytes.Buffer) int {
		opt, rest := opts("h1", "-c", "198.18.6.2")
		opt.socket = sock2
		return runIperf3(opt, rest, o, e)
	}}
	_, results, err = runUp(t, cmds, "up", "--config", f, "--socket", sock2)
	if err != nil {
		t.Fatal(err)
	}
	if r := results[0]; r.rc != 1 || r.errOut != "iperf3: host h1 runs on the virtual clock: iperf3 measures the wall clock (run the topology with vnic up --time real)\n" {
		t.Errorf("virtual time: rc %d, %q", r.rc, r.errOut)
	}
}
