/*
 * A model-based test of bufcall recovery (streams/bufcall.c): random
 * allocations at the three priorities in a small budget, frees, bufcalls
 * and esbbcalls for the refused ones, and cancellations, with the events
 * run after every step.  After every step it checks what the recovery
 * promises:
 *
 *  - no waiter is left waiting whose allocation would now be admitted
 *    (testb says no for every pending request): memory that came back
 *    reached everyone it could satisfy;
 *  - every callback that runs finds its allocation admitted at once
 *    (the projection: one returned block wakes the waiters it covers, not
 *    every waiter), so none is spurious;
 *  - a callback runs once, never after its request was cancelled, and
 *    requests of one priority and one footprint run in the order they
 *    were made;
 *  - priority: no request is left waiting while one of a lower priority
 *    and no smaller footprint, which waited with it, was called back;
 *  - the counters: per priority, issued == fired + cancelled + pending,
 *    pending as the model counts it, and nothing counted spurious.
 *
 * Each callback keeps the block it allocates, so memory stays short and
 * the waiting lists stay long.  Under the sim executive one thread does
 * everything and the counts are exact, so these hold exactly.
 * Deterministic seeds; a failure names seed and step.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ustreams.h>
#include <sys/ustreams_stat.h>

#include <stdint.h>
#include <string.h>

#define	BUDGET		(1024 * 1024)
#define	MAXHELD		2048
#define	MAXWAIT		48	/* requests waiting at once, at most */

#define	REQUIRE_AT(cond, what) REQUIRE((cond), "seed %u step %u: %s", \
	seed_now, step_now, (what))

static unsigned seed_now, step_now;

enum wstate { W_FREE, W_PENDING, W_FIRED, W_CANCELLED };

/* A request, as the model keeps it. */
struct waiter {
	enum wstate	w_state;
	bufcall_id_t	w_id;
	int		w_size;		/* allocb size; esbbcall: -1 */
	int		w_pri;
	unsigned	w_seq;		/* order of registration */
};

static struct waiter waiters[MAXWAIT];
static unsigned wseq;

/* The requests called back in this step. */
static struct waiter fired_now[MAXWAIT];
static int nfired_now;
static mblk_t *held[MAXHELD];
static int nheld;
static int nesbfree;		/* esballoc free routines run */
static int nesbheld;		/* esballoc blocks freed */
static unsigned char esb_buf[16];

/* The last registration order fired, by priority and size index. */
#define	NSIZES		8
static const int sizes[NSIZES] = {
	0, 100, 500, 1000, 2000, 5000, 20000, 100000
};
static long last_fired[4][NSIZES + 1];

static int
size_index(int size)
{
	for (int i = 0; i < NSIZES; i++) {
		if (sizes[i] == size)
			return (i);
	}
	return (NSIZES);	/* esbbcall */
}

static void
esb_free(void *arg)
{
	nesbfree++;
}

static frtn_t esb_frtn = { esb_free, NULL };

static void
hold(mblk_t *mp)
{
	REQUIRE_AT(nheld < MAXHELD, "too many blocks held");
	held[nheld++] = mp;
}

/* The callback: it must find its memory, and keeps it. */
static void
waiter_fired(void *arg)
{
	struct waiter *w = arg;
	int si = size_index(w->w_size);
	mblk_t *mp;

	REQUIRE(w->w_state == W_PENDING, "seed %u step %u: callback of "
	    "request %d in state %d", seed_now, step_now, w->w_id,
	    w->w_state);
	REQUIRE(ustreams_context() == USTREAMS_CTX_SERVICE, "seed %u step "
	    "%u: callback in context %d", seed_now, step_now,
	    ustreams_context());
	REQUIRE(last_fired[w->w_pri][si] < (long)w->w_seq, "seed %u step %u: "
	    "request %u (pri %d, size %d) ran after a later one", seed_now,
	    step_now, w->w_seq, w->w_pri, w->w_size);
	last_fired[w->w_pri][si] = (long)w->w_seq;
	w->w_state = W_FIRED;
	if (nfired_now < MAXWAIT)
		fired_now[nfired_now++] = *w;
	mp = w->w_size < 0 ? esballoc(esb_buf, sizeof (esb_buf),
	    (uint_t)w->w_pri, &esb_frtn) :
	    allocb(w->w_size, (uint_t)w->w_pri);
	REQUIRE(mp != NULL, "seed %u step %u: request %u (pri %d, size %d) "
	    "was called back but its allocation is refused", seed_now,
	    step_now, w->w_seq, w->w_pri, w->w_size);
	hold(mp);
}

static struct waiter *
waiter_slot(void)
{
	for (int i = 0; i < MAXWAIT; i++) {
		if (waiters[i].w_state != W_PENDING)
			return (&waiters[i]);
	}
	return (NULL);
}

static void op_free(void);

/* Allocate; when refused, maybe wait for the memory. */
static void
op_alloc(void)
{
	int size = sizes[harness_rnd(NSIZES)];
	int pri = BPRI_LO + (int)harness_rnd(3);
	bool esb = harness_rnd(10) == 0;
	struct waiter *w;
	mblk_t *mp;

	mp = esb ? esballoc(esb_buf, sizeof (esb_buf), (uint_t)pri,
	    &esb_frtn) : allocb(size, (uint_t)pri);
	if (mp != NULL) {
		hold(mp);
		return;
	}
	if (harness_rnd(10) < 3 || (w = waiter_slot()) == NULL)
		return;
	/* Now and then memory comes back before the bufcall is made. */
	if (harness_rnd(4) == 0)
		op_free();
	w->w_size = esb ? -1 : size;
	w->w_pri = pri;
	w->w_seq = ++wseq;
	w->w_state = W_PENDING;
	w->w_id = esb ? esbbcall(pri, waiter_fired, w) :
	    bufcall((uint_t)size, pri, waiter_fired, w);
	if (w->w_id == 0)
		w->w_state = W_FREE;	/* no record could be had */
}

