package main

import (
	"github.com/spf13/cobra"
)

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the data path",
	}
	cmd.AddCommand(newBenchNICCmd(a), newBenchOffloadCmd(a), newBenchTCPCmd(a), newBenchUDPCmd(a), newBenchIRQCmd(a))
	return cmd
}
