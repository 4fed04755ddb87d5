package main

import (
	"bytes"
	"testing"

	"vnic/internal/iproute"
)

// hostExec runs a command for a host: the host and socket in its
// environment, its exit status, a signal's end told apart, and a command
// that cannot start worded as execvp's errno.
func TestHostExec(t *testing.T) {
	for _, tc := range []struct {
		argv     []string
		out      string
		status   int
		signaled bool
		err      string
	}{
		{argv: []string{"sh", "-c", "echo $VNIC_HOST $VNIC_SOCKET"}, out: "h1 /tmp/x.sock\n"},
		{argv: []string{"sh", "-c", "exit 3"}, status: 3},
		{argv: []string{"sh", "-c", "kill -TERM $$"}, status: -1, signaled: true},
		{argv: []string{"/nonexistent/cmd"}, err: "No such file or directory"},
		{argv: []string{"no-such-command-vnic"}, err: "No such file or directory"},
	} {
		var out, errb bytes.Buffer
		status, signaled, err := hostExec("/tmp/x.sock", "h1", tc.argv, &out, &errb)
		text := ""
		if err != nil {
			text = iproute.ExecErrText(err)
		}
		if out.String() != tc.out || status != tc.status || signaled != tc.signaled || text != tc.err {
			t.Errorf("%q: %q status %d signaled %v err %q, want %q %d %v %q", tc.argv, out.String(), status, signaled, text, tc.out, tc.status, tc.signaled, tc.err)
		}
	}
}
