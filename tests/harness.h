/*
 * Test harness shared by the Check suites: booting an instance, capturing
 * the cmn_err log, and catching panics.
 *
 * Check runs each test in its own process (CK_FORK), so a test may boot an
 * instance and leave it to die with the process; tests that check shutdown
 * behaviour shut down explicitly.
 */
#ifndef _TESTS_HARNESS_H
#define	_TESTS_HARNESS_H

#include <check.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stream.h>
#include <sys/ustreams.h>

/*
 * Boot with the defaults but for memory size and executive.  Shut down,
 * failing the test if the shutdown finds STREAMS memory still in use (a
 * test that means to leave some calls ustreams_shutdown itself).
 */
extern void harness_boot(size_t memsize, enum ustreams_exec exec);
extern void harness_boot_cfg(const struct ustreams_config *cfg);
extern void harness_shutdown(void);

/* The log: every cmn_err message since harness_log_reset(). */
extern void harness_log_capture(void);
extern void harness_log_reset(void);
extern int harness_log_count(void);
extern const char *harness_log_find(const char *substr);

/*
 * HARNESS_EXPECT_PANIC(stmt): stmt must panic (cmn_err CE_PANIC, a failed
 * ASSERT or VERIFY); the panic message is returned by harness_panic_msg().
 */
extern sigjmp_buf harness_panic_jb;
extern volatile int harness_panic_armed;
extern const char *harness_panic_msg(void);
extern void harness_panic_catch(void);

#define	HARNESS_EXPECT_PANIC(stmt) do {					\
	harness_panic_catch();						\
	if (sigsetjmp(harness_panic_jb, 0) == 0) {			\
		harness_panic_armed = 1;				\
		stmt;							\
		harness_panic_armed = 0;				\
		ck_abort_msg("expected a panic from: %s", #stmt);	\
	}								\
	harness_panic_armed = 0;					\
} while (0)

/*
 * harness_assert_prefix(msg, prefix): msg (a panic message) starts with
 * prefix.
 *
 * harness_assert_where(msg, before, func, file, line): msg (a panic
 * message) has, right after the text before and a space, the code address
 * of a call made in func at file:line, as the framework names addresses:
 * "func+0x1d (file:line)".  HARNESS_ASSERT_WHERE(msg, before, line) is
 * that for a call in the function using it, in this file.
 */
extern void harness_assert_prefix(const char *msg, const char *prefix);
extern void harness_assert_where(const char *msg, const char *before,
    const char *func, const char *file, int line);
#define	HARNESS_ASSERT_WHERE(msg, before, line) \
	harness_assert_where((msg), (before), __func__, __FILE__, (line))

/*
 * A test case whose tests shut down whatever instance they leave booted,
 * and restore the log and panic hooks, so that the suite also runs with
 * CK_FORK=no (the ThreadSanitizer variant does: jemalloc's fork handlers
 * confuse it).  That shutdown closes the streams left open, and the test
 * fails if it then finds STREAMS memory still in use: a message a driver,
 * a module or the test itself lost without freeing it.  Timeout in
 * seconds.
 */
extern TCase *harness_tcase(const char *name, double timeout);

/* Run a suite; returns the process exit status. */
extern int harness_run(Suite *s);

/*
 * The watchdog of unforked runs (watchdog.c), which have no timeouts:
 * harness_tcase tells it each test case's timeout, harness_run starts
 * and stops the watching thread when the run is unforked, and the
 * fixture arms it for each test and disarms it after.  A test that
 * outlives its allowance (see watchdog.c) aborts the run, naming the
 * test.
 */
extern void harness_watchdog_tcase(double timeout);
extern void harness_watchdog_start(bool unforked);
extern void harness_watchdog_stop(void);
extern void harness_watchdog_arm(void);
extern void harness_watchdog_disarm(void);

