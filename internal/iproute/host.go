package iproute

// What a caller that binds its socket before Run needs to know of a
// command line (cmd/vnic's ip: which host, whether any, which groups).

// NeedsHost reports whether the command line talks to a host: usage
// texts, -V and the errors of the options or the object are printed
// without one (Run answers them without touching Options.T).
func NeedsHost(args []string) bool {
	g, rest, err := parseGlobals(args)
	if err != nil || g.version || g.help || len(rest) == 0 {
		return false
	}
	obj := rest[0]
	switch {
	case matches(obj, "address"), matches(obj, "link"), matches(obj, "neighbor"), matches(obj, "neighbour"), matches(obj, "route"), matches(obj, "rule"), matches(obj, "nexthop"):
		return len(rest) < 2 || !matches(rest[1], "help")
	case matches(obj, "monitor"):
		_, _, err := MonitorRequest(args)
		return err == nil && (len(rest) < 2 || !matches(rest[1], "help"))
	}
	return false
}

// NeedsSocket reports a command line that needs the control socket but
// no host: ip netns's commands.
func NeedsSocket(args []string) bool {
	g, rest, err := parseGlobals(args)
	if err != nil || g.version || g.help || len(rest) == 0 || !matches(rest[0], "netns") {
		return false
	}
	return len(rest) < 2 || !matches(rest[1], "help")
}

// MonitorRequest reports whether the command line is ip monitor and, if
// so, the RTMGRP groups its socket must be bound to.
func MonitorRequest(args []string) (groups uint32, monitor bool, err error) {
	_, rest, err := parseGlobals(args)
	if err != nil || len(rest) == 0 || !matches(rest[0], "monitor") {
		return 0, false, nil
	}
	if len(rest) > 1 && matches(rest[1], "help") {
		return 0, true, nil
	}
	g, err := MonitorGroups(rest[1:])
	return g, true, err
}
