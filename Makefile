# vcrun: a committed, non-recursive GNU Makefile.  It runs ./configure by
# itself when config.mk is missing, so plain `make` works in a fresh clone
# (once the packages are in: `make deps` installs them).

# deps, demo and check must work before anything is installed, so they do
# not need config.mk (their sub-makes do, after `deps` has run).
CONFIG_FREE_GOALS := deps demo check clean distclean
ifeq ($(MAKECMDGOALS),)
NEED_CONFIG := 1
else ifneq ($(filter-out $(CONFIG_FREE_GOALS),$(MAKECMDGOALS)),)
NEED_CONFIG := 1
endif
ifdef NEED_CONFIG
-include config.mk
endif

prefix ?= /usr/local
bindir ?= $(prefix)/bin
libexecdir ?= $(prefix)/libexec
datadir ?= $(prefix)/share
mandir ?= $(datadir)/man
sysconfdir ?= $(prefix)/etc
QEMU_PATH ?= /usr/bin/qemu-system-x86_64
GIT_COMMIT ?= unknown
CC ?= cc

B := build
# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif
VERSION := 0.1.0

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -I. \
  -DVC_VERSION='"$(VERSION)"' -DVC_COMMIT='"$(GIT_COMMIT)"' \
  -DVC_SYSCONFDIR='"$(sysconfdir)"' -DVC_DATADIR='"$(datadir)"' \
  -DVC_LIBEXECDIR='"$(libexecdir)"'
