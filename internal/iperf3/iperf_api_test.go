package iperf3

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

// What Debian's iperf3 3.12 put on the control connection (its -d
// prints each message; printed here unformatted, the form JSON_write
// sends): the parameters of `iperf3 -c … -t 2` and of `-t 1 -R -P 2
// -w 256K -C cubic -l 64K`, the sending server's results of that -R
// test, and a receiving server's results of a -P 2 test (-1 comes as
// 2⁶⁴−1).
const (
	params312       = `{"tcp":true,"omit":0,"time":2,"num":0,"blockcount":0,"parallel":1,"len":131072,"pacing_timer":1000,"client_version":"3.12"}`
	params312R      = `{"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":2,"reverse":true,"window":262144,"len":65536,"pacing_timer":1000,"congestion":"cubic","client_version":"3.12"}`
	results312Send  = `{"cpu_util_total":97.55878607088518,"cpu_util_user":1.984660939177585,"cpu_util_system":95.5740251638972,"sender_has_retransmits":1,"congestion_used":"cubic","streams":[{"id":1,"bytes":2928279552,"retransmits":11,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":1.000314},{"id":3,"bytes":2923757568,"retransmits":14,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":1.000315}]}`
	results312Recv  = `{"cpu_util_total":40.973424026352063,"cpu_util_user":1.1084186275631809,"cpu_util_system":39.867244527817448,"sender_has_retransmits":1.8446744073709552e+19,"congestion_used":"bbr","streams":[{"id":1,"bytes":1365770240,"retransmits":1.8446744073709552e+19,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":2.000256},{"id":3,"bytes":1323761611,"retransmits":1.8446744073709552e+19,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":2.000267}]}`
	results312RecvU = `{"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":0,"sender_has_retransmits":18446744073709551615,"streams":[]}`
)

// The client's parameters are 3.12's, key for key.
func TestParametersAs312(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Duration: 2 * time.Second}, params312},
		{Config{Duration: time.Second, Reverse: true, Parallel: 2, Window: 256 << 10, Congestion: "cubic", BlockSize: 64 << 10}, params312R},
		{Config{MSS: 1400, NoDelay: true}, `{"tcp":true,"omit":0,"time":10,"num":0,"blockcount":0,"MSS":1400,"nodelay":true,"parallel":1,"len":131072,"pacing_timer":1000,"client_version":"3.12"}`},
	} {
		x := newTest(tc.cfg, 'c', Output{})
		if got := jsonPrintUnformatted(x.parameters()); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.cfg, got, tc.want)
		}
	}
}

