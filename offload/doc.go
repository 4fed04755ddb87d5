// Package offload holds the pure packet algorithms that both the device model
// and the software stack use: the Internet checksum (full, pseudo-header and
// incremental) and finishing a CHECKSUM_PARTIAL packet, TCP segmentation (one
// function behind the device's TSO and the stack's GSO), the TCP GRO merge
// rules, the Toeplitz RSS hash, and byte-slice views of the IPv4, TCP and UDP
// headers they work on. Nothing here keeps device state, takes locks or
// allocates; expected outcomes are small result enums.
package offload