CFLAGS ?=
ALL_CFLAGS := $(BASE_CFLAGS) $(CFLAGS)
HOST_LIBS := -lyajl -lseccomp -lcap -lmnl -lpthread
AGENT_LIBS := -l:libyajl_s.a -l:libseccomp.a -l:libcap.a
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Ground code shared by the host binary and the static guest agent: all of
# lib/base/ (nothing there may include a header from elsewhere in lib/, vmm/
# or cmd/), and the parts of oci/ the agent parses specs with.
COMMON_SRCS := $(wildcard lib/base/*.c) \
  oci/spec.c oci/mount_attr.c oci/capability.c oci/seccomp.c \
  oci/device_cgroup.c oci/hooks.c oci/state.c
# The device daemons vmm/ builds as programs of their own (the library
# starts them by the path in the configuration).
DAEMON_SRCS := vmm/vsock_backend_main.c
# Everything else in lib/, oci/ and vmm/ is host-side library code.
LIB_SRCS := $(sort $(filter-out $(DAEMON_SRCS),$(wildcard lib/*.c lib/base/*.c lib/host/*.c oci/*.c vmm/*.c)))
CMD_SRCS := $(wildcard cmd/*.c)
AGENT_SRCS := $(wildcard agent/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(B)/$(1)/%.o,$(2))

LIB_OBJS := $(call obj,host,$(LIB_SRCS))
CMD_OBJS := $(call obj,host,$(CMD_SRCS))
AGENT_OBJS := $(call obj,agent,$(AGENT_SRCS) $(COMMON_SRCS))
ASAN_LIB_OBJS := $(call obj,asan,$(LIB_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/asan-tests/%,$(UNIT_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))

GUEST_DIR := $(B)/guest
GUEST_KERNEL := $(GUEST_DIR)/vmlinux
GUEST_INITRD := $(GUEST_DIR)/initramfs.cpio

# Man pages: man/*.8.md (go-md2man's markdown) into build/man/*.8.  `all`
# builds them only where go-md2man is installed (`make deps` installs it),
# so a checkout builds before its packages are in; `make man` insists.
MAN_SRCS := $(wildcard man/*.8.md)
MAN_PAGES := $(patsubst man/%.md,$(B)/man/%,$(MAN_SRCS))
GO_MD2MAN ?= $(shell command -v go-md2man 2>/dev/null)

.PHONY: all deps guest install uninstall demo check layers unit unit-asan fuzz bats bats-factory vsock-stress engines oci bench clean distclean man
all: $(B)/vcrun $(B)/vcrun-vsock-backend $(B)/vcrun-agent $(B)/configuration.toml $(B)/configuration-dev.toml
ifneq ($(GO_MD2MAN),)
all: man
endif

man: $(MAN_PAGES)

$(B)/man/%.8: man/%.8.md
	@command -v $(or $(GO_MD2MAN),go-md2man) >/dev/null || { echo "go-md2man is missing: run 'make deps' (or apt-get install go-md2man)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(call say,MAN,$@)
	$(Q)$(or $(GO_MD2MAN),go-md2man) -in $< -out $@

config.mk: configure.ac config.mk.in
	@command -v autoconf >/dev/null || { echo "autoconf is missing: run 'make deps' (or apt-get install autoconf)" >&2; exit 1; }
	autoconf
	./configure --prefix=$(prefix)

deps:
	./scripts/install-deps.sh

$(B)/host/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/agent/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -DVC_AGENT -MMD -MP -c $< -o $@

$(B)/asan/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(B)/libvcrun.a: $(LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(B)/libvcrun-asan.a: $(ASAN_LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(B)/vcrun: $(CMD_OBJS) $(B)/libvcrun.a
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJS) $(B)/libvcrun.a $(HOST_LIBS)

$(B)/vcrun-vsock-backend: $(call obj,host,$(DAEMON_SRCS)) $(B)/libvcrun.a
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(call obj,host,$(DAEMON_SRCS)) $(B)/libvcrun.a $(HOST_LIBS)

$(B)/vcrun-agent: $(AGENT_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -static -o $@ $(AGENT_OBJS) $(AGENT_LIBS)

# Two copies of the configuration: the installed one, and one pointing at
# this build tree, which the tests use.
$(B)/configuration.toml: config/configuration.toml.in config.mk
	@mkdir -p $(B)
	sed -e 's|@QEMU_PATH@|$(QEMU_PATH)|g' -e 's|@ASSETS@|$(datadir)/vcrun|g' \
	  -e 's|@LIBEXECDIR@|$(libexecdir)|g' $< > $@

$(B)/configuration-dev.toml: config/configuration.toml.in config.mk
	@mkdir -p $(B)
	sed -e 's|@QEMU_PATH@|$(QEMU_PATH)|g' -e 's|@ASSETS@|$(CURDIR)/$(GUEST_DIR)|g' \
	  -e 's|@LIBEXECDIR@|$(CURDIR)/$(B)|g' $< > $@

guest: $(GUEST_KERNEL) $(GUEST_INITRD)

$(GUEST_KERNEL): scripts/build-guest.sh
	./scripts/build-guest.sh kernel $(GUEST_DIR)

$(GUEST_INITRD): $(B)/vcrun-agent $(GUEST_KERNEL) scripts/build-guest.sh
	./scripts/build-guest.sh initrd $(GUEST_DIR) $(B)/vcrun-agent

$(B)/tests/%: tests/unit/%.c $(B)/libvcrun.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(B)/libvcrun.a $(HOST_LIBS)

$(B)/asan-tests/%: tests/unit/%.c $(B)/libvcrun-asan.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(B)/libvcrun-asan.a $(HOST_LIBS)

# Fuzz targets: the library is built once with clang's instrumentation.
FUZZ_LIB_OBJS := $(call obj,fuzzlib,$(LIB_SRCS))
FUZZ_CFLAGS := $(BASE_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined

$(B)/fuzzlib/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libvcrun-fuzz.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(B)/fuzz/%: tests/fuzz/%.c $(B)/libvcrun-fuzz.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)clang $(BASE_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(B)/libvcrun-fuzz.a $(HOST_LIBS)

# Test tools the bats suites drive.  syscall-errno runs inside containers
# whose rootfs has no libc: static.
$(B)/tools/syscall-errno: tests/tools/syscall-errno.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -static -o $@ $<

# vcnet drives lib/host/netlink.c;
# agentnet builds agent/network.c for the host (tests/bats/netlink.bats).
$(B)/tools/vcnet: tests/tools/vcnet.c $(B)/libvcrun.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libvcrun.a $(HOST_LIBS)

# vchotplug drives the vhost-user hot-plug op (tests/bats/hotplug.bats).
$(B)/tools/vchotplug: tests/tools/vchotplug.c $(B)/libvcrun.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libvcrun.a $(HOST_LIBS)

$(B)/tools/agentnet: tests/tools/agentnet.c agent/network.c agent/network.h agent/modules.c $(wildcard lib/base/*.c)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< agent/network.c agent/modules.c $(wildcard lib/base/*.c) -lyajl

$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $<

# The include rules of docs/architecture.md.
layers:
	@./tests/layers.sh

unit: $(UNIT_BINS)
	@./tests/run-unit.sh $(UNIT_BINS)

unit-asan: $(ASAN_UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./tests/run-unit.sh $(ASAN_UNIT_BINS)

# Seconds per fuzz target: with eight targets the stage stays near two minutes.
FUZZ_SECONDS ?= 15
fuzz: $(FUZZ_BINS)
	@./tests/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

BATS_TOOLS = $(B)/tools/recvtty $(B)/tools/syscall-errno $(B)/tools/vcnet $(B)/tools/agentnet $(B)/tools/vchotplug
BATS_ENV = VCRUN=$(CURDIR)/$(B)/vcrun VCRUN_CONFIG=$(CURDIR)/$(B)/configuration-dev.toml \
	  RECVTTY=$(CURDIR)/$(B)/tools/recvtty \
	  SYSCALL_ERRNO=$(CURDIR)/$(B)/tools/syscall-errno

bats: all guest $(BATS_TOOLS)
	$(BATS_ENV) ./tests/run-bats.sh tests/bats

# The same suite with [factory] enabled in every test's configuration (a
# pool of one template clone, filled before each test: tests/bats/helpers.bash).
bats-factory: all guest $(BATS_TOOLS)
	$(BATS_ENV) VCRUN_TEST_FACTORY=1 BATS_TAP=$(B)/bats-factory.tap \
	  ./tests/run-bats.sh tests/bats

# The vsock back-end end to end with a real QEMU (tests/vsock): 64 streams of
# 10 MiB each way, resets, guest-initiated connections; well under 60 s.
vsock-stress: guest
	@./tests/vsock/run.sh

# containerd (ctr) and podman drive the freshly built vcrun.
engines: all guest
	./tests/engines/run.sh $(B)

# The OCI runtime-tools validation suite (tests/oci/run.sh says where its
# sources come from).  Not part of check: a full run takes several minutes
# and Debian does not package the suite's own sources.
oci: all guest
	./tests/oci/run.sh $(B)

install: all guest
	install -D -m 0755 $(B)/vcrun $(DESTDIR)$(bindir)/vcrun
	install -D -m 0755 $(B)/vcrun-vsock-backend $(DESTDIR)$(libexecdir)/vcrun-vsock-backend
	install -D -m 0644 $(GUEST_KERNEL) $(DESTDIR)$(datadir)/vcrun/vmlinux
	install -D -m 0644 $(GUEST_INITRD) $(DESTDIR)$(datadir)/vcrun/initramfs.cpio
	install -D -m 0644 $(B)/configuration.toml $(DESTDIR)$(sysconfdir)/vcrun/configuration.toml
	$(if $(GO_MD2MAN),install -d $(DESTDIR)$(mandir)/man8 && install -m 0644 $(MAN_PAGES) $(DESTDIR)$(mandir)/man8/)

uninstall:
	rm -f $(DESTDIR)$(bindir)/vcrun $(DESTDIR)$(sysconfdir)/vcrun/configuration.toml
	rm -f $(DESTDIR)$(libexecdir)/vcrun-vsock-backend
	rm -rf $(DESTDIR)$(datadir)/vcrun
	rm -f $(addprefix $(DESTDIR)$(mandir)/man8/,$(notdir $(MAN_PAGES)))

demo: deps
	$(MAKE) install
	./scripts/demo.sh $(bindir)/vcrun

check: deps
	$(MAKE) install
	$(MAKE) layers unit unit-asan fuzz bats bats-factory vsock-stress engines

bench: all guest
	./bench/run.sh $(CURDIR)/$(B)/vcrun $(CURDIR)/$(B)/configuration-dev.toml
	./bench/network.sh $(CURDIR)/$(B)/vcrun $(CURDIR)/$(B)/configuration-dev.toml

clean:
	rm -rf $(B)/host $(B)/agent $(B)/asan $(B)/fuzzlib $(B)/tests $(B)/asan-tests $(B)/fuzz $(B)/*.a $(B)/vcrun $(B)/vcrun-vsock-backend $(B)/vcrun-agent $(B)/man

distclean:
	rm -rf $(B) config.mk config.log config.status configure autom4te.cache

-include $(shell find $(B) -name '*.d' 2>/dev/null)
