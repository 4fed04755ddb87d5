//go:build linux

package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// TCP between the Linux kernel and a vnic host over a TAP, both ways:
// the kernel's curl fetches 4 MiB from a net/http server on vnic, and
// vnic's net/http client fetches 4 MiB from a Go server in the kernel's
// namespace. With vnet headers the kernel hands over TSO super-frames
// (which the port cuts into wire segments) and vnic's TSO segments go
// out checksummed by the NIC model. The captures must be clean: good IP
// and TCP checksums, nothing malformed and, on a lossless cable, no sign
// of loss (no fast retransmission, no lost segment, no timeout; a tail
// loss probe that a slow ACK provoked is allowed).
func TestKernelTCPOverTAP(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "vnet_hdr"}[vnet], func(t *testing.T) { kernelTCP(t, vnet) })
	}
}

func kernelTCP(t *testing.T, vnet bool) {
	ip := requireNetns(t)
	curl := requireTool(t, "curl")
	ns := kernelNetns(t, ip, "tcp")
	cfg := topo.Config{Seed: 1, Hosts: []topo.HostConfig{{Name: "h1", CPUs: 1,
		// Rings deep enough that the kernel's bursts do not overrun the
		// receive ring: the capture must show no loss of vnic's making.
		Devices: []topo.DeviceConfig{{Name: "vnic0", Queues: 1, RxRing: 4096, TxRing: 4096, Addresses: []string{"198.18.6.2/24"},
			Port: topo.PortConfig{Type: "tap", Ifname: "vt1", Netns: ns, VnetHdr: vnet}}}}}}
	w, files := tapWorld(t, cfg)
	ipRun(t, ip, "-n", ns, "addr", "add", "198.18.6.1/24", "dev", "vt1")
	ipRun(t, ip, "-n", ns, "link", "set", "vt1", "up")
	h := w.Host("h1").Stack
	body := bytes.Repeat([]byte("vnic-tcp"), 512<<10) // 4 MiB
	fetchBothWays(t, ip, curl, ns, h, "198.18.6.2", "198.18.6.1", body, 20*time.Second)
	// On a lossless TAP nothing is lost: a retransmission can only be a
	// tail loss probe sent when the other end was slow to ACK (a busy
	// machine's scheduling), never a recovery or a timeout.
	st := &tcp.Of(ipv4.Of(h)).Stats
	if r, p, to := st.RetransSegs.Load(), st.ExtTCPLossProbes.Load(), st.ExtTCPTimeouts.Load(); r > p || to != 0 {
		t.Errorf("vnic retransmitted %d segments (%d of them loss probes, %d timeouts) on a lossless TAP", r, p, to)
	}
	w.Close()
	tsharkClean(t, files)
	tsharkNoRetrans(t, files)
}

// tsharkNoRetrans fails when a capture shows a fast retransmission or a
// segment lost before the capture point (the signs of real loss), or a
// bad TCP checksum. A plain retransmission may be a tail loss probe, which
// a busy machine's scheduling can provoke on a lossless path; vnic's own
// are checked against its counters.
func tsharkNoRetrans(t *testing.T, files []string) {
	t.Helper()
	tshark := requireTool(t, "tshark")
	for _, f := range files {
		cmd := exec.Command(tshark, "-n", "-r", f, "-o", "tcp.check_checksum:TRUE",
			"-Y", "tcp.analysis.fast_retransmission || tcp.analysis.lost_segment || tcp.checksum.status == \"Bad\"")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", f, err)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("tshark finds loss or bad TCP checksums in %s:\n%s", f, firstLines(s, 10))
		}
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = append(l[:n], fmt.Sprintf("… (%d more)", strings.Count(s, "\n")+1-n))
	}
	return strings.Join(l, "\n")
}

