package ethtool

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. Every error the command core returns is an *Error that
// matches one of these and its errno with errors.Is.
var (
	ErrInvalid      = errors.New("ethtool: invalid argument")        // EINVAL
	ErrNotSupported = errors.New("ethtool: operation not supported") // EOPNOTSUPP
	ErrBusy         = errors.New("ethtool: device busy")             // EBUSY
	ErrNoDevice     = errors.New("ethtool: no such device")          // ENODEV
	ErrRange        = errors.New("ethtool: value out of range")      // ERANGE
)

var sentinels = map[syscall.Errno]error{
	syscall.EINVAL:     ErrInvalid,
	syscall.EOPNOTSUPP: ErrNotSupported,
	syscall.EBUSY:      ErrBusy,
	syscall.ENODEV:     ErrNoDevice,
	syscall.ERANGE:     ErrRange,
}

// Error is an ethtool operation's failure: the operation, the errno the
// kernel would return, and what was wrong (the kernel's extended ack).
type Error struct {
	Op    string
	Errno syscall.Errno
	Msg   string
	// Attr names the request field the error is about (a CLI keyword such
	// as "rx", or "dev" for the device name), as the kernel's extended ack
	// points at an attribute; empty when none.
	Attr string
	// Offset is the extended ack's offset of the attribute at fault in
	// the request, when the error came back over netlink (0: none).
	Offset int
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("ethtool: %s: %v", e.Op, e.Errno)
	}
	return fmt.Sprintf("ethtool: %s: %s: %v", e.Op, e.Msg, e.Errno)
}

// Is matches the errno and its sentinel.
func (e *Error) Is(target error) bool {
	if t, ok := target.(syscall.Errno); ok {
		return t == e.Errno
	}
	return target == sentinels[e.Errno]
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Errno }

// Errorf returns an *Error for op with errno and a message.
func Errorf(op string, errno syscall.Errno, format string, args ...any) error {
	return &Error{Op: op, Errno: errno, Msg: fmt.Sprintf(format, args...)}
}

// AttrErrorf is Errorf for an error about one request field.
func AttrErrorf(op, attr string, errno syscall.Errno, format string, args ...any) error {
	return &Error{Op: op, Errno: errno, Msg: fmt.Sprintf(format, args...), Attr: attr}
}
