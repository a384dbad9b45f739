/*
 * Test harness: see harness.h.
 */
#include "harness.h"

#include <sys/strsun.h>
#include <sys/cmn_err.h>

#include <sys/ustreams_stat.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define	LOG_MAX		256
#define	LOG_MSGMAX	512

static char log_msgs[LOG_MAX][LOG_MSGMAX];
static int log_n;
static char panic_msg[LOG_MSGMAX];

sigjmp_buf harness_panic_jb;
volatile int harness_panic_armed;

void
harness_boot_cfg(const struct ustreams_config *cfg)
{
	int error = ustreams_boot(cfg);

	ck_assert_msg(error == 0, "ustreams_boot failed: %d", error);
}

void
harness_boot(size_t memsize, enum ustreams_exec exec)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = memsize;
	cfg.uc_exec = exec;
	harness_boot_cfg(&cfg);
}

static bool log_capturing;
static char leak_msg[LOG_MSGMAX];
static void log_hook(int level, const char *msg, void *arg);

/*
 * A shutdown's log: what it says about memory left in use is noted, and
 * everything goes on to the capture, if the test captures.  A panic is
 * printed too: the process ends with it, and the message is the report.
 */
static void
leak_log(int level, const char *msg, void *arg)
{
	if (leak_msg[0] == '\0' && strstr(msg, "still in use") != NULL)
		(void) snprintf(leak_msg, sizeof (leak_msg), "%s", msg);
	if (level == CE_PANIC)
		fprintf(stderr, "PANIC: %s\n", msg);
	if (log_capturing)
		log_hook(level, msg, arg);
}

/* Shut down; false (and the message in leak_msg) if memory was left. */
static bool
shutdown_noleak(void)
{
	int error;

	leak_msg[0] = '\0';
	ustreams_log_hook(leak_log, NULL);
	error = ustreams_shutdown();
	ustreams_log_hook(log_capturing ? log_hook : NULL, NULL);
	ck_assert_int_eq(error, 0);
	return (leak_msg[0] == '\0');
}

void
harness_shutdown(void)
{
	ck_assert_msg(shutdown_noleak(), "%s", leak_msg);
}

static void
log_hook(int level, const char *msg, void *arg)
{
	(void) arg;
	if (log_n < LOG_MAX) {
		(void) snprintf(log_msgs[log_n++], LOG_MSGMAX, "%d:%s",
		    level, msg);
	}
}

void
harness_log_capture(void)
{
	log_n = 0;
	log_capturing = true;
	ustreams_log_hook(log_hook, NULL);
}

void
harness_log_reset(void)
{
	log_n = 0;
}

int
harness_log_count(void)
{
	return (log_n);
}

const char *
harness_log_find(const char *substr)
{
	for (int i = 0; i < log_n; i++) {
		if (strstr(log_msgs[i], substr) != NULL)
			return (log_msgs[i]);
	}
	return (NULL);
}

static void
panic_hook(const char *msg, void *arg)
{
	(void) arg;
	(void) snprintf(panic_msg, sizeof (panic_msg), "%s", msg);
	if (harness_panic_armed) {
		harness_panic_armed = 0;
		siglongjmp(harness_panic_jb, 1);
	}
	fprintf(stderr, "unexpected panic: %s\n", msg);
	abort();
}

void
harness_panic_catch(void)
{
	panic_msg[0] = '\0';
	ustreams_panic_hook(panic_hook, NULL);
}

const char *
harness_panic_msg(void)
{
	return (panic_msg);
}

void
harness_assert_prefix(const char *msg, const char *prefix)
{
	ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0,
	    "\"%s\" does not start with \"%s\"", msg, prefix);
}

void
harness_assert_where(const char *msg, const char *before, const char *func,
    const char *file, int line)
{
	const char *at, *paren;
	char want[256];

	(void) snprintf(want, sizeof (want), "%s %s+0x", before, func);
	at = strstr(msg, want);
	ck_assert_msg(at != NULL, "no \"%s\" in: %s", want, msg);
	(void) snprintf(want, sizeof (want), "(%s:%d)", file, line);
	paren = strchr(at + strlen(before), '(');
	ck_assert_msg(paren != NULL && strncmp(paren, want, strlen(want)) == 0,
	    "\"%s\" is not followed by %s in: %s", before, want, msg);
}

static uint64_t rnd_state;

void
harness_rnd_seed(uint64_t seed)
{
	rnd_state = 0x9e3779b97f4a7c15ULL * (seed + 1);
}

uint32_t
harness_rnd(uint32_t n)
{
	uint64_t x = rnd_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rnd_state = x;
	return ((uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32) % n);
}

void
harness_driver_flush(queue_t *q, mblk_t *mp)
{
	unsigned char flag = *mp->b_rptr;
	unsigned char band = MBLKL(mp) >= 2 ? mp->b_rptr[1] : 0;

	if (flag & FLUSHW) {
		if (flag & FLUSHBAND)
			flushband(q, band, FLUSHDATA);
		else
			flushq(q, FLUSHDATA);
	}
	if (flag & FLUSHR) {
		flushq(RD(q), FLUSHDATA);
		*mp->b_rptr &= ~FLUSHW;
		qreply(q, mp);
	} else {
		freemsg(mp);
	}
}

/*
 * The trail of a model-based run.  trail_ops is a ring of the last
 * operations named; trail_n counts them; trail_checking is set from a
 * check to the next operation.
 */
#define	TRAIL_N		9	/* the one running and 8 before it */

static unsigned trail_seed, trail_step, trail_n;
static const char *trail_ops[TRAIL_N];
static bool trail_checking;
static uint32_t fill_next;

