package iperf3

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// orderedJSON reads a JSON document into object and array values,
// members in their order (duplicates kept), numbers as doubles.
func orderedJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var value func() any
	value = func() any {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch x := tok.(type) {
		case json.Delim:
			if x == '{' {
				o := newObject()
				for d.More() {
					k, err := d.Token()
					if err != nil {
						t.Fatal(err)
					}
					o.add(k.(string), value())
				}
				d.Token()
				return o
			}
			a := newArray()
			for d.More() {
				a.add(value())
			}
			d.Token()
			return a
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		return tok
	}
	return value()
}

// jsonPrint prints iperf3 3.12's own -J documents (testdata, captured
// from Debian's iperf3 3.12 between two namespaces of this machine: see
// testdata/README) byte for byte: tabs, arrays of objects, empty
// objects, the numbers' %d, %1.15g and %1.17g, duplicated keys.
func TestJSONPrintAsCJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) < 4 {
		t.Fatalf("testdata: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(string(b), "\n")
		if got := jsonPrint(orderedJSON(t, b)); got != want {
			t.Errorf("%s: printed differently:\n%s", f, firstDiff(got, want))
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ": got " + strconv.Quote(g[i]) + ", want " + strconv.Quote(w[i])
		}
	}
	return "lengths differ: " + strconv.Itoa(len(g)) + " and " + strconv.Itoa(len(w)) + " lines"
}

// The printer's other forms: unformatted (JSON_write's), empty
// containers, escapes, and the numbers' edges.
func TestJSONPrintForms(t *testing.T) {
	o := newObject().add("a", num(1)).add("b", newArray()).add("c", newObject()).
		add("d", "x\"\\\n\t\x01é").add("e", []any(nil) == nil).add("f", nil)
	o.add("g", newArray())
	o.vals[6].(*array).add(num(1))
	o.vals[6].(*array).add("two")
	if got, want := jsonPrintUnformatted(o), `{"a":1,"b":[],"c":{},"d":"x\"\\\n\t\u0001é","e":true,"f":null,"g":[1,"two"]}`; got != want {
		t.Errorf("unformatted:\n got %s\nwant %s", got, want)
	}
	if got, want := jsonPrint(o), "{\n\t\"a\":\t1,\n\t\"b\":\t[],\n\t\"c\":\t{\n\t},\n\t\"d\":\t\"x\\\"\\\\\\n\\t\\u0001é\",\n\t\"e\":\ttrue,\n\t\"f\":\tnull,\n\t\"g\":\t[1, \"two\"]\n}"; got != want {
		t.Errorf("formatted:\n got %q\nwant %q", got, want)
	}
	for _, tc := range []struct {
		d    float64
		want string
	}{
		{0, "0"},
		{-1, "-1"},
		{2147483647, "2147483647"},
		{2147483648, "2147483648"},
		{-2147483648, "-2147483648"},
		{2990997451, "2990997451"},
		{1.00004, "1.00004"},
		{1.0000400543212891, "1.0000400543212891"},
		{23423201063.578979, "23423201063.578979"},
		{18446744073709551615, "1.8446744073709552e+19"},
		{1e15, "1e+15"},
		{0.00015300000086426735, "0.00015300000086426735"},
		{0.5, "0.5"},
		{1e-5, "1e-05"},
	} {
		if got := formatNumber(tc.d); got != tc.want {
			t.Errorf("formatNumber(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}
