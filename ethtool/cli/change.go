package cli

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"vnic/ethtool"
)

// parseChange is -s: ethtool 6.1's netlink parser for the settings
// (ETHTOOL_MSG_LINKINFO_SET, LINKMODES_SET, WOL_SET, DEBUG_SET).
func parseChange(r *run) int {
	ps, ok := r.parseParams(changeParams)
	if !ok {
		return 1
	}
	r.ps = ps
	return -1
}

// portNames are the PORT_* values -s port takes.
var portNames = map[string]uint8{"tp": 0x00, "aui": 0x01, "bnc": 0x02, "mii": 0x03, "fibre": 0x04, "da": 0x05}

// doChange sends what -s asked for as ethtool does, one request per
// group in order, stopping at the first failure (exit 75):
//   - link info (port, phyad, mdix): a value equal to the current one is
//     no change (the kernel then does not call the driver); any change is
//     EOPNOTSUPP, Ops having no way to take it;
//   - link modes: speed, duplex and autoneg go to the driver; advertise,
//     lanes and master-slave are EOPNOTSUPP (Ops has no field for them);
//   - Wake-on-LAN (wol, sopass): EOPNOTSUPP, Ops has no get_wol/set_wol;
//   - message level: read, changed as asked, written.
func doChange(r *run, dev ethtool.Device) int {
	ps := r.ps
	if len(ps) == 0 {
		return 0
	}
	if has(ps, "port") || has(ps, "phyad") || has(ps, "mdix") {
		ls, err := dev.LinkSettings()
		if err != nil {
			return r.fail(err, 0)
		}
		change := has(ps, "mdix")
		if p := optStr(ps, "port"); p != "" && portNames[p] != ls.Port {
			change = true
		}
		if v := opt(ps, "phyad"); v.Set && uint8(v.V) != ls.PHYAddr {
			change = true
		}
		if change {
			if err := dev.Ext(ethtool.ExtSetLinkInfo); err != nil {
				return r.fail(err, 0)
			}
		}
	}
	if has(ps, "advertise") || has(ps, "lanes") || has(ps, "master-slave") {
		if err := dev.Ext(ethtool.ExtSetLinkModes); err != nil {
			return r.fail(err, 0)
		}
	}
	var req ethtool.LinkRequest
	req.Speed = opt(ps, "speed")
	req.Autoneg = optBool(ps, "autoneg")
	switch optStr(ps, "duplex") {
	case "half":
		req.Duplex = ethtool.Some32(ethtool.DuplexHalf)
	case "full":
		req.Duplex = ethtool.Some32(ethtool.DuplexFull)
	}
	if req.Speed.Set || req.Autoneg.Set || req.Duplex.Set {
		if err := dev.SetLinkSettings(req); err != nil {
			return r.fail(err, offsetOf(ps, err))
		}
	}
	if has(ps, "wol") || has(ps, "sopass") {
		if err := dev.Ext(ethtool.ExtWoL); err != nil {
			return r.fail(err, 0)
		}
	}
	for _, p := range ps {
		if p.name != "msglvl" {
			continue
		}
		cur, err := dev.Msglevel()
		if err != nil {
			return r.fail(err, 0)
		}
		next, err := applyMsglvl(cur, p)
		if err != nil {
			return r.fail(err, 0)
		}
		if err := dev.SetMsglevel(next); err != nil {
			return r.fail(err, 0)
		}
	}
	return 0
}

// applyMsglvl applies msglvl N[/M] or NAME on|off ... to cur.
func applyMsglvl(cur uint32, p pval) (uint32, error) {
	if p.strs == nil {
		v, mask, ok := parseNumMask(p.str)
		if !ok {
			// A hex bitset without 0x, as ethtool's parser takes it.
			s := strings.SplitN(p.str, "/", 2)
			x, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s[0], "0x"), "0X"), 16, 32)
			if err != nil {
				return 0, ethtool.Errorf("set debug", syscall.EINVAL, "")
			}
			v, mask = uint32(x), 0xFFFFFFFF
		}
		return cur&^mask | v&mask, nil
	}
	for i := 0; i+1 < len(p.strs); i += 2 {
		bit := -1
		for k, n := range ethtool.MsglevelNames {
			if n == p.strs[i] {
				bit = k
			}
		}
		if bit < 0 {
			return 0, ethtool.Errorf("set debug", syscall.EOPNOTSUPP, "bit name not found")
		}
		if p.strs[i+1] == "on" {
			cur |= 1 << bit
		} else {
			cur &^= 1 << bit
		}
	}
	return cur, nil
}

