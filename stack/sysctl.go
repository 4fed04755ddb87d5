package stack

import "slices"

// Sysctl is one of a host's settings, as /proc/sys/net shows it: its
// dotted name, how to read it and, when it can be written, how to write
// it (Set nil: read-only). Values are text, as sysctl(8) reads and writes
// them.
type Sysctl struct {
	Name string
	Get  func() string
	Set  func(v string) error
}

// RegisterSysctls adds a table of settings to the host
// (register_net_sysctl). The table is a function so that entries follow
// the host's state when read (one per device, say); tables are listed in
// registration order, each in its own order.
func (h *Host) RegisterSysctls(table func() []Sysctl) {
	h.mu.Lock()
	h.sysctls = append(h.sysctls, table)
	h.mu.Unlock()
}

// Sysctls returns every setting of the host.
func (h *Host) Sysctls() []Sysctl {
	h.mu.Lock()
	tables := slices.Clone(h.sysctls)
	h.mu.Unlock()
	var out []Sysctl
	for _, t := range tables {
		out = append(out, t()...)
	}
	return out
}
