package inet

import (
	"strings"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/netlink"
)

// The vnic_inet family's sysctl command: read or write a host's
// net.ipv4 settings. Request: InetAttrHost, InetAttrName (empty: all),
// InetAttrValue (set: write). Reply: InetAttrCounter-shaped pairs with a
// string value (name 1, value 3).
const (
	InetCmdSysctl = 3
	InetAttrName  = 40 // string
	InetAttrValue = 41 // string
	sysctlValue   = 3  // in a nested pair: the value as text
)

// sysctl answers InetCmdSysctl.
func (s *Service) sysctl(body []byte) ([][]byte, int, error) {
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return nil, -1, err
	}
	var host, name, value string
	write := false
	for ad.Next() {
		switch ad.Type() {
		case InetAttrHost:
			host = ad.String()
		case InetAttrName:
			name = ad.String()
		case InetAttrValue:
			value, write = ad.String(), true
		}
	}
	h, _, err := s.hostInet(host)
	if err != nil {
		return nil, -1, err
	}
	name = strings.ReplaceAll(name, "/", ".")
	if write && name == "" {
		// A write names its key: an empty one would set every switch.
		return nil, -1, inetErr(syscall.EINVAL, "malformed setting \"=%s\"", value)
	}
	var out []stack.Sysctl
	var ferr error
	s.exec(func() {
		for _, k := range h.Sysctls() {
			if name != "" && k.Name != name {
				continue
			}
			if write {
				if k.Set == nil {
					ferr = inetErr(syscall.EACCES, "permission denied on key %q (vnic keeps it fixed)", k.Name)
					return
				}
				if err := k.Set(value); err != nil {
					ferr = inetErr(syscall.EINVAL, "setting key %q: Invalid argument", k.Name)
					return
				}
			}
			out = append(out, k)
		}
	})
	if ferr != nil {
		return nil, -1, ferr
	}
	if len(out) == 0 {
		return nil, -1, inetErr(syscall.ENOENT, "cannot stat /proc/sys/%s: No such file or directory", strings.ReplaceAll(name, ".", "/"))
	}
	ae := mnl.NewAttributeEncoder()
	s.exec(func() {
		for _, k := range out {
			ae.Nested(InetAttrCounter, func(n *mnl.AttributeEncoder) error {
				n.String(1, k.Name)
				n.String(sysctlValue, k.Get())
				return nil
			})
		}
	})
	b, err := ae.Encode()
	return [][]byte{netlink.GenlData(InetCmdSysctl, 1, b)}, -1, err
}
