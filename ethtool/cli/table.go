package cli

import (
	"fmt"
	"strings"

	"vnic/ethtool"
)

// The mode table, in ethtool 6.1's order: option names and argument
// grammar are ethtool's (ethtool -h); the descriptions are vnic's.
func init() {
	modes = []*mode{
		{opts: "-s|--change", help: "Change link settings, Wake-on-LAN and message level", parse: parseChange, fn: doChange, failExit: 75, nl: true, set: true,
			xhelp: "\t\t[ speed %d ]\n\t\t[ lanes %d ]\n\t\t[ duplex half|full ]\n\t\t[ port tp|aui|bnc|mii|fibre|da ]\n\t\t[ mdix auto|on|off ]\n\t\t[ autoneg on|off ]\n\t\t[ advertise %x[/%x] | mode on|off ... [--] ]\n\t\t[ phyad %d ]\n\t\t[ xcvr internal|external ]\n\t\t[ wol %d[/%d] | p|u|m|b|a|g|s|f|d... ]\n\t\t[ sopass %x:%x:%x:%x:%x:%x ]\n\t\t[ msglvl %d[/%d] | type on|off ... [--] ]\n\t\t[ master-slave preferred-master|preferred-slave|forced-master|forced-slave ]\n"},
		{opts: "-a|--show-pause", help: "Show pause (flow control) settings", fn: doShowPause, failExit: 1, nl: true, json: true},
		{opts: "-A|--pause", help: "Change pause (flow control) settings", parse: paramParser(pauseParams), fn: doSetPause, failExit: 76, nl: true, set: true,
			xhelp: "\t\t[ autoneg on|off ]\n\t\t[ rx on|off ]\n\t\t[ tx on|off ]\n"},
		{opts: "-c|--show-coalesce", help: "Show interrupt coalescing", fn: doShowCoalesce, failExit: 1, nl: true},
		{opts: "-C|--coalesce", help: "Change interrupt coalescing", parse: paramParser(coalesceParams()), fn: doSetCoalesce, failExit: 1, nl: true, set: true,
			xhelp: coalesceHelp()},
		{opts: "-g|--show-ring", help: "Show RX/TX ring sizes", fn: doShowRing, failExit: 1, nl: true},
		{opts: "-G|--set-ring", help: "Change RX/TX ring sizes", parse: paramParser(ringParams), fn: doSetRing, failExit: 81, nl: true, set: true,
			xhelp: "\t\t[ rx N ]\n\t\t[ rx-mini N ]\n\t\t[ rx-jumbo N ]\n\t\t[ tx N ]\n\t\t[ rx-buf-len N]\n\t\t[ cqe-size N]\n\t\t[ tx-push on|off]\n"},
		{opts: "-k|--show-features|--show-offload", help: "Show offload features", fn: doShowFeatures, failExit: 1, nl: true, json: true},
		{opts: "-K|--features|--offload", help: "Change offload features", parse: func(*run) int { return -1 }, fn: doSetFeatures, failExit: 92, nl: true, set: true,
			xhelp: "\t\tFEATURE on|off ...\n"},
		{opts: "-i|--driver", help: "Show driver information", fn: doDrvInfo, failMsg: "Cannot get driver information", failExit: 71},
		{opts: "-d|--register-dump", help: "Dump the registers", parse: ioctlParser(regsParams), fn: doRegs, failExit: 74,
			xhelp: "\t\t[ raw on|off ]\n\t\t[ file FILENAME ]\n"},
		{opts: "-e|--eeprom-dump", help: "Dump the EEPROM", parse: ioctlParser(eepromParams), fn: doEEPROM, failMsg: "Cannot get EEPROM data", failExit: 74,
			xhelp: "\t\t[ raw on|off ]\n\t\t[ offset N ]\n\t\t[ length N ]\n"},
		{opts: "-E|--change-eeprom", help: "Write bytes into the EEPROM", parse: ioctlParser(setEEPROMParams), fn: doSetEEPROM, failMsg: "Cannot set EEPROM data", failExit: 87, set: true,
			xhelp: "\t\t[ magic N ]\n\t\t[ offset N ]\n\t\t[ length N ]\n\t\t[ value N ]\n"},
		{opts: "-r|--negotiate", help: "Restart autonegotiation", fn: doNway, failMsg: "Cannot restart autonegotiation", failExit: 255, set: true},
		{opts: "-p|--identify", help: "Identify the port (blink its LEDs)", parse: parseIdentify, fn: doIdentify, failMsg: "Cannot identify NIC", failExit: 255,
			xhelp: "               [ TIME-IN-SECONDS ]\n"},
		{opts: "-t|--test", help: "Run the device's self-test", parse: parseTest, fn: doTest, failMsg: "Cannot test", failExit: 74,
			xhelp: "               [ online | offline | external_lb ]\n"},
		{opts: "-S|--statistics", help: "Show the device's statistics", parse: parseStats, fn: doStats, failMsg: "Cannot get stats information", failExit: 94,
			xhelp: "               [ --all-groups | --groups [eth-phy] [eth-mac] [eth-ctrl] [rmon] ]\n"},
		{opts: "--phy-statistics", help: "Show the PHY's statistics", fn: doPhyStats, failExit: 94},
		{opts: "-n|-u|--show-nfc|--show-ntuple", help: "Show RX flow hashing or classification rules", parse: parseShowNFC, fn: doShowNFC, failExit: 1,
			xhelp: "\t\t[ rx-flow-hash tcp4|udp4|ah4|esp4|sctp4|tcp6|udp6|ah6|esp6|sctp6 [context %d] |\n\t\t  rule %d ]\n"},
		{opts: "-N|-U|--config-nfc|--config-ntuple", help: "Change RX flow hashing or classification rules", parse: parseSetNFC, fn: doSetNFC, failExit: 1, set: true,
			xhelp: nfcHelp},
		{opts: "-T|--show-time-stamping", help: "Show timestamping capabilities", fn: doTSInfo, failExit: 1, nl: true},
		{opts: "-x|--show-rxfh-indir|--show-rxfh", help: "Show the RSS indirection table and hash key", parse: parseShowRSS, fn: doShowRSS, failExit: 1,
			xhelp: "\t\t[ context %d ]\n"},
		{opts: "-X|--set-rxfh-indir|--rxfh", help: "Change the RSS indirection table, hash key or function", parse: parseSetRSS, fn: doSetRSS, failExit: 1, set: true,
			xhelp: "\t\t[ context %d|new ]\n\t\t[ equal N | weight W0 W1 ... | default ]\n\t\t[ hkey %x:%x:%x:%x:%x:.... ]\n\t\t[ hfunc FUNC ]\n\t\t[ delete ]\n"},
		{opts: "-f|--flash", help: "Write a firmware image into the device's flash", parse: parseFlash, fn: doFlash, failMsg: "Flashing failed", failExit: 255, set: true,
			xhelp: "               FILENAME [ REGION-NUMBER-TO-FLASH ]\n"},
		{opts: "-P|--show-permaddr", help: "Show the permanent MAC address", parse: ignoreArgs, fn: doPermAddr, failExit: 1, nl: true},
		{opts: "-w|--get-dump", help: "Show the firmware dump flag, or save the dump", parse: parseGetDump, fn: doGetDump, failMsg: "Can not get dump level", failExit: 1,
			xhelp: "\t\t[ data FILENAME ]\n"},
		{opts: "-W|--set-dump", help: "Change the firmware dump flag", parse: parseSetDump, fn: doSetDump, failMsg: "Can not set dump level", failExit: 1, set: true,
			xhelp: "\t\tN\n"},
		{opts: "-l|--show-channels", help: "Show channel (queue) counts", fn: doShowChannels, failExit: 1, nl: true},
		{opts: "-L|--set-channels", help: "Change channel (queue) counts", parse: paramParser(channelParams), fn: doSetChannels, failExit: 1, nl: true, set: true,
			xhelp: "               [ rx N ]\n               [ tx N ]\n               [ other N ]\n               [ combined N ]\n"},
		{opts: "--show-priv-flags", help: "Show the driver's private flags", fn: extShow(ethtool.ExtPrivFlags), failExit: 1, nl: true},
		{opts: "--set-priv-flags", help: "Change the driver's private flags", parse: parsePrivFlags, fn: extSet(ethtool.ExtSetPrivFlags), failExit: 1, nl: true, set: true,
			xhelp: "\t\tFLAG on|off ...\n"},
		{opts: "-m|--dump-module-eeprom|--module-info", help: "Dump or decode the transceiver module's EEPROM", parse: parseModule, fn: doModule, failExit: 1, nl: true,
			xhelp: "\t\t[ raw on|off ]\n\t\t[ hex on|off ]\n\t\t[ offset N ]\n\t\t[ length N ]\n\t\t[ page N ]\n\t\t[ bank N ]\n\t\t[ i2c N ]\n"},
		{opts: "--show-eee", help: "Show Energy-Efficient Ethernet settings", fn: extShow(ethtool.ExtEEE), failExit: 1, nl: true},
		{opts: "--set-eee", help: "Change Energy-Efficient Ethernet settings", parse: requiredParser(eeeParams), fn: extSet(ethtool.ExtSetEEE), failExit: 76, nl: true, set: true,
			xhelp: "\t\t[ eee on|off ]\n\t\t[ advertise %x ]\n\t\t[ tx-lpi on|off ]\n\t\t[ tx-timer %d ]\n"},
		{opts: "--set-phy-tunable", help: "Change PHY tunables", parse: parseSetPhyTunable, fn: doPhyTunable, failExit: 87, set: true,
			xhelp: "\t\t[ downshift on|off [count N] ]\n\t\t[ fast-link-down on|off [msecs N] ]\n\t\t[ energy-detect-power-down on|off [msecs N] ]\n"},
		{opts: "--get-phy-tunable", help: "Show PHY tunables", parse: parseGetPhyTunable, fn: doPhyTunable, failExit: 87,
			xhelp: "\t\t[ downshift ]\n\t\t[ fast-link-down ]\n\t\t[ energy-detect-power-down ]\n"},
		{opts: "--get-tunable", help: "Show driver tunables", parse: parseGetTunable, fn: doGetTunable, failExit: 255,
			xhelp: "\t\t[ rx-copybreak ]\n\t\t[ tx-copybreak ]\n\t\t[ tx-buf-size ]\n\t\t[ pfc-prevention-tout ]\n"},
		{opts: "--set-tunable", help: "Change driver tunables", parse: parseSetTunable, fn: doSetTunable, failExit: 255, set: true,
			xhelp: "\t\t[ rx-copybreak N]\n\t\t[ tx-copybreak N]\n\t\t[ tx-buf-size N]\n\t\t[ pfc-prevention-tout N]\n"},
		{opts: "--reset", help: "Reset device components", parse: parseReset, fn: doReset, failExit: 1, set: true, xhelp: resetHelp()},
		{opts: "--show-fec", help: "Show forward error correction settings", fn: extShow(ethtool.ExtFEC), failExit: 1, nl: true, json: true},
		{opts: "--set-fec", help: "Change forward error correction settings", parse: requiredParser(fecParams), fn: extSet(ethtool.ExtSetFEC), failExit: 83, nl: true, set: true,
			xhelp: "\t\t[ encoding auto|off|rs|baser|llrs [...]]\n"},
		{opts: "-Q|--per-queue", help: "Apply a coalescing command per queue", parse: parsePerQueue, fn: doPerQueue, failExit: 242,
			xhelp: "\t\t[queue_mask %x] SUB_COMMAND\n\t\t(sub commands: --show-coalesce, --coalesce)\n"},
		{opts: "--cable-test", help: "Run a cable test", fn: extShow(ethtool.ExtCableTest), failExit: 1, nl: true, json: true},
		{opts: "--cable-test-tdr", help: "Run a cable test and print time domain reflectometry data", parse: paramParser(tdrParams), fn: extShow(ethtool.ExtCableTest), failExit: 1, nl: true, json: true,
			xhelp: "\t\t[ first N ]\n\t\t[ last N ]\n\t\t[ step N ]\n\t\t[ pair N ]\n"},
		{opts: "--show-tunnels", help: "Show tunnel offload information", fn: extShow(ethtool.ExtTunnels), failExit: 1, nl: true},
		{opts: "--show-module", help: "Show transceiver module settings", fn: doShowModule, failExit: 1, nl: true, json: true},
		{opts: "--set-module", help: "Change transceiver module settings", parse: requiredParser(moduleParams), fn: doSetModule, failExit: 83, nl: true, set: true,
			xhelp: "\t\t[ power-mode-policy high|auto ]\n"},
		{opts: "-h|--help", help: "Show this help", noDev: true, fn: doHelp},
		{opts: "--version", help: "Show version number", noDev: true, fn: doVersion},
	}
}

