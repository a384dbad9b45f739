/*
 * Queues, flow control and the service scheduler, queue by queue:
 * putq, getq, putbq, insq, rmvq, flushq, flushband, qsize, canput, bcanput,
 * canputnext, strqget, strqset, noenable, enableok, qenable, put, putnext,
 * qreply, miocack, miocnak, putctl, putctl1, putnextctl, putnextctl1,
 * backq, SAMESTR, RD, WR, OTHERQ, and the perimeter around a module that
 * is not MT-safe.
 *
 * The contract is SVR4's (the SVR5 D3str pages; the illumos 9F pages say
 * the same).  Most tests run under the sim executive, where a service
 * procedure runs only when the test runs events (ustreams_sim_run_idle),
 * so the number of runs after each step is exact.
 *
 * The test driver "tq_drv" queues whatever its put procedures are given
 * (putq); its service procedures count their runs and do nothing more
 * unless tq_srvmode says so, so that a test sees the queue's order through
 * q_first and getq; with tq_echo set, its write put procedure sends what
 * it is given back up (qreply) instead.  Its open stores its queues in
 * tq_rq and tq_wq; its water marks are 1024 and 256.  The module "tq_mod"
 * passes messages on, counts the runs of its service procedures, and
 * counts the calls of its put procedures after its close; "tq_nosrv"
 * passes them on and has no service procedure.
 *
 * Messages in the ordering tests carry a short text tag as their data;
 * qtags() lists the tags of a queue in order, so that an expected order
 * reads as "h1 h2 b3a b1a n1".
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../ddi/exec.h"
#include "../streams/stream_impl.h"

#define	MEM_4M		(4u * 1024 * 1024)

/*
 * The test driver "tq_drv".
 */
enum srv_mode {
	SRV_IDLE,		/* count the run, touch nothing */
	SRV_DRAIN,		/* getq until the queue is empty, free all */
	SRV_TAKE_ONE,		/* getq one message and free it */
	SRV_REENABLE_ONCE	/* qenable the queue during the first run */
};

#define	PUTLOG_MAX	64

struct putrec {
	queue_t		*pr_q;		/* whose put procedure */
	unsigned char	pr_type;
	int		pr_len;		/* bytes of the first block */
	unsigned char	pr_b0;		/* its first byte, if any */
};

static queue_t *tq_rq, *tq_wq;
static int tq_srvruns[2];		/* read, write */
static enum srv_mode tq_srvmode;
static bool tq_echo;
static enum ustreams_ctx tq_srvctx;	/* context of the last service run */
static struct putrec tq_log[PUTLOG_MAX];
static int tq_nlog;

static void
putlog(queue_t *q, mblk_t *mp)
{
	if (tq_nlog < PUTLOG_MAX) {
		tq_log[tq_nlog] = (struct putrec){ q, DB_TYPE(mp),
		    (int)MBLKL(mp), MBLKL(mp) > 0 ? mp->b_rptr[0] : 0 };
		tq_nlog++;
	}
}

static int
tq_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tq_rq = q;
	tq_wq = WR(q);
	return (0);
}

static int
tq_close(queue_t *q, int oflag, cred_t *crp)
{
	tq_rq = tq_wq = NULL;
	return (0);
}

static int
tq_put(queue_t *q, mblk_t *mp)
{
	putlog(q, mp);
	if (tq_echo && q == tq_wq)
		qreply(q, mp);
	else if (!putq(q, mp))
		freemsg(mp);
	return (0);
}

static int
tq_srv(queue_t *q)
{
	int side = q == tq_rq ? 0 : 1;
	mblk_t *mp;

	tq_srvruns[side]++;
	tq_srvctx = ustreams_context();
	switch (tq_srvmode) {
	case SRV_DRAIN:
		while ((mp = getq(q)) != NULL)
			freemsg(mp);
		break;
	case SRV_TAKE_ONE:
		if ((mp = getq(q)) != NULL)
			freemsg(mp);
		break;
	case SRV_REENABLE_ONCE:
		if (tq_srvruns[side] == 1)
			qenable(q);
		break;
	default:
		break;
	}
	return (0);
}

static struct module_info tq_minfo = {
	0x7101, "tq_drv", 0, INFPSZ, 1024, 256
};
static struct qinit tq_rinit = {
	tq_put, tq_srv, tq_open, tq_close, NULL, &tq_minfo, NULL
};
static struct qinit tq_winit = {
	tq_put, tq_srv, NULL, NULL, NULL, &tq_minfo, NULL
};
static struct streamtab tq_info = { &tq_rinit, &tq_winit, NULL, NULL };

/*
 * The module "tq_mod": passes messages on, counts its service runs and
 * the calls of its put procedures after its close.
 */
static queue_t *tqm_rq, *tqm_wq;
static int tqm_srvruns[2];
static bool tqm_closed;
static int tqm_puts_after_close;

static int
tqm_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tqm_rq = q;
	tqm_wq = WR(q);
	return (0);
}

static int
pass_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static int
tqm_close(queue_t *q, int oflag, cred_t *crp)
{
	tqm_closed = true;
	return (0);
}

static int
tqm_put(queue_t *q, mblk_t *mp)
{
	if (tqm_closed)
		tqm_puts_after_close++;
	putnext(q, mp);
	return (0);
}

static int
tqm_srv(queue_t *q)
{
	tqm_srvruns[q == tqm_rq ? 0 : 1]++;
	return (0);
}

static struct module_info tqm_minfo = {
	0x7102, "tq_mod", 0, INFPSZ, 1024, 256
};
static struct qinit tqm_rinit = {
	tqm_put, tqm_srv, tqm_open, tqm_close, NULL, &tqm_minfo, NULL
};
static struct qinit tqm_winit = {
	tqm_put, tqm_srv, NULL, NULL, NULL, &tqm_minfo, NULL
};
static struct streamtab tqm_info = { &tqm_rinit, &tqm_winit, NULL, NULL };

/* The module "tq_nosrv": passes messages on; no service procedures. */
static int
nosrv_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return (0);
}

static struct module_info nosrv_minfo = {
	0x7103, "tq_nosrv", 0, INFPSZ, 1024, 256
};
static struct qinit nosrv_rinit = {
	pass_put, NULL, nosrv_open, NULL, NULL, &nosrv_minfo, NULL
};
static struct qinit nosrv_winit = {
	pass_put, NULL, NULL, NULL, NULL, &nosrv_minfo, NULL
};
static struct streamtab nosrv_info = {
	&nosrv_rinit, &nosrv_winit, NULL, NULL
};

/*
 * The MT-safe driver "tq_mt" (threads executive): its write service
 * procedure notes whether another run of itself is in progress.
 */
static queue_t *tqmt_wq;
static atomic_int mt_running;
static atomic_long mt_runs;
static atomic_long mt_overlaps;

static int
tqmt_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tqmt_wq = WR(q);
	return (0);
}

/* A put procedure that frees what it is given. */
static int
discard_put(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static int
tqmt_srv(queue_t *q)
{
	if (atomic_exchange(&mt_running, 1) != 0)
		atomic_fetch_add(&mt_overlaps, 1);
	for (int i = 0; i < 8; i++)
		sched_yield();		/* widen the window */
	atomic_fetch_add(&mt_runs, 1);
	atomic_store(&mt_running, 0);
	return (0);
}

static struct module_info tqmt_minfo = {
	0x7104, "tq_mt", 0, INFPSZ, 1024, 256
};
static struct qinit tqmt_rinit = {
	discard_put, NULL, tqmt_open, NULL, NULL, &tqmt_minfo, NULL
};
static struct qinit tqmt_winit = {
	discard_put, tqmt_srv, NULL, NULL, NULL, &tqmt_minfo, NULL
};
static struct streamtab tqmt_info = {
	&tqmt_rinit, &tqmt_winit, NULL, NULL
};

/*
 * The driver "tq_perim", not MT-safe: every put and service procedure of
 * the pair notes whether another one is in progress.  Each side's put
 * procedure records the sequence number its message carries; every
 * fourth write-side message is queued for the service procedure.
 */
#define	PERIM_MAX	20000

static queue_t *tqp_rq, *tqp_wq;
static atomic_int perim_inside;
static atomic_long perim_overlaps;
static uint32_t perim_seen[2][PERIM_MAX];	/* inside the perimeter */
static atomic_int perim_nseen[2];
static atomic_long perim_srvruns;

static void
perim_enter(void)
{
	if (atomic_exchange(&perim_inside, 1) != 0)
		atomic_fetch_add(&perim_overlaps, 1);
	sched_yield();
}

static void
perim_leave(void)
{
	atomic_store(&perim_inside, 0);
}

static int
tqp_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tqp_rq = q;
	tqp_wq = WR(q);
	return (0);
}

static int
tqp_put(queue_t *q, mblk_t *mp)
{
	int side = q == tqp_rq ? 0 : 1;
	int n = atomic_load_explicit(&perim_nseen[side],
	    memory_order_relaxed);
	uint32_t seq;

	perim_enter();
	memcpy(&seq, mp->b_rptr, sizeof (seq));
	if (n < PERIM_MAX)
		perim_seen[side][n] = seq;
	perim_leave();
	atomic_store_explicit(&perim_nseen[side], n + 1, memory_order_release);
	if (side == 1 && seq % 4 == 0) {
		if (!putq(q, mp))
			freemsg(mp);
	} else {
		freemsg(mp);
	}
	return (0);
}

static int
tqp_srv(queue_t *q)
{
	mblk_t *mp;

	perim_enter();
	atomic_fetch_add(&perim_srvruns, 1);
	perim_leave();
	while ((mp = getq(q)) != NULL)
		freemsg(mp);
	return (0);
}

static struct module_info tqp_minfo = {
	0x7105, "tq_perim", 0, INFPSZ, 1 << 20, 1 << 10
};
static struct qinit tqp_rinit = {
	tqp_put, tqp_srv, tqp_open, NULL, NULL, &tqp_minfo, NULL
};
static struct qinit tqp_winit = {
	tqp_put, tqp_srv, NULL, NULL, NULL, &tqp_minfo, NULL
};
static struct streamtab tqp_info = { &tqp_rinit, &tqp_winit, NULL, NULL };

/*
 * The driver "tq_nest", not MT-safe, for the perimeter under sim: the
 * write put procedure writes "+X" and "-X" to a trace as it enters and
 * leaves, X the message's first byte, and "!" after "+X" if the message
 * it is given is still linked to another (b_next or b_prev set); a
 * message tagged 'A' puts 'B' and 'C' to the same queue from inside.  One
 * tagged 'D' puts four messages of 300 bytes ('x') from inside, writing
 * canput's answer after each, then bcanput's for band 1, then 'W' if
 * QWANTW is set.  Its write service procedure (which makes canput stop at
 * it) does nothing.  The same driver registered MT-safe is "tq_nest_mt".
 */
static queue_t *tqn_wq;
static char nest_trace[128];

