# chaosbench — see README.md. Every target is safe to run on a fresh machine.
SHELL := /bin/bash
GO ?= go
BIN := bin
# The full suite must stay well under 20 minutes on 2 cores.
TEST_TIMEOUT ?= 15m

.PHONY: all build test check unit bench-api bench-load clean images

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# check fails on unformatted code and vet findings, before any test runs.
check:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$fmt" ]; then echo "gofmt would change:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...

# test is what CI runs: formatting, vet, then every test with the race detector
# (Docker tests included; they fail in CI when Docker is missing).
test: check
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

# images builds the stack's container images locally with no registry (debootstrap + docker import);
# it rebuilds only what changed. Names: CHAOSBENCH_BASE_IMAGE, CHAOSBENCH_REFAPI_IMAGE.
images:
	GO=$(GO) bash deploy/images/build.sh

bench-api: build
	$(GO) run ./bench/api

# bench-load compares the load engine with the vegeta CLI and wrk on loopback
# (~2-3 minutes); BENCH_LOAD_FLAGS=-rss60 adds a 60 s run for peak RSS.
bench-load:
	@command -v vegeta >/dev/null || test -x "$$($(GO) env GOPATH)/bin/vegeta" || \
	  $(GO) install github.com/tsenart/vegeta/v12@v12.13.0
	@command -v wrk >/dev/null || apt-get install -y wrk
	$(GO) build -o $(BIN)/bench-load ./bench/load
	$(BIN)/bench-load $(BENCH_LOAD_FLAGS)

clean:
	rm -rf $(BIN)
