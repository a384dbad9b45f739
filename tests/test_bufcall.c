/*
 * bufcall, esbbcall, unbufcall.
 *
 * Under the sim executive everything is exact: callbacks run only when the
 * test runs events, so the order and the count of callbacks after each
 * step of freeing are written out.  Budget 1 MiB (1048576 bytes): the LO
 * threshold is 838860, MED 943718; allocb(2048) occupies 2560 bytes,
 * allocb(64) 192, an esballoc header 256, allocb(65536) 81920.
 */
#include "harness.h"

#include <sys/ddi.h>
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ustreams_stat.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define	MEM_1M		(1024 * 1024)
#define	MAXBLK		1024
#define	BC_MAX_TRY	1024	/* more records than a 1 MiB instance has */

/* The blocks a test holds, as a stack. */
static mblk_t *held[MAXBLK];
static int nheld;

static int
fill(int size, uint_t pri)
{
	int n = 0;

	while (nheld < MAXBLK && (held[nheld] = allocb(size, pri)) != NULL) {
		nheld++;
		n++;
	}
	return (n);
}

static void
release(int n)
{
	while (n-- > 0 && nheld > 0)
		freeb(held[--nheld]);
}

/* Free n held blocks whose buffer is bufsize bytes, newest first. */
static void
release_size(long bufsize, int n)
{
	for (int i = nheld - 1; i >= 0 && n > 0; i--) {
		if (MBLKSIZE(held[i]) != bufsize)
			continue;
		freeb(held[i]);
		memmove(&held[i], &held[i + 1], (size_t)(nheld - i - 1) *
		    sizeof (held[0]));
		nheld--;
		n--;
	}
	ck_assert_int_eq(n, 0);
}

#define	release_big(n)	release_size(2432, (n))

static size_t
inuse(void)
{
	struct ustreams_memstat ms;

	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	return (ms.ms_inuse);
}

/* Fill the budget to the last byte usable by 64-byte blocks. */
static void
fill_all(void)
{
	nheld = 0;
	(void) fill(2048, BPRI_HI);
	(void) fill(64, BPRI_HI);
	ck_assert_uint_gt(inuse(), MEM_1M - 192);
}

/* Callbacks append their tag to a trace, and check their context. */
static char trace[64];
static int ntrace;
static int wrong_ctx;

static void
cb_tag(void *arg)
{
	trace[ntrace++] = (char)(uintptr_t)arg;
	trace[ntrace] = '\0';
	if (ustreams_context() != USTREAMS_CTX_SERVICE)
		wrong_ctx++;
}

static struct ustreams_bufcallstat bs;

static void
bstat(void)
{
	ck_assert_int_eq(ustreams_bufcallstat(&bs), 0);
}

static void
assert_identity(void)
{
	bstat();
	for (int p = BPRI_LO; p <= BPRI_HI; p++)
		ck_assert_uint_eq(bs.bs_issued[p],
		    bs.bs_fired[p] + bs.bs_cancelled[p] + bs.bs_pending[p]);
}

static void
boot_sim(void)
{
	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	ntrace = 0;
	trace[0] = '\0';
	wrong_ctx = 0;
	nheld = 0;
}

START_TEST(bufcall_returns_nonzero_ids_and_zero_for_bad_requests)
{
	bufcall_id_t a, b;

	boot_sim();
	a = bufcall(100, BPRI_LO, cb_tag, (void *)'a');
	b = bufcall(100, BPRI_LO, cb_tag, (void *)'b');
	ck_assert_int_ne(a, 0);
	ck_assert_int_ne(b, 0);
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(bufcall(100, BPRI_LO, NULL, NULL), 0);
	ck_assert_int_eq(bufcall(MEM_1M + 1, BPRI_HI, cb_tag, (void *)'c'), 0);
	/* More than BPRI_LO may ever hold (838860 bytes), not than HI. */
	ck_assert_int_eq(bufcall(900000, BPRI_LO, cb_tag, (void *)'d'), 0);
	ck_assert_int_ne(bufcall(900000, BPRI_HI, cb_tag, (void *)'e'), 0);
	bstat();
	ck_assert_uint_eq(bs.bs_norecord, 3);
	ck_assert_uint_eq(bs.bs_issued[BPRI_LO], 2);
	ck_assert_uint_eq(bs.bs_issued[BPRI_HI], 1);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "abe");
}
END_TEST

