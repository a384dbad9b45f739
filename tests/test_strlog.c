/*
 * strlog and the log driver: who gets a message, what a logger reads,
 * and what is lost when a logger does not keep up.
 *
 * The contract (SVR5 strlog(D3), log(7); illumos says the same): strlog
 * returns 1 when the message was taken, 0 when not; the error logger
 * takes SL_ERROR messages, the trace logger the SL_TRACE ones its
 * trace_ids select, the console logger the SL_CONSOLE ones; a logger
 * reads a struct log_ctl and the text with getmsg.  ustreams' choices,
 * from streams/strlog.c: one logger of each kind; sequence numbers per
 * kind from 0, counting every message logged for that kind; an
 * SL_CONSOLE message with no console logger goes to cmn_err's sink.
 *
 * Most tests run under the sim executive, where the log driver's service
 * procedure runs only when events run, so that what is queued where is
 * exact; the last one logs from two threads at once.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/stropts.h>
#include <sys/strlog.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#define	MEM_4M		(4u * 1024 * 1024)

static bool sim;

static void
start(enum ustreams_exec exec)
{
	sim = exec == USTREAMS_EXEC_SIM;
	harness_boot(MEM_4M, exec);
	ck_assert_int_eq(ustreams_register_builtins(), 0);
}

static int
open_log(int oflag)
{
	int sd = ustreams_open("log", O_RDWR | oflag);

	ck_assert_int_ge(sd, 0);
	return (sd);
}

/* I_STR: cmd with len bytes at arg; the ioctl's return value. */
static int
strioc(int sd, int cmd, void *arg, int len)
{
	struct strioctl sio = { cmd, 0, len, arg };

	return (ustreams_ioctl(sd, I_STR, &sio));
}

static int
open_logger(int cmd)
{
	int sd = open_log(O_NONBLOCK);

	ck_assert_int_eq(strioc(sd, cmd, NULL, 0), 0);
	return (sd);
}

/*
 * The next message on logger sd (sim executive: events run first): its
 * control part in *lc, its text in text; returns the text's length (with
 * its NUL), or -1 with errno (EAGAIN: none).
 */
static int
getlog(int sd, struct log_ctl *lc, char *text, int textlen)
{
	struct strbuf ctl = { sizeof (*lc), 0, (char *)lc };
	struct strbuf data = { textlen, 0, text };
	int flags = 0;

	if (sim)
		(void) ustreams_sim_run_idle();
	memset(lc, 0, sizeof (*lc));
	if (ustreams_getmsg(sd, &ctl, &data, &flags) < 0)
		return (-1);
	ck_assert_int_eq(ctl.len, (int)sizeof (*lc));
	return (data.len);
}

static void
assert_no_message(int sd)
{
	struct log_ctl lc;
	char text[LOGMSGSZ];

	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(with_no_logger_nothing_is_taken)
{
	start(USTREAMS_EXEC_SIM);
	ck_assert_int_eq(strlog(1, 2, 0, SL_ERROR, "lost %d", 1), 0);
	ck_assert_int_eq(strlog(1, 2, 0, SL_TRACE, "lost"), 0);
	ck_assert_int_eq(strlog(1, 2, 0, SL_ERROR | SL_TRACE | SL_FATAL,
	    "lost"), 0);
	ck_assert_int_eq(strlog(1, 2, 0, 0, "to no one"), 0);
}
END_TEST

START_TEST(the_error_logger_reads_control_part_and_text)
{
	struct log_ctl lc;
	char text[LOGMSGSZ];
	clock_t before, after;
	int sd;

	start(USTREAMS_EXEC_SIM);
	sd = open_logger(I_ERRLOG);
	(void) drv_getparm(LBOLT, &before);
	ck_assert_int_eq(strlog(42, 7, 3, SL_ERROR | SL_WARN,
	    "disk %d failed: %s", 3, "EIO"), 1);
	ck_assert_int_eq(strlog(42, 7, 3, SL_TRACE, "no trace logger"), 0);
	ck_assert_int_eq(strlog(43, 8, 0, SL_ERROR | SL_FATAL, "second"), 1);
	(void) drv_getparm(LBOLT, &after);

	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)),
	    (int)strlen("disk 3 failed: EIO") + 1);
	ck_assert_str_eq(text, "disk 3 failed: EIO");
	ck_assert_int_eq(lc.mid, 42);
	ck_assert_int_eq(lc.sid, 7);
	ck_assert_int_eq(lc.level, 3);
	ck_assert_int_eq(lc.flags, SL_ERROR | SL_WARN);
	ck_assert_int_eq(lc.seq_no, 0);
	ck_assert_int_eq(lc.pri, LOG_KERN | LOG_ERR);
	ck_assert(lc.ltime >= before && lc.ltime <= after);

	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)), 7);
	ck_assert_str_eq(text, "second");
	ck_assert_int_eq(lc.mid, 43);
	ck_assert_int_eq(lc.seq_no, 1);
	ck_assert_int_eq(lc.pri, LOG_KERN | LOG_CRIT);
	assert_no_message(sd);
	ustreams_close(sd);
	/* Closed: no logger any more. */
	ck_assert_int_eq(strlog(42, 7, 3, SL_ERROR, "after close"), 0);
}
END_TEST

