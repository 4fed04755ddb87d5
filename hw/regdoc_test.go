package hw

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/registers.md from the register table")

const (
	regDocPath  = "../docs/registers.md"
	regDocBegin = "<!-- BEGIN REGISTER TABLE (generated from hw/regs.go: go test ./hw -run TestRegistersDoc -update) -->"
	regDocEnd   = "<!-- END REGISTER TABLE -->"
)

// registerTableMarkdown renders regTable as the one table of docs/registers.md.
func registerTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| register | offset | instances | reset | writable bits | access | bits and semantics |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range regTable {
		inst := "1"
		if r.n > 1 {
			inst = fmt.Sprintf("%d, stride %#x", r.n, r.stride)
		}
		reset := fmt.Sprintf("0x%08X", r.reset)
		if r.name == "RAL" || r.name == "RAH" {
			reset += " (entry 0: EEPROM MAC)"
		}
		fmt.Fprintf(&b, "| %s | 0x%04X | %s | %s | 0x%08X | %s | %s |\n", r.name, r.off, inst, reset, r.mask, r.kind, r.note)
	}
	return b.String()
}

func TestRegistersDoc(t *testing.T) {
	doc, err := os.ReadFile(regDocPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, regDocBegin), strings.Index(s, regDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: table markers missing", regDocPath)
	}
	want := registerTableMarkdown()
	got := s[i+len(regDocBegin)+1 : j]
	if got == want {
		return
	}
	if *update {
		s = s[:i+len(regDocBegin)+1] + want + s[j:]
		if err := os.WriteFile(regDocPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for k := 0; k < len(gl) || k < len(wl); k++ {
		var g, w string
		if k < len(gl) {
			g = gl[k]
		}
		if k < len(wl) {
			w = wl[k]
		}
		if g != w {
			t.Fatalf("docs/registers.md differs from hw/regs.go at table line %d:\n doc:  %s\n code: %s\n(run go test ./hw -run TestRegistersDoc -update)", k+1, g, w)
		}
	}
}

func TestRegisterTableSane(t *testing.T) {
	seen := map[uint32]string{}
	prev := uint32(0)
	for i, r := range regTable {
		if r.off%4 != 0 || r.off >= regSpace {
			t.Errorf("%s: bad offset %#x", r.name, r.off)
		}
		if i > 0 && r.off < prev && r.off < RDBAL0 {
			t.Errorf("%s: table out of order", r.name)
		}
		prev = r.off
		for k := 0; k < r.n; k++ {
			off := r.off + uint32(k)*r.stride
			if o, dup := seen[off]; dup {
				t.Errorf("%s[%d] at %#x overlaps %s", r.name, k, off, o)
			}
			seen[off] = r.name
		}
	}
}
