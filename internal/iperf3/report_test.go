package iperf3

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// reportLines are the interval and summary lines of a testdata capture
// (iperf3 3.12 -d, its debug lines left out).
func reportLines(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	started := false
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		started = started || strings.HasPrefix(l, "[ ID]")
		if !started || strings.Contains(l, " local ") || strings.HasPrefix(l, "tcpi_") || strings.HasPrefix(l, "interval") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

type ir = intervalResult

// The figures of a Debian iperf3 3.12 -P 2 run (-d prints each
// interval's length and bytes and the sender's tcpi_snd_cwnd and
// tcpi_snd_mss; the results JSON the receiver's end time), given to
// vnic's reporting: it prints the lines iperf3 printed, byte for byte.
// The capture is testdata/debug-client.txt and debug-server.txt.
func TestReportAsIperf3(t *testing.T) {
	const mss = 65483
	var out bytes.Buffer
	c := newTest(Config{Parallel: 2}, 'c', Output{Stdout: &out})
	c.parallel = 2
	c.streams = []*stream{
		{t: c, id: 1, socket: 5, sender: true, streamRetrans: 44, bytesSent: 1369702400, bytesReceived: 1365770240, receiverTime: 2.000256},
		{t: c, id: 3, socket: 7, sender: true, streamRetrans: 60, bytesSent: 1326448640, bytesReceived: 1323761611, receiverTime: 2.000267},
	}
	c.streams[0].intervals = []ir{{start: 0, end: 1003080, duration: 1.003080, bytes: 630456320, retrans: 21, sndCwnd: 28 * mss}}
	c.streams[1].intervals = []ir{{start: 0, end: 1003087, duration: 1.003087, bytes: 610795520, retrans: 33, sndCwnd: 32 * mss}}
	c.printIntermediate()
	c.streams[0].intervals = append(c.streams[0].intervals, ir{start: 1003080, end: 2000101, duration: 0.997021, bytes: 739246080, retrans: 23, sndCwnd: 20 * mss})
	c.streams[1].intervals = append(c.streams[1].intervals, ir{start: 1003087, end: 2000111, duration: 0.997024, bytes: 715653120, retrans: 27, sndCwnd: 12 * mss})
	c.streams[0].endTime, c.streams[1].endTime = 2000101, 2000111
	c.printIntermediate()
	c.printResults()
	c.printf("\n%s", reportDone)
	if want := reportLines(t, "testdata/debug-client.txt"); out.String() != want {
		t.Errorf("client:\n%s", firstDiff(out.String(), want))
	}

	out.Reset()
	s := newTest(Config{Server: true}, 's', Output{Stdout: &out})
	s.parallel = 2
	s.streams = []*stream{
		{t: s, id: 1, socket: 5, bytesReceived: 1365770240},
		{t: s, id: 3, socket: 8, bytesReceived: 1323761611},
	}
	s.streams[0].intervals = []ir{{start: 0, end: 1000240, duration: 1.000240, bytes: 626524160}}
	s.streams[1].intervals = []ir{{start: 0, end: 1000310, duration: 1.000310, bytes: 606863360}}
	s.printIntermediate()
	s.streams[0].intervals = append(s.streams[0].intervals, ir{start: 1000240, end: 2000256, duration: 1.000016, bytes: 739246080})
	s.streams[1].intervals = append(s.streams[1].intervals, ir{start: 1000310, end: 2000267, duration: 0.999957, bytes: 716898251})
	s.streams[0].endTime, s.streams[1].endTime = 2000256, 2000267
	s.printIntermediate()
	s.printResults()
	if want := reportLines(t, "testdata/debug-server.txt"); out.String() != want {
		t.Errorf("server:\n%s", firstDiff(out.String(), want))
	}
}

// The other lines, with fixed figures: one stream (no [SUM]), the
// receiving client of -R (no Retr in its intervals, the sender's in its
// summary), the sending server of -R (its own side only), a short
// empty last interval left out, -f's units.
func TestReportLines(t *testing.T) {
	var out bytes.Buffer
	one := func(role byte, sender bool, f byte) *test {
		out.Reset()
		cfg := Config{Format: f}
		if role == 's' {
			cfg.Server = true
		}
		x := newTest(cfg, role, Output{Stdout: &out})
		x.parallel, x.sender = 1, sender
		x.setSenderRetr()
		x.streams = []*stream{{t: x, id: 1, socket: 5, sender: sender, bytesSent: 250000000, bytesReceived: 249000000,
			streamRetrans: 3, endTime: 2000000}}
		x.streams[0].intervals = []ir{{start: 0, end: 1000000, duration: 1, bytes: 125000000, retrans: 3, sndCwnd: 404 << 10}}
		return x
	}
	for _, tc := range []struct {
		name string
		run  func()
		want string
	}{
		{"client sender", func() {
			x := one('c', true, 0)
			x.printIntermediate()
			x.streams[0].receiverTime = 2.04
			x.printResults()
		}, "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n" +
			"[  5]   0.00-1.00   sec   119 MBytes  1.00 Gbits/sec    3    404 KBytes       \n" +
			"- - - - - - - - - - - - - - - - - - - - - - - - -\n" +
			"[ ID] Interval           Transfer     Bitrate         Retr\n" +
			"[  5]   0.00-2.00   sec   238 MBytes  1.00 Gbits/sec    3             sender\n" +
			"[  5]   0.00-2.04   sec   237 MBytes   976 Mbits/sec                  receiver\n"},
		{"client receiver (-R), the sender's retransmits from the results", func() {
			x := one('c', false, 0)
			x.printIntermediate()
			x.senderRetr = 1 // what the sending server said
			x.streams[0].senderTime = 2.01
			x.printResults()
		}, "[ ID] Interval           Transfer     Bitrate\n" +
			"[  5]   0.00-1.00   sec   119 MBytes  1.00 Gbits/sec                  \n" +
			"- - - - - - - - - - - - - - - - - - - - - - - - -\n" +
			"[ ID] Interval           Transfer     Bitrate         Retr\n" +
			"[  5]   0.00-2.01   sec   238 MBytes   995 Mbits/sec    3             sender\n" +
			"[  5]   0.00-2.00   sec   237 MBytes   996 Mbits/sec                  receiver\n"},
		{"server sender (-R): its own lines", func() {
			x := one('s', true, 'm')
			x.printIntermediate()
			x.printResults()
		}, "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n" +
			"[  5]   0.00-1.00   sec   119 MBytes  1000 Mbits/sec    3    404 KBytes       \n" +
			"- - - - - - - - - - - - - - - - - - - - - - - - -\n" +
			"[ ID] Interval           Transfer     Bitrate         Retr\n" +
			"[  5]   0.00-2.00   sec   238 MBytes  1000 Mbits/sec    3             sender\n"},
		{"a short empty interval is left out, a short full one kept", func() {
			x := one('s', false, 'k')
			x.streams[0].intervals = append(x.streams[0].intervals, ir{start: 1000000, end: 1050000, duration: 0.05})
			x.printIntermediate()
			x.streams[0].intervals = append(x.streams[0].intervals, ir{start: 1050000, end: 1060000, duration: 0.01, bytes: 1000})
			x.printIntermediate()
		}, "[  5]   1.05-1.06   sec  1000 Bytes   800 Kbits/sec                  \n"},
	} {
		tc.run()
		if out.String() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, out.String(), tc.want)
		}
	}
}
