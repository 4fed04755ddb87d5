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

func newSysctlCmd(a *app) *cobra.Command {
	var socket, host string
	var all, write bool
	cmd := &cobra.Command{
		Use:   "sysctl --host NAME [-a] [-w] [KEY[=VALUE] ...]",
		Short: "read or set a host's net.ipv4 settings while `vnic up` runs (sysctl's grammar and output)",
		Long: `sysctl reads or sets a host's net.ipv4 settings. Writable: ip_forward,
conf.{all,DEV}.forwarding (turning forwarding on takes LRO off the devices)
and conf.{all,DEV}.rp_filter; the others are shown and fixed. Exit status 1
on any error.

  vnic sysctl --host r -a
  vnic sysctl --host r -w net.ipv4.ip_forward=0
  vnic sysctl --host r net.ipv4.conf.vnic1.rp_filter`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runSysctl(socket, host, all, write, args, a.out, os.Stderr); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	cmd.Flags().StringVar(&host, "host", os.Getenv("VNIC_HOST"), "the host (default $VNIC_HOST)")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show every setting")
	cmd.Flags().BoolVarP(&write, "write", "w", false, "set KEY=VALUE")
	return cmd
}

func runSysctl(socket, host string, all, write bool, args []string, stdout, stderr io.Writer) int {
	if host == "" {
		fmt.Fprintln(stderr, "sysctl: which host? --host NAME (or VNIC_HOST)")
		return 1
	}
	if all {
		args = []string{""}
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "sysctl: no variables specified (try -a)")
		return 1
	}
	conn, err := nlclient.Dial(socketPath(socket))
	if err != nil {
		fmt.Fprintln(stderr, "sysctl:", err)
		return 1
	}
	defer conn.Close()
	rc := 0
	for _, arg := range args {
		name, value, hasValue := strings.Cut(arg, "=")
		if hasValue && !write {
			fmt.Fprintf(stderr, "sysctl: %q must be of the form name=value with -w\n", arg)
			rc = 1
			continue
		}
		if write && !hasValue {
			fmt.Fprintf(stderr, "sysctl: %q must be of the form name=value\n", arg)
			rc = 1
			continue
		}
		if write && strings.TrimSpace(name) == "" {
			fmt.Fprintf(stderr, "sysctl: malformed setting \"%s\"\n", arg) // procps' wording
			rc = 1
			continue
		}
		ae := netlink.NewAttributeEncoder()
		ae.String(inet.InetAttrHost, host)
		ae.String(inet.InetAttrName, strings.TrimSpace(name))
		if write {
			ae.String(inet.InetAttrValue, strings.TrimSpace(value))
		}
		body, _ := ae.Encode()
		replies, err := conn.Execute(inet.InetFamily, inet.InetCmdSysctl, netlink.Request, body)
		if err != nil {
			reportErr(stderr, "sysctl", err, "")
			rc = 1
			continue
		}
		for _, r := range replies {
			ad, err := netlink.NewAttributeDecoder(r.Attrs)
			if err != nil {
				continue
			}
			for ad.Next() {
				var k, v string
				ad.Nested(func(n *netlink.AttributeDecoder) error {
					for n.Next() {
						switch n.Type() {
						case 1:
							k = n.String()
						case 3:
							v = n.String()
						}
					}
					return nil
				})
				fmt.Fprintf(stdout, "%s = %s\n", k, v)
			}
		}
	}
	return rc
}
