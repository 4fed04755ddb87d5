package iptables

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"

	"vnic/header"
	"vnic/stack"
)

// Verdict is what a target decides (and what a standard target holds):
// one of netfilter's verdicts, or Continue or Return.
type Verdict int32

// The verdicts. Continue and Return have Linux's values (XT_CONTINUE,
// XT_RETURN).
const (
	Drop     = Verdict(stack.NFDrop)
	Accept   = Verdict(stack.NFAccept)
	Stolen   = Verdict(stack.NFStolen)
	Queue    = Verdict(stack.NFQueue)
	Continue = Verdict(-1) // the rule's target is done: the next rule
	Return   = Verdict(-5) // back to the calling chain (-NF_REPEAT - 1)
)

func (v Verdict) String() string {
	switch v {
	case Continue:
		return "CONTINUE"
	case Return:
		return "RETURN"
	}
	if v >= 0 && v <= 4 {
		return stack.Verdict(v).String()
	}
	return fmt.Sprintf("Verdict(%d)", int32(v))
}

// HookMask is a set of hook points, bit 1<<hook for each.
type HookMask uint8

// Hooks is the mask of hooks hs.
func Hooks(hs ...stack.NFHook) HookMask {
	var m HookMask
	for _, h := range hs {
		m |= 1 << h
	}
	return m
}

// Has reports whether h is in m.
func (m HookMask) Has(h stack.NFHook) bool { return m&(1<<h) != 0 }

// String names the hooks as x_tables' messages do ("PREROUTING/INPUT").
func (m HookMask) String() string {
	var names []string
	for h := stack.NFHook(0); h < stack.NumNFHooks; h++ {
		if m.Has(h) {
			names = append(names, ChainNames[h])
		}
	}
	return strings.Join(names, "/")
}

