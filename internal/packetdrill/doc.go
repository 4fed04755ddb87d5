// Package packetdrill reads packetdrill scripts: the language of
// google/packetdrill's lexer.l and parser.y, in which a test is a list of
// timed events — system calls and what they return, packets injected
// into the stack and packets it must send, shell commands — run against
// a TCP stack. vnic's runner executes the parsed scripts against its TCP
// in virtual time; this package only reads and prints them, and imports
// nothing of vnic's.
//
// Parse returns a *Script: its --options, an untimed command before the
// events and one after them, and the events, each with its Time and its
// Action (*Packet, *Syscall, *Command or *Code) and the line and column
// it starts at. Format prints a script back so that parsing the output
// gives the same script (positions aside).
//
// Beyond the grammar the parser checks what parser.y's actions and
// packetdrill's packet builders check while parsing (ranges of numbers,
// seq:end(len) consistency, TCP flag letters, the options' 40 bytes and
// 4-byte padding, ICMP names, * and time ranges for outbound packets
// only, the window of inbound packets), with packetdrill's wording where
// it has one. What it refuses on purpose (PSP encapsulation, the MPTCP
// fork's options) fails with an error matching ErrUnsupported. Every
// error is an *Error: FILE:LINE:COL: message.
//
// Symbols (SOCK_STREAM, POLLIN, EINPROGRESS) are kept as names and
// --define is kept as an option: resolving them is the runner's job.
// docs/packetdrill.md describes the language as this package reads it.
package packetdrill
