package nlclient

import (
	"encoding/binary"
	"errors"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/netlink"
)

// Pipelining: ip -batch sends many changes without waiting for each
// answer. Route, for a change asking only for an acknowledgement, packs
// the request into the next packet and returns at once; when a packet
// holds window requests (or would outgrow what the server reads), or
// before any other request, the packet goes out and answers are read.
// A refusal is reported through the failed callback with the tag that was
// current when its request was made (the batch's line), in request order.
// Nothing is reordered: the server answers a packet's requests one by one.
//
// Two modes. Pipeline (ip -force -batch) keeps two packets in flight and
// every change is made whatever became of the ones before it.
// PipelineUntilRefused (ip -batch) must stop at the first refusal, as a
// client waiting for each answer would: the server is asked
// (netlink.OptStopAtRefusal) to run nothing of a packet after a refused
// request, and only one packet is out at a time (the next is built while
// the server works through it), so that nothing after the refusal is
// made. From the first refusal on, every request fails with ErrStopped
// and what was packed is dropped.

// ErrStopped is what requests fail with once a change was refused under
// PipelineUntilRefused (the refusal itself went to the failed callback).
var ErrStopped = errors.New("ctl: the batch stopped at a refused change")

type pipeline struct {
	window  int
	failed  func(tag int, err error)
	tag     int
	stop    bool   // PipelineUntilRefused
	stopped bool   // a change was refused (under stop)
	buf     []byte // the packet being built
	packed  int    // its requests
	// out holds the tags of the requests sent and not yet answered, in
	// order: their sequence numbers run from first up without a gap.
	out   []int
	head  int
	first uint32
	rbuf  []byte
}

// Pipeline turns pipelining on (window > 0: at most that many requests a
// packet) or off (0, after Flush). failed is told of each refused request.
func (c *Conn) Pipeline(window int, failed func(tag int, err error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setPipe(window, failed, false)
}

// PipelineUntilRefused turns on pipelining that stops at the first
// refused change (see above); it fails (and pipelining stays off) when
// the server does not have netlink.OptStopAtRefusal. Pipeline(0, nil)
// turns it off.
func (c *Conn) PipelineUntilRefused(window int, failed func(tag int, err error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setPipe(0, nil, false)
	if err := c.setOption(netlink.OptStopAtRefusal, 1); err != nil {
		return err
	}
	c.setPipe(window, failed, true)
	return nil
}

// setPipe replaces the pipeline (under c.mu); leaving a stopping one, the
// server's option is turned off again.
func (c *Conn) setPipe(window int, failed func(tag int, err error), stop bool) {
	if p := c.pipe; p != nil && p.stop {
		c.pipe = nil
		c.setOption(netlink.OptStopAtRefusal, 0) // a connection that failed answers nothing
	}
	c.pipe = nil
	if window > 0 {
		c.pipe = &pipeline{window: window, failed: failed, stop: stop}
	}
}

// setOption sends netlink.MsgSetOption (under c.mu, no pipeline).
func (c *Conn) setOption(opt, val uint32) error {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], opt)
	binary.LittleEndian.PutUint32(b[4:], val)
	_, err := c.roundTrip(mnl.Header{Type: netlink.MsgSetOption, Flags: mnl.Request | mnl.Acknowledge}, b[:])
	return err
}

// SetTag sets the tag the next pipelined requests are reported with.
func (c *Conn) SetTag(tag int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pipe != nil {
		c.pipe.tag = tag
	}
}

// Flush sends what is packed and waits for all of it to be answered.
// Under PipelineUntilRefused, after a refusal it sends nothing and
// returns ErrStopped.
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushPipe()
}

// The client builds the next packet while the server works through the
// last one: a full packet goes out, then the answers of the one before
// it are read (two packets in flight at most; one under stop, read
// before the next goes out); flushPipe sends what is packed and reads
// every answer.

// pipelined reports a request Route may pack: a new, delete or set
// message (not a get: only gets are dumped) that asks for an
// acknowledgement. (NLM_F_REPLACE and NLM_F_EXCL of a new message are
// the bits NLM_F_ROOT and NLM_F_MATCH of a get.)
func pipelined(typ uint16, flags mnl.HeaderFlags) bool {
	return flags&mnl.Acknowledge != 0 && typ >= 16 && typ&3 != 2
}

const nlmsgHdrLen = 16

