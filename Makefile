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
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
DATA ?= paidoc-data
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_BUILD ?= build-fuzz
CRASH_CYCLES ?= 60

.PHONY: all deps build run test e2e crash-loop bench fuzz clean

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
