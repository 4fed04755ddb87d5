package packetdrill

import (
	"strings"
	"testing"
)

var kindNames = map[tokKind]string{
	tEOF: "eof", tOption: "opt", tFloat: "float", tInt: "int", tHex: "hex", tWord: "word",
	tString: "str", tBackquote: "cmd", tCode: "code", tIPv4: "ip4", tIPv6: "ip6", tEllipsis: "ell", tPunct: "p",
}

func lexString(t *testing.T, src string) string {
	t.Helper()
	toks, err := lex("t.pkt", []byte(src))
	if err != nil {
		t.Fatalf("lex(%q): %v", src, err)
	}
	var s []string
	for _, tok := range toks[:len(toks)-1] {
		s = append(s, kindNames[tok.kind]+":"+tok.text)
	}
	return strings.Join(s, " ")
}

// The longest match wins, ties go to the rule lexer.l lists first.
func TestLexLongestMatch(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "int:0"},
		{"123", "int:123"},
		{"-1", "int:-1"},
		{"0.100", "float:0.100"},
		{".1", "float:.1"},
		{"-.5", "float:-.5"},
		{"0x1f", "hex:0x1f"},
		{"0x1g", "word:0x1g"},
		{"0x", "word:0x"},
		{"1000abc", "word:1000abc"},
		{"-1abc", "int:-1 word:abc"},
		{"1.5abc", "float:1.5 word:abc"},
		{"1.2.3.4", "ip4:1.2.3.4"},
		{"1.2.3", "float:1.2 float:.3"},
		{"1.2.3.4.5", "ip4:1.2.3.4 float:.5"},
		{"fe80::1", "ip6:fe80::1"},
		{"2::2222:", "ip6:2::2222 p::"},
		{"::", "ip6:::"},
		{"1:2:3:4:5:6:7:8", "ip6:1:2:3:4:5:6:7:8"},
		{"::ffff:1.2.3.4", "ip6:::ffff:1.2.3.4"},
		{"1:1001(1000)", "int:1 p:: int:1001 p:( int:1000 p:)"},
		{"sack 1:2 3:4", "word:sack int:1 p:: int:2 int:3 p:: int:4"},
		{"dead:beef", "word:dead p:: word:beef"},
		{"+0...0.200", "p:+ int:0 ell:... float:0.200"},
		{"+.1...0.200", "p:+ float:.1 ell:... float:0.200"},
		{"0...0", "int:0 ell:... int:0"},
		{"+.35~+2.35", "p:+ float:.35 p:~ p:+ float:2.35"},
		{"<...>", "p:< ell:... p:>"},
		{"S.", "word:S p:."},
		{"--tolerance_usecs=10000", "opt:tolerance_usecs p:= int:10000"},
		{"--dry_run", "opt:dry_run"},
		{"--", "p:- p:-"},
		{"sequence# present", "word:sequence# word:present"},
		{"sequence", "word:sequence"},
		{"O_RDWR|O_NONBLOCK", "word:O_RDWR p:| word:O_NONBLOCK"},
		{`"a\"b"...`, `str:a\"b ell:...`},
		{"`a\nb`", "cmd:a\nb"},
		{"`a\\`b`", "cmd:a\\`b"},
		{"%{ x = 1 }%", "code:x = 1"},
		{"%{\tprint(tcpi_rtt)\t}%", "code:print(tcpi_rtt)"},
		{"a // comment\nb", "word:a word:b"},
		{"a // comment at the end", "word:a"},
		{"a /* x\n y */ b", "word:a word:b"},
		{"a\r\nb", "word:a word:b"},
		{"@", "p:@"},
	} {
		if got := lexString(t, c.in); got != c.want {
			t.Errorf("lex(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLexPositions(t *testing.T) {
	toks, err := lex("t.pkt", []byte("// c\n  0 socket(\n\t+.1 `x\ny` z"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2:3 0", "2:5 socket", "2:11 (", "3:2 +", "3:3 .1", "3:6 x\ny", "4:4 z", "4:5 "}
	if len(toks) != len(want) {
		t.Fatalf("%d tokens, want %d", len(toks), len(want))
	}
	for i, tok := range toks {
		if got := tok.pos.String() + " " + tok.text; got != want[i] {
			t.Errorf("token %d: %q, want %q", i, got, want[i])
		}
	}
}

func TestLexErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`0 write(3, "abc`, `t.pkt:1:12: unterminated string`},
		{"\n`abc", "t.pkt:2:1: unterminated `command`"},
		{"0 /* never closed", "t.pkt:1:3: unterminated /* comment"},
		{"x %{ code", "t.pkt:1:3: unterminated %{ code }%"},
	} {
		_, err := lex("t.pkt", []byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("lex(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}
