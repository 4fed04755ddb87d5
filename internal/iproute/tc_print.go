package iproute

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"vnic/stack/rtnetlink"
)

// tc's print_qdisc with the printers of the kinds it knows here (netem,
// and pfifo_fast as prio), print_tcstats_attr, and its number printers
// (sprint_time, print_rate, print_size, the classid form).

// printQdisc is print_qdisc for one RTM_NEWQDISC or RTM_DELQDISC.
func (c *tcCmd) printQdisc(b *strings.Builder, typ uint16, q rtnetlink.QdiscMsg, f qdiscFilter) {
	if typ != rtnetlink.RTMNewQdisc && typ != rtnetlink.RTMDelQdisc {
		return
	}
	if (f.ifindex != 0 && f.ifindex != q.Ifindex) || (f.handle != 0 && f.handle != q.Handle) || (f.parent != 0 && f.parent != q.Parent) {
		return
	}
	if q.Kind == "" {
		fmt.Fprintln(c.o.Stderr, "print_qdisc: NULL kind")
		return
	}
	if typ == rtnetlink.RTMDelQdisc {
		b.WriteString("deleted ")
	}
	fmt.Fprintf(b, "qdisc %s %x:", q.Kind, q.Handle>>16)
	if c.g.raw > 0 {
		fmt.Fprintf(b, "[%08x]", q.Handle)
	}
	b.WriteString(" ")
	if f.ifindex == 0 {
		fmt.Fprintf(b, "dev %s ", c.ip.ifname(uint32(q.Ifindex)))
	}
	if q.Parent == 0xffffffff {
		b.WriteString("root ")
	} else if q.Parent != 0 {
		fmt.Fprintf(b, "parent %s ", classid(q.Parent))
	}
	if q.Info != 1 {
		fmt.Fprintf(b, "refcnt %d ", q.Info)
	}
	if q.HWOffload != nil && *q.HWOffload != 0 {
		b.WriteString("offloaded ")
	}
	if q.IngressBlock != nil && *q.IngressBlock != 0 {
		fmt.Fprintf(b, "ingress_block %d ", *q.IngressBlock)
	}
	if q.EgressBlock != nil && *q.EgressBlock != 0 {
		fmt.Fprintf(b, "egress_block %d ", *q.EgressBlock)
	}
	if q.HasOptions {
		switch q.Kind {
		case "netem":
			printNetem(b, q.Options)
		case "pfifo_fast", "prio":
			printPrio(b, q.Options)
		default:
			fmt.Fprintf(b, "[Unknown qdisc, optlen=%d] ", len(q.Options))
		}
	}
	b.WriteString("\n")
	if c.g.stats > 0 && q.Stats != nil {
		printTCStats(b, q.Stats, " ", c.g.iec)
		b.WriteString("\n")
	}
}

// printPrio is prio_print_opt: the bands and the priority map.
func printPrio(b *strings.Builder, opt []byte) {
	if len(opt) < 20 {
		return
	}
	fmt.Fprintf(b, "bands %d priomap", binary.NativeEndian.Uint32(opt))
	for _, p := range opt[4:20] {
		fmt.Fprintf(b, " %d", p)
	}
}

