package conntrack

import (
	"fmt"
	"net/netip"
	"strings"

	ct "vnic/stack/netfilter/conntrack"
)

// Event kinds as conntrack prints them (NFCT_T_*): none for a dump.
const (
	typeNone = iota
	typeNew
	typeUpdate
	typeDestroy
)

// protoName is __proto2str.
func protoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 136:
		return "udplite"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	case 132:
		return "sctp"
	case 47:
		return "gre"
	case 33:
		return "dccp"
	}
	return "unknown"
}

// l3Name is __l3proto2str.
func l3Name(f uint8) string {
	switch f {
	case AFInet:
		return "ipv4"
	case AFInet6:
		return "ipv6"
	}
	return "unknown"
}

// tcpStateName is states[] (an out-of-range state prints as NONE).
func tcpStateName(s uint8) string {
	if int(s) < len(ct.TCPStateNames) {
		return ct.TCPStateNames[s]
	}
	return ct.TCPStateNames[0]
}

func addr4(a [4]byte) string { return netip.AddrFrom4(a).String() }

// appendTupleText is __snprintf_address and __snprintf_proto.
func appendTupleText(b *strings.Builder, family uint8, t ct.Tuple) {
	if family == AFInet {
		fmt.Fprintf(b, "src=%s dst=%s ", addr4(t.Src), addr4(t.Dst))
	}
	switch t.Proto {
	case 6, 17, 136, 132, 33:
		fmt.Fprintf(b, "sport=%d dport=%d ", t.SrcPort, t.DstPort)
	case 47:
		fmt.Fprintf(b, "srckey=0x%x dstkey=0x%x ", t.SrcPort, t.DstPort)
	case 1, 58:
		fmt.Fprintf(b, "type=%d code=%d id=%d ", t.DstPort>>8, t.DstPort&0xff, t.SrcPort)
	}
}

// formatEntry is nfct_snprintf in the default format
// (__snprintf_conntrack_default): what the message carried, in
// libnetfilter_conntrack's order, with the -o extended and id additions.
func formatEntry(e *Entry, kind int, output uint32) string {
	var b strings.Builder
	switch kind {
	case typeNew:
		fmt.Fprintf(&b, "%9s ", "[NEW]")
	case typeUpdate:
		fmt.Fprintf(&b, "%9s ", "[UPDATE]")
	case typeDestroy:
		fmt.Fprintf(&b, "%9s ", "[DESTROY]")
	}
	if output&outExtended != 0 {
		fmt.Fprintf(&b, "%-8s %d ", l3Name(e.Family), e.Family)
	}
	fmt.Fprintf(&b, "%-8s %d ", protoName(e.Orig.Proto), e.Orig.Proto)
	if e.Fields&HasTimeout != 0 {
		fmt.Fprintf(&b, "%d ", e.Timeout)
	}
	if e.Fields&HasTCPState != 0 {
		fmt.Fprintf(&b, "%s ", tcpStateName(e.TCPState))
	}
	appendTupleText(&b, e.Family, e.Orig)
	if e.Fields&HasOrigZone != 0 {
		fmt.Fprintf(&b, "zone-orig=%d ", e.OrigZone)
	}
	if e.Fields&HasCounters != 0 {
		fmt.Fprintf(&b, "packets=%d bytes=%d ", e.Packets[0], e.Bytes[0])
	}
	if e.Fields&HasStatus != 0 && e.Status&ipsSeenReply == 0 {
		b.WriteString("[UNREPLIED] ")
	}
	appendTupleText(&b, e.Family, e.Reply)
	if e.Fields&HasReplZone != 0 {
		fmt.Fprintf(&b, "zone-reply=%d ", e.ReplZone)
	}
	if e.Fields&HasCounters != 0 {
		fmt.Fprintf(&b, "packets=%d bytes=%d ", e.Packets[1], e.Bytes[1])
	}
	if e.Fields&HasStatus != 0 {
		switch {
		case e.Status&ipsHWOffload != 0:
			b.WriteString("[HW_OFFLOAD] ")
		case e.Status&ipsOffload != 0:
			b.WriteString("[OFFLOAD] ")
		case e.Status&ipsAssured != 0:
			b.WriteString("[ASSURED] ")
		}
	}
	if e.Fields&HasMark != 0 {
		fmt.Fprintf(&b, "mark=%d ", e.Mark)
	}
	if e.Fields&HasZone != 0 {
		fmt.Fprintf(&b, "zone=%d ", e.Zone)
	}
	if e.Fields&HasUse != 0 {
		fmt.Fprintf(&b, "use=%d ", e.Use)
	}
	if output&outID != 0 && e.Fields&HasID != 0 {
		fmt.Fprintf(&b, "id=%d ", e.ID)
	}
	return strings.TrimSuffix(b.String(), " ")
}

// statusNames are conntrack_status_map: the bits -o save prints, by bit.
var statusNames = map[int]string{0: "EXPECTED", 1: "SEEN_REPLY", 2: "ASSURED", 10: "FIXED_TIMEOUT"}

