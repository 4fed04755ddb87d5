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
	curl := requireTool(t, "curl")
	k := newKernelTAP(t, tapSpec{name: "tcp", ifname: "vt1", subnet: "198.18.6", vnet: vnet, rings: 4096})
	body := bytes.Repeat([]byte("vnic-tcp"), 512<<10) // 4 MiB
	fetchBothWays(t, k, curl, body, 20*time.Second)
	// On a lossless TAP nothing is lost: a retransmission can only be a
	// tail loss probe sent when the other end was slow to ACK (a busy
	// machine's scheduling), or a timeout's that F-RTO then found
	// spurious (the ACKs that came after it covered data never sent
	// again: an ACK held up longer than the RTO, not a loss) — never a
	// recovery or a timeout for a real loss.
	st := &tcp.Of(ipv4.Of(k.h)).Stats
	r, p, to, spurious := st.RetransSegs.Load(), st.ExtTCPLossProbes.Load(), st.ExtTCPTimeouts.Load(), st.ExtTCPSpuriousRTOs.Load()
	if r > p+spurious || to > spurious {
		t.Errorf("vnic retransmitted %d segments (%d of them loss probes, %d timeouts, %d of them spurious) on a lossless TAP", r, p, to, spurious)
	}
	k.w.Close()
	tsharkClean(t, k.files)
	tsharkNoRetrans(t, k.files)
}

// tsharkNoRetrans fails when a capture shows a fast retransmission or a
// segment lost before the capture point (the signs of real loss). A plain
// retransmission may be a tail loss probe, which a busy machine's
// scheduling can provoke on a lossless path; vnic's own are checked
// against its counters.
func tsharkNoRetrans(t *testing.T, files []string) {
	t.Helper()
	for src, s := range tsharkLossSigns(t, files) {
		if s.fast != 0 || s.lost != 0 {
			t.Errorf("tshark finds loss from %s on a lossless TAP: %d fast retransmissions, %d segments missing from the capture", src, s.fast, s.lost)
		}
	}
}

// TestKernelTCPWithLoss: 3 % of what one side sends over the TAP is
// dropped on the way, on vnic's egress by a netem of vnic's (`vnic tc …
// netem`), on the kernel's by the kernel's netem or, on a kernel without
// one, an nftables bridge rule (kernelEgressLoss). Either way the
// kernel's curl fetches ~4 MiB whole from a vnic server and a vnic
// client ~4 MiB from a kernel server: the lossy side's data is
// retransmitted, the other side's ACKs thinned. The capture (on the
// wire, past either loss) has no bad checksum and nothing malformed, and
// shows retransmissions and gaps only in the lossy side's segments: the
// other side neither fast-retransmits nor lost anything, and its TCP
// counters show no loss recovery.
func TestKernelTCPWithLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec tapSpec
	}{
		{"vnic-egress", tapSpec{name: "tcploss", ifname: "vt2", subnet: "198.18.7", rings: 4096, vnicLoss: 3}},
		{"kernel-egress", tapSpec{name: "tcpkloss", ifname: "vt3", subnet: "198.18.8", rings: 4096, kernelLoss: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			curl := requireTool(t, "curl")
			k := newKernelTAP(t, tc.spec)
			body := bytes.Repeat([]byte("lossy-tcp"), 466034) // ~4 MiB
			fetchBothWays(t, k, curl, body, 60*time.Second)
			k.checkLoss(t)
		})
	}
}

// fetchBothWays serves body over HTTP both ways between the ends of k,
// each fetch checked whole (its SHA-256): the kernel's curl from a
// net/http server on vnic (port 8080), then vnic's net/http client from a
// Go server on a socket of the namespace (port 8081).
func fetchBothWays(t *testing.T, k *kernelTAP, curl string, body []byte, timeout time.Duration) {
	t.Helper()
	ip, ns, h, vnicAddr, kernelAddr := k.ip, k.ns, k.h, k.vnic, k.kernel
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
