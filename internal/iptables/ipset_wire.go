package iptables

import (
	"errors"

	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
)

// ipset's requests to a host (what nfnetlink_ipset carries), in the
// blob's encoding:
//
//	request  = u8(op) str(name) str(name2) create u8(exist) entry u16(index)
//	create   = str(type) u32(hashsize) u32(maxelem) u32(timeout) u8(counters)
//	entry    = addr[4] u8(cidr) u8(proto) u16(port) u32(timeout) u8(hascounters) u64(pkts) u64(bytes)
//	response = u8(status) str(message) then by op: u8 (test), u16 u8 (index), str u8 (name),
//	           u16(n) set* (list)
//	set      = str(name) create u16(index) u32(refs) u32(n) entry*
const (
	setOpCreate = iota + 1
	setOpDestroy
	setOpFlush
	setOpRename
	setOpSwap
	setOpAdd
	setOpDel
	setOpTest
	setOpList
	setOpIndex
	setOpName
)

// setRequest is one ipset request.
type setRequest struct {
	op          uint8
	name, name2 string
	create      ipt.SetCreate
	exist       bool
	entry       ipt.SetEntry
	index       uint16
}

// Response statuses: the engine's errors by number.
const (
	setOK = iota
	setNoSuch
	setNameExist
	setInUse
	setTypeMismatch
	setElemExist
	setElemMissing
	setFull
	setType
	setNoTimeout
	setNoCounters
	setInvalid
	setSecondMissing
	setOther = 255
)

var setErrs = map[error]uint8{
	ipt.ErrSetNoSuch: setNoSuch, ipt.ErrSetNameExist: setNameExist, ipt.ErrSetInUse: setInUse,
	ipt.ErrSetTypeMismatch: setTypeMismatch, ipt.ErrSetElemExist: setElemExist, ipt.ErrSetElemMissing: setElemMissing,
	ipt.ErrSetFull: setFull, ipt.ErrSetType: setType, ipt.ErrSetNoTimeout: setNoTimeout,
	ipt.ErrSetNoCounters: setNoCounters, ipt.ErrSetInvalid: setInvalid,
}

func appendCreate(b []byte, c *ipt.SetCreate) []byte {
	b = appendStr(b, c.Type)
	b = le.AppendUint32(b, c.HashSize)
	b = le.AppendUint32(b, c.MaxElem)
	b = le.AppendUint32(b, c.Timeout)
	return append(b, b2u8(c.Counters))
}

func readCreate(r *reader, c *ipt.SetCreate) {
	c.Type, c.HashSize, c.MaxElem, c.Timeout, c.Counters = r.str(), r.u32(), r.u32(), r.u32(), r.u8() != 0
}

func appendEntry(b []byte, e *ipt.SetEntry) []byte {
	b = append(b, e.Addr[:]...)
	b = append(b, e.CIDR, e.Proto)
	b = le.AppendUint16(b, e.Port)
	b = le.AppendUint32(b, e.Timeout)
	b = append(b, b2u8(e.HasCounters))
	b = le.AppendUint64(b, e.Packets)
	return le.AppendUint64(b, e.Bytes)
}

func readEntry(r *reader, e *ipt.SetEntry) {
	if a := r.take(4); a != nil {
		e.Addr = [4]byte(a)
	}
	e.CIDR, e.Proto, e.Port, e.Timeout = r.u8(), r.u8(), r.u16(), r.u32()
	e.HasCounters, e.Packets, e.Bytes = r.u8() != 0, r.u64(), r.u64()
}

func (q *setRequest) encode() []byte {
	b := []byte{q.op}
	b = appendStr(b, q.name)
	b = appendStr(b, q.name2)
	b = appendCreate(b, &q.create)
	b = append(b, b2u8(q.exist))
	b = appendEntry(b, &q.entry)
	return le.AppendUint16(b, q.index)
}

