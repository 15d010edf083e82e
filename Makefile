# chaosbench — see README.md. Every target is safe to run on a fresh machine.
SHELL := /bin/bash
GO ?= go
BIN := bin
# The full suite must stay well under 20 minutes on 2 cores.
TEST_TIMEOUT ?= 15m

.PHONY: all build test check unit bench-api bench-load bench-declared bench-truth claims clean images tools demo k8s-apiserver \
	k8s-cluster k8s-cluster-down k8s-images k8s-e2e

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# check fails on unformatted code, vet findings and go.mod drift (a direct dependency marked
# indirect, an unused one), before any test runs.
check:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$fmt" ]; then echo "gofmt would change:"; echo "$$fmt"; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	$(GO) vet ./...

# tools installs the Debian packages the images and tests need, only those missing
# (debootstrap builds the base image; tests start real redis-server and postgres processes and run curl;
# xmllint validates the JUnit XML against its schema; the dashboard's test watches it in headless chromium).
TOOLS := debootstrap:debootstrap redis-server:redis-server curl:curl xmllint:libxml2-utils \
	/usr/lib/postgresql/15/bin/postgres:postgresql-15 chromium:chromium
tools:
	@missing=""; for t in $(TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t##*:}"; done; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" != 0 ]; then echo "install:$$missing (apt-get install -y$$missing)"; exit 1; fi; \
	    echo "installing$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi

# demo builds what it needs and runs the headline scenario: three architectures under packet loss and a
# node kill, scaled to fit in about two minutes. Exit 3 (thresholds failed) is the expected verdict:
# the stateful designs do lose sessions and duplicate orders.
DEMO_SCALE ?= 0.7
demo: tools images build
	@$(BIN)/chaosbench run compare-architectures --scale $(DEMO_SCALE); rc=$$?; \
	  if [ $$rc -eq 3 ]; then echo "(exit 3: some architectures failed their thresholds, which is what this comparison shows)"; exit 0; fi; \
	  exit $$rc

# test is what CI runs: formatting, vet, then every test with the race detector (Docker tests included;
# they fail in CI when Docker is missing, and need the images) and, beside it, a pass without the detector
# over two kinds of packages:
#  - those whose tests run a measured load against a stack (dockertest.RequireLoad, which skips under -race:
#    a race-built harness measures the detector, internal/dockertest says by how much);
#  - those that link client-go (the CLI and k8srun): its race build alone took ~2 min of this 2-core machine's
#    wall time in a cold cache (k8srun 438 s against runner's 314 s, side by side), and took make test from
#    ~9.5 to ~14 min. Their concurrency beyond the coordinator's own is that of load, runner and chaos, which
#    the race pass covers; k8srun's was run under -race by hand when written.
# The two passes run at once, as those tests ran beside the other packages before (one after the other: ~13 min
# here); the second pass's output follows the first's. In it the client-go packages go after the load packages,
# never beside them: with the CLI's Docker tests beside runner's, a fault's sidecar took over 5 s to start and
# TestAttachToCompose's packet-loss missed its window (the run was rightly invalid, the test failed).
# TESTFLAGS adds flags (TESTFLAGS=-v keeps every test's log: the Docker tests log the counts they assert on).
TESTFLAGS ?=
LOAD_TEST_PKGS = $(sort $(addprefix ./,$(dir $(shell git ls-files '*_test.go' | xargs grep -l 'dockertest\.RequireLoad'))))
CLIENTGO_PKGS = ./cmd/chaosbench/ ./k8srun/
NORACE_PKGS = $(LOAD_TEST_PKGS) $(CLIENTGO_PKGS)
RACE_PKGS = $(shell $(GO) list ./... | grep -v -e '/cmd/chaosbench$$' -e '/k8srun$$')
test: tools images check
	@out=$$(mktemp); \
	  { $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $(LOAD_TEST_PKGS) && \
	    $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $(CLIENTGO_PKGS); } >$$out 2>&1 & norace=$$!; \
	  $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $(RACE_PKGS); race=$$?; \
	  wait $$norace; noracerc=$$?; \
	  echo "== without the race detector (dockertest.RequireLoad, client-go): $(NORACE_PKGS)"; cat $$out; rm -f $$out; \
	  [ $$race -eq 0 ] && [ $$noracerc -eq 0 ]

# k8s-apiserver runs kube-apiserver's own create-time validation on k8s render's golden manifests
# (docs/kubernetes.md). A module of its own (it imports k8s.io/kubernetes): not part of `make test`, as its
# first build takes about 5 minutes on 2 cores.
k8s-apiserver:
	cd k8s/apiserver && $(GO) test -count=1 ./...

# k8s-cluster brings up a single-node Kubernetes on this machine from upstream components, offline
# (docs/kubernetes.md, "A cluster on this machine"): etcd and Kubernetes v1.37.2 built from the Go module
# proxy, its own containerd (Debian's), CNI bridge, CoreDNS, the images of `make images`. Returns when the node
# is Ready, CoreDNS answers and a smoke Job completed; the kubeconfig is build/k8s-cluster/admin.kubeconfig.
# Needs root and the images of `make images` (it does not build them). Outside `make test`. Time: the first
# run builds the binaries: 44 min here on a busy 2-core machine (25 min of CPU); then 25 s from down, 7 s when up.
k8s-cluster:
	GO=$(GO) bash deploy/k8s-cluster/up.sh

# k8s-cluster-down stops it and removes its pods, bridge, KUBE-*/CNI-* iptables chains and state (binaries,
# certificates and images stay). Safe to run twice. About 16 s.
k8s-cluster-down:
	bash deploy/k8s-cluster/down.sh

# k8s-images (re)imports the images into the running cluster's containerd; K8S_EXTRA_IMAGES="img:tag ..."
# adds your own Docker images. About 2 s when nothing changed.
k8s-images:
	GO=$(GO) bash deploy/k8s-cluster/images.sh

# k8s-e2e runs `chaosbench k8s run` on the cluster of `make k8s-cluster`: kill-node from 3 loader pods and
# a user's image (naiveshop, k8srun/testdata/naiveshop-kill.yaml) from 2, beside kill-node in Docker from one
# process twice, and checks them (k8srun/e2e_test.go: planned = sent + dropped per worker, the kill seen by
# the checkers as in Docker, latency within the Docker runs' spread, no namespace left). The side-by-side
# table is written to $(K8S_E2E_OUT)/side-by-side.md. The pods run CHAOSBENCH_LOADER_IMAGE (default
# chaosbench/loader:dev), which must be this tree's chaosbench and be in the cluster (make k8s-images).
# About 4 minutes (4m13s here). Outside `make test`.
K8S_KUBECONFIG ?= build/k8s-cluster/admin.kubeconfig
K8S_E2E_OUT ?= build/k8s-e2e
k8s-e2e: build
	@test -r $(K8S_KUBECONFIG) || { echo "k8s-e2e: no kubeconfig at $(K8S_KUBECONFIG): run make k8s-cluster first, or give K8S_KUBECONFIG"; exit 2; }
	rm -rf $(K8S_E2E_OUT) && mkdir -p $(K8S_E2E_OUT)
	CHAOSBENCH_K8S_E2E=1 KUBECONFIG=$(abspath $(K8S_KUBECONFIG)) CHAOSBENCH_BIN=$(abspath $(BIN)/chaosbench) \
	  CHAOSBENCH_E2E_OUT=$(abspath $(K8S_E2E_OUT)) $(GO) test -count=1 -v -timeout 20m -run TestClusterEndToEnd ./k8srun/

# images builds the stack's container images locally with no registry (debootstrap + docker import);
# it rebuilds only what changed. Names: CHAOSBENCH_BASE_IMAGE, CHAOSBENCH_REFAPI_IMAGE.
images: tools
	GO=$(GO) bash deploy/images/build.sh

bench-api: build
	$(GO) run ./bench/api

# bench-load compares the load engine with the vegeta CLI, k6 and wrk on loopback, each its own process (about
# 7 minutes, under 8): sustained rate (median of three trials per rung, warmed), past the limit, CPU per request
# and peak RSS from each loader's rusage, p99 at 3000/s, the latency floor at 400/1000/2000/s with ours' breakdown
# (`load-engine p50 floor at 1000/s: ...`); the last line is the sustained-rate ratio.
# Installs what is missing: vegeta and k6 (go install, k6 builds in about 2 minutes), wrk (apt).
# BENCH_LOAD_FLAGS=-rss60 adds two 60 s runs for peak RSS; docs/benchmarks.md explains every line.
bench-load:
	@command -v vegeta >/dev/null || test -x "$$($(GO) env GOPATH)/bin/vegeta" || \
	  $(GO) install github.com/tsenart/vegeta/v12@v12.13.0
	@command -v k6 >/dev/null || test -x "$$($(GO) env GOPATH)/bin/k6" || \
	  { echo "building k6 v0.54.0 from the module proxy (about 2 minutes)"; $(GO) install go.k6.io/k6@v0.54.0; }
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(GO) build -o $(BIN)/bench-load ./bench/load
	$(BIN)/bench-load $(BENCH_LOAD_FLAGS)

# bench-declared compares the engine's CPU per request through the built-in order.create and through the same
# request declared in a scenario (internal/benchorders), at the same rate against a minimal orders API in its
# own process, alternated over several rounds (about 50 s); the last line is
# `declared-op cpu per request: builtin=Xus declared=Yus ratio=Z` (goal: ratio at most 1.2; docs/benchmarks.md).
# BENCH_DECLARED_FLAGS="-rate 2000 -rounds 9" changes the runs.
bench-declared:
	$(GO) build -o $(BIN)/bench-declared ./bench/declared
	$(BIN)/bench-declared $(BENCH_DECLARED_FLAGS)

# bench-truth freezes a trivial server (SIGSTOP) for S seconds in the middle of a 10 s constant-rate run, at
# 400/s S=2s, 1000/s S=1s and 2000/s S=2s, and compares the p99 and the dropped requests of our engine and of
# the vegeta CLI with the analytical p99 and a witness client, then where ours' latency goes at each rung
# (about 1 minute; docs/benchmarks.md).
bench-truth:
	@command -v vegeta >/dev/null || test -x "$$($(GO) env GOPATH)/bin/vegeta" || \
	  $(GO) install github.com/tsenart/vegeta/v12@v12.13.0
	$(GO) build -o $(BIN)/bench-truth ./bench/truth
	$(BIN)/bench-truth $(BENCH_TRUTH_FLAGS)

clean:
	rm -rf $(BIN)

# claims runs the catalogue scenarios that test the seeds' claims and rewrites docs/claims.md with the
# verdicts and numbers of this run (a minute or two per scenario; CLAIMS_SCALE shortens them).
CLAIMS_SCALE ?= 1
claims: tools images
	$(GO) run ./bench/claims --scale $(CLAIMS_SCALE)
