# fallout: build, test and check.
#
#   make            build bin/fallout
#   make run        install what is missing, build, run the quickstart
#   make test       install what is missing, build, run every test (unit and end-to-end)
#   make sanitize   build with ASan and UBSan and run the unit tests
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make deps       install missing Debian packages (a fast no-op when all are present)
#
# BUILD selects the variant: release (default) or asan. Objects go to build/$(BUILD)/.

BUILD ?= release
O := build/$(BUILD)

CC ?= cc
PKGS := yaml-0.1 jansson libpcre2-8 zlib libsodium
# Headers only, never linked: libcurl, libssh, libmicrohttpd, sqlite3 and libzip are loaded
# on first use (src/spec/files.c, src/util/ssh.c, src/server/); linking them slows the
# start-up of every fallout command (libmicrohttpd brings GnuTLS: +2 ms).
LAZY_PKGS := libcurl libssh libmicrohttpd sqlite3 libzip
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=c17 $(WARN) -Isrc -Ibuild/gen -MMD -MP -D_GNU_SOURCE
ifeq ($(BUILD),asan)
  VARIANT_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  VARIANT_LDFLAGS := -fsanitize=address,undefined
else
  VARIANT_CFLAGS := -O2 -g
  VARIANT_LDFLAGS :=
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(VARIANT_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(VARIANT_LDFLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

LIB_SRCS := $(shell find src -name '*.c' ! -path 'src/cli/main.c' | sort)
# Generated sources (build/gen/): the HTML report's assets.
GEN_SRCS := build/gen/report_assets.c
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o) $(GEN_SRCS:%.c=$(O)/%.o)
FIXTURE_SRCS := $(shell find tests/fixtures -name '*.c' ! -name 'main.c' 2>/dev/null | sort)
FIXTURE_OBJS := $(FIXTURE_SRCS:%.c=$(O)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
UNIT_SUPPORT_SRCS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
UNIT_SUPPORT_OBJS := $(UNIT_SUPPORT_SRCS:%.c=$(O)/%.o)
LIBFALLOUT := $(O)/libfallout.a

ifeq ($(BUILD),release)
  FALLOUT_BIN := bin/fallout
else
  FALLOUT_BIN := $(O)/bin/fallout
endif
FALLOUT_TEST_BIN := $(O)/bin/fallout-test

.PHONY: all deps run test unit e2e sanitize fuzz clean docs check-docs
.DEFAULT_GOAL := all

all: $(FALLOUT_BIN) $(FALLOUT_TEST_BIN)

deps:
	@scripts/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The version: the release number plus the commit, rewritten only when it changes.
VERSION_BASE := 0.1.0
VERSION_GIT := $(shell git describe --always --dirty 2>/dev/null)
FO_VERSION_STR := $(VERSION_BASE)$(if $(VERSION_GIT), ($(VERSION_GIT)))
$(shell mkdir -p build/gen && echo '#define FO_VERSION "$(FO_VERSION_STR)"' > build/gen/version.h.new && \
	(cmp -s build/gen/version.h.new build/gen/version.h || mv build/gen/version.h.new build/gen/version.h); \
	rm -f build/gen/version.h.new)

# The HTML performance report's assets (src/report/html.c): uPlot, pinned by
# web/package-lock.json and fetched by `npm ci` at build time (web/node_modules is never
# committed), and our web/report.js and report.css, embedded as C byte arrays by
# scripts/embed.py. The stamp reruns `npm ci` when the package files change; flock keeps
# two builds (BUILD=release and asan at once) from installing over each other.
WEB_STAMP := web/node_modules/.fallout-npm-ci
UPLOT_DIR := web/node_modules/uplot
REPORT_ASSETS := uplot_js=$(UPLOT_DIR)/dist/uPlot.iife.min.js uplot_css=$(UPLOT_DIR)/dist/uPlot.min.css \
	uplot_license=$(UPLOT_DIR)/LICENSE report_js=web/report.js report_css=web/report.css

$(WEB_STAMP): web/package.json web/package-lock.json
	@mkdir -p build
	flock build/.npm-ci.lock sh -c 'test -f $@ -a $@ -nt web/package-lock.json -a $@ -nt web/package.json || \
		{ npm ci --prefix web --no-audit --no-fund --loglevel=error && touch $@; }'

build/gen/report_assets.c build/gen/report_assets.h &: scripts/embed.py $(WEB_STAMP) web/report.js web/report.css
	@mkdir -p build/gen
	/usr/bin/python3 scripts/embed.py build/gen/report_assets.c build/gen/report_assets.h $(REPORT_ASSETS)

$(O)/src/report/html.o build/fuzz/src/report/html.o: build/gen/report_assets.h

$(LIBFALLOUT): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(FALLOUT_BIN): $(O)/src/cli/main.o $(LIBFALLOUT)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The same program with Fallout's test-only fixture components, for the end-to-end tests.
$(FALLOUT_TEST_BIN): $(O)/tests/fixtures/main.o $(FIXTURE_OBJS) $(LIBFALLOUT)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# Static pattern rules: their objects are explicit, never "intermediate" files that make
# would delete or fail to rebuild.
$(UNIT_BINS): $(O)/tests/%: $(O)/tests/unit/%.o $(UNIT_SUPPORT_OBJS) $(FIXTURE_OBJS) $(LIBFALLOUT)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

unit: $(UNIT_BINS)
	@/usr/bin/python3 tests/run.py --unit $(UNIT_BINS)

e2e: all
	@FALLOUT=$(abspath $(FALLOUT_BIN)) FALLOUT_TEST=$(abspath $(FALLOUT_TEST_BIN)) \
		/usr/bin/python3 tests/run.py --e2e tests/e2e

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/quickstart.sh $(FALLOUT_BIN)

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@FALLOUT=$(abspath $(FALLOUT_BIN)) FALLOUT_TEST=$(abspath $(FALLOUT_TEST_BIN)) \
		/usr/bin/python3 tests/run.py --unit $(UNIT_BINS) --e2e tests/e2e

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=asan all-asan

.PHONY: all-asan
all-asan: all $(UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		FALLOUT=$(abspath $(FALLOUT_BIN)) FALLOUT_TEST=$(abspath $(FALLOUT_TEST_BIN)) \
		/usr/bin/python3 tests/run.py --unit $(UNIT_BINS) --e2e tests/e2e

# libFuzzer targets (clang): fuzz/fuzz_<name>.c, each linked with the library built for fuzzing.
FUZZ_SECONDS ?= 60
FUZZ_CC := clang
FUZZ_O := build/fuzz
FUZZ_CFLAGS := -std=c17 -g -O1 -Isrc -Ibuild/gen -D_GNU_SOURCE -MMD -MP -fsanitize=fuzzer-no-link,address,undefined \
	$(PKG_CFLAGS)
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(FUZZ_O)/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_O)/%.o) $(GEN_SRCS:%.c=$(FUZZ_O)/%.o)

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BINS): $(FUZZ_O)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(filter %.c %.o,$^) -o $@ $(LIBS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

docs: all
	@scripts/gen-docs.sh $(FALLOUT_BIN)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