// The server reads 3.12's parameters, and refuses what vnic does not
// run or iperf3's limits forbid, each with its code.
func TestGetParameters(t *testing.T) {
	x := newTest(Config{Server: true}, 's', Output{})
	j, err := parseObject([]byte(params312R))
	if err != nil {
		t.Fatal(err)
	}
	if e := x.getParameters(j); e != nil {
		t.Fatal(e)
	}
	if x.duration != 1 || x.parallel != 2 || !x.reverse || !x.sender || x.senderRetr != 1 || x.window != 262144 ||
		x.blksize != 65536 || x.congestion != "cubic" || x.mss != 0 || x.noDelay {
		t.Errorf("parameters read as %+v", x)
	}
	for _, tc := range []struct {
		json string
		code Code
	}{
		{params312, 0},
		{`{"tcp":true,"time":5,"parallel":3,"len":1000,"MSS":1200,"nodelay":true,"TOS":16,"some_later_key":[1,2]}`, 0},
		{`{"udp":true,"time":5}`, IEUnimp},
		{`{"sctp":true}`, IEUnimp},
		{`{"tcp":true,"bidirectional":true}`, IEUnimp},
		{`{"tcp":true,"omit":2}`, IEUnimp},
		{`{"tcp":true,"reverse":true,"bandwidth":1000000}`, IEUnimp},
		{`{"tcp":true,"parallel":0}`, IENumStreams},
		{`{"tcp":true,"parallel":129}`, IENumStreams},
		{`{"tcp":true,"parallel":"2"}`, IENumStreams},
		{`{"tcp":true,"len":0}`, IEBlockSize},
		{`{"tcp":true,"len":2097152}`, IEBlockSize},
		{`{"tcp":true,"time":-1}`, IEDuration},
		{`{"tcp":true,"time":86401}`, IEDuration},
		{`{"tcp":true,"window":600000000}`, IEBufSize},
		{`{"tcp":true,"MSS":10000}`, IEMSS},
	} {
		j, err := parseObject([]byte(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		x := newTest(Config{Server: true}, 's', Output{})
		e := x.getParameters(j)
		if tc.code == 0 && e != nil || tc.code != 0 && (e == nil || e.Code != tc.code) {
			t.Errorf("%s: %v, want code %d", tc.json, e, tc.code)
		}
	}
}

// The results: a sender's and a receiver's as 3.12 words them, and
// 3.12's read back.
func TestResults(t *testing.T) {
	x := newTest(Config{Parallel: 2}, 'c', Output{})
	x.cpuUtil = [3]float64{50, 10, 40}
	x.congUsed = "cubic"
	x.streams = []*stream{{id: 1, sender: true, bytesSent: 1000, streamRetrans: 2, endTime: 2000100},
		{id: 3, sender: true, bytesSent: 2000, endTime: 2000200}}
	want := `{"cpu_util_total":50,"cpu_util_user":10,"cpu_util_system":40,"sender_has_retransmits":1,"congestion_used":"cubic","streams":[` +
		`{"id":1,"bytes":1000,"retransmits":2,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":2.0001},` +
		`{"id":3,"bytes":2000,"retransmits":0,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":2.0002}]}`
	if got := jsonPrintUnformatted(x.results()); got != want {
		t.Errorf("sender's results:\n got %s\nwant %s", got, want)
	}
	// The other end's, from Debian's receiving server.
	j, _ := parseObject([]byte(results312Recv))
	if e := x.getResults(j); e != nil {
		t.Fatal(e)
	}
	if x.remoteCPU != [3]float64{40.973424026352063, 1.1084186275631809, 39.867244527817448} || x.remoteCong != "bbr" || x.senderRetr != 1 ||
		x.streams[0].bytesReceived != 1365770240 || x.streams[0].receiverTime != 2.000256 ||
		x.streams[1].bytesReceived != 1323761611 || x.streams[1].receiverTime != 2.000267 || x.streams[0].streamRetrans != 2 {
		t.Errorf("read: cpu %v, congestion %q, has retransmits %d, streams %+v %+v", x.remoteCPU, x.remoteCong, x.senderRetr, x.streams[0], x.streams[1])
	}

	// A receiving client: -1 for the retransmits, and it learns from
	// Debian's sending server that they were counted.
	r := newTest(Config{Reverse: true}, 'c', Output{})
	r.streams = []*stream{{id: 1, bytesReceived: 5, endTime: 1000000}, {id: 3, bytesReceived: 6, endTime: 1000000}}
	if got := jsonPrintUnformatted(r.results()); !strings.Contains(got, `"sender_has_retransmits":-1,"streams":[{"id":1,"bytes":5,"retransmits":-1,`) {
		t.Errorf("receiver's results: %s", got)
	}
	j, _ = parseObject([]byte(results312Send))
	if e := r.getResults(j); e != nil {
		t.Fatal(e)
	}
	if r.senderRetr != 1 || r.streams[0].bytesSent != 2928279552 || r.streams[0].streamRetrans != 11 || r.streams[0].senderTime != 1.000314 ||
		r.streams[1].streamRetrans != 14 || r.remoteCong != "cubic" {
		t.Errorf("-R read: has retransmits %d, streams %+v %+v", r.senderRetr, r.streams[0], r.streams[1])
	}
	j, _ = parseObject([]byte(results312RecvU))
	if e := r.getResults(j); e != nil || r.senderRetr != -1 {
		t.Errorf("2⁶⁴−1: %v, %d", e, r.senderRetr)
	}

	for _, tc := range []struct {
		json string
		code Code
	}{
		{`{"cpu_util_total":1,"cpu_util_system":1,"sender_has_retransmits":1,"streams":[]}`, IERecvResults},
		{`{"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,"sender_has_retransmits":1}`, IERecvResults},
		{`{"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,"sender_has_retransmits":1,"streams":[{"id":1,"bytes":1,"retransmits":0,"jitter":0,"errors":0}]}`, IERecvResults},
		{`{"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,"sender_has_retransmits":1,"streams":[7]}`, IERecvResults},
		{`{"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,"sender_has_retransmits":1,"streams":[{"id":2,"bytes":1,"retransmits":0,"jitter":0,"errors":0,"packets":0}]}`, IEStreamID},
	} {
		j, err := parseObject([]byte(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		if e := x.getResults(j); e == nil || e.Code != tc.code {
			t.Errorf("%s: %v, want code %d", tc.json, e, tc.code)
		}
	}
}

// JSON_write and JSON_read: a length in network order, then the text.
func TestJSONFraming(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, newObject().add("tcp", true)); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "\x00\x00\x00\x0c{\"tcp\":true}"; got != want {
		t.Fatalf("written %q, want %q", got, want)
	}
	j, err := readJSON(&b)
	if err != nil || j["tcp"] != true {
		t.Fatalf("read back %v, %v", j, err)
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"short length", []byte{0, 0}},
		{"short text", append(binary.BigEndian.AppendUint32(nil, 10), "{}"...)},
		{"too long", binary.BigEndian.AppendUint32(nil, maxJSON+1)},
		{"not JSON", append(binary.BigEndian.AppendUint32(nil, 3), "abc"...)},
		{"not an object", append(binary.BigEndian.AppendUint32(nil, 3), "[1]"...)},
		{"null", append(binary.BigEndian.AppendUint32(nil, 4), "null"...)},
	} {
		if _, err := readJSON(bytes.NewReader(tc.in)); err == nil {
			t.Errorf("%s: read without an error", tc.name)
		}
	}
}

// iperf3's error texts, with the errno where iperf3 adds one.
func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    *Error
		want string
	}{
		{&Error{Code: IEConnect, Errno: 111}, "unable to connect to server: Connection refused"},
		{&Error{Code: IERecvParams}, "unable to receive parameters from client: "},
		{&Error{Code: IEAccessDenied}, "the server is busy running a test. try again later"},
		{&Error{Code: IENumStreams}, "number of parallel streams too large (maximum = 128)"},
		{&Error{Code: IEInterval}, "invalid report interval (min = 0.1, max = 60 seconds)"},
		{&Error{Code: 999}, "unknown error 999"},
		{&Error{Code: IEBadValue, Detail: "-t \"x\": not a whole number"}, "-t \"x\": not a whole number"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.e.Code, got, tc.want)
		}
	}
	if err := fail(IEConnect, errors.New("x")); err.Errno != 0 {
		t.Errorf("no errno: %v", err)
	}
}

