package hw

import (
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// PcapWriter writes frames in the classic pcap format (nanosecond
// timestamps, LINKTYPE_ETHERNET), which tcpdump and tshark read. Timestamps
// are the clock's time since start: virtual runs begin at the epoch.
type PcapWriter struct {
	mu      sync.Mutex
	w       io.Writer
	hdr     [16]byte
	err     error
	Frames  uint64
	snaplen int
}

const (
	pcapMagicNano   = 0xa1b23c4d
	linkTypeEthernt = 1
)

// NewPcapWriter writes the file header to w.
func NewPcapWriter(w io.Writer, snaplen int) (*PcapWriter, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagicNano)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], uint32(snaplen))
	binary.LittleEndian.PutUint32(h[20:], linkTypeEthernt)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &PcapWriter{w: w, snaplen: snaplen}, nil
}

// Write records one frame seen at time at. The first error sticks and is
// returned by Err; later writes are dropped.
func (p *PcapWriter) Write(at time.Duration, frame []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	capLen := len(frame)
	if capLen > p.snaplen {
		capLen = p.snaplen
	}
	binary.LittleEndian.PutUint32(p.hdr[0:], uint32(at/time.Second))
	binary.LittleEndian.PutUint32(p.hdr[4:], uint32(at%time.Second))
	binary.LittleEndian.PutUint32(p.hdr[8:], uint32(capLen))
	binary.LittleEndian.PutUint32(p.hdr[12:], uint32(len(frame)))
	if _, p.err = p.w.Write(p.hdr[:]); p.err == nil {
		_, p.err = p.w.Write(frame[:capLen])
	}
	p.Frames++
}

// Err returns the first write error.
func (p *PcapWriter) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
