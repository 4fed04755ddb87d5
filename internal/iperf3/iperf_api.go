package iperf3

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"vnic/stack/inet"
)

// Output is where a test prints: iperf3's standard output and standard
// error. Each Write is one printf of iperf3's (a line, a few, or -J's
// whole document); every Write comes from the test's own goroutine.
type Output struct {
	Stdout, Stderr io.Writer
}

func (o Output) out(s string) {
	if o.Stdout != nil {
		io.WriteString(o.Stdout, s)
	}
}

func (o Output) err(s string) {
	if o.Stderr != nil {
		io.WriteString(o.Stderr, s)
	}
}

// test is struct iperf_test: one test as either end runs it.
type test struct {
	cfg    Config
	role   byte // 'c' or 's'
	sender bool // this end sends (the client without -R, the server with)
	out    Output
	origin time.Time // iperf_time's zero

	// The test's settings: the command line's on the client, the
	// parameters' on the server.
	duration    int // seconds
	parallel    int
	reverse     bool
	blksize     int
	window      int
	mss         int
	noDelay     bool
	tos         int
	congestion  string
	serverOut   bool   // get_server_output
	title       string // -T (kept, printed by the client that set it)
	extraData   string
	fmt         byte
	statsInterv float64 // seconds (0: none)

	cookie      string // 36 characters
	ctrlMSS     int    // TCP_MAXSEG of the control connection (client)
	streams     []*stream
	startTime   int64 // µs: TEST_START, every stream's start_time
	senderRetr  int   // sender_has_retransmits
	congUsed    string
	remoteCong  string
	cpuUtil     [3]float64
	remoteCPU   [3]float64
	cpu         cpuMeter
	streamErrs  chan error
	serverText  strings.Builder // the server's text output (get_server_output)
	json        bool
	top, jStart *object
	jEnd        *object
	jConnected  *array
	jIntervals  *array
}

// stream is struct iperf_stream with its iperf_stream_result.
type stream struct {
	t      *test
	id     int // 1, 3, 4, 5, … as iperf_add_stream numbers them
	socket int // what [%3d] prints: 5, 7, 9, … (iperf3 prints its fd)
	sender bool
	conn   *inet.TCPConn
	local  netip.AddrPort
	remote netip.AddrPort

	closed bool

	count atomic.Int64 // bytes sent or received by the data goroutine
	quit  chan struct{}
	ended chan struct{}

	bytesSent, bytesReceived int64
	bytesPrev                int64 // bytes_for_previous_interval
	startTime, endTime       int64 // µs
	intervals                []intervalResult
	streamRetrans            int64
	prevTotalRetrans         int64
	maxSndCwnd, maxSndWnd    int64
	maxRTT, minRTT           int64
	sumRTT, countRTT         int64
	senderTime, receiverTime float64
}

// intervalResult is struct iperf_interval_results for TCP.
type intervalResult struct {
	start, end int64   // µs
	duration   float32 // interval_duration (a float in iperf3)
	bytes      int64
	retrans    int64
	sndCwnd    int64
	sndWnd     int64
	rtt        int64
	rttvar     int64
	pmtu       int64
}

func newTest(cfg Config, role byte, out Output) *test {
	t := &test{cfg: cfg, role: role, out: out, origin: time.Now(), json: cfg.JSON, fmt: cfg.format(),
		statsInterv: cfg.interval().Seconds()}
	if role == 'c' {
		t.duration = int(cfg.duration() / time.Second)
		t.parallel, t.reverse, t.blksize = cfg.parallel(), cfg.Reverse, cfg.blockSize()
		t.window, t.mss, t.noDelay, t.congestion = cfg.Window, cfg.MSS, cfg.NoDelay, cfg.Congestion
		t.sender = !t.reverse
		t.setSenderRetr()
	}
	if t.json {
		t.top, t.jStart, t.jEnd = newObject(), newObject(), newObject()
		t.jConnected, t.jIntervals = newArray(), newArray()
		t.top.add("start", t.jStart)
		t.jStart.add("connected", t.jConnected)
		t.top.add("intervals", t.jIntervals)
		t.top.add("end", t.jEnd)
		t.jStart.add("version", "iperf "+Version+" (vnic)")
	}
	return t
}

