package main

import (
	"errors"
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

// featureArgs turns --features "tso=off,gro=off,rx-checksum=on" into
// ethtool -K's word list ("tso off gro off rx-checksum on") and resolves
// it as -K does (ethtool.ParseFeatureArgs): the same names, aliases and
// errors. It returns the request and each item's own part of it.
func featureArgs(s string) (ethtool.FeatureRequest, []featureItem, error) {
	if strings.TrimSpace(s) == "" {
		return ethtool.FeatureRequest{}, nil, nil
	}
	names := ethtool.KernelFeatureNames[:]
	var args []string
	var items []featureItem
	for _, item := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || name == "" {
			return ethtool.FeatureRequest{}, nil, fmt.Errorf("--features: %q: want name=on or name=off", item)
		}
		args = append(args, name, val)
		req, err := ethtool.ParseFeatureArgs([]string{name, val}, names)
		if err != nil {
			var ae *ethtool.ArgError
			var ee *ethtool.Error
			switch {
			case errors.As(err, &ae):
				return ethtool.FeatureRequest{}, nil, fmt.Errorf("--features: %s", ae.Msg)
			case errors.As(err, &ee) && ee.Attr != "":
				return ethtool.FeatureRequest{}, nil, fmt.Errorf("--features: %q: %s", ee.Attr, ee.Msg)
			}
			return ethtool.FeatureRequest{}, nil, fmt.Errorf("--features: %w", err)
		}
		items = append(items, featureItem{name, val == "on", req.Mask})
	}
	req, err := ethtool.ParseFeatureArgs(args, names)
	if err != nil {
		return ethtool.FeatureRequest{}, nil, fmt.Errorf("--features: %w", err)
	}
	return req, items, nil
}

// featureItem is one name=on|off of --features and the features it names.
type featureItem struct {
	name string
	on   bool
	mask ethtool.Bitmap
}

// applyFeatures makes the request on every device, as ethtool -K would
// (an error, or no feature ending up as asked, fails), and logs what each
// device was asked for and got.
func (a *app) applyFeatures(w *topo.World, req ethtool.FeatureRequest, items []featureItem) error {
	if len(items) == 0 {
		return nil
	}
	b := w.Ethtool()
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			path := h.Name + "/" + d.Netdev.Name()
			dev, err := b.Device(path)
			if err != nil {
				return fmt.Errorf("--features on %s: %w", path, err)
			}
			reply, err := dev.SetFeatures(req)
			if err != nil {
				return fmt.Errorf("--features on %s: %w", path, err)
			}
			l, err := dev.Features()
			if err != nil {
				return fmt.Errorf("--features on %s: %w", path, err)
			}
			active := l.Active()
			for _, it := range items {
				on := active[0]&it.mask[0] != 0 || active[1]&it.mask[1] != 0
				a.log.Info("feature", zap.String("dev", path), zap.String("feature", it.name),
					zap.Bool("requested", it.on), zap.Bool("active", on))
				if on != it.on {
					// As ethtool -K's "Actual changes": say what did not
					// happen, and why when the driver's rule is known.
					fmt.Fprintf(appErr, "vnic: %s: %s: %s [requested %s]%s\n", path, it.name, onOff(on), onOff(it.on), featureWhy(it.name, it.on))
				}
			}
			if reply.NothingChanged(req) {
				return fmt.Errorf("--features on %s: could not change any device features", path)
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

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// featureWhy explains a feature a driver's fix-up rule keeps from a
// request (ndo_fix_features), where vnic's driver has one.
func featureWhy(name string, on bool) string {
	switch {
	case on && (name == "lro" || name == "large-receive-offload"):
		return ": LRO needs interrupt moderation (a device's itr_usecs 10..8191, or 1 or 3 for the dynamic modes; the device flushes aggregates on the throttle interval)"
	case on && (name == "tso" || name == "tcp-segmentation-offload"):
		return ": TSO needs scatter-gather, TX checksumming and a TX ring that holds two 64 KiB super-frames"
	}
	return ""
}
