/*
 * Unit tests of ddi/: execution contexts and the two executives.
 *
 * The contract (sys/ustreams.h, ddi/exec.h, ddi/context.c): the context is
 * a property of the running thread -- base in application code, callout in
 * a timeout handler, service and interrupt in events of those contexts --
 * and is restored when a handler returns.  The sim executive runs events in
 * (time, post order), on a virtual clock, from a seeded RNG, so the same
 * seed gives the same run; ustreams_sim_run_until(t) runs what is due at or
 * before t and leaves the clock at t.  An event posted while pending is not
 * posted twice; posted while running, it runs again afterwards and never
 * concurrently with itself.
 *
 * Events are entered through the private executive interface (ddi/exec.h):
 * there is no public interrupt source yet.
 */
#include "harness.h"

#include <sys/ddi.h>
#include <sys/kmem.h>
#include <sys/ustreams.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../ddi/exec.h"

#define	MIB		(1024u * 1024)
#define	WAIT_POLLS	20000		/* of 1 ms: a generous bound */

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	(void) nanosleep(&ts, NULL);
}

/* Wait (boundedly) until *v >= want; false if it never got there. */
static bool
wait_at_least(atomic_int *v, int want)
{
	for (int i = 0; i < WAIT_POLLS && atomic_load(v) < want; i++)
		sleep_ms(1);
	return (atomic_load(v) >= want);
}

static void
boot_threads(unsigned ncpus)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = MIB;
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = ncpus;
	harness_boot_cfg(&cfg);
}

static void
boot_sim_seed(uint64_t seed)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = MIB;
	cfg.uc_seed = seed;
	harness_boot_cfg(&cfg);
}

/*
 * Contexts.  A handler records what it saw; the test compares.
 */
struct ctx_seen {
	atomic_int	cs_ran;
	atomic_int	cs_ctx;
	atomic_int	cs_intr;	/* servicing_interrupt() != 0 */
};

static void
record_ctx(void *arg)
{
	struct ctx_seen *cs = arg;

	atomic_store(&cs->cs_ctx, (int)ustreams_context());
	atomic_store(&cs->cs_intr, servicing_interrupt() != 0);
	atomic_store(&cs->cs_ran, 1);
}

START_TEST(test_context_is_base_in_application_code)
{
	ck_assert_int_eq(ustreams_context(), USTREAMS_CTX_BASE);
	ck_assert_int_eq(servicing_interrupt(), 0);
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_context(), USTREAMS_CTX_BASE);
	ck_assert_int_eq(servicing_interrupt(), 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_context_names)
{
	ck_assert_str_eq(ustreams_context_name(USTREAMS_CTX_BASE), "base");
	ck_assert_str_eq(ustreams_context_name(USTREAMS_CTX_SERVICE),
	    "service");
	ck_assert_str_eq(ustreams_context_name(USTREAMS_CTX_INTR),
	    "interrupt");
	ck_assert_str_eq(ustreams_context_name(USTREAMS_CTX_CALLOUT),
	    "callout");
	ck_assert_str_eq(ustreams_context_name((enum ustreams_ctx)
	    (USTREAMS_CTX_CALLOUT + 1)), "unknown");
	ck_assert_str_eq(ustreams_context_name((enum ustreams_ctx)9),
	    "unknown");
}
END_TEST

START_TEST(test_context_is_callout_in_a_timeout_handler_sim)
{
	struct ctx_seen cs = { 0 };

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(record_ctx, &cs, 1), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(cs.cs_ran, 1);
	ck_assert_int_eq(cs.cs_ctx, USTREAMS_CTX_CALLOUT);
	ck_assert_int_eq(cs.cs_intr, 0);
	ck_assert_int_eq(ustreams_context(), USTREAMS_CTX_BASE);
	harness_shutdown();
}
END_TEST

static void
event_context_sim(enum ustreams_ctx ctx, int want_intr)
{
	struct ctx_seen cs = { 0 };
	struct ust_event ev;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ust_event_init(&ev, record_ctx, &cs, ctx);
	ck_assert(ust_event_post(&ev));
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(cs.cs_ran, 1);
	ck_assert_int_eq(cs.cs_ctx, ctx);
	ck_assert_int_eq(cs.cs_intr, want_intr);
	/* Restored when the handler returned. */
	ck_assert_int_eq(ustreams_context(), USTREAMS_CTX_BASE);
	ck_assert_int_eq(servicing_interrupt(), 0);
	harness_shutdown();
}

