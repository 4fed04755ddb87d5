package iperf3

import "fmt"

// iperf_locale.c: the text lines iperf3 prints, as 3.12 words and spaces
// them (TCP, without --bidir).

const (
	reportBwHeader            = "[ ID] Interval           Transfer     Bitrate\n"
	reportBwRetransHeader     = "[ ID] Interval           Transfer     Bitrate         Retr\n"
	reportBwRetransCwndHeader = "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n"
	reportBwSeparator         = "- - - - - - - - - - - - - - - - - - - - - - - - -\n"
	reportDone                = "iperf Done.\n"
	reportSender              = "sender"
	reportReceiver            = "receiver"
	serverSeparator           = "-----------------------------------------------------------\n"
)

// ReportConnecting is report_connecting (and report_reverse with -R).
func ReportConnecting(host string, port int, reverse bool) string {
	s := fmt.Sprintf("Connecting to host %s, port %d\n", host, port)
	if reverse {
		s += fmt.Sprintf("Reverse mode, remote host %s is sending\n", host)
	}
	return s
}

// ReportListening is the server's banner before each test.
func ReportListening(port, test int) string {
	return serverSeparator + fmt.Sprintf("Server listening on %d (test #%d)\n", port, test) + serverSeparator
}

// ReportAccepted is report_accepted: the control connection's peer.
func ReportAccepted(host string, port int) string {
	return fmt.Sprintf("Accepted connection from %s, port %d\n", host, port)
}

// ReportConnected is report_connected: one line per data stream.
func ReportConnected(socket int, lhost string, lport int, rhost string, rport int) string {
	return fmt.Sprintf("[%3d] local %s port %d connected to %s port %d\n", socket, lhost, lport, rhost, rport)
}

// ReportBw is report_bw_format: one stream's interval or summary line
// without retransmits; transfer and rate are FormatUnits' text, tail
// "sender", "receiver" or "" (an interval).
func ReportBw(socket int, start, end float64, transfer, rate, tail string) string {
	return fmt.Sprintf("[%3d] %6.2f-%-6.2f sec  %ss  %ss/sec                  %s\n", socket, start, end, transfer, rate, tail)
}

// ReportBwRetrans is report_bw_retrans_format: the sender's summary line
// with its retransmits.
func ReportBwRetrans(socket int, start, end float64, transfer, rate string, retr int64, tail string) string {
	return fmt.Sprintf("[%3d] %6.2f-%-6.2f sec  %ss  %ss/sec  %3d             %s\n", socket, start, end, transfer, rate, uint32(retr), tail)
}

// ReportBwRetransCwnd is report_bw_retrans_cwnd_format: the sender's
// interval line, retransmits and congestion window (FormatUnits' text).
func ReportBwRetransCwnd(socket int, start, end float64, transfer, rate string, retr int64, cwnd, tail string) string {
	return fmt.Sprintf("[%3d] %6.2f-%-6.2f sec  %ss  %ss/sec  %3d   %ss       %s\n", socket, start, end, transfer, rate, uint32(retr), cwnd, tail)
}

// ReportSumBw is report_sum_bw_format: the [SUM] line of -P.
func ReportSumBw(start, end float64, transfer, rate, tail string) string {
	return fmt.Sprintf("[SUM] %6.2f-%-6.2f sec  %ss  %ss/sec                  %s\n", start, end, transfer, rate, tail)
}

// ReportSumBwRetrans is report_sum_bw_retrans_format.
func ReportSumBwRetrans(start, end float64, transfer, rate string, retr int64, tail string) string {
	return fmt.Sprintf("[SUM] %6.2f-%-6.2f sec  %ss  %ss/sec  %3d             %s\n", start, end, transfer, rate, retr, tail)
}
