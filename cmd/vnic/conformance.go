package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"vnic/ethtool"
	"vnic/ethtool/kernel"
	"vnic/ethtool/nl"
	"vnic/internal/nlclient"
	"vnic/test/conformance"
)

func newConformanceCmd(a *app) *cobra.Command {
	var target, socket string
	var useKernel bool
	cmd := &cobra.Command{
		Use:   "conformance --target DEV [--kernel] [--socket PATH]",
		Short: "Run the driver conformance suite against a device of a running `vnic up`, or a Linux interface",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				return fmt.Errorf("conformance: --target DEV is required")
			}
			var b ethtool.Backend
			if useKernel {
				kb, closeFn, err := kernel.Backend()
				if err != nil {
					return err
				}
				defer closeFn()
				b = kb
			} else {
				conn, err := nlclient.Dial(socketPath(socket))
				if err != nil {
					return err
				}
				defer conn.Close()
				b = nl.Backend(conn)
			}
			dev, err := b.Device(target)
			if err != nil {
				return fmt.Errorf("conformance: %s: %w", target, err)
			}
			if _, err := dev.DrvInfo(); err != nil {
				return fmt.Errorf("conformance: %s: %w", target, err)
			}
			for _, r := range conformance.Run(dev, conformance.All, a.out) {
				if r.Outcome == conformance.Fail {
					return exitError{1}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "device: host/dev of a running vnic up, or with --kernel a Linux interface")
	cmd.Flags().BoolVar(&useKernel, "kernel", false, "test a Linux interface through the kernel's ethtool ioctls")
	cmd.Flags().StringVar(&socket, "socket", "", "control socket path (default $VNIC_SOCKET, else "+nlclient.DefaultPath()+")")
	return cmd
}