START_TEST(test_context_is_service_in_a_service_event_sim)
{
	event_context_sim(USTREAMS_CTX_SERVICE, 0);
}
END_TEST

START_TEST(test_context_is_interrupt_in_an_interrupt_event_sim)
{
	event_context_sim(USTREAMS_CTX_INTR, 1);
}
END_TEST

/*
 * Under sim a device's interrupt source attaches (there is no thread to
 * start), and its interrupt events are ordinary events: they run when the
 * clock is run, in interrupt context.
 */
START_TEST(test_sim_device_interrupt_events_run_in_interrupt_context)
{
	struct ust_intr in = { .in_name = "testdev" };
	struct ctx_seen a = { 0 }, b = { 0 };
	struct ust_event ea, eb;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ust_exec->eo_intr_attach(&in), 0);
	ust_event_init(&ea, record_ctx, &a, USTREAMS_CTX_INTR);
	ea.ev_intr = &in;
	ust_event_init(&eb, record_ctx, &b, USTREAMS_CTX_INTR);
	eb.ev_intr = &in;
	ck_assert(ust_event_post(&ea));
	ck_assert(ust_event_post(&eb));
	ck_assert_int_eq(a.cs_ran + b.cs_ran, 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 2);
	ck_assert_int_eq(a.cs_ran, 1);
	ck_assert_int_eq(b.cs_ran, 1);
	ck_assert_int_eq(a.cs_ctx, USTREAMS_CTX_INTR);
	ck_assert_int_eq(b.cs_intr, 1);
	ust_exec->eo_intr_detach(&in);
	harness_shutdown();
}
END_TEST

static void
event_context_threads(enum ustreams_ctx ctx, int want_intr)
{
	struct ctx_seen cs = { 0 };
	struct ust_event ev;

	boot_threads(2);
	ust_event_init(&ev, record_ctx, &cs, ctx);
	ck_assert(ust_event_post(&ev));
	ck_assert(wait_at_least(&cs.cs_ran, 1));
	ck_assert_int_eq(cs.cs_ctx, ctx);
	ck_assert_int_eq(cs.cs_intr, want_intr);
	ck_assert_int_eq(ustreams_context(), USTREAMS_CTX_BASE);
	/* After it returns, it is idle: nothing left to cancel. */
	ck_assert(!ust_event_cancel(&ev));
	harness_shutdown();
}

START_TEST(test_context_is_service_in_a_service_event_threads)
{
	event_context_threads(USTREAMS_CTX_SERVICE, 0);
}
END_TEST

START_TEST(test_context_is_interrupt_in_an_interrupt_event_threads)
{
	event_context_threads(USTREAMS_CTX_INTR, 1);
}
END_TEST

/*
 * Threads: a device's interrupt events run on its own interrupt thread,
 * in interrupt context, one after the other; not on a service thread.
 */
struct thr_seen {
	atomic_int	ts_ran;
	atomic_int	ts_ctx;
	pthread_t	ts_self;	/* written before ts_ran */
};

static void
record_thread(void *arg)
{
	struct thr_seen *ts = arg;

	ts->ts_self = pthread_self();
	atomic_store(&ts->ts_ctx, (int)ustreams_context());
	atomic_fetch_add(&ts->ts_ran, 1);
}

START_TEST(test_threads_interrupt_events_run_on_their_devices_thread)
{
	struct ust_intr in = { .in_name = "testdev" };
	struct thr_seen si = { 0 }, si2 = { 0 }, ss = { 0 };
	struct ust_event iev, iev2, sev;

	boot_threads(1);
	ck_assert_int_eq(ust_exec->eo_intr_attach(&in), 0);
	ust_event_init(&iev, record_thread, &si, USTREAMS_CTX_INTR);
	iev.ev_intr = &in;
	ust_event_init(&iev2, record_thread, &si2, USTREAMS_CTX_INTR);
	iev2.ev_intr = &in;
	ust_event_init(&sev, record_thread, &ss, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&iev));
	ck_assert(ust_event_post(&sev));
	ck_assert(wait_at_least(&si.ts_ran, 1));
	ck_assert(wait_at_least(&ss.ts_ran, 1));
	ck_assert(ust_event_post(&iev2));
	ck_assert(wait_at_least(&si2.ts_ran, 1));
	ck_assert_int_eq(si.ts_ctx, USTREAMS_CTX_INTR);
	ck_assert_int_eq(si2.ts_ctx, USTREAMS_CTX_INTR);
	ck_assert_int_eq(ss.ts_ctx, USTREAMS_CTX_SERVICE);
	ck_assert(pthread_equal(si.ts_self, si2.ts_self));
	ck_assert(!pthread_equal(si.ts_self, ss.ts_self));
	ust_exec->eo_intr_detach(&in);
	harness_shutdown();
}
END_TEST

