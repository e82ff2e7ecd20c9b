# The two set-up commands of the README, plus helpers. CMake does the build;
# this file only sequences install -> configure -> build -> run/test.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run screenshot test test-fast test-asan bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# The main job on the built-in default: no internet, no account.
run: build
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
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)

# The normal build only (the quick loop while developing).
test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The same suite under AddressSanitizer + UBSan (tests see PT_SANITIZE=1 and
# scale their waits; the lint gate runs only in the normal build).
test-asan: deps
	@[ -f $(ASAN_BUILD)/CMakeCache.txt ] || cmake -S . -B $(ASAN_BUILD) -DPT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

bench: build
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

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
