package packetdrill

import (
	"errors"
	"fmt"
)

// Pos is a place in a script: line and column (in bytes), both from 1.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// ErrUnsupported is matched (errors.Is) by the errors for parts of the
// language this parser deliberately refuses (PSP and transport-mode
// encapsulation, the MPTCP and fuzzing extensions of packetdrill's forks).
var ErrUnsupported = errors.New("packetdrill: not supported")

// Error is a parse error: FILE:LINE:COL: what was wrong or expected.
type Error struct {
	File string
	Pos  Pos
	Msg  string
	// Unsupported marks a construct refused on purpose; the error then
	// matches ErrUnsupported.
	Unsupported bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Is reports whether target is ErrUnsupported and e a refusal.
func (e *Error) Is(target error) bool { return e.Unsupported && target == ErrUnsupported }

// Script is a parsed packetdrill script, in the shape of packetdrill's
// struct script: the options, an untimed command run first, the events
// and an untimed command run last.
type Script struct {
	File    string
	Options []Option
	Init    *Command // the untimed command before the first event, or nil
	Events  []Event  // at least one
	Cleanup *Command // the untimed command after the last event, or nil
}

// Option is a --name or --name=value line before the events
// (--tolerance_usecs=10000). Value is what packetdrill keeps: the
// integer's digits, the word, the address, the string between its quotes
// (Quoted set), or for --define-style NAME=VALUE the whole
// "NAME=VALUE" with the value's quotes or backquotes kept.
type Option struct {
	Pos      Pos
	Name     string // without the leading "--"
	Value    string
	HasValue bool
	Quoted   bool // Value was a "string"
}

// Command is a `shell command line`; Text is what lies between the
// backquotes (escapes and newlines kept).
type Command struct {
	Pos  Pos
	Text string
}

// Code is a %{ code }% snippet (packetdrill hands it to Python after the
// run); Text is the inside with spaces and tabs trimmed at both ends.
type Code struct {
	Pos  Pos
	Text string
}

// Event is one timed line: a packet, a system call, a command or code.
type Event struct {
	Pos    Pos // where the event's time starts
	Time   Time
	Action Action // *Packet, *Syscall, *Command or *Code
}

// Action is what an event does: *Packet, *Syscall, *Command or *Code.
// String prints it in the script language.
type Action interface {
	String() string
	action()
}

func (*Packet) action()  {}
func (*Syscall) action() {}
func (*Command) action() {}
func (*Code) action()    {}

// TimeKind says how an event's time is written.
type TimeKind uint8

const (
	// AbsoluteTime (0, 0.100): Usecs after the script's start.
	AbsoluteTime TimeKind = iota
	// RelativeTime (+0, +.1): Usecs after the previous event. As in
	// packetdrill's adjust_relative_event_times, the previous event's
	// time is when it was reached (for a blocking system call, when the
	// call started, not when it returned).
	RelativeTime
	// AnyTime (*): whenever; outbound packets only.
	AnyTime
	// AbsoluteRange (1~2): between Usecs and EndUsecs after the start;
	// outbound packets only.
	AbsoluteRange
	// RelativeRange (+.35~+2.35): between Usecs and EndUsecs after the
	// previous event; outbound packets only.
	RelativeRange
)

// Time is an event's time in microseconds. Seconds are read as exact
// decimals (0.035 is 35000 µs) and digits past the microsecond are
// dropped, where packetdrill multiplies a double by 1e6 and truncates.
type Time struct {
	Kind     TimeKind
	Usecs    int64
	EndUsecs int64 // the end of a range; 0 otherwise
}

// IsRelative reports whether the time counts from the previous event.
func (t Time) IsRelative() bool { return t.Kind == RelativeTime || t.Kind == RelativeRange }

// Syscall is a system call and what it must return:
//
//	name(arg, …) = result [ERRNO (strerror)] [(note)]
//
// with, for a call that blocks, its return time written before the name
// (+0...0.100 read(…) = 2000).
type Syscall struct {
	Pos    Pos // the name
	Name   string
	Args   []Expr // nil for ()
	Result Expr
	// Errno is the errno's name (EINPROGRESS) and Strerror its text
	// (Operation now in progress), both empty when none is given; the
	// grammar wants the text whenever there is a name.
	Errno    string
	Strerror string
	// Note is an extra "(words)" after the result or the errno; the
	// words of Strerror and Note are joined by single spaces.
	Note string

	// Blocking is set for a call written start...end: it starts at the
	// event's time and must return at End.
	Blocking bool
	// End is the return time in microseconds.
	End int64
	// EndIsRelative follows the start, as in packetdrill's
	// adjust_relative_event_times: when the event's time is relative
	// (+t...e) the end, like the start, counts from the previous event
	// (not from the call's own start), so +.1...0.200 starts 0.1 s and
	// returns 0.2 s after the previous event; when the start is absolute
	// (0...0.100) the end is absolute too. The end itself is never
	// written with "+".
	EndIsRelative bool
}
