package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"vnic/ethtool"
)

// The modes of operations Ops has no method for. Each is parsed with
// ethtool 6.1's grammar, then asks the device (ethtool.Device.Ext), whose
// command core answers EOPNOTSUPP, and reports that as ethtool does.

// extShow is a netlink get answered by op.
func extShow(op ethtool.ExtOp) func(r *run, dev ethtool.Device) int {
	return func(r *run, dev ethtool.Device) int {
		if err := dev.Ext(op); err != nil {
			return r.jsonFail(err)
		}
		return 0
	}
}

// extSet is a netlink set answered by op.
func extSet(op ethtool.ExtOp) func(r *run, dev ethtool.Device) int {
	return func(r *run, dev ethtool.Device) int {
		if err := dev.Ext(op); err != nil {
			return r.fail(err, offsetOf(r.ps, err))
		}
		return 0
	}
}

// parsePrivFlags is --set-priv-flags FLAG on|off ...
func parsePrivFlags(r *run) int {
	a := r.args
	for i := 0; i < len(a); i += 2 {
		if i+1 >= len(a) || (a[i+1] != "on" && a[i+1] != "off") {
			// ethtool 6.1's message names the parameter with a NULL.
			fmt.Fprintf(r.Stderr, "ethtool (%s): flag '%s' for parameter '(null)' is not followed by 'on' or 'off'\n", r.mode.short(), a[i])
			return 1
		}
	}
	return -1
}

var moduleEEPROMParams = []pspec{{"raw", kBool, nil}, {"hex", kBool, nil}, {"offset", kU32, nil}, {"length", kU32, nil},
	{"page", kU32, nil}, {"bank", kU32, nil}, {"i2c", kU32, nil}}

// parseModule is -m [raw on|off] [hex on|off] [offset N] [length N] [page
// N] [bank N] [i2c N].
func parseModule(r *run) int {
	ps, ok := r.parseParams(moduleEEPROMParams)
	if !ok {
		return 1
	}
	if optBool(ps, "raw").V && optBool(ps, "hex").V {
		fmt.Fprintln(r.Stderr, "Hex and raw dump cannot be specified together")
		return 1
	}
	r.ps = ps
	return -1
}

// doModule is -m: raw and hex dumps take ethtool's ioctl path, the rest
// its netlink one.
func doModule(r *run, dev ethtool.Device) int {
	err := dev.Ext(ethtool.ExtModuleEEPROM)
	if err == nil {
		return 0
	}
	if optBool(r.ps, "raw").V || optBool(r.ps, "hex").V {
		r.perror("Cannot get module EEPROM information", err)
		return 1
	}
	return r.fail(err, 0)
}

// phyTunables are --get/--set-phy-tunable's names, the value keyword
// each takes when set, and ethtool's name for it in messages.
var phyTunables = []struct{ name, sub, what string }{
	{"downshift", "count", "downshift count"},
	{"fast-link-down", "msecs", "Fast Link Down value"},
	{"energy-detect-power-down", "msecs", "Energy Detect Power Down value"},
}

// parseSetPhyTunable is --set-phy-tunable NAME on|off [SUB N] ...
func parseSetPhyTunable(r *run) int {
	a := r.args
	var names []string
	for i := 0; i < len(a); {
		k := -1
		for j, t := range phyTunables {
			if a[i] == t.name {
				k = j
			}
		}
		if k < 0 || i+1 >= len(a) {
			return r.badArgs()
		}
		if a[i+1] != "on" && a[i+1] != "off" {
			fmt.Fprintln(r.Stderr, "Invalid boolean")
			return r.badArgs()
		}
		names = append(names, a[i])
		i += 2
		if i < len(a) && a[i] == phyTunables[k].sub {
			if i+1 >= len(a) {
				return r.badArgs()
			}
			if _, ok := parseNum(a[i+1]); !ok {
				return r.badArgs()
			}
			i += 2
		}
	}
	if len(names) == 0 {
		return r.badArgs()
	}
	r.parsed = names
	return -1
}

