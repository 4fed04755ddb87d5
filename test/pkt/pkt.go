// Package pkt builds and parses Ethernet/IPv4/TCP and UDP frames for tests:
// one packet builder shared by every test until the stack's own TCP and UDP
// arrive. Frames come out with valid checksums unless a test breaks them.
package pkt

import (
	"encoding/binary"
	"fmt"

	"vnic/header"
)

// MAC addresses tests use.
var (
	MACA = [6]byte{0x02, 0, 0, 0, 0, 0x0a}
	MACB = [6]byte{0x02, 0, 0, 0, 0, 0x0b}
)

// IP addresses tests use (198.18.0.0/15).
var (
	IPA = [4]byte{198, 18, 0, 1}
	IPB = [4]byte{198, 19, 0, 1}
)

// TCPSpec describes a TCP/IPv4 frame.
type TCPSpec struct {
	DstMAC, SrcMAC [6]byte
	Src, Dst       [4]byte
	SPort, DPort   uint16
	Seq, Ack       uint32
	Flags          uint8
	Window         uint16
	Options        []byte // TCP options, padded to 4 bytes
	Payload        []byte
	ID             uint16
	TTL            uint8 // 0 means 64
	TOS            uint8
	DF             bool
	IPOptions      []byte // padded to 4 bytes
}

// UDPSpec describes a UDP/IPv4 frame.
type UDPSpec struct {
	DstMAC, SrcMAC [6]byte
	Src, Dst       [4]byte
	SPort, DPort   uint16
	Payload        []byte
	ID             uint16
	TTL            uint8
	NoChecksum     bool // send checksum 0
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0) // EOL / padding
	}
	return b
}

func ipHeader(dst, src [6]byte, sip, dip [4]byte, proto uint8, ttl, tos uint8, id uint16, df bool, opts []byte, l4len int) []byte {
	opts = pad4(append([]byte(nil), opts...))
	ihl := header.IPv4MinHeaderLen + len(opts)
	f := make([]byte, header.EthernetHeaderLen+ihl, header.EthernetHeaderLen+ihl+l4len)
	eth := header.Ethernet(f)
	eth.SetDst(dst)
	eth.SetSrc(src)
	eth.SetType(header.EtherTypeIPv4)
	ip := header.IPv4(eth.Payload())
	ip.SetHeaderLen(ihl)
	ip.SetTOS(tos)
	ip.SetTotalLen(uint16(ihl + l4len))
	ip.SetID(id)
	if df {
		ip.SetFlagsFrag(header.IPv4DF)
	}
	if ttl == 0 {
		ttl = 64
	}
	ip.SetTTL(ttl)
	ip.SetProtocol(proto)
	ip.SetSrc(sip)
	ip.SetDst(dip)
	copy(ip[header.IPv4MinHeaderLen:], opts)
	ip.UpdateChecksum()
	return f
}

// TCP builds the frame.
func TCP(s TCPSpec) []byte {
	opts := pad4(append([]byte(nil), s.Options...))
	thl := header.TCPMinHeaderLen + len(opts)
	f := ipHeader(s.DstMAC, s.SrcMAC, s.Src, s.Dst, header.ProtoTCP, s.TTL, s.TOS, s.ID, s.DF, s.IPOptions, thl+len(s.Payload))
	ipEnd := len(f)
	f = f[:ipEnd+thl]
	th := header.TCP(f[ipEnd:])
	th.SetSrcPort(s.SPort)
	th.SetDstPort(s.DPort)
	th.SetSeq(s.Seq)
	th.SetAck(s.Ack)
	th.SetHeaderLen(thl)
	th.SetFlags(s.Flags)
	w := s.Window
	if w == 0 {
		w = 65535
	}
	th.SetWindow(w)
	copy(th[header.TCPMinHeaderLen:], opts)
	f = append(f, s.Payload...)
	ip := header.IPv4(f[header.EthernetHeaderLen:])
	header.TCP(f[ipEnd:]).SetChecksum(header.L4Checksum(ip, f[ipEnd:]))
	return f
}

// UDP builds the frame.
func UDP(s UDPSpec) []byte {
	f := ipHeader(s.DstMAC, s.SrcMAC, s.Src, s.Dst, header.ProtoUDP, s.TTL, 0, s.ID, false, nil, header.UDPHeaderLen+len(s.Payload))
	ipEnd := len(f)
	f = f[:ipEnd+header.UDPHeaderLen]
	u := header.UDP(f[ipEnd:])
	u.SetSrcPort(s.SPort)
	u.SetDstPort(s.DPort)
	u.SetLength(uint16(header.UDPHeaderLen + len(s.Payload)))
	f = append(f, s.Payload...)
	if !s.NoChecksum {
		header.UDP(f[ipEnd:]).SetChecksum(header.L4Checksum(header.IPv4(f[header.EthernetHeaderLen:]), f[ipEnd:]))
	}
	return f
}

// Frame is a parsed Ethernet/IPv4 frame.
type Frame struct {
	IP      header.IPv4
	TCP     header.TCP // nil unless TCP
	UDP     header.UDP // nil unless UDP
	L4      []byte     // the L4 header and payload
	Payload []byte
}

// Parse splits an Ethernet/IPv4 frame, checking lengths (not checksums).
func Parse(f []byte) (Frame, error) {
	eth := header.Ethernet(f)
	if !eth.IsValid() || eth.Type() != header.EtherTypeIPv4 {
		return Frame{}, fmt.Errorf("pkt: not an IPv4 frame")
	}
	ip := header.IPv4(eth.Payload())
	if !ip.IsValid() || !ip.TotalLenValid() {
		return Frame{}, fmt.Errorf("pkt: bad IPv4 header")
	}
	ip = ip[:ip.TotalLen()]
	fr := Frame{IP: ip, L4: ip[ip.HeaderLen():]}
	switch ip.Protocol() {
	case header.ProtoTCP:
		th := header.TCP(fr.L4)
		if !th.IsValid() {
			return Frame{}, fmt.Errorf("pkt: bad TCP header")
		}
		fr.TCP, fr.Payload = th[:th.HeaderLen()], fr.L4[th.HeaderLen():]
	case header.ProtoUDP:
		u := header.UDP(fr.L4)
		if !u.IsValid() {
			return Frame{}, fmt.Errorf("pkt: bad UDP header")
		}
		fr.UDP, fr.Payload = u[:header.UDPHeaderLen], u.Payload()
	}
	return fr, nil
}

// ChecksumsValid reports whether the IPv4 header and L4 checksums verify.
func (f Frame) ChecksumsValid() bool {
	return f.IP.ChecksumValid() && header.L4ChecksumValid(f.IP, f.L4)
}

// Payload returns n bytes of a recognisable pattern starting at seq.
func Payload(n int, seq uint32) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seq + uint32(i)*7)
	}
	return b
}

// TimestampOption returns a TCP timestamp option (with two NOPs in front).
func TimestampOption(val, ecr uint32) []byte {
	o := []byte{header.TCPOptNOP, header.TCPOptNOP, header.TCPOptTimestamp, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(o[4:], val)
	binary.BigEndian.PutUint32(o[8:], ecr)
	return o
}
