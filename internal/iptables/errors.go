package iptables

import (
	"fmt"
	"io"
)

// Version is what the tools say they are.
const Version = "1.8.9 (legacy)"

// Exit statuses (enum xtables_exittype).
const (
	otherProblem     = 1
	parameterProblem = 2
	versionProblem   = 3
	resourceProblem  = 4
)

// Error is how a command ends unsuccessfully: the status it exits with and
// the text it writes to stderr (already formatted as iptables writes it).
type Error struct {
	Code int
	Text string
}

func (e *Error) Error() string { return e.Text }

// xtError is xtables_error as iptables_exit_error formats it: "prog
// version: msg", then for a parameter problem the pointer to the help
// (with the restore line), for a version problem the hint.
func (p *prog) xtError(status int, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	text := fmt.Sprintf("%s v%s: %s\n", p.name, Version, msg)
	switch status {
	case parameterProblem:
		text += p.tryHelp()
	case versionProblem:
		text += "Perhaps iptables or your kernel needs to be upgraded.\n"
	}
	return &Error{Code: status, Text: text}
}

// tryHelp is exit_tryhelp's text.
func (p *prog) tryHelp() string {
	s := ""
	if p.line >= 0 {
		s = fmt.Sprintf("Error occurred at line: %d\n", p.line)
	}
	return s + fmt.Sprintf("Try `%s -h' or '%s --help' for more information.\n", p.name, p.name)
}

// badArgument is the "Bad argument" exit of a stray word.
func (p *prog) badArgument(arg string) *Error {
	return &Error{Code: parameterProblem, Text: fmt.Sprintf("Bad argument `%s'\n", arg) + p.tryHelp()}
}

// prog is what a run of one of the tools knows about itself.
type prog struct {
	name   string // iptables, iptables-restore
	line   int    // the restore input's line, -1 outside iptables-restore
	out    io.Writer
	errOut io.Writer
	// setIndex is the host's index of an IP set (nil: no host to ask).
	setIndex func(name string) (uint16, bool)
}

func (p *prog) printf(format string, args ...any) { fmt.Fprintf(p.out, format, args...) }

func (p *prog) warn(format string, args ...any) { fmt.Fprintf(p.errOut, format, args...) }