/*
 * A request that allocb could meet with nothing else in use is recorded,
 * up to the byte: 1 MiB - 128 bytes of data occupy exactly the budget
 * (1 MiB, a size class of its own), and BPRI_HI may hold the budget.
 */
START_TEST(bufcall_accepts_a_request_of_exactly_what_pri_may_hold)
{
	mblk_t *mp;

	boot_sim();
	ck_assert_int_eq(bufcall(MEM_1M - 127, BPRI_HI, cb_tag,
	    (void *)'x'), 0);
	ck_assert_int_ne(bufcall(MEM_1M - 128, BPRI_HI, cb_tag,
	    (void *)'h'), 0);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "h");
	mp = allocb(MEM_1M - 128, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	ck_assert_uint_eq(inuse(), MEM_1M);
	freeb(mp);
	bstat();
	ck_assert_uint_eq(bs.bs_norecord, 1);
}
END_TEST

START_TEST(bufcall_never_calls_back_on_the_registering_stack)
{
	boot_sim();
	/* Memory is plentiful: the callback is due at once... */
	ck_assert_int_ne(bufcall(64, BPRI_HI, cb_tag, (void *)'x'), 0);
	/* ...but runs only from the executive, in service context. */
	ck_assert_int_eq(ntrace, 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_str_eq(trace, "x");
	ck_assert_int_eq(wrong_ctx, 0);
	assert_identity();
}
END_TEST

START_TEST(bufcall_callback_is_not_run_inside_freeb)
{
	boot_sim();
	fill_all();
	ck_assert_int_ne(bufcall(2048, BPRI_HI, cb_tag, (void *)'f'), 0);
	release_big(1);
	ck_assert_int_eq(ntrace, 0);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "f");
	release(nheld);
}
END_TEST

START_TEST(bufcall_due_callbacks_run_hi_then_med_then_lo_in_arrival_order)
{
	int blocks;
	size_t lo_limit = 838860, med_limit = 943718;

	boot_sim();
	fill_all();
	ck_assert_int_ne(bufcall(2048, BPRI_LO, cb_tag, (void *)'1'), 0);
	ck_assert_int_ne(bufcall(2048, BPRI_HI, cb_tag, (void *)'2'), 0);
	ck_assert_int_ne(bufcall(2048, BPRI_MED, cb_tag, (void *)'3'), 0);
	ck_assert_int_ne(bufcall(64, BPRI_HI, cb_tag, (void *)'4'), 0);
	ck_assert_int_ne(bufcall(2048, BPRI_LO, cb_tag, (void *)'5'), 0);
	ck_assert_int_ne(bufcall(2048, BPRI_MED, cb_tag, (void *)'6'), 0);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "");

	/*
	 * Free one 2048-byte block: 2560 bytes come back.  The HI 2048 waiter
	 * takes the projection to within 192 bytes of the budget again, so
	 * the HI 64 waiter, though in the same list, must wait.
	 */
	release_big(1);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "2");
	/* The callback took nothing: free nothing, and nothing more runs. */
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "2");

	/* One more block: now the HI 64 one is due. */
	release_big(1);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "24");

	/* Down to the MED threshold: MED waiters, in arrival order. */
	blocks = 0;
	while (inuse() + 2 * 2560 > med_limit) {
		release_big(1);
		blocks++;
	}
	ck_assert_int_gt(blocks, 0);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "2436");

	/* Still above LO: the LO waiters wait, though MED and HI succeed. */
	ck_assert_ptr_nonnull(held[nheld] = allocb(2048, BPRI_MED));
	nheld++;
	ck_assert_ptr_nonnull(held[nheld] = allocb(64, BPRI_HI));
	nheld++;
	release(2);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "2436");

	/* Down to the LO threshold: both LO waiters, first come first. */
	while (inuse() + 2 * 2560 > lo_limit)
		release_big(1);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "243615");
	ck_assert_int_eq(wrong_ctx, 0);
	assert_identity();
	bstat();
	ck_assert_uint_eq(bs.bs_fired[BPRI_HI], 2);
	ck_assert_uint_eq(bs.bs_fired[BPRI_MED], 2);
	ck_assert_uint_eq(bs.bs_fired[BPRI_LO], 2);
	ck_assert_uint_eq(bs.bs_spurious[BPRI_LO] + bs.bs_spurious[BPRI_MED] +
	    bs.bs_spurious[BPRI_HI], 0);
	release(nheld);
}
END_TEST

