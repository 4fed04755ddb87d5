package iperf3

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Code is iperf3's i_errno: what failed, numbered as iperf_api.h numbers
// it (a SERVER_ERROR message carries it to the client, which words it).
type Code int

// The codes vnic's iperf3 reports or understands.
const (
	IEServClient     Code = 1
	IENoRole         Code = 2
	IEServerOnly     Code = 3
	IEClientOnly     Code = 4
	IEDuration       Code = 5
	IENumStreams     Code = 6
	IEBlockSize      Code = 7
	IEBufSize        Code = 8
	IEInterval       Code = 9
	IEMSS            Code = 10
	IEUnimp          Code = 13
	IEBadFormat      Code = 24
	IEBadPort        Code = 26
	IEListen         Code = 102
	IEConnect        Code = 103
	IEAccept         Code = 104
	IESendCookie     Code = 105
	IERecvCookie     Code = 106
	IECtrlWrite      Code = 107
	IECtrlRead       Code = 108
	IECtrlClose      Code = 109
	IEMessage        Code = 110
	IESendMessage    Code = 111
	IERecvMessage    Code = 112
	IESendParams     Code = 113
	IERecvParams     Code = 114
	IEPackageResults Code = 115
	IESendResults    Code = 116
	IERecvResults    Code = 117
	IEClientTerm     Code = 119
	IEServerTerm     Code = 120
	IEAccessDenied   Code = 121
	IESetNoDelay     Code = 122
	IESetMSS         Code = 123
	IESetBuf         Code = 124
	IESetTOS         Code = 125
	IEProtocol       Code = 131
	IESetCongestion  Code = 134
	IEInitStream     Code = 201
	IEStreamListen   Code = 202
	IEStreamConnect  Code = 203
	IEStreamAccept   Code = 204
	IEStreamWrite    Code = 205
	IEStreamRead     Code = 206
	IEStreamClose    Code = 207
	IEStreamID       Code = 208

	// IEBadValue is vnic's own: an option value iperf3 would take
	// (atoi's 0 for "abc", a negative count) but vnic refuses. Detail
	// says which.
	IEBadValue Code = -1000
)

// errText is iperf_strerror's text for each code, and whether iperf3
// appends the errno's (perr).
var errText = map[Code]struct {
	text string
	perr bool
}{
	IEServClient:     {"cannot be both server and client", false},
	IENoRole:         {"must either be a client (-c) or server (-s)", false},
	IEServerOnly:     {"some option you are trying to set is server only", false},
	IEClientOnly:     {"some option you are trying to set is client only", false},
	IEDuration:       {fmt.Sprintf("test duration too long (maximum = %d seconds)", MaxTime), false},
	IENumStreams:     {fmt.Sprintf("number of parallel streams too large (maximum = %d)", MaxStreams), false},
	IEBlockSize:      {fmt.Sprintf("block size too large (maximum = %d bytes)", MaxBlockSize), false},
	IEBufSize:        {fmt.Sprintf("socket buffer size too large (maximum = %d bytes)", MaxTCPBuffer), false},
	IEInterval:       {fmt.Sprintf("invalid report interval (min = %g, max = %g seconds)", MinInterval.Seconds(), MaxInterval.Seconds()), false},
	IEMSS:            {fmt.Sprintf("TCP MSS too large (maximum = %d bytes)", MaxMSS), false},
	IEUnimp:          {"an option you are trying to set is not implemented yet", false},
	IEBadFormat:      {"bad format specifier (valid formats are in the set [kmgtKMGT])", false},
	IEBadPort:        {"port number must be between 1 and 65535 inclusive", false},
	IEListen:         {"unable to start listener for connections", true},
	IEConnect:        {"unable to connect to server", true},
	IEAccept:         {"unable to accept connection from client", true},
	IESendCookie:     {"unable to send cookie to server", true},
	IERecvCookie:     {"unable to receive cookie at server", true},
	IECtrlWrite:      {"unable to write to the control socket", true},
	IECtrlRead:       {"unable to read from the control socket", true},
	IECtrlClose:      {"control socket has closed unexpectedly", false},
	IEMessage:        {"received an unknown control message", false},
	IESendMessage:    {"unable to send control message", true},
	IERecvMessage:    {"unable to receive control message", true},
	IESendParams:     {"unable to send parameters to server", true},
	IERecvParams:     {"unable to receive parameters from client", true},
	IEPackageResults: {"unable to package results", true},
	IESendResults:    {"unable to send results", true},
	IERecvResults:    {"unable to receive results", true},
	IEClientTerm:     {"the client has terminated", false},
	IEServerTerm:     {"the server has terminated", false},
	IEAccessDenied:   {"the server is busy running a test. try again later", false},
	IESetNoDelay:     {"unable to set TCP/SCTP NODELAY", true},
	IESetMSS:         {"unable to set TCP/SCTP MSS", true},
	IESetBuf:         {"unable to set socket buffer size", true},
	IESetTOS:         {"unable to set IP TOS", true},
	IEProtocol:       {"protocol does not exist", false},
	IESetCongestion:  {"unable to set TCP_CONGESTION: Supplied congestion control algorithm not supported on this host", false},
	IEInitStream:     {"unable to initialize stream", true},
	IEStreamListen:   {"unable to start stream listener", true},
	IEStreamConnect:  {"unable to connect stream", true},
	IEStreamAccept:   {"unable to accept stream connection", true},
	IEStreamWrite:    {"unable to write to stream socket", true},
	IEStreamRead:     {"unable to read from stream socket", true},
	IEStreamClose:    {"stream socket has closed unexpectedly", false},
	IEStreamID:       {"stream has an invalid id", false},
}

// Error is an iperf3 failure: its code, the errno that came with it (0:
// none) and, for vnic's own refusals, what was wrong. Error() is
// iperf_strerror's wording, the text iperf3 prints after "iperf3: error - ".
type Error struct {
	Code   Code
	Errno  syscall.Errno
	Detail string
}

func (e *Error) Error() string {
	t, ok := errText[e.Code]
	if !ok {
		if e.Detail != "" {
			return e.Detail
		}
		return fmt.Sprintf("unknown error %d", e.Code)
	}
	s := t.text
	if t.perr {
		s += ": "
		if e.Errno != 0 {
			s += strerror(e.Errno)
		}
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, syscall.ECONNREFUSED) work.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// strerror is glibc's wording of an errno (Go's, capitalised).
func strerror(en syscall.Errno) string {
	s := en.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// fail makes an *Error of code with the errno inside err (if any).
func fail(code Code, err error) *Error {
	e := &Error{Code: code}
	var ie *Error
	if errors.As(err, &ie) {
		return ie
	}
	if !errors.As(err, &e.Errno) && errors.Is(err, os.ErrDeadlineExceeded) {
		e.Errno = syscall.ETIMEDOUT
	}
	return e
}