// TestKernelTCPWithLoss: a netem on vnic's egress drops 3 % of what vnic
// sends over the TAP (the machine's kernel has no netem to do it on the
// other side). The kernel's curl still fetches 4 MiB whole from a vnic
// server — vnic retransmits what the kernel's SACKs report missing — and
// a vnic client still fetches 4 MiB from a kernel server with its ACKs
// thinned. The capture (past the netem, on the wire) shows vnic's
// retransmissions, where the loss was injected, no fast retransmission by
// the kernel, and no bad checksum.
func TestKernelTCPWithLoss(t *testing.T) {
	ip := requireNetns(t)
	curl := requireTool(t, "curl")
	ns := kernelNetns(t, ip, "tcploss")
	cfg := topo.Config{Seed: 1, Hosts: []topo.HostConfig{{Name: "h1", CPUs: 1,
		Devices: []topo.DeviceConfig{{Name: "vnic0", Queues: 1, RxRing: 4096, TxRing: 4096, Addresses: []string{"198.18.7.2/24"},
			Port: topo.PortConfig{Type: "tap", Ifname: "vt2", Netns: ns}}}}}}
	w, files := tapWorld(t, cfg)
	ipRun(t, ip, "-n", ns, "addr", "add", "198.18.7.1/24", "dev", "vt2")
	ipRun(t, ip, "-n", ns, "link", "set", "vt2", "up")
	dev := w.Host("h1").Devices[0].Netdev
	q, err := stack.NewNetem(dev, 0x80010000, stack.NetemConfig{Limit: 1000, Loss: 3 * (1<<32 - 1) / 100})
	if err != nil {
		t.Fatal(err)
	}
	dev.GraftQdisc(q)
	h := w.Host("h1").Stack
	body := bytes.Repeat([]byte("lossy-tcp"), 466034) // ~4 MiB
	fetchBothWays(t, ip, curl, ns, h, "198.18.7.2", "198.18.7.1", body, 60*time.Second)
	if st := q.Stats(); st.Drops == 0 {
		t.Errorf("netem dropped nothing: %+v", st)
	}
	w.Close()
	tsharkClean(t, files)
	tshark := requireTool(t, "tshark")
	count := func(f, filter string) int {
		out, err := exec.Command(tshark, "-n", "-r", f, "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
		if err != nil {
			t.Fatal(err)
		}
		return len(strings.Fields(string(out)))
	}
	for _, f := range files {
		if n := count(f, "tcp.analysis.retransmission && ip.src == 198.18.7.2"); n == 0 {
			t.Errorf("%s: no retransmission by vnic, though its netem dropped 3 %%", f)
		}
		if n := count(f, "tcp.analysis.fast_retransmission && ip.src == 198.18.7.1"); n != 0 {
			t.Errorf("%s: %d fast retransmissions by the kernel, whose packets were not dropped", f, n)
		}
	}
}

// fetchBothWays serves body over HTTP both ways between vnic host h
// (vnicAddr) and the kernel's namespace ns (kernelAddr), each fetch
// checked whole: the kernel's curl from a net/http server on vnic (port
// 8080), then vnic's net/http client from a Go server on a socket of the
// namespace (port 8081).
func fetchBothWays(t *testing.T, ip, curl, ns string, h *stack.Host, vnicAddr, kernelAddr string, body []byte, timeout time.Duration) {
	t.Helper()
	sum := sha256.Sum256(body)
	handler := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { _, _ = rw.Write(body) })

	l, err := inet.ListenTCP(h, "tcp", vnicAddr+":8080")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	cmd := exec.Command(ip, "netns", "exec", ns, curl, "-sS", "--max-time", fmt.Sprint(int(timeout.Seconds())), "-o", "-", "http://"+vnicAddr+":8080/")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || sha256.Sum256(out) != sum {
		t.Fatalf("curl: %d bytes, %v: %s", len(out), err, stderr.String())
	}

	var kl net.Listener
	if err := inNetnsDo(ns, func() (err error) {
		kl, err = net.Listen("tcp4", kernelAddr+":8081")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ksrv := &http.Server{Handler: handler}
	go func() { _ = ksrv.Serve(kl) }()
	defer ksrv.Close()
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dl, _ := ctx.Deadline()
			return inet.DialTCP(h, network, addr, dl)
		},
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + kernelAddr + ":8081/")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || sha256.Sum256(got) != sum {
		t.Fatalf("vnic client got %d bytes (%v), not the body", len(got), err)
	}
}
