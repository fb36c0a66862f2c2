# ringfence — a plain Makefile.
#
#   make deps     install the Debian packages needed to build and test
#   make          build ./ringfence
#   make demo     build, then show a command sandboxed
#   make check    build and run every test (unit, escape, integration)
#   make check-containers  ringfence as a podman (runc) ENTRYPOINT in four settings
#   make asan     the same suite on an ASan+UBSan build
#   make check-agents  the agent CLIs under their shipped policies (tests/agents)
#   make install  PREFIX=/usr/local DESTDIR= (the binary, policies, man pages)
#   make man-check  render the man pages; any warning fails (part of check)
#   make bench    startup figures (bench/startup.sh)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/ringfence
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD ?= build
BIN ?= ringfence

CC ?= cc
WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wswitch-enum -Wimplicit-fallthrough
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE -ftrivial-auto-var-init=zero
OPT ?= -O2 -g
# Inlining that grows a frame is held back: the exit's git checks inlined
# their helpers' PATH_MAX buffers into ~50 KB frames, and each new page of
# stack is a page fault (~20 us on some virtual machines).  -20 faults a
# start, -0.5 ms with namespaces (bench/startup_ab.sh, bench/faults.sh).
STACK := -fconserve-stack
SAN ?=
# A section per function and per object, for the layout below (build/layout.ld)
LAYOUT := -ffunction-sections -fdata-sections
CFLAGS_ALL := -std=gnu17 -D_GNU_SOURCE $(OPT) $(STACK) $(LAYOUT) $(WARN) $(HARDEN) $(SAN) -MMD -MP \
	$(CFLAGS)
# (as HARDEN: a make argument may change it, the environment may not)
LINK_HARDEN := -pie -Wl,-z,relro,-z,now
LDFLAGS_ALL := $(LINK_HARDEN) -Wl,-z,noexecstack $(SAN) $(LDFLAGS)
# The small libraries are linked statically (Debian ships the archives):
# resolving their symbols at every start cost more than their code.
# OpenSSL is the distribution's, loaded dynamically: the proxy terminates
# TLS, and a security fix in libssl3 must reach it without a rebuild.  It is
# not linked (no DT_NEEDED): mapping and relocating it at every start cost
# ~0.6 ms, so netproxy/ossl.c dlopens libssl.so.3 only when a run intercepts
# TLS.  The unit tests call OpenSSL themselves and link it.
# zlib: githeads.c reads the loose objects a run made
LIBS := -Wl,-Bstatic -lseccomp -lcap-ng -linih -lcares -lz -Wl,-Bdynamic -ldl -lpthread
SSL_LIBS := -lssl -lcrypto

POLICY_SRC := policy/parse.c policy/parse_keys.c policy/parse_values.c policy/parse_net.c \
	policy/expand.c policy/print.c policy/httprule.c
LANDLOCK_SRC := landlock/landlock.c landlock/plan.c
NETPROXY_SRC := netproxy/rules.c netproxy/http.c netproxy/socks.c netproxy/proxy.c \
	netproxy/cred.c netproxy/cred_detect.c netproxy/tls.c netproxy/trust.c netproxy/scrub.c \
	netproxy/scan.c netproxy/budget.c
NETPROXY_SRC += netproxy/sniff.c netproxy/loop.c netproxy/buf.c netproxy/side.c netproxy/answer.c \
	netproxy/front.c netproxy/accept.c netproxy/dial.c netproxy/forward.c netproxy/reflect.c netproxy/tunnel.c \
	netproxy/intercept.c netproxy/decide.c netproxy/ossl.c netproxy/names.c \
	netproxy/nameserver.c netproxy/capture.c netproxy/refresh.c netproxy/spliced.c \
	netproxy/resume.c
