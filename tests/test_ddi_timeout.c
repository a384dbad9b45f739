/*
 * Unit tests of ddi/: timeout(D3), untimeout(D3) and the drv_* clock
 * functions.
 *
 * The contract (sys/ddi.h, ddi/timeout.c, ddi/drv.c): a timeout's handler
 * runs once, in callout context, at the ticks-th clock tick boundary after
 * the call (HZ = 100: a tick is 10 ms; ticks <= 0 counts as 1), so
 * timeouts fire in the order of their deadlines.  untimeout cancels a
 * pending timeout, waits for a handler running on another thread, returns
 * at once when called from the handler itself, and is harmless for an
 * unknown or spent id.  Under sim, lbolt is virtual time in ticks and
 * drv_usecwait advances the virtual clock by exactly the wait.
 *
 * Under the threads executive only the order of events is asserted, never
 * how long anything took: waits are bounded generously, and the bound is
 * not the point of any test.
 */
#include "harness.h"

#include <sys/ddi.h>
#include <sys/kmem.h>
#include <sys/ustreams.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define	MIB		(1024u * 1024)
#define	WAIT_POLLS	20000		/* of 1 ms: a generous bound */

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	(void) nanosleep(&ts, NULL);
}

static bool
wait_at_least(atomic_int *v, int want)
{
	for (int i = 0; i < WAIT_POLLS && atomic_load(v) < want; i++)
		sleep_ms(1);
	return (atomic_load(v) >= want);
}

/*
 * Handlers append their tag and the time to a log.  They may run on the
 * callout thread, where a Check assertion must not be made: an overflow
 * is counted in fire_n and caught by the test's own count.
 */
#define	LOG_MAX		16

static atomic_int fire_n;
static int fire_tag[LOG_MAX];
static uint64_t fire_ns[LOG_MAX];
static pthread_mutex_t fire_lock = PTHREAD_MUTEX_INITIALIZER;

static void
log_fire(void *arg)
{
	int n;

	pthread_mutex_lock(&fire_lock);
	n = atomic_load(&fire_n);
	if (n < LOG_MAX) {
		fire_tag[n] = (int)(intptr_t)arg;
		fire_ns[n] = ustreams_now_ns();
	}
	atomic_store(&fire_n, n + 1);
	pthread_mutex_unlock(&fire_lock);
}

#define	TAG(n)	((void *)(intptr_t)(n))

/*
 * Sim: exact virtual times.
 */
START_TEST(test_timeout_3_ticks_at_time_0_fires_at_30ms)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(3), 3), 0);
	ck_assert_int_eq(ustreams_sim_run_until(29999999), 0);
	ck_assert_int_eq(fire_n, 0);
	ck_assert_int_eq(ustreams_sim_run_until(30000000), 1);
	ck_assert_int_eq(fire_n, 1);
	ck_assert_uint_eq(fire_ns[0], 30000000);
	harness_shutdown();
}
END_TEST

START_TEST(test_timeouts_fire_in_deadline_order_sim)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(5), 5), 0);
	ck_assert_int_ne(timeout(log_fire, TAG(1), 1), 0);
	ck_assert_int_ne(timeout(log_fire, TAG(3), 3), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 3);
	ck_assert_int_eq(fire_tag[0], 1);
	ck_assert_int_eq(fire_tag[1], 3);
	ck_assert_int_eq(fire_tag[2], 5);
	ck_assert_uint_eq(fire_ns[0], 10000000);
	ck_assert_uint_eq(fire_ns[1], 30000000);
	ck_assert_uint_eq(fire_ns[2], 50000000);
	harness_shutdown();
}
END_TEST

START_TEST(test_timeouts_with_the_same_deadline_fire_in_call_order)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(1), 2), 0);
	ck_assert_int_ne(timeout(log_fire, TAG(2), 2), 0);
	ck_assert_int_ne(timeout(log_fire, TAG(3), 2), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 3);
	ck_assert_int_eq(fire_tag[0], 1);
	ck_assert_int_eq(fire_tag[1], 2);
	ck_assert_int_eq(fire_tag[2], 3);
	ck_assert_uint_eq(fire_ns[2], 20000000);
	harness_shutdown();
}
END_TEST

