# SPDX-License-Identifier: MIT
# Entry points for people: `make demo`, `make check`, `make install`,
# `make deb`. The build itself is CMake; this file installs what is missing
# (scripts/deps.sh) and wires up the test server.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
DEB_OUT    ?= $(BUILD)/deb
# make check builds every part, and treats warnings as errors.
CHECK_FLAGS = -DM2M_BUILD_TESTS=ON -DM2M_WITH_POSTGRESQL=ON -DM2M_WITH_MARIADB=ON \
              -DM2M_WITH_JWT=ON -DM2M_BUILD_TOOL=ON -DM2M_WERROR=ON
# The throwaway servers every ctest run of make check gets.
WITH_SERVERS = scripts/with-pg.sh scripts/with-mariadb.sh

.PHONY: all deps build demo check check-cluster check-deb check-asan test-sqlite install deb \
        format clean

all: build

deps:
	@scripts/deps.sh

# The library with what it finds (every backend and JWT once deps.sh build
# has run), the tool, and the tests where cmocka is installed.
build:
	@scripts/deps.sh build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Only what the demo needs (SQLite, the library, the tool, the demo), built
# quietly: the log is shown only when something fails. Then the story.
demo:
	@mkdir -p $(BUILD)
	@{ scripts/deps.sh demo && \
	   cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo && \
	   cmake --build $(BUILD) -j$(JOBS) --target demo m2m_cli; } \
	   >$(BUILD)/demo-build.log 2>&1 || \
	 { cat $(BUILD)/demo-build.log; echo "demo: the build failed (log: $(BUILD)/demo-build.log)"; exit 1; }
	@scripts/run-demo.sh $(BUILD)

# The whole suite on SQLite and on throwaway PostgreSQL and MariaDB servers
# (with the consumers of an install, tests/consumers), then on a Galera
# cluster (check-cluster), the Debian packages built,
# checked by lintian, installed, used and purged again, then everything
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
check: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CHECK_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@$(WITH_SERVERS) ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)
	@$(MAKE) --no-print-directory check-cluster
	@$(MAKE) --no-print-directory check-deb
	@$(MAKE) --no-print-directory check-asan

# The MariaDB suite and the cluster's own tests on a throwaway three-node
# Galera cluster (scripts/with-galera.sh), each connection on the next node.
check-cluster: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CHECK_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@scripts/with-galera.sh $(BUILD)/m2m_tests --backend galera

# Installs libm2m0, libm2m-dev and m2m-tools (apt-get, as root or through
# sudo) for the time of the check, builds against /usr, and purges them,
# also on failure; an m2m already installed is left alone (run.sh says so).
check-deb: deb
	@sh tests/consumers/run.sh deb $(DEB_OUT) .

check-asan: deps
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DM2M_ASAN=ON -DM2M_UBSAN=ON \
	  $(CHECK_FLAGS) >/dev/null
	@cmake --build $(BUILD_SAN) -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(WITH_SERVERS) ctest --test-dir $(BUILD_SAN) --output-on-failure -j$(JOBS)

test-sqlite: build
	@ctest --test-dir $(BUILD) -R sqlite --output-on-failure

# make install PREFIX=/opt/m2m (default /usr/local); DESTDIR is honoured.
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix $(PREFIX)

# libm2m0, libm2m-dev and m2m-tools in $(DEB_OUT), built by
# dpkg-buildpackage from a copy of the tree, then checked by lintian.
deb:
	@scripts/deps.sh
	@JOBS=$(JOBS) scripts/build-deb.sh $(DEB_OUT)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