// printTCStats is print_tcstats_attr: TCA_STATS2's basic, rate and
// queue counters (or the old TCA_STATS).
func printTCStats(b *strings.Builder, s *rtnetlink.QdiscStats, prefix string, iec bool) {
	if s.Compat {
		fmt.Fprintf(b, "%sSent %d bytes %d pkts (dropped %d, overlimits %d) ", prefix, s.Bytes, uint32(s.Packets), s.Drops, s.Overlimits)
		if s.BPS != 0 || s.PPS != 0 || s.Qlen != 0 || s.Backlog != 0 {
			b.WriteString("\n" + prefix)
			if s.BPS != 0 || s.PPS != 0 {
				b.WriteString("rate ")
				if s.BPS != 0 {
					b.WriteString(sprintRate(s.BPS, iec) + " ")
				}
				if s.PPS != 0 {
					fmt.Fprintf(b, "%dpps ", s.PPS)
				}
			}
			if s.Qlen != 0 || s.Backlog != 0 {
				b.WriteString("backlog ")
				if s.Backlog != 0 {
					b.WriteString(sprintSize(s.Backlog) + " ")
				}
				if s.Qlen != 0 {
					fmt.Fprintf(b, "%dp ", s.Qlen)
				}
			}
		}
		return
	}
	if s.HasBasic {
		fmt.Fprintf(b, "%sSent %d bytes %d pkt", prefix, s.Bytes, s.Packets)
	}
	if s.HasQueue {
		fmt.Fprintf(b, " (dropped %d, overlimits %d requeues %d) ", s.Drops, s.Overlimits, s.Requeues)
	}
	if s.HasRateEst {
		fmt.Fprintf(b, "\n%srate %s %dpps", prefix, sprintRate(s.BPS, iec), s.PPS)
	}
	if s.HasQueue {
		if !s.HasRateEst {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "%sbacklog %s %dp requeues %d", prefix, sprintSize(s.Backlog), s.Qlen, s.Requeues)
	}
}

func printNetem(b *strings.Builder, opt []byte) {
	if len(opt) < 24 {
		return // tc: "options size error"
	}
	o, err := rtnetlink.ParseNetemOptions(opt)
	if err != nil {
		return
	}
	q := o.Qopt
	fmt.Fprintf(b, "limit %d", int32(q.Limit))
	if q.Latency != 0 {
		fmt.Fprintf(b, " delay %s", sprintTicks(q.Latency))
		if q.Jitter != 0 {
			fmt.Fprintf(b, "  %s", sprintTicks(q.Jitter))
		}
		if q.Jitter != 0 && o.Corr != nil && o.Corr.Delay != 0 {
			b.WriteString(" " + sprintPercent(o.Corr.Delay))
		}
	}
	if q.Loss != 0 {
		b.WriteString(" loss " + sprintPercent(q.Loss))
		if o.Corr != nil && o.Corr.Loss != 0 {
			b.WriteString(" " + sprintPercent(o.Corr.Loss))
		}
	}
	if o.Loss != nil && o.Loss.GI != nil {
		g := o.Loss.GI
		fmt.Fprintf(b, " loss state p13 %s p31 %s p32 %s p23 %s p14 %s", sprintPercent(g.P13), sprintPercent(g.P31),
			sprintPercent(g.P32), sprintPercent(g.P23), sprintPercent(g.P14))
	}
	if o.Loss != nil && o.Loss.GE != nil {
		g := o.Loss.GE
		fmt.Fprintf(b, " loss gemodel p %s r %s 1-h %s 1-k %s", sprintPercent(g.P), sprintPercent(g.R),
			sprintPercent(math.MaxUint32-g.H), sprintPercent(g.K1))
	}
	if q.Duplicate != 0 {
		b.WriteString(" duplicate " + sprintPercent(q.Duplicate))
		if o.Corr != nil && o.Corr.Dup != 0 {
			b.WriteString(" " + sprintPercent(o.Corr.Dup))
		}
	}
	if r := o.Reorder; r != nil && r.Probability != 0 {
		b.WriteString(" reorder " + sprintPercent(r.Probability))
		if r.Correlation != 0 {
			b.WriteString(" " + sprintPercent(r.Correlation))
		}
	}
	if c := o.Corrupt; c != nil && c.Probability != 0 {
		b.WriteString(" corrupt " + sprintPercent(c.Probability))
		if c.Correlation != 0 {
			b.WriteString(" " + sprintPercent(c.Correlation))
		}
	}
	if r := o.Rate; r != nil && r.Rate != 0 {
		rate := uint64(r.Rate)
		if o.Rate64 != nil && *o.Rate64 != 0 {
			rate = *o.Rate64
		}
		fmt.Fprintf(b, " rate %s", sprintRate(rate, false))
		if r.PacketOverhead != 0 {
			fmt.Fprintf(b, " packetoverhead %d", r.PacketOverhead)
		}
		if r.CellSize != 0 {
			fmt.Fprintf(b, " cellsize %d", r.CellSize)
		}
		if r.CellOverhead != 0 {
			fmt.Fprintf(b, " celloverhead %d", r.CellOverhead)
		}
	}
	if s := o.Slot; s != nil {
		if s.DistJitter > 0 {
			fmt.Fprintf(b, " slot distribution %s %s", sprintTime64(s.DistDelay), sprintTime64(s.DistJitter))
		} else {
			fmt.Fprintf(b, " slot %s %s", sprintTime64(s.MinDelay), sprintTime64(s.MaxDelay))
		}
		if s.MaxPackets != 0 {
			fmt.Fprintf(b, " packets %d", s.MaxPackets)
		}
		if s.MaxBytes != 0 {
			fmt.Fprintf(b, " bytes %d", s.MaxBytes)
		}
	}
	if o.ECN != nil {
		b.WriteString(" ecn ")
	}
	if q.Gap != 0 {
		fmt.Fprintf(b, " gap %d", q.Gap)
	}
}

