/*
 * Unit tests of ddi/: cmn_err(D3), ASSERT/VERIFY, and the SVR5 basic locks
 * and synchronisation variables.
 *
 * The contract (sys/cmn_err.h, sys/ksynch.h, ddi/cmn_err.c, ddi/ksynch.c):
 * cmn_err hands the log hook the level and the message without its level
 * prefix, without a trailing newline (but for CE_CONT, which is passed as
 * is) and without a leading '!' or '^'; with no hook it prints to stderr
 * with the SVR5 prefixes.  CE_PANIC calls the panic hook.  A basic lock
 * knows its holder: a recursive LOCK and an UNLOCK by a non-holder panic.
 * SV_WAIT may sleep, so it panics outside base context; it returns with
 * the lock released; under sim it runs events until it is signalled and
 * panics when none is left to signal it.
 */
#include "harness.h"

#include <sys/ddi.h>
#include <sys/ksynch.h>
#include <sys/ustreams.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ddi/exec.h"

#define	MIB		(1024u * 1024)
#define	WAIT_POLLS	20000		/* of 1 ms: a generous bound */

static lkinfo_t test_lkinfo = { "test lock", 0, { 0, 0 } };

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

/* The log holds exactly this entry ("level:message"). */
static void
assert_entry(const char *find, const char *want)
{
	const char *got = harness_log_find(find);

	ck_assert_msg(got != NULL, "nothing logged like \"%s\"", find);
	ck_assert_str_eq(got, want);
}

/*
 * cmn_err
 */
START_TEST(test_cmn_err_levels_reach_the_log_hook)
{
	harness_log_capture();
	cmn_err(CE_NOTE, "note %d", 1);
	cmn_err(CE_WARN, "warn %s", "two");
	ck_assert_int_eq(harness_log_count(), 2);
	assert_entry("note", "1:note 1");
	assert_entry("warn", "2:warn two");
}
END_TEST

START_TEST(test_cmn_err_strips_the_trailing_newline)
{
	harness_log_capture();
	cmn_err(CE_NOTE, "with newline\n");
	assert_entry("with newline", "1:with newline");
}
END_TEST

START_TEST(test_cmn_err_ce_cont_is_passed_as_is)
{
	harness_log_capture();
	cmn_err(CE_CONT, "continued %d\n", 3);
	assert_entry("continued", "0:continued 3\n");
}
END_TEST

START_TEST(test_cmn_err_strips_the_bang_prefix)
{
	harness_log_capture();
	cmn_err(CE_WARN, "!to the log only");
	assert_entry("log only", "2:to the log only");
}
END_TEST

START_TEST(test_cmn_err_strips_the_caret_prefix)
{
	harness_log_capture();
	cmn_err(CE_NOTE, "^to the console only");
	assert_entry("console only", "1:to the console only");
}
END_TEST

START_TEST(test_cmn_err_unknown_level_is_a_warning_and_says_so)
{
	harness_log_capture();
	cmn_err(9, "odd level");
	ck_assert_int_eq(harness_log_count(), 2);
	assert_entry("unknown level", "2:cmn_err: unknown level 9");
	assert_entry("odd level", "2:odd level");
}
END_TEST

START_TEST(test_cmn_err_ce_panic_calls_the_panic_hook)
{
	harness_log_capture();
	HARNESS_EXPECT_PANIC(cmn_err(CE_PANIC, "boom %d\n", 7));
	ck_assert_str_eq(harness_panic_msg(), "boom 7");
	assert_entry("boom", "3:boom 7");
}
END_TEST

/* The hooks get the argument they were set with. */
static void *log_arg_seen, *panic_arg_seen;
static sigjmp_buf arg_jb;

static void
arg_log(int level, const char *msg, void *arg)
{
	(void) level; (void) msg;
	log_arg_seen = arg;
}

static void
arg_panic(const char *msg, void *arg)
{
	(void) msg;
	panic_arg_seen = arg;
	siglongjmp(arg_jb, 1);
}

