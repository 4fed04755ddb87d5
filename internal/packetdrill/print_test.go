package packetdrill

import (
	"strings"
	"testing"
)

// Format's layout, byte for byte.
func TestFormat(t *testing.T) {
	src := `// comment
--tolerance_usecs=10000
--dry_run
--name="q"
` + "`./defaults.sh`" + `
    0   socket(..., SOCK_STREAM, IPPROTO_TCP)   = 3   // trailing comment
   +0.000 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
 +.1...0.200 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
   0.5...1 read(3, ..., 10) = 10 (short read)
   +0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>
   +0 < [ect0] S. 0:0(0) ack 1 win 5792 urg 0 <mss 1460, nop, wscale *>
   *  > (tos 0x10) R 1:1(0)
 +.35~+2.35 > S. 0:0(0) ack 1 <...>
  1~2 > - 1:1(0) <sack 1:2 3:4,FO 0a0b,nop,nop>
   +0 < udp 1234>80 (10)
   +0 < ipv6 1::1 > 2::2: gre flags [key present], sum 0, off 0, key 5, seq 0: mpls (label 1, tc 2, [S], ttl 3): . 1:1(0) win 1
   +0 < icmp unreachable frag_needed mtu 1234 [1:1001(1000)]
   +0 ` + "`echo hi`" + `
   +0 %{ print(tcpi_rtt) }%
   +0 setsockopt(3, SOL_X, X, {(label 1, tc 0, ttl 0)}, {flags 0x2000, sum 0, off 0, key 1, seq 2}, [0x1f], "a\"b"...) = 0
` + "`cleanup`"
	want := `--tolerance_usecs=10000
--dry_run
--name="q"
` + "`./defaults.sh`" + `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0.1...0.2 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
0.5...1 read(3, ..., 10) = 10 (short read)
+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>
+0 < [ect0] S. 0:0(0) ack 1 win 5792 urg 0 <mss 1460,nop,wscale *>
* > [tos 0x10] R 1:1(0)
+0.35~+2.35 > S. 0:0(0) ack 1 <...>
1~2 > - 1:1(0) <sack 1:2 3:4,FO 0a0b,nop,nop>
+0 < udp 1234>80 (10)
+0 < ipv6 1::1 > 2::2 : gre flags [key present], sum 0, off 0, key 5, seq 0: mpls (label 1, tc 2, [S], ttl 3): . 1:1(0) win 1
+0 < icmp unreachable frag_needed mtu 1234 [1:1001(1000)]
+0 ` + "`echo hi`" + `
+0 %{ print(tcpi_rtt) }%
+0 setsockopt(3, SOL_X, X, {(label 1, tc 0, ttl 0)}, {flags 0x2000, sum 0, off 0, key 1, seq 2}, [0x1f], "a\"b"...) = 0
` + "`cleanup`\n"
	s := mustParse(t, src)
	if got := Format(s); got != want {
		t.Errorf("Format:\n%s\nwant\n%s", got, want)
	}
	if got := s.String(); got != want {
		t.Errorf("String differs from Format")
	}
	if got := s.Events[1].String(); got != "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0" {
		t.Errorf("Event.String %q", got)
	}
}

func TestSeconds(t *testing.T) {
	for us, want := range map[int64]string{0: "0", 1: "0.000001", 100000: "0.1", 1000000: "1", 2350000: "2.35", 30000001: "30.000001"} {
		if got := seconds(us); got != want {
			t.Errorf("seconds(%d) = %q, want %q", us, got, want)
		}
	}
}

// The largest fast open cookies fit, and print back.
func TestFastOpenCookieLimits(t *testing.T) {
	for _, src := range []string{
		"0 > S 0:0(0) <FO " + strings.Repeat("ab", 38) + ">",
		"0 > S 0:0(0) <FOEXP " + strings.Repeat("CD", 36) + ">",
		"0 > S 0:0(0) <md5 " + strings.Repeat("ef", 16) + ",nop,nop>",
	} {
		o := event1(t, src).Action.(*Packet).TCP.Options[0]
		if o.Len() != 40 && o.Kind != OptMD5 {
			t.Errorf("%q: length %d", src, o.Len())
		}
	}
}
