package iptables

import (
	"encoding/binary"
	"errors"
	"fmt"

	ipt "vnic/stack/netfilter/iptables"
)

// The entries blob is how a table travels between the CLI and a host
// (what IPT_SO_GET_ENTRIES and IPT_SO_SET_REPLACE carry): the table's
// name and generation, then each chain with its policy, counters and
// rules; a rule is its struct ipt_ip (IPMatch as the engine lays it
// out), its counters, ID and origin, its matches and its target, each
// extension named with its revision and its info in the engine's wire
// form (MarshalInfo). Integers are little-endian; strings are a length
// byte and the bytes.
//
//	blob   = "VIPT" 0x01 str(table) u64(gen) u32(nchains) chain*
//	chain  = str(name) i32(policy) u64(pkts) u64(bytes) u8(keep) u32(nrules) rule*
//	rule   = ipmatch u64(pkts) u64(bytes) u32(id) u32(origin) u8(nmatches) ext* target
//	ext    = str(name) u8(revision) u16(len) data
//	target = str(name) u8(revision) i32(verdict) str(chain) u16(len) data
var blobMagic = [5]byte{'V', 'I', 'P', 'T', 1}

var le = binary.LittleEndian

// ipMatchSize is the size of struct ipt_ip in the blob.
var ipMatchSize = binary.Size(ipt.IPMatch{})

// minRuleSize is the smallest a rule can be: its IP part, counters,
// ID, origin, match count and an empty standard target.
var minRuleSize = ipMatchSize + 8 + 8 + 4 + 4 + 1 + (1 + 1 + 4 + 1 + 2)

// errBlob is a malformed blob.
var errBlob = errors.New("iptables: malformed entries blob")

// EncodeTable is spec as an entries blob.
func EncodeTable(spec *ipt.TableSpec) ([]byte, error) {
	b := append([]byte(nil), blobMagic[:]...)
	b = appendStr(b, spec.Name)
	b = le.AppendUint64(b, spec.Gen)
	b = le.AppendUint32(b, uint32(len(spec.Chains)))
	for _, c := range spec.Chains {
		b = appendStr(b, c.Name)
		b = le.AppendUint32(b, uint32(int32(c.Policy)))
		b = le.AppendUint64(b, c.Counters.Packets)
		b = le.AppendUint64(b, c.Counters.Bytes)
		b = append(b, b2u8(c.KeepCounters))
		b = le.AppendUint32(b, uint32(len(c.Rules)))
		for i := range c.Rules {
			var err error
			if b, err = appendRule(b, &c.Rules[i]); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

func b2u8(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendStr(b []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendRule(b []byte, r *ipt.Rule) ([]byte, error) {
	b, err := binary.Append(b, le, &r.IP)
	if err != nil {
		return nil, err
	}
	b = le.AppendUint64(b, r.Counters.Packets)
	b = le.AppendUint64(b, r.Counters.Bytes)
	b = le.AppendUint32(b, r.ID)
	b = le.AppendUint32(b, r.Origin)
	if len(r.Matches) > 255 {
		return nil, fmt.Errorf("iptables: a rule of %d matches", len(r.Matches))
	}
	b = append(b, byte(len(r.Matches)))
	for _, m := range r.Matches {
		data, err := ipt.MarshalInfo(m.Info)
		if err != nil || len(data) > 0xffff {
			return nil, fmt.Errorf("iptables: match %s: info does not encode", m.Name)
		}
		b = appendStr(b, m.Name)
		b = append(b, m.Revision)
		b = le.AppendUint16(b, uint16(len(data)))
		b = append(b, data...)
	}
	t := &r.Target
	data, err := ipt.MarshalInfo(t.Info)
	if err != nil || len(data) > 0xffff {
		return nil, fmt.Errorf("iptables: target %s: info does not encode", t.Name)
	}
	b = appendStr(b, t.Name)
	b = append(b, t.Revision)
	b = le.AppendUint32(b, uint32(int32(t.Verdict)))
	b = appendStr(b, t.Chain)
	b = le.AppendUint16(b, uint16(len(data)))
	return append(b, data...), nil
}

// reader reads a blob, remembering the first failure.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || len(r.b) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.take(2); v != nil {
		return le.Uint16(v)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4); v != nil {
		return le.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.take(8); v != nil {
		return le.Uint64(v)
	}
	return 0
}

func (r *reader) str() string { return string(r.take(int(r.u8()))) }

// DecodeTable reads an entries blob. Each extension's info is decoded
// by the engine's registry: an extension it does not have is ENOENT, an
// info of the wrong size EINVAL (both *ipt.Error).
func DecodeTable(blob []byte) (*ipt.TableSpec, error) {
	r := &reader{b: blob}
	if m := r.take(len(blobMagic)); m == nil || [5]byte(m) != blobMagic {
		return nil, errBlob
	}
	spec := &ipt.TableSpec{Name: r.str(), Gen: r.u64()}
	n := r.u32()
	if r.bad || uint64(n) > uint64(len(r.b)) { // every chain takes bytes
		return nil, errBlob
	}
	for i := uint32(0); i < n; i++ {
		c := ipt.Chain{Name: r.str(), Policy: ipt.Verdict(int32(r.u32()))}
		c.Counters = ipt.Counters{Packets: r.u64(), Bytes: r.u64()}
		c.KeepCounters = r.u8() != 0
		nr := r.u32()
		if r.bad || uint64(nr)*uint64(minRuleSize) > uint64(len(r.b)) {
			return nil, errBlob
		}
		c.Rules = make([]ipt.Rule, 0, nr)
		for j := uint32(0); j < nr; j++ {
			rule, err := readRule(r)
			if err != nil {
				return nil, err
			}
			c.Rules = append(c.Rules, rule)
		}
		spec.Chains = append(spec.Chains, c)
	}
	if r.bad || len(r.b) != 0 {
		return nil, errBlob
	}
	return spec, nil
}

func readRule(r *reader) (ipt.Rule, error) {
	var rule ipt.Rule
	ipb := r.take(ipMatchSize)
	if ipb == nil {
		return rule, errBlob
	}
	if _, err := binary.Decode(ipb, le, &rule.IP); err != nil {
		return rule, errBlob
	}
	rule.Counters = ipt.Counters{Packets: r.u64(), Bytes: r.u64()}
	rule.ID, rule.Origin = r.u32(), r.u32()
	nm := int(r.u8())
	for k := 0; k < nm; k++ {
		name, rev := r.str(), r.u8()
		data := r.take(int(r.u16()))
		if r.bad {
			return rule, errBlob
		}
		info, err := ipt.UnmarshalMatchInfo(name, rev, data)
		if err != nil {
			return rule, err
		}
		rule.Matches = append(rule.Matches, ipt.Match{Name: name, Revision: rev, Info: info})
	}
	t := &rule.Target
	t.Name, t.Revision = r.str(), r.u8()
	t.Verdict = ipt.Verdict(int32(r.u32()))
	t.Chain = r.str()
	data := r.take(int(r.u16()))
	if r.bad {
		return rule, errBlob
	}
	if t.Name != "" {
		info, err := ipt.UnmarshalTargetInfo(t.Name, t.Revision, data)
		if err != nil {
			return rule, err
		}
		t.Info = info
	} else if len(data) != 0 {
		return rule, errBlob
	}
	return rule, nil
}