/*
 * A posted callback has not taken its memory yet: a second free before it
 * runs must not promise that memory to the next waiter too, or both would
 * run and one find allocb refusing.
 */
START_TEST(bufcall_memory_promised_to_a_posted_callback_is_not_promised_again)
{
	boot_sim();
	fill_all();
	ck_assert_int_ne(bufcall(2048, BPRI_HI, cb_tag, (void *)'a'), 0);
	ck_assert_int_ne(bufcall(2048, BPRI_HI, cb_tag, (void *)'b'), 0);
	release_big(1);		/* 2560 bytes back: 'a' is due, posted */
	release_size(64, 1);	/* 192 more: not 2560 more */
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "a");
	bstat();
	ck_assert_uint_eq(bs.bs_pending[BPRI_HI], 1);
	release_big(1);		/* now 'b' has memory of its own */
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "ab");
	assert_identity();
	release(nheld);
}
END_TEST

/*
 * Blocks freed by another thread, which keeps its CPU: its part of the
 * count is negative (not folded), so the global count alone overstates
 * what is in use.
 */
struct unfolded {
	pthread_barrier_t uf_bar;
	mblk_t		*uf_mp[4];
};

static void *
free_unfolded(void *arg)
{
	struct unfolded *uf = arg;

	for (int i = 0; i < 4; i++)
		freeb(uf->uf_mp[i]);
	(void) pthread_barrier_wait(&uf->uf_bar);	/* freed */
	(void) pthread_barrier_wait(&uf->uf_bar);	/* may exit */
	return (NULL);
}

START_TEST(bufcall_frees_not_folded_on_another_cpu_do_not_hide_a_due_waiter)
{
	const size_t lo = 838860;
	struct unfolded uf;
	pthread_t t;

	boot_sim();
	/* In use just above where a BPRI_LO 2048 waiter is due. */
	while (inuse() + 2560 <= lo) {
		ck_assert_ptr_nonnull(held[nheld] = allocb(2048, BPRI_MED));
		nheld++;
	}
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(uf.uf_mp[i] = allocb(2048, BPRI_MED));
	ck_assert_int_eq(pthread_barrier_init(&uf.uf_bar, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, free_unfolded, &uf), 0);
	(void) pthread_barrier_wait(&uf.uf_bar);

	ck_assert_int_eq(testb(2048, BPRI_LO), 0);
	ck_assert_int_ne(bufcall(2048, BPRI_LO, cb_tag, (void *)'n'), 0);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "");
	/*
	 * One more block back makes the waiter due; the global count still
	 * holds the other thread's four and says it is not.
	 */
	release_big(1);
	ck_assert_int_eq(testb(2048, BPRI_LO), 1);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "n");
	assert_identity();

	(void) pthread_barrier_wait(&uf.uf_bar);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	(void) pthread_barrier_destroy(&uf.uf_bar);
	release(nheld);
}
END_TEST

START_TEST(bufcall_large_waiter_is_not_woken_by_small_frees)
{
	boot_sim();
	fill_all();
	/* 65536 bytes need 81920: 32 blocks of 2560. */
	ck_assert_int_ne(bufcall(65536, BPRI_HI, cb_tag, (void *)'L'), 0);
	for (int i = 0; i < 31; i++) {
		release_big(1);
		ustreams_sim_run_idle();
		ck_assert_str_eq(trace, "");
	}
	release_big(1);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "L");
	release(nheld);
}
END_TEST

/*
 * With the budget full and a 65536-byte waiter (81920 bytes) left, free
 * big blocks one at a time: the first n make no check (bs_checks stays);
 * the next, which brings the blocks freed to 32 of 2560 bytes, 81920,
 * makes exactly one.  What falls due runs after each free.
 */
