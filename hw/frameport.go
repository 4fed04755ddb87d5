package hw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"vnic/header"
	"vnic/offload"
)

// FrameIO is a frame pipe: each read returns one frame, each write takes
// one (a TAP file descriptor).
type FrameIO interface {
	io.ReadWriteCloser
}

// minFrame is the shortest Ethernet frame without FCS.
const minFrame = 60

// virtio_net_hdr (IFF_VNET_HDR): little-endian, 10 bytes, 12 with
// num_buffers.
const (
	vnetNeedsCsum = 1
	vnetGSONone   = 0
	vnetGSOTCPv4  = 1
	vnetGSOECN    = 0x80
)

// FramePort plugs a device's wire into a frame pipe such as a Linux TAP:
// what the device transmits is written to the pipe, and a reader
// goroutine hands what the pipe yields to the device's receive engine.
// Real time only. With a vnet header (VnetHdrLen 10 or 12) the pipe's
// frames carry offload metadata: a TCP super-frame from the kernel is cut
// into MSS-sized segments and a partial checksum is finished here, so only
// frames a wire could carry reach the device; frames the device sends go
// out with an empty header (complete frames, checksums done).
type FramePort struct {
	clock Clock
	io    FrameIO
	hdr   int
	dev   *Device
	rx    func(frame []byte) // dev.Receive
	tap   atomic.Pointer[PcapWriter]

	wmu     sync.Mutex
	wbuf    []byte
	done    chan struct{}
	closed  atomic.Bool
	scratch []byte

	// Counters: frames each way, frames the kernel sent that were
	// segmented or dropped as malformed, write errors.
	TxFrames, RxFrames, RxSegmented, RxBad, TxErrors atomic.Uint64
	// ReadErr is set when the reader gave up on the pipe.
	ReadErr atomic.Pointer[error]

	lostMu  sync.Mutex
	onLost  func(error)
	lostErr error // the loss, once it happened
	told    bool  // onLost heard of it
}

// SetOnLost sets what is called, once, when the pipe fails for good while
// the port is open — its TAP deleted — after the device's carrier has been
// dropped; err names the TAP, for the caller to log. It may be set at any
// time: a loss that happened before is reported at once (from the caller's
// goroutine; otherwise from the reader's).
func (p *FramePort) SetOnLost(fn func(err error)) {
	p.lostMu.Lock()
	defer p.lostMu.Unlock()
	p.onLost = fn
	if p.lostErr != nil && fn != nil && !p.told {
		p.told = true
		fn(p.lostErr)
	}
}

// ErrPortLost is what a FramePort reports through SetOnLost and ReadErr when
// its pipe failed for good.
var ErrPortLost = errors.New("hw: port lost")

// NewFramePort returns a port over pipe; vnetHdrLen is 0, 10 or 12.
func NewFramePort(clock Clock, pipe FrameIO, vnetHdrLen int) (*FramePort, error) {
	if vnetHdrLen != 0 && vnetHdrLen != 10 && vnetHdrLen != 12 {
		return nil, fmt.Errorf("hw: vnet header of %d bytes: want 0, 10 or 12", vnetHdrLen)
	}
	return &FramePort{clock: clock, io: pipe, hdr: vnetHdrLen, done: make(chan struct{}), wbuf: make([]byte, 12+16384), scratch: make([]byte, 16384)}, nil
}

// Tap captures both directions into w (a wire capture); it may be set
// while frames flow.
func (p *FramePort) Tap(w *PcapWriter) { p.tap.Store(w) }

// Plug connects dev to the port and starts reading.
func (p *FramePort) Plug(dev *Device) {
	p.dev = dev
	p.rx = dev.Receive
	dev.Connect(p)
	go p.read()
}

// Close stops the reader and closes the pipe.
func (p *FramePort) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	err := p.io.Close()
	<-p.done
	return err
}

