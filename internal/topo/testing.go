package topo

import (
	"testing"
	"time"
)

// Started builds cfg for a test, closes it when the test ends, and runs it
// for warm (links up, queues ready) before handing it over.
func Started(tb testing.TB, cfg Config, warm time.Duration) *World {
	tb.Helper()
	w, err := Build(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	w.Run(warm)
	return w
}