/* Like lbolt-based callouts: due at a tick boundary, not now + 10 ms. */
START_TEST(test_timeout_fires_on_the_next_tick_boundary)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_sim_run_until(15000000), 0);
	ck_assert_int_ne(timeout(log_fire, TAG(1), 1), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_uint_eq(fire_ns[0], 20000000);
	harness_shutdown();
}
END_TEST

START_TEST(test_timeout_of_0_ticks_behaves_as_1_tick)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(0), 0), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_uint_eq(fire_ns[0], 10000000);
	harness_shutdown();
}
END_TEST

START_TEST(test_timeout_of_negative_ticks_behaves_as_1_tick)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(-5), -5), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_uint_eq(fire_ns[0], 10000000);
	harness_shutdown();
}
END_TEST

START_TEST(test_itimeout_ignores_the_priority_level)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(itimeout(log_fire, TAG(2), 2, plstr), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_uint_eq(fire_ns[0], 20000000);
	harness_shutdown();
}
END_TEST

START_TEST(test_timeout_ids_are_nonzero_and_distinct)
{
	toid_t a, b, c;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	a = timeout(log_fire, TAG(1), 1);
	b = timeout(log_fire, TAG(2), 1);
	c = timeout(log_fire, TAG(3), 1);
	ck_assert_int_ne(a, 0);
	ck_assert_int_ne(b, 0);
	ck_assert_int_ne(c, 0);
	ck_assert_int_ne(a, b);
	ck_assert_int_ne(b, c);
	ck_assert_int_ne(a, c);
	ck_assert_int_eq(ustreams_sim_run_idle(), 3);
	harness_shutdown();
}
END_TEST

/*
 * However many timeouts pend (300: more than one per residue mod 256),
 * each has an id of its own, and untimeout of an id cancels that timeout
 * and no other.
 */
#define	MANY_N		300

static int many_runs[MANY_N];

static void
count_fire(void *arg)
{
	many_runs[(intptr_t)arg]++;
}

START_TEST(test_ids_of_many_pending_timeouts_are_distinct)
{
	toid_t id[MANY_N];

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	memset(many_runs, 0, sizeof (many_runs));
	for (int i = 0; i < MANY_N; i++) {
		id[i] = timeout(count_fire, TAG(i), 1);
		ck_assert_int_ne(id[i], 0);
		for (int j = 0; j < i; j++)
			REQUIRE(id[i] != id[j], "timeouts %d and %d have id %d",
			    j, i, (int)id[i]);
	}
	for (int i = 0; i < MANY_N; i += 2)
		untimeout(id[i]);
	ck_assert_int_eq(ustreams_sim_run_idle(), MANY_N / 2);
	for (int i = 0; i < MANY_N; i++)
		ck_assert_int_eq(many_runs[i], i % 2);
	harness_shutdown();
}
END_TEST

START_TEST(test_timeout_returns_0_without_an_instance_or_a_handler)
{
	ck_assert_int_eq(timeout(log_fire, NULL, 1), 0);
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(timeout(NULL, NULL, 1), 0);
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_timeout_returns_0_when_the_budget_is_used_up)
{
	static void *blk[256];

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	for (int i = 0; i < 256; i++)
		ck_assert_ptr_nonnull(blk[i] = kmem_alloc(4096, KM_NOSLEEP));
	ck_assert_int_eq(timeout(log_fire, NULL, 1), 0);
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	for (int i = 0; i < 256; i++)
		kmem_free(blk[i], 4096);
	harness_shutdown();
}
END_TEST

START_TEST(test_untimeout_before_firing_suppresses_it)
{
	struct ustreams_memstat ms;
	toid_t id;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	id = timeout(log_fire, TAG(1), 2);
	ck_assert_int_ne(id, 0);
	untimeout(id);
	ck_assert_int_eq(ustreams_sim_run_idle(), 0);
	ck_assert_int_eq(ustreams_sim_run_until(100000000), 0);
	ck_assert_int_eq(fire_n, 0);
	/* The record went back to the budget. */
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_untimeout_of_an_unknown_id_is_harmless)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(1), 1), 0);
	untimeout(0);
	untimeout(12345);
	untimeout(-1);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(fire_n, 1);
	harness_shutdown();
}
END_TEST

