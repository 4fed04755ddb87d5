package driver_test

import (
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"

	"vnic/driver"
	"vnic/hw"
	"vnic/stack"
)

// probeImage probes a device whose EEPROM holds words (zero past its end).
func probeImage(words []byte) (*driver.Adapter, *stack.Host, [64]uint16, error) {
	clk := hw.NewVirtualClock()
	dev, _ := hw.NewDevice(hw.DeviceConfig{Name: "x", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}, clk, hw.NewDMA(1<<20))
	var img [64]uint16
	for i := range img {
		if 2*i+1 < len(words) {
			img[i] = binary.LittleEndian.Uint16(words[2*i:])
		}
		dev.WriteEEPROM(i, img[i])
	}
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{})
	a, err := driver.Probe(dev.Function(), h, []*hw.CPU{cpu}, driver.Config{})
	return a, h, img, err
}

// validImage is the default image for mac, as bytes.
func validImage(mac net.HardwareAddr) []byte {
	img := hw.DefaultEEPROM(mac)
	b := make([]byte, 0, 128)
	for _, w := range img {
		b = binary.LittleEndian.AppendUint16(b, w)
	}
	return b
}

// Whatever the EEPROM holds, probe does not panic: an image whose words
// 0x00-0x3F do not sum to 0xBABA is refused with igb's words and nothing is
// registered; a valid one gives its MAC, or is refused if that is not a
// unicast address.
func FuzzProbeEEPROM(f *testing.F) {
	f.Add(validImage(net.HardwareAddr{2, 0, 0, 0, 0, 1}))
	f.Add(validImage(net.HardwareAddr{1, 0, 0x5e, 0, 0, 1})) // a multicast MAC, checksum good
	f.Add(validImage(net.HardwareAddr{0, 0, 0, 0, 0, 0}))
	f.Add(make([]byte, 128))
	f.Add([]byte{0xBA, 0xBA})
	f.Fuzz(func(t *testing.T, words []byte) {
		a, h, img, err := probeImage(words)
		var sum uint16
		for _, w := range img {
			sum += w
		}
		mac := stack.MAC{byte(img[0]), byte(img[0] >> 8), byte(img[1]), byte(img[1] >> 8), byte(img[2]), byte(img[2] >> 8)}
		switch {
		case sum != hw.EEPROMChecksumSum:
			if !errors.Is(err, driver.ErrEEPROM) || !strings.Contains(err.Error(), "The NVM Checksum Is Not Valid") {
				t.Fatalf("sum %#04x: %v", sum, err)
			}
		case mac.IsMulticast() || mac.IsZero():
			if err == nil || errors.Is(err, driver.ErrEEPROM) || !strings.Contains(err.Error(), "Invalid MAC Address") {
				t.Fatalf("MAC %s: %v", mac, err)
			}
		default:
			if err != nil || a.PermAddr() != mac || len(h.Devices()) != 1 {
				t.Fatalf("valid image with MAC %s: %v", mac, err)
			}
			return
		}
		if len(h.Devices()) != 0 {
			t.Fatal("a refused image registered a device")
		}
	})
}
