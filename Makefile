# The two set-up commands of the README, plus helpers. CMake does the build;
# this file only sequences install -> configure -> build -> run/test.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run screenshot test test-fast test-asan build-matrix bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# The main job on the built-in default: no internet, no account. Quiet and
# quick: only the papertrader target, build output only when it fails.
run: deps
	@mkdir -p $(BUILD); log=$(BUILD)/make-run.log; \
	{ [ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) $(CMAKE_FLAGS); } >$$log 2>&1 && \
	  cmake --build $(BUILD) -j $(JOBS) --target papertrader >>$$log 2>&1 || \
	  { cat $$log; echo "make run: the build failed (log: $$log)"; exit 1; }
	@scripts/run-default.sh $(BUILD)

# docs/img/dashboard.png: the demo's dashboard in headless Chromium (the
# README's picture). CASE=btc or CASE=two write build/test-artifacts/ instead.
CASE ?= demo
screenshot: build
	@node scripts/screenshot.mjs --build $(BUILD) --case $(CASE)

# The whole suite, twice: the normal build, then the same tests under
# AddressSanitizer + UBSan; then every libFuzzer target for a short time
# (issue 6: CI runs all three through this target).
FUZZ_CI_SECONDS ?= 10
test: test-fast
	@$(MAKE) --no-print-directory build-matrix
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)

# The normal build only (the quick loop while developing).
test-fast: build
	@PT_WITH_TEST_TOOLS=1 scripts/install-deps.sh
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The same suite under AddressSanitizer + UBSan (tests see PT_SANITIZE=1 and
# scale their waits; the lint gate runs only in the normal build).
test-asan: deps
	@[ -f $(ASAN_BUILD)/CMakeCache.txt ] || cmake -S . -B $(ASAN_BUILD) -DPT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# Build-only: the binary and the unit tests compile with -Werror in the
# other configurations too (gcc Release, clang Debug); each its own folder,
# incremental after the first time (re-configured each time: new unit tests
# are picked up). Output only on failure.
MATRIX_BUILD ?= build-matrix
MATRIX ?= gcc:Release clang:Debug
UNIT_TARGETS = $(basename $(notdir $(wildcard tests/unit/test_*.c)))
build-matrix: deps
	@set -e; for m in $(MATRIX); do cc=$${m%%:*}; type=$${m#*:}; d=$(MATRIX_BUILD)/$$cc-$$type; \
	  log=$$d.log; mkdir -p $(MATRIX_BUILD); \
	  if CC=$$cc cmake -S . -B $$d -DCMAKE_BUILD_TYPE=$$type >$$log 2>&1 && \
	     cmake --build $$d -j $(JOBS) --target papertrader $(UNIT_TARGETS) >>$$log 2>&1; then \
	    echo "build-matrix: $$cc $$type ok"; \
	  else cat $$log; echo "build-matrix: $$cc $$type FAILED (log: $$log)"; exit 1; fi; done

bench: build
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(MATRIX_BUILD)

# Fuzzing (clang + libFuzzer + ASan/UBSan): each tests/fuzz target for
# FUZZ_SECONDS (default 60) in build-fuzz. docs/hardening.md.
FUZZ_SECONDS ?= 60
fuzz:
	@PT_WITH_FUZZ=1 scripts/install-deps.sh
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) scripts/fuzz.sh

# Static analysis: cppcheck with scripts/cppcheck-suppressions.txt.
.PHONY: lint
lint:
	@JOBS=$(JOBS) scripts/lint.sh

# Long soak of the dashboard server (not in ctest): SOAK_SECONDS (default 1800).
# tests/soak/README.md, docs/faults.md.
.PHONY: soak
soak: build
	tests/soak/soak.sh $(BUILD)
