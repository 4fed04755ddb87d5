package main

import (
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
	var stats bool
	cmd := &cobra.Command{
		Use:   "netstat --host NAME -s",
		Short: "netstat -s for a host of a running `vnic up` (the Ip, Icmp, IcmpMsg, Udp and IpExt counters)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !stats {
				fmt.Fprintln(os.Stderr, "netstat: only -s (--statistics) is supported")
				return exitError{1}
			}
			if code := runNetstat(socket, host, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	cmd.Flags().StringVar(&host, "host", os.Getenv("VNIC_HOST"), "the host (default $VNIC_HOST)")
	cmd.Flags().BoolVarP(&stats, "statistics", "s", false, "print the protocol counters")
	return cmd
}

func runNetstat(socket, host string, stdout, stderr io.Writer) int {
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
	fmt.Fprint(stdout, FormatNetstat(cs))
	return 0
}

// icmpNames are netstat's histogram names for ICMP types.
var icmpNames = map[int]string{0: "echo replies", 3: "destination unreachable", 4: "source quenches", 5: "redirects",
	8: "echo requests", 11: "timeout in transit", 12: "wrong parameters", 13: "timestamp requests", 14: "timestamp replies"}

// FormatNetstat prints counters as net-tools' netstat -s does: the usual
// lines always, the rarer ones when not zero.
func FormatNetstat(cs []inet.Counter) string {
	v := map[string]uint64{}
	for _, c := range cs {
		v[c.Name] = c.Value
	}
	var b strings.Builder
	line := func(always bool, format, name string) {
		if n := v[name]; always || n != 0 {
			fmt.Fprintf(&b, "    "+format+"\n", n)
		}
	}
	b.WriteString("Ip:\n")
	fmt.Fprintf(&b, "    Forwarding: %d\n", v["IpForwarding"])
	line(true, "%d total packets received", "IpInReceives")
	line(false, "%d with invalid headers", "IpInHdrErrors")
	line(false, "%d with invalid addresses", "IpInAddrErrors")
	line(true, "%d forwarded", "IpForwDatagrams")
	line(false, "%d with unknown protocol", "IpInUnknownProtos")
	line(true, "%d incoming packets discarded", "IpInDiscards")
	line(true, "%d incoming packets delivered", "IpInDelivers")
	line(true, "%d requests sent out", "IpOutRequests")
	line(false, "%d outgoing packets dropped", "IpOutDiscards")
	line(false, "%d dropped because of missing route", "IpOutNoRoutes")
	line(false, "%d fragments dropped after timeout", "IpReasmTimeout")
	line(false, "%d reassemblies required", "IpReasmReqds")
	line(false, "%d packets reassembled ok", "IpReasmOKs")
	line(false, "%d packet reassemblies failed", "IpReasmFails")
	line(false, "%d fragments received ok", "IpFragOKs")
	line(false, "%d fragments failed", "IpFragFails")
	line(false, "%d fragments created", "IpFragCreates")
	b.WriteString("Icmp:\n")
	line(true, "%d ICMP messages received", "IcmpInMsgs")
	line(true, "%d input ICMP message failed", "IcmpInErrors")
	line(false, "InCsumErrors: %d", "IcmpInCsumErrors")
	hist := func(dir string) {
		var rows []string
		for t := 0; t < 256; t++ {
			n := v[fmt.Sprintf("IcmpMsg%sType%d", dir, t)]
			if n == 0 {
				continue
			}
			name, ok := icmpNames[t]
			if !ok {
				name = fmt.Sprintf("type %d", t)
			}
			rows = append(rows, fmt.Sprintf("        %s: %d\n", name, n))
		}
		if len(rows) > 0 {
			what := map[string]string{"In": "input", "Out": "output"}[dir]
			fmt.Fprintf(&b, "    ICMP %s histogram:\n", what)
			for _, r := range rows {
				b.WriteString(r)
			}
		}
	}
	hist("In")
	line(true, "%d ICMP messages sent", "IcmpOutMsgs")
	line(true, "%d ICMP messages failed", "IcmpOutErrors")
	line(false, "OutRateLimitGlobal: %d", "IcmpOutRateLimitGlobal")
	line(false, "OutRateLimitHost: %d", "IcmpOutRateLimitHost")
	hist("Out")
	b.WriteString("IcmpMsg:\n")
	for _, dir := range []string{"In", "Out"} {
		for t := 0; t < 256; t++ {
			if n := v[fmt.Sprintf("IcmpMsg%sType%d", dir, t)]; n != 0 {
				fmt.Fprintf(&b, "        %sType%d: %d\n", dir, t, n)
			}
		}
	}
	b.WriteString("Udp:\n")
	line(true, "%d packets received", "UdpInDatagrams")
	line(true, "%d packets to unknown port received", "UdpNoPorts")
	line(true, "%d packet receive errors", "UdpInErrors")
	line(true, "%d packets sent", "UdpOutDatagrams")
	line(true, "%d receive buffer errors", "UdpRcvbufErrors")
	line(true, "%d send buffer errors", "UdpSndbufErrors")
	line(false, "InCsumErrors: %d", "UdpInCsumErrors")
	line(false, "IgnoredMulti: %d", "UdpIgnoredMulti")
	b.WriteString("IpExt:\n")
	line(false, "InNoRoutes: %d", "IpExtInNoRoutes")
	line(false, "InTruncatedPkts: %d", "IpExtInTruncatedPkts")
	line(false, "InBcastPkts: %d", "IpExtInBcastPkts")
	line(false, "InMcastPkts: %d", "IpExtInMcastPkts")
	line(false, "InCsumErrors: %d", "IpExtInCsumErrors")
	line(false, "ReasmOverlaps: %d", "IpExtReasmOverlaps")
	if v["TcpExtIPReversePathFilter"] != 0 {
		b.WriteString("TcpExt:\n")
		line(false, "IPReversePathFilter: %d", "TcpExtIPReversePathFilter")
	}
	return b.String()
}
