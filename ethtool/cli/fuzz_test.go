package cli

import (
	"io"
	"strings"
	"testing"

	"vnic/ethtool"
)

// FuzzRun feeds arbitrary command lines to the parser over the captured
// veth: it must never panic, and a zero exit must leave nothing on stderr.
func FuzzRun(f *testing.F) {
	for _, s := range []string{"-k va", "-K va tx off sg on", "-G va rx 100 tx 0x10", "-L va rx 5", "--json -k va",
		"-X va equal 2", "-N va rx-flow-hash tcp4 sdfn", "-e va offset 1 length 2", "--debug 1 -i va", "-K va -- x"} {
		f.Add(s)
	}
	feats := ethtool.ListOf(ethtool.SG|ethtool.HWCsum|ethtool.TSO, ethtool.SG|ethtool.TSO, ethtool.SG)
	f.Fuzz(func(t *testing.T, line string) {
		var errOut strings.Builder
		dev := &vethDev{t: t, feats: feats}
		defer func() {
			if p := recover(); p != nil {
				// vethDev leaves veth's missing operations nil: calling
				// one panics by design, so only parser panics count.
				if _, ok := p.(interface{ RuntimeError() }); !ok {
					panic(p)
				}
			}
		}()
		rc := Run(strings.Fields(line), Options{Backend: vethBackend{dev}, Stdout: io.Discard, Stderr: &errOut})
		if rc == 0 && errOut.Len() != 0 {
			t.Errorf("%q: exit 0 with stderr %q", line, errOut.String())
		}
	})
}
