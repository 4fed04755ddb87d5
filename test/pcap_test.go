package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
)

// requireTool returns the tool's path, or skips (fails under
// VNIC_REQUIRE_NETNS=1) when it is not installed.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
			t.Fatalf("%s is required (VNIC_REQUIRE_NETNS=1) but not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// capture runs two cabled hosts with a pcap tee, sends frames of the given
// sizes each way, and returns the capture file.
func capture(t *testing.T, sizes []int) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "cable.pcap")
	w, err := topo.Build(topo.Config{
		Time: topo.VirtualTime, Seed: 3,
		Hosts: []topo.HostConfig{
			{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1}}},
			{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1}}},
		},
		Cables: []topo.CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 1000, Pcap: file}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(time.Millisecond)
	a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	for i, n := range sizes {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		skb := from.Host.Stack.Pool().Alloc(n + stack.NetIPAlign)
		skb.Reserve(stack.NetIPAlign)
		stack.BuildUDPFrame(skb.Put(n), to.Netdev.Addr(), from.Netdev.Addr(), [4]byte{198, 18, 0, byte(i)}, [4]byte{198, 19, 0, 1}, uint16(1000+i), 9)
		skb.Dev = from.Netdev
		if err := stack.DevQueueXmit(skb); err != nil {
			t.Fatal(err)
		}
		w.Run(100 * time.Microsecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return file
}

var sizes = []int{60, 61, 100, 512, 1000, 1514, 60, 1514}

func TestPcapReadByTcpdump(t *testing.T) {
	tcpdump := requireTool(t, "tcpdump")
	file := capture(t, sizes)
	out, err := exec.Command(tcpdump, "-r", file, "-nn", "-e", "-tt").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, "IPv4") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(sizes) {
		t.Fatalf("tcpdump read %d frames, want %d:\n%s", len(lines), len(sizes), out)
	}
	for i, l := range lines {
		want := "length " + strconv.Itoa(sizes[i]) + ":"
		if !strings.Contains(l, want) || !strings.Contains(l, "198.18.0."+strconv.Itoa(i)+".") {
			t.Errorf("frame %d: %q lacks %q", i, l, want)
		}
	}
}

func TestPcapReadByTshark(t *testing.T) {
	tshark := requireTool(t, "tshark")
	file := capture(t, sizes)
	cmd := exec.Command(tshark, "-r", file, "-T", "fields", "-e", "frame.len", "-e", "udp.srcport")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	got := strings.Fields(string(out))
	if len(got) != 2*len(sizes) {
		t.Fatalf("tshark: %q", out)
	}
	for i := range sizes {
		if got[2*i] != strconv.Itoa(sizes[i]) || got[2*i+1] != strconv.Itoa(1000+i) {
			t.Errorf("frame %d: len %s port %s", i, got[2*i], got[2*i+1])
		}
	}
}
