package selftests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds of one group's run, in wall-clock time (vnic up --empty paces its
// virtual time to the wall clock, and the script sleeps and pings).
const (
	groupTimeout = 120 * time.Second // the script's run of one group
	upReady      = 30 * time.Second  // vnic up serving its control socket
	upStop       = 15 * time.Second  // vnic up exiting after SIGINT
	killWait     = 5 * time.Second   // pipes closing after a kill
)

// scriptTools are the programs fib_tests.sh runs besides ip, ping and sysctl
// (bash's builtins aside), linked into a directory of their own for its
// PATH. socat, tc, iptables, ip6tables and ping6 are left out on purpose:
// the script looks for them and skips what needs them, and no tool of the
// machine's own network may be reachable.
var scriptTools = []string{"bash", "grep", "awk", "sed", "cat", "wc", "mktemp", "rm", "sleep", "id", "which"}

// optionalTools are linked when the machine has them (bash has builtins of
// the same names).
var optionalTools = []string{"env", "kill"}

// fibEnv is what the groups' runs share.
type fibEnv struct {
	script string // fib_tests.sh
	bash   string
	vnic   string // the binary built for this test
	alias  string // test/selftests/alias
	tools  string // scriptTools' links
}

// missingEnv skips the test, or fails it under VNIC_REQUIRE_NETNS=1.
func missingEnv(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
		t.Fatalf("%s (VNIC_REQUIRE_NETNS=1)", msg)
	}
	t.Skip(msg)
}

// scriptPath is oracles/linux-selftests/NAME: oracles is $VNIC_ORACLES, else
// ../shared/oracles beside the repository.
func scriptPath(name string) (string, error) {
	oracles := os.Getenv("VNIC_ORACLES")
	if oracles == "" {
		oracles = filepath.Join("..", "..", "..", "shared", "oracles")
	}
	p, err := filepath.Abs(filepath.Join(oracles, "linux-selftests", name))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

func newFibEnv(t *testing.T) *fibEnv {
	t.Helper()
	script, err := scriptPath("fib_tests.sh")
	if err != nil {
		missingEnv(t, "fib_tests.sh not found (set VNIC_ORACLES to the directory holding linux-selftests/): %v", err)
	}
	if os.Geteuid() != 0 {
		missingEnv(t, "fib_tests.sh needs root (it checks uid 0): euid %d", os.Geteuid())
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		missingEnv(t, "fib_tests.sh needs bash: %v", err)
	}
	alias, err := filepath.Abs("alias")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tools := filepath.Join(dir, "tools")
	if err := os.Mkdir(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	link := func(name string) error {
		p, err := exec.LookPath(name)
		if err != nil {
			return err
		}
		if p, err = filepath.Abs(p); err != nil {
			return err
		}
		return os.Symlink(p, filepath.Join(tools, name))
	}
	for _, name := range scriptTools {
		if err := link(name); err != nil {
			missingEnv(t, "fib_tests.sh needs %s: %v", name, err)
		}
	}
	for _, name := range optionalTools {
		link(name) // bash's builtin otherwise
	}

	vnic := filepath.Join(dir, "vnic")
	build := exec.Command("go", "build", "-o", vnic, "./cmd/vnic")
	build.Dir = filepath.Join("..", "..")
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/vnic: %v\n%s", err, out)
	}
	t.Logf("built vnic in %v", time.Since(start).Round(time.Millisecond))
	return &fibEnv{script: script, bash: bash, vnic: vnic, alias: alias, tools: tools}
}

// TestFibTests runs fib_tests.sh group by group, each against a fresh
// `vnic up --empty`, and judges its cases by fibGroups.
func TestFibTests(t *testing.T) {
	env := newFibEnv(t)
	var summary []string
	for _, g := range fibGroups {
		t.Run(g.name, func(t *testing.T) {
			line := fmt.Sprintf("%-20s did not run (its log says why)", g.name)
			defer func() { summary = append(summary, line) }()
			tl := runFibGroup(t, env, g)
			line = fmt.Sprintf("%-20s %s", g.name, tl)
		})
	}
	for _, name := range ipv6Groups {
		t.Run(name, func(t *testing.T) {
			t.Skip("IPv6 only: vnic has no IPv6, the group is not run")
		})
	}
	t.Logf("fib_tests.sh against vnic:\n%s", strings.Join(summary, "\n"))
}

func runFibGroup(t *testing.T, env *fibEnv, g fibGroup) tally {
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl")
	up := startUp(t, env.vnic, sock)
	if out, err := vnicCmd(env.vnic, sock, "ip", "netns", "add", "init").CombinedOutput(); err != nil {
		t.Fatalf("vnic ip netns add init: %v\n%s\nvnic up:\n%s", err, out, up.log.String())
	}

	timeout := groupTimeout
	if d, ok := t.Deadline(); ok {
		if left := time.Until(d) - 30*time.Second; left < timeout {
			timeout = left
		}
		if timeout < 10*time.Second {
			t.Fatalf("too little time left for the group (go test -timeout)")
		}
	}
	res := runScript(env, dir, sock, timeout, "-t", g.name)
	r := parseRun(res.stdout)
	tl := judge(g.cases, r)

	ending := fmt.Sprintf("exit %d", res.code)
	if r.skip != "" {
		ending = fmt.Sprintf("skipped, %s", ending)
	} else if !r.summary {
		ending = fmt.Sprintf("stopped after case %d without its summary (set -e in a setup, or an exit), %s", len(r.cases), ending)
	}
	t.Logf("%s: %d cases reported, %s; %s", g.name, len(r.cases), ending, tl)
	var problems []string
	if res.timedOut {
		problems = append(problems, fmt.Sprintf("the script did not end in %v: killed", timeout))
	}
	if r.skip != "" && len(g.cases) > 0 {
		problems = append(problems, "the script skipped every test: "+r.skip)
	}
	problems = append(problems, tl.problems...)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Logf("fib_tests.sh -t %s, its output (stdout and stderr):\n%s", g.name, res.all)
		t.Logf("vnic up's log:\n%s", up.log.String())
	} else if !r.summary || r.skip != "" {
		t.Logf("where it stopped:\n%s", lastLines(res.all, 4))
	}
	return tl
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// upProc is a running `vnic up --empty`.
type upProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	log  *syncBuffer
}

