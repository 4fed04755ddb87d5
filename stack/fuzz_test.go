package stack

import "testing"

func FuzzEthTypeTransAndFlowHash(f *testing.F) {
	f.Add(make([]byte, 60))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 0x08, 0x00, 0x45})
	p := NewSKBPool()
	dev := NewEtherDevice("f", nil, 4, 4, 1500)
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = FlowHash(b)
		s := p.Alloc(len(b))
		if s == nil {
			return
		}
		copy(s.Put(len(b)), b)
		n := s.Len()
		EthTypeTrans(s, dev)
		if n >= EthHdrLen && s.Len() != n-EthHdrLen {
			t.Fatalf("len %d after pulling from %d", s.Len(), n)
		}
		if n < EthHdrLen && s.Len() != n {
			t.Fatal("a short frame was pulled")
		}
		_ = pickTx(dev, s)
		s.Consume()
	})
}