/*
 * Checks made on threads other than the test's own: helper threads a test
 * starts with pthread_create, and handlers the threads executive runs on
 * its threads.  Those must not call Check's assertions (ck_assert*,
 * ck_abort*, REQUIRE, nor a test function that uses them, such as an
 * asserting message maker).  Run unforked (CK_FORK=no, as under
 * ThreadSanitizer), a failed assertion long-jumps from the other thread
 * onto the test thread's stack: undefined behaviour, a crash rather than
 * a report.  Forked, it ends the process from the other thread, in the
 * middle of whatever the test's thread was doing.
 *
 * HELPER_CHECK(cond, fmt, ...) is such a thread's check: it answers
 * whether cond holds and, if not, records the failure, with its file and
 * line and the printf-style message; the first failure recorded is kept
 * (harness_helper_fail records, and answers false).  The rules:
 *  - a helper whose check failed stops (returns from its thread
 *    function), or goes on only with what others wait for; either way,
 *    nobody may be left waiting for what it will no longer do;
 *  - the test's thread, once it has joined its helpers (or once the
 *    handlers have run), calls harness_helpers_check(), which fails the
 *    test with the failure recorded, if any, and forgets it;
 *  - harness_helper_failed() says whether a failure is recorded, for a
 *    wait on a helper that should end early when the helper has stopped.
 * A test made with harness_tcase starts with nothing recorded, and its
 * teardown reports a failure the test left unreported.
 */
extern bool harness_helper_fail(const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern bool harness_helper_failed(void);
extern void harness_helpers_check(void);
#define	HELPER_CHECK(cond, ...)						\
	((cond) || harness_helper_fail(__FILE__, __LINE__, __VA_ARGS__))

/*
 * For tests that need another thread of theirs asleep before they go on
 * (a condition they wait for, not a time).  harness_gettid() is the
 * calling thread's id; harness_wait_asleep(tid) waits, up to 20 seconds,
 * until /proc says thread tid of this process is asleep ('S'), and
 * answers whether it is.
 */
extern int harness_gettid(void);
extern bool harness_wait_asleep(int tid);

/*
 * M_FLUSH at the bottom of a stream, the way a driver handles it, for the
 * test drivers: FLUSHW flushes q's data (one band with FLUSHBAND), FLUSHR
 * the read queue's, and the message goes back up without FLUSHW; a
 * message with nothing left to do is freed.  q is the driver's write queue.
 */
extern void harness_driver_flush(queue_t *q, mblk_t *mp);

/*
 * The variant the tests run as: the one they were built as ("release",
 * "asan", "tsan", ...), or "memcheck" for release tests under valgrind.
 */
extern const char *harness_variant(void);

/*
 * For the model-based tests (test_*_model.c).
 *
 * harness_rnd_seed(seed) starts a sequence; harness_rnd(n) gives its next
 * number in [0, n): xorshift64*, the same sequence for a seed on every
 * platform, so a failure replays exactly.
 *
 * REQUIRE(cond, fmt, ...) fails the test with the message unless
 * cond.  Check's ck_assert records every check that passes (a write to its
 * log); a test that checks millions of times calls Check only on failure.
 *
 * harness_assert_no_block_in_use(fmt, ...): no size class has a block in
 * use; the printf-style fmt begins the failure message.
 */
extern void harness_rnd_seed(uint64_t seed);
extern uint32_t harness_rnd(uint32_t n);
#define	REQUIRE(cond, ...) do {						\
	if (!(cond))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

/*
 * The trail of a model-based run, so that a failure says where it was:
 * harness_trail_start(seed) begins a run, harness_trail_step(step) a step,
 * harness_trail_op(name) an operation, harness_trail_check() the checks
 * after it.  TRAIL_REQUIRE(cond, what) fails the test unless cond, naming
 * its own file and line, the seed, the step, what was running (an
 * operation or the check) and the 8 operations before.
 *
 * harness_fill(p, n) fills p with bytes each unlike its neighbours, and
 * unlike those of the calls before and after, so that a byte out of place
 * in what a test wrote is seen.
 */
extern void harness_trail_start(unsigned seed);
extern void harness_trail_step(unsigned step);
extern void harness_trail_op(const char *name);
extern void harness_trail_check(void);
extern void harness_trail_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));
#define	TRAIL_REQUIRE(cond, what) do {					\
	if (!(cond))							\
		harness_trail_fail(__FILE__, __LINE__, (what));		\
} while (0)
extern void harness_fill(unsigned char *p, size_t n);

extern void harness_assert_no_block_in_use(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif	/* _TESTS_HARNESS_H */