START_TEST(test_cmn_err_hooks_get_their_arguments)
{
	static int log_cookie, panic_cookie;

	ustreams_log_hook(arg_log, &log_cookie);
	cmn_err(CE_NOTE, "hello");
	ck_assert_ptr_eq(log_arg_seen, &log_cookie);
	ustreams_panic_hook(arg_panic, &panic_cookie);
	if (sigsetjmp(arg_jb, 0) == 0)
		cmn_err(CE_PANIC, "bye");
	ck_assert_ptr_eq(panic_arg_seen, &panic_cookie);
}
END_TEST

/* A panic hook that returns does not make the panic return: it aborts. */
static void
returning_panic(const char *msg, void *arg)
{
	(void) msg; (void) arg;
}

START_TEST(test_cmn_err_panic_hook_that_returns_aborts)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ustreams_log_hook(arg_log, NULL);
		ustreams_panic_hook(returning_panic, NULL);
		cmn_err(CE_PANIC, "returns");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
}
END_TEST

/* Without a hook: stderr, with the SVR5 level prefixes. */
START_TEST(test_cmn_err_without_a_hook_prints_to_stderr_with_prefixes)
{
	char buf[256];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(saved, 0);
	ustreams_log_hook(NULL, NULL);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	cmn_err(CE_NOTE, "n %d", 1);
	cmn_err(CE_WARN, "w\n");
	cmn_err(CE_CONT, "c");
	cmn_err(CE_CONT, "d\n");
	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	(void) close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof (buf) - 1, tmp);
	buf[n] = '\0';
	(void) fclose(tmp);
	ck_assert_str_eq(buf, "NOTICE: n 1\nWARNING: w\ncd\n");
}
END_TEST

START_TEST(test_verify_panics_naming_the_expression)
{
	volatile int one = 1;

	HARNESS_EXPECT_PANIC(VERIFY(one == 2));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "assertion failed: one == 2, file: "));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "test_ddi_cmn_err.c"));
}
END_TEST

#ifdef DEBUG
START_TEST(test_assert_panics_in_a_debug_build)
{
	volatile int one = 1;

	HARNESS_EXPECT_PANIC(ASSERT(one == 2));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "assertion failed: one == 2"));
}
END_TEST
#else
START_TEST(test_assert_is_compiled_out_of_a_release_build)
{
	int evaluated = 0;

	ASSERT(++evaluated == 2);
	ck_assert_int_eq(evaluated, 0);
}
END_TEST
#endif

/*
 * Basic locks
 */
START_TEST(test_lock_alloc_without_an_instance_returns_null)
{
	ck_assert_ptr_null(LOCK_ALLOC(1, plbase, &test_lkinfo, KM_NOSLEEP));
	ck_assert_ptr_null(SV_ALLOC(KM_NOSLEEP));
}
END_TEST

START_TEST(test_locks_and_svs_are_streams_memory)
{
	struct ustreams_memstat ms;
	lock_t *lk;
	sv_t *sv;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	lk = LOCK_ALLOC(1, plbase, &test_lkinfo, KM_NOSLEEP);
	sv = SV_ALLOC(KM_NOSLEEP);
	ck_assert_ptr_nonnull(lk);
	ck_assert_ptr_nonnull(sv);
	ck_assert(ustreams_mem_contains(lk, 1));
	ck_assert(ustreams_mem_contains(sv, 1));
	LOCK_DEALLOC(lk);
	SV_DEALLOC(sv);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	harness_shutdown();
}
END_TEST

/* A sim instance and one lock, "test lock", to try the rules on. */
static lock_t *
boot_with_a_lock(void)
{
	lock_t *lk;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	lk = LOCK_ALLOC(1, plbase, &test_lkinfo, KM_NOSLEEP);
	ck_assert_ptr_nonnull(lk);
	return (lk);
}

START_TEST(test_lock_returns_the_pl_given)
{
	lock_t *lk;

	lk = boot_with_a_lock();
	ck_assert_int_eq(LOCK(lk, plstr), plstr);
	UNLOCK(lk, plbase);
	LOCK_DEALLOC(lk);
	harness_shutdown();
}
END_TEST

