package selftests

// The table for fib_tests.sh (Linux 6.1): for each group the script runs
// with -t GROUP, its cases in the order the script reports them. Messages
// repeat within a group, so a case is its group, its ordinal (its place in
// the list) and its message. docs/selftests.md lists every cannot case with
// the same reason (TestDocsListEveryCannot).
//
// A case vnic does not pass yet but could (a behaviour of IPv4 routing,
// addresses or neighbours) is pass: the run shows what is left. cannot is
// only for what needs something vnic does not have: tc, socat and
// netfilter, IPv6.

func p(msg string) expect { return expect{msg: msg, kind: pass} }

// six is an IPv6 case: the alias answers its commands (docs/selftests.md),
// so its verdict says nothing of vnic.
func six(msg string) expect { return expect{msg: msg, kind: ipv6} }

func no(why, msg string) expect { return expect{msg: msg, kind: cannot, why: why} }

// The reasons, one for each thing vnic lacks.
const (
	whyV6Gateway  = "needs IPv6: an IPv4 route through an IPv6 gateway (`via inet6`, RTA_VIA) is refused without IPv6, as Linux without IPv6 refuses it"
	whyV6GwPing   = "needs IPv6: its verdict is the `via inet6` route add's"
	whyRpFilterTC = "setup needs tc (fq_codel and ingress qdiscs, `basic` filters with mirred redirects): set -e stops the group before its cases"
	whyMangle     = "needs socat and iptables (the mangle table's MARK; netfilter is a later issue): without socat the script skips the group"
)

// fibGroup is one -t GROUP of fib_tests.sh.
type fibGroup struct {
	name  string
	cases []expect
}

// ipv6Groups are the script's groups vnic does not run: all their cases are IPv6.
var ipv6Groups = []string{"ipv6_rt", "ipv6_addr_metric", "ipv6_route_metrics", "ipv6_mangle"}

// downMultipathStep is fib_down_multipath_test_do's eight cases.
var downMultipathStep = []expect{
	p("IPv4 fibmatch on down device"), six("IPv6 fibmatch on down device"),
	p("IPv4 fibmatch on up device"), six("IPv6 fibmatch on up device"),
	p("IPv4 flags on down device"), six("IPv6 flags on down device"),
	p("IPv4 flags on up device"), six("IPv6 flags on up device"),
}

func cat(parts ...[]expect) []expect {
	var all []expect
	for _, part := range parts {
		all = append(all, part...)
	}
	return all
}

