/*
 * bufcall latency under the threads executive: from the freeb that makes
 * memory available to the start of the callback that was waiting for it.
 *
 * Memory is filled with 2048-byte blocks at BPRI_LO until admission
 * refuses one, so that a bufcall(2048, BPRI_LO) is not due.  Then, many
 * times over: register the bufcall; read CLOCK_MONOTONIC; freeb one
 * block; the callback, on a service thread, reads the clock first thing.
 * The main thread waits for it (spinning, yielding now and then),
 * allocates the block again, sleeps 50 us so that the executive is idle
 * again, and goes round.  The freeb runs bufcall's due
 * check, which posts the callback to the executive; a service thread wakes
 * (a condition variable) and runs it.
 *
 *	bufcall.latency.*	freeb start to callback start (ns)
 *	bufcall.freeb.*		freeb start to freeb return, a waiter present
 *
 * as median, 99th and 99.9th percentiles.  BENCH_LAT_N sets the number
 * of samples (default 10000; the first 1% are a warm-up and dropped).
 */
#include "bench.h"

#include <sys/stream.h>
#include <sys/ustreams.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define	SAMPLES_DEFAULT	10000
#define	SETTLE_NS	50000	/* between samples */

struct wake {
	_Atomic uint64_t wk_t;		/* callback's clock reading */
	_Atomic int	wk_done;
};

static void
lat_callback(void *arg)
{
	struct wake *wk = arg;

	atomic_store_explicit(&wk->wk_t, bench_now_ns(), memory_order_relaxed);
	atomic_store_explicit(&wk->wk_done, 1, memory_order_release);
}

/*
 * Let the executive go idle again: the service thread that ran the
 * callback still has its bookkeeping to finish (the record's release,
 * the executive's own), and the next sample should start, as a real
 * one would, with every service thread asleep.
 */
static void
settle(void)
{
	struct timespec ts = { 0, SETTLE_NS };

	(void) nanosleep(&ts, NULL);
}

void
bench_bufcall_latency(void)
{
	struct ustreams_memstat ms;
	struct wake wk;
	const char *s = getenv("BENCH_LAT_N");
	int nsamp = s != NULL && atoi(s) > 0 ? atoi(s) : SAMPLES_DEFAULT;
	int warm = nsamp / 100, n = 0;
	double *lat, *fre;
	mblk_t **held;
	size_t nheld = 0, maxheld;

	if (ustreams_memstat(&ms) != 0)
		return;
	maxheld = ms.ms_size / 2048;
	held = calloc(maxheld, sizeof (*held));
	lat = calloc((size_t)nsamp, sizeof (*lat));
	fre = calloc((size_t)nsamp, sizeof (*fre));
	if (held == NULL || lat == NULL || fre == NULL)
		goto out;
	while (nheld < maxheld &&
	    (held[nheld] = allocb(BENCH_SIZE, BPRI_LO)) != NULL)
		nheld++;
	if (nheld == 0 || nheld == maxheld) {
		bench_skip("bufcall.latency", "cannot fill memory to the "
		    "BPRI_LO threshold (%zu blocks)", nheld);
		goto out;
	}
	for (int i = 0; i < warm + nsamp; i++) {
		uint64_t t0, t1;

		atomic_store(&wk.wk_done, 0);
		if (bufcall(BENCH_SIZE, BPRI_LO, lat_callback, &wk) == 0) {
			bench_skip("bufcall.latency", "bufcall returned 0");
			goto out;
		}
		t0 = bench_now_ns();
		freeb(held[--nheld]);
		t1 = bench_now_ns();
		while (atomic_load_explicit(&wk.wk_done,
		    memory_order_acquire) == 0)
			bench_cpu_relax();
		if (i >= warm) {
			lat[n] = (double)(atomic_load_explicit(&wk.wk_t,
			    memory_order_relaxed) - t0);
			fre[n] = (double)(t1 - t0);
			n++;
		}
		if ((held[nheld] = allocb(BENCH_SIZE, BPRI_LO)) == NULL) {
			bench_skip("bufcall.latency", "the freed block could "
			    "not be allocated again");
			break;
		}
		nheld++;
		settle();
	}
	bench_emit_latency("bufcall.latency", lat, n);
	bench_emit_latency("bufcall.freeb", fre, n);
out:
	while (nheld > 0)
		freeb(held[--nheld]);
	free(held);
	free(lat);
	free(fre);
}