static void
release_big_until_81920_free(int n)
{
	uint64_t checks;

	bstat();
	checks = bs.bs_checks;
	for (int i = 0; i < n; i++) {
		release_big(1);
		bstat();
		ck_assert_uint_eq(bs.bs_checks, checks);
		ustreams_sim_run_idle();
	}
	release_big(1);
	bstat();
	ck_assert_uint_eq(bs.bs_checks, checks + 1);
	ustreams_sim_run_idle();
}

/*
 * A free checks only when its memory could make a waiter due: the frees
 * before the last one cannot, and make no check (bs_checks).
 */
START_TEST(bufcall_frees_that_cannot_make_a_waiter_due_make_no_check)
{
	boot_sim();
	fill_all();
	ck_assert_int_ne(bufcall(65536, BPRI_HI, cb_tag, (void *)'L'), 0);
	ck_assert_int_ne(bufcall(65536, BPRI_LO, cb_tag, (void *)'l'), 0);
	bstat();
	ck_assert_uint_ge(bs.bs_checks, 2);	/* one per registration */
	release_big_until_81920_free(31);
	ck_assert_str_eq(trace, "L");
	assert_identity();
	release(nheld);
}
END_TEST

/*
 * Once a check has posted the small waiter, only the large one is left:
 * frees that cannot make it due make no check again, whether the small
 * one's callback has run yet or not.
 */
START_TEST(bufcall_check_forgets_the_footprint_it_posted)
{
	boot_sim();
	fill_all();
	ck_assert_int_ne(bufcall(64, BPRI_HI, cb_tag, (void *)'s'), 0);
	ck_assert_int_ne(bufcall(65536, BPRI_HI, cb_tag, (void *)'L'), 0);
	release_big(1);				/* 2560: the small one is due */
	/* The first free comes while it is posted, the rest after its run. */
	release_big_until_81920_free(30);
	ck_assert_str_eq(trace, "sL");
	assert_identity();
	release(nheld);
}
END_TEST

START_TEST(bufcall_lo_waiter_waits_while_use_stays_above_lo)
{
	boot_sim();
	(void) fill(2048, BPRI_LO);
	(void) fill(2048, BPRI_MED);	/* up to the MED threshold */
	ck_assert_ptr_null(allocb(2048, BPRI_LO));
	ck_assert_int_ne(bufcall(2048, BPRI_LO, cb_tag, (void *)'l'), 0);
	/* Churn at MED and HI above the LO threshold. */
	for (int i = 0; i < 20; i++) {
		release(3);
		ck_assert_int_eq(fill(2048, BPRI_MED), 3);
		ustreams_sim_run_idle();
		ck_assert_str_eq(trace, "");
	}
	while (testb(2048, BPRI_LO) == 0)
		release(1);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "l");
	release(nheld);
}
END_TEST

START_TEST(unbufcall_before_firing_suppresses_the_callback)
{
	bufcall_id_t a, b;

	boot_sim();
	fill_all();
	a = bufcall(2048, BPRI_HI, cb_tag, (void *)'a');
	b = bufcall(2048, BPRI_HI, cb_tag, (void *)'b');
	unbufcall(a);			/* waiting */
	release_big(1);			/* b is now due: posted */
	unbufcall(b);			/* posted, not yet run */
	ck_assert_int_eq(ustreams_sim_run_idle(), 0);
	ck_assert_str_eq(trace, "");
	bstat();
	ck_assert_uint_eq(bs.bs_cancelled[BPRI_HI], 2);
	ck_assert_uint_eq(bs.bs_pending[BPRI_HI], 0);
	assert_identity();
	release(nheld);
}
END_TEST

/*
 * Memory promised to a posted callback that is then cancelled is free for
 * the next waiter at once, not at the next free.
 */
START_TEST(unbufcall_of_a_posted_request_passes_its_memory_on)
{
	bufcall_id_t a;

	boot_sim();
	fill_all();
	a = bufcall(2048, BPRI_HI, cb_tag, (void *)'a');
	ck_assert_int_ne(bufcall(2048, BPRI_HI, cb_tag, (void *)'b'), 0);
	release_big(1);			/* room for one: a is posted */
	unbufcall(a);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_str_eq(trace, "b");
	assert_identity();
	release(nheld);
}
END_TEST

/*
 * Once a waiting request is cancelled, its footprint no longer makes
 * frees check for it.
 */
