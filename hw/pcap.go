package hw

import (
	"encoding/binary"
	"fmt"
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

// PcapRecord is one frame of a capture: when it was seen (since the first
// frame) and its length on the wire (without FCS).
type PcapRecord struct {
	At  time.Duration
	Len int
}

// Limits of ReadPcapTiming.
const (
	MaxPcapRecords = 10_000_000
	maxPcapRecord  = 1 << 18
)

// ReadPcapTiming reads a classic pcap file (microsecond or nanosecond
// timestamps, either byte order) and returns each record's time since the
// first and its original length; the payload is skipped. pcapng and
// anything else is an error that says so, as are truncated records and
// lengths no capture writes. Timestamps that go backwards are taken as
// simultaneous with the one before.
func ReadPcapTiming(r io.Reader) ([]PcapRecord, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap: file header: %w", err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	nano := false
	switch m := binary.LittleEndian.Uint32(h[0:]); m {
	case 0xa1b2c3d4:
	case pcapMagicNano:
		nano = true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	case 0x0a0d0d0a:
		return nil, fmt.Errorf("pcap: this is pcapng; convert it with editcap -F pcap")
	default:
		return nil, fmt.Errorf("pcap: not a pcap file (magic %#08x)", m)
	}
	var out []PcapRecord
	var rec [16]byte
	var first, last time.Duration
	skip := make([]byte, 4096)
	for {
		if _, err := io.ReadFull(r, rec[:]); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("pcap: record %d header: %w", len(out), err)
		}
		sec, frac := bo.Uint32(rec[0:]), bo.Uint32(rec[4:])
		capLen, origLen := bo.Uint32(rec[8:]), bo.Uint32(rec[12:])
		if capLen > maxPcapRecord || origLen > maxPcapRecord || capLen > origLen && origLen != 0 {
			return nil, fmt.Errorf("pcap: record %d: captured %d of %d bytes: not a record a capture writes", len(out), capLen, origLen)
		}
		if (nano && frac >= 1e9) || (!nano && frac >= 1e6) {
			return nil, fmt.Errorf("pcap: record %d: fraction of a second %d out of range", len(out), frac)
		}
		for left := int(capLen); left > 0; {
			n, err := r.Read(skip[:min(left, len(skip))])
			left -= n
			if err != nil && left > 0 {
				return nil, fmt.Errorf("pcap: record %d truncated: %w", len(out), io.ErrUnexpectedEOF)
			}
		}
		at := time.Duration(sec) * time.Second
		if nano {
			at += time.Duration(frac)
		} else {
			at += time.Duration(frac) * time.Microsecond
		}
		if len(out) == 0 {
			first = at
		}
		at -= first
		if at < last {
			at = last
		}
		last = at
		if len(out) == MaxPcapRecords {
			return nil, fmt.Errorf("pcap: more than %d records", MaxPcapRecords)
		}
		out = append(out, PcapRecord{At: at, Len: int(origLen)})
	}
}
