package iperf3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"vnic/internal/iperf3"
	"vnic/stack"
)

var addrB = netip.MustParseAddr("198.18.0.2") // host b of realPair

// syncBuf is a buffer written by a test's goroutine and read by the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is a vnic iperf3 server running on a host until stop.
type served struct {
	out, err syncBuf
	done     chan error
	cancel   context.CancelFunc
}

func serve(t *testing.T, h *stack.Host, cfg iperf3.Config) *served {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	s := &served{done: make(chan error, 1), cancel: cancel}
	cfg.Server = true
	go func() { s.done <- iperf3.Server(ctx, h, cfg, iperf3.Output{Stdout: &s.out, Stderr: &s.err}) }()
	t.Cleanup(func() { s.stop(t) })
	// The banner comes once the server listens: a client started before
	// it would be refused (a JSON server prints none; its tests wait in
	// their own way).
	if !cfg.JSON {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(s.out.String(), "Server listening on") && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return s
}

// stop ends the server and waits for it (bounded).
func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop")
		return nil
	}
}

// wait waits for a one-off server to end by itself.
func (s *served) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the one-off server did not end")
		return nil
	}
}

// client runs a vnic client against addr, retrying while the server is
// not listening yet (a bounded number of times).
func client(t *testing.T, h *stack.Host, cfg iperf3.Config) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !cfg.Host.IsValid() {
		cfg.Host = addrB
	}
	for try := 0; ; try++ {
		var out syncBuf
		err := iperf3.Client(ctx, h, cfg, iperf3.Output{Stdout: &out, Stderr: &out})
		if err == nil || try == 50 || !strings.Contains(err.Error(), "refused") {
			return out.String(), err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type doc struct {
	Start struct {
		Connected []struct {
			Socket    int    `json:"socket"`
			LocalHost string `json:"local_host"`
		} `json:"connected"`
		SockBufsize  int `json:"sock_bufsize"`
		SndbufActual int `json:"sndbuf_actual"`
		TestStart    struct {
			NumStreams int `json:"num_streams"`
			Reverse    int `json:"reverse"`
			Blksize    int `json:"blksize"`
			Duration   int `json:"duration"`
		} `json:"test_start"`
	} `json:"start"`
	Intervals []struct {
		Streams []struct {
			Bytes   float64 `json:"bytes"`
			SndCwnd float64 `json:"snd_cwnd"`
			Sender  bool    `json:"sender"`
		} `json:"streams"`
		Sum struct {
			Bytes float64 `json:"bytes"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		SumSent struct {
			Bytes float64 `json:"bytes"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes float64 `json:"bytes"`
		} `json:"sum_received"`
		SenderCongestion   string `json:"sender_tcp_congestion"`
		ReceiverCongestion string `json:"receiver_tcp_congestion"`
	} `json:"end"`
	Error string `json:"error"`
}

func parse(t *testing.T, who, s string) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("%s: %v\n%s", who, err, s)
	}
	return d
}

// shape is a -J document's structure: for each object (arrays' elements
// folded into one path), its keys in order.
func shape(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(text))
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch tok {
		case json.Delim('{'):
			var keys []string
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, k.(string))
				walk(path + "." + k.(string))
			}
			dec.Token()
			s := strings.Join(keys, " ")
			if prev, ok := out[path]; ok && prev != s {
				t.Errorf("%s: elements differ: %q and %q", path, prev, s)
			}
			out[path] = s
		case json.Delim('['):
			for dec.More() {
				walk(path + "[]")
			}
			dec.Token()
		}
	}
	walk("")
	return out
}

func sameShape(t *testing.T, who, got, golden string) {
	t.Helper()
	g, w := shape(t, got), shape(t, golden)
	var paths []string
	for p := range w {
		paths = append(paths, p)
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if g[p] != w[p] {
			t.Errorf("%s -J %s:\n got keys %q\nwant keys %q (iperf3 3.12's)", who, p, g[p], w[p])
		}
	}
}