// Any parameters: no panic, and what is taken is within iperf3's
// limits.
func FuzzGetParameters(f *testing.F) {
	for _, s := range []string{params312, params312R, `{"udp":true}`, `{"parallel":1e300,"len":-5}`, `[]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := parseObject(b)
		if err != nil {
			return
		}
		x := newTest(Config{Server: true}, 's', Output{})
		if e := x.getParameters(j); e == nil {
			if x.parallel < 1 || x.parallel > MaxStreams || x.blksize < 1 || x.blksize > MaxBlockSize ||
				x.duration < 0 || x.duration > MaxTime || x.window < 0 || x.window > MaxTCPBuffer {
				t.Fatalf("took %s as %+v", b, x)
			}
		}
	})
}

// Any results, framed as JSON_read takes them: no panic.
func FuzzGetResults(f *testing.F) {
	for _, s := range []string{results312Send, results312Recv, results312RecvU, `{}`} {
		f.Add(append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := readJSON(bytes.NewReader(b))
		if err != nil {
			return
		}
		x := newTest(Config{Parallel: 2}, 'c', Output{})
		x.streams = []*stream{{id: 1, sender: true}, {id: 3, sender: true}}
		_ = x.getResults(j)
		if x.streams[0].bytesReceived < 0 || x.streams[1].bytesReceived < 0 {
			t.Fatalf("negative bytes from %q", b)
		}
	})
}
