// Package cli is vnic's ethtool command line: ethtool 6.1's grammar
// ([FLAGS] MODE DEVNAME [ARGS]), its output byte for byte for the same data,
// and its exit codes, over any ethtool.Backend. Output formatting is kept in
// pure functions of the data (format.go) so it can be golden-tested against
// the real ethtool's.
//
// A command line is parsed completely before any device is asked for
// anything (Check is the parse alone), as ethtool parses before its first
// request; the device is then looked up, and a lookup failure is reported
// by the mode's first operation, as ethtool reports the kernel's ENODEV
// for it.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"

	"vnic/ethtool"
)

// Version is what --version prints: ethtool's version line, marked as
// vnic's implementation of it.
const Version = "ethtool version 6.1 (vnic)"

// Options are where a run reads devices from and writes to, and how it
// prints what only a driver can decode.
type Options struct {
	Backend ethtool.Backend
	// Open, used when Backend is nil, opens the backend once a command
	// line has parsed and needs a device (so a parse error never waits
	// for, or is hidden by, a backend that cannot be reached); close is
	// called when the run ends. An error is printed as "ethtool: <err>"
	// with exit 1.
	Open           func() (b ethtool.Backend, close func(), err error)
	Stdout, Stderr io.Writer
	// Stdin is what -E reads without "value" (nil: nothing).
	Stdin io.Reader
	// Pretty decodes a driver's register dump for -d (ethtool's
	// per-driver dump functions); ok false, or no Pretty, falls back to
	// the hex dump. cmd/vnic gives vnic's (driver.FormatRegs).
	Pretty func(driver string, regs ethtool.Regs) (text string, ok bool)
}

// run is one invocation's state.
type run struct {
	Options
	json    bool
	stats   bool // -I
	mode    *mode
	devname string
	args    []string
	// ps are the parsed keyword parameters of a set mode; parsed is the
	// mode's own parse result.
	ps     []pval
	parsed any
}

// mode is one ethtool mode option.
type mode struct {
	opts string // the option and its aliases, as ethtool -h lists them
	help string // our description
	// xhelp is the argument grammar, as ethtool -h prints it.
	xhelp string
	noDev bool
	// parse checks the arguments before any device is looked up; it
	// returns -1 when they are good, else the exit code (having printed
	// the error). nil: the mode takes no arguments.
	parse func(r *run) int
	fn    func(r *run, dev ethtool.Device) int
	// failMsg is the ioctl-style message prefix ("Cannot get driver
	// information") for an operation that fails; "" reports netlink-style.
	failMsg  string
	failExit int
	// nl says the mode is one of ethtool 6.1's netlink ones (device names
	// up to 127 characters); the others go through the ioctl with
	// IFNAMSIZ.
	nl bool
	// json says --json is accepted, as in ethtool 6.1.
	json bool
	// set modes change the device; a get that is not supported exits 1.
	set bool
}

func (m *mode) names() []string { return strings.Split(m.opts, "|") }

// short is the name ethtool's parser messages use ("-s", "--set-eee").
func (m *mode) short() string { return m.names()[0] }

// settingsMode is the default mode (no mode option): "Settings for".
var settingsMode = &mode{help: "Display standard information about device", fn: doSettings, failExit: 75, nl: true}

var modes []*mode

func findMode(a string) *mode {
	for _, m := range modes {
		for _, n := range m.names() {
			if n == a {
				return m
			}
		}
	}
	return nil
}

// Limits on device names: ethtool's netlink requests take an altname
// (ALTIFNAMSIZ - 1), its ioctls an interface name (IFNAMSIZ - 1).
const (
	maxNlName    = 127
	maxIoctlName = 15
)

// Check parses args as Run would and stops before the device: 0 when the
// command line is good (a no-device mode such as -h runs), else Run's exit
// code for the error, which it prints to stderr.
func Check(args []string, stdout, stderr io.Writer) int {
	r, rc := parse(args, Options{Stdout: stdout, Stderr: stderr})
	if r == nil {
		return rc
	}
	return 0
}

// parse is Run up to the device: nil and the exit code when the command
// line is bad or a no-device mode ran.
func parse(args []string, o Options) (*run, int) {
	r := &run{Options: o}
	if r.Stdout == nil {
		r.Stdout = io.Discard
	}
	if r.Stderr == nil {
		r.Stderr = io.Discard
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--json":
			r.json = true
			continue
		case a == "-I" || a == "--include-statistics":
			r.stats = true
			continue
		case a == "--debug":
			if i+1 >= len(args) {
				return nil, r.badArgs()
			}
			if _, err := strconv.ParseUint(args[i+1], 0, 32); err != nil {
				return nil, r.badArgs()
			}
			i++
			continue
		}
		break
	}
	if i >= len(args) {
		return nil, r.badArgs()
	}
	a := args[i]
	if m := findMode(a); m != nil {
		r.mode = m
		i++
	} else if strings.HasPrefix(a, "-") {
		return nil, r.badArgs()
	} else {
		r.mode = settingsMode
	}
	if !r.mode.noDev {
		if i >= len(args) {
			return nil, r.badArgs()
		}
		r.devname = args[i]
		i++
	}
	r.args = args[i:]
	if r.json && !r.mode.json {
		return nil, r.badArgs()
	}
	if r.mode.noDev {
		return nil, r.mode.fn(r, nil)
	}
	if r.mode.nl && len(r.devname) > maxNlName {
		fmt.Fprintf(r.Stderr, "device name '%s' longer than %d characters\n", r.devname, maxNlName)
		return nil, 1
	}
	if !r.mode.nl && len(r.devname) > maxIoctlName {
		fmt.Fprintf(r.Stderr, "ethtool netlink support for subcommand missing, device name longer than %d not supported\n", maxIoctlName)
		return nil, 1
	}
	if r.mode.parse == nil {
		if len(r.args) > 0 {
			// The netlink modes name the extra word; the ioctl ones
			// refuse the command line.
			if !r.mode.nl {
				return nil, r.badArgs()
			}
			fmt.Fprintf(r.Stderr, "ethtool: unexpected parameter '%s'\n", r.args[0])
			return nil, 1
		}
	} else if rc := r.mode.parse(r); rc >= 0 {
		return nil, rc
	}
	return r, 0
}

