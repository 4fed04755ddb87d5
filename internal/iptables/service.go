package iptables

import (
	"errors"
	"sync"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/netlink"
)

// The vnic_iptables family: what iptables' setsockopt/getsockopt calls
// do on a Linux host (IPT_SO_GET_INFO and IPT_SO_GET_ENTRIES read a
// table, IPT_SO_SET_REPLACE swaps one in), what /proc/net/ip_tables_names
// lists, and ipset's commands (nfnetlink_ipset), for the host a request
// names.
const (
	FamilyName = "vnic_iptables"

	// CmdGet reads a table (AttrHost, AttrTable); a dump answered with
	// the entries blob in AttrBlob pieces, in order.
	CmdGet = 1
	// CmdReplace replaces a table with the blob in AttrBlob (AttrHost).
	// A blob too large for one request goes in pieces: each but the
	// last carries AttrMore; the first piece's answer carries the
	// AttrUpload the next pieces give.
	CmdReplace = 2
	// CmdTables lists the host's tables (AttrHost): one AttrTable each.
	CmdTables = 3
	// CmdIPSet runs an ipset request (AttrHost, AttrBlob): a dump
	// answered with the reply's pieces in AttrBlob.
	CmdIPSet = 4
	// CmdAddCounters adds to rules' counters (AttrHost, AttrTable,
	// AttrGen, AttrBlob: per rule u32 ID, u64 packets, u64 bytes,
	// little-endian), the IDs of the generation read.
	CmdAddCounters = 5
	// CmdLog reads the host's kernel log (AttrHost): a dump answered
	// with one message a line (AttrSeq, AttrTime in nanoseconds of the
	// host's clock, AttrLevel, AttrText), oldest first.
	CmdLog = 6

	AttrHost   = 1
	AttrTable  = 2
	AttrBlob   = 3
	AttrUpload = 4
	AttrMore   = 5
	AttrGen    = 6
	AttrSeq    = 7
	AttrTime   = 8
	AttrLevel  = 9
	AttrText   = 10
)

// noHost starts the refusal of a request naming no host of the
// topology.
const noHost = "no host "

// chunkSize is the most blob a message carries (a control socket packet
// is at most netlink.MaxPacket).
const chunkSize = 32 << 10

// Upload limits: a blob in pieces is at most maxUpload bytes, and a host
// keeps at most maxUploads unfinished ones (the oldest goes first).
const (
	maxUpload  = 64 << 20
	maxUploads = 8
)

// Service serves vnic_iptables for the hosts Host names. Exec runs each
// request where the simulation may be touched (nil: in place).
type Service struct {
	Host func(string) *stack.Host
	Exec func(func())

	mu      sync.Mutex
	next    uint64
	uploads map[uint64]*upload
	order   []uint64
}

type upload struct {
	host string
	data []byte
}

// Family returns the family to register with netlink.Listen.
func (s *Service) Family() *netlink.Family {
	return &netlink.Family{Name: FamilyName, Version: 1, Handle: s.handle}
}

func (s *Service) exec(fn func()) {
	if s.Exec != nil {
		s.Exec(fn)
		return
	}
	fn()
}

// request is a decoded request's attributes.
type request struct {
	host, table string
	blob        []byte
	upload      uint64
	more        bool
	gen         uint64
}

func parseRequest(body []byte) (request, error) {
	var r request
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return r, netlink.Errorf(syscall.EINVAL, "malformed attributes")
	}
	for ad.Next() {
		switch ad.Type() {
		case AttrHost:
			r.host = ad.String()
		case AttrTable:
			r.table = ad.String()
		case AttrBlob:
			r.blob = append(r.blob, ad.Bytes()...)
		case AttrUpload:
			r.upload = ad.Uint64()
		case AttrMore:
			r.more = true
		case AttrGen:
			r.gen = ad.Uint64()
		}
	}
	if err := ad.Err(); err != nil {
		return r, netlink.Errorf(syscall.EINVAL, "malformed attributes")
	}
	return r, nil
}

func (s *Service) handle(cmd uint8, dump bool, body []byte) ([][]byte, int, error) {
	r, err := parseRequest(body)
	if err != nil {
		return nil, -1, err
	}
	h := s.Host(r.host)
	if h == nil {
		return nil, -1, netlink.Errorf(syscall.ENOENT, noHost+"%q in the running topology", r.host)
	}
	switch cmd {
	case CmdGet:
		var spec *ipt.TableSpec
		s.exec(func() { spec, err = ipt.Get(h, r.table) })
		if err != nil {
			return nil, -1, engineErr(err)
		}
		blob, err := EncodeTable(spec)
		if err != nil {
			return nil, -1, netlink.Errorf(syscall.EINVAL, "%v", err)
		}
		return chunkReplies(CmdGet, blob), -1, nil
	case CmdReplace:
		return s.replace(h, r)
	case CmdTables:
		var names []string
		s.exec(func() { names = ipt.Tables(h) })
		var out [][]byte
		for _, n := range names {
			ae := mnl.NewAttributeEncoder()
			ae.String(AttrTable, n)
			b, _ := ae.Encode()
			out = append(out, netlink.GenlData(CmdTables, 1, b))
		}
		return out, -1, nil
	case CmdAddCounters:
		adds, err := decodeAdds(r.blob)
		if err != nil {
			return nil, -1, netlink.Errorf(syscall.EINVAL, "malformed counters")
		}
		s.exec(func() {
			var t *ipt.Table
			if t, err = ipt.Open(h, r.table); err == nil {
				err = t.AddCounters(r.gen, adds)
			}
		})
		if err != nil {
			return nil, -1, engineErr(err)
		}
		return nil, -1, nil
	case CmdLog:
		var lines []ipt.LogLine
		s.exec(func() { lines = ipt.Log(h).Lines(0) })
		out := make([][]byte, 0, len(lines))
		for _, ln := range lines {
			out = append(out, netlink.GenlData(CmdLog, 1, encodeLogLine(ln)))
		}
		return out, -1, nil
	case CmdIPSet:
		var reply []byte
		s.exec(func() { reply, err = ipsetServe(h, r.blob) })
		if err != nil {
			return nil, -1, engineErr(err)
		}
		return chunkReplies(CmdIPSet, reply), -1, nil
	}
	return nil, -1, netlink.Errorf(syscall.EOPNOTSUPP, "unknown command %d", cmd)
}

