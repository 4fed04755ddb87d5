// Package irqbench reproduces the interrupts-versus-polling results on the
// emulated NIC in virtual time (spec/irq-vs-polling.md): a device under
// test receives a generated stream, its driver runs one receive mode, and
// each measurement window reports delivered and dropped rates (and where
// the drops happened), interrupts per packet, packets per poll, latency
// percentiles and the CPU's time per context. Runs are deterministic.
package irqbench

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"vnic/driver"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/offload"
	"vnic/stack"
)

// Presets are the cost models of spec §2.3.
var Presets = map[string]hw.CostModel{
	// teaching: chosen so curves land on round numbers.
	"teaching": {IRQ: 4 * time.Microsecond, RxPacket: 2 * time.Microsecond, TxPacket: 4 * time.Microsecond,
		Proto: 10 * time.Microsecond, Poll: 2 * time.Microsecond, Timer: time.Microsecond},
	"modern": hw.DefaultCosts,
}

// Preset is a cost model and the name experiments report it by.
type Preset struct {
	Name  string
	Costs hw.CostModel
}

// LookupPreset returns the preset of Presets called name.
func LookupPreset(name string) (Preset, error) {
	c, ok := Presets[name]
	if !ok {
		return Preset{}, fmt.Errorf("no preset %q (teaching, modern)", name)
	}
	return Preset{Name: name, Costs: c}, nil
}

// WithKnobs returns preset with c_ind and the context-switch cost set,
// named after both ("teaching+c_ind=2µs+c_switch=1µs"): an interrupt that
// preempts work costs that work ind more, and a thread switched in (from
// another thread or from idle) pays sw.
func WithKnobs(preset string, ind, sw time.Duration) (Preset, error) {
	p, err := LookupPreset(preset)
	if err != nil {
		return Preset{}, err
	}
	if ind < 0 || ind > time.Millisecond {
		return Preset{}, fmt.Errorf("c_ind %v: want 0 to 1ms", ind)
	}
	if sw < 0 || sw > time.Millisecond {
		return Preset{}, fmt.Errorf("context switch %v: want 0 to 1ms", sw)
	}
	p.Costs.Indirect, p.Costs.Switch = ind, sw
	if ind > 0 {
		p.Name += fmt.Sprintf("+c_ind=%v", ind)
	}
	if sw > 0 {
		p.Name += fmt.Sprintf("+c_switch=%v", sw)
	}
	return p, nil
}

// Mode is a receive mode under test.
type Mode struct {
	ID          string        // M0, M1, ...
	RxMode      driver.RxMode // driver.RxModeLegacy, RxModeNAPI, RxModeQuota or RxModeTick
	LegacyBatch int           // M0: packets per interrupt (0: drain the ring)
	ITR         time.Duration
	// RxIntDelay and RxAbsIntDelay are the receive delay timers (RDTR,
	// restarted by every frame; RADV, from the first): M2's other two
	// timer semantics.
	RxIntDelay, RxAbsIntDelay time.Duration
	// NoKsoftirqd keeps softirq work in softirq context however long it
	// runs (no hand-off to ksoftirqd).
	NoKsoftirqd bool
	// PollQuota is the quota mode's packets per receive callback (0: no
	// bound).
	PollQuota int
	// CycleLimit is the quota mode's polling thread's share of each
	// millisecond (0: no limit).
	CycleLimit float64
	// Feedback is Mogul's queue-state feedback for the quota mode: input
	// stops while the application's socket queue is over 75 % full and
	// resumes once it is under 25 %.
	Feedback bool
	// DeferHardIRQs and GROFlushTimeout are the device's
	// napi_defer_hard_irqs and gro_flush_timeout (M3).
	DeferHardIRQs   int
	GROFlushTimeout time.Duration
	// Threaded polls the device's NAPI in its own kthread (M6).
	Threaded bool
	// Busy polling by the application (M4): with an empty socket it
	// polls the device's NAPI (BusyBudget packets a call, default 8) for
	// up to BusyPoll before sleeping; FullBusy never sleeps.
	// PreferBusyPoll hands the NAPI to the deferral timer, not to NET_RX,
	// when a busy poll ends (SO_PREFER_BUSY_POLL).
	BusyPoll       time.Duration
	BusyBudget     int
	FullBusy       bool
	PreferBusyPoll bool
	// SuspendTimeout is irq-suspend-timeout (M5): the application polls
	// once per wait (epoll with busy_poll_usecs 0 and prefer_busy_poll);
	// while it finds events the interrupt stays suspended (the timer is
	// a safety net of this length); a wait that finds nothing gives the
	// NAPI back to deferral.
	SuspendTimeout time.Duration
}

// Modes of the experiments.
var (
	// M0 is the legacy driver with one interrupt per packet: the case
	// the closed form min(λ, (1 − λa)/b) describes.
	M0 = Mode{ID: "M0", RxMode: driver.RxModeLegacy, LegacyBatch: 1}
	// M0B is M0 whose interrupt handler drains the ring (batching).
	M0B = Mode{ID: "M0-batch", RxMode: driver.RxModeLegacy}
	// M1 is NAPI.
	M1 = Mode{ID: "M1", RxMode: driver.RxModeNAPI}
	// M8 is pure polling on a 1 ms tick, 150 packets a tick.
	M8 = Mode{ID: "M8 tick", RxMode: driver.RxModeTick}
)

