package header

import "testing"

var (
	sinkBool  bool
	sinkU8    uint8
	sinkU16   uint16
	sinkU32   uint32
	sinkMAC   [6]byte
	sinkAddr  [4]byte
	sinkBytes []byte
)

// TestNoAllocs: no accessor, setter or checksum allocates.
func TestNoAllocs(t *testing.T) {
	frame := make([]byte, 14+24+20+16)
	eth := Ethernet(frame)
	eth.SetType(EtherTypeIPv4)
	ip := IPv4(frame[14:])
	ip.SetHeaderLen(24)
	ip.SetTotalLen(24 + 20 + 16)
	copy(ip.Options(), []byte{IPv4OptRouterAlert, 4, 0, 0})
	th := TCP(ip[24:])
	th.SetHeaderLen(20)
	arp := ARP(make([]byte, ARPLen))
	icmp := ICMPv4(make([]byte, 36))
	mc := MACControl(make([]byte, 4))
	udp := UDP(make([]byte, 16))
	mac, addr := [6]byte{2, 0, 0, 0, 0, 1}, [4]byte{198, 18, 0, 1}

	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"Ethernet", func() {
			eth.SetDst(mac)
			eth.SetSrc(mac)
			sinkMAC = eth.Dst()
			sinkMAC = eth.Src()
			sinkU16 = eth.Type()
			sinkBool = eth.IsValid() && eth.IsBroadcast() && eth.IsMulticast()
			et, off := eth.InnerType()
			sinkU16, sinkU32 = et, uint32(off)
			sinkBytes = eth.Payload()
		}},
		{"MACControl", func() {
			mc.SetOpcode(MACControlPause)
			mc.SetQuanta(0xffff)
			sinkU16 = mc.Opcode() + mc.Quanta()
			sinkBool = mc.IsValid()
		}},
		{"ARP", func() {
			arp.SetEthernetIPv4()
			arp.SetOp(ARPRequest)
			arp.SetSHA(mac)
			arp.SetSPA(addr)
			arp.SetTHA(mac)
			arp.SetTPA(addr)
			sinkBool = arp.IsValid()
			sinkU16 = arp.Op() + arp.HardwareType() + arp.ProtocolType()
			sinkU8 = arp.HardwareLen() + arp.ProtocolLen()
			sinkMAC, sinkAddr = arp.SHA(), arp.SPA()
			sinkMAC, sinkAddr = arp.THA(), arp.TPA()
		}},
		{"IPv4", func() {
			ip.SetTOS(0)
			ip.SetID(1)
			ip.SetFlagsFrag(IPv4DF)
			ip.SetTTL(64)
			ip.SetProtocol(ProtoTCP)
			ip.SetSrc(addr)
			ip.SetDst(addr)
			ip.UpdateChecksum()
			sinkBool = ip.IsValid() && ip.IsValidNoOptions() && ip.TotalLenValid() && ip.ChecksumValid() && ip.DontFragment() && ip.MoreFragments() && ip.IsFragment()
			sinkU8 = ip.Version() + ip.TOS() + ip.TTL() + ip.Protocol()
			sinkU16 = ip.TotalLen() + ip.ID() + ip.FlagsFrag() + ip.Checksum()
			sinkU32 = uint32(ip.HeaderLen() + ip.FragOffset())
			sinkAddr = ip.Src()
			sinkAddr = ip.Dst()
			sinkBytes = ip.Payload()
		}},
		{"IPv4 options", func() {
			it := ip.Options().Iter()
			for o, ok := it.Next(); ok; o, ok = it.Next() {
				sinkBytes = o.Data()
				sinkU8 = o.Pointer()
				sinkBool = o.Copied()
			}
			_, sinkBool = it.Malformed()
		}},
		{"TCP", func() {
			th.SetSrcPort(1)
			th.SetDstPort(2)
			th.SetSeq(3)
			th.SetAck(4)
			th.SetFlags(TCPAck)
			th.SetWindow(5)
			th.SetUrgent(0)
			th.SetChecksum(0)
			th.SetChecksum(L4Checksum(ip, ip.Payload()))
			sinkBool = th.IsValid() && L4ChecksumValid(ip, ip.Payload())
			sinkU16 = th.SrcPort() + th.DstPort() + th.Window() + th.Checksum() + th.Urgent()
			sinkU32 = th.Seq() + th.Ack() + uint32(th.Flags()) + uint32(th.HeaderLen())
			sinkBytes = th.Options()
			sinkBytes = th.Payload()
		}},
		{"UDP", func() {
			udp.SetSrcPort(1)
			udp.SetDstPort(2)
			udp.SetLength(16)
			udp.SetChecksum(3)
			sinkBool = udp.IsValid()
			sinkU16 = udp.SrcPort() + udp.DstPort() + udp.Length() + udp.Checksum()
			sinkBytes = udp.Payload()
		}},
		{"ICMPv4", func() {
			icmp.SetType(ICMPv4DstUnreachable)
			icmp.SetCode(ICMPv4FragNeeded)
			icmp.SetRest(0)
			icmp.SetMTU(1400)
			icmp.SetIdent(1)
			icmp.SetSeq(2)
			icmp.SetGateway(addr)
			icmp.SetPointer(1)
			icmp.UpdateChecksum()
			sinkBool = icmp.IsValid() && icmp.ChecksumValid() && icmp.IsError()
			sinkU8 = icmp.Type() + icmp.Code() + icmp.Pointer()
			sinkU16 = icmp.Checksum() + icmp.Ident() + icmp.Seq() + icmp.MTU()
			sinkU32 = icmp.Rest()
			sinkAddr = icmp.Gateway()
			sinkBytes = icmp.Payload()
		}},
		{"checksums", func() {
			sinkU16 = Checksum(frame) + Fold(Sum(frame, PseudoHeaderIPv4(addr, addr, ProtoUDP, 8))) + Update16(1, 2, 3)
		}},
	} {
		if n := testing.AllocsPerRun(100, c.fn); n != 0 {
			t.Errorf("%s: %v allocations a run", c.name, n)
		}
	}
}
