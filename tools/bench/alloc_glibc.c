/*
 * glibc's malloc and free, in a program that links neither ustreams nor
 * jemalloc (bench-glibc): otherwise jemalloc would be the malloc timed.
 * The compiler may drop a malloc whose block nothing uses; bench_escape
 * keeps every block.
 */
#include "bench.h"
#include "spsc.h"

#include <stdlib.h>

static int
gl_single(size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(size);

		if (p == NULL)
			return (-1);
		bench_escape(p);
		free(p);
	}
	return (0);
}

static int
gl_burst(size_t size, long n, int burst)
{
	void *p[BENCH_BURST_MAX];

	for (long i = 0; i < n; i++) {
		for (int j = 0; j < burst; j++) {
			if ((p[j] = malloc(size)) == NULL) {
				while (j-- > 0)
					free(p[j]);
				return (-1);
			}
		}
		bench_escape(p);
		for (int j = 0; j < burst; j++)
			free(p[j]);
	}
	return (0);
}

static int
gl_produce(struct spsc *ring, size_t size, long n)
{
	int rc = 0;

	for (long i = 0; i < n; i++) {
		void *p = malloc(size);

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
gl_consume(struct spsc *ring, long n)
{
	for (long i = 0; i < n; i++) {
		void *p = spsc_pop_wait(ring);

		if (p != BENCH_NOBLOCK)
			free(p);
	}
	return (0);
}

const struct bench_alloc bench_glibc = {
	.ba_name = "glibc",
	.ba_single = gl_single,
	.ba_burst = gl_burst,
	.ba_produce = gl_produce,
	.ba_consume = gl_consume,
};
