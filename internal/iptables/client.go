package iptables

import (
	"errors"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/nlclient"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/netlink"
)

// backend is the host's side as the tools reach it: a table read and
// replaced, the tables listed, ipset's requests.
type backend interface {
	get(table string) (*ipt.TableSpec, error)
	replace(spec *ipt.TableSpec) error
	tables() ([]string, error)
	ipset(req []byte) ([]byte, error)
	log() ([]ipt.LogLine, error)
	close()
}

// nlBackend is the control socket's vnic_iptables family for one host.
type nlBackend struct {
	conn *nlclient.Conn
	host string
}

func dialBackend(path, host string) (backend, error) {
	if path == "" {
		path = nlclient.DefaultPath()
	}
	c, err := nlclient.Dial(path)
	if err != nil {
		return nil, err
	}
	return &nlBackend{conn: c, host: host}, nil
}

func (b *nlBackend) close() { b.conn.Close() }

func (b *nlBackend) attrs(fn func(ae *mnl.AttributeEncoder)) []byte {
	ae := mnl.NewAttributeEncoder()
	ae.String(AttrHost, b.host)
	if fn != nil {
		fn(ae)
	}
	body, _ := ae.Encode()
	return body
}

// blobOf joins the AttrBlob pieces of replies.
func blobOf(replies [][]byte) ([]byte, error) {
	var blob []byte
	for _, r := range replies {
		ad, err := mnl.NewAttributeDecoder(r)
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			if ad.Type() == AttrBlob {
				blob = append(blob, ad.Bytes()...)
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
	}
	return blob, nil
}

func (b *nlBackend) get(table string) (*ipt.TableSpec, error) {
	rs, err := b.conn.Request(FamilyName, CmdGet, mnl.Request|mnl.Dump,
		b.attrs(func(ae *mnl.AttributeEncoder) { ae.String(AttrTable, table) }))
	if err != nil {
		return nil, err
	}
	blob, err := blobOf(rs)
	if err != nil {
		return nil, err
	}
	return DecodeTable(blob)
}

func (b *nlBackend) replace(spec *ipt.TableSpec) error {
	blob, err := EncodeTable(spec)
	if err != nil {
		return err
	}
	var token uint64
	for {
		n := min(len(blob), chunkSize)
		more := n < len(blob)
		piece := blob[:n]
		body := b.attrs(func(ae *mnl.AttributeEncoder) {
			ae.Bytes(AttrBlob, piece)
			if token != 0 {
				ae.Uint64(AttrUpload, token)
			}
			if more {
				ae.Flag(AttrMore, true)
			}
		})
		rs, err := b.conn.Request(FamilyName, CmdReplace, mnl.Request|mnl.Acknowledge, body)
		if err != nil {
			return err
		}
		blob = blob[n:]
		if !more {
			return nil
		}
		for _, r := range rs {
			ad, err := mnl.NewAttributeDecoder(r)
			if err != nil {
				return err
			}
			for ad.Next() {
				if ad.Type() == AttrUpload {
					token = ad.Uint64()
				}
			}
		}
		if token == 0 {
			return errors.New("iptables: the host gave no upload token")
		}
	}
}

func (b *nlBackend) log() ([]ipt.LogLine, error) {
	rs, err := b.conn.Request(FamilyName, CmdLog, mnl.Request|mnl.Dump, b.attrs(nil))
	if err != nil {
		return nil, err
	}
	out := make([]ipt.LogLine, 0, len(rs))
	for _, r := range rs {
		ln, err := decodeLogLine(r)
		if err != nil {
			return nil, err
		}
		out = append(out, ln)
	}
	return out, nil
}

func (b *nlBackend) tables() ([]string, error) {
	rs, err := b.conn.Request(FamilyName, CmdTables, mnl.Request|mnl.Dump, b.attrs(nil))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs {
		ad, err := mnl.NewAttributeDecoder(r)
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			if ad.Type() == AttrTable {
				out = append(out, ad.String())
			}
		}
	}
	return out, nil
}

func (b *nlBackend) ipset(req []byte) ([]byte, error) {
	rs, err := b.conn.Request(FamilyName, CmdIPSet, mnl.Request|mnl.Dump,
		b.attrs(func(ae *mnl.AttributeEncoder) { ae.Bytes(AttrBlob, req) }))
	if err != nil {
		return nil, err
	}
	return blobOf(rs)
}

// errnoOf is the errno a backend's failure carries (EINVAL when none).
func errnoOf(err error) syscall.Errno {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		return ne.Errno
	}
	var e *ipt.Error
	if errors.As(err, &e) {
		return e.Errno
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EINVAL
}