// pack adds a request to the packet being built (under c.mu).
func (c *Conn) pack(h mnl.Header, data []byte) error {
	p := c.pipe
	if p.stopped {
		return ErrStopped
	}
	if len(p.buf)+nlmsgHdrLen+(len(data)+3)&^3 > netlink.MaxPacket {
		if err := c.flushPipe(); err != nil {
			return err
		}
	}
	c.seq++
	h.Sequence = c.seq
	if p.buf == nil {
		p.buf = make([]byte, 0, netlink.MaxPacket)
	}
	p.buf = netlink.AppendMarshal(p.buf, mnl.Message{Header: h, Data: data})
	p.packed++
	if p.packed == 1 && len(p.out) == p.head {
		p.first = h.Sequence // nothing out: the answers to come start here
	}
	p.out = append(p.out, p.tag)
	if p.packed < p.window {
		return nil
	}
	if p.stop {
		// The packet before this one must have been made whole first.
		if err := c.readPipe(0); err != nil {
			return err
		}
		if p.stopped {
			return ErrStopped
		}
		return c.sendPipe()
	}
	if err := c.sendPipe(); err != nil {
		return err
	}
	return c.readPipe(p.window)
}

// sendPipe writes the packet being built (under c.mu).
func (c *Conn) sendPipe() error {
	p := c.pipe
	if p.packed == 0 {
		return nil
	}
	buf := p.buf
	p.buf, p.packed = p.buf[:0], 0
	if err := c.c.SetWriteDeadline(time.Now().Add(c.Timeout)); err != nil {
		return err
	}
	_, err := c.c.Write(buf)
	return err
}

// unanswered is how many requests were sent and not answered.
func (p *pipeline) unanswered() int { return len(p.out) - p.head - p.packed }

// flushPipe writes the packet and reads until every request sent is
// answered (under c.mu).
func (c *Conn) flushPipe() error {
	p := c.pipe
	if p == nil {
		return nil
	}
	if p.stop {
		if err := c.readPipe(0); err != nil {
			return err
		}
	}
	if p.stopped {
		return ErrStopped
	}
	if err := c.sendPipe(); err != nil {
		return err
	}
	if err := c.readPipe(0); err != nil {
		return err
	}
	if p.stopped {
		return ErrStopped
	}
	return nil
}

// drop forgets what is packed and not sent (under c.mu, after a refusal
// under stop).
func (p *pipeline) drop() {
	p.out = p.out[:len(p.out)-p.packed]
	p.buf, p.packed = p.buf[:0], 0
}

// readPipe reads answers until at most left requests are unanswered.
func (c *Conn) readPipe(left int) error {
	p := c.pipe
	if p.unanswered() <= left {
		return nil
	}
	if p.rbuf == nil {
		p.rbuf = make([]byte, netlink.MaxPacket)
	}
	rbuf := p.rbuf
	for p.unanswered() > left {
		if err := c.c.SetReadDeadline(time.Now().Add(c.Timeout)); err != nil {
			return err
		}
		n, err := c.c.Read(rbuf)
		if err != nil {
			return readErr("reply", err)
		}
		b := rbuf[:n]
		for len(b) >= nlmsgHdrLen {
			l := int(binary.LittleEndian.Uint32(b))
			if l < nlmsgHdrLen || l > len(b) || l&3 != 0 {
				return syscall.EINVAL
			}
			m := mnl.Message{Header: mnl.Header{
				Length:   uint32(l),
				Type:     mnl.HeaderType(binary.LittleEndian.Uint16(b[4:])),
				Flags:    mnl.HeaderFlags(binary.LittleEndian.Uint16(b[6:])),
				Sequence: binary.LittleEndian.Uint32(b[8:]),
				PID:      binary.LittleEndian.Uint32(b[12:]),
			}, Data: b[nlmsgHdrLen:l]}
			b = b[l:]
			if m.Header.Type == mnl.Overrun {
				c.pending = append(c.pending, m)
				return ErrOverrun
			}
			// Answers come in request order: this one is the oldest
			// request's, or not a pipelined request's at all.
			if p.head == len(p.out)-p.packed || m.Header.Sequence != p.first {
				if m.Header.Sequence == 0 && len(c.pending) < 4096 {
					m.Data = append([]byte(nil), m.Data...)
					c.pending = append(c.pending, m) // a notification
				}
				continue
			}
			end, err := ending(m)
			if !end {
				continue // an answer beyond the acknowledgement: not asked for
			}
			tag := p.out[p.head]
			p.head++
			p.first++
			if err != nil {
				if p.stop && !p.stopped {
					p.stopped = true
					p.drop()
					if p.failed != nil {
						p.failed(tag, err)
					}
				} else if !p.stop && p.failed != nil {
					p.failed(tag, err)
				}
			}
		}
		if p.head == len(p.out)-p.packed {
			// Everything sent is answered: the queue starts over.
			p.out = append(p.out[:0], p.out[p.head:]...)
			p.head = 0
		}
	}
	return nil
}
