/*
 * Multiplexing: I_LINK, I_PLINK, I_UNLINK, I_PUNLINK.
 *
 * The contract (SVR4 STREAMS Programmer's Guide, multiplexing; the
 * streamio(7) ioctls): linking gives the lower stream's head queue pair
 * to the mux, which gets an M_IOCTL with a linkblk and answers it; the
 * ioctl returns the mux id; the lower stream cannot be used by the
 * application while linked; unlinking gives it back; closing the
 * controlling stream undoes its links but not the persistent ones, which
 * I_PUNLINK undoes from any stream of the mux; a stream whose descriptor
 * was closed while linked is closed by its unlink; cycles are refused.
 * mux.c says how ustreams does it.
 *
 * The mux "tmx" (and "tmx2", the same code under another name, for
 * cycles) passes what is written on an upper stream down its one lower
 * link, and what comes up the link to the upper stream that made it.  Its
 * link state lives in the lower queue pair's q_ptr, so that a persistent
 * link outlives its upper stream.  The lower driver "tlow" sends every
 * data message straight back up, and counts its closes.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/kmem.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define	MEM_4M		(4u * 1024 * 1024)

/* A link, in the lower queue pair's q_ptr. */
struct tmx_link {
	queue_t		*lk_uprq;	/* where its messages go up; NULL
					   once that upper stream closed */
	queue_t		*lk_lowwq;	/* l_qbot */
	int		lk_id;
};

/* An upper stream: q_ptr of its pair. */
struct tmx_up {
	queue_t		*up_rq;
	struct tmx_link	*up_link;	/* the one it made, or NULL */
};

static int tmx_links, tmx_unlinks;
static int tmx_refuse;			/* I_LINK answered with this error */
static int tmx_early;			/* lower messages before the link */
static int tlow_closes;

static int
tmx_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct tmx_up *up = kmem_zalloc(sizeof (*up), KM_SLEEP);

	up->up_rq = q;
	q->q_ptr = WR(q)->q_ptr = up;
	return (0);
}

static int
tmx_close(queue_t *q, int oflag, cred_t *crp)
{
	struct tmx_up *up = q->q_ptr;

	/* A persistent link outlives us: its messages have nowhere to go. */
	if (up->up_link != NULL)
		up->up_link->lk_uprq = NULL;
	kmem_free(up, sizeof (*up));
	return (0);
}

static void
tmx_ioctl(queue_t *q, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	struct tmx_up *up = q->q_ptr;
	struct linkblk *lb;
	struct tmx_link *lk;
	int error;

	switch (iocp->ioc_cmd) {
	case I_LINK:
	case I_PLINK:
		if ((error = miocpullup(mp, sizeof (*lb))) != 0 ||
		    (error = tmx_refuse) != 0) {
			miocnak(q, mp, 0, error);
			return;
		}
		if (up->up_link != NULL) {
			miocnak(q, mp, 0, EBUSY);
			return;
		}
		lb = (struct linkblk *)(void *)mp->b_cont->b_rptr;
		lk = kmem_zalloc(sizeof (*lk), KM_SLEEP);
		lk->lk_uprq = RD(lb->l_qtop);
		lk->lk_lowwq = lb->l_qbot;
		lk->lk_id = lb->l_index;
		lb->l_qbot->q_ptr = RD(lb->l_qbot)->q_ptr = lk;
		up->up_link = lk;
		tmx_links++;
		miocack(q, mp, 0, 0);
		break;
	case I_UNLINK:
	case I_PUNLINK:
		if ((error = miocpullup(mp, sizeof (*lb))) != 0) {
			miocnak(q, mp, 0, error);
			return;
		}
		lb = (struct linkblk *)(void *)mp->b_cont->b_rptr;
		lk = lb->l_qbot->q_ptr;
		if (lk == NULL || lk->lk_id != lb->l_index) {
			miocnak(q, mp, 0, EINVAL);
			return;
		}
		if (up->up_link == lk)
			up->up_link = NULL;
		lb->l_qbot->q_ptr = RD(lb->l_qbot)->q_ptr = NULL;
		kmem_free(lk, sizeof (*lk));
		tmx_unlinks++;
		miocack(q, mp, 0, 0);
		break;
	default:
		miocnak(q, mp, 0, EINVAL);
		break;
	}
}

