package packetdrill

import (
	"fmt"
	"net/netip"
)

// exprList: expression {, expression}.
func (p *parser) exprList() []Expr {
	list := []Expr{p.expr()}
	for p.at(",") {
		p.next()
		list = append(list, p.expr())
	}
	return list
}

// expr: unary {| unary}. A field's value (name=expr) takes the rest of
// the chain, as parser.y's "WORD '=' expression" does.
func (p *parser) expr() Expr {
	e := p.unary()
	for p.at("|") {
		p.next()
		e = &Or{At: e.Pos(), L: e, R: p.unary()}
	}
	return e
}

// nested reads f's expressions as inside brackets, where calls are calls.
func (p *parser) nested(f func()) {
	saved := p.noCall
	p.noCall = false
	f()
	p.noCall = saved
}

func (p *parser) unary() Expr {
	t := p.next()
	switch t.kind {
	case tEllipsis:
		return &Ellipsis{At: t.pos}
	case tInt, tHex:
		return &Int{At: t.pos, Value: p.integer(t), Hex: t.kind == tHex}
	case tString:
		s := &Str{At: t.pos, Raw: t.text}
		if p.peek().kind == tEllipsis {
			p.next()
			s.Ellipsis = true
		}
		return s
	case tWord:
		var lhs Expr = &Symbol{At: t.pos, Name: t.text}
		if p.at("(") && !p.noCall {
			lhs = p.call(t)
		}
		if p.at("=") {
			p.next()
			return &Assign{At: t.pos, LHS: lhs, RHS: p.expr()}
		}
		return lhs
	case tPunct:
		switch t.text {
		case "[":
			l := &List{At: t.pos}
			p.nested(func() {
				if !p.at("]") {
					l.Elems = p.exprList()
				}
			})
			p.expect("]", "',' or ']' in the list")
			return l
		case "{":
			return p.brace(t)
		}
	}
	p.fail(t.pos, "expected an expression (a number, a symbol, a \"string\", ..., [list] or {struct}), found %s", t.describe())
	return nil
}

// call: name(args), with the shapes of the calls parser.y knows checked.
func (p *parser) call(name token) *Call {
	p.next()
	c := &Call{At: name.pos, Func: name.text}
	p.nested(func() {
		if !p.at(")") {
			c.Args = p.exprList()
		}
	})
	p.expect(")", fmt.Sprintf("',' or ')' in %s(…)", name.text))
	var arg Expr
	if len(c.Args) == 1 {
		arg = c.Args[0]
	}
	switch c.Func {
	case "htons":
		if n, ok := arg.(*Int); !ok || n.Value < 0 || n.Value > 0xffff {
			p.fail(name.pos, "htons wants one integer 0..65535")
		}
	case "inet_addr":
		if _, ok := arg.(*Str); !ok {
			p.fail(name.pos, `inet_addr wants one "string"`)
		}
	case "inet6_addr":
		s, ok := arg.(*Str)
		if !ok {
			p.fail(name.pos, `inet6_addr wants one "string"`)
		}
		if a, err := netip.ParseAddr(s.Raw); err != nil || !a.Is6() || a.Zone() != "" {
			p.fail(s.At, "cannot parse in6_addr %q", s.Raw)
		}
	}
	return c
}

// brace: {} or {expr, …}, an MPLS stack {(label …) …} or a GRE header
// {flags …, sum …, off …, key …, seq …}.
func (p *parser) brace(open token) Expr {
	var e Expr
	p.nested(func() {
		switch {
		case p.at("}"):
			e = &Struct{At: open.pos}
		case p.at("("):
			m := &MPLSStack{At: open.pos}
			for p.at("(") {
				if len(m.Entries) == maxMPLSEntries {
					p.fail(p.peek().pos, "too many MPLS labels")
				}
				m.Entries = append(m.Entries, p.mplsEntry())
			}
			e = m
		case (p.atWord("flags") || p.atWord("Flags")) && !p.peekAt(1).is("="):
			e = &GREFields{At: open.pos, GRE: p.greHeader()}
		default:
			e = &Struct{At: open.pos, Fields: p.exprList()}
		}
	})
	p.expect("}", "',' or '}' in the braces")
	return e
}

// maxMPLSEntries is packetdrill's MPLS_STACK_MAX_ENTRIES.
const maxMPLSEntries = 6

// mplsEntry: (label L, tc T, [S], ttl X).
func (p *parser) mplsEntry() MPLSEntry {
	var m MPLSEntry
	p.expect("(", "'(' starting an MPLS label stack entry")
	p.expectWord("label", "label in the MPLS entry (label L, tc T, [S], ttl X)")
	m.Label = uint32(p.number("the MPLS label", false, 1<<20-1, "MPLS label out of range (20 bits)"))
	p.expect(",", "',' after the MPLS label")
	p.expectWord("tc", "tc in the MPLS entry (label L, tc T, [S], ttl X)")
	m.TC = uint8(p.number("the MPLS traffic class", false, 7, "MPLS traffic class out of range (3 bits)"))
	p.expect(",", "',' after the MPLS traffic class")
	if p.at("[") {
		p.next()
		if !p.atWord("S") {
			p.expected("[S] for MPLS label stack bottom")
		}
		p.next()
		p.expect("]", "']' after [S")
		p.expect(",", "',' after [S]")
		m.Bottom = true
	}
	p.expectWord("ttl", "ttl in the MPLS entry (label L, tc T, [S], ttl X)")
	m.TTL = uint8(p.number("the MPLS TTL", false, 255, "MPLS TTL out of range (8 bits)"))
	p.expect(")", "')' closing the MPLS entry")
	return m
}

// greHeader: flags F, sum S, off O, key [=] K, seq Q (commas optional),
// F a number or a list of none, checksum present, key present and
// sequence# present.
func (p *parser) greHeader() GREHeader {
	var g GREHeader
	p.next() // flags
	if p.at("[") {
		p.next()
		g.FlagList = true
		for {
			t := p.next()
			var bit uint16
			switch {
			case t.isWord("none"):
			case t.isWord("checksum"):
				bit = GREChecksumPresent
			case t.isWord("key"):
				bit = GREKeyPresent
			case t.isWord("sequence#"):
				bit = GRESequencePresent
			default:
				p.fail(t.pos, "expected a GRE flag (none, checksum present, key present, sequence# present), found %s", t.describe())
			}
			if bit != 0 {
				p.expectWord("present", fmt.Sprintf("present after %s", t.text))
				g.Flags |= bit
			}
			if !p.at(",") {
				break
			}
			p.next()
		}
		p.expect("]", "',' or ']' in the GRE flags")
	} else {
		g.Flags = uint16(p.number("the GRE flags (a number or [list])", true, 0xffff, "GRE flags out of range (16 bits)"))
	}
	field := func(name string, max uint64) uint64 {
		if p.at(",") {
			p.next()
		}
		p.expectWord(name, fmt.Sprintf("%s in the GRE header (flags, sum, off, key, seq)", name))
		if name == "key" && p.at("=") {
			p.next()
		}
		return p.number("the GRE "+name, true, max, fmt.Sprintf("GRE %s out of range", name))
	}
	g.Sum = uint16(field("sum", 0xffff))
	g.Off = uint16(field("off", 0xffff))
	g.Key = uint32(field("key", 0xffffffff))
	g.Seq = uint32(field("seq", 0xffffffff))
	return g
}
