package cli

import (
	"io"
	"strings"
	"testing"

	"vnic/ethtool"
)

var fuzzSeeds = []string{"-k devname", "-K devname tx off sg on", "-G devname rx 100 tx 0x10", "-L devname rx 5", "--json -k devname",
	"-X devname equal 2", "-X devname start 4 weight 1 2", "-N devname rx-flow-hash tcp4 sdfn", "-e devname offset 1 length 2",
	"--debug 1 -i devname", "-K devname -- x", "-s devname advertise 0xf msglvl hw on -- wol pg",
	"-N devname flow-type ip4 src-ip 1.2.3.4 m 0.0.0.255 l4data 7 m 0xff vlan 3 action -1 loc 2",
	"-N devname flow-type ether dst 00:11:22:33:44:55 m ff:00:00:00:00:00 proto 0x800", "-n devname rule 3",
	"-m devname raw on offset 4", "--set-eee devname advertise 100baseT/Full on tx-timer 3", "--reset devname phy-shared flags 3",
	"-Q devname queue_mask 0x3 --coalesce rx-usecs 3", "--set-fec devname encoding rs baser", "-p devname 3", "-f devname fw 1"}

// FuzzRun feeds arbitrary command lines to the CLI over a veth-like
// device: it must never panic, and a zero exit must leave nothing on
// stderr.
func FuzzRun(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var errOut strings.Builder
		d := &vethFull{vethDev{t: t, feats: ethtool.ListOf(ethtool.SG|ethtool.HWCsum|ethtool.TSO, ethtool.SG|ethtool.TSO, ethtool.SG)}}
		rc := Run(strings.Fields(line), Options{Backend: vethFullBackend{d}, Stdout: io.Discard, Stderr: &errOut, Stdin: strings.NewReader("")})
		if rc == 0 && errOut.Len() != 0 && !strings.HasPrefix(errOut.String(), "Cannot change RX network flow hashing options") &&
			!strings.HasPrefix(errOut.String(), "rmgr: Cannot insert RX class rule") {
			t.Errorf("%q: exit 0 with stderr %q", line, errOut.String())
		}
	})
}

// FuzzCheck: the parser alone never panics, and agrees with Run on every
// line it refuses (same exit code, nothing asked of a device).
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, c := range cmdlineCases {
		f.Add(c.args)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		rc := Check(args, io.Discard, io.Discard)
		if rc == 0 {
			return
		}
		if got := Run(args, Options{Backend: panicBackend{}, Stdout: io.Discard, Stderr: io.Discard}); got != rc {
			t.Errorf("%q: Check %d, Run %d", line, rc, got)
		}
	})
}

// panicBackend fails a test that looks a device up.
type panicBackend struct{}

func (panicBackend) Device(string) (ethtool.Device, error) {
	panic("a refused command line looked a device up")
}

// FuzzParseRxClsRule: any flow-type arguments parse or fail with a
// RuleError, and a parsed rule's masks only cover fields of its flow type.
func FuzzParseRxClsRule(f *testing.F) {
	for _, s := range []string{"tcp4 src-ip 1.2.3.4 m 255.0.0.0 dst-port 80 action 3", "ether src 00:11:22:33:44:55 proto 0x88f7 loc 1",
		"ip4 l4proto 17 src-port 53 dst-port 53 vlan-etype 0x8100 user-def 5 m 1", "ah4 spi 9 m 0xff context 2", "tcp6 src-ip ::1 tclass 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, _, err := ParseRxClsRule(strings.Fields(line))
		if err != nil {
			if _, ok := err.(*RuleError); !ok {
				t.Fatalf("%q: %T %v", line, err, err)
			}
			return
		}
		if r.FlowType&^(ethtool.FlowExt|ethtool.FlowMACExt|ethtool.FlowRSS) == ethtool.EtherFlow && r.Mask.Src != [4]byte{} {
			t.Errorf("%q: an ether rule with an IPv4 mask %+v", line, r.Mask)
		}
		if r.FlowType&ethtool.FlowExt == 0 && (r.Mask.VLANTCI != 0 || r.Mask.VLANEtype != 0 || r.Mask.UserDef != [2]uint32{}) {
			t.Errorf("%q: ext masks without FLOW_EXT: %+v", line, r)
		}
	})
}
