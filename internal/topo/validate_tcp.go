package topo

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"vnic/stack/tcp"
)

// Limits of tcp entries that no lower package owns.
const (
	maxTCPConns   = 64       // threads a flow's ends run as
	maxTCPMessage = 16 << 20 // a bulk write
	maxRRMessage  = 1 << 20  // a request or a response
	maxTCPBytes   = 1 << 40  // a bulk connection's bytes
	maxRRCount    = 1 << 30  // an rr connection's transactions
)

// validateTCP checks the tcp entries: a known type; client and server
// hosts that exist, run IPv4 and are two; an address of the server to
// connect to (given, or the server's first); one listener a server port;
// sizes and targets that fit the type. named says every host has a name
// of its own, so that a name not found is missing.
func (c *Config) validateTCP(bad func(key, format string, args ...any), named bool) {
	hosts := map[string]int{}
	for i, h := range c.Hosts {
		if _, ok := hosts[h.Name]; !ok {
			hosts[h.Name] = i
		}
	}
	listeners := map[string]int{} // "host:port": the entry listening there
	for i, f := range c.TCP {
		k := fmt.Sprintf("tcp[%d]", i)
		switch f.Type {
		case TCPBulk, TCPRR:
		case "":
			bad(k+".type", "empty: want bulk or rr")
		default:
			bad(k+".type", "%q: want bulk or rr", f.Type)
		}
		end := func(key, name string) (HostConfig, bool) {
			if name == "" {
				bad(k+"."+key, "empty: want a host's name")
				return HostConfig{}, false
			}
			hi, ok := hosts[name]
			if !ok {
				if named {
					bad(k+"."+key, "%q: no such host", name)
				}
				return HostConfig{}, false
			}
			if h := c.Hosts[hi]; !h.runsIPv4() {
				bad(k+"."+key, "host %s has no IPv4 (give it an address)", name)
				return HostConfig{}, false
			}
			return c.Hosts[hi], true
		}
		_, clientOK := end("client", f.Client)
		srv, serverOK := end("server", f.Server)
		if clientOK && serverOK && f.Client == f.Server {
			bad(k+".server", "%q is also the client: a flow joins two hosts", f.Server)
		}
		if serverOK {
			c.validateTCPAddress(k, f, srv, bad)
		}
		if f.Port < 1 || f.Port > 65535 {
			bad(k+".port", "%d: want 1..65535", f.Port)
		} else if f.Server != "" {
			at := fmt.Sprintf("%s:%d", f.Server, f.Port)
			if o, ok := listeners[at]; ok {
				bad(k+".port", "%d on %s is also tcp[%d]'s: a port has one listener", f.Port, f.Server, o)
			} else {
				listeners[at] = i
			}
		}
		if f.Connections < 1 || f.Connections > maxTCPConns {
			bad(k+".connections", "%d: want 1..%d", f.Connections, maxTCPConns)
		}
		validateTCPSizes(k, f, bad)
		if f.Duration < 0 || f.Duration > maxDuration {
			bad(k+".duration", "%v: want (0, 1h], or none (the topology's duration)", f.Duration)
		}
		if f.Congestion != "" && !slices.Contains(tcp.Congestions(), f.Congestion) {
			bad(k+".congestion", "%q: want %s (or none: the host's default)", f.Congestion, strings.Join(tcp.Congestions(), " or "))
		}
	}
}

// validateTCPAddress checks the address a flow's client connects to: one
// of the server's own, or, when none is given, the server's first.
func (c *Config) validateTCPAddress(k string, f TCPFlow, srv HostConfig, bad func(key, format string, args ...any)) {
	own := srv.addrs()
	if f.Address == "" {
		if len(own) == 0 {
			bad(k+".address", "empty, and server %s has no address to take: give it one", f.Server)
		}
		return
	}
	a, err := netip.ParseAddr(f.Address)
	if err != nil || !a.Is4() {
		bad(k+".address", "%q: want an IPv4 address such as 198.18.0.2", f.Address)
		return
	}
	if !slices.Contains(own, a) {
		bad(k+".address", "%s is not an address of server %s", a, f.Server)
	}
}

// validateTCPSizes checks the keys of a flow's type, and that it has none
// of the other type's.
func validateTCPSizes(k string, f TCPFlow, bad func(key, format string, args ...any)) {
	size := func(key string, v, most int) {
		if v < 1 || v > most {
			bad(k+"."+key, "%d: want 1..%d", v, most)
		}
	}
	other := func(key string, v int64, want string) {
		if v != 0 {
			bad(k+"."+key, "%d: for %s flows", v, want)
		}
	}
	switch f.Type {
	case TCPBulk:
		size("message_size", f.MessageSize, maxTCPMessage)
		if f.Bytes < 0 || f.Bytes > maxTCPBytes {
			bad(k+".bytes", "%d: want 1..%d, or none (for a duration)", f.Bytes, int64(maxTCPBytes))
		}
		if f.Bytes > 0 && f.Duration > 0 {
			bad(k, "bytes %d and duration %v: give one", f.Bytes, f.Duration)
		}
		other("count", f.Count, "rr")
		other("request_size", int64(f.RequestSize), "rr")
		other("response_size", int64(f.ResponseSize), "rr")
	case TCPRR:
		size("request_size", f.RequestSize, maxRRMessage)
		size("response_size", f.ResponseSize, maxRRMessage)
		if f.Count < 0 || f.Count > maxRRCount {
			bad(k+".count", "%d: want 1..%d, or none (for a duration)", f.Count, maxRRCount)
		}
		if f.Count > 0 && f.Duration > 0 {
			bad(k, "count %d and duration %v: give one", f.Count, f.Duration)
		}
		other("bytes", f.Bytes, "bulk")
		other("message_size", int64(f.MessageSize), "bulk")
	}
}
