# make bench: the benchmarks (tools/bench; docs/bench.md says what each
# measures).  Included by mk/build.mk; the top-level "make bench" runs
# mk/deps.sh bench first (which installs DPDK when it can), then this with
# V=release.
#
# Five programs, kept apart by what they link or what they boot:
#
#   $(B)/bench/bench-ustreams  ustreams (whole archive) and jemalloc;
#                              jemalloc is then the process's malloc;
#                              DPDK too when pkg-config finds it, for
#                              allocb+freeb against DPDK in pairs of
#                              alternating runs (pair.c)
#   $(B)/bench/bench-stream    the same libraries; boots instances of its
#                              own (sim, then threads) for messages
#                              through a stream against a pipe
#   $(B)/bench/bench-glibc     the C library only, to time glibc's malloc
#   $(B)/bench/bench-dpdk      DPDK only; built when pkg-config finds
#                              libdpdk, so that the rest builds without it
#   $(B)/bin/bench             the report: runs the four, prints one
#                              report and writes $(B)/bench/report.txt

BENCH_OUT = $(B)/bench
BENCH_OBJ = $(B)/obj/tools/bench

BENCH_COMMON = $(addprefix $(BENCH_OBJ)/,measure.o sections.o threads.o)
BENCH_UST_OBJS = $(addprefix $(BENCH_OBJ)/,main_ustreams.o \
	alloc_ustreams.o alloc_jemalloc.o footprint.o bufcall_cost.o \
	bufcall_latency.o wakeup.o)
BENCH_STREAM_OBJS = $(addprefix $(BENCH_OBJ)/,main_stream.o \
	flow_measure.o flow_ustreams.o flow_pipe.o flow_handoff.o)
BENCH_GLIBC_OBJS = $(addprefix $(BENCH_OBJ)/,main_glibc.o alloc_glibc.o)
BENCH_DPDK_OBJS = $(addprefix $(BENCH_OBJ)/,main_dpdk.o alloc_dpdk.o)
BENCH_REPORT_OBJS = $(BENCH_OBJ)/report.o

BENCH_PROGS = $(BENCH_OUT)/bench-ustreams $(BENCH_OUT)/bench-stream \
	$(BENCH_OUT)/bench-glibc
BENCH_REPORT = $(B)/bin/bench

# The objects that use neither ustreams nor jemalloc are compiled without
# the build's package flags: the libbsd overlay would make the report
# program and bench-glibc need libbsd, and DPDK's headers include libbsd
# in a way of their own.  DPDK's headers are taken as system headers, so
# that -Wextra -Werror judge our code and not theirs.
HAVE_DPDK := $(shell pkg-config --exists libdpdk 2>/dev/null && echo yes)
ifeq ($(HAVE_DPDK),yes)
DPDK_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libdpdk))
DPDK_LIBS := $(shell pkg-config --libs libdpdk)
BENCH_PROGS += $(BENCH_OUT)/bench-dpdk
BENCH_SKIP =
# bench-ustreams measures allocb+freeb against DPDK in one process, their
# runs alternating: DPDK's figures from bench-dpdk, taken at another
# time, carry the machine's drift between the two programs.
BENCH_UST_DPDK = $(BENCH_OBJ)/alloc_dpdk.o
BENCH_UST_DPDK_LIBS = $(DPDK_LIBS)
BENCH_PAIR = $(BENCH_OBJ)/pair-dpdk.o
else
BENCH_SKIP = -s 'dpdk:DPDK is not installed (pkg-config libdpdk found \
nothing; as root: apt-get install libdpdk-dev)'
BENCH_UST_DPDK =
BENCH_UST_DPDK_LIBS =
BENCH_PAIR = $(BENCH_OBJ)/pair.o
endif
BENCH_UST_OBJS += $(BENCH_PAIR)

BENCH_PLAIN_OBJS = $(BENCH_COMMON) $(BENCH_GLIBC_OBJS) $(BENCH_DPDK_OBJS) \
	$(BENCH_REPORT_OBJS)
BENCH_PLAIN_CFLAGS = -std=gnu11 $(WARN) $(VFLAGS) -D_GNU_SOURCE $(CFLAGS)

$(BENCH_OBJ)/alloc_dpdk.o: BENCH_XCFLAGS = $(DPDK_CFLAGS)

$(BENCH_PLAIN_OBJS): $(BENCH_OBJ)/%.o: tools/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_PLAIN_CFLAGS) $(BENCH_XCFLAGS) $(DEPFLAGS) -c $< -o $@

$(BENCH_OBJ)/main_ustreams.o: CFLAGS_ALL += \
	-DBENCH_USTREAMS_VERSION='"$(VERSION)"'

# pair.c with DPDK has an object of its own name, so that installing or
# removing DPDK between two builds rebuilds it rather than linking the
# other kind.  It includes no DPDK header: it calls alloc_dpdk.c.
$(BENCH_OBJ)/pair-dpdk.o: tools/bench/pair.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DBENCH_DPDK $(DEPFLAGS) -c $< -o $@

# DPDK's libraries last: pkg-config's list starts with --as-needed, which
# is then for them alone.
$(BENCH_OUT)/bench-ustreams: $(BENCH_UST_OBJS) $(BENCH_UST_DPDK) \
    $(BENCH_COMMON) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(VLDFLAGS) -o $@ $(BENCH_UST_OBJS) $(BENCH_UST_DPDK) \
		$(BENCH_COMMON) -Wl,--whole-archive $(LIBA) \
		-Wl,--no-whole-archive $(LDLIBS_ALL) $(BENCH_UST_DPDK_LIBS)

$(BENCH_OUT)/bench-stream: $(BENCH_STREAM_OBJS) $(BENCH_COMMON) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(VLDFLAGS) -o $@ $(BENCH_STREAM_OBJS) $(BENCH_COMMON) \
		-Wl,--whole-archive $(LIBA) -Wl,--no-whole-archive $(LDLIBS_ALL)

# No jemalloc here, or it would be the malloc timed.
$(BENCH_OUT)/bench-glibc: $(BENCH_GLIBC_OBJS) $(BENCH_COMMON)
	@mkdir -p $(@D)
	$(CC) $(VLDFLAGS) -o $@ $^ -lpthread -ldl -lm

$(BENCH_OUT)/bench-dpdk: $(BENCH_DPDK_OBJS) $(BENCH_COMMON)
	@mkdir -p $(@D)
	$(CC) $(VLDFLAGS) -o $@ $^ $(DPDK_LIBS) -lpthread -lm

# An explicit rule: tools/bench is not one program, whatever the generic
# tools rule would make of it.
$(BENCH_REPORT): $(BENCH_REPORT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(VLDFLAGS) -o $@ $^ -lm

.PHONY: bench bench-build
bench-build: $(BENCH_PROGS) $(BENCH_REPORT)

bench: bench-build
	@$(BENCH_REPORT) -o $(BENCH_OUT)/report.txt $(BENCH_SKIP) $(BENCH_PROGS)

-include $(wildcard $(BENCH_OBJ)/*.d)
