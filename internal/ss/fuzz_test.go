package ss

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseReply: any reply body decodes and prints without a panic; one
// shorter than inet_diag_msg is an error, any other prints; the message
// and tcp_info survive a round trip; the rendered output ends its lines.
func FuzzParseReply(f *testing.F) {
	for _, r := range syntheticReplies() {
		f.Add(r, uint16(0x3f))
	}
	if rs, err := readDiagFile("testdata/kernel-cubic-mem.diag"); err == nil {
		for _, r := range rs {
			f.Add(r, uint16(0x07))
		}
	}
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, reply []byte, flags uint16) {
		o := Options{States: StatesAll, Numeric: flags&1 != 0, Info: flags&2 != 0, Timers: flags&4 != 0,
			Details: flags&8 != 0, Memory: flags&16 != 0, OneLine: flags&32 != 0, NoHeader: flags&64 != 0}
		if flags&128 != 0 {
			o.States = 1 << StateListen
		}
		var b bytes.Buffer
		err := Print(&b, o, Env{Screen: int(flags >> 8)}, [][]byte{reply, reply})
		if (len(reply) < MsgLen) != (err != nil) {
			t.Fatalf("%d bytes: %v", len(reply), err)
		}
		if out := b.String(); out != "" && !strings.HasSuffix(out, "\n") {
			t.Fatalf("output does not end its line: %q", out)
		}
		m, rest, err := ParseMsg(reply)
		if err != nil {
			return
		}
		if back, _, _ := ParseMsg(m.Append(nil)); back != m {
			t.Fatalf("round trip: %+v, want %+v", back, m)
		}
		tb := ParseAttrs(rest)
		i := ParseTCPInfo(tb[AttrInfo])
		if back := ParseTCPInfo(i.Marshal()); back != i {
			t.Fatalf("tcp_info round trip: %+v, want %+v", back, i)
		}
	})
}

// FuzzParseArgs: any command line is taken or refused without a panic;
// one taken asks for at least one state of one family.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"-tan", "-tanio state established", "--tcp --all -N h1", "-t exclude listening state bucket",
		"-A tcp,udp", "--fam=inet6 -t", "-tNh1 --", "state", "-t -f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		o, err := ParseArgs(strings.Fields(line))
		if err != nil {
			return
		}
		if rs := o.Requests(); len(rs) == 0 || rs[0].Protocol != IPProtoTCP {
			t.Fatalf("%q: %+v", line, rs)
		}
	})
}