static void
op_free(void)
{
	int i;

	if (nheld == 0)
		return;
	i = (int)harness_rnd((uint32_t)nheld);
	nesbheld += DB_FRTNP(held[i]) != NULL;
	freemsg(held[i]);
	held[i] = held[--nheld];
}

static void
op_cancel(void)
{
	int k = (int)harness_rnd(MAXWAIT);

	for (int i = 0; i < MAXWAIT; i++) {
		struct waiter *w = &waiters[(k + i) % MAXWAIT];

		if (w->w_state == W_PENDING) {
			unbufcall(w->w_id);
			w->w_state = W_CANCELLED;
			return;
		}
	}
	/* An id spent or never issued. */
	unbufcall((bufcall_id_t)(1 + harness_rnd(1000)));
}

/* The size whose footprint a request's is: an esbbcall's is allocb(100)'s. */
static int
eff_size(const struct waiter *w)
{
	return (w->w_size < 0 ? 100 : w->w_size);
}

/*
 * What recovery promises, checked once the events have run; seq0: the
 * last request made before this step.
 */
static void
check(unsigned seq0)
{
	struct ustreams_bufcallstat bs;
	uint64_t pending[4] = { 0 };

	for (int i = 0; i < MAXWAIT; i++) {
		struct waiter *w = &waiters[i];

		if (w->w_state != W_PENDING)
			continue;
		pending[w->w_pri]++;
		for (int j = 0; j < nfired_now && w->w_seq <= seq0; j++) {
			const struct waiter *v = &fired_now[j];

			REQUIRE(!(v->w_pri < w->w_pri &&
			    eff_size(w) <= eff_size(v)), "seed %u step %u: "
			    "request %u (pri %d, size %d) was called back "
			    "while %u (pri %d, size %d) still waits", seed_now,
			    step_now, v->w_seq, v->w_pri, v->w_size, w->w_seq,
			    w->w_pri, w->w_size);
		}
		/* An esbbcall's footprint (256 bytes) is allocb(128)'s. */
		REQUIRE(testb(w->w_size < 0 ? 128 : w->w_size,
		    (uint_t)w->w_pri) == 0, "seed %u step %u: request %u "
		    "(pri %d, size %d) still waits, but its allocation would "
		    "be admitted", seed_now, step_now, w->w_seq, w->w_pri,
		    w->w_size);
	}
	REQUIRE_AT(ustreams_bufcallstat(&bs) == 0, "ustreams_bufcallstat");
	for (int p = BPRI_LO; p <= BPRI_HI; p++) {
		REQUIRE(bs.bs_pending[p] == pending[p], "seed %u step %u: "
		    "pri %d: %llu pending, the model has %llu", seed_now,
		    step_now, p, (unsigned long long)bs.bs_pending[p],
		    (unsigned long long)pending[p]);
		REQUIRE_AT(bs.bs_issued[p] == bs.bs_fired[p] +
		    bs.bs_cancelled[p] + bs.bs_pending[p], "counter identity");
		REQUIRE_AT(bs.bs_spurious[p] == 0, "a spurious callback");
	}
}

static void
run(unsigned seed, unsigned steps)
{
	uint64_t fired = 0;
	struct ustreams_bufcallstat bs;

	harness_boot(BUDGET, USTREAMS_EXEC_SIM);
	harness_rnd_seed(seed);
	seed_now = seed;
	memset(waiters, 0, sizeof (waiters));
	memset(last_fired, 0, sizeof (last_fired));
	wseq = 0;
	nheld = 0;
	nesbfree = 0;
	nesbheld = 0;
	for (step_now = 0; step_now < steps; step_now++) {
		uint32_t r = harness_rnd(100);
		unsigned seq0 = wseq;

		nfired_now = 0;
		if (r < 50)
			op_alloc();
		else if (r < 92)
			op_free();
		else
			op_cancel();
		(void) ustreams_sim_run_idle();
		check(seq0);
	}
	ck_assert_int_eq(ustreams_bufcallstat(&bs), 0);
	for (int p = BPRI_LO; p <= BPRI_HI; p++)
		fired += bs.bs_fired[p];
	/* The run must have exercised recovery, not only refusals. */
	ck_assert_msg(fired > steps / 100, "seed %u: only %llu callbacks in "
	    "%u steps", seed, (unsigned long long)fired, steps);
	for (int i = 0; i < MAXWAIT; i++) {
		if (waiters[i].w_state == W_PENDING)
			unbufcall(waiters[i].w_id);
	}
	while (nheld > 0) {
		nesbheld += DB_FRTNP(held[nheld - 1]) != NULL;
		freemsg(held[--nheld]);
	}
	(void) ustreams_sim_run_idle();
	/* Every esballoc block's free routine ran, once. */
	ck_assert_int_eq(nesbfree, nesbheld);
	harness_assert_no_block_in_use("seed %u, at the end", seed);
	harness_shutdown();
}

START_TEST(test_random_bufcalls_wake_every_waiter_memory_can_satisfy)
{
	for (unsigned seed = 0; seed < 20; seed++)
		run(seed, 3000);
}
END_TEST

static Suite *
bufcall_model_suite(void)
{
	Suite *s = suite_create("bufcall_model");
	TCase *tc = harness_tcase("model", 300);

	tcase_add_test(tc,
	    test_random_bufcalls_wake_every_waiter_memory_can_satisfy);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(bufcall_model_suite()));
}
