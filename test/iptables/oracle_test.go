package iptables_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// runTestPy runs iptables-test.py (legacy variant, no namespace of its
// own) over files with the xtables-legacy-multi it finds first in env's
// PATH (prefix, when given, runs it: in a namespace, with the installed
// binaries), and fails t unless every line of every file passed, in its
// fast mode (one iptables-restore of the file's rules) and line by line.
func runTestPy(t *testing.T, oracle string, env []string, files []string, prefix ...string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "py.log")
	args := append([]string{}, prefix...)
	args = append(args, "python3", filepath.Join(oracle, "iptables-test.py"), "-l", "--no-netns")
	if len(prefix) > 0 {
		args = append(args, "-H") // the installed binaries, where prefix runs it
	}
	args = append(args, files...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = oracle
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if b, rerr := os.ReadFile("/tmp/iptables-test.log"); rerr == nil {
		os.WriteFile(log, b, 0o644)
	}
	want := fmt.Sprintf("legacy: %d test files, ", len(files))
	m := regexp.MustCompile(`legacy: (\d+) test files, (\d+) unit tests, (\d+) passed`).FindStringSubmatch(text)
	if err != nil || m == nil || !strings.Contains(text, want) || m[2] != m[3] || strings.Contains(text, "ERROR") ||
		strings.Contains(text, "fast mode failed") {
		logText, _ := os.ReadFile(log)
		t.Fatalf("iptables-test.py: %v\n%s\n--- its log:\n%s", err, text, tail(string(logText), 60))
	}
	t.Logf("%s", strings.TrimSpace(m[0]))
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestOracle runs iptables 1.8.9's own rule tests (../shared/oracles/
// iptables: each line a rule appended with iptables -A, read back with
// iptables-save, deleted with iptables -D, and each file's rules once
// more in one iptables-restore) against a vnic host: every line passes.
func TestOracle(t *testing.T) {
	requireRoot(t, "python3")
	oracle := oracleDir(t)
	files, err := filepath.Glob(filepath.Join(oracle, "extensions", "*.t"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .t files in %s/extensions", oracle)
	}
	sort.Strings(files)
	var plain, nat []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("\n*nat")) {
			nat = append(nat, f)
		} else {
			plain = append(plain, f)
		}
	}
	t.Run("filter", func(t *testing.T) {
		v := newVnicHost(t)
		runTestPy(t, oracle, v.env(), plain)
	})
	t.Run("nat", func(t *testing.T) {
		v := newVnicHost(t)
		runTestPy(t, oracle, v.env(), nat)
	})
}

// ownRuleFiles are the rule tests of testdata/rules (iptables-test.py's
// format, one file per extension the engine has), split into those of
// the nat table and the others.
func ownRuleFiles(t *testing.T) (plain, nat []string) {
	t.Helper()
	files, err := filepath.Glob("testdata/rules/*.t")
	if err != nil || len(files) == 0 {
		t.Fatal("no .t files in testdata/rules")
	}
	sort.Strings(files)
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("\n*nat")) {
			nat = append(nat, abs)
		} else {
			plain = append(plain, abs)
		}
	}
	return plain, nat
}

// TestOwnRules runs vnic's own rule tests (testdata/rules: every match
// and target of the engine, the same format as iptables' .t files)
// against a vnic host with iptables' runner.
func TestOwnRules(t *testing.T) {
	requireRoot(t, "python3")
	oracle := oracleDir(t)
	plain, nat := ownRuleFiles(t)
	t.Run("filter", func(t *testing.T) {
		v := newVnicHost(t)
		runTestPy(t, oracle, v.env(), plain)
	})
	t.Run("nat", func(t *testing.T) {
		v := newVnicHost(t)
		runTestPy(t, oracle, v.env(), nat)
	})
}

// TestOwnRulesLinux checks every line of testdata/rules against Debian's
// iptables-legacy in a network namespace of the test's own: what vnic is
// held to is what Linux does.
func TestOwnRulesLinux(t *testing.T) {
	requireRoot(t, "python3", "ip", "xtables-legacy-multi")
	oracle := oracleDir(t)
	plain, nat := ownRuleFiles(t)
	ns := newLinuxNS(t)
	runTestPy(t, oracle, ns.env(), append(plain, nat...), "ip", "netns", "exec", ns.name)
}
