package cli

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
	"vnic/ethtool/nl"
)

// plainOps is a driver with none of the optional interfaces; only the
// operations these tests reach are given.
type plainOps struct {
	ethtool.Ops
}

func (plainOps) GetChannels() ethtool.Channels { return ethtool.Channels{MaxCombined: 4, Combined: 4} }
func (plainOps) GetLink() bool                 { return true }
func (plainOps) DrvInfo() ethtool.DrvInfo      { return ethtool.DrvInfo{Driver: "plain"} }

// rxclsOps is plainOps with an ntuple table of 16 rules over 4 RX rings
// that leaves locations to the caller (no RX_CLS_LOC_SPECIAL), as igb.
type rxclsOps struct {
	plainOps
	rules map[uint32]ethtool.RxClsRule
}

func (o *rxclsOps) GetRxRings() (uint32, error) { return 4, nil }
func (o *rxclsOps) GetRxClsRules() (ethtool.RxClsRules, error) {
	rs := ethtool.RxClsRules{TableSize: 16}
	for _, r := range o.rules {
		rs.Rules = append(rs.Rules, r)
	}
	sort.Slice(rs.Rules, func(i, j int) bool { return rs.Rules[i].Location < rs.Rules[j].Location })
	return rs, nil
}
func (o *rxclsOps) InsertRxClsRule(r ethtool.RxClsRule) (uint32, error) {
	if r.Location >= 16 {
		return 0, ethtool.Errorf("insert", syscall.EINVAL, "")
	}
	o.rules[r.Location] = r
	return r.Location, nil
}
func (o *rxclsOps) DeleteRxClsRule(loc uint32) error {
	if _, ok := o.rules[loc]; !ok {
		return ethtool.Errorf("delete", syscall.ENOENT, "")
	}
	delete(o.rules, loc)
	return nil
}

type opsBackend map[string]ethtool.Device

func (b opsBackend) Device(name string) (ethtool.Device, error) {
	if d, ok := b[name]; ok {
		return d, nil
	}
	return nil, ethtool.AttrErrorf("lookup", "dev", syscall.ENODEV, "no device matches name")
}

// loop is a Transport straight into a Server, with the errors a netlink
// socket would return (errno, extended ack message, and the offset from
// the start of the request message: netlink and genetlink headers, 20
// bytes, then the body).
type loop struct{ s *nl.Server }

func (l loop) Execute(family string, cmd uint8, flags netlink.HeaderFlags, body []byte) ([]nl.Reply, error) {
	r, err := l.s.Serve(family, cmd, flags&netlink.Dump != 0, body)
	if err != nil {
		var e *ethtool.Error
		if errors.As(err, &e) {
			off := nl.ErrorOffset(body, err)
			if off >= 0 {
				off += 20
			} else {
				off = 0
			}
			return nil, &ethtool.Error{Op: e.Op, Errno: e.Errno, Msg: e.Msg, Offset: off}
		}
		return nil, err
	}
	return r, nil
}

