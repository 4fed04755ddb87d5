package iproute

import (
	"testing"

	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

// The expectations below are what iproute2 6.1's ip printed for the same
// objects on Linux 6.18 (in a scratch namespace, 198.18.0.0/15), trailing
// blanks included.

const linkText = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
`

const addrText = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
    inet 198.18.5.2/24 scope global vnic0
       valid_lft forever preferred_lft forever
`

const linkPretty = `[ {
        "ifindex": 1,
        "ifname": "lo",
        "flags": [ "LOOPBACK","UP","LOWER_UP" ],
        "mtu": 65536,
        "qdisc": "noqueue",
        "operstate": "UNKNOWN",
        "linkmode": "DEFAULT",
        "group": "default",
        "txqlen": 1000,
        "link_type": "loopback",
        "address": "00:00:00:00:00:00",
        "broadcast": "00:00:00:00:00:00"
    },{
        "ifindex": 2,
        "ifname": "vnic0",
        "flags": [ "BROADCAST","MULTICAST","UP","LOWER_UP" ],
        "mtu": 1500,
        "qdisc": "noqueue",
        "operstate": "UP",
        "linkmode": "DEFAULT",
        "group": "default",
        "txqlen": 1000,
        "link_type": "ether",
        "address": "02:00:00:00:01:00",
        "broadcast": "ff:ff:ff:ff:ff:ff"
    } ]
`

func TestLinkAddr(t *testing.T) {
	runCases(t, world, []ipCase{
		{"link", linkText, "", 0},
		{"link show", linkText, "", 0},
		{"-4 link show lo", linkText[:strings2(linkText, 2)], "", 0},
		{"link show dev vnic0", linkText[strings2(linkText, 2):], "", 0},
		{"link show vnic0", linkText[strings2(linkText, 2):], "", 0},
		{"link show dev vnic0 up", linkText[strings2(linkText, 2):], "", 0},
		{"link show up", linkText, "", 0},
		{"link show dev nope", "", "Device \"nope\" does not exist.\n", 1},
		{"link show nope", "", "Device \"nope\" does not exist.\n", 1},
		{"link show dev vnic0 dev lo", "", "Error: either \"dev\" is duplicate, or \"lo\" is a garbage.\n", 255},
		{"-o link", `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
`, "", 0},
		{"-j link", `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"},{"ifindex":2,"ifname":"vnic0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"02:00:00:00:01:00","broadcast":"ff:ff:ff:ff:ff:ff"}]
`, "", 0},
		{"-o -j link show lo", `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"}]
`, "", 0},
		{"-j -p link", linkPretty, "", 0},
		{"--json --pretty link", linkPretty, "", 0},
		{"-br link", "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \nvnic0            UP             02:00:00:00:01:00 <BROADCAST,MULTICAST,UP,LOWER_UP> \n", "", 0},
		{"-j -br link", `[{"ifname":"lo","operstate":"UNKNOWN","address":"00:00:00:00:00:00","flags":["LOOPBACK","UP","LOWER_UP"]},{"ifname":"vnic0","operstate":"UP","address":"02:00:00:00:01:00","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"]}]
`, "", 0},
		{"addr", addrText, "", 0},
		{"-h addr", addrText, "", 0},
		{"-color=never addr", addrText, "", 0},
		{"-- addr", addrText, "", 0},
		{"addr show up", addrText, "", 0},
		{"addr show dev nope", "", "Device \"nope\" does not exist.\n", 1},
		{"addr show nope", "", "Device \"nope\" does not exist.\n", 1},
		{"addr show dev vnic0 dev lo", "", "Error: either \"dev\" is duplicate, or \"lo\" is a garbage.\n", 255},
		{"addr show scope foo", "", "Error: argument \"foo\" is wrong: invalid \"scope\"\n\n", 255},
		{"addr show scope host", addrText[:strings2(addrText, 4)], "", 0},
		{"-p addr show lo", addrText[:strings2(addrText, 4)], "", 0},
		{"-4 addr show dev lo", `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
`, "", 0},
		{"-o addr", `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
2: vnic0    inet 198.18.5.2/24 scope global vnic0\       valid_lft forever preferred_lft forever
`, "", 0},
		{"-o -br addr", "lo               UNKNOWN        127.0.0.1/8 \nvnic0            UP             198.18.5.2/24 \n", "", 0},
		{"-j addr", `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":2,"ifname":"vnic0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"02:00:00:00:01:00","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"198.18.5.2","prefixlen":24,"scope":"global","label":"vnic0","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
`, "", 0},
		{"-p -j addr show dev lo", `[ {
        "ifindex": 1,
        "ifname": "lo",
        "flags": [ "LOOPBACK","UP","LOWER_UP" ],
        "mtu": 65536,
        "qdisc": "noqueue",
        "operstate": "UNKNOWN",
        "group": "default",
        "txqlen": 1000,
        "link_type": "loopback",
        "address": "00:00:00:00:00:00",
        "broadcast": "00:00:00:00:00:00",
        "addr_info": [ {
                "family": "inet",
                "local": "127.0.0.1",
                "prefixlen": 8,
                "scope": "host",
                "label": "lo",
                "valid_life_time": 4294967295,
                "preferred_life_time": 4294967295
            } ]
    } ]
`, "", 0},
		{"-br addr", "lo               UNKNOWN        127.0.0.1/8 \nvnic0            UP             198.18.5.2/24 \n", "", 0},
		{"-br -4 addr", "lo               UNKNOWN        127.0.0.1/8 \nvnic0            UP             198.18.5.2/24 \n", "", 0},
		{"-br -j addr", `[{"ifname":"lo","operstate":"UNKNOWN","addr_info":[{"local":"127.0.0.1","prefixlen":8}]},{"ifname":"vnic0","operstate":"UP","addr_info":[{"local":"198.18.5.2","prefixlen":24}]}]
`, "", 0},
		{"-0 addr", `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
`, "", 0},
		{"-0 -j addr show lo", `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"}]
`, "", 0},
		{"-br -0 addr", "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \nvnic0            UP             02:00:00:00:01:00 <BROADCAST,MULTICAST,UP,LOWER_UP> \n", "", 0},
		// IPv6: as ip answers on a host without IPv6 addresses.
		{"-6 addr", "", "", 0},
		{"-f inet6 addr", "", "", 0},
		{"-j -6 addr", "[]\n", "", 0},
		{"-j -p -6 addr", "[ ]\n", "", 0},
		{"-6 -br addr", "", "", 0},
	})
}

// strings2 is the offset of the n-th line (0-based) of s.
func strings2(s string, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := 0
		for off+j < len(s) && s[off+j] != '\n' {
			j++
		}
		off += j + 1
	}
	return off
}

