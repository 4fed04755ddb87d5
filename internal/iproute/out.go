package iproute

import (
	"fmt"
	"strconv"
	"strings"
)

// out is iproute2's printing layer: one set of calls makes the text form
// (with -o's "\" line joins) or the JSON form (-j, -p) of a record, as
// ip's print_string/print_uint with PRINT_ANY, PRINT_FP and PRINT_JSON
// do. Text fields carry their own trailing blank, which is where ip's
// trailing blanks come from.
type out struct {
	b       strings.Builder
	json    bool
	pretty  bool
	oneline bool
	// JSON writer state (json_writer.c's shape: depth and first).
	depth int
	first bool
}

func newOut(g globals) *out {
	return &out{json: g.json, pretty: g.pretty, oneline: g.oneline, first: true}
}

// String is everything printed so far.
func (p *out) String() string { return p.b.String() }

func (p *out) put(s string) { p.b.WriteString(s) }

// fp prints text only (PRINT_FP).
func (p *out) fp(format string, a ...any) {
	if !p.json {
		fmt.Fprintf(&p.b, format, a...)
	}
}

// nl is ip's _SL_: a newline inside a record, "\" under -o.
func (p *out) nl() {
	if p.json {
		return
	}
	if p.oneline {
		p.put("\\")
	} else {
		p.put("\n")
	}
}

// end ends a text record.
func (p *out) end() {
	if !p.json {
		p.put("\n")
	}
}

// str is a string field: "key":"v" or the text format.
func (p *out) str(key, format, v string) {
	if p.json {
		p.name(key)
		p.value(quote(v))
		return
	}
	fmt.Fprintf(&p.b, format, v)
}

// num is an unsigned field.
func (p *out) num(key, format string, v uint64) {
	if p.json {
		p.name(key)
		p.value(strconv.FormatUint(v, 10))
		return
	}
	fmt.Fprintf(&p.b, format, v)
}

// jbool is a JSON-only true (print_bool's JSON half).
func (p *out) jbool(key string) {
	if p.json {
		p.name(key)
		p.value("true")
	}
}

// jnull is a JSON-only null (print_null's JSON half: "key":null).
func (p *out) jnull(key string) {
	if p.json {
		p.name(key)
		p.value("null")
	}
}

// elem is a string element of an open JSON array.
func (p *out) elem(v string) {
	if p.json {
		p.value(quote(v))
	}
}

// openObj opens a JSON object (named when key is not empty).
func (p *out) openObj(key string) {
	if !p.json {
		return
	}
	if key != "" {
		p.name(key)
	}
	p.eor()
	p.put("{")
	p.depth++
	p.first = true
}

func (p *out) closeObj() {
	if !p.json {
		return
	}
	p.depth--
	if !p.first {
		p.eol()
	}
	p.put("}")
	p.first = false
}

// openArr opens a JSON array (named when key is not empty).
func (p *out) openArr(key string) {
	if !p.json {
		return
	}
	if key != "" {
		p.name(key)
	}
	p.eor()
	p.put("[")
	p.depth++
	p.first = true
	if p.pretty {
		p.put(" ")
	}
}

func (p *out) closeArr() {
	if !p.json {
		return
	}
	p.depth--
	if p.pretty && !p.first {
		p.put(" ")
	}
	p.put("]")
	p.first = false
}

// eor separates a member from the one before it.
func (p *out) eor() {
	if !p.first {
		p.put(",")
	}
	p.first = false
}

// eol breaks the line under -p, indenting four blanks a level.
func (p *out) eol() {
	if p.pretty {
		p.put("\n" + strings.Repeat("    ", p.depth))
	}
}

func (p *out) name(key string) {
	p.eor()
	p.eol()
	p.first = true
	p.put(quote(key) + ":")
	if p.pretty {
		p.put(" ")
	}
}

func (p *out) value(s string) {
	p.eor()
	p.put(s)
}

// quote is json_writer's string escape.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// list opens a dump's output: the JSON array around its records.
func (p *out) list() { p.openArr("") }

// done closes a dump's output: the array and the line after it.
func (p *out) done() {
	if p.json {
		p.closeArr()
		p.put("\n")
	}
}