COMMON_SRC := common/util.c common/audit.c
SUPERVISOR_SRC := supervisor/cli.c supervisor/util.c supervisor/run.c supervisor/runloop.c supervisor/seccomp.c supervisor/seccomp_table.c supervisor/seccomp_notify.c \
	supervisor/env.c supervisor/probe.c supervisor/layers.c supervisor/layers_fs.c \
	supervisor/explain.c supervisor/broker.c supervisor/broker_caller.c supervisor/broker_mediated.c supervisor/creds.c supervisor/unixsock.c \
	supervisor/protect.c supervisor/protect_gather.c supervisor/protect_names.c supervisor/protect_python.c supervisor/pymodules.c supervisor/moveaside.c \
	supervisor/placeholder.c supervisor/gitlinks.c supervisor/gitobj.c supervisor/gitobj_pack.c supervisor/gitcheck.c supervisor/githeads.c supervisor/githeads_index.c supervisor/gittrees.c supervisor/gitreach.c supervisor/gitrefs.c supervisor/gitlogs.c supervisor/gitscan.c supervisor/gitscan_modes.c supervisor/gitscan_gitdir.c supervisor/gitconfig.c supervisor/gitconfig_files.c supervisor/hookconf.c \
	supervisor/state.c supervisor/state_seed.c supervisor/seed_json.c supervisor/protwatch.c supervisor/protwatch_found.c supervisor/protwatch_config.c \
	supervisor/journal.c \
	supervisor/fsgate.c supervisor/fsgate_call.c supervisor/attrgate.c supervisor/fstrace.c supervisor/fstrace_view.c supervisor/fstrace_report.c \
	supervisor/learn.c supervisor/learn_from.c supervisor/learn_write.c supervisor/secretcmd.c \
	supervisor/learngroup.c
# What runs in init and in the command's process before exec (sandbox/README.md).
SANDBOX_SRC := sandbox/init.c sandbox/child.c sandbox/mounts.c sandbox/mounts_grants.c sandbox/privdrop.c \
	sandbox/gitview.c sandbox/gitview_carry.c sandbox/gitview_format.c sandbox/relay.c \
	sandbox/msg.c sandbox/filter.c
