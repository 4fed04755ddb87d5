package iproute

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/rtnetlink"
)

// monitor prints notifications until Stop closes or Count events were
// printed. The transport must have been bound with the groups wanted
// (MonitorGroups).
func (c *cmd) monitor(args []string) error {
	if len(args) > 0 && matches(args[0], "help") {
		return usageErr{monitorUsage}
	}
	if _, err := MonitorGroups(args); err != nil {
		return err
	}
	if c.g.timestamp {
		return &Error{Msg: "ip monitor's timestamps (-timestamp, -tshort) are not supported by vnic.", Code: exitUsage}
	}
	ls, err := c.links()
	if err != nil {
		return err
	}
	n := 0
	for {
		select {
		case <-c.o.Stop:
			return nil
		default:
		}
		msgs, err := c.o.T.ReceiveRoute(200 * time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		for _, m := range msgs {
			p := newOut(globals{})
			typ := uint16(m.Header.Type)
			switch typ {
			case rtnetlink.RTMDelLink, rtnetlink.RTMDelAddr, rtnetlink.RTMDelRoute, rtnetlink.RTMDelNeigh, rtnetlink.RTMDelRule, rtnetlink.RTMDelNexthop:
				p.put("Deleted ")
			}
			switch typ {
			case uint16(mnl.Overrun):
				p = newOut(globals{})
				p.put("(events lost: the monitor fell behind)\n")
			case rtnetlink.RTMNewLink, rtnetlink.RTMDelLink:
				var l rtnetlink.LinkMsg
				if l.Unmarshal(m.Data) != nil {
					continue
				}
				ls[uint32(l.Index)] = l
				c.linkInfo(p, l, forMonitor)
				p.end()
			case rtnetlink.RTMNewAddr, rtnetlink.RTMDelAddr:
				var a rtnetlink.AddrMsg
				if a.Unmarshal(m.Data) != nil {
					continue
				}
				p.fp("%d: %s", a.Index, c.ifname(a.Index))
				p.addrInfo(a)
			case rtnetlink.RTMNewRoute, rtnetlink.RTMDelRoute:
				var r rtnetlink.RouteMsg
				if r.Unmarshal(m.Data) != nil {
					continue
				}
				c.printRoute(p, r, nil)
			case rtnetlink.RTMNewNeigh, rtnetlink.RTMDelNeigh:
				var nm rtnetlink.NeighMsg
				if nm.Unmarshal(m.Data) != nil {
					continue
				}
				c.printNeigh(p, nm, false)
			case rtnetlink.RTMNewRule, rtnetlink.RTMDelRule:
				var r rtnetlink.RuleMsg
				if r.Unmarshal(m.Data) != nil {
					continue
				}
				printRule(p, r, false)
				p.end()
			case rtnetlink.RTMNewNexthop, rtnetlink.RTMDelNexthop:
				var nh rtnetlink.NexthopMsg
				if nh.Unmarshal(m.Data) != nil {
					continue
				}
				c.printNexthop(p, nh)
				p.end()
			case rtnetlink.RTMNewNexthopBucket:
				// A resilient group's upkeep moved a bucket
				// (nexthop_bucket_notify).
				var b rtnetlink.NexthopBucketMsg
				if b.Unmarshal(m.Data) != nil {
					continue
				}
				PrintNexthopBucket(p, b)
			default:
				continue
			}
			c.write(p)
			n++
			if c.o.Count > 0 && n >= c.o.Count {
				return nil
			}
		}
	}
}

// MonitorGroups maps ip monitor's objects to RTMGRP bits.
func MonitorGroups(args []string) (uint32, error) {
	const link, neigh, addr, route, rule, nexthop = 0x1, 0x4, 0x10, 0x40, rtnetlink.RTMGrpIPv4Rule, rtnetlink.RTMGrpNexthop
	if len(args) == 0 {
		return link | neigh | addr | route | rule | nexthop, nil
	}
	var g uint32
	for _, a := range args {
		switch {
		case a == "all":
			g |= link | neigh | addr | route | rule | nexthop
		case matches(a, "rule"):
			g |= rule
		case matches(a, "nexthop"):
			g |= nexthop
		case matches(a, "link"):
			g |= link
		case matches(a, "address"):
			g |= addr
		case matches(a, "route"):
			g |= route
		case matches(a, "neigh"):
			g |= neigh
		default:
			return 0, &Error{Msg: fmt.Sprintf("Argument \"%s\" is unknown, try \"ip monitor help\".", a), Code: exitUsage, Bare: true}
		}
	}
	return g, nil
}
