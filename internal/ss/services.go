package ss

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// ParseServices reads /etc/services (services(5)) for TCP's names: each
// port's first entry, as getservbyport(port, "tcp") finds it with glibc's
// files backend. Malformed lines are skipped.
func ParseServices(r io.Reader) map[uint16]string {
	out := map[uint16]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		port, proto, ok := strings.Cut(f[1], "/")
		if !ok || proto != "tcp" {
			continue
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			continue
		}
		if _, seen := out[uint16(n)]; !seen {
			out[uint16(n)] = f[0]
		}
	}
	return out
}

// ParsePortRange reads ip_local_port_range ("LOW\tHIGH"); ok is false
// for anything else, and ss then falls back to 1024 to 4999.
func ParsePortRange(s string) (low, high int, ok bool) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || lo <= 0 {
		return 0, 0, false
	}
	return lo, hi, true
}