START_TEST(test_lock_owned_is_true_only_for_the_holder)
{
	lock_t *lk;

	lk = boot_with_a_lock();
	ck_assert(!LOCK_OWNED(lk));
	(void) LOCK(lk, plstr);
	ck_assert(LOCK_OWNED(lk));
	UNLOCK(lk, plbase);
	ck_assert(!LOCK_OWNED(lk));
	LOCK_DEALLOC(lk);
	harness_shutdown();
}
END_TEST

START_TEST(test_recursive_lock_panics_naming_the_lock)
{
	lock_t *lk;
	int line;

	lk = boot_with_a_lock();
	(void) LOCK(lk, plstr);
	HARNESS_EXPECT_PANIC((void) LOCK(lk, plstr)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(),
	    "LOCK: test lock: recursive lock (called from ");
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	ck_assert(LOCK_OWNED(lk));
	UNLOCK(lk, plbase);
	LOCK_DEALLOC(lk);
	harness_shutdown();
}
END_TEST

START_TEST(test_unlock_of_a_lock_not_held_panics)
{
	lock_t *lk;
	int line;

	lk = boot_with_a_lock();
	HARNESS_EXPECT_PANIC(UNLOCK(lk, plbase)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(),
	    "UNLOCK: test lock: not held by the caller (called from ");
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	LOCK_DEALLOC(lk);
	harness_shutdown();
}
END_TEST

START_TEST(test_lock_dealloc_of_a_held_lock_panics_naming_it)
{
	lock_t *lk;
	int line;

	lk = boot_with_a_lock();
	(void) LOCK(lk, plstr);
	HARNESS_EXPECT_PANIC(LOCK_DEALLOC(lk)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(),
	    "LOCK_DEALLOC: test lock: still held (called from ");
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	/* Nothing was freed: the holder can still let go and free it. */
	UNLOCK(lk, plbase);
	LOCK_DEALLOC(lk);
	harness_shutdown();
}
END_TEST

START_TEST(test_a_lock_without_lkinfo_is_called_lock)
{
	lock_t *lk;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	lk = LOCK_ALLOC(1, plbase, NULL, KM_NOSLEEP);
	ck_assert_ptr_nonnull(lk);
	HARNESS_EXPECT_PANIC(UNLOCK(lk, plbase));
	harness_assert_prefix(harness_panic_msg(),
	    "UNLOCK: lock: not held by the caller (called from ");
	LOCK_DEALLOC(lk);
	harness_shutdown();
}
END_TEST

/* A second thread takes the lock and holds it until told to let go. */
struct holder {
	lock_t		*h_lk;
	atomic_int	h_holding;
	atomic_int	h_release;
	atomic_int	h_owned_there;	/* LOCK_OWNED in the holder */
};

static void *
holder_thread(void *arg)
{
	struct holder *h = arg;

	(void) LOCK(h->h_lk, plstr);
	atomic_store(&h->h_owned_there, LOCK_OWNED(h->h_lk));
	atomic_store(&h->h_holding, 1);
	while (atomic_load(&h->h_release) == 0)
		sleep_ms(1);
	UNLOCK(h->h_lk, plbase);
	return (NULL);
}

static void
holder_start(struct holder *h, pthread_t *t)
{
	h->h_lk = LOCK_ALLOC(1, plbase, &test_lkinfo, KM_NOSLEEP);
	ck_assert_ptr_nonnull(h->h_lk);
	ck_assert_int_eq(pthread_create(t, NULL, holder_thread, h), 0);
	ck_assert(wait_at_least(&h->h_holding, 1));
}

