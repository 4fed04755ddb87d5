//go:build linux

package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"vnic/internal/iperf3"
)

// iperf3 between the Linux kernel and a vnic host over a TAP, both
// ways: Debian's iperf3 client in a namespace measures vnic's server,
// and vnic's client measures Debian's iperf3 -s; each plain, with -R
// and with -P 4, for two seconds, every run bounded. Both ends report
// (each side's -J parsed), bytes moved, and the byte counts that pass
// over the control connection are the same on both sides: what the
// client reports of the server's end is what the server reports.
func TestKernelIperf3(t *testing.T) {
	bin := requireTool(t, "iperf3")
	k := newKernelTAP(t, tapSpec{name: "iperf", ifname: "vt7", subnet: "198.18.7", vnet: true})
	if v := inNetns(t, k.ip, k.ns, bin, "--version"); !strings.HasPrefix(v.out, "iperf 3.") {
		t.Fatalf("iperf3 --version: %q", v.out)
	} else if !strings.HasPrefix(v.out, "iperf 3.12") {
		t.Logf("the kernel side runs %s (vnic speaks 3.12's protocol)", strings.SplitN(v.out, "\n", 2)[0])
	}
	for _, tc := range []struct {
		name string
		args []string
		cfg  iperf3.Config
	}{
		{"plain", nil, iperf3.Config{}},
		{"R", []string{"-R"}, iperf3.Config{Reverse: true}},
		{"P4", []string{"-P", "4"}, iperf3.Config{Parallel: 4}},
		// The options that reach the other end: -w, -M and -N make the
		// server listen anew, -C sets its streams' algorithm; the kernel's
		// client also asks for the server's output.
		{"options", []string{"-w", "128K", "-M", "1200", "-N", "-C", "reno", "--get-server-output"},
			iperf3.Config{Window: 128 << 10, MSS: 1200, NoDelay: true, Congestion: "reno"}},
	} {
		t.Run("kernel-client/"+tc.name, func(t *testing.T) { kernelClientVnicServer(t, k, bin, 2, tc.args) })
		t.Run("vnic-client/"+tc.name, func(t *testing.T) { vnicClientKernelServer(t, k, bin, 2, tc.cfg) })
	}
}

// TestKernelIperf3WithLoss runs iperf3 between the kernel and vnic over
// a TAP that drops 3 % of one side's TCP: on vnic's egress (vnic's
// netem) or on the kernel's (the kernel's netem or, without one, an
// nftables bridge rule: kernelEgressLoss). Each side's loss is met by
// both clients and in both directions of the data: the lossy side sends
// the data (its segments lost and retransmitted) or only ACKs (thinned),
// with -R and with -P 4; each run a second long. Both iperf3s' documents
// parse and agree, data moved at a nonzero rate, the lossy sender
// counted retransmissions; over each side's runs the capture is clean,
// tshark finds retransmissions and gaps only in the lossy side's
// segments, and the other side's TCP never went into loss recovery —
// unless the path itself counted drops of the kernel's segments (its TAP
// queue overflowing while vnic's reader is starved of CPU, or vnic's
// receive ring): then as many as were counted, and no more.
func TestKernelIperf3WithLoss(t *testing.T) {
	bin := requireTool(t, "iperf3")
	type run struct {
		name   string
		kernel []string       // the kernel's client's options
		vnic   *iperf3.Config // else vnic's client's
	}
	for _, side := range []struct {
		name string
		spec tapSpec
		runs []run
	}{
		{"vnic-egress", tapSpec{name: "iperfloss", ifname: "vt8", subnet: "198.18.9", rings: 4096, vnicLoss: 3}, []run{
			{name: "kernel-client/R-P4", kernel: []string{"-R", "-P", "4"}}, // vnic sends
			{name: "vnic-client/plain", vnic: &iperf3.Config{}},             // vnic sends
			{name: "kernel-client/plain", kernel: []string{}},               // the kernel sends
		}},
		{"kernel-egress", tapSpec{name: "iperfkloss", ifname: "vt9", subnet: "198.18.10", rings: 4096, kernelLoss: 3}, []run{
			{name: "kernel-client/P4", kernel: []string{"-P", "4"}},      // the kernel sends
			{name: "vnic-client/R", vnic: &iperf3.Config{Reverse: true}}, // the kernel sends
			{name: "vnic-client/P4", vnic: &iperf3.Config{Parallel: 4}},  // vnic sends
		}},
	} {
		t.Run(side.name, func(t *testing.T) {
			k := newKernelTAP(t, side.spec)
			for _, r := range side.runs {
				t.Run(r.name, func(t *testing.T) {
					var c iperfJSON
					var vnicSends bool
					if r.vnic != nil {
						c, _ = vnicClientKernelServer(t, k, bin, 1, *r.vnic)
						vnicSends = !r.vnic.Reverse
					} else {
						c, _ = kernelClientVnicServer(t, k, bin, 1, r.kernel)
						vnicSends = slices.Contains(r.kernel, "-R")
					}
					// The sender's retransmissions, from its own TCP_INFO.
					if vnicSends == (k.vnicLoss != nil) && c.End.SumSent.Retransmits == 0 {
						t.Errorf("the lossy side sent %.0f bytes and retransmitted none", c.End.SumSent.Bytes)
					}
				})
			}
			k.checkLoss(t)
		})
	}
}

