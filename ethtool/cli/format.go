package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"vnic/ethtool"
)

// The Format functions render a get the way ethtool 6.1 prints it; they are
// pure so that golden files captured from the real ethtool test them.

// FormatDrvInfo is ethtool -i.
func FormatDrvInfo(d ethtool.DrvInfo) string {
	var b strings.Builder
	yn := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(&b, "driver: %s\nversion: %s\nfirmware-version: %s\nexpansion-rom-version: %s\nbus-info: %s\n",
		d.Driver, d.Version, d.FwVersion, d.EromVersion, d.BusInfo)
	fmt.Fprintf(&b, "supports-statistics: %s\nsupports-test: %s\nsupports-eeprom-access: %s\nsupports-register-dump: %s\nsupports-priv-flags: %s\n",
		yn(d.NStats > 0), yn(d.TestInfoLen > 0), yn(d.EEDumpLen > 0), yn(d.RegDumpLen > 0), yn(d.NPrivFlags > 0))
	return b.String()
}

// FormatFeatures is ethtool -k: legacy groups first (a group of one
// feature printed once under its long name), then the rest in string-set
// order.
func FormatFeatures(dev string, l ethtool.FeatureList) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Features for %s:\n", dev)
	group := make([]int, len(l))
	for i, f := range l {
		group[i] = -1
		for j, g := range ethtool.LegacyFlags {
			if f.Name != "" && g.Match(f.Name) {
				group[i] = j
				break
			}
		}
	}
	line := func(prefix, name string, f ethtool.FeatureState) {
		suffix := ""
		switch {
		case f.Fixed():
			suffix = " [fixed]"
		case f.Active != f.Requested:
			suffix = " [requested " + onOff(f.Requested) + "]"
		}
		fmt.Fprintf(&b, "%s%s: %s%s\n", prefix, name, onOff(f.Active), suffix)
	}
	for j, g := range ethtool.LegacyFlags {
		if g.Hidden {
			continue
		}
		n, on := 0, false
		for i, f := range l {
			if group[i] == j {
				n++
				on = on || f.Active
			}
		}
		if n != 1 {
			fmt.Fprintf(&b, "%s: %s\n", g.Long, onOff(on))
		}
		for i, f := range l {
			if group[i] != j {
				continue
			}
			if n == 1 {
				line("", g.Long, f)
			} else {
				line("\t", f.Name, f)
			}
		}
	}
	for i, f := range l {
		if group[i] < 0 && f.Name != "" {
			line("", f.Name, f)
		}
	}
	return b.String()
}

// FormatFeatureChanges is ethtool -K's report of a FEATURES_SET reply:
// nothing when the result is exactly what was asked.
func FormatFeatureChanges(req ethtool.FeatureRequest, r ethtool.FeatureReply) string {
	diff := !r.WantedMask.IsZero()
	for i := range r.Names {
		if r.ActiveMask.Has(i) && !req.Mask.Has(i) {
			diff = true
		}
	}
	if !diff {
		return ""
	}
	var b strings.Builder
	b.WriteString("Actual changes:\n")
	for i, n := range r.Names {
		switch {
		case r.WantedMask.Has(i):
			fmt.Fprintf(&b, "%s: %s [requested %s]\n", n, onOff(!r.WantedValue.Has(i)), onOff(r.WantedValue.Has(i)))
		case !r.ActiveMask.Has(i):
		case !req.Mask.Has(i):
			fmt.Fprintf(&b, "%s: %s [not requested]\n", n, onOff(r.ActiveValue.Has(i)))
		default:
			fmt.Fprintf(&b, "%s: %s\n", n, onOff(r.ActiveValue.Has(i)))
		}
	}
	return b.String()
}

// na prints a value or "n/a" when the device does not have it.
func na(v uint32, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprint(v)
}

// FormatRing is ethtool -g (netlink): the mini and jumbo rings exist only
// with a maximum; buffer length and CQE size print n/a when 0.
func FormatRing(dev string, r ethtool.Ring) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Ring parameters for %s:\nPre-set maximums:\n", dev)
	fmt.Fprintf(&b, "RX:\t\t%s\nRX Mini:\t%s\nRX Jumbo:\t%s\nTX:\t\t%s\n",
		na(r.RxMax, r.RxMax != 0), na(r.RxMiniMax, r.RxMiniMax != 0), na(r.RxJumboMax, r.RxJumboMax != 0), na(r.TxMax, r.TxMax != 0))
	b.WriteString("Current hardware settings:\n")
	fmt.Fprintf(&b, "RX:\t\t%s\nRX Mini:\t%s\nRX Jumbo:\t%s\nTX:\t\t%s\n",
		na(r.Rx, r.RxMax != 0), na(r.RxMini, r.RxMiniMax != 0), na(r.RxJumbo, r.RxJumboMax != 0), na(r.Tx, r.TxMax != 0))
	b.WriteString("RX Buf Len:\t\tn/a\nCQE Size:\t\tn/a\nTX Push:\toff\nTCP data split:\tn/a\n")
	return b.String()
}