// formatSave is ct_save_snprintf: the entry as the command line that
// would make it (-o save).
func formatSave(e *Entry, kind int) string {
	var parts []string
	switch kind {
	case typeNew:
		parts = append(parts, "-A")
	case typeUpdate:
		parts = append(parts, "-U")
	case typeDestroy:
		parts = append(parts, "-D")
	}
	if e.Fields&HasTimeout != 0 {
		parts = append(parts, "-t", fmt.Sprint(e.Timeout))
	}
	if e.Fields&HasStatus != 0 {
		var names []string
		for bit := 0; bit <= 10; bit++ {
			if n, ok := statusNames[bit]; ok && e.Status&(1<<bit) != 0 {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			names = []string{"UNSET"}
		}
		parts = append(parts, "-u", strings.Join(names, ","))
	}
	if e.Fields&HasZone != 0 {
		parts = append(parts, "-w", fmt.Sprint(e.Zone))
	}
	if e.Fields&HasOrigZone != 0 {
		parts = append(parts, "--orig-zone", fmt.Sprint(e.OrigZone))
	}
	if e.Fields&HasReplZone != 0 {
		parts = append(parts, "--reply-zone", fmt.Sprint(e.ReplZone))
	}
	if e.Family != AFInet {
		return strings.Join(parts, " ") // ct_save_snprintf warns and skips the rest
	}
	r, q := "-r", "-q"
	if isDNAT(e) {
		r = "-g"
	}
	if isSNAT(e) {
		q = "-n"
	}
	parts = append(parts, "-s", addr4(e.Orig.Src), "-d", addr4(e.Orig.Dst), r, addr4(e.Reply.Src), q, addr4(e.Reply.Dst))
	h := saveHandler(e.Orig.Proto)
	if h == nil {
		parts = append(parts, "-p", fmt.Sprint(e.Orig.Proto))
	} else {
		parts = append(parts, "-p", h.name)
		if h.save != nil {
			parts = append(parts, h.save(e)...)
		}
	}
	return strings.Join(parts, " ")
}

// saveHandler is the extension -o save names a protocol by.
func saveHandler(p uint8) *protoHandler {
	for _, h := range handlers() {
		if h.num == p {
			return h
		}
	}
	return nil
}

func portSave(h *protoHandler) func(e *Entry) []string {
	return func(e *Entry) []string {
		out := []string{"--sport", fmt.Sprint(e.Orig.SrcPort), "--dport", fmt.Sprint(e.Orig.DstPort),
			"--reply-port-src", fmt.Sprint(e.Reply.SrcPort), "--reply-port-dst", fmt.Sprint(e.Reply.DstPort)}
		if h == tcpHandler && e.Fields&HasTCPState != 0 {
			out = append(out, "--state", tcpStateName(e.TCPState))
		}
		return out
	}
}

func icmpSave(e *Entry) []string {
	return []string{"--icmp-type", fmt.Sprint(e.Orig.DstPort >> 8), "--icmp-code", fmt.Sprint(e.Orig.DstPort & 0xff),
		"--icmp-id", fmt.Sprint(e.Orig.SrcPort)}
}

// isSNAT, isDNAT, isSPAT, isDPAT are NFCT_GOPT_IS_*: the NAT done to a
// connection, read from its status and tuples.
func isSNAT(e *Entry) bool {
	return e.Fields&HasStatus != 0 && e.Status&ipsSrcNATDone != 0 && e.Family == AFInet && e.Reply.Dst != e.Orig.Src
}

func isDNAT(e *Entry) bool {
	return e.Fields&HasStatus != 0 && e.Status&ipsDstNATDone != 0 && e.Family == AFInet && e.Reply.Src != e.Orig.Dst
}

func isSPAT(e *Entry) bool {
	return (e.Fields&HasStatus == 0 || e.Status&ipsSrcNATDone != 0) && e.Reply.DstPort != e.Orig.SrcPort
}

func isDPAT(e *Entry) bool {
	return (e.Fields&HasStatus == 0 || e.Status&ipsDstNATDone != 0) && e.Reply.SrcPort != e.Orig.DstPort
}

// statNames are nfct_stats_cb's attr2name.
var statNames = [...]string{CTAStatsSearched: "searched", CTAStatsFound: "found", CTAStatsNew: "new",
	CTAStatsInvalid: "invalid", CTAStatsIgnore: "ignore", CTAStatsDelete: "delete", CTAStatsDeleteList: "delete_list",
	CTAStatsInsert: "insert", CTAStatsInsertFailed: "insert_failed", CTAStatsDrop: "drop",
	CTAStatsEarlyDrop: "early_drop", CTAStatsError: "error", CTAStatsSearchRestart: "search_restart",
	CTAStatsClashResolve: "clash_resolve", CTAStatsChainTooLong: "chaintoolong"}

// formatStats is one line of -S.
func formatStats(s *Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cpu=%-4d\t", s.CPU)
	for i := range s.Values {
		if s.Has[i] {
			fmt.Fprintf(&b, "%s=%d ", statNames[i], s.Values[i])
		}
	}
	return b.String()
}
