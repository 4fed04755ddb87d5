package packetdrill

import (
	"fmt"
	"strconv"
	"strings"
)

// Format prints a script in the script language, an option, command or
// event a line. Parsing what it prints gives the same script back, but
// for positions (comments and layout are not kept).
func Format(s *Script) string {
	var b strings.Builder
	for _, o := range s.Options {
		b.WriteString(o.String() + "\n")
	}
	if s.Init != nil {
		b.WriteString(s.Init.String() + "\n")
	}
	for _, e := range s.Events {
		b.WriteString(e.String() + "\n")
	}
	if s.Cleanup != nil {
		b.WriteString(s.Cleanup.String() + "\n")
	}
	return b.String()
}

// String is Format(s).
func (s *Script) String() string { return Format(s) }

func (o Option) String() string {
	switch {
	case !o.HasValue:
		return "--" + o.Name
	case o.Quoted:
		return "--" + o.Name + `="` + o.Value + `"`
	}
	return "--" + o.Name + "=" + o.Value
}

func (c *Command) String() string { return "`" + c.Text + "`" }
func (c *Code) String() string    { return "%{ " + c.Text + " }%" }

// String prints the event's line: its time, then its action.
func (e Event) String() string {
	if sc, ok := e.Action.(*Syscall); ok && sc.Blocking {
		return e.Time.String() + sc.String() // +0...0.100 read(…)
	}
	return e.Time.String() + " " + e.Action.String()
}

func (t Time) String() string {
	switch t.Kind {
	case RelativeTime:
		return "+" + seconds(t.Usecs)
	case AnyTime:
		return "*"
	case AbsoluteRange:
		return seconds(t.Usecs) + "~" + seconds(t.EndUsecs)
	case RelativeRange:
		return "+" + seconds(t.Usecs) + "~+" + seconds(t.EndUsecs)
	}
	return seconds(t.Usecs)
}

// seconds prints microseconds as seconds, without trailing zeros.
func seconds(us int64) string {
	s := strconv.FormatInt(us/1e6, 10)
	if frac := us % 1e6; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return s
}

// String prints the call from its end time (for a blocking call: "...END
// ") to its note.
func (s *Syscall) String() string {
	var b strings.Builder
	if s.Blocking {
		b.WriteString("..." + seconds(s.End) + " ")
	}
	b.WriteString(s.Name + "(" + joinExprs(s.Args) + ") = ")
	if s.Result != nil {
		b.WriteString(s.Result.String())
	}
	if s.Errno != "" {
		b.WriteString(" " + s.Errno + " (" + s.Strerror + ")")
	}
	if s.Note != "" {
		b.WriteString(" (" + s.Note + ")")
	}
	return b.String()
}

func (p *Packet) String() string {
	var b strings.Builder
	b.WriteString(p.Direction.String())
	for _, e := range p.Encaps {
		b.WriteString(" " + e.String())
	}
	if !p.IP.IsZero() {
		b.WriteString(" " + p.IP.String())
	}
	ports := ""
	if p.Ports != nil {
		ports = fmt.Sprintf(" %d>%d", p.Ports.Src, p.Ports.Dst)
	}
	switch {
	case p.UDP != nil:
		fmt.Fprintf(&b, " udp%s (%d)", ports, p.UDP.Len)
	case p.ICMP != nil:
		b.WriteString(" " + p.ICMP.String())
	case p.TCP != nil:
		b.WriteString(ports + " " + p.TCP.String())
	}
	return b.String()
}

// String prints an outer header with the ':' that ends it.
func (e Encap) String() string {
	switch e.Kind {
	case EncapIPv4, EncapIPv6:
		s := "ipv4"
		if e.Kind == EncapIPv6 {
			s = "ipv6"
		}
		if !e.IP.IsZero() {
			s += " " + e.IP.String()
		}
		return s + " " + e.Src.String() + " > " + e.Dst.String() + " :"
	case EncapGRE:
		if e.GRE == nil {
			return "gre:"
		}
		return "gre " + e.GRE.String() + ":"
	}
	s := "mpls"
	for _, m := range e.MPLS {
		s += " " + m.String()
	}
	return s + ":"
}

func (ip IPInfo) String() string {
	var parts []string
	switch ip.Check {
	case TOSCheckECN:
		parts = append(parts, ip.ECN.String())
	case TOSCheckValue:
		parts = append(parts, fmt.Sprintf("tos %#02x", ip.TOS))
	}
	if ip.HasFlowLabel {
		parts = append(parts, fmt.Sprintf("flowlabel %#x", ip.FlowLabel))
	}
	if ip.HasTTL {
		parts = append(parts, fmt.Sprintf("ttl %d", ip.TTL))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (t *TCP) String() string {
	flags := t.Flags
	if flags == "" {
		flags = "-"
	}
	s := fmt.Sprintf("%s %d:%d(%d)", flags, t.Seq, t.End, t.Len)
	if t.HasAck {
		s += fmt.Sprintf(" ack %d", t.Ack)
	}
	if t.HasWin {
		s += fmt.Sprintf(" win %d", t.Win)
	}
	if t.HasUrg {
		s += fmt.Sprintf(" urg %d", t.Urg)
	}
	switch {
	case t.AnyOptions:
		s += " <...>"
	case len(t.Options) > 0:
		o := make([]string, len(t.Options))
		for i, opt := range t.Options {
			o[i] = opt.String()
		}
		s += " <" + strings.Join(o, ",") + ">"
	}
	return s
}

func (m *ICMP) String() string {
	s := "icmp " + m.Type
	if m.Code != "" {
		s += " " + m.Code
	}
	if m.HasMTU {
		s += fmt.Sprintf(" mtu %d", m.MTU)
	}
	if m.HasID {
		s += fmt.Sprintf(" id %d", m.ID)
	}
	if e := m.Echoed; e != nil {
		switch e.Proto {
		case EchoedUDP:
			s += fmt.Sprintf(" [udp (%d)]", e.Len)
		case EchoedRaw:
			s += fmt.Sprintf(" [raw (%d)]", e.Len)
		default:
			s += fmt.Sprintf(" [%d:%d(%d)]", e.Seq, e.End, e.Len)
		}
	}
	return s
}
