package iproute

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"vnic/internal/netns"
)

// ip netns: a vnic host is a namespace. The commands speak the vnic_netns
// family (internal/netns) where ip makes files under /run/netns; their
// words are ip's, /run/netns/NAME included, so that what a user reads is
// what ip would have printed.

// NetnsExec reports a command line that is ip netns exec NAME CMD…: the
// caller (which can start processes) runs CMD for host NAME.
func NetnsExec(args []string) (name string, argv []string, ok bool) {
	g, rest, err := parseGlobals(args)
	if err != nil || g.all || len(rest) < 2 || !matches(rest[0], "netns") || !matches(rest[1], "exec") {
		return "", nil, false // ip -all netns exec is Run's (Options.Exec)
	}
	if len(rest) > 2 {
		name = rest[2]
	}
	if len(rest) > 3 {
		argv = rest[3:]
	}
	return name, argv, true
}

func (c *cmd) netnsClient() (netns.Client, error) {
	if c.o.Namespaces != nil {
		return c.o.Namespaces()
	}
	nc, ok := c.o.T.(netns.Client)
	if !ok {
		return nil, &Error{Msg: "ip netns needs the control socket of a running vnic up.", Code: exitFail}
	}
	return nc, nil
}

func (c *cmd) netns(args []string) error {
	if len(args) > 0 && matches(args[0], "help") {
		return usageErr{netnsUsage}
	}
	nc, err := c.netnsClient()
	if err != nil {
		return err
	}
	if len(args) == 0 || matches(args[0], "list") || args[0] == "show" {
		return c.netnsList(nc)
	}
	sub, args := args[0], args[1:]
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	switch {
	case matches(sub, "add"):
		if name == "" {
			return &Error{Msg: "No netns name specified", Bare: true}
		}
		if !validNetns(name) {
			return &Error{Msg: fmt.Sprintf("Invalid netns name \"%s\"", name), Code: exitUsage, Bare: true}
		}
		if err := netns.Add(nc, name); err != nil {
			return netnsFileErr("create", name, err)
		}
		return nil
	case matches(sub, "delete") && c.g.all:
		return c.netnsDelAll(nc)
	case matches(sub, "exec") && c.g.all:
		return c.netnsExecAll(nc, args)
	case matches(sub, "delete"):
		if name == "" {
			return &Error{Msg: "No netns name specified", Bare: true}
		}
		if err := netns.Del(nc, name); err != nil {
			return netnsFileErr("remove", name, err)
		}
		return nil
	case matches(sub, "set"):
		if name == "" || len(args) < 2 {
			return &Error{Msg: "No netns name specified", Bare: true}
		}
		id := int32(-1)
		if args[1] != "auto" {
			n, err := strconv.ParseInt(args[1], 0, 32)
			if err != nil {
				return invarg("Invalid \"netnsid\" value", args[1])
			}
			if n < 0 {
				return invarg("\"netnsid\" value should be >= 0", args[1])
			}
			id = int32(n)
		}
		if err := netns.Set(nc, name, id); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				return &Error{Msg: fmt.Sprintf("Cannot open network namespace \"%s\": No such file or directory", name), Bare: true}
			}
			return err
		}
		return nil
	case matches(sub, "list-id"):
		return c.netnsListID(nc)
	case matches(sub, "exec"):
		return &Error{Msg: "ip netns exec runs a command: use vnic ip netns exec NAME CMD (the command gets VNIC_HOST=NAME).", Code: exitFail}
	case matches(sub, "identify"), matches(sub, "pids"), matches(sub, "monitor"), matches(sub, "attach"):
		return &Error{Msg: fmt.Sprintf("ip netns %s is not supported by vnic: its hosts have no processes.", sub), Code: exitFail}
	}
	return &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"ip netns help\".", sub), Code: exitUsage, Bare: true}
}

// netnsDelAll is ip -all netns delete: every namespace, in the order ip
// netns list gives them. A failure is reported and ends the walk, and
// the command still succeeds, as netns_foreach stops at a callback's
// failure and returns 0.
func (c *cmd) netnsDelAll(nc netns.Client) error {
	hs, err := netns.List(nc)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if err := netns.Del(nc, h.Name); err != nil {
			fmt.Fprintln(c.o.Stderr, netnsFileErr("remove", h.Name, err).(*Error).Msg)
			break
		}
	}
	return nil
}

