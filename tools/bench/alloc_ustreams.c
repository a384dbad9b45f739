/*
 * The allocator under test: allocb(size, BPRI_MED) and freeb.
 *
 * Called from any thread of a booted instance; a thread's first allocb
 * makes its per-CPU caches (streams/strcache.c), which the benchmarks'
 * warm-up runs fill.  Neither call involves the executive.
 */
#include "bench.h"
#include "spsc.h"

#include <sys/stream.h>

static int
ust_single(size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		mblk_t *mp = allocb((int)size, BPRI_MED);

		if (mp == NULL)
			return (-1);
		freeb(mp);
	}
	return (0);
}

static int
ust_burst(size_t size, long n, int burst)
{
	mblk_t *mp[BENCH_BURST_MAX];

	for (long i = 0; i < n; i++) {
		for (int j = 0; j < burst; j++) {
			if ((mp[j] = allocb((int)size, BPRI_MED)) == NULL) {
				while (j-- > 0)
					freeb(mp[j]);
				return (-1);
			}
		}
		for (int j = 0; j < burst; j++)
			freeb(mp[j]);
	}
	return (0);
}

static int
ust_produce(struct spsc *ring, size_t size, long n)
{
	int rc = 0;

	for (long i = 0; i < n; i++) {
		mblk_t *mp = allocb((int)size, BPRI_MED);

		if (mp == NULL) {
			rc = -1;
			spsc_push_wait(ring, BENCH_NOBLOCK);
		} else {
			spsc_push_wait(ring, mp);
		}
	}
	return (rc);
}

static int
ust_consume(struct spsc *ring, long n)
{
	for (long i = 0; i < n; i++) {
		mblk_t *mp = spsc_pop_wait(ring);

		if (mp != BENCH_NOBLOCK)
			freeb(mp);
	}
	return (0);
}

const struct bench_alloc bench_ustreams = {
	.ba_name = "ustreams",
	.ba_single = ust_single,
	.ba_burst = ust_burst,
	.ba_produce = ust_produce,
	.ba_consume = ust_consume,
};