START_TEST(unbufcall_of_the_smallest_waiter_stops_the_checks_for_it)
{
	bufcall_id_t s;

	boot_sim();
	fill_all();
	s = bufcall(64, BPRI_HI, cb_tag, (void *)'s');
	ck_assert_int_ne(bufcall(65536, BPRI_HI, cb_tag, (void *)'L'), 0);
	unbufcall(s);
	release_big_until_81920_free(31);
	ck_assert_str_eq(trace, "L");
	assert_identity();
	release(nheld);
}
END_TEST

START_TEST(unbufcall_of_unknown_or_spent_ids_is_harmless)
{
	bufcall_id_t a;

	boot_sim();
	unbufcall(0);
	unbufcall(12345);
	a = bufcall(64, BPRI_LO, cb_tag, (void *)'a');
	ustreams_sim_run_idle();
	unbufcall(a);
	unbufcall(a);
	ck_assert_str_eq(trace, "a");
	bstat();
	ck_assert_uint_eq(bs.bs_fired[BPRI_LO], 1);
	ck_assert_uint_eq(bs.bs_cancelled[BPRI_LO], 0);
	assert_identity();
}
END_TEST

static bufcall_id_t self_id;
static int self_returned;

static void
cb_unbufcall_self(void *arg)
{
	(void) arg;
	unbufcall(self_id);
	self_returned = 1;
}

/* Boot; make a request that cancels itself from its callback; run it. */
static void
run_a_self_cancelling_request(void)
{
	boot_sim();
	self_returned = 0;
	self_id = bufcall(64, BPRI_HI, cb_unbufcall_self, NULL);
	ck_assert_int_ne(self_id, 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(self_returned, 1);
}

START_TEST(unbufcall_from_inside_the_callback_returns_at_once)
{
	run_a_self_cancelling_request();
	bstat();
	ck_assert_uint_eq(bs.bs_fired[BPRI_HI], 1);
	ck_assert_uint_eq(bs.bs_cancelled[BPRI_HI], 0);
	assert_identity();
}
END_TEST

/*
 * A request cancelled from its own callback is spent once the callback
 * returns: its record serves one later request at a time, so requests
 * made afterwards are each called back, once, with their own argument.
 */
START_TEST(unbufcall_from_inside_the_callback_leaves_later_requests_intact)
{
	bufcall_id_t a, b;

	run_a_self_cancelling_request();
	a = bufcall(64, BPRI_HI, cb_tag, (void *)'a');
	b = bufcall(64, BPRI_HI, cb_tag, (void *)'b');
	ck_assert_int_ne(a, 0);
	ck_assert_int_ne(b, 0);
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(ustreams_sim_run_idle(), 2);
	ck_assert_str_eq(trace, "ab");
	bstat();
	ck_assert_uint_eq(bs.bs_fired[BPRI_HI], 3);
	ck_assert_uint_eq(bs.bs_pending[BPRI_HI], 0);
	assert_identity();
}
END_TEST

START_TEST(bufcall_callback_finding_memory_taken_is_spurious)
{
	mblk_t *thief;

	boot_sim();
	fill_all();
	ck_assert_int_ne(bufcall(2048, BPRI_HI, cb_tag, (void *)'s'), 0);
	release_big(1);			/* due: posted */
	thief = allocb(2048, BPRI_HI);	/* taken again before it runs */
	ck_assert_ptr_nonnull(thief);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "s");	/* still called, once */
	bstat();
	ck_assert_uint_eq(bs.bs_spurious[BPRI_HI], 1);
	freeb(thief);
	release(nheld);
}
END_TEST

START_TEST(esbbcall_waits_for_esballoc_admission)
{
	static unsigned char buf[16];
	frtn_t fr = { cb_tag, (void *)'F' };

	boot_sim();
	(void) fill(2048, BPRI_LO);
	(void) fill(64, BPRI_LO);
	ck_assert_ptr_null(esballoc(buf, 16, BPRI_LO, &fr));
	ck_assert_int_ne(esbbcall(BPRI_LO, cb_tag, (void *)'e'), 0);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "");
	release(2);			/* two 192-byte blocks: 384 >= 256 */
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "e");
	release(nheld);
}
END_TEST

