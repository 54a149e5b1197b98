# paidoc: `make` builds build/paidoc; `make run` serves the demo on
# http://127.0.0.1:8080; `make test` runs every test. Each first installs the
# Debian packages that are missing (scripts/install-deps.sh, idempotent).
# `make test` also starts a throw-away PostgreSQL for the tests of that backend.
# `make e2e` runs the browser journeys (tests/e2e) alone; screenshots go to
# $(BUILD)/e2e-artifacts/. `make fuzz` builds the libFuzzer targets of fuzz/
# with clang in their own build directory and runs each for FUZZ_SECONDS
# (fuzz/README.md). `make crash-loop` runs the long crash loop
# (tests/crash): 60 cycles (CRASH_CYCLES=N), each a SIGKILL of the server,
# `paidoc import` or `paidoc wallet credit` under load, then checks; it
# prints its seed (PAIDOC_CRASH_SEED=N replays it) and a summary.
# `make test-asan` builds the program and its tests with AddressSanitizer and
# UndefinedBehaviorSanitizer in $(ASAN_BUILD) and runs every test there but
# the browser journeys; CI (.ci/run) runs it after `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
DATA ?= paidoc-data
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_BUILD ?= build-fuzz
CRASH_CYCLES ?= 60

.PHONY: all deps build run test test-asan e2e crash-loop bench fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $$(nproc)

run: build
	$(BUILD)/paidoc serve --demo --data $(DATA) --listen $(LISTEN)

# The tests run beside a throw-away PostgreSQL (scripts/with-postgres.sh:
# initdb in a temp folder, 127.0.0.1, a random port, stopped afterwards even
# on failure), so every store and service suite runs on both backends.
test: build
	@bash scripts/install-deps.sh --test
	cd $(BUILD) && ../scripts/with-postgres.sh ctest --output-on-failure -j $$(nproc)

# -O1 and line tables only (the tests' own code at -O0): the sanitizers need
# no more. Leaks in the libraries paidoc links (never in paidoc's code) are
# suppressed by tests/sanitizers/lsan.supp. Each test binary runs as a few
# GoogleTest shards rather than a process per test (CMakeLists.txt,
# PAIDOC_TEST_SHARDS), as in `make test`.
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:check_initialization_order=1:strict_init_order=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0

$(ASAN_BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
	  -DPAIDOC_SANITIZE=ON

test-asan: deps $(ASAN_BUILD)/build.ninja
	@bash scripts/install-deps.sh --test
	cmake --build $(ASAN_BUILD) -j $$(nproc)
	cd $(ASAN_BUILD) && $(SANITIZER_ENV) ../scripts/with-postgres.sh ctest --output-on-failure -j $$(nproc)

e2e: build
	@bash scripts/install-deps.sh --test
	PAIDOC_BIN=$(BUILD)/paidoc PAIDOC_DOCX=$(BUILD)/e2e_docx PAIDOC_GATEWAYS=$(BUILD)/e2e_gateways E2E_ARTIFACTS=$(BUILD)/e2e-artifacts \
	  node tests/e2e/run.mjs

# `make test` runs a short crash loop (ctest's CrashLoopTest, 9 cycles); this
# one runs CRASH_CYCLES and prints its summary at the end.
crash-loop: build
	PAIDOC_CRASH_CYCLES=$(CRASH_CYCLES) $(BUILD)/crash_tests

bench: build
	bash bench/page/run.sh

# Every target for FUZZ_SECONDS each, or FUZZ_TARGETS="fuzz_source fuzz_http";
# non-zero exit on any finding (scripts/fuzz.sh).
fuzz:
	@bash scripts/install-deps.sh --fuzz
	FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_TARGETS="$(FUZZ_TARGETS)" FUZZ_BUILD="$(FUZZ_BUILD)" \
	  bash scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
