// Package selftests runs the Linux kernel's own networking selftests
// against vnic and judges their results.
//
// The scripts are not part of vnic (they are GPL, kept beside the project
// in ../shared/oracles/ or $VNIC_ORACLES, never copied in). They run
// unchanged under bash with alias/ first on PATH: small wrappers that send
// ip, ping and sysctl to vnic's tools on a running `vnic up --empty`, refuse
// every other command an `ip netns exec` asks for, and answer IPv6 requests
// themselves, since vnic has no IPv6. A table in the tests says for every
// case of a script whether vnic must pass it, cannot pass it yet (and why),
// or is an IPv6 case that is not counted. docs/selftests.md is the reader's
// side of the same table.
//
// The tests need root (the scripts check uid 0) and skip without it, unless
// VNIC_REQUIRE_NETNS=1, where a missing environment is a failure. No
// command of the machine's own network tools is run: the scripts see only
// the wrappers and a fixed list of text tools.
package selftests
