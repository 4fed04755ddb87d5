package packetdrill

import (
	"strings"
	"testing"

	"vnic/header"
	pd "vnic/internal/packetdrill"
)

// Options written by encodeOptions read back, printed as the script
// writes them.
func TestOptionsRoundTrip(t *testing.T) {
	opts := []pd.TCPOption{
		{Kind: pd.OptMSS, MSS: 1460}, {Kind: pd.OptSACKPerm}, {Kind: pd.OptTimestamp, TSVal: 100, TSEcr: 7},
		{Kind: pd.OptNOP}, {Kind: pd.OptWScale, WScale: 8}, {Kind: pd.OptSACK, Blocks: []pd.SACKBlock{{Left: 1, Right: 2}, {Left: 5, Right: 9}}},
		{Kind: pd.OptMD5, Data: []byte{0xab, 0xcd}}, {Kind: pd.OptFastOpen, Data: []byte{1, 2, 3, 4}}, {Kind: pd.OptFastOpen},
		{Kind: pd.OptFastOpenExp, Data: []byte{9, 8}}, {Kind: pd.OptEOL},
	}
	raw, err := rawOptions(encodeOptions(opts))
	if err != nil || len(raw) != len(opts) {
		t.Fatalf("read back %d options, %v", len(raw), err)
	}
	for i, o := range raw {
		if got, want := optionString(o), opts[i].String(); got != want {
			t.Errorf("option %d: %q, want %q", i, got, want)
		}
		if o.len != opts[i].Len() && o.kind > 1 {
			t.Errorf("option %d: length %d, want %d", i, o.len, opts[i].Len())
		}
	}
	for _, bad := range [][]byte{{2}, {2, 1}, {2, 9, 0, 0}, {8, 10, 0}} {
		if _, err := rawOptions(bad); err == nil {
			t.Errorf("rawOptions(% x) took a malformed option", bad)
		}
	}
	if got := optionString(rawOption{kind: 99, data: []byte{1}, len: 3}); got != "opt99 len 3" {
		t.Errorf("an unknown option prints %q", got)
	}
}

func TestTCPFlags(t *testing.T) {
	tests := []struct {
		flags string
		want  uint8
		ae    bool
	}{
		{"S", header.TCPSyn, false},
		{"S.", header.TCPSyn | header.TCPAck, false},
		{"FP.", header.TCPFin | header.TCPPsh | header.TCPAck, false},
		{"R", header.TCPRst, false},
		{".UEW", header.TCPAck | header.TCPUrg | header.TCPEce | header.TCPCwr, false},
		{"SEWA", header.TCPSyn | header.TCPEce | header.TCPCwr, true},
		{".5", header.TCPAck | header.TCPEce, true},
		{".2", header.TCPAck | header.TCPCwr, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		f, ae := tcpFlags(tc.flags)
		if f != tc.want || ae != tc.ae {
			t.Errorf("tcpFlags(%q) = %#x %v, want %#x %v", tc.flags, f, ae, tc.want, tc.ae)
		}
	}
}

// A live segment parses and prints in packetdrill's notation, flags in
// tcpdump's order.
func TestSegmentString(t *testing.T) {
	opts := encodeOptions([]pd.TCPOption{{Kind: pd.OptMSS, MSS: 1460}, {Kind: pd.OptNOP}, {Kind: pd.OptWScale, WScale: 7}})
	ip := make([]byte, 20+20+len(opts)+3)
	h := header.IPv4(ip)
	h.SetHeaderLen(20)
	h.SetTotalLen(uint16(len(ip)))
	h.SetTTL(64)
	h.SetProtocol(6)
	h.SetSrc([4]byte{198, 18, 0, 1})
	h.SetDst([4]byte{192, 0, 2, 1})
	h.UpdateChecksum()
	th := header.TCP(ip[20:])
	th.SetSrcPort(8080)
	th.SetDstPort(40000)
	th.SetSeq(7)
	th.SetAck(9)
	th.SetHeaderLen(20 + len(opts))
	th.SetFlags(header.TCPPsh | header.TCPAck | header.TCPFin)
	th.SetWindow(502)
	copy(th[20:], opts)
	s, err := parseSegment(ip)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "FP. 7:10(3) ack 9 win 502 <mss 1460,nop,wscale 7>"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := describeIP(ip), "198.18.0.1:8080 > 192.0.2.1:40000 FP. 7:10(3) ack 9 win 502 <mss 1460,nop,wscale 7>"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !s.ipsumOK || s.totLen != len(ip) || s.doff != 28 {
		t.Errorf("fields %+v", s)
	}
	h.SetProtocol(17)
	if _, err := parseSegment(ip); err == nil || !strings.Contains(err.Error(), "not TCP") {
		t.Errorf("a UDP packet: %v", err)
	}
	if _, err := parseSegment(ip[:10]); err == nil {
		t.Error("a truncated packet parsed")
	}
}
