// Package packetdrill runs packetdrill scripts against vnic's TCP, in
// virtual time, so that every timing check of a script is exact.
//
// A script (parsed by internal/packetdrill) runs on a host of its own: a
// virtual clock, IPv4 and TCP, and a point-to-point device standing in
// for packetdrill's tun0 — checksum and TSO offloads on, so that the
// stack hands over whole TSO packets as the tun device does — with the
// local address 198.18.0.1 and a route to the scripted peer 192.0.2.1.
// The runner then does what packetdrill's run.c does, event by event:
//
//   - an inbound packet is mapped onto the live connection (addresses,
//     sequence numbers from the ISNs, TS ecr from the TS vals seen) and
//     injected at its time;
//   - an outbound packet is sniffed as the stack sends it, mapped into
//     the script's numbers and checked field by field in packetdrill's
//     order, then its time within --tolerance_usecs (4 ms) or
//     --tolerance_percent (12.5 %) of the time since the event before;
//   - a system call runs against vnic's socket API. Every vnic call is
//     non-blocking: a call that would block is tried again after each
//     wake-up of its socket while virtual time runs, holding the script
//     up as packetdrill's own thread would, or, written start...end,
//     going on as packetdrill's system call thread does while the script
//     continues;
//   - a shell line is interpreted, not run: defaults.sh's sysctl lines
//     set the host's settings, the few other commands packetdrill's
//     scripts use are no-ops where vnic already behaves as they make
//     Linux behave, and anything else fails the script.
//
// A script's result is a Result: ok, or the first mismatch as a Failure
// (FILE:LINE: packetdrill's words, with the expected and actual packet).
// Nothing in a run depends on the wall clock except a cap on how long it
// may take; the same script and seed give the same result.
//
// docs/packetdrill-runner.md describes the runner; `vnic packetdrill`
// runs scripts from the command line.
package packetdrill
