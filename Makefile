# vnic: `make run` builds and runs the demo, `make test` runs every test.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 20s
BIN         := bin/vnic
# Profile-guided optimisation: `go build` of cmd/vnic picks default.pgo up by
# itself; benchmarks of other packages are given it explicitly.
PGO         := $(CURDIR)/cmd/vnic/default.pgo

.PHONY: all build run test unit anchors lint bench benchcmp fuzz pgo plots plots-check clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vnic

# The demo on the embedded default topology (configs/default.yaml).
run: build
	./$(BIN) demo

# Every test: formatting, vet, staticcheck, then the whole suite with the
# race detector — but for the long virtual-time sweeps (the interrupt
# experiments, and the vnic bench irq and bench tcp --virtual commands
# that run them), which run on one goroutine over code every other package
# tests under the detector: with it they take six minutes of the ten CI
# gives, without it thirty seconds.
test: lint unit

VIRTUAL_SWEEPS := ^(TestExperiments|TestFindMLFRR|TestBenchIRQCommand|TestBenchTCPVirtualJSON)$$

# lint has vetted every package, tests included: -vet=off spares go test
# its own pass over a subset of the same checks.
unit:
	$(GO) test -race -vet=off -count=1 -skip '$(VIRTUAL_SWEEPS)' ./...
	$(GO) test -vet=off -count=1 -run '$(VIRTUAL_SWEEPS)' ./test/irqbench ./cmd/vnic
	$(MAKE) --no-print-directory anchors

# The anchors' own module (test/anchors: the benchmarks against bart and
# gVisor): vetted, and its tests run, so that it builds on the day a
# benchmark is wanted.
anchors:
	cd test/anchors && $(GO) vet ./... && $(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Go benchmarks (packets/s and allocs/op), then the user-facing figures.
bench: build
	$(GO) test -pgo=$(PGO) -run '^$$' -bench . -benchmem ./...
	./$(BIN) bench nic

# BASE's benchmarks against the working tree's, run interleaved and compared
# by benchstat (BENCH, PKGS, COUNT, BENCHTIME narrow or widen it; see
# test/benchcmp/benchcmp.sh).
benchcmp:
	@test -n "$(BASE)" || { echo "usage: make benchcmp BASE=<rev> [BENCH=regexp] [PKGS=...] [COUNT=n]" >&2; exit 2; }
	GO=$(GO) ./test/benchcmp/benchcmp.sh $(BASE)

# Refresh the PGO profile from the benchmarks and the demo.
pgo: build
	./$(BIN) bench nic --cpuprofile $(CURDIR)/bin/bench.prof >/dev/null
	./$(BIN) demo --duration 200ms --cpuprofile $(CURDIR)/bin/demo.prof >/dev/null
	$(GO) tool pprof -proto $(CURDIR)/bin/bench.prof $(CURDIR)/bin/demo.prof > $(PGO)

# The interrupts-versus-polling plots the README shows (docs/plots).
plots: build
	./$(BIN) bench irq --experiment E1,E6 --out docs/plots >/dev/null

# The figures in a headless browser: nothing of them cut off (needs chromium).
plots-check:
	VNIC_REQUIRE_BROWSER=1 $(GO) test -count=1 -run 'TestSVGInBrowser' ./test/irqbench

# Every fuzz target (package:Target), each run for FUZZTIME.
FUZZ_TARGETS := \
	./cmd/vnic:FuzzConfig \
	./cmd/vnic:FuzzPingArgs \
	./cmd/vnic:FuzzPingOptions \
	./cmd/vnic:FuzzSysctlArgs \
	./driver:FuzzProbeEEPROM \
	./ethtool:FuzzParseFeatureArgs \
	./ethtool/cli:FuzzCheck \
	./ethtool/cli:FuzzParseRxClsRule \
	./ethtool/cli:FuzzRun \
	./ethtool/nl:FuzzDecodeReplies \
	./ethtool/nl:FuzzServe \
	./header:FuzzARP \
	./header:FuzzChecksum \
	./header:FuzzEthernet \
	./header:FuzzICMPv4 \
	./header:FuzzIGMP \
	./header:FuzzIPv4 \
	./header:FuzzIPv4Options \
	./header:FuzzParseTCPOptions \
	./header:FuzzTCP \
	./header:FuzzUDP \
	./header:FuzzUpdate16 \
	./hw:FuzzDMASliceMapped \
	./hw:FuzzDeviceDescriptors \
	./hw:FuzzFramePortVnet \
	./hw:FuzzLROStream \
	./hw:FuzzMMIO \
	./hw:FuzzOnesSumValid \
	./hw:FuzzQueueFilters \
	./hw:FuzzReadPcapTiming \
	./hw:FuzzRxChecksumSums \
	./hw:FuzzRxFrame \
	./hw:FuzzRxVerdicts \
	./internal/cnum:FuzzStrtoul \
	./internal/conntrack:FuzzArgs \
	./internal/conntrack:FuzzParseEntry \
	./internal/conntrack:FuzzRequest \
	./internal/control:FuzzDiagRequest \
	./internal/control:FuzzIperfRequest \
	./internal/control:FuzzServer \
	./internal/iperf3:FuzzGetParameters \
	./internal/iperf3:FuzzGetResults \
	./internal/iperf3:FuzzParseUnits \
	./internal/iproute:FuzzMakeArgs \
	./internal/iproute:FuzzParseRoute \
	./internal/iproute:FuzzRun \
	./internal/iproute:FuzzRunTC \
	./internal/iptables:FuzzDecodeTable \
	./internal/iptables:FuzzIPSetRequest \
	./internal/iptables:FuzzParseArgs \
	./internal/iptables:FuzzRestore \
	./internal/netns:FuzzDecodeInfo \
	./internal/nlclient:FuzzReplies \
	./internal/packetdrill:FuzzParse \
	./internal/ss:FuzzParseArgs \
	./internal/ss:FuzzParseReply \
	./offload:FuzzGROStream \
	./offload:FuzzSegmentTCPv4 \
	./offload:FuzzTCPGRO \
	./offload:FuzzTCPLRO \
	./offload:FuzzToeplitz \
	./stack:FuzzEthTypeTransAndFlowHash \
	./stack/ipv4:FuzzCompileIPOptions \
	./stack/ipv4:FuzzIPRcvCore \
	./stack/ipv4:FuzzIPv4Input \
	./stack/ipv4:FuzzParseARP \
	./stack/ipv4:FuzzReassembly \
	./stack/ipv4/fib:FuzzTrie \
	./stack/netfilter/conntrack:FuzzPacketTuple \
	./stack/netfilter/nat:FuzzManip \
	./stack/netlink:FuzzUnmarshal \
	./stack/rtnetlink:FuzzParseNetemOptions \
	./stack/rtnetlink:FuzzUnmarshalMessages \
	./stack/rtnetlink:FuzzUnmarshalNexthop \
	./stack/rtnetlink:FuzzUnmarshalNexthopBucket \
	./stack/rtnetlink:FuzzUnmarshalQdisc \
	./stack/rtnetlink:FuzzUnmarshalRule \
	./test/packetdrill:FuzzShellLine

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $$t"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

clean:
	rm -rf bin
