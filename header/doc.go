// Package header holds the wire formats as byte-slice views and the
// Internet checksum: a view is a []byte whose methods read and write one
// header's fields in place (no copy, no allocation), and the checksum
// functions compute the full sum, the IPv4 pseudo-header and the RFC 1624
// incremental update. It is the leaf every other package parses packets
// with: the device model's classifier, the offload algorithms, the stack's
// protocols and the tests. It imports nothing of vnic's.
//
// One file a format, as Linux's uapi headers: Ethernet and MAC control
// (ethernet.go), ARP (arp.go), IPv4 and its options (ipv4.go), ICMPv4
// (icmpv4.go), IGMP versions 1 to 3 (igmp.go), UDP (udp.go), TCP (tcp.go),
// and the checksums over them (checksum.go).
//
// Views do not check their length when read: call IsValid (or check the
// length the protocol needs) before any accessor on untrusted bytes. After
// IsValid every accessor is safe on any bytes; the fuzz targets hold them
// to that. Setters do not update checksums.
//
// A field is read as binary.BigEndian on b[off:off+n:len(b)]: the three-index
// slice costs one length check against the field's last byte and no slice of
// the tail, so an accessor compiles to what a hand-written read at a constant
// offset does, stays cheap to inline, and still panics on a slice too short
// for its field rather than reach into its capacity.
package header
