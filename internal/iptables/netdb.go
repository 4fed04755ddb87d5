package iptables

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
)

// netdb is what iptables reads of /etc/protocols and /etc/services
// (getprotobynumber, getprotobyname, getservbyport, getservbyname): the
// files of the machine the CLI runs on, as for the real tool. Without them
// a few well-known entries stand in.
type netdb struct {
	protoByNum  map[int]string
	protoByName map[string]int
	servByPort  map[string]string // "22/tcp" → ssh
	servByName  map[string]int    // "ssh/tcp" → 22, also aliases
	servAny     map[string]int    // "ssh" → 22 (any protocol, first seen)
}

var (
	dbOnce sync.Once
	db     *netdb
	// etcDir is where the files are read from (tests point it
	// elsewhere).
	etcDir = "/etc"
)

func theDB() *netdb {
	dbOnce.Do(func() { db = loadDB(etcDir) })
	return db
}

func loadDB(dir string) *netdb {
	d := &netdb{protoByNum: map[int]string{}, protoByName: map[string]int{}, servByPort: map[string]string{},
		servByName: map[string]int{}, servAny: map[string]int{}}
	if !d.readProtocols(dir + "/protocols") {
		for _, p := range []struct {
			name string
			num  int
		}{{"ip", 0}, {"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50}, {"ah", 51},
			{"sctp", 132}, {"udplite", 136}, {"dccp", 33}} {
			d.addProto(p.name, p.num, nil)
		}
	}
	if !d.readServices(dir + "/services") {
		for _, s := range []struct {
			name  string
			port  int
			proto string
		}{{"ftp-data", 20, "tcp"}, {"ftp", 21, "tcp"}, {"ssh", 22, "tcp"}, {"telnet", 23, "tcp"}, {"smtp", 25, "tcp"},
			{"domain", 53, "tcp"}, {"domain", 53, "udp"}, {"http", 80, "tcp"}, {"ntp", 123, "udp"}, {"https", 443, "tcp"}} {
			d.addServ(s.name, s.port, s.proto, nil)
		}
	}
	return d
}

func (d *netdb) addProto(name string, num int, aliases []string) {
	if _, ok := d.protoByNum[num]; !ok {
		d.protoByNum[num] = name
	}
	for _, n := range append([]string{name}, aliases...) {
		if _, ok := d.protoByName[n]; !ok {
			d.protoByName[n] = num
		}
	}
}

func (d *netdb) addServ(name string, port int, proto string, aliases []string) {
	key := strconv.Itoa(port) + "/" + proto
	if _, ok := d.servByPort[key]; !ok {
		d.servByPort[key] = name
	}
	for _, n := range append([]string{name}, aliases...) {
		if _, ok := d.servByName[n+"/"+proto]; !ok {
			d.servByName[n+"/"+proto] = port
		}
		if _, ok := d.servAny[n]; !ok {
			d.servAny[n] = port
		}
	}
}

func fields(line string) []string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	return strings.Fields(line)
}

// eachLine calls fn with the fields of each line of the file at path
// (comments cut), until fn returns false; false when there is no file.
func eachLine(path string, fn func(fs []string) bool) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := fields(sc.Text()); len(fs) >= 2 && !fn(fs) {
			break
		}
	}
	return true
}

func (d *netdb) readProtocols(path string) bool {
	return eachLine(path, func(fs []string) bool {
		if n, err := strconv.Atoi(fs[1]); err == nil {
			d.addProto(fs[0], n, fs[2:])
		}
		return true
	})
}

func (d *netdb) readServices(path string) bool {
	return eachLine(path, func(fs []string) bool {
		port, proto, ok := strings.Cut(fs[1], "/")
		if n, err := strconv.Atoi(port); ok && err == nil {
			d.addServ(fs[0], n, proto, fs[2:])
		}
		return true
	})
}

// protoName is getprotobynumber's name for n ("" for none).
func protoName(n int) string { return theDB().protoByNum[n] }

// protoNumber is getprotobyname.
func protoNumber(name string) (int, bool) {
	n, ok := theDB().protoByName[name]
	return n, ok
}

// serviceName is getservbyport(port, proto)'s name ("" for none).
func serviceName(port int, proto string) string {
	return theDB().servByPort[strconv.Itoa(port)+"/"+proto]
}

// servicePort is getservbyname(name, proto)'s port (-1 for none); proto ""
// is any protocol (getaddrinfo without a socket type).
func servicePort(name, proto string) int {
	d := theDB()
	if proto == "" {
		if p, ok := d.servAny[name]; ok {
			return p
		}
		return -1
	}
	if p, ok := d.servByName[name+"/"+proto]; ok {
		return p
	}
	return -1
}

// chainProtos is xtables_chain_protos: the names iptables knows without
// /etc/protocols.
var chainProtos = []struct {
	name string
	num  int
}{{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1}, {"icmpv6", 58}, {"ipv6-icmp", 58},
	{"esp", 50}, {"ah", 51}, {"ipv6-mh", 135}, {"mh", 135}, {"all", 0}}

// protoToName is proto_to_name as iptables 1.8.9 lists with it: with
// numeric none (the listing shows the number), else the protocol's name
// from /etc/protocols or chainProtos ("" for none).
func protoToName(proto int, numeric bool) string {
	if numeric {
		return ""
	}
	if proto != 0 {
		if n := protoName(proto); n != "" {
			return n
		}
	}
	for _, p := range chainProtos {
		if p.num == proto {
			return p.name
		}
	}
	return ""
}
