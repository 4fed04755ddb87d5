package iperf3

import (
	"net/netip"
	"time"
)

// The statistics and the reports of iperf_api.c: iperf_stats_callback,
// iperf_print_intermediate, print_interval_results and
// iperf_print_results, for TCP without --bidir.

// stats is iperf_stats_callback: each stream's interval from the end of
// its last one to now, with the sender's TCP_INFO (retransmits since the
// last, the congestion window in bytes, the peer's window, RTT, RTT
// variance and path MTU).
func (t *test) stats() {
	now := t.now()
	for _, sp := range t.streams {
		total := sp.count.Load()
		ir := intervalResult{bytes: total - sp.bytesPrev, start: sp.startTime, end: now}
		if len(sp.intervals) > 0 {
			ir.start = sp.endTime
		}
		sp.endTime = now
		ir.duration = float32(secs(ir.end - ir.start))
		if t.senderRetr == 1 && sp.sender {
			info := sp.conn.Sock().Info()
			totalRetrans := int64(info.TotalRetrans)
			ir.retrans = totalRetrans - sp.prevTotalRetrans
			sp.streamRetrans += ir.retrans
			sp.prevTotalRetrans = totalRetrans
			ir.sndCwnd = int64(info.SndCwnd) * int64(info.SndMSS)
			sp.maxSndCwnd = max(sp.maxSndCwnd, ir.sndCwnd)
			ir.sndWnd = int64(info.SndWnd)
			sp.maxSndWnd = max(sp.maxSndWnd, ir.sndWnd)
			ir.rtt = int64(info.RTT)
			sp.maxRTT = max(sp.maxRTT, ir.rtt)
			if sp.minRTT == 0 || ir.rtt < sp.minRTT {
				sp.minRTT = ir.rtt
			}
			sp.sumRTT += ir.rtt
			sp.countRTT++
			ir.rttvar, ir.pmtu = int64(info.RTTVar), int64(info.PMTU)
		}
		sp.intervals = append(sp.intervals, ir)
		sp.bytesPrev = total
	}
}

func (sp *stream) last() *intervalResult {
	if len(sp.intervals) == 0 {
		return nil
	}
	return &sp.intervals[len(sp.intervals)-1]
}

// printIntermediate is iperf_print_intermediate: each stream's last
// interval, and their sum with -P or -J. A last interval shorter than a
// tenth of the reporting interval that moved nothing is left out (the
// end of a test often makes one on the server).
func (t *test) printIntermediate() {
	keep := false
	for _, sp := range t.streams {
		if ir := sp.last(); ir != nil && (secs(ir.end-ir.start) >= t.statsInterv*0.10 || ir.bytes > 0) {
			keep = true
		}
	}
	if !keep {
		return
	}
	var jInterval *object
	var jStreams *array
	if t.json {
		jInterval, jStreams = newObject(), newArray()
		t.jIntervals.add(jInterval)
		jInterval.add("streams", jStreams)
	}
	var bytes, retrans int64
	for _, sp := range t.streams {
		if sp.sender != t.sender {
			continue
		}
		t.printIntervalResults(sp, jStreams)
		ir := sp.last()
		bytes += ir.bytes
		if t.senderRetr == 1 {
			retrans += ir.retrans
		}
	}
	if (t.parallel > 1 || t.json) && len(t.streams) > 0 {
		sp := t.streams[0]
		ir := sp.last()
		bw := 0.0
		if ir.duration > 0 {
			bw = float64(bytes) / float64(ir.duration)
		}
		st, et := secs(ir.start-sp.startTime), secs(ir.end-sp.startTime)
		ubuf, nbuf := FormatUnits(float64(bytes), 'A'), FormatUnits(bw, t.fmt)
		if t.senderRetr == 1 && t.sender {
			if t.json {
				jInterval.add("sum", newObject().add("start", st).add("end", et).add("seconds", float64(ir.duration)).
					add("bytes", num(bytes)).add("bits_per_second", bw*8).add("retransmits", num(retrans)).
					add("omitted", false).add("sender", t.sender))
			} else {
				t.printf("%s", ReportSumBwRetrans(st, et, ubuf, nbuf, retrans, ""))
			}
		} else {
			if t.json {
				jInterval.add("sum", newObject().add("start", st).add("end", et).add("seconds", float64(ir.duration)).
					add("bytes", num(bytes)).add("bits_per_second", bw*8).add("omitted", false).add("sender", t.sender))
			} else {
				t.printf("%s", ReportSumBw(st, et, ubuf, nbuf, ""))
			}
		}
	}
}

