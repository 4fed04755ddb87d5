package stack

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// MaxKeys is how many protocol-state keys a process may make, of each kind.
const MaxKeys = 16

var hostKeys, devKeys atomic.Int32

// HostKey names one protocol's state in every host (net_generic's id):
// IPv4's Inet, later conntrack's tables. The protocol makes its key once,
// at package initialisation; a host holds one *T per key.
type HostKey[T any] struct{ id int32 }

// NewHostKey makes a key; more than MaxKeys is a bug.
func NewHostKey[T any]() HostKey[T] {
	id := hostKeys.Add(1) - 1
	if id >= MaxKeys {
		panic(fmt.Sprintf("stack: more than %d host keys", MaxKeys))
	}
	return HostKey[T]{id}
}

// Get returns h's state for k (nil if none was set).
func (k HostKey[T]) Get(h *Host) *T { return (*T)(atomic.LoadPointer(&h.gen[k.id])) }

// Set installs v as h's state for k unless one is there; it reports
// whether v was installed.
func (k HostKey[T]) Set(h *Host, v *T) bool {
	return atomic.CompareAndSwapPointer(&h.gen[k.id], nil, unsafe.Pointer(v))
}

// DevKey names one protocol's state in every device (dev->ip_ptr and its
// kind): IPv4's InDevice.
type DevKey[T any] struct{ id int32 }

// NewDevKey makes a key; more than MaxKeys is a bug.
func NewDevKey[T any]() DevKey[T] {
	id := devKeys.Add(1) - 1
	if id >= MaxKeys {
		panic(fmt.Sprintf("stack: more than %d device keys", MaxKeys))
	}
	return DevKey[T]{id}
}

// Get returns d's state for k (nil if none was set).
func (k DevKey[T]) Get(d *NetDevice) *T { return (*T)(atomic.LoadPointer(&d.gen[k.id])) }

// Set installs v as d's state for k unless one is there; it reports
// whether v was installed.
func (k DevKey[T]) Set(d *NetDevice, v *T) bool {
	return atomic.CompareAndSwapPointer(&d.gen[k.id], nil, unsafe.Pointer(v))
}

// Clear removes d's state for k (the device leaves the protocol).
func (k DevKey[T]) Clear(d *NetDevice) { atomic.StorePointer(&d.gen[k.id], nil) }
