package irqbench

import (
	"testing"
)

// TestE1 reproduces receive livelock and NAPI's flat curve on the teaching
// preset; every pass criterion of the spec holds.
func TestE1(t *testing.T) {
	e, err := E1("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
	if !e.Pass {
		t.Error("E1 did not pass")
	}
}
