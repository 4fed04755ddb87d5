package ss

import "encoding/binary"

// TCPInfo is struct tcp_info (include/uapi/linux/tcp.h) through Linux
// 6.2's tcpi_rehash: INET_DIAG_INFO's payload and getsockopt(TCP_INFO).
// Times are in microseconds except the last* fields (milliseconds ago);
// rates in bytes per second.
type TCPInfo struct {
	State, CAState, Retransmits, Probes, Backoff uint8
	Options                                      uint8 // TCPI_OPT_*
	SndWscale, RcvWscale                         uint8 // four bits each on the wire
	DeliveryRateAppLimited                       bool
	FastopenClientFail                           uint8 // two bits

	RTO, ATO, SndMSS, RcvMSS                             uint32
	Unacked, Sacked, Lost, Retrans, Fackets              uint32
	LastDataSent, LastAckSent, LastDataRecv, LastAckRecv uint32
	PMTU, RcvSsthresh, RTT, RTTVar, SndSsthresh          uint32
	SndCwnd, AdvMSS, Reordering, RcvRTT, RcvSpace        uint32
	TotalRetrans                                         uint32

	PacingRate, MaxPacingRate, BytesAcked, BytesReceived uint64
	SegsOut, SegsIn, NotsentBytes, MinRTT                uint32
	DataSegsIn, DataSegsOut                              uint32
	DeliveryRate, BusyTime, RwndLimited, SndbufLimited   uint64
	Delivered, DeliveredCE                               uint32
	BytesSent, BytesRetrans                              uint64
	DSACKDups, ReordSeen, RcvOOOPack, SndWnd             uint32
	RcvWnd, Rehash                                       uint32 // Linux 6.2
}

// TCPI_OPT_* bits of TCPInfo.Options.
const (
	OptTimestamps = 1
	OptSACK       = 2
	OptWscale     = 4
	OptECN        = 8
	OptECNSeen    = 16
	OptSynData    = 32
)

// TCPInfoLen is the size of the struct as vnic sends it; Linux 6.1's
// (what ss 6.1 knows) ends 8 bytes earlier, at tcpi_snd_wnd.
const TCPInfoLen = 240

