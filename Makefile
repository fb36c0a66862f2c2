# ringfence — a plain Makefile.
#
#   make deps     install the Debian packages needed to build and test
#   make          build ./ringfence
#   make demo     build, then show a command sandboxed
#   make check    build and run every test (unit, escape, integration)
#   make asan     the same suite on an ASan+UBSan build
#   make install  PREFIX=/usr/local DESTDIR=
#   make bench    startup figures (bench/startup.sh)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/ringfence
DESTDIR ?=
BUILD ?= build
BIN ?= ringfence

CC ?= cc
WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wswitch-enum -Wimplicit-fallthrough
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE -ftrivial-auto-var-init=zero
OPT ?= -O2 -g
SAN ?=
CFLAGS_ALL := -std=gnu17 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SAN) -MMD -MP $(CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now,-z,noexecstack $(SAN) $(LDFLAGS)
LIBS := -lseccomp -lcap-ng -linih

POLICY_SRC := policy/parse.c policy/expand.c policy/print.c
LANDLOCK_SRC := landlock/landlock.c landlock/plan.c
SUPERVISOR_SRC := supervisor/cli.c supervisor/util.c supervisor/run.c supervisor/child.c \
	supervisor/init.c supervisor/seccomp.c supervisor/privdrop.c supervisor/env.c \
	supervisor/mounts.c supervisor/probe.c supervisor/audit.c supervisor/layers.c \
	supervisor/explain.c
LIB_SRC := $(POLICY_SRC) $(LANDLOCK_SRC) $(SUPERVISOR_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/default_policy.o

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
ESCAPES := $(patsubst tests/escape/%.c,$(BUILD)/escape/%,$(wildcard tests/escape/*.c)) \
	$(BUILD)/escape/deny_ns

# Debian packages: build, then test.
DEPS_BUILD := gcc make pkg-config libseccomp-dev libcap-ng-dev libinih-dev
DEPS_TEST := libcmocka-dev python3-pytest curl openssl util-linux iproute2 hyperfine time
HEADERS := /usr/include/seccomp.h /usr/include/cap-ng.h /usr/include/ini.h
TEST_HEADERS := /usr/include/cmocka.h /usr/bin/pytest-3

.PHONY: all deps deps-if-missing demo check unit escape integration asan install clean \
	format format-check bench

all: $(BIN)

$(BIN): $(BUILD)/supervisor/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# The default policy is compiled in from policies/default.ini.
$(BUILD)/default_policy.c: policies/default.ini
	@mkdir -p $(dir $@)
	{ printf '/* generated from policies/default.ini */\nconst char policy_default_text[] =\n'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; printf ';\n'; } > $@
$(BUILD)/default_policy.o: $(BUILD)/default_policy.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(LIB_OBJ) $(LDFLAGS_ALL) $(LIBS) -lcmocka

# Escape programs run inside the sandbox; they are plain and self-contained.
$(BUILD)/escape/%: tests/escape/%.c tests/escape/escape.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O1 -g -Wall -Wextra -Werror $(SAN) -o $@ $< $(SAN)

# Test harness: runs a command with namespace creation refused, as container
# runtimes' default seccomp profiles do.
$(BUILD)/escape/deny_ns: tests/harness/deny_ns.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O1 -g -Wall -Wextra -Werror -o $@ $<

deps:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make deps: run as root, or: sudo apt-get install -y $(DEPS_BUILD) $(DEPS_TEST)"; exit 1; fi
	apt-get update -q || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEPS_BUILD) $(DEPS_TEST)

deps-if-missing:
	@for f in $(HEADERS) $(TEST_HEADERS); do \
		[ -e $$f ] || { echo "missing $$f: installing dependencies"; $(MAKE) --no-print-directory deps; exit $$?; }; \
	done

demo: deps-if-missing
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh ./$(BIN)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

escape: $(ESCAPES)

integration: $(BIN) $(ESCAPES)
	RINGFENCE=$(abspath $(BIN)) ESCAPE_DIR=$(abspath $(BUILD)/escape) \
		pytest-3 -q -ra tests/integration

check: deps-if-missing
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

asan: deps-if-missing
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/ringfence OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		HARDEN="-fPIE" check

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/policies
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ringfence
	install -m 0644 policies/*.ini $(DESTDIR)$(DATADIR)/policies/

bench: $(BIN)
	sh bench/startup.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
