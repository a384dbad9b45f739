/*
 * jemalloc as a user gets it: mallocx(size, 0) and dallocx(p, 0), the
 * default arena and the calling thread's cache.  (Linked with ustreams,
 * jemalloc is also the process's malloc.)  Its thread cache keeps a
 * bounded number of blocks per size class -- 20 for 2 KiB blocks in
 * jemalloc 5.3 -- so a longer burst goes to the arena.
 */
#include "bench.h"
#include "spsc.h"

#include <jemalloc/jemalloc.h>

static int
je_single(size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		void *p = mallocx(size, 0);

		if (p == NULL)
			return (-1);
		dallocx(p, 0);
	}
	return (0);
}

static int
je_burst(size_t size, long n, int burst)
{
	void *p[BENCH_BURST_MAX];

	for (long i = 0; i < n; i++) {
		for (int j = 0; j < burst; j++) {
			if ((p[j] = mallocx(size, 0)) == NULL) {
				while (j-- > 0)
					dallocx(p[j], 0);
				return (-1);
			}
		}
		for (int j = 0; j < burst; j++)
			dallocx(p[j], 0);
	}
	return (0);
}

static int
je_produce(struct spsc *ring, size_t size, long n)
{
	int rc = 0;

	for (long i = 0; i < n; i++) {
		void *p = mallocx(size, 0);

		if (p == NULL) {
			rc = -1;
			spsc_push_wait(ring, BENCH_NOBLOCK);
		} else {
			spsc_push_wait(ring, p);
		}
	}
	return (rc);
}

static int
je_consume(struct spsc *ring, long n)
{
	for (long i = 0; i < n; i++) {
		void *p = spsc_pop_wait(ring);

		if (p != BENCH_NOBLOCK)
			dallocx(p, 0);
	}
	return (0);
}

const struct bench_alloc bench_jemalloc = {
	.ba_name = "jemalloc",
	.ba_single = je_single,
	.ba_burst = je_burst,
	.ba_produce = je_produce,
	.ba_consume = je_consume,
};
