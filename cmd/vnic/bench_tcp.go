package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"vnic/internal/topo"
)

func newBenchTCPCmd(a *app) *cobra.Command {
	var asJSON, virtual, kernel bool
	var mib uint64
	var secs int
	cmd := &cobra.Command{
		Use:   "tcp",
		Short: "Bulk TCP between two vnic hosts, one connection, for each offload configuration (all on, TSO off, GSO off, GRO off, all off): Gbit/s and CPU seconds per GB",
		Long: `bench tcp moves --mib MiB from h1 to h2 over vnic's TCP, through the NIC
model and the driver on both sides, once per offload configuration.

By default it runs on the wall clock, as iperf3 would between two network
namespaces joined by a veth: throughput is payload over wall time and CPU
is the process's user+system time per GB. --virtual runs it in virtual time
instead: throughput over the modelled clock, CPU the modelled busy time of
both hosts (the config's cost model) — the same figures for a seed on any
machine.

--kernel also measures the kernel's own TCP in the same run: two network
namespaces joined by a veth pair, iperf3 for --seconds (needs root, ip and
iperf3), and prints the ratio of each vnic configuration to it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd); err != nil {
				return err
			}
			if mib < 1 {
				return fmt.Errorf("--mib %d: want at least 1", mib)
			}
			var results []topo.TCPResult
			for i, c := range topo.OffloadConfigs {
				fmt.Fprintf(os.Stderr, "\rbench tcp: %d/%d %-8s", i+1, len(topo.OffloadConfigs), c.Name)
				r, err := topo.BenchTCP(c.Name, c.Off, virtual, a.cfg.Costs.Model(), mib<<20)
				if err != nil {
					fmt.Fprintln(os.Stderr)
					return err
				}
				results = append(results, r)
			}
			fmt.Fprintf(os.Stderr, "\rbench tcp: done%20s\n", "")
			for i := range results {
				results[i].Ratio = round2(results[i].Gbps / results[0].Gbps)
			}
			var veth *kernelVeth
			if kernel {
				fmt.Fprintf(os.Stderr, "bench tcp: the kernel's veth with iperf3 for %d s\n", secs)
				g, err := kernelVethGbps(secs)
				if err != nil {
					return err
				}
				veth = &kernelVeth{Gbps: g}
			}
			if asJSON {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Results    []topo.TCPResult `json:"results"`
					KernelVeth *kernelVeth      `json:"kernel_veth,omitempty"`
				}{results, veth})
			}
			clock := "wall clock"
			if virtual {
				clock = "virtual time"
			}
			fmt.Fprintf(a.out, "%d MiB over one TCP connection, %s\n", mib, clock)
			tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', tabwriter.AlignRight)
			head := "config\tGbit/s\tcpu s/GB\twire pkts\tretrans\tvs all-on\t"
			if veth != nil {
				head += "vs kernel veth\t"
			}
			fmt.Fprintln(tw, head)
			for _, r := range results {
				line := fmt.Sprintf("%s\t%.2f\t%.3f\t%d\t%d\t%.2f\t", r.Config, r.Gbps, r.CPUPerGB, r.WirePackets, r.Retrans, r.Ratio)
				if veth != nil {
					line += fmt.Sprintf("%.2f\t", r.Gbps/veth.Gbps)
				}
				fmt.Fprintln(tw, line)
			}
			if veth != nil {
				fmt.Fprintf(tw, "kernel veth\t%.2f\t\t\t\t\t\t\n", veth.Gbps)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"results":[{"config":…,"gbps":…,"cpu_s_per_gb":…},…],"kernel_veth":{"gbps":…}}`)
	cmd.Flags().BoolVar(&virtual, "virtual", false, "run in virtual time (deterministic) instead of on the wall clock")
	cmd.Flags().BoolVar(&kernel, "kernel", false, "also measure the kernel's veth pair with iperf3 (root, ip, iperf3)")
	cmd.Flags().Uint64Var(&mib, "mib", 512, "MiB to move per configuration")
	cmd.Flags().IntVar(&secs, "seconds", 3, "iperf3's -t for the kernel's run")
	return cmd
}

type kernelVeth struct {
	Gbps float64 `json:"gbps"`
}

// kernelVethGbps runs iperf3 between two namespaces joined by a veth pair
// (198.18.200.1/2), each end with the kernel's default offloads, and
// returns the receiver's throughput. The namespaces are removed however
// it ends.
func kernelVethGbps(secs int) (float64, error) {
	ip, err := exec.LookPath("ip")
	if err != nil {
		return 0, fmt.Errorf("bench tcp --kernel: %w", err)
	}
	iperf, err := exec.LookPath("iperf3")
	if err != nil {
		return 0, fmt.Errorf("bench tcp --kernel: %w", err)
	}
	pid := strconv.Itoa(os.Getpid())
	a, b := "vnicbench-a-"+pid, "vnicbench-b-"+pid
	run := func(args ...string) error {
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %v: %s", args, err, out)
		}
		return nil
	}
	defer exec.Command(ip, "netns", "del", a).Run()
	defer exec.Command(ip, "netns", "del", b).Run()
	for _, step := range [][]string{
		{"netns", "add", a}, {"netns", "add", b},
		{"-n", a, "link", "add", "vb0", "type", "veth", "peer", "name", "vb1", "netns", b},
		{"-n", a, "addr", "add", "198.18.200.1/24", "dev", "vb0"},
		{"-n", b, "addr", "add", "198.18.200.2/24", "dev", "vb1"},
		{"-n", a, "link", "set", "vb0", "up"}, {"-n", b, "link", "set", "vb1", "up"},
		{"-n", a, "link", "set", "lo", "up"}, {"-n", b, "link", "set", "lo", "up"},
	} {
		if err := run(step...); err != nil {
			return 0, fmt.Errorf("bench tcp --kernel: %w (needs root)", err)
		}
	}
	srv := exec.Command(ip, "netns", "exec", b, iperf, "-s", "-1", "-B", "198.18.200.2")
	if err := srv.Start(); err != nil {
		return 0, err
	}
	defer srv.Process.Kill()
	var out []byte
	for try := 0; try < 50; try++ { // the server needs a moment to listen
		out, err = exec.Command(ip, "netns", "exec", a, iperf, "-c", "198.18.200.2", "-t", strconv.Itoa(secs), "-J").Output()
		if err == nil {
			break
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return 0, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return 0, fmt.Errorf("bench tcp --kernel: iperf3: %v: %s", err, out)
	}
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, fmt.Errorf("bench tcp --kernel: iperf3 -J: %w", err)
	}
	return r.End.SumReceived.BitsPerSecond / 1e9, nil
}
