/*
 * What bufcall costs allocb+freeb (2048 bytes, BPRI_MED, one thread):
 * nothing should be measurable while no one waits; with waiters, every
 * freeb folds its accounting and runs bufcall's due check.
 *
 * The waiters are ones that can never be satisfied during the run: memory
 * in use is held above the BPRI_LO threshold by blocks allocated at
 * BPRI_MED, and the waiters want 2048 bytes at BPRI_LO -- a size that fits
 * the budget easily (so bufcall records them) but is not admitted while
 * those blocks are held.  The timed allocb(2048, BPRI_MED) stays under the
 * MED threshold, so it always succeeds.
 *
 *	bufcall.fresh		no waiter has ever existed, nothing held
 *	bufcall.held		memory held above LO, no waiter yet
 *	bufcall.after		no waiter, after waiters came and went
 *	bufcall.waiters.N	N waiters registered (1, 16, 256)
 *
 * fresh and held are measured first, each on its own.  Then the other
 * four alternate, run by run: no waiter, 1 waiter, 16, 256, all
 * cancelled, and again; so their ratios do not depend on the machine's
 * drift.  "after" against "held" is the cost of bufcall to a freeb when
 * no one waits.
 */
#include "bench.h"

#include <sys/stream.h>
#include <sys/ustreams.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define	WAITERS_MAX	256
#define	NLEVELS		4		/* 0, 1, 16, 256 waiters */
#define	HOLD_MARGIN	(16 * 2560)	/* bytes above the LO threshold */

static const int levels[NLEVELS] = { 0, 1, 16, WAITERS_MAX };
static bufcall_id_t ids[WAITERS_MAX];
static int nwait;
static _Atomic int fired;

static void
never(void *arg)
{
	/* Cannot run while the blocks are held; counted if it does. */
	(*(_Atomic int *)arg)++;
}

static size_t
inuse(void)
{
	struct ustreams_memstat ms;

	return (ustreams_memstat(&ms) == 0 ? ms.ms_inuse : 0);
}

/* Register waiters until there are n; false when bufcall refuses. */
static bool
waiters(int n)
{
	while (nwait < n) {
		if ((ids[nwait] = bufcall(BENCH_SIZE, BPRI_LO, never,
		    &fired)) == 0)
			return (false);
		nwait++;
	}
	return (true);
}

static void
cancel_all(void)
{
	while (nwait > 0)
		unbufcall(ids[--nwait]);
}

static void
emit_single(const char *key)
{
	struct fig f = bench_measure(bench_loop_single, &bench_ustreams,
	    BENCH_SIZE, 1);

	bench_emit(key, &f);
}

/* The alternating runs of the four levels. */
static void
levels_measure(void)
{
	static double v[NLEVELS][128];
	int reps = bench_reps > 128 ? 128 : bench_reps;
	long n[NLEVELS];
	char key[64];

	for (int l = 0; l < NLEVELS; l++) {
		if (!waiters(levels[l])) {
			bench_skip("bufcall.waiters", "bufcall returned 0 "
			    "after %d waiters", nwait);
			cancel_all();
			return;
		}
		n[l] = bench_calibrate(bench_loop_single, &bench_ustreams,
		    BENCH_SIZE);
	}
	cancel_all();
	for (int i = 0; i < reps; i++) {
		for (int l = 0; l < NLEVELS; l++) {
			uint64_t t;

			(void) waiters(levels[l]);
			t = bench_now_ns();
			(void) bench_loop_single(&bench_ustreams, BENCH_SIZE,
			    n[l]);
			v[l][i] = (double)(bench_now_ns() - t) / (double)n[l];
		}
		cancel_all();
	}
	for (int l = 0; l < NLEVELS; l++) {
		struct fig f = bench_fig_of(v[l], reps);

		if (levels[l] == 0)
			(void) snprintf(key, sizeof (key), "bufcall.after");
		else
			(void) snprintf(key, sizeof (key),
			    "bufcall.waiters.%d", levels[l]);
		bench_emit(key, &f);
	}
}

void
bench_bufcall_cost(void)
{
	struct ustreams_memstat ms;
	mblk_t **held;
	size_t nheld = 0, maxheld;

	if (ustreams_memstat(&ms) != 0)
		return;
	maxheld = ms.ms_size / 2048;
	if ((held = calloc(maxheld, sizeof (*held))) == NULL)
		return;
	emit_single("bufcall.fresh");

	while (nheld < maxheld && inuse() < ms.ms_lo_limit + HOLD_MARGIN &&
	    (held[nheld] = allocb(BENCH_SIZE, BPRI_MED)) != NULL)
		nheld++;
	bench_emitf("bufcall.held_bytes", "%zu", inuse());
	bench_emitf("bufcall.lo_limit", "%zu", ms.ms_lo_limit);
	emit_single("bufcall.held");
	levels_measure();
	bench_emitf("bufcall.spurious_fired", "%d", fired);

	while (nheld > 0)
		freeb(held[--nheld]);
	free(held);
}