// setSenderRetr is check_sender_has_retransmits: TCP_INFO always has
// the retransmissions on vnic.
func (t *test) setSenderRetr() {
	t.senderRetr = 0
	if t.sender {
		t.senderRetr = 1
	}
}

// now is iperf_time_now: microseconds on the test's clock.
func (t *test) now() int64 { return time.Since(t.origin).Microseconds() }

// secs is iperf_time_in_secs of a difference of two iperf times.
func secs(us int64) float64 { return float64(us/1e6) + float64(us%1e6)/1e6 }

// printf prints to standard output, and keeps the text for the client
// when it asked for the server's output.
func (t *test) printf(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	if t.role == 's' && t.serverOut && !t.json {
		t.serverText.WriteString(s)
	}
	t.out.out(s)
}

// makeCookie is make_cookie: 36 characters of [a-z2-7], random.
func makeCookie() string {
	const chars = "abcdefghijklmnopqrstuvwxyz234567"
	var b [cookieSize - 1]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = chars[b[i]%32]
	}
	return string(b[:])
}

// cString is the C string in b: up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// maxJSON bounds what JSON_read takes (iperf3 allocates what the length
// says; vnic refuses more than this).
const maxJSON = 8 << 20

// writeJSON is JSON_write: the length in four bytes, network order, then
// the unformatted JSON.
func writeJSON(w io.Writer, j *object) error {
	s := jsonPrintUnformatted(j)
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(s)), uint32(len(s)))
	_, err := w.Write(append(b, s...))
	return err
}

