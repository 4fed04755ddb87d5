package control

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/driver"
	"vnic/ethtool"
	"vnic/ethtool/cli"
	"vnic/ethtool/nl"
	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack/netlink"
)

func world(t *testing.T) *topo.World {
	t.Helper()
	cfg := topo.Pair(topo.DeviceConfig{Queues: 4}, 2, 10000)
	cfg.Checker = false
	return topo.Started(t, cfg, time.Millisecond)
}

// serve starts a control socket over w and returns a connected client.
func serve(t *testing.T, w *topo.World) (*netlink.Server, *nlclient.Conn) {
	t.Helper()
	s, err := Serve(w, filepath.Join(t.TempDir(), "vnic.sock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := nlclient.Dial(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

// TestNetlinkMatchesInProcess runs the same ethtool command lines on two
// identical worlds, one in process and one through the control socket:
// output, errors (with their netlink offsets) and exit codes must be equal.
func TestNetlinkMatchesInProcess(t *testing.T) {
	local, remote := world(t), world(t)
	_, conn := serve(t, remote)
	lines := []string{
		"-i h1/vnic0", "h1/vnic0", "-k h1/vnic0", "-P h1/vnic0", "-g h1/vnic0", "-c h1/vnic0", "-l h1/vnic0",
		"-a h1/vnic0", "-x h2/vnic0", "-n h2/vnic0 rx-flow-hash udp4", "-e h1/vnic0 length 16", "-d h1/vnic0 hex on",
		"-G h1/vnic0 rx 64 tx 128", "-G h1/vnic0 rx 5000", "-G h1/vnic0 tx 12", "-g h1/vnic0",
		"-C h1/vnic0 rx-usecs 50", "-C h1/vnic0 rx-frames 3", "-C h1/vnic0 tx-usecs 4", "-c h1/vnic0",
		"-L h2/vnic0 combined 2", "-L h2/vnic0 combined 9", "-L h2/vnic0 rx 1", "-l h2/vnic0", "-x h2/vnic0",
		"-X h2/vnic0 equal 1", "-X h2/vnic0 weight 1 2", "-x h2/vnic0", "-L h2/vnic0 combined 1", "-X h2/vnic0 default",
		"-N h2/vnic0 rx-flow-hash udp4 sdfn", "-n h2/vnic0 rx-flow-hash udp4", "-N h2/vnic0 rx-flow-hash tcp4 sd",
		"-K h1/vnic0 sg off", "-k h1/vnic0", "-K h1/vnic0 sg on", "-K h1/vnic0 lro on", "-K h1/vnic0 rxvlan on",
		"-K h1/vnic0 bogus on", "-K h1/vnic0 tx off tso on",
		fmt.Sprintf("-E h1/vnic0 magic %#x offset 6 value 9", driver.EEPROMMagic), "-E h1/vnic0 magic 1 offset 6 value 9",
		"-e h1/vnic0 offset 6 length 1", "-A h1/vnic0 rx on", "-t h1/vnic0", "-s h1/vnic0 speed 100", "-r h1/vnic0",
		"-s h1/vnic0 msglvl 5", "h1/vnic0", "-s h1/vnic0 msglvl link off timer on", "h1/vnic0",
		"-g nosuch", "-i nosuch", "-k vnic0", "-S h2/vnic0",
	}
	for _, line := range lines {
		args := strings.Fields(line)
		var lo, le, ro, re bytes.Buffer
		lrc := cli.Run(args, cli.Options{Backend: local.Ethtool(), Stdout: &lo, Stderr: &le})
		rrc := cli.Run(args, cli.Options{Backend: nl.Backend(conn), Stdout: &ro, Stderr: &re})
		if lo.String() != ro.String() || le.String() != re.String() || lrc != rrc {
			t.Errorf("ethtool %s:\nin process (exit %d):\n%s%s\nover netlink (exit %d):\n%s%s", line, lrc, lo.String(), le.String(), rrc, ro.String(), re.String())
		}
	}
}

// TestMonitor: a subscriber sees feature and ring changes and link state;
// a subscriber that does not read loses events and is told.
func TestMonitor(t *testing.T) {
	w := world(t)
	s, conn := serve(t, w)
	mon, err := nlclient.Dial(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	for _, f := range []string{nl.FamilyName, nl.VendorFamilyName} {
		if err := mon.Join(f, nl.MonitorGroup); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if rc := cli.Run(strings.Fields("-K h1/vnic0 gro off"), cli.Options{Backend: nl.Backend(conn), Stdout: &out, Stderr: &out}); rc != 0 {
		t.Fatalf("-K: %d %s", rc, out.String())
	}
	if rc := cli.Run(strings.Fields("-G h1/vnic0 rx 512"), cli.Options{Backend: nl.Backend(conn), Stdout: &out, Stderr: &out}); rc != 0 {
		t.Fatalf("-G: %d %s", rc, out.String())
	}
	var kinds []string
	for len(kinds) < 2 {
		evs, err := mon.Receive(5 * time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", kinds, err)
		}
		for _, ev := range evs {
			n, ok := nl.DecodeNtf(ev.Family, ev.Cmd, ev.Body)
			if !ok {
				t.Fatalf("undecodable event %+v", ev)
			}
			kinds = append(kinds, n.Dev+" "+n.Kind.String())
			if n.Kind == ethtool.NtfRings && n.Ring.Rx != 512 {
				t.Errorf("rings notification: %+v", n.Ring)
			}
		}
	}
	if kinds[0] != "h1/vnic0 features" || kinds[1] != "h1/vnic0 rings" {
		t.Errorf("events %v", kinds)
	}
	// A subscriber that does not read: its socket buffer fills with 16 KiB
	// events, then its queue; the sender goes on, the surplus is lost.
	slow, err := nlclient.Dial(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if err := slow.Join(nl.FamilyName, nl.MonitorGroup); err != nil {
		t.Fatal(err)
	}
	n := 2*netlink.DefaultRcvbuf/(16<<10) + 1000 // far more than the budget and a socket buffer hold
	big := make([]byte, 16<<10)
	for i := 0; i < n; i++ {
		s.Notify(nl.FamilyName, nl.MonitorGroup, nl.MsgRingsNtf, big)
	}
	got, overrun := 0, false
	for !overrun && got <= n {
		evs, err := slow.Receive(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d events: %v", got, err)
		}
		for _, ev := range evs {
			if ev.Overrun {
				overrun = true
			} else {
				got++
			}
		}
	}
	if got >= n {
		t.Errorf("received all %d events: nothing was lost", got)
	}
}

func TestSocketInUse(t *testing.T) {
	w := world(t)
	s, _ := serve(t, w)
	if _, err := netlink.Listen(s.Path()); err == nil || !strings.Contains(err.Error(), "another vnic instance") {
		t.Fatalf("second Listen: %v", err)
	}
}

// TestDumpAndLinkNotifications: a FEATURES_GET without a device is a dump
// (one NLM_F_MULTI reply per device, then NLMSG_DONE); forcing a speed
// takes the link down and up again on both ends, and the monitor hears it.
func TestDumpAndLinkNotifications(t *testing.T) {
	w := world(t)
	s, conn := serve(t, w)
	replies, err := conn.Execute(nl.FamilyName, nl.MsgFeaturesGet, mnl.Request|mnl.Dump, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 2 {
		t.Fatalf("dump: %d replies, want one per device (2)", len(replies))
	}
	for _, r := range replies {
		if r.Cmd != nl.MsgFeaturesGetReply {
			t.Errorf("dump reply command %d", r.Cmd)
		}
	}
	mon, err := nlclient.Dial(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	if err := mon.Join(nl.VendorFamilyName, nl.MonitorGroup); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if rc := cli.Run(strings.Fields("-s h1/vnic0 speed 100 autoneg off"), cli.Options{Backend: nl.Backend(conn), Stdout: &out, Stderr: &out}); rc != 0 {
		t.Fatalf("-s: %d %s", rc, out.String())
	}
	w.Run(2 * time.Millisecond) // the link drops and comes back at 100 Mb/s
	var got []string
	for len(got) < 4 {
		evs, err := mon.Receive(5 * time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		for _, ev := range evs {
			n, ok := nl.DecodeNtf(ev.Family, ev.Cmd, ev.Body)
			if !ok || n.Kind != ethtool.NtfLink {
				t.Fatalf("event %+v", ev)
			}
			got = append(got, fmt.Sprintf("%s %v", n.Dev, *n.Link))
		}
	}
	want := []string{"h1/vnic0 false", "h2/vnic0 false", "h1/vnic0 true", "h2/vnic0 true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("link events %v, want %v", got, want)
	}
}
