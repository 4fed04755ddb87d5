package iperf3

import (
	"io"
	"time"

	"vnic/stack/inet"
)

// ctrl is the control connection. A goroutine reads the one-byte
// states, one at a time: after each it waits until the test has handled
// it (release), since handling a state may read more from the
// connection (the parameters, the results) on the test's goroutine.
type ctrl struct {
	conn   *inet.TCPConn
	states chan ctrlMsg
	next   chan struct{}
	quit   chan struct{}
}

type ctrlMsg struct {
	state int8
	err   error
}

// ioTimeout bounds each exchange of JSON on the control connection.
const ioTimeout = 30 * time.Second

// newCtrl takes c; start begins reading its states.
func newCtrl(c *inet.TCPConn) *ctrl {
	return &ctrl{conn: c, states: make(chan ctrlMsg), next: make(chan struct{}, 1), quit: make(chan struct{})}
}

func (k *ctrl) start() { go k.read() }

func (k *ctrl) read() {
	for {
		var b [1]byte
		_, err := io.ReadFull(k.conn, b[:])
		select {
		case k.states <- ctrlMsg{int8(b[0]), err}:
		case <-k.quit:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-k.next:
		case <-k.quit:
			return
		}
	}
}

// release lets the goroutine read the next state.
func (k *ctrl) release() {
	select {
	case k.next <- struct{}{}:
	default:
	}
}

// close ends the goroutine and the connection.
func (k *ctrl) close() {
	select {
	case <-k.quit:
		return
	default:
	}
	close(k.quit)
	_ = k.conn.Close()
}

// send writes a state.
func (k *ctrl) send(state int8) error {
	_ = k.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	defer k.conn.SetWriteDeadline(time.Time{})
	if err := writeState(k.conn, state); err != nil {
		return fail(IESendMessage, err)
	}
	return nil
}

// sendJSON is JSON_write, bounded.
func (k *ctrl) sendJSON(j *object) error {
	_ = k.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	defer k.conn.SetWriteDeadline(time.Time{})
	return writeJSON(k.conn, j)
}

// readJSON is JSON_read, bounded.
func (k *ctrl) readJSON() (map[string]any, error) {
	_ = k.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	defer k.conn.SetReadDeadline(time.Time{})
	return readJSON(k.conn)
}
