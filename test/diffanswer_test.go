//go:build linux

package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// answer is what ip -d -j route get says about one query, reduced to what
// the two sides must agree on: the decision's type, table, device,
// gateway, preferred source and the source it echoes (RTA_SRC, "from"),
// or the refusal (the line ip prints for it: "RTNETLINK answers: …" with
// the errno's text, or "Error: …" with the extended ack's message).
type answer struct {
	Type    string `json:"type"`
	Table   string `json:"table"`
	Dev     string `json:"dev"`
	Gateway string `json:"gateway"`
	Src     string `json:"prefsrc"`
	From    string `json:"from"`
	Err     string `json:"-"`
}

func (a answer) String() string {
	if a.Err != "" {
		return "error: " + a.Err
	}
	var b strings.Builder
	b.WriteString(a.Type)
	for _, f := range []struct{ k, v string }{{"from", a.From}, {"table", a.Table}, {"dev", a.Dev}, {"via", a.Gateway}, {"src", a.Src}} {
		if f.v != "" {
			fmt.Fprintf(&b, " %s %s", f.k, f.v)
		}
	}
	return b.String()
}

var batchFailed = regexp.MustCompile(`^Command failed (.*):(\d+)$`)

// batchErrors reads a -force batch's stderr: each failed command's
// message lines, then "Command failed FILE:N". It returns the messages by
// line number (1-based), the message lines joined by " / ".
func batchErrors(stderr string) (map[int]string, error) {
	errs := map[int]string{}
	var msg []string
	for _, l := range strings.Split(stderr, "\n") {
		if l == "" {
			continue
		}
		if m := batchFailed.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[2])
			if len(msg) == 0 {
				return nil, fmt.Errorf("line %d failed without a message", n)
			}
			if _, dup := errs[n]; dup {
				return nil, fmt.Errorf("line %d failed twice", n)
			}
			errs[n] = strings.Join(msg, " / ")
			msg = msg[:0]
			continue
		}
		msg = append(msg, l)
	}
	if len(msg) > 0 {
		return nil, fmt.Errorf("stderr ends with %q, not a Command failed line", strings.Join(msg, " / "))
	}
	return errs, nil
}

// batchAnswers pairs a route get batch's outputs with its n queries:
// the failed lines take their messages, the others, in order, the JSON
// arrays of one decision each that stdout holds.
func batchAnswers(stdout, stderr string, n int) ([]answer, error) {
	errs, err := batchErrors(stderr)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	out := make([]answer, n)
	for i := range out {
		if e, ok := errs[i+1]; ok {
			out[i].Err = e
			continue
		}
		var one []answer
		if err := dec.Decode(&one); err != nil {
			return nil, fmt.Errorf("query %d: reading its answer: %v", i+1, err)
		}
		if len(one) != 1 {
			return nil, fmt.Errorf("query %d: %d decisions", i+1, len(one))
		}
		out[i] = one[0]
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, fmt.Errorf("stdout has more than %d answers: %.200s", n-len(errs), extra)
	}
	return out, nil
}

// mismatch is a query the two sides answer differently.
type mismatch struct {
	line         int
	query        string
	kernel, vnic answer
}

// shapes groups mismatches by what differs (the answers with the
// addresses of the query taken out), most frequent first, for a summary.
func shapes(ms []mismatch) []string {
	count := map[string]int{}
	example := map[string]string{}
	for _, m := range ms {
		k := "kernel " + m.kernel.shape() + " | vnic " + m.vnic.shape()
		if count[k] == 0 {
			example[k] = m.query
		}
		count[k]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%6d  %s   (e.g. %s)", count[k], k, example[k]))
	}
	return out
}

// shape is the answer with its addresses reduced to whether they are
// there.
func (a answer) shape() string {
	if a.Err != "" {
		return "error: " + a.Err
	}
	s := a.Type
	if a.From != "" {
		s += " from SRC"
	}
	s += " table " + a.Table + " dev " + a.Dev
	if a.Gateway != "" {
		s += " via GW"
	}
	if a.Src != "" {
		s += " src SRC"
	}
	return s
}

// routeDump is a route listing (ip -d route show table all) by prefix.
type routeDump []dumpedRoute

type dumpedRoute struct {
	dst  netip.Prefix
	text string // the route's lines as ip printed them
}

// parseRouteDump reads a listing: each route a line starting with its
// type and destination, a multipath route's paths on lines of their own.
func parseRouteDump(s string) routeDump {
	var out routeDump
	for _, l := range strings.Split(s, "\n") {
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ") {
			if len(out) > 0 {
				out[len(out)-1].text += "\n" + l
			}
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		var p netip.Prefix
		var err error
		switch {
		case f[1] == "default":
			p = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		case strings.Contains(f[1], "/"):
			p, err = netip.ParsePrefix(f[1])
		default:
			var a netip.Addr
			a, err = netip.ParseAddr(f[1])
			p = netip.PrefixFrom(a, 32)
		}
		if err != nil || !p.Addr().Is4() {
			continue
		}
		out = append(out, dumpedRoute{dst: p, text: l})
	}
	return out
}

// covering lists the routes whose prefix holds dst.
func (d routeDump) covering(dst string) string {
	a, err := netip.ParseAddr(dst)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, r := range d {
		if r.dst.Contains(a) {
			b.WriteString(r.text + "\n")
		}
	}
	return b.String()
}