START_TEST(test_untimeout_of_a_fired_id_is_harmless)
{
	struct ustreams_memstat ms;
	toid_t a;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	a = timeout(log_fire, TAG(1), 1);
	ck_assert_int_ne(a, 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_ne(timeout(log_fire, TAG(2), 1), 0);
	untimeout(a);
	untimeout(a);
	/* The other, pending, timeout is untouched. */
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(fire_n, 2);
	ck_assert_int_eq(fire_tag[1], 2);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_untimeout_without_an_instance_is_harmless)
{
	untimeout(1);
}
END_TEST

/* A handler that cancels the timeout whose id it is given. */
static atomic_int self_id;
static atomic_int self_returned;

static void
untimeout_self(void *arg)
{
	/* Under threads the id is stored after timeout() returns. */
	while (atomic_load(&self_id) == 0)
		sleep_ms(1);
	untimeout(atomic_load(&self_id));
	atomic_store(&self_returned, 1);
}

START_TEST(test_untimeout_from_inside_the_handler_returns_at_once_sim)
{
	struct ustreams_memstat ms;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	atomic_store(&self_id, timeout(untimeout_self, NULL, 1));
	ck_assert_int_ne(self_id, 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(self_returned, 1);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	harness_shutdown();
}
END_TEST

static toid_t victim_id;

static void
cancel_victim(void *arg)
{
	untimeout(victim_id);
}

START_TEST(test_a_handler_may_cancel_another_pending_timeout)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(cancel_victim, NULL, 1), 0);
	victim_id = timeout(log_fire, TAG(9), 2);
	ck_assert_int_ne(victim_id, 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(fire_n, 0);
	harness_shutdown();
}
END_TEST

/*
 * A handler that cancels itself and then sets more timeouts: every one of
 * them can be cancelled once it returns.  (256 of them: enough for ids
 * of every residue a table of the pending ones could be keyed by.)
 */
#define	REARM_N		256

static toid_t rearm_ids[REARM_N];

static void
untimeout_self_then_arm(void *arg)
{
	(void) arg;
	untimeout(atomic_load(&self_id));
	for (int i = 0; i < REARM_N; i++)
		rearm_ids[i] = timeout(log_fire, TAG(i), 1);
	atomic_store(&self_returned, 1);
}

START_TEST(test_timeouts_armed_after_untimeout_of_self_can_be_cancelled)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	atomic_store(&self_id, timeout(untimeout_self_then_arm, NULL, 1));
	ck_assert_int_ne(self_id, 0);
	/* It runs at 10 ms; what it sets is due at 20 ms. */
	ck_assert_int_eq(ustreams_sim_run_until(10000000), 1);
	ck_assert_int_eq(self_returned, 1);
	for (int i = 0; i < REARM_N; i++) {
		ck_assert_int_ne(rearm_ids[i], 0);
		untimeout(rearm_ids[i]);
	}
	ck_assert_int_eq(ustreams_sim_run_idle(), 0);
	ck_assert_int_eq(fire_n, 0);
	harness_shutdown();
}
END_TEST

/* A shutdown refuses timeouts for that instance only, not the next. */
START_TEST(test_timeout_works_again_after_shutdown_and_a_new_boot)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(1), 1), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	harness_shutdown();

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(2), 3), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(fire_n, 2);
	ck_assert_int_eq(fire_tag[1], 2);
	ck_assert_uint_eq(fire_ns[1], 30000000);
	harness_shutdown();
}
END_TEST

START_TEST(test_shutdown_cancels_pending_timeouts_and_says_so)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	harness_log_capture();
	ck_assert_int_ne(timeout(log_fire, TAG(1), 1), 0);
	harness_shutdown();
	ck_assert_str_eq(harness_log_find("timeout"), "2:ustreams_shutdown: "
	    "1 timeout(s) still pending, cancelled");
	/* The record was freed before the region went. */
	ck_assert_ptr_null(harness_log_find("still in use"));
	ck_assert_int_eq(fire_n, 0);
}
END_TEST

/*
 * Threads: order and waiting, never durations.
 */