func decodeSetRequest(b []byte) (setRequest, error) {
	r := &reader{b: b}
	q := setRequest{op: r.u8(), name: r.str(), name2: r.str()}
	readCreate(r, &q.create)
	q.create.Name = q.name
	q.exist = r.u8() != 0
	readEntry(r, &q.entry)
	q.index = r.u16()
	if r.bad || len(r.b) != 0 {
		return q, errBlob
	}
	return q, nil
}

// ipsetServe runs one request on h and encodes the answer.
func ipsetServe(h *stack.Host, req []byte) ([]byte, error) {
	q, err := decodeSetRequest(req)
	if err != nil {
		return nil, err
	}
	out := []byte{setOK}
	out = appendStr(out, "")
	fail := func(err error) ([]byte, error) {
		code, ok := setErrs[err]
		msg := ""
		if !ok {
			code, msg = setOther, err.Error()
		}
		return appendStr([]byte{code}, msg), nil
	}
	switch q.op {
	case setOpCreate:
		err = ipt.IPSetCreate(h, q.create, q.exist)
	case setOpDestroy:
		err = ipt.IPSetDestroy(h, q.name)
	case setOpFlush:
		err = ipt.IPSetFlush(h, q.name)
	case setOpRename:
		err = ipt.IPSetRename(h, q.name, q.name2)
	case setOpSwap:
		if _, ok := ipt.IPSetIndex(h, q.name); ok {
			if _, ok := ipt.IPSetIndex(h, q.name2); !ok {
				return appendStr([]byte{setSecondMissing}, ""), nil
			}
		}
		err = ipt.IPSetSwap(h, q.name, q.name2)
	case setOpAdd:
		err = ipt.IPSetAdd(h, q.name, q.entry, q.exist)
	case setOpDel:
		err = ipt.IPSetDel(h, q.name, q.entry, q.exist)
	case setOpTest:
		var in bool
		if in, err = ipt.IPSetTest(h, q.name, q.entry); err == nil {
			out = append(out, b2u8(in))
		}
	case setOpIndex:
		i, ok := ipt.IPSetIndex(h, q.name)
		out = append(le.AppendUint16(out, i), b2u8(ok))
	case setOpName:
		n, ok := ipt.IPSetName(h, q.index)
		out = append(appendStr(out, n), b2u8(ok))
	case setOpList:
		var sets []ipt.SetInfo
		if sets, err = ipt.IPSetList(h, q.name); err == nil {
			out = le.AppendUint16(out, uint16(len(sets)))
			for i := range sets {
				s := &sets[i]
				out = appendStr(out, s.Name)
				out = appendCreate(out, &s.SetCreate)
				out = le.AppendUint16(out, s.Index)
				out = le.AppendUint32(out, uint32(s.Refs))
				out = le.AppendUint32(out, uint32(len(s.Entries)))
				for j := range s.Entries {
					out = appendEntry(out, &s.Entries[j])
				}
			}
		}
	default:
		return nil, errors.New("ipset: unknown request")
	}
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// setResponse is a decoded answer.
type setResponse struct {
	status uint8
	msg    string
	r      *reader
}

func decodeSetResponse(b []byte) setResponse {
	r := &reader{b: b}
	return setResponse{status: r.u8(), msg: r.str(), r: r}
}

// decodeSetList reads a list answer's sets.
func (s setResponse) sets() ([]ipt.SetInfo, error) {
	r := s.r
	n := int(r.u16())
	var out []ipt.SetInfo
	for i := 0; i < n && !r.bad; i++ {
		var info ipt.SetInfo
		info.Name = r.str()
		readCreate(r, &info.SetCreate)
		info.Index, info.Refs = r.u16(), int(r.u32())
		ne := r.u32()
		if uint64(ne)*29 > uint64(len(r.b)) { // an entry is 29 bytes
			return nil, errBlob
		}
		for j := uint32(0); j < ne; j++ {
			var e ipt.SetEntry
			readEntry(r, &e)
			info.Entries = append(info.Entries, e)
		}
		out = append(out, info)
	}
	if r.bad {
		return nil, errBlob
	}
	return out, nil
}
