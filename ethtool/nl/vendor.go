package nl

import (
	"encoding/binary"
	"syscall"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
)

// vendorCmd serves the "vnic_ethtool" family: the operations Linux still
// does with ioctls.
func (s *Server) vendorCmd(dev ethtool.Device, cmd uint8, m map[uint16][]byte) ([]Reply, error) {
	name := dev.Name()
	reply := func(fn func(ae *netlink.AttributeEncoder)) []Reply {
		return []Reply{{cmd, encode(func(ae *netlink.AttributeEncoder) {
			encodeHeader(ae, name)
			fn(ae)
		})}}
	}
	if r, ok, err := rxclsCmd(dev, cmd, m, reply); ok {
		return r, err
	}
	switch cmd {
	case VMsgDrvinfoGet:
		d, err := dev.DrvInfo()
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			ae.String(VADriver, d.Driver)
			ae.String(VAVersion, d.Version)
			ae.String(VAFwVersion, d.FwVersion)
			ae.String(VABusInfo, d.BusInfo)
			ae.String(VAEromVersion, d.EromVersion)
			ae.Uint32(VANStats, d.NStats)
			ae.Uint32(VATestInfoLen, d.TestInfoLen)
			ae.Uint32(VAEEDumpLen, d.EEDumpLen)
			ae.Uint32(VARegDumpLen, d.RegDumpLen)
			ae.Uint32(VANPrivFlags, d.NPrivFlags)
		}), nil
	case VMsgStatsGet:
		st, err := dev.Stats()
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			for _, x := range st {
				ae.Nested(VAStat, func(n *netlink.AttributeEncoder) error {
					n.String(VAName, x.Name)
					n.Uint64(VAValue, x.Value)
					return nil
				})
			}
		}), nil
	case VMsgEEPROMGet:
		off, _ := u32(m[VAOffset])
		n, _ := u32(m[VALength])
		data, err := dev.EEPROM(off, n)
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			ae.Uint32(VAOffset, off)
			ae.Bytes(VAData, data)
		}), nil
	case VMsgEEPROMSet:
		magic, _ := u32(m[VAMagic])
		off, _ := u32(m[VAOffset])
		if err := dev.SetEEPROM(magic, off, m[VAData]); err != nil {
			return nil, err
		}
		return nil, nil
	case VMsgRegsGet:
		r, err := dev.Regs()
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			ae.Uint32(VAVersionNum, r.Version)
			ae.Bytes(VAData, r.Data)
		}), nil
	case VMsgRxfhGet:
		r, err := dev.RSS()
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			ae.Bytes(VAKey, r.Key)
			ae.Bytes(VAIndir, u32s(r.Indir))
			ae.Uint32(VAHFunc, r.HFunc)
			ae.Uint32(VARxRings, r.RxRings)
			ae.Flag(VAUserSet, r.UserSet)
		}), nil
	case VMsgRxfhSet:
		req := ethtool.RSSRequest{Key: m[VAKey], DefaultIndir: m[VADefault] != nil}
		if _, ok := m[VADefault]; ok {
			req.DefaultIndir = true
		}
		if b, ok := m[VAIndir]; ok {
			req.Indir = fromU32s(b)
		}
		req.HFunc, _ = u32(m[VAHFunc])
		err := dev.SetRSS(req)
		return nil, err
	case VMsgFlowHashGet:
		ft, _ := u32(m[VAFlowType])
		f, err := dev.RxFlowHash(ethtool.FlowType(ft))
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) { ae.Uint64(VAFields, f) }), nil
	case VMsgFlowHashSet:
		ft, _ := u32(m[VAFlowType])
		var f uint64
		if b := m[VAFields]; len(b) == 8 {
			f = binary.LittleEndian.Uint64(b)
		}
		return nil, dev.SetRxFlowHash(ethtool.FlowType(ft), f)
	case VMsgTestAct:
		_, offline := m[VAOffline]
		res, err := dev.SelfTest(offline)
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) {
			for _, t := range res {
				ae.Nested(VAResult, func(n *netlink.AttributeEncoder) error {
					n.String(VAName, t.Name)
					n.Uint64(VAValue, t.Value)
					return nil
				})
			}
		}), nil
	case VMsgNwayAct:
		return nil, dev.NwayReset()
	case VMsgPermaddrGet:
		a, err := dev.PermAddr()
		if err != nil {
			return nil, err
		}
		return reply(func(ae *netlink.AttributeEncoder) { ae.Bytes(VAAddr, a) }), nil
	}
	return nil, ethtool.Errorf("vnic_ethtool", syscall.EOPNOTSUPP, "command %d is not implemented", cmd)
}

func u32s(v []uint32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], x)
	}
	return out
}

func fromU32s(b []byte) []uint32 {
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}