// FormatChannels is ethtool -l: a count prints n/a when its maximum is 0.
func FormatChannels(dev string, c ethtool.Channels) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Channel parameters for %s:\nPre-set maximums:\n", dev)
	fmt.Fprintf(&b, "RX:\t\t%s\nTX:\t\t%s\nOther:\t\t%s\nCombined:\t%s\n",
		na(c.MaxRx, c.MaxRx != 0), na(c.MaxTx, c.MaxTx != 0), na(c.MaxOther, c.MaxOther != 0), na(c.MaxCombined, c.MaxCombined != 0))
	b.WriteString("Current hardware settings:\n")
	fmt.Fprintf(&b, "RX:\t\t%s\nTX:\t\t%s\nOther:\t\t%s\nCombined:\t%s\n",
		na(c.Rx, c.MaxRx != 0), na(c.Tx, c.MaxTx != 0), na(c.Other, c.MaxOther != 0), na(c.Combined, c.MaxCombined != 0))
	return b.String()
}

// FormatCoalesce is ethtool -c: unsupported parameters print n/a.
func FormatCoalesce(dev string, c ethtool.Coalesce) string {
	v := func(p ethtool.CoalesceParam) string {
		if !c.Has(p) {
			return "n/a"
		}
		if p.Bool() {
			return onOff(c.V[p] != 0)
		}
		return fmt.Sprint(c.V[p])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Coalesce parameters for %s:\n", dev)
	fmt.Fprintf(&b, "Adaptive RX: %s  TX: %s\n", v(ethtool.AdaptiveRx), v(ethtool.AdaptiveTx))
	fmt.Fprintf(&b, "stats-block-usecs: %s\nsample-interval: %s\npkt-rate-low: %s\npkt-rate-high: %s\n\n",
		v(ethtool.StatsBlockUsecs), v(ethtool.SampleInterval), v(ethtool.PktRateLow), v(ethtool.PktRateHigh))
	fmt.Fprintf(&b, "rx-usecs: %s\nrx-frames: %s\nrx-usecs-irq: %s\nrx-frames-irq: %s\n\n",
		v(ethtool.RxUsecs), v(ethtool.RxFrames), v(ethtool.RxUsecsIRQ), v(ethtool.RxFramesIRQ))
	fmt.Fprintf(&b, "tx-usecs: %s\ntx-frames: %s\ntx-usecs-irq: %s\ntx-frames-irq: %s\n\n",
		v(ethtool.TxUsecs), v(ethtool.TxFrames), v(ethtool.TxUsecsIRQ), v(ethtool.TxFramesIRQ))
	fmt.Fprintf(&b, "rx-usecs-low: %s\nrx-frame-low: %s\ntx-usecs-low: %s\ntx-frame-low: %s\n\n",
		v(ethtool.RxUsecsLow), v(ethtool.RxFramesLow), v(ethtool.TxUsecsLow), v(ethtool.TxFramesLow))
	fmt.Fprintf(&b, "rx-usecs-high: %s\nrx-frame-high: %s\ntx-usecs-high: %s\ntx-frame-high: %s\n\n",
		v(ethtool.RxUsecsHigh), v(ethtool.RxFramesHigh), v(ethtool.TxUsecsHigh), v(ethtool.TxFramesHigh))
	fmt.Fprintf(&b, "CQE mode RX: %s  TX: %s\n\n", v(ethtool.CQEModeRx), v(ethtool.CQEModeTx))
	return b.String()
}

// FormatPause is ethtool -a; stats adds -I's counters.
func FormatPause(dev string, p ethtool.Pause, stats bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pause parameters for %s:\nAutonegotiate:\t%s\nRX:\t\t%s\nTX:\t\t%s\n", dev, onOff(p.Autoneg), onOff(p.Rx), onOff(p.Tx))
	if stats {
		fmt.Fprintf(&b, "Statistics:\n  tx_pause_frames: %d\n  rx_pause_frames: %d\n", p.TxPauseFrames, p.RxPauseFrames)
	}
	return b.String()
}

// FormatStats is ethtool -S.
func FormatStats(st []ethtool.Stat) string {
	var b strings.Builder
	b.WriteString("NIC statistics:\n")
	for _, s := range st {
		fmt.Fprintf(&b, "     %s: %d\n", s.Name, s.Value)
	}
	return b.String()
}

// FormatRSS is ethtool -x.
func FormatRSS(dev string, r ethtool.RSS) string {
	var b strings.Builder
	fmt.Fprintf(&b, "RX flow hash indirection table for %s with %d RX ring(s):\n", dev, r.RxRings)
	if len(r.Indir) == 0 {
		b.WriteString("Operation not supported\n")
	}
	for i, q := range r.Indir {
		if i%8 == 0 {
			fmt.Fprintf(&b, "%5d: ", i)
		}
		fmt.Fprintf(&b, " %5d", q)
		if i%8 == 7 || i == len(r.Indir)-1 {
			b.WriteByte('\n')
		}
	}
	b.WriteString("RSS hash key:\n")
	if len(r.Key) == 0 {
		b.WriteString("Operation not supported\n")
	}
	for i, k := range r.Key {
		if i == len(r.Key)-1 {
			fmt.Fprintf(&b, "%02x\n", k)
		} else {
			fmt.Fprintf(&b, "%02x:", k)
		}
	}
	b.WriteString("RSS hash function:\n")
	for i, n := range ethtool.HashFuncNames {
		fmt.Fprintf(&b, "    %s: %s\n", n, onOff(r.HFunc&(1<<i) != 0))
	}
	return b.String()
}

// FormatHex is ethtool's hex dump (-e, and -d for unknown drivers).
func FormatHex(data []byte, offset uint32) string {
	var b strings.Builder
	b.WriteString("Offset\t\tValues\n------\t\t------")
	for i, v := range data {
		if i%16 == 0 {
			fmt.Fprintf(&b, "\n0x%04x:\t\t", uint32(i)+offset)
		}
		fmt.Fprintf(&b, "%02x ", v)
	}
	b.WriteByte('\n')
	return b.String()
}

// FormatPermAddr is ethtool -P.
func FormatPermAddr(a []byte) string {
	zero := true
	for _, x := range a {
		if x != 0 {
			zero = false
		}
	}
	if len(a) == 0 || zero {
		return "Permanent address: not set\n"
	}
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = fmt.Sprintf("%02x", x)
	}
	return "Permanent address: " + strings.Join(s, ":") + "\n"
}