START_TEST(test_timeouts_fire_in_deadline_order_threads)
{
	static const int ticks[4] = { 20, 15, 10, 5 };
	clock_t before, after;
	toid_t id[4];

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	/*
	 * Deadlines 5 ticks apart, latest first.  Each is counted from the
	 * tick of its own call: should the four calls straddle 5 ticks or
	 * more (a slow machine; valgrind), two deadlines could tie or
	 * cross, so that try proves nothing and is made again.
	 */
	for (int tries = 0;; tries++) {
		ck_assert_int_lt(tries, 10);
		ck_assert_int_eq(drv_getparm(LBOLT, &before), 0);
		for (int i = 0; i < 4; i++) {
			id[i] = timeout(log_fire, TAG(ticks[i]), ticks[i]);
			ck_assert_int_ne(id[i], 0);
		}
		ck_assert_int_eq(drv_getparm(LBOLT, &after), 0);
		if (after - before < 5)
			break;
		for (int i = 0; i < 4; i++)
			untimeout(id[i]);
		atomic_store(&fire_n, 0);
	}
	ck_assert(wait_at_least(&fire_n, 4));
	ck_assert_int_eq(fire_tag[0], 5);
	ck_assert_int_eq(fire_tag[1], 10);
	ck_assert_int_eq(fire_tag[2], 15);
	ck_assert_int_eq(fire_tag[3], 20);
	harness_shutdown();
}
END_TEST

/*
 * A handler that holds the callout thread until the test lets it go: while
 * it runs, no other timeout can fire, whatever the clock says.
 */
static atomic_int block_entered, block_release;

static void
block_callouts(void *arg)
{
	atomic_store(&block_entered, 1);
	while (atomic_load(&block_release) == 0)
		sleep_ms(1);
}

START_TEST(test_untimeout_before_firing_suppresses_it_threads)
{
	toid_t id;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	ck_assert_int_ne(timeout(block_callouts, NULL, 1), 0);
	ck_assert(wait_at_least(&block_entered, 1));
	id = timeout(log_fire, TAG(1), 1);
	ck_assert_int_ne(id, 0);
	untimeout(id);
	/* A later deadline: had the first not been cancelled, it ran first. */
	ck_assert_int_ne(timeout(log_fire, TAG(2), 2), 0);
	atomic_store(&block_release, 1);
	ck_assert(wait_at_least(&fire_n, 1));
	ck_assert_int_eq(fire_tag[0], 2);
	harness_shutdown();
	ck_assert_int_eq(fire_n, 1);
}
END_TEST

START_TEST(test_untimeout_from_inside_the_handler_returns_at_once_threads)
{
	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	atomic_store(&self_id, timeout(untimeout_self, NULL, 1));
	ck_assert_int_ne(self_id, 0);
	ck_assert(wait_at_least(&self_returned, 1));
	harness_shutdown();
}
END_TEST

/* The handler takes a while; untimeout must wait for it to return. */
static atomic_int slow_entered, slow_finished;

static void
slow_handler(void *arg)
{
	atomic_store(&slow_entered, 1);
	sleep_ms(50);
	atomic_store(&slow_finished, 1);
}

START_TEST(test_untimeout_waits_for_a_running_handler_threads)
{
	toid_t id;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	id = timeout(slow_handler, NULL, 1);
	ck_assert_int_ne(id, 0);
	ck_assert(wait_at_least(&slow_entered, 1));
	untimeout(id);
	ck_assert_int_eq(slow_finished, 1);
	harness_shutdown();
}
END_TEST

/*
 * Threads stress: several threads each issue batches of timeouts due at
 * the next tick or two, pause a little, and cancel them all, so that
 * untimeout meets timeouts pending, due, running and done.  When untimeout
 * returns, the handler has run (once) or never will: the handler's own
 * count must equal the fired count the threads saw.
 */
#define	RC_THREADS	4
#define	RC_BATCHES	8
#define	RC_BATCH	32

struct rc_rec {
	atomic_int	rr_fired;
	toid_t		rr_id;
};

static struct rc_rec rc_recs[RC_THREADS][RC_BATCHES * RC_BATCH];
static atomic_long rc_handler_runs, rc_issued, rc_fired, rc_cancelled;
static atomic_long rc_refused;

static void
rc_fire(void *arg)
{
	struct rc_rec *rr = arg;

	atomic_fetch_add(&rr->rr_fired, 1);
	atomic_fetch_add(&rc_handler_runs, 1);
}