// TestRxClsOverSocket: ntuple rules go from the command line over the
// control socket's vendor family to the driver's RxClsOps, with the
// user's masks inverted into the kernel's, and come back in ethtool's
// format; a driver without RxClsOps answers EOPNOTSUPP.
func TestRxClsOverSocket(t *testing.T) {
	ops := &rxclsOps{rules: map[uint32]ethtool.RxClsRule{}}
	b := opsBackend{"d0": ethtool.NewLocal("d0", ops, nil, nil), "d1": ethtool.NewLocal("d1", plainOps{}, nil, nil)}
	socket := nl.Backend(loop{&nl.Server{Backend: b}})
	sh := func(line string) (string, string, int) {
		var out, errOut bytes.Buffer
		rc := Run(strings.Fields(line), Options{Backend: socket, Stdout: &out, Stderr: &errOut})
		return out.String(), errOut.String(), rc
	}
	for _, c := range []struct {
		line, out, err string
		rc             int
	}{
		{"-N d0 flow-type tcp4 src-ip 192.0.2.1 dst-port 80 m 0xff action 2", "Added rule with ID 15\n", "", 0},
		{"-N d0 flow-type ether dst 00:11:22:33:44:55 proto 0x0800 action -1 loc 3", "", "", 0},
		{"-U d0 flow-type ip4 l4proto 6 l4data 0xdeadbeef m 0xffff vlan 0x123 m 0xf000 user-def 0x1122334455667788 dst-mac 00:aa:bb:cc:dd:ee loc 5 action 1", "", "", 0},
		{"-N d0 flow-type tcp4 action 9", "", "rmgr: Cannot insert RX class rule: Invalid argument\nCannot insert classification rule\n", 1},
		{"-N d0 flow-type tcp4 action 1 context 1", "", "rmgr: Cannot insert RX class rule: Invalid argument\nCannot insert classification rule\n", 1},
		{"-N d0 flow-type tcp6 src-ip 2001:db8::1 action 1", "", "rmgr: Cannot insert RX class rule: Operation not supported\nCannot insert classification rule\n", 1},
		{"-n d1", "", "Cannot get RX rings: Operation not supported\nrxclass: Cannot get RX class rule count: Operation not supported\nRX classification rule retrieval failed\n", 1},
		{"-N d1 flow-type tcp4 action 1", "", "rxclass: Cannot get RX class rule count: Operation not supported\nCannot insert classification rule\n", 1},
		{"-N d1 delete 1", "", "rmgr: Cannot delete RX class rule: Operation not supported\nCannot delete classification rule\n", 1},
		{"-N nosuch delete 1", "", "rmgr: Cannot delete RX class rule: No such device\nCannot delete classification rule\n", 1},
		{"-n d0 rule 7", "", "rxclass: Cannot get RX class rule: Invalid argument\nCannot get RX classification rule\n", 1},
	} {
		out, errOut, rc := sh(c.line)
		if out != c.out || errOut != c.err || rc != c.rc {
			t.Errorf("ethtool %s:\n exit %d stdout %q stderr %q\n want %d %q %q", c.line, rc, out, errOut, c.rc, c.out, c.err)
		}
	}
	tcp := ops.rules[15]
	if tcp.FlowType != ethtool.TCPv4Flow || tcp.Value.Src != [4]byte{192, 0, 2, 1} || tcp.Mask.Src != [4]byte{255, 255, 255, 255} ||
		tcp.Value.DstPort != 80 || tcp.Mask.DstPort != 0xff00 || tcp.Mask.SrcPort != 0 || tcp.RingCookie != 2 {
		t.Errorf("tcp4 rule as the driver got it: %+v", tcp)
	}
	ip := ops.rules[5]
	if ip.FlowType != ethtool.IPUserFlow|ethtool.FlowExt|ethtool.FlowMACExt || ip.Value.Proto != 6 || ip.Mask.Proto != 0xff ||
		ip.Value.L4Bytes != 0xdeadbeef || ip.Mask.L4Bytes != 0xffff0000 || ip.Value.VLANTCI != 0x123 || ip.Mask.VLANTCI != 0x0fff ||
		ip.Value.UserDef != [2]uint32{0x11223344, 0x55667788} || ip.Mask.UserDef != [2]uint32{0xffffffff, 0xffffffff} ||
		ip.Value.ExtDstMAC != [6]byte{0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee} || ip.RingCookie != 1 {
		t.Errorf("ip4 rule as the driver got it: %+v", ip)
	}
	if ops.rules[3].RingCookie != ethtool.RxClsFlowDisc {
		t.Errorf("action -1: ring cookie %#x, want RX_CLS_FLOW_DISC", ops.rules[3].RingCookie)
	}
	want := "4 RX rings available\nTotal 3 rules\n\n" +
		"Filter: 3\n\tFlow Type: Raw Ethernet\n\tSrc MAC addr: 00:00:00:00:00:00 mask: FF:FF:FF:FF:FF:FF\n" +
		"\tDest MAC addr: 00:11:22:33:44:55 mask: 00:00:00:00:00:00\n\tEthertype: 0x800 mask: 0x0\n\tAction: Drop\n\n" +
		"Filter: 5\n\tRule Type: Raw IPv4\n\tSrc IP addr: 0.0.0.0 mask: 255.255.255.255\n\tDest IP addr: 0.0.0.0 mask: 255.255.255.255\n" +
		"\tTOS: 0x0 mask: 0xff\n\tProtocol: 6 mask: 0x0\n\tL4 bytes: 0xdeadbeef mask: 0xffff\n" +
		"\tVLAN EtherType: 0x0 mask: 0xffff\n\tVLAN: 0x123 mask: 0xf000\n\tUser-defined: 0x1122334455667788 mask: 0x0\n" +
		"\tDest MAC addr: 00:AA:BB:CC:DD:EE mask: FF:FF:FF:FF:FF:FF\n\tAction: Direct to queue 1\n\n" +
		"Filter: 15\n\tRule Type: TCP over IPv4\n\tSrc IP addr: 192.0.2.1 mask: 0.0.0.0\n\tDest IP addr: 0.0.0.0 mask: 255.255.255.255\n" +
		"\tTOS: 0x0 mask: 0xff\n\tSrc port: 0 mask: 0xffff\n\tDest port: 80 mask: 0xff\n\tAction: Direct to queue 2\n\n"
	if out, errOut, rc := sh("-n d0"); out != want || rc != 0 {
		t.Errorf("-n: exit %d %q\n%s\nwant\n%s", rc, errOut, out, want)
	}
	if out, _, rc := sh("-u d0 rule 15"); rc != 0 || !strings.HasPrefix(want[strings.Index(want, "Filter: 15"):], out) || out == "" {
		t.Errorf("-u rule 15: exit %d\n%s", rc, out)
	}
	// Deleting a rule frees its slot for the next insert without loc.
	if _, errOut, rc := sh("-N d0 delete 15"); rc != 0 {
		t.Fatalf("delete 15: %d %s", rc, errOut)
	}
	if _, errOut, rc := sh("-N d0 delete 15"); rc != 1 || errOut != "rmgr: Cannot delete RX class rule: No such file or directory\nCannot delete classification rule\n" {
		t.Errorf("second delete 15: %d %q", rc, errOut)
	}
	if out, _, _ := sh("-N d0 flow-type udp4 action 0"); out != "Added rule with ID 15\n" {
		t.Errorf("insert after delete: %q", out)
	}
}