LIB_SRC := $(POLICY_SRC) $(LANDLOCK_SRC) $(NETPROXY_SRC) $(COMMON_SRC) $(SUPERVISOR_SRC) \
	$(SANDBOX_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/default_policy.o $(BUILD)/seccomp_cache.o

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
ESCAPES := $(patsubst tests/escape/%.c,$(BUILD)/escape/%,$(wildcard tests/escape/*.c)) \
	$(BUILD)/escape/deny_ns $(BUILD)/escape/notify_busy $(BUILD)/escape/no_landlock

# Debian packages: build, then test.
DEPS_BUILD := gcc make pkg-config libseccomp-dev libcap-ng-dev libinih-dev libc-ares-dev libssl-dev zlib1g-dev
DEPS_TEST := libcmocka-dev python3-pytest python3-pytest-xdist python3-requests git curl openssl util-linux procps iproute2 hyperfine time golang-go \
	man-db openssh-client openssh-server netcat-openbsd podman runc uidmap \
	clang libclang-rt-14-dev clang-format pre-commit exfatprogs exfat-fuse
HEADERS := /usr/include/seccomp.h /usr/include/cap-ng.h /usr/include/ini.h /usr/include/ares.h /usr/include/openssl/ssl.h
TEST_HEADERS := /usr/include/cmocka.h /usr/bin/pytest-3 /usr/lib/python3/dist-packages/xdist /usr/bin/man /usr/sbin/sshd /usr/bin/nc.openbsd /usr/bin/pre-commit

.PHONY: all deps deps-if-missing demo check check-containers check-agents unit escape integration \
	fuzz-policy fuzz-http fuzz-conv fuzz-githeads fuzz-gitconfig \
	asan install clean format format-check bench fuzz man-check

all: $(BIN)

$(BIN): $(BUILD)/supervisor/main.o $(LIB_OBJ) $(BUILD)/layout.ld $(BUILD)/ldflags
	$(CC) $(LDFLAGS_ALL) -Wl,-T,$(BUILD)/layout.ld -o $@ $(filter %.o,$^) $(LIBS)

# The functions a start runs, laid out together before the rest of the text
# (layout.order, written by bench/layout.sh), and the large tables a start
# does not read after the rest of the read-only data (of the seccomp
# programs built in, it reads one; of Python's standard names, the few a
# binary search of a project's top entries reaches; explain's and learn's
# texts, no start's; zlib's tables stay: a start in a repository reads
# them).  The kernel maps a binary's pages 64 KiB
# at a time around each one touched (fault-around): scattered, that code
# and data made most of the binary resident in every supervisor.  A
# function the file does not name is laid out with the rest.  (GNU ld or
# lld: gold does not take INSERT.)
$(BUILD)/layout.ld: layout.order Makefile
	@mkdir -p $(dir $@)
	awk 'BEGIN { print "SECTIONS {\n  .text.first : {\n    *(.text.startup .text.startup.*)" } \
	     /^#/ || NF == 0 { next } \
	     /:|\.o$$/ { print "    *" $$1 "(.text .text.*)"; next } \
	     { print "    *(.text." $$1 ")" } \
	     END { print "  }\n}\nINSERT BEFORE .text;\nSECTIONS {\n  .rodata.last : {"; \
		   print "    *(.rodata.seccomp_cache_insns)\n    *(.rodata.seccomp_table)"; \
		   print "    *(.rodata.py_names)"; \
		   print "    *explain.o(.rodata .rodata.*)\n    *learn*.o(.rodata .rodata.*)"; \
		   print "    *libseccomp.a:*(.rodata .rodata.*)"; \
		   print "    *libcares.a:*(.rodata .rodata.*)\n  }\n}\nINSERT AFTER .rodata;" }' \
	    $< > $@.tmp && mv $@.tmp $@

# The objects depend on the flags they were built with, the binary on how
# it is linked: a change (these sections, a sanitizer, the compiler)
# rebuilds them rather than link stale ones.
$(BUILD)/cflags: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(CC) $(CFLAGS_ALL)' | cmp -s - $@ || printf '%s\n' '$(CC) $(CFLAGS_ALL)' > $@
$(BUILD)/ldflags: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(CC) $(LDFLAGS_ALL) $(LIBS)' | cmp -s - $@ || \
		printf '%s\n' '$(CC) $(LDFLAGS_ALL) $(LIBS)' > $@
.PHONY: FORCE

$(BUILD)/%.o: %.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# The default policy is compiled in from policies/default.ini.
$(BUILD)/default_policy.c: policies/default.ini
	@mkdir -p $(dir $@)
	{ printf '/* generated from policies/default.ini */\nconst char policy_default_text[] =\n'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; printf ';\n'; } > $@
$(BUILD)/default_policy.o: $(BUILD)/default_policy.c $(BUILD)/cflags
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

# seccomp programs that need no policy lists, generated by the same code at
# build time (libseccomp takes ~1 ms to generate them at run time).
$(BUILD)/seccomp_gen: $(BUILD)/supervisor/seccomp_gen.o $(BUILD)/supervisor/seccomp.o \
		$(BUILD)/supervisor/seccomp_table.o $(BUILD)/supervisor/seccomp_notify.o \
		$(BUILD)/supervisor/util.o $(BUILD)/common/util.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lseccomp
$(BUILD)/seccomp_cache.c: $(BUILD)/seccomp_gen
	$< > $@.tmp && mv $@.tmp $@
$(BUILD)/seccomp_cache.o: $(BUILD)/seccomp_cache.c $(BUILD)/cflags
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(LIB_OBJ) $(LDFLAGS_ALL) $(LIBS) $(SSL_LIBS) -lcmocka

# Escape programs run inside the sandbox; they are plain and self-contained, and
# never sanitized: LeakSanitizer needs ptrace, which the sandbox refuses.
$(BUILD)/escape/%: tests/escape/%.c tests/escape/escape.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O1 -g -Wall -Wextra -Werror -o $@ $< -lpthread

# Test harness: runs a command with namespace creation refused, as container
# runtimes' default seccomp profiles do.
$(BUILD)/escape/deny_ns: tests/harness/deny_ns.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O1 -g -Wall -Wextra -Werror -o $@ $< -lpthread
# ... and one under a filter that already has a seccomp notification
# listener, as WSL2's init leaves every process.
$(BUILD)/escape/notify_busy: tests/harness/notify_busy.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O1 -g -Wall -Wextra -Werror -o $@ $<
# ... and one as on a kernel without Landlock.
$(BUILD)/escape/no_landlock: tests/harness/no_landlock.c
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

# Side by side in TEST_JOBS workers (pytest-xdist), handed one test at a
# time (loadgroup, no groups), the few that wait out a proxy timer (shortened
# to seconds by their policies) first (conftest.py): most tests wait on
# processes and timers, so workers beyond the cores still help (2 cores: 98 s
# with 4, 75 s with 8, 77 s with 12, 293 s one after another; measured with
# the 30 s timers).  TEST_JOBS=0 runs them one after another.  The suite is
# then bound by CPU: ~90 s of it a run (user and system time of pytest and
# everything it waits for; ~120 s while the boxes were on the root ext4,
# see conftest.py Scratch), so on 2 cores it takes at least ~45 s, more
# when others share them; bench/ measures speed, not this.
TEST_JOBS ?= 8
# pytest rewrites the test modules' asserts at import, in each worker:
# ~0.9 s of CPU a process unless the result is kept (in __pycache__,
# ignored by git), which PYTHONDONTWRITEBYTECODE in the environment forbids.
integration: $(BIN) $(ESCAPES)
	RINGFENCE=$(abspath $(BIN)) ESCAPE_DIR=$(abspath $(BUILD)/escape) PYTHONDONTWRITEBYTECODE= \
		pytest-3 -q -ra $(if $(filter-out 0,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadgroup) \
		$(PYTEST_ARGS) tests/integration

# (not man-check: the integration suite runs tests/integration/test_man_pages.py,
# which renders both pages as man-check does, and man-check ran that file
# a second time, in make asan too)
check: deps-if-missing
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

# An image made from this host's files (no registry), podman configured from
# tests/containers/conf only; needs root, podman and runc.
check-containers: $(BIN)
	RINGFENCE=$(abspath $(BIN)) pytest-3 -q -ra tests/containers

# The agent CLIs, pinned in tests/agents/versions, installed with npm into a
# cache outside the clone (kept between runs), each run under its shipped
# policy against a fake API on loopback.  Two at a time: each mostly waits
# (for a TUI's screen to settle, for the fake API), 470 s one by one.
RINGFENCE_AGENTS_CACHE ?= /var/cache/ringfence-agents
check-agents: deps-if-missing
	@$(MAKE) --no-print-directory all
	sh tests/agents/install.sh $(RINGFENCE_AGENTS_CACHE)
	RINGFENCE=$(abspath $(BIN)) RINGFENCE_AGENTS_CACHE=$(RINGFENCE_AGENTS_CACHE) \
		pytest-3 -q -ra -n 2 $(PYTEST_ARGS) tests/agents

# (the ringfence binary without LeakSanitizer's check at exit, the unit
# tests with it: supervisor/main.c says why; not position-independent: the
# loader's relocations of the instrumented binary cost ~500 page faults a
# process, 192 ms of CPU against 138 ms a start here, and this build is
# for the tests only)
asan: deps-if-missing
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/ringfence OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		HARDEN="-fno-PIE -DRINGFENCE_NO_LEAK_CHECK" LINK_HARDEN=-no-pie check

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/policies \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ringfence
	install -m 0644 policies/*.ini $(DESTDIR)$(DATADIR)/policies/
	install -m 0644 doc/ringfence.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 doc/ringfence.ini.5 $(DESTDIR)$(MANDIR)/man5/

# The man pages as man-db renders them on an 80-column UTF-8 terminal, with
# groff's warnings on: man exits 0 on a warning, so any output on stderr
# fails.  Then the check that every parser key and command-line option is
# documented (tests/integration/test_man_pages.py, also run by integration).
MAN_PAGES := doc/ringfence.1 doc/ringfence.ini.5
man-check:
	@for f in $(MAN_PAGES); do \
		err=$$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l $$f 2>&1 >/dev/null); \
		rc=$$?; \
		if [ $$rc -ne 0 ] || [ -n "$$err" ]; then \
			echo "man-check: $$f (man exited $$rc):"; printf '%s\n' "$$err"; exit 1; fi; \
		echo "man-check: $$f: no warnings"; \
	done
	pytest-3 -q tests/integration/test_man_pages.py

# libFuzzer on the policy parser (clang), seeded with the shipped policies, on
# the proxy's HTTP and SOCKS5 parsers, ClientHello reader and rewriter, and on
# whole conversations (client and upstream bytes) through its machines.
FUZZ_SECONDS ?= 60
# Each target on its own too (make fuzz-http): CI runs three after the
# agents and two after the ASan suite.
fuzz: fuzz-policy fuzz-http fuzz-conv fuzz-scan fuzz-githeads fuzz-gitconfig

fuzz-policy: $(BUILD)/default_policy.c
	@mkdir -p build-fuzz/corpus
	clang -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_policy tests/fuzz/fuzz_policy.c $(POLICY_SRC) \
		$(BUILD)/default_policy.c -linih
	build-fuzz/fuzz_policy -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		build-fuzz/corpus tests/fuzz/corpus

fuzz-http:
	@mkdir -p build-fuzz/corpus_http
	clang -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_http tests/fuzz/fuzz_http.c netproxy/http.c netproxy/socks.c \
		netproxy/rules.c netproxy/cred.c netproxy/cred_detect.c netproxy/tls.c netproxy/trust.c \
		netproxy/sniff.c netproxy/resume.c netproxy/ossl.c -lssl -lcrypto
	build-fuzz/fuzz_http -max_total_time=$(FUZZ_SECONDS) -max_len=20000 \
		build-fuzz/corpus_http tests/fuzz/corpus_http

fuzz-conv: $(BUILD)/default_policy.c
	@mkdir -p build-fuzz/corpus_conv
	clang -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_conv tests/fuzz/fuzz_conv.c $(NETPROXY_SRC) $(POLICY_SRC) \
		common/util.c $(BUILD)/default_policy.c -linih -lcares -lssl -lcrypto
	build-fuzz/fuzz_conv -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		build-fuzz/corpus_conv tests/fuzz/corpus_conv

# The response scan against cred_detect.c's reading of the same forms.
fuzz-scan: $(BUILD)/default_policy.c
	@mkdir -p build-fuzz/corpus_scan
	clang -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_scan tests/fuzz/fuzz_scan.c $(NETPROXY_SRC) $(POLICY_SRC) \
		common/util.c $(BUILD)/default_policy.c -linih -lcares -lssl -lcrypto
	build-fuzz/fuzz_scan -max_total_time=$(FUZZ_SECONDS) -max_len=2048 \
		-dict=tests/fuzz/scan.dict build-fuzz/corpus_scan tests/fuzz/corpus_scan

fuzz-githeads:
	@mkdir -p build-fuzz/corpus_githeads
	clang -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_githeads tests/fuzz/fuzz_githeads.c supervisor/gitlinks.c -lz
	build-fuzz/fuzz_githeads -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		build-fuzz/corpus_githeads tests/fuzz/corpus_githeads

# gitconfig.c's reading of a configuration (git's values, a command's
# shell words), seeded with configurations the attack tests write.
fuzz-gitconfig:
	@mkdir -p build-fuzz/corpus_gitconfig
	clang -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_gitconfig tests/fuzz/fuzz_gitconfig.c
	build-fuzz/fuzz_gitconfig -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		build-fuzz/corpus_gitconfig tests/fuzz/corpus_gitconfig

bench: $(BIN)
	sh bench/startup.sh

# Pinned to Debian 12's clang-format (14): another version lays the same
# .clang-format out differently, and the check would fail on a tree that
# passed.  CI runs format-check before the tests.
CLANG_FORMAT ?= clang-format-14
format:
	$(CLANG_FORMAT) -i $$(git ls-files '*.c' '*.h')
format-check:
	$(CLANG_FORMAT) --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
