package hw

import (
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadPipe is a TAP whose interface was deleted: every read fails as the
// kernel's tun driver answers then.
type deadPipe struct {
	err  error
	gate chan struct{} // reads fail once it is closed
}

func (p *deadPipe) Read(b []byte) (int, error)  { <-p.gate; return 0, p.err }
func (p *deadPipe) Write(b []byte) (int, error) { return 0, p.err }
func (p *deadPipe) Close() error                { return nil }
func (p *deadPipe) Ifname() string              { return "vtap7" }

// lostRig plugs a device (link up) into a port over pipe and reports
// SetOnLost's calls.
func lostRig(t *testing.T, pipe FrameIO, hdr int) (*Device, *FramePort, chan error) {
	t.Helper()
	dev, err := NewDevice(DeviceConfig{Name: "t", MAC: rigMAC}, NewRealClock(), NewDMA(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewFramePort(NewRealClock(), pipe, hdr)
	if err != nil {
		t.Fatal(err)
	}
	lost := make(chan error, 4)
	p.SetOnLost(func(err error) { lost <- err })
	dev.Write32(CTRL, CtrlSLU)
	p.Plug(dev)
	t.Cleanup(func() { p.Close() })
	if dev.Read32(STATUS)&StatusLU == 0 {
		t.Fatal("no link with the port plugged")
	}
	dev.Read32(ICR) // the LSC of plugging
	return dev, p, lost
}

// A pipe that fails for good (EBADFD, or EOF) takes the link down as a
// pulled cable — STATUS.LU clear, ICR.LSC — and reports one error naming
// the TAP.
func TestPortLostTakesLinkDown(t *testing.T) {
	for _, perr := range []error{syscall.EBADFD, io.EOF, syscall.EIO} {
		t.Run(perr.Error(), func(t *testing.T) {
			pipe := &deadPipe{err: perr, gate: make(chan struct{})}
			dev, p, lost := lostRig(t, pipe, 0)
			close(pipe.gate)
			var err error
			select {
			case err = <-lost:
			case <-time.After(10 * time.Second):
				t.Fatal("no loss reported within 10 s")
			}
			if !errors.Is(err, ErrPortLost) || !errors.Is(err, perr) || !strings.Contains(err.Error(), "TAP vtap7") {
				t.Fatalf("OnLost(%v)", err)
			}
			if dev.Read32(STATUS)&StatusLU != 0 || dev.LinkUp() {
				t.Fatal("link still up")
			}
			if dev.Read32(ICR)&IcrLSC == 0 {
				t.Fatal("no LSC")
			}
			if e := p.ReadErr.Load(); e == nil || *e != err {
				t.Fatalf("ReadErr %v", e)
			}
			select {
			case err := <-lost:
				t.Fatalf("second OnLost(%v)", err)
			default:
			}
		})
	}
}

// Closing the port is not a loss: the link stays as it was, no report.
func TestPortCloseIsNotLost(t *testing.T) {
	pipe := &deadPipe{err: syscall.EBADFD, gate: make(chan struct{})}
	dev, p, lost := lostRig(t, pipe, 0)
	p.closed.Store(true) // Close's first step, without closing the pipe
	close(pipe.gate)
	<-p.done
	if len(lost) != 0 || !dev.LinkUp() {
		t.Fatalf("close: %d reports, link up %v", len(lost), dev.LinkUp())
	}
}

// A loss before SetOnLost is reported when it is set, once.
func TestPortLostReportedLate(t *testing.T) {
	pipe := &deadPipe{err: syscall.EBADFD, gate: make(chan struct{})}
	dev, p, lost := lostRig(t, pipe, 0)
	p.SetOnLost(nil)
	close(pipe.gate)
	<-p.done
	if dev.LinkUp() || len(lost) != 0 {
		t.Fatalf("link up %v, %d reports before SetOnLost", dev.LinkUp(), len(lost))
	}
	var got []error
	p.SetOnLost(func(err error) { got = append(got, err) })
	p.SetOnLost(func(err error) { got = append(got, err) })
	if len(got) != 1 || !errors.Is(got[0], syscall.EBADFD) {
		t.Fatalf("late reports %v", got)
	}
}
