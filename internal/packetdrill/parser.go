package packetdrill

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Parse parses a script; name is the file name its errors carry.
func Parse(name string, src []byte) (script *Script, err error) {
	toks, err := lex(name, src)
	if err != nil {
		return nil, err
	}
	p := &parser{file: name, toks: toks}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			script, err = nil, b.err
		}
	}()
	return p.script(), nil
}

// ParseFile reads and parses the script at path.
func ParseFile(path string) (*Script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("packetdrill: %w", err)
	}
	return Parse(path, src)
}

// parser is a recursive-descent reading of parser.y. An error unwinds to
// Parse as a bailout (go/parser's way), so that the grammar reads straight.
type parser struct {
	file string
	toks []token
	i    int
	ipv6 bool // --ip_version=ipv6: ICMP names are ICMPv6's, IP headers 40 bytes
	// noCall is set while reading a call's result at its top level, where
	// parser.y reads "WORD (words)" as a symbol and a note, not a call.
	noCall bool
}

type bailout struct{ err *Error }

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(bailout{&Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) refuse(pos Pos, format string, args ...any) {
	panic(bailout{&Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...), Unsupported: true}})
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (t token) is(punct string) bool   { return t.kind == tPunct && t.text == punct }
func (t token) isWord(w string) bool   { return t.kind == tWord && t.text == w }
func (p *parser) at(punct string) bool { return p.peek().is(punct) }
func (p *parser) atWord(w string) bool { return p.peek().isWord(w) }

// expected fails at the next token: "expected WHAT, found TOKEN".
func (p *parser) expected(what string) {
	t := p.peek()
	p.fail(t.pos, "expected %s, found %s", what, t.describe())
}

func (p *parser) expect(punct, what string) token {
	if !p.at(punct) {
		p.expected(what)
	}
	return p.next()
}

func (p *parser) expectWord(w, what string) token {
	if !p.atWord(w) {
		p.expected(what)
	}
	return p.next()
}

// script: options, an untimed command, events, an untimed command.
func (p *parser) script() *Script {
	s := &Script{File: p.file}
	for p.peek().kind == tOption {
		s.Options = append(s.Options, p.option())
	}
	for _, o := range s.Options {
		if o.Name == "ip_version" && o.Value == "ipv6" {
			p.ipv6 = true
		}
	}
	if t := p.peek(); t.kind == tBackquote {
		p.next()
		s.Init = &Command{Pos: t.pos, Text: t.text}
	}
	for {
		t := p.peek()
		switch t.kind {
		case tEOF:
			if len(s.Events) == 0 {
				p.fail(t.pos, "expected an event, found end of file (a script needs at least one)")
			}
			return s
		case tOption:
			p.fail(t.pos, "option --%s after the first event or command: options come first", t.text)
		case tBackquote:
			if len(s.Events) > 0 && p.peekAt(1).kind == tEOF {
				p.next()
				s.Cleanup = &Command{Pos: t.pos, Text: t.text}
				return s
			}
			p.fail(t.pos, "expected an event time before %s: only the first command (before any event) and the last (after all) go untimed", t.describe())
		}
		s.Events = append(s.Events, p.event())
	}
}

// option: --name or --name=value.
func (p *parser) option() Option {
	t := p.next()
	o := Option{Pos: t.pos, Name: t.text}
	if !p.at("=") {
		return o
	}
	p.next()
	o.HasValue = true
	v := p.next()
	switch v.kind {
	case tInt, tIPv4, tIPv6:
		o.Value = v.text
	case tString:
		o.Value, o.Quoted = v.text, true
	case tWord:
		o.Value = v.text
		if !p.at("=") {
			break
		}
		p.next()
		switch r := p.next(); r.kind {
		case tWord:
			o.Value += "=" + r.text
		case tString:
			o.Value += `="` + r.text + `"`
		case tBackquote:
			o.Value += "=`" + r.text + "`"
		default:
			p.fail(r.pos, "expected a word, \"string\" or `command` after --%s=%s=, found %s", o.Name, v.text, r.describe())
		}
	default:
		p.fail(v.pos, "expected the value of --%s (an integer, a word, a \"string\" or an address), found %s", o.Name, v.describe())
	}
	return o
}

// event: a time, then a packet, a system call, a command or code.
func (p *parser) event() Event {
	ev := Event{Pos: p.peek().pos, Time: p.eventTime()}
	t := p.peek()
	switch {
	case t.is("<") || t.is(">"):
		ev.Action = p.packet()
	case t.kind == tEllipsis || t.kind == tWord:
		ev.Action = p.syscall(ev.Time)
	case t.kind == tBackquote:
		p.next()
		ev.Action = &Command{Pos: t.pos, Text: t.text}
	case t.kind == tCode:
		p.next()
		ev.Action = &Code{Pos: t.pos, Text: t.text}
	default:
		p.expected("a packet (< or >), a system call, a `command` or %{ code }% after the event time")
	}
	tm := ev.Time
	if (tm.Kind == AbsoluteRange || tm.Kind == RelativeRange) && tm.EndUsecs < tm.Usecs {
		p.fail(ev.Pos, "time range is backwards")
	}
	pk, _ := ev.Action.(*Packet)
	outbound := pk != nil && pk.Direction == Outbound
	switch {
	case tm.Kind == AnyTime && !outbound:
		p.fail(ev.Pos, "event time * can only be used with outbound packets")
	case (tm.Kind == AbsoluteRange || tm.Kind == RelativeRange) && !outbound:
		p.fail(ev.Pos, "event time range can only be used with outbound packets")
	}
	return ev
}

