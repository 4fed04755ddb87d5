package control

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/iproute"
	"vnic/internal/netns"
	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/rtnetlink"
)

// batchHost is vnic up --empty with host r, its dummy d0 up at
// 198.18.0.1/24 (the batch section of docs/performance.md), and a
// connection bound to r.
func batchHost(b *testing.B) (*topo.World, *nlclient.Conn) {
	w, err := topo.Build(topo.Config{Time: topo.VirtualTime, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	s, err := Serve(w, filepath.Join(b.TempDir(), "vnic.sock"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ns, err := nlclient.Dial(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ns.Close() })
	for i, line := range []string{"netns add r", "-n r link add d0 type dummy", "-n r link set d0 up", "-n r addr add 198.18.0.1/24 dev d0"} {
		c := ns
		if i > 0 {
			if c, err = nlclient.Dial(s.Path()); err != nil {
				b.Fatal(err)
			}
			if err := c.RouteBind("r", 0); err != nil {
				b.Fatal(err)
			}
		}
		var out bytes.Buffer
		if code := iproute.Run(strings.Fields(line), iproute.Options{T: c, Stdout: &out, Stderr: &out,
			Namespaces: func() (netns.Client, error) { return ns, nil }}); code != 0 {
			b.Fatalf("%s: %s", line, out.String())
		}
		if i > 0 {
			c.Close()
		}
	}
	c, err := nlclient.Dial(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if err := c.RouteBind("r", 0); err != nil {
		b.Fatal(err)
	}
	return w, c
}

// newRoute is RTM_NEWROUTE for the i-th /32 from 10.0.0.0 via 198.18.0.2,
// as ip route add makes it.
func newRoute(i int) []byte {
	a := netip.AddrFrom4([4]byte{10 + byte(i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
	return rtnetlink.RouteMsg{DstLen: 32, Dst: a, Gateway: netip.MustParseAddr("198.18.0.2"), Table: 254, Protocol: 3, Scope: 0, Type: 1}.Marshal()
}

const routeFlags = mnl.Request | mnl.Acknowledge | mnl.Create | mnl.Excl

// The server's RTM_NEWROUTE path without the socket: a packet's requests
// (128) through the rtnetlink service in one go (dispatch, decoding, the
// IPv4 checks and the FIB insert, the answers); b.N routes into one table.
func BenchmarkServerNewRoute(b *testing.B) {
	w, _ := batchHost(b)
	svc := &rtnetlink.Service{Host: func(string) *stack.Host { return w.Host("r").Stack }}
	reqs := make([]mnl.Message, b.N)
	for i := range reqs {
		reqs[i] = mnl.Message{Header: mnl.Header{Type: rtnetlink.RTMNewRoute, Flags: routeFlags, Sequence: uint32(i + 1)}, Data: newRoute(i)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	failed := 0
	for i := 0; i < len(reqs); i += 128 {
		svc.HandleBatch("r", 0, reqs[i:min(i+128, len(reqs))], func(_ int, _ []mnl.Message, err error) bool {
			if err != nil {
				failed++
			}
			return true
		})
	}
	b.StopTimer()
	if failed > 0 {
		b.Fatalf("%d of %d refused", failed, b.N)
	}
}

// The whole path of ip -batch's changes, both ends: packed 128 a packet
// by the client (nlclient's pipeline, stopping at a refusal as ip -batch
// does), read, decoded and run by the server, answered and read back.
func BenchmarkSocketNewRoute(b *testing.B) {
	_, c := batchHost(b)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = newRoute(i)
	}
	refused := 0
	if err := c.PipelineUntilRefused(128, func(int, error) { refused++ }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, body := range bodies {
		if _, err := c.Route(rtnetlink.RTMNewRoute, mnl.Acknowledge|mnl.Create|mnl.Excl, body); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	c.Pipeline(0, nil)
	if refused > 0 {
		b.Fatalf("%d refused", refused)
	}
}