// Point is one measurement: a mode at an offered rate.
type Point struct {
	Mode                string  `json:"mode"`
	OfferedPPS          float64 `json:"offered_pps"`
	DeliveredPPS        float64 `json:"delivered_pps"`
	RingDropPPS         float64 `json:"ring_drop_pps"`    // the NIC had no descriptor: no CPU spent
	BacklogDropPPS      float64 `json:"backlog_drop_pps"` // after the interrupt handler's work
	TxDropPPS           float64 `json:"tx_drop_pps"`      // forwarding: output queue full, after the protocol work
	InterruptsPerSec    float64 `json:"interrupts_per_sec"`
	InterruptsPerPacket float64 `json:"interrupts_per_packet"`
	PollsPerInterrupt   float64 `json:"polls_per_interrupt"`
	PacketsPerPoll      float64 `json:"packets_per_poll"`
	MeanLatencyUS       float64 `json:"mean_latency_us"`
	CPUPerPacketUS      float64 `json:"cpu_per_packet_us"` // busy CPU time per delivered packet (the spec's cycles per packet)
	P50LatencyUS        float64 `json:"p50_latency_us"`
	P90LatencyUS        float64 `json:"p90_latency_us"`
	P99LatencyUS        float64 `json:"p99_latency_us"`
	P999LatencyUS       float64 `json:"p999_latency_us"`
	CPUHardirq          float64 `json:"cpu_hardirq"`
	CPUSoftirq          float64 `json:"cpu_softirq"`
	CPUTask             float64 `json:"cpu_task"` // task context other than ksoftirqd and the user task
	CPUKsoftirqd        float64 `json:"cpu_ksoftirqd"`
	CPUUser             float64 `json:"cpu_user"`        // the user thread: the CPU-bound task (Run.UserTask) or the application (Run.App)
	SocketDropPPS       float64 `json:"socket_drop_pps"` // the application's queue was full, after the protocol work
	CPUIdle             float64 `json:"cpu_idle"`
	// DonePolls are polls that emptied the ring (and completed), NotDone
	// the ones that used their whole budget (NAPI_HOWTO's Done/Ndone).
	DonePolls    uint64 `json:"done_polls"`
	NotDonePolls uint64 `json:"not_done_polls"`
	Interrupts   uint64 `json:"interrupts"`
	// EmptyPolls are polls that found no packet: after an interrupt whose
	// cause was a packet an earlier poll already took (the cause stays
	// set in EICR while the vector is masked, and unmasking fires it).
	EmptyPolls uint64 `json:"empty_polls"`
	// TimerPolls were scheduled by the deferral (or suspension) timer,
	// BusyPolls made by busy polling from process context.
	// PollHistogram counts the window's NAPI polls and busy polls by the
	// packets they took: 0, 1, 2-3, 4-7, …, 128-255, 256 and more
	// (stack.PollSizeBucket), up to the last bucket used.
	PollHistogram []uint64 `json:"packets_per_poll_histogram,omitempty"`
	TimerPolls    uint64   `json:"timer_polls"`
	BusyPolls     uint64   `json:"busy_polls"`
	SizeBytes     int      `json:"size_bytes"`
	// Per queue (with several queues): offered and delivered packets per
	// second; and NET_RX rounds cut short by budget or time, per second.
	QueueOfferedPPS   []float64 `json:"queue_offered_pps,omitempty"`
	QueueDeliveredPPS []float64 `json:"queue_delivered_pps,omitempty"`
	QueueRingDropPPS  []float64 `json:"queue_ring_drop_pps,omitempty"`
	TimeSqueezePerSec float64   `json:"time_squeeze_per_sec"`
	// SqueezedRounds is the share of NET_RX rounds that time_squeeze cut.
	SqueezedRounds float64 `json:"squeezed_rounds"`
	// InFlightGrowth is how many more packets the path held (in the
	// rings, backlog and queues, or on the wire) at the window's end than
	// at its start: near zero while it keeps up, growing with the window
	// when it does not (before the buffers fill and drops begin).
	InFlightGrowth int64 `json:"in_flight_growth"`
	// The latency's mean split (µs; one-way load only, see splitter):
	// they add up to MeanLatencyUS.
	LatIRQWaitUS    float64 `json:"lat_irq_wait_us"`
	LatIRQToPollUS  float64 `json:"lat_irq_to_poll_us"`
	LatRingUS       float64 `json:"lat_ring_us"`
	LatProcessingUS float64 `json:"lat_processing_us"`
	LatSocketUS     float64 `json:"lat_socket_us"`
	// Seed is the run's seed (the first one for a mean over seeds).
	Seed int64 `json:"seed"`
	// Spread and Seeds: for a point measured with several seeds
	// (MeasureSeeds), the range of its main figures and the runs.
	Spread *Spread `json:"spread,omitempty"`
	Seeds  []Point `json:"-"`
	// Quantiles is the latency (µs) at each of CDFLevels: the
	// distribution behind the CDF plots and E*-cdf.csv.
	Quantiles []float64 `json:"-"`
}

