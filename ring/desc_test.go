package ring

import (
	"encoding/binary"
	"testing"
)

func TestRxDescRoundTrip(t *testing.T) {
	tests := []RxWriteBack{
		{},
		{RSSType: RSSTypeIPv4TCP, PktType: PktTypeIPv4 | PktTypeTCP, RSSHash: 0x51ccc178, Status: RxStatEOP, Length: 60},
		{RSSType: 0xf, PktType: 0x1fff, RSSHash: 0xffffffff, Status: RxStatEOP | RxErrIPE, Length: 0xffff, VLAN: 0xabcd, RSCCnt: 15},
	}
	buf := make([]byte, 32)
	d := RxDesc(buf[16:32])
	for _, w := range tests {
		d.SetRead(0x1122334455667788)
		if d.PktAddr() != 0x1122334455667788 || d.HdrAddr() != 0 || d.Status()&RxStatDD != 0 {
			t.Fatalf("read format: pkt %#x hdr %#x status %#x", d.PktAddr(), d.HdrAddr(), d.Status())
		}
		d.WriteBack(w)
		got := RxWriteBack{d.RSSType(), d.PktType(), d.RSSHash(), d.Status(), d.Length(), d.VLAN(), d.RSCCount()}
		want := w
		want.Status |= RxStatDD
		if got != want {
			t.Errorf("write-back: got %+v want %+v", got, want)
		}
		// The byte layout against the datasheet, computed independently.
		dw0 := binary.LittleEndian.Uint32(buf[16:20])
		if dw0 != uint32(w.RSSType)|uint32(w.PktType)<<4|uint32(w.RSCCnt)<<17 {
			t.Errorf("dw0 = %#x", dw0)
		}
		if dw3 := binary.LittleEndian.Uint32(buf[28:32]); dw3 != uint32(w.Length)|uint32(w.VLAN)<<16 {
			t.Errorf("dw3 = %#x", dw3)
		}
	}
	if buf[0] != 0 {
		t.Fatal("wrote outside the descriptor")
	}
}

func TestTxDataLayout(t *testing.T) {
	d := TxDesc(make([]byte, 16))
	d.SetData(TxData{Addr: 0xdeadbeef00, Len: 1514, Cmd: TxCmdEOP | TxCmdRS | TxCmdIFCS, POpts: TxPOptTXSM, PayLen: 1514})
	if d.Addr() != 0xdeadbeef00 || d.Len() != 1514 || d.DTyp() != TxDTypData || d.PayLen() != 1514 || d.POpts() != TxPOptTXSM {
		t.Fatalf("decoded %#x %d %d %d %#x", d.Addr(), d.Len(), d.DTyp(), d.PayLen(), d.POpts())
	}
	if got, want := d.CmdTypeLen(), uint32(1514)|3<<20|1<<24|1<<25|1<<27|1<<29; got != want {
		t.Fatalf("cmd_type_len %#x want %#x", got, want)
	}
	if d.Done() {
		t.Fatal("DD before write-back")
	}
	d.MarkDone()
	if !d.Done() || d.PayLen() != 1514 {
		t.Fatal("write-back lost DD or PAYLEN")
	}
}

func TestTxContextRoundTrip(t *testing.T) {
	tests := []TxContext{
		{MACLen: 14, IPLen: 20, TUCmd: TxTUCmdIPv4 | TxTUCmdL4TCP, L4Len: 20, MSS: 1448},
		{MACLen: 18, IPLen: 60, VLAN: 100, TUCmd: TxTUCmdL4UDP, L4Len: 8, MSS: 1472, Idx: 1},
		{MACLen: 127, IPLen: 511, VLAN: 0xffff, TUCmd: TxTUCmdIPv4 | TxTUCmdL4SCT, L4Len: 255, MSS: 0xffff, Idx: 7},
	}
	d := TxDesc(make([]byte, 16))
	for _, c := range tests {
		d.SetContext(c)
		if d.DTyp() != TxDTypContext {
			t.Fatalf("dtyp %d", d.DTyp())
		}
		if got := d.Context(); got != c {
			t.Errorf("got %+v want %+v", got, c)
		}
	}
}
