package ipv4

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// resRig is a host with IPv4, devices vnic0 and vnic1 (vnic1 enslaved to
// VRF red), nexthops 1 and 2 through vnic0 and 3 through vnic1, and the
// rtnetlink notifications it sends.
type resRig struct {
	t          *testing.T
	h          *stack.Host
	in         *Inet
	clk        *hw.VirtualClock
	d0, d1, vr *stack.NetDevice
	told       []rtnetlink.Message
}

func newResRig(t *testing.T) *resRig {
	t.Helper()
	clk, h := stacktest.NewHost(t, 1)
	in, err := InetInit(h, InetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	x := &resRig{t: t, h: h, in: in, clk: clk}
	x.d0, _ = stacktest.NewDev(t, h, 1)
	x.d1, _ = stacktest.NewDev(t, h, 1)
	if x.vr, err = stack.NewVRF("red", 100); err != nil {
		t.Fatal(err)
	}
	if err := h.Register(x.vr); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*stack.NetDevice{x.d0, x.d1, x.vr} {
		d.CarrierOn()
		if err := d.Open(); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.d1.SetMaster(x.vr); err != nil {
		t.Fatal(err)
	}
	rtnetlink.Listen(h, func(group uint32, m rtnetlink.Message) {
		if group == rtnetlink.RTMGrpNexthop {
			x.told = append(x.told, m)
		}
	})
	for _, nh := range []rtnetlink.NexthopMsg{
		{Family: syscall.AF_INET, ID: 1, Oif: uint32(x.d0.Ifindex()), Gateway: netip.MustParseAddr("198.18.5.1"), Flags: rtnetlink.RTNHFOnLink},
		{Family: syscall.AF_INET, ID: 2, Oif: uint32(x.d0.Ifindex()), Gateway: netip.MustParseAddr("198.18.5.3"), Flags: rtnetlink.RTNHFOnLink},
		{Family: syscall.AF_INET, ID: 3, Oif: uint32(x.d1.Ifindex()), Gateway: netip.MustParseAddr("198.18.6.1"), Flags: rtnetlink.RTNHFOnLink},
	} {
		x.req(rtnetlink.RTMNewNexthop, rtnetlink.FlagCreate|rtnetlink.FlagExcl, nh.Marshal())
	}
	x.told = nil
	return x
}

func (x *resRig) handle(typ, flags uint16, body []byte) ([]rtnetlink.Message, error) {
	return rtnetlink.Handle(x.h, rtnetlink.Request{Type: typ, Flags: flags | rtnetlink.FlagRequest, Body: body})
}

func (x *resRig) req(typ, flags uint16, body []byte) []rtnetlink.Message {
	x.t.Helper()
	ms, err := x.handle(typ, flags, body)
	if err != nil {
		x.t.Fatalf("request %d: %v", typ, err)
	}
	return ms
}

// group is NHA_GROUP of resilient group id over members.
func resGroup(id uint32, res uint8, buckets uint16, idle uint32, members ...uint32) []byte {
	m := rtnetlink.NexthopMsg{ID: id, GroupType: rtnetlink.NhGrpTypeRes, HasType: true, HasRes: true, ResAttrs: res, Buckets: buckets, IdleTimer: idle}
	for _, id := range members {
		m.Group = append(m.Group, rtnetlink.NexthopGrp{ID: id, Weight: 1})
	}
	return m.Marshal()
}

// buckets is a bucket dump's answer as "group/index:nhid@idle" words.
func buckets(t *testing.T, ms []rtnetlink.Message) string {
	t.Helper()
	var out []string
	for _, m := range ms {
		var b rtnetlink.NexthopBucketMsg
		if m.Type != rtnetlink.RTMNewNexthopBucket || b.Unmarshal(m.Body) != nil {
			t.Fatalf("not a bucket: %+v", m)
		}
		out = append(out, fmt.Sprintf("%d/%d:%d@%d", b.ID, b.Index, b.NhID, b.IdleTime))
	}
	return strings.Join(out, " ")
}

func errText(err error) string {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		return fmt.Sprintf("%v %q", ne.Errno, ne.Msg)
	}
	return fmt.Sprint(err)
}

// TestNexthopBucketMessages: RTM_GETNEXTHOPBUCKET's get and dump with
// rtm_dump_nexthop_bucket's filters and nh_valid_*_bucket_req's
// refusals, the group's NHA_RES_GROUP in RTM_NEWNEXTHOP, and the
// notifications: the group's on a replace, a bucket's on each migration
// the scheduled upkeep makes (none for those the replace made).
func TestNexthopBucketMessages(t *testing.T) {
	x := newResRig(t)
	all := rtnetlink.ResBuckets | rtnetlink.ResIdleTimer
	x.req(rtnetlink.RTMNewNexthop, rtnetlink.FlagCreate|rtnetlink.FlagExcl, resGroup(10, all, 8, 200, 1, 3))
	x.req(rtnetlink.RTMNewNexthop, rtnetlink.FlagCreate|rtnetlink.FlagExcl, rtnetlink.NexthopMsg{ID: 12, Group: []rtnetlink.NexthopGrp{{ID: 1, Weight: 1}}}.Marshal())
	x.clk.RunUntil(time.Second)
	dump := func(f rtnetlink.NexthopBucketMsg) (string, error) {
		ms, err := x.handle(rtnetlink.RTMGetNexthopBucket, 0x300, f.Marshal())
		if err != nil {
			return "", err
		}
		return buckets(t, ms), nil
	}
	for _, tc := range []struct {
		f    rtnetlink.NexthopBucketMsg
		want string
	}{
		{rtnetlink.NexthopBucketMsg{}, "10/0:3@100 10/1:3@100 10/2:3@100 10/3:3@100 10/4:1@100 10/5:1@100 10/6:1@100 10/7:1@100"},
		{rtnetlink.NexthopBucketMsg{ID: 10, HasBucket: true, BucketAttrs: rtnetlink.BucketNhID, NhID: 1}, "10/4:1@100 10/5:1@100 10/6:1@100 10/7:1@100"},
		{rtnetlink.NexthopBucketMsg{Oif: uint32(x.d1.Ifindex())}, "10/0:3@100 10/1:3@100 10/2:3@100 10/3:3@100"},
		{rtnetlink.NexthopBucketMsg{Master: uint32(x.vr.Ifindex())}, "10/0:3@100 10/1:3@100 10/2:3@100 10/3:3@100"},
		{rtnetlink.NexthopBucketMsg{Master: uint32(x.d0.Ifindex())}, ""},
		{rtnetlink.NexthopBucketMsg{Family: syscall.AF_INET, Oif: uint32(x.d0.Ifindex())}, "10/4:1@100 10/5:1@100 10/6:1@100 10/7:1@100"},
		{rtnetlink.NexthopBucketMsg{Family: syscall.AF_INET6}, ""},
	} {
		if got, err := dump(tc.f); got != tc.want || err != nil {
			t.Errorf("dump %+v:\n got %s (%v)\nwant %s", tc.f, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f    rtnetlink.NexthopBucketMsg
		want string
	}{
		{rtnetlink.NexthopBucketMsg{ID: 1}, "invalid argument \"Not a nexthop group\""},
		{rtnetlink.NexthopBucketMsg{ID: 12}, "invalid argument \"Nexthop group not of type resilient\""},
		{rtnetlink.NexthopBucketMsg{ID: 99}, "no such file or directory"},
		{rtnetlink.NexthopBucketMsg{HasBucket: true, BucketAttrs: rtnetlink.BucketNhID}, "invalid argument \"Invalid nexthop id\""},
		{rtnetlink.NexthopBucketMsg{Protocol: 4}, "invalid argument \"Invalid values in header for nexthop dump request\""},
		{rtnetlink.NexthopBucketMsg{Oif: 1 << 31}, "invalid argument \"Invalid device index\""},
		{rtnetlink.NexthopBucketMsg{Master: 1 << 31}, "invalid argument \"Invalid master device index\""},
	} {
		if _, err := dump(tc.f); errText(err) != tc.want {
			t.Errorf("dump %+v: %s, want %s", tc.f, errText(err), tc.want)
		}
	}
	get := func(m rtnetlink.NexthopBucketMsg) (string, error) {
		ms, err := x.handle(rtnetlink.RTMGetNexthopBucket, 0, m.Marshal())
		if err != nil {
			return "", err
		}
		return buckets(t, ms), nil
	}
	if got, err := get(rtnetlink.NexthopBucketMsg{ID: 10, HasBucket: true, BucketAttrs: rtnetlink.BucketIndex, Index: 5}); got != "10/5:1@100" || err != nil {
		t.Errorf("get bucket 5: %s %v", got, err)
	}
	for _, tc := range []struct {
		m    rtnetlink.NexthopBucketMsg
		want string
	}{
		{rtnetlink.NexthopBucketMsg{ID: 10}, "invalid argument \"Bucket information is missing\""},
		{rtnetlink.NexthopBucketMsg{ID: 10, HasBucket: true}, "invalid argument \"Bucket index is missing\""},
		{rtnetlink.NexthopBucketMsg{HasBucket: true, BucketAttrs: rtnetlink.BucketIndex}, "invalid argument \"Nexthop id is missing\""},
		{rtnetlink.NexthopBucketMsg{ID: 10, Flags: 1, HasBucket: true, BucketAttrs: rtnetlink.BucketIndex}, "invalid argument \"Invalid values in header\""},
		{rtnetlink.NexthopBucketMsg{ID: 10, HasBucket: true, BucketAttrs: rtnetlink.BucketIndex, Index: 8}, "no such file or directory \"Bucket index out of bounds\""},
	} {
		if _, err := get(tc.m); errText(err) != tc.want {
			t.Errorf("get %+v: %s, want %s", tc.m, errText(err), tc.want)
		}
	}
	// A nexthop dump's NHA_MASTER: the nexthops through a device of the
	// VRF (no group).
	var ids []uint32
	for _, m := range x.req(rtnetlink.RTMGetNexthop, 0x300, rtnetlink.NexthopMsg{Master: uint32(x.vr.Ifindex())}.Marshal()) {
		var nh rtnetlink.NexthopMsg
		if nh.Unmarshal(m.Body) == nil {
			ids = append(ids, nh.ID)
		}
	}
	if fmt.Sprint(ids) != "[3]" {
		t.Errorf("nexthops under red: %v", ids)
	}
	if len(x.told) != 2 {
		t.Fatalf("notifications of the adds: %d", len(x.told))
	}
	x.told = nil

	// Busy buckets, then 1/2/3 (wants 3, 2, 3): the group's notification
	// at once (out of balance for 0), the buckets' when the upkeep moves
	// them, one of 1's and one of 3's to 2.
	for i := range uint32(8) {
		x.in.fib.ResolveNexthop(10, i)
	}
	x.req(rtnetlink.RTMNewNexthop, rtnetlink.FlagCreate|rtnetlink.FlagReplace, resGroup(10, 0, 0, 0, 1, 2, 3))
	x.clk.RunUntil(2 * time.Second)
	var g rtnetlink.NexthopMsg
	if len(x.told) != 1 || x.told[0].Type != rtnetlink.RTMNewNexthop || g.Unmarshal(x.told[0].Body) != nil {
		t.Fatalf("the replace's notifications: %+v", x.told)
	}
	if g.ResAttrs != rtnetlink.ResAll || g.Buckets != 8 || g.IdleTimer != 200 || g.UnbalancedTimer != 0 || g.UnbalancedTime != 0 {
		t.Errorf("the group's NHA_RES_GROUP: %+v", g)
	}
	ms := x.req(rtnetlink.RTMGetNexthop, 0, rtnetlink.NexthopMsg{ID: 10}.Marshal())
	if g.Unmarshal(ms[0].Body) != nil || g.UnbalancedTime != 100 {
		t.Errorf("out of balance since 1 s, at 2 s: %d", g.UnbalancedTime)
	}
	x.told = nil
	x.clk.RunUntil(4 * time.Second)
	if got := buckets(t, x.told); got != "10/0:2@0 10/4:2@0" {
		t.Errorf("migrations told: %s", got)
	}
	// Deleting 2 moves its buckets at once: the group is told, not the
	// buckets.
	x.told = nil
	x.req(rtnetlink.RTMDelNexthop, 0, rtnetlink.NexthopMsg{ID: 2}.Marshal())
	x.clk.RunUntil(10 * time.Second)
	if len(x.told) != 2 || x.told[0].Type != rtnetlink.RTMDelNexthop || x.told[1].Type != rtnetlink.RTMNewNexthop {
		t.Errorf("deleting a member told %d messages", len(x.told))
	}
	if got, _ := dump(rtnetlink.NexthopBucketMsg{ID: 10}); got != "10/0:3@600 10/1:3@900 10/2:3@900 10/3:3@900 10/4:1@600 10/5:1@900 10/6:1@900 10/7:1@900" {
		t.Errorf("after deleting 2: %s", got)
	}
}
