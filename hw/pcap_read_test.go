package hw

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// TestReadPcapTiming: what PcapWriter writes reads back; microsecond and
// big-endian files too; bad files are refused with what is wrong.
func TestReadPcapTiming(t *testing.T) {
	var b bytes.Buffer
	w, err := NewPcapWriter(&b, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(5*time.Second+100, make([]byte, 60))
	w.Write(5*time.Second+1100, make([]byte, 1514))
	w.Write(5*time.Second+900, make([]byte, 64)) // backwards: simultaneous
	recs, err := ReadPcapTiming(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := []PcapRecord{{At: 0, Len: 60}, {At: 1000, Len: 1514}, {At: 1000, Len: 64}}
	if len(recs) != 3 || recs[0] != want[0] || recs[1] != want[1] || recs[2] != want[2] {
		t.Fatalf("records %v, want %v", recs, want)
	}
	// Microseconds, big endian.
	var u bytes.Buffer
	h := make([]byte, 24)
	binary.BigEndian.PutUint32(h, 0xa1b2c3d4)
	u.Write(h)
	for i, us := range []uint32{10, 35} {
		r := make([]byte, 16)
		binary.BigEndian.PutUint32(r[0:], 1)
		binary.BigEndian.PutUint32(r[4:], us)
		binary.BigEndian.PutUint32(r[8:], 2)
		binary.BigEndian.PutUint32(r[12:], uint32(100+i))
		u.Write(r)
		u.Write([]byte{0, 0})
	}
	recs, err = ReadPcapTiming(&u)
	if err != nil || len(recs) != 2 || recs[1] != (PcapRecord{25 * time.Microsecond, 101}) {
		t.Fatalf("µs big endian: %v %v", recs, err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "file header"},
		{"pcapng", append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, make([]byte, 20)...), "pcapng"},
		{"text", []byte(strings.Repeat("hello ", 5)), "not a pcap"},
		{"truncated", append(b.Bytes()[:24+16+10:24+16+10], []byte{}...), "truncated"},
		{"half header", b.Bytes()[:24+8], "record 0 header"},
	} {
		if _, err := ReadPcapTiming(bytes.NewReader(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func FuzzReadPcapTiming(f *testing.F) {
	var b bytes.Buffer
	w, _ := NewPcapWriter(&b, 0)
	w.Write(time.Second, make([]byte, 60))
	f.Add(b.Bytes())
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ReadPcapTiming(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].At < recs[i-1].At || recs[i].Len < 0 {
				t.Fatalf("records out of order or negative: %v", recs)
			}
		}
	})
}