// tcp_info's layout: each field's offset and width, in the struct's order.
var tcpInfoLayout = []struct {
	off, size int
	field     func(i *TCPInfo) any // *uint32 or *uint64
}{
	{8, 4, func(i *TCPInfo) any { return &i.RTO }}, {12, 4, func(i *TCPInfo) any { return &i.ATO }},
	{16, 4, func(i *TCPInfo) any { return &i.SndMSS }}, {20, 4, func(i *TCPInfo) any { return &i.RcvMSS }},
	{24, 4, func(i *TCPInfo) any { return &i.Unacked }}, {28, 4, func(i *TCPInfo) any { return &i.Sacked }},
	{32, 4, func(i *TCPInfo) any { return &i.Lost }}, {36, 4, func(i *TCPInfo) any { return &i.Retrans }},
	{40, 4, func(i *TCPInfo) any { return &i.Fackets }}, {44, 4, func(i *TCPInfo) any { return &i.LastDataSent }},
	{48, 4, func(i *TCPInfo) any { return &i.LastAckSent }}, {52, 4, func(i *TCPInfo) any { return &i.LastDataRecv }},
	{56, 4, func(i *TCPInfo) any { return &i.LastAckRecv }}, {60, 4, func(i *TCPInfo) any { return &i.PMTU }},
	{64, 4, func(i *TCPInfo) any { return &i.RcvSsthresh }}, {68, 4, func(i *TCPInfo) any { return &i.RTT }},
	{72, 4, func(i *TCPInfo) any { return &i.RTTVar }}, {76, 4, func(i *TCPInfo) any { return &i.SndSsthresh }},
	{80, 4, func(i *TCPInfo) any { return &i.SndCwnd }}, {84, 4, func(i *TCPInfo) any { return &i.AdvMSS }},
	{88, 4, func(i *TCPInfo) any { return &i.Reordering }}, {92, 4, func(i *TCPInfo) any { return &i.RcvRTT }},
	{96, 4, func(i *TCPInfo) any { return &i.RcvSpace }}, {100, 4, func(i *TCPInfo) any { return &i.TotalRetrans }},
	{104, 8, func(i *TCPInfo) any { return &i.PacingRate }}, {112, 8, func(i *TCPInfo) any { return &i.MaxPacingRate }},
	{120, 8, func(i *TCPInfo) any { return &i.BytesAcked }}, {128, 8, func(i *TCPInfo) any { return &i.BytesReceived }},
	{136, 4, func(i *TCPInfo) any { return &i.SegsOut }}, {140, 4, func(i *TCPInfo) any { return &i.SegsIn }},
	{144, 4, func(i *TCPInfo) any { return &i.NotsentBytes }}, {148, 4, func(i *TCPInfo) any { return &i.MinRTT }},
	{152, 4, func(i *TCPInfo) any { return &i.DataSegsIn }}, {156, 4, func(i *TCPInfo) any { return &i.DataSegsOut }},
	{160, 8, func(i *TCPInfo) any { return &i.DeliveryRate }}, {168, 8, func(i *TCPInfo) any { return &i.BusyTime }},
	{176, 8, func(i *TCPInfo) any { return &i.RwndLimited }}, {184, 8, func(i *TCPInfo) any { return &i.SndbufLimited }},
	{192, 4, func(i *TCPInfo) any { return &i.Delivered }}, {196, 4, func(i *TCPInfo) any { return &i.DeliveredCE }},
	{200, 8, func(i *TCPInfo) any { return &i.BytesSent }}, {208, 8, func(i *TCPInfo) any { return &i.BytesRetrans }},
	{216, 4, func(i *TCPInfo) any { return &i.DSACKDups }}, {220, 4, func(i *TCPInfo) any { return &i.ReordSeen }},
	{224, 4, func(i *TCPInfo) any { return &i.RcvOOOPack }}, {228, 4, func(i *TCPInfo) any { return &i.SndWnd }},
	{232, 4, func(i *TCPInfo) any { return &i.RcvWnd }}, {236, 4, func(i *TCPInfo) any { return &i.Rehash }},
}

// Marshal lays the struct out as the kernel does (TCPInfoLen bytes).
func (i TCPInfo) Marshal() []byte {
	b := make([]byte, TCPInfoLen)
	b[0], b[1], b[2], b[3], b[4], b[5] = i.State, i.CAState, i.Retransmits, i.Probes, i.Backoff, i.Options
	// The two bitfields: the first declared in the low bits (GCC's
	// little-endian layout).
	b[6] = i.SndWscale&0xf | i.RcvWscale<<4
	b[7] = i.FastopenClientFail & 3 << 1
	if i.DeliveryRateAppLimited {
		b[7] |= 1
	}
	for _, f := range tcpInfoLayout {
		switch p := f.field(&i).(type) {
		case *uint32:
			binary.NativeEndian.PutUint32(b[f.off:], *p)
		case *uint64:
			binary.NativeEndian.PutUint64(b[f.off:], *p)
		}
	}
	return b
}

// ParseTCPInfo reads a tcp_info of any length: what an older kernel
// leaves out reads as zero and what a newer one adds is ignored, as ss
// does.
func ParseTCPInfo(b []byte) TCPInfo {
	var full [TCPInfoLen]byte
	copy(full[:], b)
	var i TCPInfo
	i.State, i.CAState, i.Retransmits, i.Probes, i.Backoff, i.Options = full[0], full[1], full[2], full[3], full[4], full[5]
	i.SndWscale, i.RcvWscale = full[6]&0xf, full[6]>>4
	i.DeliveryRateAppLimited, i.FastopenClientFail = full[7]&1 != 0, full[7]>>1&3
	for _, f := range tcpInfoLayout {
		switch p := f.field(&i).(type) {
		case *uint32:
			*p = binary.NativeEndian.Uint32(full[f.off:])
		case *uint64:
			*p = binary.NativeEndian.Uint64(full[f.off:])
		}
	}
	return i
}
