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

func (l *mutex) Unlock() {
	if !l.off {
		l.m.Unlock()
	}
}
