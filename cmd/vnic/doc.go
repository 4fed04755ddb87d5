// Command vnic runs the virtual NIC: `vnic demo` runs the embedded default
// topology with a mix of flows and prints per-queue figures, `vnic up` runs
// a topology from a config file until interrupted, and `vnic bench nic`
// measures the data path. Configuration is viper (configs/default.yaml,
// VNIC_* variables, flags), logging is zap, the command line is cobra.
package main
