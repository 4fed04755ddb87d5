package main

import (
	"bytes"
	"fmt"
	"os"
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

// loadConfig reads the embedded default, merges file over it (if any),
// applies VNIC_* environment variables to scalar keys, and decodes it
// strictly: an unknown key is an error that names it.
func loadConfig(file string) (*viper.Viper, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(configs.Default)); err != nil {
		return nil, fmt.Errorf("embedded default config: %w", err)
	}
	// Register every scalar key as a default so that environment variables
	// reach Unmarshal (viper only sees env for keys it knows).
	for _, k := range v.AllKeys() {
		v.SetDefault(k, v.Get(k))
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		user := viper.New()
		user.SetConfigType("yaml")
		if err := user.ReadConfig(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
		if err := v.MergeConfigMap(user.AllSettings()); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
	}
	v.SetEnvPrefix("VNIC")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	return v, nil
}

// decodeConfig decodes v strictly, gives list items their defaults and
// validates every value.
func decodeConfig(v *viper.Viper) (*topo.Config, error) {
	var c Config
	err := v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c.Config, nil
}
