package control

import (
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/iperf3"
	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack/netlink"
)

// iperfRun is what one vnic_iperf3 stream sent back.
type iperfRun struct {
	stdout, stderr string
	messages       int
	status         int
	err            error
}

func runIperf(t *testing.T, path, host string, cfg iperf3.Config) iperfRun {
	t.Helper()
	c, err := nlclient.Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Timeout = 30 * time.Second
	r := iperfRun{status: -1}
	r.err = c.Stream(IperfFamily, IperfCmdRun, IperfRequest(host, cfg), func(_ uint8, attrs []byte) {
		r.messages++
		ad, err := mnl.NewAttributeDecoder(attrs)
		if err != nil {
			t.Error(err)
			return
		}
		var kind uint8
		var text string
		var stderr bool
		for ad.Next() {
			switch ad.Type() {
			case IperfAttrKind:
				kind = ad.Uint8()
			case IperfAttrText:
				text = ad.String()
			case IperfAttrStderr:
				stderr = true
			case IperfAttrStatus:
				r.status = int(ad.Uint32())
			}
		}
		switch {
		case kind == IperfOut && stderr:
			r.stderr += text
		case kind == IperfOut:
			r.stdout += text
		case kind != IperfExit:
			t.Errorf("message kind %d", kind)
		}
	})
	return r
}

// What the family refuses before a test: a virtual-time host
// (EOPNOTSUPP: iperf3 measures the wall clock), a host the topology does
// not have (ENOENT), an option iperf3 refuses (EINVAL, iperf3's words).
func TestIperfRefusals(t *testing.T) {
	s, _ := serve(t, ipWorld(t))
	for _, tc := range []struct {
		host  string
		cfg   iperf3.Config
		errno syscall.Errno
		msg   string
	}{
		{"h1", iperf3.Config{Host: netip.MustParseAddr("198.18.5.1")}, syscall.EOPNOTSUPP, "host h1 runs on the virtual clock: iperf3 measures the wall clock (run the topology with vnic up --time real)"},
		{"h1", iperf3.Config{Server: true}, syscall.EOPNOTSUPP, "host h1 runs on the virtual clock: iperf3 measures the wall clock (run the topology with vnic up --time real)"},
		{"nope", iperf3.Config{Server: true}, syscall.ENOENT, `no host "nope" in the running topology`},
		{"h1", iperf3.Config{Host: netip.MustParseAddr("198.18.5.1"), Parallel: 200}, syscall.EINVAL, "parameter error - number of parallel streams too large (maximum = 128)"},
		{"h1", iperf3.Config{}, syscall.EINVAL, "parameter error - must either be a client (-c) or server (-s)"},
	} {
		r := runIperf(t, s.Path(), tc.host, tc.cfg)
		var ne *netlink.Error
		if !errors.As(r.err, &ne) || ne.Errno != tc.errno || ne.Msg != tc.msg || r.messages != 0 {
			t.Errorf("%s %+v: %v (%d messages), want %v %q", tc.host, tc.cfg, r.err, r.messages, tc.errno, tc.msg)
		}
	}
}

