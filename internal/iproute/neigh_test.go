package iproute

import "testing"

// TestNeighStatesAndGet: ip neigh add in every state the administrator
// may give (and the refusals: no link-layer address for a valid state, a
// short one, change of a missing entry), ip neigh get of an entry in any
// state and of none ("Neighbour entry not found", exit 2), and an address
// becoming a broadcast one: a valid entry for it stays, a failed one goes
// (arp_invalidate). Each answer is ip 6.1's on Linux 6.18 for the same
// lines (fib_tests ipv4_bcast_neigh and its neighbours), but for ip neigh
// show's order, which is the kernel's hash order there and by address
// here.
func TestNeighStatesAndGet(t *testing.T) {
	_, _, run := fibHost(t, "dummy0")
	runSteps(t, run, []ipStep{
		{"addr add 198.51.100.1/24 dev dummy0", "", "", 0},
		{"neigh add 192.0.2.111 lladdr 00:11:22:33:44:55 nud perm dev dummy0", "", "", 0},
		{"neigh add 192.0.2.255 lladdr 00:11:22:33:44:55 nud perm dev dummy0", "", "", 0},
		{"neigh get 192.0.2.111 dev dummy0", "192.0.2.111 dev dummy0 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"neigh get 192.0.2.255 dev dummy0", "192.0.2.255 dev dummy0 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"address add 192.0.2.1/24 broadcast 192.0.2.111 dev dummy0", "", "", 0},
		{"neigh add 203.0.113.111 nud failed dev dummy0", "", "", 0},
		{"neigh add 203.0.113.255 nud failed dev dummy0", "", "", 0},
		{"neigh get 203.0.113.111 dev dummy0", "203.0.113.111 dev dummy0 FAILED \n", "", 0},
		{"neigh get 203.0.113.255 dev dummy0", "203.0.113.255 dev dummy0 FAILED \n", "", 0},
		{"neigh show dev dummy0", "192.0.2.111 lladdr 00:11:22:33:44:55 PERMANENT \n192.0.2.255 lladdr 00:11:22:33:44:55 PERMANENT \n203.0.113.111 FAILED \n203.0.113.255 FAILED \n", "", 0},
		{"address add 203.0.113.1/24 broadcast 203.0.113.111 dev dummy0", "", "", 0},
		{"neigh get 192.0.2.111 dev dummy0", "192.0.2.111 dev dummy0 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"neigh get 192.0.2.255 dev dummy0", "192.0.2.255 dev dummy0 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"neigh get 203.0.113.111 dev dummy0", "", "Error: Neighbour entry not found.\n", 2},
		{"neigh get 203.0.113.255 dev dummy0", "", "Error: Neighbour entry not found.\n", 2},
		{"neigh show dev dummy0", "192.0.2.111 lladdr 00:11:22:33:44:55 PERMANENT \n192.0.2.255 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"neigh get 203.0.113.7 dev dummy0", "", "Error: Neighbour entry not found.\n", 2},
		{"neigh get 203.0.113.7", "", "Device and address are required arguments.\n", 1},
		{"neigh get 203.0.113.7 dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"neigh get dev dummy0", "", "Device and address are required arguments.\n", 1},
		{"neigh get 192.0.2.111 dev dummy0 proxy", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"-j neigh get 192.0.2.111 dev dummy0", "192.0.2.111 dev dummy0 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"neigh add 198.51.100.9 lladdr 00:11:22:33:44:56 nud stale dev dummy0", "", "", 0},
		{"neigh add 198.51.100.10 lladdr 00:11:22:33:44:57 nud reachable dev dummy0", "", "", 0},
		{"neigh add 198.51.100.11 nud noarp dev dummy0", "", "Error: No link layer address given.\n", 2},
		{"neigh add 198.51.100.12 nud incomplete dev dummy0", "", "", 0},
		{"neigh add 198.51.100.13 dev dummy0", "", "Error: No link layer address given.\n", 2},
		{"neigh add 198.51.100.14 nud none dev dummy0", "", "", 0},
		{"neigh show dev dummy0", "192.0.2.111 lladdr 00:11:22:33:44:55 PERMANENT \n192.0.2.255 lladdr 00:11:22:33:44:55 PERMANENT \n198.51.100.9 lladdr 00:11:22:33:44:56 STALE \n198.51.100.10 lladdr 00:11:22:33:44:57 REACHABLE \n198.51.100.12 INCOMPLETE \n", "", 0},
		{"neigh add 198.51.100.9 lladdr 00:11:22:33:44:56 nud failed dev dummy0", "", "RTNETLINK answers: File exists\n", 2},
		{"neigh replace 198.51.100.9 nud failed dev dummy0", "", "", 0},
		{"neigh show dev dummy0", "192.0.2.111 lladdr 00:11:22:33:44:55 PERMANENT \n192.0.2.255 lladdr 00:11:22:33:44:55 PERMANENT \n198.51.100.9 FAILED \n198.51.100.10 lladdr 00:11:22:33:44:57 REACHABLE \n198.51.100.12 INCOMPLETE \n", "", 0},
		{"neigh flush dev dummy0", "", "", 0},
		{"neigh show dev dummy0", "192.0.2.111 lladdr 00:11:22:33:44:55 PERMANENT \n192.0.2.255 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"neigh add 198.51.100.20 lladdr 00:11 dev dummy0", "", "Error: Invalid link address.\n", 2},
		{"neigh get 198.51.100.20 dev dummy0 proxy", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"neigh get 198.51.100.9 to 198.51.100.10 dev dummy0", "", "Error: either \"to\" is duplicate, or \"198.51.100.10\" is a garbage.\n", 255},
		{"neigh change 198.51.100.21 lladdr 00:11:22:33:44:55 dev dummy0", "", "RTNETLINK answers: No such file or directory\n", 2},
		{"neigh add 198.51.100.22 lladdr 00:11:22:33:44:55 nud 0x80 dev dummy0", "", "", 0},
		{"neigh add 198.51.100.23 lladdr 00:11:22:33:44:55 nud 0x81 dev dummy0", "", "Error: argument \"0x81\" is wrong: nud state is bad\n", 255},
		{"neigh add 198.51.100.24 lladdr 00:11:22:33:44:55 nud reach dev dummy0", "", "", 0},
		{"neigh get 198.51.100.22 dev dummy0", "198.51.100.22 dev dummy0 lladdr 00:11:22:33:44:55 PERMANENT \n", "", 0},
		{"neigh get 198.51.100.24 dev dummy0", "198.51.100.24 dev dummy0 lladdr 00:11:22:33:44:55 REACHABLE \n", "", 0},
		{"neigh flush dev dummy0 nud all", "", "", 0},
		// A device going down loses its entries, permanent ones too
		// (arp_ifdown; checked on Linux 6.18 likewise).
		{"neigh add 198.51.100.30 lladdr 00:11:22:33:44:55 dev dummy0", "", "", 0},
		{"link set dummy0 down", "", "", 0},
		{"neigh show dev dummy0", "", "", 0},
		{"link set dummy0 up", "", "", 0},
	})
}
