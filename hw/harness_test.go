package hw

import (
	"net"
	"testing"
	"time"

	"vnic/header"
	"vnic/ring"
)

// rig is a device with a scripted, register-level mini driver: enough to
// test the device model without the real driver.
type rig struct {
	t     testing.TB
	clk   *VirtualClock
	dma   *DMA
	dev   *Device
	cpu   *CPU
	out   *Sink
	irqs  []irqRec
	rx    [NumQueues]*rigRing
	tx    [NumQueues]*rigRing
	onIRQ func(vec int)
}

type irqRec struct {
	vec int
	at  time.Duration
}

type rigRing struct {
	q     int
	n     uint32
	desc  Region
	bufs  []Region
	ntc   uint32
	tail  uint32
	bsize int
}

var rigMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}

func newRig(t testing.TB, checker bool) *rig {
	t.Helper()
	return newRigOn(t, checker, NewVirtualClock())
}

// newRigOn is newRig on clock (a real clock: the device's locks are on; the
// rig's CPU is not started, its hardirq queue only collects).
func newRigOn(t testing.TB, checker bool, clock Clock) *rig {
	t.Helper()
	r := &rig{t: t, dma: NewDMA(8 << 20), out: &Sink{}}
	r.clk, _ = clock.(*VirtualClock)
	dev, err := NewDevice(DeviceConfig{Name: "t", MAC: rigMAC, Checker: checker}, clock, r.dma)
	if err != nil {
		t.Fatal(err)
	}
	r.dev = dev
	r.cpu = NewCPU(0, clock, CostModel{})
	for v := 0; v < dev.MSIX().Len(); v++ {
		if err := dev.MSIX().Request(v, r.cpu, "rig", func() {
			r.irqs = append(r.irqs, irqRec{v, clock.Now()})
			if r.onIRQ != nil {
				r.onIRQ(v)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	dev.Connect(r.out)
	return r
}

func (r *rig) wr(off, v uint32) { r.dev.Write32(off, v) }
func (r *rig) rd(off uint32) uint32 {
	return r.dev.Read32(off)
}

// msix sets MSI-X mode with auto-clear and auto-mask on every vector, and
// maps queue q's RX and TX to vector q+1 and the other causes to vector 0.
func (r *rig) msix() {
	r.wr(GPIE, GpieMSIXMode|GpieEIAME)
	for q := 0; q < 8; q++ {
		e := uint32(q+1) | IvarValid
		r.wr(IVAR(q), e|e<<8)
	}
	r.wr(IVARMISC, IvarValid<<8)
	r.wr(EIAC, 0x1FF)
	r.wr(EIAM, 0x1FF)
	r.wr(IMS, IcrLSC|IcrRXO|IcrDOUTSYNC)
	r.wr(EIMS, 0x1FF)
}

// rxRing sets up RX queue q with n descriptors of bsize-byte buffers, all
// posted, and turns receive on (broadcast accepted).
func (r *rig) rxRing(q int, n uint32, bsize int) *rigRing {
	rr := &rigRing{q: q, n: n, bsize: bsize}
	var err error
	if rr.desc, err = r.dma.Alloc(int(n)*16, 128); err != nil {
		r.t.Fatal(err)
	}
	for i := uint32(0); i < n; i++ {
		b, err := r.dma.Alloc(bsize, 0)
		if err != nil {
			r.t.Fatal(err)
		}
		rr.bufs = append(rr.bufs, b)
	}
	r.wr(RDBAL(q), uint32(rr.desc.Addr))
	r.wr(RDBAH(q), uint32(rr.desc.Addr>>32))
	r.wr(RDLEN(q), n*16)
	r.wr(SRRCTL(q), uint32(bsize/1024)|SrrctlDescAdv1Buf)
	r.wr(RXDCTL(q), DctlEnable)
	r.rx[q] = rr
	r.post(q, n-1)
	r.wr(CTRL, CtrlSLU)
	r.wr(RCTL, RctlEN|RctlBAM|RctlSECRC)
	return rr
}

// post hands k more descriptors of queue q to the device.
func (r *rig) post(q int, k uint32) {
	rr := r.rx[q]
	for i := uint32(0); i < k; i++ {
		rr.descAt(rr.tail).SetRead(rr.bufs[rr.tail].Addr)
		rr.tail = ring.Next(rr.tail, rr.n)
	}
	r.wr(RDT(q), rr.tail)
}

func (rr *rigRing) descAt(i uint32) ring.RxDesc {
	return ring.RxDesc(rr.desc.Buf[i*16 : i*16+16])
}

// reap takes every written-back RX descriptor of queue q, returns the
// frames (copies) and re-posts the buffers.
func (r *rig) reap(q int) [][]byte {
	rr := r.rx[q]
	var out [][]byte
	var cur []byte
	k := uint32(0)
	for {
		d := rr.descAt(rr.ntc)
		st := d.Status()
		if st&ring.RxStatDD == 0 {
			break
		}
		cur = append(cur, rr.bufs[rr.ntc].Buf[:d.Length()]...)
		if st&ring.RxStatEOP != 0 {
			out = append(out, cur)
			cur = nil
		}
		rr.ntc = ring.Next(rr.ntc, rr.n)
		k++
	}
	if k > 0 {
		r.post(q, k)
	}
	return out
}

// txRing sets up TX queue q with n descriptors and 2 KiB buffers and turns
// transmit on.
func (r *rig) txRing(q int, n uint32) *rigRing {
	tr := &rigRing{q: q, n: n, bsize: 2048}
	var err error
	if tr.desc, err = r.dma.Alloc(int(n)*16, 128); err != nil {
		r.t.Fatal(err)
	}
	for i := uint32(0); i < n; i++ {
		b, _ := r.dma.Alloc(2048, 0)
		tr.bufs = append(tr.bufs, b)
	}
	r.wr(TDBAL(q), uint32(tr.desc.Addr))
	r.wr(TDBAH(q), uint32(tr.desc.Addr>>32))
	r.wr(TDLEN(q), n*16)
	r.wr(TXDCTL(q), DctlEnable)
	r.wr(CTRL, CtrlSLU)
	r.wr(TCTL, TctlEN|TctlPSP)
	r.tx[q] = tr
	return tr
}

// send queues one frame on TX queue q (one descriptor per 2 KiB) without
// ringing the doorbell; ring with doorbell.
func (r *rig) send(q int, frame []byte) {
	tr := r.tx[q]
	for off := 0; off < len(frame); off += 2048 {
		end := min(off+2048, len(frame))
		copy(tr.bufs[tr.tail].Buf, frame[off:end])
		cmd := uint32(ring.TxCmdIFCS)
		if end == len(frame) {
			cmd |= ring.TxCmdEOP | ring.TxCmdRS
		}
		ring.TxDesc(tr.desc.Buf[tr.tail*16 : tr.tail*16+16]).SetData(ring.TxData{Addr: tr.bufs[tr.tail].Addr, Len: uint16(end - off), Cmd: cmd, PayLen: uint32(len(frame))})
		tr.tail = ring.Next(tr.tail, tr.n)
	}
}

func (r *rig) doorbell(q int) { r.wr(TDT(q), r.tx[q].tail) }

// frame builds an Ethernet/IPv4/UDP frame of n bytes to dst.
func frame(dst []byte, n int, src [4]byte, sport uint16) []byte {
	f := make([]byte, n)
	eth := header.Ethernet(f)
	eth.SetDst([6]byte(dst))
	eth.SetSrc([6]byte{2, 0, 0, 0, 0, 9})
	eth.SetType(header.EtherTypeIPv4)
	if n >= 14+28 {
		ip := header.IPv4(eth.Payload())
		ip.SetHeaderLen(header.IPv4MinHeaderLen)
		ip.SetTotalLen(uint16(n - 14))
		ip.SetTTL(64)
		ip.SetProtocol(header.ProtoUDP)
		ip.SetSrc(src)
		ip.SetDst([4]byte{198, 19, 0, 1})
		u := header.UDP(ip[header.IPv4MinHeaderLen:])
		u.SetSrcPort(sport)
		u.SetDstPort(9)
	}
	for i := 42; i < n; i++ {
		f[i] = byte(i)
	}
	return f
}

func mustMAC(s string) []byte {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}
