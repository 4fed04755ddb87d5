// Package test holds suites that cross packages and reach outside the
// process: captures read back by tcpdump and tshark now; the driver
// conformance suite and interop with the Linux kernel over TAP in network
// namespaces arrive with the ethtool and TAP issues.
//
// Tests that need an outside tool or privilege skip with a reason when it is
// missing, unless VNIC_REQUIRE_NETNS=1 (set by .ci/run), where a missing
// environment is a failure.
package test
