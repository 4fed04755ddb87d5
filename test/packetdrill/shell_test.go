package packetdrill

import (
	"fmt"
	"reflect"
	"testing"
)

func TestShellWords(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string
	}{
		{line: `sysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))"`, want: []string{"sysctl", "-q", "net.ipv4.tcp_rmem=4096 540000 15728640"}},
		{line: `sysctl -q net.ipv4.tcp_wmem="4096 $((256*1024)) 4194304"`, want: []string{"sysctl", "-q", "net.ipv4.tcp_wmem=4096 262144 4194304"}},
		{line: "ip tcp_metrics flush all > /dev/null 2>&1", want: []string{"ip", "tcp_metrics", "flush", "all", ">", "/dev/null", "2>&1"}},
		{line: `'a b' c\ d "e\"f"`, want: []string{"a b", "c d", `e"f`}},
		{line: "/tmp/sysctl_restore_${PPID}.sh", want: []string{"/tmp/sysctl_restore_1.sh"}},
		{line: "x=$((2+3))$PPID", want: []string{"x=51"}},
		{line: "  \t ", want: nil},
		{line: "echo a; rm b", err: "unsupported shell command: echo a; rm b (no shell: one simple command a line)"},
		{line: "a | b", err: "unsupported shell command: a | b (no shell: one simple command a line)"},
		{line: "sleep 1 &", err: "unsupported shell command: sleep 1 & (no shell: one simple command a line)"},
		{line: `echo "open`, err: `unterminated quote in "echo \"open"`},
		{line: "echo 'open", err: `unterminated quote in "echo 'open"`},
		{line: "echo $(ls)", err: `unsupported shell expansion in "$(ls)"`},
		{line: "echo $HOME", err: `unsupported shell expansion in "$HOME"`},
		{line: "echo $((1/0))", err: `division by zero in "1/0"`},
		{line: "echo $((1+2)", err: `unterminated arithmetic in "$((1+2)"`},
	}
	for _, tc := range tests {
		got, err := shellWords(tc.line)
		if fmt.Sprint(err) != fmt.Sprint(errOrNil(tc.err)) || tc.err == "" && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q, %s", tc.line, got, err, tc.want, tc.err)
		}
	}
	if got := dropRedirects([]string{"ip", "a", ">", "/dev/null", "2>&1", ">>log"}); !reflect.DeepEqual(got, []string{"ip", "a"}) {
		t.Errorf("dropRedirects: %q", got)
	}
}

func errOrNil(s string) error {
	if s == "" {
		return nil
	}
	return fmt.Errorf("%s", s)
}

func TestArith(t *testing.T) {
	tests := []struct {
		expr string
		want int64
		err  bool
	}{
		{"15*1024*1024", 15728640, false},
		{"1+2*3", 7, false},
		{"(1+2)*3", 9, false},
		{"2-3-4", -5, false},
		{"-4+10", 6, false},
		{"--4", 4, false},
		{"7%3", 1, false},
		{"100/7", 14, false},
		{" 0x10 + 1 ", 17, false},
		{"((((5))))", 5, false},
		{"1+", 0, true},
		{"(1", 0, true},
		{"1 2", 0, true},
		{"a", 0, true},
		{"5%0", 0, true},
		{"", 0, true},
	}
	for _, tc := range tests {
		got, err := arith(tc.expr)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("arith(%q) = %d, %v; want %d (error %v)", tc.expr, got, err, tc.want, tc.err)
		}
	}
}

func TestSplitCommands(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"../common/defaults.sh\n ../common/set_sysctls.py /proc/sys/net/ipv4/tcp_min_tso_segs=10\n",
			[]string{"../common/defaults.sh", "../common/set_sysctls.py /proc/sys/net/ipv4/tcp_min_tso_segs=10"}},
		{"./set_sysctls.py /proc/sys/a=0 \\\n\t\t  /proc/sys/b=0", []string{"./set_sysctls.py /proc/sys/a=0  \t\t  /proc/sys/b=0"}},
		{"# a comment\nsysctl -q a=1 # and another\n\n", []string{"sysctl -q a=1"}},
		{`sysctl -q k="a # b"`, []string{`sysctl -q k="a # b"`}},
		{"x#y", []string{"x#y"}},
		{"a\r\nb", []string{"a", "b"}},
	}
	for _, tc := range tests {
		if got := splitCommands(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitCommands(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// FuzzShellLine: the shell-line reader and the arithmetic never panic,
// and what they accept splits into words that survive dropRedirects.
func FuzzShellLine(f *testing.F) {
	for _, s := range []string{`sysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))"`,
		"ip tcp_metrics flush all > /dev/null 2>&1", "/tmp/sysctl_restore_${PPID}.sh", `'a' "b\"c" d\ e`,
		"$((((1+2)*3)%4))", "tc qdisc add dev tun0 root pfifo", "x # y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if w, err := shellWords(line); err == nil {
			dropRedirects(w)
		}
		_, _ = arith(line)
		_ = splitCommands(line)
	})
}
