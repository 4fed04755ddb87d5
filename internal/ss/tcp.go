package ss

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
)

// The -i line: tcp_show_info gathers what the attributes carry and
// tcp_stats_print prints it, each field only when set and in ss's order.

// g is C's %g; g3 its %.3g.
func g(v float64) string  { return strconv.FormatFloat(v, 'g', 6, 64) }
func g3(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// bw is a rate in bits per second (sprint_bw): a plain number with -n,
// else three digits and a unit.
func (p *Printer) bw(v float64) string {
	switch {
	case p.o.Numeric:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1e12:
		return g3(v/1e12) + "T"
	case v >= 1e9:
		return g3(v/1e9) + "G"
	case v >= 1e6:
		return g3(v/1e6) + "M"
	case v >= 1e3:
		return g3(v/1e3) + "k"
	}
	return g(v)
}

// congInfo is what the congestion control's own attributes add.
type congInfo struct {
	dctcp                                 bool // INET_DIAG_DCTCPINFO present
	dctcpEnabled                          bool
	dctcpCEState                          uint16
	dctcpAlpha, dctcpABECN, dctcpABTot    uint32
	bbr                                   bool
	bbrBW                                 uint64
	bbrMinRTT, bbrPacingGain, bbrCwndGain uint32
}

// tcpInfo prints -m's memory and -i's TCP_INFO (tcp_show_info).
func (p *Printer) tcpInfo(m Msg, tb Attrs) {
	p.skmem(tb)
	a := tb[AttrInfo]
	if a == nil {
		return
	}
	i := ParseTCPInfo(a)
	var cong string
	if c := tb[AttrCong]; c != nil {
		if n := bytes.IndexByte(c, 0); n >= 0 {
			c = c[:n]
		}
		cong = string(c[:min(len(c), 15)]) // ss's cong_alg[16]
	}
	rtt := float64(i.RTT)
	if v := tb[AttrVegasInfo]; v != nil {
		w := u32s(v, 4) // enabled, rttcnt, rtt, minrtt
		if w[0] != 0 && w[2] != 0 && w[2] != 0x7fffffff {
			rtt = float64(w[2])
		}
	}
	var ci congInfo
	if d := tb[AttrDCTCPInfo]; d != nil {
		var full [16]byte
		copy(full[:], d)
		ci.dctcp = true
		ci.dctcpEnabled = binary.NativeEndian.Uint16(full[0:]) != 0
		ci.dctcpCEState = binary.NativeEndian.Uint16(full[2:])
		ci.dctcpAlpha = binary.NativeEndian.Uint32(full[4:])
		ci.dctcpABECN = binary.NativeEndian.Uint32(full[8:])
		ci.dctcpABTot = binary.NativeEndian.Uint32(full[12:])
	}
	if b := tb[AttrBBRInfo]; b != nil {
		w := u32s(b, 5) // bw_lo, bw_hi, min_rtt, pacing_gain, cwnd_gain
		ci.bbr = true
		ci.bbrBW = uint64(w[1])<<32 | uint64(w[0])
		ci.bbrMinRTT, ci.bbrPacingGain, ci.bbrCwndGain = w[2], w[3], w[4]
	}
	p.tcpStats(m, i, cong, rtt, ci)
}

// tcpStats prints the fields (tcp_stats_print).
func (p *Printer) tcpStats(m Msg, i TCPInfo, cong string, rtt float64, ci congInfo) {
	out := func(format string, args ...any) { p.t.out(fmt.Sprintf(format, args...)) }
	if p.o.Timers {
		for _, o := range []struct {
			bit  uint8
			name string
		}{{OptTimestamps, " ts"}, {OptSACK, " sack"}, {OptECN, " ecn"}, {OptECNSeen, " ecnseen"}, {OptSynData, " fastopen"}} {
			if i.Options&o.bit != 0 {
				out("%s", o.name)
			}
		}
	}
	if cong != "" {
		out(" %s", cong)
	}
	if i.Options&OptWscale != 0 {
		out(" wscale:%d,%d", i.SndWscale, i.RcvWscale)
	}
	if i.RTO != 0 && i.RTO != defaultRTONoPrint {
		out(" rto:%s", g(float64(i.RTO)/1000))
	}
	if i.Backoff != 0 {
		out(" backoff:%d", i.Backoff)
	}
	if i.RTT != 0 {
		out(" rtt:%s/%s", g(float64(i.RTT)/1000), g(float64(i.RTTVar)/1000))
	}
	if i.ATO != 0 {
		out(" ato:%s", g(float64(i.ATO)/1000))
	}
	if i.SndMSS != 0 {
		out(" mss:%d", int32(i.SndMSS))
	}
	if i.PMTU != 0 {
		out(" pmtu:%d", i.PMTU)
	}
	if i.RcvMSS != 0 {
		out(" rcvmss:%d", int32(i.RcvMSS))
	}
	if i.AdvMSS != 0 {
		out(" advmss:%d", int32(i.AdvMSS))
	}
	if i.SndCwnd != 0 {
		out(" cwnd:%d", i.SndCwnd)
	}
	if i.SndSsthresh < 0xffff && i.SndSsthresh != 0 {
		out(" ssthresh:%d", i.SndSsthresh)
	}
	for _, f := range []struct {
		name string
		v    uint64
	}{{"bytes_sent", i.BytesSent}, {"bytes_retrans", i.BytesRetrans}, {"bytes_acked", i.BytesAcked},
		{"bytes_received", i.BytesReceived}, {"segs_out", uint64(i.SegsOut)}, {"segs_in", uint64(i.SegsIn)},
		{"data_segs_out", uint64(i.DataSegsOut)}, {"data_segs_in", uint64(i.DataSegsIn)}} {
		if f.v != 0 {
			out(" %s:%d", f.name, f.v)
		}
	}
	if ci.dctcp && ci.dctcpEnabled {
		out(" dctcp:(ce_state:%d,alpha:%d,ab_ecn:%d,ab_tot:%d)", ci.dctcpCEState, ci.dctcpAlpha, ci.dctcpABECN, ci.dctcpABTot)
	} else if ci.dctcp {
		out(" dctcp:fallback_mode")
	}
	if ci.bbr {
		out(" bbr:(bw:%sbps,mrtt:%s", p.bw(float64(ci.bbrBW)*8.0), g(float64(ci.bbrMinRTT)/1000.0))
		if ci.bbrPacingGain != 0 {
			out(",pacing_gain:%s", g(float64(ci.bbrPacingGain)/256.0))
		}
		if ci.bbrCwndGain != 0 {
			out(",cwnd_gain:%s", g(float64(ci.bbrCwndGain)/256.0))
		}
		out(")")
	}
	if rtt > 0 && i.SndMSS != 0 && i.SndCwnd != 0 {
		out(" send %sbps", p.bw(float64(i.SndCwnd)*float64(i.SndMSS)*8000000./rtt))
	}
	for _, f := range []struct {
		name string
		v    uint32
	}{{"lastsnd", i.LastDataSent}, {"lastrcv", i.LastDataRecv}, {"lastack", i.LastAckRecv}} {
		if f.v != 0 {
			out(" %s:%d", f.name, f.v)
		}
	}
	if i.PacingRate != 0 && i.PacingRate != ^uint64(0) {
		out(" pacing_rate %sbps", p.bw(float64(i.PacingRate)*8.))
		if i.MaxPacingRate != 0 && i.MaxPacingRate != ^uint64(0) {
			out("/%sbps", p.bw(float64(i.MaxPacingRate)*8.))
		}
	}
	if i.DeliveryRate != 0 {
		out(" delivery_rate %sbps", p.bw(float64(i.DeliveryRate)*8.))
	}
	if i.Delivered != 0 {
		out(" delivered:%d", i.Delivered)
	}
	if i.DeliveredCE != 0 {
		out(" delivered_ce:%d", i.DeliveredCE)
	}
	if i.DeliveryRateAppLimited {
		out(" app_limited")
	}
	if i.BusyTime != 0 {
		out(" busy:%dms", i.BusyTime/1000)
		if i.RwndLimited != 0 {
			out(" rwnd_limited:%dms(%s%%)", i.RwndLimited/1000, strconv.FormatFloat(100.0*float64(i.RwndLimited)/float64(i.BusyTime), 'f', 1, 64))
		}
		if i.SndbufLimited != 0 {
			out(" sndbuf_limited:%dms(%s%%)", i.SndbufLimited/1000, strconv.FormatFloat(100.0*float64(i.SndbufLimited)/float64(i.BusyTime), 'f', 1, 64))
		}
	}
	if i.Unacked != 0 {
		out(" unacked:%d", i.Unacked)
	}
	if i.Retrans != 0 || i.TotalRetrans != 0 {
		out(" retrans:%d/%d", i.Retrans, i.TotalRetrans)
	}
	if i.Lost != 0 {
		out(" lost:%d", i.Lost)
	}
	if i.Sacked != 0 && m.State != StateListen {
		out(" sacked:%d", i.Sacked)
	}
	if i.DSACKDups != 0 {
		out(" dsack_dups:%d", i.DSACKDups)
	}
	if i.Fackets != 0 {
		out(" fackets:%d", i.Fackets)
	}
	if i.Reordering != 3 {
		out(" reordering:%d", int32(i.Reordering))
	}
	if i.ReordSeen != 0 {
		out(" reord_seen:%d", int32(i.ReordSeen))
	}
	if i.RcvRTT != 0 {
		out(" rcv_rtt:%s", g(float64(i.RcvRTT)/1000))
	}
	if i.RcvSpace != 0 {
		out(" rcv_space:%d", int32(i.RcvSpace))
	}
	if i.RcvSsthresh != 0 {
		out(" rcv_ssthresh:%d", i.RcvSsthresh)
	}
	if i.NotsentBytes != 0 {
		out(" notsent:%d", i.NotsentBytes)
	}
	if i.MinRTT != 0 && i.MinRTT != ^uint32(0) {
		out(" minrtt:%s", g(float64(i.MinRTT)/1000))
	}
	if i.RcvOOOPack != 0 {
		out(" rcv_ooopack:%d", i.RcvOOOPack)
	}
	if i.SndWnd != 0 {
		out(" snd_wnd:%d", i.SndWnd)
	}
}
