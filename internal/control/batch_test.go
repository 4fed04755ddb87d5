package control

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vnic/internal/iproute"
)

// ip -batch without -force sends many changes a packet and still stops at
// the first failed line, as a batch waiting for each answer does: the
// same output, exit code and table as one change at a time, whether the
// failure is the server's (a refused route, in any packet, or followed in
// its packet by a line that does not parse) or the client's (a line that
// does not parse, after lines whose answers are still to come), and with
// listings among the changes. Each case runs pipelined and one at a time
// on hosts of their own.
func TestIPBatchStopsPipelined(t *testing.T) {
	const refused = "route add 198.18.99.1/32 via 203.0.113.1" // no subnet of h1
	const bad = "route add 198.18.99.0/33 via 198.18.5.1"      // not a prefix
	for _, tc := range []struct {
		name  string
		lines int
		at    map[int]string // line: what it is instead of an add
		stop  int            // the line that fails (0: none)
	}{
		{"refused in the third packet", 700, map[int]string{300: refused}, 300},
		{"refused, the next line bad", 300, map[int]string{130: refused, 131: bad}, 130},
		{"refused, a bad line later in its packet", 300, map[int]string{129: refused, 200: bad}, 129},
		{"bad line after pipelined changes", 400, map[int]string{250: bad}, 250},
		{"a listing, then refused", 600, map[int]string{200: "route show 198.18.30.5", 500: refused}, 500},
		{"refused first", 50, map[int]string{1: refused}, 1},
		{"refused last", 256, map[int]string{256: refused}, 256},
		{"none fails", 300, map[int]string{150: "route show 198.18.30.7"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "b.txt")
			var text strings.Builder
			for i := 1; i <= tc.lines; i++ {
				if l, ok := tc.at[i]; ok {
					text.WriteString(l + "\n")
					continue
				}
				fmt.Fprintf(&text, "route add 198.18.%d.%d/32 via 198.18.5.1\n", 30+i/256, i%256)
			}
			if err := os.WriteFile(file, []byte(text.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			type result struct{ out, errs, table string }
			run := func(pipelined bool) (result, int) {
				w := ipWorld(t)
				s := serveRtnl(t, w)
				c := ipConn(t, s, "h1", 0)
				var tr iproute.Transport = c
				if !pipelined {
					tr = struct{ iproute.Transport }{c}
				}
				var out, errb bytes.Buffer
				code := iproute.Run([]string{"-batch", file}, iproute.Options{T: tr, Stdout: &out, Stderr: &errb})
				table, _, _ := ip(t, c, "route show")
				return result{out.String(), errb.String(), table}, code
			}
			got, code := run(true)
			want, wantCode := run(false)
			if got != want || code != wantCode {
				t.Fatalf("pipelined: exit %d\nstdout %q\nstderr %q\none at a time: exit %d\nstdout %q\nstderr %q\ntables equal: %v", code, got.out, got.errs, wantCode, want.out, want.errs, got.table == want.table)
			}
			wantErr := ""
			if tc.stop > 0 {
				wantErr = fmt.Sprintf("Command failed %s:%d\n", file, tc.stop)
			}
			if !strings.HasSuffix(got.errs, wantErr) || strings.Count(got.errs, "Command failed") != min(tc.stop, 1) {
				t.Errorf("stderr %q, want it to end %q", got.errs, wantErr)
			}
			added := strings.Count(got.table, "via 198.18.5.1 dev vnic0")
			wantAdded := tc.lines - len(tc.at) + 1 // and the default route
			if tc.stop > 0 {
				wantAdded = 1
				for i := 1; i < tc.stop; i++ {
					if _, ok := tc.at[i]; !ok {
						wantAdded++
					}
				}
			}
			if added != wantAdded {
				t.Errorf("%d routes via 198.18.5.1, want %d", added, wantAdded)
			}
		})
	}
}
