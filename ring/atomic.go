package ring

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// littleEndianHost is true on the hosts Go mostly runs on; the atomic
// helpers below swap bytes elsewhere so memory stays little-endian.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func swap32(v uint32) uint32 {
	return v>>24 | (v>>8)&0xff00 | (v<<8)&0xff0000 | v<<24
}

// loadLE32 atomically loads the little-endian dword at b[0:4]. b must be
// 4-byte aligned; descriptors live at 16-byte aligned DMA addresses.
func loadLE32(b []byte) uint32 {
	if len(b) < 4 {
		panic("ring: short dword")
	}
	v := atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[0])))
	if !littleEndianHost {
		v = swap32(v)
	}
	return v
}

// storeLE32 atomically stores v little-endian at b[0:4].
func storeLE32(b []byte, v uint32) {
	if len(b) < 4 {
		panic("ring: short dword")
	}
	if !littleEndianHost {
		v = swap32(v)
	}
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[0])), v)
}
