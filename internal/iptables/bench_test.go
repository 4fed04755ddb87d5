package iptables

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"vnic/stack"
	"vnic/stack/netlink"
)

// served is a host behind a control socket of its own.
func served(b *testing.B) (*stack.Host, Options) {
	h := newTestHost(b)
	svc := &Service{Host: func(string) *stack.Host { return h }}
	sock := filepath.Join(b.TempDir(), "s")
	srv, err := netlink.Listen(sock, svc.Family())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	var sink strings.Builder
	return h, Options{Stdout: &sink, Stderr: &sink, Socket: sock, Host: "h"}
}

func bigRestore(n int) string {
	var in strings.Builder
	in.WriteString("*filter\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "-A INPUT -s 198.18.%d.%d -p tcp --dport %d -j ACCEPT\n", i/250, i%250, 1+i%60000)
	}
	in.WriteString("COMMIT\n")
	return in.String()
}

// BenchmarkRestore10k is iptables-restore of a 10,000-rule table over
// the control socket: parse, encode, pieces, decode, check, compile,
// swap.
func BenchmarkRestore10k(b *testing.B) {
	_, o := served(b)
	in := bigRestore(10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o.Stdin = strings.NewReader(in)
		if code := Main("iptables-restore", nil, o); code != 0 {
			b.Fatal(code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/rule")
}

// BenchmarkAppendTo10k is one iptables -A to a 10,000-rule table: the
// table read, changed and replaced whole, as libiptc does.
func BenchmarkAppendTo10k(b *testing.B) {
	_, o := served(b)
	o.Stdin = strings.NewReader(bigRestore(10000))
	if code := Main("iptables-restore", nil, o); code != 0 {
		b.Fatal(code)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := Main("iptables", []string{"-A", "INPUT", "-j", "DROP"}, o); code != 0 {
			b.Fatal(code)
		}
		if code := Main("iptables", []string{"-D", "INPUT", "10001"}, o); code != 0 {
			b.Fatal(code)
		}
	}
}
