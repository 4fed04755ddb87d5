package main

import (
	"bufio"
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/internal/control"
	"vnic/internal/topo"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// ssWorld is a host h1 serving the control socket with TCP on it: a
// listener on 127.0.0.1:80 and one on 0.0.0.0:8080 (backlog 3), a
// connection over loopback to :80 that sent 1000 bytes nobody accepted
// or read, and one to :8080, accepted and closed at once (TIME-WAIT on
// the side that closed first).
func ssWorld(t *testing.T) string {
	t.Helper()
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.2/24"}}}},
	}}
	w := topo.Started(t, cfg, 10*time.Millisecond)
	p := tcp.Of(ipv4.Of(w.Host("h1").Stack))
	listen := func(ap string, backlog int) *tcp.Sock {
		l := p.NewSocket()
		if err := l.Bind(netip.MustParseAddrPort(ap)); err != nil {
			t.Fatal(err)
		}
		if err := l.Listen(backlog); err != nil {
			t.Fatal(err)
		}
		return l
	}
	dial := func(ap string) *tcp.Sock {
		c := p.NewSocket()
		if err := c.Connect(netip.MustParseAddrPort(ap)); !errors.Is(err, syscall.EINPROGRESS) {
			t.Fatal(err)
		}
		return c
	}
	listen("127.0.0.1:80", 16)
	web := listen("0.0.0.0:8080", 3)
	c := dial("127.0.0.1:80")
	short := dial("198.18.5.2:8080")
	w.Run(20 * time.Millisecond)
	if _, err := c.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	s, err := web.Accept()
	if err != nil {
		t.Fatal(err)
	}
	short.Close()
	w.Run(time.Millisecond)
	s.Close()
	w.Run(20 * time.Millisecond)
	srv, err := control.Serve(w, filepath.Join(t.TempDir(), "vnic.sock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Path()
}

// vnic ss over the control socket prints ss's lines for the host's
// sockets; its options shape the listing as ss's do.
func TestSSCommand(t *testing.T) {
	sock := ssWorld(t)
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{"-tan"}, `State     Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN    0      3            0.0.0.0:8080       0.0.0.0:*           
LISTEN    1      16         127.0.0.1:80         0.0.0.0:*           
ESTAB     1000   0          127.0.0.1:80       127.0.0.1:58824       
ESTAB     0      0          127.0.0.1:58824    127.0.0.1:80          
TIME-WAIT 0      0         198.18.5.2:44798   198.18.5.2:8080        
`},
		{[]string{"-tn"}, `State Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
ESTAB 1000   0          127.0.0.1:80       127.0.0.1:58824       
ESTAB 0      0          127.0.0.1:58824    127.0.0.1:80          
`},
		{[]string{"-tln"}, `State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
LISTEN 0      3            0.0.0.0:8080      0.0.0.0:*          
LISTEN 1      16         127.0.0.1:80        0.0.0.0:*          
`},
		{[]string{"-Htn", "state", "time-wait"}, "0      0      198.18.5.2:44798 198.18.5.2:8080\n"},
		{[]string{"-tano", "state", "time-wait", "state", "listening"}, "State     Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n" +
			"LISTEN    0      3            0.0.0.0:8080       0.0.0.0:*          \n" +
			"LISTEN    1      16         127.0.0.1:80         0.0.0.0:*          \n" +
			"TIME-WAIT 0      0         198.18.5.2:44798   198.18.5.2:8080 timer:(timewait,59sec,0)\n"},
		{[]string{"-6", "-tan"}, "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"},
		{[]string{"-N", "h1", "-tnp", "exclude", "established"}, `State     Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
LISTEN    0      3            0.0.0.0:8080       0.0.0.0:*          
LISTEN    1      16         127.0.0.1:80         0.0.0.0:*          
TIME-WAIT 0      0         198.18.5.2:44798   198.18.5.2:8080       
`},
	} {
		var out, errb bytes.Buffer
		rc := runSS(append([]string{"--socket", sock, "--host", "h1"}, tc.args...), &out, &errb)
		if rc != 0 || out.String() != tc.out || errb.Len() != 0 {
			t.Errorf("ss %v: rc %d stderr %q\n%q\nwant\n%q", tc.args, rc, errb.String(), out.String(), tc.out)
		}
	}
	// -i: the loopback connection's TCP_INFO, the listeners' queues.
	var out, errb bytes.Buffer
	if rc := runSS([]string{"--socket", sock, "--host", "h1", "-tanio"}, &out, &errb); rc != 0 {
		t.Fatalf("-tanio: rc %d %s", rc, errb.String())
	}
	lines := strings.Split(out.String(), "\n")
	want := []string{
		`^State +Recv-Q Send-Q Local Address:Port +Peer Address:Port Process +$`,
		`^LISTEN +0 +3 +0\.0\.0\.0:8080 +0\.0\.0\.0:\* +$`,
		`^\t cubic cwnd:10 +$`,
		`^LISTEN +1 +16 +127\.0\.0\.1:80 +0\.0\.0\.0:\* +$`,
		`^\t cubic cwnd:10 unacked:1 +$`,
		`^ESTAB +1000 +0 +127\.0\.0\.1:80 +127\.0\.0\.1:58824$`,
		`^\t ts sack cubic wscale:\d+,\d+ rto:\d+ rtt:[0-9.]+/[0-9.]+ ato:40 mss:\d+ pmtu:65535 rcvmss:1000 advmss:\d+ cwnd:10 bytes_received:1000 .* rcv_space:\d+ rcv_ssthresh:\d+ minrtt:[0-9.]+ snd_wnd:\d+ *$`,
		`^ESTAB +0 +0 +127\.0\.0\.1:58824 +127\.0\.0\.1:80 +$`,
		`^\t ts sack cubic wscale:\d+,\d+ rto:\d+ rtt:[0-9.]+/[0-9.]+ mss:\d+ pmtu:65535 .*cwnd:10 bytes_sent:1000 bytes_acked:1000 .* delivered:\d+ .*snd_wnd:\d+ *$`,
		`^TIME-WAIT +0 +0 +198\.18\.5\.2:44798 +198\.18\.5\.2:8080 +timer:\(timewait,59sec,0\)$`,
		`^\t *$`,
		`^$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("-tanio: %d lines:\n%s", len(lines), out.String())
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("-tanio line %d: %q, want %s", i+1, lines[i], re)
		}
	}
}

// Without -n ports are named from /etc/services, except ephemeral ones
// (the host's ip_local_port_range, 32768 to 60999).
func TestSSServiceNames(t *testing.T) {
	f, err := os.Open("/etc/services")
	if err != nil {
		t.Skip("no /etc/services")
	}
	http := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "http" && fs[1] == "80/tcp" {
			http = true
		}
	}
	f.Close()
	if !http {
		t.Skip("/etc/services does not name port 80 http")
	}
	sock := ssWorld(t)
	var out, errb bytes.Buffer
	if rc := runSS([]string{"--socket", sock, "--host", "h1", "-t"}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d %s", rc, errb.String())
	}
	want := `State Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
ESTAB 1000   0          127.0.0.1:http     127.0.0.1:58824       
ESTAB 0      0          127.0.0.1:58824    127.0.0.1:http        
`
	if out.String() != want {
		t.Errorf("%q\nwant\n%q", out.String(), want)
	}
}

// ss's refusals and vnic's: usage errors exit 255 as ss's do, what vnic
// does not serve and a host that cannot be asked exit 1.
func TestSSErrors(t *testing.T) {
	sock := ssWorld(t)
	for _, tc := range []struct {
		args   []string
		rc     int
		out    string
		errOut string // a regular expression
	}{
		{[]string{"--host", "h1", "-tan", "state", "bogus"}, 255, "", `^ss: wrong state name: bogus\n$`},
		{[]string{"--host", "h1", "-tq"}, 255, "", `^ss: invalid option -- 'q'\nUsage: ss \[ OPTIONS \]\n`},
		{[]string{"--host", "h1", "--bogus"}, 255, "", `^ss: unrecognized option '--bogus'\nUsage:`},
		{[]string{"--host", "h1", "-t", "state"}, 255, "", `^Command line is not complete\. Try option "help"\n$`},
		{[]string{"--host", "h1", "-tu"}, 1, "", `^ss: -u: vnic serves TCP sockets only \(ss -t\)\n$`},
		{[]string{"--host", "h1", "-an"}, 1, "", `^ss: vnic serves TCP sockets only: say so with -t`},
		{[]string{"--host", "h1", "-ts"}, 1, "", `^ss: -s is not served by vnic: it keeps no socket summary`},
		{[]string{"--host", "h1", "-tn", "sport", "=", ":80"}, 1, "", `^ss: filter expressions are not supported by vnic \(only state filters\): "sport = :80"\n$`},
		{[]string{"-tan"}, 1, "", `^ss: which host\? --host NAME \(or VNIC_HOST, or -N NAME\)\n$`},
		{[]string{"--host", "nope", "-tan"}, 1, "", `^ss: no host "nope" in the running topology\n$`},
		{[]string{"-h"}, 0, "Usage: ss [ OPTIONS ]\n", `^$`},
	} {
		var out, errb bytes.Buffer
		rc := runSS(append([]string{"--socket", sock}, tc.args...), &out, &errb)
		if rc != tc.rc || !strings.HasPrefix(out.String(), tc.out) || tc.out == "" && out.Len() != 0 || !regexp.MustCompile(tc.errOut).MatchString(errb.String()) {
			t.Errorf("ss %v: rc %d, stdout %q, stderr %q; want %d, %q, %s", tc.args, rc, out.String(), errb.String(), tc.rc, tc.out, tc.errOut)
		}
	}
	// No daemon at the socket.
	var out, errb bytes.Buffer
	rc := runSS([]string{"--socket", filepath.Join(t.TempDir(), "none.sock"), "--host", "h1", "-tan"}, &out, &errb)
	if rc != 1 || !strings.HasPrefix(errb.String(), "ss: ctl: no vnic control socket at ") || !strings.Contains(errb.String(), "is `vnic up` running?") {
		t.Errorf("no daemon: rc %d %q", rc, errb.String())
	}
}

// vnic ss against `vnic up` itself: the router topology has no TCP
// sockets (the header alone), -N names the host, an unknown host is
// refused.
func TestUpSS(t *testing.T) {
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../configs/examples/router.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "router.yaml")
	os.WriteFile(f, append(cfg, []byte("log:\n  level: error\n")...), 0o644)
	sock := filepath.Join(dir, "vnic.sock")
	cmds := []func(o, e *bytes.Buffer) int{
		func(o, e *bytes.Buffer) int { return runSS([]string{"--socket", sock, "--host", "h1", "-tan"}, o, e) },
		func(o, e *bytes.Buffer) int { return runSS([]string{"--socket", sock, "-N", "r", "-tlnH"}, o, e) },
		func(o, e *bytes.Buffer) int { return runSS([]string{"--socket", sock, "--host", "h9", "-tan"}, o, e) },
	}
	_, results, err := runUp(t, cmds, "up", "--config", f, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	want := []upResult{
		{"State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n", "", 0},
		{"", "", 0},
		{"", "ss: no host \"h9\" in the running topology\n", 1},
	}
	if len(results) != len(want) {
		t.Fatalf("%d results", len(results))
	}
	for i, w := range want {
		if results[i] != w {
			t.Errorf("command %d: %+v, want %+v", i, results[i], w)
		}
	}
}
