// Package netns is vnic's ip netns: the vnic_netns generic netlink
// family through which a client makes, removes, lists and numbers the
// hosts of a running topology, as ip netns does namespaces (which Linux
// makes with files under /run/netns, not netlink: vnic's hosts live in
// the daemon, so the control socket carries them). The package has both
// sides: Service answers on the control socket, the client functions ask.
package netns

import (
	"errors"
	"fmt"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/netlink"
)

// The family, its commands and attributes.
const (
	Family = "vnic_netns"

	CmdNew = 1 // make a host: AttrName
	CmdDel = 2 // remove a host: AttrName
	CmdGet = 3 // one host (AttrName) or, as a dump, every host newest first
	CmdSet = 4 // give a host an nsid: AttrName, AttrNSID (-1: the first free)

	AttrName   = 1 // string
	AttrHandle = 2 // u32: what IFLA_NET_NS_FD names the host by
	AttrNSID   = 3 // s32; absent in a reply: none
)

// Info is one host as CmdGet reports it.
type Info struct {
	Name   string
	Handle uint32
	NSID   int32 // -1: none
}

// Topology is what the service runs on (the topology's World).
type Topology interface {
	AddHost(name string) error
	DelHost(name string) error
	SetNSID(name string, id int32) error
	// Hosts lists the hosts, oldest first.
	Hosts() []Info
}

// Service answers the family.
type Service struct {
	Topo Topology
	// Exec, when set, runs a request where the simulation may be touched.
	Exec func(func())
}

// Family returns the family to register on the control socket.
func (s *Service) Family() *netlink.Family {
	return &netlink.Family{Name: Family, Version: 1, Handle: s.handle}
}

func (s *Service) handle(cmd uint8, dump bool, body []byte) (replies [][]byte, off int, err error) {
	var name string
	nsid, hasID := int32(-1), false
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return nil, -1, netlink.Errorf(syscall.EINVAL, "%v", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case AttrName:
			name = ad.String()
		case AttrNSID:
			nsid, hasID = ad.Int32(), true
		}
	}
	if err := ad.Err(); err != nil {
		return nil, -1, netlink.Errorf(syscall.EINVAL, "%v", err)
	}
	if cmd != CmdGet && name == "" {
		return nil, -1, netlink.Errorf(syscall.EINVAL, "no host name")
	}
	run := func() {
		switch cmd {
		case CmdNew:
			err = s.Topo.AddHost(name)
		case CmdDel:
			err = s.Topo.DelHost(name)
		case CmdSet:
			if !hasID {
				err = netlink.Errorf(syscall.EINVAL, "no nsid")
				return
			}
			err = s.Topo.SetNSID(name, nsid)
		case CmdGet:
			hs := s.Topo.Hosts()
			found := false
			for i := len(hs) - 1; i >= 0; i-- {
				if !dump && hs[i].Name != name {
					continue
				}
				found = true
				replies = append(replies, netlink.GenlData(CmdGet, 1, encode(hs[i])))
			}
			if !dump && !found {
				err = netlink.Errorf(syscall.ENOENT, "no host %q", name)
			}
		default:
			err = netlink.Errorf(syscall.EOPNOTSUPP, "unknown command %d", cmd)
		}
	}
	if s.Exec != nil {
		s.Exec(run)
	} else {
		run()
	}
	if err != nil {
		var ne *netlink.Error
		if !errors.As(err, &ne) {
			errno := syscall.EINVAL
			errors.As(err, &errno)
			err = netlink.Errorf(errno, "%v", err)
		}
		return nil, -1, err
	}
	return replies, -1, nil
}

func encode(h Info) []byte {
	ae := mnl.NewAttributeEncoder()
	ae.String(AttrName, h.Name)
	ae.Uint32(AttrHandle, h.Handle)
	if h.NSID >= 0 {
		ae.Int32(AttrNSID, h.NSID)
	}
	b, _ := ae.Encode()
	return b
}

func decode(b []byte) (Info, error) {
	h := Info{NSID: -1}
	ad, err := mnl.NewAttributeDecoder(b)
	if err != nil {
		return h, err
	}
	for ad.Next() {
		switch ad.Type() {
		case AttrName:
			h.Name = ad.String()
		case AttrHandle:
			h.Handle = ad.Uint32()
		case AttrNSID:
			h.NSID = ad.Int32()
		}
	}
	return h, ad.Err()
}

// Client is what the client functions send through (nlclient.Conn): a
// request's replies' attributes, or the server's refusal.
type Client interface {
	Request(family string, cmd uint8, flags mnl.HeaderFlags, body []byte) ([][]byte, error)
}

func request(attrs func(ae *mnl.AttributeEncoder)) []byte {
	ae := mnl.NewAttributeEncoder()
	attrs(ae)
	b, _ := ae.Encode()
	return b
}

func execute(c Client, cmd uint8, flags mnl.HeaderFlags, body []byte) ([][]byte, error) {
	return c.Request(Family, cmd, flags, body)
}

// Add makes host name.
func Add(c Client, name string) error {
	_, err := execute(c, CmdNew, mnl.Request|mnl.Acknowledge, request(func(ae *mnl.AttributeEncoder) { ae.String(AttrName, name) }))
	return err
}

// Del removes host name.
func Del(c Client, name string) error {
	_, err := execute(c, CmdDel, mnl.Request|mnl.Acknowledge, request(func(ae *mnl.AttributeEncoder) { ae.String(AttrName, name) }))
	return err
}

// Set gives host name the nsid id (-1: the first free).
func Set(c Client, name string, id int32) error {
	_, err := execute(c, CmdSet, mnl.Request|mnl.Acknowledge, request(func(ae *mnl.AttributeEncoder) {
		ae.String(AttrName, name)
		ae.Int32(AttrNSID, id)
	}))
	return err
}

// Get finds host name.
func Get(c Client, name string) (Info, error) {
	rs, err := execute(c, CmdGet, mnl.Request, request(func(ae *mnl.AttributeEncoder) { ae.String(AttrName, name) }))
	if err != nil {
		return Info{}, err
	}
	if len(rs) != 1 {
		return Info{}, fmt.Errorf("netns: %d replies for one host", len(rs))
	}
	return decode(rs[0])
}

// List lists the hosts, newest first (as ip netns list reads
// /run/netns).
func List(c Client) ([]Info, error) {
	rs, err := execute(c, CmdGet, mnl.Request|mnl.Dump, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(rs))
	for _, r := range rs {
		h, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}
