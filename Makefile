# The two commands a fresh Debian machine needs: `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= 2
CONFIG ?= config/sandbox.toml

.PHONY: setup configure build run test bench audit sanitize clean

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/payoutd serve --config $(CONFIG) --data-dir var

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

bench: build
	$(BUILD_DIR)/engine_bench
	bash bench/rounds.sh
	python3 bench/backends.py
	python3 bench/cards.py

# The whole suite against an AddressSanitizer + UndefinedBehaviorSanitizer build.
sanitize: setup
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPAYOUTD_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS)

audit: build
	$(BUILD_DIR)/payoutd audit --config $(CONFIG) --data-dir var

clean:
	rm -rf $(BUILD_DIR) build-asan
