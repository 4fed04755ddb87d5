package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"vnic/configs"
	"vnic/internal/topo"
)

// Config is what a vnic config file decodes into: topo.Config, whose tags
// are the file's keys (configs/default.yaml documents every one). It adds
// nothing; as the root of the decode it names the file in errors
// ("'main.Config' has invalid keys: …").
type Config struct {
	topo.Config `mapstructure:",squash"`
}

// topologyKeys are the keys that make a topology: a file that gives any of
// them replaces all of the embedded default's, so that the demo's hosts
// and streams never leak into a file's topology.
var topologyKeys = []string{"hosts", "cables", "traffic", "bulk", "tcp"}

// loadConfig reads the embedded default, merges file over it (if any),
// applies VNIC_* environment variables to scalar keys, and decodes it
// strictly: an unknown key is an error that names it. A file that gives
// any of topologyKeys gives the whole topology: the default's hosts,
// cables, traffic, bulk and tcp are dropped, and what the file leaves out is
// empty.
func loadConfig(file string) (*viper.Viper, error) {
	def := viper.New()
	def.SetConfigType("yaml")
	if err := def.ReadConfig(bytes.NewReader(configs.Default)); err != nil {
		return nil, fmt.Errorf("embedded default config: %w", err)
	}
	base := def.AllSettings()
	var user map[string]any
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		u := viper.New()
		u.SetConfigType("yaml")
		if err := u.ReadConfig(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
		user = u.AllSettings()
		if slices.ContainsFunc(topologyKeys, func(k string) bool { _, ok := user[k]; return ok }) {
			for _, k := range topologyKeys {
				delete(base, k)
			}
		}
	}
	v := viper.New()
	if err := v.MergeConfigMap(base); err != nil {
		return nil, fmt.Errorf("embedded default config: %w", err)
	}
	// Register every scalar key as a default so that environment variables
	// reach Unmarshal (viper only sees env for keys it knows).
	for _, k := range v.AllKeys() {
		v.SetDefault(k, v.Get(k))
	}
	if user != nil {
		if err := v.MergeConfigMap(user); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
	}
	v.SetEnvPrefix("VNIC")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	return v, nil
}

// decodeConfig decodes v strictly, gives list items their defaults (but
// not where the file gives a zero) and validates every value. A number
// that its key's integer cannot hold exactly (1.5, 1e30, 2^64-1) is an
// error naming the key, as mapstructure would truncate or wrap it.
func decodeConfig(v *viper.Viper) (*topo.Config, error) {
	var c Config
	err := v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			exactIntegerHook,
		)
	})
	if err != nil {
		return nil, numberErrors(err)
	}
	given := map[string]bool{}
	givenKeys(v.AllSettings(), "", given)
	c.SetDefaultsUnless(func(key string) bool { return given[key] })
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c.Config, nil
}

// givenKeys adds to keys every key of m, as Validate names them
// ("hosts[0].devices[1].queues"), prefixed by prefix.
func givenKeys(m map[string]any, prefix string, keys map[string]bool) {
	for k, val := range m {
		k = prefix + k
		keys[k] = true
		switch val := val.(type) {
		case map[string]any:
			givenKeys(val, k+".", keys)
		case []any:
			for i, e := range val {
				if e, ok := e.(map[string]any); ok {
					givenKeys(e, fmt.Sprintf("%s[%d].", k, i), keys)
				}
			}
		}
	}
}

// numberError is a number its integer key cannot hold.
type numberError struct{ msg string }

func (e *numberError) Error() string { return e.msg }

// exactIntegerHook refuses, for an integer key, a number with a fraction,
// one outside the key's integer and a bool (weak typing would make them
// truncated, wrapped or 0 and 1). Strings (VNIC_* variables) are left to
// mapstructure's own parse, which is exact.
func exactIntegerHook(from, to reflect.Value) (any, error) {
	var bits int
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits = to.Type().Bits()
	default:
		return from.Interface(), nil
	}
	lo, hi := -1<<(bits-1), 1<<(bits-1)-1
	switch from.Kind() {
	case reflect.Float32, reflect.Float64:
		f := from.Float()
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return nil, &numberError{s + ": want an integer"}
		}
		// float64(hi) rounds up to 2^(bits-1) for 64 bits: hi itself is out.
		if f < float64(lo) || f >= -float64(lo) {
			return nil, &numberError{fmt.Sprintf("%s: outside the key's %d-bit integer (%d..%d)", s, bits, lo, hi)}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := from.Uint(); u > uint64(hi) {
			return nil, &numberError{fmt.Sprintf("%d: outside the key's %d-bit integer (%d..%d)", u, bits, lo, hi)}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := from.Int(); n < int64(lo) || n > int64(hi) {
			return nil, &numberError{fmt.Sprintf("%d: outside the key's %d-bit integer (%d..%d)", n, bits, lo, hi)}
		}
	case reflect.Bool:
		return nil, &numberError{fmt.Sprintf("%v: want an integer", from.Bool())}
	}
	return from.Interface(), nil
}

// numberErrors is err with its numbers' errors in Validate's style
// ("config: hosts[0].cpus: 1.5: want an integer"), when every error in it
// is one; otherwise err as mapstructure words it, behind "config: ".
func numberErrors(err error) error {
	var out []error
	var walk func(e error) bool
	walk = func(e error) bool {
		if de, ok := e.(*mapstructure.DecodeError); ok {
			if ne, ok := de.Unwrap().(*numberError); ok {
				out = append(out, fmt.Errorf("config: %s: %s", de.Name(), ne.msg))
				return true
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if !walk(e) {
					return false
				}
			}
			return true
		case interface{ Unwrap() error }:
			return u.Unwrap() != nil && walk(u.Unwrap())
		}
		return false
	}
	if walk(err) && len(out) > 0 {
		return errors.Join(out...)
	}
	return fmt.Errorf("config: %w", err)
}