/*
 * Threads: an event posted for sooner than every pending timer wakes the
 * timer thread, which was waiting for the later one.  Posting an event
 * that is pending does nothing and says so; one cancelled can be posted
 * again.
 */
/*
 * Threads: the clock counts from the instance's boot, not from the
 * machine's (which has been up far longer than the bound).
 */
START_TEST(test_threads_clock_counts_from_the_boot)
{
	boot_threads(1);
	ck_assert_uint_lt(ustreams_now_ns(), 60000000000ull);
	harness_shutdown();
}
END_TEST

START_TEST(test_threads_sooner_timer_is_not_held_up_by_a_later_one)
{
	struct thr_seen far = { 0 }, near = { 0 };
	struct ust_event fev, nev;

	boot_threads(1);
	ust_event_init(&fev, record_thread, &far, USTREAMS_CTX_SERVICE);
	ust_event_init(&nev, record_thread, &near, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post_at(&fev, ust_now() + 3600000000000ull));
	sleep_ms(10);			/* the timer thread waits for it */
	ck_assert(ust_event_post_at(&nev, ust_now() + 1000000));
	/* far is pending for an hour yet (near may be due already). */
	ck_assert(!ust_event_post_at(&fev, ust_now() + 1000000));
	ck_assert(wait_at_least(&near.ts_ran, 1));
	ck_assert_int_eq(far.ts_ran, 0);
	ck_assert(ust_event_cancel(&fev));
	ck_assert(!ust_event_cancel(&fev));
	/* Cancelled, it is idle again: a new post runs it. */
	ck_assert(ust_event_post(&fev));
	ck_assert(wait_at_least(&far.ts_ran, 1));
	harness_shutdown();
}
END_TEST

START_TEST(test_context_is_callout_in_a_timeout_handler_threads)
{
	struct ctx_seen cs = { 0 };

	boot_threads(2);
	ck_assert_int_ne(timeout(record_ctx, &cs, 1), 0);
	ck_assert(wait_at_least(&cs.cs_ran, 1));
	ck_assert_int_eq(cs.cs_ctx, USTREAMS_CTX_CALLOUT);
	ck_assert_int_eq(cs.cs_intr, 0);
	ck_assert_int_eq(ustreams_context(), USTREAMS_CTX_BASE);
	harness_shutdown();
}
END_TEST

/*
 * The RNG: xoshiro256** seeded through splitmix64, so a seed names one
 * sequence everywhere.  The values are those of the reference algorithm.
 */
START_TEST(test_random_sequence_of_seed_1)
{
	boot_sim_seed(1);
	ck_assert_uint_eq(ustreams_random(), 0xb3f2af6d0fc710c5ull);
	ck_assert_uint_eq(ustreams_random(), 0x853b559647364ceaull);
	ck_assert_uint_eq(ustreams_random(), 0x92f89756082a4514ull);
	ck_assert_uint_eq(ustreams_random(), 0x642e1c7bc266a3a7ull);
	harness_shutdown();
}
END_TEST

START_TEST(test_random_sequence_of_seed_2)
{
	boot_sim_seed(2);
	ck_assert_uint_eq(ustreams_random(), 0x1a28690da8a8d057ull);
	ck_assert_uint_eq(ustreams_random(), 0xb9bb8042daedd58aull);
	ck_assert_uint_eq(ustreams_random(), 0x2f1829af001ef205ull);
	ck_assert_uint_eq(ustreams_random(), 0xbf733e63d139683dull);
	harness_shutdown();
}
END_TEST

