package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"vnic/ethtool"
)

// The golden files are the real ethtool 6.1's output on a veth pair in a
// network namespace and on the host's virtio interface, captured by
// test/testdata/ethtool/capture.sh (see version.txt for the versions).
const goldenDir = "../../test/testdata/ethtool"

func golden(t *testing.T, name string) (out, errOut string, rc int) {
	t.Helper()
	read := func(ext string) string {
		b, err := os.ReadFile(filepath.Join(goldenDir, name+ext))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	rc, err := strconv.Atoi(strings.TrimSpace(read(".rc")))
	if err != nil {
		t.Fatal(err)
	}
	return read(".out"), read(".err"), rc
}

// featuresFromJSON rebuilds a FeatureList from ethtool --json -k: plain
// feature names, and single-feature groups under their long name.
func featuresFromJSON(t *testing.T, file string) ethtool.FeatureList {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, file))
	if err != nil {
		t.Fatal(err)
	}
	type st struct {
		Active    bool  `json:"active"`
		Fixed     *bool `json:"fixed"`
		Requested *bool `json:"requested"`
	}
	var devs []map[string]json.RawMessage
	if err := json.Unmarshal(b, &devs); err != nil {
		t.Fatal(err)
	}
	get := func(k string) (st, bool) {
		raw, ok := devs[0][k]
		if !ok {
			return st{}, false
		}
		var s st
		if err := json.Unmarshal(raw, &s); err != nil || s.Fixed == nil {
			return st{}, false
		}
		return s, true
	}
	var l ethtool.FeatureList
	for _, n := range ethtool.KernelFeatureNames {
		s, ok := get(n)
		if !ok {
			for _, g := range ethtool.LegacyFlags {
				if g.Match(n) {
					s, ok = get(g.Long)
				}
			}
		}
		if n == "" {
			l = append(l, ethtool.FeatureState{})
			continue
		}
		if !ok {
			t.Fatalf("%s: no state for %s", file, n)
		}
		l = append(l, ethtool.FeatureState{Name: n, Available: !*s.Fixed, Requested: *s.Requested, Active: s.Active})
	}
	return l
}

// vethDev is the captured veth as a Device: its gets return what the
// real one returned; its feature set applies the real kernel's result.
type vethDev struct {
	ethtool.Device // the operations veth lacks are not called
	t              *testing.T
	feats          ethtool.FeatureList
	after          ethtool.FeatureList // the features after the set
}

func (v *vethDev) Name() string { return "va" }
func (v *vethDev) DrvInfo() (ethtool.DrvInfo, error) {
	return ethtool.DrvInfo{Driver: "veth", Version: "1.0", NStats: 10}, nil
}
func (v *vethDev) Features() (ethtool.FeatureList, error) { return v.feats, nil }
func (v *vethDev) SetFeatures(req ethtool.FeatureRequest) (ethtool.FeatureReply, error) {
	names := make([]string, len(v.feats))
	for i, f := range v.feats {
		names[i] = f.Name
	}
	after := v.after
	if after == nil {
		after = v.feats
	}
	return ethtool.NewFeatureReply(names, req, v.feats.Active(), after.Active()), nil
}
func (v *vethDev) Channels() (ethtool.Channels, error) {
	return ethtool.Channels{MaxRx: 2, MaxTx: 2, Rx: 1, Tx: 1}, nil
}
func (v *vethDev) SetChannels(rx, tx, other, combined ethtool.Opt32) error {
	if rx.V > 2 {
		return ethtool.AttrErrorf("set channels", "rx", syscall.EINVAL, "requested channel count exceeds maximum")
	}
	return nil
}
func (v *vethDev) PermAddr() ([]byte, error) { return make([]byte, 6), nil }
func (v *vethDev) LinkSettings() (ethtool.LinkSettings, error) {
	return ethtool.LinkSettings{Speed: 10000, Duplex: ethtool.DuplexFull, Port: ethtool.PortTP, MDIX: ethtool.MDIXUnknown}, nil
}
func (v *vethDev) Link() (bool, error) { return true, nil }
func (v *vethDev) Msglevel() (uint32, error) {
	return 0, ethtool.Errorf("get msglevel", syscall.EOPNOTSUPP, "")
}