// CDFLevels are the latency distribution's sampled levels: every
// percent, then the tail.
var CDFLevels = func() []float64 {
	var l []float64
	for i := 0; i < 100; i++ {
		l = append(l, float64(i)/100)
	}
	return append(l, 0.995, 0.999, 0.9999, 1)
}()

// Run is one measurement's setup.
type Run struct {
	Mode    Mode
	Costs   hw.CostModel
	Offered float64 // packets per second, on average
	// Arrivals is the generator: ArrivalsCBR (default), ArrivalsPoisson
	// or ArrivalsOnOff.
	Arrivals string
	// BurstMean is ArrivalsOnOff's mean burst length in packets
	// (geometric; default 32), sent at the link's line rate.
	BurstMean float64
	// Trace is ArrivalsReplay's capture (hw.ReadPcapTiming): its gaps,
	// scaled so that its mean rate is Offered, and its frame sizes, over
	// and over.
	Trace  []hw.PcapRecord
	Warmup time.Duration // discarded
	Window time.Duration // measured
	Seed   int64
	// Size is the frame length without FCS (default 60).
	Size int
	// TouchBytes makes the consumer charge CopyPerKB for every byte of
	// the packet (the size-dependent part of the per-packet cost).
	TouchBytes bool
	// Weights, when set, spread the load over len(Weights) queues (all on
	// the one CPU) in these proportions; otherwise one queue.
	Weights []float64
	// UserTask runs a CPU-bound user thread beside the receive path, in
	// steps of UserUnit (Mogul's "user progress").
	UserTask bool
	// Forward makes the device under test a forwarder: each packet goes
	// back out of it (to h1, where it counts as delivered) through an
	// output queue of TxQueueLen packets (default 1000); the quota mode's
	// transmit callback sends it, the other modes at once.
	Forward    bool
	TxQueueLen int
	// Clients > 0 makes the load request/response: that many clients,
	// each with one request outstanding, at Offered requests per second
	// in all (0: each sends again as soon as its reply is in). The
	// application answers (App and Forward are implied); h1, where the
	// replies arrive, costs nothing (an ideal load generator), and the
	// latency is the round trip.
	Clients int
	// App delivers each packet to a user-level application through a
	// socket queue of SocketQueue packets (default 32); the application,
	// a user thread, takes AppCost per packet, and a packet counts as
	// delivered when it has.
	App         bool
	AppCost     time.Duration
	SocketQueue int
}

// UserUnit is one step of the CPU-bound user task.
const UserUnit = 10 * time.Microsecond

// consumer is the application end: it takes each packet after the stack,
// reads the send time from the payload and records the latency.
//
// A work item's code runs when the item starts and the CPU is then busy
// for its cost, so "delivered" is not counted when the handler runs: each
// packet is delivered once the time its context (softirq, or ksoftirqd in
// task context) spent up to and including its own work has elapsed (pos,
// compared with the CPU's elapsed time per context at the window's
// edges). Latency takes the handler's time including the
// work charged before it in its item.
type consumer struct {
	perQueue  []uint64 // delivered per RX queue while measuring
	touch     func(n int)
	now       func() time.Duration
	pos       func() (hw.Level, time.Duration)
	measuring bool
	delivered uint64
	positions [3][]time.Duration // per CPU context
	lat       []time.Duration
	split     *splitter // one-way runs: the latency's parts
	// socketAt is when the packet being handed over entered the socket
	// queue (the application sets it; 0 without one).
	socketAt time.Duration
	// stamped: the DUT's take time and queue are in the payload (the
	// consumer is on h1, after forwarding).
	stamped bool
}

// The latency split of spec §2.6: each delivered packet's latency (from
// its arrival at the NIC, which the generator's frames reach at the
// instant they are sent) in parts that add up to it:
//
//   - irq wait: arrival → the message of the queue's vector that led to
//     the pass that took it (the last one before that pass, if it came
//     after the arrival): interrupt coalescing, a masked vector's wait;
//   - irq to poll: that message → the start of the pass of the driver's
//     receive loop that took it (handler, softirq scheduling, the packets
//     ahead of it);
//   - ring: arrival → that pass, for packets taken without an interrupt
//     after their arrival (by a poll going on, a timer, a tick or a busy
//     poll);
//   - processing: the pass → the consumer (the stack, the backlog, GRO;
//     forwarding's output queue and the receiver);
//   - socket: the socket queue → the application reading it.
const (
	partIRQWait = iota
	partIRQToPoll
	partRing
	partProcessing
	partSocket
	numParts
)

// splitter keeps the times of each queue's interrupt messages and the
// parts' sums over the window.
type splitter struct {
	vecQueue map[int]int       // vector → queue
	signals  [][]time.Duration // per queue, in order
	sum      [numParts]time.Duration
	n        uint64
}

