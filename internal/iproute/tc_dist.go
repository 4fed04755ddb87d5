package iproute

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"syscall"
)

// netem's delay distributions. tc loads a table from TC_LIB_DIR (or
// iproute2's library directory) as NAME.dist: 4096 signed 16-bit values,
// the inverse of the distribution's cumulative function in units of
// sigma/8192 (NETEM_DIST_SCALE). vnic makes normal, pareto and
// paretonormal itself, as iproute2's netem/normal.c, pareto.c and
// paretonormal.c generate the files it ships (the tests hold them against
// the machine's files when present); any other name is read from the
// directory as tc reads it. "uniform" sends no table: netem's own uniform
// jitter (tc 6.1 has no uniform.dist and refuses it).

const (
	distScale = 8192  // NETEM_DIST_SCALE
	distMax   = 16384 // tc's MAX_DIST
	distSize  = 16384 // the generators' TABLESIZE
)

var (
	inverseNormalOnce sync.Once
	inverseNormal     []float64
)

// normalInverse is the generators' table of the standard normal
// distribution's inverse: for each of TABLESIZE quantiles, the last x of
// a 0.00005 walk over [-10, 10.05) whose rounded quantile it is.
func normalInverse() []float64 {
	inverseNormalOnce.Do(func() {
		t := make([]float64, distSize+1)
		for x := -10.0; x < 10.05; x += .00005 {
			q := .5 + .5*math.Erf(x/math.Sqrt(2))
			t[int(math.RoundToEven(distSize*q))] = x
		}
		inverseNormal = t
	})
	return inverseNormal
}

func clampS16(v int) int16 { return int16(max(math.MinInt16, min(math.MaxInt16, v))) }

// paretoValue is a Pareto (a = 3) quantile at i/65536, scaled and shifted
// as pareto.c makes it.
func paretoValue(i int) int {
	d := float64(i) / 65536
	d = 1 / math.Pow(d, 1/3.0)
	d -= 1.5
	d *= (4.0 / 3.0) * distScale
	if d > 32767 {
		d = 32767
	}
	return int(math.RoundToEven(d))
}

// builtinDist makes one of the distributions vnic knows.
func builtinDist(name string) []int16 {
	var out []int16
	switch name {
	case "normal":
		t := normalInverse()
		for i := 0; i < distSize; i += 4 {
			out = append(out, clampS16(int(math.RoundToEven(t[i]*distScale))))
		}
	case "pareto":
		for i := 65536; i > 0; i -= 16 {
			out = append(out, int16(paretoValue(i)))
		}
	case "paretonormal":
		// .25 normal + .75 pareto.
		t := normalInverse()
		for i := 0; i < distSize; i += 4 {
			n := int(math.RoundToEven(t[i] * distScale))
			out = append(out, clampS16((n+3*paretoValue(65536-4*i))/4))
		}
	}
	return out
}

// tcLib is get_tc_lib: TC_LIB_DIR, else iproute2's library directory.
func tcLib() string {
	if d := os.Getenv("TC_LIB_DIR"); d != "" {
		return d
	}
	return "/usr/lib/tc/"
}

// distribution is get_distribution for netem's "distribution NAME": the
// table (nil for uniform), or tc's words when there is none.
func distribution(name string) ([]int16, error) {
	switch name {
	case "uniform":
		return nil, nil
	case "normal", "pareto", "paretonormal":
		return builtinDist(name), nil
	}
	path := fmt.Sprintf("%s/%s.dist", tcLib(), name)
	f, err := os.Open(path)
	if err != nil {
		var errno syscall.Errno
		msg := err.Error()
		if errors.As(err, &errno) {
			msg = capitalise(errno.Error())
		}
		return nil, &Error{Msg: fmt.Sprintf("No distribution data for %s (%s: %s)", name, path, msg), Bare: true}
	}
	defer f.Close()
	var data []int16
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for p := line; ; {
			// strtol(p, &end, 0), the value kept in 16 bits.
			v, n, _ := strtoul(p, 0)
			if n == 0 {
				break
			}
			if len(data) >= distMax {
				return nil, &Error{Msg: fmt.Sprintf("%s: too much data", path), Bare: true}
			}
			data = append(data, int16(v))
			p = p[n:]
		}
	}
	if len(data) == 0 {
		return nil, &Error{Bare: true} // tc says nothing more
	}
	return data, nil
}