// A server and a client through the control socket on a real-time
// topology: what each prints comes back (stdout and stderr apart), -J's
// document whole though sent in pieces, then the exit status.
func TestIperfStreams(t *testing.T) {
	w, err := topo.Build(topo.Config{Time: topo.RealTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.5.2/24"}}}},
		{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.5.1/24"}}}},
	}, Cables: []topo.CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 10000}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s, err := Serve(w, filepath.Join(t.TempDir(), "vnic.sock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := make(chan iperfRun, 1)
	go func() { srv <- runIperf(t, s.Path(), "h2", iperf3.Config{Server: true, OneOff: true}) }()
	var c iperfRun
	for try := 0; try < 100; try++ {
		c = runIperf(t, s.Path(), "h1", iperf3.Config{Host: netip.MustParseAddr("198.18.5.1"), Duration: time.Second, Parallel: 30, JSON: true})
		if !strings.Contains(c.stdout, "Connection refused") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c.err != nil || c.status != 0 || c.stderr != "" {
		t.Fatalf("client: %v, status %d, stderr %q", c.err, c.status, c.stderr)
	}
	var doc struct {
		Start struct {
			Connected []any `json:"connected"`
		} `json:"start"`
		End struct {
			SumReceived struct {
				Bytes float64 `json:"bytes"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(c.stdout), &doc); err != nil || len(doc.Start.Connected) != 30 || doc.End.SumReceived.Bytes <= 0 {
		t.Errorf("the client's document (%d bytes): %v, %+v", len(c.stdout), err, doc)
	}
	if len(c.stdout) <= maxIperfText || c.messages < 3 {
		t.Errorf("a %d-byte document in %d messages: want it in pieces", len(c.stdout), c.messages)
	}
	var r iperfRun
	select {
	case r = <-srv:
	case <-time.After(20 * time.Second):
		t.Fatal("the one-off server did not end")
	}
	if r.err != nil || r.status != 0 || !strings.Contains(r.stdout, "Server listening on 5201 (test #1)\n") ||
		!strings.Contains(r.stdout, "receiver\n") || r.stderr != "" {
		t.Errorf("server: %v, status %d\n%s\nstderr %q", r.err, r.status, r.stdout, r.stderr)
	}
	// An error: iperf3's line on stderr, status 1.
	e := runIperf(t, s.Path(), "h1", iperf3.Config{Host: netip.MustParseAddr("198.18.5.1"), Port: 5999, Duration: time.Second})
	if e.err != nil || e.status != 1 || e.stdout != "" || e.stderr != "iperf3: error - unable to connect to server: Connection refused\n" {
		t.Errorf("refused: %v, status %d, %q, %q", e.err, e.status, e.stdout, e.stderr)
	}
}

// IperfRequest and ParseIperfRequest agree on every option.
func TestIperfRequestRoundTrip(t *testing.T) {
	cfg := iperf3.Config{Host: netip.MustParseAddr("198.18.5.1"), Port: 5202, Bind: netip.MustParseAddr("198.18.5.2"),
		Interval: 500 * time.Millisecond, Format: 'm', JSON: true, Duration: 3 * time.Second, Parallel: 4, Reverse: true,
		BlockSize: 65536, Window: 1 << 20, Congestion: "reno", MSS: 1400, NoDelay: true, ConnectTimeout: time.Second}
	host, got, err := ParseIperfRequest(IperfRequest("h1", cfg))
	if err != nil || host != "h1" || !reflect.DeepEqual(got, cfg) {
		t.Errorf("round trip: %q %+v %v\nwant %+v", host, got, err, cfg)
	}
	srv := iperf3.Config{Server: true, OneOff: true, NoInterval: true}
	if _, got, _ := ParseIperfRequest(IperfRequest("h2", srv)); !reflect.DeepEqual(got, srv) {
		t.Errorf("server: %+v", got)
	}
}

// Any request body: no panic, and what parses encodes back to itself.
func FuzzIperfRequest(f *testing.F) {
	f.Add(IperfRequest("h1", iperf3.Config{Host: netip.MustParseAddr("198.18.5.1"), Duration: time.Second, Parallel: 2}))
	f.Add(IperfRequest("h2", iperf3.Config{Server: true, OneOff: true, JSON: true, Congestion: "cubic"}))
	f.Add([]byte{4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		host, cfg, err := ParseIperfRequest(b)
		if err != nil || strings.ContainsRune(host+cfg.Congestion, 0) {
			return
		}
		host2, cfg2, err := ParseIperfRequest(IperfRequest(host, cfg))
		if err != nil || host2 != host || !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("%q %+v → %q %+v (%v)", host, cfg, host2, cfg2, err)
		}
	})
}