// Transmit implements Port.
func (p *FramePort) Transmit(frame []byte) time.Duration {
	now := p.clock.Now()
	if p.closed.Load() {
		return now
	}
	if t := p.tap.Load(); t != nil {
		t.Write(now, frame)
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	b := frame
	if p.hdr > 0 {
		if cap(p.wbuf) < p.hdr+len(frame) {
			p.wbuf = make([]byte, p.hdr+len(frame))
		}
		b = p.wbuf[:p.hdr+len(frame)]
		clear(b[:p.hdr])
		copy(b[p.hdr:], frame)
	}
	if _, err := p.io.Write(b); err != nil {
		p.TxErrors.Add(1)
		return now
	}
	p.TxFrames.Add(1)
	return now
}

func (p *FramePort) read() {
	defer close(p.done)
	buf := make([]byte, p.hdr+65536+256)
	fails := 0
	for {
		n, err := p.io.Read(buf)
		if err != nil {
			if p.closed.Load() || errors.Is(err, os.ErrClosed) {
				return
			}
			// A transient failure is retried; a pipe that keeps failing
			// or reaches its end (its TAP deleted under it: the kernel
			// answers EBADFD, or EOF) is a pulled cable.
			if fails++; fails <= 100 && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EBADFD) {
				continue
			}
			p.lose(err)
			return
		}
		fails = 0
		p.deliver(buf[:n])
	}
}

// lose is the pipe gone for good: the device loses its carrier (STATUS.LU
// clears, LSC is raised, as when a cable is pulled) and SetOnLost's
// function hears of it.
func (p *FramePort) lose(err error) {
	name := "pipe"
	if t, ok := p.io.(interface{ Ifname() string }); ok {
		name = "TAP " + t.Ifname()
	}
	err = fmt.Errorf("%w: %s: %w (link down)", ErrPortLost, name, err)
	p.ReadErr.Store(&err)
	if p.dev != nil {
		p.dev.SetCarrier(false)
	}
	p.lostMu.Lock()
	defer p.lostMu.Unlock()
	p.lostErr = err
	if p.onLost != nil {
		p.told = true
		p.onLost(err)
	}
}

// deliver hands one frame from the pipe to the device, doing the offload
// work its vnet header asks for.
func (p *FramePort) deliver(b []byte) {
	if p.hdr == 0 {
		p.receive(b)
		return
	}
	if len(b) < p.hdr {
		p.RxBad.Add(1)
		return
	}
	h, frame := b[:p.hdr], b[p.hdr:]
	flags, gso := h[0], h[1]&^vnetGSOECN
	gsoSize := int(binary.LittleEndian.Uint16(h[4:6]))
	start, off := int(binary.LittleEndian.Uint16(h[6:8])), int(binary.LittleEndian.Uint16(h[8:10]))
	switch gso {
	case vnetGSONone:
		if flags&vnetNeedsCsum != 0 {
			udp := off == header.UDPChecksumOffset
			if !offload.FinishChecksum(frame, start, off, udp) {
				p.RxBad.Add(1)
				return
			}
		}
		p.receive(frame)
	case vnetGSOTCPv4:
		const mac = header.EthernetHeaderLen
		if len(frame) < mac+header.IPv4MinHeaderLen {
			p.RxBad.Add(1)
			return
		}
		ipLen := header.IPv4(frame[mac:]).HeaderLen()
		if len(frame) < mac+ipLen+header.TCPMinHeaderLen {
			p.RxBad.Add(1)
			return
		}
		th := header.TCP(frame[mac+ipLen:])
		l4Len := th.HeaderLen()
		// The kernel's seed covers the super-frame's length; segmenting
		// wants it without (a TSO context's convention).
		th.SetChecksum(offload.SeedRemoveLength(th.Checksum(), uint16(len(th))))
		if need := mac + ipLen + l4Len + gsoSize; need > len(p.scratch) {
			p.scratch = make([]byte, need)
		}
		if _, res := offload.SegmentTCPv4(frame, mac, ipLen, l4Len, gsoSize, false, p.scratch, p.receive); res != offload.SegmentOK {
			p.RxBad.Add(1)
			return
		}
		p.RxSegmented.Add(1)
	default:
		p.RxBad.Add(1) // UDP GSO and friends are not enabled by TUNSETOFFLOAD
	}
}

func (p *FramePort) receive(frame []byte) {
	if len(frame) < minFrame {
		// The kernel hands a TAP reader frames without the padding a
		// NIC adds; on a wire they would be 60 bytes.
		var pad [minFrame]byte
		copy(pad[:], frame)
		frame = pad[:]
	}
	if t := p.tap.Load(); t != nil {
		t.Write(p.clock.Now(), frame)
	}
	p.RxFrames.Add(1)
	p.rx(frame)
}
