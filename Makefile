# The two commands a fresh Debian machine needs: `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= 2
CONFIG ?= config/sandbox.toml
# The fuzz targets' clang build, and how long each target runs: FUZZ_TEST_SECONDS in `make test`,
# FUZZ_SECONDS in `make fuzz` (FUZZ_TARGETS, a regular expression, picks targets: json, config...).
FUZZ_DIR ?= build-fuzz
FUZZ_TEST_SECONDS ?= 20
FUZZ_SECONDS ?= 1800
FUZZ_TARGETS ?= .
# How long `make ha-soak` runs its load while the HA cluster's faults take turns.
HA_SOAK_MINUTES ?= 30

.PHONY: setup configure build run deb test lint format bench audit sanitize fuzz-build fuzz ha-soak clean

# Each command installs what it needs (scripts/setup.sh PROFILE, each profile including the one
# before it): run (building and serving), deb, test (every test tool), bench.
setup:
	@bash scripts/setup.sh test

configure: setup
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAYOUTD_TESTS=ON >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

# The server alone, for make run and make deb: a fresh build directory is configured without the
# tests (nor their tools); one that has them keeps them.
define build_server
	@test -f $(BUILD_DIR)/CMakeCache.txt || \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAYOUTD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_DIR) -j$(JOBS) --target payoutd
endef

run:
	@bash scripts/setup.sh run
	$(build_server)
	$(BUILD_DIR)/payoutd serve --config $(CONFIG) --data-dir var

# $(BUILD_DIR)/payoutd_<version>_amd64.deb (packaging/deb/README.md).
deb:
	@bash scripts/setup.sh deb
	$(build_server)
	bash packaging/deb/build.sh $(BUILD_DIR)/payoutd $(BUILD_DIR)

# Format and lint first (scripts/lint.sh; clang-tidy reads the fuzz build's compile commands), then
# the suite, then every fuzz target for FUZZ_TEST_SECONDS.
test: build fuzz-build
	JOBS=$(JOBS) FUZZ_DIR=$(FUZZ_DIR) bash scripts/lint.sh
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)
	cd $(FUZZ_DIR) && FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) \
	  ctest --output-on-failure -j$(JOBS) --timeout $$(($(FUZZ_TEST_SECONDS) + 300))

# clang-tidy over every source instead of the changed ones: `make lint LINT_ALL=1`.
lint: fuzz-build
	JOBS=$(JOBS) FUZZ_DIR=$(FUZZ_DIR) bash scripts/lint.sh

# Rewrites every C++ file of the tree as .clang-format says.
format:
	bash scripts/lint.sh fix

bench:
	@bash scripts/setup.sh bench
	@$(MAKE) --no-print-directory build
	$(BUILD_DIR)/engine_bench
	bash bench/rounds.sh
	BENCH_TLS=1 bash bench/rounds.sh
	python3 bench/backends.py
	python3 bench/cards.py
	python3 bench/networks.py

# The whole suite against an AddressSanitizer + UndefinedBehaviorSanitizer build.
sanitize: setup
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPAYOUTD_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS)

# libFuzzer targets (tests/fuzz/README.md): clang with ASan + UBSan + LeakSanitizer, in $(FUZZ_DIR)/.
fuzz-build: setup
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
	  -DPAYOUTD_FUZZ=ON -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON >/dev/null
	@cmake --build $(FUZZ_DIR) -j$(JOBS)

# Long fuzzing runs: every target (or FUZZ_TARGETS) for FUZZ_SECONDS, $(JOBS) at a time.
fuzz: fuzz-build
	cd $(FUZZ_DIR) && FUZZ_SECONDS=$(FUZZ_SECONDS) \
	  ctest --output-on-failure -j$(JOBS) -R 'fuzz\.($(FUZZ_TARGETS))' --timeout $$(($(FUZZ_SECONDS) + 300))

# The failover soak (tests/e2e/ha_soak.py): two nodes on a Patroni/etcd/haproxy cluster under load
# while its primary is killed, frozen and switched over, an etcd member and haproxy restarted, in
# turns, for HA_SOAK_MINUTES; then every answer is checked against the database. Its figures and
# every request in $(BUILD_DIR)/ha-soak/.
ha-soak: build
	PAYOUTD_BIN=$(abspath $(BUILD_DIR))/payoutd PAYOUTD_CONFIG=$(CURDIR)/config/sandbox.toml \
	  python3 tests/e2e/ha_soak.py --minutes $(HA_SOAK_MINUTES) --out $(BUILD_DIR)/ha-soak

audit:
	@bash scripts/setup.sh run
	$(build_server)
	$(BUILD_DIR)/payoutd audit --config $(CONFIG) --data-dir var

clean:
	rm -rf $(BUILD_DIR) build-asan $(FUZZ_DIR)
