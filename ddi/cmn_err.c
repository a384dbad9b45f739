/*
 * cmn_err: messages and panics.
 *
 * Every message the framework or a driver prints goes through here, never
 * straight to stdio, so that a test can capture the log (ustreams_log_hook)
 * and a panic can be caught (ustreams_panic_hook) instead of ending the
 * process.  cmn_err works whether or not an instance is booted: boot
 * failures are reported through it too.
 *
 * As on SVR5, a format beginning with '!' goes to the log only and one
 * beginning with '^' to the console only; both end up at the same sink
 * here, so the character is just removed.
 *
 * Locking: log_lock serialises sinks, so that lines from different threads
 * never interleave.  The hooks are set by the application while no STREAMS
 * code runs (before boot, in practice); they are read without the lock.
 */
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/ustreams.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define	CMN_ERR_MSGMAX	1024

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static ustreams_log_fn *log_fn;
static void *log_arg;
static ustreams_panic_fn *panic_fn;
static void *panic_arg;

static const char *const level_prefix[] = {
	[CE_CONT] = "",
	[CE_NOTE] = "NOTICE: ",
	[CE_WARN] = "WARNING: ",
	[CE_PANIC] = "PANIC: ",
};

/*
 * ustreams_log_hook - send cmn_err output to fn instead of stderr.
 * fn == NULL restores stderr.  fn receives the message without the level
 * prefix and without a trailing newline.
 */
void
ustreams_log_hook(ustreams_log_fn *fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

/*
 * ustreams_panic_hook - call fn on CE_PANIC instead of aborting.  fn must
 * not return (it longjmps, or exits); if it does, the process aborts.
 */
void
ustreams_panic_hook(ustreams_panic_fn *fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	panic_fn = fn;
	panic_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

static void
log_emit(int level, const char *msg)
{
	pthread_mutex_lock(&log_lock);
	if (log_fn != NULL) {
		log_fn(level, msg, log_arg);
	} else if (level == CE_CONT) {
		fputs(msg, stderr);
	} else {
		fprintf(stderr, "%s%s\n", level_prefix[level], msg);
	}
	pthread_mutex_unlock(&log_lock);
}

/*
 * vcmn_err, cmn_err - print a message at the given level; CE_PANIC stops
 * the instance.  Any context; does not block (but for the sink's lock).
 * An unknown level is treated as CE_WARN and says so.
 */
void
vcmn_err(int level, const char *fmt, va_list ap)
{
	char msg[CMN_ERR_MSGMAX];

	if (level < CE_CONT || level > CE_PANIC) {
		char bad[64];

		(void) snprintf(bad, sizeof (bad),
		    "cmn_err: unknown level %d", level);
		log_emit(CE_WARN, bad);
		level = CE_WARN;
	}
	if (fmt[0] == '!' || fmt[0] == '^')
		fmt++;
	(void) vsnprintf(msg, sizeof (msg), fmt, ap);
	/* A trailing newline is the caller's habit from the console days. */
	if (level != CE_CONT) {
		size_t n = strlen(msg);

		if (n > 0 && msg[n - 1] == '\n')
			msg[n - 1] = '\0';
	}
	log_emit(level, msg);

	if (level == CE_PANIC) {
		ustreams_panic_fn *fn = panic_fn;

		if (fn != NULL)
			fn(msg, panic_arg);
		abort();
	}
}

void
cmn_err(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcmn_err(level, fmt, ap);
	va_end(ap);
}

void
ustreams_assfail(const char *ex, const char *file, int line)
{
	cmn_err(CE_PANIC, "assertion failed: %s, file: %s, line: %d",
	    ex, file, line);
	abort();	/* not reached: cmn_err(CE_PANIC) does not return */
}