static void
holder_stop(struct holder *h, pthread_t t)
{
	atomic_store(&h->h_release, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	LOCK_DEALLOC(h->h_lk);
}

START_TEST(test_lock_owned_is_false_for_another_thread)
{
	struct holder h = { 0 };
	pthread_t t;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	holder_start(&h, &t);
	ck_assert_int_eq(h.h_owned_there, 1);
	ck_assert(!LOCK_OWNED(h.h_lk));
	holder_stop(&h, t);
	harness_shutdown();
}
END_TEST

START_TEST(test_trylock_fails_while_another_thread_holds_the_lock)
{
	struct holder h = { 0 };
	pthread_t t;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	holder_start(&h, &t);
	ck_assert_int_eq(TRYLOCK(h.h_lk, plstr), -1);
	ck_assert(!LOCK_OWNED(h.h_lk));
	atomic_store(&h.h_release, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(TRYLOCK(h.h_lk, plstr), plstr);
	ck_assert(LOCK_OWNED(h.h_lk));
	UNLOCK(h.h_lk, plbase);
	LOCK_DEALLOC(h.h_lk);
	harness_shutdown();
}
END_TEST

START_TEST(test_unlock_of_a_lock_another_thread_holds_panics)
{
	struct holder h = { 0 };
	pthread_t t;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	holder_start(&h, &t);
	HARNESS_EXPECT_PANIC(UNLOCK(h.h_lk, plbase));
	harness_assert_prefix(harness_panic_msg(),
	    "UNLOCK: test lock: not held by the caller (called from ");
	holder_stop(&h, t);
	harness_shutdown();
}
END_TEST

/*
 * Synchronisation variables
 */
static lock_t *sv_lk;
static sv_t *sv_sv;
static int sv_flag;

static void
sv_setup(enum ustreams_exec exec)
{
	harness_boot(MIB, exec);
	sv_lk = LOCK_ALLOC(1, plbase, &test_lkinfo, KM_NOSLEEP);
	sv_sv = SV_ALLOC(KM_NOSLEEP);
	ck_assert_ptr_nonnull(sv_lk);
	ck_assert_ptr_nonnull(sv_sv);
	sv_flag = 0;
}

static void
sv_teardown(void)
{
	LOCK_DEALLOC(sv_lk);
	SV_DEALLOC(sv_sv);
	harness_shutdown();
}

/* Timeout handler: set the flag and signal, under the lock. */
static void
sv_signaller(void *arg)
{
	(void) LOCK(sv_lk, plstr);
	sv_flag = 1;
	SV_SIGNAL(sv_sv, 0);
	UNLOCK(sv_lk, plbase);
}

START_TEST(test_sv_wait_under_sim_runs_events_until_signalled)
{
	sv_setup(USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(sv_signaller, NULL, 7), 0);
	(void) LOCK(sv_lk, plbase);
	SV_WAIT(sv_sv, primed, sv_lk);
	ck_assert_int_eq(sv_flag, 1);
	/* The clock went to the signalling timeout: 7 ticks of 10 ms. */
	ck_assert_uint_eq(ustreams_now_ns(), 70000000);
	sv_teardown();
}
END_TEST

START_TEST(test_sv_wait_returns_with_the_lock_released)
{
	sv_setup(USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(sv_signaller, NULL, 1), 0);
	(void) LOCK(sv_lk, plbase);
	SV_WAIT(sv_sv, primed, sv_lk);
	ck_assert(!LOCK_OWNED(sv_lk));
	sv_teardown();
}
END_TEST

START_TEST(test_sv_wait_sig_returns_true_when_signalled)
{
	sv_setup(USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(sv_signaller, NULL, 1), 0);
	(void) LOCK(sv_lk, plbase);
	ck_assert(SV_WAIT_SIG(sv_sv, primed, sv_lk));
	ck_assert_int_eq(sv_flag, 1);
	sv_teardown();
}
END_TEST

START_TEST(test_sv_wait_under_sim_with_no_event_left_panics)
{
	sv_setup(USTREAMS_EXEC_SIM);
	(void) LOCK(sv_lk, plbase);
	HARNESS_EXPECT_PANIC(SV_WAIT(sv_sv, primed, sv_lk));
	ck_assert_str_eq(harness_panic_msg(), "SV_WAIT: would sleep forever: "
	    "no event is left to wake it (sim executive)");
	/* SV_WAIT let go of the lock before it found nothing to run. */
	ck_assert(!LOCK_OWNED(sv_lk));
	sv_teardown();
}
END_TEST

/* Only those already waiting are woken: a signal is not remembered. */
START_TEST(test_sv_signal_before_the_wait_is_not_remembered)
{
	sv_setup(USTREAMS_EXEC_SIM);
	SV_SIGNAL(sv_sv, 0);
	SV_BROADCAST(sv_sv, 0);
	(void) LOCK(sv_lk, plbase);
	HARNESS_EXPECT_PANIC(SV_WAIT(sv_sv, primed, sv_lk));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "would sleep forever"));
	/* SV_WAIT let go of the lock before it found nothing to run. */
	ck_assert(!LOCK_OWNED(sv_lk));
	sv_teardown();
}
END_TEST