static void *
rc_thread(void *arg)
{
	struct rc_rec *recs = arg;
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int b = 0; b < RC_BATCHES; b++) {
		struct rc_rec *batch = &recs[b * RC_BATCH];

		for (int k = 0; k < RC_BATCH; k++) {
			batch[k].rr_id = timeout(rc_fire, &batch[k], 1 + k % 2);
			if (batch[k].rr_id == 0)
				atomic_fetch_add(&rc_refused, 1);
			else
				atomic_fetch_add(&rc_issued, 1);
		}
		sleep_ms(rand_r(&seed) % 16);
		for (int k = 0; k < RC_BATCH; k++) {
			if (batch[k].rr_id == 0)
				continue;
			untimeout(batch[k].rr_id);
			if (atomic_load(&batch[k].rr_fired) != 0)
				atomic_fetch_add(&rc_fired, 1);
			else
				atomic_fetch_add(&rc_cancelled, 1);
		}
	}
	return (NULL);
}

START_TEST(test_timeout_untimeout_race_accounts_for_every_timeout)
{
	pthread_t t[RC_THREADS];
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = MIB;
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 4;
	harness_boot_cfg(&cfg);
	harness_log_capture();
	for (int i = 0; i < RC_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, rc_thread,
		    rc_recs[i]), 0);
	for (int i = 0; i < RC_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);

	ck_assert_int_eq(rc_refused, 0);
	/* 4 threads x 8 batches x 32 timeouts. */
	ck_assert_int_eq(rc_issued, 1024);
	ck_assert_int_eq(rc_fired + rc_cancelled, 1024);
	ck_assert_int_eq(rc_handler_runs, rc_fired);
	for (int i = 0; i < RC_THREADS; i++) {
		for (int k = 0; k < RC_BATCHES * RC_BATCH; k++)
			ck_assert_int_le(rc_recs[i][k].rr_fired, 1);
	}
	harness_shutdown();
	/* Nothing was left pending and every record went back. */
	ck_assert_ptr_null(harness_log_find("still pending"));
	ck_assert_ptr_null(harness_log_find("still in use"));
	/* No handler ran after its untimeout returned. */
	ck_assert_int_eq(rc_handler_runs, rc_fired);
}
END_TEST

/*
 * drv_getparm, drv_usectohz, drv_hztousec, drv_usecwait.
 */
START_TEST(test_lbolt_under_sim_is_virtual_time_in_10ms_ticks)
{
	clock_t lbolt = -1;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(drv_getparm(LBOLT, &lbolt), 0);
	ck_assert_int_eq(lbolt, 0);
	ck_assert_int_eq(ustreams_sim_run_until(123456789), 0);
	ck_assert_int_eq(drv_getparm(LBOLT, &lbolt), 0);
	ck_assert_int_eq(lbolt, 12);
	ck_assert_int_eq(ustreams_sim_run_until(130000000), 0);
	ck_assert_int_eq(drv_getparm(LBOLT, &lbolt), 0);
	ck_assert_int_eq(lbolt, 13);
	harness_shutdown();
}
END_TEST

START_TEST(test_time_under_sim_starts_at_2000_01_01)
{
	time_t t = -1;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(drv_getparm(TIME, &t), 0);
	ck_assert_int_eq(t, 946684800);
	ck_assert_int_eq(ustreams_sim_run_until(3500000000ull), 0);
	ck_assert_int_eq(drv_getparm(TIME, &t), 0);
	ck_assert_int_eq(t, 946684803);
	harness_shutdown();
}
END_TEST

START_TEST(test_drv_getparm_unsupported_parameters_return_minus_1)
{
	long v = 42;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(drv_getparm(UPROCP, &v), -1);
	ck_assert_int_eq(drv_getparm(PPGRP, &v), -1);
	ck_assert_int_eq(drv_getparm(PPID, &v), -1);
	ck_assert_int_eq(drv_getparm(PSID, &v), -1);
	ck_assert_int_eq(drv_getparm(UCRED, &v), -1);
	ck_assert_int_eq(drv_getparm(99, &v), -1);
	ck_assert_int_eq(v, 42);
	harness_shutdown();
}
END_TEST

START_TEST(test_drv_getparm_without_an_instance_returns_minus_1)
{
	clock_t lbolt = 42;

	ck_assert_int_eq(drv_getparm(LBOLT, &lbolt), -1);
	ck_assert_int_eq(lbolt, 42);
}
END_TEST

