package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestTCNetemOverTheControlSocket: vnic tc against a running vnic up
// (router.yaml, virtual time): netem on h1's vnic0 adds its delay to a
// ping's round trip, tc qdisc show prints it as tc does, ip link names
// it, the host refuses what Linux refuses, and del brings the default
// back.
func TestTCNetemOverTheControlSocket(t *testing.T) {
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../configs/examples/router.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "router.yaml")
	os.WriteFile(f, append(cfg, []byte("log:\n  level: error\n")...), 0o644)
	sock := filepath.Join(dir, "vnic.sock")
	tc := func(args ...string) func(o, e *bytes.Buffer) int {
		return func(o, e *bytes.Buffer) int {
			return runTC(append([]string{"--socket", sock, "--host", "h1"}, args...), o, e)
		}
	}
	ping := func(o, e *bytes.Buffer) int {
		return runPing(pingOpts{socket: sock, host: "h1", count: "2", size: "56", pmtu: "want", interval: "0.2", linger: "2"}, []string{"198.18.6.2"}, o, e)
	}
	cmds := []func(o, e *bytes.Buffer) int{
		ping,
		tc("qdisc", "add", "dev", "vnic0", "root", "netem", "delay", "5ms"),
		tc("qdisc", "show", "dev", "vnic0"),
		ping,
		tc("-s", "qdisc", "show", "dev", "vnic0"),
		func(o, e *bytes.Buffer) int {
			return runIP([]string{"--socket", sock, "--host", "h1", "link", "show", "vnic0"}, o, e)
		},
		tc("qdisc", "add", "dev", "vnic0", "root", "netem", "delay", "1ms"),
		tc("qdisc", "change", "dev", "vnic0", "root", "netem", "delay", "20ms", "loss", "100%"),
		ping,
		tc("qdisc", "del", "dev", "vnic0", "root"),
		tc("qdisc", "show", "dev", "vnic0"),
		tc("qdisc", "del", "dev", "vnic0", "root"),
		tc("qdisc", "add", "dev", "nosuch", "root", "netem", "delay", "1ms"),
		func(o, e *bytes.Buffer) int { return runTC([]string{"--socket", sock, "-n", "nope", "qdisc"}, o, e) },
	}
	_, results, err := runUp(t, cmds, "up", "--config", f, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(cmds) {
		t.Fatalf("%d results", len(results))
	}
	// Without netem the second echo's round trip is 11 µs; with 5 ms of
	// delay on h1's side it is 5.011 ms, exactly (virtual time).
	pingOut := func(a, b, sum string) string {
		return "PING 198.18.6.2 (198.18.6.2) 56(84) bytes of data.\n" +
			"64 bytes from 198.18.6.2: icmp_seq=1 ttl=63 time=" + a + " ms\n" +
			"64 bytes from 198.18.6.2: icmp_seq=2 ttl=63 time=" + b + " ms\n\n" +
			"--- 198.18.6.2 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 200ms\n" +
			"rtt min/avg/max/mdev = " + sum + " ms\n"
	}
	want := []upResult{
		{pingOut("0.022", "0.011", "0.011/0.016/0.022/0.005"), "", 0},
		{"", "", 0},
		{"qdisc netem 8001: root refcnt 9 limit 1000 delay 5ms\n", "", 0},
		{pingOut("5.01", "5.01", "5.011/5.011/5.011/0.000"), "", 0},
		{"qdisc netem 8001: root refcnt 9 limit 1000 delay 5ms\n Sent 196 bytes 2 pkt (dropped 0, overlimits 0 requeues 0) \n backlog 0b 0p requeues 0\n", "", 0},
		{"2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc netem state UP mode DEFAULT group default qlen 1000\n    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff\n", "", 0},
		{"", "Error: Exclusivity flag on, cannot modify.\n", 2},
		{"", "", 0},
		{"PING 198.18.6.2 (198.18.6.2) 56(84) bytes of data.\n\n--- 198.18.6.2 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 200ms\n\n", "", 1},
		{"", "", 0},
		{"qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n", "", 0},
		{"", "Error: Cannot delete qdisc with handle of zero.\n", 2},
		{"", "Cannot find device \"nosuch\"\n", 1},
		{"", "Cannot open network namespace \"nope\": No such file or directory\n", 255},
	}
	for i, w := range want {
		if r := results[i]; r != w {
			t.Errorf("command %d: rc %d\n%q\nstderr %q\nwant rc %d\n%q\nstderr %q", i, r.rc, r.out, r.errOut, w.rc, w.out, w.errOut)
		}
	}
}
