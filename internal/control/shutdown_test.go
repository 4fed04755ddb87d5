package control

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack/inet"
)

// running drives w as vnic up does: the clock paced to the wall clock by
// a Pacer, requests run between steps on this goroutine. stop ends it;
// after that requests run in place.
func running(w *topo.World) (exec func(func()), stop func()) {
	reqs := make(chan func())
	quit, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		p := topo.NewPacer(w, nil)
		for {
			sleep := min(p.Advance(), 10*time.Millisecond)
			select {
			case <-quit:
				return
			case fn := <-reqs:
				fn()
			case <-time.After(sleep):
			}
		}
	}()
	exec = func(fn func()) {
		done := make(chan struct{})
		select {
		case reqs <- func() { fn(); close(done) }:
			<-done
		case <-stopped:
			fn()
		}
	}
	return exec, func() { close(quit); <-stopped }
}

// An open `vnic ping` (a stream of vnic_inet) does not hold the control
// socket's shutdown: Close, called while the simulation still runs (the
// stream's requests to it then complete), ends the stream at its next
// message, the client is told ESHUTDOWN, and Close returns with every
// handler ended. (Closed after the simulation stopped, the stream sees no
// message again: only its context stops it, which vnic_inet's Stream does
// not take yet; Close then gives up on it, TestCloseGivesUpOnStuckStream.)
func TestShutdownWithPingStreaming(t *testing.T) {
	w := ipWorld(t)
	exec, stop := running(w)
	defer stop()
	s, err := Serve(w, filepath.Join(t.TempDir(), "vnic.sock"), exec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := nlclient.Dial(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ae := mnl.NewAttributeEncoder()
	ae.String(inet.InetAttrHost, "h1")
	ae.Bytes(inet.InetAttrDst, []byte{198, 18, 5, 1})
	ae.Uint64(inet.InetAttrInterval, uint64(10*time.Millisecond))
	body, _ := ae.Encode()
	replies := make(chan struct{}, 1000)
	ended := make(chan error, 1)
	go func() {
		ended <- c.Stream(inet.InetFamily, inet.InetCmdPing, body, func(cmd uint8, attrs []byte) {
			ad, _ := mnl.NewAttributeDecoder(attrs)
			for ad.Next() {
				if ad.Type() == inet.InetAttrKind && ad.Uint8() == inet.PingReply {
					replies <- struct{}{}
				}
			}
		})
	}()
	for i := 0; i < 3; i++ {
		select {
		case <-replies:
		case err := <-ended:
			t.Fatalf("the ping ended: %v", err)
		case <-time.After(hang):
			t.Fatal("no ping replies")
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(hang):
		t.Fatal("Close did not return")
	}
	select {
	case err := <-ended:
		if !errors.Is(err, syscall.ESHUTDOWN) {
			t.Errorf("the client's stream ended with %v, want ESHUTDOWN", err)
		}
	case <-time.After(hang):
		t.Fatal("the client's stream did not end")
	}
}

// hang bounds a wait that must end (a hang guard, not a timing check).
const hang = 20 * time.Second