// An address with a broadcast, a secondary, and a device without
// addresses.
func TestAddrShapes(t *testing.T) {
	two := func() *fake {
		f := world()
		f.addrs = append(f.addrs, rtnetlink.AddrMsg{Index: 2, PrefixLen: 24, Flags: rtnetlink.IFAFPermanent | rtnetlink.IFAFSecondary,
			Local: a4("198.18.5.3"), Address: a4("198.18.5.3"), Broadcast: a4("198.18.5.255"), Label: "vnic0"})
		return f
	}
	runCases(t, two, []ipCase{
		{"addr show dev vnic0", `2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
    inet 198.18.5.2/24 scope global vnic0
       valid_lft forever preferred_lft forever
    inet 198.18.5.3/24 brd 198.18.5.255 scope global secondary vnic0
       valid_lft forever preferred_lft forever
`, "", 0},
		{"-j addr show dev vnic0", `[{"ifindex":2,"ifname":"vnic0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"02:00:00:00:01:00","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"198.18.5.2","prefixlen":24,"scope":"global","label":"vnic0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"198.18.5.3","prefixlen":24,"broadcast":"198.18.5.255","scope":"global","secondary":true,"label":"vnic0","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
`, "", 0},
		{"-o addr show dev vnic0", `2: vnic0    inet 198.18.5.2/24 scope global vnic0\       valid_lft forever preferred_lft forever
2: vnic0    inet 198.18.5.3/24 brd 198.18.5.255 scope global secondary vnic0\       valid_lft forever preferred_lft forever
`, "", 0},
		{"-br addr show dev vnic0", "vnic0            UP             198.18.5.2/24 198.18.5.3/24 \n", "", 0},
	})
	bare := func() *fake {
		f := world()
		f.addrs = f.addrs[:1]
		return f
	}
	runCases(t, bare, []ipCase{
		{"-br addr", "lo               UNKNOWN        127.0.0.1/8 \nvnic0            UP             \n", "", 0},
		{"-br -4 addr", "lo               UNKNOWN        127.0.0.1/8 \n", "", 0},
		{"-o addr", "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n", "", 0},
		{"-j -4 addr", `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
`, "", 0},
		{"-j addr show dev vnic0", `[{"ifindex":2,"ifname":"vnic0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"02:00:00:00:01:00","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[]}]
`, "", 0},
	})
}

