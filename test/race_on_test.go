//go:build race

package test

// raceEnabled: the race detector slows vnic's side of the differential
// tests some sevenfold (diffsize_test.go).
const raceEnabled = true