START_TEST(test_random_restarts_at_each_boot)
{
	boot_sim_seed(1);
	(void) ustreams_random();
	(void) ustreams_random();
	harness_shutdown();
	boot_sim_seed(1);
	ck_assert_uint_eq(ustreams_random(), 0xb3f2af6d0fc710c5ull);
	harness_shutdown();
}
END_TEST

/*
 * A scenario driven by the RNG: each event records (id, time) and posts
 * one or two more at random delays, some of them equal, until TR_MAX
 * events have been posted.
 */
#define	TR_MAX		300
#define	TR_ROOTS	4

struct tr_ent {
	int		te_id;
	uint64_t	te_ns;
};

static struct ust_event tr_ev[TR_MAX];
static struct tr_ent tr_log[TR_MAX];
static int tr_n, tr_posted;

static void tr_fire(void *arg);

static void
tr_post_new(void)
{
	int id;

	if (tr_posted == TR_MAX)
		return;
	id = tr_posted++;
	ust_event_init(&tr_ev[id], tr_fire, &tr_ev[id], USTREAMS_CTX_SERVICE);
	/* Delays in whole microseconds 0..7: ties are frequent. */
	ck_assert(ust_event_post_at(&tr_ev[id],
	    ustreams_now_ns() + ustreams_random() % 8 * 1000));
}

static void
tr_fire(void *arg)
{
	int id = (int)((struct ust_event *)arg - tr_ev);
	int kids = 1 + (int)(ustreams_random() % 2);

	ck_assert_int_lt(tr_n, TR_MAX);
	tr_log[tr_n].te_id = id;
	tr_log[tr_n].te_ns = ustreams_now_ns();
	tr_n++;
	while (kids-- > 0)
		tr_post_new();
}

/* Run the scenario on a fresh instance with seed; the trace is tr_log. */
static void
tr_run(uint64_t seed, struct tr_ent *out)
{
	boot_sim_seed(seed);
	memset(tr_log, 0, sizeof (tr_log));
	tr_n = tr_posted = 0;
	for (int i = 0; i < TR_ROOTS; i++)
		tr_post_new();
	ck_assert_int_eq(ustreams_sim_run_idle(), TR_MAX);
	ck_assert_int_eq(tr_n, TR_MAX);
	for (int i = 1; i < TR_MAX; i++)
		ck_assert_uint_ge(tr_log[i].te_ns, tr_log[i - 1].te_ns);
	memcpy(out, tr_log, sizeof (tr_log));
	harness_shutdown();
}

static struct tr_ent trace_a[TR_MAX], trace_b[TR_MAX];

START_TEST(test_sim_same_seed_gives_the_same_trace)
{
	tr_run(7, trace_a);
	tr_run(7, trace_b);
	for (int i = 0; i < TR_MAX; i++) {
		ck_assert_msg(trace_a[i].te_id == trace_b[i].te_id &&
		    trace_a[i].te_ns == trace_b[i].te_ns,
		    "event %d: (%d, %llu) vs (%d, %llu)", i, trace_a[i].te_id,
		    (unsigned long long)trace_a[i].te_ns, trace_b[i].te_id,
		    (unsigned long long)trace_b[i].te_ns);
	}
}
END_TEST

START_TEST(test_sim_different_seed_gives_a_different_trace)
{
	int differ = 0;

	tr_run(7, trace_a);
	tr_run(8, trace_b);
	for (int i = 0; i < TR_MAX; i++) {
		if (trace_a[i].te_id != trace_b[i].te_id ||
		    trace_a[i].te_ns != trace_b[i].te_ns)
			differ++;
	}
	ck_assert_int_gt(differ, 0);
}
END_TEST

/* Ordering: a log of the tags of events in the order they ran. */
static int order_log[16];
static uint64_t order_ns[16];
static int order_n;

static void
order_fire(void *arg)
{
	order_log[order_n] = (int)(intptr_t)arg;
	order_ns[order_n] = ustreams_now_ns();
	order_n++;
}

