package conntrack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"vnic/internal/nlclient"
	"vnic/stack/netlink"
)

// Options are what Main runs with besides conntrack's command line.
type Options struct {
	Stdout, Stderr io.Writer
	// Socket is the control socket's path ("" : nlclient.DefaultPath()).
	Socket string
	// Host names the host whose table the command is for.
	Host string
	// Context ends -E (as SIGINT or SIGTERM ends conntrack -E): when it
	// is done the events stop and the summary is printed. nil: -E runs
	// until the stream ends.
	Context context.Context
	// Now is the clock -o timestamp prints event times from (nil:
	// time.Now).
	Now func() time.Time
}

const (
	progname = "conntrack"
	version  = "1.4.7"
	prefix   = progname + " v" + version + " (conntrack-tools): "
)

// runner is one run of Main.
type runner struct {
	o       Options
	c       *command
	conn    *nlclient.Conn
	counter int
}

// Main runs conntrack-tools 1.4.7's command line against a host of a
// running topology and returns the status conntrack exits with: 0, 1
// (OTHER_PROBLEM: a refused operation), 2 (PARAMETER_PROBLEM).
func Main(args []string, o Options) int {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &runner{o: o}
	defer func() {
		if r.conn != nil {
			r.conn.Close()
		}
	}()
	return r.run(args)
}

// fail prints an exit error as exit_error does and returns its status.
func (r *runner) fail(e *exitError) int {
	fmt.Fprintf(r.o.Stderr, "%s%s\n", prefix, e.msg)
	if e.tryHelp {
		fmt.Fprintf(r.o.Stderr, "Try `%s -h' or '%s --help' for more information.\n", progname, progname)
	}
	return e.code
}

// refuse is what vnic does not build: conntrack's line for EOPNOTSUPP,
// and why.
func (r *runner) refuse(format string, args ...any) int {
	fmt.Fprintf(r.o.Stderr, "%sOperation failed: %s\n", prefix, strerror(syscall.EOPNOTSUPP))
	fmt.Fprintf(r.o.Stderr, "vnic: %s\n", fmt.Sprintf(format, args...))
	return otherProblem
}

// opFailed is exit_error(OTHER_PROBLEM, "Operation failed: …") for the
// server's answer err to command cmd, the server's reason after it when
// it gave one.
func (r *runner) opFailed(err error, cmd int) int {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		fmt.Fprintf(r.o.Stderr, "%sOperation failed: %s\n", prefix, err2str(ne.Errno, cmd))
		if ne.Msg != "" {
			fmt.Fprintf(r.o.Stderr, "vnic: %s\n", ne.Msg)
		}
		return otherProblem
	}
	fmt.Fprintf(r.o.Stderr, "%s: %v\n", progname, err)
	return otherProblem
}

func (r *runner) run(args []string) int {
	if len(args) >= 2 && (args[0] == "-R" || args[0] == "--load-file") {
		return r.refuse("loading commands from a file (-R, --load-file) is not built")
	}
	c, perr := parseArgs(args)
	if c != nil {
		for _, w := range c.warnings {
			fmt.Fprintln(r.o.Stderr, w)
		}
	}
	if perr != nil {
		return r.fail(perr)
	}
	r.c = c
	if c.labels || c.output&outLabels != 0 {
		return r.refuse("connection labels (-l, --label-add, --label-del, -o labels) are not built")
	}
	switch c.command {
	case -1:
		fmt.Fprint(r.o.Stdout, Usage)
		return 0
	case cmdVersion:
		fmt.Fprintf(r.o.Stdout, "%s v%s (conntrack-tools)\n", progname, version)
		return 0
	case cmdHelp:
		fmt.Fprint(r.o.Stdout, Usage)
		if c.has(optProto) {
			fmt.Fprintf(r.o.Stdout, "Proto `%s' help:\n", helpName(c))
			fmt.Fprint(r.o.Stdout, protoHelp(c.proto))
		}
		return 0
	case expList, expCreate, expDelete, expGet, expFlush, expEvent, expCount, expStats:
		return r.refuse("the expectation table is not served: vnic's expectations have no ctnetlink side")
	}
	if c.output&(outXML|outKTimestamp) != 0 {
		return r.refuse("-o xml and -o ktimestamp are not built (the default, extended, id, timestamp and save formats are)")
	}
	if r.o.Host == "" {
		fmt.Fprintf(r.o.Stderr, "%s: which host? --host NAME (or VNIC_HOST)\n", progname)
		return otherProblem
	}
	path := r.o.Socket
	if path == "" {
		path = nlclient.DefaultPath()
	}
	conn, err := nlclient.Dial(path)
	if err != nil {
		fmt.Fprintf(r.o.Stderr, "%s: %v\n", progname, err)
		return otherProblem
	}
	r.conn = conn
	var code int
	switch c.command {
	case cmdList:
		code = r.list()
	case cmdGet:
		code = r.get()
	case cmdDelete:
		code = r.del()
	case cmdUpdate:
		code = r.update()
	case cmdFlush:
		code = r.flush()
	case cmdCreate, cmdAdd:
		code = r.create()
	case cmdEvent:
		return r.events(path)
	case cmdCount:
		return r.count()
	case cmdStats:
		return r.stats()
	}
	if code != 0 {
		return code
	}
	return r.summary()
}

// summary is print_stats: the count a command ends with; none found is a
// failure but for a listing or -A.
func (r *runner) summary() int {
	cmd := r.c.command
	if exitMsgs[cmd] == "" {
		return 0
	}
	fmt.Fprintf(r.o.Stderr, prefix+exitMsgs[cmd]+"\n", r.counter)
	if r.counter == 0 && cmd != cmdList && cmd != expList && cmd != cmdAdd {
		return 1
	}
	return 0
}

// err2str is conntrack's table of errno texts by command, else
// strerror.
func err2str(errno syscall.Errno, cmd int) string {
	bit := uint32(1) << cmd
	has := func(cmds ...int) bool {
		for _, c := range cmds {
			if bit == 1<<c {
				return true
			}
		}
		return false
	}
	switch {
	case errno == 524 && has(cmdList):
		return "function not implemented"
	case errno == syscall.EINVAL && bit&0xffff != 0:
		return "invalid parameters"
	case errno == syscall.EEXIST && has(cmdCreate):
		return "Such conntrack exists, try -U to update"
	case errno == syscall.ENOENT && has(cmdCreate, cmdGet, cmdDelete, cmdAdd):
		return "such conntrack doesn't exist"
	case errno == syscall.ENOMEM && has(cmdCreate, cmdGet, cmdAdd):
		return "not enough memory"
	case errno == syscall.EAFNOSUPPORT && has(cmdGet):
		return "protocol not supported"
	case errno == syscall.ETIME && has(cmdCreate, cmdAdd):
		return "conntrack has expired"
	case errno == syscall.ENOENT && has(expCreate):
		return "master conntrack not found"
	case errno == syscall.EINVAL && has(expCreate):
		return "invalid parameters"
	case errno == syscall.EPERM:
		return "sorry, you must be root or get CAP_NET_ADMIN capability to do this"
	}
	return strerror(errno)
}

// strerror is glibc's text for errno (Go's, capitalized as glibc writes
// it).
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
