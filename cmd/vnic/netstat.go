package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"vnic/internal/nlclient"
	"vnic/stack/inet"

	"github.com/mdlayher/netlink"
	"github.com/spf13/cobra"
)

func newNetstatCmd(a *app) *cobra.Command {
	var socket, host string
	var stats, asJSON bool
	cmd := &cobra.Command{
		Use:   "netstat --host NAME -s [--json]",
		Short: "netstat -s for a host of a running `vnic up` (the Ip, Icmp, IcmpMsg, Tcp, Udp, TcpExt and IpExt counters)",
		Long: `netstat -s prints a host's protocol counters as net-tools 2.10's netstat -s
prints the kernel's: the sections vnic has counters for (Ip, Icmp, IcmpMsg,
Tcp, Udp, TcpExt, IpExt), each key in the kernel's order with net-tools' wording.

--json prints the counters as iproute2's nstat -az --json does (net-tools
has no JSON): {"kernel": {"IpInReceives": N, ...}}, every counter, zero or
not, by nstat's names in the kernel's order.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !stats && !asJSON {
				fmt.Fprintln(os.Stderr, "netstat: only -s (--statistics) is supported")
				return exitError{1}
			}
			if code := runNetstat(socket, host, asJSON, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	cmd.Flags().StringVar(&host, "host", os.Getenv("VNIC_HOST"), "the host (default $VNIC_HOST)")
	cmd.Flags().BoolVarP(&stats, "statistics", "s", false, "print the protocol counters")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the counters as nstat --json does")
	return cmd
}

func runNetstat(socket, host string, asJSON bool, stdout, stderr io.Writer) int {
	if host == "" {
		fmt.Fprintln(stderr, "netstat: which host? --host NAME (or VNIC_HOST)")
		return 1
	}
	conn, err := nlclient.Dial(socketPath(socket))
	if err != nil {
		fmt.Fprintln(stderr, "netstat:", err)
		return 1
	}
	defer conn.Close()
	ae := netlink.NewAttributeEncoder()
	ae.String(inet.InetAttrHost, host)
	body, _ := ae.Encode()
	replies, err := conn.Execute(inet.InetFamily, inet.InetCmdStats, netlink.Request, body)
	if err != nil {
		reportErr(stderr, "netstat", err, "")
		return 1
	}
	var cs []inet.Counter
	for _, r := range replies {
		ad, err := netlink.NewAttributeDecoder(r.Attrs)
		if err != nil {
			continue
		}
		for ad.Next() {
			if ad.Type() != inet.InetAttrCounter {
				continue
			}
			var c inet.Counter
			ad.Nested(func(n *netlink.AttributeDecoder) error {
				for n.Next() {
					switch n.Type() {
					case 1:
						c.Name = n.String()
					case 2:
						c.Value = n.Uint64()
					}
				}
				return nil
			})
			cs = append(cs, c)
		}
	}
	if asJSON {
		fmt.Fprintln(stdout, NstatJSON(cs))
		return 0
	}
	fmt.Fprint(stdout, FormatNetstat(cs))
	return 0
}

// NstatJSON is nstat -az --json's object: {"kernel": {NAME: VALUE, ...}}
// in the counters' order.
func NstatJSON(cs []inet.Counter) string {
	var b strings.Builder
	b.WriteString(`{"kernel":{`)
	for i, c := range cs {
		if i > 0 {
			b.WriteString(",")
		}
		name, _ := json.Marshal(c.Name)
		fmt.Fprintf(&b, "%s:%d", name, c.Value)
	}
	b.WriteString("}}")
	return b.String()
}

// netstat -s is net-tools' statistics.c over the kernel's /proc/net/snmp
// and /proc/net/netstat: each section's keys come in the kernel's order;
// a key net-tools knows prints with its wording (always, or only when not
// zero), one it does not know prints as "Key: N" when not zero, indented
// as the line before it; the ICMP histograms open with their title at the
// first of their keys, zero or not. vnic prints the sections it has
// counters for: Ip, Icmp, IcmpMsg, Tcp, Udp, TcpExt and IpExt (no UdpLite
// or MPTcpExt). The TcpExt wording is net-tools 2.10's as it prints on a
// 6.x kernel: a key its (unsorted) table's lookup misses prints as
// "Key: N", TCPTimeouts and TCPSackRecovery among them. (Forwarding prints as an unknown key: net-tools' table is
// not sorted there, so its lookup misses it, and DefaultTTL is a static
// entry netstat -s hides.)

type nsKind int

const (
	nsNumber  nsKind = iota // always printed
	nsOpt                   // printed when not zero
	nsInHist                // ICMP input histogram entry
	nsOutHist               // ICMP output histogram entry
	nsUnknown               // "Key: N" when not zero
	nsStatic                // never printed by netstat -s
)

// nsIndent is net-tools' indent per state.
var nsIndent = map[nsKind]int{nsNumber: 4, nsOpt: 4, nsInHist: 8, nsOutHist: 8}

type nsKey struct {
	key, counter, label string // the kernel's key, vnic's counter (nstat's name), net-tools' wording
	kind                nsKind
}

func ip(key, label string, kind nsKind) nsKey     { return nsKey{key, "Ip" + key, label, kind} }
func tcpKey(key, label string, kind nsKind) nsKey { return nsKey{key, "Tcp" + key, label, kind} }
func extKey(key, label string, kind nsKind) nsKey { return nsKey{key, "TcpExt" + key, label, kind} }
func icmp(key, counter, label string, kind nsKind) nsKey {
	return nsKey{key, counter, label, kind}
}

// The kernel's keys for each section (vnic's subset, in the kernel's
// order) and net-tools 2.10's wording.
var netstatSections = []struct {
	title string
	keys  []nsKey
}{
	{"Ip", []nsKey{
		ip("Forwarding", "", nsUnknown), ip("DefaultTTL", "", nsStatic),
		ip("InReceives", "%d total packets received", nsNumber), ip("InHdrErrors", "%d with invalid headers", nsOpt),
		ip("InAddrErrors", "%d with invalid addresses", nsOpt), ip("ForwDatagrams", "%d forwarded", nsNumber),
		ip("InUnknownProtos", "%d with unknown protocol", nsOpt), ip("InDiscards", "%d incoming packets discarded", nsNumber),
		ip("InDelivers", "%d incoming packets delivered", nsNumber), ip("OutRequests", "%d requests sent out", nsNumber),
		ip("OutDiscards", "%d outgoing packets dropped", nsOpt), ip("OutNoRoutes", "%d dropped because of missing route", nsOpt),
		ip("ReasmTimeout", "%d fragments dropped after timeout", nsOpt), ip("ReasmReqds", "%d reassemblies required", nsOpt),
		ip("ReasmOKs", "%d packets reassembled ok", nsOpt), ip("ReasmFails", "%d packet reassemblies failed", nsOpt),
		ip("FragOKs", "%d outgoing packets fragmented ok", nsOpt), ip("FragFails", "%d outgoing packets failed fragmentation", nsOpt),
		ip("FragCreates", "%d fragments created", nsOpt),
	}},
	{"Icmp", []nsKey{
		icmp("InMsgs", "IcmpInMsgs", "%d ICMP messages received", nsNumber),
		icmp("InErrors", "IcmpInErrors", "%d input ICMP message failed", nsNumber),
		icmp("InCsumErrors", "IcmpInCsumErrors", "", nsUnknown),
		icmp("InDestUnreachs", "IcmpMsgInType3", "destination unreachable: %d", nsInHist),
		icmp("InTimeExcds", "IcmpMsgInType11", "timeout in transit: %d", nsInHist),
		icmp("InParmProbs", "IcmpMsgInType12", "wrong parameters: %d", nsInHist),
		icmp("InSrcQuenchs", "IcmpMsgInType4", "source quenches: %d", nsInHist),
		icmp("InRedirects", "IcmpMsgInType5", "redirects: %d", nsInHist),
		icmp("InEchos", "IcmpMsgInType8", "echo requests: %d", nsInHist),
		icmp("InEchoReps", "IcmpMsgInType0", "echo replies: %d", nsInHist),
		icmp("InTimestamps", "IcmpMsgInType13", "timestamp request: %d", nsInHist),
		icmp("InTimestampReps", "IcmpMsgInType14", "timestamp reply: %d", nsInHist),
		icmp("InAddrMasks", "IcmpMsgInType17", "address mask request: %d", nsInHist),
		icmp("InAddrMaskReps", "IcmpMsgInType18", "address mask replies: %d", nsInHist),
		icmp("OutMsgs", "IcmpOutMsgs", "%d ICMP messages sent", nsNumber),
		icmp("OutErrors", "IcmpOutErrors", "%d ICMP messages failed", nsNumber),
		icmp("OutRateLimitGlobal", "IcmpOutRateLimitGlobal", "", nsUnknown),
		icmp("OutRateLimitHost", "IcmpOutRateLimitHost", "", nsUnknown),
		icmp("OutDestUnreachs", "IcmpMsgOutType3", "destination unreachable: %d", nsOutHist),
		icmp("OutTimeExcds", "IcmpMsgOutType11", "time exceeded: %d", nsOutHist),
		icmp("OutParmProbs", "IcmpMsgOutType12", "wrong parameters: %d", nsOutHist),
		icmp("OutSrcQuenchs", "IcmpMsgOutType4", "source quench: %d", nsOutHist),
		icmp("OutRedirects", "IcmpMsgOutType5", "redirect: %d", nsOutHist),
		icmp("OutEchos", "IcmpMsgOutType8", "echo requests: %d", nsOutHist),
		icmp("OutEchoReps", "IcmpMsgOutType0", "echo replies: %d", nsOutHist),
		icmp("OutTimestamps", "IcmpMsgOutType13", "timestamp requests: %d", nsOutHist),
		icmp("OutTimestampReps", "IcmpMsgOutType14", "timestamp replies: %d", nsOutHist),
		icmp("OutAddrMasks", "IcmpMsgOutType17", "address mask requests: %d", nsOutHist),
		icmp("OutAddrMaskReps", "IcmpMsgOutType18", "address mask replies: %d", nsOutHist),
	}},
	{"IcmpMsg", nil}, // the kernel's non-zero types, In then Out
	{"Tcp", []nsKey{
		tcpKey("RtoAlgorithm", "", nsStatic), tcpKey("RtoMin", "", nsStatic), tcpKey("RtoMax", "", nsStatic),
		tcpKey("MaxConn", "", nsStatic),
		tcpKey("ActiveOpens", "%d active connection openings", nsNumber),
		tcpKey("PassiveOpens", "%d passive connection openings", nsNumber),
		tcpKey("AttemptFails", "%d failed connection attempts", nsNumber),
		tcpKey("EstabResets", "%d connection resets received", nsNumber),
		tcpKey("CurrEstab", "%d connections established", nsNumber),
		tcpKey("InSegs", "%d segments received", nsNumber),
		tcpKey("OutSegs", "%d segments sent out", nsNumber),
		tcpKey("RetransSegs", "%d segments retransmitted", nsNumber),
		tcpKey("InErrs", "%d bad segments received", nsNumber),
		tcpKey("OutRsts", "%d resets sent", nsNumber),
		tcpKey("InCsumErrors", "", nsUnknown),
	}},
	{"Udp", []nsKey{
		{"InDatagrams", "UdpInDatagrams", "%d packets received", nsNumber},
		{"NoPorts", "UdpNoPorts", "%d packets to unknown port received", nsNumber},
		{"InErrors", "UdpInErrors", "%d packet receive errors", nsNumber},
		{"OutDatagrams", "UdpOutDatagrams", "%d packets sent", nsNumber},
		{"RcvbufErrors", "UdpRcvbufErrors", "%d receive buffer errors", nsNumber},
		{"SndbufErrors", "UdpSndbufErrors", "%d send buffer errors", nsNumber},
		{"InCsumErrors", "UdpInCsumErrors", "", nsUnknown},
		{"IgnoredMulti", "UdpIgnoredMulti", "", nsUnknown},
	}},
	{"TcpExt", []nsKey{
		extKey("SyncookiesSent", "%d SYN cookies sent", nsOpt),
		extKey("SyncookiesRecv", "%d SYN cookies received", nsOpt),
		extKey("SyncookiesFailed", "%d invalid SYN cookies received", nsOpt),
		extKey("TWRecycled", "%d time wait sockets recycled by time stamp", nsOpt),
		extKey("PAWSEstab", "%d packets rejected in established connections because of timestamp", nsOpt),
		extKey("DelayedACKs", "%d delayed acks sent", nsOpt),
		extKey("DelayedACKLost", "Quick ack mode was activated %d times", nsOpt),
		extKey("ListenOverflows", "%d times the listen queue of a socket overflowed", nsOpt),
		extKey("ListenDrops", "%d SYNs to LISTEN sockets dropped", nsOpt),
		extKey("TCPRenoRecovery", "%d times recovered from packet loss due to fast retransmit", nsOpt),
		extKey("TCPSackRecovery", "", nsUnknown),
		extKey("TCPSACKReorder", "", nsUnknown),
		extKey("TCPTSReorder", "", nsUnknown),
		extKey("TCPFullUndo", "", nsUnknown),
		extKey("TCPPartialUndo", "", nsUnknown),
		extKey("TCPDSACKUndo", "", nsUnknown),
		extKey("TCPLossUndo", "", nsUnknown),
		extKey("TCPLostRetransmit", "", nsUnknown),
		extKey("TCPRenoFailures", "", nsUnknown),
		extKey("TCPSackFailures", "", nsUnknown),
		extKey("TCPLossFailures", "", nsUnknown),
		extKey("TCPFastRetrans", "%d fast retransmits", nsOpt),
		extKey("TCPSlowStartRetrans", "", nsUnknown),
		extKey("TCPTimeouts", "", nsUnknown),
		extKey("TCPLossProbes", "", nsUnknown),
		extKey("TCPDSACKRecv", "", nsUnknown),
		extKey("TCPDSACKOfoRecv", "", nsUnknown),
		extKey("TCPAbortOnData", "%d connections reset due to unexpected data", nsOpt),
		extKey("TCPAbortOnClose", "%d connections reset due to early user close", nsOpt),
		extKey("TCPAbortOnTimeout", "%d connections aborted due to timeout", nsOpt),
		extKey("TCPDSACKIgnoredOld", "", nsUnknown),
		extKey("TCPDSACKIgnoredNoUndo", "", nsUnknown),
		extKey("TCPSpuriousRTOs", "", nsUnknown),
		extKey("TCPDeferAcceptDrop", "", nsUnknown),
		extKey("IPReversePathFilter", "", nsUnknown),
		extKey("TCPReqQFullDoCookies", "", nsUnknown),
		extKey("TCPOFOQueue", "", nsUnknown),
		extKey("TCPChallengeACK", "", nsUnknown),
		extKey("TCPSYNChallenge", "", nsUnknown),
		extKey("TCPToZeroWindowAdv", "", nsUnknown),
		extKey("TCPSynRetrans", "", nsUnknown),
		extKey("TCPHystartDelayDetect", "", nsUnknown),
		extKey("TCPDelivered", "", nsUnknown),
		extKey("TCPDeliveredCE", "", nsUnknown),
		extKey("TCPZeroWindowDrop", "", nsUnknown),
		extKey("TCPDSACKRecvSegs", "", nsUnknown),
		extKey("TCPDSACKIgnoredDubious", "", nsUnknown),
	}},
	{"IpExt", []nsKey{
		{"InNoRoutes", "IpExtInNoRoutes", "", nsUnknown},
		{"InTruncatedPkts", "IpExtInTruncatedPkts", "", nsUnknown},
		{"InMcastPkts", "IpExtInMcastPkts", "", nsUnknown},
		{"InBcastPkts", "IpExtInBcastPkts", "", nsUnknown},
		{"InCsumErrors", "IpExtInCsumErrors", "", nsUnknown},
		{"ReasmOverlaps", "IpExtReasmOverlaps", "", nsUnknown},
	}},
}

// FormatNetstat prints counters (nstat's names) as net-tools' netstat -s.
func FormatNetstat(cs []inet.Counter) string {
	v := map[string]uint64{}
	for _, c := range cs {
		v[c.Name] = c.Value
	}
	var b strings.Builder
	state := nsNumber
	for _, sec := range netstatSections {
		if sec.title == "IcmpMsg" {
			// The kernel writes 16 types a line pair, each pair its
			// own "IcmpMsg:" for net-tools; an unknown section keeps
			// the indent of the line before.
			var rows []string
			for _, dir := range []string{"In", "Out"} {
				for t := 0; t < 256; t++ {
					if n := v[fmt.Sprintf("IcmpMsg%sType%d", dir, t)]; n != 0 {
						rows = append(rows, fmt.Sprintf("%*s%sType%d: %d\n", nsIndent[state], "", dir, t, n))
					}
				}
			}
			for i := 0; i < len(rows); i += 16 {
				b.WriteString("IcmpMsg:\n")
				for _, r := range rows[i:min(i+16, len(rows))] {
					b.WriteString(r)
				}
			}
			continue
		}
		b.WriteString(sec.title + ":\n")
		state = nsNumber
		for _, k := range sec.keys {
			n := v[k.counter]
			switch k.kind {
			case nsStatic:
			case nsUnknown:
				if n != 0 {
					fmt.Fprintf(&b, "%*s%s: %d\n", nsIndent[state], "", k.key, n)
				}
			case nsInHist, nsOutHist:
				if state != k.kind {
					title := "ICMP input histogram:"
					if k.kind == nsOutHist {
						title = "ICMP output histogram:"
					}
					fmt.Fprintf(&b, "%*s%s\n", nsIndent[state], "", title)
				}
				if n > 0 {
					fmt.Fprintf(&b, "%*s"+k.label+"\n", nsIndent[k.kind], "", n)
				}
				state = k.kind
			default:
				if k.kind == nsNumber || n != 0 {
					fmt.Fprintf(&b, "%*s"+k.label+"\n", nsIndent[k.kind], "", n)
				}
				state = k.kind
			}
		}
	}
	return b.String()
}
