package nlclient

import (
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/netlink"
)

// Pipelining: ip -force -batch sends many changes without waiting for each
// answer. Route, for a change asking only for an acknowledgement, packs
// the request into the next packet and returns at once; when a packet
// holds window requests (or would outgrow what the server reads), or
// before any other request, the packet goes out and every answer is read.
// A refusal is reported through the failed callback with the tag that was
// current when its request was made (the batch's line), in request order.
// Nothing is reordered: the server answers a packet's requests one by one.

type pipeline struct {
	window int
	failed func(tag int, err error)
	tag    int
	buf    []byte   // the packet being built
	seqs   []uint32 // its requests
	tags   map[uint32]int
	sent   int // requests sent and not yet answered
	rbuf   []byte
}

// Pipeline turns pipelining on (window > 0: at most that many requests a
// packet) or off (0, after Flush). failed is told of each refused request.
func (c *Conn) Pipeline(window int, failed func(tag int, err error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if window <= 0 {
		c.pipe = nil
		return
	}
	c.pipe = &pipeline{window: window, failed: failed, tags: map[uint32]int{}}
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
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushPipe()
}

// The client builds the next packet while the server works through the
// last one: a full packet goes out, then the answers of the one before
// it are read (two packets in flight at most); flushPipe sends what is
// packed and reads every answer.

// pipelined reports a request Route may pack: a new, delete or set
// message (not a get: only gets are dumped) that asks for an
// acknowledgement. (NLM_F_REPLACE and NLM_F_EXCL of a new message are
// the bits NLM_F_ROOT and NLM_F_MATCH of a get.)
func pipelined(typ uint16, flags mnl.HeaderFlags) bool {
	return flags&mnl.Acknowledge != 0 && typ >= 16 && typ&3 != 2
}

// pack adds a request to the packet being built (under c.mu).
func (c *Conn) pack(h mnl.Header, data []byte) error {
	p := c.pipe
	c.seq++
	h.Sequence = c.seq
	b, err := netlink.Marshal([]mnl.Message{{Header: h, Data: data}})
	if err != nil {
		return err
	}
	if len(p.buf)+len(b) > netlink.MaxPacket {
		if err := c.flushPipe(); err != nil {
			return err
		}
	}
	p.buf = append(p.buf, b...)
	p.seqs = append(p.seqs, h.Sequence)
	p.tags[h.Sequence] = p.tag
	if len(p.seqs) >= p.window {
		if err := c.sendPipe(); err != nil {
			return err
		}
		return c.readPipe(p.window)
	}
	return nil
}

// sendPipe writes the packet being built (under c.mu).
func (c *Conn) sendPipe() error {
	p := c.pipe
	if len(p.seqs) == 0 {
		return nil
	}
	buf := p.buf
	p.sent += len(p.seqs)
	p.buf, p.seqs = p.buf[:0], p.seqs[:0]
	if err := c.c.SetWriteDeadline(time.Now().Add(c.Timeout)); err != nil {
		return err
	}
	_, err := c.c.Write(buf)
	return err
}

// flushPipe writes the packet and reads until every request sent is
// answered (under c.mu).
func (c *Conn) flushPipe() error {
	if c.pipe == nil {
		return nil
	}
	if err := c.sendPipe(); err != nil {
		return err
	}
	return c.readPipe(0)
}

// readPipe reads answers until at most left requests are unanswered.
func (c *Conn) readPipe(left int) error {
	p := c.pipe
	if p.sent <= left {
		return nil
	}
	if p.rbuf == nil {
		p.rbuf = make([]byte, netlink.MaxPacket)
	}
	rbuf := p.rbuf
	for p.sent > left {
		if err := c.c.SetReadDeadline(time.Now().Add(c.Timeout)); err != nil {
			return err
		}
		n, err := c.c.Read(rbuf)
		if err != nil {
			return readErr("reply", err)
		}
		msgs, err := netlink.Unmarshal(rbuf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type == mnl.Overrun {
				c.pending = append(c.pending, m)
				return ErrOverrun
			}
			tag, ok := p.tags[m.Header.Sequence]
			if !ok {
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
			delete(p.tags, m.Header.Sequence)
			p.sent--
			if err != nil && p.failed != nil {
				p.failed(tag, err)
			}
		}
	}
	return nil
}
