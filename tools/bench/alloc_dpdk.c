/*
 * DPDK's packet buffers: rte_pktmbuf_alloc and rte_pktmbuf_free from a
 * pktmbuf pool with a per-lcore mempool cache of 256, what a DPDK driver
 * refills its receive ring from.
 *
 * One pool per benchmark size, each with a data room of that size plus
 * RTE_PKTMBUF_HEADROOM, so that every figure is for a buffer of the size
 * asked.  The EAL runs without hugepages, PCI, shared configuration or
 * telemetry, in 256 MB of ordinary memory, with virtual addresses as IO
 * addresses: it needs no privilege and no device.  Its one lcore may run
 * on every CPU the process may use, so nothing is pinned.
 *
 * A thread gets a mempool cache only with an lcore id: the main thread
 * has lcore 0, and the threads of the two-thread benchmarks register
 * themselves (rte_thread_register), as a DPDK application's own threads
 * would.  Bursts are timed two ways: 32 single calls each way (what
 * allocb has), and rte_pktmbuf_alloc_bulk with rte_pktmbuf_free_bulk.
 *
 * DPDK's fast paths are inline functions meant to be inlined into the
 * application's loop; GCC at -O2 declined rte_pktmbuf_free here, which
 * cost DPDK a call and a third of its speed.  The loops are therefore
 * "flatten": everything DPDK's headers offer inline is inlined, as in a
 * DPDK application built the way DPDK recommends.
 */
#define	DPDK_LOOP	__attribute__((flatten))
#include "bench.h"
#include "spsc.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define	POOL_MBUFS	4095	/* 2^n - 1: the mempool ring's best size */
#define	POOL_CACHE	256

static struct rte_mempool *pool[BENCH_NSIZES];
static char runtime_dir[PATH_MAX];	/* the EAL's, removed at the end */

static struct rte_mempool *
pool_of(size_t size)
{
	for (int i = 0; i < BENCH_NSIZES; i++) {
		if (bench_sizes[i] == size)
			return (pool[i]);
	}
	return (NULL);
}

/* The CPUs this process may run on, as an EAL cpuset: "0-1" or "0,2,5". */
static void
cpuset_string(char *buf, size_t len)
{
	cpu_set_t set;
	size_t off = 0;

	buf[0] = '\0';
	if (sched_getaffinity(0, sizeof (set), &set) != 0) {
		(void) snprintf(buf, len, "0");
		return;
	}
	for (int c = 0; c < CPU_SETSIZE && off + 8 < len; c++) {
		int e = c;

		if (!CPU_ISSET(c, &set))
			continue;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set))
			e++;
		off += (size_t)snprintf(buf + off, len - off, "%s%d", off ?
		    "," : "", c);
		if (e > c)
			off += (size_t)snprintf(buf + off, len - off, "-%d", e);
		c = e;
	}
	if (buf[0] == '\0')
		(void) snprintf(buf, len, "0");
}

/*
 * Start the EAL and make the pools.  0, or -1 with the reason in
 * why[0..len).
 */
int
bench_dpdk_init(const char *argv0, char *why, size_t len)
{
	char cpus[256], lcores[300], prefix[64];
	char *eargv[] = {
		(char *)argv0, "--no-huge", "--no-pci", "-m", "256",
		"--no-shconf", "--no-telemetry", "--iova-mode=va",
		lcores, prefix, NULL
	};
	int eargc = (int)(sizeof (eargv) / sizeof (eargv[0])) - 1;

	cpuset_string(cpus, sizeof (cpus));
	(void) snprintf(lcores, sizeof (lcores), "--lcores=0@(%s)", cpus);
	(void) snprintf(prefix, sizeof (prefix),
	    "--file-prefix=ustreams-bench-%ld", (long)getpid());
	if (rte_eal_init(eargc, eargv) < 0) {
		(void) snprintf(why, len, "EAL initialisation failed: %s "
		    "(EAL arguments: --no-huge --no-pci -m 256 --no-shconf "
		    "--no-telemetry --iova-mode=va %s)",
		    rte_strerror(rte_errno), lcores);
		return (-1);
	}
	(void) snprintf(runtime_dir, sizeof (runtime_dir), "%s",
	    rte_eal_get_runtime_dir());
	for (int i = 0; i < BENCH_NSIZES; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];

		(void) snprintf(name, sizeof (name), "bench%zu",
		    bench_sizes[i]);
		pool[i] = rte_pktmbuf_pool_create(name, POOL_MBUFS, POOL_CACHE,
		    0, (uint16_t)(bench_sizes[i] + RTE_PKTMBUF_HEADROOM),
		    (int)rte_socket_id());
		if (pool[i] == NULL) {
			(void) snprintf(why, len, "cannot create a pool of "
			    "%d mbufs of %zu bytes: %s", POOL_MBUFS,
			    bench_sizes[i], rte_strerror(rte_errno));
			bench_dpdk_fini();
			return (-1);
		}
	}
	return (0);
}