// printIntervalResults is print_interval_results for one stream: the
// header before the first interval, the separator before the others of
// -P, then the line (the sender's with retransmits and cwnd).
func (t *test) printIntervalResults(sp *stream, jStreams *array) {
	ir := sp.last()
	if !t.json && sp == t.streams[0] {
		switch {
		case sp.startTime == ir.start && t.senderRetr == 1:
			t.printf("%s", reportBwRetransCwndHeader)
		case sp.startTime == ir.start:
			t.printf("%s", reportBwHeader)
		case t.parallel > 1:
			t.printf("%s", reportBwSeparator)
		}
	}
	bw := 0.0
	if ir.duration > 0 {
		bw = float64(ir.bytes) / float64(ir.duration)
	}
	ubuf, nbuf := FormatUnits(float64(ir.bytes), 'A'), FormatUnits(bw, t.fmt)
	st, et := secs(ir.start-sp.startTime), secs(ir.end-sp.startTime)
	if t.senderRetr == 1 && sp.sender {
		if t.json {
			jStreams.add(newObject().add("socket", num(sp.socket)).add("start", st).add("end", et).
				add("seconds", float64(ir.duration)).add("bytes", num(ir.bytes)).add("bits_per_second", bw*8).
				add("retransmits", num(ir.retrans)).add("snd_cwnd", num(ir.sndCwnd)).add("snd_wnd", num(ir.sndWnd)).
				add("rtt", num(ir.rtt)).add("rttvar", num(ir.rttvar)).add("pmtu", num(ir.pmtu)).
				add("omitted", false).add("sender", sp.sender))
		} else {
			t.printf("%s", ReportBwRetransCwnd(sp.socket, st, et, ubuf, nbuf, ir.retrans, FormatUnits(float64(ir.sndCwnd), 'A'), ""))
		}
		return
	}
	if t.json {
		jStreams.add(newObject().add("socket", num(sp.socket)).add("start", st).add("end", et).
			add("seconds", float64(ir.duration)).add("bytes", num(ir.bytes)).add("bits_per_second", bw*8).
			add("omitted", false).add("sender", sp.sender))
	} else {
		t.printf("%s", ReportBw(sp.socket, st, et, ubuf, nbuf, ""))
	}
}