static void
nest_note(const char *s)
{
	size_t len = strlen(nest_trace);

	(void) snprintf(nest_trace + len, sizeof (nest_trace) - len, "%s", s);
}

static int
tqn_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tqn_wq = WR(q);
	return (0);
}

static mblk_t *mktag(unsigned char type, unsigned char band, const char *tag);
static mblk_t *mklen(unsigned char type, unsigned char band, int len);

static int
tqn_put(queue_t *q, mblk_t *mp)
{
	char tag = (char)mp->b_rptr[0];
	size_t len = strlen(nest_trace);

	(void) snprintf(nest_trace + len, sizeof (nest_trace) - len,
	    "+%c", tag);
	if (mp->b_next != NULL || mp->b_prev != NULL)
		nest_note("!");
	if (tag == 'A') {
		put(q, mktag(M_DATA, 0, "B"));
		put(q, mktag(M_DATA, 0, "C"));
	}
	if (tag == 'D') {
		for (int i = 0; i < 4; i++) {
			put(q, mklen(M_DATA, 0, 300));
			nest_note(canput(q) ? "1" : "0");
		}
		nest_note(bcanput(q, 1) ? "1" : "0");
		nest_note(q->q_flag & QWANTW ? "W" : "");
	}
	len = strlen(nest_trace);
	(void) snprintf(nest_trace + len, sizeof (nest_trace) - len,
	    "-%c", tag);
	freemsg(mp);
	return (0);
}

static struct module_info tqn_minfo = {
	0x7106, "tq_nest", 0, INFPSZ, 1024, 256
};
static struct qinit tqn_rinit = {
	tqn_put, NULL, tqn_open, NULL, NULL, &tqn_minfo, NULL
};
static int
tqn_srv(queue_t *q)
{
	return (0);
}

static struct qinit tqn_winit = {
	tqn_put, tqn_srv, NULL, NULL, NULL, &tqn_minfo, NULL
};
static struct streamtab tqn_info = { &tqn_rinit, &tqn_winit, NULL, NULL };

/*
 * Helpers.
 */
static void
register_one(int error)
{
	ck_assert_msg(error == 0 || error == EEXIST, "register: %d", error);
}

/* The registry is the process's: register once, whoever comes first. */
static void
tq_register(void)
{
	register_one(ustreams_register_driver("tq_drv", &tq_info, 0));
	register_one(ustreams_register_module("tq_mod", &tqm_info, 0));
	register_one(ustreams_register_module("tq_nosrv", &nosrv_info, 0));
	register_one(ustreams_register_driver("tq_mt", &tqmt_info,
	    USTREAMS_MTSAFE));
	register_one(ustreams_register_driver("tq_perim", &tqp_info, 0));
	register_one(ustreams_register_driver("tq_nest", &tqn_info, 0));
	register_one(ustreams_register_driver("tq_nest_mt", &tqn_info,
	    USTREAMS_MTSAFE));
}

static void
tq_reset(void)
{
	tq_rq = tq_wq = tqm_rq = tqm_wq = NULL;
	memset(tq_srvruns, 0, sizeof (tq_srvruns));
	memset(tqm_srvruns, 0, sizeof (tqm_srvruns));
	tq_srvmode = SRV_IDLE;
	tq_echo = false;
	tqm_closed = false;
	tqm_puts_after_close = 0;
	tq_srvctx = USTREAMS_CTX_BASE;
	tq_nlog = 0;
	nest_trace[0] = '\0';
}

/* Boot under sim and open a stream on tq_drv. */
static int
tq_start(void)
{
	int sd;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	tq_register();
	tq_reset();
	sd = ustreams_open("tq_drv", O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(sd, 0);
	ck_assert_ptr_nonnull(tq_wq);
	return (sd);
}

static void
push(int sd, const char *name)
{
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, name), 0);
}

/* A message of the given type and band whose data is tag. */
static mblk_t *
mktag(unsigned char type, unsigned char band, const char *tag)
{
	size_t len = strlen(tag);
	mblk_t *mp = allocb((int)len, BPRI_HI);

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = type;
	mp->b_band = band;
	memcpy(mp->b_wptr, tag, len);
	mp->b_wptr += len;
	return (mp);
}

/* A message of len bytes (value 'x'). */
static mblk_t *
mklen(unsigned char type, unsigned char band, int len)
{
	mblk_t *mp = allocb(len, BPRI_HI);

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = type;
	mp->b_band = band;
	memset(mp->b_wptr, 'x', (size_t)len);
	mp->b_wptr += len;
	return (mp);
}

/* The tags of q's messages, in queue order, separated by spaces. */
static const char *
qtags(queue_t *q)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (mblk_t *mp = q->q_first; mp != NULL; mp = mp->b_next) {
		if (n > 0 && n < sizeof (buf) - 1)
			buf[n++] = ' ';
		for (unsigned char *p = mp->b_rptr; p < mp->b_wptr &&
		    n < sizeof (buf) - 1; p++)
			buf[n++] = (char)*p;
		buf[n] = '\0';
	}
	return (buf);
}

static size_t
band_count(queue_t *q, unsigned char pri)
{
	size_t count = 0;

	ck_assert_int_eq(strqget(q, QCOUNT, pri, &count), 0);
	return (count);
}

static uint_t
band_flag(queue_t *q, unsigned char pri)
{
	uint_t flag = 0;

	ck_assert_int_eq(strqget(q, QFLAG, pri, &flag), 0);
	return (flag);
}

static void
getq_free(queue_t *q)
{
	mblk_t *mp = getq(q);

	ck_assert_ptr_nonnull(mp);
	freemsg(mp);
}

/* ------------------------------------------------------------------ */
/* Ordering */

START_TEST(queue_orders_high_priority_then_bands_descending_then_normal)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_DATA, 0, "n1"));
	put(tq_wq, mktag(M_DATA, 1, "b1"));
	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	put(tq_wq, mktag(M_PROTO, 3, "b3"));
	put(tq_wq, mktag(M_DATA, 2, "b2"));
	ck_assert_str_eq(qtags(tq_wq), "h1 b3 b2 b1 n1");
	ustreams_close(sd);
}
END_TEST

START_TEST(queue_keeps_arrival_order_within_each_class)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_DATA, 0, "n1"));
	put(tq_wq, mktag(M_DATA, 2, "b2a"));
	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	put(tq_wq, mktag(M_PROTO, 0, "n2"));
	put(tq_wq, mktag(M_DATA, 2, "b2b"));
	put(tq_wq, mktag(M_IOCACK, 0, "h2"));
	put(tq_wq, mktag(M_DATA, 0, "n3"));
	put(tq_wq, mktag(M_PROTO, 2, "b2c"));
	ck_assert_str_eq(qtags(tq_wq), "h1 h2 b2a b2b b2c n1 n2 n3");
	ustreams_close(sd);
}
END_TEST

START_TEST(high_priority_message_ignores_its_band_for_ordering)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_DATA, 5, "b5"));
	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	ck_assert_str_eq(qtags(tq_wq), "h1 b5");
	ustreams_close(sd);
}
END_TEST

START_TEST(getq_takes_messages_in_queue_order)
{
	int sd = tq_start();
	mblk_t *mp;
	char got[64] = "";

	put(tq_wq, mktag(M_DATA, 0, "n1"));
	put(tq_wq, mktag(M_DATA, 1, "b1"));
	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	while ((mp = getq(tq_wq)) != NULL) {
		strncat(got, (char *)mp->b_rptr, (size_t)MBLKL(mp));
		strcat(got, ".");
		freemsg(mp);
	}
	ck_assert_str_eq(got, "h1.b1.n1.");
	ck_assert_ptr_null(tq_wq->q_first);
	ck_assert_ptr_null(tq_wq->q_last);
	ustreams_close(sd);
}
END_TEST

START_TEST(putbq_puts_back_at_the_front_of_its_class)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	put(tq_wq, mktag(M_DATA, 2, "b2a"));
	put(tq_wq, mktag(M_DATA, 1, "b1a"));
	put(tq_wq, mktag(M_DATA, 0, "n1"));
	ck_assert_int_eq(putbq(tq_wq, mktag(M_DATA, 0, "n0")), 1);
	ck_assert_int_eq(putbq(tq_wq, mktag(M_DATA, 2, "b2z")), 1);
	ck_assert_int_eq(putbq(tq_wq, mktag(M_DATA, 1, "b1z")), 1);
	ck_assert_int_eq(putbq(tq_wq, mktag(M_PCPROTO, 0, "h0")), 1);
	ck_assert_str_eq(qtags(tq_wq), "h0 h1 b2z b2a b1z b1a n0 n1");
	ustreams_close(sd);
}
END_TEST

START_TEST(insq_out_of_order_is_refused_and_the_message_not_queued)
{
	int sd = tq_start();
	mblk_t *b2, *n1, *mp;

	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	put(tq_wq, mktag(M_DATA, 2, "b2"));
	put(tq_wq, mktag(M_DATA, 0, "n1"));
	b2 = tq_wq->q_first->b_next;
	n1 = b2->b_next;

	/* A normal message before a band-2 one. */
	mp = mktag(M_DATA, 0, "x");
	ck_assert_int_eq(insq(tq_wq, b2, mp), 0);
	ck_assert_ptr_null(mp->b_next);
	ck_assert_ptr_null(mp->b_prev);
	freemsg(mp);

	/* A band-3 message after a band-2 one. */
	mp = mktag(M_DATA, 3, "y");
	ck_assert_int_eq(insq(tq_wq, n1, mp), 0);
	freemsg(mp);

	/* A high-priority message at the end. */
	mp = mktag(M_PCPROTO, 0, "z");
	ck_assert_int_eq(insq(tq_wq, NULL, mp), 0);
	freemsg(mp);

	ck_assert_str_eq(qtags(tq_wq), "h1 b2 n1");
	ck_assert_int_eq(qsize(tq_wq), 3);
	ck_assert_uint_eq(tq_wq->q_count, 4);
	ustreams_close(sd);
}
END_TEST

START_TEST(insq_in_order_is_accepted_where_asked)
{
	int sd = tq_start();
	mblk_t *h1, *b2, *n1;

	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	put(tq_wq, mktag(M_DATA, 2, "b2"));
	put(tq_wq, mktag(M_DATA, 0, "n1"));
	h1 = tq_wq->q_first;
	b2 = h1->b_next;
	n1 = b2->b_next;

	ck_assert_int_eq(insq(tq_wq, h1, mktag(M_PCPROTO, 0, "h0")), 1);
	ck_assert_int_eq(insq(tq_wq, n1, mktag(M_DATA, 1, "b1")), 1);
	ck_assert_int_eq(insq(tq_wq, b2, mktag(M_DATA, 2, "b2x")), 1);
	ck_assert_int_eq(insq(tq_wq, NULL, mktag(M_DATA, 0, "n2")), 1);
	ck_assert_str_eq(qtags(tq_wq), "h0 h1 b2x b2 b1 n1 n2");
	ck_assert_uint_eq(band_count(tq_wq, 1), 2);
	ck_assert_uint_eq(band_count(tq_wq, 2), 5);
	ck_assert_uint_eq(tq_wq->q_count, 8);
	ustreams_close(sd);
}
END_TEST

