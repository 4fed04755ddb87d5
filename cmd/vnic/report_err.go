package main

import (
	"errors"
	"fmt"
	"io"

	"vnic/ethtool"
	"vnic/stack/netlink"
)

// reportErr prints a control-socket error for the command prog: the
// server's message when it sent one (followed by suffix), else the error.
// The reply comes as a *netlink.Error, or as an *ethtool.Error through the
// generic netlink client the ethtool commands share.
func reportErr(w io.Writer, prog string, err error, suffix string) {
	var ne *netlink.Error
	if errors.As(err, &ne) && ne.Msg != "" {
		fmt.Fprintf(w, "%s: %s%s\n", prog, ne.Msg, suffix)
		return
	}
	var ee *ethtool.Error
	if errors.As(err, &ee) && ee.Msg != "" {
		fmt.Fprintf(w, "%s: %s%s\n", prog, ee.Msg, suffix)
		return
	}
	fmt.Fprintf(w, "%s: %v\n", prog, err)
}