// netnsExecAll is ip -all netns exec CMD…: for every namespace, in the
// order ip netns list gives them, "\nnetns: NAME\n" on standard output,
// then CMD run for it to its end. The commands' exit statuses are not
// looked at (exit 0), except that one ended by a signal ends ip with
// exit 1 at once; a command that cannot be started says so (as ip's
// child does before its _exit(1)) and the walk goes on.
func (c *cmd) netnsExecAll(nc netns.Client, argv []string) error {
	if len(argv) == 0 {
		return &Error{Msg: "No command specified", Bare: true}
	}
	if c.o.Exec == nil {
		return &Error{Msg: "ip -all netns exec runs commands: use vnic ip -all netns exec CMD (each gets VNIC_HOST=NAME).", Code: exitFail}
	}
	hs, err := netns.List(nc)
	if err != nil {
		return err
	}
	for _, h := range hs {
		fmt.Fprintf(c.o.Stdout, "\nnetns: %s\n", h.Name)
		_, signaled, err := c.o.Exec(h.Name, argv)
		if err != nil {
			fmt.Fprintf(c.o.Stderr, "exec of \"%s\" failed: %s\n", argv[0], ExecErrText(err))
			continue
		}
		if signaled {
			return &Error{Code: exitFail, Bare: true} // cmd_exec's exit(1)
		}
	}
	return nil
}

// ExecErrText is strerror of why a command could not be started: a
// command not found on $PATH is ENOENT, as execvp fails with it.
func ExecErrText(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, exec.ErrNotFound):
		errno = syscall.ENOENT
	case errors.As(err, &errno):
	default:
		return err.Error()
	}
	return capitalise(errno.Error())
}

// validNetns is ip netns's is_valid_netns_name... of iproute2's check: a
// single path component.
func validNetns(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.Contains(s, "/") && len(s) < 256
}

// netnsFileErr words a refusal of add or del as ip words its failure to
// make or remove the namespace's file.
func netnsFileErr(verb, name string, err error) error {
	why := "Invalid argument"
	switch {
	case errors.Is(err, syscall.EEXIST):
		why = "File exists"
	case errors.Is(err, syscall.ENOENT):
		why = "No such file or directory"
	default:
		var errno syscall.Errno
		if errors.As(err, &errno) {
			why = capitalise(errno.Error())
		}
	}
	return &Error{Msg: fmt.Sprintf("Cannot %s namespace file \"/run/netns/%s\": %s", verb, name, why), Bare: true}
}

func (c *cmd) netnsList(nc netns.Client) error {
	hs, err := netns.List(nc)
	if err != nil {
		return err
	}
	p := newOut(c.g)
	p.list()
	for _, h := range hs {
		p.openObj("")
		p.str("name", "%s", h.Name)
		if h.NSID >= 0 {
			p.num("id", " (id: %d)", uint64(h.NSID))
		}
		p.end()
		p.closeObj()
	}
	p.done()
	c.write(p)
	return nil
}

func (c *cmd) netnsListID(nc netns.Client) error {
	hs, err := netns.List(nc)
	if err != nil {
		return err
	}
	hs = slices.DeleteFunc(hs, func(h netns.Info) bool { return h.NSID < 0 })
	slices.SortFunc(hs, func(a, b netns.Info) int { return int(a.NSID) - int(b.NSID) })
	p := newOut(c.g)
	p.list()
	for _, h := range hs {
		p.openObj("")
		p.num("nsid", "nsid %d ", uint64(h.NSID))
		p.str("name", "(iproute2 netns name: %s)", h.Name)
		p.end()
		p.closeObj()
	}
	p.done()
	c.write(p)
	return nil
}

// netnsHandle is netns_get_fd: the handle naming host name in a request
// (IFLA_NET_NS_FD), "Invalid "netns" value" when there is none.
func (c *cmd) netnsHandle(name string) (uint32, error) {
	nc, err := c.netnsClient()
	if err != nil {
		return 0, err
	}
	h, err := netns.Get(nc, name)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return 0, invarg("Invalid \"netns\" value", name)
		}
		return 0, err
	}
	return h.Handle, nil
}

const netnsUsage = `Usage:	ip netns list
	ip netns add NAME
	ip netns attach NAME PID
	ip netns set NAME NETNSID
	ip [-all] netns delete [NAME]
	ip netns identify [PID]
	ip netns pids NAME
	ip [-all] netns exec [NAME] cmd ...
	ip netns monitor
	ip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]
NETNSID := auto | POSITIVE-INT
`
