// Package offload holds the pure packet algorithms that both the device model
// and the software stack use: finishing a CHECKSUM_PARTIAL packet, TCP
// segmentation (one function behind the device's TSO and the stack's GSO),
// the TCP GRO and LRO merge rules and the Toeplitz RSS hash. Headers are read
// through package header's views. Nothing here keeps device state, takes
// locks or allocates; expected outcomes are small result enums.
package offload
