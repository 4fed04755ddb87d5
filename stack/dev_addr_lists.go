package stack

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrCounter is returned when a promiscuity or allmulti change would take
// its counter below zero or past its maximum.
var ErrCounter = errors.New("stack: counter out of range")

const maxCounter = int(^uint32(0) >> 1)

// SetPromiscuity is dev_set_promiscuity: inc is added to the counter and
// IFF_PROMISC follows counter > 0; the RX mode is updated on a change.
func (d *NetDevice) SetPromiscuity(inc int) error {
	return d.adjust(&d.promiscuity, IFFPromisc, inc, "promiscuity")
}

// SetAllMulti is dev_set_allmulti.
func (d *NetDevice) SetAllMulti(inc int) error {
	return d.adjust(&d.allmulti, IFFAllMulti, inc, "allmulti")
}

func (d *NetDevice) adjust(ctr *int, flag uint32, inc int, what string) error {
	d.mu.Lock()
	n := *ctr + inc
	if n < 0 || n > maxCounter || (inc > 0 && n < *ctr) {
		d.mu.Unlock()
		return fmt.Errorf("%w: %s: %s %d%+d: %w", ErrCounter, d.name, what, *ctr, inc, syscall.EOVERFLOW)
	}
	*ctr = n
	old := d.flags
	if n > 0 {
		d.flags |= flag
	} else {
		d.flags &^= flag
	}
	changed := old != d.flags
	up := d.flags&IFFUp != 0
	d.mu.Unlock()
	if changed && up {
		d.ops.SetRxMode()
	}
	return nil
}

// McAdd is dev_mc_add: a reference on a multicast address.
func (d *NetDevice) McAdd(m MAC) error {
	if !m.IsMulticast() {
		return fmt.Errorf("stack: %s: %s is not multicast: %w", d.name, m, syscall.EINVAL)
	}
	d.mu.Lock()
	for i := range d.mc {
		if d.mc[i].addr == m {
			d.mc[i].users++
			d.mu.Unlock()
			return nil
		}
	}
	d.mc = append(d.mc, mcEntry{addr: m, users: 1})
	up := d.flags&IFFUp != 0
	d.mu.Unlock()
	if up {
		d.ops.SetRxMode()
	}
	return nil
}

// McDel is dev_mc_del: drops a reference; the address leaves the list at 0.
func (d *NetDevice) McDel(m MAC) error {
	d.mu.Lock()
	for i := range d.mc {
		if d.mc[i].addr != m {
			continue
		}
		d.mc[i].users--
		if d.mc[i].users > 0 {
			d.mu.Unlock()
			return nil
		}
		d.mc = append(d.mc[:i], d.mc[i+1:]...)
		up := d.flags&IFFUp != 0
		d.mu.Unlock()
		if up {
			d.ops.SetRxMode()
		}
		return nil
	}
	d.mu.Unlock()
	return fmt.Errorf("stack: %s: %s not in the multicast list: %w", d.name, m, syscall.ENOENT)
}

// McList returns the multicast addresses.
func (d *NetDevice) McList() []MAC {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]MAC, len(d.mc))
	for i, e := range d.mc {
		out[i] = e.addr
	}
	return out
}
