// Command udp measures UDP socket to socket between two vnic hosts
// (topo.BenchUDP, as `vnic bench udp`) against the same scenario on two
// gVisor netstack stacks joined by channel endpoints, in one process,
// interleaved in rounds (vnic, gVisor, vnic, gVisor, …), and prints each
// one's median and the ratio of the medians:
//
//	cd test/anchors && go run ./udp [--rounds 5] [--seconds 1] [--size 64] [--json]
//
// --json prints {"vnic":{"received_per_s":…,…},"gvisor":{"received_per_s":…,…},"ratio":…}.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"vnic/internal/topo"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "udp:", err)
		}
		os.Exit(2)
	}
}

// Summary is one stack's rounds: the medians of their figures, the
// spread of the received rate, and the rounds themselves.
type Summary struct {
	ReceivedPerS      float64          `json:"received_per_s"`
	ReceivedPerSMin   float64          `json:"received_per_s_min"`
	ReceivedPerSMax   float64          `json:"received_per_s_max"`
	SentPerS          float64          `json:"sent_per_s"`
	LostShare         float64          `json:"lost_share"`
	LostSocketShare   float64          `json:"lost_socket_share"`
	AllocsPerDatagram float64          `json:"allocs_per_datagram"`
	CPUSeconds        float64          `json:"cpu_seconds"`
	ReceivedPerCore   float64          `json:"received_per_core"`
	Rounds            []topo.UDPResult `json:"rounds"`
}

// Report is the program's JSON.
type Report struct {
	VNIC   Summary `json:"vnic"`
	GVisor Summary `json:"gvisor"`
	Ratio  float64 `json:"ratio"` // vnic's median received/s over gVisor's
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(rounds []topo.UDPResult) Summary {
	col := func(f func(r topo.UDPResult) float64) []float64 {
		xs := make([]float64, len(rounds))
		for i, r := range rounds {
			xs[i] = f(r)
		}
		return xs
	}
	share := func(n, of uint64) float64 {
		if of == 0 {
			return 0
		}
		return float64(n) / float64(of)
	}
	recv := col(func(r topo.UDPResult) float64 { return r.ReceivedPerS })
	s := Summary{
		ReceivedPerS:      median(recv),
		SentPerS:          median(col(func(r topo.UDPResult) float64 { return r.SentPerS })),
		LostShare:         median(col(func(r topo.UDPResult) float64 { return share(r.Lost, r.Sent) })),
		LostSocketShare:   median(col(func(r topo.UDPResult) float64 { return share(r.LostSocket, r.Sent) })),
		AllocsPerDatagram: median(col(func(r topo.UDPResult) float64 { return r.AllocsPerDatagram })),
		CPUSeconds:        median(col(func(r topo.UDPResult) float64 { return r.CPUSeconds })),
		ReceivedPerCore:   median(col(func(r topo.UDPResult) float64 { return r.ReceivedPerCore })),
		Rounds:            rounds,
	}
	if len(recv) > 0 {
		s.ReceivedPerSMin, s.ReceivedPerSMax = slices.Min(recv), slices.Max(recv)
	}
	return s
}

func report(vnic, gvisor []topo.UDPResult) Report {
	r := Report{VNIC: summarize(vnic), GVisor: summarize(gvisor)}
	if r.GVisor.ReceivedPerS > 0 {
		r.Ratio = r.VNIC.ReceivedPerS / r.GVisor.ReceivedPerS
	}
	return r
}

func run(args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("udp", flag.ContinueOnError)
	fs.SetOutput(errOut)
	rounds := fs.Int("rounds", 5, "rounds, each one run of vnic then one of gVisor")
	seconds := fs.Float64("seconds", 1, "seconds each stack sends a round")
	size := fs.Int("size", 64, "UDP payload bytes a datagram")
	asJSON := fs.Bool("json", false, `print {"vnic":{"received_per_s":…},"gvisor":{"received_per_s":…},"ratio":…}`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case *rounds < 1:
		return fmt.Errorf("--rounds %d: want at least 1", *rounds)
	case !(*seconds > 0) || *seconds > 3600:
		return fmt.Errorf("--seconds %g: want more than 0, at most 3600", *seconds)
	case *size < 0 || *size > topo.MaxUDPPayload:
		return fmt.Errorf("--size %d: want 0 to %d", *size, topo.MaxUDPPayload)
	}
	limit := time.Duration(*seconds * float64(time.Second))
	var vnic, gvisor []topo.UDPResult
	for i := 0; i < *rounds; i++ {
		fmt.Fprintf(errOut, "\rudp: round %d/%d vnic  ", i+1, *rounds)
		v, err := topo.BenchUDP(*size, 0, limit)
		if err != nil {
			return fmt.Errorf("vnic: %w", err)
		}
		fmt.Fprintf(errOut, "\rudp: round %d/%d gvisor", i+1, *rounds)
		g, err := benchGvisor(*size, 0, limit)
		if err != nil {
			return fmt.Errorf("gvisor: %w", err)
		}
		vnic, gvisor = append(vnic, v), append(gvisor, g)
	}
	fmt.Fprintf(errOut, "\rudp: done%20s\n", "")
	rep := report(vnic, gvisor)
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(out, "UDP %d B socket to socket, %d rounds of %g s a stack, interleaved; medians\n", *size, *rounds, *seconds)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stack\treceived/s\tmin\tmax\tsent/s\tlost\tat socket\tcpu s\treceived/core\tallocs/dgram\t")
	for _, s := range []struct {
		name string
		Summary
	}{{"vnic", rep.VNIC}, {"gvisor", rep.GVisor}} {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f%%\t%.1f%%\t%.3f\t%.0f\t%.3f\t\n", s.name, s.ReceivedPerS, s.ReceivedPerSMin, s.ReceivedPerSMax,
			s.SentPerS, 100*s.LostShare, 100*s.LostSocketShare, s.CPUSeconds, s.ReceivedPerCore, s.AllocsPerDatagram)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "vnic / gvisor: %.2f\n", rep.Ratio)
	return err
}
