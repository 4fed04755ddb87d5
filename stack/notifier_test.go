package stack_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/internal/stacktest"
	"vnic/stack"
)

// recorder is a netdev notifier that writes down what it hears, but for
// the events in ignore.
type recorder struct {
	name   string
	events *[]string
	ignore []stack.NetdevEvent
}

func (r recorder) fn(ev stack.NetdevEvent, d *stack.NetDevice) {
	for _, e := range r.ignore {
		if e == ev {
			return
		}
	}
	*r.events = append(*r.events, fmt.Sprintf("%s %s %s", r.name, ev, d.Name()))
}

// noFeat ignores FEAT_CHANGE, which the other tests do not pin down (see
// TestNetdevRegisterSendsOnlyRegister for registration's).
var noFeat = []stack.NetdevEvent{stack.NetdevFeatChange}

func wantEvents(t *testing.T, step string, got *[]string, want ...string) {
	t.Helper()
	if strings.Join(*got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s: events\n%s\nwant\n%s", step, strings.Join(*got, "\n"), strings.Join(want, "\n"))
	}
	*got = nil
}

// The netdev notifier chain reports each change of a device once, after
// it, to every notifier in registration order: REGISTER on Register, UP
// and DOWN on Open and Close, CHANGE on a carrier transition, CHANGEMTU,
// CHANGEADDR, FEAT_CHANGE when the active features change, and on
// Unregister DOWN (it closes the device) then UNREGISTER. A change that
// changes nothing (Open when up, the same carrier, the same MTU, the same
// features) and a refused change report nothing.
func TestNetdevNotifierSequence(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	var got []string
	var feat bool
	h.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		if !feat && ev == stack.NetdevFeatChange {
			return // registration's spurious one
		}
		recorder{"a", &got, nil}.fn(ev, d)
	})
	h.RegisterNetdevNotifier(recorder{"b", &got, noFeat}.fn)
	d, _ := stacktest.NewDev(t, h, 1)
	wantEvents(t, "register", &got, "a REGISTER vnic0", "b REGISTER vnic0")
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"open", d.Open, []string{"a UP vnic0", "b UP vnic0"}},
		{"open again", d.Open, nil},
		{"carrier on", func() error { d.CarrierOn(); return nil }, []string{"a CHANGE vnic0", "b CHANGE vnic0"}},
		{"carrier on again", func() error { d.CarrierOn(); return nil }, nil},
		{"carrier off", func() error { d.CarrierOff(); return nil }, []string{"a CHANGE vnic0", "b CHANGE vnic0"}},
		{"mtu", func() error { return d.SetMTU(9000) }, []string{"a CHANGEMTU vnic0", "b CHANGEMTU vnic0"}},
		{"same mtu", func() error { return d.SetMTU(9000) }, nil},
		{"mtu out of range", func() error {
			if d.SetMTU(10) == nil {
				return fmt.Errorf("MTU 10 accepted")
			}
			return nil
		}, nil},
		{"mac", func() error { return d.SetMACAddress(stack.MAC{2, 0, 0, 0, 0, 9}) }, []string{"a CHANGEADDR vnic0", "b CHANGEADDR vnic0"}},
		{"multicast mac", func() error {
			if d.SetMACAddress(stack.MAC{1, 0, 0, 0, 0, 9}) == nil {
				return fmt.Errorf("a multicast address accepted")
			}
			return nil
		}, nil},
		{"features", func() error {
			feat = true
			_, err := d.SetWantedFeatures(ethtool.GRO, 0)
			return err
		}, []string{"a FEAT_CHANGE vnic0"}},
		{"same features", func() error {
			_, err := d.SetWantedFeatures(ethtool.GRO, 0)
			return err
		}, nil},
		{"close", d.Close, []string{"a DOWN vnic0", "b DOWN vnic0"}},
		{"close again", d.Close, nil},
		{"open before unregister", d.Open, []string{"a UP vnic0", "b UP vnic0"}},
		{"unregister", func() error { return h.Unregister(d) }, []string{"a DOWN vnic0", "b DOWN vnic0", "a UNREGISTER vnic0", "b UNREGISTER vnic0"}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		wantEvents(t, s.name, &got, s.want...)
	}
}

