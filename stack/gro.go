package stack

import (
	"vnic/ethtool"
	"vnic/header"
	"vnic/offload"
)

// GRO (napi_gro_receive): while a NAPI poll runs, TCP/IPv4 packets of one
// flow that follow each other are merged into one skb, by offload.TCPGRO's
// rules; the merged skb carries gso_size and gso_segs, so it can be
// segmented again exactly, and is CHECKSUM_UNNECESSARY (every segment was
// verified — by the device, or here in software before merging). Each NAPI
// holds up to groMaxFlows trains; everything held is passed up at the end of
// every poll, so nothing waits across polls.

const groMaxFlows = 8

type groEntry struct {
	key  [12]byte
	skb  *SKB
	held offload.GROHeld
}

type groTable struct {
	n       int
	entries [groMaxFlows]groEntry
}

// Receive is napi_gro_receive: with the device's GRO feature on, the skb
// goes through GRO; otherwise straight to netif_receive_skb. It charges the
// protocol work to the NAPI's CPU.
//
// Protocol work is charged per packet that reaches netif_receive_skb, so a
// GRO train of many frames pays it once; GRO itself costs a little per frame.
func (n *NAPI) Receive(skb *SKB) {
	if skb.Dev.Features()&ethtool.GRO == 0 || skb.Protocol != EthPIPv4 {
		NetifReceiveSKB(skb)
		return
	}
	n.sn.cpu.Charge(n.sn.host.cfg.Costs.GRO)
	n.groReceive(skb)
}

func (n *NAPI) groReceive(skb *SKB) {
	g := &n.gro
	ip := header.IPv4(skb.Data())
	if !ip.IsValid() || ip.Protocol() != header.ProtoTCP || int(ip.TotalLen()) != len(ip) {
		NetifReceiveSKB(skb)
		return
	}
	th := header.TCP(ip[ip.HeaderLen():])
	if !th.IsValid() {
		NetifReceiveSKB(skb)
		return
	}
	key := offload.GROFlowKey(ip, th)
	i := g.find(key)
	// Only verified packets merge: check in software what the device did
	// not. An LRO aggregate (already GSO) is not merged either, but it too
	// must not overtake a train of its flow.
	if skb.GSOSize > 0 || !offload.GROEligible(ip, th) || !ChecksumOK(skb) {
		if i >= 0 {
			n.groFlush(i)
		}
		NetifReceiveSKB(skb)
		return
	}
	var held *offload.GROHeld
	if i >= 0 {
		held = &g.entries[i].held
	}
	payload := len(th) - th.HeaderLen()
	switch offload.TCPGRO(held, ip, th, payload) {
	case offload.GROHold:
		n.groHold(key, skb)
	case offload.GROMerge:
		n.groMerge(&g.entries[i], skb, th, payload)
	case offload.GROMergeFlush:
		n.groMerge(&g.entries[i], skb, th, payload)
		n.groFlush(i)
	case offload.GROFlushHold:
		n.groFlush(i)
		n.groHold(key, skb)
	case offload.GROFlushPass:
		n.groFlush(i)
		NetifReceiveSKB(skb)
	case offload.GROPass:
		NetifReceiveSKB(skb)
	}
}

// find returns the index of key's train, or -1.
func (g *groTable) find(key [12]byte) int {
	for i := 0; i < g.n; i++ {
		if g.entries[i].key == key {
			return i
		}
	}
	return -1
}

// groHold starts a train with skb; a full table passes its oldest train up.
func (n *NAPI) groHold(key [12]byte, skb *SKB) {
	g := &n.gro
	if g.n == groMaxFlows {
		n.groFlush(0)
	}
	ip := header.IPv4(skb.Data())
	th := header.TCP(ip[ip.HeaderLen():])
	g.entries[g.n] = groEntry{key: key, skb: skb, held: offload.GROHeld{
		IP: ip, TCP: th, Segs: 1, MSS: len(th) - th.HeaderLen(), Len: int(ip.TotalLen()), Flags: th.Flags()}}
	g.n++
}

// groMerge appends skb's payload to the train. The held skb moves to a
// 64 KiB buffer the first time it grows past its own.
func (n *NAPI) groMerge(e *groEntry, skb *SKB, th header.TCP, payload int) {
	h := e.skb
	if h.Tailroom() < payload {
		big := n.sn.host.pool.Alloc(GROMaxBuf)
		mac := h.MACHeader()
		macLen := len(mac) - h.Len()
		big.Reserve(NetIPAlign)
		copy(big.Put(len(mac)), mac)
		big.ResetMACHeader()
		big.Pull(macLen)
		big.ResetNetworkHeader()
		big.Dev, big.Protocol, big.PktType, big.QueueMapping = h.Dev, h.Protocol, h.PktType, h.QueueMapping
		big.Hash, big.L4Hash, big.Tstamp, big.Priority, big.Mark = h.Hash, h.L4Hash, h.Tstamp, h.Priority, h.Mark
		h.Consume()
		h = big
		e.skb = h
		ip := header.IPv4(h.Data())
		e.held.IP, e.held.TCP = ip, header.TCP(ip[ip.HeaderLen():])
	}
	// Linux attaches the payload as a page fragment: no copy is charged.
	copy(h.Put(payload), th[th.HeaderLen():])
	e.held.Segs++
	e.held.Len += payload
	// The train keeps the first segment's header, with FIN and PSH as seen.
	e.held.TCP.SetFlags(e.held.TCP.Flags() | th.Flags()&(header.TCPFin|header.TCPPsh))
	skb.Consume()
	n.sn.host.off.groMerged.Add(1)
}

// GROMaxBuf is the buffer a growing GRO train moves to.
const GROMaxBuf = offload.GROMaxSize + 256

// groFlush passes a train up: a single packet as it came, a merged one with
// its IPv4 length and header checksum fixed and its GSO fields set.
func (n *NAPI) groFlush(i int) {
	g := &n.gro
	e := &g.entries[i]
	skb := e.skb
	if e.held.Segs > 1 {
		ip := e.held.IP
		ip.SetTotalLen(uint16(e.held.Len))
		ip.UpdateChecksum()
		skb.GSOSize, skb.GSOSegs, skb.GSOType = uint16(e.held.MSS), uint16(e.held.Segs), GSOTCPv4
		skb.IPSummed = ChecksumUnnecessary
		n.sn.host.off.groFlushed.Add(1)
	}
	copy(g.entries[i:g.n], g.entries[i+1:g.n])
	g.n--
	g.entries[g.n] = groEntry{}
	NetifReceiveSKB(skb)
}

// FlushGRO passes up whatever GRO holds (napi_gro_flush); a driver that
// receives outside a poll (draining a ring) calls it.
func (n *NAPI) FlushGRO() { n.groFlushAll() }

// groFlushAll passes every train up (napi_gro_flush), oldest first.
func (n *NAPI) groFlushAll() {
	for n.gro.n > 0 {
		n.groFlush(0)
	}
}