/* Upper write side: ioctls, and data down the link. */
static int
tmx_uwput(queue_t *q, mblk_t *mp)
{
	struct tmx_up *up = q->q_ptr;

	switch (DB_TYPE(mp)) {
	case M_IOCTL:
		tmx_ioctl(q, mp);
		break;
	case M_DATA:
		if (up->up_link != NULL)
			putnext(up->up_link->lk_lowwq, mp);
		else
			freemsg(mp);
		break;
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

/* Lower read side: what comes up the link goes to its upper stream. */
static int
tmx_lrput(queue_t *q, mblk_t *mp)
{
	struct tmx_link *lk = q->q_ptr;

	if (lk == NULL) {
		/* Between the switch and our I_LINK: not ours yet. */
		tmx_early++;
		freemsg(mp);
	} else if (DB_TYPE(mp) == M_DATA && lk->lk_uprq != NULL) {
		putnext(lk->lk_uprq, mp);
	} else {
		freemsg(mp);
	}
	return (0);
}

static int
free_put(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static int
pass_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info tmx_minfo = {
	0x7501, "tmx", 0, INFPSZ, 8192, 1024
};
static struct qinit tmx_urinit = {
	free_put, NULL, tmx_open, tmx_close, NULL, &tmx_minfo, NULL
};
static struct qinit tmx_uwinit = {
	tmx_uwput, NULL, NULL, NULL, NULL, &tmx_minfo, NULL
};
static struct qinit tmx_lrinit = {
	tmx_lrput, NULL, NULL, NULL, NULL, &tmx_minfo, NULL
};
static struct qinit tmx_lwinit = {
	pass_put, NULL, NULL, NULL, NULL, &tmx_minfo, NULL
};
static struct streamtab tmx_info = {
	&tmx_urinit, &tmx_uwinit, &tmx_lrinit, &tmx_lwinit
};

/* The lower driver: data straight back up; closes counted. */
static int
tlow_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return (0);
}

static int
tlow_close(queue_t *q, int oflag, cred_t *crp)
{
	tlow_closes++;
	return (0);
}

static int
tlow_wput(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_DATA)
		qreply(q, mp);
	else if (DB_TYPE(mp) == M_IOCTL)
		miocnak(q, mp, 0, EINVAL);
	else
		freemsg(mp);
	return (0);
}

static struct module_info tlow_minfo = {
	0x7502, "tlow", 0, INFPSZ, 8192, 1024
};
static struct qinit tlow_rinit = {
	free_put, NULL, tlow_open, tlow_close, NULL, &tlow_minfo, NULL
};
static struct qinit tlow_winit = {
	tlow_wput, NULL, NULL, NULL, NULL, &tlow_minfo, NULL
};
static struct streamtab tlow_info = { &tlow_rinit, &tlow_winit, NULL, NULL };

static void
registered(int error)
{
	ck_assert(error == 0 || error == EEXIST);
}

static void
mx_start(enum ustreams_exec exec)
{
	harness_boot(MEM_4M, exec);
	registered(ustreams_register_driver("tmx", &tmx_info, 0));
	registered(ustreams_register_driver("tmx2", &tmx_info, 0));
	registered(ustreams_register_driver("tlow", &tlow_info, 0));
	tmx_links = tmx_unlinks = tmx_refuse = tmx_early = tlow_closes = 0;
}

static int
mx_open(const char *name)
{
	int sd = ustreams_open(name, O_RDWR | O_NONBLOCK);

	ck_assert_int_ge(sd, 0);
	return (sd);
}

/* Write text on sd, let the events run, read it back from rd. */
static void
round_trip(int sd, int rd, const char *text)
{
	char buf[64];
	ssize_t n;

	ck_assert_int_eq(ustreams_write(sd, text, strlen(text)),
	    (ssize_t)strlen(text));
	(void) ustreams_sim_run_idle();
	n = ustreams_read(rd, buf, sizeof (buf));
	ck_assert_int_eq(n, (ssize_t)strlen(text));
	ck_assert_int_eq(memcmp(buf, text, (size_t)n), 0);
}

START_TEST(a_linked_stream_carries_the_muxs_traffic)
{
	int up, low, id;
	char buf[8];

	mx_start(USTREAMS_EXEC_SIM);
	up = mx_open("tmx");
	low = mx_open("tlow");
	round_trip(low, low, "direct");
	id = ustreams_ioctl(up, I_LINK, low);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(tmx_links, 1);
	ck_assert_int_eq(tmx_early, 0);
	/* Down the upper stream, through the mux, the link, and back. */
	round_trip(up, up, "through the mux");
	/* The lower stream is the mux's now. */
	ck_assert_int_eq(ustreams_write(low, "x", 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_read(low, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(low, I_NREAD, &id), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_pollfd(low), -1);
	ck_assert_int_eq(errno, EINVAL);
	{
		struct pollfd pfd = { low, POLLIN, 0 };

		ck_assert_int_eq(ustreams_poll(&pfd, 1, 0), 1);
		ck_assert_int_eq(pfd.revents, POLLNVAL);
	}

	ck_assert_int_eq(ustreams_ioctl(up, I_UNLINK, id), 0);
	ck_assert_int_eq(tmx_unlinks, 1);
	round_trip(low, low, "mine again");
	/* Once unlinked, the upper stream's data goes nowhere. */
	ck_assert_int_eq(ustreams_write(up, "lost", 4), 4);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(ustreams_read(up, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ustreams_close(up);
	ustreams_close(low);
	ck_assert_int_eq(tlow_closes, 1);
}
END_TEST

START_TEST(bad_links_and_unlinks_are_refused)
{
	int up, up2, low, low2, id;

	mx_start(USTREAMS_EXEC_SIM);
	up = mx_open("tmx");
	up2 = mx_open("tmx");
	low = mx_open("tlow");
	low2 = mx_open("tlow");

	ck_assert_int_eq(ustreams_ioctl(up, I_LINK, 200), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(ustreams_ioctl(low2, I_LINK, low), -1);
	ck_assert_int_eq(errno, EINVAL);		/* not a mux */
	ck_assert_int_eq(ustreams_ioctl(up, I_LINK, up), -1);
	ck_assert_int_eq(errno, EINVAL);		/* itself */
	ck_assert_int_eq(ustreams_ioctl(up, I_LINK, up2), -1);
	ck_assert_int_eq(errno, EINVAL);		/* below its own mux */

	/* The mux refuses: the lower stream stays the application's. */
	tmx_refuse = EPERM;
	ck_assert_int_eq(ustreams_ioctl(up, I_LINK, low), -1);
	ck_assert_int_eq(errno, EPERM);
	round_trip(low, low, "still mine");
	tmx_refuse = 0;

	ck_assert_int_gt(id = ustreams_ioctl(up, I_LINK, low), 0);
	ck_assert_int_eq(ustreams_ioctl(up2, I_LINK, low), -1);
	ck_assert_int_eq(errno, EINVAL);		/* linked already */
	ck_assert_int_eq(ustreams_ioctl(up, I_UNLINK, id + 100), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(up, I_UNLINK, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(up2, I_UNLINK, id), -1);
	ck_assert_int_eq(errno, EINVAL);		/* not up2's */
	ck_assert_int_eq(ustreams_ioctl(up, I_PUNLINK, id), -1);
	ck_assert_int_eq(errno, EINVAL);		/* not persistent */
	ck_assert_int_eq(ustreams_ioctl(up, I_UNLINK, MUXID_ALL), 0);
	ck_assert_int_eq(tmx_unlinks, 1);
	ustreams_close(up);
	ustreams_close(up2);
	ustreams_close(low);
	ustreams_close(low2);
}
END_TEST

START_TEST(a_link_that_would_close_a_cycle_is_refused)
{
	int a, b, id;

	mx_start(USTREAMS_EXEC_SIM);
	a = mx_open("tmx");
	b = mx_open("tmx2");
	/* tmx2 below tmx; then tmx below tmx2 would be a cycle. */
	ck_assert_int_gt(id = ustreams_ioctl(a, I_LINK, b), 0);
	{
		int c = mx_open("tmx2"), d = mx_open("tmx");

		ck_assert_int_eq(ustreams_ioctl(c, I_LINK, d), -1);
		ck_assert_int_eq(errno, EINVAL);
		ustreams_close(c);
		ustreams_close(d);
	}
	ck_assert_int_eq(ustreams_ioctl(a, I_UNLINK, id), 0);
	ustreams_close(a);
	ustreams_close(b);
}
END_TEST

START_TEST(closing_the_controlling_stream_unlinks)
{
	int up, low;

	mx_start(USTREAMS_EXEC_SIM);
	up = mx_open("tmx");
	low = mx_open("tlow");
	ck_assert_int_gt(ustreams_ioctl(up, I_LINK, low), 0);
	ustreams_close(up);
	ck_assert_int_eq(tmx_unlinks, 1);
	round_trip(low, low, "back");
	ustreams_close(low);
}
END_TEST

START_TEST(a_lower_stream_closed_while_linked_lives_until_the_unlink)
{
	int up, low, other, id;

	mx_start(USTREAMS_EXEC_SIM);
	up = mx_open("tmx");
	low = mx_open("tlow");
	ck_assert_int_gt(id = ustreams_ioctl(up, I_LINK, low), 0);
	ck_assert_int_eq(ustreams_close(low), 0);
	ck_assert_int_eq(tlow_closes, 0);
	round_trip(up, up, "still there");
	/* The descriptor is free: the next open may get it. */
	other = mx_open("tlow");
	ck_assert_int_eq(other, low);
	ck_assert_int_eq(ustreams_ioctl(up, I_UNLINK, id), 0);
	ck_assert_int_eq(tlow_closes, 1);
	/* The unlink closed the old stream, not the new one. */
	round_trip(other, other, "new one");
	ustreams_close(other);
	ustreams_close(up);
	ck_assert_int_eq(tlow_closes, 2);
}
END_TEST

START_TEST(a_persistent_link_outlives_its_controlling_stream)
{
	int up, up2, low, id;
	char buf[8];

	mx_start(USTREAMS_EXEC_SIM);
	up = mx_open("tmx");
	low = mx_open("tlow");
	ck_assert_int_gt(id = ustreams_ioctl(up, I_PLINK, low), 0);
	ustreams_close(up);
	ck_assert_int_eq(tmx_unlinks, 0);
	ck_assert_int_eq(ustreams_read(low, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EINVAL);		/* still linked */
	up2 = mx_open("tmx");
	ck_assert_int_eq(ustreams_ioctl(up2, I_UNLINK, id), -1);
	ck_assert_int_eq(errno, EINVAL);		/* needs I_PUNLINK */
	ck_assert_int_eq(ustreams_ioctl(up2, I_PUNLINK, id), 0);
	ck_assert_int_eq(tmx_unlinks, 1);
	round_trip(low, low, "free");
	ck_assert_int_eq(ustreams_ioctl(up2, I_PUNLINK, MUXID_ALL), 0);
	ustreams_close(up2);
	ustreams_close(low);
}
END_TEST

START_TEST(shutdown_undoes_links_left_behind)
{
	int up, low, low2;

	mx_start(USTREAMS_EXEC_SIM);
	up = mx_open("tmx");
	low = mx_open("tlow");
	low2 = mx_open("tlow");
	ck_assert_int_gt(ustreams_ioctl(up, I_PLINK, low), 0);
	ck_assert_int_eq(ustreams_close(low), 0);
	{
		int up2 = mx_open("tmx");

		ck_assert_int_gt(ustreams_ioctl(up2, I_LINK, low2), 0);
	}
	/* The harness shuts down, checking that nothing is left in use. */
	harness_shutdown();
	ck_assert_int_eq(tmx_unlinks, 2);
	ck_assert_int_eq(tlow_closes, 2);
}
END_TEST

START_TEST(a_mux_registers_both_lower_qinits_or_neither)
{
	struct streamtab half = { &tmx_urinit, &tmx_uwinit, &tmx_lrinit,
	    NULL };
	struct qinit noput = { NULL, NULL, NULL, NULL, NULL, &tmx_minfo,
	    NULL };
	struct streamtab bad = { &tmx_urinit, &tmx_uwinit, &tmx_lrinit,
	    &noput };

	mx_start(USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_register_driver("tmx_half", &half, 0),
	    EINVAL);
	ck_assert_int_eq(ustreams_register_driver("tmx_bad", &bad, 0),
	    EINVAL);
	ck_assert_int_eq(ustreams_register_module("tmx_mod", &tmx_info, 0),
	    EINVAL);
}
END_TEST

/* Under the threads executive, numbered messages through a link. */
START_TEST(numbered_messages_through_a_link_under_threads)
{
	int up, low, id;

	mx_start(USTREAMS_EXEC_THREADS);
	up = ustreams_open("tmx", O_RDWR);
	low = ustreams_open("tlow", O_RDWR);
	ck_assert_int_ge(up, 0);
	ck_assert_int_ge(low, 0);
	ck_assert_int_gt(id = ustreams_ioctl(up, I_LINK, low), 0);
	ck_assert_int_eq(ustreams_ioctl(up, I_SRDOPT, RMSGN), 0);
	for (int i = 0; i < 500; i++) {
		char out[16], in[16];
		int n = snprintf(out, sizeof (out), "m%d", i);

		ck_assert_int_eq(ustreams_write(up, out, (size_t)n), n);
		ck_assert_int_eq(ustreams_read(up, in, sizeof (in)), n);
		ck_assert_int_eq(memcmp(in, out, (size_t)n), 0);
	}
	ck_assert_int_eq(ustreams_ioctl(up, I_UNLINK, id), 0);
	ustreams_close(up);
	ustreams_close(low);
}
END_TEST

static Suite *
mux_suite(void)
{
	Suite *s = suite_create("mux");
	TCase *tc = harness_tcase("multiplexing", 60);

	tcase_add_test(tc, a_linked_stream_carries_the_muxs_traffic);
	tcase_add_test(tc, bad_links_and_unlinks_are_refused);
	tcase_add_test(tc, a_link_that_would_close_a_cycle_is_refused);
	tcase_add_test(tc, closing_the_controlling_stream_unlinks);
	tcase_add_test(tc,
	    a_lower_stream_closed_while_linked_lives_until_the_unlink);
	tcase_add_test(tc, a_persistent_link_outlives_its_controlling_stream);
	tcase_add_test(tc, shutdown_undoes_links_left_behind);
	tcase_add_test(tc, a_mux_registers_both_lower_qinits_or_neither);
	tcase_add_test(tc, numbered_messages_through_a_link_under_threads);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(mux_suite()));
}
