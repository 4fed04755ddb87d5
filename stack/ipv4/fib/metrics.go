package fib

// Metrics are a route's RTA_METRICS (fib_info's fib_metrics): each value
// by its RTAX_* number, 0 for none (Val[1] is RTAX_LOCK's mask), and the
// congestion control algorithm's name (RTAX_CC_ALGO). The type has the
// shape of rtnetlink.Metrics, the message's, and converts to and from it.
type Metrics struct {
	Val [18]uint32
	CC  string
}

// rtaxMTU is RTAX_MTU's number.
const rtaxMTU = 2

// MTU is the RTAX_MTU metric (0: the device's).
func (x Metrics) MTU() uint32 { return x.Val[rtaxMTU] }

// RTAX_* numbers TCP reads.
const (
	RtaxLock     = 1
	RtaxWindow   = 3
	RtaxRTT      = 4
	RtaxAdvMSS   = 8
	RtaxInitCwnd = 11
	RtaxRTOMin   = 13
	RtaxInitRwnd = 14
	RtaxQuickAck = 15
	RtaxCCAlgo   = 16
)

// AdvMSS is the RTAX_ADVMSS metric (0: from the MTU).
func (x Metrics) AdvMSS() uint32 { return x.Val[RtaxAdvMSS] }

// metricsMatch is fib_metrics_match: every metric a delete request sets
// is the route's.
func (q *Route) metricsMatch(r *Route) bool {
	for t, v := range q.Metrics.Val {
		if v != 0 && r.Metrics.Val[t] != v {
			return false
		}
	}
	return q.Metrics.CC == "" || q.Metrics.CC == r.Metrics.CC
}
