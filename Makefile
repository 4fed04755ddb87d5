# vnic: `make run` builds and runs the demo, `make test` runs every test.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 20s
BIN         := bin/vnic

.PHONY: all build run test unit lint bench fuzz clean

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
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./$(BIN) bench nic

# Each fuzz target for FUZZTIME.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzToeplitz$$' -fuzztime $(FUZZTIME) ./offload
	$(GO) test -run '^$$' -fuzz '^FuzzChecksum$$' -fuzztime $(FUZZTIME) ./offload
	$(GO) test -run '^$$' -fuzz '^FuzzDeviceDescriptors$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzMMIO$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzRxFrame$$' -fuzztime $(FUZZTIME) ./hw
	$(GO) test -run '^$$' -fuzz '^FuzzEthTypeTransAndFlowHash$$' -fuzztime $(FUZZTIME) ./stack

clean:
	rm -rf bin
