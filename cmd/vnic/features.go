package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

// featureChange is one name=on|off of --features.
type featureChange struct {
	name string
	bits ethtool.Features
	on   bool
}

// parseFeatures parses --features "tso=off,gro=off,rx-checksum=on". Names
// are ethtool -K's keywords or full feature names.
func parseFeatures(s string) ([]featureChange, error) {
	var out []featureChange
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, item := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return nil, fmt.Errorf("--features: %q: want name=on or name=off", item)
		}
		bits, known := ethtool.Keyword(name)
		if !known {
			return nil, fmt.Errorf("--features: unknown feature %q", name)
		}
		var on bool
		switch val {
		case "on":
			on = true
		case "off":
		default:
			return nil, fmt.Errorf("--features: %s=%q: want on or off", name, val)
		}
		out = append(out, featureChange{name, bits, on})
	}
	return out, nil
}

// applyFeatures makes the changes on every device, as ethtool -K would, and
// logs what each device asked for and got.
func (a *app) applyFeatures(w *topo.World, changes []featureChange) error {
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			for _, c := range changes {
				on := ethtool.Features(0)
				if c.on {
					on = c.bits
				}
				if _, err := d.Netdev.SetWantedFeatures(c.bits, on); err != nil {
					return fmt.Errorf("--features %s on %s/%s: %w", c.name, h.Name, d.Netdev.Name(), err)
				}
				active := d.Netdev.Features()&c.bits != 0
				a.log.Info("feature", zap.String("dev", h.Name+"/"+d.Netdev.Name()), zap.String("feature", c.name),
					zap.Bool("requested", c.on), zap.Bool("active", active))
			}
		}
	}
	return nil
}

// openCaptures writes, for every device, <host>-<dev>-stack.pcap (what the
// stack hands the driver: super-frames with partial checksums when the
// device offloads) and <host>-<dev>-wire.pcap (what the device puts on the
// cable). It returns a function that closes them.
func (a *app) openCaptures(w *topo.World, dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--pcap: %w", err)
	}
	var files []*os.File
	var writers []*hw.PcapWriter
	closeAll := func() error {
		var first error
		for i, f := range files {
			if err := writers[i].Err(); err != nil && first == nil {
				first = err
			}
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	open := func(name string) (*hw.PcapWriter, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		pw, err := hw.NewPcapWriter(f, 0)
		if err != nil {
			f.Close()
			return nil, err
		}
		files = append(files, f)
		writers = append(writers, pw)
		return pw, nil
	}
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			pw, err := open(fmt.Sprintf("%s-%s-stack.pcap", h.Name, d.Netdev.Name()))
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("--pcap: %w", err)
			}
			nd, clock := d.Netdev, w.Clock
			h.Stack.AddXmitTap(func(s *stack.SKB) {
				if s.Dev == nd {
					pw.Write(clock.Now(), s.Data())
				}
			})
		}
	}
	for _, c := range w.Cables {
		for end, path := range []string{c.Cfg.A, c.Cfg.B} {
			hn, dn, _ := strings.Cut(path, "/")
			pw, err := open(fmt.Sprintf("%s-%s-wire.pcap", hn, dn))
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("--pcap: %w", err)
			}
			c.Wire.TapEnd(end, pw)
		}
	}
	// A device on a TAP port: its wire is the TAP, both directions.
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			if d.Port == nil {
				continue
			}
			pw, err := open(fmt.Sprintf("%s-%s-wire.pcap", h.Name, d.Netdev.Name()))
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("--pcap: %w", err)
			}
			d.Port.Tap(pw)
		}
	}
	a.log.Info("capturing", zap.String("dir", dir), zap.Int("files", len(files)))
	return closeAll, nil
}