// add splits one packet's latency, arrival → at.
func (sp *splitter) add(q int, arrival, take, socketAt, at time.Duration) {
	var part [numParts]time.Duration
	sig := time.Duration(-1)
	if q >= 0 && q < len(sp.signals) {
		ts := sp.signals[q]
		if i := sort.Search(len(ts), func(i int) bool { return ts[i] > take }); i > 0 {
			sig = ts[i-1]
		}
	}
	if sig >= arrival {
		part[partIRQWait], part[partIRQToPoll] = sig-arrival, take-sig
	} else {
		part[partRing] = take - arrival
	}
	if socketAt > 0 {
		part[partProcessing], part[partSocket] = socketAt-take, at-socketAt
	} else {
		part[partProcessing] = at - take
	}
	for i := range part {
		sp.sum[i] += part[i]
	}
	sp.n++
}

// mean is part i's mean over the window, in µs.
func (sp *splitter) mean(i int) float64 {
	if sp == nil || sp.n == 0 {
		return 0
	}
	return float64(sp.sum[i]) / float64(sp.n) / float64(time.Microsecond)
}

func (c *consumer) handle(skb *stack.SKB) {
	d := skb.Data()
	if c.touch != nil {
		c.touch(skb.Len() + stack.EthHdrLen)
	}
	if len(d) >= 36 {
		sent := time.Duration(binary.BigEndian.Uint64(d[28:36]))
		c.delivered++
		l, at := c.pos()
		c.positions[l] = append(c.positions[l], at)
		if c.measuring {
			now := c.now()
			c.lat = append(c.lat, now-sent)
			if q := int(skb.QueueMapping); q < len(c.perQueue) {
				c.perQueue[q]++
			}
			if c.split != nil {
				take, q := skb.Tstamp, int(skb.QueueMapping)
				if c.stamped && len(d) >= 46 {
					take, q = time.Duration(binary.BigEndian.Uint64(d[36:44])), int(binary.BigEndian.Uint16(d[44:46]))
				}
				c.split.add(q, sent, take, c.socketAt, now)
			}
		}
	}
	skb.Free()
}

// deliveredBy counts packets whose work had run when the CPU's elapsed
// softirq time was e.
func (c *consumer) deliveredBy(e [3]time.Duration) uint64 {
	n := 0
	for l, pos := range c.positions {
		n += sort.Search(len(pos), func(i int) bool { return pos[i] > e[l] })
	}
	return uint64(n)
}

// counters is a snapshot of everything a window is the difference of.
type counters struct {
	offered, delivered, ringDrops, backlogDrops, txDrops, sinkDrops, socketDrops, interrupts, polls, pollPackets, budgetHits, empty, squeeze, rounds, timerPolls, busyPolls, overBudget uint64
	perQueue, perQueueDrops                                                                                                                                                             []uint64
	busy                                                                                                                                                                                [3]time.Duration
	ksoftirqd, user                                                                                                                                                                     time.Duration
	pollSizes                                                                                                                                                                           [stack.PollSizeBuckets]uint64
}

// inFlight is what the generator made and was neither delivered nor
// dropped yet.
func (c counters) inFlight() int64 {
	return int64(c.offered) - int64(c.delivered+c.ringDrops+c.backlogDrops+c.txDrops+c.sinkDrops+c.socketDrops)
}

// rig is a measurement's world: a two-host pair whose h2 is the device
// under test (the mode's driver, one CPU), the consumer on it, one UDP
// flow per queue that RSS steers there, and a generator.
type rig struct {
	r         Run
	nq        int
	w         *topo.World
	dut       *topo.Device
	host      *topo.Host
	cpu       *hw.CPU
	cons      *consumer
	sig       *splitter    // the queue vectors' message times
	sink      *topo.Device // where packets are delivered: the DUT, or h1 when forwarding
	sinkCPU   *hw.CPU
	app       *app
	ksoftirqd *hw.Thread
	user      *hw.Thread
	flows     [][4]byte        // source address per queue
	frames    map[int][][]byte // by size, per queue
	sent      uint64
	queueSent []uint64
	running   bool
	timer     hw.Timer
	// request/response clients (Run.Clients)
	replied     func(client int)
	stopClients func()
}

// usecs is d in whole µs, as topo.DeviceConfig takes timers.
func usecs(d time.Duration) int { return int(d / time.Microsecond) }