// Usage writes what ethtool -h prints, for vnic.
func Usage(w interface{ Write([]byte) (int, error) }) {
	var b strings.Builder
	b.WriteString(Version + "\nUsage:\n")
	line := func(m *mode) {
		dev := "DEVNAME"
		if m.noDev {
			dev = "\t"
		}
		fmt.Fprintf(&b, "        ethtool [ FLAGS ] %s %s\t%s\n", m.opts, dev, m.help)
		b.WriteString(m.xhelp)
	}
	fmt.Fprintf(&b, "        ethtool [ FLAGS ]  DEVNAME\t%s\n", settingsMode.help)
	for _, m := range modes {
		line(m)
	}
	b.WriteString("        ethtool --monitor               Show notifications\n" +
		"                ( [ --all ]\n                  | -s | --change\n" +
		"                  | -k | --show-features | --show-offload | -K | --features | --offload\n" +
		"                  | --show-priv-flags | --set-priv-flags\n                  | -g | --show-ring | -G | --set-ring\n" +
		"                  | -l | --show-channels | -L | --set-channels\n                  | -c | --show-coalesce | -C | --coalesce\n" +
		"                  | -a | --show-pause | -A | --pause\n                  | --show-eee | --set-eee\n" +
		"                  | --cable-test\n                  | --cable-test-tdr\n                  | --show-module | --set-module )\n" +
		"                [ DEVNAME | * ]\n")
	b.WriteString("\nFLAGS:\n\t--debug MASK\tturn on debugging messages\n" +
		"\t--json\t\tenable JSON output format (not supported by all commands)\n" +
		"\t-I|--include-statistics\t\trequest device statistics related to the command (not supported by all commands)\n")
	_, _ = w.Write([]byte(b.String()))
}