START_TEST(rmvq_takes_a_message_from_the_middle)
{
	int sd = tq_start();
	mblk_t *mid;

	put(tq_wq, mktag(M_DATA, 0, "aa"));
	put(tq_wq, mktag(M_DATA, 0, "bbb"));
	put(tq_wq, mktag(M_DATA, 0, "c"));
	mid = tq_wq->q_first->b_next;
	rmvq(tq_wq, mid);
	ck_assert_ptr_null(mid->b_next);
	ck_assert_ptr_null(mid->b_prev);
	ck_assert_str_eq(qtags(tq_wq), "aa c");
	ck_assert_uint_eq(tq_wq->q_count, 3);
	ck_assert_int_eq(qsize(tq_wq), 2);
	freemsg(mid);
	ustreams_close(sd);
}
END_TEST

START_TEST(flushband_removes_only_that_band_and_keeps_the_order)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_DATA, 0, "n1"));
	put(tq_wq, mktag(M_DATA, 2, "b2a"));
	put(tq_wq, mktag(M_PCPROTO, 0, "h1"));
	put(tq_wq, mktag(M_DATA, 3, "b3"));
	put(tq_wq, mktag(M_DATA, 1, "b1"));
	put(tq_wq, mktag(M_PROTO, 2, "b2b"));
	put(tq_wq, mktag(M_DATA, 0, "n2"));
	flushband(tq_wq, 2, FLUSHALL);
	ck_assert_str_eq(qtags(tq_wq), "h1 b3 b1 n1 n2");
	ck_assert_uint_eq(band_count(tq_wq, 2), 0);
	ck_assert_uint_eq(band_count(tq_wq, 3), 2);
	ck_assert_uint_eq(band_count(tq_wq, 1), 2);
	ck_assert_uint_eq(tq_wq->q_count, 6);
	ustreams_close(sd);
}
END_TEST

START_TEST(flushband_flushdata_keeps_the_bands_control_messages)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_DATA, 2, "d1"));
	put(tq_wq, mktag(M_CTL, 2, "c1"));
	put(tq_wq, mktag(M_PROTO, 2, "p1"));
	put(tq_wq, mktag(M_DATA, 1, "d0"));
	flushband(tq_wq, 2, FLUSHDATA);
	ck_assert_str_eq(qtags(tq_wq), "c1 d0");
	ustreams_close(sd);
}
END_TEST

START_TEST(flushq_flushdata_keeps_messages_that_are_not_data)
{
	int sd = tq_start();

	/* datamsg(): M_DATA, M_PROTO, M_PCPROTO, M_DELAY. */
	put(tq_wq, mktag(M_PCPROTO, 0, "pcp"));
	put(tq_wq, mktag(M_PCSIG, 0, "pcs"));
	put(tq_wq, mktag(M_PROTO, 1, "pr1"));
	put(tq_wq, mktag(M_CTL, 0, "ctl"));
	put(tq_wq, mktag(M_DATA, 0, "dat"));
	put(tq_wq, mktag(M_DELAY, 0, "dly"));
	put(tq_wq, mktag(M_IOCTL, 0, "ioc"));
	flushq(tq_wq, FLUSHDATA);
	ck_assert_str_eq(qtags(tq_wq), "pcs ctl ioc");
	ck_assert_uint_eq(tq_wq->q_count, 9);
	ck_assert_uint_eq(band_count(tq_wq, 1), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(flushq_flushall_removes_every_message)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_PCPROTO, 0, "pcp"));
	put(tq_wq, mktag(M_PCSIG, 0, "pcs"));
	put(tq_wq, mktag(M_PROTO, 1, "pr1"));
	put(tq_wq, mktag(M_CTL, 0, "ctl"));
	put(tq_wq, mktag(M_DATA, 0, "dat"));
	flushq(tq_wq, FLUSHALL);
	ck_assert_ptr_null(tq_wq->q_first);
	ck_assert_ptr_null(tq_wq->q_last);
	ck_assert_uint_eq(tq_wq->q_count, 0);
	ck_assert_uint_eq(band_count(tq_wq, 1), 0);
	ck_assert_int_eq(qsize(tq_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(qsize_counts_messages_not_blocks)
{
	int sd = tq_start();
	mblk_t *mp = mklen(M_DATA, 0, 10);

	ck_assert_int_eq(qsize(tq_wq), 0);
	linkb(mp, mklen(M_DATA, 0, 20));
	linkb(mp, mklen(M_DATA, 0, 30));
	put(tq_wq, mp);
	put(tq_wq, mklen(M_PCPROTO, 0, 1));
	put(tq_wq, mklen(M_DATA, 4, 1));
	ck_assert_int_eq(qsize(tq_wq), 3);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Counts and flow control */

START_TEST(q_count_is_the_bytes_of_band_zero_and_high_priority)
{
	int sd = tq_start();
	mblk_t *mp = mklen(M_DATA, 0, 20);

	linkb(mp, mklen(M_DATA, 0, 30));
	put(tq_wq, mp);
	put(tq_wq, mklen(M_DATA, 0, 100));
	put(tq_wq, mklen(M_PCPROTO, 0, 10));
	put(tq_wq, mklen(M_DATA, 1, 50));
	put(tq_wq, mklen(M_DATA, 3, 7));
	ck_assert_uint_eq(tq_wq->q_count, 160);
	ck_assert_uint_eq(band_count(tq_wq, 0), 160);
	ck_assert_uint_eq(band_count(tq_wq, 1), 50);
	ck_assert_uint_eq(band_count(tq_wq, 2), 0);
	ck_assert_uint_eq(band_count(tq_wq, 3), 7);
	getq_free(tq_wq);		/* the M_PCPROTO */
	ck_assert_uint_eq(tq_wq->q_count, 150);
	ustreams_close(sd);
}
END_TEST

START_TEST(queue_is_full_exactly_at_q_hiwat)
{
	int sd = tq_start();

	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 100), 0);
	put(tq_wq, mklen(M_DATA, 0, 99));
	ck_assert_uint_eq(tq_wq->q_flag & QFULL, 0);
	put(tq_wq, mklen(M_DATA, 0, 1));
	ck_assert_uint_eq(tq_wq->q_flag & QFULL, QFULL);
	getq_free(tq_wq);
	ck_assert_uint_eq(tq_wq->q_count, 1);
	ck_assert_uint_eq(tq_wq->q_flag & QFULL, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(canput_fails_while_full_and_sets_qwantw)
{
	int sd = tq_start();

	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 100), 0);
	put(tq_wq, mklen(M_DATA, 0, 60));
	ck_assert_int_eq(canput(tq_wq), 1);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTW, 0);
	put(tq_wq, mklen(M_DATA, 0, 40));
	ck_assert_int_eq(canput(tq_wq), 0);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTW, QWANTW);
	ustreams_close(sd);
}
END_TEST

START_TEST(canputnext_looks_at_the_next_queue)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 10), 0);
	ck_assert_int_eq(canputnext(tqm_wq), 1);
	put(tq_wq, mklen(M_DATA, 0, 10));
	ck_assert_int_eq(canputnext(tqm_wq), 0);
	ck_assert_int_eq(canput(tqm_wq), 1);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTW, QWANTW);
	ustreams_close(sd);
}
END_TEST

