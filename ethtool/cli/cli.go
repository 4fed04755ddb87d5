// Package cli is vnic's ethtool command line: ethtool 6.1's grammar
// ([FLAGS] MODE DEVNAME [ARGS]), its output byte for byte for the same data,
// and its exit codes, over any ethtool.Backend. Output formatting is kept in
// pure functions of the data (format.go) so it can be golden-tested against
// the real ethtool's.
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

// Options are where a run reads devices from and writes to, and how it
// prints what only a driver can decode.
type Options struct {
	Backend        ethtool.Backend
	Stdout, Stderr io.Writer
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
}

// mode is one ethtool mode option.
type mode struct {
	short string
	long  []string
	// noDev modes take no device name.
	fn func(r *run, dev ethtool.Device) int
	// getExit is the exit code when the device cannot be looked up or
	// the operation fails, with the message prefix for ioctl-style modes
	// ("" for netlink-style "netlink error:" reporting).
	failMsg  string
	failExit int
	// noArgs modes refuse extra arguments ("unexpected parameter").
	noArgs bool
	// json says --json is accepted (ethtool 6.1 has it for -k only; vnic
	// has it for every get).
	json bool
	// set modes change the device; a get that is not supported exits 1.
	set bool
}

var modes []*mode

func init() {
	modes = []*mode{
		{short: "-i", long: []string{"--driver"}, fn: doDrvInfo, failMsg: "Cannot get driver information", failExit: 71, noArgs: true, json: true},
		{short: "-k", long: []string{"--show-features", "--show-offload"}, fn: doShowFeatures, failExit: 1, noArgs: true, json: true},
		{short: "-K", set: true, long: []string{"--features", "--offload"}, fn: doSetFeatures, failExit: 92},
		{short: "-g", long: []string{"--show-ring"}, fn: doShowRing, failExit: 1, noArgs: true, json: true},
		{short: "-G", set: true, long: []string{"--set-ring"}, fn: doSetRing, failExit: 81},
		{short: "-c", long: []string{"--show-coalesce"}, fn: doShowCoalesce, failExit: 1, noArgs: true, json: true},
		{short: "-C", set: true, long: []string{"--coalesce"}, fn: doSetCoalesce, failExit: 1},
		{short: "-l", long: []string{"--show-channels"}, fn: doShowChannels, failExit: 1, noArgs: true, json: true},
		{short: "-L", set: true, long: []string{"--set-channels"}, fn: doSetChannels, failExit: 1},
		{short: "-a", long: []string{"--show-pause"}, fn: doShowPause, failExit: 1, noArgs: true, json: true},
		{short: "-A", set: true, long: []string{"--pause"}, fn: doSetPause, failExit: 76},
		{short: "-S", long: []string{"--statistics"}, fn: doStats, failMsg: "Cannot get stats information", failExit: 94, noArgs: true, json: true},
		{short: "-x", long: []string{"--show-rxfh-indir", "--show-rxfh"}, fn: doShowRSS, failExit: 1, noArgs: true, json: true},
		{short: "-X", set: true, long: []string{"--set-rxfh-indir", "--rxfh"}, fn: doSetRSS, failExit: 1},
		{short: "-n", long: []string{"--show-nfc", "-u", "--show-ntuple"}, fn: doShowNFC, failExit: 1, json: true},
		{short: "-N", set: true, long: []string{"--config-nfc", "-U", "--config-ntuple"}, fn: doSetNFC, failExit: 1},
		{short: "-e", long: []string{"--eeprom-dump"}, fn: doEEPROM, failMsg: "Cannot get EEPROM data", failExit: 74, json: true},
		{short: "-E", set: true, long: []string{"--change-eeprom"}, fn: doSetEEPROM, failMsg: "Cannot set EEPROM data", failExit: 87},
		{short: "-d", long: []string{"--register-dump"}, fn: doRegs, failMsg: "Cannot get register dump", failExit: 74, json: true},
		{short: "-t", long: []string{"--test"}, fn: doTest, failMsg: "Cannot test", failExit: 74, json: true},
		{short: "-r", set: true, long: []string{"--negotiate"}, fn: doNway, failMsg: "Cannot restart autonegotiation", failExit: 255, noArgs: true},
		{short: "-P", long: []string{"--show-permaddr"}, fn: doPermAddr, failMsg: "Cannot read permanent address", failExit: 1, noArgs: true, json: true},
		{short: "-s", set: true, long: []string{"--change"}, fn: doChange, failExit: 75},
	}
}

// settingsMode is the default mode (no mode option): "Settings for".
var settingsMode = &mode{fn: doSettings, failExit: 1, noArgs: true, json: true}

// Run parses args (without the program name) and runs the command; it
// returns the exit status ethtool would.
func Run(args []string, o Options) int {
	r := &run{Options: o}
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
				return r.badArgs()
			}
			if _, err := strconv.ParseUint(args[i+1], 0, 32); err != nil {
				return r.badArgs()
			}
			i++
			continue
		}
		break
	}
	if i >= len(args) {
		return r.badArgs()
	}
	a := args[i]
	if strings.HasPrefix(a, "-") {
		for _, m := range modes {
			if a == m.short || contains(m.long, a) {
				r.mode = m
			}
		}
		if r.mode == nil {
			return r.badArgs()
		}
		i++
		if i >= len(args) {
			return r.badArgs()
		}
	} else {
		r.mode = settingsMode
	}
	r.devname = args[i]
	r.args = args[i+1:]
	if r.json && !r.mode.json {
		return r.badArgs()
	}
	if r.mode.noArgs && len(r.args) > 0 {
		fmt.Fprintf(r.Stderr, "ethtool: unexpected parameter '%s'\n", r.args[0])
		return 1
	}
	dev, err := o.Backend.Device(r.devname)
	if err != nil {
		return r.fail(err, 0)
	}
	return r.mode.fn(r, dev)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
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
	if r.mode.failMsg != "" {
		fmt.Fprintf(r.Stderr, "%s: %s\n", r.mode.failMsg, strerror(errno))
		return r.mode.failExit
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
	if errors.Is(err, syscall.EOPNOTSUPP) && !r.mode.set {
		return 1
	}
	return r.mode.failExit
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
	}
	s := e.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func asError(err error, target **ethtool.Error) bool { return errors.As(err, target) }

func ioReadFull(r io.Reader, buf []byte) (int, error) { return io.ReadFull(r, buf) }