START_TEST(test_sim_events_due_at_the_same_time_run_in_post_order)
{
	struct ust_event ev[5];

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	for (int i = 0; i < 5; i++) {
		ust_event_init(&ev[i], order_fire, (void *)(intptr_t)i,
		    USTREAMS_CTX_SERVICE);
		ck_assert(ust_event_post_at(&ev[i], 5000));
	}
	ck_assert_int_eq(ustreams_sim_run_idle(), 5);
	ck_assert_int_eq(order_n, 5);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(order_log[i], i);
		ck_assert_uint_eq(order_ns[i], 5000);
	}
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_events_run_in_time_order_whatever_the_post_order)
{
	struct ust_event ev[3];
	static const uint64_t when[3] = { 300, 100, 200 };

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	for (int i = 0; i < 3; i++) {
		ust_event_init(&ev[i], order_fire, (void *)(intptr_t)i,
		    USTREAMS_CTX_SERVICE);
		ck_assert(ust_event_post_at(&ev[i], when[i]));
	}
	ck_assert_int_eq(ustreams_sim_run_idle(), 3);
	ck_assert_int_eq(order_log[0], 1);
	ck_assert_int_eq(order_log[1], 2);
	ck_assert_int_eq(order_log[2], 0);
	ck_assert_uint_eq(order_ns[0], 100);
	ck_assert_uint_eq(order_ns[1], 200);
	ck_assert_uint_eq(order_ns[2], 300);
	/* The clock stays at the last event run. */
	ck_assert_uint_eq(ustreams_now_ns(), 300);
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_run_until_runs_exactly_what_is_due_and_sets_the_clock)
{
	struct ust_event ev[3];

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	for (int i = 0; i < 3; i++) {
		ust_event_init(&ev[i], order_fire, (void *)(intptr_t)i,
		    USTREAMS_CTX_SERVICE);
		ck_assert(ust_event_post_at(&ev[i], 10 * (uint64_t)(i + 1)));
	}
	ck_assert_int_eq(ustreams_sim_pending(), 3);
	ck_assert_int_eq(ustreams_sim_run_until(20), 2);
	ck_assert_uint_eq(ustreams_now_ns(), 20);
	ck_assert_int_eq(order_n, 2);
	ck_assert_int_eq(order_log[0], 0);
	ck_assert_int_eq(order_log[1], 1);
	ck_assert_int_eq(ustreams_sim_pending(), 1);

	ck_assert_int_eq(ustreams_sim_run_until(29), 0);
	ck_assert_uint_eq(ustreams_now_ns(), 29);
	ck_assert_int_eq(ustreams_sim_run_until(1000), 1);
	ck_assert_uint_eq(ustreams_now_ns(), 1000);
	ck_assert_int_eq(order_log[2], 2);
	ck_assert_uint_eq(order_ns[2], 30);
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_clock_does_not_go_back_for_a_late_event)
{
	struct ust_event ev;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_sim_run_until(1000), 0);
	ust_event_init(&ev, order_fire, (void *)(intptr_t)0,
	    USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post_at(&ev, 500));
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_uint_eq(order_ns[0], 1000);
	ck_assert_uint_eq(ustreams_now_ns(), 1000);
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_nothing_runs_until_asked)
{
	struct ust_event ev;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ust_event_init(&ev, order_fire, (void *)(intptr_t)0,
	    USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&ev));
	ck_assert_int_eq(order_n, 0);
	ck_assert_int_eq(ustreams_sim_pending(), 1);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(order_n, 1);
	ck_assert_uint_eq(ustreams_now_ns(), 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_posting_a_pending_event_runs_it_once)
{
	struct ust_event ev;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ust_event_init(&ev, order_fire, (void *)(intptr_t)0,
	    USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&ev));
	ck_assert(!ust_event_post(&ev));
	ck_assert_int_eq(ustreams_sim_pending(), 1);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(order_n, 1);
	harness_shutdown();
}
END_TEST

static struct ust_event rerun_ev;
static int rerun_runs;
static int rerun_post_ret = -1;

static void
rerun_fire(void *arg)
{
	if (++rerun_runs == 1)
		rerun_post_ret = ust_event_post(&rerun_ev);
}

START_TEST(test_sim_event_posted_while_running_runs_again_afterwards)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ust_event_init(&rerun_ev, rerun_fire, NULL, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&rerun_ev));
	ck_assert_int_eq(ustreams_sim_run_idle(), 2);
	ck_assert_int_eq(rerun_post_ret, 1);
	ck_assert_int_eq(rerun_runs, 2);
	harness_shutdown();
}
END_TEST

/*
 * A handler that posts its own event for a later time, as a device
 * model's next step does, runs again at that time, not at once.  One that
 * posts itself and then cancels itself does not run again.
 */