// iperfJSON is the part of iperf3 -J both sides are checked on.
type iperfJSON struct {
	Start struct {
		Connected []struct {
			Socket int `json:"socket"`
		} `json:"connected"`
		TestStart struct {
			NumStreams int `json:"num_streams"`
			Reverse    int `json:"reverse"`
		} `json:"test_start"`
		TCPMSS      int `json:"tcp_mss"`
		SockBufsize int `json:"sock_bufsize"`
	} `json:"start"`
	Intervals []struct {
		Sum struct {
			Bytes float64 `json:"bytes"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		Streams []struct {
			Sender struct {
				Bytes float64 `json:"bytes"`
			} `json:"sender"`
			Receiver struct {
				Bytes float64 `json:"bytes"`
			} `json:"receiver"`
		} `json:"streams"`
		SumSent struct {
			Bytes       float64 `json:"bytes"`
			Retransmits float64 `json:"retransmits"`
			Sender      bool    `json:"sender"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes float64 `json:"bytes"`
			BPS   float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		SenderCongestion   string `json:"sender_tcp_congestion"`
		ReceiverCongestion string `json:"receiver_tcp_congestion"`
	} `json:"end"`
	ServerOutput *iperfJSON `json:"server_output_json"`
	Error        string     `json:"error"`
}

func parseIperfJSON(t *testing.T, who, s string) iperfJSON {
	t.Helper()
	var j iperfJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		t.Fatalf("%s -J: %v\n%s", who, err, s)
	}
	if j.Error != "" {
		t.Fatalf("%s -J reports an error: %s", who, j.Error)
	}
	return j
}

// lockedBuf is a buffer the test reads while another goroutine writes.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// kernelClientVnicServer: vnic's iperf3 -s -1 -J on k's vnic host, the
// kernel's iperf3 -c … -t secs -J in k's namespace; it returns both
// documents, checked against each other.
func kernelClientVnicServer(t *testing.T, k *kernelTAP, bin string, secs int, args []string) (client, server iperfJSON) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var sout, serr lockedBuf
	served := make(chan error, 1)
	go func() {
		served <- iperf3.Server(ctx, k.h, iperf3.Config{Server: true, OneOff: true, JSON: true}, iperf3.Output{Stdout: &sout, Stderr: &serr})
	}()
	cmd := exec.CommandContext(ctx, k.ip, append([]string{"netns", "exec", k.ns, bin, "-c", k.vnic, "-t", fmt.Sprint(secs), "-J",
		"--connect-timeout", "5000"}, args...)...)
	var kerr bytes.Buffer
	cmd.Stderr = &kerr
	kout, err := cmd.Output()
	if err != nil {
		t.Fatalf("kernel iperf3 -c %v: %v\n%s%s", args, err, kout, kerr.String())
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("vnic server: %v\n%s", err, serr.String())
		}
	case <-ctx.Done():
		// Where it waits: the goroutines of the whole test binary.
		var g bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&g, 1)
		t.Fatalf("vnic server did not finish; its stderr:\n%s\ngoroutines:\n%s", serr.String(), g.String())
	}
	kj := parseIperfJSON(t, "kernel client", string(kout))
	v := parseIperfJSON(t, "vnic server", sout.String())
	checkIperfPair(t, kj, v, len(args) > 0 && args[0] == "-R", streamsOf(args))
	if strings.Contains(strings.Join(args, " "), "--get-server-output") {
		// The server's own document came back inside the client's, and
		// the options took: the MSS, the buffers, the algorithm.
		so := kj.ServerOutput
		if so == nil || so.End.SumReceived.Bytes != v.End.SumReceived.Bytes || so.Start.TCPMSS != 1200 || so.Start.SockBufsize != 128<<10 ||
			kj.End.ReceiverCongestion != "reno" || v.End.ReceiverCongestion != "reno" {
			t.Errorf("server output %+v; congestion %q %q", so, kj.End.ReceiverCongestion, v.End.ReceiverCongestion)
		}
	}
	t.Logf("kernel client %v: sent %.0f, received %.0f bytes, %.0f Mbit/s, %.0f retransmitted", args,
		kj.End.SumSent.Bytes, kj.End.SumReceived.Bytes, kj.End.SumReceived.BPS/1e6, kj.End.SumSent.Retransmits)
	return kj, v
}