// A notifier registered later hears only later changes; one device's
// changes name that device.
func TestNetdevNotifierLateAndPerDevice(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	var got []string
	h.RegisterNetdevNotifier(recorder{"a", &got, noFeat}.fn)
	d0, _ := stacktest.NewDev(t, h, 1)
	h.RegisterNetdevNotifier(recorder{"b", &got, noFeat}.fn)
	wantEvents(t, "register vnic0", &got, "a REGISTER vnic0")
	d1, _ := stacktest.NewDev(t, h, 1)
	wantEvents(t, "register vnic1", &got, "a REGISTER vnic1", "b REGISTER vnic1")
	if err := d1.Open(); err != nil {
		t.Fatal(err)
	}
	if err := d0.Open(); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "open", &got, "a UP vnic1", "b UP vnic1", "a UP vnic0", "b UP vnic0")
}

// A device that is not registered has no host and no chain: its changes
// report nothing, on no host.
func TestNetdevNotifierUnregisteredDevice(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	var got []string
	h.RegisterNetdevNotifier(recorder{"a", &got, noFeat}.fn)
	d := stack.NewEtherDevice("vnic%d", &stacktest.FakeOps{}, 1, 1, 9216)
	d.CarrierOn()
	d.CarrierOff()
	if err := d.SetMTU(1400); err != nil {
		t.Fatal(err)
	}
	if err := d.SetMACAddress(stack.MAC{2, 0, 0, 0, 0, 7}); err != nil {
		t.Fatal(err)
	}
	if err := d.Open(); err == nil {
		t.Fatal("an unregistered device opened")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Unregister(d); err == nil {
		t.Fatal("a device never registered was unregistered")
	}
	wantEvents(t, "unregistered device", &got)
}

// Once unregistered, a device has left the host: a second Unregister is
// refused, and neither it nor later changes to the device reach the
// host's chain.
func TestNetdevNotifierAfterUnregister(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	var got []string
	d, _ := stacktest.NewDev(t, h, 1)
	if err := h.Unregister(d); err != nil {
		t.Fatal(err)
	}
	h.RegisterNetdevNotifier(recorder{"a", &got, noFeat}.fn)
	if err := h.Unregister(d); err == nil {
		t.Fatal("a second Unregister succeeded")
	}
	d.CarrierOn()
	if err := d.SetMTU(1400); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "after unregister", &got)
}

// Registration reports REGISTER and nothing else: the initial feature
// fix-up is not a feature change, and no notifier runs under the host's
// lock (one that lists the host's devices would deadlock).
func TestNetdevRegisterSendsOnlyRegister(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	var got []string
	h.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		got = append(got, fmt.Sprintf("%s %s %d", ev, d.Name(), len(h.Devices())))
	})
	done := make(chan error, 1)
	go func() { done <- h.Register(stack.NewEtherDevice("vnic%d", &stacktest.FakeOps{}, 1, 1, 9216)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Register deadlocked: a notifier ran under the host's lock")
	}
	wantEvents(t, "register", &got, "REGISTER vnic0 1")
}

// NetdevEvent.String gives the kernel's NETDEV_* names; a value outside
// the set has a placeholder.
func TestNetdevEventString(t *testing.T) {
	for ev, want := range map[stack.NetdevEvent]string{
		stack.NetdevRegister: "REGISTER", stack.NetdevUnregister: "UNREGISTER", stack.NetdevUp: "UP", stack.NetdevDown: "DOWN",
		stack.NetdevChange: "CHANGE", stack.NetdevFeatChange: "FEAT_CHANGE", stack.NetdevChangeMTU: "CHANGEMTU",
		stack.NetdevChangeAddr: "CHANGEADDR", stack.NetdevChangeUpper: "CHANGEUPPER", 0: "NetdevEvent(?)", stack.NetdevChangeUpper + 1: "NetdevEvent(?)", 255: "NetdevEvent(?)",
	} {
		if got := ev.String(); got != want {
			t.Errorf("NetdevEvent(%d).String() = %q, want %q", uint8(ev), got, want)
		}
	}
}
