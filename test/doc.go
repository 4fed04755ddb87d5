// Package test holds suites that cross packages and reach outside the
// process: captures read back by tcpdump and tshark; the kernel ethtool
// backend compared with the real ethtool, and the conformance suite run on
// a veth pair, in network namespaces the tests create. (The suite itself is
// test/conformance.)
//
// Tests that need an outside tool or privilege skip with a reason when it is
// missing, unless VNIC_REQUIRE_NETNS=1 (set by .ci/run), where a missing
// environment is a failure.
package test