// Ext: veth has none of the operations Ops lacks (no Wake-on-LAN, ...).
func (v *vethDev) Ext(op ethtool.ExtOp) error { return ethtool.ExtError(op) }

type vethBackend struct{ d *vethDev }

func (b vethBackend) Device(name string) (ethtool.Device, error) {
	if name != "va" {
		return nil, ethtool.AttrErrorf("lookup", "dev", syscall.ENODEV, "no device matches name")
	}
	return b.d, nil
}

func TestGoldenVeth(t *testing.T) {
	before := featuresFromJSON(t, "veth-k-json.out")
	afterTxOff := featuresFromJSON(t, "veth-k-json-after-tx-off.out")
	tests := []struct {
		golden string
		args   string
		feats  ethtool.FeatureList
		after  ethtool.FeatureList
	}{
		{"veth-i", "-i va", before, nil},
		{"veth-k", "-k va", before, nil},
		{"veth-k-json", "--json -k va", before, nil},
		{"veth-k-after-tx-off", "-k va", afterTxOff, nil},
		{"veth-l", "-l va", before, nil},
		{"veth-P", "-P va", before, nil},
		{"veth-settings", "va", before, nil},
		{"veth-K-rxcsum", "-K va rxcsum off", before, nil},
		{"veth-K-lro", "-K va lro on", before, nil},
		{"veth-K-tx-off", "-K va tx off", before, afterTxOff},
		{"veth-K-tx-on", "-K va tx on", afterTxOff, before},
		{"veth-k-extra", "-k va extra", before, nil},
		{"veth-g-nosuch", "-g nosuch", before, nil},
		{"veth-i-nosuch", "-i nosuch", before, nil},
		{"veth-G-noval", "-G va rx", before, nil},
		{"veth-G-unknown", "-G va foo 1", before, nil},
		{"veth-G-badval", "-G va rx abc", before, nil},
		{"veth-L-toomany", "-L va rx 5", before, nil},
		{"veth-no-mode", "-g", before, nil},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			wantOut, wantErr, wantRC := golden(t, tc.golden)
			var out, errOut bytes.Buffer
			dev := &vethDev{t: t, feats: tc.feats, after: tc.after}
			rc := Run(strings.Fields(tc.args), Options{Backend: vethBackend{dev}, Stdout: &out, Stderr: &errOut})
			if out.String() != wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), wantOut)
			}
			if errOut.String() != wantErr {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), wantErr)
			}
			if rc != wantRC {
				t.Errorf("exit %d, want %d", rc, wantRC)
			}
		})
	}
}

// TestGoldenHost formats the host interface's ring and coalescing data.
func TestGoldenHost(t *testing.T) {
	read := func(n string) string {
		b, err := os.ReadFile(filepath.Join(goldenDir, n))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := FormatRing("eth0", ethtool.Ring{RxMax: 256, TxMax: 256, Rx: 256, Tx: 256}), read("host-g.out"); got != want {
		t.Errorf("-g:\n%s\nwant:\n%s", got, want)
	}
	var c ethtool.Coalesce
	c.Supported = ethtool.AdaptiveRx.Bit() | ethtool.RxUsecs.Bit() | ethtool.RxFrames.Bit() | ethtool.TxUsecs.Bit() | ethtool.TxFrames.Bit()
	c.V[ethtool.RxFrames], c.V[ethtool.TxFrames] = 1, 1
	if got, want := FormatCoalesce("eth0", c), read("host-c.out"); got != want {
		t.Errorf("-c:\n%q\nwant:\n%q", got, want)
	}
}