START_TEST(test_drv_usectohz_rounds_up)
{
	ck_assert_int_eq(drv_usectohz(0), 0);
	ck_assert_int_eq(drv_usectohz(1), 1);
	ck_assert_int_eq(drv_usectohz(10000), 1);
	ck_assert_int_eq(drv_usectohz(10001), 2);
	ck_assert_int_eq(drv_usectohz(1000000), 100);
	ck_assert_int_eq(drv_usectohz(-5), 0);
}
END_TEST

START_TEST(test_drv_hztousec)
{
	ck_assert_int_eq(drv_hztousec(0), 0);
	ck_assert_int_eq(drv_hztousec(1), 10000);
	ck_assert_int_eq(drv_hztousec(250), 2500000);
	ck_assert_int_eq(drv_hztousec(-1), 0);
}
END_TEST

START_TEST(test_drv_hztousec_saturates)
{
	/* The largest count that converts exactly, and the next. */
	const clock_t top = LONG_MAX / 10000;

	ck_assert_int_eq(drv_hztousec(top), top * 10000);
	ck_assert_int_eq(drv_hztousec(top + 1), LONG_MAX);
	ck_assert_int_eq(drv_hztousec(LONG_MAX), LONG_MAX);
}
END_TEST

START_TEST(test_drv_usecwait_under_sim_advances_the_clock_by_the_wait)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	drv_usecwait(25);
	ck_assert_uint_eq(ustreams_now_ns(), 25000);
	drv_usecwait(1000000);
	ck_assert_uint_eq(ustreams_now_ns(), 1000025000);
	drv_usecwait(0);
	ck_assert_uint_eq(ustreams_now_ns(), 1000025000);
	drv_usecwait(-5);			/* no wait at all */
	ck_assert_uint_eq(ustreams_now_ns(), 1000025000);
	harness_shutdown();
}
END_TEST

START_TEST(test_drv_usecwait_under_sim_runs_no_events)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(log_fire, TAG(1), 1), 0);
	drv_usecwait(20000);
	ck_assert_uint_eq(ustreams_now_ns(), 20000000);
	ck_assert_int_eq(fire_n, 0);
	ck_assert_int_eq(ustreams_sim_pending(), 1);
	/* Overdue: it runs when the sim next runs events, at the clock. */
	ck_assert_int_eq(ustreams_sim_run_until(20000000), 1);
	ck_assert_uint_eq(fire_ns[0], 20000000);
	harness_shutdown();
}
END_TEST


/*
 * A timeout of LONG_MAX ticks -- "never" -- does not fire: a due time past
 * what the clock can count is the end of time, not a wrap into the past.
 */
START_TEST(test_timeout_of_long_max_ticks_does_not_fire)
{
	toid_t id;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	(void) ustreams_sim_run_until(15000000);	/* lbolt 1 */
	id = timeout(log_fire, TAG(1), LONG_MAX);
	ck_assert_int_ne(id, 0);
	(void) ustreams_sim_run_until(1000000000ull);	/* one second */
	ck_assert_msg(fire_n == 0, "timeout(LONG_MAX) fired at %llu ns",
	    (unsigned long long)fire_ns[0]);
	untimeout(id);
	harness_shutdown();
}
END_TEST

/*
 * A timeout due near the end of time (threads executive) leaves the
 * callout thread asleep: its absolute wake-up time, boot epoch + due
 * time, must not wrap into the past and make every timed wait return at
 * once.
 */
