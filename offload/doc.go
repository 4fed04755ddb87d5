// Package offload holds the pure packet algorithms that both the device model
// and the software stack use: the Internet checksum (full, pseudo-header and
// incremental) and the Toeplitz RSS hash. Nothing here keeps device state or
// takes locks; every function is safe for concurrent use.
//
// Segmentation (TSO/GSO) and receive coalescing (GRO/LRO) land here as well,
// with the offload issue.
package offload
