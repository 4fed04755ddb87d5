package iproute

import (
	"bytes"
	"testing"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
	"vnic/stack/rtnetlink"
)

// ip monitor's lines, as ip 6.1 printed these events on Linux 6.18: an
// address added, its local route, a route, a neighbour, an MTU change (a
// link line without mode and queue length), deletions.
func TestMonitor(t *testing.T) {
	f := world()
	addr := rtnetlink.AddrMsg{Index: 2, PrefixLen: 24, Flags: rtnetlink.IFAFPermanent, Local: a4("198.18.7.1"), Address: a4("198.18.7.1"), Label: "vnic0"}
	lroute := rtnetlink.RouteMsg{Table: fib.TableLocal, DstLen: 32, Dst: a4("198.18.7.1"), Type: uint8(fib.RTNLocal), Protocol: fib.ProtoKernel,
		Scope: uint8(fib.ScopeHost), Oif: 2, PrefSrc: a4("198.18.7.1")}
	route := rtnetlink.RouteMsg{Table: fib.TableMain, DstLen: 24, Dst: a4("198.18.8.0"), Type: uint8(fib.RTNUnicast), Protocol: fib.ProtoBoot,
		Gateway: a4("198.18.7.9"), Oif: 2}
	nb := rtnetlink.NeighMsg{Index: 2, State: uint16(neigh.NUDPermanent), Type: 1, Dst: a4("198.18.7.30"), LLAddr: mac("02:00:00:00:00:30")}
	failed := rtnetlink.NeighMsg{Index: 2, State: uint16(neigh.NUDFailed), Type: 1, Dst: a4("198.18.7.30")}
	l := f.links[1]
	l.MTU = 1400
	f.events = [][]mnl.Message{
		msgs(rtnetlink.RTMNewAddr, addr.Marshal()),
		append(msgs(rtnetlink.RTMNewRoute, lroute.Marshal()), msgs(rtnetlink.RTMNewRoute, route.Marshal())...),
		msgs(rtnetlink.RTMNewNeigh, nb.Marshal()),
		msgs(rtnetlink.RTMNewLink, l.Marshal()),
		msgs(rtnetlink.RTMDelNeigh, failed.Marshal()),
		msgs(rtnetlink.RTMDelAddr, addr.Marshal()),
		msgs(rtnetlink.RTMDelRoute, lroute.Marshal()),
	}
	var out, errb bytes.Buffer
	if code := Run([]string{"monitor"}, Options{T: f, Stdout: &out, Stderr: &errb, Count: 8}); code != 0 {
		t.Fatal(errb.String())
	}
	want := `2: vnic0    inet 198.18.7.1/24 scope global vnic0
       valid_lft forever preferred_lft forever
local 198.18.7.1 dev vnic0 table local proto kernel scope host src 198.18.7.1 
198.18.8.0/24 via 198.18.7.9 dev vnic0 
198.18.7.30 dev vnic0 lladdr 02:00:00:00:00:30 PERMANENT 
2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc noqueue state UP group default 
    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
Deleted 198.18.7.30 dev vnic0 FAILED 
Deleted 2: vnic0    inet 198.18.7.1/24 scope global vnic0
       valid_lft forever preferred_lft forever
Deleted local 198.18.7.1 dev vnic0 table local proto kernel scope host src 198.18.7.1 
`
	if out.String() != want {
		t.Fatalf("monitor:\n%q\nwant:\n%q", out.String(), want)
	}
	if _, errs, code := runLine(t, world(), "monitor frob"); code != 255 || errs != "Argument \"frob\" is unknown, try \"ip monitor help\".\n" {
		t.Fatalf("%d %q", code, errs)
	}
}

// A resilient group's upkeep moving a bucket (nexthop_bucket_notify):
// ip monitor nexthop prints the bucket as ip nexthop bucket does.
func TestMonitorNexthopBucket(t *testing.T) {
	f := world()
	b := rtnetlink.NexthopBucketMsg{Family: 2, ID: 10, HasBucket: true, BucketAttrs: rtnetlink.BucketIndex | rtnetlink.BucketNhID | rtnetlink.BucketIdleTime, Index: 0, NhID: 3}
	f.events = [][]mnl.Message{msgs(rtnetlink.RTMNewNexthopBucket, b.Marshal())}
	var out, errb bytes.Buffer
	if code := Run([]string{"monitor", "nexthop"}, Options{T: f, Stdout: &out, Stderr: &errb, Count: 1}); code != 0 {
		t.Fatal(errb.String())
	}
	if want := "id 10 index 0 idle_time 0 nhid 3 \n"; out.String() != want {
		t.Fatalf("monitor: %q, want %q", out.String(), want)
	}
}