static double
cpu_seconds(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

START_TEST(test_a_far_timeout_leaves_the_callout_thread_idle)
{
	const long top = 1844674407370L;	/* ticks below 2^64 ns */
	double before, used;
	clock_t lbolt;
	toid_t id;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	sleep_ms(20);
	before = cpu_seconds();
	ck_assert_int_eq(drv_getparm(LBOLT, &lbolt), 0);
	id = timeout(log_fire, TAG(1), top - (long)lbolt - 1);
	ck_assert_int_ne(id, 0);
	sleep_ms(500);
	used = cpu_seconds() - before;
	untimeout(id);
	ck_assert_int_eq(fire_n, 0);
	/*
	 * A callout thread that spins burns the whole 0.5 s.  Half of that
	 * leaves room for what else the process does meanwhile: valgrind
	 * translating code, the sanitizers' own threads.
	 */
	ck_assert_msg(used < 0.25, "%.3f s of CPU in 0.5 s of an idle "
	    "instance with one far timeout pending", used);
	harness_shutdown();
}
END_TEST


/*
 * Shutdown cancels a watchdog that is running when the scan of the hash
 * buckets reaches it (threads executive) and re-arms itself into a bucket
 * the scan has already passed.  Ids are issued 1, 2, ... from boot, so
 * the watchdog below is id 255 (bucket 255) and re-arms as id 256
 * (bucket 0).
 */
static atomic_int wd_entered, wd_runs;

static void
wd_handler(void *arg)
{
	atomic_store(&wd_entered, 1);
	atomic_fetch_add(&wd_runs, 1);
	sleep_ms(100);		/* still running when shutdown comes */
	(void) timeout(wd_handler, NULL, 1);
}

START_TEST(test_shutdown_cancels_a_watchdog_that_rearms_while_running)
{
	toid_t id = 0;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	harness_log_capture();
	for (int i = 1; i < 255; i++) {
		id = timeout(log_fire, NULL, 1000);
		ck_assert_int_eq(id, i);
		untimeout(id);
	}
	ck_assert_int_eq(timeout(wd_handler, NULL, 1), 255);
	ck_assert(wait_at_least(&wd_entered, 1));
	harness_shutdown();
}
END_TEST


/*
 * Once shutdown has begun, timeout refuses with 0.  The handler below
 * (threads executive) sets and cancels timeouts until one is refused: it
 * returns only if shutdown, which waits for it, makes timeout say 0.
 */
static atomic_int sd_entered, sd_refused;

static void
arm_until_refused(void *arg)
{
	toid_t id;

	(void) arg;
	atomic_store(&sd_entered, 1);
	while ((id = timeout(log_fire, NULL, 1000)) != 0)
		untimeout(id);
	atomic_store(&sd_refused, 1);
}

START_TEST(test_timeout_returns_0_once_shutdown_has_begun)
{
	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	harness_log_capture();
	ck_assert_int_ne(timeout(arm_until_refused, NULL, 1), 0);
	ck_assert(wait_at_least(&sd_entered, 1));
	ck_assert_int_eq(atomic_load(&sd_refused), 0);
	harness_shutdown();
	ck_assert_int_eq(atomic_load(&sd_refused), 1);
	ck_assert_int_eq(fire_n, 0);
}
END_TEST

/*
 * drv_usecwait of LONG_MAX microseconds (past 2^64 ns) does not move the
 * sim clock back: the wait saturates.
 */
START_TEST(test_drv_usecwait_of_long_max_does_not_move_the_clock_back)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	(void) ustreams_sim_run_until(1000000000ull);
	drv_usecwait(LONG_MAX);
	ck_assert_msg(ustreams_now_ns() >= 1000000000ull,
	    "the clock went back from 1000000000 to %llu ns",
	    (unsigned long long)ustreams_now_ns());
	harness_shutdown();
}
END_TEST

/*
 * Under ThreadSanitizer the tests share one process (CK_FORK=no): each
 * starts from fresh statics, with the log captured (panics expected by a
 * test stay off stderr), and harness_tcase shuts down what it leaves.
 */
static void
reset_statics(void)
{
	harness_log_capture();
	atomic_store(&fire_n, 0);
	memset(fire_tag, 0, sizeof (fire_tag));
	memset(fire_ns, 0, sizeof (fire_ns));
	atomic_store(&block_entered, 0);
	atomic_store(&block_release, 0);
	atomic_store(&self_id, 0);
	atomic_store(&self_returned, 0);
	victim_id = 0;
	memset(rearm_ids, 0, sizeof (rearm_ids));
	atomic_store(&slow_entered, 0);
	atomic_store(&slow_finished, 0);
	memset(rc_recs, 0, sizeof (rc_recs));
	atomic_store(&rc_handler_runs, 0);
	atomic_store(&rc_issued, 0);
	atomic_store(&rc_fired, 0);
	atomic_store(&rc_cancelled, 0);
	atomic_store(&rc_refused, 0);
	atomic_store(&wd_entered, 0);
	atomic_store(&sd_entered, 0);
	atomic_store(&sd_refused, 0);
	atomic_store(&wd_runs, 0);
}

