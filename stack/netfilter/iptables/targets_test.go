package iptables_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/header"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/tcp"
	"vnic/stack/udp"
)

// mangle is a mangle table spec with rules at one hook.
func mangle(hook stack.NFHook, rules ...ipt.Rule) *ipt.TableSpec {
	s := &ipt.TableSpec{Name: "mangle"}
	for h := stack.NFHook(0); h < stack.NumNFHooks; h++ {
		c := ipt.Chain{Name: ipt.ChainNames[h], Policy: ipt.Accept}
		if h == hook {
			c.Rules = rules
		}
		s.Chains = append(s.Chains, c)
	}
	return s
}

func checksumsValid(t *testing.T, skb *stack.SKB) {
	t.Helper()
	ip := header.IPv4(skb.NetworkHeader())
	if !ip.ChecksumValid() {
		t.Errorf("IP header checksum bad")
	}
	if p := ip.Protocol(); p == ipt.ProtoTCP || p == ipt.ProtoUDP {
		if !header.L4ChecksumValid(ip, ip[ip.HeaderLen():ip.TotalLen()]) {
			t.Errorf("transport checksum bad")
		}
	}
}

// TTL and DSCP rewrite the header and keep its checksum right; both are
// mangle-only targets.
func TestHeaderTargets(t *testing.T) {
	r := newRig(t)
	p := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2, ttl: 10, tos: 0x03}
	for _, tc := range []struct {
		name     string
		target   ipt.Target
		ttl, tos uint8
	}{
		{"TTL --ttl-set 99", ipt.Target{Name: "TTL", Info: &ipt.TTLTargetInfo{Mode: ipt.TTLSet, TTL: 99}}, 99, 3},
		{"TTL --ttl-inc 250", ipt.Target{Name: "TTL", Info: &ipt.TTLTargetInfo{Mode: ipt.TTLInc, TTL: 250}}, 255, 3},
		{"TTL --ttl-dec 20", ipt.Target{Name: "TTL", Info: &ipt.TTLTargetInfo{Mode: ipt.TTLDec, TTL: 20}}, 0, 3},
		{"DSCP --set-dscp 0x2e", ipt.Target{Name: "DSCP", Info: &ipt.DSCPTargetInfo{DSCP: 0x2e}}, 10, 0xbb},
	} {
		r.replace(mangle(stack.NFPreRouting, ipt.Rule{Target: tc.target}))
		v, skb := r.run(stack.NFPreRouting, p)
		if v != stack.NFAccept || skb == nil {
			t.Fatalf("%s: %v", tc.name, v)
		}
		ip := header.IPv4(skb.NetworkHeader())
		if ip.TTL() != tc.ttl || ip.TOS() != tc.tos {
			t.Errorf("%s: ttl %d tos %#x, want %d %#x", tc.name, ip.TTL(), ip.TOS(), tc.ttl, tc.tos)
		}
		checksumsValid(t, skb)
	}
	if _, err := ipt.Replace(r.h, filter([]ipt.Rule{{Target: ipt.Target{Name: "TTL", Info: &ipt.TTLTargetInfo{TTL: 1}}}})); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("TTL in filter: %v", err)
	}
}