START_TEST(getq_below_q_lowat_backenables_the_queue_behind_once)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 100), 0);
	ck_assert_int_eq(strqset(tq_wq, QLOWAT, 0, 50), 0);
	putnext(tqm_wq, mklen(M_DATA, 0, 30));
	putnext(tqm_wq, mklen(M_DATA, 0, 20));
	putnext(tqm_wq, mklen(M_DATA, 0, 30));
	putnext(tqm_wq, mklen(M_DATA, 0, 20));
	ck_assert_int_eq(canputnext(tqm_wq), 0);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 0);

	getq_free(tq_wq);			/* 70 left */
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 0);
	getq_free(tq_wq);			/* 50: not below */
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 0);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTW, QWANTW);
	getq_free(tq_wq);			/* 20: below */
	ck_assert_uint_eq(tq_wq->q_flag & QWANTW, 0);
	/* Back-enabled: QBACK with QENAB, both cleared as the run starts. */
	ck_assert_uint_eq(tqm_wq->q_flag & (QBACK | QENAB), QBACK | QENAB);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 1);
	ck_assert_uint_eq(tqm_wq->q_flag & (QBACK | QENAB), 0);
	getq_free(tq_wq);			/* 0 */
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 1);
	ck_assert_int_eq(tqm_srvruns[0], 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(backenable_skips_queues_without_a_service_procedure)
{
	int sd = tq_start();

	push(sd, "tq_nosrv");
	push(sd, "tq_mod");
	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 10), 0);
	ck_assert_int_eq(strqset(tq_wq, QLOWAT, 0, 5), 0);
	put(tq_wq, mklen(M_DATA, 0, 10));
	ck_assert_int_eq(canputnext(tqm_wq), 0);
	getq_free(tq_wq);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(no_backenable_without_a_writer_waiting)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 10), 0);
	put(tq_wq, mklen(M_DATA, 0, 10));
	getq_free(tq_wq);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(bcanput_follows_the_bands_own_water_mark)
{
	int sd = tq_start();

	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 2, 50), 0);
	put(tq_wq, mklen(M_DATA, 2, 49));
	ck_assert_int_eq(bcanput(tq_wq, 2), 1);
	put(tq_wq, mklen(M_DATA, 2, 1));
	ck_assert_uint_eq(band_flag(tq_wq, 2) & QB_FULL, QB_FULL);
	ck_assert_int_eq(bcanput(tq_wq, 2), 0);
	ck_assert_uint_eq(band_flag(tq_wq, 2) & QB_WANTW, QB_WANTW);
	/* Other bands and band 0 are not held back. */
	ck_assert_int_eq(bcanput(tq_wq, 1), 1);
	ck_assert_int_eq(bcanput(tq_wq, 3), 1);
	ck_assert_int_eq(canput(tq_wq), 1);
	ck_assert_uint_eq(tq_wq->q_flag & (QFULL | QWANTW), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(getq_from_a_band_below_its_lowat_backenables)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 2, 50), 0);
	ck_assert_int_eq(strqset(tq_wq, QLOWAT, 2, 20), 0);
	put(tq_wq, mklen(M_DATA, 2, 30));
	put(tq_wq, mklen(M_DATA, 2, 20));
	ck_assert_int_eq(bcanputnext(tqm_wq, 2), 0);
	getq_free(tq_wq);			/* 20 left: not below */
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 0);
	getq_free(tq_wq);			/* 0 */
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 1);
	ck_assert_uint_eq(band_flag(tq_wq, 2) & (QB_FULL | QB_WANTW), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(strqget_reads_the_queue_fields)
{
	int sd = tq_start();
	size_t sz;
	ssize_t ssz;
	mblk_t *mp;
	uint_t flag;

	ck_assert_int_eq(strqget(tq_wq, QHIWAT, 0, &sz), 0);
	ck_assert_uint_eq(sz, 1024);
	ck_assert_int_eq(strqget(tq_wq, QLOWAT, 0, &sz), 0);
	ck_assert_uint_eq(sz, 256);
	ck_assert_int_eq(strqget(tq_wq, QMAXPSZ, 0, &ssz), 0);
	ck_assert_int_eq(ssz, INFPSZ);
	ck_assert_int_eq(strqget(tq_wq, QMINPSZ, 0, &ssz), 0);
	ck_assert_int_eq(ssz, 0);
	put(tq_wq, mktag(M_DATA, 0, "first"));
	put(tq_wq, mktag(M_DATA, 0, "last"));
	ck_assert_int_eq(strqget(tq_wq, QCOUNT, 0, &sz), 0);
	ck_assert_uint_eq(sz, 9);
	ck_assert_int_eq(strqget(tq_wq, QFIRST, 0, &mp), 0);
	ck_assert_ptr_eq(mp, tq_wq->q_first);
	ck_assert_int_eq(strqget(tq_wq, QLAST, 0, &mp), 0);
	ck_assert_ptr_eq(mp, tq_wq->q_last);
	ck_assert_int_eq(strqget(tq_wq, QFLAG, 0, &flag), 0);
	ck_assert_uint_eq(flag, tq_wq->q_flag);
	ck_assert_uint_eq(flag & QREADR, 0);
	ck_assert_int_eq(strqget(tq_rq, QFLAG, 0, &flag), 0);
	ck_assert_uint_eq(flag & QREADR, QREADR);
	ustreams_close(sd);
}
END_TEST

START_TEST(strqget_reads_a_bands_fields)
{
	int sd = tq_start();
	size_t sz;
	mblk_t *mp;

	put(tq_wq, mktag(M_DATA, 0, "n"));
	put(tq_wq, mktag(M_DATA, 2, "b2a"));
	put(tq_wq, mktag(M_DATA, 2, "b2b"));
	put(tq_wq, mktag(M_DATA, 1, "b1"));
	ck_assert_int_eq(strqget(tq_wq, QCOUNT, 2, &sz), 0);
	ck_assert_uint_eq(sz, 6);
	ck_assert_int_eq(strqget(tq_wq, QFIRST, 2, &mp), 0);
	ck_assert_ptr_eq(mp, tq_wq->q_first);
	ck_assert_int_eq(strqget(tq_wq, QLAST, 2, &mp), 0);
	ck_assert_ptr_eq(mp, tq_wq->q_first->b_next);
	ck_assert_int_eq(strqget(tq_wq, QFIRST, 1, &mp), 0);
	ck_assert_ptr_eq(mp, tq_wq->q_last->b_prev);
	ck_assert_int_eq(strqget(tq_wq, QHIWAT, 2, &sz), 0);
	ck_assert_uint_eq(sz, 1024);
	ck_assert_int_eq(strqget(tq_wq, QLOWAT, 2, &sz), 0);
	ck_assert_uint_eq(sz, 256);
	ustreams_close(sd);
}
END_TEST

START_TEST(strqset_sets_water_marks_and_packet_sizes)
{
	int sd = tq_start();
	size_t sz;
	ssize_t ssz;

	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 4000), 0);
	ck_assert_int_eq(strqset(tq_wq, QLOWAT, 0, 300), 0);
	ck_assert_int_eq(strqset(tq_wq, QMAXPSZ, 0, 512), 0);
	ck_assert_int_eq(strqset(tq_wq, QMINPSZ, 0, 8), 0);
	ck_assert_uint_eq(tq_wq->q_hiwat, 4000);
	ck_assert_uint_eq(tq_wq->q_lowat, 300);
	ck_assert_int_eq(tq_wq->q_maxpsz, 512);
	ck_assert_int_eq(tq_wq->q_minpsz, 8);
	ck_assert_int_eq(strqget(tq_wq, QHIWAT, 0, &sz), 0);
	ck_assert_uint_eq(sz, 4000);
	ck_assert_int_eq(strqget(tq_wq, QMAXPSZ, 0, &ssz), 0);
	ck_assert_int_eq(ssz, 512);
	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 3, 700), 0);
	ck_assert_int_eq(strqget(tq_wq, QHIWAT, 3, &sz), 0);
	ck_assert_uint_eq(sz, 700);
	ck_assert_uint_eq(tq_wq->q_hiwat, 4000);
	ustreams_close(sd);
}
END_TEST

START_TEST(a_new_band_takes_the_queues_water_marks)
{
	int sd = tq_start();
	size_t sz;

	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 0, 2000), 0);
	ck_assert_int_eq(strqset(tq_wq, QLOWAT, 0, 100), 0);
	ck_assert_int_eq(tq_wq->q_nband, 0);
	put(tq_wq, mklen(M_DATA, 3, 1));
	ck_assert_int_eq(tq_wq->q_nband, 3);
	ck_assert_int_eq(strqget(tq_wq, QHIWAT, 1, &sz), 0);
	ck_assert_uint_eq(sz, 2000);
	ck_assert_int_eq(strqget(tq_wq, QLOWAT, 3, &sz), 0);
	ck_assert_uint_eq(sz, 100);
	ustreams_close(sd);
}
END_TEST

