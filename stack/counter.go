package stack

import "sync/atomic"

// Counter is a statistics counter safe to read from any goroutine. Hot
// paths add once per batch, not once per packet.
type Counter struct{ v atomic.Uint64 }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Load reads the count.
func (c *Counter) Load() uint64 { return c.v.Load() }