START_TEST(test_sv_wait_without_the_lock_held_panics)
{
	int line;

	sv_setup(USTREAMS_EXEC_SIM);
	HARNESS_EXPECT_PANIC(SV_WAIT(sv_sv, primed, sv_lk)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(),
	    "SV_WAIT: test lock: lock not held (called from ");
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	sv_teardown();
}
END_TEST

/* Handlers that try to sleep; they record the panic. */
static char sv_panic[512];
static int sv_handler_ran;
static int sv_panic_line;	/* the line of the SV_WAIT that panicked */

static void
sv_wait_handler(void *arg)
{
	sv_handler_ran = 1;
	(void) LOCK(sv_lk, plstr);
	HARNESS_EXPECT_PANIC(SV_WAIT(sv_sv, primed, sv_lk));
	sv_panic_line = __LINE__ - 1;
	(void) snprintf(sv_panic, sizeof (sv_panic), "%s",
	    harness_panic_msg());
	UNLOCK(sv_lk, plbase);
}

START_TEST(test_sv_wait_in_interrupt_context_panics)
{
	struct ust_event ev;

	sv_setup(USTREAMS_EXEC_SIM);
	ust_event_init(&ev, sv_wait_handler, NULL, USTREAMS_CTX_INTR);
	ck_assert(ust_event_post(&ev));
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(sv_handler_ran, 1);
	harness_assert_prefix(sv_panic,
	    "SV_WAIT: may sleep, called from interrupt context by ");
	harness_assert_where(sv_panic, "context by", "sv_wait_handler",
	    __FILE__, sv_panic_line);
	sv_teardown();
}
END_TEST

