# Entry points for people: `make demo` and `make check`. The build itself is
# CMake; this file installs what is missing and wires up the test server.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build demo check check-asan test-sqlite bench-smoke format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Builds everything and runs the rooms/members demo on a fresh SQLite file.
demo: build
	@scripts/run-demo.sh $(BUILD)

# The whole suite on SQLite and on a throwaway PostgreSQL server, then again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
check: build
	@scripts/with-pg.sh ctest --test-dir $(BUILD) --output-on-failure
	@$(MAKE) --no-print-directory check-asan

check-asan: deps
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DM2M_ASAN=ON -DM2M_UBSAN=ON >/dev/null
	@cmake --build $(BUILD_SAN) -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  scripts/with-pg.sh ctest --test-dir $(BUILD_SAN) --output-on-failure

test-sqlite: build
	@ctest --test-dir $(BUILD) -R sqlite --output-on-failure

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
