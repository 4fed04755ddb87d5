package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"vnic/ethtool"
)

func runVeth(line string, stdin string) (string, string, int) {
	var out, errOut bytes.Buffer
	d := &vethFull{vethDev{feats: ethtool.ListOf(ethtool.SG, ethtool.SG, ethtool.SG)}}
	rc := Run(strings.Fields(line), Options{Backend: vethFullBackend{d}, Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin)})
	return out.String(), errOut.String(), rc
}

// A missing device is reported by each mode's first request, with the
// exit code ethtool 6.1 gives it (captured from ethtool on Linux 6.18 for
// a name no interface has).
func TestMissingDevice(t *testing.T) {
	nl := "netlink error: no device matches name (offset 24)\nnetlink error: No such device\n"
	for _, c := range []struct {
		line, err string
		rc        int
	}{
		{"nosuch", strings.Repeat(nl, 5) + "No data available\n", 75},
		{"-s nosuch speed 10", nl, 75},
		{"-i nosuch", "Cannot get driver information: No such device\n", 71},
		{"-d nosuch", "Cannot get driver information: No such device\n", 72},
		{"-e nosuch", "Cannot get driver information: No such device\n", 74},
		{"-E nosuch", "Cannot get driver information: No such device\n", 74},
		{"-S nosuch", "Cannot get stats strings information: No such device\n", 96},
		{"-t nosuch", "Cannot get strings: No such device\n", 74},
		{"-r nosuch", "Cannot restart autonegotiation: No such device\n", 255},
		{"-p nosuch", "Cannot identify NIC: No such device\n", 255},
		{"-P nosuch", "netlink error: No such device\n", 1},
		{"-x nosuch", "Cannot get RX ring count: No such device\n", 1},
		{"-X nosuch equal 2", "Cannot get RX ring count: No such device\n", 1},
		{"-w nosuch", "Can not get dump level: No such device\n", 1},
		{"-W nosuch 1", "Can not set dump level: No such device\n", 1},
		{"-f nosuch x", "Flashing failed: No such device\n", 255},
		{"-g nosuch", nl, 1},
		{"-G nosuch rx 1", nl, 81},
		{"-A nosuch rx on", nl, 76},
		{"-K nosuch tso off", nl, 92},
		{"-T nosuch", nl, 1},
		{"--set-eee nosuch eee on", nl, 76},
		{"--set-fec nosuch encoding auto", nl, 83},
		{"-m nosuch raw on", "Cannot get module EEPROM information: No such device\n", 1},
		{"-n nosuch rx-flow-hash tcp4", "Cannot get RX network flow hashing options: No such device\n", 1},
		{"-N nosuch rx-flow-hash tcp4 sd", "Cannot change RX network flow hashing options: No such device\n", 0},
		{"-u nosuch", "Cannot get RX rings: No such device\nrxclass: Cannot get RX class rule count: No such device\nRX classification rule retrieval failed\n", 1},
		{"-Q nosuch --show-coalesce", "Cannot get number of queues: No such device\n", 242},
		{"--phy-statistics nosuch", "Cannot get stats strings information: No such device\n", 96},
	} {
		_, errOut, rc := runVeth(c.line, "")
		if errOut != c.err || rc != c.rc {
			t.Errorf("ethtool %s: exit %d %q, want %d %q", c.line, rc, errOut, c.rc, c.err)
		}
	}
}

// Device names: netlink modes take up to 127 characters, the ioctl ones
// 15 (IFNAMSIZ - 1); the refusal happens before any lookup.
func TestDeviceNameLength(t *testing.T) {
	long := strings.Repeat("x", 128)
	for _, c := range []struct {
		line, err string
	}{
		{long, "device name '" + long + "' longer than 127 characters\n"},
		{"-k " + long, "device name '" + long + "' longer than 127 characters\n"},
		{"-i 16_char_devname!", "ethtool netlink support for subcommand missing, device name longer than 15 not supported\n"},
		{"-d 16_char_devname!", "ethtool netlink support for subcommand missing, device name longer than 15 not supported\n"},
	} {
		var errOut bytes.Buffer
		if rc := Run(strings.Fields(c.line), Options{Backend: panicBackend{}, Stderr: &errOut}); rc != 1 || errOut.String() != c.err {
			t.Errorf("ethtool %.40s: exit %d %q", c.line, rc, errOut.String())
		}
	}
	if _, errOut, rc := runVeth("-k "+strings.Repeat("y", 127), ""); rc != 1 || !strings.Contains(errOut, "no device matches name") {
		t.Errorf("127 characters: exit %d %q, want a lookup", rc, errOut)
	}
}