static TCase *
ddi_tcase(const char *name, double timeout)
{
	TCase *tc = harness_tcase(name, timeout);

	tcase_add_checked_fixture(tc, reset_statics, NULL);
	return (tc);
}

static Suite *
timeout_suite(void)
{
	Suite *s = suite_create("ddi_timeout");
	TCase *tc;

	tc = ddi_tcase("timeout_sim", 10);
	tcase_add_test(tc, test_timeout_3_ticks_at_time_0_fires_at_30ms);
	tcase_add_test(tc, test_timeouts_fire_in_deadline_order_sim);
	tcase_add_test(tc,
	    test_timeouts_with_the_same_deadline_fire_in_call_order);
	tcase_add_test(tc, test_timeout_fires_on_the_next_tick_boundary);
	tcase_add_test(tc, test_timeout_of_0_ticks_behaves_as_1_tick);
	tcase_add_test(tc, test_timeout_of_negative_ticks_behaves_as_1_tick);
	tcase_add_test(tc, test_itimeout_ignores_the_priority_level);
	tcase_add_test(tc, test_timeout_ids_are_nonzero_and_distinct);
	tcase_add_test(tc, test_ids_of_many_pending_timeouts_are_distinct);
	tcase_add_test(tc,
	    test_timeout_returns_0_without_an_instance_or_a_handler);
	tcase_add_test(tc, test_timeout_returns_0_when_the_budget_is_used_up);
	tcase_add_test(tc, test_untimeout_before_firing_suppresses_it);
	tcase_add_test(tc, test_untimeout_of_an_unknown_id_is_harmless);
	tcase_add_test(tc, test_untimeout_of_a_fired_id_is_harmless);
	tcase_add_test(tc, test_untimeout_without_an_instance_is_harmless);
	tcase_add_test(tc,
	    test_untimeout_from_inside_the_handler_returns_at_once_sim);
	tcase_add_test(tc, test_a_handler_may_cancel_another_pending_timeout);
	tcase_add_test(tc,
	    test_timeouts_armed_after_untimeout_of_self_can_be_cancelled);
	tcase_add_test(tc, test_shutdown_cancels_pending_timeouts_and_says_so);
	tcase_add_test(tc,
	    test_timeout_works_again_after_shutdown_and_a_new_boot);
	tcase_add_test(tc,
	    test_timeout_of_long_max_ticks_does_not_fire);
	suite_add_tcase(s, tc);

	tc = ddi_tcase("timeout_threads", 30);
	tcase_add_test(tc, test_timeouts_fire_in_deadline_order_threads);
	tcase_add_test(tc, test_untimeout_before_firing_suppresses_it_threads);
	tcase_add_test(tc,
	    test_untimeout_from_inside_the_handler_returns_at_once_threads);
	tcase_add_test(tc, test_untimeout_waits_for_a_running_handler_threads);
	tcase_add_test(tc,
	    test_timeout_untimeout_race_accounts_for_every_timeout);
	tcase_add_test(tc,
	    test_a_far_timeout_leaves_the_callout_thread_idle);
	tcase_add_test(tc,
	    test_shutdown_cancels_a_watchdog_that_rearms_while_running);
	tcase_add_test(tc, test_timeout_returns_0_once_shutdown_has_begun);
	suite_add_tcase(s, tc);

	tc = ddi_tcase("drv", 10);
	tcase_add_test(tc, test_lbolt_under_sim_is_virtual_time_in_10ms_ticks);
	tcase_add_test(tc, test_time_under_sim_starts_at_2000_01_01);
	tcase_add_test(tc,
	    test_drv_getparm_unsupported_parameters_return_minus_1);
	tcase_add_test(tc,
	    test_drv_getparm_without_an_instance_returns_minus_1);
	tcase_add_test(tc, test_drv_usectohz_rounds_up);
	tcase_add_test(tc, test_drv_hztousec);
	tcase_add_test(tc, test_drv_hztousec_saturates);
	tcase_add_test(tc,
	    test_drv_usecwait_under_sim_advances_the_clock_by_the_wait);
	tcase_add_test(tc, test_drv_usecwait_under_sim_runs_no_events);
	tcase_add_test(tc,
	    test_drv_usecwait_of_long_max_does_not_move_the_clock_back);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(timeout_suite()));
}
