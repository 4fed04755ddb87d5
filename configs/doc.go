// Package configs embeds the default topology, configs/default.yaml, which
// `vnic demo` runs and whose keys are the defaults of every vnic config file.
package configs
