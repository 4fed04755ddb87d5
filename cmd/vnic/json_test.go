package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"testing"
	"time"
)

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// snakeKeys reports every object key of a JSON document that is not
// lower_snake (the real tools' style: ip -j, ethtool --json, ping -j).
func snakeKeys(t *testing.T, what string, doc []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snakeKey.MatchString(k) {
					t.Errorf("%s: key %s.%s is not lower_snake", what, path, k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
}

// TestJSONKeysAreSnake: the --json objects of demo (and up: the same
// report), bench offload and ping use lower_snake keys throughout.
// (netstat --json is nstat's, whose keys are the kernel's counter names.)
func TestJSONKeysAreSnake(t *testing.T) {
	out, err := run(t, "demo", "--json", "--duration", "2ms", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	snakeKeys(t, "demo", []byte(out))
	out, err = run(t, "bench", "offload", "--json", "--sends", "20", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	snakeKeys(t, "bench offload", []byte(out))
	var b bytes.Buffer
	p := newPingSession(pingConfig{target: "198.18.0.1", dst: netip.MustParseAddr("198.18.0.1"), size: 56, count: 2, asJSON: true}, &b, &b)
	for _, e := range []pingEvent{evStart("198.18.0.1"), evSent(1, 0), evReply(1, "198.18.0.1", 27, nil), evReply(1, "198.18.0.1", 27, nil),
		evSent(2, time.Second), evUnreach(2, "198.18.0.1"), evSummary(2, time.Second)} {
		p.handle(e)
	}
	p.finish()
	snakeKeys(t, "ping", b.Bytes())
}