// ChainNames are the built-in chains by hook.
var ChainNames = [stack.NumNFHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

// Param is what a match or target is told about a packet (struct
// xt_action_param). It is passed by value, so that a traversal allocates
// nothing.
type Param struct {
	SKB   *stack.SKB
	State *stack.NFState
	// IP is the network header to the end of the linear data (ip_hdr).
	IP header.IPv4
	// THOff is the transport header's offset in IP (ip_hdrlen).
	THOff int
	// FragOff is the fragment offset in 8-byte units (frag_off &
	// IP_OFFSET): a match of transport headers does not look at a
	// non-first fragment.
	FragOff uint16
}

// Transport is the transport header and what follows it in the linear
// data.
func (p Param) Transport() []byte { return p.IP[p.THOff:] }

// Matcher is a checked match of one rule.
type Matcher interface {
	// Match reports whether the packet matches; hotdrop drops the packet
	// at once (a header the match needs cannot be read).
	Match(p Param) (ok, hotdrop bool)
}

// Targeter is a checked target of one rule.
type Targeter interface {
	// Target acts on the packet: a netfilter verdict ends the traversal,
	// Continue goes on with the next rule.
	Target(p Param) Verdict
}

// Destroyer is a match or target holding something shared (a recent
// list, a hashlimit table): Destroy releases it when the ruleset that
// held the rule has been replaced (the destroy hook).
type Destroyer interface{ Destroy() }

// CheckParam is what a match or target is told when a rule is checked
// (struct xt_mtchk_param, xt_tgchk_param).
type CheckParam struct {
	Host  *stack.Host
	Table string
	// Hooks are the hooks the rule's chain is reached from (comefrom);
	// empty for a chain no built-in chain reaches.
	Hooks HookMask
	// Rule is the rule being checked.
	Rule *Rule
}

// MatchType is a match extension (struct xt_match).
type MatchType struct {
	Name     string
	Revision uint8
	// Proto, when not zero, is the protocol the rule must ask for (-p,
	// not inverted).
	Proto uint8
	// Hooks, when not empty, are the only hooks the match may be used
	// from; Table, when set, is the only table.
	Hooks HookMask
	Table string
	// NewInfo returns a zero info: a pointer to the extension's uapi
	// structure, fixed-size, as the wire carries it.
	NewInfo func() any
	// Check validates info for a rule (checkentry) and returns the match.
	Check func(c *CheckParam, info any) (Matcher, error)
}

// TargetType is a target extension (struct xt_target).
type TargetType struct {
	Name     string
	Revision uint8
	Proto    uint8
	Hooks    HookMask
	Table    string
	NewInfo  func() any
	Check    func(c *CheckParam, info any) (Targeter, error)
}

type extKey struct {
	name string
	rev  uint8
}

var registry = struct {
	sync.RWMutex
	matches map[extKey]*MatchType
	targets map[extKey]*TargetType
}{matches: map[extKey]*MatchType{}, targets: map[extKey]*TargetType{}}

// RegisterMatch adds a match extension (xt_register_match); a second
// registration of a name and revision is a bug.
func RegisterMatch(m *MatchType) {
	registry.Lock()
	defer registry.Unlock()
	k := extKey{m.Name, m.Revision}
	if _, dup := registry.matches[k]; dup {
		panic("iptables: match " + m.Name + " registered twice")
	}
	registry.matches[k] = m
}

// RegisterTarget adds a target extension (xt_register_target).
func RegisterTarget(t *TargetType) {
	registry.Lock()
	defer registry.Unlock()
	k := extKey{t.Name, t.Revision}
	if _, dup := registry.targets[k]; dup {
		panic("iptables: target " + t.Name + " registered twice")
	}
	registry.targets[k] = t
}

// LookupMatch returns the match extension name at revision rev (nil:
// none).
func LookupMatch(name string, rev uint8) *MatchType {
	registry.RLock()
	defer registry.RUnlock()
	return registry.matches[extKey{name, rev}]
}

// LookupTarget returns the target extension name at revision rev.
func LookupTarget(name string, rev uint8) *TargetType {
	registry.RLock()
	defer registry.RUnlock()
	return registry.targets[extKey{name, rev}]
}

// Extensions lists the registered extensions, "name/revision" sorted,
// matches then targets.
func Extensions() (matches, targets []string) {
	registry.RLock()
	defer registry.RUnlock()
	for k := range registry.matches {
		matches = append(matches, fmt.Sprintf("%s/%d", k.name, k.rev))
	}
	for k := range registry.targets {
		targets = append(targets, fmt.Sprintf("%s/%d", k.name, k.rev))
	}
	sort.Strings(matches)
	sort.Strings(targets)
	return matches, targets
}

// infoOrder is the byte order of infos on the wire.
var infoOrder = binary.LittleEndian

// MarshalInfo encodes an info (a pointer to a fixed-size uapi structure)
// as the wire carries it.
func MarshalInfo(info any) ([]byte, error) {
	if info == nil {
		return nil, nil
	}
	return binary.Append(nil, infoOrder, info)
}

// unmarshalInfo decodes b into a new info of newInfo's type; b must be
// exactly the structure's size.
func unmarshalInfo(newInfo func() any, b []byte) (any, error) {
	if newInfo == nil {
		if len(b) != 0 {
			return nil, fmt.Errorf("takes no data, got %d bytes", len(b))
		}
		return nil, nil
	}
	v := newInfo()
	if size := binary.Size(v); size != len(b) {
		return nil, fmt.Errorf("data of %d bytes, want %d", len(b), size)
	}
	if _, err := binary.Decode(b, infoOrder, v); err != nil {
		return nil, err
	}
	return v, nil
}

// UnmarshalMatchInfo decodes the data of match name/rev.
func UnmarshalMatchInfo(name string, rev uint8, b []byte) (any, error) {
	m := LookupMatch(name, rev)
	if m == nil {
		return nil, &Error{Errno: syscall.ENOENT, Msg: fmt.Sprintf("no match %s revision %d", name, rev)}
	}
	v, err := unmarshalInfo(m.NewInfo, b)
	if err != nil {
		return nil, &Error{Errno: syscall.EINVAL, Msg: fmt.Sprintf("%s match: %v", name, err)}
	}
	return v, nil
}

// UnmarshalTargetInfo decodes the data of target name/rev.
func UnmarshalTargetInfo(name string, rev uint8, b []byte) (any, error) {
	t := LookupTarget(name, rev)
	if t == nil {
		return nil, &Error{Errno: syscall.ENOENT, Msg: fmt.Sprintf("no target %s revision %d", name, rev)}
	}
	v, err := unmarshalInfo(t.NewInfo, b)
	if err != nil {
		return nil, &Error{Errno: syscall.EINVAL, Msg: fmt.Sprintf("%s target: %v", name, err)}
	}
	return v, nil
}

// sameType reports whether info has the type newInfo makes.
func sameType(newInfo func() any, info any) bool {
	if newInfo == nil {
		return info == nil
	}
	return info != nil && reflect.TypeOf(info) == reflect.TypeOf(newInfo())
}

// Error is a refused rule set: the errno Linux returns and the reason
// its log would give (x_tables' pr_info lines).
type Error struct {
	Errno syscall.Errno
	Msg   string
}

func (e *Error) Error() string { return "iptables: " + e.Msg + ": " + e.Errno.Error() }

// Unwrap makes errors.Is(err, syscall.EINVAL) work.
func (e *Error) Unwrap() error { return e.Errno }

func errorf(errno syscall.Errno, format string, args ...any) *Error {
	return &Error{Errno: errno, Msg: fmt.Sprintf(format, args...)}
}

// checkErr is a match's or target's refusal: EINVAL with the reason.
func checkErr(format string, args ...any) error { return errorf(syscall.EINVAL, format, args...) }

// cstr is a NUL-terminated string in a fixed array.
func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// PutCString copies s into b NUL-terminated, cut to fit.
func PutCString(b []byte, s string) {
	clear(b)
	if len(s) >= len(b) {
		s = s[:len(b)-1]
	}
	copy(b, s)
}

// CString is the string in b up to its NUL.
func CString(b []byte) string { return cstr(b) }
