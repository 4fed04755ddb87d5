package header

import (
	"bytes"
	"testing"
)

func TestTCPFields(t *testing.T) {
	checkFields(t, 60, []field{
		{"src port", 0, []byte{0x1f, 0x90}, func(b []byte) { TCP(b).SetSrcPort(8080) }, func(b []byte) any { return TCP(b).SrcPort() }, uint16(8080)},
		{"dst port", 2, []byte{0, 80}, func(b []byte) { TCP(b).SetDstPort(80) }, func(b []byte) any { return TCP(b).DstPort() }, uint16(80)},
		{"seq", 4, []byte{0xde, 0xad, 0xbe, 0xef}, func(b []byte) { TCP(b).SetSeq(0xdeadbeef) }, func(b []byte) any { return TCP(b).Seq() }, uint32(0xdeadbeef)},
		{"ack", 8, []byte{0, 0, 0, 1}, func(b []byte) { TCP(b).SetAck(1) }, func(b []byte) any { return TCP(b).Ack() }, uint32(1)},
		{"header len", 12, []byte{0x80}, func(b []byte) { TCP(b).SetHeaderLen(32) }, func(b []byte) any { return TCP(b).HeaderLen() }, 32},
		{"flags", 13, []byte{0x12}, func(b []byte) { TCP(b).SetFlags(TCPSyn | TCPAck) }, func(b []byte) any { return TCP(b).Flags() }, uint8(0x12)},
		{"window", 14, []byte{0xff, 0xff}, func(b []byte) { TCP(b).SetWindow(65535) }, func(b []byte) any { return TCP(b).Window() }, uint16(65535)},
		{"checksum", 16, []byte{0x12, 0x34}, func(b []byte) { TCP(b).SetChecksum(0x1234) }, func(b []byte) any { return TCP(b).Checksum() }, uint16(0x1234)},
		{"urgent", 18, []byte{0, 9}, func(b []byte) { TCP(b).SetUrgent(9) }, func(b []byte) any { return TCP(b).Urgent() }, uint16(9)},
	})
}

func TestTCPValid(t *testing.T) {
	off := func(doff byte, n int) []byte {
		b := make([]byte, n)
		b[12] = doff << 4
		return b
	}
	checkValid(t, func(b []byte) bool { return TCP(b).IsValid() }, []validCase{
		{"minimal", off(5, 20), true},
		{"19 bytes", off(5, 19), false},
		{"data offset 4", off(4, 20), false},
		{"data offset 0", off(0, 40), false},
		{"data offset 8 in 31 bytes", off(8, 31), false},
		{"data offset 8 in 32 bytes", off(8, 32), true},
		{"data offset 15 in 60 bytes", off(15, 60), true},
	})
}

func TestTCPOptionsAndPayload(t *testing.T) {
	b := make([]byte, 36)
	th := TCP(b)
	th.SetHeaderLen(32)
	copy(b[20:], []byte{TCPOptNOP, TCPOptNOP, TCPOptTimestamp, 10, 1, 2, 3, 4, 5, 6, 7, 8})
	copy(b[32:], "data")
	if !bytes.Equal(th.Options(), b[20:32]) || string(th.Payload()) != "data" {
		t.Fatalf("options % x payload %q", th.Options(), th.Payload())
	}
}

func FuzzTCP(f *testing.F) {
	f.Add(append([]byte{0, 80, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x12}, make([]byte, 14)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		th := TCP(b)
		if !th.IsValid() {
			return
		}
		_, _, _, _, _ = th.SrcPort(), th.DstPort(), th.Seq(), th.Ack(), th.Flags()
		_, _, _ = th.Window(), th.Checksum(), th.Urgent()
		if len(th.Options())+TCPMinHeaderLen+len(th.Payload()) != len(b) || th.HeaderLen() > TCPMaxHeaderLen {
			t.Fatalf("options %d payload %d of %d bytes", len(th.Options()), len(th.Payload()), len(b))
		}
	})
}