START_TEST(strqset_of_read_only_fields_is_eperm)
{
	int sd = tq_start();

	ck_assert_int_eq(strqset(tq_wq, QCOUNT, 0, 1), EPERM);
	ck_assert_int_eq(strqset(tq_wq, QFIRST, 0, 0), EPERM);
	ck_assert_int_eq(strqset(tq_wq, QLAST, 0, 0), EPERM);
	ck_assert_int_eq(strqset(tq_wq, QFLAG, 0, 0), EPERM);
	ck_assert_int_eq(strqset(tq_wq, QCOUNT, 1, 1), EPERM);
	ck_assert_uint_eq(tq_wq->q_count, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(strqset_and_strqget_of_bad_fields_are_einval)
{
	int sd = tq_start();
	size_t sz = 12345;

	ck_assert_int_eq(strqset(tq_wq, QBAD, 0, 1), EINVAL);
	ck_assert_int_eq(strqget(tq_wq, QBAD, 0, &sz), EINVAL);
	ck_assert_uint_eq(sz, 12345);
	/* Packet sizes belong to the queue, not to a band. */
	ck_assert_int_eq(strqset(tq_wq, QMAXPSZ, 1, 64), EINVAL);
	ck_assert_int_eq(strqset(tq_wq, QMINPSZ, 1, 1), EINVAL);
	ck_assert_int_eq(tq_wq->q_maxpsz, INFPSZ);
	ck_assert_int_eq(tq_wq->q_minpsz, 0);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Enabling */

START_TEST(noenable_stops_putq_enabling_but_for_high_priority)
{
	int sd = tq_start();

	noenable(tq_wq);
	ck_assert_uint_eq(tq_wq->q_flag & QNOENB, QNOENB);
	put(tq_wq, mklen(M_DATA, 0, 1));
	put(tq_wq, mklen(M_DATA, 2, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 0);
	put(tq_wq, mklen(M_PCPROTO, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(enableok_lets_putq_enable_again)
{
	int sd = tq_start();

	noenable(tq_wq);
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 0);
	enableok(tq_wq);
	ck_assert_uint_eq(tq_wq->q_flag & QNOENB, 0);
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(qenable_after_noenable_still_schedules_the_queue)
{
	int sd = tq_start();

	noenable(tq_wq);
	qenable(tq_wq);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(putq_enables_a_queue_found_empty_by_its_service_once)
{
	int sd = tq_start();

	tq_srvmode = SRV_DRAIN;
	put(tq_wq, mklen(M_DATA, 0, 1));
	put(tq_wq, mklen(M_DATA, 0, 1));
	put(tq_wq, mklen(M_DATA, 0, 1));
	ck_assert_uint_eq(tq_wq->q_flag & QENAB, QENAB);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ck_assert_int_eq(qsize(tq_wq), 0);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTR, QWANTR);
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(putq_does_not_enable_a_queue_its_service_left_non_empty)
{
	int sd = tq_start();

	tq_srvmode = SRV_TAKE_ONE;
	put(tq_wq, mklen(M_DATA, 0, 1));
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ck_assert_int_eq(qsize(tq_wq), 1);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTR, 0);
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ck_assert_int_eq(qsize(tq_wq), 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(putq_enables_for_a_banded_message)
{
	int sd = tq_start();

	tq_srvmode = SRV_TAKE_ONE;
	put(tq_wq, mklen(M_DATA, 0, 1));
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTR, 0);
	put(tq_wq, mklen(M_DATA, 1, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(putq_enables_for_a_high_priority_message)
{
	int sd = tq_start();

	tq_srvmode = SRV_TAKE_ONE;
	put(tq_wq, mklen(M_DATA, 0, 1));
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	put(tq_wq, mklen(M_PCPROTO, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);
	ustreams_close(sd);
}
END_TEST

/*
 * One service run that leaves a message queued: getq returned one, so
 * QWANTR is clear (the queue does not want reading).
 */
static void
srv_leaves_one(void)
{
	int runs = tq_srvruns[1];

	tq_srvmode = SRV_TAKE_ONE;
	put(tq_wq, mklen(M_DATA, 0, 1));
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], runs + 1);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTR, 0);
}

/* One service run that empties the queue: getq found it empty, QWANTR. */
static void
srv_finds_empty(void)
{
	int runs = tq_srvruns[1];

	tq_srvmode = SRV_DRAIN;
	put(tq_wq, mklen(M_DATA, 0, 1));
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], runs + 1);
	ck_assert_uint_eq(tq_wq->q_flag & QWANTR, QWANTR);
}

START_TEST(putbq_does_not_enable_but_for_high_priority)
{
	int sd = tq_start();

	srv_leaves_one();
	ck_assert_int_eq(putbq(tq_wq, mklen(M_DATA, 0, 1)), 1);
	ck_assert_int_eq(putbq(tq_wq, mklen(M_DATA, 3, 1)), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ck_assert_int_eq(putbq(tq_wq, mklen(M_PCPROTO, 0, 1)), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);
	ustreams_close(sd);
}
END_TEST

/*
 * A high-priority message enables no more than any other: only a queue
 * that wants reading and was not noenable'd (SVR4).
 */
START_TEST(insq_of_high_priority_enables_only_a_queue_that_wants_reading)
{
	int sd = tq_start();

	srv_leaves_one();
	ck_assert_int_eq(insq(tq_wq, tq_wq->q_first, mklen(M_PCPROTO, 0, 1)),
	    1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	/* An empty getq makes the queue want reading. */
	flushq(tq_wq, FLUSHALL);
	ck_assert_ptr_null(getq(tq_wq));
	ck_assert_uint_eq(tq_wq->q_flag & QWANTR, QWANTR);
	noenable(tq_wq);
	ck_assert_int_eq(insq(tq_wq, NULL, mklen(M_PCPROTO, 0, 1)), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	enableok(tq_wq);
	ck_assert_int_eq(insq(tq_wq, tq_wq->q_first, mklen(M_PCPROTO, 0, 1)),
	    1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(insq_enables_an_ordinary_message_only_while_qwantr)
{
	int sd = tq_start();

	/* The service finds the queue empty: QWANTR. */
	srv_finds_empty();
	ck_assert_int_eq(insq(tq_wq, NULL, mklen(M_DATA, 0, 1)), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);

	/* The service leaves one: no QWANTR, no enabling, banded or not. */
	srv_leaves_one();
	ck_assert_int_eq(insq(tq_wq, NULL, mklen(M_DATA, 0, 1)), 1);
	ck_assert_int_eq(insq(tq_wq, tq_wq->q_first, mklen(M_DATA, 1, 1)), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 3);
	ck_assert_int_eq(qsize(tq_wq), 3);
	ustreams_close(sd);
}
END_TEST

START_TEST(insq_does_not_enable_after_noenable_even_while_qwantr)
{
	int sd = tq_start();

	srv_finds_empty();
	noenable(tq_wq);
	ck_assert_int_eq(insq(tq_wq, NULL, mklen(M_DATA, 0, 1)), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ck_assert_int_eq(qsize(tq_wq), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(qenable_of_an_enabled_queue_schedules_one_run)
{
	int sd = tq_start();

	qenable(tq_wq);
	qenable(tq_wq);
	qenable(tq_wq);
	ck_assert_uint_eq(tq_wq->q_flag & QENAB, QENAB);
	ck_assert_int_eq(ustreams_sim_pending(), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 1);
	ck_assert_uint_eq(tq_wq->q_flag & QENAB, 0);
	ck_assert_int_eq(tq_srvruns[0], 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(qenable_during_the_service_run_runs_it_again)
{
	int sd = tq_start();

	tq_srvmode = SRV_REENABLE_ONCE;
	qenable(tq_wq);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(service_procedures_run_in_service_context)
{
	int sd = tq_start();

	tq_srvctx = USTREAMS_CTX_BASE;
	qenable(tq_rq);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[0], 1);
	ck_assert_int_eq(tq_srvctx, USTREAMS_CTX_SERVICE);
	ck_assert_int_eq(ustreams_context(), USTREAMS_CTX_BASE);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Putting messages, and finding queues */

START_TEST(put_calls_the_queues_put_procedure)
{
	int sd = tq_start();

	put(tq_rq, mktag(M_DATA, 0, "r"));
	put(tq_wq, mktag(M_CTL, 0, "w"));
	ck_assert_int_eq(tq_nlog, 2);
	ck_assert_ptr_eq(tq_log[0].pr_q, tq_rq);
	ck_assert_int_eq(tq_log[0].pr_b0, 'r');
	ck_assert_ptr_eq(tq_log[1].pr_q, tq_wq);
	ck_assert_int_eq(tq_log[1].pr_type, M_CTL);
	ustreams_close(sd);
}
END_TEST

START_TEST(putnext_passes_to_the_next_queue)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	putnext(tqm_wq, mktag(M_DATA, 0, "down"));
	ck_assert_int_eq(tq_nlog, 1);
	ck_assert_ptr_eq(tq_log[0].pr_q, tq_wq);
	ck_assert_str_eq(qtags(tq_wq), "down");
	ustreams_close(sd);
}
END_TEST

/*
 * putnext from the last queue of a stream (no q_next) frees the message;
 * the stream can still be popped and closed afterwards.
 */
START_TEST(putnext_from_the_last_queue_frees_the_message)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_ptr_null(tq_wq->q_next);
	putnext(tq_wq, mktag(M_DATA, 0, "lost"));
	ck_assert_int_eq(tq_nlog, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP), 0);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(qreply_sends_the_message_back_the_other_way)
{
	int sd = tq_start();
	char buf[16];

	push(sd, "tq_mod");
	qreply(tq_wq, mktag(M_DATA, 0, "echo"));
	/* Up through tq_mod's read side to the stream head. */
	ck_assert_int_eq(tq_nlog, 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 4);
	ck_assert_mem_eq(buf, "echo", 4);
	ustreams_close(sd);
}
END_TEST

/*
 * An M_IOCTL with two bytes of data, as the stream head would send it;
 * its iocblk's answer fields hold garbage that miocack and miocnak must
 * overwrite.
 */
static mblk_t *
mkioctl(int cmd)
{
	mblk_t *mp = allocb((int)sizeof (struct iocblk), BPRI_HI);
	struct iocblk *ioc;

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = M_IOCTL;
	ioc = (struct iocblk *)(void *)mp->b_wptr;
	memset(ioc, 0, sizeof (*ioc));
	ioc->ioc_cmd = cmd;
	ioc->ioc_id = 77;
	ioc->ioc_count = 2;
	ioc->ioc_rval = -5;
	ioc->ioc_error = EFAULT;
	mp->b_wptr += sizeof (*ioc);
	mp->b_cont = mktag(M_DATA, 0, "io");
	return (mp);
}

/*
 * miocack and miocnak answer in place, with qreply: a module answering
 * on its read queue sends the answer down, to tq_drv's write queue, where
 * the test looks at it.  Count 0 frees the data; a count keeps it.
 */
START_TEST(miocack_and_miocnak_answer_the_ioctl_in_place)
{
	int sd = tq_start();
	struct iocblk *ioc;
	mblk_t *mp;

	push(sd, "tq_mod");
	miocack(tqm_rq, mkioctl(0x6101), 0, 5);
	mp = getq(tq_wq);
	ck_assert_ptr_nonnull(mp);
	ioc = (struct iocblk *)(void *)mp->b_rptr;
	ck_assert_int_eq(DB_TYPE(mp), M_IOCACK);
	ck_assert_int_eq(ioc->ioc_cmd, 0x6101);
	ck_assert_uint_eq(ioc->ioc_id, 77);
	ck_assert_uint_eq(ioc->ioc_count, 0);
	ck_assert_int_eq(ioc->ioc_rval, 5);
	ck_assert_int_eq(ioc->ioc_error, 0);
	ck_assert_ptr_null(mp->b_cont);
	freemsg(mp);

	miocack(tqm_rq, mkioctl(0x6102), 2, 1);
	mp = getq(tq_wq);
	ck_assert_ptr_nonnull(mp);
	ioc = (struct iocblk *)(void *)mp->b_rptr;
	ck_assert_int_eq(DB_TYPE(mp), M_IOCACK);
	ck_assert_uint_eq(ioc->ioc_count, 2);
	ck_assert_int_eq(ioc->ioc_rval, 1);
	ck_assert_ptr_nonnull(mp->b_cont);
	ck_assert_mem_eq(mp->b_cont->b_rptr, "io", 2);
	freemsg(mp);

	miocnak(tqm_rq, mkioctl(0x6103), 0, EPERM);
	mp = getq(tq_wq);
	ck_assert_ptr_nonnull(mp);
	ioc = (struct iocblk *)(void *)mp->b_rptr;
	ck_assert_int_eq(DB_TYPE(mp), M_IOCNAK);
	ck_assert_uint_eq(ioc->ioc_count, 0);
	ck_assert_int_eq(ioc->ioc_rval, 0);
	ck_assert_int_eq(ioc->ioc_error, EPERM);
	ck_assert_ptr_null(mp->b_cont);
	freemsg(mp);
	ck_assert_ptr_null(getq(tq_wq));
	ustreams_close(sd);
}
END_TEST

START_TEST(putctl_puts_an_empty_control_message)
{
	int sd = tq_start();

	ck_assert_int_eq(putctl(tq_wq, M_START), 1);
	ck_assert_int_eq(tq_nlog, 1);
	ck_assert_ptr_eq(tq_log[0].pr_q, tq_wq);
	ck_assert_int_eq(tq_log[0].pr_type, M_START);
	ck_assert_int_eq(tq_log[0].pr_len, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(putctl1_puts_a_control_message_with_its_parameter)
{
	int sd = tq_start();

	ck_assert_int_eq(putctl1(tq_wq, M_ERROR, EPROTO), 1);
	ck_assert_int_eq(tq_nlog, 1);
	ck_assert_int_eq(tq_log[0].pr_type, M_ERROR);
	ck_assert_int_eq(tq_log[0].pr_len, 1);
	ck_assert_int_eq(tq_log[0].pr_b0, EPROTO);
	ustreams_close(sd);
}
END_TEST

START_TEST(putctl_family_refuses_data_types)
{
	static const int data_types[] = { M_DATA, M_PROTO, M_PCPROTO };
	int sd = tq_start();

	push(sd, "tq_mod");
	for (unsigned i = 0; i < 3; i++) {
		int type = data_types[i];

		ck_assert_int_eq(putctl(tq_wq, type), 0);
		ck_assert_int_eq(putctl1(tq_wq, type, 1), 0);
		ck_assert_int_eq(putnextctl(tqm_wq, type), 0);
		ck_assert_int_eq(putnextctl1(tqm_wq, type, 1), 0);
	}
	ck_assert_int_eq(tq_nlog, 0);
	ck_assert_int_eq(qsize(tq_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(putnextctl_and_putnextctl1_put_to_the_next_queue)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_int_eq(putnextctl(tqm_wq, M_STOP), 1);
	ck_assert_int_eq(putnextctl1(tqm_wq, M_STARTI, 7), 1);
	ck_assert_int_eq(tq_nlog, 2);
	ck_assert_ptr_eq(tq_log[0].pr_q, tq_wq);
	ck_assert_int_eq(tq_log[0].pr_type, M_STOP);
	ck_assert_int_eq(tq_log[0].pr_len, 0);
	ck_assert_ptr_eq(tq_log[1].pr_q, tq_wq);
	ck_assert_int_eq(tq_log[1].pr_type, M_STARTI);
	ck_assert_int_eq(tq_log[1].pr_len, 1);
	ck_assert_int_eq(tq_log[1].pr_b0, 7);
	ustreams_close(sd);
}
END_TEST

START_TEST(backq_finds_the_queue_behind)
{
	int sd = tq_start();
	queue_t *head_wq;

	push(sd, "tq_mod");
	ck_assert_ptr_eq(backq(tq_wq), tqm_wq);
	ck_assert_ptr_eq(backq(tqm_rq), tq_rq);
	ck_assert_ptr_null(backq(tq_rq));
	head_wq = backq(tqm_wq);
	ck_assert_ptr_nonnull(head_wq);
	ck_assert_ptr_eq(head_wq->q_next, tqm_wq);
	ck_assert_ptr_null(backq(head_wq));
	ustreams_close(sd);
}
END_TEST

START_TEST(samestr_is_true_between_queues_of_one_direction)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_int_ne(SAMESTR(tqm_wq), 0);
	ck_assert_int_ne(SAMESTR(tqm_rq), 0);
	ck_assert_int_ne(SAMESTR(tq_rq), 0);
	/* The driver's write queue is the end of the stream. */
	ck_assert_int_eq(SAMESTR(tq_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(rd_wr_otherq_find_the_pairs_queues)
{
	int sd = tq_start();

	ck_assert_ptr_eq(tq_wq, tq_rq + 1);
	ck_assert_ptr_eq(RD(tq_wq), tq_rq);
	ck_assert_ptr_eq(RD(tq_rq), tq_rq);
	ck_assert_ptr_eq(WR(tq_rq), tq_wq);
	ck_assert_ptr_eq(WR(tq_wq), tq_wq);
	ck_assert_ptr_eq(OTHERQ(tq_rq), tq_wq);
	ck_assert_ptr_eq(OTHERQ(tq_wq), tq_rq);
	ck_assert_uint_eq(tq_rq->q_flag & QREADR, QREADR);
	ck_assert_uint_eq(tq_wq->q_flag & QREADR, 0);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The perimeter */

/* Boot under sim and open a stream on name: tq_nest or tq_nest_mt. */
static int
nest_start_as(const char *name)
{
	int sd;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	tq_register();
	tq_reset();
	sd = ustreams_open(name, O_RDWR);
	ck_assert_int_ge(sd, 0);
	return (sd);
}

static int
nest_start(void)
{
	return (nest_start_as("tq_nest"));
}

START_TEST(put_into_a_busy_perimeter_runs_after_in_order)
{
	int sd = nest_start();

	put(tqn_wq, mktag(M_DATA, 0, "A"));
	/*
	 * B and C wait for A's put procedure to return, and each reaches the
	 * put procedure on its own, no longer linked to the other.
	 */
	ck_assert_str_eq(nest_trace, "+A-A+B-B+C-C");
	ustreams_close(sd);
}
END_TEST

/*
 * An MT-safe pair has no perimeter: a put into it from inside its own put
 * procedure runs at once, nested, on the same thread.
 */
START_TEST(put_into_an_mtsafe_pair_runs_at_once_even_from_inside)
{
	int sd = nest_start_as("tq_nest_mt");

	put(tqn_wq, mktag(M_DATA, 0, "A"));
	ck_assert_str_eq(nest_trace, "+A+B-B+C-C-A");
	ustreams_close(sd);
}
END_TEST

/*
 * Illumos sets QFULL on a queue whose syncq holds messages; here, what
 * waits on the perimeter counts against q_hiwat, so that a writer on
 * another CPU cannot outrun the thread inside through an unbounded list.
 */
START_TEST(messages_waiting_on_a_busy_perimeter_count_against_flow_control)
{
	int sd = nest_start();

	push(sd, "tq_mod");
	ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 0);
	put(tqn_wq, mktag(M_DATA, 0, "D"));
	/*
	 * Inside D: 300, 600, 900 bytes wait (room below q_hiwat, 1024),
	 * then 1200: no room, for band 1 either, and a writer marked waiting.
	 * Then the four run, in order, once D has returned.
	 */
	ck_assert_str_eq(nest_trace, "+D11100W-D+x-x+x-x+x-x+x-x");
	/* Their leaving took the count below q_lowat: tq_mod back-enabled. */
	ck_assert_uint_eq(band_flag(tqn_wq, 0) & QWANTW, 0);
	ck_assert_int_eq(canput(tqn_wq), 1);
	ustreams_sim_run_idle();
	ck_assert_int_eq(tqm_srvruns[1], 1);
	ustreams_close(sd);
}
END_TEST

static long
scaled(long release, long sanitized)
{
	return (strcmp(harness_variant(), "release") == 0 ? release :
	    sanitized);
}

static void
boot_threads(void)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 4;
	harness_boot_cfg(&cfg);
}

#define	NENABLERS	4

static long enables_per_thread;

static void *
enabler(void *arg)
{
	for (long i = 0; i < enables_per_thread; i++) {
		qenable(tqmt_wq);
		if (i % 16 == 0)
			sched_yield();
	}
	return (arg);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

START_TEST(service_procedure_never_runs_concurrently_with_itself)
{
	pthread_t t[NENABLERS];
	long overlaps, runs;
	uint64_t t0;
	int sd;

	boot_threads();
	tq_register();
	atomic_store(&mt_running, 0);
	atomic_store(&mt_runs, 0);
	atomic_store(&mt_overlaps, 0);
	enables_per_thread = scaled(20000, 3000);
	sd = ustreams_open("tq_mt", O_RDWR);
	ck_assert_int_ge(sd, 0);
	for (int i = 0; i < NENABLERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, enabler, NULL),
		    0);
	for (int i = 0; i < NENABLERS; i++)
		pthread_join(t[i], NULL);
	/*
	 * The last enable's run happens, however late the service threads
	 * are scheduled (close would cancel it).  10 s of nothing is a lost
	 * enable, not a slow machine.
	 */
	t0 = mono_ns();
	while (atomic_load(&mt_runs) == 0 &&
	    mono_ns() - t0 < 10 * 1000000000ull)
		sched_yield();
	/* Close turns the procedures off and waits for a run under way. */
	ck_assert_int_eq(ustreams_close(sd), 0);
	overlaps = atomic_load(&mt_overlaps);
	runs = atomic_load(&mt_runs);
	ck_assert_int_eq(overlaps, 0);
	ck_assert_int_ge(runs, 1);
	ck_assert_int_le(runs, NENABLERS * enables_per_thread);
}
END_TEST

static long perim_n;

static mblk_t *
mkseq(uint32_t seq)
{
	mblk_t *mp = allocb(sizeof (seq), BPRI_HI);

	if (mp != NULL) {
		memcpy(mp->b_wptr, &seq, sizeof (seq));
		mp->b_wptr += sizeof (seq);
	}
	return (mp);
}

static void *
perim_putter(void *arg)
{
	queue_t *q = arg;

	for (long i = 0; i < perim_n; i++) {
		mblk_t *mp;

		while ((mp = mkseq((uint32_t)i)) == NULL)
			sched_yield();
		put(q, mp);
	}
	return (NULL);
}

static void *
perim_enabler(void *arg)
{
	for (long i = 0; i < perim_n; i++) {
		qenable(tqp_wq);
		qenable(tqp_rq);
		if (i % 8 == 0)
			sched_yield();
	}
	return (arg);
}

START_TEST(non_mtsafe_procedures_never_overlap_and_keep_put_order)
{
	pthread_t tw, tr, te;
	int sd;
	long bad[2] = { 0, 0 }, overlaps, srvruns, nseen[2], seen;
	uint64_t t0;

	boot_threads();
	tq_register();
	atomic_store(&perim_inside, 0);
	atomic_store(&perim_overlaps, 0);
	atomic_store(&perim_nseen[0], 0);
	atomic_store(&perim_nseen[1], 0);
	atomic_store(&perim_srvruns, 0);
	perim_n = scaled(PERIM_MAX, 4000);
	sd = ustreams_open("tq_perim", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(pthread_create(&tw, NULL, perim_putter, tqp_wq), 0);
	ck_assert_int_eq(pthread_create(&tr, NULL, perim_putter, tqp_rq), 0);
	ck_assert_int_eq(pthread_create(&te, NULL, perim_enabler, NULL), 0);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	pthread_join(te, NULL);
	/*
	 * A put left with the thread inside is delivered when it leaves, and
	 * the service procedure the enabler asked for runs.  (The limit is
	 * not a timing: 10 s without progress turns a lost message into a
	 * failure rather than a hang; a slow machine only takes longer.)
	 */
	t0 = mono_ns();
	seen = 0;
	while ((atomic_load(&perim_nseen[0]) < perim_n ||
	    atomic_load(&perim_nseen[1]) < perim_n ||
	    atomic_load(&perim_srvruns) < 1) &&
	    mono_ns() - t0 < 10 * 1000000000ull) {
		long now_seen = atomic_load(&perim_nseen[0]) +
		    atomic_load(&perim_nseen[1]);

		if (now_seen != seen) {
			seen = now_seen;
			t0 = mono_ns();
		}
		sched_yield();
	}
	ck_assert_int_eq(ustreams_close(sd), 0);
	overlaps = atomic_load(&perim_overlaps);
	ck_assert_int_eq(overlaps, 0);
	nseen[0] = atomic_load(&perim_nseen[0]);
	nseen[1] = atomic_load(&perim_nseen[1]);
	ck_assert_int_eq(nseen[0], perim_n);
	ck_assert_int_eq(nseen[1], perim_n);
	for (int side = 0; side < 2; side++) {
		for (long i = 0; i < perim_n; i++) {
			if (perim_seen[side][i] != (uint32_t)i)
				bad[side]++;
		}
	}
	ck_assert_int_eq(bad[0], 0);
	ck_assert_int_eq(bad[1], 0);
	srvruns = atomic_load(&perim_srvruns);
	ck_assert_int_ge(srvruns, 1);
}
END_TEST

/*
 * The driver "tq_ins", not MT-safe: its write put procedure appends each
 * message with insq and, for every odd sequence number, takes it and the
 * one before it off again with rmvq, so that its queue holds 0, 4 or 8
 * bytes.
 * Its perimeter keeps its own procedures apart, but not the flow-control
 * checks, strqget, strqset, noenable and enableok of code on other
 * threads -- a module upstream calling canputnext, say: each of them must
 * take the queue's lock for those.
 */
static queue_t *tqi_wq;
static atomic_long tqi_noprev;		/* an odd message found none before */

static int
tqi_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tqi_wq = WR(q);
	return (0);
}

static int
tqi_wput(queue_t *q, mblk_t *mp)
{
	uint32_t seq;

	memcpy(&seq, mp->b_rptr, sizeof (seq));
	if (!insq(q, NULL, mp)) {
		freemsg(mp);
		return (0);
	}
	if (seq % 2 == 1) {
		mblk_t *prev = mp->b_prev;

		if (prev == NULL) {
			atomic_fetch_add(&tqi_noprev, 1);
			return (0);
		}
		rmvq(q, prev);
		rmvq(q, mp);
		freemsg(prev);
		freemsg(mp);
	}
	return (0);
}

static struct module_info tqi_minfo = { 0x7108, "tq_ins", 0, INFPSZ, 6, 2 };
static struct qinit tqi_rinit = {
	discard_put, NULL, tqi_open, NULL, NULL, &tqi_minfo, NULL
};
static struct qinit tqi_winit = {
	tqi_wput, NULL, NULL, NULL, NULL, &tqi_minfo, NULL
};
static struct streamtab tqi_info = { &tqi_rinit, &tqi_winit, NULL, NULL };

static atomic_bool tqi_done;
static atomic_bool tqi_looked;		/* the main thread is looking */

/*
 * The putter starts only once the main thread has begun to look at the
 * queue, so that the two overlap however the threads are scheduled: under
 * valgrind, which runs one thread at a time, the putter could otherwise
 * finish before the main thread first ran.
 */
static void *
tqi_putter(void *arg)
{
	while (!atomic_load(&tqi_looked))
		sched_yield();
	(void) perim_putter(tqi_wq);
	atomic_store(&tqi_done, true);
	return (arg);
}

START_TEST(queue_calls_from_outside_a_perimeter_are_safe_against_its_procedures)
{
	pthread_t t;
	long looks = 0, odd = 0;
	size_t count;
	int sd;

	boot_threads();
	register_one(ustreams_register_driver("tq_ins", &tqi_info, 0));
	perim_n = scaled(PERIM_MAX, 4000);
	sd = ustreams_open("tq_ins", O_RDWR);
	ck_assert_int_ge(sd, 0);
	atomic_store(&tqi_done, false);
	atomic_store(&tqi_looked, false);
	atomic_store(&tqi_noprev, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, tqi_putter, NULL), 0);
	do {
		/* Released before any assertion can leave it waiting. */
		atomic_store(&tqi_looked, true);
		ck_assert_int_eq(strqset(tqi_wq, QHIWAT, 0,
		    looks % 2 == 0 ? 10 : 6), 0);
		if (looks % 2 == 0)
			noenable(tqi_wq);
		else
			enableok(tqi_wq);
		(void) canput(tqi_wq);
		ck_assert_int_eq(strqget(tqi_wq, QCOUNT, 0, &count), 0);
		if (count != 0 && count != 4 && count != 8)
			odd++;
		looks++;
	} while (!atomic_load(&tqi_done));
	pthread_join(t, NULL);
	ck_assert_int_eq(atomic_load(&tqi_noprev), 0);
	ck_assert_int_eq(odd, 0);
	ck_assert_int_eq(strqset(tqi_wq, QHIWAT, 0, 6), 0);
	enableok(tqi_wq);
	/* perim_n is even: every message was taken off again. */
	ck_assert_int_eq(strqget(tqi_wq, QCOUNT, 0, &count), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_ptr_null(tqi_wq->q_first);
	ck_assert_int_eq(canput(tqi_wq), 1);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST


/*
 * Races of pop with enabling and with MT-safe puts, and SVR4's rules for
 * enabling, bands of high-priority messages, strqget and flushq's flag.
 */

/*
 * A pop (or close) whose qprocsoff runs while qenable is on its way to
 * posting the service event must leave no event behind on the pair it
 * frees.  The hook below runs the pop at the moment of the post, as a
 * preemption there would (sim executive): unless qenable still holds the
 * queue's lock, which qprocsoff would wait for.
 */
static const struct ust_exec_ops *prace_real;
static struct ust_exec_ops prace_hook;
static queue_t *prace_q;
static int prace_sd;
static bool prace_popped;

static void
prace_pop(void)
{
	prace_popped = true;
	ust_exec = prace_real;
	ck_assert_int_eq(ustreams_ioctl(prace_sd, I_POP), 0);
	ust_exec = &prace_hook;
}

static bool
prace_post(struct ust_event *ev, uint64_t when)
{
	/*
	 * The pop preempts qenable here -- unless qenable still holds the
	 * queue's lock, which the pop's qprocsoff would wait for.
	 */
	if (prace_q != NULL && ev == &QPRIV(prace_q)->qu_svc &&
	    atomic_load(&QPRIV(prace_q)->qu_lock.km_state) == 0) {
		prace_q = NULL;
		prace_pop();
	}
	return (prace_real->eo_post(ev, when));
}

START_TEST(qenable_racing_pop_leaves_no_event_on_the_freed_pair)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	prace_real = ust_exec;
	prace_hook = *prace_real;
	prace_hook.eo_post = prace_post;
	prace_sd = sd;
	prace_q = tqm_wq;
	ust_exec = &prace_hook;
	qenable(tqm_wq);		/* e.g. from the module's timeout */
	if (!prace_popped)
		prace_pop();		/* the pop ran after qenable */
	ust_exec = prace_real;
	/* The module is gone: the executive must hold nothing of its. */
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	ustreams_close(sd);
}
END_TEST

/*
 * Popping an MT-safe module whose put procedure is still running (it
 * entered before the pop; putnext's RCU section keeps the pair alive):
 * its close waits until the put procedure has returned (qprocsoff's
 * promise), and the message the procedure queues late is passed on, not
 * freed with the pair.
 */
static atomic_int late_inside, late_closed, late_delivered;
static atomic_int late_closed_inside;
static queue_t *late_wq;

static int
late_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	late_wq = WR(q);
	return (0);
}

static int
late_close(queue_t *q, int oflag, cred_t *crp)
{
	atomic_store(&late_closed, 1);
	return (0);
}

static int
late_wput(queue_t *q, mblk_t *mp)
{
	if (MBLKL(mp) > 0 && mp->b_rptr[0] == 'L') {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		atomic_store(&late_inside, 1);
		nanosleep(&ts, NULL);	/* the pop has begun by now */
		if (atomic_load(&late_closed) != 0)
			atomic_store(&late_closed_inside, 1);
		if (!putq(q, mp))
			freemsg(mp);
		return (0);
	}
	putnext(q, mp);
	return (0);
}

static int
late_wsrv(queue_t *q)
{
	mblk_t *mp;

	while ((mp = getq(q)) != NULL)
		putnext(q, mp);
	return (0);
}

static struct module_info late_minfo = {
	0x7107, "tq_a2", 0, INFPSZ, 1024, 256
};
static struct qinit late_rinit = {
	pass_put, NULL, late_open, late_close, NULL, &late_minfo, NULL
};
static struct qinit late_winit = {
	late_wput, late_wsrv, NULL, NULL, NULL, &late_minfo, NULL
};
static struct streamtab late_info = { &late_rinit, &late_winit, NULL, NULL };

static int
sink_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return (0);
}

static int
sink_put(queue_t *q, mblk_t *mp)
{
	if (MBLKL(mp) > 0 && mp->b_rptr[0] == 'L')
		atomic_fetch_add(&late_delivered, 1);
	freemsg(mp);
	return (0);
}

static struct module_info sink_minfo = {
	0x7108, "tq_sink", 0, INFPSZ, 1024, 256
};
static struct qinit sink_rinit = {
	sink_put, NULL, sink_open, NULL, NULL, &sink_minfo, NULL
};
static struct qinit sink_winit = {
	sink_put, NULL, NULL, NULL, NULL, &sink_minfo, NULL
};
static struct streamtab sink_info = { &sink_rinit, &sink_winit, NULL, NULL };

/*
 * The senders run on threads of their own: they make their message
 * without mktag, which asserts, and record a failure instead
 * (HELPER_CHECK).
 */
static mblk_t *
mklate(void)
{
	mblk_t *mp = allocb(1, BPRI_HI);

	if (!HELPER_CHECK(mp != NULL, "allocb(1, BPRI_HI) failed"))
		return (NULL);
	*mp->b_wptr++ = 'L';
	return (mp);
}

static void *
late_sender(void *arg)
{
	mblk_t *mp = mklate();

	if (mp != NULL)
		putnext((queue_t *)arg, mp);
	return (NULL);
}

static void *
late_putter(void *arg)
{
	mblk_t *mp = mklate();

	if (mp != NULL)
		put((queue_t *)arg, mp);
	return (NULL);
}

/*
 * Open tq_sink with the MT-safe tq_a2 pushed, start sender on a thread of
 * its own with tq_a2's write queue (by_put) or the stream head's (else),
 * and pop tq_a2 while the sender's message is inside its put procedure:
 * the pop's close must wait for the put procedure, and what it queued
 * must still reach the driver.
 */
static void
pop_while_a_put_procedure_runs(void *(*sender)(void *), bool by_put)
{
	pthread_t t;
	queue_t *q;
	int sd;

	atomic_store(&late_inside, 0);
	atomic_store(&late_closed, 0);
	atomic_store(&late_closed_inside, 0);
	atomic_store(&late_delivered, 0);
	boot_threads();
	tq_register();
	register_one(ustreams_register_module("tq_a2", &late_info,
	    USTREAMS_MTSAFE));
	register_one(ustreams_register_driver("tq_sink", &sink_info, 0));
	sd = ustreams_open("tq_sink", O_RDWR);
	ck_assert_int_ge(sd, 0);
	push(sd, "tq_a2");
	q = by_put ? late_wq : backq(late_wq);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(pthread_create(&t, NULL, sender, q), 0);
	/* A sender that had no message stops: then nothing comes inside. */
	while (atomic_load(&late_inside) == 0 && !harness_helper_failed())
		sched_yield();
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP), 0);
	pthread_join(t, NULL);
	harness_helpers_check();
	ck_assert_int_eq(atomic_load(&late_closed), 1);
	ck_assert_msg(atomic_load(&late_closed_inside) == 0,
	    "close ran while the put procedure was still running");
	ck_assert_int_eq(atomic_load(&late_delivered), 1);
	ustreams_close(sd);
}

START_TEST(pop_of_an_mtsafe_module_passes_on_a_message_it_queues_late)
{
	pop_while_a_put_procedure_runs(late_sender, false);
}
END_TEST

/*
 * The same with the message given to the module's write queue by put (a
 * thread outside any put procedure): put, like putnext, keeps the pair
 * alive until the put procedure returns, so the pop's close waits for it.
 */
START_TEST(pop_waits_for_an_mtsafe_put_procedure_entered_by_put)
{
	pop_while_a_put_procedure_runs(late_putter, true);
}
END_TEST

/*
 * Popping a module passes on what it still queues; a reply that comes back
 * up into it meanwhile (the driver answers what was passed on) goes past
 * it to the stream head: its put procedure is not called once its close
 * has run.
 */
START_TEST(pop_passes_a_reply_arriving_during_close_past_the_module)
{
	int sd = tq_start();
	char buf[16];

	push(sd, "tq_mod");
	tq_echo = true;
	ck_assert_int_eq(putq(tqm_wq, mktag(M_DATA, 0, "e1")), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP), 0);
	ck_assert_int_eq(tq_nlog, 1);
	ck_assert_int_eq(tq_log[0].pr_b0, 'e');
	ck_assert(tqm_closed);
	ck_assert_int_eq(tqm_puts_after_close, 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 2);
	ck_assert_mem_eq(buf, "e1", 2);
	ustreams_close(sd);
}
END_TEST

/*
 * putbq enables the queue when it wants reading (QWANTR) and noenable has
 * not been called, as on SVR4: a message put back after the service
 * procedure found the queue empty (from a bufcall or timeout callback,
 * say) is not stranded.
 */
START_TEST(putbq_enables_a_queue_its_service_found_empty)
{
	int sd = tq_start();

	srv_finds_empty();
	ck_assert_int_eq(putbq(tq_wq, mklen(M_DATA, 0, 1)), 1);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(tq_srvruns[1], 2);
	ck_assert_int_eq(qsize(tq_wq), 0);
	ustreams_close(sd);
}
END_TEST

/*
 * putctl, putctl1, putnextctl, putnextctl1 refuse the data types but
 * M_DELAY, whose parameter is the delay (SVR4).
 */
START_TEST(putctl_family_accepts_m_delay)
{
	int sd = tq_start();

	push(sd, "tq_mod");
	ck_assert_int_eq(putctl1(tq_wq, M_DELAY, 10), 1);
	ck_assert_int_eq(putnextctl1(tqm_wq, M_DELAY, 10), 1);
	ck_assert_int_eq(tq_nlog, 2);
	ck_assert_int_eq(tq_log[0].pr_type, M_DELAY);
	ustreams_close(sd);
}
END_TEST

/* A high-priority message has no band: putq sets b_band to 0 (SVR4). */
START_TEST(putq_zeroes_the_band_of_a_high_priority_message)
{
	int sd = tq_start();
	mblk_t *mp;

	put(tq_wq, mklen(M_PCPROTO, 3, 1));
	mp = getq(tq_wq);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(mp->b_band, 0);
	freemsg(mp);
	ustreams_close(sd);
}
END_TEST

/* strqget(QFIRST, 0) is q_first, banded or not (SVR4). */
START_TEST(strqget_qfirst_band0_is_q_first)
{
	int sd = tq_start();
	mblk_t *mp;

	put(tq_wq, mktag(M_DATA, 1, "b1"));
	put(tq_wq, mktag(M_DATA, 0, "n1"));
	ck_assert_int_eq(strqget(tq_wq, QFIRST, 0, &mp), 0);
	ck_assert_ptr_eq(mp, tq_wq->q_first);
	ustreams_close(sd);
}
END_TEST

/* FLUSHDATA is 0, as on SVR4; any other flag is FLUSHALL. */
START_TEST(flushq_flag_zero_is_flushdata)
{
	int sd = tq_start();

	put(tq_wq, mktag(M_IOCTL, 0, "ioc"));
	put(tq_wq, mktag(M_DATA, 0, "dat"));
	flushq(tq_wq, 0);
	ck_assert_str_eq(qtags(tq_wq), "ioc");
	ustreams_close(sd);
}
END_TEST

/*
 * strqget of a band's packet size is EINVAL (a band has none); a band
 * structure that cannot be allocated is EAGAIN (SVR4).
 */
START_TEST(strqget_band_packet_size_and_alloc_failure_errors)
{
	int sd = tq_start();
	ssize_t ssz;
	mblk_t *held = NULL, *mp;

	ck_assert_int_eq(strqget(tq_wq, QMAXPSZ, 1, &ssz), EINVAL);
	while ((mp = allocb(1, BPRI_HI)) != NULL) {
		mp->b_cont = held;
		held = mp;
	}
	ck_assert_int_eq(strqset(tq_wq, QHIWAT, 255, 1), EAGAIN);
	freemsg(held);
	ustreams_close(sd);
}
END_TEST

/*
 * strqget of a band whose structure cannot be allocated is EAGAIN, and
 * leaves the queue as it was: usable once memory is back.
 */
START_TEST(strqget_eagain_leaves_the_queue_usable)
{
	int sd = tq_start();
	mblk_t *held = NULL, *mp;
	size_t sz = 12345;

	while ((mp = allocb(1, BPRI_HI)) != NULL) {
		mp->b_cont = held;
		held = mp;
	}
	ck_assert_int_eq(strqget(tq_wq, QHIWAT, 255, &sz), EAGAIN);
	ck_assert_uint_eq(sz, 12345);
	freemsg(held);
	put(tq_wq, mktag(M_DATA, 0, "n1"));
	ck_assert_str_eq(qtags(tq_wq), "n1");
	ck_assert_int_eq(strqget(tq_wq, QHIWAT, 255, &sz), 0);
	ck_assert_uint_eq(sz, 1024);
	getq_free(tq_wq);
	ustreams_close(sd);
}
END_TEST

static Suite *
queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *to = harness_tcase("ordering", 30);
	TCase *tf = harness_tcase("flow control", 30);
	TCase *te = harness_tcase("enabling", 30);
	TCase *tp = harness_tcase("putting", 30);
	TCase *tt = harness_tcase("threads", 300);

	tcase_add_test(to,
	    queue_orders_high_priority_then_bands_descending_then_normal);
	tcase_add_test(to, queue_keeps_arrival_order_within_each_class);
	tcase_add_test(to, high_priority_message_ignores_its_band_for_ordering);
	tcase_add_test(to, getq_takes_messages_in_queue_order);
	tcase_add_test(to, putbq_puts_back_at_the_front_of_its_class);
	tcase_add_test(to,
	    insq_out_of_order_is_refused_and_the_message_not_queued);
	tcase_add_test(to, insq_in_order_is_accepted_where_asked);
	tcase_add_test(to, rmvq_takes_a_message_from_the_middle);
	tcase_add_test(to,
	    flushband_removes_only_that_band_and_keeps_the_order);
	tcase_add_test(to,
	    flushband_flushdata_keeps_the_bands_control_messages);
	tcase_add_test(to, flushq_flushdata_keeps_messages_that_are_not_data);
	tcase_add_test(to, flushq_flushall_removes_every_message);
	tcase_add_test(to, qsize_counts_messages_not_blocks);
	suite_add_tcase(s, to);

	tcase_add_test(tf, q_count_is_the_bytes_of_band_zero_and_high_priority);
	tcase_add_test(tf, queue_is_full_exactly_at_q_hiwat);
	tcase_add_test(tf, canput_fails_while_full_and_sets_qwantw);
	tcase_add_test(tf, canputnext_looks_at_the_next_queue);
	tcase_add_test(tf,
	    getq_below_q_lowat_backenables_the_queue_behind_once);
	tcase_add_test(tf, backenable_skips_queues_without_a_service_procedure);
	tcase_add_test(tf, no_backenable_without_a_writer_waiting);
	tcase_add_test(tf, bcanput_follows_the_bands_own_water_mark);
	tcase_add_test(tf, getq_from_a_band_below_its_lowat_backenables);
	tcase_add_test(tf, strqget_reads_the_queue_fields);
	tcase_add_test(tf, strqget_reads_a_bands_fields);
	tcase_add_test(tf, strqset_sets_water_marks_and_packet_sizes);
	tcase_add_test(tf, a_new_band_takes_the_queues_water_marks);
	tcase_add_test(tf, strqset_of_read_only_fields_is_eperm);
	tcase_add_test(tf, strqset_and_strqget_of_bad_fields_are_einval);
	tcase_add_test(tf, strqget_eagain_leaves_the_queue_usable);
	suite_add_tcase(s, tf);

	tcase_add_test(te, noenable_stops_putq_enabling_but_for_high_priority);
	tcase_add_test(te, enableok_lets_putq_enable_again);
	tcase_add_test(te, qenable_after_noenable_still_schedules_the_queue);
	tcase_add_test(te,
	    putq_enables_a_queue_found_empty_by_its_service_once);
	tcase_add_test(te,
	    putq_does_not_enable_a_queue_its_service_left_non_empty);
	tcase_add_test(te, putq_enables_for_a_banded_message);
	tcase_add_test(te, putq_enables_for_a_high_priority_message);
	tcase_add_test(te, putbq_does_not_enable_but_for_high_priority);
	tcase_add_test(te,
	    insq_of_high_priority_enables_only_a_queue_that_wants_reading);
	tcase_add_test(te, insq_enables_an_ordinary_message_only_while_qwantr);
	tcase_add_test(te,
	    insq_does_not_enable_after_noenable_even_while_qwantr);
	tcase_add_test(te, qenable_of_an_enabled_queue_schedules_one_run);
	tcase_add_test(te, qenable_during_the_service_run_runs_it_again);
	tcase_add_test(te, service_procedures_run_in_service_context);
	suite_add_tcase(s, te);

	tcase_add_test(tp, put_calls_the_queues_put_procedure);
	tcase_add_test(tp, putnext_passes_to_the_next_queue);
	tcase_add_test(tp, putnext_from_the_last_queue_frees_the_message);
	tcase_add_test(tp, qreply_sends_the_message_back_the_other_way);
	tcase_add_test(tp, miocack_and_miocnak_answer_the_ioctl_in_place);
	tcase_add_test(tp, putctl_puts_an_empty_control_message);
	tcase_add_test(tp, putctl1_puts_a_control_message_with_its_parameter);
	tcase_add_test(tp, putctl_family_refuses_data_types);
	tcase_add_test(tp, putnextctl_and_putnextctl1_put_to_the_next_queue);
	tcase_add_test(tp, backq_finds_the_queue_behind);
	tcase_add_test(tp, samestr_is_true_between_queues_of_one_direction);
	tcase_add_test(tp, rd_wr_otherq_find_the_pairs_queues);
	tcase_add_test(tp, put_into_a_busy_perimeter_runs_after_in_order);
	tcase_add_test(tp,
	    put_into_an_mtsafe_pair_runs_at_once_even_from_inside);
	tcase_add_test(tp,
	    messages_waiting_on_a_busy_perimeter_count_against_flow_control);
	suite_add_tcase(s, tp);

	tcase_add_test(tt,
	    service_procedure_never_runs_concurrently_with_itself);
	tcase_add_test(tt,
	    non_mtsafe_procedures_never_overlap_and_keep_put_order);
	tcase_add_test(tt,
	    queue_calls_from_outside_a_perimeter_are_safe_against_its_procedures);
	suite_add_tcase(s, tt);

	{
		TCase *tr = harness_tcase("pop races and SVR4 rules", 60);

		tcase_add_test(tr,
		    qenable_racing_pop_leaves_no_event_on_the_freed_pair);
		tcase_add_test(tr,
		    pop_of_an_mtsafe_module_passes_on_a_message_it_queues_late);
		tcase_add_test(tr,
		    pop_waits_for_an_mtsafe_put_procedure_entered_by_put);
		tcase_add_test(tr,
		    pop_passes_a_reply_arriving_during_close_past_the_module);
		tcase_add_test(tr,
		    putbq_enables_a_queue_its_service_found_empty);
		tcase_add_test(tr, putctl_family_accepts_m_delay);
		tcase_add_test(tr,
		    putq_zeroes_the_band_of_a_high_priority_message);
		tcase_add_test(tr, strqget_qfirst_band0_is_q_first);
		tcase_add_test(tr, flushq_flag_zero_is_flushdata);
		tcase_add_test(tr,
		    strqget_band_packet_size_and_alloc_failure_errors);
		suite_add_tcase(s, tr);
	}
	return (s);
}

int
main(void)
{
	return (harness_run(queue_suite()));
}
