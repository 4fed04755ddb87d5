package nl

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/netlink"

	"vnic/internal/topo"
)

// A set sent as a dump is refused with EOPNOTSUPP (the kernel's ethtool
// set operations have no dumpit) and a set without a device with EINVAL:
// neither reaches any device. A get without a device is a dump over all.
func TestSetNeedsOneDevice(t *testing.T) {
	w, err := topo.Build(topo.Pair(topo.DeviceConfig{Queues: 2}, 1, 1000))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Run(time.Millisecond)
	s := &Server{Backend: w.Ethtool()}
	rings := func() []uint32 {
		var out []uint32
		for _, n := range []string{"h1/vnic0", "h2/vnic0"} {
			d, err := w.Ethtool().Device(n)
			if err != nil {
				t.Fatal(err)
			}
			g, err := d.Ring()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, g.Rx)
		}
		return out
	}
	before := rings()
	noDev := encode(func(ae *netlink.AttributeEncoder) { ae.Uint32(ARingsRx, 128) })
	for _, c := range []struct {
		family string
		cmd    uint8
		dump   bool
		errno  syscall.Errno
	}{
		{FamilyName, MsgRingsSet, true, syscall.EOPNOTSUPP},
		{FamilyName, MsgRingsSet, false, syscall.EINVAL},
		{FamilyName, MsgFeaturesSet, true, syscall.EOPNOTSUPP},
		{VendorFamilyName, VMsgNwayAct, true, syscall.EOPNOTSUPP},
		{VendorFamilyName, VMsgRxfhSet, false, syscall.EINVAL},
	} {
		_, err := s.Serve(c.family, c.cmd, c.dump, noDev)
		if !errors.Is(err, c.errno) {
			t.Errorf("%s %d dump %v: %v, want %v", c.family, c.cmd, c.dump, err, c.errno)
		}
	}
	if after := rings(); after[0] != before[0] || after[1] != before[1] {
		t.Errorf("rx rings %v after refused sets, were %v", after, before)
	}
	r, err := s.Serve(FamilyName, MsgRingsGet, true, encode(func(*netlink.AttributeEncoder) {}))
	if err != nil || len(r) != 2 {
		t.Fatalf("get dump: %d replies, %v", len(r), err)
	}
}
