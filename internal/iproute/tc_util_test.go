package iproute

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// The tables vnic makes are the files iproute2 ships (its generators'
// output), entry for entry, where the machine has them.
func TestDistTablesAsIproute2(t *testing.T) {
	for _, name := range []string{"normal", "pareto", "paretonormal"} {
		b, err := os.ReadFile("/usr/lib/x86_64-linux-gnu/tc/" + name + ".dist")
		if err != nil {
			t.Skipf("no %s.dist here: %v", name, err)
		}
		var want []int16
		for _, l := range strings.Split(string(b), "\n") {
			if l == "" || l[0] == '#' {
				continue
			}
			for _, f := range strings.Fields(l) {
				v, err := strconv.Atoi(f)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, int16(v))
			}
		}
		got, err := distribution(name)
		if err != nil || len(got) != 4096 || len(want) != 4096 {
			t.Fatalf("%s: %d entries (%v), the file %d", name, len(got), err, len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s[%d] = %d, the file %d", name, i, got[i], want[i])
			}
		}
	}
}

// A table of one's own is read as tc reads it.
func TestDistFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TC_LIB_DIR", dir)
	os.WriteFile(dir+"/mine.dist", []byte("# comment\n 1 -2 0x10\n\n40000 -40000\n"), 0o644)
	got, err := distribution("mine")
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{1, -2, 16, int16(40000 - 65536), int16(-40000 + 65536)}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%v, want %v", got, want)
		}
	}
	if _, err := distribution("none"); err == nil || err.Error() != "No distribution data for none ("+dir+"/none.dist: No such file or directory)" {
		t.Errorf("%v", err)
	}
}

func TestStrtod(t *testing.T) {
	tests := []struct {
		s string
		v float64
		n int
	}{
		{"10ms", 10, 2}, {"1.5", 1.5, 3}, {".5ms", .5, 2}, {"1e3us", 1000, 3}, {"1e", 1, 1}, {"1e+", 1, 1},
		{"0x10", 16, 4}, {"0x", 0, 1}, {"0x1p4", 16, 5}, {" +5", 5, 3}, {"-1ms", -1, 2}, {"inf", 0, 3},
		{"x", 0, 0}, {"", 0, 0}, {"-", 0, 0},
	}
	for _, tc := range tests {
		v, n := strtod(tc.s)
		if n != tc.n || (tc.s != "inf" && v != tc.v) {
			t.Errorf("strtod(%q) = %v, %d; want %v, %d", tc.s, v, n, tc.v, tc.n)
		}
	}
}

func TestTCPrinters(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{sprintSize(0), "0b"}, {sprintSize(1023), "1023b"}, {sprintSize(1024), "1Kb"}, {sprintSize(1030), "1Kb"}, {sprintSize(1040), "1040b"},
		{sprintSize(1048576), "1Mb"}, {sprintSize(1024000), "1000Kb"},
		{sprintRate(125000, false), "1Mbit"}, {sprintRate(187500, false), "1500Kbit"}, {sprintRate(128, false), "1024bit"},
		{sprintRate(128, true), "1Kibit"},
		{sprintTime(999), "999us"}, {sprintTime(1000), "1ms"}, {sprintTime(1500), "1.5ms"}, {sprintTime(2000000), "2s"},
		{sprintTime64(999), "999ns"}, {sprintTime64(1500), "1.5us"},
		{classid(0xffffffff), "root"}, {classid(0), "none"}, {classid(5), ":5"}, {classid(0x10000), "1:"}, {classid(0x10002), "1:2"},
		{sprintPercent(42949673), "1%"}, {sprintPercent(^uint32(0)), "100%"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}
