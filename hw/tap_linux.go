//go:build linux

package hw

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/songgao/water"
	"golang.org/x/sys/unix"
)

// TUN_F_* offloads a vnet-header TAP accepts from the kernel.
const (
	tunFCsum = 0x01
	tunFTSO4 = 0x02
)

// OpenTAP opens the Linux TAP ifname — made inside network namespace
// netns (a name under /var/run/netns) when netns is set — and returns the
// frame pipe and its vnet header length. Plain mode (vnet false) uses
// songgao/water; vnet mode opens /dev/net/tun itself, because water cannot
// set IFF_VNET_HDR, and asks the kernel for checksum and TCPv4
// segmentation offload (TUNSETOFFLOAD), which FramePort then does in the
// kernel's place. A TAP this call made disappears when the pipe closes; one
// that existed before is left as it was (water's Persist trap).
func OpenTAP(ifname, netns string, vnet bool) (FrameIO, int, error) {
	if ifname == "" || len(ifname) >= unix.IFNAMSIZ {
		return nil, 0, fmt.Errorf("hw: TAP name %q: want 1..%d bytes", ifname, unix.IFNAMSIZ-1)
	}
	type result struct {
		io  FrameIO
		hdr int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// setns(2) changes the calling thread only: a locked thread goes
		// into the namespace and back; if it cannot come back it is not
		// unlocked, so the runtime retires it.
		runtime.LockOSThread()
		restore := func() bool { return true }
		if netns != "" {
			var err error
			if restore, err = enterNetns(netns); err != nil {
				runtime.UnlockOSThread()
				ch <- result{err: err}
				return
			}
		}
		f, hdr, err := openTAPHere(ifname, vnet)
		if restore() {
			runtime.UnlockOSThread()
		}
		ch <- result{f, hdr, err}
	}()
	r := <-ch
	if r.err != nil {
		return nil, 0, r.err
	}
	return tapFile{r.io, ifname}, r.hdr, nil
}

// tapFile is a TAP's frame pipe that knows its interface's name, for the
// FramePort's messages.
type tapFile struct {
	FrameIO
	ifname string
}

// Ifname returns the TAP's interface name.
func (t tapFile) Ifname() string { return t.ifname }

// enterNetns moves the locked thread into netns and returns the way back.
func enterNetns(name string) (func() bool, error) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("hw: netns: %w", err)
	}
	if err := ValidNetns(name); err != nil {
		return nil, fmt.Errorf("hw: netns %q: %w", name, err)
	}
	target, err := os.Open("/var/run/netns/" + name)
	if err != nil {
		self.Close()
		return nil, fmt.Errorf("hw: netns %s: %w (create it with ip netns add)", name, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		self.Close()
		return nil, fmt.Errorf("hw: entering netns %s: %w", name, err)
	}
	return func() bool {
		defer self.Close()
		return unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil
	}, nil
}

func openTAPHere(ifname string, vnet bool) (FrameIO, int, error) {
	_, exists := net.InterfaceByName(ifname)
	existed := exists == nil
	if !vnet {
		ifce, err := water.New(water.Config{DeviceType: water.TAP, PlatformSpecificParams: water.PlatformSpecificParams{Name: ifname, Persist: existed}})
		if err != nil {
			return nil, 0, fmt.Errorf("hw: TAP %s: %w", ifname, err)
		}
		return ifce.ReadWriteCloser, 0, nil
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("hw: TAP %s: /dev/net/tun: %w", ifname, err)
	}
	fail := func(what string, err error) (FrameIO, int, error) {
		unix.Close(fd)
		return nil, 0, fmt.Errorf("hw: TAP %s: %s: %w", ifname, what, err)
	}
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		return fail("name", err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return fail("TUNSETIFF", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, 10); err != nil {
		return fail("TUNSETVNETHDRSZ", err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunFCsum|tunFTSO4); err != nil {
		return fail("TUNSETOFFLOAD", err)
	}
	if existed {
		if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
			return fail("TUNSETPERSIST", err)
		}
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+ifname), 10, nil
}
