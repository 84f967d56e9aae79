# jdrl: the user's vocabulary. Every process started from here sees the same numeric environment:
# Debian's OpenBLAS runs SSE3 kernels on this CPU unless OPENBLAS_CORETYPE is set before it loads.
export OPENBLAS_CORETYPE ?= SkylakeX
export OMP_WAIT_POLICY ?= passive
export OMP_NUM_THREADS ?= $(shell nproc)

SWIFT ?= swift
BIN := .build/release
# A dataset config under configs/datasets/ (empty: the embedded sample the project synthesises itself).
DATASET ?=
CONFIG ?=
ONLY ?=

.PHONY: all build setup patches train benchmark reevaluate test perf clean

all: patches

# System packages (idempotent; needs root or sudo on a fresh Debian machine).
setup:
	@./.ci/install-deps

build:
	$(SWIFT) build -c release

# Synthesise (embedded default only), ingest and tile into data-manifests/<name>.sqlite.
# Every stage skips finished work: a second run does nothing and says so.
patches:
	$(SWIFT) build -c release
	./pipelines/make-patches.sh $(or $(DATASET),configs/datasets/embedded.yaml)

test:
	$(SWIFT) build -c release
	$(SWIFT) test -c release

perf: build
	./pipelines/perf.sh $(ONLY)

clean:
	rm -rf .build work-data runs reports data-manifests/*.sqlite*