// eventTime: *, t, +t, a~b or +a~+b.
func (p *parser) eventTime() Time {
	if p.at("*") {
		p.next()
		return Time{Kind: AnyTime}
	}
	rel := p.at("+")
	if rel {
		p.next()
	}
	start := p.seconds("an event time (0, 0.100, +0, +.1 or *)")
	if !p.at("~") {
		if rel {
			return Time{Kind: RelativeTime, Usecs: start}
		}
		return Time{Kind: AbsoluteTime, Usecs: start}
	}
	p.next()
	if rel {
		p.expect("+", "'+' starting the end of a relative range (+a~+b)")
	} else if p.at("+") {
		p.fail(p.peek().pos, "an absolute range's end is absolute: a~b, or +a~+b for a relative one")
	}
	end := p.seconds("the end of the time range")
	if rel {
		return Time{Kind: RelativeRange, Usecs: start, EndUsecs: end}
	}
	return Time{Kind: AbsoluteRange, Usecs: start, EndUsecs: end}
}

// seconds reads a time in seconds (an integer or a decimal) as exact
// microseconds.
func (p *parser) seconds(what string) int64 {
	t := p.peek()
	if t.kind != tInt && t.kind != tFloat {
		p.expected(what)
	}
	p.next()
	s, neg := strings.CutPrefix(t.text, "-")
	whole, frac, _ := strings.Cut(s, ".")
	const maxSecs = math.MaxInt64/1000000 - 1
	var us int64
	for _, c := range []byte(whole) {
		if us = us*10 + int64(c-'0'); us > maxSecs {
			p.fail(t.pos, "time %s out of range", t.text)
		}
	}
	us *= 1e6
	for i, scale := 0, int64(1e5); i < len(frac) && i < 6; i, scale = i+1, scale/10 {
		us += int64(frac[i]-'0') * scale
	}
	if neg && (us != 0 || strings.Trim(frac, "0") != "") {
		p.fail(t.pos, "negative time")
	}
	return us
}

// syscall: [...end] name(args) = result [ERRNO (strerror)] [(note)].
func (p *parser) syscall(tm Time) *Syscall {
	sc := &Syscall{}
	if p.peek().kind == tEllipsis {
		p.next()
		if p.at("+") {
			p.fail(p.peek().pos, "a blocking call's end time takes no '+': it is relative when the start is")
		}
		sc.Blocking = true
		sc.End = p.seconds("the time the blocking call returns (start...end)")
		sc.EndIsRelative = tm.Kind == RelativeTime
	}
	name := p.peek()
	if name.kind != tWord {
		p.expected("a system call name")
	}
	p.next()
	sc.Pos, sc.Name = name.pos, name.text
	p.expect("(", fmt.Sprintf("'(' after the system call name %s", name.text))
	if !p.at(")") {
		sc.Args = p.exprList()
	}
	p.expect(")", fmt.Sprintf("',' or ')' in the arguments of %s", name.text))
	p.expect("=", fmt.Sprintf("'=' and the result %s must return", name.text))
	p.noCall = true
	sc.Result = p.expr()
	p.noCall = false
	if t := p.peek(); t.kind == tWord {
		p.next()
		sc.Errno = t.text
		if !p.at("(") {
			p.expected(fmt.Sprintf("'(' and the text of %s (%s (…))", t.text, t.text))
		}
		sc.Strerror = p.note()
	}
	if p.at("(") {
		sc.Note = p.note()
	}
	return sc
}

// note: (word …).
func (p *parser) note() string {
	p.next()
	var words []string
	for p.peek().kind == tWord {
		words = append(words, p.next().text)
	}
	if len(words) == 0 {
		p.expected("the words of a note")
	}
	p.expect(")", "')' closing the note (a note holds words only)")
	return strings.Join(words, " ")
}

// integer reads an integer or hex integer token's value.
func (p *parser) integer(t token) int64 {
	var v int64
	var err error
	if t.kind == tHex {
		var u uint64
		u, err = strconv.ParseUint(t.text[2:], 16, 63)
		v = int64(u)
	} else {
		v, err = strconv.ParseInt(t.text, 10, 64)
	}
	if err != nil {
		p.fail(t.pos, "integer %s out of range", t.text)
	}
	return v
}

// number reads a non-negative integer of at most max: decimal, or hex
// too when hex is set. what names the number for "expected"; rangeMsg is
// the error when it is too big.
func (p *parser) number(what string, hex bool, max uint64, rangeMsg string) uint64 {
	t := p.peek()
	if t.kind != tInt && !(hex && t.kind == tHex) {
		p.expected(what)
	}
	p.next()
	v := p.integer(t)
	if v < 0 || uint64(v) > max {
		p.fail(t.pos, "%s", rangeMsg)
	}
	return uint64(v)
}