// CONNMARK moves marks between packet and connection; CT --notrack and
// NOTRACK (raw only) exempt a packet from tracking.
func TestConnmarkAndNotrack(t *testing.T) {
	r := newRig(t)
	cm := func(mode uint8, ctmark, ctmask, nfmask uint32) ipt.Rule {
		return ipt.Rule{Target: ipt.Target{Name: "CONNMARK", Revision: 2, Info: &ipt.ConnmarkTargetInfo{CTMark: ctmark, CTMask: ctmask, NFMask: nfmask, Mode: mode}}}
	}
	p := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP}
	ct := &conntrack.Conn{}
	ct.SetStatus(conntrack.StatusConfirmed) // left alone by the tracking CONNMARK turns on
	run := func(rules ...ipt.Rule) *stack.SKB {
		r.replace(mangle(stack.NFPreRouting, rules...))
		skb := r.skb(p)
		skb.Mark = 0xab
		skb.SetNFCT(ct, uint8(conntrack.New))
		_, out := r.runSKB(stack.NFPreRouting, skb)
		return out
	}
	run(cm(ipt.ConnmarkSet, 0x10, 0xff, 0))
	if ct.Mark() != 0x10 {
		t.Errorf("--set-xmark: ct mark %#x", ct.Mark())
	}
	run(cm(ipt.ConnmarkSave, 0, 0xffffffff, 0x0f))
	if ct.Mark() != 0x0b {
		t.Errorf("--save-mark --nfmask 0xf: ct mark %#x", ct.Mark())
	}
	ct.SetMark(0x700)
	if skb := run(cm(ipt.ConnmarkRestore, 0, 0xff00, 0xff00)); skb.Mark != 0x7ab {
		t.Errorf("--restore-mark: mark %#x", skb.Mark)
	}
	raw := &ipt.TableSpec{Name: "raw", Chains: []ipt.Chain{
		{Name: "PREROUTING", Policy: ipt.Accept, Rules: []ipt.Rule{{Target: ipt.Target{Name: "CT", Revision: 2, Info: &ipt.CTInfo{Flags: ipt.CTNoTrack}}}}},
		{Name: "OUTPUT", Policy: ipt.Accept, Rules: []ipt.Rule{{Target: ipt.Target{Name: "NOTRACK"}}}}}}
	r.replace(raw)
	for _, hook := range []stack.NFHook{stack.NFPreRouting, stack.NFLocalOut} {
		_, skb := r.run(hook, p)
		if !conntrack.IsUntracked(skb) {
			t.Errorf("%v: not untracked", hook)
		}
	}
	if _, err := ipt.Replace(r.h, mangle(stack.NFPreRouting, ipt.Rule{Target: ipt.Target{Name: "NOTRACK"}})); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("NOTRACK in mangle: %v", err)
	}
}

// LOG writes nf_log_syslog's line to the host's log and lets the packet go
// on.
func TestLOG(t *testing.T) {
	r := newRig(t)
	li := &ipt.LogTargetInfo{Level: 4, LogFlags: ipt.LogTCPSeq}
	copy(li.Prefix[:], "fw: ")
	r.replace(filter(nil))
	spec := filter(nil)
	spec.Chains[2].Rules = []ipt.Rule{{Target: ipt.Target{Name: "LOG", Info: li}}}
	spec.Chains[0].Rules = []ipt.Rule{{Target: ipt.Target{Name: "LOG", Info: &ipt.LogTargetInfo{Level: 6}}}}
	r.replace(spec)
	if v, _ := r.run(stack.NFLocalOut, pkt{src: addrA, dst: addrB, proto: ipt.ProtoTCP, sport: 1234, dport: 80, flags: 0x12, frag: 0x4000}); v != stack.NFAccept {
		t.Fatal(v)
	}
	skb := r.skb(pkt{src: addrB, dst: addrA, proto: ipt.ProtoICMP, icmpType: 8, payload: []byte{0, 0}})
	withMAC([6]byte{2, 0, 0, 0, 0, 2})(skb)
	skb.Mark = 5
	r.runSKB(stack.NFLocalIn, skb)
	lines := ipt.Log(r.h).Lines(0)
	want := []string{
		"fw: IN= OUT=vnic0 SRC=198.18.0.1 DST=198.18.0.2 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=1234 DPT=80 SEQ=1000 ACK=0 WINDOW=512 RES=0x00 ACK SYN URGP=0 ",
		"IN=vnic0 OUT= MAC=00:00:00:00:00:00:02:00:00:00:00:02:08:00 SRC=198.18.0.2 DST=198.18.0.1 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ICMP TYPE=8 CODE=0 ID=0 SEQ=0 MARK=0x5 ",
	}
	if len(lines) != len(want) {
		t.Fatalf("log %+v", lines)
	}
	for i, ln := range lines {
		if ln.Text != want[i] {
			t.Errorf("line %d\n%q\nwant\n%q", i, ln.Text, want[i])
		}
	}
	if lines[0].Level != 4 || lines[1].Level != 6 || lines[1].Seq != lines[0].Seq+1 {
		t.Errorf("levels/seqs %+v", lines)
	}
}