const mainText = `default via 198.18.5.1 dev vnic0 
198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.2 
198.18.9.0/24 via 198.18.5.7 dev vnic0 proto static metric 10 
unreachable 198.18.11.0/24 
`

const localText = `local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 
local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 
broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 
local 198.18.5.2 dev vnic0 proto kernel scope host src 198.18.5.2 
broadcast 198.18.5.255 dev vnic0 proto kernel scope link src 198.18.5.2 
`

const allText = `198.18.10.0/24 dev vnic0 table 100 scope link src 198.18.5.2 mtu 1280 
` + mainText + `local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 
local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 
broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 
local 198.18.5.2 dev vnic0 table local proto kernel scope host src 198.18.5.2 
broadcast 198.18.5.255 dev vnic0 table local proto kernel scope link src 198.18.5.2 
`

func TestRouteShow(t *testing.T) {
	runCases(t, world, []ipCase{
		{"route", mainText, "", 0},
		{"route show table main", mainText, "", 0},
		{"-o route", mainText, "", 0},
		{"-br route", mainText, "", 0},
		{"route show table all", allText, "", 0},
		{"route show table 0", allText, "", 0},
		{"route show table unspec", allText, "", 0},
		{"route show table all table main", mainText, "", 0},
		{"route show table local", localText, "", 0},
		{"route show table 255", localText, "", 0},
		{"route show table 100", "198.18.10.0/24 dev vnic0 scope link src 198.18.5.2 mtu 1280 \n", "", 0},
		{"route show dev vnic0", "default via 198.18.5.1 \n198.18.5.0/24 proto kernel scope link src 198.18.5.2 \n198.18.9.0/24 via 198.18.5.7 proto static metric 10 \n", "", 0},
		{"route show dev lo", "", "", 0},
		{"route show dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"route list table all dev vnic0", `198.18.10.0/24 table 100 scope link src 198.18.5.2 mtu 1280 
default via 198.18.5.1 
198.18.5.0/24 proto kernel scope link src 198.18.5.2 
198.18.9.0/24 via 198.18.5.7 proto static metric 10 
local 198.18.5.2 table local proto kernel scope host src 198.18.5.2 
broadcast 198.18.5.255 table local proto kernel scope link src 198.18.5.2 
`, "", 0},
		{"route show default", "default via 198.18.5.1 dev vnic0 \n", "", 0},
		{"route show 198.18.9.0/24", "198.18.9.0/24 via 198.18.5.7 dev vnic0 proto static metric 10 \n", "", 0},
		{"route show 198.18.9.0/24 table all", "198.18.9.0/24 via 198.18.5.7 dev vnic0 proto static metric 10 \n", "", 0},
		{"route show via 198.18.5.7", "198.18.9.0/24 dev vnic0 proto static metric 10 \n", "", 0},
		{"route show proto static", "198.18.9.0/24 via 198.18.5.7 dev vnic0 metric 10 \n", "", 0},
		{"route show scope link", "198.18.5.0/24 dev vnic0 proto kernel src 198.18.5.2 \n", "", 0},
		{"route show type unreachable", "unreachable 198.18.11.0/24 \n", "", 0},
		{"route show table local type local", `local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 
local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 
local 198.18.5.2 dev vnic0 proto kernel scope host src 198.18.5.2 
`, "", 0},
		{"route show root 198.18.0.0/16", "198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.2 \n198.18.9.0/24 via 198.18.5.7 dev vnic0 proto static metric 10 \nunreachable 198.18.11.0/24 \n", "", 0},
		{"route show match 198.18.9.7", "default via 198.18.5.1 dev vnic0 \n198.18.9.0/24 via 198.18.5.7 dev vnic0 proto static metric 10 \n", "", 0},
		{"-d route", `unicast default via 198.18.5.1 dev vnic0 proto boot scope global 
unicast 198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.2 
unicast 198.18.9.0/24 via 198.18.5.7 dev vnic0 proto static scope global metric 10 
unreachable 198.18.11.0/24 proto boot scope global 
`, "", 0},
		{"-j route", `[{"dst":"default","gateway":"198.18.5.1","dev":"vnic0","flags":[]},{"dst":"198.18.5.0/24","dev":"vnic0","protocol":"kernel","scope":"link","prefsrc":"198.18.5.2","flags":[]},{"dst":"198.18.9.0/24","gateway":"198.18.5.7","dev":"vnic0","protocol":"static","metric":10,"flags":[]},{"type":"unreachable","dst":"198.18.11.0/24","flags":[]}]
`, "", 0},
		{"-j route show table local", `[{"type":"local","dst":"127.0.0.0/8","dev":"lo","protocol":"kernel","scope":"host","prefsrc":"127.0.0.1","flags":[]},{"type":"local","dst":"127.0.0.1","dev":"lo","protocol":"kernel","scope":"host","prefsrc":"127.0.0.1","flags":[]},{"type":"broadcast","dst":"127.255.255.255","dev":"lo","protocol":"kernel","scope":"link","prefsrc":"127.0.0.1","flags":[]},{"type":"local","dst":"198.18.5.2","dev":"vnic0","protocol":"kernel","scope":"host","prefsrc":"198.18.5.2","flags":[]},{"type":"broadcast","dst":"198.18.5.255","dev":"vnic0","protocol":"kernel","scope":"link","prefsrc":"198.18.5.2","flags":[]}]
`, "", 0},
		{"-j -p route show table all", `[ {
        "dst": "198.18.10.0/24",
        "dev": "vnic0",
        "table": "100",
        "scope": "link",
        "prefsrc": "198.18.5.2",
        "flags": [ ],
        "metrics": [ {
                "mtu": 1280
            } ]
    },{
        "dst": "default",
        "gateway": "198.18.5.1",
        "dev": "vnic0",
        "flags": [ ]
    },{
        "dst": "198.18.5.0/24",
        "dev": "vnic0",
        "protocol": "kernel",
        "scope": "link",
        "prefsrc": "198.18.5.2",
        "flags": [ ]
    },{
        "dst": "198.18.9.0/24",
        "gateway": "198.18.5.7",
        "dev": "vnic0",
        "protocol": "static",
        "metric": 10,
        "flags": [ ]
    },{
        "type": "unreachable",
        "dst": "198.18.11.0/24",
        "flags": [ ]
    },{
        "type": "local",
        "dst": "127.0.0.0/8",
        "dev": "lo",
        "table": "local",
        "protocol": "kernel",
        "scope": "host",
        "prefsrc": "127.0.0.1",
        "flags": [ ]
    },{
        "type": "local",
        "dst": "127.0.0.1",
        "dev": "lo",
        "table": "local",
        "protocol": "kernel",
        "scope": "host",
        "prefsrc": "127.0.0.1",
        "flags": [ ]
    },{
        "type": "broadcast",
        "dst": "127.255.255.255",
        "dev": "lo",
        "table": "local",
        "protocol": "kernel",
        "scope": "link",
        "prefsrc": "127.0.0.1",
        "flags": [ ]
    },{
        "type": "local",
        "dst": "198.18.5.2",
        "dev": "vnic0",
        "table": "local",
        "protocol": "kernel",
        "scope": "host",
        "prefsrc": "198.18.5.2",
        "flags": [ ]
    },{
        "type": "broadcast",
        "dst": "198.18.5.255",
        "dev": "vnic0",
        "table": "local",
        "protocol": "kernel",
        "scope": "link",
        "prefsrc": "198.18.5.2",
        "flags": [ ]
    } ]
`, "", 0},
		{"-j -d route", `[{"type":"unicast","dst":"default","gateway":"198.18.5.1","dev":"vnic0","protocol":"boot","scope":"global","flags":[]},{"type":"unicast","dst":"198.18.5.0/24","dev":"vnic0","protocol":"kernel","scope":"link","prefsrc":"198.18.5.2","flags":[]},{"type":"unicast","dst":"198.18.9.0/24","gateway":"198.18.5.7","dev":"vnic0","protocol":"static","scope":"global","metric":10,"flags":[]},{"type":"unreachable","dst":"198.18.11.0/24","protocol":"boot","scope":"global","flags":[]}]
`, "", 0},
		{"-j route show dev vnic0 proto kernel", `[{"dst":"198.18.5.0/24","scope":"link","prefsrc":"198.18.5.2","flags":[]}]
`, "", 0},
		{"-d route show table all type unicast", "unicast 198.18.10.0/24 dev vnic0 table 100 proto boot scope link src 198.18.5.2 mtu 1280 \nunicast default via 198.18.5.1 dev vnic0 table main proto boot scope global \n" +
			"unicast 198.18.5.0/24 dev vnic0 table main proto kernel scope link src 198.18.5.2 \nunicast 198.18.9.0/24 via 198.18.5.7 dev vnic0 table main proto static scope global metric 10 \n", "", 0},
		{"-6 route", "", "", 0},
		{"-j -6 route", "[]\n", "", 0},
		// Selector errors.
		{"route show table foo", "", "Error: argument \"foo\" is wrong: table id value is invalid\n\n", 255},
		{"route show table", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"route show dev", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"route show type foo", "", "Error: argument \"foo\" is wrong: node type value is invalid\n\n", 255},
		{"route show proto foo", "", "Error: argument \"foo\" is wrong: invalid \"protocol\"\n\n", 255},
		{"route show scope foo", "", "Error: argument \"foo\" is wrong: invalid \"scope\"\n\n", 255},
		{"route show bogus", "", "Error: any valid prefix is expected rather than \"bogus\".\n", 1},
	})
	more := func() *fake {
		return withRoutes(world(),
			rtnetlink.RouteMsg{Table: fib.TableMain, DstLen: 24, Dst: a4("198.18.12.0"), Type: uint8(fib.RTNUnicast), Protocol: fib.ProtoBoot,
				Gateway: a4("198.18.5.7"), Oif: 2, Metrics: mtuMetrics(1300)},
			rtnetlink.RouteMsg{Table: fib.TableMain, DstLen: 24, Dst: a4("198.18.13.0"), TOS: 0x10, Type: uint8(fib.RTNUnicast), Protocol: fib.ProtoBoot,
				Gateway: a4("198.18.5.9"), Oif: 2, Flags: rtnetlink.RTMFOnLink, Priority: 5, HasPrio: true, Metrics: mtuMetrics(1280), PrefSrc: a4("198.18.5.2")})
	}
	runCases(t, more, []ipCase{
		{"-j route show 198.18.12.0/24", `[{"dst":"198.18.12.0/24","gateway":"198.18.5.7","dev":"vnic0","flags":[],"metrics":[{"mtu":1300}]}]
`, "", 0},
		{"route show 198.18.13.0/24", "198.18.13.0/24 tos 0x10 via 198.18.5.9 dev vnic0 src 198.18.5.2 metric 5 onlink mtu 1280 \n", "", 0},
		{"-j route show 198.18.13.0/24", `[{"dst":"198.18.13.0/24","tos":"0x10","gateway":"198.18.5.9","dev":"vnic0","prefsrc":"198.18.5.2","metric":5,"flags":["onlink"],"metrics":[{"mtu":1280}]}]
`, "", 0},
	})
}

func TestRouteGet(t *testing.T) {
	runCases(t, world, []ipCase{
		{"route get 198.18.9.7", "198.18.9.7 via 198.18.5.7 dev vnic0 src 198.18.5.2 uid 0 \n    cache \n", "", 0},
		{"-o route get 198.18.9.7", "198.18.9.7 via 198.18.5.7 dev vnic0 src 198.18.5.2 uid 0 \\    cache \n", "", 0},
		{"-d route get 198.18.9.7", "unicast 198.18.9.7 via 198.18.5.7 dev vnic0 table main src 198.18.5.2 uid 0 \n    cache \n", "", 0},
		{"-j route get 198.18.9.7", `[{"dst":"198.18.9.7","gateway":"198.18.5.7","dev":"vnic0","prefsrc":"198.18.5.2","flags":[],"uid":0,"cache":[]}]
`, "", 0},
		{"-j -p route get 198.18.9.7", `[ {
        "dst": "198.18.9.7",
        "gateway": "198.18.5.7",
        "dev": "vnic0",
        "prefsrc": "198.18.5.2",
        "flags": [ ],
        "uid": 0,
        "cache": [ ]
    } ]
`, "", 0},
		{"-j route get 198.18.5.2", `[{"type":"local","dst":"198.18.5.2","dev":"lo","prefsrc":"198.18.5.2","flags":[],"uid":0,"cache":["local"]}]
`, "", 0},
		{"route get 198.18.12.1", "198.18.12.1 via 198.18.5.7 dev vnic0 src 198.18.5.2 uid 0 \n    cache mtu 1300 \n", "", 0},
		{"-j route get 198.18.12.1", `[{"dst":"198.18.12.1","gateway":"198.18.5.7","dev":"vnic0","prefsrc":"198.18.5.2","flags":[],"uid":0,"cache":[],"metrics":[{"mtu":1300}]}]
`, "", 0},
		{"-j route get 198.18.5.255", `[{"type":"broadcast","dst":"198.18.5.255","dev":"vnic0","prefsrc":"198.18.5.2","flags":[],"uid":0,"cache":["local","brd"]}]
`, "", 0},
		{"-j route get 224.0.0.1", `[{"type":"multicast","dst":"224.0.0.1","dev":"vnic0","prefsrc":"198.18.5.2","flags":["rt_offload_failed"],"uid":0,"cache":["local","mc"]}]
`, "", 0},
		{"route get 198.18.9.7 from 198.18.5.1 iif vnic0", "198.18.9.7 from 198.18.5.1 via 198.18.5.7 dev vnic0 \n    cache <redirect> iif vnic0 \n", "", 0},
		{"-j route get 198.18.9.7 from 198.18.5.1 iif vnic0", `[{"dst":"198.18.9.7","from":"198.18.5.1","gateway":"198.18.5.7","dev":"vnic0","flags":[],"cache":["redirect"],"iif":"vnic0"}]
`, "", 0},
		{"-d -j route get 198.18.9.7", `[{"type":"unicast","dst":"198.18.9.7","gateway":"198.18.5.7","dev":"vnic0","table":"main","prefsrc":"198.18.5.2","flags":[],"uid":0,"cache":[]}]
`, "", 0},
		{"route get 198.18.11.1", "", "RTNETLINK answers: Network is unreachable\n", 2},
		{"route get", "", "need at least a destination address\n", 1},
		{"route get bogus", "", "Error: any valid prefix is expected rather than \"bogus\".\n", 1},
		{"route get to", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"route get 198.18.9.7 oif nope", "", "Cannot find device \"nope\"\n", 1},
		{"route get 198.18.9.7 from bogus", "", "Error: inet prefix is expected rather than \"bogus\".\n", 1},
		{"route get 198.18.9.7 tos x", "", "Error: argument \"x\" is wrong: TOS value is invalid\n\n", 255},
		{"route get 2001:db8::1", "", "Error: IPv6 is not supported: vnic's stack is IPv4 only.\n", 2},
	})
}

func TestNeighShow(t *testing.T) {
	const all = "198.18.5.1 dev vnic0 lladdr 02:00:00:00:02:00 STALE \n198.18.5.21 dev vnic0 FAILED \n198.18.5.22 dev vnic0 INCOMPLETE \n"
	runCases(t, world, []ipCase{
		{"neigh", all, "", 0},
		{"-o neigh", all, "", 0},
		{"-d neigh", all, "", 0},
		{"-4 neighbour show", all, "", 0},
		{"neigh show dev vnic0", "198.18.5.1 lladdr 02:00:00:00:02:00 STALE \n198.18.5.21 FAILED \n198.18.5.22 INCOMPLETE \n", "", 0},
		{"neigh show dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"neigh show dev lo", "", "", 0},
		{"-j neigh show dev lo", "[]\n", "", 0},
		{"neigh show nud stale", "198.18.5.1 dev vnic0 lladdr 02:00:00:00:02:00 STALE \n", "", 0},
		{"neigh show nud foo", "", "Error: argument \"foo\" is wrong: nud state is bad\n", 255},
		{"neigh show 198.18.5.0/28", "198.18.5.1 dev vnic0 lladdr 02:00:00:00:02:00 STALE \n", "", 0},
		{"-j neigh", `[{"dst":"198.18.5.1","dev":"vnic0","lladdr":"02:00:00:00:02:00","state":["STALE"]},{"dst":"198.18.5.21","dev":"vnic0","state":["FAILED"]},{"dst":"198.18.5.22","dev":"vnic0","state":["INCOMPLETE"]}]
`, "", 0},
		{"-j -p neigh", `[ {
        "dst": "198.18.5.1",
        "dev": "vnic0",
        "lladdr": "02:00:00:00:02:00",
        "state": [ "STALE" ]
    },{
        "dst": "198.18.5.21",
        "dev": "vnic0",
        "state": [ "FAILED" ]
    },{
        "dst": "198.18.5.22",
        "dev": "vnic0",
        "state": [ "INCOMPLETE" ]
    } ]
`, "", 0},
		{"-br neigh", "198.18.5.1                              vnic0            02:00:00:00:02:00\n198.18.5.21                             vnic0            \n198.18.5.22                             vnic0            \n", "", 0},
		{"-6 neigh", "", "", 0},
		{"neigh show to 198.18.5.1", "198.18.5.1 dev vnic0 lladdr 02:00:00:00:02:00 STALE \n", "", 0},
		{"neigh show all", all, "", 0},
		{"neigh show bogus", "", "Error: any valid prefix is expected rather than \"bogus\".\n", 1},
		{"-j neigh show dev vnic0", `[{"dst":"198.18.5.1","lladdr":"02:00:00:00:02:00","state":["STALE"]},{"dst":"198.18.5.21","state":["FAILED"]},{"dst":"198.18.5.22","state":["INCOMPLETE"]}]
`, "", 0},
		{"-br -j neigh", `[{"dst":"198.18.5.1","dev":"vnic0","lladdr":"02:00:00:00:02:00"},{"dst":"198.18.5.21","dev":"vnic0"},{"dst":"198.18.5.22","dev":"vnic0"}]
`, "", 0},
	})
}

// ip address show's address selectors, as ip 6.1 answers them (the
// label selection prints no link, the to selection no link/ line).
func TestAddrSelectors(t *testing.T) {
	three := func() *fake {
		f := world()
		f.addrs = append(f.addrs,
			rtnetlink.AddrMsg{Index: 2, PrefixLen: 24, Flags: rtnetlink.IFAFPermanent | rtnetlink.IFAFSecondary, Local: a4("198.18.5.9"), Address: a4("198.18.5.9"), Label: "foo"},
			rtnetlink.AddrMsg{Index: 2, PrefixLen: 24, Flags: rtnetlink.IFAFPermanent | rtnetlink.IFAFSecondary, Local: a4("198.18.5.3"), Address: a4("198.18.5.3"), Label: "vnic0"})
		return f
	}
	const lo = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"
	const head = "2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n"
	const ether = "    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff\n"
	const a2 = "    inet 198.18.5.2/24 scope global vnic0\n       valid_lft forever preferred_lft forever\n"
	const a9 = "    inet 198.18.5.9/24 scope global secondary foo\n       valid_lft forever preferred_lft forever\n"
	const a3 = "    inet 198.18.5.3/24 scope global secondary vnic0\n       valid_lft forever preferred_lft forever\n"
	runCases(t, three, []ipCase{
		{"addr", lo + head + ether + a2 + a9 + a3, "", 0},
		{"addr show label lo", "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n", "", 0},
		{"addr show label vni*", a2 + a3, "", 0},
		{"-j addr show label lo", `[{"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
`, "", 0},
		{"-o addr show label lo", "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n", "", 0},
		{"addr show to 198.18.5.0/24", head + a2 + a9 + a3, "", 0},
		{"-o addr show to 198.18.5.2", "2: vnic0    inet 198.18.5.2/24 scope global vnic0\\       valid_lft forever preferred_lft forever\n", "", 0},
		{"-br addr show to 198.18.5.2", "vnic0            UP             198.18.5.2/24 \n", "", 0},
		{"addr show secondary", head + ether + a9 + a3, "", 0},
		{"addr show primary", lo + head + ether + a2, "", 0},
		{"addr show permanent", lo + head + ether + a2 + a9 + a3, "", 0},
		{"addr show dynamic", "", "", 0},
		{"addr show dev vnic0 scope global", head + ether + a2 + a9 + a3, "", 0},
	})
}
