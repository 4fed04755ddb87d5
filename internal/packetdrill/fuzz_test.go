package packetdrill

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeeds cover the language's constructs, one or a few a seed.
var fuzzSeeds = []string{
	"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
	"--tolerance_usecs=10000\n--dry_run\n--define=A=`b`\n`./defaults.sh`\n0 close(3) = 0\n`cleanup`\n",
	"--ip_version=ipv6\n--remote_ip=2001:db8::2\n0 < icmp packet_too_big mtu 1280\n",
	"+0...0.100 read(4, ..., 2000) = 2000\n0...0 connect(4, ..., ...) = 0\n",
	"+.1...0.200 write(4, \"abc\"..., 3) = 3 (note words)\n",
	"0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n",
	"0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n",
	"0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"192.0.2.1\")}, 16) = 0\n",
	"0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1\n",
	"0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 10}], msg_flags=0, msg_control=[{cmsg_level=SOL_SOCKET, cmsg_type=SCM_TIMESTAMPING, cmsg_data={scm_sec=0, scm_nsec=0}}]}, 0) = 10\n",
	"0 setsockopt(3, X, Y, {(label 1, tc 2, [S], ttl 3)}, {flags [checksum present, sequence# present], sum 0 off 0 key=0 seq 0}, inet6_addr(\"::1\"), 0x1f) = 0\n",
	"0 < S 0:0(0) win 32792 <mss 1460,sackOK,nop,nop,nop,wscale 7>\n+0 > S. 0:0(0) ack 1 <...>\n",
	"0 > S 0:0(0) <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 8>\n* > . 1:1(0) ack 1\n",
	"+.35~+2.35 > S. 0:0(0) ack 1 <...>\n1~2 > R 1:1(0) win 0\n",
	"0 < [ect0] P. 1:1001(1000) ack 1 win 257 urg 3\n+0 > (tos 0x10) . 1:1(0) ack 1001\n",
	"0 > [ect01, flowlabel 0x12345] SEW 0:0(0) <sack 1:2 3:4,md5 00112233,FO abcd,FOEXP,eol,eol,eol,eol>\n",
	"0 < [ttl 9] 1234>80 - 0:0(0) win 0 <wscale *,nop>\n",
	"0 < udp (1472)\n+0 > udp 53>1024 (0)\n",
	"0 < icmp unreachable frag_needed mtu 1234 [1:1001(1000)]\n+0 < icmp echo_reply id 5 [raw (64)]\n+0 < icmp type_3 code_3 [udp (8)]\n",
	"0 < ipv4 2.2.2.2 > 1.1.1.1: gre: mpls (label 0, tc 0, ttl 0) (label 1048575, tc 7, [S], ttl 255): . 1:1001(1000) ack 1 win 123\n",
	"0 > ipv6 1::1111 > 2::2222 : gre flags 0xb000, sum 511, off 1023, key 0x80001234, seq 512: . 1:1001(1000) ack 1\n",
	"0 %{ print(1) }%\n+0 `echo hi`\n/* block */ +0 a() = 0 // line\n",
	"0 > psp spi 1: . 1:1(0)\n",
	"0 > S 0:0(0) <mp_capable 1>\n",
	"2~1 > . 1:1(0)\n",
	"0 > . 1:5(3)\n",
	"0 a(\"unterminated",
}

// FuzzParse: Parse never panics, fails only with an *Error that names
// the file and a line, and whatever parses prints back to itself.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	if paths, err := filepath.Glob(filepath.Join(oracleDir, "*.pkt")); err == nil {
		for _, p := range paths {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(string(src))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Parse("f.pkt", []byte(src))
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Pos.Line < 1 || pe.Pos.Col < 1 || !strings.HasPrefix(err.Error(), "f.pkt:") {
				t.Fatalf("error %#v", err)
			}
			return
		}
		checkRoundTrip(t, "f.pkt", []byte(src))
	})
}
