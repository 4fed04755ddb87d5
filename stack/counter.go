package stack

import "sync/atomic"

// counter is a statistics counter safe to read from any goroutine. Hot
// paths add once per batch, not once per packet.
type counter struct{ v atomic.Uint64 }

func (c *counter) add(n uint64) { c.v.Add(n) }
func (c *counter) load() uint64 { return c.v.Load() }