// --json is accepted where ethtool 6.1 accepts it (-k, -a, --show-fec,
// --cable-test, --show-module), in ethtool's layout; elsewhere it is a
// bad command line.
func TestJSONModes(t *testing.T) {
	for _, line := range []string{"--json -g devname", "--json -l devname", "--json -i devname", "--json -S devname", "--json devname",
		"--json -x devname", "--json -c devname", "--json -T devname", "--json --show-eee devname", "--json -m devname"} {
		if _, errOut, rc := runVeth(line, ""); rc != 1 || !strings.HasPrefix(errOut, "ethtool: bad command line argument(s)\n") {
			t.Errorf("%s: exit %d %q", line, rc, errOut)
		}
	}
	p := ethtool.Pause{Rx: true, TxPauseFrames: 3, RxPauseFrames: 9}
	want := "[ {\n        \"ifname\": \"d\",\n        \"autonegotiate\": false,\n        \"rx\": true,\n        \"tx\": false\n    } ]\n"
	if got := FormatPauseJSON("d", p, false); got != want {
		t.Errorf("-a --json:\n%s\nwant\n%s", got, want)
	}
	want = "[ {\n        \"ifname\": \"d\",\n        \"autonegotiate\": false,\n        \"rx\": true,\n        \"tx\": false,\n" +
		"        \"statistics\": {\n            \"tx_pause_frames\": 3,\n            \"rx_pause_frames\": 9\n        }\n    } ]\n"
	if got := FormatPauseJSON("d", p, true); got != want {
		t.Errorf("-I -a --json:\n%s\nwant\n%s", got, want)
	}
	// veth has no pause: ethtool prints the error and an empty array.
	if out, errOut, rc := runVeth("--json -a devname", ""); out != "[ ]\n" || errOut != "netlink error: Operation not supported\n" || rc != 1 {
		t.Errorf("--json -a on veth: %d %q %q", rc, out, errOut)
	}
	// As ethtool 6.1 on Linux 6.18: a failed JSON get prints the error and
	// an empty array.
	nl := "netlink error: no device matches name (offset 24)\nnetlink error: No such device\n"
	for _, c := range []struct{ line, err string }{
		{"--json -k nosuch", nl}, {"--json -a nosuch", nl}, {"--json --show-fec nosuch", nl},
		{"--json --cable-test devname", "netlink error: Operation not supported\n"},
	} {
		if out, errOut, rc := runVeth(c.line, ""); out != "[ ]\n" || errOut != c.err || rc != 1 {
			t.Errorf("%s: %d %q %q", c.line, rc, out, errOut)
		}
	}
	if out, _, rc := runVeth("--json --show-module devname", ""); rc != 0 || out != "[ {\n        \"ifname\": \"va\"\n    } ]\n" {
		t.Errorf("--json --show-module: %d %q", rc, out)
	}
}

