/*
 * test_upcase - the upcase module (upcase.c) on a stream, under the sim
 * executive: the test of the module writer's guide (docs/guide.md).
 *
 * It uses the public API only, as a module writer's own tests would: it
 * boots an instance, registers upcase and a small driver of its own,
 * "upecho", opens a stream on the driver and pushes upcase on it.
 *
 * upecho queues what comes down and echoes it back up from its service
 * procedure.  The test can stall it (a slow device: the service procedure
 * leaves the queue alone) and restart it, to make flow control visible.
 *
 * Under the sim executive nothing runs behind the test's back: a service
 * procedure runs when the test runs events (ustreams_sim_run_idle) or
 * when a call sleeps (a blocking read, an ioctl waiting for its reply),
 * so every count below is exact.  The limits that matter:
 *
 *   upcase write queue   high water 1024, low water 256
 *   upecho write queue   high water  512, low water 128
 *   stream head          high water 5120 (read side)
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upcase.h"

/* ---- upecho: the driver under the module ---- */

#define	UPECHO_PING	(('E' << 8) | 1)	/* answered with 42 */

static queue_t *echo_wq;	/* the open instance's write queue */
static bool echo_stalled;	/* the service procedure leaves the queue */

static int
echo_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	if (echo_wq != NULL)
		return (EBUSY);		/* one stream at a time */
	echo_wq = WR(q);
	qprocson(q);
	return (0);
}

static int
echo_close(queue_t *q, int oflag, cred_t *crp)
{
	qprocsoff(q);
	echo_wq = NULL;
	return (0);
}

static int
echo_wput(queue_t *q, mblk_t *mp)
{
	struct iocblk *ioc;

	switch (DB_TYPE(mp)) {
	case M_FLUSH:
		if (*mp->b_rptr & FLUSHW)
			flushq(q, FLUSHDATA);
		if (*mp->b_rptr & FLUSHR) {
			flushq(RD(q), FLUSHDATA);
			*mp->b_rptr &= ~FLUSHW;
			qreply(q, mp);
		} else {
			freemsg(mp);
		}
		break;
	case M_IOCTL:
		ioc = (struct iocblk *)(void *)mp->b_rptr;
		if (ioc->ioc_cmd == UPECHO_PING) {
			DB_TYPE(mp) = M_IOCACK;
			ioc->ioc_rval = 42;
		} else {
			DB_TYPE(mp) = M_IOCNAK;
			ioc->ioc_error = EINVAL;
		}
		ioc->ioc_count = 0;
		qreply(q, mp);
		break;
	default:
		if (!putq(q, mp))
			freemsg(mp);
		break;
	}
	return (0);
}

static int
echo_wsrv(queue_t *q)
{
	mblk_t *mp;

	if (echo_stalled)
		return (0);
	while ((mp = getq(q)) != NULL) {
		if (!canputnext(RD(q))) {
			(void) putbq(q, mp);
			break;
		}
		qreply(q, mp);
	}
	return (0);
}

static int
echo_rput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info echo_minfo = {
	.mi_idnum = 0x4543, .mi_idname = "upecho",
	.mi_minpsz = 0, .mi_maxpsz = INFPSZ, .mi_hiwat = 512, .mi_lowat = 128
};
static struct qinit echo_rinit = {
	.qi_putp = echo_rput, .qi_qopen = echo_open,
	.qi_qclose = echo_close, .qi_minfo = &echo_minfo
};
static struct qinit echo_winit = {
	.qi_putp = echo_wput, .qi_srvp = echo_wsrv, .qi_minfo = &echo_minfo
};
static struct streamtab echo_info = {
	.st_rdinit = &echo_rinit, .st_wrinit = &echo_winit
};

/* Restart a stalled echo: its service procedure takes the queue again. */
static void
echo_restart(void *arg)
{
	echo_stalled = false;
	qenable(echo_wq);
}

/* ---- the fixture: a booted instance, one stream, upcase pushed ---- */

static int sd = -1;

static void
setup(void)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = 1024 * 1024;	/* 1 MB: one test fills it */
	ck_assert_int_eq(ustreams_boot(&cfg), 0);
	echo_stalled = false;
}

