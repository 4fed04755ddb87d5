//go:build linux

package test

import (
	"bytes"

	"vnic/header"
)

// nfRuleset is the differential's ruleset: every table, NAT both ways,
// state, REJECT of three kinds, the mangle targets, NOTRACK, CT zones
// (UDP to 5360 in zone 1 or 2 by its TTL, to 5361 in zone 3 for its
// original direction). The routers' ports are named ra (A's side) and rb
// (B's) in both.
const nfRuleset = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i ra -p udp --dport 7 -j CT --notrack
-A PREROUTING -i ra -p udp --dport 5360 -m ttl --ttl-eq 61 -j CT --zone 1
-A PREROUTING -i ra -p udp --dport 5360 -m ttl --ttl-eq 62 -j CT --zone 2
-A PREROUTING -i ra -p udp --dport 5361 -j CT --zone-orig 3 --ctevents new,destroy
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i ra -p tcp --dport 80 -j MARK --set-mark 0x1
-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1200
-A FORWARD -p tcp
-A FORWARD -p udp
-A FORWARD -p icmp
-A FORWARD -i ra
-A POSTROUTING -o rb -p udp --dport 5353 -j TTL --ttl-set 5
-A POSTROUTING -o rb -p udp --dport 5354 -j DSCP --set-dscp 10
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i rb -p tcp --dport 8080 -j DNAT --to-destination 198.18.20.2:80
-A PREROUTING -i rb -p udp --dport 5000 -j DNAT --to-destination 198.18.20.2:53
-A POSTROUTING -o rb -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:fwd_a - [0:0]
-A INPUT -p icmp --icmp-type echo-request -j ACCEPT
-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i ra -o rb -j fwd_a
-A FORWARD -i rb -o ra -p tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -i rb -o ra -p udp --dport 53 -m conntrack --ctstate DNAT -j ACCEPT
-A fwd_a -p tcp --dport 23 -j REJECT --reject-with tcp-reset
-A fwd_a -p udp --dport 9 -j REJECT --reject-with icmp-port-unreachable
-A fwd_a -p udp --dport 10 -j REJECT --reject-with icmp-admin-prohibited
-A fwd_a -p udp --dport 5355 -m length --length 1000:65535 -j DROP
-A fwd_a -p udp -m multiport --dports 53,5353,5354,5355,7,5360,5361 -j ACCEPT
-A fwd_a -p tcp -m tcp --dport 80 --syn -j ACCEPT
-A fwd_a -p tcp --dport 81 -j DROP
-A fwd_a -p icmp --icmp-type echo-request -j ACCEPT
-A fwd_a -f -j ACCEPT
-A fwd_a -j RETURN
COMMIT
`

// TCP flags.
const (
	nfFIN = 0x01
	nfSYN = 0x02
	nfRST = 0x04
	nfPSH = 0x08
	nfACK = 0x10
)

var nfMSS1460 = []byte{2, 4, 0x05, 0xb4}

// nfScript is the differential's packets, in order. IDs are 0x1000 and up
// so that what the routers make themselves is told apart (nfDescribe).
func nfScript() []nfStep {
	id := uint16(0x1000)
	next := func() uint16 { id++; return id }
	fromA := func(name string, p nfPacket) nfStep {
		p.id = next()
		return nfStep{name: name, pkt: p.bytes()}
	}
	fromB := func(name string, p nfPacket) nfStep {
		p.id = next()
		return nfStep{name: name, fromB: true, pkt: p.bytes()}
	}
	udp := func(src, dst string, sport, dport uint16, payload string) nfPacket {
		return nfPacket{src: src, dst: dst, proto: header.ProtoUDP, l4: nfUDP(sport, dport, []byte(payload))}
	}
	tcp := func(src, dst string, sport, dport uint16, seq, ack uint32, flags uint8, opts []byte, payload string) nfPacket {
		return nfPacket{src: src, dst: dst, proto: header.ProtoTCP, df: true, l4: nfTCP(sport, dport, seq, ack, flags, opts, payload)}
	}
	echo := func(src, dst string, typ uint8, ident, seq uint16) nfPacket {
		return nfPacket{src: src, dst: dst, proto: header.ProtoICMP, l4: nfICMP(typ, 0, uint32(ident)<<16|uint32(seq), []byte("vnic-ping"))}
	}

	var s []nfStep
	s = append(s,
		fromA("udp new, masqueraded", udp(nfA, nfB, 40001, 53, "q1")),
		fromB("udp reply, de-masqueraded", udp(nfB, nfRb, 53, 40001, "r1")),
		fromA("tcp syn (mss 1460 clamped)", tcp(nfA, nfB, 40002, 80, 1000, 0, nfSYN, nfMSS1460, "")),
		fromB("tcp syn-ack without mss", tcp(nfB, nfRb, 80, 40002, 5000, 1001, nfSYN|nfACK, nil, "")),
		fromA("tcp ack", tcp(nfA, nfB, 40002, 80, 1001, 5001, nfACK, nil, "")),
		fromA("tcp data", tcp(nfA, nfB, 40002, 80, 1001, 5001, nfPSH|nfACK, nil, "hello")),
		fromB("tcp data acked", tcp(nfB, nfRb, 80, 40002, 5001, 1006, nfACK, nil, "")),
		fromB("tcp ack out of window", tcp(nfB, nfRb, 80, 40002, 900000, 1006, nfACK, nil, "")),
		fromA("tcp syn+fin (invalid)", tcp(nfA, nfB, 40003, 80, 7000, 0, nfSYN|nfFIN, nil, "")),
		fromA("tcp ack without a connection", tcp(nfA, nfB, 40004, 80, 7000, 7000, nfACK, nil, "")),
		fromA("tcp syn to 23 (reset)", tcp(nfA, nfB, 40005, 23, 8000, 0, nfSYN, nil, "")),
		fromA("udp to 9 (port unreachable)", udp(nfA, nfB, 40006, 9, "x")),
		fromA("udp to 10 (admin prohibited)", udp(nfA, nfB, 40007, 10, "x")),
		fromA("tcp syn to 81 (dropped)", tcp(nfA, nfB, 40008, 81, 9000, 0, nfSYN, nil, "")),
		fromA("echo request, masqueraded", echo(nfA, nfB, 8, 0x4242, 1)),
		fromB("echo reply", echo(nfB, nfRb, 0, 0x4242, 1)),
	)
	// B's port unreachable for the masqueraded UDP flow of the first step:
	// RELATED, its quoted header translated back.
	quoted := udp(nfRb, nfB, 40001, 53, "q1")
	quoted.id = s[0].pktID()
	quoted.ttl = 63
	qb := quoted.bytes()
	s = append(s,
		fromB("icmp error quoting the masqueraded flow", nfPacket{src: nfB, dst: nfRb, proto: header.ProtoICMP, l4: nfICMP(3, 3, 0, qb)}),
	)
	ttl1 := udp(nfA, nfB, 40009, 53, "ttl")
	ttl1.ttl = 1
	s = append(s, fromA("ttl 1 (time exceeded)", ttl1))

	// A datagram in two fragments: held, reassembled, forwarded.
	whole := udp(nfA, nfB, 40010, 53, string(bytes.Repeat([]byte("f"), 1200)))
	l4 := whole.bytes()[header.IPv4MinHeaderLen:]
	fid := next()
	s = append(s,
		nfStep{name: "fragment 1 of 2", pkt: nfPacket{src: nfA, dst: nfB, proto: header.ProtoUDP, id: fid, mf: true, l4: l4[:800], raw: true}.bytes()},
		nfStep{name: "fragment 2 of 2", pkt: nfPacket{src: nfA, dst: nfB, proto: header.ProtoUDP, id: fid, fragOff: 100, l4: l4[800:], raw: true}.bytes()},
	)
	badsum := udp(nfA, nfB, 40018, 53, "bad")
	bs := badsum.bytes()
	bs[header.IPv4MinHeaderLen+6] ^= 0x55
	badID := next()
	bs[4], bs[5] = byte(badID>>8), byte(badID)
	header.IPv4(bs).UpdateChecksum()
	s = append(s,
		fromA("udp 5355 small", udp(nfA, nfB, 40011, 5355, "small")),
		fromA("udp 5355 long (length drop)", udp(nfA, nfB, 40011, 5355, string(bytes.Repeat([]byte("l"), 1100)))),
		fromA("udp 5353 (ttl set)", udp(nfA, nfB, 40012, 5353, "ttl")),
		fromA("udp 5354 (dscp set)", udp(nfA, nfB, 40013, 5354, "dscp")),
		fromA("udp 7 (notrack: not masqueraded)", udp(nfA, nfB, 40014, 7, "echo")),
		fromB("tcp syn to 8080 (dnat to A:80)", tcp(nfB, nfRb, 40015, 8080, 11000, 0, nfSYN, nfMSS1460, "")),
		fromB("udp to 5000 (dnat to A:53)", udp(nfB, nfRb, 40016, 5000, "dnat")),
		fromA("echo request to the router", echo(nfA, nfRa, 8, 0x77, 1)),
		fromA("tcp syn to the router's 22 (reset)", tcp(nfA, nfRa, 40017, 22, 12000, 0, nfSYN, nil, "")),
		nfStep{name: "udp with a bad checksum (invalid)", pkt: bs},
	)
	// One flow in two zones: two connections, each masqueraded to the
	// same port (NAT's tuple is unique per zone); a zone of the original
	// direction, whose reply (in the default zone) finds it.
	zoned := func(ttl uint8) nfPacket {
		p := udp(nfA, nfB, 40020, 5360, "zone")
		p.ttl = ttl
		return p
	}
	s = append(s,
		fromA("udp 5360 in zone 1", zoned(61)),
		fromA("udp 5360 in zone 2: the same tuple, another connection", zoned(62)),
		fromA("udp 5360 in zone 1 again", zoned(61)),
		fromA("udp 5361, zone 3 for the original direction", udp(nfA, nfB, 40021, 5361, "orig")),
		fromB("its reply in the default zone, de-masqueraded", udp(nfB, nfRb, 5361, 40021, "reply")),
	)
	return s
}

func (s nfStep) pktID() uint16 { return header.IPv4(s.pkt).ID() }