// startUp runs `vnic up --empty --socket sock` until the test ends and
// returns once the socket (SOCK_SEQPACKET, as vnic serves netlink) takes
// connections.
func startUp(t *testing.T, vnic, sock string) *upProc {
	t.Helper()
	up := &upProc{done: make(chan struct{}), log: new(syncBuffer)}
	up.cmd = exec.Command(vnic, "up", "--empty", "--socket", sock)
	up.cmd.Env = cleanEnv()
	up.cmd.Stdout, up.cmd.Stderr = up.log, up.log
	if err := up.cmd.Start(); err != nil {
		t.Fatalf("vnic up: %v", err)
	}
	go func() {
		up.cmd.Wait()
		close(up.done)
	}()
	t.Cleanup(func() {
		up.cmd.Process.Signal(os.Interrupt)
		select {
		case <-up.done:
		case <-time.After(upStop):
			t.Errorf("vnic up did not exit %v after SIGINT: killed", upStop)
			up.cmd.Process.Kill()
			<-up.done
		}
	})

	deadline := time.Now().Add(upReady)
	for {
		select {
		case <-up.done:
			t.Fatalf("vnic up --empty exited (%v) before serving %s:\n%s", up.cmd.ProcessState, sock, up.log.String())
		default:
		}
		c, err := net.DialTimeout("unixpacket", sock, time.Second)
		if err == nil {
			c.Close()
			return up
		}
		if time.Now().After(deadline) {
			t.Fatalf("vnic up --empty: no control socket at %s after %v: %v\n%s", sock, upReady, err, up.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vnicCmd is a vnic command against the control socket sock.
func vnicCmd(vnic, sock string, args ...string) *exec.Cmd {
	cmd := exec.Command(vnic, args...)
	cmd.Env = append(cleanEnv(), "VNIC_SOCKET="+sock)
	return cmd
}

// cleanEnv is the test's environment without VNIC_* variables (a user's
// VNIC_CONFIG or VNIC_HOST would change what vnic does).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VNIC_") {
			env = append(env, kv)
		}
	}
	return env
}

// scriptResult is what a run of the script left.
type scriptResult struct {
	stdout   string
	all      string // stdout and stderr as they came
	code     int
	timedOut bool
}

// runScript runs the script under bash in dir, on the alias and the tools
// alone, with the host "init" of the vnic up at sock as its own namespace.
// On timeout its whole process group is killed; so is what it left behind.
func runScript(env *fibEnv, dir, sock string, timeout time.Duration, args ...string) scriptResult {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.bash, append([]string{env.script}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + env.alias + ":" + env.tools,
		"VNIC_SOCKET=" + sock,
		"VNIC_HOST=init",
		"SELFTESTS_VNIC=" + env.vnic,
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"LC_ALL=C",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = killWait
	var stdout bytes.Buffer
	all := new(syncBuffer)
	cmd.Stdout = io.MultiWriter(&stdout, all)
	cmd.Stderr = all
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever it left running
	}
	res := scriptResult{stdout: stdout.String(), all: all.String(), timedOut: ctx.Err() != nil}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		res.code = -1
		res.all += fmt.Sprintf("\n(runner: %v)\n", err)
	}
	return res
}

// syncBuffer is a bytes.Buffer two writers may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
