package packetdrill

import (
	"fmt"
	"syscall"

	pd "vnic/internal/packetdrill"
)

// symbols are the names a script's system calls use, with Linux's
// values (packetdrill's symbols_linux.c takes them from the C headers).
// Only what vnic's socket API can act on is here; an unknown name is an
// "unsupported: symbol" mismatch, not a guess.
var symbols = map[string]int64{
	// socket(2)
	"AF_INET": 2, "AF_INET6": 10, "AF_UNSPEC": 0, "PF_INET": 2,
	"SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_NONBLOCK": 0x800,
	"IPPROTO_IP": 0, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17,
	// setsockopt(2) levels and names
	"SOL_SOCKET": 1, "SOL_TCP": 6, "SOL_IP": 0,
	"SO_REUSEADDR": 2, "SO_TYPE": 3, "SO_ERROR": 4, "SO_SNDBUF": 7, "SO_RCVBUF": 8,
	"SO_KEEPALIVE": 9, "SO_OOBINLINE": 10, "SO_LINGER": 13, "SO_REUSEPORT": 15, "SO_RCVLOWAT": 18,
	"IP_TOS": 1, "IP_TTL": 2,
	"TCP_NODELAY": 1, "TCP_MAXSEG": 2, "TCP_CORK": 3, "TCP_KEEPIDLE": 4, "TCP_KEEPINTVL": 5,
	"TCP_KEEPCNT": 6, "TCP_SYNCNT": 7, "TCP_LINGER2": 8, "TCP_DEFER_ACCEPT": 9,
	"TCP_WINDOW_CLAMP": 10, "TCP_INFO": 11, "TCP_QUICKACK": 12, "TCP_CONGESTION": 13,
	"TCP_USER_TIMEOUT": 18, "TCP_NOTSENT_LOWAT": 25,
	// fcntl(2)
	"F_GETFL": 3, "F_SETFL": 4, "O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_NONBLOCK": 0x800,
	// shutdown(2)
	"SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2,
	// send(2), recv(2)
	"MSG_OOB": 0x1, "MSG_PEEK": 0x2, "MSG_DONTWAIT": 0x40, "MSG_WAITALL": 0x100,
	"MSG_NOSIGNAL": 0x4000, "MSG_MORE": 0x8000,
	// poll(2)
	"POLLIN": 0x1, "POLLPRI": 0x2, "POLLOUT": 0x4, "POLLERR": 0x8, "POLLHUP": 0x10,
	"POLLNVAL": 0x20, "POLLRDNORM": 0x40, "POLLRDBAND": 0x80, "POLLWRNORM": 0x100,
	"POLLWRBAND": 0x200, "POLLRDHUP": 0x2000,
	"NULL": 0,
}

// errnos are the errno names a script may expect, as Linux numbers them.
var errnos = map[string]syscall.Errno{
	"EPERM": syscall.EPERM, "ENOENT": syscall.ENOENT, "EINTR": syscall.EINTR, "EBADF": syscall.EBADF,
	"EAGAIN": syscall.EAGAIN, "EWOULDBLOCK": syscall.EAGAIN, "ENOMEM": syscall.ENOMEM,
	"EFAULT": syscall.EFAULT, "EINVAL": syscall.EINVAL, "EPIPE": syscall.EPIPE,
	"ENOTSOCK": syscall.ENOTSOCK, "EMSGSIZE": syscall.EMSGSIZE, "EPROTOTYPE": syscall.EPROTOTYPE,
	"ENOPROTOOPT": syscall.ENOPROTOOPT, "EPROTONOSUPPORT": syscall.EPROTONOSUPPORT,
	"EOPNOTSUPP": syscall.EOPNOTSUPP, "EAFNOSUPPORT": syscall.EAFNOSUPPORT,
	"EADDRINUSE": syscall.EADDRINUSE, "EADDRNOTAVAIL": syscall.EADDRNOTAVAIL,
	"ENETUNREACH": syscall.ENETUNREACH, "ECONNABORTED": syscall.ECONNABORTED,
	"ECONNRESET": syscall.ECONNRESET, "ENOBUFS": syscall.ENOBUFS, "EISCONN": syscall.EISCONN,
	"ENOTCONN": syscall.ENOTCONN, "ETIMEDOUT": syscall.ETIMEDOUT, "ECONNREFUSED": syscall.ECONNREFUSED,
	"EHOSTUNREACH": syscall.EHOSTUNREACH, "EALREADY": syscall.EALREADY,
	"EINPROGRESS": syscall.EINPROGRESS, "EPROTO": syscall.EPROTO,
}

// errnoName is the name packetdrill prints for e (EAGAIN for 11, whose
// other name is EWOULDBLOCK).
func errnoName(e syscall.Errno) string {
	best := ""
	for n, v := range errnos {
		if v == e && (best == "" || n < best) {
			best = n
		}
	}
	if best == "" {
		return fmt.Sprintf("errno %d", int(e))
	}
	return best
}

// strerror is e's text as glibc's strerror capitalises it.
func strerror(e syscall.Errno) string {
	if e == 0 {
		return "Success"
	}
	s := e.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// mismatch is a check's failure in packetdrill's words, capitalised as
// packetdrill writes them ("Expected result 0 but got -1 …").
type mismatch string

func (m mismatch) Error() string { return string(m) }

func mismatchf(format string, a ...any) error { return mismatch(fmt.Sprintf(format, a...)) }

// unsupportedError marks what the runner cannot do with vnic's API: the
// script fails with "unsupported: …" rather than a guess.
type unsupportedError struct{ what string }

func (e unsupportedError) Error() string { return "unsupported: " + e.what }

func unsupported(format string, a ...any) error {
	return unsupportedError{fmt.Sprintf(format, a...)}
}

// eval resolves an integer expression: a number, a symbol, or an or of
// them (O_RDWR|O_NONBLOCK).
func eval(e pd.Expr) (int64, error) {
	switch x := e.(type) {
	case *pd.Int:
		return x.Value, nil
	case *pd.Symbol:
		if v, ok := symbols[x.Name]; ok {
			return v, nil
		}
		if e, ok := errnos[x.Name]; ok {
			return int64(e), nil // getsockopt(…, SO_ERROR, [ECONNREFUSED], [4])
		}
		return 0, unsupported("symbol %s", x.Name)
	case *pd.Or:
		l, err := eval(x.L)
		if err != nil {
			return 0, err
		}
		r, err := eval(x.R)
		if err != nil {
			return 0, err
		}
		return l | r, nil
	case *pd.Call:
		if x.Func == "htons" && len(x.Args) == 1 {
			return eval(x.Args[0])
		}
	}
	return 0, fmt.Errorf("bad argument %s: want an integer", e)
}
