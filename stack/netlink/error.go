package netlink

import (
	"fmt"
	"syscall"
)

// Error is a request's failure as netlink reports it: the errno of
// NLMSG_ERROR and the extended ack's message (NLMSGERR_ATTR_MSG) and the
// offset of the attribute at fault from the start of the request (-1 for
// none). Handlers return it; the client returns it for an error reply.
type Error struct {
	Errno syscall.Errno
	Msg   string
	Off   int
}

// Errorf returns an Error with errno and a message (no attribute offset).
func Errorf(errno syscall.Errno, format string, args ...any) *Error {
	return &Error{Errno: errno, Msg: fmt.Sprintf(format, args...), Off: -1}
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "netlink: " + e.Errno.Error()
	}
	return "netlink: " + e.Msg + ": " + e.Errno.Error()
}

// Unwrap makes errors.Is(err, syscall.EEXIST) work.
func (e *Error) Unwrap() error { return e.Errno }
