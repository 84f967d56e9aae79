# jdrl: the user's vocabulary. Every process started from here sees the same numeric environment.
# Nothing CPU-specific is set: the numeric core asks oneDNN what the running CPU does best.
export OMP_WAIT_POLICY ?= passive
export OMP_NUM_THREADS ?= $(shell nproc)

SWIFT ?= swift
BIN := .build/release
# A dataset config under configs/datasets/ (empty: the embedded sample the project synthesises itself).
DATASET ?=
CONFIG ?=
ONLY ?=
# The dataset config every target reads (the embedded sample the project synthesises itself if none),
# and the manifest it names.
DATASET_CONFIG := $(or $(DATASET),configs/datasets/embedded.yaml)
MANIFEST ?= $(shell awk '/^manifest:/{print $$2}' $(DATASET_CONFIG))
# Synthesised datasets: jdrl-synth's pairs folder (aligned sharp images and blur maps for make benchmark).
PAIRS ?= $(shell awk '/^  pairs:/{print $$2}' $(DATASET_CONFIG))

.PHONY: all build setup patches pretrain train benchmark benchmark-unseen ablations reevaluate test test-cluster perf clean

all: patches

# System packages (idempotent; needs root or sudo on a fresh Debian machine).
setup:
	@./.ci/install-deps

build:
	$(SWIFT) build -c release

# Synthesise (embedded default only), ingest and tile into data-manifests/<name>.sqlite.
# Every stage skips finished work: a second run does nothing and says so.
# SLURM=1: the same stages as a DAG of Slurm job arrays (pipelines/slurm/patches.sh; TASKS per stage, default 4);
# prints the job ids and returns at once.
SLURM ?=
TASKS ?= 4
patches:
	$(SWIFT) build -c release
	$(if $(SLURM),./pipelines/slurm/patches.sh $(DATASET_CONFIG) $(TASKS),./pipelines/make-patches.sh $(DATASET_CONFIG))

# Stage 1 of two-stage training: fetch the pretraining photos (apt-get download), synthesise exactly aligned
# pairs, tile them and train F on them (configs/pretrain-unet-cpu.yaml unless CONFIG). Resumes like train;
# MAX_STEPS=N runs one round of N steps. The shipped result is pretrained/ (see its README).
PRETRAIN_CONFIG = $(or $(CONFIG),configs/pretrain-unet-cpu.yaml)
pretrain:
	$(SWIFT) build -c release
	MAX_STEPS=$(MAX_STEPS) RUN_NAME=$(RUN_NAME) ./pipelines/pretrain.sh $(PRETRAIN_CONFIG)

# JDRL training (Sources/Training). CONFIG: a training config (default: the CPU-sized JDRL config);
# the manifest is the dataset's (DATASET, default embedded). MAX_STEPS=N stops after N steps with a
# checkpoint; re-running resumes from runs/<name>/checkpoints. RUN_NAME overrides the config's name.
TRAIN_CONFIG = $(or $(CONFIG),configs/jdrl-unet-cpu.yaml)
MAX_STEPS ?=
RUN_NAME ?=
train:
	$(SWIFT) build -c release --product jdrl-train
	$(BIN)/jdrl-train --config $(TRAIN_CONFIG) --manifest $(MANIFEST) \
	  $(if $(MAX_STEPS),--max-steps $(MAX_STEPS)) $(if $(RUN_NAME),--run-name $(RUN_NAME))

# The suites that exercise oneDNN, run a second time under each lower ISA this CPU can imitate:
# an AVX-512 machine also proves the AVX2 path (nChw8c, no Winograd, no bf16); an AVX2 machine has
# no lower cap worth its time (oneDNN 2.6's SSE4.1 backward convolutions are reference kernels).
LOWER_ISAS := $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo AVX2)
NUMERIC_SUITES := TensorsTests|ModelsTests|MetricsTests|TrainingTests.LossGradient|StageTests.EvaluationStage
# One release build serves the tests, the stage tests' executables and every later target: the tests
# are built with the products and with the same flags (no @testable imports, which would make
# `swift test` compile every module a second time, and `make patches` a third).
test:
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build
	@for isa in $(LOWER_ISAS); do \
	  echo "make test: numeric suites again with ONEDNN_MAX_CPU_ISA=$$isa OPENBLAS_CORETYPE=Haswell"; \
	  ONEDNN_MAX_CPU_ISA=$$isa OPENBLAS_CORETYPE=Haswell $(SWIFT) test -c release --skip-build --filter '$(NUMERIC_SUITES)' || exit 1; \
	done