// TCPMSS lowers a SYN's MSS option (never raises it) or adds one to a SYN
// that has none; the checksums stay right.
func TestTCPMSS(t *testing.T) {
	r := newRig(t)
	syn := ipt.Match{Name: "tcp", Info: &ipt.TCPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{0, 65535}, FlagMask: 0x06, FlagCmp: 0x02}}
	rule := func(mss uint16) ipt.Rule {
		return ipt.Rule{IP: protoIs(ipt.ProtoTCP), Matches: []ipt.Match{syn}, Target: ipt.Target{Name: "TCPMSS", Info: &ipt.TCPMSSInfo{MSS: mss}}}
	}
	spec := mangle(stack.NFForward, rule(1000))
	r.replace(spec)
	with := pkt{src: addrA, dst: addrB, proto: ipt.ProtoTCP, sport: 1, dport: 2, flags: 0x02, tcpOptions: []byte{2, 4, 0x05, 0xb4}}
	mssOf := func(skb *stack.SKB) (int, int) {
		ip := header.IPv4(skb.NetworkHeader())
		th := header.TCP(ip[20:])
		o := th.Options()
		for i := 0; i+4 <= len(o); i++ {
			if o[i] == 2 && o[i+1] == 4 {
				return int(o[i+2])<<8 | int(o[i+3]), th.HeaderLen()
			}
		}
		return 0, th.HeaderLen()
	}
	_, skb := r.run(stack.NFForward, with)
	if mss, _ := mssOf(skb); mss != 1000 {
		t.Errorf("lowered MSS %d", mss)
	}
	checksumsValid(t, skb)
	r.replace(mangle(stack.NFForward, rule(2000)))
	if _, skb = r.run(stack.NFForward, with); func() int { m, _ := mssOf(skb); return m }() != 1460 {
		t.Errorf("raised the MSS")
	}
	without := with
	without.tcpOptions = nil
	_, skb = r.run(stack.NFForward, without)
	if mss, hl := mssOf(skb); mss != 536 || hl != 24 || header.IPv4(skb.NetworkHeader()).TotalLen() != 44 {
		t.Errorf("added MSS %d, header %d", mss, hl)
	}
	checksumsValid(t, skb)
	// The rules after the target see the packet as it made it: a
	// counting rule after an inserted option counts 44 bytes, and the
	// policy too.
	r.replace(mangle(stack.NFForward, rule(1000), ipt.Rule{IP: protoIs(ipt.ProtoTCP), Target: verdict(ipt.Continue)}))
	r.run(stack.NFForward, without)
	got, err := ipt.Get(r.h, "mangle")
	if err != nil {
		t.Fatal(err)
	}
	fwd := got.Chains[stack.NFForward]
	if c := fwd.Rules[1].Counters; c.Packets != 1 || c.Bytes != 44 {
		t.Errorf("the rule after TCPMSS counted %+v, want 1 packet of 44 bytes", c)
	}
	if c := fwd.Counters; c.Packets != 1 || c.Bytes != 44 {
		t.Errorf("the policy counted %+v, want 1 packet of 44 bytes", c)
	}
	spec.Chains[2].Rules[0].Matches = nil
	if _, err := ipt.Replace(r.h, spec); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("TCPMSS without a SYN match: %v", err)
	}
}

// NFQUEUE hands packets to the queue's listener, which gives the verdict
// (now or later); without a listener a packet is dropped, or with
// --queue-bypass accepted. NFLOG reports to its group's listener.
func TestNFQueueAndNFLog(t *testing.T) {
	r := newRig(t)
	q := func(num uint16, flags uint16) ipt.Rule {
		return ipt.Rule{Target: ipt.Target{Name: "NFQUEUE", Revision: 3, Info: &ipt.NFQueueInfo{QueueNum: num, QueuesTotal: 1, Flags: flags}}}
	}
	p := pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP}
	r.replace(filter([]ipt.Rule{q(3, 0)}))
	if v, _ := r.run(stack.NFLocalIn, p); v != stack.NFDrop {
		t.Errorf("no listener: %v", v)
	}
	r.replace(filter([]ipt.Rule{q(3, ipt.NFQueueBypass)}))
	if v, _ := r.run(stack.NFLocalIn, p); v != stack.NFAccept {
		t.Errorf("no listener, bypass: %v", v)
	}
	var held []*ipt.QueuedPacket
	if err := ipt.BindQueue(r.h, 3, func(qp *ipt.QueuedPacket) { held = append(held, qp) }); err != nil {
		t.Fatal(err)
	}
	if err := ipt.BindQueue(r.h, 3, func(*ipt.QueuedPacket) {}); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("second listener: %v", err)
	}
	delivered := 0
	live := r.h.Pool().Live()
	for i := 0; i < 3; i++ {
		skb := r.skb(p)
		st := skb.NF()
		*st = stack.NFState{Hook: stack.NFLocalIn, In: r.dev}
		if v := r.h.Netfilter().Run(st, skb, func(s *stack.SKB) { delivered++; s.Free() }); v != stack.NFQueue {
			t.Fatalf("queued: %v", v)
		}
	}
	if len(held) != 3 || delivered != 0 || held[0].Queue != 3 || held[0].Hook != stack.NFLocalIn {
		t.Fatalf("held %d, delivered %d", len(held), delivered)
	}
	held[0].Verdict(stack.NFAccept)
	held[0].Verdict(stack.NFDrop) // only the first counts
	held[1].Verdict(stack.NFDrop)
	held[2].Verdict(stack.NFAccept)
	if delivered != 2 || r.h.Pool().Live() != live {
		t.Errorf("delivered %d, %d skbs leaked", delivered, r.h.Pool().Live()-live)
	}
	var logged []ipt.NFLogPacket
	if err := ipt.BindNFLog(r.h, 5, func(lp ipt.NFLogPacket) { logged = append(logged, lp) }); err != nil {
		t.Fatal(err)
	}
	nl := &ipt.NFLogInfo{Group: 5, Len: 20, Flags: ipt.NFLogCopyLen}
	copy(nl.Prefix[:], "seen")
	r.replace(filter([]ipt.Rule{{Target: ipt.Target{Name: "NFLOG", Info: nl}}, {Target: verdict(ipt.Drop)}}))
	if v, _ := r.run(stack.NFLocalIn, p); v != stack.NFDrop {
		t.Errorf("NFLOG did not go on: %v", v)
	}
	if len(logged) != 1 || logged[0].Prefix != "seen" || len(logged[0].Payload) != 20 || logged[0].In != "vnic0" {
		t.Errorf("logged %+v", logged)
	}
}

