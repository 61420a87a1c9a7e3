# The two commands of the README: `make demo` and `make test`. Both install
# what is missing first, so a fresh Debian 12 machine needs nothing else.
JOBS ?= $(shell nproc)
BUILD ?= build
CAIRN := $(BUILD)/cairn
DEMO_DIR ?= demo
DEMO_PERSONS ?= 20000

.PHONY: deps build demo test test-asan fuzz bench clean

deps:
	@bash scripts/install-deps.sh

# Release, with profile-guided optimisation (scripts/build.sh; the first
# build also builds and trains an instrumented binary in $(BUILD)-pgo).
build: deps
	@JOBS=$(JOBS) bash scripts/build.sh $(BUILD)

demo: build
	@bash scripts/demo.sh $(CAIRN) $(DEMO_DIR) $(DEMO_PERSONS)

test: deps
	@bash scripts/test.sh

fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} bash scripts/fuzz.sh

bench: build
	@bash bench/run.sh

clean:
	rm -rf build build-pgo build-asan build-fuzz demo
