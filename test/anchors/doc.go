// Package anchors holds the benchmarks that measure vnic against other
// projects (the best Go prefix table, gaissmai/bart, for the FIB), in a
// module of its own so that vnic's module lists only what vnic uses.
//
//	cd test/anchors && go test -run '^$' -bench . -benchtime 2000000x
package anchors