// printResults is iperf_print_results: each stream's sender and
// receiver summary, their sums with -P or -J, and in -J the CPU use
// and the congestion control of both ends. The server prints only its
// own side's lines (it prints before it has the client's figures). The
// times are the first stream's, as iperf3 takes them.
func (t *test) printResults() {
	var jStreams *array
	if t.json {
		jStreams = newArray()
		t.jEnd.add("streams", jStreams)
	} else {
		t.printf("%s", reportBwSeparator)
		if t.senderRetr != 0 {
			t.printf("%s", reportBwRetransHeader)
		} else {
			t.printf("%s", reportBwHeader)
		}
	}
	var totalSent, totalReceived, totalRetrans int64
	var senderTime, receiverTime float64
	if len(t.streams) > 0 {
		sp := t.streams[0]
		endTime := secs(sp.endTime - sp.startTime)
		if sp.sender {
			sp.senderTime = endTime
			if sp.receiverTime == 0 {
				sp.receiverTime = sp.senderTime
			}
		} else {
			sp.receiverTime = endTime
			if sp.senderTime == 0 {
				sp.senderTime = sp.receiverTime
			}
		}
		senderTime, receiverTime = sp.senderTime, sp.receiverTime
		for _, sp := range t.streams {
			if sp.sender != t.sender {
				continue
			}
			t.printStreamResults(sp, jStreams, senderTime, receiverTime, endTime)
			totalSent += sp.bytesSent
			totalReceived += sp.bytesReceived
			if t.senderRetr != 0 {
				totalRetrans += sp.streamRetrans
			}
		}
	}
	if t.parallel > 1 || t.json {
		bw := rate(totalSent, senderTime)
		ubuf, nbuf := FormatUnits(float64(totalSent), 'A'), FormatUnits(bw, t.fmt)
		switch {
		case t.json && t.senderRetr != 0:
			t.jEnd.add("sum_sent", newObject().add("start", num(0)).add("end", senderTime).add("seconds", senderTime).
				add("bytes", num(totalSent)).add("bits_per_second", bw*8).add("retransmits", num(totalRetrans)).add("sender", t.sender))
		case t.json:
			t.jEnd.add("sum_sent", newObject().add("start", num(0)).add("end", senderTime).add("seconds", senderTime).
				add("bytes", num(totalSent)).add("bits_per_second", bw*8).add("sender", t.sender))
		case t.role == 's' && !t.sender:
		case t.senderRetr != 0:
			t.printf("%s", ReportSumBwRetrans(0, senderTime, ubuf, nbuf, totalRetrans, reportSender))
		default:
			t.printf("%s", ReportSumBw(0, senderTime, ubuf, nbuf, reportSender))
		}
		bw = rate(totalReceived, receiverTime)
		ubuf, nbuf = FormatUnits(float64(totalReceived), 'A'), FormatUnits(bw, t.fmt)
		switch {
		case t.json:
			t.jEnd.add("sum_received", newObject().add("start", num(0)).add("end", receiverTime).add("seconds", receiverTime).
				add("bytes", num(totalReceived)).add("bits_per_second", bw*8).add("sender", t.sender))
		case t.role == 's' && t.sender:
		default:
			t.printf("%s", ReportSumBw(0, receiverTime, ubuf, nbuf, reportReceiver))
		}
	}
	if t.json {
		t.jEnd.add("cpu_utilization_percent", newObject().add("host_total", t.cpuUtil[0]).add("host_user", t.cpuUtil[1]).
			add("host_system", t.cpuUtil[2]).add("remote_total", t.remoteCPU[0]).add("remote_user", t.remoteCPU[1]).
			add("remote_system", t.remoteCPU[2]))
		snd, rcv := t.congUsed, t.remoteCong
		if !t.sender {
			snd, rcv = rcv, snd
		}
		if snd != "" {
			t.jEnd.add("sender_tcp_congestion", snd)
		}
		if rcv != "" {
			t.jEnd.add("receiver_tcp_congestion", rcv)
		}
	}
}

func (t *test) printStreamResults(sp *stream, jStreams *array, senderTime, receiverTime, endTime float64) {
	var jStream *object
	if t.json {
		jStream = newObject()
		jStreams.add(jStream)
	}
	bw := rate(sp.bytesSent, senderTime)
	ubuf, nbuf := FormatUnits(float64(sp.bytesSent), 'A'), FormatUnits(bw, t.fmt)
	switch {
	case t.json && t.senderRetr != 0:
		mean := int64(0)
		if sp.countRTT != 0 {
			mean = sp.sumRTT / sp.countRTT
		}
		jStream.add("sender", newObject().add("socket", num(sp.socket)).add("start", num(0)).add("end", senderTime).
			add("seconds", senderTime).add("bytes", num(sp.bytesSent)).add("bits_per_second", bw*8).
			add("retransmits", num(sp.streamRetrans)).add("max_snd_cwnd", num(sp.maxSndCwnd)).
			add("max_snd_wnd", num(sp.maxSndWnd)).add("max_rtt", num(sp.maxRTT)).add("min_rtt", num(sp.minRTT)).
			add("mean_rtt", num(mean)).add("sender", t.sender))
	case t.json:
		jStream.add("sender", newObject().add("socket", num(sp.socket)).add("start", num(0)).add("end", senderTime).
			add("seconds", senderTime).add("bytes", num(sp.bytesSent)).add("bits_per_second", bw*8).add("sender", t.sender))
	case t.role == 's' && !sp.sender:
	case t.senderRetr != 0:
		t.printf("%s", ReportBwRetrans(sp.socket, 0, senderTime, ubuf, nbuf, sp.streamRetrans, reportSender))
	default:
		t.printf("%s", ReportBw(sp.socket, 0, senderTime, ubuf, nbuf, reportSender))
	}
	bw = rate(sp.bytesReceived, receiverTime)
	ubuf, nbuf = FormatUnits(float64(sp.bytesReceived), 'A'), FormatUnits(bw, t.fmt)
	switch {
	case t.json:
		jStream.add("receiver", newObject().add("socket", num(sp.socket)).add("start", num(0)).add("end", receiverTime).
			add("seconds", endTime).add("bytes", num(sp.bytesReceived)).add("bits_per_second", bw*8).add("sender", t.sender))
	case t.role == 's' && sp.sender:
	default:
		t.printf("%s", ReportBw(sp.socket, 0, receiverTime, ubuf, nbuf, reportReceiver))
	}
}

