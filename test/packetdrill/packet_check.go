package packetdrill

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"vnic/header"
	pd "vnic/internal/packetdrill"
)

// checkField is check_field's message for a field that differs.
func checkField(name string, want, got uint32) error {
	if want == got {
		return nil
	}
	return fmt.Errorf("live packet field %s: expected: %d (%#x) vs actual: %d (%#x)", name, want, want, got, got)
}

// verifyOutbound is verify_outbound_live_packet without the time: the
// checksum, the IP and TCP header fields in packetdrill's order, the
// options and the payload. seg is already in the script's numbers.
func (r *runner) verifyOutbound(p *pd.Packet, s *socket, seg *segment) error {
	t := p.TCP
	if !seg.ipsumOK {
		return fmt.Errorf("bad outbound IP checksum")
	}
	r.mapTSVal(t, s, seg)
	scriptOpts := 0
	for _, o := range t.Options {
		scriptOpts += o.Len()
	}
	allowance := 0
	if t.AnyOptions {
		allowance = len(seg.opts)
	}
	flags, ae := tcpFlags(t.Flags)
	bit := func(f uint8, of uint8) uint32 {
		if f&of != 0 {
			return 1
		}
		return 0
	}
	b := func(v bool) uint32 {
		if v {
			return 1
		}
		return 0
	}
	ace := func(f uint8, ae bool) uint32 { return b(ae)<<2 | bit(f, header.TCPCwr)<<1 | bit(f, header.TCPEce) }
	if err := firstErr(
		checkField("ipv4_version", 4, uint32(seg.version)),
		checkField("ipv4_protocol", 6, uint32(seg.proto)),
		checkField("ipv4_header_length", 5, uint32(seg.ihl/4)),
		checkField("ipv4_total_length", uint32(20+20+scriptOpts+int(t.Len)+allowance), uint32(seg.totLen)),
	); err != nil {
		return err
	}
	if err := verifyTOS(p.IP, seg.tos); err != nil {
		return err
	}
	if p.IP.HasTTL {
		if err := checkField("ttl", uint32(p.IP.TTL), uint32(seg.ttl)); err != nil {
			return err
		}
	}
	digit := false
	for i := 0; i < len(t.Flags); i++ {
		digit = digit || t.Flags[i] >= '0' && t.Flags[i] <= '7'
	}
	checks := []error{
		checkField("tcp_data_offset", uint32((20+scriptOpts+allowance)/4), uint32(seg.doff/4)),
		checkField("tcp_fin", bit(flags, header.TCPFin), bit(seg.flags, header.TCPFin)),
		checkField("tcp_syn", bit(flags, header.TCPSyn), bit(seg.flags, header.TCPSyn)),
		checkField("tcp_rst", bit(flags, header.TCPRst), bit(seg.flags, header.TCPRst)),
		checkField("tcp_psh", bit(flags, header.TCPPsh), bit(seg.flags, header.TCPPsh)),
		checkField("tcp_ack", bit(flags, header.TCPAck), bit(seg.flags, header.TCPAck)),
		checkField("tcp_urg", bit(flags, header.TCPUrg), bit(seg.flags, header.TCPUrg)),
	}
	if digit {
		checks = append(checks, checkField("tcp_ace", ace(flags, ae), ace(seg.flags, seg.ae)))
	} else {
		checks = append(checks,
			checkField("tcp_ece", bit(flags, header.TCPEce), bit(seg.flags, header.TCPEce)),
			checkField("tcp_cwr", bit(flags, header.TCPCwr), bit(seg.flags, header.TCPCwr)),
			checkField("tcp_ae", b(ae), b(seg.ae)))
	}
	checks = append(checks,
		checkField("tcp_reserved_bits", 0, uint32(seg.reserved)),
		checkField("tcp_seq", t.Seq, seg.seq),
		checkField("tcp_ack_seq", t.Ack, seg.ack))
	if t.HasWin {
		checks = append(checks, checkField("tcp_window", uint32(t.Win), uint32(seg.win)))
	}
	checks = append(checks, checkField("tcp_urg_ptr", uint32(t.Urg), uint32(seg.urg)))
	if err := firstErr(checks...); err != nil {
		return err
	}
	if !t.AnyOptions {
		if err := r.verifyOptions(t, seg); err != nil {
			return err
		}
	}
	if !bytes.Equal(seg.payload, make([]byte, len(seg.payload))) {
		return fmt.Errorf("incorrect outbound data payload")
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// verifyTOS is verify_outbound_live_tos.
func verifyTOS(ip pd.IPInfo, tos uint8) error {
	ecn := uint32(tos & 3)
	switch ip.Check {
	case pd.TOSCheckECN:
		if ip.ECN == pd.ECT01 {
			if ecn != uint32(pd.ECT0) && ecn != uint32(pd.ECT1) {
				return fmt.Errorf("live packet field ip_ecn: expected: 0x1 or 0x2 vs actual: %#x", ecn)
			}
			return nil
		}
		return checkField("ip_ecn", uint32(ip.ECN), ecn)
	case pd.TOSCheckValue:
		return checkField("tos", uint32(ip.TOS), uint32(tos))
	}
	return nil
}

// mapTSVal is map_outbound_live_packet's timestamp part: the script's TS
// val is remembered against the live one (for the ecr of later inbound
// packets), and the live val is moved into script space from the first
// pair seen.
func (r *runner) mapTSVal(t *pd.TCP, s *socket, seg *segment) {
	var script *pd.TCPOption
	for i := range t.Options {
		if t.Options[i].Kind == pd.OptTimestamp {
			script = &t.Options[i]
		}
	}
	ro, _ := rawOptions(seg.opts)
	off := 0
	for _, o := range ro {
		if o.kind == 8 && len(o.data) == 8 && script != nil {
			live := binary.BigEndian.Uint32(o.data)
			s.tsValMap[script.TSVal] = live
			if !s.firstTS {
				s.firstTS, s.firstScriptTSVal, s.firstLiveTSVal = true, script.TSVal, live
			}
			opts := append([]byte(nil), seg.opts...)
			binary.BigEndian.PutUint32(opts[off+2:], s.firstScriptTSVal+(live-s.firstLiveTSVal))
			seg.opts = opts
		}
		off += o.len
	}
}

// verifyOptions is verify_outbound_live_tcp_options: the same options in
// the same order, each with the script's length and value; a timestamp's
// value is checked only with --tcp_ts_tick_usecs, and "wscale *" takes
// any shift.
func (r *runner) verifyOptions(t *pd.TCP, seg *segment) error {
	live, err := rawOptions(seg.opts)
	if err != nil {
		return err
	}
	script, _ := rawOptions(encodeOptions(t.Options))
	if len(live) != len(script) {
		return fmt.Errorf("bad outbound TCP options")
	}
	for i, a := range live {
		s := script[i]
		if a.kind != s.kind {
			return fmt.Errorf("bad outbound TCP options")
		}
		switch a.kind {
		case 0, 1:
		case 8:
			if r.opt.tsTickUsecs != 0 && len(a.data) == 8 {
				d := int64(int32(binary.BigEndian.Uint32(a.data) - binary.BigEndian.Uint32(s.data)))
				if d < 0 {
					d = -d
				}
				if d*r.opt.tsTickUsecs > r.opt.toleranceUsecs {
					return fmt.Errorf("bad outbound TCP timestamp value, tolerance %d", r.opt.toleranceUsecs)
				}
			}
		default:
			if a.len != s.len {
				return fmt.Errorf("bad lengths for outbound TCP option %d", s.kind)
			}
			if a.kind == 3 && t.Options[i].WScaleAny {
				continue
			}
			if !bytes.Equal(a.data, s.data) {
				return fmt.Errorf("bad value outbound TCP option %d", s.kind)
			}
		}
	}
	return nil
}