// -h lists every mode with ethtool 6.1's option names; --version prints
// vnic's version line.
func TestHelpAndVersion(t *testing.T) {
	out, _, rc := runVeth("-h", "")
	if rc != 0 || !strings.HasPrefix(out, Version+"\nUsage:\n") {
		t.Fatalf("-h: exit %d\n%s", rc, out)
	}
	for _, opts := range []string{"-s|--change", "-a|--show-pause", "-A|--pause", "-c|--show-coalesce", "-C|--coalesce", "-g|--show-ring",
		"-G|--set-ring", "-k|--show-features|--show-offload", "-K|--features|--offload", "-i|--driver", "-d|--register-dump",
		"-e|--eeprom-dump", "-E|--change-eeprom", "-r|--negotiate", "-p|--identify", "-t|--test", "-S|--statistics", "--phy-statistics",
		"-n|-u|--show-nfc|--show-ntuple", "-N|-U|--config-nfc|--config-ntuple", "-T|--show-time-stamping", "-x|--show-rxfh-indir|--show-rxfh",
		"-X|--set-rxfh-indir|--rxfh", "-f|--flash", "-P|--show-permaddr", "-w|--get-dump", "-W|--set-dump", "-l|--show-channels",
		"-L|--set-channels", "--show-priv-flags", "--set-priv-flags", "-m|--dump-module-eeprom|--module-info", "--show-eee", "--set-eee",
		"--set-phy-tunable", "--get-phy-tunable", "--get-tunable", "--set-tunable", "--reset", "--show-fec", "--set-fec", "-Q|--per-queue",
		"--cable-test", "--cable-test-tdr", "--show-tunnels", "--show-module", "--set-module", "-h|--help", "--version"} {
		if !strings.Contains(out, "        ethtool [ FLAGS ] "+opts+" ") {
			t.Errorf("-h lacks %s", opts)
		}
	}
	if out, _, rc := runVeth("--version", ""); rc != 0 || out != "ethtool version 6.1 (vnic)\n" {
		t.Errorf("--version: %d %q", rc, out)
	}
}

// -E without "value" reads the bytes from stdin.
func TestSetEEPROMFromStdin(t *testing.T) {
	d := &eepromDev{vethFull: vethFull{vethDev{feats: ethtool.ListOf(0, 0, 0)}}, mem: make([]byte, 8)}
	var errOut bytes.Buffer
	rc := Run(strings.Fields("-E devname magic 0x1234 offset 2 length 3"), Options{Backend: eepromBackend{d}, Stdout: &bytes.Buffer{}, Stderr: &errOut, Stdin: strings.NewReader("abcdef")})
	if rc != 0 || string(d.mem[2:5]) != "abc" || d.magic != 0x1234 {
		t.Errorf("exit %d %q, eeprom %q magic %#x", rc, errOut.String(), d.mem, d.magic)
	}
	errOut.Reset()
	rc = Run(strings.Fields("-E devname length 3"), Options{Backend: eepromBackend{d}, Stderr: &errOut, Stdin: strings.NewReader("a")})
	if rc != 75 || errOut.String() != "not enough data from stdin\n" {
		t.Errorf("short stdin: exit %d %q", rc, errOut.String())
	}
}

type eepromDev struct {
	vethFull
	mem   []byte
	magic uint32
}

func (d *eepromDev) DrvInfo() (ethtool.DrvInfo, error) {
	return ethtool.DrvInfo{EEDumpLen: uint32(len(d.mem))}, nil
}
func (d *eepromDev) SetEEPROM(magic, off uint32, data []byte) error {
	d.magic = magic
	copy(d.mem[off:], data)
	return nil
}

type eepromBackend struct{ d *eepromDev }

func (b eepromBackend) Device(string) (ethtool.Device, error) { return b.d, nil }

// -d file NAME reads the dump from the file, after the device's own.
func TestRegsFromFile(t *testing.T) {
	f := t.TempDir() + "/regs"
	if err := os.WriteFile(f, []byte{0xde, 0xad}, 0o600); err != nil {
		t.Fatal(err)
	}
	d := &regsDev{vethFull: vethFull{vethDev{feats: ethtool.ListOf(0, 0, 0)}}}
	var out, errOut bytes.Buffer
	rc := Run([]string{"-d", "devname", "raw", "on", "file", f}, Options{Backend: regsBackend{d}, Stdout: &out, Stderr: &errOut})
	if rc != 0 || out.String() != "\xde\xad" {
		t.Errorf("exit %d %q %q", rc, out.String(), errOut.String())
	}
	errOut.Reset()
	rc = Run([]string{"-d", "devname", "file", f + ".none"}, Options{Backend: regsBackend{d}, Stdout: &out, Stderr: &errOut})
	if rc != 75 || !strings.HasSuffix(errOut.String(), ": No such file or directory\n") {
		t.Errorf("missing file: exit %d %q", rc, errOut.String())
	}
}

type regsDev struct{ vethFull }

func (d *regsDev) Regs() (ethtool.Regs, error) {
	return ethtool.Regs{Version: 1, Data: []byte{1, 2, 3, 4}}, nil
}

type regsBackend struct{ d *regsDev }

func (b regsBackend) Device(string) (ethtool.Device, error) { return b.d, nil }
