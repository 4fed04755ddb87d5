package packetdrill

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	pd "vnic/internal/packetdrill"
)

// command runs a `shell line` of the script (run_command_event and the
// init and cleanup commands). There is no shell: the runner knows the
// commands packetdrill's scripts use and does what they do to the vnic
// host — defaults.sh's sysctls above all — and fails on anything else.
func (r *runner) command(c *pd.Command) error {
	for i, line := range splitCommands(c.Text) {
		if err := r.shellLine(line, r.dir, 0); err != nil {
			return r.failf(c.Pos.Line+i, "%v", err)
		}
	}
	return nil
}

// splitCommands splits a command's text into lines, joining lines that
// end in a backslash, and drops comments and blank lines.
func splitCommands(text string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		l = strings.TrimSpace(cur + l)
		cur = ""
		if i := commentStart(l); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		if l != "" {
			out = append(out, l)
		}
	}
	if l := strings.TrimSpace(cur); l != "" {
		out = append(out, l)
	}
	return out
}

// commentStart is where a # comment begins (not inside quotes, and only
// at a word's start), or -1.
func commentStart(l string) int {
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return i
		}
	}
	return -1
}

// maxDepth bounds scripts running scripts.
const maxDepth = 4

// shellLine does one command. dir is where relative paths start (the
// directory of the script or file the line is in).
func (r *runner) shellLine(line, dir string, depth int) error {
	words, err := shellWords(line)
	if err != nil {
		return err
	}
	words = dropRedirects(words)
	if len(words) == 0 {
		return nil
	}
	name := words[0]
	switch {
	case name == "sysctl":
		return r.sysctl(words[1:])
	case name == "ip" && len(words) >= 3 && words[1] == "tcp_metrics" && words[2] == "flush":
		r.logf("shell: %s: a no-op: vnic's TCP keeps no per-destination metrics (no tcp_metrics cache, no fast open cookies) to flush", line)
		return nil
	case name == "tc" && len(words) >= 4 && words[1] == "qdisc" && words[2] == "add" && words[len(words)-1] == "pfifo":
		r.logf("shell: %s: a no-op: vnic's device queue is already first-in first-out (pfifo_fast, every TCP packet in one band), with no pacing qdisc", line)
		return nil
	case strings.HasSuffix(name, "set_sysctls.py"):
		return r.setSysctls(words[1:])
	case strings.HasPrefix(name, "/tmp/sysctl_restore_") && strings.HasSuffix(name, ".sh"):
		r.logf("shell: %s: a no-op: each script runs on a new host, so nothing needs restoring", line)
		return nil
	case strings.HasSuffix(name, ".sh") && len(words) == 1:
		return r.runShellFile(name, dir, depth)
	}
	return fmt.Errorf("unsupported shell command: %s", line)
}

// runShellFile runs a shell script's lines (defaults.sh). A name that is
// missing falls back to a defaults.sh in the directory or one of the
// directories above it (the oracles keep Linux's beside the scripts and
// a link to packetdrill's common one above them), and says so.
func (r *runner) runShellFile(name, dir string, depth int) error {
	if depth >= maxDepth {
		return fmt.Errorf("unsupported shell command: %s (scripts nested too deep)", name)
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, name)
	}
	body, used, err := r.readShellFile(path)
	if err != nil && filepath.Base(name) == "defaults.sh" {
		for d, i := dir, 0; i < 3; d, i = filepath.Dir(d), i+1 {
			cand := filepath.Join(d, "defaults.sh")
			if b, u, err2 := r.readShellFile(cand); err2 == nil {
				body, used, err = b, u, nil
				rel, _ := filepath.Rel(r.dir, u)
				r.notes = append(r.notes, fmt.Sprintf("%s not found; ran %s instead", name, rel))
				r.logf("shell: %s not found; running %s instead", name, u)
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	r.logf("shell: running %s", used)
	for _, l := range splitCommands(body) {
		if l == "#!/bin/bash" || l == "#!/bin/sh" {
			continue
		}
		if err := r.shellLine(l, filepath.Dir(used), depth+1); err != nil {
			return fmt.Errorf("%s: %v", filepath.Base(used), err)
		}
	}
	return nil
}

// readShellFile reads a script, following a symbolic link stored as a
// file (a one-line relative path, as git writes a link where links are
// not kept) to what it names.
func (r *runner) readShellFile(path string) (body, used string, err error) {
	for range maxDepth {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", "", err
		}
		s := string(b)
		if t := strings.TrimSpace(s); !strings.ContainsAny(t, " \n\t#") && strings.HasSuffix(t, ".sh") {
			path = filepath.Join(filepath.Dir(path), t)
			continue
		}
		return s, path, nil
	}
	return "", "", fmt.Errorf("too many links")
}

// dropRedirects removes "> /dev/null" and "2>&1" (their output is the
// runner's verbose log).
func dropRedirects(w []string) []string {
	var out []string
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] == ">" || w[i] == "2>" || w[i] == ">>":
			i++
		case strings.HasPrefix(w[i], ">") || strings.HasPrefix(w[i], "2>") || strings.HasPrefix(w[i], "1>"):
		default:
			out = append(out, w[i])
		}
	}
	return out
}

// sysctl is `sysctl [-q] [-w] KEY=VALUE …` against the host's settings.
// As on Linux, a key the host lacks or a value it refuses is reported
// (here in the verbose log) and the rest goes on.
func (r *runner) sysctl(args []string) error {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			if strings.Trim(a, "-qwe") != "" {
				return fmt.Errorf("unsupported shell command: sysctl %s", strings.Join(args, " "))
			}
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("unsupported shell command: sysctl %s (reads are not supported)", a)
		}
		r.setSysctl(strings.ReplaceAll(strings.TrimSpace(k), "/", "."), strings.TrimSpace(v))
	}
	return nil
}

// setSysctls is packetdrill's set_sysctls.py /proc/sys/KEY=VALUE …,
// which writes each file and saves the old values for a restore script.
func (r *runner) setSysctls(args []string) error {
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(k, "/proc/sys/") {
			return fmt.Errorf("unsupported shell command: set_sysctls.py %s", a)
		}
		r.setSysctl(strings.ReplaceAll(strings.TrimPrefix(k, "/proc/sys/"), "/", "."), v)
	}
	return nil
}

func (r *runner) setSysctl(key, value string) {
	for _, s := range r.host.Sysctls() {
		if s.Name != key {
			continue
		}
		if s.Set == nil {
			r.logf("shell: sysctl: permission denied on key %q", key)
			return
		}
		if err := s.Set(value); err != nil {
			r.logf("shell: sysctl: setting key %q: %s (vnic refused %q: %v)", key, "Invalid argument", value, err)
			return
		}
		r.logf("shell: sysctl %s = %s", key, value)
		return
	}
	r.logf("shell: sysctl: cannot stat /proc/sys/%s: No such file or directory (vnic has no such setting; ignored)", strings.ReplaceAll(key, ".", "/"))
}
