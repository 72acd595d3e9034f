# ingestd - plain Makefile.  `make help` lists the targets.
#
# Every library is found with pkg-config.  Missing Debian packages are
# installed with apt-get when make runs as root; otherwise the exact command
# is printed and the build stops.

VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
# /etc whatever the prefix: the units and docs name /etc/ingestd/.
SYSCONFDIR  ?= /etc
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
UNITDIR     ?= $(PREFIX)/lib/systemd/system
DOCDIR      ?= $(PREFIX)/share/doc/ingestd
DESTDIR     ?=

CC          ?= cc
SANITIZE    ?=
comma       := ,
PKGS        := rdkafka libuv libzstd libcjson libsystemd snappy zlib sqlite3
TEST_PKGS   := cmocka

# A sanitizer build lives in its own tree so it never mixes objects.
ifeq ($(SANITIZE),)
BUILD       ?= build
SANFLAGS    :=
else
BUILD       ?= build/san-$(subst $(comma),-,$(SANITIZE))
SANFLAGS    := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# Debian packages: what the build needs, and what the tests need on top.
DEB_BUILD   := pkg-config librdkafka-dev libuv1-dev libzstd-dev libcjson-dev libsystemd-dev libsnappy-dev zlib1g-dev libsqlite3-dev
DEB_TEST    := libcmocka-dev prometheus curl systemd python3

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

OPT         ?= -O2
CFLAGS      ?= $(OPT) -g
ALL_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
               -D_GNU_SOURCE -DINGEST_VERSION='"$(VERSION)"' -Iinclude -MMD -MP \
               $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(SANFLAGS) $(LDFLAGS) -pthread -lm