START_TEST(test_sv_wait_in_a_timeout_handler_panics)
{
	sv_setup(USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(sv_wait_handler, NULL, 1), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(sv_handler_ran, 1);
	harness_assert_prefix(sv_panic,
	    "SV_WAIT: may sleep, called from callout context by ");
	harness_assert_where(sv_panic, "context by", "sv_wait_handler",
	    __FILE__, sv_panic_line);
	sv_teardown();
}
END_TEST

/* Threads: waiters on their own threads, woken by a broadcast. */
#define	SV_WAITERS	3

static atomic_int sv_waiting, sv_woken;

static void *
sv_waiter(void *arg)
{
	(void) LOCK(sv_lk, plbase);
	atomic_fetch_add(&sv_waiting, 1);
	while (sv_flag == 0) {
		SV_WAIT(sv_sv, primed, sv_lk);
		(void) LOCK(sv_lk, plbase);
	}
	UNLOCK(sv_lk, plbase);
	atomic_fetch_add(&sv_woken, 1);
	return (NULL);
}

START_TEST(test_sv_broadcast_wakes_every_waiter_threads)
{
	pthread_t t[SV_WAITERS];

	sv_setup(USTREAMS_EXEC_THREADS);
	for (int i = 0; i < SV_WAITERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, sv_waiter, NULL),
		    0);
	ck_assert(wait_at_least(&sv_waiting, SV_WAITERS));
	/* Each counted itself under the lock and then waited. */
	(void) LOCK(sv_lk, plbase);
	ck_assert_int_eq(sv_woken, 0);
	sv_flag = 1;
	SV_BROADCAST(sv_sv, 0);
	UNLOCK(sv_lk, plbase);
	ck_assert(wait_at_least(&sv_woken, SV_WAITERS));
	for (int i = 0; i < SV_WAITERS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	sv_teardown();
}
END_TEST

START_TEST(test_sv_wait_under_threads_is_woken_by_a_timeout)
{
	sv_setup(USTREAMS_EXEC_THREADS);
	(void) LOCK(sv_lk, plbase);
	ck_assert_int_ne(timeout(sv_signaller, NULL, 2), 0);
	while (sv_flag == 0) {
		SV_WAIT(sv_sv, primed, sv_lk);
		(void) LOCK(sv_lk, plbase);
	}
	ck_assert(LOCK_OWNED(sv_lk));
	UNLOCK(sv_lk, plbase);
	ck_assert_int_eq(sv_flag, 1);
	sv_teardown();
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
	sv_lk = NULL;
	sv_sv = NULL;
	sv_flag = 0;
	sv_panic[0] = '\0';
	sv_handler_ran = 0;
	atomic_store(&sv_waiting, 0);
	atomic_store(&sv_woken, 0);
}

static TCase *
ddi_tcase(const char *name, double timeout)
{
	TCase *tc = harness_tcase(name, timeout);

	tcase_add_checked_fixture(tc, reset_statics, NULL);
	return (tc);
}

static Suite *
cmn_err_suite(void)
{
	Suite *s = suite_create("ddi_cmn_err");
	TCase *tc;

	tc = ddi_tcase("cmn_err", 10);
	tcase_add_test(tc, test_cmn_err_levels_reach_the_log_hook);
	tcase_add_test(tc, test_cmn_err_strips_the_trailing_newline);
	tcase_add_test(tc, test_cmn_err_ce_cont_is_passed_as_is);
	tcase_add_test(tc, test_cmn_err_strips_the_bang_prefix);
	tcase_add_test(tc, test_cmn_err_strips_the_caret_prefix);
	tcase_add_test(tc, test_cmn_err_unknown_level_is_a_warning_and_says_so);
	tcase_add_test(tc, test_cmn_err_ce_panic_calls_the_panic_hook);
	tcase_add_test(tc, test_cmn_err_hooks_get_their_arguments);
	tcase_add_test(tc, test_cmn_err_panic_hook_that_returns_aborts);
	tcase_add_test(tc,
	    test_cmn_err_without_a_hook_prints_to_stderr_with_prefixes);
	tcase_add_test(tc, test_verify_panics_naming_the_expression);
#ifdef DEBUG
	tcase_add_test(tc, test_assert_panics_in_a_debug_build);
#else
	tcase_add_test(tc, test_assert_is_compiled_out_of_a_release_build);
#endif
	suite_add_tcase(s, tc);

	tc = ddi_tcase("lock", 30);
	tcase_add_test(tc, test_lock_alloc_without_an_instance_returns_null);
	tcase_add_test(tc, test_locks_and_svs_are_streams_memory);
	tcase_add_test(tc, test_lock_returns_the_pl_given);
	tcase_add_test(tc, test_lock_owned_is_true_only_for_the_holder);
	tcase_add_test(tc, test_recursive_lock_panics_naming_the_lock);
	tcase_add_test(tc, test_unlock_of_a_lock_not_held_panics);
	tcase_add_test(tc, test_lock_dealloc_of_a_held_lock_panics_naming_it);
	tcase_add_test(tc, test_a_lock_without_lkinfo_is_called_lock);
	tcase_add_test(tc, test_lock_owned_is_false_for_another_thread);
	tcase_add_test(tc,
	    test_trylock_fails_while_another_thread_holds_the_lock);
	tcase_add_test(tc, test_unlock_of_a_lock_another_thread_holds_panics);
	suite_add_tcase(s, tc);

	tc = ddi_tcase("sv", 30);
	tcase_add_test(tc, test_sv_wait_under_sim_runs_events_until_signalled);
	tcase_add_test(tc, test_sv_wait_returns_with_the_lock_released);
	tcase_add_test(tc, test_sv_wait_sig_returns_true_when_signalled);
	tcase_add_test(tc, test_sv_wait_under_sim_with_no_event_left_panics);
	tcase_add_test(tc, test_sv_signal_before_the_wait_is_not_remembered);
	tcase_add_test(tc, test_sv_wait_without_the_lock_held_panics);
	tcase_add_test(tc, test_sv_wait_in_interrupt_context_panics);
	tcase_add_test(tc, test_sv_wait_in_a_timeout_handler_panics);
	tcase_add_test(tc, test_sv_broadcast_wakes_every_waiter_threads);
	tcase_add_test(tc, test_sv_wait_under_threads_is_woken_by_a_timeout);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(cmn_err_suite()));
}