#define	LATER_NS	1000000ull

static struct ust_event later_ev;
static atomic_int later_runs;
static uint64_t later_at[2], later_want;
static bool later_cancel;

/*
 * Runs one at a time; the count, bumped last, publishes what it wrote.
 * Under the threads executive it runs on a service thread, so it records
 * its failures (HELPER_CHECK) for the test to report.
 */
static void
later_fire(void *arg)
{
	int n = atomic_load(&later_runs);

	if (n < 2)
		later_at[n] = ust_now();
	if (n == 0) {
		later_want = ust_now() + LATER_NS;
		(void) HELPER_CHECK(ust_event_post_at(&later_ev, later_want),
		    "its post of itself from the handler returned false");
		if (later_cancel) {
			(void) HELPER_CHECK(!ust_event_cancel(&later_ev),
			    "its cancel of itself from the handler returned "
			    "true");
		}
	}
	atomic_fetch_add(&later_runs, 1);
}

static void
later_start(bool cancel)
{
	atomic_store(&later_runs, 0);
	later_cancel = cancel;
	ust_event_init(&later_ev, later_fire, NULL, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&later_ev));
}

START_TEST(test_sim_event_reposted_for_later_while_running_runs_then)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	later_start(false);
	ck_assert_int_eq(ustreams_sim_run_until(LATER_NS - 1), 1);
	harness_helpers_check();
	ck_assert_int_eq(ustreams_sim_pending(), 1);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(later_runs, 2);
	ck_assert_uint_eq(later_at[0], 0);
	ck_assert_uint_eq(later_at[1], LATER_NS);
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_event_reposted_then_cancelled_by_its_handler_is_done)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	later_start(true);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	harness_helpers_check();
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	ck_assert_int_eq(later_runs, 1);
	harness_shutdown();
}
END_TEST

START_TEST(test_threads_event_reposted_for_later_while_running_waits)
{
	boot_threads(2);
	later_start(false);
	/* The first run's checks are made before it counts itself. */
	ck_assert(wait_at_least(&later_runs, 1));
	harness_helpers_check();
	ck_assert(wait_at_least(&later_runs, 2));
	/* Not before the time it asked for (the clock is monotonic). */
	ck_assert_uint_ge(later_at[1], later_want);
	harness_shutdown();
}
END_TEST

START_TEST(test_threads_event_reposted_then_cancelled_by_its_handler_is_done)
{
	boot_threads(2);
	later_start(true);
	ck_assert(wait_at_least(&later_runs, 1));
	harness_helpers_check();
	/* Waits for the run if it is still going; nothing is left. */
	ck_assert(!ust_event_cancel(&later_ev));
	sleep_ms(2 * LATER_NS / 1000000);
	ck_assert_int_eq(later_runs, 1);
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_cancel_removes_a_pending_event)
{
	struct ust_event ev;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ust_event_init(&ev, order_fire, (void *)(intptr_t)0,
	    USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post_at(&ev, 100));
	ck_assert(ust_event_cancel(&ev));
	ck_assert(!ust_event_cancel(&ev));
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 0);
	ck_assert_int_eq(order_n, 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_sim_controls_return_minus_1_under_threads)
{
	boot_threads(1);
	ck_assert_int_eq(ustreams_sim_run_until(1000), -1);
	ck_assert_int_eq(ustreams_sim_run_idle(), -1);
	ck_assert_int_eq(ustreams_sim_pending(), -1);
	harness_shutdown();
}
END_TEST

/*
 * Threads: a service event posted while it runs runs again afterwards.
 * The first run holds on until the test has posted it again.
 */
static struct ust_event ta_ev;
static atomic_int ta_runs, ta_entered, ta_go;

static void
ta_fire(void *arg)
{
	if (atomic_fetch_add(&ta_runs, 1) == 0) {
		atomic_store(&ta_entered, 1);
		while (atomic_load(&ta_go) == 0)
			sleep_ms(1);
	}
}

START_TEST(test_threads_event_posted_while_running_runs_again_afterwards)
{
	boot_threads(2);
	ust_event_init(&ta_ev, ta_fire, NULL, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&ta_ev));
	ck_assert(wait_at_least(&ta_entered, 1));
	ck_assert(ust_event_post(&ta_ev));	/* while RUNNING */
	atomic_store(&ta_go, 1);
	ck_assert(wait_at_least(&ta_runs, 2));
	/* Waits for the second run if need be; nothing further is pending. */
	ck_assert(!ust_event_cancel(&ta_ev));
	ck_assert_int_eq(ta_runs, 2);
	harness_shutdown();
}
END_TEST

