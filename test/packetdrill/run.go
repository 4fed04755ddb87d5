package packetdrill

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	pd "vnic/internal/packetdrill"
)

// Config says how scripts run.
type Config struct {
	// Verbose, when set, receives every event as it runs with its
	// virtual time, every packet injected and sent, and what the shell
	// lines did.
	Verbose io.Writer
	// Seed seeds the host (its ISNs and timestamp offsets): the same
	// script and seed give the same run.
	Seed int64
	// WallLimit bounds one script in wall-clock time (0: 60 s); the
	// virtual time a script may use is bounded by its own events.
	WallLimit time.Duration
	// Args are packetdrill command-line options ("--tolerance_usecs=
	// 100000", "--init_scripts=setup.sh"); as on packetdrill's command
	// line they override the script's own.
	Args []string
}

// Result is one script's outcome.
type Result struct {
	Path string
	// Err is nil when the script passed. A script that ran and failed
	// has a *Failure; one that could not be read or parsed (Broken) the
	// parser's or the file system's error.
	Err    error
	Broken bool
	// Notes say what the runner did in the script's stead that a reader
	// should know (a defaults.sh found elsewhere than named).
	Notes []string
}

// OK reports whether the script passed.
func (r Result) OK() bool { return r.Err == nil }

// Line is the one-line summary `vnic packetdrill` prints: "ok PATH" or
// "FAIL FILE:LINE: the first mismatch", with the notes after.
func (r Result) Line() string {
	s := "ok   " + r.Path
	if r.Err != nil {
		s = "FAIL " + r.Err.Error()
		var f *Failure
		if !errors.As(r.Err, &f) && !r.Broken {
			s = "FAIL " + r.Path + ": " + r.Err.Error()
		}
	}
	for _, n := range r.Notes {
		s += " (note: " + n + ")"
	}
	return s
}

// Failure is the first thing in a script that did not happen as written:
// FILE:LINE and packetdrill's words for it, with the expected and the
// actual packet where one was compared.
type Failure struct {
	File string
	Line int
	Msg  string
}

func (f *Failure) Error() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Msg) }

// RunFile parses the script at path and runs it; the defaults.sh and
// other files its shell lines name are looked up beside it.
func RunFile(path string, cfg Config) Result {
	s, err := pd.ParseFile(path)
	if err != nil {
		return Result{Path: path, Err: err, Broken: true}
	}
	return Run(s, filepath.Dir(path), cfg)
}

// Run runs a parsed script against a new vnic host in virtual time; dir
// is the script's directory (where its shell lines are resolved).
func Run(s *pd.Script, dir string, cfg Config) Result {
	r, err := newRunner(s, dir, cfg)
	res := Result{Path: s.File}
	if err == nil {
		err = r.run()
		res.Notes = r.notes
	}
	if err != nil {
		var f *Failure
		if !errors.As(err, &f) {
			err = &Failure{File: s.File, Line: r.line(), Msg: err.Error()}
		}
		res.Err = err
	}
	return res
}

// options are the --options of a script that the runner reads
// (packetdrill's struct config), with packetdrill's defaults.
type options struct {
	toleranceUsecs   int64   // --tolerance_usecs (4000)
	tolerancePercent float64 // --tolerance_percent (12.5)
	tsTickUsecs      int64   // --tcp_ts_tick_usecs (0: TS val unchecked)
	tsEcrScaled      bool    // --tcp_ts_ecr_scaled
	bindPort         uint16  // --bind_port (8080)
	connectPort      uint16  // --connect_port (8080)
	strictSegments   bool    // --strict_segments: no aggregation of sniffed packets
	initScripts      []string
}

// readOptions is parse_and_finalize_config: the script's options, then
// the command line's over them.
func readOptions(s *pd.Script, args []string) (options, error) {
	o := options{toleranceUsecs: 4000, tolerancePercent: 12.5, bindPort: defaultBindPort, connectPort: defaultConnectPort}
	type option struct {
		pd.Option
		where string // " (command line)" for one of args
	}
	var all []option
	for _, op := range s.Options {
		all = append(all, option{Option: op})
	}
	for _, a := range args {
		name, value, has := strings.Cut(strings.TrimLeft(a, "-"), "=")
		all = append(all, option{pd.Option{Pos: pd.Pos{Line: 1}, Name: name, Value: value, HasValue: has}, " (command line)"})
	}
	for _, op := range all {
		where := op.where
		num := func(lo, hi int64) (int64, error) {
			n, err := strconv.ParseInt(op.Value, 10, 64)
			if err != nil || n < lo || n > hi {
				return 0, &Failure{File: s.File, Line: op.Pos.Line, Msg: fmt.Sprintf("bad --%s: %s%s", op.Name, op.Value, where)}
			}
			return n, nil
		}
		var err error
		var n int64
		switch op.Name {
		case "tolerance_usecs":
			o.toleranceUsecs, err = num(0, 1<<40)
		case "tolerance_percent":
			n, err = num(0, 100)
			o.tolerancePercent = float64(n)
		case "tcp_ts_tick_usecs":
			o.tsTickUsecs, err = num(0, 1<<31)
		case "tcp_ts_ecr_scaled":
			o.tsEcrScaled = true
		case "bind_port":
			n, err = num(1, 65535)
			o.bindPort = uint16(n)
		case "connect_port":
			n, err = num(1, 65535)
			o.connectPort = uint16(n)
		case "strict_segments":
			o.strictSegments = true
		case "init_scripts":
			o.initScripts = strings.Split(op.Value, ",")
		case "ip_version":
			if op.Value != "ipv4" {
				return o, &Failure{File: s.File, Line: op.Pos.Line, Msg: unsupported("--ip_version=%s (vnic's stack is IPv4)%s", op.Value, where).Error()}
			}
		case "verbose", "debug", "dry_run":
		default:
			return o, &Failure{File: s.File, Line: op.Pos.Line, Msg: unsupported("option --%s%s", op.Name, where).Error()}
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

// secs prints microseconds as packetdrill does (%.6f).
func secs(us int64) string { return fmt.Sprintf("%.6f", float64(us)/1e6) }