func classid(h uint32) string {
	switch {
	case h == 0xffffffff:
		return "root"
	case h == 0:
		return "none"
	case h>>16 == 0:
		return fmt.Sprintf(":%x", h&0xffff)
	case h&0xffff == 0:
		return fmt.Sprintf("%x:", h>>16)
	}
	return fmt.Sprintf("%x:%x", h>>16, h&0xffff)
}

func cG(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'g', prec, 64)
	switch {
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case math.IsNaN(v):
		return "nan"
	}
	// Go writes e+06 as C does; it drops a "+" nowhere.
	return s
}

func sprintTime(t uint32) string {
	f := float64(t)
	switch {
	case f >= timeUnitsPerSec:
		return cG(f/timeUnitsPerSec, 3) + "s"
	case f >= timeUnitsPerSec/1000:
		return cG(f/(timeUnitsPerSec/1000), 3) + "ms"
	}
	return fmt.Sprintf("%dus", t)
}

func sprintTicks(t uint32) string { return sprintTime(tickToTime(t)) }

func sprintTime64(t int64) string {
	f := float64(t)
	switch {
	case t >= 1e9:
		return cG(f/1e9, 3) + "s"
	case t >= 1e6:
		return cG(f/1e6, 3) + "ms"
	case t >= 1e3:
		return cG(f/1e3, 3) + "us"
	}
	return fmt.Sprintf("%dns", t)
}

func sprintRate(rate uint64, iec bool) string {
	kilo, str := uint64(1000), ""
	if iec {
		kilo, str = 1024, "i"
	}
	units := []string{"", "K", "M", "G", "T"}
	rate <<= 3
	i := 0
	for ; i < len(units)-1; i++ {
		if rate < kilo {
			break
		}
		if rate%kilo != 0 && rate < 1000*kilo {
			break
		}
		rate /= kilo
	}
	return fmt.Sprintf("%.0f%s%sbit", float64(rate), units[i], str)
}

func sprintSize(sz uint32) string {
	f := float64(sz)
	switch {
	case sz >= 1024*1024 && math.Abs(1024*1024*math.RoundToEven(f/(1024*1024))-f) < 1024:
		return cG(math.RoundToEven(f/(1024*1024)), 6) + "Mb"
	case sz >= 1024 && math.Abs(1024*math.RoundToEven(f/1024)-f) < 16:
		return cG(math.RoundToEven(f/1024), 6) + "Kb"
	}
	return fmt.Sprintf("%db", sz)
}

func sprintPercent(per uint32) string { return cG(100*float64(per)/math.MaxUint32, 6) + "%" }
