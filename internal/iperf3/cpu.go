package iperf3

import (
	"syscall"
	"time"
)

// cpuMeter is iperf_util.c's cpu_util: the process's user and system
// time over the wall time between two samples, in percent. On vnic the
// process is the whole emulation (every host, NIC and driver), not one
// host: the figure says what the test cost the machine running vnic.
type cpuMeter struct {
	wall      time.Time
	user, sys time.Duration
	started   bool
}

func rusage() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// start is cpu_util(NULL).
func (m *cpuMeter) start() {
	m.wall = time.Now()
	m.user, m.sys = rusage()
	m.started = true
}

// sample is cpu_util(pcpu): total, user and system percent since start.
func (m *cpuMeter) sample() [3]float64 {
	if !m.started {
		return [3]float64{}
	}
	wall := time.Since(m.wall)
	user, sys := rusage()
	if wall <= 0 {
		return [3]float64{}
	}
	u := float64((user - m.user).Microseconds()) / float64(wall.Microseconds()) * 100
	s := float64((sys - m.sys).Microseconds()) / float64(wall.Microseconds()) * 100
	return [3]float64{u + s, u, s}
}