var fibGroups = []fibGroup{
	{"unregister", []expect{
		// Single path route test
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 fibmatch - no route"), six("IPv6 fibmatch - no route"),
		// Multipath route test
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 - multipath route removed on delete"), six("IPv6 - multipath down to single path"),
		six("IPv6 - no route"),
	}},
	{"down", cat([]expect{
		// Single path, admin down
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		// Admin down multipath
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
	},
		downMultipathStep, // one device down, one up
		downMultipathStep, // other device down and up
		[]expect{p("IPv4 fibmatch"), six("IPv6 fibmatch")}, // both devices down
	)},
	{"carrier", []expect{
		// Local carrier tests - single path
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 - no linkdown flag"), six("IPv6 - no linkdown flag"),
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 - linkdown flag set"), six("IPv6 - linkdown flag set"),
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 linkdown flag set"), six("IPv6 linkdown flag set"),
		// Single path route carrier test
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 no linkdown flag"), six("IPv6 no linkdown flag"),
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 linkdown flag set"), six("IPv6 linkdown flag set"),
		p("IPv4 fibmatch"), six("IPv6 fibmatch"),
		p("IPv4 linkdown flag set"), six("IPv6 linkdown flag set"),
	}},
	// The IPv4 half has no cases ("<<< write me >>>"), and the IPv6 half
	// reports none when it finds no link-local address, which the alias
	// never gives; its setup stops earlier anyway, at `type vrf`.
	{"nexthop", nil},
	// Its one case is logged whatever happens, after IPv6 commands only.
	{"suppress", []expect{six("FIB rule suppress test")}},
	{"ipv4_rt", []expect{
		// IPv4 route add / append tests
		p("Attempt to add duplicate route - gw"),
		p("Attempt to add duplicate route - dev only"),
		p("Attempt to add duplicate route - reject route"),
		p("Add new nexthop for existing prefix"),
		p("Append nexthop to existing route - gw"),
		p("Append nexthop to existing route - dev only"),
		p("Append nexthop to existing route - reject route"),
		p("Append nexthop to existing reject route - gw"),
		p("Append nexthop to existing reject route - dev only"),
		p("add multipath route"),
		p("Attempt to add duplicate multipath route"),
		p("Route add with different metrics"),
		p("Route delete with metric"),
		// IPv4 route replace tests
		p("Single path with single path"),
		p("Single path with multipath"),
		p("Single path with reject route"),
		p("Single path with single path via multipath attribute"),
		p("Invalid nexthop"),
		p("Single path - replace of non-existent route"),
		p("Multipath with multipath"),
		p("Multipath with single path"),
		p("Multipath with single path via multipath attribute"),
		p("Multipath with reject route"),
		p("Multipath - invalid first nexthop"),
		p("Multipath - invalid second nexthop"),
		p("Multipath - replace of non-existent route"),
		p("Cached route removed from VRF port device"),
		// IPv4 route with dsfield tests
		p("Reject route with dsfield 0x01"),
		p("Reject route with dsfield 0x02"),
		p("Reject route with dsfield 0x03"),
		p("IPv4 route with DSCP and ECN:Not-ECT"),
		p("IPv4 route with DSCP and ECN:ECT(1)"),
		p("IPv4 route with DSCP and ECN:ECT(0)"),
		p("IPv4 route with DSCP and ECN:CE"),
		p("IPv4 route with unknown DSCP and ECN:Not-ECT"),
		p("IPv4 route with unknown DSCP and ECN:ECT(1)"),
		p("IPv4 route with unknown DSCP and ECN:ECT(0)"),
		p("IPv4 route with unknown DSCP and ECN:CE"),
		p("IPv4 route with no DSCP and ECN:Not-ECT"),
		p("IPv4 route with no DSCP and ECN:ECT(1)"),
		p("IPv4 route with no DSCP and ECN:ECT(0)"),
		p("IPv4 route with no DSCP and ECN:CE"),
	}},
	{"ipv4_addr_metric", []expect{
		p("Default metric"),
		p("User specified metric on first device"),
		p("User specified metric on second device"),
		p("Delete of address on first device"),
		p("Modify metric of address"),
		p("Prefix route removed on link down"),
		p("Prefix route with metric on link up"),
		p("Modify metric of .0/24 address"),
		p("Set metric of address with peer route"),
		p("Modify metric and peer address for peer route"),
	}},
	{"ipv4_route_metrics", []expect{
		p("Single path route with mtu metric"),
		p("Multipath route with mtu metric"),
		p("Using route with mtu metric"),
		p("Invalid metric (fails metric_convert)"),
	}},
	{"ipv4_route_v6_gw", []expect{
		no(whyV6Gateway, "Single path route with IPv6 gateway"),
		no(whyV6GwPing, "Single path route with IPv6 gateway - ping"),
		no(whyV6Gateway, "Single path route delete"),
		no(whyV6Gateway, "Multipath route add - v6 nexthop then v4"),
		// The route is not there and a delete naming an IPv6 gateway is
		// refused: exit 2, what the case wants, as on Linux without IPv6.
		p("Multipath route delete - nexthops in wrong order"),
		no(whyV6Gateway, "Multipath route delete exact match"),
		no(whyV6Gateway, "Multipath route add - v4 nexthop then v6"),
		p("Multipath route delete - nexthops in wrong order"),
		no(whyV6Gateway, "Multipath route delete exact match"),
	}},
	{"rp_filter", []expect{
		no(whyRpFilterTC, "rp_filter passes local packets"),
		no(whyRpFilterTC, "rp_filter passes loopback packets"),
	}},
	{"ipv4_del_addr", []expect{
		// Regular FIB info
		p("Route removed from VRF when source address deleted"),
		p("Route in default VRF not removed"),
		p("Route removed in default VRF when source address deleted"),
		p("Route in VRF is not removed by address delete"),
		// Identical FIB info with different table ID
		p("Route removed from VRF when source address deleted"),
		p("Route in default VRF not removed"),
		p("Route removed in default VRF when source address deleted"),
		p("Route in VRF is not removed by address delete"),
		// Table ID 0
		p("Route removed in default VRF when source address deleted"),
	}},
	{"ipv4_mangle", []expect{
		no(whyMangle, "Connection with correct parameters"),
		no(whyMangle, "Connection with incorrect parameters"),
		no(whyMangle, "Connection with correct parameters - mangling"),
		no(whyMangle, "Connection with correct parameters - no mangling"),
		no(whyMangle, "Connection check - server side"),
	}},
	{"ipv4_bcast_neigh", []expect{
		p("Resolved neighbour for broadcast address"),
		p("Resolved neighbour for network broadcast address"),
		p("Unresolved neighbour for broadcast address"),
		p("Unresolved neighbour for network broadcast address"),
	}},
}