LIB_SRCS    := $(wildcard daemon/*.c daemon/*/*.c connectors/*.c)
LIB_SRCS    := $(filter-out daemon/main.c,$(LIB_SRCS))
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB         := $(BUILD)/libingestd.a
BIN         := $(BUILD)/ingestd

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS   := $(wildcard tests/tools/*.c)
# Test support (batch builder, scratch dirs) shared by unit tests and tools.
SUPPORT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/support/*.c))
SUPPORT     := $(BUILD)/libtestsupport.a
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
UNITS       := ingestd.service ingestd@.service

.PHONY: all deps deps-test run test test-long install uninstall clean help
# Keep test objects: they are intermediate files make would otherwise delete.
.SECONDARY:
all: deps $(BIN)

help:
	@echo "make             build $(BIN) (installs missing Debian packages as root)"
	@echo "make run         build and run ingestd on config/example.conf (Ctrl-C stops it)"
	@echo "make test        build and run every unit and end-to-end test"
	@echo "make test-long   the long versions (big inputs, kill loops, fuzzing)"
	@echo "make SANITIZE=address,undefined test   the tests under ASan+UBSan"
	@echo "make install PREFIX=/usr/local DESTDIR=   binary, unit files, example config"
	@echo "V=1 shows commands"

# --- Debian packages --------------------------------------------------------
define need_debs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null || \
	      { echo "apt-get install failed for:$$missing" >&2; exit 1; }; \
	  else \
	    echo "missing Debian packages; run:" >&2; \
	    echo "  sudo apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

deps:
	$(call need_debs,$(DEB_BUILD))

# The Parquet reader harness (tests/readers) runs on Node: Debian's nodejs/npm
# unless a node is already on PATH, then `npm ci` there when node_modules is
# missing or older than package-lock.json.  Our registry serves only the
# linux-x64 build of DuckDB's bindings, so the lockfile lacks the other
# platforms' optional packages and `npm ci` may call it out of sync: then
# `npm install --no-save` installs the same locked versions.
NODE_DEBS   := $(if $(shell command -v node 2>/dev/null),,nodejs npm)
READERS     := tests/readers

deps-test: deps
	$(call need_debs,$(DEB_TEST) $(NODE_DEBS))
	@if [ ! -d $(READERS)/node_modules ] || [ $(READERS)/package-lock.json -nt $(READERS)/node_modules ]; then \
	  log=$$(mktemp); \
	  if (cd $(READERS) && if [ -f package-lock.json ]; then \
	        npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund; \
	      else npm install --no-audit --no-fund; fi) >"$$log" 2>&1; then \
	    touch $(READERS)/node_modules; rm -f "$$log"; \
	  else \
	    cat "$$log" >&2; rm -f "$$log"; echo "npm install failed in $(READERS)" >&2; exit 1; \
	  fi; \
	fi

# --- build ------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/obj/daemon/main.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/support $(PKG_CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

$(SUPPORT): $(SUPPORT_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(SUPPORT) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) $(ALL_LDFLAGS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(SUPPORT) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS) $(ALL_LDFLAGS)

# --- run / test -------------------------------------------------------------
run: all
	@mkdir -p var/example/landing
	@if [ ! -d var/example/checkpoint ]; then \
	  cp config/samples/*.json var/example/landing/ && \
	  echo "ingestd: seeded var/example/landing/ with the sample files of config/samples/"; fi
	@echo "ingestd: running config/example.conf in the foreground (Ctrl-C stops it)."
	@echo "  Drop more NDJSON files into var/example/landing/, then look at the table with"
	@echo "    $(BIN) table info var/example/table        (add --json for scripts)"
	@echo "    $(BIN) table history var/example/table"
	@echo "    $(BIN) files --config config/example.conf"
	@echo "    duckdb -c \"INSTALL delta; LOAD delta; SELECT * FROM delta_scan('var/example/table')\""
	@echo "  metrics: curl -s 127.0.0.1:9464/metrics, progress: curl -s 127.0.0.1:9464/status"
	$(BIN) --config config/example.conf

TEST_ENV = INGESTD_BIN=$(abspath $(BIN)) INGESTD_BUILD=$(abspath $(BUILD)) \
           INGESTD_SRC=$(abspath .) INGESTD_SANITIZE=$(SANITIZE)

test: deps-test all $(UNIT_BINS) $(TOOL_BINS)
	$(Q)$(TEST_ENV) tests/run.sh

test-long: deps-test all $(UNIT_BINS) $(TOOL_BINS)
	$(Q)$(TEST_ENV) INGESTD_TEST_LONG=1 tests/run.sh

# --- install ----------------------------------------------------------------
# Unit files carry the install paths, so they are generated here, at
# install time, from whatever PREFIX/BINDIR/SYSCONFDIR this run was given.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/ingestd \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ingestd
	for u in $(UNITS); do \
	  sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/$$u.in \
	    > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 systemd/ingestd.sysusers $(DESTDIR)$(SYSUSERSDIR)/ingestd.conf
	install -m 0644 config/example.conf $(DESTDIR)$(DOCDIR)/example.conf
	install -m 0644 config/pipeline.conf $(DESTDIR)$(DOCDIR)/pipeline.conf
	install -m 0644 systemd/paths.conf.example $(DESTDIR)$(DOCDIR)/paths.conf.example
	@# World-readable like other /etc configs: secrets belong in ${ENV} (see pipeline.conf).
	@[ -e $(DESTDIR)$(SYSCONFDIR)/ingestd/pipeline.conf ] || \
	  install -m 0644 config/pipeline.conf $(DESTDIR)$(SYSCONFDIR)/ingestd/pipeline.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ingestd $(DESTDIR)$(UNITDIR)/ingestd.service $(DESTDIR)$(UNITDIR)/ingestd@.service \
	  $(DESTDIR)$(SYSUSERSDIR)/ingestd.conf
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build

# --- benchmarks (bench/, not timed tests) -------------------------------------
.PHONY: bench bench-parquet bench-delta
bench: $(LIB) $(wildcard bench/*.c)
	@mkdir -p $(BUILD)/bench
	$(Q)for s in bench/*.c; do \
	  $(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(PKG_CFLAGS) -o $(BUILD)/bench/$$(basename $$s .c) $$s $(LIB) $(PKG_LIBS) $(ALL_LDFLAGS) || exit 1; \
	done

bench-parquet: bench
	$(Q)BUILD=$(BUILD) bench/run_parquet.sh

# Delta log: commits/s for small appends, open time of a 10,000-commit table.
BENCH_DIR ?= /tmp/ingestd-bench-delta
bench-delta: bench
	$(Q)rm -rf $(BENCH_DIR) && mkdir -p $(BENCH_DIR) && $(BUILD)/bench/delta_bench $(BENCH_DIR) 1000 10000; \
	  rc=$$?; rm -rf $(BENCH_DIR); exit $$rc

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
