package rtnetlink

import (
	"net"
	"reflect"
	"testing"
)

// What ip link add, set and show carry beyond ifinfomsg's basics goes
// through the codec unchanged: the kind with a veth's peer nested in
// IFLA_INFO_DATA, the namespace handle, the carrier, the peer's index
// and nsid.
func TestLinkMsgAttrs(t *testing.T) {
	on := false
	for _, m := range []LinkMsg{
		{Name: "veth1", Kind: "veth", LinkNetnsID: -1, Peer: &LinkMsg{Name: "veth2", NetnsFD: 7, HasNetns: true, MTU: 1400, LinkNetnsID: -1}},
		{Name: "dummy0", Kind: "dummy", LinkNetnsID: -1},
		{Index: 3, NetnsFD: 2, HasNetns: true, Flags: 1, Change: 1, LinkNetnsID: -1},
		{Index: 3, Carrier: &on, MAC: net.HardwareAddr{0x52, 0x54, 0, 0x6a, 0xc7, 0x5e}, LinkNetnsID: -1},
		{Index: 2, Name: "veth2", Link: 3, LinkNetnsID: 1, Kind: "veth"},
		{Index: 2, Name: "veth2", Link: 3, LinkNetnsID: -1, Kind: "veth"},
	} {
		var got LinkMsg
		if err := got.Unmarshal(m.Marshal()); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("\n got %+v\nwant %+v", got, m)
		}
	}
}
