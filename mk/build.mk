# ustreams - the build proper, for one variant.  Run through the top-level
# Makefile, which installs the dependencies first.
#
# Variants:
#   release  -O2 -g, ASSERTs off: what users link
#   debug    -O0 -g -DDEBUG: every ASSERT and misuse check
#   asan     -O1 -g -DDEBUG, AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan     -O1 -g -DDEBUG, ThreadSanitizer

V ?= release
VERSION = 0.1.0
SOMAJOR = 0

ifeq ($(V),release)
B = build
VFLAGS = -O2 -g
else ifeq ($(V),debug)
B = build/debug
VFLAGS = -O0 -g -DDEBUG
else ifeq ($(V),asan)
B = build/asan
VFLAGS = -O1 -g -DDEBUG -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
VLDFLAGS = -fsanitize=address,undefined
else ifeq ($(V),tsan)
B = build/tsan
VFLAGS = -O1 -g -DDEBUG -fsanitize=thread -fno-omit-frame-pointer
VLDFLAGS = -fsanitize=thread
else
$(error unknown variant V=$(V))
endif

PKGS = liburcu-bp jemalloc libbsd-overlay libdw
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS := $(shell pkg-config --libs check)

CC ?= cc
WARN = -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_ALL = -std=gnu11 $(WARN) $(VFLAGS) -fPIC -D_GNU_SOURCE \
	-Iinclude $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -ldl -lm

LIB_SRCS = $(wildcard ddi/*.c) $(wildcard streams/*.c) $(wildcard drivers/*.c) \
	$(wildcard drivers/*/*.c)
LIB_OBJS = $(LIB_SRCS:%.c=$(B)/obj/%.o)
LIBA = $(B)/libustreams.a
LIBSO = $(B)/libustreams.so.$(VERSION)

TEST_SRCS = $(wildcard tests/test_*.c)
TEST_BINS = $(TEST_SRCS:tests/%.c=$(B)/tests/%)
TEST_HARNESS = $(B)/obj/tests/harness.o $(B)/obj/tests/watchdog.o

# Programs built from tools/NAME/*.c, one binary each.  (tools/bench has
# rules of its own, in mk/bench.mk.)
TOOL_NAMES = demo
TOOLS = $(TOOL_NAMES:%=$(B)/bin/%)

DEPFLAGS = -MMD -MP

.PHONY: all lib tools tests test memcheck bench demo install
.SUFFIXES:
# Keep objects of chained rules (tests): rebuilding them each run is waste.
.SECONDARY:

all: lib tools

lib: $(LIBA) $(LIBSO)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libustreams.so.$(SOMAJOR) $(VLDFLAGS) \
		-o $@ $^ $(LDLIBS_ALL)
	ln -sf libustreams.so.$(VERSION) $(B)/libustreams.so.$(SOMAJOR)
	ln -sf libustreams.so.$(SOMAJOR) $(B)/libustreams.so

# Tests link the archive whole, so that every subsystem's SYSINIT is in.
$(B)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -Itests $(DEPFLAGS) -c $< -o $@

$(B)/tests/%: $(B)/obj/tests/%.o $(TEST_HARNESS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(VLDFLAGS) -o $@ $< $(TEST_HARNESS) -Wl,--whole-archive $(LIBA) \
		-Wl,--no-whole-archive $(CHECK_LIBS) $(LDLIBS_ALL)

tests: $(TEST_BINS)

# Each test binary prints Check's summary; the first failure stops the run.
# Under ThreadSanitizer the tests run in one process (CK_FORK=no): jemalloc
# takes all its mutexes around fork and re-creates them in the child, which
# ThreadSanitizer reports as double locks inside the library.
ifeq ($(V),tsan)
TEST_ENV = CK_FORK=no TSAN_OPTIONS="halt_on_error=1"
else ifeq ($(V),asan)
TEST_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
endif

# memcheck: the release tests again, under valgrind's memcheck, which sees
# what the sanitizers do not: reads of memory never written.  One process
# per suite (CK_FORK=no), so that an error fails the run through
# valgrind's exit status; USTREAMS_VARIANT=memcheck has the longest suites
# run shorter, as under ThreadSanitizer.  valgrind runs one thread at a
# time; --fair-sched=yes hands the CPU round in turn, where its default
# lets one thread keep it, so that threads that wait on each other take
# turns as on real CPUs (the drivers suite runs in half the time).
MEMCHECK = valgrind -q --fair-sched=yes --error-exitcode=99 \
	--leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect

memcheck: tests
	@set -e; for t in $(TEST_BINS); do \
		echo "== [memcheck] $$t"; \
		CK_FORK=no USTREAMS_VARIANT=memcheck $(MEMCHECK) $$t; \
	done

test: tests
	@set -e; for t in $(TEST_BINS); do \
		echo "== [$(V)] $$t"; \
		$(TEST_ENV) USTREAMS_VARIANT=$(V) $$t; \
	done

.SECONDEXPANSION:
$(B)/bin/%: $$(wildcard tools/$$*/*.c) $$(wildcard tools/$$*/*.h) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(VLDFLAGS) -o $@ $(wildcard tools/$*/*.c) \
		-Wl,--whole-archive $(LIBA) -Wl,--no-whole-archive $(LDLIBS_ALL)

tools: $(TOOLS)

-include mk/bench.mk
-include mk/demo.mk
-include mk/install.mk
-include mk/examples.mk

-include $(LIB_OBJS:.o=.d) $(TEST_BINS:$(B)/tests/%=$(B)/obj/tests/%.d)
