// Package iperf3 is iperf3 3.12 on a vnic host: its control protocol
// (iperf_api.c, iperf_client_api.c, iperf_server_api.c, iperf_tcp.c), so
// that Debian's iperf3 measures a vnic server and vnic's client measures
// the kernel's iperf3 -s, and its output (iperf_locale.c's lines,
// units.c's numbers, the -J document as cJSON prints it).
//
// Client and Server run a test on a real-time host's TCP, through the
// stack's public socket calls (stack/inet, stack/tcp), each data stream
// on a goroutine of its own, the test's control connection and reports
// on the caller's; what iperf3 would print goes to an Output. A host on
// the virtual clock is refused (EOPNOTSUPP): iperf3 measures the wall
// clock. Failures are *Error values: iperf3's i_errno (Code) and errno,
// worded as iperf_strerror words them.
//
// TCP only, without --bidir, -O, -n, -k, -b: the server refuses what it
// does not run with iperf3's own "not implemented" error. docs/iperf3.md
// describes the protocol and the output as this package speaks them.
package iperf3
