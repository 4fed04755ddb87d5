package nl

import (
	"testing"
	"time"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
	"vnic/internal/topo"
)

// fakeBackend has no devices: Serve must answer anything with a reply or
// an error, never a panic.
type fakeBackend struct{}

func (fakeBackend) Device(name string) (ethtool.Device, error) {
	return nil, ethtool.AttrErrorf("lookup", "dev", 19, "no device matches name")
}

// FuzzServe feeds arbitrary request bodies to every command of both
// families — against no device, and against a live vnic device (whose
// state the sets may change: it must stay servable) — and arbitrary
// notification bodies to the decoder.
func FuzzServe(f *testing.F) {
	w, err := topo.Build(topo.Pair(topo.DeviceConfig{Queues: 2}, 1, 1000))
	if err != nil {
		f.Fatal(err)
	}
	defer w.Close()
	w.Run(time.Millisecond)
	c := &client{name: "h1/vnic0"}
	f.Add(uint8(MsgFeaturesSet), []byte{8, 0, 1, 0, 6, 0, 2, 0})
	f.Add(uint8(MsgRingsSet), c.request(0, func(ae *netlink.AttributeEncoder) { ae.Uint32(ARingsRx, 64) }))
	f.Add(uint8(MsgChannelsSet), c.request(0, func(ae *netlink.AttributeEncoder) { ae.Uint32(AChannelsCombinedCount, 1) }))
	f.Add(uint8(MsgCoalesceSet), c.request(0, func(ae *netlink.AttributeEncoder) { ae.Uint32(coalesceAttr(ethtool.RxUsecs), 20) }))
	f.Add(uint8(VMsgRxfhSet), c.request(0, func(ae *netlink.AttributeEncoder) { ae.Bytes(VAIndir, u32s(make([]uint32, 128))) }))
	f.Add(uint8(MsgFeaturesNtf), encodeFeatures("h1/vnic0", ethtool.ListOf(ethtool.SG, ethtool.SG, ethtool.SG)))
	f.Add(uint8(VMsgRxClsIns), c.request(0, func(ae *netlink.AttributeEncoder) {
		ae.Nested(VARule, func(n *netlink.AttributeEncoder) error {
			encodeRule(n, sampleRules().Rules[0])
			return nil
		})
	}))
	f.Add(uint8(VMsgRxClsDel), c.request(0, func(ae *netlink.AttributeEncoder) { ae.Uint32(VALoc, 3) }))
	f.Add(uint8(VMsgExtAct), c.request(0, func(ae *netlink.AttributeEncoder) { ae.Uint8(VAExtOp, uint8(ethtool.ExtIdentify)) }))
	f.Add(uint8(VMsgTSInfoGet), c.request(0, nil))
	live := &Server{Backend: w.Ethtool()}
	f.Fuzz(func(t *testing.T, cmd uint8, body []byte) {
		if cmd == VMsgTestAct || cmd == VMsgEEPROMSet {
			cmd = 0 // the self-test and EEPROM writes are slow or sticky; covered elsewhere
		}
		s := &Server{Backend: fakeBackend{}}
		for _, fam := range []string{FamilyName, VendorFamilyName} {
			live.Serve(fam, cmd, false, body)
			r, err := s.Serve(fam, cmd, false, body)
			if err == nil && r == nil && cmd != 0 {
				_ = r
			}
			_ = ErrorOffset(body, err)
			DecodeNtf(fam, cmd, body)
		}
		decodeBitset(body, ethtool.KernelFeatureNames[:])
		decodeModes(body)
		decodeFeatureReply(body)
	})
}

// TestCodecRoundTrip: what the server encodes, the client decodes to the
// same values.
func TestCodecRoundTrip(t *testing.T) {
	l := ethtool.ListOf(ethtool.SG|ethtool.TSO|ethtool.GRO, ethtool.SG|ethtool.TSO, ethtool.SG|ethtool.GRO)
	got, err := decodeFeatures(encodeFeatures("d", l))
	if err != nil {
		t.Fatal(err)
	}
	for i := range l {
		if got[i] != l[i] {
			t.Fatalf("feature %d: %+v, want %+v", i, got[i], l[i])
		}
	}
	n, ok := DecodeNtf(FamilyName, MsgRingsNtf, encodeRings("d", ethtool.Ring{RxMax: 4096, TxMax: 4096, Rx: 512, Tx: 256}))
	if !ok || n.Dev != "d" || n.Ring.Rx != 512 || n.Ring.Tx != 256 || n.Ring.RxMax != 4096 {
		t.Fatalf("rings: %+v %+v", n, n.Ring)
	}
}
