package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchUDPJSON runs bench udp briefly: its JSON is the result's
// struct in lower_snake keys, every datagram sent was received or lost,
// and something arrived.
func TestBenchUDPJSON(t *testing.T) {
	out, err := run(t, "bench", "udp", "--json", "--datagrams", "2000", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	snakeKeys(t, "bench udp", []byte(out))
	var r struct {
		Size         int     `json:"size"`
		Sent         uint64  `json:"sent"`
		Received     uint64  `json:"received"`
		Lost         uint64  `json:"lost"`
		LostSocket   uint64  `json:"lost_socket"`
		ReceivedPerS float64 `json:"received_per_s"`
		CPUSeconds   float64 `json:"cpu_seconds"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Size != 64 || r.Sent != 2000 || r.Received == 0 || r.Received > r.Sent || r.Lost != r.Sent-r.Received ||
		r.LostSocket > r.Lost || r.ReceivedPerS <= 0 || r.CPUSeconds <= 0 {
		t.Fatalf("%+v", r)
	}
}

func TestBenchUDPTable(t *testing.T) {
	out, err := run(t, "bench", "udp", "--size", "200", "--datagrams", "1000", "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "received/s") || strings.Fields(lines[1])[0] != "200" || strings.Fields(lines[1])[1] != "1000" {
		t.Fatalf("table:\n%s", out)
	}
}

func TestBenchUDPBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--size", "-1"}, "--size -1: want 0 to 65507"},
		{[]string{"--size", "65508"}, "--size 65508: want 0 to 65507"},
		{[]string{"--datagrams", "999"}, "--datagrams 999: want at least 1000"},
		{[]string{"--datagrams", "many"}, `invalid argument "many"`},
		{[]string{"extra"}, "unknown command"},
	} {
		_, err := run(t, append([]string{"bench", "udp", "--log-level", "error"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
