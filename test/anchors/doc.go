// Package anchors holds the benchmarks that measure vnic against other
// projects (the best Go prefix table, gaissmai/bart, for the FIB), in a
// module of its own so that vnic's module lists only what vnic uses.
// Its udp program measures UDP socket to socket against gVisor's
// netstack (two stacks joined by channel endpoints) in the same run.
//
//	cd test/anchors && go test -run '^$' -bench . -benchtime 2000000x
//	cd test/anchors && go run ./udp [--json]
package anchors