// vnic's client and server against each other on two real-time hosts,
// with -J: the test runs (-P's streams, -R's direction), both ends
// report, the counts that pass over the control connection agree, and
// each document has the structure of Debian's iperf3 3.12 for the same
// test (testdata: the keys of every object, in order).
func TestClientServerJSON(t *testing.T) {
	a, b := realPair(t)
	for _, tc := range []struct {
		name   string
		cfg    iperf3.Config
		golden string // testdata/{client,server}-MODE.json, -P 2
	}{
		{"P2", iperf3.Config{Parallel: 2}, "plain"},
		{"R P2", iperf3.Config{Parallel: 2, Reverse: true}, "R"},
		{"P4", iperf3.Config{Parallel: 4}, ""},
		{"R", iperf3.Config{Reverse: true, BlockSize: 16 << 10}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, b, iperf3.Config{OneOff: true, JSON: true})
			cfg := tc.cfg
			cfg.Duration, cfg.JSON = time.Second, true
			out, err := client(t, a, cfg)
			if err != nil {
				t.Fatalf("client: %v\n%s", err, out)
			}
			if err := s.wait(t); err != nil {
				t.Fatalf("server: %v\n%s", err, s.err.String())
			}
			c, sv := parse(t, "client", out), parse(t, "server", s.out.String())
			n := max(cfg.Parallel, 1)
			for who, d := range map[string]doc{"client": c, "server": sv} {
				if d.Error != "" || len(d.Start.Connected) != n || d.Start.TestStart.NumStreams != n ||
					(d.Start.TestStart.Reverse == 1) != cfg.Reverse || d.Start.TestStart.Duration != 1 || len(d.Intervals) == 0 {
					t.Errorf("%s: %+v", who, d.Start)
				}
			}
			if c.Start.TestStart.Blksize != max(cfg.BlockSize, iperf3.DefaultBlockSize*b2i(cfg.BlockSize == 0)) {
				t.Errorf("blksize %d", c.Start.TestStart.Blksize)
			}
			if c.End.SumSent.Bytes <= 0 || c.End.SumReceived.Bytes <= 0 || c.End.SumReceived.Bytes > c.End.SumSent.Bytes {
				t.Errorf("client: sent %v, received %v", c.End.SumSent.Bytes, c.End.SumReceived.Bytes)
			}
			if cfg.Reverse {
				if sv.End.SumSent.Bytes != c.End.SumSent.Bytes {
					t.Errorf("-R: the server sent %v, the client has %v", sv.End.SumSent.Bytes, c.End.SumSent.Bytes)
				}
			} else if sv.End.SumReceived.Bytes != c.End.SumReceived.Bytes {
				t.Errorf("the server received %v, the client has %v", sv.End.SumReceived.Bytes, c.End.SumReceived.Bytes)
			}
			// The sender's intervals carry TCP_INFO's cwnd.
			sender := c
			if cfg.Reverse {
				sender = sv
			}
			if is := sender.Intervals[0].Streams; len(is) != n || !is[0].Sender || is[0].SndCwnd <= 0 {
				t.Errorf("sender's first interval: %+v", is)
			}
			if c.End.SenderCongestion != "cubic" || c.End.ReceiverCongestion != "cubic" {
				t.Errorf("congestion: %q, %q", c.End.SenderCongestion, c.End.ReceiverCongestion)
			}
			if tc.golden != "" {
				for who, got := range map[string]string{"client": out, "server": s.out.String()} {
					golden, err := os.ReadFile("testdata/" + who + "-" + tc.golden + ".json")
					if err != nil {
						t.Fatal(err)
					}
					sameShape(t, who, got, string(golden))
				}
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The text output: the lines iperf3 prints, in its order, on both ends
// (the figures are this run's).
func TestClientServerText(t *testing.T) {
	a, b := realPair(t)
	s := serve(t, b, iperf3.Config{OneOff: true})
	out, err := client(t, a, iperf3.Config{Duration: 2 * time.Second})
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
	const (
		num  = `[ 0-9.]{4} [KMGT]?Bytes +[ 0-9.]{4} [KMGT]?bits/sec`
		line = `\[  5\]   [0-9]\.[0-9]{2}-[0-9]\.[0-9]{2}  +sec  ` + num
	)
	wantClient := `^Connecting to host 198\.18\.0\.2, port 5201\n` +
		`\[  5\] local 198\.18\.0\.1 port \d+ connected to 198\.18\.0\.2 port 5201\n` +
		`\[ ID\] Interval           Transfer     Bitrate         Retr  Cwnd\n` +
		line + `  +\d+ +[ 0-9.]{4} [KMG]?Bytes       \n` +
		line + `  +\d+ +[ 0-9.]{4} [KMG]?Bytes       \n` +
		`- - - - - - - - - - - - - - - - - - - - - - - - -\n` +
		`\[ ID\] Interval           Transfer     Bitrate         Retr\n` +
		line + `  +\d+             sender\n` +
		line + `                  receiver\n` +
		`\niperf Done\.\n$`
	if !regexp.MustCompile(wantClient).MatchString(out) {
		t.Errorf("client's text:\n%s", out)
	}
	wantServer := `^-----------------------------------------------------------\n` +
		`Server listening on 5201 \(test #1\)\n` +
		`-----------------------------------------------------------\n` +
		`Accepted connection from 198\.18\.0\.1, port \d+\n` +
		`\[  5\] local 198\.18\.0\.2 port 5201 connected to 198\.18\.0\.1 port \d+\n` +
		`\[ ID\] Interval           Transfer     Bitrate\n` +
		`(` + line + `                  \n){2,3}` +
		`- - - - - - - - - - - - - - - - - - - - - - - - -\n` +
		`\[ ID\] Interval           Transfer     Bitrate\n` +
		line + `                  receiver\n$`
	if got := s.out.String(); !regexp.MustCompile(wantServer).MatchString(got) || s.err.String() != "" {
		t.Errorf("server's text:\n%s\nstderr %q", got, s.err.String())
	}
}