func rate(bytes int64, secs float64) float64 {
	if secs > 0 {
		return float64(bytes) / secs
	}
	return 0
}

// onConnect is iperf_on_connect: the client names the server ("Connecting
// to host …"), the server the client ("Accepted connection from …"); -J
// keeps the time, the peer, the cookie and the MSS.
func (t *test) onConnect(peer netip.AddrPort) {
	now := time.Now().UTC()
	if t.json {
		t.jStart.add("timestamp", newObject().add("time", now.Format("Mon, 02 Jan 2006 15:04:05 GMT")).add("timesecs", num(now.Unix())))
	}
	if t.role == 'c' {
		if t.json {
			t.jStart.add("connecting_to", newObject().add("host", t.cfg.Host.String()).add("port", num(t.cfg.port())))
		} else {
			t.printf("%s", ReportConnecting(t.cfg.Host.String(), t.cfg.port(), t.reverse))
		}
	} else {
		if t.json {
			t.jStart.add("accepted_connection", newObject().add("host", peer.Addr().String()).add("port", num(peer.Port())))
		} else {
			t.printf("%s", ReportAccepted(peer.Addr().String(), int(peer.Port())))
		}
	}
	if t.json {
		t.jStart.add("cookie", t.cookie)
		if t.mss != 0 {
			t.jStart.add("tcp_mss", num(t.mss))
		} else {
			t.jStart.add("tcp_mss_default", num(t.ctrlMSS))
		}
		t.jStart.add("target_bitrate", num(0))
	}
}

// onTestStart is iperf_on_test_start: -J's test_start.
func (t *test) onTestStart() {
	if t.json {
		t.jStart.add("test_start", newObject().add("protocol", "TCP").add("num_streams", num(t.parallel)).
			add("blksize", num(t.blksize)).add("omit", num(0)).add("duration", num(t.duration)).
			add("bytes", num(0)).add("blocks", num(0)).add("reverse", num(b2i(t.reverse))).
			add("tos", num(t.tos)).add("target_bitrate", num(0)))
	}
}

// onNewStream is connect_msg: the stream's ends.
func (t *test) onNewStream(sp *stream) {
	l, r := sp.local, sp.remote
	if t.json {
		t.jConnected.add(newObject().add("socket", num(sp.socket)).add("local_host", l.Addr().String()).
			add("local_port", num(l.Port())).add("remote_host", r.Addr().String()).add("remote_port", num(r.Port())))
		return
	}
	t.printf("%s", ReportConnected(sp.socket, l.Addr().String(), int(l.Port()), r.Addr().String(), int(r.Port())))
}

// jsonFinish is iperf_json_finish: the document, printed.
func (t *test) jsonFinish(errText string) {
	if !t.json {
		return
	}
	if t.title != "" && t.role == 'c' {
		t.top.add("title", t.title)
	}
	if t.extraData != "" {
		t.top.add("extra_data", t.extraData)
	}
	if errText != "" {
		t.top.add("error", errText)
	}
	t.out.out(jsonPrint(t.top) + "\n")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