/*
 * Threads: while the service threads are busy, the application's thread
 * runs the ready service events itself (ust_exec_runq), as the stream
 * head does on its way out.  One that posts itself for later from there
 * runs again at that time: waking the timer thread is not left to the
 * end of the run, as waking a service thread is.
 */
START_TEST(test_threads_event_run_by_runq_reposted_for_later_runs_then)
{
	boot_threads(1);
	ust_event_init(&ta_ev, ta_fire, NULL, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&ta_ev));
	ck_assert(wait_at_least(&ta_entered, 1));	/* the one CPU is busy */
	later_start(false);
	ust_exec_runq();
	ck_assert_int_ge(later_runs, 1);		/* ran on this thread */
	atomic_store(&ta_go, 1);
	/* Its first run's checks, once ta_fire is let go (shutdown waits). */
	harness_helpers_check();
	ck_assert(wait_at_least(&later_runs, 2));
	ck_assert_uint_ge(later_at[1], later_want);
	harness_shutdown();
}
END_TEST

/*
 * Threads: deferring ends with ust_exec_runq.  A service event the
 * application's thread posts afterwards wakes a service thread that has
 * gone to sleep for want of work.
 */
static atomic_int idle_tid, idle_ran, idle_later_ran;

static void
idle_fire(void *arg)
{
	atomic_store(&idle_tid, harness_gettid());
	atomic_fetch_add((atomic_int *)arg, 1);
}

START_TEST(test_threads_post_after_runq_wakes_an_idle_service_thread)
{
	struct ust_event ev, later;

	boot_threads(1);
	ust_event_init(&ev, idle_fire, &idle_ran, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&ev));
	ck_assert(wait_at_least(&idle_ran, 1));
	ust_exec_runq();			/* nothing is ready */
	/* The service thread has nothing to do: it goes to sleep. */
	ck_assert(harness_wait_asleep(atomic_load(&idle_tid)));
	ust_event_init(&later, idle_fire, &idle_later_ran,
	    USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post(&later));
	ck_assert(wait_at_least(&idle_later_ran, 1));
	harness_shutdown();
}
END_TEST

/*
 * Threads stress: posters hammer one service event on 4 CPUs; it must
 * never run on two at once, and the last post must not be lost.
 */
#define	ST_POSTERS	3
#define	ST_POSTS	20000

static struct ust_event st_ev;
static atomic_int st_running, st_overlaps, st_runs, st_last, st_saw_last;

static void
st_fire(void *arg)
{
	if (atomic_exchange(&st_running, 1) != 0)
		atomic_fetch_add(&st_overlaps, 1);
	if (atomic_load(&st_last) != 0)
		atomic_store(&st_saw_last, 1);
	sched_yield();
	atomic_fetch_add(&st_runs, 1);
	atomic_store(&st_running, 0);
}

static void *
st_poster(void *arg)
{
	for (int i = 0; i < ST_POSTS; i++) {
		(void) ust_event_post(&st_ev);
		if (i % 64 == 0)
			sched_yield();
	}
	return (NULL);
}

START_TEST(test_threads_service_event_never_runs_concurrently_with_itself)
{
	pthread_t t[ST_POSTERS];

	boot_threads(4);
	ust_event_init(&st_ev, st_fire, NULL, USTREAMS_CTX_SERVICE);
	for (int i = 0; i < ST_POSTERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, st_poster, NULL),
		    0);
	for (int i = 0; i < ST_POSTERS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	/*
	 * Quiesce (cancel drops a pending run and waits out a running one),
	 * then post once more: that post must not be lost.
	 */
	(void) ust_event_cancel(&st_ev);
	atomic_store(&st_last, 1);
	(void) ust_event_post(&st_ev);
	ck_assert(wait_at_least(&st_saw_last, 1));
	(void) ust_event_cancel(&st_ev);
	ck_assert_int_eq(st_overlaps, 0);
	ck_assert_int_ge(st_runs, 1);
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
	memset(tr_log, 0, sizeof (tr_log));
	tr_n = tr_posted = 0;
	order_n = 0;
	rerun_runs = 0;
	rerun_post_ret = -1;
	atomic_store(&ta_runs, 0);
	atomic_store(&ta_entered, 0);
	atomic_store(&ta_go, 0);
	atomic_store(&st_running, 0);
	atomic_store(&st_overlaps, 0);
	atomic_store(&st_runs, 0);
	atomic_store(&st_last, 0);
	atomic_store(&st_saw_last, 0);
	atomic_store(&idle_tid, 0);
	atomic_store(&idle_ran, 0);
	atomic_store(&idle_later_ran, 0);
}