// newRig builds r's world with dc as the device configuration (queues,
// mode and interval are filled in from r).
func newRig(r Run, dc topo.DeviceConfig) (*rig, error) {
	g := &rig{r: r, nq: max(1, len(r.Weights)), frames: map[int][][]byte{}}
	dc.Queues, dc.RxMode, dc.LegacyBatch, dc.PollQuota = g.nq, r.Mode.RxMode.String(), r.Mode.LegacyBatch, r.Mode.PollQuota
	if dc.ITRUsecs == 0 {
		dc.ITRUsecs = usecs(r.Mode.ITR)
	}
	dc.RxIntDelayUsecs, dc.RxAbsIntDelayUsecs = usecs(r.Mode.RxIntDelay), usecs(r.Mode.RxAbsIntDelay)
	cfg := topo.Pair(dc, 1, linkMbps)
	cfg.Hosts[0].Devices[0] = topo.DeviceConfig{Queues: 1, MTU: dc.MTU} // h1: a plain NAPI receiver
	if r.Clients > 0 {
		cfg.Hosts[0].Costs = &topo.Costs{} // the load generator costs nothing
	}
	cfg.Costs = topo.Costs(r.Costs)
	cfg.Seed = r.Seed
	w, err := topo.Build(cfg)
	if err != nil {
		return nil, err
	}
	g.w = w
	w.Run(time.Millisecond) // link up
	g.dut = w.Hosts[1].Devices[0]
	g.host = g.dut.Host
	g.cpu = g.host.CPUs[0]
	g.cpu.Ksoftirqd = !r.Mode.NoKsoftirqd
	g.ksoftirqd = g.cpu.KsoftirqdThread()
	if r.UserTask && r.App {
		w.Close()
		return nil, fmt.Errorf("irqbench: a user task and an application: one user thread at a time")
	}
	if r.UserTask {
		g.user = g.cpu.NewThread("user", func() bool { g.cpu.Charge(UserUnit); return true })
		g.user.Wake()
	}
	if r.Mode.RxMode == driver.RxModeQuota {
		g.host.Stack.PollThread(0).CycleLimit = r.Mode.CycleLimit
	}
	g.sink, g.sinkCPU = g.dut, g.cpu
	if r.Forward {
		g.sink = w.Hosts[0].Devices[0]
		g.sinkCPU = g.sink.Host.CPUs[0]
		if r.TxQueueLen > 0 {
			g.dut.Netdev.TxQueueLen = r.TxQueueLen
		}
		if !r.App {
			g.host.Stack.AddProtocol(stack.EthPIPv4, g.forward)
		}
	}
	g.cons = &consumer{now: g.sinkCPU.Now, perQueue: make([]uint64, g.nq), pos: g.sinkCPU.Position} // now includes the work charged so far
	if r.TouchBytes {
		g.cons.touch = g.cpu.ChargeCopy
	}
	// The queue vectors' messages, for the latency split and the rate
	// cap's invariant.
	sp := &splitter{vecQueue: map[int]int{}, signals: make([][]time.Duration, g.nq)}
	for q := 0; q < g.nq; q++ {
		sp.vecQueue[g.dut.Adapter.NAPI(q).IRQ] = q
	}
	now := g.w.Clock.Now
	g.dut.HW.MSIX().SetTrace(func(vec int) {
		if q, ok := sp.vecQueue[vec]; ok {
			sp.signals[q] = append(sp.signals[q], now())
		}
	})
	g.sig = sp
	if r.Clients == 0 {
		// One-way load: split the latency (request/response measures
		// round trips, whose parts are on both hosts).
		g.cons.split, g.cons.stamped = sp, r.Forward
	}
	if r.App {
		g.app = newApp(g, r)
	}
	if r.Clients > 0 {
		g.sink.Host.Stack.AddProtocol(stack.EthPIPv4, g.reply)
	} else if !r.App || r.Forward {
		g.sink.Host.Stack.AddProtocol(stack.EthPIPv4, g.cons.handle)
	}
	g.dut.Netdev.SetThreaded(r.Mode.Threaded)
	if r.Mode.DeferHardIRQs > 0 {
		if err := g.dut.Netdev.SetNAPIDefer(r.Mode.DeferHardIRQs, r.Mode.GROFlushTimeout); err != nil {
			w.Close()
			return nil, err
		}
	}

	// One flow per queue: a source the device's RSS puts on that queue
	// (default table: entry = hash mod 128, queue = entry mod n).
	key := g.dut.Adapter.RSSKey()
	tz := offload.NewToeplitz(key[:])
	g.flows = make([][4]byte, g.nq)
	found := 0
	for f := 0; found < g.nq; f++ {
		if f > 1<<16 {
			w.Close()
			return nil, fmt.Errorf("irqbench: no flow found for every one of %d queues", g.nq)
		}
		src := stack.FlowAddrs([4]byte{198, 18, 0, 1}, f)
		q := int(tz.HashIPv4(src, [4]byte{198, 19, 0, 1}, 0, 0, false)&0x7f) % g.nq
		if g.flows[q] == ([4]byte{}) {
			g.flows[q] = src
			found++
		}
	}
	g.queueSent = make([]uint64, g.nq)
	return g, nil
}

// forward sends skb (at its network header) back out of the device under
// test, to h1: the output queue holds it for the transmit callback (quota
// mode) or it goes at once.
func (g *rig) forward(skb *stack.SKB) {
	if g.cons.stamped {
		// For the latency split at the far end: when and on which queue
		// the DUT's driver took it.
		if d := skb.Data(); len(d) >= 46 {
			binary.BigEndian.PutUint64(d[36:44], uint64(skb.Tstamp))
			binary.BigEndian.PutUint16(d[44:46], skb.QueueMapping)
		}
	}
	out, to := g.dut.Netdev, g.sink.Netdev.Addr()
	eth := skb.Push(stack.EthHdrLen)
	copy(eth[0:6], to[:])
	a := out.Addr()
	copy(eth[6:12], a[:])
	skb.ResetMACHeader()
	skb.Dev, skb.XmitMore = out, g.r.Mode.RxMode == driver.RxModeQuota
	_ = stack.DevQueueXmit(skb) // a full queue drops and counts
}