// vnicClientKernelServer: the kernel's iperf3 -s -1 -J in k's namespace,
// vnic's iperf3 -c … -t secs -J on k's vnic host; it returns both
// documents, checked against each other.
func vnicClientKernelServer(t *testing.T, k *kernelTAP, bin string, secs int, cfg iperf3.Config) (client, server iperfJSON) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, k.ip, "netns", "exec", k.ns, bin, "-s", "-1", "-J", "-B", k.kernel)
	var kout, kerr bytes.Buffer
	srv.Stdout, srv.Stderr = &kout, &kerr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	cfg.Host, cfg.Duration, cfg.JSON = netip.MustParseAddr(k.kernel), time.Duration(secs)*time.Second, true
	cfg.ConnectTimeout = 2 * time.Second
	var vout, verr lockedBuf
	var err error
	// The server may take a moment to listen: a refused connection is
	// tried again, a bounded number of times.
	for try := 0; try < 50; try++ {
		vout, verr = lockedBuf{}, lockedBuf{}
		err = iperf3.Client(ctx, k.h, cfg, iperf3.Output{Stdout: &vout, Stderr: &verr})
		if err == nil || !strings.Contains(err.Error(), "refused") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("vnic client: %v\n%s", err, vout.String())
	}
	waited := make(chan error, 1)
	go func() { waited <- srv.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("kernel iperf3 -s: %v\n%s%s", err, kout.String(), kerr.String())
		}
	case <-ctx.Done():
		t.Fatal("kernel iperf3 -s did not finish")
	}
	v := parseIperfJSON(t, "vnic client", vout.String())
	kj := parseIperfJSON(t, "kernel server", kout.String())
	checkIperfPair(t, v, kj, cfg.Reverse, max(cfg.Parallel, 1))
	if cfg.MSS != 0 && (kj.Start.TCPMSS != cfg.MSS || kj.Start.SockBufsize != cfg.Window || kj.End.ReceiverCongestion != cfg.Congestion ||
		v.End.SenderCongestion != cfg.Congestion) {
		t.Errorf("the kernel's server took -M %d -w %d -C %s as %+v, congestion %q (vnic's %q)", cfg.MSS, cfg.Window, cfg.Congestion,
			kj.Start, kj.End.ReceiverCongestion, v.End.SenderCongestion)
	}
	t.Logf("vnic client -R=%v -P %d: sent %.0f, received %.0f bytes, %.0f Mbit/s, %.0f retransmitted", cfg.Reverse, max(cfg.Parallel, 1),
		v.End.SumSent.Bytes, v.End.SumReceived.Bytes, v.End.SumReceived.BPS/1e6, v.End.SumSent.Retransmits)
	return v, kj
}

func streamsOf(args []string) int {
	for i, a := range args {
		if a == "-P" && i+1 < len(args) {
			var n int
			fmt.Sscan(args[i+1], &n)
			return n
		}
	}
	return 1
}

// checkIperfPair compares a client's -J with its server's: both ran
// the same test, moved bytes, and the figures the client has from the
// server are the server's own.
func checkIperfPair(t *testing.T, c, s iperfJSON, reverse bool, streams int) {
	t.Helper()
	if len(c.Start.Connected) != streams || len(s.Start.Connected) != streams {
		t.Errorf("streams: client %d, server %d, want %d", len(c.Start.Connected), len(s.Start.Connected), streams)
	}
	if c.Start.TestStart.NumStreams != streams || s.Start.TestStart.NumStreams != streams ||
		(c.Start.TestStart.Reverse == 1) != reverse || (s.Start.TestStart.Reverse == 1) != reverse {
		t.Errorf("test_start: client %+v, server %+v", c.Start.TestStart, s.Start.TestStart)
	}
	if len(c.Intervals) == 0 || len(s.Intervals) == 0 {
		t.Errorf("intervals: client %d, server %d", len(c.Intervals), len(s.Intervals))
	}
	if c.End.SumSent.Bytes <= 0 || c.End.SumReceived.Bytes <= 0 || c.End.SumReceived.BPS <= 0 {
		t.Errorf("client's sums: sent %.0f, received %.0f bytes, %.0f bit/s", c.End.SumSent.Bytes, c.End.SumReceived.Bytes, c.End.SumReceived.BPS)
	}
	if c.End.SumReceived.Bytes > c.End.SumSent.Bytes {
		t.Errorf("received %.0f > sent %.0f", c.End.SumReceived.Bytes, c.End.SumSent.Bytes)
	}
	// The server prints before the exchange: its own side only. That
	// side is what the client got from it.
	if reverse {
		if s.End.SumSent.Bytes != c.End.SumSent.Bytes || !s.End.SumSent.Sender {
			t.Errorf("sent: server says %.0f, the client has %.0f", s.End.SumSent.Bytes, c.End.SumSent.Bytes)
		}
	} else if s.End.SumReceived.Bytes != c.End.SumReceived.Bytes {
		t.Errorf("received: server says %.0f, the client has %.0f", s.End.SumReceived.Bytes, c.End.SumReceived.Bytes)
	}
	if len(c.End.Streams) != streams {
		t.Fatalf("client's end streams: %d", len(c.End.Streams))
	}
	for i, st := range c.End.Streams {
		if st.Sender.Bytes <= 0 || st.Receiver.Bytes <= 0 || st.Receiver.Bytes > st.Sender.Bytes {
			t.Errorf("stream %d: sent %.0f, received %.0f", i, st.Sender.Bytes, st.Receiver.Bytes)
		}
	}
}
