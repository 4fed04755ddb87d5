package iptables

import (
	"fmt"
	"sync"
	"time"

	"vnic/stack"
)

// Log levels (syslog's, as printk's KERN_*).
const (
	LogEmerg   = 0
	LogAlert   = 1
	LogCrit    = 2
	LogErr     = 3
	LogWarning = 4
	LogNotice  = 5
	LogInfo    = 6
	LogDebug   = 7
)

// LogLine is one line of a host's log.
type LogLine struct {
	Seq   uint64        // 1 upward
	Time  time.Duration // the host clock's reading
	Level uint8
	Text  string
}

// logCapacity is how many lines the ring keeps (older ones are
// overwritten, as printk's buffer wraps).
const logCapacity = 1024

// LogRing is a host's kernel log as netfilter writes it: what the LOG
// target prints and why a rule set was refused (the lines Linux's dmesg
// would show). It keeps the last logCapacity lines.
type LogRing struct {
	mu    sync.Mutex
	clock stack.Clock
	lines []LogLine
	next  uint64
	sink  func(LogLine)
}

// SetSink gives every line from now on to fn as well (the daemon's log,
// as the kernel's printk reaches the console and syslog); nil stops it.
// fn runs with the ring's lock held: it must not write to the ring.
func (l *LogRing) SetSink(fn func(LogLine)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink = fn
}

func (l *LogRing) init(c stack.Clock) { l.next, l.clock = 1, c }

// Log returns h's log.
func Log(h *stack.Host) *LogRing { return &netOf(h).log }

// Printf appends a line.
func (l *LogRing) Printf(level uint8, format string, args ...any) {
	l.add(level, fmt.Sprintf(format, args...))
}

func (l *LogRing) add(level uint8, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var now time.Duration
	if l.clock != nil {
		now = l.clock.Now()
	}
	ln := LogLine{Seq: l.next, Time: now, Level: level, Text: text}
	l.next++
	if l.sink != nil {
		l.sink(ln)
	}
	if len(l.lines) < logCapacity {
		l.lines = append(l.lines, ln)
		return
	}
	l.lines[(ln.Seq-1)%logCapacity] = ln
}

// Lines returns the lines after sequence number since, oldest first.
func (l *LogRing) Lines(since uint64) []LogLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LogLine
	if len(l.lines) < logCapacity {
		for _, ln := range l.lines {
			if ln.Seq > since {
				out = append(out, ln)
			}
		}
		return out
	}
	first := l.next - logCapacity
	for s := max(first, since+1); s < l.next; s++ {
		out = append(out, l.lines[(s-1)%logCapacity])
	}
	return out
}
