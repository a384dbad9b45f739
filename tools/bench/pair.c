/*
 * ustreams against DPDK in one process: allocb+freeb and
 * rte_pktmbuf_alloc+rte_pktmbuf_free measured as pairs of runs, one
 * ustreams run and then one DPDK run, bench_reps times.
 *
 * Why here and not from bench-dpdk's figures: bench-dpdk runs at another
 * time than bench-ustreams, and on a shared machine whose speed drifts by
 * a third over tens of seconds, that drift, not the allocators, decided
 * the ratio of the two programs' figures.  The two runs of a pair are a
 * few tens of milliseconds apart and see the same machine, so the ratio
 * is taken within each pair; the median over the pairs is the figure, the
 * lowest and highest pair beside it:
 *
 *	pair.single.SIZE	ustreams over DPDK, one allocation and one
 *				free, at each size of the single table
 *	pair.burst.2048		bursts of 32, against DPDK's single calls
 *	pair.burst_bulk.2048	bursts of 32, against DPDK's bulk calls
 *	pair.WHAT.SIZE.NAME	each allocator's own figure in those runs
 *
 * bench_pair_dpdk lends DPDK to the two-thread figures too (threads.c),
 * which then alternate DPDK's rounds with ustreams' in the same way:
 * dpdk_same.scaling.2048, dpdk_same.pipeline.2048 and the rest.
 *
 * DPDK's loops and pools are alloc_dpdk.c's, as in bench-dpdk.  DPDK
 * wants rte_eal_init called as early as possible in main, on the thread
 * that becomes its main lcore (that thread then has a mempool cache, and
 * the paired runs are made on it); so bench_pair_init runs before the
 * instance is booted.  The EAL is stopped as soon as the pairs and the
 * two-thread figures are measured, so that the rest of bench-ustreams
 * runs without DPDK's memory mapped.
 *
 * mk/bench.mk defines BENCH_DPDK when DPDK is installed and links it in;
 * without it, bench_pair says so (skip.pair) and measures nothing, and
 * the rest of bench-ustreams is unchanged.
 */
#include "bench.h"

#include <stdio.h>

static bool	pair_ready;		/* the EAL and the pools are up */
static char	pair_why[512];		/* or why they are not */

void
bench_pair_init(const char *argv0)
{
#ifdef BENCH_DPDK
	pair_ready = bench_dpdk_init(argv0, pair_why, sizeof (pair_why)) == 0;
#else
	(void) argv0;
	(void) snprintf(pair_why, sizeof (pair_why), "bench-ustreams was "
	    "built without DPDK (pkg-config libdpdk found nothing)");
#endif
}

void
bench_pair_fini(void)
{
#ifdef BENCH_DPDK
	if (pair_ready)
		bench_dpdk_fini();
#endif
	pair_ready = false;
}

#ifdef BENCH_DPDK
/* One paired figure: the ratio under KEY, each side's under KEY.NAME. */
static void
pair_emit(const char *key, bench_loop_fn *fn, const struct bench_alloc *b,
    size_t size, int ops_per_n)
{
	struct fig f[2], r;
	char k[96];

	bench_measure_pair(fn, &bench_ustreams, b, size, ops_per_n, f, &r);
	bench_emit(key, &r);
	(void) snprintf(k, sizeof (k), "%s.%s", key, bench_ustreams.ba_name);
	bench_emit(k, &f[0]);
	(void) snprintf(k, sizeof (k), "%s.%s", key, b->ba_name);
	bench_emit(k, &f[1]);
}

static void
pair_measure(void)
{
	char key[64];

	for (int i = 0; i < BENCH_NSIZES; i++) {
		(void) snprintf(key, sizeof (key), "pair.single.%zu",
		    bench_sizes[i]);
		pair_emit(key, bench_loop_single, &bench_dpdk, bench_sizes[i],
		    1);
	}
	(void) snprintf(key, sizeof (key), "pair.burst.%d", BENCH_SIZE);
	pair_emit(key, bench_loop_burst, &bench_dpdk, BENCH_SIZE, BENCH_BURST);
	(void) snprintf(key, sizeof (key), "pair.burst_bulk.%d", BENCH_SIZE);
	pair_emit(key, bench_loop_burst, &bench_dpdk_bulk, BENCH_SIZE,
	    BENCH_BURST);
}
#endif	/* BENCH_DPDK */

const struct bench_alloc *
bench_pair_dpdk(void)
{
#ifdef BENCH_DPDK
	static struct bench_alloc same;

	if (!pair_ready)
		return (NULL);
	same = bench_dpdk;
	same.ba_name = "dpdk_same";
	return (&same);
#else
	return (NULL);
#endif
}

void
bench_pair(void)
{
	if (!pair_ready) {
		bench_skip("pair", "%s", pair_why);
		return;
	}
#ifdef BENCH_DPDK
	pair_measure();
#endif
}
