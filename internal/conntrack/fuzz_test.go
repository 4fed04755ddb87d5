package conntrack

import (
	"bufio"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"vnic/stack/netlink"
)

// FuzzParseEntry: any bytes parse or fail with ErrMalformed, never
// panic; what parses prints, and re-encoded parses to a fixed point
// (Append keeps what Parse read, Parse reads what Append wrote).
func FuzzParseEntry(f *testing.F) {
	e := Entry{Family: AFInet, Orig: tcpT, Reply: inverse(tcpT), Master: dnsT,
		Fields: HasOrig | HasReply | HasStatus | HasMark | HasID | HasUse | HasTimeout | HasTCPState | HasCounters | HasZone | HasMaster,
		Status: 0xe, Timeout: 431999, Mark: 7, Zone: 3, ID: 9, Use: 1, TCPState: 3, Packets: [2]uint64{1, 2}, Bytes: [2]uint64{3, 4}}
	f.Add(e.Append(nil))
	p := Entry{Family: AFInet, Orig: pingT, Reply: inverse(pingT), Fields: HasOrig | HasReply | HasStatus}
	f.Add(p.Append(nil))
	f.Add([]byte{2, 0, 0, 0, 8, 0, 1, 0x80, 4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want ErrMalformed", err)
			}
			return
		}
		formatEntry(&e, typeNew, outExtended|outID)
		formatSave(&e, typeDestroy)
		e2, err := ParseEntry(e.Append(nil))
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", e, err)
		}
		e3, err := ParseEntry(e2.Append(nil))
		if err != nil || !reflect.DeepEqual(e2, e3) {
			t.Fatalf("not a fixed point:\n%+v\n%+v (%v)", e2, e3, err)
		}
		ParseStats(b)
		ParseCount(b)
		eventHeader(b)
	})
}

// FuzzRequest: any request body, for any message type, dump or not,
// is answered or refused with a netlink error, never a panic, by the
// family serving the rig's table.
func FuzzRequest(f *testing.F) {
	g := newRig(f)
	g.flows()
	for _, b := range [][]byte{
		body("r", AFInet, withTuple(CTATupleOrig, dnsT)),
		body("r", AFInet, withTuple(CTATupleReply, inverse(tcpT)), withBE32(CTAID, 1)),
		body("r", AFUnspec, withBE32(CTAMark, 7), withBE32(CTAMarkMask, 0xff)),
		body("r", AFUnspec, withBE32(CTAStatus, 4), withBE32(CTAStatusMask, 6)),
		body("r", AFInet, withTuple(CTATupleOrig, pingT), withBE32(CTAMark, 1), withBE32(CTATimeout, 5)),
		body("nohost", AFInet),
		{2, 0},
	} {
		for cmd := range uint8(9) {
			f.Add(cmd, false, b)
			f.Add(cmd, true, b)
		}
	}
	f.Fuzz(func(t *testing.T, cmd uint8, dump bool, b []byte) {
		check := func(err error) {
			var ne *netlink.Error
			if err != nil && !errors.As(err, &ne) {
				t.Fatalf("error %v (%T) is not a netlink error", err, err)
			}
		}
		if !dump {
			_, _, err := g.svc.handle(cmd, false, b)
			check(err)
			return
		}
		fill, _, err := g.svc.dump(cmd, b)
		check(err)
		for i := 0; err == nil && i < 1000; i++ {
			done, err := fill(func([]byte) bool { return true })
			check(err)
			if done || err != nil {
				break
			}
		}
	})
}

// FuzzArgs: any command line (words split at NUL) is parsed or refused
// as conntrack refuses it, and Main runs it to a status without
// panicking (there is no control socket: commands that need one fail).
func FuzzArgs(f *testing.F) {
	file, err := os.Open("testdata/cli_cases.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(strings.ReplaceAll(sc.Text(), " ", "\x00"))
	}
	file.Close()
	f.Add("-L\x00-p\x00tcp\x00-p\x00icmp\x00--icmp-type\x008\x00--sport\x001")
	f.Add("-U\x00-n\x00[::1]:80\x00-j\x00-m\x00-1/0x")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		if len(args) > 64 {
			return
		}
		c, perr := parseArgs(args)
		if c == nil {
			t.Fatal("no command")
		}
		if perr != nil && perr.code != parameterProblem && perr.code != otherProblem {
			t.Fatalf("status %d", perr.code)
		}
		code := Main(args, Options{Stdout: io.Discard, Stderr: io.Discard, Socket: "/nonexistent/vnic.sock", Host: "r"})
		if code < 0 || code > 2 {
			t.Fatalf("status %d", code)
		}
	})
}
