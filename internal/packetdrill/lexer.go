package packetdrill

import (
	"fmt"
	"net/netip"
	"strings"
)

// tokKind is a lexical class of packetdrill's lexer.l. Keywords are not
// classes of their own: lexer.l reserves words such as ack, win or fd
// everywhere, this lexer returns them as words and the parser reads them
// as keywords only where they have a meaning.
type tokKind uint8

const (
	tEOF       tokKind = iota
	tOption            // --name (text: the name without the dashes)
	tFloat             // [-]?[0-9]*[.][0-9]+
	tInt               // [-]?[0-9]+
	tHex               // 0x[0-9a-fA-F]+
	tWord              // [a-zA-Z0-9_]+ (and lexer.l's one odd keyword, sequence#)
	tString            // "…" (text: between the quotes, escapes kept)
	tBackquote         // `…` (text: between the backquotes, escapes kept)
	tCode              // %{ … }% (text: inside, spaces and tabs trimmed)
	tIPv4              // a dotted quad
	tIPv6              // an IPv6 address (with "::" or all eight groups)
	tEllipsis          // ...
	tPunct             // any other single character
)

// token is one lexeme and where it starts.
type token struct {
	kind tokKind
	text string
	pos  Pos
}

// describe names a token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tOption:
		return fmt.Sprintf("option --%s", t.text)
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tBackquote:
		return "command `" + abbreviate(t.text) + "`"
	case tCode:
		return "code %{ " + abbreviate(t.text) + " }%"
	case tEllipsis:
		return "'...'"
	case tPunct:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func abbreviate(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "…"
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// lex splits src into tokens the way lexer.l does: at each point the
// longest match of any rule wins and, of equally long matches, the rule
// that comes first in lexer.l (so 123 is an integer and 0x1f a hex
// integer, but 1000abc and 0x1g are words). Whitespace and comments
// separate tokens. Unlike lexer.l it also takes "\r" as whitespace and a
// "//" comment that ends the file without a newline.
func lex(file string, src []byte) ([]token, error) {
	l := lexer{src: string(src), line: 1, col: 1}
	var toks []token
	for {
		l.skipSpace()
		if l.err != "" {
			return nil, &Error{File: file, Pos: l.errPos, Msg: l.err}
		}
		pos := Pos{l.line, l.col}
		if l.i >= len(l.src) {
			return append(toks, token{kind: tEOF, pos: pos}), nil
		}
		kind, n, text := l.match()
		if l.err != "" {
			return nil, &Error{File: file, Pos: pos, Msg: l.err}
		}
		toks = append(toks, token{kind: kind, text: text, pos: pos})
		l.advance(n)
	}
}

type lexer struct {
	src       string
	i         int
	line, col int
	err       string
	errPos    Pos
}

func (l *lexer) advance(n int) {
	for _, c := range []byte(l.src[l.i : l.i+n]) {
		if c == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
	l.i += n
}

// skipSpace steps over whitespace and comments.
func (l *lexer) skipSpace() {
	for l.i < len(l.src) {
		rest := l.src[l.i:]
		switch {
		case rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r':
			l.advance(1)
		case strings.HasPrefix(rest, "//"):
			n := strings.IndexByte(rest, '\n')
			if n < 0 {
				n = len(rest)
			}
			l.advance(n)
		case strings.HasPrefix(rest, "/*"):
			n := strings.Index(rest[2:], "*/")
			if n < 0 {
				l.err, l.errPos = "unterminated /* comment", Pos{l.line, l.col}
				return
			}
			l.advance(n + 4)
		default:
			return
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f' }
func isWord(c byte) bool  { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c == '_' }

func span(s string, i int, ok func(byte) bool) int {
	j := i
	for j < len(s) && ok(s[j]) {
		j++
	}
	return j - i
}

// match returns the token at l.i: its kind, its length in the source and
// its text.
func (l *lexer) match() (tokKind, int, string) {
	s := l.src[l.i:]
	switch s[0] {
	case '"', '`':
		return l.quoted(s)
	case '%':
		if strings.HasPrefix(s, "%{") {
			n := strings.Index(s[2:], "}%")
			if n < 0 {
				l.err = "unterminated %{ code }%"
				return tEOF, 0, ""
			}
			return tCode, n + 4, strings.Trim(s[2:2+n], " \t")
		}
	}
	// The candidates in lexer.l's order; a later one wins only if longer.
	// A single character comes after all but the addresses, which are
	// never shorter than two.
	best, bestN := tPunct, 0
	try := func(k tokKind, n int) {
		if n > bestN {
			best, bestN = k, n
		}
	}
	if strings.HasPrefix(s, "...") {
		try(tEllipsis, 3)
	}
	if strings.HasPrefix(s, "--") {
		if n := span(s, 2, isWord); n > 0 {
			try(tOption, 2+n)
		}
	}
	sign := 0
	if s[0] == '-' {
		sign = 1
	}
	digits := span(s, sign, isDigit)
	if sign+digits < len(s) && s[sign+digits] == '.' {
		if frac := span(s, sign+digits+1, isDigit); frac > 0 {
			try(tFloat, sign+digits+1+frac)
		}
	}
	if digits > 0 {
		try(tInt, sign+digits)
	}
	if strings.HasPrefix(s, "0x") {
		if n := span(s, 2, isHex); n > 0 {
			try(tHex, 2+n)
		}
	}
	if n := span(s, 0, isWord); n > 0 {
		if s[:n] == "sequence" && n < len(s) && s[n] == '#' {
			n++ // lexer.l's GRE keyword "sequence#"
		}
		try(tWord, n)
	}
	try(tPunct, 1)
	try(tIPv4, ipv4Len(s))
	try(tIPv6, ipv6Len(s))
	n := bestN
	if best == tOption {
		return best, n, s[2:n]
	}
	return best, n, s[:n]
}

// quoted scans a "string" or `command`: a backslash escapes the next
// character (kept in the text, as packetdrill keeps it), newlines are
// allowed.
func (l *lexer) quoted(s string) (tokKind, int, string) {
	q := s[0]
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if j+1 < len(s) && s[j+1] != '\n' {
				j++
			}
		case q:
			if q == '"' {
				return tString, j + 1, s[1:j]
			}
			return tBackquote, j + 1, s[1:j]
		}
	}
	if q == '"' {
		l.err = "unterminated string"
	} else {
		l.err = "unterminated `command`"
	}
	return tEOF, 0, ""
}

// ipv4Len is the length of a dotted quad at the start of s, or 0.
func ipv4Len(s string) int {
	j := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= len(s) || s[j] != '.' {
				return 0
			}
			j++
		}
		n := span(s, j, isDigit)
		if n == 0 {
			return 0
		}
		j += n
	}
	return j
}

// ipv6Len is the length of the longest IPv6 address at the start of s, or
// 0. Like lexer.l's patterns it wants "::" or all eight groups, so that a
// sequence range such as 1:1001 stays two integers.
func ipv6Len(s string) int {
	n := span(s, 0, func(c byte) bool { return isHex(c) || c == ':' || c == '.' })
	// No address is longer than ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.
	n = min(n, 45)
	for ; n >= 2; n-- {
		cand := s[:n]
		if !strings.Contains(cand, "::") && strings.Count(cand, ":") != 7 {
			continue
		}
		if a, err := netip.ParseAddr(cand); err == nil && a.Is6() {
			return n
		}
	}
	return 0
}