void
harness_trail_start(unsigned seed)
{
	trail_seed = seed;
	trail_step = 0;
	trail_n = 0;
	trail_checking = false;
}

void
harness_trail_step(unsigned step)
{
	trail_step = step;
}

void
harness_trail_op(const char *name)
{
	trail_ops[trail_n++ % TRAIL_N] = name;
	trail_checking = false;
}

void
harness_trail_check(void)
{
	trail_checking = true;
}

void
harness_trail_fail(const char *file, int line, const char *what)
{
	char before[TRAIL_N * 16] = "";
	/* Running: the check, or the last operation named. */
	unsigned end = trail_n - (!trail_checking && trail_n > 0);
	unsigned first = end > TRAIL_N - 1 ? end - (TRAIL_N - 1) : 0;

	for (unsigned i = first; i < end; i++) {
		(void) strlcat(before, " ", sizeof (before));
		(void) strlcat(before, trail_ops[i % TRAIL_N], sizeof (before));
	}
	ck_abort_msg("%s:%d: seed %u step %u (%s): %s; before:%s", file, line,
	    trail_seed, trail_step, trail_checking ? "check" :
	    trail_n > 0 ? trail_ops[(trail_n - 1) % TRAIL_N] : "", what,
	    before);
	abort();		/* not reached: Check ends the test */
}

void
harness_fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t b = fill_next++;

		p[i] = (unsigned char)(b ^ (b >> 8) ^ (b >> 16));
	}
}

void
harness_assert_no_block_in_use(const char *fmt, ...)
{
	struct ustreams_strstat ss;
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(what, sizeof (what), fmt, ap);
	va_end(ap);
	ck_assert_int_eq(ustreams_strstat(&ss), 0);
	for (unsigned c = 0; c < ss.ss_nclass; c++)
		ck_assert_msg(ss.ss_class[c].cs_inuse == 0, "%s: class %s: "
		    "%llu block(s) left in use", what, ss.ss_class[c].cs_name,
		    (unsigned long long)ss.ss_class[c].cs_inuse);
}

int
harness_gettid(void)
{
	return ((int)syscall(SYS_gettid));
}

/* The state of thread tid of this process, as /proc says ('S': asleep). */
static char
thread_state(int tid)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;

	(void) snprintf(path, sizeof (path), "/proc/self/task/%d/stat", tid);
	if ((f = fopen(path, "r")) == NULL)
		return ('?');
	n = fread(buf, 1, sizeof (buf) - 1, f);
	(void) fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return (p != NULL && p[1] == ' ' ? p[2] : '?');
}

bool
harness_wait_asleep(int tid)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 20000; i++) {
		if (thread_state(tid) == 'S')
			return (true);
		(void) nanosleep(&ms, NULL);
	}
	return (false);
}

const char *
harness_variant(void)
{
	const char *v = getenv("USTREAMS_VARIANT");

	return (v != NULL ? v : "release");
}

/*
 * The first failure recorded by a check on another thread (harness.h),
 * kept for the test's thread to report.  Both under helper_lock: any
 * thread may record.
 */
static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER;
static bool helper_failed;
static char helper_msg[LOG_MSGMAX];

bool
harness_helper_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	pthread_mutex_lock(&helper_lock);
	if (!helper_failed) {
		helper_failed = true;
		n = snprintf(helper_msg, sizeof (helper_msg), "%s:%d: ", file,
		    line);
		if (n >= 0 && (size_t)n < sizeof (helper_msg)) {
			va_start(ap, fmt);
			(void) vsnprintf(helper_msg + n,
			    sizeof (helper_msg) - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	pthread_mutex_unlock(&helper_lock);
	return (false);
}

bool
harness_helper_failed(void)
{
	bool failed;

	pthread_mutex_lock(&helper_lock);
	failed = helper_failed;
	pthread_mutex_unlock(&helper_lock);
	return (failed);
}

/* Forget what was recorded; the failure, if any, is in msg. */
static bool
helper_take(char *msg, size_t size)
{
	bool failed;

	pthread_mutex_lock(&helper_lock);
	failed = helper_failed;
	(void) snprintf(msg, size, "%s", helper_msg);
	helper_failed = false;
	helper_msg[0] = '\0';
	pthread_mutex_unlock(&helper_lock);
	return (failed);
}

void
harness_helpers_check(void)
{
	char msg[LOG_MSGMAX];

	ck_assert_msg(!helper_take(msg, sizeof (msg)),
	    "on another thread: %s", msg);
}

static void
harness_setup(void)
{
	char msg[LOG_MSGMAX];

	/*
	 * Unforked, the tests share the record: a helper that a failed test
	 * left running may have written to it since that test's teardown.
	 */
	(void) helper_take(msg, sizeof (msg));
	harness_watchdog_arm();
}

static void
harness_teardown(void)
{
	bool clean = true;

	harness_panic_armed = 0;
	log_capturing = false;		/* the test's log is done with */
	if (ustreams_booted())
		clean = shutdown_noleak();
	ustreams_log_hook(NULL, NULL);
	ustreams_panic_hook(NULL, NULL);
	/*
	 * Another thread's failure first: a helper that stopped early may
	 * well have left memory in use, and its failure says why.
	 */
	harness_watchdog_disarm();
	harness_helpers_check();
	ck_assert_msg(clean, "%s", leak_msg);
}

TCase *
harness_tcase(const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, harness_setup, harness_teardown);
	tcase_set_timeout(tc, timeout);
	harness_watchdog_tcase(timeout);
	return (tc);
}

int
harness_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	harness_watchdog_start(srunner_fork_status(sr) == CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	harness_watchdog_stop();
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
