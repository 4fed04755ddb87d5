package packetdrill

import (
	"fmt"
	"strconv"
	"strings"
)

// Expr is a system call's argument or result, packetdrill's struct
// expression. Symbols (SOCK_STREAM, POLLIN) stay names: resolving them is
// the runner's business, as packetdrill resolves them when it runs a call.
// Structs are generic: {sa_family=AF_INET, sin_port=htons(8080), …},
// {fd=4, events=POLLIN}, {onoff=1, linger=0}, {..., 1000} (an iovec) and
// {msg_name(...)=..., msg_iov(1)=[…], msg_flags=0} are all a *Struct of
// fields, each an *Assign or a bare expression.
type Expr interface {
	Pos() Pos
	String() string
	expr()
}

// Ellipsis is "...": any value, or a buffer the runner provides.
type Ellipsis struct{ At Pos }

// Int is an integer, written in decimal (possibly negative) or in hex.
type Int struct {
	At    Pos
	Value int64
	Hex   bool
}

// Symbol is a word: a constant's name (SOCK_STREAM, O_NONBLOCK, …).
type Symbol struct {
	At   Pos
	Name string
}

// Str is a "string"; Raw is the text between the quotes with its
// backslash escapes as written. Ellipsis marks "text"... (the string and
// then anything).
type Str struct {
	At       Pos
	Raw      string
	Ellipsis bool
}

// Or is a bitwise or, L|R (O_RDWR|O_NONBLOCK); chains lean left.
type Or struct {
	At   Pos
	L, R Expr
}

// Assign is a field, LHS=RHS: LHS is a *Symbol (events=POLLIN) or a
// *Call (msg_iov(1)=[…]).
type Assign struct {
	At  Pos
	LHS Expr
	RHS Expr
}

// List is an array, [e, …] ([1], [{fd=4, events=POLLIN}]).
type List struct {
	At    Pos
	Elems []Expr
}

// Struct is a brace list, {e, …}.
type Struct struct {
	At     Pos
	Fields []Expr
}

// Call is name(args): htons(8080), inet_addr("192.0.2.1"),
// inet6_addr("2001:db8::1"), msg_name(...), msg_iov(1). The parser checks
// the arguments of htons (one integer, 0..65535), inet_addr (one string)
// and inet6_addr (one string holding an IPv6 address); other names are
// taken as written.
type Call struct {
	At   Pos
	Func string
	Args []Expr
}

// MPLSStack is an MPLS label stack given as an argument:
// {(label 1, tc 0, [S], ttl 64)}.
type MPLSStack struct {
	At      Pos
	Entries []MPLSEntry
}

// GREFields is a GRE header given as an argument:
// {flags 0xb000, sum 0, off 0, key 1, seq 2}.
type GREFields struct {
	At  Pos
	GRE GREHeader
}

func (e *Ellipsis) Pos() Pos  { return e.At }
func (e *Int) Pos() Pos       { return e.At }
func (e *Symbol) Pos() Pos    { return e.At }
func (e *Str) Pos() Pos       { return e.At }
func (e *Or) Pos() Pos        { return e.At }
func (e *Assign) Pos() Pos    { return e.At }
func (e *List) Pos() Pos      { return e.At }
func (e *Struct) Pos() Pos    { return e.At }
func (e *Call) Pos() Pos      { return e.At }
func (e *MPLSStack) Pos() Pos { return e.At }
func (e *GREFields) Pos() Pos { return e.At }

func (*Ellipsis) expr()  {}
func (*Int) expr()       {}
func (*Symbol) expr()    {}
func (*Str) expr()       {}
func (*Or) expr()        {}
func (*Assign) expr()    {}
func (*List) expr()      {}
func (*Struct) expr()    {}
func (*Call) expr()      {}
func (*MPLSStack) expr() {}
func (*GREFields) expr() {}

func (e *Ellipsis) String() string { return "..." }

func (e *Int) String() string {
	if e.Hex && e.Value >= 0 {
		return "0x" + strconv.FormatInt(e.Value, 16)
	}
	return strconv.FormatInt(e.Value, 10)
}

func (e *Symbol) String() string { return e.Name }

func (e *Str) String() string {
	if e.Ellipsis {
		return `"` + e.Raw + `"...`
	}
	return `"` + e.Raw + `"`
}

func (e *Or) String() string     { return e.L.String() + "|" + e.R.String() }
func (e *Assign) String() string { return e.LHS.String() + "=" + e.RHS.String() }
func (e *List) String() string   { return "[" + joinExprs(e.Elems) + "]" }
func (e *Struct) String() string { return "{" + joinExprs(e.Fields) + "}" }
func (e *Call) String() string   { return e.Func + "(" + joinExprs(e.Args) + ")" }

func (e *MPLSStack) String() string {
	s := make([]string, len(e.Entries))
	for i, m := range e.Entries {
		s[i] = m.String()
	}
	return "{" + strings.Join(s, " ") + "}"
}

func (e *GREFields) String() string { return "{" + e.GRE.String() + "}" }

func joinExprs(es []Expr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

// MPLSEntry is one label stack entry: (label L, tc T, [S], ttl X); [S]
// marks the bottom of the stack.
type MPLSEntry struct {
	Label  uint32 // 20 bits
	TC     uint8  // 3 bits
	Bottom bool
	TTL    uint8
}

func (m MPLSEntry) String() string {
	s := fmt.Sprintf("(label %d, tc %d, ", m.Label, m.TC)
	if m.Bottom {
		s += "[S], "
	}
	return s + fmt.Sprintf("ttl %d)", m.TTL)
}

// GRE header flag bits, as gre_flag names them.
const (
	GREChecksumPresent = 0x8000 // "checksum present"
	GREKeyPresent      = 0x2000 // "key present"
	GRESequencePresent = 0x1000 // "sequence# present"
)

// GREHeader is a GRE header's fields: flags, then checksum, offset, key
// and sequence number, all five given. FlagList records that the flags
// were written as a list ([checksum present, key present]) rather than a
// number.
type GREHeader struct {
	Flags    uint16
	FlagList bool
	Sum, Off uint16
	Key, Seq uint32
}

func (g GREHeader) String() string {
	flags := fmt.Sprintf("%#x", g.Flags)
	if g.FlagList {
		var names []string
		for _, f := range []struct {
			bit  uint16
			name string
		}{{GREChecksumPresent, "checksum present"}, {GREKeyPresent, "key present"}, {GRESequencePresent, "sequence# present"}} {
			if g.Flags&f.bit != 0 {
				names = append(names, f.name)
			}
		}
		if len(names) == 0 {
			names = []string{"none"}
		}
		flags = "[" + strings.Join(names, ", ") + "]"
	}
	return fmt.Sprintf("flags %s, sum %d, off %d, key %d, seq %d", flags, g.Sum, g.Off, g.Key, g.Seq)
}
