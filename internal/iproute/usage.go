package iproute

// The usage texts: ip's layout (printed to stderr with exit 255, as ip
// prints its own), the grammar vnic takes. The objects, commands and
// options ip has and vnic does not are left out, so the texts are what
// vnic accepts rather than ip's lists.

// Usage is ip help, ip -help and ip without an object.
const Usage = `Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
where  OBJECT := { address | help | link | monitor | neighbor | neighbour |
                   nexthop | route | rule }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | link } | -4 | -6 | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -rc[vbuf] [size] | -n[etns] name |
                    -N[umeric] | -c[olor] }
`

const linkUsage = `Usage: ip link add [ name ] NAME [ up ] [ mtu MTU ] [ address LLADDR ]
                   [ netns NAME ] type TYPE [ ARGS ]

       ip link delete { DEVICE | dev DEVICE } [ type TYPE ]

       ip link set { DEVICE | dev DEVICE } [ { up | down } ] [ mtu MTU ]
                   [ address LLADDR ] [ netns NAME ] [ carrier { on | off } ]

       ip link show [ DEVICE | dev DEVICE ] [ up ]

       ip link help

TYPE := { dummy | veth }
veth ARGS := [ peer [ name ] NAME [ mtu MTU ] [ address LLADDR ] [ netns NAME ] ]
`

const addrUsage = `Usage: ip address {add|change|replace} IFADDR dev IFNAME
                                                      [ CONFFLAG-LIST ]
       ip address del IFADDR dev IFNAME
       ip address flush [ dev IFNAME ] [ scope SCOPE-ID ] [ to PREFIX ]
                        [ FLAG-LIST ] [ label LABEL ] [ up ]
       ip address [ show [ dev IFNAME ] [ scope SCOPE-ID ] [ to PREFIX ]
                         [ FLAG-LIST ] [ label LABEL ] [ up ] ]
IFADDR := PREFIX | ADDR peer PREFIX
          [ broadcast ADDR ] [ metric METRIC ]
SCOPE-ID := [ host | link | global | NUMBER ]
FLAG-LIST := [ FLAG-LIST ] FLAG
FLAG := [ permanent | dynamic | secondary | primary | temporary ]
CONFFLAG-LIST := [ CONFFLAG-LIST ] CONFFLAG
CONFFLAG := [ noprefixroute ]
`

const routeUsage = `Usage: ip route { list | flush } SELECTOR
       ip route save SELECTOR
       ip route restore
       ip route showdump
       ip route get [ ROUTE_GET_FLAGS ] ADDRESS
                            [ from ADDRESS iif STRING ]
                            [ oif STRING ] [ tos TOS ]
                            [ mark NUMBER ] [ uid NUMBER ] [ ipproto PROTOCOL ]
                            [ sport NUMBER ] [ dport NUMBER ]
       ip route { add | del | change | append | prepend | replace } ROUTE
SELECTOR := [ root PREFIX ] [ match PREFIX ] [ exact PREFIX ]
            [ table TABLE_ID ] [ proto RTPROTO ] [ type TYPE ]
            [ scope SCOPE ] [ dev STRING ] [ via ADDRESS ]
ROUTE := NODE_SPEC [ INFO_SPEC ]
NODE_SPEC := [ TYPE ] PREFIX [ tos TOS ]
             [ table TABLE_ID ] [ proto RTPROTO ]
             [ scope SCOPE ] [ metric METRIC ]
INFO_SPEC := { NH | nhid ID } OPTIONS [ nexthop NH ]...
NH := [ via [ FAMILY ] ADDRESS ] [ dev STRING ] [ weight NUMBER ] NHFLAGS
FAMILY := [ inet | inet6 ]
OPTIONS := [ mtu NUMBER ] [ advmss NUMBER ] [ src ADDRESS ]
           [ rtt TIME ] [ rttvar TIME ] [ reordering NUMBER ]
           [ window NUMBER ] [ cwnd NUMBER ] [ initcwnd NUMBER ]
           [ ssthresh NUMBER ] [ rto_min TIME ] [ hoplimit NUMBER ]
           [ initrwnd NUMBER ] [ features FEATURES ] [ quickack BOOL ]
           [ congctl NAME ] [ fastopen_no_cookie BOOL ]
TYPE := { unicast | local | broadcast | multicast | throw |
          unreachable | prohibit | blackhole | nat }
TABLE_ID := [ local | main | default | all | NUMBER ]
SCOPE := [ host | link | global | NUMBER ]
NHFLAGS := [ onlink ]
RTPROTO := [ kernel | boot | static | NUMBER ]
TIME := NUMBER[s|ms]
BOOL := [1|0]
FEATURES := ecn
ROUTE_GET_FLAGS := [ fibmatch ]
`

const neighUsage = `Usage: ip neigh { add | del | change | replace }
                { ADDR [ lladdr LLADDR ] [ nud STATE ] }
                [ dev DEV ]

	ip neigh { show | flush } [ to PREFIX ] [ dev DEV ] [ nud STATE ]
	ip neigh get ADDR dev DEV

STATE := { delay | failed | incomplete | noarp | none |
           permanent | probe | reachable | stale | all }
`

const monitorUsage = `Usage: ip monitor [ all | OBJECTS ]
OBJECTS :=  { link | address | route | neigh | rule | nexthop }
`
