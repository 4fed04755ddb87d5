package hw

import (
	"fmt"
	"sync/atomic"
)

// MSIX is a device's MSI-X table: each vector is bound to a CPU and a
// handler that runs in that CPU's hardirq context when the device sends the
// vector's message.
type MSIX struct {
	mu      mutex
	vectors []msixVector
	lost    atomic.Uint64 // messages for vectors with no handler
	trace   atomic.Pointer[func(vec int)]
}

type msixVector struct {
	cpu     *CPU
	handler func()
	name    string
	count   atomic.Uint64
}

// NewMSIX returns a table of n vectors.
func NewMSIX(n int) *MSIX { return &MSIX{vectors: make([]msixVector, n)} }

// Len returns the number of vectors.
func (m *MSIX) Len() int { return len(m.vectors) }

// Request binds vector vec to handler h on cpu, like request_irq.
func (m *MSIX) Request(vec int, cpu *CPU, name string, h func()) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if vec < 0 || vec >= len(m.vectors) {
		return fmt.Errorf("hw: msix: vector %d out of range [0,%d)", vec, len(m.vectors))
	}
	if m.vectors[vec].handler != nil {
		return fmt.Errorf("hw: msix: vector %d busy (%s)", vec, m.vectors[vec].name)
	}
	// The vector's message count goes on across free and request, as an
	// IRQ's count in /proc/interrupts does: a ring resize that requests
	// the vectors again keeps its queues' interrupt totals.
	v := &m.vectors[vec]
	v.cpu, v.handler, v.name = cpu, h, name
	return nil
}

// Free releases vector vec, like free_irq.
func (m *MSIX) Free(vec int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if vec >= 0 && vec < len(m.vectors) {
		m.vectors[vec].cpu, m.vectors[vec].handler, m.vectors[vec].name = nil, nil, ""
	}
}

// Count returns how many messages vector vec delivered to a handler.
func (m *MSIX) Count(vec int) uint64 { return m.vectors[vec].count.Load() }

// Lost returns messages sent to vectors without a handler.
func (m *MSIX) Lost() uint64 { return m.lost.Load() }

// Bound returns the number of vectors with a handler.
func (m *MSIX) Bound() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range m.vectors {
		if m.vectors[i].handler != nil {
			n++
		}
	}
	return n
}

// SetTrace calls f with the vector of every message the device sends to
// a bound vector, as it sends it (a tracepoint for measurements: the
// latency split of irqbench); nil removes it. f must not call back into
// the device.
func (m *MSIX) SetTrace(f func(vec int)) {
	if f == nil {
		m.trace.Store(nil)
		return
	}
	m.trace.Store(&f)
}

// signal sends vector vec's message: its handler is queued as hardirq work
// on its CPU. It never runs the handler synchronously.
func (m *MSIX) signal(vec int) {
	if vec < 0 || vec >= len(m.vectors) {
		m.lost.Add(1)
		return
	}
	m.mu.Lock()
	v := &m.vectors[vec]
	cpu, h := v.cpu, v.handler
	m.mu.Unlock()
	if h == nil {
		m.lost.Add(1)
		return
	}
	v.count.Add(1)
	if f := m.trace.Load(); f != nil {
		(*f)(vec)
	}
	cpu.Raise(Hardirq, h)
}