// FormatTest is ethtool -t.
func FormatTest(res []ethtool.TestResult) string {
	var b strings.Builder
	pass := true
	for _, r := range res {
		if r.Value != 0 {
			pass = false
		}
	}
	if pass {
		b.WriteString("The test result is PASS\n")
	} else {
		b.WriteString("The test result is FAIL\n")
	}
	b.WriteString("The test extra info:\n")
	for _, r := range res {
		fmt.Fprintf(&b, "%s\t %d\n", r.Name, r.Value)
	}
	return b.String()
}

// linkModes prints link modes two to a line, continuation lines indented
// to the label's width.
func linkModes(b *strings.Builder, label string, modes []string) {
	fmt.Fprintf(b, "\t%s", label)
	if len(modes) == 0 {
		b.WriteString("Not reported\n")
		return
	}
	for i, m := range modes {
		if i > 0 {
			if i%2 == 0 {
				fmt.Fprintf(b, "\n\t%s", strings.Repeat(" ", len(label)))
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(m)
	}
	b.WriteByte('\n')
}

// FormatSettings is ethtool DEVNAME (link settings, message level when the
// device has one, and link state).
func FormatSettings(dev string, ls ethtool.LinkSettings, msglevel *uint32, link bool) string {
	var b strings.Builder
	yn := func(v bool) string {
		if v {
			return "Yes"
		}
		return "No"
	}
	fmt.Fprintf(&b, "Settings for %s:\n", dev)
	fmt.Fprintf(&b, "\tSupported ports: [ %s ]\n", strings.Join(append(append([]string{}, ls.Ports...), ""), " "))
	linkModes(&b, "Supported link modes:   ", ls.Supported)
	fmt.Fprintf(&b, "\tSupported pause frame use: %s\n", yn(ls.PauseSupported))
	fmt.Fprintf(&b, "\tSupports auto-negotiation: %s\n", yn(ls.AutonegSupported))
	b.WriteString("\tSupported FEC modes: Not reported\n")
	linkModes(&b, "Advertised link modes:  ", ls.Advertising)
	b.WriteString("\tAdvertised pause frame use: No\n")
	fmt.Fprintf(&b, "\tAdvertised auto-negotiation: %s\n", yn(ls.Autoneg && ls.AutonegSupported))
	b.WriteString("\tAdvertised FEC modes: Not reported\n")
	if len(ls.PartnerAdv) > 0 {
		linkModes(&b, "Link partner advertised link modes:  ", ls.PartnerAdv)
		b.WriteString("\tLink partner advertised pause frame use: No\n")
		b.WriteString("\tLink partner advertised auto-negotiation: Yes\n")
		b.WriteString("\tLink partner advertised FEC modes: Not reported\n")
	}
	if ls.Speed == ethtool.SpeedUnknown || ls.Speed == 0 {
		b.WriteString("\tSpeed: Unknown!\n")
	} else {
		fmt.Fprintf(&b, "\tSpeed: %dMb/s\n", ls.Speed)
	}
	switch ls.Duplex {
	case ethtool.DuplexFull:
		b.WriteString("\tDuplex: Full\n")
	case ethtool.DuplexHalf:
		b.WriteString("\tDuplex: Half\n")
	default:
		b.WriteString("\tDuplex: Unknown! (255)\n")
	}
	fmt.Fprintf(&b, "\tAuto-negotiation: %s\n", onOff(ls.Autoneg))
	port := "Twisted Pair"
	if ls.Port != ethtool.PortTP {
		port = "Other"
	}
	fmt.Fprintf(&b, "\tPort: %s\n\tPHYAD: %d\n\tTransceiver: internal\n", port, ls.PHYAddr)
	switch ls.MDIX {
	case ethtool.MDI:
		b.WriteString("\tMDI-X: off\n")
	case ethtool.MDIX:
		b.WriteString("\tMDI-X: on\n")
	default:
		b.WriteString("\tMDI-X: Unknown\n")
	}
	if msglevel != nil {
		v := *msglevel
		var names []string
		for i, n := range ethtool.MsglevelNames {
			if v&(1<<i) != 0 {
				names = append(names, n)
			}
		}
		fmt.Fprintf(&b, "\tCurrent message level: 0x%08x (%d)\n\t\t\t       %s\n", v, v, strings.Join(names, " "))
	}
	fmt.Fprintf(&b, "\tLink detected: %s\n", map[bool]string{true: "yes", false: "no"}[link])
	return b.String()
}

// FormatFeaturesJSON is ethtool 6.1's -k --json, in its json_writer's
// layout: per feature {"active", "fixed", "requested"}, with null fixed and
// requested for a legacy group of several features.
func FormatFeaturesJSON(dev string, l ethtool.FeatureList) string {
	var entries []string
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	add := func(name, active, fixed, requested string) {
		entries = append(entries, fmt.Sprintf("        %s: {\n            \"active\": %s,\n            \"fixed\": %s,\n            \"requested\": %s\n        }",
			q(name), active, fixed, requested))
	}
	tf := func(b bool) string { return fmt.Sprint(b) }
	group := make([]int, len(l))
	for i, f := range l {
		group[i] = -1
		for j, g := range ethtool.LegacyFlags {
			if f.Name != "" && g.Match(f.Name) {
				group[i] = j
				break
			}
		}
	}
	for j, g := range ethtool.LegacyFlags {
		if g.Hidden {
			continue
		}
		var members []int
		on := false
		for i := range l {
			if group[i] == j {
				members = append(members, i)
				on = on || l[i].Active
			}
		}
		if len(members) == 1 {
			f := l[members[0]]
			add(g.Long, tf(f.Active), tf(f.Fixed()), tf(f.Requested))
			continue
		}
		add(g.Long, tf(on), "null", "null")
		for _, i := range members {
			add(l[i].Name, tf(l[i].Active), tf(l[i].Fixed()), tf(l[i].Requested))
		}
	}
	for i, f := range l {
		if group[i] < 0 && f.Name != "" {
			add(f.Name, tf(f.Active), tf(f.Fixed()), tf(f.Requested))
		}
	}
	return "[ {\n        \"ifname\": " + q(dev) + ",\n" + strings.Join(entries, ",\n") + "\n    } ]\n"
}
