package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/hw"
)

// run executes the vnic command line in-process and returns stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	setOut(nil, &out)
	defer setOut(nil, os.Stdout)
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestDemoJSONShapeAndDeterminism(t *testing.T) {
	a, err := run(t, "demo", "--json", "--seed", "7", "--duration", "5ms", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	b, err := run(t, "demo", "--json", "--seed", "7", "--duration", "5ms", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("the same seed gave different output")
	}
	c, err := run(t, "demo", "--json", "--seed", "8", "--duration", "5ms", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	if a == c {
		t.Fatal("a different seed gave identical output")
	}
	var rep struct {
		Devices []struct {
			Host, Name string
			Queues     []map[string]any
		}
		TCP []TCPReport
	}
	if err := json.Unmarshal([]byte(a), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Devices) != 2 || rep.Devices[0].Host != "h1" || rep.Devices[1].Name != "vnic0" || len(rep.Devices[0].Queues) != 4 {
		t.Fatalf("devices: %+v", rep.Devices)
	}
	// The demo's TCP flows: the bulk flow's 4 MiB exactly, and the rr
	// flow's transactions (64-byte requests, 1 KiB answers) for the 5 ms.
	if len(rep.TCP) != 2 {
		t.Fatalf("tcp: %+v", rep.TCP)
	}
	if b := rep.TCP[0]; b.Type != "bulk" || !b.Complete || b.Bytes != 4<<20 || b.Address != "198.18.0.2:5201" || b.GoodputMbps <= 0 {
		t.Errorf("bulk flow: %+v", b)
	}
	if r := rep.TCP[1]; r.Type != "rr" || !r.Complete || r.Transactions == 0 || r.Bytes != r.Transactions*(64+1024) || r.LatencyP50US <= 0 || r.LatencyP99US < r.LatencyP50US {
		t.Errorf("rr flow: %+v", r)
	}
	for _, k := range []string{"id", "rx_packets", "tx_packets", "rx_bytes", "interrupts", "polls", "drops"} {
		if _, ok := rep.Devices[0].Queues[0][k]; !ok {
			t.Errorf("queue object lacks %q", k)
		}
	}
	var total float64
	for _, d := range rep.Devices {
		for _, q := range d.Queues {
			total += q["rx_packets"].(float64)
		}
	}
	if total == 0 {
		t.Fatal("no packets in the demo")
	}
}

func TestDemoText(t *testing.T) {
	out, err := run(t, "demo", "--duration", "2ms", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"h1/vnic0", "h2/vnic0", "pkts/poll", "rss %", "contract violations 0", "\ntcp bulk\n", "\ntcp rr\n", "198.18.0.2:5201"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		yaml string
		want string
	}{
		{"bogus: 1\n", "bogus"},
		{"time: sideways\n", "time"},
		{"hosts:\n  - name: a\n    cpus: 99\n", "hosts[0].cpus"},
		{"hosts:\n  - name: a\n    devices:\n      - queues: 9\n", "hosts[0].devices[0].queues"},
		{"hosts:\n  - name: a\n    devices:\n      - rx_ring: 100\n", "hosts[0].devices[0].rx_ring"},
		{"hosts:\n  - name: a\n    devices:\n      - rx_mode: turbo\n", "hosts[0].devices[0].rx_mode"},
		{"hosts:\n  - name: a\n    devices:\n      - vectors: 30\n", "hosts[0].devices[0].vectors"},
		{"hosts:\n  - name: a\n    devices:\n      - itr_usecs: 5\n", "hosts[0].devices[0].itr_usecs"},
		{"hosts:\n  - name: a\n    devices:\n      - poll_quota: -1\n", "hosts[0].devices[0].poll_quota"},
		{"hosts:\n  - name: a\n    devices:\n      - napi_defer_hard_irqs: -2\n", "hosts[0].devices[0].napi_defer_hard_irqs"},
		{"hosts:\n  - name: a\n    devices:\n      - gro_flush_timeout_usecs: -1\n", "hosts[0].devices[0].gro_flush_timeout_usecs"},
		{"hosts:\n  - name: a\n    devices:\n      - rx_int_delay_usecs: 70000\n", "hosts[0].devices[0].rx_int_delay_usecs"},
		{"hosts:\n  - name: a\n    devices:\n      - rx_abs_int_delay_usecs: 50\n", "hosts[0].devices[0].rx_abs_int_delay_usecs"},
		{"hosts:\n  - name: a\n    devices:\n      - colour: red\n", "colour"},
		{"cables:\n  - a: h1\n    b: h2/vnic0\n", "cables[0].a"},
		{"traffic:\n  - size: 10\n", "traffic[0].size"},
		{"log:\n  level: loud\n", "log.level"},
		{"duration: -1s\n", "duration"},
	}
	for _, tc := range tests {
		f := filepath.Join(dir, "c.yaml")
		os.WriteFile(f, []byte(tc.yaml), 0o644)
		_, err := run(t, "demo", "--config", f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %q", tc.yaml, err, tc.want)
		}
	}
	for _, args := range [][]string{{"--rx-mode", "turbo"}, {"--threaded", "maybe"}, {"--napi-defer-hard-irqs", "-1"}, {"--gro-flush-timeout", "-5us"}} {
		if _, err := run(t, append([]string{"demo"}, args...)...); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, err := run(t, "demo", "--config", filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing config file is not an error")
	}
}

func TestConfigEnvironmentAndDefaults(t *testing.T) {
	t.Setenv("VNIC_SEED", "42")
	t.Setenv("VNIC_DURATION", "1ms")
	v, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeConfig(v)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 42 || c.Duration.String() != "1ms" || c.Time != "virtual" || len(c.Hosts) != 2 {
		t.Fatalf("seed %d duration %v time %s hosts %d", c.Seed, c.Duration, c.Time, len(c.Hosts))
	}
	// A file with a sparse device gets per-item defaults.
	f := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(f, []byte("hosts:\n  - name: solo\n    devices:\n      - {}\ncables: []\ntraffic: []\n"), 0o644)
	v, err = loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = decodeConfig(v); err != nil {
		t.Fatal(err)
	}
	d := c.Hosts[0].Devices[0]
	if c.Hosts[0].CPUs != 1 || d.Queues != 1 || d.RxRing != 256 || d.MTU != 1500 || c.Seed != 42 {
		t.Fatalf("defaults: %+v %+v", c.Hosts[0], d)
	}
}

func TestBenchNICJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("bench in -short")
	}
	out, err := run(t, "bench", "nic", "--json", "--packets", "4000", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Results []struct {
			Path            string
			Size, Queues    int
			PPS             float64
			AllocsPerPacket float64 `json:"allocs_per_packet"`
			TargetPPS       float64 `json:"target_pps"`
			VsTarget        float64 `json:"vs_target"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 9 {
		t.Fatalf("%d results", len(r.Results))
	}
	for _, x := range r.Results {
		if x.PPS <= 0 || x.TargetPPS <= 0 || x.VsTarget <= 0 {
			t.Errorf("%+v: no rate, target or ratio", x)
		}
	}
}

// TestUpRunsUntilInterrupted runs `vnic up`, drives its devices with `vnic
// ethtool` over the control socket while it runs, then interrupts it.
func TestUpRunsUntilInterrupted(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "up.yaml")
	os.WriteFile(f, []byte("log:\n  level: error\n"), 0o644)
	sock := filepath.Join(dir, "vnic.sock")
	ethtoolLines := []string{"-G h1/vnic0 rx 512", "-g h1/vnic0", "-K h1/vnic0 tso off", "-G h1/vnic0 rx 5000"}
	var cmds []func(o, e *bytes.Buffer) int
	for _, l := range ethtoolLines {
		cmds = append(cmds, func(o, e *bytes.Buffer) int {
			return runEthtool(append([]string{"--socket", sock}, strings.Fields(l)...), o, e)
		})
	}
	out, results, err := runUp(t, cmds, "up", "--config", f, "--json", "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rep.Devices) != 2 || rep.Devices[0].RxPackets == 0 {
		t.Fatalf("report: %+v", rep.Devices)
	}
	if len(results) != len(ethtoolLines) {
		t.Fatalf("%d ethtool results", len(results))
	}
	if r := results[0]; r.rc != 0 || r.out != "" || r.errOut != "" {
		t.Errorf("-G rx 512: %+v", r)
	}
	if r := results[1]; r.rc != 0 || !strings.Contains(r.out, "Current hardware settings:\nRX:\t\t512\n") {
		t.Errorf("-g: %+v", r)
	}
	if r := results[2]; r.rc != 0 || !strings.HasPrefix(r.out, "Actual changes:\n") && r.out != "" {
		t.Errorf("-K tso off: %+v", r)
	}
	if r := results[3]; r.rc != 81 || r.errOut != "netlink error: requested ring size exceeds maximum (offset 40)\nnetlink error: Invalid argument\n" {
		t.Errorf("-G rx 5000: %+v", r)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte("seed: 3\nhosts:\n  - name: a\n"))
	f.Add([]byte("traffic:\n  - {from: h1/vnic0, to: h2/vnic0, size: 60}\n"))
	f.Add([]byte("hosts:\n  - {name: a, devices: [{addresses: [198.18.0.1/24]}]}\n  - {name: b, devices: [{addresses: [198.18.0.2/24]}]}\n" +
		"tcp:\n  - {type: rr, client: a, server: b, count: 5, request_size: 10}\n  - {type: bulk, client: b, server: a, duration: 1ms}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, y []byte) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, y, 0o644); err != nil {
			t.Skip()
		}
		v, err := loadConfig(p)
		if err != nil {
			return
		}
		c, err := decodeConfig(v)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("an accepted config fails Validate: %v", err)
		}
	})
}

// TestPcapCapturePoints runs the demo with TSO on and --pcap: tshark finds
// no bad checksum and no malformed frame on the wire, while the stack
// capture (before the driver) holds TSO super-frames of the bulk flow,
// larger than any frame on the wire.
func TestPcapCapturePoints(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
			t.Fatal("tshark is required (VNIC_REQUIRE_NETNS=1) but not installed")
		}
		t.Skip("tshark not installed")
	}
	dir := t.TempDir()
	if _, err := run(t, "demo", "--duration", "3ms", "--pcap", dir, "--log-level", "error"); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ts := func(args ...string) string {
		cmd := exec.Command(tshark, args...)
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %v: %v", args, err)
		}
		return string(out)
	}
	for _, f := range []string{"h1-vnic0-wire.pcap", "h2-vnic0-wire.pcap"} {
		p := filepath.Join(dir, f)
		if n := strings.Count(ts("-r", p, "-T", "fields", "-e", "frame.number"), "\n"); n < 100 {
			t.Fatalf("%s: %d frames", f, n)
		}
		bad := ts("-r", p, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
			"-Y", "ip.checksum.status == 2 || tcp.checksum.status == 2 || udp.checksum.status == 2 || _ws.malformed")
		if strings.TrimSpace(bad) != "" {
			t.Fatalf("%s: bad frames:\n%s", f, bad)
		}
		if max := maxLen(ts("-r", p, "-T", "fields", "-e", "frame.len")); max > 1514 {
			t.Fatalf("%s: a %d-byte frame on the wire", f, max)
		}
	}
	if max := maxLen(ts("-r", filepath.Join(dir, "h1-vnic0-stack.pcap"), "-T", "fields", "-e", "frame.len")); max <= 2*1514 {
		t.Fatalf("stack capture: largest frame %d, want a TSO super-frame of several segments", max)
	}
}

