//go:build linux

package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vnic/internal/control"
	"vnic/internal/topo"
)

// TestNATGatewayOverTAP: a vnic host as the NAT gateway between two kernel
// namespaces — lan 198.18.30.0/24 behind it, wan 198.18.31.0/24 outside.
// Out, the lan's connections are masqueraded behind the gateway's wan
// address; in, the gateway's port 8080 and 5201 are forwarded to the lan
// host's 80 and 5201. The kernel's curl and iperf3 run through it both
// ways; the servers see the translated peers; the wire is clean.
func TestNATGatewayOverTAP(t *testing.T) {
	ip := requireNetns(t)
	curl := requireTool(t, "curl")
	iperf := requireTool(t, "iperf3")
	requireTool(t, "tshark")
	lan, wan := kernelNetns(t, ip, "natlan"), kernelNetns(t, ip, "natwan")
	cfg := topo.Config{Seed: 1, Hosts: []topo.HostConfig{{Name: "gw", CPUs: 2, Forwarding: true,
		Devices: []topo.DeviceConfig{
			{Name: "lan", Queues: 1, RxRing: 1024, TxRing: 1024, Addresses: []string{"198.18.30.1/24"}, Port: topo.PortConfig{Type: "tap", Ifname: "tlan", Netns: lan}},
			{Name: "wan", Queues: 1, RxRing: 1024, TxRing: 1024, Addresses: []string{"198.18.31.1/24"}, Port: topo.PortConfig{Type: "tap", Ifname: "twan", Netns: wan}},
		}}}}
	w, files := tapWorld(t, cfg)
	sock := filepath.Join(t.TempDir(), "vnic.sock")
	srv, err := control.Serve(w, sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for _, s := range []struct{ ns, dev, addr, gw string }{{lan, "tlan", "198.18.30.2/24", "198.18.30.1"}, {wan, "twan", "198.18.31.2/24", ""}} {
		ipRun(t, ip, "-n", s.ns, "addr", "add", s.addr, "dev", s.dev)
		ipRun(t, ip, "-n", s.ns, "link", "set", s.dev, "up")
		if s.gw != "" {
			ipRun(t, ip, "-n", s.ns, "route", "add", "default", "via", s.gw)
		}
	}
	// The wan has no route to the lan: only what the gateway translates
	// can come back.
	gw := vnicRouter{socket: sock, host: "gw"}
	gw.restore(t, `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i wan -p tcp --dport 5201 -j DNAT --to-destination 198.18.30.2
-A PREROUTING -i wan -p tcp --dport 8080 -j DNAT --to-destination 198.18.30.2:80
-A POSTROUTING -o wan -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i lan -o wan -j ACCEPT
-A FORWARD -i wan -o lan -m conntrack --ctstate DNAT -j ACCEPT
COMMIT
`)

	body := bytes.Repeat([]byte("vnic nat gateway "), 1<<16) // 1.1 MB
	sum := sha256.Sum256(body)
	peers := make(chan string, 4)
	handler := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		peers <- r.RemoteAddr
		_, _ = rw.Write(body)
	})
	serve := func(ns, addr string) {
		var l net.Listener
		if err := inNetnsDo(ns, func() (err error) { l, err = net.Listen("tcp4", addr); return err }); err != nil {
			t.Fatal(err)
		}
		s := &http.Server{Handler: handler}
		go func() { _ = s.Serve(l) }()
		t.Cleanup(func() { s.Close() })
	}
	serve(wan, "198.18.31.2:80")
	serve(lan, "198.18.30.2:80")
	fetch := func(ns, url, wantPeer string) {
		t.Helper()
		cmd := exec.Command(ip, "netns", "exec", ns, curl, "-sS", "--max-time", "20", "-o", "-", url)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || sha256.Sum256(out) != sum {
			t.Fatalf("curl %s in %s: %d bytes, %v: %s", url, ns, len(out), err, stderr.String())
		}
		select {
		case p := <-peers:
			if host, _, _ := net.SplitHostPort(p); host != wantPeer {
				t.Errorf("curl %s: the server saw %s, want %s", url, p, wantPeer)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("curl %s: the server saw no request", url)
		}
	}
	fetch(lan, "http://198.18.31.2/", "198.18.31.1")      // masqueraded out
	fetch(wan, "http://198.18.31.1:8080/", "198.18.31.2") // forwarded in

	// iperf3 both ways through the gateway: lan client → wan server
	// (masqueraded), wan client → the gateway's 5201 → lan server.
	for _, c := range []struct{ server, client, target string }{
		{wan, lan, "198.18.31.2"},
		{lan, wan, "198.18.31.1"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		s := exec.CommandContext(ctx, ip, "netns", "exec", c.server, iperf, "-s", "-1", "-J")
		var sout bytes.Buffer
		s.Stdout = &sout
		if err := s.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the server's listen (iperf3 has no ready signal)
		out, err := exec.CommandContext(ctx, ip, "netns", "exec", c.client, iperf, "-c", c.target, "-t", "2", "-J", "--connect-timeout", "5000").CombinedOutput()
		werr := s.Wait()
		cancel()
		if err != nil || werr != nil {
			t.Fatalf("iperf3 -c %s from %s: %v / %v\n%s\n%s", c.target, c.client, err, werr, out, sout.String())
		}
		cj, sj := parseIperfJSON(t, "client", string(out)), parseIperfJSON(t, "server", sout.String())
		if cj.End.SumReceived.Bytes <= 0 || sj.End.SumReceived.Bytes != cj.End.SumReceived.Bytes {
			t.Errorf("iperf3 through the gateway: client says %.0f bytes received, server %.0f", cj.End.SumReceived.Bytes, sj.End.SumReceived.Bytes)
		}
		t.Logf("iperf3 %s → %s: %.0f Mbit/s", c.client, c.target, cj.End.SumReceived.BPS/1e6)
	}
	ct := gw.conntrackCmd(t, "-L")
	for _, want := range []string{
		"src=198.18.30.2 dst=198.18.31.2 sport=",                   // out, masqueraded:
		"dport=80 src=198.18.31.2 dst=198.18.31.1 sport=80 dport=", // … the reply to the wan address
		"dst=198.18.31.1 sport=", "dport=8080 src=198.18.30.2 dst=198.18.31.2 sport=80 dport=",
	} {
		if !strings.Contains(ct, want) {
			t.Errorf("conntrack -L has no %q:\n%s", want, ct)
		}
	}
	w.Close()
	tsharkClean(t, files)
}