START_TEST(bufcall_pending_at_shutdown_are_cancelled_and_reported)
{
	boot_sim();
	fill_all();
	harness_log_capture();
	(void) bufcall(2048, BPRI_HI, cb_tag, (void *)'a');
	(void) bufcall(2048, BPRI_LO, cb_tag, (void *)'b');
	release(nheld);
	/* Posted and waiting ones alike. */
	harness_shutdown();
	ck_assert_ptr_nonnull(harness_log_find("2 bufcall(s) still pending"));
	ck_assert_str_eq(trace, "");
}
END_TEST

/* The counters are the instance's: a new boot starts them from zero. */
START_TEST(bufcall_counters_start_from_zero_at_each_boot)
{
	boot_sim();
	ck_assert_int_ne(bufcall(64, BPRI_HI, cb_tag, (void *)'a'), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(bufcall(64, BPRI_LO, NULL, NULL), 0);
	bstat();
	ck_assert_uint_eq(bs.bs_issued[BPRI_HI], 1);
	ck_assert_uint_eq(bs.bs_norecord, 1);
	harness_shutdown();

	boot_sim();
	bstat();
	for (int p = BPRI_LO; p <= BPRI_HI; p++) {
		ck_assert_uint_eq(bs.bs_issued[p], 0);
		ck_assert_uint_eq(bs.bs_maxpending[p], 0);
		ck_assert_uint_eq(bs.bs_fired[p], 0);
	}
	ck_assert_uint_eq(bs.bs_norecord, 0);
	ck_assert_int_ne(bufcall(64, BPRI_HI, cb_tag, (void *)'b'), 0);
	ustreams_sim_run_idle();
	ck_assert_str_eq(trace, "b");
	bstat();
	ck_assert_uint_eq(bs.bs_issued[BPRI_HI], 1);
	ck_assert_uint_eq(bs.bs_fired[BPRI_HI], 1);
	assert_identity();
}
END_TEST

START_TEST(bufcall_records_beyond_the_reserve_come_from_kmem)
{
	bufcall_id_t id[300];

	size_t full;

	boot_sim();
	/* LO is full; records past the reserve come from what is left. */
	(void) fill(2048, BPRI_LO);
	full = inuse();
	for (int i = 0; i < 300; i++) {
		id[i] = bufcall(2048, BPRI_LO, cb_tag, (void *)'r');
		ck_assert_int_ne(id[i], 0);
	}
	ck_assert_uint_gt(inuse(), full);	/* records past the reserve */
	for (int i = 0; i < 300; i++)
		unbufcall(id[i]);
	ck_assert_uint_eq(inuse(), full);
	assert_identity();
	release(nheld);
}
END_TEST

static int calls[128];

static void
cb_count(void *arg)
{
	calls[(uintptr_t)arg]++;
}

/*
 * However many requests pend (more than the reserve holds), each has an
 * id of its own, and unbufcall of an id cancels that request and no other.
 */
START_TEST(bufcall_pending_ids_are_distinct_and_cancel_only_their_own)
{
	bufcall_id_t id[100];

	boot_sim();
	memset(calls, 0, sizeof (calls));
	(void) fill(2048, BPRI_LO);
	for (int i = 0; i < 100; i++) {
		id[i] = bufcall(2048, BPRI_LO, cb_count, (void *)(uintptr_t)i);
		ck_assert_int_ne(id[i], 0);
		for (int j = 0; j < i; j++)
			REQUIRE(id[i] != id[j], "requests %d and %d have id %d",
			    j, i, (int)id[i]);
	}
	for (int i = 0; i < 50; i++)
		unbufcall(id[i]);
	release(nheld);
	ustreams_sim_run_idle();
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(calls[i], i < 50 ? 0 : 1);
	bstat();
	ck_assert_uint_eq(bs.bs_cancelled[BPRI_LO], 50);
	ck_assert_uint_eq(bs.bs_fired[BPRI_LO], 50);
	assert_identity();
}
END_TEST

/*
 * With every byte of the budget in use, records past the reserve cannot
 * come from kmem: bufcall then returns 0, counts it, and keeps nothing.
 */
START_TEST(bufcall_without_a_record_returns_0_and_counts_it)
{
	bufcall_id_t id[BC_MAX_TRY];
	size_t full;
	int n;

	boot_sim();
	fill_all();
	full = inuse();
	for (n = 0; n < BC_MAX_TRY; n++) {
		if ((id[n] = bufcall(64, BPRI_HI, cb_tag, (void *)'n')) == 0)
			break;
	}
	ck_assert_int_lt(n, BC_MAX_TRY);
	ck_assert_int_ge(n, 16);		/* the reserve, at least */
	ck_assert_uint_le(inuse(), MEM_1M);
	bstat();
	ck_assert_uint_eq(bs.bs_norecord, 1);
	ck_assert_uint_eq(bs.bs_issued[BPRI_HI], (uint64_t)n);
	ck_assert_uint_eq(bs.bs_pending[BPRI_HI], (uint64_t)n);
	for (int i = 0; i < n; i++)
		unbufcall(id[i]);
	ck_assert_uint_eq(inuse(), full);
	assert_identity();
	release(nheld);
}
END_TEST

/*
 * Threads: many threads allocating to exhaustion, registering bufcalls,
 * freeing and cancelling concurrently.  No lost wake-up: every request not
 * cancelled is eventually called.  No callback after its unbufcall
 * returned.
 */
#define	NTHR		4
#define	WAIT_LIMIT_NS	(30ull * 1000000000ull)

struct waiter {
	_Atomic int	w_fired;
	_Atomic int	w_cancelled;	/* set after unbufcall returned */
};

static _Atomic long late_callbacks;
static _Atomic long total_ops;
static _Atomic long progress;		/* bumped every 64 operations */
static _Atomic long lost;
static long ops_per_thread;

static void
cb_waiter(void *arg)
{
	struct waiter *w = arg;

	if (atomic_load(&w->w_cancelled))
		atomic_fetch_add(&late_callbacks, 1);
	atomic_store(&w->w_fired, 1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

static void *
stress(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	mblk_t *mine[64];
	int n = 0;
	long ops = 0, iter = 0;
	static const int sizes[] = { 0, 64, 500, 1500, 2048, 9000 };

	while (ops < ops_per_thread) {
		int size = sizes[rand_r(&seed) % 6];

		if (++iter % 64 == 0)
			atomic_fetch_add_explicit(&progress, 1,
			    memory_order_relaxed);
		uint_t pri = (uint_t)(rand_r(&seed) % 3) + BPRI_LO;
		mblk_t *mp;

		if (n == 64 || (n > 0 && rand_r(&seed) % 3 == 0)) {
			freeb(mine[--n]);
			ops++;
			continue;
		}
		if ((mp = allocb(size, pri)) != NULL) {
			mine[n++] = mp;
			ops++;
			continue;
		}
		/* Refused: ask to be called back, then let go of memory. */
		struct waiter *w = calloc(1, sizeof (*w));
		bufcall_id_t id;

		/* A thread that fails stops: only the test waits for it. */
		if (!HELPER_CHECK(w != NULL, "no memory for a waiter"))
			break;
		id = bufcall((uint_t)size, (int)pri, cb_waiter, w);
		ops += 2;
		if (!HELPER_CHECK(id != 0, "bufcall(%d, %u) returned 0", size,
		    pri)) {
			free(w);
			break;
		}
		while (n > 0)
			freeb(mine[--n]);
		if (rand_r(&seed) % 2 == 0) {
			unbufcall(id);
			if (!atomic_load(&w->w_fired))
				atomic_store(&w->w_cancelled, 1);
			/* Fired before the cancel took: then it stays fired. */
			ops++;
		} else {
			/*
			 * Lost: not called back in 30 s in which no other
			 * thread got on either (a slow machine -- valgrind --
			 * only makes the others slower to let go of memory).
			 */
			uint64_t start = now_ns();
			long seen = atomic_load(&progress);

			while (!atomic_load(&w->w_fired)) {
				if (atomic_load(&progress) != seen) {
					seen = atomic_load(&progress);
					start = now_ns();
				}
				if (now_ns() - start > WAIT_LIMIT_NS) {
					atomic_fetch_add(&lost, 1);
					unbufcall(id);
					break;
				}
				sched_yield();
			}
		}
		unbufcall(id);		/* harmless now, either way */
		free(w);
	}
	while (n > 0)
		freeb(mine[--n]);
	atomic_fetch_add(&total_ops, ops);
	return (NULL);
}

START_TEST(threads_stress_no_lost_wakeup_no_late_callback)
{
	pthread_t t[NTHR];
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = USTREAMS_MEM_MIN;
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 2;
	harness_boot_cfg(&cfg);
	atomic_store(&late_callbacks, 0);
	atomic_store(&total_ops, 0);
	atomic_store(&progress, 0);
	atomic_store(&lost, 0);
	ops_per_thread = 1000000 / NTHR;	/* a million in all */
	for (int i = 0; i < NTHR; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, stress,
		    (void *)(uintptr_t)(i * 7919 + 1)), 0);
	for (int i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	harness_helpers_check();
	ck_assert_int_eq(atomic_load(&lost), 0);
	ck_assert_int_eq(atomic_load(&late_callbacks), 0);
	ck_assert_int_ge(atomic_load(&total_ops), ops_per_thread * NTHR);
	assert_identity();
	bstat();
	for (int p = BPRI_LO; p <= BPRI_HI; p++)
		ck_assert_uint_eq(bs.bs_pending[p], 0);
	ck_assert_uint_gt(bs.bs_issued[BPRI_LO] + bs.bs_issued[BPRI_MED] +
	    bs.bs_issued[BPRI_HI], 0);
	ck_assert_uint_eq(inuse(), 0);
}
END_TEST

static Suite *
bufcall_suite(void)
{
	Suite *s = suite_create("bufcall");
	TCase *tc = harness_tcase("sim", 30);
	TCase *tt = harness_tcase("threads", 600);

	tcase_add_test(tc,
	    bufcall_returns_nonzero_ids_and_zero_for_bad_requests);
	tcase_add_test(tc, bufcall_never_calls_back_on_the_registering_stack);
	tcase_add_test(tc, bufcall_callback_is_not_run_inside_freeb);
	tcase_add_test(tc,
	    bufcall_due_callbacks_run_hi_then_med_then_lo_in_arrival_order);
	tcase_add_test(tc,
	    bufcall_memory_promised_to_a_posted_callback_is_not_promised_again);
	tcase_add_test(tc,
	    bufcall_frees_not_folded_on_another_cpu_do_not_hide_a_due_waiter);
	tcase_add_test(tc, bufcall_large_waiter_is_not_woken_by_small_frees);
	tcase_add_test(tc,
	    bufcall_frees_that_cannot_make_a_waiter_due_make_no_check);
	tcase_add_test(tc, bufcall_lo_waiter_waits_while_use_stays_above_lo);
	tcase_add_test(tc, unbufcall_before_firing_suppresses_the_callback);
	tcase_add_test(tc, unbufcall_of_a_posted_request_passes_its_memory_on);
	tcase_add_test(tc,
	    unbufcall_of_the_smallest_waiter_stops_the_checks_for_it);
	tcase_add_test(tc, unbufcall_of_unknown_or_spent_ids_is_harmless);
	tcase_add_test(tc, unbufcall_from_inside_the_callback_returns_at_once);
	tcase_add_test(tc,
	    unbufcall_from_inside_the_callback_leaves_later_requests_intact);
	tcase_add_test(tc, bufcall_callback_finding_memory_taken_is_spurious);
	tcase_add_test(tc, esbbcall_waits_for_esballoc_admission);
	tcase_add_test(tc, bufcall_pending_at_shutdown_are_cancelled_and_reported);
	tcase_add_test(tc, bufcall_counters_start_from_zero_at_each_boot);
	tcase_add_test(tc, bufcall_records_beyond_the_reserve_come_from_kmem);
	tcase_add_test(tc, bufcall_without_a_record_returns_0_and_counts_it);
	tcase_add_test(tc,
	    bufcall_pending_ids_are_distinct_and_cancel_only_their_own);
	tcase_add_test(tc,
	    bufcall_accepts_a_request_of_exactly_what_pri_may_hold);
	tcase_add_test(tc, bufcall_check_forgets_the_footprint_it_posted);
	suite_add_tcase(s, tc);
	tcase_add_test(tt, threads_stress_no_lost_wakeup_no_late_callback);
	suite_add_tcase(s, tt);
	return (s);
}

int
main(void)
{
	return (harness_run(bufcall_suite()));
}