// frame returns queue q's frame of size bytes (without FCS).
func (g *rig) frame(q, size int) []byte {
	fs := g.frames[size]
	if fs == nil {
		fs = make([][]byte, g.nq)
		g.frames[size] = fs
	}
	if fs[q] == nil {
		fs[q] = make([]byte, size)
		stack.BuildUDPFrame(fs[q], g.dut.Netdev.Addr(), stack.MAC{0x02, 0, 0, 0, 0x09, 0}, g.flows[q], [4]byte{198, 19, 0, 1}, 1000, 9)
	}
	return fs[q]
}

// generate starts feeding the device: next gives each packet's time since
// now and its size; the queues take turns by r.Weights (smooth weighted
// round robin: the queue furthest behind its share goes next).
func (g *rig) generate(next func() (time.Duration, int)) {
	weights := g.r.Weights
	if weights == nil {
		weights = []float64{1}
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	credit := make([]float64, g.nq)
	pick := func() int {
		best := 0
		for q := range credit {
			credit[q] += weights[q]
			if credit[q] > credit[best] {
				best = q
			}
		}
		credit[best] -= total
		return best
	}
	g.running = true
	start := g.w.Clock.Now()
	size := 0
	var tick func()
	g.timer = g.w.Clock.NewTimer(func() { tick() })
	tick = func() {
		if !g.running {
			return
		}
		now := g.w.Clock.Now()
		q := pick()
		frame := g.frame(q, size)
		binary.BigEndian.PutUint64(frame[42:50], uint64(now))
		g.dut.HW.Receive(frame)
		g.sent++
		g.queueSent[q]++
		var at time.Duration
		at, size = next()
		g.timer.Reset(start + at - now)
	}
	var at time.Duration
	at, size = next()
	g.timer.Reset(at)
}

// stop ends the generator.
func (g *rig) stop() {
	g.running = false
	if g.timer != nil {
		g.timer.Stop()
	}
	if g.stopClients != nil {
		g.stopClients()
	}
}

// snap takes the counters.
func (g *rig) snap() counters {
	hs := g.dut.Adapter.HWStats()
	sn := g.host.Stack.Softnet(0).Stats()
	napi := g.r.Mode.RxMode != driver.RxModeLegacy // NAPI polls (tick mode's too), or the quota mode's receive turns
	var polls, pkts, hits, irqs, empty, timerPolls, busyPolls uint64
	var sizes [stack.PollSizeBuckets]uint64
	var overBudget uint64
	drops := make([]uint64, g.nq)
	for q := 0; q < g.nq; q++ {
		s := g.dut.Adapter.QueueStats(q)
		irqs += s.Interrupts
		drops[q] = s.RxDrops
		if napi {
			polls, pkts, hits, empty = polls+s.Polls, pkts+s.PollWork, hits+s.BudgetHits, empty+s.EmptyPolls
		}
		ns := g.dut.Adapter.NAPI(q).Stats()
		timerPolls, busyPolls = timerPolls+ns.TimerPolls, busyPolls+ns.BusyPolls
		for i, v := range ns.PollSizes {
			sizes[i] += v
		}
		overBudget += ns.OverBudget
	}
	if !napi {
		bs := g.host.Stack.Softnet(0).BacklogStats()
		polls, pkts, hits = bs.Polls, bs.Packets, bs.BudgetHits
	}
	b := g.cpu.ElapsedBusy()
	c := counters{offered: g.sent, delivered: g.cons.deliveredBy(g.sinkCPU.ElapsedBusy()), ringDrops: hs.MPC, backlogDrops: sn.Dropped,
		interrupts: irqs, polls: polls, pollPackets: pkts, budgetHits: hits, squeeze: sn.TimeSqueeze, rounds: sn.Rounds, empty: empty, timerPolls: timerPolls, busyPolls: busyPolls, pollSizes: sizes, overBudget: overBudget,
		perQueue: append([]uint64(nil), g.queueSent...), perQueueDrops: drops,
		busy: [3]time.Duration{b[hw.Hardirq], b[hw.Softirq], b[hw.Task]}, ksoftirqd: g.ksoftirqd.ElapsedBusy()}
	if g.user != nil {
		c.user = g.user.ElapsedBusy()
	}
	if g.app != nil {
		c.socketDrops = g.app.drops
	}
	if g.sink != g.dut {
		for i := 0; i < g.dut.Netdev.NumTxQueues(); i++ {
			c.txDrops += g.dut.Netdev.TxQueue(i).Counters().QdiscDrops
		}
		c.sinkDrops = g.sink.Adapter.HWStats().MPC
	}
	return c
}

// measure starts a window: the consumer records latencies and per-queue
// deliveries from now; it returns the snapshot the window starts from.
func (g *rig) measure() counters {
	g.cons.lat = g.cons.lat[:0]
	clear(g.cons.perQueue)
	if sp := g.cons.split; sp != nil {
		sp.sum, sp.n = [numParts]time.Duration{}, 0
	}
	g.cons.measuring = true
	return g.snap()
}

// drain stops the generator, lets the device finish, and checks
// conservation: every frame the generator made was delivered or dropped
// at a counted place.
func (g *rig) drain(label string) error {
	g.cons.measuring = false
	g.stop()
	g.w.Run(50 * time.Millisecond)
	end := g.snap()
	if end.offered != g.cons.delivered+end.ringDrops+end.backlogDrops+end.txDrops+end.sinkDrops+end.socketDrops || end.delivered != g.cons.delivered {
		return fmt.Errorf("irqbench: %s: %d offered, %d delivered + %d ring drops + %d backlog drops + %d output queue drops + %d dropped by the receiver + %d socket drops",
			label, end.offered, end.delivered, end.ringDrops, end.backlogDrops, end.txDrops, end.sinkDrops, end.socketDrops)
	}
	return nil
}

// Measure runs one point: it builds a two-host world whose h2 is the
// device under test (one queue unless r.Weights, one CPU, the mode's
// driver), feeds it UDP frames at the offered rate, and measures a window
// after a warm-up. It checks packet conservation and that CPU shares add
// up, and fails otherwise.
func Measure(r Run) (Point, error) {
	if r.Clients > 0 {
		r.App, r.Forward = true, true
	}
	g, err := newRig(r, topo.DeviceConfig{})
	if err != nil {
		return Point{}, err
	}
	defer g.w.Close()
	size := r.Size
	if size == 0 {
		size = 60
	}
	if r.Clients > 0 {
		if r.Offered < 0 || math.IsInf(r.Offered, 0) || math.IsNaN(r.Offered) {
			return Point{}, fmt.Errorf("irqbench: request rate %v: want 0 (as fast as replies come) or more", r.Offered)
		}
		g.clients(size)
	} else {
		if r.Arrivals == ArrivalsReplay {
			next, err := replay(r)
			if err != nil {
				return Point{}, err
			}
			g.generate(next)
		} else {
			next, err := arrivals(r, linkMbps, size)
			if err != nil {
				return Point{}, err
			}
			g.generate(func() (time.Duration, int) { return next(), size })
		}
	}
	g.w.Run(r.Warmup)
	c0, t0 := g.measure(), g.w.Clock.Now()
	g.w.Run(r.Window)
	c1 := g.snap()
	label := fmt.Sprintf("%s at %.0f pps", r.Mode.ID, r.Offered)
	if err := g.drain(label); err != nil {
		return Point{}, err
	}
	if n := g.snap().overBudget; n > 0 {
		return Point{}, fmt.Errorf("irqbench: %s: %d polls did more work than their budget", label, n)
	}
	p, err := g.point(label, c0, c1, r.Window, size)
	if err != nil {
		return p, err
	}
	return p, g.invariants(label, p, t0, t0+r.Window)
}

// invariants are spec §2.9's checks on interrupts, asserted in every run
// they apply to (conservation, CPU shares and no poll over its budget are
// checked by drain, point and Measure):
//   - plain NAPI (no deferral, busy polling or suspension, a fixed or no
//     interval): every interrupt follows an unmask, so a window has at
//     most one interrupt per queue more than completed polls;
//   - a fixed EITR interval: no two messages of a vector closer than it.
func (g *rig) invariants(label string, p Point, from, to time.Duration) error {
	m := g.r.Mode
	plain := m.RxMode == driver.RxModeNAPI && m.DeferHardIRQs == 0 && m.BusyPoll == 0 && !m.FullBusy && m.SuspendTimeout == 0 && !dynamicITRMode(m.ITR)
	if plain && p.Interrupts > p.DonePolls+uint64(g.nq) {
		return fmt.Errorf("irqbench: %s: %d interrupts but %d completed polls: an interrupt without an unmask", label, p.Interrupts, p.DonePolls)
	}
	if m.ITR >= driver.MinITRUsecs*time.Microsecond {
		for q, ts := range g.sig.signals {
			for i := 1; i < len(ts); i++ {
				if ts[i] >= from && ts[i] <= to && ts[i]-ts[i-1] < m.ITR {
					return fmt.Errorf("irqbench: %s: queue %d's vector sent messages %v apart, under its %v interval", label, q, ts[i]-ts[i-1], m.ITR)
				}
			}
		}
	}
	return nil
}

// dynamicITRMode: rx-usecs 1 or 3, igb's adaptive settings.
func dynamicITRMode(itr time.Duration) bool {
	return itr == time.Microsecond || itr == 3*time.Microsecond
}

// point is the window between snapshots c0 and c1, of length window.
func (g *rig) point(label string, c0, c1 counters, window time.Duration, size int) (Point, error) {
	cons := g.cons
	secs := window.Seconds()
	p := Point{Mode: g.r.Mode.ID, Seed: g.r.Seed, OfferedPPS: float64(c1.offered-c0.offered) / secs,
		DeliveredPPS:     float64(c1.delivered-c0.delivered) / secs,
		RingDropPPS:      float64(c1.ringDrops-c0.ringDrops) / secs,
		BacklogDropPPS:   float64(c1.backlogDrops-c0.backlogDrops) / secs,
		TxDropPPS:        float64(c1.txDrops-c0.txDrops) / secs,
		SocketDropPPS:    float64(c1.socketDrops-c0.socketDrops) / secs,
		InterruptsPerSec: float64(c1.interrupts-c0.interrupts) / secs,
		Interrupts:       c1.interrupts - c0.interrupts, SizeBytes: size,
		NotDonePolls: c1.budgetHits - c0.budgetHits}
	p.DonePolls = (c1.polls - c0.polls) - p.NotDonePolls
	p.InFlightGrowth = c1.inFlight() - c0.inFlight()
	p.EmptyPolls = c1.empty - c0.empty
	p.TimerPolls, p.BusyPolls = c1.timerPolls-c0.timerPolls, c1.busyPolls-c0.busyPolls
	last := -1
	var hist [stack.PollSizeBuckets]uint64
	for i := range hist {
		if hist[i] = c1.pollSizes[i] - c0.pollSizes[i]; hist[i] > 0 {
			last = i
		}
	}
	if last >= 0 {
		p.PollHistogram = append([]uint64(nil), hist[:last+1]...)
	}
	p.TimeSqueezePerSec = float64(c1.squeeze-c0.squeeze) / secs
	if n := c1.rounds - c0.rounds; n > 0 {
		// A round is counted as it starts and cut as it ends, so one
		// straddling the window's edge can push the share past 1.
		p.SqueezedRounds = min(1, float64(c1.squeeze-c0.squeeze)/float64(n))
	}
	if g.nq > 1 {
		for q := 0; q < g.nq; q++ {
			p.QueueOfferedPPS = append(p.QueueOfferedPPS, float64(c1.perQueue[q]-c0.perQueue[q])/secs)
			p.QueueDeliveredPPS = append(p.QueueDeliveredPPS, float64(cons.perQueue[q])/secs)
			p.QueueRingDropPPS = append(p.QueueRingDropPPS, float64(c1.perQueueDrops[q]-c0.perQueueDrops[q])/secs)
		}
	}
	if rx := c1.offered - c0.offered - (c1.ringDrops - c0.ringDrops); rx > 0 {
		p.InterruptsPerPacket = float64(c1.interrupts-c0.interrupts) / float64(rx)
	}
	if n := c1.interrupts - c0.interrupts; n > 0 {
		p.PollsPerInterrupt = float64(c1.polls-c0.polls) / float64(n)
	}
	if n := c1.polls - c0.polls; n > 0 {
		p.PacketsPerPoll = float64(c1.pollPackets-c0.pollPackets) / float64(n)
	}
	var shares [3]float64
	total := 0.0
	for i := range shares {
		shares[i] = float64(c1.busy[i]-c0.busy[i]) / float64(window)
		total += shares[i]
	}
	if total > 1+1e-9 {
		return Point{}, fmt.Errorf("irqbench: %s: CPU shares add to %.4f", label, total)
	}
	p.CPUHardirq, p.CPUSoftirq = shares[0], shares[1]
	p.CPUKsoftirqd = float64(c1.ksoftirqd-c0.ksoftirqd) / float64(window)
	p.CPUUser = float64(c1.user-c0.user) / float64(window)
	p.CPUTask = shares[2] - p.CPUKsoftirqd - p.CPUUser
	if p.CPUTask < -1e-9 {
		return Point{}, fmt.Errorf("irqbench: %s: task share %.6f under its threads' %.6f + %.6f", label, shares[2], p.CPUKsoftirqd, p.CPUUser)
	}
	p.CPUTask = max(0, p.CPUTask)
	p.CPUIdle = max(0, 1-total)
	if p.DeliveredPPS > 0 {
		p.CPUPerPacketUS = total / p.DeliveredPPS * 1e6
	}
	if len(cons.lat) > 0 {
		lat := slices.Clone(cons.lat)
		slices.Sort(lat)
		q := func(f float64) float64 {
			i := int(f * float64(len(lat)-1))
			return float64(lat[i]) / float64(time.Microsecond)
		}
		p.P50LatencyUS, p.P90LatencyUS, p.P99LatencyUS, p.P999LatencyUS = q(0.5), q(0.9), q(0.99), q(0.999)
		p.Quantiles = make([]float64, len(CDFLevels))
		for i, f := range CDFLevels {
			p.Quantiles[i] = q(f)
		}
		var sum time.Duration
		for _, l := range lat {
			sum += l
		}
		p.MeanLatencyUS = float64(sum) / float64(len(lat)) / float64(time.Microsecond)
		if sp := cons.split; sp != nil {
			p.LatIRQWaitUS, p.LatIRQToPollUS, p.LatRingUS = sp.mean(partIRQWait), sp.mean(partIRQToPoll), sp.mean(partRing)
			p.LatProcessingUS, p.LatSocketUS = sp.mean(partProcessing), sp.mean(partSocket)
		}
	}
	return p, nil
}
