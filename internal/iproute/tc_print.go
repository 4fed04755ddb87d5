package iproute

import (
	"encoding/binary"
	"fmt"
	"strings"

	"vnic/stack/rtnetlink"
)

// tc's print_qdisc with the printers of the kinds it knows here (netem,
// and pfifo_fast as prio) and print_tcstats_attr.

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
