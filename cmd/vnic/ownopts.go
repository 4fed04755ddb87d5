package main

import "strings"

// ownOptions takes vnic's own options (each "--name VALUE" or
// "--name=VALUE" for the names given) off the command line of a command
// that parses the rest itself (ip, ss, tc): their values by name, and
// the other arguments in order.
func ownOptions(args []string, names ...string) (map[string]string, []string) {
	vals := map[string]string{}
	var rest []string
next:
	for i := 0; i < len(args); i++ {
		a := args[i]
		for _, name := range names {
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				vals[name] = v
				continue next
			}
			if a == name && i+1 < len(args) {
				i++
				vals[name] = args[i]
				continue next
			}
		}
		rest = append(rest, a)
	}
	return vals, rest
}
