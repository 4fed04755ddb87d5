package control

import (
	"errors"
	"syscall"
	"testing"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/inet"
	"vnic/stack/ipv4"
)

// A sysctl write names its key: one with an empty name is refused with
// EINVAL and changes nothing (it used to write every switch of the host).
func TestSysctlWriteNeedsName(t *testing.T) {
	w := ipWorld(t)
	_, c := serve(t, w)
	in := ipv4.Of(w.Host("h1").Stack)
	before := in.Forwarding()
	ae := mnl.NewAttributeEncoder()
	ae.String(inet.InetAttrHost, "h1")
	ae.String(inet.InetAttrName, "")
	ae.String(inet.InetAttrValue, "1")
	body, _ := ae.Encode()
	if _, err := c.Execute(inet.InetFamily, inet.InetCmdSysctl, mnl.Request, body); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("write without a name: %v, want EINVAL", err)
	}
	if in.Forwarding() != before || in.RPFilterConf(nil) != 0 {
		t.Errorf("a refused write changed the host: forwarding %v (was %v), rp_filter %d", in.Forwarding(), before, in.RPFilterConf(nil))
	}
}
