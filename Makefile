# vnic: `make run` builds and runs the demo, `make test` runs every test.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 20s
BIN         := bin/vnic
# Profile-guided optimisation: `go build` of cmd/vnic picks default.pgo up by
# itself; benchmarks of other packages are given it explicitly.
PGO         := $(CURDIR)/cmd/vnic/default.pgo

.PHONY: all build run test unit lint bench fuzz pgo plots plots-check clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vnic

# The demo on the embedded default topology (configs/default.yaml).
run: build
	./$(BIN) demo

# Every test: formatting, vet, staticcheck, then the whole suite with the
# race detector.
test: lint unit

unit:
	$(GO) test -race -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Go benchmarks (packets/s and allocs/op), then the user-facing figures.
bench: build
	$(GO) test -pgo=$(PGO) -run '^$$' -bench . -benchmem ./...
	./$(BIN) bench nic

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

# Each fuzz target for FUZZTIME.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzToeplitz$$' -fuzztime $(FUZZTIME) ./offload
	$(GO) test -run '^$$' -fuzz '^FuzzChecksum$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzDeviceDescriptors$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzMMIO$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzRxFrame$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzReadPcapTiming$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzEthTypeTransAndFlowHash$$' -fuzztime $(FUZZTIME) ./stack
	$(GO) test -run '^$$' -fuzz '^FuzzCompileIPOptions$$' -fuzztime $(FUZZTIME) ./stack/ipv4
	$(GO) test -run '^$$' -fuzz '^FuzzIPRcvCore$$' -fuzztime $(FUZZTIME) ./stack/ipv4
	$(GO) test -run '^$$' -fuzz '^FuzzParseARP$$' -fuzztime $(FUZZTIME) ./stack/ipv4
	$(GO) test -run '^$$' -fuzz '^FuzzTrie$$' -fuzztime $(FUZZTIME) ./stack/ipv4/fib
	$(GO) test -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) ./ethtool/cli
	$(GO) test -run '^$$' -fuzz '^FuzzRun$$' -fuzztime $(FUZZTIME) ./ethtool/cli
	$(GO) test -run '^$$' -fuzz '^FuzzParseRxClsRule$$' -fuzztime $(FUZZTIME) ./ethtool/cli
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeReplies$$' -fuzztime $(FUZZTIME) ./ethtool/nl
	$(GO) test -run '^$$' -fuzz '^FuzzGROStream$$' -fuzztime $(FUZZTIME) ./offload
	$(GO) test -run '^$$' -fuzz '^FuzzIGMP$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzLROStream$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzQueueFilters$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzProbeEEPROM$$' -fuzztime $(FUZZTIME) ./driver
	$(GO) test -run '^$$' -fuzz '^FuzzReassembly$$' -fuzztime $(FUZZTIME) ./stack/ipv4
	$(GO) test -run '^$$' -fuzz '^FuzzReplies$$' -fuzztime $(FUZZTIME) ./internal/nlclient
	$(GO) test -run '^$$' -fuzz '^FuzzRun$$' -fuzztime $(FUZZTIME) ./internal/iproute
	$(GO) test -run '^$$' -fuzz '^FuzzServer$$' -fuzztime $(FUZZTIME) ./internal/control
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalRule$$' -fuzztime $(FUZZTIME) ./stack/rtnetlink
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalNexthop$$' -fuzztime $(FUZZTIME) ./stack/rtnetlink
	$(GO) test -run '^$$' -fuzz '^FuzzIPv4Input$$' -fuzztime $(FUZZTIME) ./stack/ipv4
	$(GO) test -run '^$$' -fuzz '^FuzzParseRoute$$' -fuzztime $(FUZZTIME) ./internal/iproute
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalMessages$$' -fuzztime $(FUZZTIME) ./stack/rtnetlink
	$(GO) test -run '^$$' -fuzz '^FuzzFramePortVnet$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzUpdate16$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzEthernet$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzARP$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzIPv4$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzIPv4Options$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzICMPv4$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzUDP$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzTCP$$' -fuzztime $(FUZZTIME) ./header
	$(GO) test -run '^$$' -fuzz '^FuzzSegmentTCPv4$$' -fuzztime $(FUZZTIME) ./offload
	$(GO) test -run '^$$' -fuzz '^FuzzTCPGRO$$' -fuzztime $(FUZZTIME) ./offload
	$(GO) test -run '^$$' -fuzz '^FuzzTCPLRO$$' -fuzztime $(FUZZTIME) ./offload
	$(GO) test -run '^$$' -fuzz '^FuzzConfig$$' -fuzztime $(FUZZTIME) ./cmd/vnic
	$(GO) test -run '^$$' -fuzz '^FuzzParseFeatureArgs$$' -fuzztime $(FUZZTIME) ./ethtool
	$(GO) test -run '^$$' -fuzz '^FuzzRun$$' -fuzztime $(FUZZTIME) ./ethtool/cli
	$(GO) test -run '^$$' -fuzz '^FuzzServe$$' -fuzztime $(FUZZTIME) ./ethtool/nl
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) ./stack/netlink

clean:
	rm -rf bin
