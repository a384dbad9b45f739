/*
 * bench-ustreams: allocb and freeb, with jemalloc beside them.
 *
 * Boots one instance (16 MB, the threads executive with two service
 * threads) and measures, in order: allocb+freeb and mallocx+dallocx at
 * each size; bursts of 32; allocb+freeb against DPDK's pktmbufs, in
 * pairs of alternating runs (pair.c; where DPDK is installed); two
 * threads (and, for scale, two threads that allocate nothing);
 * producer/consumer (and the ring alone), both with DPDK's rounds among
 * ustreams' where DPDK is installed; the header and class
 * footprints; bufcall's cost to freeb; bufcall's wake-up latency, and a
 * bare condition-variable wake-up for scale.  allocb and freeb do
 * not involve the executive: the threads executive is booted because the
 * two-thread figures call allocb from threads of their own, and the
 * latency figure needs service threads.
 *
 * Prints "key figures" lines (bench.h); run it through the report
 * program, which merges it with bench-glibc and bench-dpdk.  DPDK's own
 * figures stay bench-dpdk's; this program gives only those measured
 * beside ustreams' (pair.*, dpdk_same.*).
 */
#include "bench.h"

#include <sys/stream.h>
#include <sys/ustreams.h>

#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <string.h>

#ifndef BENCH_USTREAMS_VERSION
#define	BENCH_USTREAMS_VERSION	"unknown"
#endif

static void
versions(void)
{
	const char *v = NULL;
	size_t sz = sizeof (v);

	bench_emitf("ustreams.version", "%s", BENCH_USTREAMS_VERSION);
	if (mallctl("version", &v, &sz, NULL, 0) == 0 && v != NULL)
		bench_emitf("jemalloc.version", "%s", v);
	bench_emitf("bench.reps", "%d", bench_reps);
	bench_emitf("bench.rep_ms", "%g", bench_rep_ms);
}

int
main(int argc, char **argv)
{
	static const struct bench_alloc *const both[] = { &bench_ustreams,
		&bench_jemalloc };
	const struct bench_alloc *set[BENCH_SET_MAX] = { &bench_ustreams,
		&bench_jemalloc, &bench_arith };
	struct ustreams_config cfg;
	struct fig at[2];
	double ns[BENCH_SET_MAX];
	int error, nset = 3;

	(void) argc;
	bench_init();
	/* DPDK's EAL first thing, as DPDK asks (pair.c). */
	bench_pair_init(argv[0]);
	ustreams_config_init(&cfg);
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 2;
	if ((error = ustreams_boot(&cfg)) != 0) {
		fprintf(stderr, "bench-ustreams: ustreams_boot: %s\n",
		    strerror(error));
		bench_pair_fini();
		return (1);
	}
	versions();
	bench_emitf("ustreams.memsize", "%zu", cfg.uc_memsize);

	bench_section_single(both, 2, at);
	bench_section_burst(both, 2);
	bench_pair();
	ns[0] = at[0].f_med;
	ns[1] = at[1].f_med;
	ns[2] = 1.0;
	/* DPDK in the same rounds, when it is here (calibrated as ustreams). */
	if ((set[3] = bench_pair_dpdk()) != NULL) {
		ns[3] = at[0].f_med;
		nset = 4;
	}
	bench_scaling(set, nset, BENCH_SIZE, ns);
	bench_pipeline(set, nset, BENCH_SIZE, ns);
	bench_pair_fini();
	bench_footprint();
	bench_bufcall_cost();
	bench_bufcall_latency();
	bench_wakeup();

	if ((error = ustreams_shutdown()) != 0) {
		fprintf(stderr, "bench-ustreams: ustreams_shutdown: %s\n",
		    strerror(error));
		return (1);
	}
	return (0);
}