// REJECT answers as nf_send_unreach and nf_send_reset do: each ICMP code
// reaches the sender, a TCP connection attempt is refused by a RST.
func TestREJECT(t *testing.T) {
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1,
		Hosts: []topo.HostConfig{
			{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.0.1/24"}}}},
			{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.0.2/24"}}}}},
		Cables: []topo.CableConfig{{A: "h1/vnic0", B: "h2/vnic0"}}}
	w := topo.Started(t, cfg, 20*time.Millisecond)
	h1, h2 := w.Host("h1").Stack, w.Host("h2").Stack
	var codes []int
	h1.AddTap(func(skb *stack.SKB) {
		b := skb.Data()
		if len(b) >= 28 && b[0] == 0x45 && b[9] == ipt.ProtoICMP && b[20] == 3 {
			codes = append(codes, int(b[21]))
		}
	})
	u, err := udp.Of(ipv4.Of(h1)).Listen(netip.MustParseAddrPort("198.18.0.1:5000"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		with uint32
		code int
	}{
		{ipt.RejectNetUnreachable, 0}, {ipt.RejectHostUnreachable, 1}, {ipt.RejectProtoUnreachable, 2},
		{ipt.RejectPortUnreachable, 3}, {ipt.RejectNetProhibited, 9}, {ipt.RejectHostProhibited, 10},
		{ipt.RejectAdminProhibited, 13},
	} {
		codes = nil
		if _, err := ipt.Replace(h2, filter([]ipt.Rule{{IP: protoIs(ipt.ProtoUDP), Target: ipt.Target{Name: "REJECT", Info: &ipt.RejectInfo{With: tc.with}}}})); err != nil {
			t.Fatal(err)
		}
		if _, err := u.SendTo([]byte("x"), netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
			t.Fatal(err)
		}
		// A second apart: ICMP errors to one peer are rate limited
		// (icmp_ratelimit, a burst of 6).
		w.Run(time.Second)
		if len(codes) != 1 || codes[0] != tc.code {
			t.Errorf("reject-with %d: ICMP codes %v, want [%d]", tc.with, codes, tc.code)
		}
	}
	if _, err := ipt.Replace(h2, filter([]ipt.Rule{{IP: protoIs(ipt.ProtoTCP), Target: ipt.Target{Name: "REJECT", Info: &ipt.RejectInfo{With: ipt.RejectTCPReset}}}})); err != nil {
		t.Fatal(err)
	}
	c := tcp.Of(ipv4.Of(h1)).NewSocket()
	if err := c.Connect(netip.MustParseAddrPort("198.18.0.2:80")); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	w.Run(5 * time.Millisecond)
	if done, err := c.ConnectDone(); !done || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connect through tcp-reset: done %v, %v", done, err)
	}
	spec, _ := ipt.Get(h2, "filter")
	if n := spec.Chains[0].Rules[0].Counters.Packets; n != 1 {
		t.Errorf("the REJECT rule counted %d SYNs", n)
	}
}
