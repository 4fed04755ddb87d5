package ethtool

import (
	"fmt"
	"syscall"
)

// ExtOp names an ethtool operation that Ops has no method for: Linux
// drivers implement them through ethtool_ops members vnic's driver
// interface does not have (get_wol, get_eee, get_fecparam, set_phys_id,
// flash_device, get_dump_flag, get_module_info, get_priv_flags, tunables,
// reset, cable tests, ...). The command core answers each one EOPNOTSUPP,
// as the kernel does for a driver whose ethtool_ops leaves the member
// NULL; a driver gains one only by a new optional interface here.
type ExtOp uint8

// The operations. The comments give ethtool 6.1's modes.
const (
	ExtSetLinkInfo   ExtOp = iota + 1 // -s port/phyad/mdix changing the value (ETHTOOL_MSG_LINKINFO_SET)
	ExtSetLinkModes                   // -s advertise/lanes/master-slave (ETHTOOL_MSG_LINKMODES_SET fields Ops cannot take)
	ExtWoL                            // -s wol/sopass; the default mode's Wake-on lines (get_wol/set_wol)
	ExtEEE                            // --show-eee (get_eee)
	ExtSetEEE                         // --set-eee (set_eee)
	ExtFEC                            // --show-fec (get_fecparam)
	ExtSetFEC                         // --set-fec (set_fecparam)
	ExtModuleEEPROM                   // -m (get_module_info / get_module_eeprom_by_page)
	ExtPrivFlags                      // --show-priv-flags (get_priv_flags)
	ExtSetPrivFlags                   // --set-priv-flags (set_priv_flags)
	ExtDumpFlag                       // -w (get_dump_flag)
	ExtSetDump                        // -W (set_dump)
	ExtIdentify                       // -p (set_phys_id)
	ExtFlash                          // -f (flash_device, devlink flash)
	ExtTunable                        // --get-tunable (get_tunable)
	ExtSetTunable                     // --set-tunable (set_tunable)
	ExtPhyTunable                     // --get-phy-tunable (PHY tunables)
	ExtSetPhyTunable                  // --set-phy-tunable
	ExtReset                          // --reset (reset)
	ExtCableTest                      // --cable-test, --cable-test-tdr (PHY cable test)
	ExtTunnels                        // --show-tunnels (udp_tunnel_nic info)
	ExtModule                         // --show-module (get_module_power_mode)
	ExtSetModule                      // --set-module (set_module_power_mode)
	ExtPerQueue                       // -Q (get/set_per_queue_coalesce)
	ExtPhyStats                       // --phy-statistics (PHY statistics)
	ExtStatsGroups                    // -S --groups/--all-groups (standard statistics groups)
	ExtRSSContext                     // -x/-X context, -N ... context (RSS contexts)
	NumExtOps
)

var extNames = [...]string{
	ExtSetLinkInfo: "set linkinfo", ExtSetLinkModes: "set linkmodes", ExtWoL: "wol", ExtEEE: "get eee", ExtSetEEE: "set eee",
	ExtFEC: "get fec", ExtSetFEC: "set fec", ExtModuleEEPROM: "module eeprom", ExtPrivFlags: "get priv flags",
	ExtSetPrivFlags: "set priv flags", ExtDumpFlag: "get dump flag", ExtSetDump: "set dump", ExtIdentify: "identify",
	ExtFlash: "flash", ExtTunable: "get tunable", ExtSetTunable: "set tunable", ExtPhyTunable: "get phy tunable",
	ExtSetPhyTunable: "set phy tunable", ExtReset: "reset", ExtCableTest: "cable test", ExtTunnels: "tunnels",
	ExtModule: "get module", ExtSetModule: "set module", ExtPerQueue: "per-queue", ExtPhyStats: "phy statistics",
	ExtStatsGroups: "statistics groups", ExtRSSContext: "rss context",
}

// String names the operation for messages.
func (o ExtOp) String() string {
	if o != 0 && o < NumExtOps {
		return extNames[o]
	}
	return fmt.Sprintf("ExtOp(%d)", uint8(o))
}

// ExtError is the core's answer for op: EOPNOTSUPP, with no extended ack
// message (the kernel's ethnl and ioctl paths return a bare -EOPNOTSUPP
// for a NULL ethtool_ops member), except where the kernel says why.
func ExtError(op ExtOp) error {
	switch op {
	case ExtTunnels: // ethnl_tunnel_info_doit's extended ack
		return Errorf(op.String(), syscall.EOPNOTSUPP, "device does not report tunnel offload info")
	case ExtSetModule: // ethnl_set_module_validate's
		return AttrErrorf(op.String(), "power-mode-policy", syscall.EOPNOTSUPP, "Setting power mode policy is not supported by this device")
	}
	return &Error{Op: op.String(), Errno: syscall.EOPNOTSUPP}
}

// Timestamping capabilities (SOF_TIMESTAMPING_*, linux/net_tstamp.h).
const (
	TSTxHardware  = 1 << 0
	TSTxSoftware  = 1 << 1
	TSRxHardware  = 1 << 2
	TSRxSoftware  = 1 << 3
	TSSoftware    = 1 << 4
	TSSysHardware = 1 << 5
	TSRawHardware = 1 << 6
)

// TSInfoNames are the SOF_TIMESTAMPING_* capability bits in order, as
// ethtool -T prints them.
var TSInfoNames = []string{"hardware-transmit", "software-transmit", "hardware-receive", "software-receive",
	"software-system-clock", "hardware-legacy-clock", "hardware-raw-clock"}

// TSInfo is ETHTOOL_GET_TSINFO (struct ethtool_ts_info).
type TSInfo struct {
	Capabilities uint32 // SOF_TIMESTAMPING_* bits
	PHCIndex     int32  // -1: no PTP hardware clock
	TxTypes      uint32 // 1 << HWTSTAMP_TX_*
	RxFilters    uint32 // 1 << HWTSTAMP_FILTER_*
}

// SoftwareTSInfo is what the kernel reports for a driver without
// get_ts_info (ethtool_op_get_ts_info's software capabilities; Linux 6.x
// fills this in for every device, which is what ethtool -T shows on veth).
var SoftwareTSInfo = TSInfo{Capabilities: TSTxSoftware | TSRxSoftware | TSSoftware, PHCIndex: -1}

// TSInfoOps is the optional part of Ops for get_ts_info; a driver without
// it reports SoftwareTSInfo.
type TSInfoOps interface {
	GetTSInfo() TSInfo
}