func doHelp(r *run, _ ethtool.Device) int {
	Usage(r.Stdout)
	return 0
}

func doVersion(r *run, _ ethtool.Device) int {
	fmt.Fprintln(r.Stdout, Version)
	return 0
}

func coalesceHelp() string {
	var b strings.Builder
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		if p.Bool() {
			fmt.Fprintf(&b, "\t\t[%s on|off]\n", p)
		} else {
			fmt.Fprintf(&b, "\t\t[%s N]\n", p)
		}
	}
	return b.String()
}

const nfcHelp = "\t\trx-flow-hash tcp4|udp4|ah4|esp4|sctp4|tcp6|udp6|ah6|esp6|sctp6 m|v|t|s|d|f|n|r... [context %d] |\n" +
	"\t\tflow-type ether|ip4|tcp4|udp4|sctp4|ah4|esp4|ip6|tcp6|udp6|ah6|esp6|sctp6\n" +
	"\t\t\t[ src %x:%x:%x:%x:%x:%x [m %x:%x:%x:%x:%x:%x] ]\n" +
	"\t\t\t[ dst %x:%x:%x:%x:%x:%x [m %x:%x:%x:%x:%x:%x] ]\n" +
	"\t\t\t[ proto %d [m %x] ]\n" +
	"\t\t\t[ src-ip IP-ADDRESS [m IP-ADDRESS] ]\n" +
	"\t\t\t[ dst-ip IP-ADDRESS [m IP-ADDRESS] ]\n" +
	"\t\t\t[ tos %d [m %x] ]\n" +
	"\t\t\t[ tclass %d [m %x] ]\n" +
	"\t\t\t[ l4proto %d [m %x] ]\n" +
	"\t\t\t[ src-port %d [m %x] ]\n" +
	"\t\t\t[ dst-port %d [m %x] ]\n" +
	"\t\t\t[ spi %d [m %x] ]\n" +
	"\t\t\t[ vlan-etype %x [m %x] ]\n" +
	"\t\t\t[ vlan %x [m %x] ]\n" +
	"\t\t\t[ user-def %x [m %x] ]\n" +
	"\t\t\t[ dst-mac %x:%x:%x:%x:%x:%x [m %x:%x:%x:%x:%x:%x] ]\n" +
	"\t\t\t[ action %d ] | [ vf %d queue %d ]\n" +
	"\t\t\t[ context %d ]\n" +
	"\t\t\t[ loc %d]] |\n" +
	"\t\tdelete %d\n"
