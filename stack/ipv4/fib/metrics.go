package fib

import (
	"syscall"

	"vnic/stack/rtnetlink"
)

// The congestion control algorithms a route's RTAX_CC_ALGO may name:
// those Linux always has (vnic has no TCP, so the name is only carried).
var ccAlgos = map[string]bool{"reno": true, "cubic": true}

// ConvertMetrics is ip_metrics_convert for a new route's RTA_METRICS:
// an algorithm must be known, RTAX_MTU is cut to 65520 (IP_MAX_MTU),
// RTAX_ADVMSS to 65495 and RTAX_HOPLIMIT to 255, and RTAX_FEATURES takes
// only the user's bits.
func ConvertMetrics(m rtnetlink.Metrics) (rtnetlink.Metrics, error) {
	if m.CC != "" && !ccAlgos[m.CC] {
		return m, &Error{syscall.EINVAL, "Unknown tcp congestion algorithm"}
	}
	if m.Val[rtnetlink.RTAXFeatures]&^rtnetlink.RTAXFeatureMask != 0 {
		return m, &Error{syscall.EINVAL, "Unknown flag set in feature mask in metrics attribute"}
	}
	m.Val[rtnetlink.RTAXMTU] = min(m.Val[rtnetlink.RTAXMTU], 65535-15)
	m.Val[rtnetlink.RTAXAdvMSS] = min(m.Val[rtnetlink.RTAXAdvMSS], 65535-40)
	m.Val[rtnetlink.RTAXHopLimit] = min(m.Val[rtnetlink.RTAXHopLimit], 255)
	return m, nil
}

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