// chunkReplies cuts a blob into AttrBlob messages (one, empty, for an
// empty blob).
func chunkReplies(cmd uint8, blob []byte) [][]byte {
	var out [][]byte
	for len(out) == 0 || len(blob) > 0 {
		n := min(len(blob), chunkSize)
		ae := mnl.NewAttributeEncoder()
		ae.Bytes(AttrBlob, blob[:n])
		b, _ := ae.Encode()
		out = append(out, netlink.GenlData(cmd, 1, b))
		blob = blob[n:]
	}
	return out
}

// replace takes a piece of a blob, or the whole or last of one, which it
// decodes and swaps in.
func (s *Service) replace(h *stack.Host, r request) ([][]byte, int, error) {
	blob := r.blob
	if r.upload != 0 || r.more {
		var token uint64
		var err error
		if blob, token, err = s.stage(r); err != nil {
			return nil, -1, err
		}
		if r.more {
			ae := mnl.NewAttributeEncoder()
			ae.Uint64(AttrUpload, token)
			b, _ := ae.Encode()
			return [][]byte{netlink.GenlData(CmdReplace, 1, b)}, -1, nil
		}
	}
	spec, err := DecodeTable(blob)
	if err != nil {
		return nil, -1, engineErr(err)
	}
	s.exec(func() { _, err = ipt.Replace(h, spec) })
	if err != nil {
		return nil, -1, engineErr(err)
	}
	return nil, -1, nil
}

// stage adds a piece to its upload: the whole blob once the last piece
// came, else the upload's token.
func (s *Service) stage(r request) ([]byte, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uploads == nil {
		s.uploads = map[uint64]*upload{}
	}
	u := s.uploads[r.upload]
	token := r.upload
	if r.upload == 0 {
		s.next++
		token = s.next
		u = &upload{host: r.host}
		s.uploads[token] = u
		s.order = append(s.order, token)
		if len(s.order) > maxUploads {
			delete(s.uploads, s.order[0])
			s.order = s.order[1:]
		}
	}
	if u == nil || u.host != r.host {
		return nil, 0, netlink.Errorf(syscall.ENOENT, "no upload %d (finished, or pushed out by newer ones)", r.upload)
	}
	if len(u.data)+len(r.blob) > maxUpload {
		s.drop(token)
		return nil, 0, netlink.Errorf(syscall.E2BIG, "a table of more than %d bytes", maxUpload)
	}
	u.data = append(u.data, r.blob...)
	if r.more {
		return nil, token, nil
	}
	s.drop(token)
	return u.data, token, nil
}

func (s *Service) drop(token uint64) {
	delete(s.uploads, token)
	for i, t := range s.order {
		if t == token {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// engineErr is an engine's refusal as a netlink error with its errno.
func engineErr(err error) error {
	var e *ipt.Error
	if errors.As(err, &e) {
		return &netlink.Error{Errno: e.Errno, Msg: e.Msg, Off: -1}
	}
	var ne *netlink.Error
	if errors.As(err, &ne) {
		return ne
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return netlink.Errorf(errno, "%v", err)
	}
	return netlink.Errorf(syscall.EINVAL, "%v", err)
}

// EncodeAdds is counters to add, by rule ID, as CmdAddCounters carries
// them.
func EncodeAdds(adds map[uint32]ipt.Counters) []byte {
	var b []byte
	for id, c := range adds {
		b = le.AppendUint32(b, id)
		b = le.AppendUint64(b, c.Packets)
		b = le.AppendUint64(b, c.Bytes)
	}
	return b
}

func decodeAdds(b []byte) (map[uint32]ipt.Counters, error) {
	if len(b)%20 != 0 {
		return nil, errBlob
	}
	adds := map[uint32]ipt.Counters{}
	for ; len(b) > 0; b = b[20:] {
		id := le.Uint32(b)
		c := adds[id]
		c.Packets += le.Uint64(b[4:])
		c.Bytes += le.Uint64(b[12:])
		adds[id] = c
	}
	return adds, nil
}