static TCase *
ddi_tcase(const char *name, double timeout)
{
	TCase *tc = harness_tcase(name, timeout);

	tcase_add_checked_fixture(tc, reset_statics, NULL);
	return (tc);
}

static Suite *
exec_suite(void)
{
	Suite *s = suite_create("ddi_exec");
	TCase *tc;

	tc = ddi_tcase("context", 30);
	tcase_add_test(tc, test_context_is_base_in_application_code);
	tcase_add_test(tc, test_context_names);
	tcase_add_test(tc, test_context_is_callout_in_a_timeout_handler_sim);
	tcase_add_test(tc, test_context_is_service_in_a_service_event_sim);
	tcase_add_test(tc, test_context_is_interrupt_in_an_interrupt_event_sim);
	tcase_add_test(tc,
	    test_sim_device_interrupt_events_run_in_interrupt_context);
	tcase_add_test(tc, test_context_is_service_in_a_service_event_threads);
	tcase_add_test(tc,
	    test_context_is_interrupt_in_an_interrupt_event_threads);
	tcase_add_test(tc,
	    test_context_is_callout_in_a_timeout_handler_threads);
	suite_add_tcase(s, tc);

	tc = ddi_tcase("sim", 10);
	tcase_add_test(tc, test_random_sequence_of_seed_1);
	tcase_add_test(tc, test_random_sequence_of_seed_2);
	tcase_add_test(tc, test_random_restarts_at_each_boot);
	tcase_add_test(tc, test_sim_same_seed_gives_the_same_trace);
	tcase_add_test(tc, test_sim_different_seed_gives_a_different_trace);
	tcase_add_test(tc,
	    test_sim_events_due_at_the_same_time_run_in_post_order);
	tcase_add_test(tc,
	    test_sim_events_run_in_time_order_whatever_the_post_order);
	tcase_add_test(tc,
	    test_sim_run_until_runs_exactly_what_is_due_and_sets_the_clock);
	tcase_add_test(tc, test_sim_clock_does_not_go_back_for_a_late_event);
	tcase_add_test(tc, test_sim_nothing_runs_until_asked);
	tcase_add_test(tc, test_sim_posting_a_pending_event_runs_it_once);
	tcase_add_test(tc,
	    test_sim_event_posted_while_running_runs_again_afterwards);
	tcase_add_test(tc, test_sim_cancel_removes_a_pending_event);
	tcase_add_test(tc,
	    test_sim_event_reposted_for_later_while_running_runs_then);
	tcase_add_test(tc,
	    test_sim_event_reposted_then_cancelled_by_its_handler_is_done);
	tcase_add_test(tc,
	    test_threads_interrupt_events_run_on_their_devices_thread);
	tcase_add_test(tc, test_threads_clock_counts_from_the_boot);
	tcase_add_test(tc,
	    test_threads_sooner_timer_is_not_held_up_by_a_later_one);
	tcase_add_test(tc,
	    test_threads_event_reposted_for_later_while_running_waits);
	tcase_add_test(tc,
	    test_threads_event_reposted_then_cancelled_by_its_handler_is_done);
	suite_add_tcase(s, tc);

	tc = ddi_tcase("threads", 30);
	tcase_add_test(tc, test_sim_controls_return_minus_1_under_threads);
	tcase_add_test(tc,
	    test_threads_event_posted_while_running_runs_again_afterwards);
	tcase_add_test(tc,
	    test_threads_service_event_never_runs_concurrently_with_itself);
	tcase_add_test(tc,
	    test_threads_event_run_by_runq_reposted_for_later_runs_then);
	tcase_add_test(tc,
	    test_threads_post_after_runq_wakes_an_idle_service_thread);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(exec_suite()));
}