// TestUnsupportedOpsOverSocket: the modes of operations Ops lacks travel
// to the device and come back EOPNOTSUPP, printed as ethtool prints a
// driver without the op; -T reports the kernel's software timestamping.
func TestUnsupportedOpsOverSocket(t *testing.T) {
	b := opsBackend{"d1": ethtool.NewLocal("d1", plainOps{}, nil, nil)}
	socket := nl.Backend(loop{&nl.Server{Backend: b}})
	for _, c := range []struct {
		line, out, err string
		rc             int
	}{
		{"-T d1", "Time stamping parameters for d1:\nCapabilities:\n\tsoftware-transmit\n\tsoftware-receive\n\tsoftware-system-clock\n" +
			"PTP Hardware Clock: none\nHardware Transmit Timestamp Modes: none\nHardware Receive Filter Modes: none\n", "", 0},
		{"-p d1 5", "", "Cannot identify NIC: Operation not supported\n", 255},
		{"-f d1 fw.bin", "", "Flashing failed: Operation not supported\n", 255},
		{"-w d1", "", "Can not get dump level: Operation not supported\n", 1},
		{"-W d1 3", "", "Can not set dump level: Operation not supported\n", 1},
		{"-s d1 wol g", "", "netlink error: Operation not supported\n", 75},
		{"-s d1 sopass 00:11:22:33:44:55", "", "netlink error: Operation not supported\n", 75},
		{"-s d1 advertise 0x20", "", "netlink error: Operation not supported\n", 75},
		{"--show-eee d1", "", "netlink error: Operation not supported\n", 1},
		{"--set-eee d1 eee on", "", "netlink error: Operation not supported\n", 76},
		{"--show-fec d1", "", "netlink error: Operation not supported\n", 1},
		{"--json --show-fec d1", "[ ]\n", "netlink error: Operation not supported\n", 1},
		{"--set-fec d1 encoding rs", "", "netlink error: Operation not supported\n", 83},
		{"-m d1", "", "netlink error: Operation not supported\n", 1},
		{"-m d1 raw on", "", "Cannot get module EEPROM information: Operation not supported\n", 1},
		{"--show-priv-flags d1", "", "netlink error: Operation not supported\n", 1},
		{"--set-priv-flags d1 legacy-rx on", "", "netlink error: Operation not supported\n", 1},
		{"--get-tunable d1 rx-copybreak", "", "rx-copybreak: Cannot get tunable\n", 255},
		{"--set-tunable d1 rx-copybreak 256", "", "rx-copybreak: Operation not supported\n", 255},
		{"--get-phy-tunable d1 downshift", "", "Cannot Get PHY downshift count: Operation not supported\n", 87},
		{"--set-phy-tunable d1 fast-link-down on msecs 5", "", "Cannot Set PHY Fast Link Down value: Operation not supported\n", 87},
		{"--reset d1 phy", "ETHTOOL_RESET 0x40\n", "Cannot issue ETHTOOL_RESET: Operation not supported\n", 1},
		{"--cable-test d1", "", "netlink error: Operation not supported\n", 1},
		{"--show-tunnels d1", "", "netlink error: device does not report tunnel offload info\nnetlink error: Operation not supported\n", 1},
		{"--show-module d1", "Module parameters for d1:\n", "", 0},
		{"--set-module d1 power-mode-policy high", "", "netlink error: Setting power mode policy is not supported by this device (offset 32)\nnetlink error: Operation not supported\n", 83},
		{"-Q d1 --show-coalesce", "The sub commands will be applied to all 4 queues\n",
			"Cannot get device per queue parameters: Operation not supported\nCannot get device per queue parameters: Invalid argument\n", 242},
		{"-S d1 --groups eth-mac rmon", "Standard stats for d1:\n", "", 0},
		{"--phy-statistics d1", "", "no stats available\n", 94},
		{"nosuch", "", strings.Repeat("netlink error: no device matches name (offset 24)\nnetlink error: No such device\n", 5) + "No data available\n", 75},
		{"-i nosuch", "", "Cannot get driver information: No such device\n", 71},
	} {
		var out, errOut bytes.Buffer
		rc := Run(strings.Fields(c.line), Options{Backend: socket, Stdout: &out, Stderr: &errOut})
		if out.String() != c.out || errOut.String() != c.err || rc != c.rc {
			t.Errorf("ethtool %s:\n exit %d stdout %q stderr %q\n want %d %q %q", c.line, rc, out.String(), errOut.String(), c.rc, c.out, c.err)
		}
	}
}
