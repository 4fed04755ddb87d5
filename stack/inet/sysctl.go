package inet

import (
	"strings"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/netlink"
)

// The vnic_inet family's sysctl command: read or write a host's
// net.ipv4 settings. Request: InetAttrHost, InetAttrName (empty: all; a
// prefix of keys: the keys under it, as a /proc/sys directory),
// InetAttrValue (set: write). Reply: InetAttrCounter-shaped pairs with a
// string value (name 1, value 3). Errors carry procps sysctl's wording:
// ENOENT "cannot stat /proc/sys/…", EACCES "permission denied on key …",
// EINVAL "setting key …: Invalid argument".
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
		// A write names its key: an empty one would set every switch
		// (procps refuses the path /proc/sys/ itself).
		return nil, -1, inetErr(syscall.EINVAL, "Path is not under /proc/sys/: /proc/sys/")
	}
	var out []stack.Sysctl
	var ferr error
	s.exec(func() {
		all := h.Sysctls()
		// The key itself, else the keys under it (a directory of
		// /proc/sys: sysctl lists it; writing one is EINVAL).
		for _, k := range all {
			if name == "" || k.Name == name {
				out = append(out, k)
			}
		}
		if len(out) == 0 && name != "" {
			for _, k := range all {
				if strings.HasPrefix(k.Name, name+".") {
					out = append(out, k)
				}
			}
			if len(out) > 0 && write {
				ferr = inetErr(syscall.EINVAL, "setting key \"%s\": Invalid argument", name)
				return
			}
		}
		if !write {
			return
		}
		for _, k := range out {
			if k.Set == nil {
				ferr = inetErr(syscall.EACCES, "permission denied on key \"%s\"", k.Name)
				return
			}
			if err := k.Set(value); err != nil {
				ferr = inetErr(syscall.EINVAL, "setting key \"%s\": Invalid argument", k.Name)
				return
			}
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
