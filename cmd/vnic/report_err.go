package main

import (
	"errors"
	"fmt"
	"io"

	"vnic/ethtool"
)

// reportErr prints a control-socket error for the command prog: the
// server's message when it sent one (followed by suffix), else the error.
func reportErr(w io.Writer, prog string, err error, suffix string) {
	var ee *ethtool.Error
	if errors.As(err, &ee) && ee.Msg != "" {
		fmt.Fprintf(w, "%s: %s%s\n", prog, ee.Msg, suffix)
		return
	}
	fmt.Fprintf(w, "%s: %v\n", prog, err)
}