// parseGetPhyTunable is --get-phy-tunable NAME...
func parseGetPhyTunable(r *run) int {
	if len(r.args) == 0 {
		return r.badArgs()
	}
	for _, a := range r.args {
		found := false
		for _, t := range phyTunables {
			found = found || a == t.name
		}
		if !found {
			return r.badArgs()
		}
	}
	r.parsed = r.args
	return -1
}

// doPhyTunable asks for the first tunable named; vnic's PHY has none.
func doPhyTunable(r *run, dev ethtool.Device) int {
	names := r.parsed.([]string)
	op, verb := ethtool.ExtPhyTunable, "Get"
	if r.mode.set {
		op, verb = ethtool.ExtSetPhyTunable, "Set"
	}
	err := dev.Ext(op)
	if err == nil {
		return 0
	}
	for _, t := range phyTunables {
		if t.name == names[0] {
			r.perror(fmt.Sprintf("Cannot %s PHY %s", verb, t.what), err)
		}
	}
	return r.mode.failExit
}

// tunables are --get/--set-tunable's names (ETHTOOL_*_COPYBREAK,
// TX_BUF_SIZE, PFC_PREVENTION_TOUT).
var tunables = []string{"rx-copybreak", "tx-copybreak", "tx-buf-size", "pfc-prevention-tout"}

func isTunable(s string) bool {
	for _, t := range tunables {
		if s == t {
			return true
		}
	}
	return false
}

// parseGetTunable is --get-tunable NAME...
func parseGetTunable(r *run) int {
	if len(r.args) == 0 {
		return r.badArgs()
	}
	for _, a := range r.args {
		if !isTunable(a) {
			return r.badArgs()
		}
	}
	return -1
}

func doGetTunable(r *run, dev ethtool.Device) int {
	rc := 0
	for _, a := range r.args {
		if err := dev.Ext(ethtool.ExtTunable); err != nil {
			fmt.Fprintf(r.Stderr, "%s: Cannot get tunable\n", a)
			rc = r.mode.failExit
		}
	}
	return rc
}

// parseSetTunable is --set-tunable NAME N ...
func parseSetTunable(r *run) int {
	a := r.args
	if len(a) == 0 {
		return r.badArgs()
	}
	for i := 0; i < len(a); i += 2 {
		if !isTunable(a[i]) || i+1 >= len(a) {
			return r.badArgs()
		}
		if _, ok := parseNum(a[i+1]); !ok {
			return r.badArgs()
		}
	}
	return -1
}

func doSetTunable(r *run, dev ethtool.Device) int {
	rc := 0
	for i := 0; i < len(r.args); i += 2 {
		if err := dev.Ext(ethtool.ExtSetTunable); err != nil {
			r.perror(r.args[i], err)
			rc = r.mode.failExit
		}
	}
	return rc
}

// resetComponents are --reset's names and ETH_RESET_* bits (the -shared
// forms are the bit shifted by ETH_RESET_SHARED_SHIFT).
var resetComponents = []struct {
	name string
	bit  uint32
}{{"mgmt", 1 << 0}, {"irq", 1 << 1}, {"dma", 1 << 2}, {"filter", 1 << 3}, {"offload", 1 << 4}, {"mac", 1 << 5},
	{"phy", 1 << 6}, {"ram", 1 << 7}, {"ap", 1 << 8}}

func resetHelp() string {
	var b strings.Builder
	b.WriteString("\t\t[ flags %x ]\n")
	for _, c := range resetComponents {
		fmt.Fprintf(&b, "\t\t[ %s ]\n\t\t[ %s-shared ]\n", c.name, c.name)
	}
	b.WriteString("\t\t[ dedicated ]\n\t\t[ all ]\n")
	return b.String()
}