func maxLen(out string) int {
	m := 0
	for _, f := range strings.Fields(out) {
		if n, err := strconv.Atoi(f); err == nil && n > m {
			m = n
		}
	}
	return m
}

func TestBenchOffloadJSON(t *testing.T) {
	out, err := run(t, "bench", "offload", "--json", "--sends", "40", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Results []struct {
			Config      string
			Gbps        float64
			WirePackets uint64 `json:"wire_packets"`
			Interrupts  uint64
			StackPkts   uint64 `json:"stack_packets"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	want := []string{"all-on", "tso-off", "gso-off", "gro-off", "all-off"}
	if len(r.Results) != len(want) {
		t.Fatalf("%d results", len(r.Results))
	}
	for i, x := range r.Results {
		if x.Config != want[i] || x.Gbps <= 0 || x.WirePackets != r.Results[0].WirePackets || x.Interrupts == 0 {
			t.Errorf("%+v", x)
		}
	}
	// GRO is what keeps the receiving stack's packet count down.
	if r.Results[0].StackPkts >= r.Results[0].WirePackets || r.Results[3].StackPkts != r.Results[3].WirePackets {
		t.Errorf("stack packets: all-on %d, gro-off %d, wire %d", r.Results[0].StackPkts, r.Results[3].StackPkts, r.Results[0].WirePackets)
	}
}

// TestBenchIRQCommand: the experiments' JSON carries the shape the issue
// names; --time real gives M0 and M1 per rate; bad flags are refused.
func TestBenchIRQCommand(t *testing.T) {
	out, err := run(t, "bench", "irq", "--experiment", "e1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Experiments []struct {
			ID     string `json:"id"`
			Pass   bool   `json:"pass"`
			Series []struct {
				Mode   string           `json:"mode"`
				Points []map[string]any `json:"points"`
			} `json:"series"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Experiments) != 1 || res.Experiments[0].ID != "E1" || !res.Experiments[0].Pass {
		t.Fatalf("E1 JSON: %v %+v", err, res)
	}
	var raw struct {
		Experiments []struct {
			Series []struct {
				Points []map[string]any `json:"points"`
			} `json:"series"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	pt := raw.Experiments[0].Series[0].Points[0]
	for _, k := range []string{"offered_pps", "delivered_pps", "interrupts_per_packet", "packets_per_poll", "p99_latency_us"} {
		if _, ok := pt[k]; !ok {
			t.Errorf("point has no %q", k)
		}
	}
	out, err = run(t, "bench", "irq", "--time", "real", "--rates", "2000", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var real struct {
		Real []struct {
			Mode string `json:"mode"`
		} `json:"real"`
	}
	if err := json.Unmarshal([]byte(out), &real); err != nil || len(real.Real) != 2 || real.Real[0].Mode != "M0" || real.Real[1].Mode != "M1" {
		t.Fatalf("real JSON: %v %s", err, out)
	}
	// A replay of a capture's timing.
	path := filepath.Join(t.TempDir(), "c.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := hw.NewPcapWriter(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		pw.Write(time.Duration(i)*20*time.Microsecond, make([]byte, 60+i))
	}
	f.Close()
	out, err = run(t, "bench", "irq", "--replay", path, "--rates", "10000", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Frames int `json:"frames"`
		Points []struct {
			Mode      string  `json:"mode"`
			Delivered float64 `json:"delivered_pps"`
		} `json:"points"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Frames != 50 || len(rep.Points) != 2 || rep.Points[1].Delivered != 10000 {
		t.Fatalf("replay JSON: %v %s", err, out)
	}
	for _, args := range [][]string{{"--experiment", "E12"}, {"--time", "sideways"}, {"--time", "real", "--rates", "0"}, {"--preset", "fast"},
		{"--replay", filepath.Join(t.TempDir(), "none.pcap")}, {"--replay", path, "--time", "real"},
		{"--experiment", "E1", "--indirect", "-1us"}, {"--experiment", "E1", "--indirect", "2ms"}, {"--experiment", "E1", "--indirect", "fast"}, {"--experiment", "E1", "--switch", "-1us"}} {
		if _, err := run(t, append([]string{"bench", "irq"}, args...)...); err == nil {
			t.Errorf("bench irq %v: no error", args)
		}
	}
}

// TestDemoDeferralFlags: NAPI deferral on every device replaces most
// interrupts with timer polls and drops nothing; threaded NAPI carries
// the traffic too. (The demo's flows respond to timing, so the packet
// counts differ between the runs.)
func TestDemoDeferralFlags(t *testing.T) {
	totals := func(args ...string) (irqs, rx, drops float64) {
		t.Helper()
		out, err := run(t, append([]string{"demo", "--json", "--duration", "5ms", "--log-level", "error"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Devices []struct {
				Queues []map[string]any
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		for _, d := range rep.Devices {
			for _, q := range d.Queues {
				irqs += q["interrupts"].(float64)
				rx += q["rx_packets"].(float64)
				drops += q["drops"].(float64)
			}
		}
		return irqs, rx, drops
	}
	baseIRQs, baseRx, baseDrops := totals()
	deferIRQs, deferRx, deferDrops := totals("--napi-defer-hard-irqs", "2", "--gro-flush-timeout", "20us")
	threadIRQs, threadRx, threadDrops := totals("--threaded", "on")
	if deferIRQs*10 > baseIRQs || deferRx < baseRx/2 || threadRx < baseRx/2 || threadIRQs == 0 || baseDrops+deferDrops+threadDrops != 0 {
		t.Errorf("interrupts/received/dropped: base %v/%v/%v, deferral %v/%v/%v, threaded %v/%v/%v",
			baseIRQs, baseRx, baseDrops, deferIRQs, deferRx, deferDrops, threadIRQs, threadRx, threadDrops)
	}
}

// TestUpIPv4 runs the example router topology under `vnic up` and drives
// it with vnic ip, vnic ping and vnic netstat over the control socket.
func TestUpIPv4(t *testing.T) {
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../configs/examples/router.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "router.yaml")
	os.WriteFile(f, append(cfg, []byte("log:\n  level: error\n")...), 0o644)
	sock := filepath.Join(dir, "vnic.sock")
	cmds := []func(o, e *bytes.Buffer) int{
		func(o, e *bytes.Buffer) int { return runIP([]string{"--socket", sock, "--host", "h1", "route"}, o, e) },
		func(o, e *bytes.Buffer) int {
			return runPing(pingOpts{socket: sock, host: "h1", count: "2", size: "56", pmtu: "want", interval: "0.2", linger: "2"}, []string{"198.18.6.2"}, o, e)
		},
		func(o, e *bytes.Buffer) int {
			return runPing(pingOpts{socket: sock, host: "h1", count: "1", size: "1400", pmtu: "do", interval: "0.2", linger: "2"}, []string{"198.18.6.2"}, o, e)
		},
		func(o, e *bytes.Buffer) int {
			return runPing(pingOpts{socket: sock, host: "h1", count: "1", size: "4000", pmtu: "want", interval: "0.2", linger: "2"}, []string{"198.18.6.2"}, o, e)
		},
		func(o, e *bytes.Buffer) int { return runNetstat(sock, "h2", false, o, e) },
		func(o, e *bytes.Buffer) int {
			return runIP([]string{"--socket", sock, "--host", "nope", "route"}, o, e)
		},
		func(o, e *bytes.Buffer) int {
			return runSysctl(sysctlOpts{socket: sock, host: "r", write: true}, []string{"net.ipv4.ip_forward=0"}, o, e)
		},
		func(o, e *bytes.Buffer) int {
			return runPing(pingOpts{socket: sock, host: "h1", count: "1", size: "56", pmtu: "want", interval: "0.2", linger: "0.5"}, []string{"198.18.6.2"}, o, e)
		},
		func(o, e *bytes.Buffer) int {
			return runSysctl(sysctlOpts{socket: sock, host: "r", write: true}, []string{"net.ipv4.ip_default_ttl=3"}, o, e)
		},
		func(o, e *bytes.Buffer) int {
			return runSysctl(sysctlOpts{socket: sock, host: "r"}, []string{"net.ipv4.conf.vnic1.forwarding"}, o, e)
		},
		func(o, e *bytes.Buffer) int { return runIP([]string{"--socket", sock, "-n", "h2", "route"}, o, e) },
		func(o, e *bytes.Buffer) int {
			return runSysctl(sysctlOpts{socket: sock, host: "r", write: true}, []string{"=1"}, o, e)
		},
		func(o, e *bytes.Buffer) int {
			return runSysctl(sysctlOpts{socket: sock, host: "r"}, []string{"net.ipv4.ip_forward"}, o, e)
		},
		func(o, e *bytes.Buffer) int { return runNetstat(sock, "h2", true, o, e) },
	}
	pcaps := filepath.Join(dir, "pcap")
	_, results, err := runUp(t, cmds, "up", "--config", f, "--socket", sock, "--pcap", pcaps)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"h1-vnic0-stack.pcap", "h1-vnic0-wire.pcap", "r-vnic1-wire.pcap", "h2-vnic0-stack.pcap"} {
		if fi, err := os.Stat(filepath.Join(pcaps, name)); err != nil || fi.Size() <= 24 {
			t.Errorf("capture %s: %v", name, err)
		}
	}
	if len(results) != len(cmds) {
		t.Fatalf("%d results", len(results))
	}
	want := []struct {
		rc       int
		out, err string // regular expressions
	}{
		{0, `^default via 198\.18\.5\.1 dev vnic0 \n198\.18\.5\.0/24 dev vnic0 proto kernel scope link src 198\.18\.5\.2 \n$`, `^$`},
		{0, `^PING 198\.18\.6\.2 \(198\.18\.6\.2\) 56\(84\) bytes of data\.\n64 bytes from 198\.18\.6\.2: icmp_seq=1 ttl=63 time=[0-9.]+ ms\n64 bytes from 198\.18\.6\.2: icmp_seq=2 ttl=63 time=[0-9.]+ ms\n\n--- 198\.18\.6\.2 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time \d+ms\nrtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms\n$`, `^$`},
		{1, `^PING 198\.18\.6\.2 \(198\.18\.6\.2\) 1400\(1428\) bytes of data\.\nFrom 198\.18\.5\.1 icmp_seq=1 Frag needed and DF set \(mtu = 1280\)\n\n--- 198\.18\.6\.2 ping statistics ---\n1 packets transmitted, 0 received, \+1 errors, 100% packet loss, time 0ms\n\n$`, `^$`},
		{0, `^PING 198\.18\.6\.2 \(198\.18\.6\.2\) 4000\(4028\) bytes of data\.\n4008 bytes from 198\.18\.6\.2: icmp_seq=1 ttl=63 time=[0-9.]+ ms\n`, `^$`},
		{0, `(?s)^Ip:\n    Forwarding: 2\n.*    4 reassemblies required\n    1 packets reassembled ok\n.*Icmp:\n.*        echo replies: 3\n`, `^$`},
		{1, `^$`, `^vnic ip: no host "nope" in the running topology\n$`},
		{0, `^net\.ipv4\.ip_forward = 0\n$`, `^$`},
		{1, `1 packets transmitted, 0 received, 100% packet loss`, `^$`},
		{1, `^$`, `^sysctl: permission denied on key "net\.ipv4\.ip_default_ttl"\n$`},
		{0, `^net\.ipv4\.conf\.vnic1\.forwarding = 0\n$`, `^$`},
		{0, `^default via 198\.18\.6\.1 dev vnic0 \n198\.18\.6\.0/24 dev vnic0 proto kernel scope link src 198\.18\.6\.2 \n$`, `^$`},
		{1, `^$`, `^sysctl: Path is not under /proc/sys/: /proc/sys/\n$`},
		{0, `^net\.ipv4\.ip_forward = 0\n$`, `^$`}, // still as set above: "=1" changed nothing
		{0, `^\{"kernel":\{"IpForwarding":2,"IpDefaultTTL":64,"IpInReceives":[0-9]+,.*"IpReasmOKs":1,.*"IcmpInEchos":3,.*\}\}\n$`, `^$`},
	}
	for i, w := range want {
		r := results[i]
		if r.rc != w.rc || !regexp.MustCompile(w.out).MatchString(r.out) || !regexp.MustCompile(w.err).MatchString(r.errOut) {
			t.Errorf("command %d: rc %d\n%s\nstderr %q", i, r.rc, r.out, r.errOut)
		}
	}
}

// upResult is what a command run against a running `vnic up` printed.
type upResult struct {
	out, errOut string
	rc          int
}

// runUp runs vnic with args (an `up`), runs cmds against it once it took
// ten steps, then interrupts it; it returns up's output and the commands'.
// routerConfig is configs/examples/router.yaml (h1 — r — h2) logging
// only errors, written for a test, and the control socket's path for it.
func routerConfig(t *testing.T) (file, sock string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../configs/examples/router.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file = dir + "/router.yaml"
	if err := os.WriteFile(file, append(cfg, []byte("log:\n  level: error\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, dir + "/vnic.sock"
}

func runUp(t *testing.T, cmds []func(o, e *bytes.Buffer) int, args ...string) (string, []upResult, error) {
	t.Helper()
	upRunning = make(chan struct{})
	defer func() { upRunning = nil }()
	var results []upResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-upRunning:
			for _, c := range cmds {
				var o, e bytes.Buffer
				rc := c(&o, &e)
				results = append(results, upResult{o.String(), e.String(), rc})
			}
		case <-time.After(30 * time.Second):
		}
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	}()
	out, err := run(t, args...)
	<-done // the commands' results are the goroutine's until it ends
	return out, results, err
}

// --features lro=on: on the default topology (no interrupt moderation) the
// driver keeps LRO off, so the request fails as ethtool -K fails, and vnic
// says why; on configs/examples/lro.yaml
// (EITR 50 µs) the device merges the bulk stream, so the receiving stack's
// GRO has nothing left to merge.
func TestFeaturesLRO(t *testing.T) {
	var errs bytes.Buffer
	appErr = &errs
	defer func() { appErr = os.Stderr }()
	if _, err := run(t, "demo", "--duration", "5ms", "--log-level", "error", "--features", "lro=on"); err == nil ||
		!strings.Contains(err.Error(), "could not change any device features") {
		t.Fatalf("lro=on without moderation: %v, want ethtool -K's refusal", err)
	}
	if want := "vnic: h1/vnic0: lro: off [requested on]: LRO needs interrupt moderation"; !strings.Contains(errs.String(), want) {
		t.Errorf("stderr %q, want it to say %q", errs.String(), want)
	}
	errs.Reset()
	out, err := run(t, "demo", "--json", "--duration", "20ms", "--log-level", "error", "--config", "../../configs/examples/lro.yaml", "--features", "lro=on")
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if errs.Len() != 0 || len(rep.Bulk) == 0 || rep.Bulk[0].MergedPackets == 0 || rep.Offload[1].GROMerged != 0 ||
		!strings.Contains(rep.Offload[1].Features, "rx-lro") {
		t.Errorf("LRO on lro.yaml: stderr %q, bulk %+v, h2 offloads %+v", errs.String(), rep.Bulk, rep.Offload[1])
	}
}

// bench tcp --virtual is deterministic: two runs print the same figures,
// one per configuration, every byte delivered.
func TestBenchTCPVirtualJSON(t *testing.T) {
	var outs [2]string
	for i := range outs {
		out, err := run(t, "bench", "tcp", "--virtual", "--json", "--mib", "16", "--log-level", "error")
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = out
	}
	if outs[0] != outs[1] {
		t.Errorf("two virtual runs differ:\n%s\n%s", outs[0], outs[1])
	}
	var r struct {
		Results []struct {
			Config   string
			Gbps     float64
			CPUPerGB float64 `json:"cpu_s_per_gb"`
			Bytes    uint64
		}
	}
	if err := json.Unmarshal([]byte(outs[0]), &r); err != nil {
		t.Fatal(err)
	}
	want := []string{"all-on", "tso-off", "gso-off", "gro-off", "all-off"}
	if len(r.Results) != len(want) {
		t.Fatalf("%d results", len(r.Results))
	}
	for i, x := range r.Results {
		if x.Config != want[i] || x.Gbps <= 0 || x.CPUPerGB <= 0 || x.Bytes != 16<<20 {
			t.Errorf("%+v", x)
		}
	}
}
