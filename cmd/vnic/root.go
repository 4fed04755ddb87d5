package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"vnic/internal/topo"
)

// appOut is where commands print; tests replace it.
var appOut io.Writer = os.Stdout

// app is what every subcommand shares: the merged config and the logger.
type app struct {
	configFile string
	v          *viper.Viper
	cfg        *topo.Config
	log        *zap.Logger
	level      zap.AtomicLevel
	out        io.Writer
	cpuProfile string
	profFile   *os.File
}

func (a *app) startProfile() error {
	if a.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(a.cpuProfile)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	a.profFile = f
	return nil
}

func (a *app) stopProfile() error {
	if a.profFile == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := a.profFile.Close()
	a.profFile = nil
	return err
}

func newRoot() *cobra.Command {
	a := &app{out: appOut}
	root := &cobra.Command{
		Use:           "vnic",
		Short:         "A register-level virtual NIC, its driver and a Linux-style stack",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&a.configFile, "config", "", "config file merged over the embedded default (configs/default.yaml)")
	root.PersistentFlags().String("log-level", "", "log level: debug, info, warn, error (default from config)")
	root.PersistentFlags().StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (pprof format)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return a.startProfile() }
	root.PersistentPostRunE = func(*cobra.Command, []string) error { return a.stopProfile() }
	root.AddCommand(newDemoCmd(a), newUpCmd(a), newBenchCmd(a), newEthtoolCmd(a), newIPCmd(a), newTCCmd(a), newPingCmd(a), newNetstatCmd(a), newSSCmd(a), newConntrackCmd(a), newIperf3Cmd(a), newSysctlCmd(a), newConformanceCmd(a), newPacketdrillCmd(a))
	root.AddCommand(newIptablesCmds(a)...)
	return root
}

// load reads the config, lets set flags override it, and builds the logger.
// Flags win over VNIC_* variables, which win over the file, which wins over
// the embedded default.
func (a *app) load(cmd *cobra.Command, keys ...string) error {
	v, err := loadConfig(a.configFile)
	if err != nil {
		return err
	}
	for _, k := range append(keys, "log-level") {
		f := cmd.Flags().Lookup(k)
		if f == nil || !f.Changed {
			continue
		}
		key := k
		if k == "log-level" {
			key = "log.level"
		}
		v.Set(key, f.Value.String())
	}
	a.v = v
	if a.cfg, err = decodeConfig(v); err != nil {
		return err
	}
	return a.buildLogger()
}

func (a *app) buildLogger() error {
	lvl, err := zapcore.ParseLevel(a.cfg.Log.Level)
	if err != nil {
		return fmt.Errorf("config: log.level: %w", err)
	}
	a.level = zap.NewAtomicLevelAt(lvl)
	zc := zap.NewProductionConfig()
	if a.cfg.Log.Format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.DisableStacktrace = true
	}
	zc.Level = a.level
	zc.OutputPaths = []string{"stderr"}
	zc.ErrorOutputPaths = []string{"stderr"}
	a.log, err = zc.Build()
	if err == nil && logSink != nil {
		enc := zapcore.NewConsoleEncoder(zc.EncoderConfig)
		a.log = zap.New(zapcore.NewCore(enc, logSink, a.level))
	}
	return err
}

// logSink, when a test sets it, receives the log instead of stderr.
var logSink zapcore.WriteSyncer

// setOut points every command's output at w (tests).
func setOut(_ *cobra.Command, w io.Writer) {
	appOut = w
}

// appErr is where commands' warnings to the user go (stderr; tests swap it).
var appErr io.Writer = os.Stderr
