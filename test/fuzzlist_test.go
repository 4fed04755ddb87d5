package test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMakeFuzzListsEveryTarget: `make fuzz` runs every fuzz target of the
// module: the Makefile's FUZZ_TARGETS names each func FuzzX in a _test.go
// file, by package, and nothing that is not there.
func TestMakeFuzzListsEveryTarget(t *testing.T) {
	root := ".."
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	listed := regexp.MustCompile(`(?m)^\t(\./[\w/]+):(Fuzz\w+)`).FindAllStringSubmatch(string(mk), -1)
	var inMake []string
	for _, m := range listed {
		inMake = append(inMake, m[1]+":"+m[2])
	}
	var inTree []string
	fuzz := regexp.MustCompile(`^func (Fuzz\w+)\(`)
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "anchors" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir // another module, hidden folders
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := fuzz.FindStringSubmatch(sc.Text()); m != nil {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				inTree = append(inTree, "./"+filepath.ToSlash(rel)+":"+m[1])
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(inMake)
	slices.Sort(inTree)
	for _, x := range inTree {
		if _, ok := slices.BinarySearch(inMake, x); !ok {
			t.Errorf("make fuzz does not run %s", x)
		}
	}
	for _, x := range inMake {
		if _, ok := slices.BinarySearch(inTree, x); !ok {
			t.Errorf("make fuzz names %s, which does not exist", x)
		}
	}
	if len(inTree) < 40 {
		t.Errorf("found only %d fuzz targets: the walk is broken", len(inTree))
	}
}