static void
teardown(void)
{
	if (sd >= 0)
		(void) ustreams_close(sd);
	sd = -1;
	(void) ustreams_shutdown();
}

static void
open_upcase(int oflag)
{
	sd = ustreams_open("upecho", oflag);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, UPCASE_NAME), 0);
}

/* The module's write queue: the one whose next queue is the driver's. */
static queue_t *
upcase_wq(void)
{
	return (backq(echo_wq));
}

static void
write_str(const char *s)
{
	ck_assert_int_eq(ustreams_write(sd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Run every pending event, then read whatever reached the stream head. */
static ssize_t
read_arrived(char *buf, size_t len)
{
	struct pollfd pfd = { .fd = sd, .events = POLLIN };

	(void) ustreams_sim_run_idle();
	if (ustreams_poll(&pfd, 1, 0) == 0)
		return (0);
	return (ustreams_read(sd, buf, len));
}

static int
str_ioctl(int cmd, void *data, int len)
{
	struct strioctl sio = {
		.ic_cmd = cmd, .ic_timout = 0, .ic_len = len, .ic_dp = data
	};

	return (ustreams_ioctl(sd, I_STR, &sio));
}

/* ---- the tests ---- */

START_TEST(test_written_data_comes_back_upper_case)
{
	char name[FMNAMESZ + 1], buf[64];

	open_upcase(O_RDWR);
	ck_assert_int_eq(ustreams_ioctl(sd, I_LOOK, name), 0);
	ck_assert_str_eq(name, "upcase");
	write_str("hello, world");
	/* A blocking read sleeps, and under sim a sleep runs the events. */
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 12);
	ck_assert_mem_eq(buf, "HELLO, WORLD", 12);
}
END_TEST

START_TEST(test_setmode_returns_old_mode_and_keeps_order)
{
	int mode = UPCASE_LOWER;
	char buf[64];

	open_upcase(O_RDWR);
	write_str("Mixed 1 ");
	ck_assert_int_eq(str_ioctl(UPCASE_SETMODE, &mode, sizeof (mode)),
	    UPCASE_UPPER);
	write_str("Mixed 2");
	/* Written before the ioctl: converted in the old mode. */
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 15);
	ck_assert_mem_eq(buf, "MIXED 1 mixed 2", 15);
}
END_TEST

START_TEST(test_setmode_refuses_bad_arguments)
{
	int mode = 7;

	open_upcase(O_RDWR);
	errno = 0;
	ck_assert_int_eq(str_ioctl(UPCASE_SETMODE, &mode, sizeof (mode)), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(str_ioctl(UPCASE_SETMODE, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_getstats_counts_messages_and_bytes)
{
	struct upcase_stats st;
	struct strioctl sio = {
		.ic_cmd = UPCASE_GETSTATS, .ic_len = sizeof (st),
		.ic_dp = (char *)&st
	};
	char buf[64];

	open_upcase(O_RDWR);
	write_str("hello");
	write_str("world!");
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 11);
	memset(&st, 0xff, sizeof (st));
	ck_assert_int_eq(ustreams_ioctl(sd, I_STR, &sio), 0);
	ck_assert_int_eq(sio.ic_len, (int)sizeof (st));
	ck_assert_uint_eq(st.us_msgs, 2);
	ck_assert_uint_eq(st.us_bytes, 11);
	ck_assert_uint_eq(st.us_copies, 0);
}
END_TEST

START_TEST(test_other_ioctls_go_on_to_the_driver)
{
	open_upcase(O_RDWR);
	ck_assert_int_eq(str_ioctl(UPECHO_PING, NULL, 0), 42);
	errno = 0;
	ck_assert_int_eq(str_ioctl(0x1234, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_flow_control_backs_up_to_the_writer)
{
	struct pollfd pfd = { .events = POLLOUT };
	char chunk[100], buf[2000];
	int i, n;

	open_upcase(O_RDWR | O_NONBLOCK);
	pfd.fd = sd;
	echo_stalled = true;
	/*
	 * No event runs between these writes: each 100-byte message stays
	 * on upcase's queue.  The eleventh takes it to 1100 >= 1024, full.
	 */
	for (n = 0; n < 20; n++) {
		memset(chunk, 'a' + n, sizeof (chunk));
		if (ustreams_write(sd, chunk, sizeof (chunk)) < 0)
			break;
	}
	ck_assert_int_eq(n, 11);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(ustreams_poll(&pfd, 1, 0), 0);

	/*
	 * upcase's service procedure passes messages on while the driver's
	 * queue has room: six (600 >= 512 makes it full); five stay.  Its
	 * own queue (500) is below its high water mark: writes may go on.
	 */
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(qsize(echo_wq), 6);
	ck_assert_int_eq(qsize(upcase_wq()), 5);
	ck_assert_int_eq(ustreams_poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents, POLLOUT);

	/* The driver drains, back-enables upcase, and everything arrives. */
	echo_restart(NULL);
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 1100);
	for (i = 0; i < 1100; i++)
		ck_assert_int_eq(buf[i], 'A' + i / 100);
	ck_assert_int_eq(qsize(upcase_wq()), 0);
}
END_TEST

START_TEST(test_blocking_write_waits_for_room)
{
	char chunk[100], buf[2000];
	int n;

	open_upcase(O_RDWR);
	echo_stalled = true;
	memset(chunk, 'x', sizeof (chunk));
	for (n = 0; n < 11; n++)
		ck_assert_int_eq(ustreams_write(sd, chunk, 100), 100);
	/* Full now.  The device comes back 50 ms from now (5 ticks). */
	ck_assert_int_ne(timeout(echo_restart, NULL, 5), 0);
	ck_assert_int_eq(ustreams_write(sd, chunk, 100), 100);
	ck_assert_uint_ge(ustreams_now_ns(), 50000000u);
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 1200);
	ck_assert_int_eq(buf[1199], 'X');
}
END_TEST

START_TEST(test_flushw_empties_module_and_driver)
{
	char buf[64];

	open_upcase(O_RDWR);
	echo_stalled = true;
	write_str("one");
	(void) ustreams_sim_run_idle();	/* "ONE" reaches the driver */
	write_str("two");		/* "two" waits on upcase's queue */
	ck_assert_int_eq(qsize(echo_wq), 1);
	ck_assert_int_eq(qsize(upcase_wq()), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSH, FLUSHW), 0);
	ck_assert_int_eq(qsize(echo_wq), 0);
	ck_assert_int_eq(qsize(upcase_wq()), 0);
	echo_restart(NULL);
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 0);
	write_str("three");
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 5);
	ck_assert_mem_eq(buf, "THREE", 5);
}
END_TEST