// Run parses args (without the program name) and runs the command; it
// returns the exit status ethtool would.
func Run(args []string, o Options) int {
	r, rc := parse(args, o)
	if r == nil {
		return rc
	}
	b := o.Backend
	if b == nil {
		if o.Open == nil {
			fmt.Fprintln(r.Stderr, "ethtool: no backend")
			return 1
		}
		ob, closeFn, err := o.Open()
		if err != nil {
			fmt.Fprintln(r.Stderr, "ethtool:", err)
			return 1
		}
		defer closeFn()
		b = ob
	}
	dev, err := b.Device(r.devname)
	if err != nil {
		// The mode's first request reports it, as the kernel's ENODEV
		// reaches ethtool.
		dev = missing{name: r.devname, err: err}
	}
	return r.mode.fn(r, dev)
}

func (r *run) badArgs() int {
	fmt.Fprintln(r.Stderr, "ethtool: bad command line argument(s)")
	fmt.Fprintln(r.Stderr, "For more information run ethtool -h")
	return 1
}

// fail reports err as ethtool does for the mode and returns the exit code:
// ioctl-style modes print "<what>: <strerror>", netlink ones the extended
// ack with the attribute's offset in the request, then the errno. attrOff
// is the offset of the attribute err names (0: none).
func (r *run) fail(err error, attrOff int) int {
	if r.mode.failMsg != "" {
		fmt.Fprintf(r.Stderr, "%s: %s\n", r.mode.failMsg, strerrorOf(err))
		return r.mode.failExit
	}
	r.nlError(err, attrOff)
	if errors.Is(err, syscall.EOPNOTSUPP) && !r.mode.set {
		return 1
	}
	return r.mode.failExit
}

// nlError prints err as ethtool's netlink code does: the extended ack's
// message (with the offset of the attribute at fault), then strerror.
func (r *run) nlError(err error, attrOff int) {
	var e *ethtool.Error
	errno := syscall.EIO
	msg := ""
	attr := ""
	if errors.As(err, &e) {
		errno, msg, attr = e.Errno, e.Msg, e.Attr
		if e.Offset > 0 {
			attrOff, attr = e.Offset, ""
		}
	} else if errors.As(err, &errno) {
		msg = ""
	} else {
		msg = err.Error()
	}
	if msg != "" {
		off := attrOff
		if attr == "dev" {
			off = 24 // the device name inside the request header
		}
		if off > 0 {
			fmt.Fprintf(r.Stderr, "netlink error: %s (offset %d)\n", msg, off)
		} else {
			fmt.Fprintf(r.Stderr, "netlink error: %s\n", msg)
		}
	}
	fmt.Fprintf(r.Stderr, "netlink error: %s\n", strerror(errno))
}

// perror prints "<what>: <strerror>" (ethtool's perror after an ioctl).
func (r *run) perror(what string, err error) {
	fmt.Fprintf(r.Stderr, "%s: %s\n", what, strerrorOf(err))
}

// strerror is glibc's text for the errnos ethtool reports.
func strerror(e syscall.Errno) string {
	switch e {
	case syscall.EOPNOTSUPP:
		return "Operation not supported"
	case syscall.EINVAL:
		return "Invalid argument"
	case syscall.ENODEV:
		return "No such device"
	case syscall.EBUSY:
		return "Device or resource busy"
	case syscall.ERANGE:
		return "Numerical result out of range"
	case syscall.EPERM:
		return "Operation not permitted"
	case syscall.EIO:
		return "Input/output error"
	case syscall.ENOENT:
		return "No such file or directory"
	case syscall.EEXIST:
		return "File exists"
	case syscall.ENOSPC:
		return "No space left on device"
	}
	s := e.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// strerrorOf is strerror of err's errno (EIO for an error without one).
func strerrorOf(err error) string {
	var e *ethtool.Error
	if errors.As(err, &e) {
		return strerror(e.Errno)
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return strerror(en)
	}
	return err.Error()
}

func errnoOf(err error) syscall.Errno {
	var e *ethtool.Error
	if errors.As(err, &e) {
		return e.Errno
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return syscall.EIO
}

func ioReadFull(r io.Reader, buf []byte) (int, error) { return io.ReadFull(r, buf) }