// readJSON is JSON_read: a length, that many bytes, parsed.
func readJSON(r io.Reader) (map[string]any, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxJSON {
		return nil, fmt.Errorf("iperf3: JSON of %d bytes", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return parseObject(b)
}

// sendParameters is send_parameters: the client's settings for the
// server, with the keys 3.12 sends (those it sends only when set are
// left out when not).
func (t *test) parameters() *object {
	j := newObject().add("tcp", true).add("omit", num(0)).add("time", num(t.duration)).
		add("num", num(0)).add("blockcount", num(0))
	if t.mss != 0 {
		j.add("MSS", num(t.mss))
	}
	if t.noDelay {
		j.add("nodelay", true)
	}
	j.add("parallel", num(t.parallel))
	if t.reverse {
		j.add("reverse", true)
	}
	if t.window != 0 {
		j.add("window", num(t.window))
	}
	j.add("len", num(t.blksize)).add("pacing_timer", num(1000))
	if t.congestion != "" {
		j.add("congestion", t.congestion)
	}
	return j.add("client_version", Version)
}

// getParameters is get_parameters: the server takes the client's
// settings. What vnic's iperf3 does not run (UDP, SCTP, --bidir, -O, a
// paced reverse test) is refused with IEUnimp, values beyond iperf3's
// limits with their code; keys it does not know are ignored.
func (t *test) getParameters(j map[string]any) *Error {
	has := func(k string) bool { _, ok := j[k]; return ok }
	if has("udp") || has("sctp") || has("bidirectional") || valueInt(j["omit"]) != 0 {
		return &Error{Code: IEUnimp}
	}
	t.duration = valueInt(j["time"])
	t.mss = valueInt(j["MSS"])
	t.noDelay = has("nodelay")
	t.parallel = 1
	if has("parallel") {
		t.parallel = valueInt(j["parallel"])
	}
	t.reverse = has("reverse")
	t.window = valueInt(j["window"])
	t.blksize = DefaultBlockSize
	if has("len") {
		t.blksize = valueInt(j["len"])
	}
	t.tos = valueInt(j["TOS"])
	t.congestion = valueString(j["congestion"])
	t.serverOut = has("get_server_output")
	t.title = valueString(j["title"])
	t.extraData = valueString(j["extra_data"])
	switch {
	case t.reverse && valueInt(j["bandwidth"]) != 0:
		return &Error{Code: IEUnimp}
	case t.duration < 0 || t.duration > MaxTime:
		return &Error{Code: IEDuration}
	case t.parallel < 1 || t.parallel > MaxStreams:
		return &Error{Code: IENumStreams}
	case t.blksize < 1 || t.blksize > MaxBlockSize:
		return &Error{Code: IEBlockSize}
	case t.window < 0 || t.window > MaxTCPBuffer:
		return &Error{Code: IEBufSize}
	case t.mss < 0 || t.mss > MaxMSS:
		return &Error{Code: IEMSS}
	}
	t.sender = t.reverse
	t.setSenderRetr()
	return nil
}

// results is send_results: this end's figures for the other.
func (t *test) results() *object {
	j := newObject().add("cpu_util_total", t.cpuUtil[0]).add("cpu_util_user", t.cpuUtil[1]).
		add("cpu_util_system", t.cpuUtil[2])
	shr := t.senderRetr
	if !t.sender {
		shr = -1
	}
	j.add("sender_has_retransmits", num(shr))
	if t.congUsed != "" {
		j.add("congestion_used", t.congUsed)
	}
	if t.role == 's' && t.serverOut {
		if t.json {
			j.add("server_output_json", t.top)
		} else {
			j.add("server_output_text", t.serverText.String())
		}
	}
	streams := newArray()
	j.add("streams", streams)
	for _, sp := range t.streams {
		bytes, retr := sp.bytesReceived, int64(-1)
		if sp.sender {
			bytes = sp.bytesSent
			if t.senderRetr != 0 {
				retr = sp.streamRetrans
			}
		}
		streams.add(newObject().add("id", num(sp.id)).add("bytes", num(bytes)).add("retransmits", num(retr)).
			add("jitter", num(0)).add("errors", num(0)).add("packets", num(0)).
			add("start_time", num(0)).add("end_time", secs(sp.endTime-sp.startTime)))
	}
	return j
}

// getResults is get_results: the other end's figures. A member missing
// is IERecvResults, a stream this end does not have IEStreamID.
func (t *test) getResults(j map[string]any) *Error {
	for _, k := range []string{"cpu_util_total", "cpu_util_user", "cpu_util_system", "sender_has_retransmits"} {
		if _, ok := j[k].(float64); !ok {
			return &Error{Code: IERecvResults}
		}
	}
	t.remoteCPU = [3]float64{valueDouble(j["cpu_util_total"]), valueDouble(j["cpu_util_user"]), valueDouble(j["cpu_util_system"])}
	if !t.sender {
		// The receiver learns from the sender whether it counted its
		// retransmissions (-1 sent as 2⁶⁴−1 by some senders).
		t.senderRetr = int(signed(valueDouble(j["sender_has_retransmits"])))
	}
	streams, ok := j["streams"].([]any)
	if !ok {
		return &Error{Code: IERecvResults}
	}
	for _, e := range streams {
		js, ok := e.(map[string]any)
		if !ok {
			return &Error{Code: IERecvResults}
		}
		for _, k := range []string{"id", "bytes", "retransmits", "jitter", "errors", "packets"} {
			if _, ok := js[k].(float64); !ok {
				return &Error{Code: IERecvResults}
			}
		}
		var sp *stream
		for _, s := range t.streams {
			if s.id == valueInt(js["id"]) {
				sp = s
			}
		}
		if sp == nil {
			return &Error{Code: IEStreamID}
		}
		bytes := int64(max(valueDouble(js["bytes"]), 0))
		st, sok := js["start_time"].(float64)
		et, eok := js["end_time"].(float64)
		span := 0.0
		if sok && eok {
			span = et - st
		}
		if sp.sender {
			sp.bytesReceived, sp.receiverTime = bytes, span
		} else {
			sp.bytesSent = bytes
			sp.streamRetrans, sp.senderTime = signed(valueDouble(js["retransmits"])), span
		}
	}
	if c, ok := j["congestion_used"].(string); ok {
		t.remoteCong = c
	}
	return nil
}

// signed reads a count the C side may have sent as an unsigned 64-bit
// −1 (or another value past int64).
func signed(d float64) int64 {
	if d >= 0x1p63 || d < -0x1p63 {
		return -1
	}
	return int64(d)
}