// parseIdentify is -p [SECONDS].
func parseIdentify(r *run) int {
	switch len(r.args) {
	case 0:
		return -1
	case 1:
		if _, ok := parseSigned(r.args[0]); ok {
			return -1
		}
	}
	return r.badArgs()
}

// parseSigned is strtoul's view of a number: an optional minus wraps.
func parseSigned(s string) (uint32, bool) {
	if strings.HasPrefix(s, "-") {
		n, ok := parseNum(s[1:])
		return -n, ok
	}
	return parseNum(s)
}

// doIdentify is -p: Ops has no set_phys_id.
func doIdentify(r *run, dev ethtool.Device) int {
	if err := dev.Ext(ethtool.ExtIdentify); err != nil {
		return r.fail(err, 0)
	}
	return 0
}

// parseFlash is -f FILENAME [REGION] (ethtool takes any word as the
// region, strtoul's way).
func parseFlash(r *run) int {
	if len(r.args) == 1 || len(r.args) == 2 {
		return -1
	}
	return r.badArgs()
}

// ignoreArgs is -P's parse: ethtool 6.1 ignores what follows the device.
func ignoreArgs(*run) int { return -1 }

// doFlash is -f: Ops has no flash_device, and vnic's device no devlink.
func doFlash(r *run, dev ethtool.Device) int {
	if err := dev.Ext(ethtool.ExtFlash); err != nil {
		return r.fail(err, 0)
	}
	return 0
}

// parseGetDump is -w [data FILENAME].
func parseGetDump(r *run) int {
	if len(r.args) == 0 || (len(r.args) == 2 && r.args[0] == "data") {
		return -1
	}
	return r.badArgs()
}

func doGetDump(r *run, dev ethtool.Device) int {
	if err := dev.Ext(ethtool.ExtDumpFlag); err != nil {
		return r.fail(err, 0)
	}
	return 0
}

// parseSetDump is -W N.
func parseSetDump(r *run) int {
	if len(r.args) == 1 {
		if _, ok := parseNum(r.args[0]); ok {
			return -1
		}
	}
	return r.badArgs()
}

func doSetDump(r *run, dev ethtool.Device) int {
	if err := dev.Ext(ethtool.ExtSetDump); err != nil {
		return r.fail(err, 0)
	}
	return 0
}

// doTSInfo is -T.
func doTSInfo(r *run, dev ethtool.Device) int {
	t, err := dev.TSInfo()
	if err != nil {
		return r.fail(err, 0)
	}
	fmt.Fprint(r.Stdout, FormatTSInfo(dev.Name(), t))
	return 0
}

// The HWTSTAMP_TX_* and HWTSTAMP_FILTER_* names, as ethtool -T prints
// them.
var (
	tsTxNames     = []string{"off", "on", "onestep-sync", "onestep-p2p"}
	tsFilterNames = []string{"none", "all", "some", "ptpv1-l4-event", "ptpv1-l4-sync", "ptpv1-l4-delay-req",
		"ptpv2-l4-event", "ptpv2-l4-sync", "ptpv2-l4-delay-req", "ptpv2-l2-event", "ptpv2-l2-sync", "ptpv2-l2-delay-req",
		"ptpv2-event", "ptpv2-sync", "ptpv2-delay-req", "ntp-all"}
)

// FormatTSInfo is ethtool -T.
func FormatTSInfo(dev string, t ethtool.TSInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Time stamping parameters for %s:\n", dev)
	list := func(label string, bits uint32, names []string) {
		b.WriteString(label)
		if bits == 0 {
			b.WriteString(" none\n")
			return
		}
		b.WriteString("\n")
		for i := 0; i < 32; i++ {
			if bits&(1<<i) == 0 {
				continue
			}
			if i < len(names) {
				fmt.Fprintf(&b, "\t%s\n", names[i])
			} else {
				fmt.Fprintf(&b, "\tbit%d\n", i)
			}
		}
	}
	list("Capabilities:", t.Capabilities, ethtool.TSInfoNames)
	if t.PHCIndex < 0 {
		b.WriteString("PTP Hardware Clock: none\n")
	} else {
		fmt.Fprintf(&b, "PTP Hardware Clock: %d\n", t.PHCIndex)
	}
	list("Hardware Transmit Timestamp Modes:", t.TxTypes, tsTxNames)
	list("Hardware Receive Filter Modes:", t.RxFilters, tsFilterNames)
	return b.String()
}