START_TEST(one_logger_of_each_kind_at_a_time)
{
	int a, b;

	start(USTREAMS_EXEC_SIM);
	a = open_logger(I_ERRLOG);
	ck_assert_int_eq(strioc(a, I_ERRLOG, NULL, 0), 0);	/* again */
	b = open_log(O_NONBLOCK);
	ck_assert_int_eq(strioc(b, I_ERRLOG, NULL, 0), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(strioc(b, I_CONSLOG, NULL, 0), 0);
	ck_assert_int_eq(strioc(a, I_CONSLOG, NULL, 0), -1);
	ck_assert_int_eq(errno, EBUSY);
	ustreams_close(a);
	ck_assert_int_eq(strioc(b, I_ERRLOG, NULL, 0), 0);
	ustreams_close(b);
}
END_TEST

START_TEST(the_trace_logger_takes_what_its_trace_ids_select)
{
	struct trace_ids ids[2] = { { 42, -1, 2 }, { -1, 9, -1 } };
	struct log_ctl lc;
	char text[LOGMSGSZ];
	int sd;

	start(USTREAMS_EXEC_SIM);
	sd = open_log(O_NONBLOCK);
	ck_assert_int_eq(strioc(sd, I_TRCLOG, ids, sizeof (ids)), 0);
	ck_assert_int_eq(strlog(42, 1, 2, SL_TRACE, "a"), 1);
	ck_assert_int_eq(strlog(42, 1, 3, SL_TRACE, "level too high"), 0);
	ck_assert_int_eq(strlog(43, 1, 0, SL_TRACE, "other module"), 0);
	ck_assert_int_eq(strlog(43, 9, 100, SL_TRACE, "b"), 1);
	ck_assert_int_eq(strlog(42, 1, 0, SL_ERROR, "not a trace"), 0);

	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)), 2);
	ck_assert_str_eq(text, "a");
	ck_assert_int_eq(lc.seq_no, 0);
	ck_assert_int_eq(lc.pri, LOG_KERN | LOG_DEBUG);
	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)), 2);
	ck_assert_str_eq(text, "b");
	ck_assert_int_eq(lc.mid, 43);
	ck_assert_int_eq(lc.sid, 9);
	ck_assert_int_eq(lc.level, 100);
	/* The two not selected were numbered too: the gap shows them. */
	ck_assert_int_eq(lc.seq_no, 3);
	assert_no_message(sd);

	/* A new selection replaces the old one. */
	ids[0] = (struct trace_ids){ 43, 1, 0 };
	ck_assert_int_eq(strioc(sd, I_TRCLOG, ids, sizeof (ids[0])), 0);
	ck_assert_int_eq(strlog(42, 1, 0, SL_TRACE, "old selection"), 0);
	ck_assert_int_eq(strlog(43, 1, 0, SL_TRACE, "c"), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(bad_log_ioctls_are_refused)
{
	struct trace_ids ids[2] = { { 1, 1, 1 }, { 2, 2, 2 } };
	int sd;

	start(USTREAMS_EXEC_SIM);
	sd = open_log(O_NONBLOCK);
	ck_assert_int_eq(strioc(sd, I_TRCLOG, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(sd, I_TRCLOG, ids,
	    (int)sizeof (ids) - 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(sd, 99, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Nothing was registered by the refusals. */
	ck_assert_int_eq(strlog(1, 1, 1, SL_TRACE, "x"), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(console_messages_go_to_the_console_logger_or_the_console)
{
	struct log_ctl lc;
	char text[LOGMSGSZ];
	int sd;

	start(USTREAMS_EXEC_SIM);
	harness_log_capture();
	ck_assert_int_eq(strlog(5, 0, 0, SL_CONSOLE, "to the console %d", 5),
	    1);
	ck_assert_ptr_nonnull(harness_log_find("to the console 5"));

	sd = open_logger(I_CONSLOG);
	harness_log_reset();
	ck_assert_int_eq(strlog(5, 0, 0, SL_CONSOLE | SL_NOTE, "to %s",
	    "the logger"), 1);
	ck_assert_ptr_null(harness_log_find("the logger"));
	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)), 14);
	ck_assert_str_eq(text, "to the logger");
	ck_assert_int_eq(lc.pri, LOG_KERN | LOG_NOTICE);
	/* The first was logged while no logger was open: not numbered. */
	ck_assert_int_eq(lc.seq_no, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(each_kind_of_logger_gets_its_own_copy)
{
	struct trace_ids all = { -1, -1, -1 };
	struct log_ctl lc;
	char text[LOGMSGSZ];
	int e, t;

	start(USTREAMS_EXEC_SIM);
	e = open_logger(I_ERRLOG);
	t = open_log(O_NONBLOCK);
	ck_assert_int_eq(strioc(t, I_TRCLOG, &all, sizeof (all)), 0);
	ck_assert_int_eq(strlog(1, 2, 3, SL_ERROR | SL_TRACE, "both"), 1);
	ck_assert_int_eq(getlog(e, &lc, text, sizeof (text)), 5);
	ck_assert_str_eq(text, "both");
	ck_assert_int_eq(lc.flags, SL_ERROR | SL_TRACE);
	ck_assert_int_eq(getlog(t, &lc, text, sizeof (text)), 5);
	ck_assert_str_eq(text, "both");
	assert_no_message(e);
	assert_no_message(t);
	ustreams_close(e);
	ustreams_close(t);
}
END_TEST

START_TEST(a_logger_that_does_not_read_loses_messages_not_order)
{
	struct log_ctl lc;
	char text[LOGMSGSZ];
	int sd, taken = 0, n;

	start(USTREAMS_EXEC_SIM);
	sd = open_logger(I_ERRLOG);
	/* Nobody reads and no event runs: the log's read queue fills. */
	for (int i = 0; i < 100000; i++) {
		if (strlog(1, 1, 0, SL_ERROR, "message %06d", i) == 0)
			break;
		taken++;
	}
	ck_assert_int_gt(taken, 0);
	ck_assert_int_lt(taken, 100000);
	ck_assert_int_eq(strlog(1, 1, 0, SL_ERROR, "refused too"), 0);

	for (int i = 0; i < taken; i++) {
		char want[32];

		(void) snprintf(want, sizeof (want), "message %06d", i);
		n = getlog(sd, &lc, text, sizeof (text));
		ck_assert_int_eq(n, (int)strlen(want) + 1);
		ck_assert_str_eq(text, want);
		ck_assert_int_eq(lc.seq_no, i);
	}
	assert_no_message(sd);
	/* Drained: taken again; the refused ones left a gap in the numbers. */
	ck_assert_int_eq(strlog(1, 1, 0, SL_ERROR, "again"), 1);
	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)), 6);
	ck_assert_int_eq(lc.seq_no, taken + 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(an_application_logs_with_putmsg)
{
	struct log_ctl in = { .mid = 5, .sid = 6, .level = 1,
	    .flags = SL_ERROR | SL_NOTE };
	struct strbuf ctl = { 0, sizeof (in), (char *)&in };
	struct strbuf data = { 0, 9, "from user" };
	struct log_ctl lc;
	char text[LOGMSGSZ];
	int e, w;

	start(USTREAMS_EXEC_SIM);
	e = open_logger(I_ERRLOG);
	w = open_log(0);
	ck_assert_int_eq(ustreams_putmsg(w, &ctl, &data, 0), 0);
	ck_assert_int_eq(getlog(e, &lc, text, sizeof (text)), 10);
	ck_assert_str_eq(text, "from user");
	ck_assert_int_eq(lc.mid, 5);
	ck_assert_int_eq(lc.sid, 6);
	ck_assert_int_eq(lc.level, 1);
	ck_assert_int_eq(lc.flags, SL_ERROR | SL_NOTE);
	ck_assert_int_eq(lc.pri, LOG_KERN | LOG_ERR);
	ck_assert_int_eq(lc.seq_no, 0);
	ustreams_close(w);
	ustreams_close(e);
}
END_TEST

START_TEST(a_long_text_is_cut_at_logmsgsz)
{
	static char longtext[3 * LOGMSGSZ];
	struct log_ctl lc;
	char text[2 * LOGMSGSZ];
	int sd;

	start(USTREAMS_EXEC_SIM);
	memset(longtext, 'x', sizeof (longtext) - 1);
	sd = open_logger(I_ERRLOG);
	ck_assert_int_eq(strlog(1, 1, 0, SL_ERROR, "%s", longtext), 1);
	ck_assert_int_eq(getlog(sd, &lc, text, sizeof (text)), LOGMSGSZ);
	ck_assert_uint_eq(strlen(text), LOGMSGSZ - 1);
	ck_assert_int_eq(text[0], 'x');
	ustreams_close(sd);
}
END_TEST

/* Two threads log at once; the reader sees their numbers in order. */
#define	MT_N	3000

static atomic_int mt_taken;

static void *
mt_logger(void *arg)
{
	short mid = (short)(intptr_t)arg;

	for (int i = 0; i < MT_N; i++) {
		if (strlog(mid, 0, 0, SL_ERROR, "%d %d", mid, i) == 1)
			atomic_fetch_add(&mt_taken, 1);
	}
	return (NULL);
}

START_TEST(loggers_on_two_threads_number_in_queue_order)
{
	struct log_ctl lc;
	char text[LOGMSGSZ];
	struct strbuf ctl = { sizeof (lc), 0, (char *)&lc };
	struct strbuf data = { sizeof (text), 0, text };
	pthread_t t[2];
	int sd, taken, last = -1, flags, next[3] = { 0, 0, 0 };

	start(USTREAMS_EXEC_THREADS);
	sd = ustreams_open("log", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(strioc(sd, I_ERRLOG, NULL, 0), 0);
	atomic_store(&mt_taken, 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, mt_logger,
		    (void *)(intptr_t)(i + 1)), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	taken = atomic_load(&mt_taken);
	ck_assert_int_gt(taken, 0);
	for (int i = 0; i < taken; i++) {
		int mid, n;

		flags = 0;
		ck_assert_int_ge(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
		ck_assert_int_gt(lc.seq_no, last);
		last = lc.seq_no;
		ck_assert_int_eq(sscanf(text, "%d %d", &mid, &n), 2);
		ck_assert(mid == 1 || mid == 2);
		ck_assert_int_eq(mid, lc.mid);
		/* Each thread's own messages in the order it logged them. */
		ck_assert_int_ge(n, next[mid]);
		next[mid] = n + 1;
	}
	ck_assert_int_lt(last, 2 * MT_N);
	ustreams_close(sd);
}
END_TEST

static Suite *
strlog_suite(void)
{
	Suite *s = suite_create("strlog");
	TCase *tc = harness_tcase("strlog", 60);

	tcase_add_test(tc, with_no_logger_nothing_is_taken);
	tcase_add_test(tc, the_error_logger_reads_control_part_and_text);
	tcase_add_test(tc, one_logger_of_each_kind_at_a_time);
	tcase_add_test(tc, the_trace_logger_takes_what_its_trace_ids_select);
	tcase_add_test(tc, bad_log_ioctls_are_refused);
	tcase_add_test(tc,
	    console_messages_go_to_the_console_logger_or_the_console);
	tcase_add_test(tc, each_kind_of_logger_gets_its_own_copy);
	tcase_add_test(tc,
	    a_logger_that_does_not_read_loses_messages_not_order);
	tcase_add_test(tc, an_application_logs_with_putmsg);
	tcase_add_test(tc, a_long_text_is_cut_at_logmsgsz);
	tcase_add_test(tc, loggers_on_two_threads_number_in_queue_order);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(strlog_suite()));
}