/* Stop the EAL; its runtime directory (empty with --no-shconf) goes too. */
void
bench_dpdk_fini(void)
{
	for (int i = 0; i < BENCH_NSIZES; i++) {
		rte_mempool_free(pool[i]);
		pool[i] = NULL;
	}
	(void) rte_eal_cleanup();
	if (runtime_dir[0] != '\0')
		(void) rmdir(runtime_dir);
}

const char *
bench_dpdk_version(void)
{
	return (rte_version());
}

/* Bytes one mbuf of the pool for size occupies: header, mbuf, trailer. */
size_t
bench_dpdk_footprint(size_t size)
{
	struct rte_mempool *mp = pool_of(size);

	return (mp == NULL ? 0 : (size_t)mp->header_size + mp->elt_size +
	    mp->trailer_size);
}

static int
dpdk_thread_init(void)
{
	if (rte_lcore_id() != LCORE_ID_ANY)
		return (0);
	return (rte_thread_register() == 0 ? 0 : -1);
}

static void
dpdk_thread_fini(void)
{
	rte_thread_unregister();
}

static DPDK_LOOP int
dpdk_single(size_t size, long n)
{
	struct rte_mempool *mp = pool_of(size);

	for (long i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		if (m == NULL)
			return (-1);
		rte_pktmbuf_free(m);
	}
	return (0);
}

static DPDK_LOOP int
dpdk_burst(size_t size, long n, int burst)
{
	struct rte_mempool *mp = pool_of(size);
	struct rte_mbuf *m[BENCH_BURST_MAX];

	for (long i = 0; i < n; i++) {
		for (int j = 0; j < burst; j++) {
			if ((m[j] = rte_pktmbuf_alloc(mp)) == NULL) {
				while (j-- > 0)
					rte_pktmbuf_free(m[j]);
				return (-1);
			}
		}
		for (int j = 0; j < burst; j++)
			rte_pktmbuf_free(m[j]);
	}
	return (0);
}

static DPDK_LOOP int
dpdk_burst_bulk(size_t size, long n, int burst)
{
	struct rte_mempool *mp = pool_of(size);
	struct rte_mbuf *m[BENCH_BURST_MAX];

	for (long i = 0; i < n; i++) {
		if (rte_pktmbuf_alloc_bulk(mp, m, (unsigned)burst) != 0)
			return (-1);
		rte_pktmbuf_free_bulk(m, (unsigned)burst);
	}
	return (0);
}

static DPDK_LOOP int
dpdk_produce(struct spsc *ring, size_t size, long n)
{
	struct rte_mempool *mp = pool_of(size);
	int rc = 0;

	for (long i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		if (m == NULL) {
			rc = -1;
			spsc_push_wait(ring, BENCH_NOBLOCK);
		} else {
			spsc_push_wait(ring, m);
		}
	}
	return (rc);
}

static DPDK_LOOP int
dpdk_consume(struct spsc *ring, long n)
{
	for (long i = 0; i < n; i++) {
		struct rte_mbuf *m = spsc_pop_wait(ring);

		if (m != BENCH_NOBLOCK)
			rte_pktmbuf_free(m);
	}
	return (0);
}

const struct bench_alloc bench_dpdk = {
	.ba_name = "dpdk",
	.ba_thread_init = dpdk_thread_init,
	.ba_thread_fini = dpdk_thread_fini,
	.ba_single = dpdk_single,
	.ba_burst = dpdk_burst,
	.ba_produce = dpdk_produce,
	.ba_consume = dpdk_consume,
};

/* The same pools, bursts with the bulk calls. */
const struct bench_alloc bench_dpdk_bulk = {
	.ba_name = "dpdk_bulk",
	.ba_thread_init = dpdk_thread_init,
	.ba_thread_fini = dpdk_thread_fini,
	.ba_single = dpdk_single,
	.ba_burst = dpdk_burst_bulk,
	.ba_produce = dpdk_produce,
	.ba_consume = dpdk_consume,
};
