/*
 * The watchdog of unforked test runs: see harness.h.
 *
 * Check enforces a test case's timeout by killing the child it forked for
 * the test.  Unforked (CK_FORK=no, as the ThreadSanitizer variant runs)
 * there is no child and no timeout: a test that hangs -- a helper thread
 * gone, a wake-up lost -- holds the whole run until something outside it
 * gives up, and nothing says which test it was.  So, when the run is
 * unforked, a thread of the harness's own watches each test from its
 * setup to its teardown, and aborts the process, naming the test, when
 * one outlives its allowance: WD_FACTOR times the longest timeout of the
 * suite's test cases (times CK_TIMEOUT_MULTIPLIER, as Check's own), and
 * never less than WD_MIN_S.  The longest, because the fixture every test
 * case shares cannot tell which one it is setting up.  The allowance is
 * generous on purpose: the sanitizer variants run several times slower
 * than the timeouts were set for, and a slow test must not be taken for a
 * hung one.
 *
 * Locking: wd_lock protects everything below it; the watching thread
 * holds it only to look.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define	WD_FACTOR	5
#define	WD_MIN_S	300.0

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv;		/* made by harness_watchdog_start */
static double wd_timeout_max;		/* the suite's longest, seconds */
static bool wd_running;			/* the watching thread is there */
static bool wd_stopping;
static bool wd_armed;			/* a test is running */
static struct timespec wd_deadline;	/* CLOCK_MONOTONIC */
static double wd_allowed;		/* seconds a test may run; set at start */
static pthread_t wd_thread;

void
harness_watchdog_tcase(double timeout)
{
	pthread_mutex_lock(&wd_lock);
	if (timeout > wd_timeout_max)
		wd_timeout_max = timeout;
	pthread_mutex_unlock(&wd_lock);
}

/* How long a test may run, once every test case is known. */
static double
wd_allowance(void)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	double mult = 1, allowed;

	if (m != NULL && strtod(m, NULL) > 0)
		mult = strtod(m, NULL);
	allowed = wd_timeout_max * WD_FACTOR * mult;
	return (allowed > WD_MIN_S ? allowed : WD_MIN_S);
}

static void *
wd_watch(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&wd_lock);
	while (!wd_stopping) {
		struct timespec now;

		(void) clock_gettime(CLOCK_MONOTONIC, &now);
		if (wd_armed && (now.tv_sec > wd_deadline.tv_sec ||
		    (now.tv_sec == wd_deadline.tv_sec &&
		    now.tv_nsec >= wd_deadline.tv_nsec))) {
			/*
			 * Check names the running test after the fixture has
			 * set it up, on the test's thread; read here only to
			 * say which test the run dies in.
			 */
			const char *test = tcase_name();

			(void) fprintf(stderr, "%s: harness: test %s is still "
			    "running after %.0f s, taken for hung: an unforked "
			    "run has no timeouts, and this is %d times the "
			    "suite's longest (at least %.0f s); aborting\n",
			    program_invocation_short_name,
			    test != NULL ? test : "(unnamed)", wd_allowed,
			    WD_FACTOR, WD_MIN_S);
			abort();
		}
		now.tv_sec += 1;
		(void) pthread_cond_timedwait(&wd_cv, &wd_lock, &now);
	}
	pthread_mutex_unlock(&wd_lock);
	return (NULL);
}

void
harness_watchdog_start(bool unforked)
{
	pthread_condattr_t ca;
	int error;

	if (!unforked)
		return;
	(void) pthread_condattr_init(&ca);
	(void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void) pthread_cond_init(&wd_cv, &ca);
	(void) pthread_condattr_destroy(&ca);
	wd_stopping = false;
	wd_allowed = wd_allowance();
	if ((error = pthread_create(&wd_thread, NULL, wd_watch, NULL)) != 0) {
		(void) fprintf(stderr, "harness: no watchdog for this unforked "
		    "run: pthread_create: %s\n", strerror(error));
		(void) pthread_cond_destroy(&wd_cv);
		return;
	}
	wd_running = true;
}

void
harness_watchdog_stop(void)
{
	if (!wd_running)
		return;
	pthread_mutex_lock(&wd_lock);
	wd_stopping = true;
	pthread_cond_signal(&wd_cv);
	pthread_mutex_unlock(&wd_lock);
	(void) pthread_join(wd_thread, NULL);
	(void) pthread_cond_destroy(&wd_cv);
	wd_running = false;
}

void
harness_watchdog_arm(void)
{
	pthread_mutex_lock(&wd_lock);
	(void) clock_gettime(CLOCK_MONOTONIC, &wd_deadline);
	wd_deadline.tv_sec += (time_t)wd_allowed;
	wd_armed = true;
	pthread_mutex_unlock(&wd_lock);
}

void
harness_watchdog_disarm(void)
{
	pthread_mutex_lock(&wd_lock);
	wd_armed = false;
	pthread_mutex_unlock(&wd_lock);
}
