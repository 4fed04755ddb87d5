package packetdrill

import (
	"fmt"
	"strconv"
	"strings"
)

// shellWords splits a command line as the shell would for the commands
// the runner knows: words separated by blanks, '…' and "…" quoting,
// backslash escapes, and inside double quotes or bare words $((…))
// arithmetic and $PPID (the runner's stand-in for packetdrill's pid).
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
					cur.WriteByte(line[i])
					continue
				}
				if line[i] == '$' {
					n, s, err := expand(line[i:])
					if err != nil {
						return nil, err
					}
					cur.WriteString(s)
					i += n - 1
					continue
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == '$':
			n, s, err := expand(line[i:])
			if err != nil {
				return nil, err
			}
			cur.WriteString(s)
			i += n - 1
			inWord = true
		case c == ';' || c == '|' || c == '`' || c == '&' && (i == 0 || line[i-1] != '>'):
			return nil, fmt.Errorf("unsupported shell command: %s (no shell: one simple command a line)", line)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// ppid is what $PPID expands to: packetdrill's pid in a real run; here a
// fixed number, since nothing outside the run sees it.
const ppid = "1"

// expand reads a $… at the start of s: $((arithmetic)), $PPID or
// ${PPID}. It returns how many bytes it used and the expansion.
func expand(s string) (int, string, error) {
	switch {
	case strings.HasPrefix(s, "$(("):
		depth := 0
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					if !strings.HasPrefix(s[i-1:], "))") {
						return 0, "", fmt.Errorf("bad arithmetic %q", s[:i+1])
					}
					v, err := arith(s[3 : i-1])
					if err != nil {
						return 0, "", err
					}
					return i + 1, strconv.FormatInt(v, 10), nil
				}
			}
		}
		return 0, "", fmt.Errorf("unterminated arithmetic in %q", s)
	case strings.HasPrefix(s, "${PPID}"):
		return len("${PPID}"), ppid, nil
	case strings.HasPrefix(s, "$PPID"):
		return len("$PPID"), ppid, nil
	}
	return 0, "", fmt.Errorf("unsupported shell expansion in %q", s)
}

// arith evaluates shell integer arithmetic: + - * / % and parentheses
// over decimal (and 0x hex) numbers, with the usual precedence.
func arith(s string) (int64, error) {
	p := arithParser{s: s}
	v, err := p.sum()
	if err != nil {
		return 0, err
	}
	p.skip()
	if p.i != len(p.s) {
		return 0, fmt.Errorf("bad arithmetic %q", s)
	}
	return v, nil
}

type arithParser struct {
	s     string
	i     int
	depth int
}

func (p *arithParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *arithParser) sum() (int64, error) {
	v, err := p.product()
	for err == nil {
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != '+' && p.s[p.i] != '-' {
			return v, nil
		}
		op := p.s[p.i]
		p.i++
		var w int64
		if w, err = p.product(); op == '+' {
			v += w
		} else {
			v -= w
		}
	}
	return 0, err
}

func (p *arithParser) product() (int64, error) {
	v, err := p.unary()
	for err == nil {
		p.skip()
		if p.i >= len(p.s) || !strings.ContainsRune("*/%", rune(p.s[p.i])) {
			return v, nil
		}
		op := p.s[p.i]
		p.i++
		var w int64
		if w, err = p.unary(); err != nil {
			break
		}
		switch {
		case op == '*':
			v *= w
		case w == 0:
			return 0, fmt.Errorf("division by zero in %q", p.s)
		case op == '/':
			v /= w
		default:
			v %= w
		}
	}
	return 0, err
}

func (p *arithParser) unary() (int64, error) {
	p.skip()
	if p.i >= len(p.s) {
		return 0, fmt.Errorf("bad arithmetic %q", p.s)
	}
	switch c := p.s[p.i]; c {
	case '-', '+', '(':
		if p.depth++; p.depth > 32 {
			return 0, fmt.Errorf("arithmetic nested too deep in %q", p.s)
		}
		defer func() { p.depth-- }()
		p.i++
		if c != '(' {
			v, err := p.unary()
			if c == '-' {
				v = -v
			}
			return v, err
		}
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return 0, fmt.Errorf("bad arithmetic %q", p.s)
		}
		p.i++
		return v, nil
	}
	j := p.i
	for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == 'x' || p.s[j] == 'X' ||
		p.s[j] >= 'a' && p.s[j] <= 'f' || p.s[j] >= 'A' && p.s[j] <= 'F') {
		j++
	}
	v, err := strconv.ParseInt(p.s[p.i:j], 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad arithmetic %q", p.s)
	}
	p.i = j
	return v, nil
}