# The Slurm array scripts on a single-node Slurm started here (.ci/install-deps cluster installs it and OpenMPI): the
# merged manifest and every patch and flow file must equal the single-process pipeline's. Then data-parallel
# training under mpirun -n 2 against one process, a killed rank and its rerun (DataParallelTrainingTests).
test-cluster:
	$(SWIFT) build -c release --build-tests
	./pipelines/slurm/test-cluster.sh
	JDRL_MPI_TESTS=1 $(SWIFT) test -c release --skip-build --filter DataParallelTrainingTests

# The fault corpus (docs/reliability.md), long version: the bad-input corpus, concurrency, disk full, and KILLS seeded
# SIGKILLs of ingest/tile/flow/eval/train and reevaluate (about 3.5 min on 2 cores); prints each kill and the tables.
# `make test` runs the same suites with 8 kills. JDRL_KILL_SEED=S replays a schedule.
.PHONY: test-faults reliability
KILLS ?= 60
FAULT_TESTS := BadInputCorpusTests|ManifestAndConfigFaultTests|ConcurrencyTests|DiskFullTests|KillCorpusTests|KillResumeTests|aFileRewritten|aCopyArriving
test-faults:
	$(SWIFT) build -c release --build-tests
	@JDRL_KILLS=$(KILLS) $(SWIFT) test -c release --skip-build --filter '$(FAULT_TESTS)' > .build/test-faults.log 2>&1; status=$$?; \
	  grep -E '^(kill|bad-input corpus|\||✘)' .build/test-faults.log; \
	  grep -E '^✔ Test run|^✘ Test run' .build/test-faults.log; \
	  echo "make test-faults: exit $$status (full log: .build/test-faults.log)"; exit $$status
reliability: test-faults

perf: build
	./pipelines/perf.sh $(ONLY)

RUNS ?= runs
REPORTS ?= reports
INBOX ?=

# Trains nothing: scores each run's newest checkpoint and the blurry input on the test split
# (full resolution, GT and deformed GT; synthesised data also vs the aligned sharp image, whole and
# defocused region) and prints the table with each model's gain over its input; report in
# reports/benchmark/<manifest>/.
benchmark:
	$(SWIFT) build -c release
	@test -f $(MANIFEST) || ./pipelines/make-patches.sh $(DATASET_CONFIG)
	$(BIN)/jdrl-eval --manifest $(MANIFEST) --split test --latest-checkpoints --runs $(RUNS) \
	  $(if $(PAIRS),--pairs $(PAIRS)) --report $(REPORTS)/benchmark/$(basename $(notdir $(MANIFEST)))

# The trained runs scored on pairs synthesised from photos the project never trained on (PHOTOS, default: the
# development photos beside the peers, $JDRL_PEERS/../data/dev-photos, see pipelines/peers-location.sh;
# embedded photos are left out): gain over the input and colour error per image.
PHOTOS ?=
benchmark-unseen: build
	./pipelines/unseen.sh $(PHOTOS)

# The ablation study (docs/results.md): the default, the baseline and the paper's Table 4 ablations at the default's
# budget, scored together (runs/ablations/, reports/ablations/). STEPS=N for a shorter study.
STEPS ?=
ablations: build
	./pipelines/ablations.sh $(STEPS)

# What cron runs (pipelines/crontab.example): ingest INBOX, score what is new, append reports/history/.
# Does not rebuild unless the binaries are missing (cron must not compile).
reevaluate:
	@test -n "$(INBOX)" || { echo "usage: make reevaluate INBOX=DIR"; exit 64; }
	@test -x $(BIN)/jdrl-eval -a -x $(BIN)/jdrl-ingest || $(SWIFT) build -c release
	MANIFEST=$(MANIFEST) RUNS=$(RUNS) REPORTS=$(REPORTS) BIN=$(BIN) ./pipelines/reevaluate.sh $(INBOX)

clean:
	rm -rf .build work-data runs reports data-manifests/*.sqlite*