START_TEST(test_flushr_empties_the_stream_head)
{
	char buf[64];

	open_upcase(O_RDWR);
	write_str("stale");
	(void) ustreams_sim_run_idle();	/* at the stream head now */
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSH, FLUSHR), 0);
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 0);
}
END_TEST

START_TEST(test_shared_data_is_copied_not_changed)
{
	struct upcase_stats st;
	mblk_t *mp, *dup;
	char buf[64];

	open_upcase(O_RDWR);
	ck_assert_ptr_nonnull(mp = allocb(3, BPRI_MED));
	memcpy(mp->b_wptr, "abc", 3);
	mp->b_wptr += 3;
	ck_assert_ptr_nonnull(dup = dupmsg(mp));
	put(upcase_wq(), dup);		/* as if from above */
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 3);
	ck_assert_mem_eq(buf, "ABC", 3);
	ck_assert_mem_eq(mp->b_rptr, "abc", 3);
	freemsg(mp);
	ck_assert_int_eq(str_ioctl(UPCASE_GETSTATS, &st, sizeof (st)), 0);
	ck_assert_uint_eq(st.us_copies, 1);
}
END_TEST

#define	HOGMAX	1024
START_TEST(test_copy_waits_for_memory_with_bufcall)
{
	static mblk_t *hog[HOGMAX];
	struct pollfd pfd = { .events = POLLIN };
	mblk_t *mp, *dup;
	char buf[64];
	int n = 0;

	open_upcase(O_RDWR);
	pfd.fd = sd;
	ck_assert_ptr_nonnull(mp = allocb(3, BPRI_MED));
	memcpy(mp->b_wptr, "abc", 3);
	mp->b_wptr += 3;
	ck_assert_ptr_nonnull(dup = dupmsg(mp));
	/* Take memory up to the BPRI_MED limit: copymsg will be refused. */
	while (n < HOGMAX && (hog[n] = allocb(2048, BPRI_MED)) != NULL)
		n++;
	while (n < HOGMAX && (hog[n] = allocb(0, BPRI_MED)) != NULL)
		n++;
	ck_assert_int_lt(n, HOGMAX);

	put(upcase_wq(), dup);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(qsize(upcase_wq()), 1);	/* put back; bufcall */
	ck_assert_int_eq(ustreams_poll(&pfd, 1, 0), 0);

	/* Memory comes back: the bufcall fires, the service procedure runs. */
	while (n > 0)
		freeb(hog[--n]);
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 3);
	ck_assert_mem_eq(buf, "ABC", 3);
	freemsg(mp);
}
END_TEST

