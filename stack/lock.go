package stack

import "sync"

// mutex is a sync.Mutex that a virtual-time host switches off (see
// hw's mutex, its twin: the layers share no package a lock could live in):
// one goroutine runs a virtual machine, so the locks on the per-packet path
// would only cost time.
type mutex struct {
	off bool
	m   sync.Mutex
}

func (l *mutex) Lock() {
	if !l.off {
		l.m.Lock()
	}
}

// Unlock inlines to a load and a branch: sync.Mutex's Unlock, too big to
// inline with it, is the call only a real-time host makes.
func (l *mutex) Unlock() {
	if !l.off {
		l.unlock()
	}
}

//go:noinline
func (l *mutex) unlock() { l.m.Unlock() }