// parseReset is --reset flags N | COMPONENT...
func parseReset(r *run) int {
	a := r.args
	var flags uint32
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case "flags":
			if i+1 >= len(a) {
				return r.badArgs()
			}
			n, ok := parseNum(a[i+1])
			if !ok {
				return r.badArgs()
			}
			flags |= n
			i++
			continue
		case "dedicated":
			flags |= 0x0000FFFF
			continue
		case "all":
			flags |= 0xFFFFFFFF
			continue
		}
		found := false
		for _, c := range resetComponents {
			switch a[i] {
			case c.name:
				flags |= c.bit
				found = true
			case c.name + "-shared":
				flags |= c.bit << 16
				found = true
			}
		}
		if !found {
			return r.badArgs()
		}
	}
	if flags == 0 {
		return r.badArgs()
	}
	r.parsed = flags
	return -1
}

// doReset is --reset: ethtool prints what is left to reset after the
// ioctl (all of it, when it fails).
func doReset(r *run, dev ethtool.Device) int {
	flags := r.parsed.(uint32)
	if err := dev.Ext(ethtool.ExtReset); err != nil {
		r.perror("Cannot issue ETHTOOL_RESET", err)
		fmt.Fprintf(r.Stdout, "ETHTOOL_RESET 0x%x\n", flags)
		return 1
	}
	return 0
}

// perQueue is a parsed -Q command line.
type perQueue struct {
	mask    bool
	sub     string
	subArgs []string
}

// parsePerQueue is -Q [queue_mask %x] SUB_COMMAND: --show-coalesce, or
// --coalesce with -C's parameters; any other mode is refused when run.
// As in ethtool, --coalesce's parameters would be parsed after the
// device's per-queue settings are read, which Ops cannot do.
func parsePerQueue(r *run) int {
	a := r.args
	var q perQueue
	if len(a) > 0 && a[0] == "queue_mask" {
		if len(a) <= 2 {
			return r.badArgs()
		}
		if !isHexBitset(a[1]) {
			fmt.Fprintln(r.Stdout, "Invalid queue mask")
			return 255
		}
		q.mask = true
		a = a[2:]
	}
	if len(a) == 0 || findMode(a[0]) == nil {
		return r.badArgs()
	}
	q.sub, q.subArgs = a[0], a[1:]
	r.parsed = &q
	return -1
}

// doPerQueue is -Q: the queue count comes from the channels, then the
// per-queue coalescing, which Ops does not have.
func doPerQueue(r *run, dev ethtool.Device) int {
	q := r.parsed.(*perQueue)
	if !q.mask {
		ch, err := dev.Channels()
		if err != nil {
			r.perror("Cannot get number of queues", err)
			return 242
		}
		fmt.Fprintf(r.Stdout, "The sub commands will be applied to all %d queues\n", max(ch.Rx, ch.Tx)+ch.Combined)
	}
	if s := findMode(q.sub).short(); s != "-c" && s != "-C" {
		fmt.Fprintln(r.Stderr, "The subcommand is not supported yet: Success")
		return 161
	}
	err := dev.Ext(ethtool.ExtPerQueue)
	if err == nil {
		return 0
	}
	// ethtool reports it twice, the second time with the errno its
	// cleanup left (EINVAL).
	r.perror("Cannot get device per queue parameters", err)
	fmt.Fprintln(r.Stderr, "Cannot get device per queue parameters: Invalid argument")
	return 242
}

// doShowModule is --show-module: without get_module_power_mode the
// kernel's reply has no attributes, so ethtool prints the header alone.
func doShowModule(r *run, dev ethtool.Device) int {
	if _, err := dev.Link(); err != nil {
		return r.jsonFail(err)
	}
	if r.json {
		q, _ := json.Marshal(dev.Name())
		fmt.Fprintf(r.Stdout, "[ {\n        \"ifname\": %s\n    } ]\n", q)
		return 0
	}
	fmt.Fprintf(r.Stdout, "Module parameters for %s:\n", dev.Name())
	return 0
}

// doSetModule is --set-module: no get/set_module_power_mode.
func doSetModule(r *run, dev ethtool.Device) int {
	if err := dev.Ext(ethtool.ExtSetModule); err != nil {
		// The kernel's message is about the policy attribute, which the
		// vendor request does not carry: point at it in ethtool's request.
		return r.fail(err, r.ps[0].off)
	}
	return 0
}