START_TEST(test_pop_passes_leftovers_on_unconverted)
{
	char name[FMNAMESZ + 1], buf[64];

	open_upcase(O_RDWR);
	echo_stalled = true;
	write_str("one ");
	(void) ustreams_sim_run_idle();	/* converted, at the driver */
	write_str("two");		/* still on upcase's queue */
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	errno = 0;
	ck_assert_int_eq(ustreams_ioctl(sd, I_LOOK, name), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(qsize(echo_wq), 2);
	echo_restart(NULL);
	ck_assert_int_eq(read_arrived(buf, sizeof (buf)), 7);
	ck_assert_mem_eq(buf, "ONE two", 7);
}
END_TEST

/*
 * UPCASE_GETSTATS with a buffer of the wrong size is refused before a byte
 * is written: the stream head copies what the answer says, and only the
 * module can check the size the application gave.
 */
START_TEST(test_getstats_refuses_a_short_buffer)
{
	struct {
		char	small[8];
		char	canary[64];
	} u;
	char want[sizeof (u.canary)];
	int r;

	open_upcase(O_RDWR);
	memset(&u, 0x5a, sizeof (u));
	memset(want, 0x5a, sizeof (want));

	errno = 0;
	r = str_ioctl(UPCASE_GETSTATS, u.small, (int)sizeof (u.small));
	ck_assert_msg(memcmp(u.canary, want, sizeof (want)) == 0,
	    "UPCASE_GETSTATS (ioctl returned %d) wrote past the %zu-byte "
	    "buffer", r, sizeof (u.small));
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("upcase");
	TCase *tc = tcase_create("upcase");
	SRunner *sr;
	int failed;

	if (ustreams_register_driver("upecho", &echo_info, 0) != 0 ||
	    upcase_register() != 0) {
		fprintf(stderr, "test_upcase: cannot register\n");
		return (EXIT_FAILURE);
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_written_data_comes_back_upper_case);
	tcase_add_test(tc, test_setmode_returns_old_mode_and_keeps_order);
	tcase_add_test(tc, test_setmode_refuses_bad_arguments);
	tcase_add_test(tc, test_getstats_counts_messages_and_bytes);
	tcase_add_test(tc, test_other_ioctls_go_on_to_the_driver);
	tcase_add_test(tc, test_flow_control_backs_up_to_the_writer);
	tcase_add_test(tc, test_blocking_write_waits_for_room);
	tcase_add_test(tc, test_flushw_empties_module_and_driver);
	tcase_add_test(tc, test_flushr_empties_the_stream_head);
	tcase_add_test(tc, test_shared_data_is_copied_not_changed);
	tcase_add_test(tc, test_copy_waits_for_memory_with_bufcall);
	tcase_add_test(tc, test_pop_passes_leftovers_on_unconverted);
	tcase_add_test(tc, test_getstats_refuses_a_short_buffer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
