/*
 * The stream head, through the application calls: ustreams_open, _close,
 * _read, _write, _getmsg, _getpmsg, _putmsg, _putpmsg, _ioctl, _poll and
 * _pollfd, and what the head does with the messages that reach it from
 * below (M_DATA, M_PROTO, M_PCPROTO, M_ERROR, M_HANGUP, M_UNHANGUP,
 * M_FLUSH, M_SETOPTS, M_IOCACK, M_IOCNAK).
 *
 * The contract is SVR4's: read(2), write(2), getmsg(2), putmsg(2),
 * poll(2) and streamio(7) of SVR4/SVR5 (the illumos pages say the same).
 * Tests run under the sim executive unless their name says otherwise:
 * nothing runs behind the test's back, and a wait moves the virtual clock
 * only as far as the event that ends it.
 *
 * The test driver "tsh_drv" is the bottom of most streams.  Its open
 * stores its queues in tsh_rq and tsh_wq; a test plays the driver sending
 * upstream by putnext(tsh_rq, ...).  Its write put procedure queues
 * M_DATA, M_PROTO and M_PCPROTO (there is no service procedure: the test
 * looks at them with getq), or echoes them back up (tsh_echo); handles
 * M_FLUSH the canonical way (or frees it, with tsh_flush_ignore), noting
 * each one in tsh_flush[]; answers
 * M_IOCTL as tsh_ioc_mode says, noting what it got in tsh_ioc; and notes
 * any other message type in tsh_other[].  Its water marks are 1024 and
 * 256.
 *
 * The push/pop test runs a loop-back driver, "tsh_loop", under the
 * threads executive, with the pass-through module "tsh_pass".
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define	MEM_4M		(4u * 1024 * 1024)
#define	NS_PER_SEC	1000000000ull
#define	NS_PER_MS	1000000ull

/*
 * The test driver "tsh_drv".
 */
enum ioc_mode {
	IOC_ACK,		/* M_IOCACK: tsh_ioc_rval, tsh_ioc_reply */
	IOC_NAK,		/* M_IOCNAK: tsh_ioc_error */
	IOC_IGNORE,		/* free it: the ioctl times out */
	IOC_LATER		/* keep it; tsh_ack_late acks it (rval 9) */
};

struct flushrec {
	unsigned char	fr_flag;	/* first byte */
	int		fr_band;	/* second byte, -1 if none */
};

struct iocrec {
	int		ir_n;		/* M_IOCTLs seen */
	int		ir_cmd;
	size_t		ir_count;
	char		ir_data[64];
	int		ir_len;		/* bytes in b_cont */
};

static queue_t *tsh_rq, *tsh_wq;
static int tsh_opens, tsh_closes;
static bool tsh_echo;
static bool tsh_flush_ignore;		/* note M_FLUSH, then free it */
static struct flushrec tsh_flush[16];
static int tsh_nflush;
static struct iocrec tsh_ioc;
static enum ioc_mode tsh_ioc_mode;
static mblk_t *tsh_ioc_kept;		/* IOC_LATER */
static queue_t *tsh_ioc_keptq;
static int tsh_ioc_rval, tsh_ioc_error;
static size_t tsh_ioc_overcount;	/* IOC_ACK: claim this many more bytes */
static const char *tsh_ioc_reply;
static int tsh_other[256];

static int
tsh_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tsh_rq = q;
	tsh_wq = WR(q);
	tsh_opens++;
	return (0);
}

static int
tsh_close(queue_t *q, int oflag, cred_t *crp)
{
	tsh_closes++;
	tsh_rq = tsh_wq = NULL;
	return (0);
}

static void
tsh_ioctl(queue_t *q, mblk_t *mp)
{
	struct iocblk *ioc = (struct iocblk *)(void *)mp->b_rptr;
	mblk_t *bp;

	tsh_ioc.ir_n++;
	tsh_ioc.ir_cmd = ioc->ioc_cmd;
	tsh_ioc.ir_count = ioc->ioc_count;
	tsh_ioc.ir_len = 0;
	for (bp = mp->b_cont; bp != NULL; bp = bp->b_cont) {
		int n = (int)MBLKL(bp);

		if (n > (int)sizeof (tsh_ioc.ir_data) - tsh_ioc.ir_len)
			n = (int)sizeof (tsh_ioc.ir_data) - tsh_ioc.ir_len;
		memcpy(tsh_ioc.ir_data + tsh_ioc.ir_len, bp->b_rptr,
		    (size_t)n);
		tsh_ioc.ir_len += n;
	}
	switch (tsh_ioc_mode) {
	case IOC_IGNORE:
		freemsg(mp);
		return;
	case IOC_LATER:
		tsh_ioc_keptq = q;
		/* Published for a test thread that polls for it. */
		__atomic_store_n(&tsh_ioc_kept, mp, __ATOMIC_RELEASE);
		return;
	case IOC_NAK:
		DB_TYPE(mp) = M_IOCNAK;
		ioc->ioc_error = tsh_ioc_error;
		ioc->ioc_count = 0;
		freemsg(mp->b_cont);
		mp->b_cont = NULL;
		break;
	case IOC_ACK:
		DB_TYPE(mp) = M_IOCACK;
		ioc->ioc_rval = tsh_ioc_rval;
		ioc->ioc_error = 0;
		freemsg(mp->b_cont);
		mp->b_cont = NULL;
		ioc->ioc_count = 0;
		if (tsh_ioc_reply != NULL) {
			size_t len = strlen(tsh_ioc_reply);

			bp = allocb((int)len, BPRI_MED);
			if (bp != NULL) {
				memcpy(bp->b_wptr, tsh_ioc_reply, len);
				bp->b_wptr += len;
				mp->b_cont = bp;
				ioc->ioc_count = len + tsh_ioc_overcount;
			}
		}
		break;
	}
	qreply(q, mp);
}

static int
tsh_wput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA:
	case M_PROTO:
	case M_PCPROTO:
		if (tsh_echo)
			qreply(q, mp);
		else if (!putq(q, mp))
			freemsg(mp);
		break;
	case M_FLUSH:
		if (tsh_nflush < 16) {
			tsh_flush[tsh_nflush].fr_flag = *mp->b_rptr;
			tsh_flush[tsh_nflush].fr_band = MBLKL(mp) >= 2 ?
			    mp->b_rptr[1] : -1;
			tsh_nflush++;
		}
		if (tsh_flush_ignore)
			freemsg(mp);
		else
			harness_driver_flush(q, mp);
		break;
	case M_IOCTL:
		tsh_ioctl(q, mp);
		break;
	default:
		tsh_other[DB_TYPE(mp)]++;
		freemsg(mp);
		break;
	}
	return (0);
}

static int
pass_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info tsh_minfo = {
	0x7201, "tsh_drv", 0, INFPSZ, 1024, 256
};
static struct qinit tsh_rinit = {
	pass_put, NULL, tsh_open, tsh_close, NULL, &tsh_minfo, NULL
};
static struct qinit tsh_winit = {
	tsh_wput, NULL, NULL, NULL, NULL, &tsh_minfo, NULL
};
static struct streamtab tsh_info = { &tsh_rinit, &tsh_winit, NULL, NULL };

/* "tsh_fail": a driver whose open fails with EACCES. */
static int tshf_opens, tshf_closes;

static int
tshf_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	tshf_opens++;
	return (EACCES);
}

static int
tshf_close(queue_t *q, int oflag, cred_t *crp)
{
	tshf_closes++;
	return (0);
}

static struct module_info tshf_minfo = {
	0x7202, "tsh_fail", 0, INFPSZ, 1024, 256
};
static struct qinit tshf_rinit = {
	pass_put, NULL, tshf_open, tshf_close, NULL, &tshf_minfo, NULL
};
static struct qinit tshf_winit = {
	pass_put, NULL, NULL, NULL, NULL, &tshf_minfo, NULL
};
static struct streamtab tshf_info = {
	&tshf_rinit, &tshf_winit, NULL, NULL
};

/* "tsh_modA", "tsh_modB": pass-through modules that note their queues. */
static queue_t *moda_rq, *modb_rq;

static int
moda_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	moda_rq = q;
	return (0);
}

static int
modb_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	modb_rq = q;
	return (0);
}

static struct module_info moda_minfo = {
	0x7203, "tsh_modA", 0, INFPSZ, 1024, 256
};
static struct qinit moda_rinit = {
	pass_put, NULL, moda_open, NULL, NULL, &moda_minfo, NULL
};
static struct qinit moda_winit = {
	pass_put, NULL, NULL, NULL, NULL, &moda_minfo, NULL
};
static struct streamtab moda_info = {
	&moda_rinit, &moda_winit, NULL, NULL
};

static struct module_info modb_minfo = {
	0x7204, "tsh_modB", 0, INFPSZ, 1024, 256
};
static struct qinit modb_rinit = {
	pass_put, NULL, modb_open, NULL, NULL, &modb_minfo, NULL
};
static struct qinit modb_winit = {
	pass_put, NULL, NULL, NULL, NULL, &modb_minfo, NULL
};
static struct streamtab modb_info = {
	&modb_rinit, &modb_winit, NULL, NULL
};

/*
 * "tsh_loop": a loop-back driver (what is written comes back up), with
 * flow control both ways: its write queue holds what the stream above
 * cannot take yet, and its read service procedure, back-enabled when the
 * stream head drains, restarts the write side.
 */
static int
loop_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return (0);
}

static int
loop_wput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA:
		if (!putq(q, mp))
			freemsg(mp);
		break;
	case M_FLUSH:
		harness_driver_flush(q, mp);
		break;
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

static int
loop_wsrv(queue_t *q)
{
	mblk_t *mp;

	while ((mp = getq(q)) != NULL) {
		if (!canputnext(RD(q))) {
			(void) putbq(q, mp);
			break;
		}
		putnext(RD(q), mp);
	}
	return (0);
}

static int
loop_rsrv(queue_t *q)
{
	qenable(WR(q));
	return (0);
}

static struct module_info loop_minfo = {
	0x7205, "tsh_loop", 0, INFPSZ, 4096, 1024
};
static struct qinit loop_rinit = {
	pass_put, loop_rsrv, loop_open, NULL, NULL, &loop_minfo, NULL
};
static struct qinit loop_winit = {
	loop_wput, loop_wsrv, NULL, NULL, NULL, &loop_minfo, NULL
};
static struct streamtab loop_info = {
	&loop_rinit, &loop_winit, NULL, NULL
};

/*
 * "tsh_pass": a pass-through module, not MT-safe, that yields the CPU
 * after passing each message on, so that a thread stays a while in its
 * perimeter and others, arriving meanwhile, leave their messages there.
 */
static int
passmod_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return (0);
}

static int
passmod_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	sched_yield();
	return (0);
}

static struct module_info passmod_minfo = {
	0x7206, "tsh_pass", 0, INFPSZ, 1024, 256
};
static struct qinit passmod_rinit = {
	passmod_put, NULL, passmod_open, NULL, NULL, &passmod_minfo, NULL
};
static struct qinit passmod_winit = {
	passmod_put, NULL, NULL, NULL, NULL, &passmod_minfo, NULL
};
static struct streamtab passmod_info = {
	&passmod_rinit, &passmod_winit, NULL, NULL
};

/*
 * "tsh_svc": a module that queues everything (put procedures putq) and
 * passes it on from its service procedures, noting the thread each ran on.
 */
/* [0] the read side's, [1] the write side's: set once it has run. */
static _Atomic(pthread_t *) svc_ran[2];
static pthread_t svc_self[2];

static int
svcmod_put(queue_t *q, mblk_t *mp)
{
	(void) putq(q, mp);
	return (0);
}

static int
svcmod_srv(queue_t *q)
{
	int side = q->q_uread ? 0 : 1;
	mblk_t *mp;

	svc_self[side] = pthread_self();
	atomic_store(&svc_ran[side], &svc_self[side]);
	while ((mp = getq(q)) != NULL)
		putnext(q, mp);
	return (0);
}

static struct module_info svcmod_minfo = {
	0x7207, "tsh_svc", 0, INFPSZ, 1024, 256
};
static struct qinit svcmod_rinit = {
	svcmod_put, svcmod_srv, passmod_open, NULL, NULL, &svcmod_minfo,
	NULL
};
static struct qinit svcmod_winit = {
	svcmod_put, svcmod_srv, NULL, NULL, NULL, &svcmod_minfo, NULL
};
static struct streamtab svcmod_info = {
	&svcmod_rinit, &svcmod_winit, NULL, NULL
};

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
tsh_register(void)
{
	register_one(ustreams_register_driver("tsh_drv", &tsh_info, 0));
	register_one(ustreams_register_driver("tsh_fail", &tshf_info, 0));
	register_one(ustreams_register_module("tsh_modA", &moda_info, 0));
	register_one(ustreams_register_module("tsh_modB", &modb_info, 0));
	register_one(ustreams_register_driver("tsh_loop", &loop_info, 0));
	register_one(ustreams_register_module("tsh_pass", &passmod_info, 0));
	register_one(ustreams_register_module("tsh_svc", &svcmod_info, 0));
}

static void
tsh_reset(void)
{
	tsh_rq = tsh_wq = NULL;
	tsh_opens = tsh_closes = 0;
	tsh_echo = false;
	tsh_flush_ignore = false;
	tsh_nflush = 0;
	memset(tsh_flush, 0, sizeof (tsh_flush));
	memset(&tsh_ioc, 0, sizeof (tsh_ioc));
	tsh_ioc_mode = IOC_ACK;
	tsh_ioc_kept = NULL;
	tsh_ioc_keptq = NULL;
	tsh_ioc_rval = 0;
	tsh_ioc_overcount = 0;
	tsh_ioc_error = 0;
	tsh_ioc_reply = NULL;
	memset(tsh_other, 0, sizeof (tsh_other));
	tshf_opens = tshf_closes = 0;
	moda_rq = modb_rq = NULL;
}

static void
boot_sim(void)
{
	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	tsh_register();
	tsh_reset();
}

static int
open_drv(int oflag)
{
	int sd = ustreams_open("tsh_drv", O_RDWR | oflag);

	ck_assert_int_ge(sd, 0);
	ck_assert_ptr_nonnull(tsh_wq);
	return (sd);
}

/* Boot under sim and open a stream on tsh_drv. */
static int
start(int oflag)
{
	boot_sim();
	return (open_drv(oflag));
}

static mblk_t *
mkmsg(unsigned char type, unsigned char band, const void *data, size_t len)
{
	mblk_t *mp = allocb((int)len, BPRI_HI);

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = type;
	mp->b_band = band;
	if (len > 0)
		memcpy(mp->b_wptr, data, len);
	mp->b_wptr += len;
	return (mp);
}

/* The driver sends upstream. */
static void
up(mblk_t *mp)
{
	putnext(tsh_rq, mp);
}

static void
up_data(const char *s)
{
	up(mkmsg(M_DATA, 0, s, strlen(s)));
}

static void
up_band(unsigned char band, const char *s)
{
	up(mkmsg(M_DATA, band, s, strlen(s)));
}

/* A protocol message: a ctl block of type (and band), then data if any. */
static void
up_proto(unsigned char type, unsigned char band, const char *ctl,
    const char *data)
{
	mblk_t *mp = mkmsg(type, band, ctl, strlen(ctl));

	if (data != NULL)
		mp->b_cont = mkmsg(M_DATA, 0, data, strlen(data));
	up(mp);
}

static void
up_ctl1(unsigned char type, unsigned char b)
{
	up(mkmsg(type, 0, &b, 1));
}

static void
up_error2(unsigned char rerr, unsigned char werr)
{
	unsigned char b[2] = { rerr, werr };

	up(mkmsg(M_ERROR, 0, b, 2));
}

static void
up_setopts(const struct stroptions *so)
{
	up(mkmsg(M_SETOPTS, 0, so, sizeof (*so)));
}

/* Messages the stream head holds for the application (I_NREAD). */
static int
nread(int sd, int *firstp)
{
	int first = -1;
	int n = ustreams_ioctl(sd, I_NREAD, &first);

	if (firstp != NULL)
		*firstp = first;
	return (n);
}

/* Take the next message the driver queued; NULL if none. */
static mblk_t *
drv_getq(void)
{
	return (getq(tsh_wq));
}

/*
 * Take the next message the driver queued, which must be one block of
 * type, in band, of len bytes; free it.
 */
static void
drv_take_one(unsigned char type, unsigned char band, int len)
{
	mblk_t *mp = drv_getq();

	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(DB_TYPE(mp), type);
	ck_assert_int_eq(mp->b_band, band);
	ck_assert_int_eq(MBLKL(mp), len);
	ck_assert_ptr_null(mp->b_cont);
	freemsg(mp);
}

static void
expect_errno(long rc, int error)
{
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, error);
}

static uint64_t
now_ns(void)
{
	return (ustreams_now_ns());
}

/* ------------------------------------------------------------------ */
/* read */

START_TEST(rnorm_read_is_a_byte_stream_across_messages)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	up_data("abc");
	up_data("defg");
	ck_assert_int_eq(ustreams_read(sd, buf, 5), 5);
	ck_assert_mem_eq(buf, "abcde", 5);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 2);
	ck_assert_mem_eq(buf, "fg", 2);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(rmsgd_read_takes_one_message_and_discards_the_rest)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGD), 0);
	up_data("abcdef");
	up_data("xyz");
	ck_assert_int_eq(ustreams_read(sd, buf, 4), 4);
	ck_assert_mem_eq(buf, "abcd", 4);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 3);
	ck_assert_mem_eq(buf, "xyz", 3);
	ustreams_close(sd);
}
END_TEST

START_TEST(rmsgn_read_takes_one_message_and_keeps_the_rest)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGN), 0);
	up_data("abcdef");
	up_data("xyz");
	ck_assert_int_eq(ustreams_read(sd, buf, 4), 4);
	ck_assert_mem_eq(buf, "abcd", 4);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 2);
	ck_assert_mem_eq(buf, "ef", 2);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 3);
	ck_assert_mem_eq(buf, "xyz", 3);
	ustreams_close(sd);
}
END_TEST

START_TEST(rprotnorm_read_of_a_protocol_message_fails_ebadmsg)
{
	int sd = start(O_NONBLOCK);
	char buf[16];
	int first;

	up_proto(M_PROTO, 0, "ctl", "data");
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EBADMSG);
	/* The message stays for getmsg. */
	ck_assert_int_eq(nread(sd, &first), 1);
	ck_assert_int_eq(first, 4);
	ustreams_close(sd);
}
END_TEST

START_TEST(rprotdat_read_delivers_the_control_part_as_data)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RNORM | RPROTDAT), 0);
	up_proto(M_PROTO, 0, "ctl", "data");
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 7);
	ck_assert_mem_eq(buf, "ctldata", 7);
	ustreams_close(sd);
}
END_TEST

START_TEST(rprotdis_read_discards_the_control_part)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RNORM | RPROTDIS), 0);
	up_proto(M_PROTO, 0, "ctl", "data");
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 4);
	ck_assert_mem_eq(buf, "data", 4);
	ustreams_close(sd);
}
END_TEST

/*
 * A read whose buffer fills with a message's last byte takes the whole
 * message, even when empty blocks follow that byte (the empty data part
 * of a protocol message; an empty block a driver linked at the end):
 * no zero-length rest is left for the next read to return as 0, which an
 * application takes for end of file.
 */
START_TEST(read_that_takes_every_byte_leaves_no_empty_rest)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";
	mblk_t *mp;

	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGN | RPROTDAT), 0);
	up_proto(M_PROTO, 0, "ctl", "");
	mp = mkmsg(M_DATA, 0, "abc", 3);
	mp->b_cont = mkmsg(M_DATA, 0, "", 0);
	up(mp);
	ck_assert_int_eq(ustreams_read(sd, buf, 3), 3);
	ck_assert_mem_eq(buf, "ctl", 3);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ck_assert_int_eq(ustreams_read(sd, buf, 3), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_int_eq(nread(sd, NULL), 0);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	ustreams_close(sd);
}
END_TEST

START_TEST(read_of_a_zero_length_message_returns_0_and_removes_it)
{
	int sd = start(O_NONBLOCK);
	char buf[16];

	up_data("");
	ck_assert_int_eq(nread(sd, NULL), 1);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(rnorm_read_stops_at_a_zero_length_message_and_leaves_it)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	up_data("abc");
	up_data("");
	up_data("def");
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_int_eq(nread(sd, NULL), 2);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 3);
	ck_assert_mem_eq(buf, "def", 3);
	ustreams_close(sd);
}
END_TEST

START_TEST(nonblocking_read_with_nothing_queued_fails_eagain)
{
	int sd = start(O_NONBLOCK);
	char buf[16];

	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	ustreams_close(sd);
}
END_TEST

static void
send_late(void *arg)
{
	up_data(arg);
}

START_TEST(blocking_read_waits_for_data_on_the_virtual_clock)
{
	int sd = start(0);
	char buf[16] = "";
	uint64_t t0 = now_ns();

	(void) timeout(send_late, "late", 2 * HZ);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 4);
	ck_assert_mem_eq(buf, "late", 4);
	ck_assert_uint_eq(now_ns() - t0, 2 * NS_PER_SEC);
	ustreams_close(sd);
}
END_TEST

static void
send_hangup_late(void *arg)
{
	(void) arg;
	up(mkmsg(M_HANGUP, 0, NULL, 0));
}

static void
send_error_late(void *arg)
{
	(void) arg;
	up_ctl1(M_ERROR, EIO);
}

/* A reader asleep for data is woken by what ends the wait, at once. */
START_TEST(blocking_read_is_woken_by_a_hangup_and_returns_0)
{
	int sd = start(0);
	char buf[16];
	uint64_t t0 = now_ns();

	(void) timeout(send_hangup_late, NULL, 2 * HZ);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
	ck_assert_uint_eq(now_ns() - t0, 2 * NS_PER_SEC);
	ustreams_close(sd);
}
END_TEST

START_TEST(blocking_read_is_woken_by_an_m_error_and_fails_with_it)
{
	int sd = start(0);
	char buf[16];
	uint64_t t0 = now_ns();

	(void) timeout(send_error_late, NULL, 2 * HZ);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EIO);
	ck_assert_uint_eq(now_ns() - t0, 2 * NS_PER_SEC);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* getmsg, getpmsg */

START_TEST(getmsg_returns_the_control_and_data_parts)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16] = "", dbuf[16] = "";
	struct strbuf ctl = { sizeof (cbuf), 0, cbuf };
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int flags = 0;

	up_proto(M_PROTO, 0, "CTRL", "payload");
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, 4);
	ck_assert_mem_eq(cbuf, "CTRL", 4);
	ck_assert_int_eq(data.len, 7);
	ck_assert_mem_eq(dbuf, "payload", 7);
	ck_assert_int_eq(flags, 0);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_of_a_data_message_has_no_control_part)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16], dbuf[16] = "";
	struct strbuf ctl = { sizeof (cbuf), 99, cbuf };
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int flags = 0;

	up_data("plain");
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, -1);
	ck_assert_int_eq(data.len, 5);
	ck_assert_mem_eq(dbuf, "plain", 5);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_of_a_high_priority_message_sets_rs_hipri)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16] = "";
	struct strbuf ctl = { sizeof (cbuf), 0, cbuf };
	int flags = 0;

	up_data("normal");
	up_proto(M_PCPROTO, 0, "urgent", NULL);
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, NULL, &flags), 0);
	ck_assert_int_eq(flags, RS_HIPRI);
	ck_assert_int_eq(ctl.len, 6);
	ck_assert_mem_eq(cbuf, "urgent", 6);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_rs_hipri_takes_only_a_high_priority_message)
{
	int sd = start(O_NONBLOCK);
	char dbuf[16];
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int flags = RS_HIPRI;

	up_data("normal");
	expect_errno(ustreams_getmsg(sd, NULL, &data, &flags), EAGAIN);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_morectl_leaves_the_rest_of_the_control_part)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16] = "", dbuf[16] = "";
	struct strbuf ctl = { 2, 0, cbuf };
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int flags = 0;

	up_proto(M_PROTO, 0, "CTRL", "payload");
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), MORECTL);
	ck_assert_int_eq(ctl.len, 2);
	ck_assert_mem_eq(cbuf, "CT", 2);
	/* The data part is taken in the same call (SVR4 strgetmsg). */
	ck_assert_int_eq(data.len, 7);
	ck_assert_mem_eq(dbuf, "payload", 7);
	ctl.maxlen = sizeof (cbuf);
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, 2);
	ck_assert_mem_eq(cbuf, "RL", 2);
	ck_assert_int_eq(data.len, -1);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_moredata_leaves_the_rest_of_the_data_part)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16] = "", dbuf[16] = "";
	struct strbuf ctl = { sizeof (cbuf), 0, cbuf };
	struct strbuf data = { 3, 0, dbuf };
	int flags = 0;

	up_proto(M_PROTO, 0, "CTRL", "payload");
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), MOREDATA);
	ck_assert_int_eq(ctl.len, 4);
	ck_assert_int_eq(data.len, 3);
	ck_assert_mem_eq(dbuf, "pay", 3);
	data.maxlen = sizeof (dbuf);
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, -1);
	ck_assert_int_eq(data.len, 4);
	ck_assert_mem_eq(dbuf, "load", 4);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_with_bad_flags_is_einval)
{
	int sd = start(O_NONBLOCK);
	int flags = MSG_ANY;

	up_data("x");
	expect_errno(ustreams_getmsg(sd, NULL, NULL, &flags), EINVAL);
	expect_errno(ustreams_getmsg(sd, NULL, NULL, NULL), EINVAL);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(getpmsg_msg_any_reports_class_and_band)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16], dbuf[16];
	struct strbuf ctl = { sizeof (cbuf), 0, cbuf };
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int band, flags;

	up_data("n");
	up_band(3, "b3");
	up_proto(M_PCPROTO, 0, "h", NULL);
	band = 9;
	flags = MSG_ANY;
	ck_assert_int_eq(ustreams_getpmsg(sd, &ctl, &data, &band, &flags), 0);
	ck_assert_int_eq(flags, MSG_HIPRI);
	ck_assert_int_eq(band, 0);
	ck_assert_int_eq(ctl.len, 1);
	ck_assert_int_eq(data.len, -1);
	flags = MSG_ANY;
	ck_assert_int_eq(ustreams_getpmsg(sd, &ctl, &data, &band, &flags), 0);
	ck_assert_int_eq(flags, MSG_BAND);
	ck_assert_int_eq(band, 3);
	ck_assert_int_eq(ctl.len, -1);
	ck_assert_int_eq(data.len, 2);
	flags = MSG_ANY;
	ck_assert_int_eq(ustreams_getpmsg(sd, &ctl, &data, &band, &flags), 0);
	ck_assert_int_eq(flags, MSG_BAND);
	ck_assert_int_eq(band, 0);
	ck_assert_int_eq(data.len, 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_leaves_a_part_not_asked_for_on_the_queue)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16] = "", dbuf[16] = "";
	struct strbuf ctl = { sizeof (cbuf), 0, cbuf };
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int flags = 0;

	up_proto(M_PROTO, 0, "CTRL", "payload");
	ck_assert_int_eq(ustreams_getmsg(sd, NULL, &data, &flags), MORECTL);
	ck_assert_int_eq(data.len, 7);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, 4);
	ck_assert_mem_eq(cbuf, "CTRL", 4);
	ck_assert_int_eq(data.len, -1);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(getpmsg_msg_band_takes_only_a_band_at_least_as_high)
{
	int sd = start(O_NONBLOCK);
	char dbuf[16] = "";
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int band = 2, flags = MSG_BAND;

	up_band(1, "b1");
	expect_errno(ustreams_getpmsg(sd, NULL, &data, &band, &flags),
	    EAGAIN);
	up_band(3, "b3");
	band = 2;
	flags = MSG_BAND;
	ck_assert_int_eq(ustreams_getpmsg(sd, NULL, &data, &band, &flags), 0);
	ck_assert_int_eq(band, 3);
	ck_assert_int_eq(flags, MSG_BAND);
	ck_assert_mem_eq(dbuf, "b3", 2);
	ck_assert_int_eq(nread(sd, NULL), 1);
	/* A message of exactly the band asked for is taken too. */
	up_band(2, "b2");
	band = 2;
	flags = MSG_BAND;
	ck_assert_int_eq(ustreams_getpmsg(sd, NULL, &data, &band, &flags), 0);
	ck_assert_int_eq(band, 2);
	ck_assert_int_eq(flags, MSG_BAND);
	ck_assert_mem_eq(dbuf, "b2", 2);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(getpmsg_msg_hipri_takes_only_a_high_priority_message)
{
	int sd = start(O_NONBLOCK);
	char cbuf[16] = "";
	struct strbuf ctl = { sizeof (cbuf), 0, cbuf };
	int band = 0, flags = MSG_HIPRI;

	up_band(5, "b5");
	expect_errno(ustreams_getpmsg(sd, &ctl, NULL, &band, &flags), EAGAIN);
	up_proto(M_PCPROTO, 0, "hi", NULL);
	flags = MSG_HIPRI;
	ck_assert_int_eq(ustreams_getpmsg(sd, &ctl, NULL, &band, &flags), 0);
	ck_assert_int_eq(flags, MSG_HIPRI);
	ck_assert_int_eq(ctl.len, 2);
	ck_assert_mem_eq(cbuf, "hi", 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(getpmsg_with_bad_flags_is_einval)
{
	int sd = start(O_NONBLOCK);
	int band = 0, flags;

	up_data("x");
	flags = 0;
	expect_errno(ustreams_getpmsg(sd, NULL, NULL, &band, &flags), EINVAL);
	flags = MSG_HIPRI | MSG_BAND;
	expect_errno(ustreams_getpmsg(sd, NULL, NULL, &band, &flags), EINVAL);
	flags = MSG_BAND;
	expect_errno(ustreams_getpmsg(sd, NULL, NULL, NULL, &flags), EINVAL);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* putmsg, putpmsg, write */

START_TEST(putmsg_sends_an_m_proto_control_part_and_m_data_part)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, 3, "hdr" };
	struct strbuf data = { 0, 4, "body" };
	mblk_t *mp;

	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, &data, 0), 0);
	mp = drv_getq();
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(DB_TYPE(mp), M_PROTO);
	ck_assert_int_eq(mp->b_band, 0);
	ck_assert_int_eq(MBLKL(mp), 3);
	ck_assert_mem_eq(mp->b_rptr, "hdr", 3);
	ck_assert_ptr_nonnull(mp->b_cont);
	ck_assert_int_eq(DB_TYPE(mp->b_cont), M_DATA);
	ck_assert_int_eq(MBLKL(mp->b_cont), 4);
	ck_assert_mem_eq(mp->b_cont->b_rptr, "body", 4);
	ck_assert_ptr_null(mp->b_cont->b_cont);
	freemsg(mp);
	ustreams_close(sd);
}
END_TEST

START_TEST(putmsg_rs_hipri_sends_m_pcproto)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, 2, "pc" };

	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, NULL, RS_HIPRI), 0);
	drv_take_one(M_PCPROTO, 0, 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(putmsg_of_data_only_sends_m_data)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, -1, NULL };
	struct strbuf data = { 0, 4, "body" };

	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, &data, 0), 0);
	drv_take_one(M_DATA, 0, 4);
	ustreams_close(sd);
}
END_TEST

START_TEST(putmsg_of_a_zero_length_data_part_sends_a_zero_length_message)
{
	int sd = start(O_NONBLOCK);
	struct strbuf data = { 0, 0, "" };

	ck_assert_int_eq(ustreams_putmsg(sd, NULL, &data, 0), 0);
	drv_take_one(M_DATA, 0, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(putmsg_rs_hipri_with_a_zero_length_control_part_is_sent)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, 0, "" };

	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, NULL, RS_HIPRI), 0);
	drv_take_one(M_PCPROTO, 0, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(putmsg_with_neither_part_sends_nothing_and_returns_0)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, -1, NULL };
	struct strbuf data = { 0, -1, NULL };

	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, &data, 0), 0);
	ck_assert_int_eq(ustreams_putmsg(sd, NULL, NULL, 0), 0);
	ck_assert_int_eq(ustreams_putpmsg(sd, NULL, NULL, 2, MSG_BAND), 0);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(putmsg_einval_cases)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, 2, "pc" };
	struct strbuf data = { 0, 4, "body" };

	/* RS_HIPRI needs a control part. */
	expect_errno(ustreams_putmsg(sd, NULL, &data, RS_HIPRI), EINVAL);
	/* Flags other than 0 and RS_HIPRI. */
	expect_errno(ustreams_putmsg(sd, &ctl, &data, MSG_BAND), EINVAL);
	/* putpmsg: MSG_HIPRI with a band, MSG_ANY, a band above 255. */
	expect_errno(ustreams_putpmsg(sd, &ctl, &data, 1, MSG_HIPRI), EINVAL);
	expect_errno(ustreams_putpmsg(sd, &ctl, &data, 0, MSG_ANY), EINVAL);
	expect_errno(ustreams_putpmsg(sd, &ctl, &data, 256, MSG_BAND),
	    EINVAL);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(putpmsg_msg_band_sends_in_the_band)
{
	int sd = start(O_NONBLOCK);
	struct strbuf data = { 0, 2, "b3" };

	ck_assert_int_eq(ustreams_putpmsg(sd, NULL, &data, 3, MSG_BAND), 0);
	drv_take_one(M_DATA, 3, 2);
	/* 255, the highest band, is a band. */
	ck_assert_int_eq(ustreams_putpmsg(sd, NULL, &data, 255, MSG_BAND), 0);
	drv_take_one(M_DATA, 255, 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(putmsg_data_outside_the_packet_sizes_below_is_erange)
{
	int sd = start(O_NONBLOCK);
	struct strbuf big = { 0, 11, "01234567890" };
	struct strbuf small = { 0, 1, "0" };
	struct strbuf fits = { 0, 10, "0123456789" };

	ck_assert_int_eq(strqset(tsh_wq, QMAXPSZ, 0, 10), 0);
	ck_assert_int_eq(strqset(tsh_wq, QMINPSZ, 0, 2), 0);
	expect_errno(ustreams_putmsg(sd, NULL, &big, 0), ERANGE);
	expect_errno(ustreams_putmsg(sd, NULL, &small, 0), ERANGE);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ck_assert_int_eq(ustreams_putmsg(sd, NULL, &fits, 0), 0);
	ck_assert_int_eq(qsize(tsh_wq), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(write_splits_at_the_packet_size_of_the_queue_below)
{
	int sd = start(O_NONBLOCK);
	mblk_t *mp;

	ck_assert_int_eq(strqset(tsh_wq, QMAXPSZ, 0, 4), 0);
	ck_assert_int_eq(ustreams_write(sd, "abcdefghij", 10), 10);
	ck_assert_int_eq(qsize(tsh_wq), 3);
	mp = drv_getq();
	ck_assert_int_eq(DB_TYPE(mp), M_DATA);
	ck_assert_int_eq(MBLKL(mp), 4);
	ck_assert_mem_eq(mp->b_rptr, "abcd", 4);
	freemsg(mp);
	mp = drv_getq();
	ck_assert_int_eq(MBLKL(mp), 4);
	ck_assert_mem_eq(mp->b_rptr, "efgh", 4);
	freemsg(mp);
	mp = drv_getq();
	ck_assert_int_eq(MBLKL(mp), 2);
	ck_assert_mem_eq(mp->b_rptr, "ij", 2);
	freemsg(mp);
	ustreams_close(sd);
}
END_TEST

START_TEST(zero_length_write_sends_nothing_without_sndzero)
{
	int sd = start(O_NONBLOCK);
	int opt = -1;

	ck_assert_int_eq(ustreams_ioctl(sd, I_GWROPT, &opt), 0);
	ck_assert_int_eq(opt, 0);
	ck_assert_int_eq(ustreams_write(sd, "", 0), 0);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(zero_length_write_with_sndzero_sends_a_zero_length_message)
{
	int sd = start(O_NONBLOCK);
	int opt = -1;
	mblk_t *mp;

	ck_assert_int_eq(ustreams_ioctl(sd, I_SWROPT, SNDZERO), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GWROPT, &opt), 0);
	ck_assert_int_eq(opt, SNDZERO);
	ck_assert_int_eq(ustreams_write(sd, "", 0), 0);
	ck_assert_int_eq(qsize(tsh_wq), 1);
	mp = drv_getq();
	ck_assert_int_eq(DB_TYPE(mp), M_DATA);
	ck_assert_int_eq(msgdsize(mp), 0);
	freemsg(mp);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_swropt_with_unknown_bits_is_einval)
{
	int sd = start(O_NONBLOCK);
	int opt = -1;

	expect_errno(ustreams_ioctl(sd, I_SWROPT, 0x100), EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GWROPT, &opt), 0);
	ck_assert_int_eq(opt, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(nonblocking_write_to_a_full_stream_fails_eagain)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 10), 0);
	ck_assert_int_eq(ustreams_write(sd, "0123456789", 10), 10);
	expect_errno(ustreams_write(sd, "abc", 3), EAGAIN);
	ck_assert_int_eq(qsize(tsh_wq), 1);
	ck_assert_uint_eq(tsh_wq->q_count, 10);
	ustreams_close(sd);
}
END_TEST

START_TEST(nonblocking_write_returns_what_went_before_flow_control)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 8), 0);
	ck_assert_int_eq(strqset(tsh_wq, QMAXPSZ, 0, 4), 0);
	ck_assert_int_eq(ustreams_write(sd, "abcdefghijkl", 12), 8);
	ck_assert_int_eq(qsize(tsh_wq), 2);
	ustreams_close(sd);
}
END_TEST

static void
drain_driver(void *arg)
{
	mblk_t *mp;

	while ((mp = getq(tsh_wq)) != NULL)
		freemsg(mp);
}

START_TEST(blocking_write_waits_until_the_stream_below_drains)
{
	int sd = start(0);
	uint64_t t0;
	mblk_t *mp;

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 10), 0);
	ck_assert_int_eq(ustreams_write(sd, "0123456789", 10), 10);
	t0 = now_ns();
	(void) timeout(drain_driver, NULL, HZ / 2);
	ck_assert_int_eq(ustreams_write(sd, "abc", 3), 3);
	ck_assert_uint_eq(now_ns() - t0, 500 * NS_PER_MS);
	ck_assert_int_eq(qsize(tsh_wq), 1);
	mp = drv_getq();
	ck_assert_mem_eq(mp->b_rptr, "abc", 3);
	freemsg(mp);
	ustreams_close(sd);
}
END_TEST

/*
 * putmsg obeys flow control below the head as write does, but a
 * high-priority message ignores it (SVR4 putmsg(2)).
 */
START_TEST(nonblocking_putmsg_to_a_full_stream_fails_eagain_but_not_rs_hipri)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, 1, "c" };
	struct strbuf data = { 0, 1, "d" };
	struct strbuf hctl = { 0, 1, "h" };

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 10), 0);
	ck_assert_int_eq(ustreams_write(sd, "0123456789", 10), 10);
	expect_errno(ustreams_putmsg(sd, &ctl, &data, 0), EAGAIN);
	ck_assert_int_eq(ustreams_putmsg(sd, &hctl, NULL, RS_HIPRI), 0);
	ck_assert_int_eq(qsize(tsh_wq), 2);
	drv_take_one(M_PCPROTO, 0, 1);
	drv_take_one(M_DATA, 0, 10);
	ustreams_close(sd);
}
END_TEST

START_TEST(blocking_putmsg_waits_until_the_stream_below_drains)
{
	int sd = start(0);
	struct strbuf data = { 0, 3, "abc" };
	uint64_t t0;
	mblk_t *mp;

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 10), 0);
	ck_assert_int_eq(ustreams_write(sd, "0123456789", 10), 10);
	t0 = now_ns();
	(void) timeout(drain_driver, NULL, HZ / 2);
	ck_assert_int_eq(ustreams_putmsg(sd, NULL, &data, 0), 0);
	ck_assert_uint_eq(now_ns() - t0, 500 * NS_PER_MS);
	ck_assert_int_eq(qsize(tsh_wq), 1);
	mp = drv_getq();
	ck_assert_int_eq(DB_TYPE(mp), M_DATA);
	ck_assert_mem_eq(mp->b_rptr, "abc", 3);
	freemsg(mp);
	ustreams_close(sd);
}
END_TEST

/* A periodic consumer for the driver's write queue: one message a tick. */
static int consumer_left;

static void
consume_one(void *arg)
{
	mblk_t *mp = getq(tsh_wq);

	(void) arg;
	freemsg(mp);
	if (--consumer_left > 0)
		(void) timeout(consume_one, NULL, 1);
}

/*
 * A blocking write larger than flow control lets through at once waits as
 * often as it must and writes it all (SVR4): 12 bytes in packets of 4,
 * one packet of room at a time, take three trips, each waiting for the
 * consumer's next tick.
 */
START_TEST(blocking_write_keeps_waiting_until_everything_is_written)
{
	int sd = start(0);
	uint64_t t0;

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 4), 0);
	ck_assert_int_eq(strqset(tsh_wq, QMAXPSZ, 0, 4), 0);
	consumer_left = 3;
	t0 = now_ns();
	(void) timeout(consume_one, NULL, 1);
	ck_assert_int_eq(ustreams_write(sd, "abcdefghijkl", 12), 12);
	/* The third packet went down at the second tick. */
	ck_assert_uint_eq(now_ns() - t0, 2 * 10 * NS_PER_MS);
	ck_assert_int_eq(qsize(tsh_wq), 1);
	ustreams_sim_run_idle();
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ustreams_close(sd);
}
END_TEST

/*
 * Close waits for banded messages to drain as for ordinary ones: each one
 * the driver takes wakes it (the band's count falls below its low-water
 * mark), and it returns as soon as the last is gone -- at the consumer's
 * third tick, not at the end of the close time.
 */
START_TEST(close_waits_for_banded_messages_until_the_driver_takes_them)
{
	struct strbuf data = { 0, 1, "b" };
	int sd = start(0);
	uint64_t t0;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ustreams_putpmsg(sd, NULL, &data, 1,
		    MSG_BAND), 0);
	ck_assert_int_eq(qsize(tsh_wq), 3);
	ck_assert_uint_eq(tsh_wq->q_count, 0);
	consumer_left = 3;
	t0 = now_ns();
	(void) timeout(consume_one, NULL, 1);
	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_uint_eq(now_ns() - t0, 3 * 10 * NS_PER_MS);
	ck_assert_int_eq(tsh_closes, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* M_ERROR, M_HANGUP */

START_TEST(read_error_fails_reads_and_flushes_queued_data)
{
	int sd = start(O_NONBLOCK);
	char buf[16];

	up_data("queued");
	up_ctl1(M_ERROR, EIO);
	ck_assert_int_eq(nread(sd, NULL), 0);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EIO);
	/* Persistent: again. */
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EIO);
	ustreams_close(sd);
}
END_TEST

START_TEST(read_error_flushes_the_heads_read_queue_itself)
{
	int sd = start(O_NONBLOCK);
	char buf[16];

	/* No M_FLUSH comes back up: the head flushes on its own. */
	tsh_flush_ignore = true;
	ck_assert_int_eq(ustreams_ioctl(sd, I_SERROPT, RERRNONPERSIST), 0);
	up_data("before");
	up_ctl1(M_ERROR, EIO);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EIO);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	ck_assert_int_eq(tsh_nflush, 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(one_byte_m_error_sets_both_sides_and_flushes_both_ways)
{
	int sd = start(O_NONBLOCK);
	char buf[16];
	struct strbuf data = { 0, 1, "x" };

	up_ctl1(M_ERROR, EPROTO);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EPROTO);
	expect_errno(ustreams_write(sd, "x", 1), EPROTO);
	expect_errno(ustreams_putmsg(sd, NULL, &data, 0), EPROTO);
	ck_assert_int_eq(tsh_nflush, 1);
	ck_assert_int_eq(tsh_flush[0].fr_flag, FLUSHRW);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(write_side_error_leaves_reads_alone)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	up_data("still here");
	up_error2(NOERROR, EPIPE);
	expect_errno(ustreams_write(sd, "x", 1), EPIPE);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 10);
	ck_assert_mem_eq(buf, "still here", 10);
	ck_assert_int_eq(tsh_nflush, 1);
	ck_assert_int_eq(tsh_flush[0].fr_flag, FLUSHW);
	ustreams_close(sd);
}
END_TEST

START_TEST(read_side_error_leaves_writes_alone)
{
	int sd = start(O_NONBLOCK);
	char buf[16];

	up_error2(ENOSPC, NOERROR);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), ENOSPC);
	ck_assert_int_eq(ustreams_write(sd, "ok", 2), 2);
	ck_assert_int_eq(tsh_nflush, 1);
	ck_assert_int_eq(tsh_flush[0].fr_flag, FLUSHR);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_error_of_0_clears_the_error)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	up_ctl1(M_ERROR, EIO);
	expect_errno(ustreams_write(sd, "x", 1), EIO);
	up_ctl1(M_ERROR, 0);
	ck_assert_int_eq(ustreams_write(sd, "x", 1), 1);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	up_data("new");
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 3);
	ustreams_close(sd);
}
END_TEST

START_TEST(two_byte_m_error_of_0_clears_one_side)
{
	int sd = start(O_NONBLOCK);
	char buf[16];

	up_ctl1(M_ERROR, EIO);
	up_error2(0, NOERROR);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	expect_errno(ustreams_write(sd, "x", 1), EIO);
	ustreams_close(sd);
}
END_TEST

START_TEST(nonpersistent_read_error_is_reported_once)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	ck_assert_int_eq(ustreams_ioctl(sd, I_SERROPT, RERRNONPERSIST), 0);
	up_ctl1(M_ERROR, EIO);
	up_data("after");
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EIO);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 5);
	ck_assert_mem_eq(buf, "after", 5);
	/* The write side keeps its error. */
	expect_errno(ustreams_write(sd, "x", 1), EIO);
	expect_errno(ustreams_write(sd, "x", 1), EIO);
	ustreams_close(sd);
}
END_TEST

START_TEST(nonpersistent_write_error_is_reported_once)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(ustreams_ioctl(sd, I_SERROPT,
	    RERRNORM | WERRNONPERSIST), 0);
	up_error2(NOERROR, EPIPE);
	expect_errno(ustreams_write(sd, "x", 1), EPIPE);
	ck_assert_int_eq(ustreams_write(sd, "x", 1), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_gerropt_reports_both_sides_options)
{
	int sd = start(O_NONBLOCK);
	int opt = -1;

	ck_assert_int_eq(ustreams_ioctl(sd, I_GERROPT, &opt), 0);
	ck_assert_int_eq(opt, RERRNORM | WERRNORM);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SERROPT, RERRNONPERSIST), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GERROPT, &opt), 0);
	ck_assert_int_eq(opt, RERRNONPERSIST | WERRNORM);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SERROPT,
	    RERRNORM | WERRNONPERSIST), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GERROPT, &opt), 0);
	ck_assert_int_eq(opt, RERRNORM | WERRNONPERSIST);
	expect_errno(ustreams_ioctl(sd, I_SERROPT, 0x40), EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(hangup_reads_queued_data_then_end_of_file)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";

	up_data("last");
	up(mkmsg(M_HANGUP, 0, NULL, 0));
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 4);
	ck_assert_mem_eq(buf, "last", 4);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(hangup_makes_getmsg_return_empty_parts_once_drained)
{
	int sd = start(O_NONBLOCK);
	char cbuf[8], dbuf[8];
	struct strbuf ctl = { sizeof (cbuf), 5, cbuf };
	struct strbuf data = { sizeof (dbuf), 5, dbuf };
	int flags = 0;

	up(mkmsg(M_HANGUP, 0, NULL, 0));
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, 0);
	ck_assert_int_eq(data.len, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(hangup_fails_writes_with_enxio)
{
	int sd = start(O_NONBLOCK);
	struct strbuf data = { 0, 1, "x" };

	up(mkmsg(M_HANGUP, 0, NULL, 0));
	expect_errno(ustreams_write(sd, "x", 1), ENXIO);
	expect_errno(ustreams_putmsg(sd, NULL, &data, 0), ENXIO);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(unhangup_restores_reads_and_writes)
{
	int sd = start(O_NONBLOCK);
	char buf[16];

	up(mkmsg(M_HANGUP, 0, NULL, 0));
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
	up(mkmsg(M_UNHANGUP, 0, NULL, 0));
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	ck_assert_int_eq(ustreams_write(sd, "x", 1), 1);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* M_FLUSH, I_FLUSH, I_FLUSHBAND, M_SETOPTS */

/*
 * A two-byte M_FLUSH without FLUSHBAND (as loop(7) sends one across) is a
 * flush of every band: its second byte is not a band to flush alone.
 */
START_TEST(m_flush_of_two_bytes_without_flushband_flushes_every_band)
{
	int sd = start(O_NONBLOCK);
	unsigned char fl[2] = { FLUSHR, 1 };

	up_data("zero");
	up_band(1, "one");
	up_band(2, "two");
	up(mkmsg(M_FLUSH, 0, fl, 2));
	ck_assert_int_eq(nread(sd, NULL), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_flush_flushr_from_below_flushes_the_heads_read_queue)
{
	int sd = start(O_NONBLOCK);

	up_data("one");
	up_band(2, "two");
	up_ctl1(M_FLUSH, FLUSHR);
	ck_assert_int_eq(nread(sd, NULL), 0);
	/* Nothing comes back down. */
	ck_assert_int_eq(tsh_nflush, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_flush_flushw_from_below_is_turned_around_without_flushr)
{
	int sd = start(O_NONBLOCK);

	up_data("one");
	up_ctl1(M_FLUSH, FLUSHRW);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ck_assert_int_eq(tsh_nflush, 1);
	ck_assert_int_eq(tsh_flush[0].fr_flag, FLUSHW);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_flush_flushband_from_below_flushes_only_that_band)
{
	int sd = start(O_NONBLOCK);
	unsigned char fl[2] = { FLUSHR | FLUSHBAND, 2 };
	int first;

	up_data("zero");
	up_band(2, "two");
	up_band(1, "one");
	up(mkmsg(M_FLUSH, 0, fl, 2));
	ck_assert_int_eq(nread(sd, &first), 2);
	ck_assert_int_eq(first, 3);		/* "one", band 1 */
	ustreams_close(sd);
}
END_TEST

START_TEST(i_flush_flushes_the_head_and_sends_m_flush_down)
{
	int sd = start(O_NONBLOCK);

	up_data("queued");
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSH, FLUSHR), 0);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ck_assert_int_eq(tsh_nflush, 1);
	ck_assert_int_eq(tsh_flush[0].fr_flag, FLUSHR);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_flush_flushw_reaches_the_driver_and_leaves_reads)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(ustreams_write(sd, "abc", 3), 3);
	up_data("keep");
	ck_assert_int_eq(qsize(tsh_wq), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSH, FLUSHW), 0);
	ck_assert_int_eq(tsh_nflush, 1);
	ck_assert_int_eq(tsh_flush[0].fr_flag, FLUSHW);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_flush_with_bad_flags_is_einval)
{
	int sd = start(O_NONBLOCK);

	expect_errno(ustreams_ioctl(sd, I_FLUSH, 0), EINVAL);
	expect_errno(ustreams_ioctl(sd, I_FLUSH, FLUSHRW | 0x10), EINVAL);
	ck_assert_int_eq(tsh_nflush, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_flushband_flushes_one_band_and_sends_it_down)
{
	int sd = start(O_NONBLOCK);
	struct bandinfo bi = { 2, FLUSHR };
	int first;

	up_data("zero");
	up_band(2, "two");
	up_band(1, "one");
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSHBAND, &bi), 0);
	ck_assert_int_eq(nread(sd, &first), 2);
	ck_assert_int_eq(first, 3);
	ck_assert_int_eq(tsh_nflush, 1);
	ck_assert_int_eq(tsh_flush[0].fr_flag, FLUSHR | FLUSHBAND);
	ck_assert_int_eq(tsh_flush[0].fr_band, 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_setopts_sets_the_read_option)
{
	int sd = start(O_NONBLOCK);
	struct stroptions so = { 0 };
	int opt = -1;
	char buf[16] = "";

	so.so_flags = SO_READOPT;
	so.so_readopt = RMSGD | RPROTDIS;
	up_setopts(&so);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt, RMSGD | RPROTDIS);
	up_data("abcdef");
	up_data("xyz");
	ck_assert_int_eq(ustreams_read(sd, buf, 2), 2);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 3);
	ck_assert_mem_eq(buf, "xyz", 3);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_setopts_read_mode_alone_keeps_the_protocol_option)
{
	int sd = start(O_NONBLOCK);
	struct stroptions so = { 0 };
	int opt = -1;

	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RNORM | RPROTDAT), 0);
	so.so_flags = SO_READOPT;
	so.so_readopt = RMSGN;
	up_setopts(&so);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt, RMSGN | RPROTDAT);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_setopts_water_marks_set_the_heads_flow_control)
{
	int sd = start(O_NONBLOCK);
	struct stroptions so = { 0 };

	so.so_flags = SO_HIWAT | SO_LOWAT;
	so.so_hiwat = 10;
	so.so_lowat = 2;
	up_setopts(&so);
	up_data("012345678");
	ck_assert_int_eq(canputnext(tsh_rq), 1);
	up_data("9");
	ck_assert_int_eq(canputnext(tsh_rq), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_setopts_write_offset_leaves_room_in_written_blocks)
{
	int sd = start(O_NONBLOCK);
	struct stroptions so = { 0 };
	mblk_t *mp;

	so.so_flags = SO_WROFF;
	so.so_wroff = 16;
	up_setopts(&so);
	ck_assert_int_eq(ustreams_write(sd, "abc", 3), 3);
	mp = drv_getq();
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(MBLKHEAD(mp), 16);
	ck_assert_int_eq(MBLKL(mp), 3);
	freemsg(mp);
	ustreams_close(sd);
}
END_TEST

/* M_SETOPTS's SO_ERROPT sets the error option, as I_SERROPT does. */
START_TEST(m_setopts_error_option_makes_errors_nonpersistent)
{
	int sd = start(O_NONBLOCK);
	struct stroptions so = { 0 };
	int opt = -1;
	char buf[16] = "";

	so.so_flags = SO_ERROPT;
	so.so_erropt = RERRNONPERSIST;
	up_setopts(&so);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GERROPT, &opt), 0);
	ck_assert_int_eq(opt, RERRNONPERSIST | WERRNORM);
	up_error2(EIO, NOERROR);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EIO);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	ustreams_close(sd);
}
END_TEST

/*
 * An M_SETOPTS too short to hold a struct stroptions is discarded: none
 * of the options it seems to name changes.
 */
START_TEST(m_setopts_shorter_than_stroptions_is_discarded)
{
	int sd = start(O_NONBLOCK);
	struct stroptions so = { 0 };
	int opt = -1;

	so.so_flags = SO_READOPT;
	so.so_readopt = RMSGD | RPROTDIS;
	up(mkmsg(M_SETOPTS, 0, &so, sizeof (so) - 1));
	ck_assert_int_eq(ustreams_ioctl(sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt, RNORM | RPROTNORM);
	ck_assert_int_eq(nread(sd, NULL), 0);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* ioctl */

START_TEST(i_push_stacks_modules_below_the_head_and_i_look_names_the_top)
{
	int sd = start(O_NONBLOCK);
	char name[FMNAMESZ + 1] = "";

	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_modA"), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_modB"), 0);
	ck_assert_ptr_eq(tsh_rq->q_next, moda_rq);
	ck_assert_ptr_eq(moda_rq->q_next, modb_rq);
	ck_assert_int_eq(ustreams_ioctl(sd, I_LOOK, name), 0);
	ck_assert_str_eq(name, "tsh_modB");
	ustreams_close(sd);
}
END_TEST

START_TEST(i_pop_removes_the_top_module)
{
	int sd = start(O_NONBLOCK);
	char name[FMNAMESZ + 1] = "";

	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_modA"), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_modB"), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_LOOK, name), 0);
	ck_assert_str_eq(name, "tsh_modA");
	ck_assert_ptr_eq(moda_rq->q_next->q_next, NULL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	ck_assert_ptr_eq(tsh_rq->q_next->q_next, NULL);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_pop_and_i_look_without_a_module_are_einval)
{
	int sd = start(O_NONBLOCK);
	char name[FMNAMESZ + 1] = "";

	expect_errno(ustreams_ioctl(sd, I_POP, 0), EINVAL);
	expect_errno(ustreams_ioctl(sd, I_LOOK, name), EINVAL);
	ck_assert_int_eq(tsh_closes, 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_push_of_an_unknown_module_is_einval)
{
	int sd = start(O_NONBLOCK);

	expect_errno(ustreams_ioctl(sd, I_PUSH, "tsh_nosuchmod"), EINVAL);
	/* A driver is not a module. */
	expect_errno(ustreams_ioctl(sd, I_PUSH, "tsh_loop"), EINVAL);
	expect_errno(ustreams_ioctl(sd, I_POP, 0), EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_find_tells_whether_a_module_is_on_the_stream)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_modA"), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_pass"), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FIND, "tsh_modA"), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FIND, "tsh_pass"), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FIND, "tsh_modB"), 0);
	expect_errno(ustreams_ioctl(sd, I_FIND, "tsh_nosuchmod"), EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_canput_follows_flow_control_below)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 4), 0);
	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 1, 4), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CANPUT, 0), 1);
	ck_assert_int_eq(ustreams_write(sd, "full", 4), 4);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CANPUT, 0), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CANPUT, 1), 1);
	expect_errno(ustreams_ioctl(sd, I_CANPUT, 256), EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_nread_counts_messages_and_the_first_ones_bytes)
{
	int sd = start(O_NONBLOCK);
	int first = -1;

	ck_assert_int_eq(nread(sd, &first), 0);
	ck_assert_int_eq(first, 0);
	up_data("12345");
	up_data("1234567");
	up_data("123456789");
	ck_assert_int_eq(nread(sd, &first), 3);
	ck_assert_int_eq(first, 5);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_srdopt_and_i_grdopt_set_and_get_the_read_options)
{
	int sd = start(O_NONBLOCK);
	int opt = -1;

	ck_assert_int_eq(ustreams_ioctl(sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt, RNORM | RPROTNORM);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGN | RPROTDAT), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt, RMSGN | RPROTDAT);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGD | RPROTNORM), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt, RMSGD | RPROTNORM);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_srdopt_with_bad_options_is_einval)
{
	int sd = start(O_NONBLOCK);
	int opt = -1;

	expect_errno(ustreams_ioctl(sd, I_SRDOPT, RMSGD | RMSGN), EINVAL);
	expect_errno(ustreams_ioctl(sd, I_SRDOPT, 0x100), EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt, RNORM | RPROTNORM);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_str_sends_m_ioctl_down_and_returns_the_acks_value_and_data)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "abc";
	struct strioctl sio = { 0x5a01, 5, 3, buf };

	tsh_ioc_mode = IOC_ACK;
	tsh_ioc_rval = 7;
	tsh_ioc_reply = "wxyz";
	ck_assert_int_eq(ustreams_ioctl(sd, I_STR, &sio), 7);
	ck_assert_int_eq(tsh_ioc.ir_n, 1);
	ck_assert_int_eq(tsh_ioc.ir_cmd, 0x5a01);
	ck_assert_uint_eq(tsh_ioc.ir_count, 3);
	ck_assert_int_eq(tsh_ioc.ir_len, 3);
	ck_assert_mem_eq(tsh_ioc.ir_data, "abc", 3);
	ck_assert_int_eq(sio.ic_len, 4);
	ck_assert_mem_eq(buf, "wxyz", 4);
	ustreams_close(sd);
}
END_TEST

/* An ack claiming more bytes than it carries: what it carries is copied. */
START_TEST(i_str_ack_with_ioc_count_beyond_its_data_copies_what_is_there)
{
	int sd = start(O_NONBLOCK);
	char buf[16] = "";
	struct strioctl sio = { 0x5a06, 5, 0, buf };

	tsh_ioc_mode = IOC_ACK;
	tsh_ioc_reply = "wxyz";
	tsh_ioc_overcount = 6;
	ck_assert_int_eq(ustreams_ioctl(sd, I_STR, &sio), 0);
	ck_assert_int_eq(sio.ic_len, 4);
	ck_assert_mem_eq(buf, "wxyz", 4);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_str_answered_by_m_iocnak_fails_with_its_error)
{
	int sd = start(O_NONBLOCK);
	struct strioctl sio = { 0x5a02, 5, 0, NULL };

	tsh_ioc_mode = IOC_NAK;
	tsh_ioc_error = ENOTTY;
	expect_errno(ustreams_ioctl(sd, I_STR, &sio), ENOTTY);
	ck_assert_int_eq(tsh_ioc.ir_n, 1);
	ck_assert_int_eq(tsh_ioc.ir_cmd, 0x5a02);
	ck_assert_uint_eq(tsh_ioc.ir_count, 0);
	ustreams_close(sd);
}
END_TEST

static void
tsh_ack_late(void *arg)
{
	mblk_t *mp = tsh_ioc_kept;
	struct iocblk *ioc = (struct iocblk *)(void *)mp->b_rptr;

	(void) arg;
	tsh_ioc_kept = NULL;
	DB_TYPE(mp) = M_IOCACK;
	ioc->ioc_rval = 9;
	ioc->ioc_error = 0;
	ioc->ioc_count = 0;
	qreply(tsh_ioc_keptq, mp);
}

START_TEST(i_str_returns_when_a_late_ack_arrives_not_at_its_timeout)
{
	int sd = start(0);
	struct strioctl sio = { 0x5a05, 5, 0, NULL };
	uint64_t t0;

	tsh_ioc_mode = IOC_LATER;
	(void) timeout(tsh_ack_late, NULL, HZ);
	t0 = now_ns();
	ck_assert_int_eq(ustreams_ioctl(sd, I_STR, &sio), 9);
	ck_assert_uint_eq(now_ns() - t0, NS_PER_SEC);
	ck_assert_int_eq(tsh_ioc.ir_n, 1);
	ustreams_close(sd);
}
END_TEST

/*
 * The answer to an ioctl that timed out, arriving while the next ioctl
 * waits for its own, is discarded: it answers neither, and nothing of it
 * reaches the application.
 */
START_TEST(i_str_discards_a_late_answer_to_an_ioctl_that_timed_out)
{
	int sd = start(0);
	struct strioctl sio1 = { 0x5a07, 1, 0, NULL };
	struct strioctl sio2 = { 0x5a08, 3, 0, NULL };
	uint64_t t0;

	tsh_ioc_mode = IOC_LATER;
	expect_errno(ustreams_ioctl(sd, I_STR, &sio1), ETIME);
	ck_assert_ptr_nonnull(tsh_ioc_kept);
	(void) timeout(tsh_ack_late, NULL, HZ);
	tsh_ioc_mode = IOC_IGNORE;
	t0 = now_ns();
	expect_errno(ustreams_ioctl(sd, I_STR, &sio2), ETIME);
	ck_assert_uint_eq(now_ns() - t0, 3 * NS_PER_SEC);
	ck_assert_ptr_null(tsh_ioc_kept);	/* the late answer came */
	ck_assert_int_eq(tsh_ioc.ir_n, 2);
	ck_assert_int_eq(nread(sd, NULL), 0);
	tsh_ioc_mode = IOC_ACK;
	tsh_ioc_rval = 4;
	ck_assert_int_eq(ustreams_ioctl(sd, I_STR, &sio2), 4);
	ustreams_close(sd);
}
END_TEST

static void
tsh_hangup(void *arg)
{
	(void) arg;
	up(mkmsg(M_HANGUP, 0, NULL, 0));
}

/*
 * A hang-up while I_STR waits for its answer ends the wait with ENXIO; a
 * hang-up already there when the ioctl went down does not stop a driver
 * from answering it.
 */
START_TEST(i_str_fails_enxio_at_a_hangup_while_it_waits)
{
	int sd = start(0);
	struct strioctl sio = { 0x5a09, 5, 0, NULL };
	uint64_t t0;

	tsh_ioc_mode = IOC_IGNORE;
	(void) timeout(tsh_hangup, NULL, HZ);
	t0 = now_ns();
	expect_errno(ustreams_ioctl(sd, I_STR, &sio), ENXIO);
	ck_assert_uint_eq(now_ns() - t0, NS_PER_SEC);
	tsh_ioc_mode = IOC_ACK;
	tsh_ioc_rval = 6;
	ck_assert_int_eq(ustreams_ioctl(sd, I_STR, &sio), 6);
	ck_assert_int_eq(tsh_ioc.ir_n, 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_str_unanswered_fails_etime_after_ic_timout_seconds)
{
	int sd = start(0);
	struct strioctl sio = { 0x5a03, 3, 0, NULL };
	uint64_t t0;

	tsh_ioc_mode = IOC_IGNORE;
	t0 = now_ns();
	expect_errno(ustreams_ioctl(sd, I_STR, &sio), ETIME);
	ck_assert_uint_eq(now_ns() - t0, 3 * NS_PER_SEC);
	ck_assert_int_eq(tsh_ioc.ir_n, 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_str_with_ic_timout_0_waits_the_default_15_seconds)
{
	int sd = start(0);
	struct strioctl sio = { 0x5a04, 0, 0, NULL };
	uint64_t t0;

	tsh_ioc_mode = IOC_IGNORE;
	t0 = now_ns();
	expect_errno(ustreams_ioctl(sd, I_STR, &sio), ETIME);
	ck_assert_uint_eq(now_ns() - t0, 15 * NS_PER_SEC);
	ustreams_close(sd);
}
END_TEST

START_TEST(unknown_ioctl_is_einval)
{
	int sd = start(O_NONBLOCK);

	expect_errno(ustreams_ioctl(sd, STR | 0177, 0), EINVAL);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* poll */

static short
poll1(int sd, short events, int timeout_ms, int want_rc)
{
	struct pollfd pfd = { sd, events, 0 };

	ck_assert_int_eq(ustreams_poll(&pfd, 1, timeout_ms), want_rc);
	return (pfd.revents);
}

START_TEST(poll_reports_pollin_for_a_normal_message)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(poll1(sd, POLLIN | POLLRDNORM | POLLPRI, 0, 0), 0);
	up_data("x");
	ck_assert_int_eq(poll1(sd, POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI,
	    0, 1), POLLIN | POLLRDNORM);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_reports_pollpri_for_a_high_priority_message)
{
	int sd = start(O_NONBLOCK);

	up_proto(M_PCPROTO, 0, "hi", NULL);
	ck_assert_int_eq(poll1(sd, POLLIN | POLLRDBAND | POLLPRI, 0, 1),
	    POLLPRI);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_reports_pollin_and_pollrdband_for_a_banded_message)
{
	int sd = start(O_NONBLOCK);

	up_band(4, "b4");
	ck_assert_int_eq(poll1(sd, POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI,
	    0, 1), POLLIN | POLLRDBAND);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_reports_pollout_while_flow_control_lets_writes_through)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 4), 0);
	ck_assert_int_eq(poll1(sd, POLLOUT, 0, 1), POLLOUT);
	ck_assert_int_eq(ustreams_write(sd, "full", 4), 4);
	ck_assert_int_eq(poll1(sd, POLLOUT, 0, 0), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_reports_pollerr_after_m_error)
{
	int sd = start(O_NONBLOCK);

	up_ctl1(M_ERROR, EIO);
	ck_assert_int_eq(poll1(sd, POLLIN, 0, 1), POLLERR);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_reports_pollhup_and_not_pollout_after_m_hangup)
{
	int sd = start(O_NONBLOCK);

	up(mkmsg(M_HANGUP, 0, NULL, 0));
	ck_assert_int_eq(poll1(sd, POLLIN | POLLOUT, 0, 1), POLLHUP);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_reports_pollnval_for_a_closed_descriptor)
{
	int sd = start(O_NONBLOCK);
	int sd2 = open_drv(O_NONBLOCK);
	struct pollfd pfd[2] = { { sd, POLLOUT, 0 }, { sd2, POLLIN, 0 } };

	ck_assert_int_eq(ustreams_close(sd2), 0);
	ck_assert_int_eq(ustreams_poll(pfd, 2, 0), 2);
	ck_assert_int_eq(pfd[0].revents, POLLOUT);
	ck_assert_int_eq(pfd[1].revents, POLLNVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_with_timeout_0_returns_at_once)
{
	int sd = start(O_NONBLOCK);
	uint64_t t0 = now_ns();

	ck_assert_int_eq(poll1(sd, POLLIN, 0, 0), 0);
	ck_assert_uint_eq(now_ns(), t0);
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_timeout_advances_the_virtual_clock_by_the_timeout)
{
	int sd = start(O_NONBLOCK);
	uint64_t t0;

	(void) ustreams_sim_run_until(NS_PER_SEC);
	t0 = now_ns();
	ck_assert_int_eq(poll1(sd, POLLIN, 250, 0), 0);
	ck_assert_uint_eq(now_ns() - t0, 250 * NS_PER_MS);
	ustreams_close(sd);
}
END_TEST

START_TEST(poll_wakes_when_a_message_arrives)
{
	int sd = start(O_NONBLOCK);
	uint64_t t0 = now_ns();

	(void) timeout(send_late, "late", HZ);
	ck_assert_int_eq(poll1(sd, POLLIN, 5000, 1), POLLIN);
	ck_assert_uint_eq(now_ns() - t0, NS_PER_SEC);
	ustreams_close(sd);
}
END_TEST

static int
fd_readable(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int rc = poll(&pfd, 1, 0);

	ck_assert_int_ge(rc, 0);
	return (rc > 0 && (pfd.revents & POLLIN));
}

START_TEST(pollfd_is_readable_while_a_message_is_queued)
{
	int sd = start(O_NONBLOCK);
	int fd = ustreams_pollfd(sd);
	char buf[16];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fd_readable(fd), 0);
	up_data("x");
	ck_assert_int_eq(fd_readable(fd), 1);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);
	ck_assert_int_eq(fd_readable(fd), 0);
	ustreams_close(sd);
}
END_TEST

/*
 * The pollfd follows poll both ways: a write error alone keeps it
 * readable (POLLERR) across a read and an I_FLUSH that leave nothing
 * queued; clearing the error, a write that reports a non-persistent one,
 * an M_UNHANGUP and a flush from below that empties the queue each make
 * it quiet again.
 */
START_TEST(pollfd_follows_errors_hangups_and_flushes_both_ways)
{
	int sd = start(O_NONBLOCK);
	int fd = ustreams_pollfd(sd);
	char buf[16];

	ck_assert_int_ge(fd, 0);
	up_error2(NOERROR, EIO);
	ck_assert_int_eq(fd_readable(fd), 1);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EAGAIN);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSH, FLUSHR), 0);
	ck_assert_int_eq(fd_readable(fd), 1);
	up_error2(NOERROR, 0);
	ck_assert_int_eq(fd_readable(fd), 0);

	ck_assert_int_eq(ustreams_ioctl(sd, I_SERROPT, WERRNONPERSIST), 0);
	up_error2(NOERROR, EIO);
	ck_assert_int_eq(fd_readable(fd), 1);
	expect_errno(ustreams_write(sd, "x", 1), EIO);
	ck_assert_int_eq(fd_readable(fd), 0);

	up(mkmsg(M_HANGUP, 0, NULL, 0));
	ck_assert_int_eq(fd_readable(fd), 1);
	up(mkmsg(M_UNHANGUP, 0, NULL, 0));
	ck_assert_int_eq(fd_readable(fd), 0);

	up_data("x");
	ck_assert_int_eq(fd_readable(fd), 1);
	up_ctl1(M_FLUSH, FLUSHR);
	ck_assert_int_eq(fd_readable(fd), 0);
	ustreams_close(sd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* open, close */

/*
 * ustreams_unregister: refused while an instance is open, then the name
 * is gone.  Its own names, so that the others stay registered for the
 * tests that follow in the same process (threads builds run unforked).
 */
START_TEST(unregister_refuses_while_in_use_and_forgets_the_name_after)
{
	int sd;

	boot_sim();
	ck_assert_int_eq(ustreams_unregister("tsh_nosuch"), ENOENT);
	ck_assert_int_eq(ustreams_unregister(NULL), EINVAL);
	register_one(ustreams_register_driver("tsh_udrv", &tsh_info, 0));
	register_one(ustreams_register_module("tsh_umod", &passmod_info, 0));

	/* Popped, then closed. */
	sd = ustreams_open("tsh_udrv", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_umod"), 0);
	ck_assert_int_eq(ustreams_unregister("tsh_umod"), EBUSY);
	ck_assert_int_eq(ustreams_unregister("tsh_udrv"), EBUSY);
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	ck_assert_int_eq(ustreams_unregister("tsh_umod"), 0);
	expect_errno(ustreams_ioctl(sd, I_PUSH, "tsh_umod"), EINVAL);
	ck_assert_int_eq(ustreams_unregister("tsh_udrv"), EBUSY);
	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_int_eq(ustreams_unregister("tsh_udrv"), 0);
	expect_errno(ustreams_open("tsh_udrv", O_RDWR), ENODEV);
	ck_assert_int_eq(ustreams_unregister("tsh_udrv"), ENOENT);

	/* A module still pushed when its stream closes is let go too. */
	register_one(ustreams_register_driver("tsh_udrv", &tsh_info, 0));
	register_one(ustreams_register_module("tsh_umod", &passmod_info, 0));
	sd = ustreams_open("tsh_udrv", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_umod"), 0);
	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_int_eq(ustreams_unregister("tsh_umod"), 0);
	ck_assert_int_eq(ustreams_unregister("tsh_udrv"), 0);
}
END_TEST

/*
 * A name may have FMNAMESZ characters, and I_LOOK gives it back whole;
 * one more is refused.
 */
START_TEST(register_takes_names_of_fmnamesz_characters_and_no_longer)
{
	char name[FMNAMESZ + 2], got[FMNAMESZ + 1] = "";
	int sd;

	boot_sim();
	memset(name, 'm', FMNAMESZ + 1);
	name[FMNAMESZ + 1] = '\0';
	ck_assert_int_eq(ustreams_register_module(name, &passmod_info, 0),
	    EINVAL);
	name[FMNAMESZ] = '\0';
	register_one(ustreams_register_module(name, &passmod_info, 0));
	sd = ustreams_open("tsh_drv", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, name), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_LOOK, got), 0);
	ck_assert_str_eq(got, name);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FIND, name), 1);
	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_int_eq(ustreams_unregister(name), 0);
}
END_TEST

START_TEST(open_of_an_unknown_driver_is_enodev)
{
	boot_sim();
	expect_errno(ustreams_open("tsh_nosuchdrv", O_RDWR), ENODEV);
	/* A module is not a driver. */
	expect_errno(ustreams_open("tsh_pass", O_RDWR), ENODEV);
}
END_TEST

START_TEST(open_past_the_last_descriptor_is_emfile)
{
	static int sds[256];
	int n = 0, sd;

	boot_sim();
	while ((sd = ustreams_open("tsh_drv", O_RDWR)) >= 0) {
		ck_assert_int_lt(n, 256);
		sds[n++] = sd;
	}
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(n, 256);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(sds[i], i);
	ck_assert_int_eq(ustreams_close(sds[100]), 0);
	ck_assert_int_eq(ustreams_open("tsh_drv", O_RDWR), 100);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(ustreams_close(sds[i]), 0);
}
END_TEST

START_TEST(driver_open_failure_propagates_and_leaves_nothing_allocated)
{
	struct ustreams_memstat before, after;

	boot_sim();
	ck_assert_int_eq(ustreams_memstat(&before), 0);
	expect_errno(ustreams_open("tsh_fail", O_RDWR), EACCES);
	ck_assert_int_eq(ustreams_memstat(&after), 0);
	ck_assert_uint_eq(after.ms_inuse, before.ms_inuse);
	ck_assert_int_eq(tshf_opens, 1);
	ck_assert_int_eq(tshf_closes, 0);
	/* The descriptor it would have had is free. */
	ck_assert_int_eq(ustreams_open("tsh_drv", O_RDWR), 0);
}
END_TEST

START_TEST(calls_on_a_closed_descriptor_fail_ebadf)
{
	int sd = start(O_NONBLOCK);
	char buf[8];
	struct strbuf data = { sizeof (buf), 1, buf };
	int flags = 0;

	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_int_eq(tsh_closes, 1);
	expect_errno(ustreams_read(sd, buf, sizeof (buf)), EBADF);
	expect_errno(ustreams_write(sd, buf, 1), EBADF);
	expect_errno(ustreams_getmsg(sd, NULL, &data, &flags), EBADF);
	expect_errno(ustreams_putmsg(sd, NULL, &data, 0), EBADF);
	expect_errno(ustreams_ioctl(sd, I_NREAD, &flags), EBADF);
	expect_errno(ustreams_pollfd(sd), EBADF);
	expect_errno(ustreams_close(sd), EBADF);
	expect_errno(ustreams_close(-1), EBADF);
}
END_TEST

START_TEST(close_pops_the_modules_and_closes_the_driver)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_modA"), 0);
	up_data("unread");
	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_int_eq(tsh_closes, 1);
	ck_assert_ptr_null(tsh_wq);
}
END_TEST

/*
 * A stream head whose write side was back-enabled (a writer was held up by
 * flow control, and the driver then took the message) has its service run
 * pending; close cancels it with the rest of the stream: nothing is left
 * to run once close has returned.
 */
START_TEST(close_leaves_no_service_run_of_the_stream_head_pending)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(strqset(tsh_wq, QHIWAT, 0, 10), 0);
	ck_assert_int_eq(ustreams_write(sd, "0123456789", 10), 10);
	expect_errno(ustreams_write(sd, "abc", 3), EAGAIN);
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	freemsg(drv_getq());
	ck_assert_int_eq(ustreams_sim_pending(), 1);
	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 0);
}
END_TEST

START_TEST(shutdown_closes_streams_still_open_and_warns)
{
	boot_sim();
	(void) open_drv(0);
	(void) open_drv(O_NONBLOCK);
	ck_assert_int_eq(tsh_opens, 2);
	harness_log_capture();
	harness_shutdown();
	ck_assert_int_eq(tsh_closes, 2);
	ck_assert_ptr_nonnull(harness_log_find("2 stream(s) still open"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* I_PUSH and I_POP under traffic (threads executive) */

#define	TRAFFIC_MAX	20000

#define	TRAFFIC_STEP	32	/* messages written between plumbing */

struct traffic {
	int		tr_sd;
	long		tr_n;		/* messages */
	pthread_mutex_t	tr_lock;	/* the next three */
	pthread_cond_t	tr_cv;		/* one of them changed */
	long		tr_written;	/* messages written */
	long		tr_plumbed;	/* pushes and pops started */
	bool		tr_writer_done;
	long		tr_write_errors;
	long		tr_read_errors;
	bool		tr_stalled;	/* no message for 10 s */
	long		tr_received;
	uint32_t	tr_seq[TRAFFIC_MAX];	/* in arrival order */
	long		tr_plumb_errors;
	long		tr_pushes;
};

static void *
traffic_writer(void *arg)
{
	struct traffic *tr = arg;

	for (long i = 0; i < tr->tr_n; i++) {
		uint32_t msg[2] = { (uint32_t)i, ~(uint32_t)i };

		if (ustreams_write(tr->tr_sd, msg, sizeof (msg)) !=
		    (ssize_t)sizeof (msg))
			tr->tr_write_errors++;
		if ((i + 1) % TRAFFIC_STEP != 0)
			continue;
		/*
		 * The plumber starts a push or pop every step; keep at most
		 * one step ahead of it, so that each one meets traffic.
		 */
		pthread_mutex_lock(&tr->tr_lock);
		tr->tr_written = i + 1;
		pthread_cond_broadcast(&tr->tr_cv);
		while (tr->tr_plumbed < (i + 1) / TRAFFIC_STEP - 1)
			pthread_cond_wait(&tr->tr_cv, &tr->tr_lock);
		pthread_mutex_unlock(&tr->tr_lock);
	}
	pthread_mutex_lock(&tr->tr_lock);
	while (tr->tr_plumbed < tr->tr_n / TRAFFIC_STEP)
		pthread_cond_wait(&tr->tr_cv, &tr->tr_lock);
	tr->tr_writer_done = true;
	pthread_cond_broadcast(&tr->tr_cv);
	pthread_mutex_unlock(&tr->tr_lock);
	return (NULL);
}

static void *
traffic_reader(void *arg)
{
	struct traffic *tr = arg;
	long plumbed = -1;

	while (tr->tr_received < tr->tr_n) {
		struct pollfd pfd = { tr->tr_sd, POLLIN, 0 };
		uint32_t msg[3];
		ssize_t n;

		/*
		 * Not a timing: only so that a lost message fails the test.
		 * 10 s without a message is a stall unless a push or pop
		 * started meanwhile (valgrind makes them slow).
		 */
		if (ustreams_poll(&pfd, 1, 10000) == 0) {
			long now;

			pthread_mutex_lock(&tr->tr_lock);
			now = tr->tr_plumbed;
			pthread_mutex_unlock(&tr->tr_lock);
			if (now != plumbed) {
				plumbed = now;
				continue;
			}
			tr->tr_stalled = true;
			break;
		}
		n = ustreams_read(tr->tr_sd, msg, sizeof (msg));

		if (n != 8 || msg[1] != ~msg[0] || msg[0] >= tr->tr_n) {
			if (++tr->tr_read_errors > 100)
				break;
			continue;
		}
		tr->tr_seq[tr->tr_received++] = msg[0];
	}
	return (NULL);
}

/*
 * Wait for the writer's next step, and say that the plumbing for it has
 * started; false when the writer is done.
 */
static bool
traffic_step(struct traffic *tr)
{
	bool more;

	pthread_mutex_lock(&tr->tr_lock);
	while (!tr->tr_writer_done &&
	    tr->tr_written < (tr->tr_plumbed + 1) * TRAFFIC_STEP)
		pthread_cond_wait(&tr->tr_cv, &tr->tr_lock);
	if ((more = !tr->tr_writer_done)) {
		tr->tr_plumbed++;
		pthread_cond_broadcast(&tr->tr_cv);
	}
	pthread_mutex_unlock(&tr->tr_lock);
	return (more);
}

/*
 * Push and pop tsh_pass by turns, one each step of traffic, while the
 * writer goes on writing, until it is done.
 */
static void *
traffic_plumber(void *arg)
{
	struct traffic *tr = arg;
	bool pushed = false;

	while (traffic_step(tr)) {
		if (!pushed) {
			if (ustreams_ioctl(tr->tr_sd, I_PUSH, "tsh_pass") != 0)
				tr->tr_plumb_errors++;
			else
				tr->tr_pushes++;
		} else if (ustreams_ioctl(tr->tr_sd, I_POP, 0) != 0) {
			tr->tr_plumb_errors++;
		}
		pushed = !pushed;
	}
	if (pushed && ustreams_ioctl(tr->tr_sd, I_POP, 0) != 0)
		tr->tr_plumb_errors++;
	return (NULL);
}

/*
 * Run the traffic: a writer sends tr_n sequence-numbered messages through
 * tsh_loop, which sends them back up, while a plumber pushes and pops
 * tsh_pass by turns, starting one of them every TRAFFIC_STEP messages
 * written (the writer keeps at most a step ahead and writes on while
 * they run), and a reader reads them back (RMSGN: one message per read).
 * Checks what every run must show.
 */
static struct traffic traffic;

static void
run_traffic(void)
{
	struct ustreams_config cfg;
	struct traffic *tr = &traffic;
	pthread_t tw, trd, tp;

	ustreams_config_init(&cfg);
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 4;
	harness_boot_cfg(&cfg);
	tsh_register();
	tsh_reset();
	memset(tr, 0, sizeof (*tr));
	pthread_mutex_init(&tr->tr_lock, NULL);
	pthread_cond_init(&tr->tr_cv, NULL);
	tr->tr_n = strcmp(harness_variant(), "tsan") == 0 ||
	    strcmp(harness_variant(), "memcheck") == 0 ? 5000 : TRAFFIC_MAX;
	tr->tr_sd = ustreams_open("tsh_loop", O_RDWR);
	ck_assert_int_ge(tr->tr_sd, 0);
	ck_assert_int_eq(ustreams_ioctl(tr->tr_sd, I_SRDOPT, RMSGN), 0);
	ck_assert_int_eq(pthread_create(&trd, NULL, traffic_reader, tr), 0);
	ck_assert_int_eq(pthread_create(&tp, NULL, traffic_plumber, tr), 0);
	ck_assert_int_eq(pthread_create(&tw, NULL, traffic_writer, tr), 0);
	pthread_join(tw, NULL);
	pthread_join(tp, NULL);
	pthread_join(trd, NULL);
	pthread_cond_destroy(&tr->tr_cv);
	pthread_mutex_destroy(&tr->tr_lock);
	ck_assert_int_eq(tr->tr_write_errors, 0);
	ck_assert_int_eq(tr->tr_plumb_errors, 0);
	ck_assert_int_eq(tr->tr_read_errors, 0);
	ck_assert_msg(!tr->tr_stalled, "no message came for 10 s after %ld",
	    tr->tr_received);
	ck_assert_int_eq(tr->tr_received, tr->tr_n);
	/* One push or pop every step. */
	ck_assert_int_eq(tr->tr_pushes, (tr->tr_n / TRAFFIC_STEP + 1) / 2);
	ck_assert_int_eq(ustreams_ioctl(tr->tr_sd, I_FIND, "tsh_pass"), 0);
	ck_assert_int_eq(ustreams_close(tr->tr_sd), 0);
}

/*
 * SVR4 ran the service procedures a system call enabled before the call
 * returned (runqueues): the stream head does the same under the threads
 * executive.  To see it, the one service thread is kept busy -- in the
 * read service procedure of "tsh_block", on a stream of its own, which
 * waits until the test lets it go -- so that only the application's own
 * thread can run tsh_svc's service procedures.
 */
static sem_t busy_started, busy_release;
static queue_t *block_rq;

static int
blockmod_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	block_rq = q;
	return (0);
}

static int
blockmod_rsrv(queue_t *q)
{
	(void) q;
	sem_post(&busy_started);
	while (sem_wait(&busy_release) != 0)
		;
	return (0);
}

static struct module_info blockmod_minfo = {
	0x7208, "tsh_block", 0, INFPSZ, 1024, 256
};
static struct qinit blockmod_rinit = {
	passmod_put, blockmod_rsrv, blockmod_open, NULL, NULL,
	&blockmod_minfo, NULL
};
static struct qinit blockmod_winit = {
	passmod_put, NULL, NULL, NULL, NULL, &blockmod_minfo, NULL
};
static struct streamtab blockmod_info = {
	&blockmod_rinit, &blockmod_winit, NULL, NULL
};

static int busy_sd;

static int
boot_threads_busy(void)
{
	struct ustreams_config cfg;
	int sd;

	ustreams_config_init(&cfg);
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 1;
	harness_boot_cfg(&cfg);
	tsh_register();
	register_one(ustreams_register_module("tsh_block", &blockmod_info,
	    0));
	tsh_reset();
	atomic_store(&svc_ran[0], NULL);
	atomic_store(&svc_ran[1], NULL);
	sem_init(&busy_started, 0, 0);
	sem_init(&busy_release, 0, 0);
	busy_sd = ustreams_open("tsh_drv", O_RDWR);
	ck_assert_int_ge(busy_sd, 0);
	ck_assert_int_eq(ustreams_ioctl(busy_sd, I_PUSH, "tsh_block"), 0);
	qenable(block_rq);
	while (sem_wait(&busy_started) != 0)
		;
	sd = ustreams_open("tsh_drv", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "tsh_svc"), 0);
	return (sd);
}

static void
end_threads_busy(int sd)
{
	sem_post(&busy_release);
	ck_assert_int_eq(ustreams_close(sd), 0);
	ck_assert_int_eq(ustreams_close(busy_sd), 0);
	harness_shutdown();
	sem_destroy(&busy_started);
	sem_destroy(&busy_release);
}

START_TEST(threads_read_runs_the_service_procedures_ready_before_it_sleeps)
{
	char buf[8];
	int sd = boot_threads_busy();

	/* The driver sends up; tsh_svc queues it and is enabled. */
	putnext(tsh_rq, mkmsg(M_DATA, 0, "up", 2));
	ck_assert_ptr_null(atomic_load(&svc_ran[0]));
	/* Nothing at the head: instead of sleeping, read runs tsh_svc. */
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 2);
	ck_assert_mem_eq(buf, "up", 2);
	ck_assert_ptr_nonnull(atomic_load(&svc_ran[0]));
	ck_assert(pthread_equal(svc_self[0], pthread_self()));
	end_threads_busy(sd);
}
END_TEST

START_TEST(threads_write_runs_the_service_procedure_it_enabled_on_return)
{
	mblk_t *mp;
	int sd = boot_threads_busy();

	ck_assert_int_eq(ustreams_write(sd, "down", 4), 4);
	/* tsh_svc's write service procedure ran before write returned. */
	ck_assert_ptr_nonnull(atomic_load(&svc_ran[1]));
	ck_assert(pthread_equal(svc_self[1], pthread_self()));
	mp = getq(tsh_wq);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(MBLKL(mp), 4);
	ck_assert_mem_eq(mp->b_rptr, "down", 4);
	freemsg(mp);
	end_threads_busy(sd);
}
END_TEST

/*
 * I_STR callers on one stream take turns: while the first one's answer is
 * awaited, a second caller waits without sending its M_IOCTL, and the
 * first one's end wakes it.  The second caller is seen asleep before the
 * first answer goes up; the answer's arrival wakes both, and whether the
 * second one looks before or after the first has finished is the
 * scheduler's choice, so the turn is taken several times: each time the
 * second one looks first, only the end of the first I_STR can wake it.
 */
#define	ISTR_TURNS	20

struct istr_caller {
	pthread_t	ic_thread;
	struct strioctl	ic_sio;
	atomic_int	ic_tid;		/* set just before the I_STR */
	atomic_int	ic_done;
	int		ic_rval;
};

static int istr_sd;

static void *
istr_call(void *arg)
{
	struct istr_caller *c = arg;

	atomic_store(&c->ic_tid, harness_gettid());
	c->ic_rval = ustreams_ioctl(istr_sd, I_STR, &c->ic_sio);
	atomic_store(&c->ic_done, 1);
	return (NULL);
}

static void
istr_start(struct istr_caller *c, int cmd)
{
	memset(c, 0, sizeof (*c));
	c->ic_sio.ic_cmd = cmd;
	c->ic_sio.ic_timout = -1;		/* no timeout */
	ck_assert_int_eq(pthread_create(&c->ic_thread, NULL, istr_call, c),
	    0);
}

START_TEST(threads_a_second_i_str_waits_its_turn_and_is_woken)
{
	struct istr_caller first, second;

	harness_boot(MEM_4M, USTREAMS_EXEC_THREADS);
	tsh_register();
	tsh_reset();
	istr_sd = open_drv(0);
	for (int turn = 0; turn < ISTR_TURNS; turn++) {
		tsh_ioc_mode = IOC_LATER;
		istr_start(&first, 0x5a20);
		for (int i = 0; i < 20000 &&
		    __atomic_load_n(&tsh_ioc_kept, __ATOMIC_ACQUIRE) == NULL;
		    i++)
			(void) usleep(1000);
		ck_assert_ptr_nonnull(
		    __atomic_load_n(&tsh_ioc_kept, __ATOMIC_ACQUIRE));
		tsh_ioc_mode = IOC_ACK;
		tsh_ioc_rval = 4;
		istr_start(&second, 0x5a21);
		while (atomic_load(&second.ic_tid) == 0)
			(void) sched_yield();
		ck_assert(harness_wait_asleep(atomic_load(&second.ic_tid)));
		/* The second one sent nothing: the driver saw one ioctl. */
		ck_assert_int_eq(tsh_ioc.ir_n, 2 * turn + 1);
		ck_assert_int_eq(tsh_ioc.ir_cmd, 0x5a20);
		ck_assert_int_eq(atomic_load(&first.ic_done), 0);
		(void) timeout(tsh_ack_late, NULL, 1);	/* rval 9 */
		pthread_join(first.ic_thread, NULL);
		pthread_join(second.ic_thread, NULL);
		ck_assert_int_eq(first.ic_rval, 9);
		ck_assert_int_eq(second.ic_rval, 4);
		ck_assert_int_eq(tsh_ioc.ir_n, 2 * turn + 2);
		ck_assert_int_eq(tsh_ioc.ir_cmd, 0x5a21);
	}
	ustreams_close(istr_sd);
}
END_TEST

START_TEST(threads_push_and_pop_under_traffic_deliver_every_message_once)
{
	static unsigned char seen[TRAFFIC_MAX];
	struct traffic *tr = &traffic;
	long dups = 0, missing = 0;

	run_traffic();
	memset(seen, 0, sizeof (seen));
	for (long i = 0; i < tr->tr_received; i++) {
		if (seen[tr->tr_seq[i]]++ != 0)
			dups++;
	}
	for (long i = 0; i < tr->tr_n; i++) {
		if (seen[i] == 0)
			missing++;
	}
	ck_assert_int_eq(dups, 0);
	ck_assert_int_eq(missing, 0);
}
END_TEST

/*
 * A message that reached tsh_pass before a pop -- on its way through, or
 * left in its perimeter for the thread inside -- must not be overtaken by
 * one that bypasses the module once it is gone.  (The loop driver's
 * service procedure, sending up, and the writer, sending down, meet in
 * tsh_pass's perimeter; tsh_pass yields inside to make that common.)
 */
START_TEST(threads_push_and_pop_under_traffic_keep_the_order)
{
	struct traffic *tr = &traffic;

	run_traffic();
	for (long i = 0; i < tr->tr_received; i++) {
		ck_assert_msg(tr->tr_seq[i] == (uint32_t)i,
		    "message %ld arrived in place %ld (after %ld, before %ld)",
		    (long)tr->tr_seq[i], i,
		    i > 0 ? (long)tr->tr_seq[i - 1] : -1L,
		    i + 1 < tr->tr_received ? (long)tr->tr_seq[i + 1] : -1L);
	}
}
END_TEST

/*
 * More of SVR4's stream head: packet sizes, hang-up with getmsg, one
 * high-priority message at a time, ioctl errors, partial reads of banded
 * messages, empty tails, poll, zero-length parts.
 */

/*
 * A maximum packet size of 0 below the head lets no data through: a
 * write sends nothing and returns 0 (SVR4 strwrite).
 */
START_TEST(write_with_a_maximum_packet_size_of_0_sends_nothing)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(strqset(tsh_wq, QMAXPSZ, 0, 0), 0);
	ck_assert_int_eq(ustreams_write(sd, "abc", 3), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SWROPT, SNDZERO), 0);
	ck_assert_int_eq(ustreams_write(sd, "", 0), 0);
	ck_assert_ptr_null(drv_getq());
	ustreams_close(sd);
}
END_TEST

/*
 * write(2): with a non-zero minimum packet size, a write larger than the
 * maximum cannot be split and fails with ERANGE, sending nothing.
 */
START_TEST(write_above_maxpsz_with_minpsz_is_erange_sends_nothing)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(strqset(tsh_wq, QMAXPSZ, 0, 4), 0);
	ck_assert_int_eq(strqset(tsh_wq, QMINPSZ, 0, 2), 0);
	expect_errno(ustreams_write(sd, "abcdefgh", 8), ERANGE);
	ck_assert_int_eq(qsize(tsh_wq), 0);
	ustreams_close(sd);
}
END_TEST

/*
 * getmsg(2): at a hang-up, a getmsg that finds no message of the kind it
 * asks for returns 0 with both lengths 0 -- it does not wait (or EAGAIN).
 */
START_TEST(getmsg_rs_hipri_after_hangup_returns_empty_message)
{
	int sd = start(O_NONBLOCK);
	char cbuf[8], dbuf[8];
	struct strbuf ctl = { sizeof (cbuf), 5, cbuf };
	struct strbuf data = { sizeof (dbuf), 5, dbuf };
	int flags = RS_HIPRI;

	up_data("normal");
	up(mkmsg(M_HANGUP, 0, NULL, 0));
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, 0);
	ck_assert_int_eq(data.len, 0);
	ustreams_close(sd);
}
END_TEST

/* The same, blocking: the call must not sleep for ever. */
START_TEST(blocking_getmsg_rs_hipri_after_hangup_returns)
{
	int sd = start(0);
	char cbuf[8], dbuf[8];
	struct strbuf ctl = { sizeof (cbuf), 5, cbuf };
	struct strbuf data = { sizeof (dbuf), 5, dbuf };
	int flags = RS_HIPRI;

	up_data("normal");
	up(mkmsg(M_HANGUP, 0, NULL, 0));
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ustreams_close(sd);
}
END_TEST

/* SVR4 strrput: only one M_PCPROTO at the stream head at a time. */
START_TEST(second_m_pcproto_is_discarded_while_one_is_queued)
{
	int sd = start(O_NONBLOCK);

	up_proto(M_PCPROTO, 0, "p1", NULL);
	up_proto(M_PCPROTO, 0, "p2", NULL);
	ck_assert_int_eq(nread(sd, NULL), 1);
	ustreams_close(sd);
}
END_TEST

/* strdoioctl: an M_IOCACK with ioc_error set fails the ioctl with it. */
static void
tsh_ack_with_error(void *arg)
{
	mblk_t *mp = tsh_ioc_kept;
	struct iocblk *ioc = (struct iocblk *)(void *)mp->b_rptr;

	(void) arg;
	tsh_ioc_kept = NULL;
	DB_TYPE(mp) = M_IOCACK;
	ioc->ioc_rval = 3;
	ioc->ioc_error = EPROTO;
	ioc->ioc_count = 0;
	qreply(tsh_ioc_keptq, mp);
}

START_TEST(i_str_ack_with_ioc_error_fails_with_it)
{
	int sd = start(0);
	struct strioctl sio = { 0x5a10, 5, 0, NULL };

	tsh_ioc_mode = IOC_LATER;
	(void) timeout(tsh_ack_with_error, NULL, 1);
	expect_errno(ustreams_ioctl(sd, I_STR, &sio), EPROTO);
	ustreams_close(sd);
}
END_TEST

/* read(2) of 0 bytes returns 0 without waiting for a message (POSIX). */
START_TEST(read_of_0_bytes_returns_0_at_once)
{
	int sd = start(O_NONBLOCK);
	char buf[1];

	ck_assert_int_eq(ustreams_read(sd, buf, 0), 0);
	ustreams_close(sd);
}
END_TEST

/* A read of 0 bytes waits for nothing, but reports the read error. */
START_TEST(read_of_0_bytes_reports_the_read_error)
{
	int sd = start(O_NONBLOCK);
	char buf[1];

	up_error2(EIO, NOERROR);
	expect_errno(ustreams_read(sd, buf, 0), EIO);
	ustreams_close(sd);
}
END_TEST

/*
 * A banded message read in part keeps its band (SVR4 strread puts the
 * rest back with b_band = the message's band): the bytes of one band come
 * out in the order they were sent.
 */
START_TEST(partial_read_of_a_banded_message_keeps_its_place)
{
	int sd = start(O_NONBLOCK);
	char buf[8] = "";
	mblk_t *mp = mkmsg(M_DATA, 1, "ab", 2);

	mp->b_cont = mkmsg(M_DATA, 0, "cd", 2);	/* a second block */
	up(mp);
	up_band(1, "xy");
	ck_assert_int_eq(ustreams_read(sd, buf, 2), 2);
	ck_assert_mem_eq(buf, "ab", 2);
	ck_assert_int_eq(ustreams_read(sd, buf, 2), 2);
	ck_assert_mem_eq(buf, "cd", 2);
	ustreams_close(sd);
}
END_TEST

/*
 * getmsg: a data part read to its last byte, with only an empty block
 * after it, is all taken (SVR4 frees a zero-length tail): no MOREDATA,
 * and no zero-length message left to end the next read with 0.
 */
START_TEST(getmsg_exact_fit_with_an_empty_tail_block_is_whole)
{
	int sd = start(O_NONBLOCK);
	char dbuf[3], buf[4];
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int flags = 0;
	mblk_t *mp = mkmsg(M_DATA, 0, "abc", 3);

	mp->b_cont = mkmsg(M_DATA, 0, NULL, 0);
	up(mp);
	{
		int rc = ustreams_getmsg(sd, NULL, &data, &flags);
		int left = nread(sd, NULL);
		ssize_t n = ustreams_read(sd, buf, sizeof (buf));

		ck_assert_msg(rc == 0 && data.len == 3 && left == 0 &&
		    n == -1 && errno == EAGAIN,
		    "getmsg rc %d (data.len %d), then I_NREAD %d, "
		    "then read %zd", rc, data.len, left, n);
	}
	ustreams_close(sd);
}
END_TEST

/* poll(2): POLLWRBAND when a banded message may be written. */
START_TEST(poll_reports_pollwrband_on_a_writable_stream)
{
	int sd = start(O_NONBLOCK);
	struct pollfd pfd = { sd, POLLWRBAND, 0 };

	ck_assert_int_eq(ustreams_ioctl(sd, I_CANPUT, 1), 1);
	ck_assert_int_eq(ustreams_poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents, POLLWRBAND);
	ustreams_close(sd);
}
END_TEST

/*
 * poll(2): an entry with a negative fd is ignored, revents 0 -- whatever
 * revents held before the call.
 */
START_TEST(poll_ignores_a_negative_fd)
{
	int sd = start(O_NONBLOCK);
	struct pollfd pfd = { -1, POLLIN, POLLIN | POLLERR };

	ck_assert_int_eq(ustreams_poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(pfd.revents, 0);
	ustreams_close(sd);
}
END_TEST

/*
 * Two races between the application's calls on one thread and a helper
 * thread's.  The helper acts once a round of the application's loop, while
 * that round runs: at the same time as its calls, but never a flood.  A
 * flood would keep the thread inside a perimeter running the helper's
 * deferred work for as long as it lasted, and could fill the budget with
 * it.  A helper asserts nothing: Check's assertions belong to the test's
 * own thread (unforked, a failure long-jumps to it).
 */
static atomic_bool race_stop;
static atomic_uint race_round;		/* the application's round */
static int race_sd;

/* Wait for the application's next round; false once told to stop. */
static bool
race_next_round(unsigned *seenp)
{
	unsigned i;

	while ((i = atomic_load(&race_round)) == *seenp) {
		if (atomic_load(&race_stop))
			return (false);
		sched_yield();
	}
	*seenp = i;
	return (!atomic_load(&race_stop));
}

static void
race_start(pthread_t *tp, void *(*helper)(void *))
{
	atomic_store(&race_stop, false);
	atomic_store(&race_round, 0);
	ck_assert_int_eq(pthread_create(tp, NULL, helper, NULL), 0);
}

static void
race_stop_helper(pthread_t t)
{
	atomic_store(&race_stop, true);
	pthread_join(t, NULL);
}

/*
 * Threads: a reader draining the head (non-blocking, with the pollfd made)
 * and another thread flushing the read side with I_FLUSH at the same time.
 */
static void *
race_flusher(void *arg)
{
	unsigned seen = 0;

	(void) arg;
	while (race_next_round(&seen))
		(void) ustreams_ioctl(race_sd, I_FLUSH, FLUSHR);
	return (NULL);
}

START_TEST(threads_read_and_i_flush_race_free)
{
	pthread_t t;
	char buf[64];

	harness_boot(MEM_4M, USTREAMS_EXEC_THREADS);
	tsh_register();
	tsh_reset();
	tsh_echo = true;
	race_sd = open_drv(O_NONBLOCK);
	ck_assert_int_ge(ustreams_pollfd(race_sd), 0);
	race_start(&t, race_flusher);
	for (int i = 0; i < 20000; i++) {
		atomic_store(&race_round, (unsigned)i + 1);
		(void) ustreams_write(race_sd, "abcdefgh", 8);
		(void) ustreams_read(race_sd, buf, sizeof (buf));
	}
	race_stop_helper(t);
	ustreams_close(race_sd);
}
END_TEST

/*
 * Threads: the driver sends M_SETOPTS up (the read mode, the write
 * offset) while the application writes and reads on another thread: the
 * options change under the stream head's lock, which the calls that use
 * them take too.  Every message still comes back whole, and the options
 * end as the last M_SETOPTS set them.
 */
static void *
race_setopts(void *arg)
{
	unsigned seen = 0;

	(void) arg;
	while (race_next_round(&seen)) {
		struct stroptions so = { .so_flags = SO_READOPT | SO_WROFF,
		    .so_readopt = (seen & 1) ? RMSGN : RMSGD,
		    .so_wroff = (ushort_t)(seen % 17) };
		mblk_t *mp = allocb(sizeof (so), BPRI_HI);

		if (mp == NULL)
			continue;	/* memory short: next round */
		DB_TYPE(mp) = M_SETOPTS;
		memcpy(mp->b_wptr, &so, sizeof (so));
		mp->b_wptr += sizeof (so);
		up(mp);
	}
	return (NULL);
}

START_TEST(threads_m_setopts_while_writing_and_reading_race_free)
{
	struct stroptions so = { .so_flags = SO_READOPT | SO_WROFF,
	    .so_readopt = RMSGN, .so_wroff = 4 };
	pthread_t t;
	char buf[64];
	int opt = -1;

	harness_boot(MEM_4M, USTREAMS_EXEC_THREADS);
	tsh_register();
	tsh_reset();
	tsh_echo = true;
	race_sd = open_drv(O_NONBLOCK);
	race_start(&t, race_setopts);
	for (int i = 0; i < 20000; i++) {
		ssize_t n;

		atomic_store(&race_round, (unsigned)i + 1);
		ck_assert_int_eq(ustreams_write(race_sd, "abcdefgh", 8), 8);
		/* One message a read in either mode: echo turns it round. */
		do
			n = ustreams_read(race_sd, buf, sizeof (buf));
		while (n < 0 && errno == EAGAIN);
		ck_assert_int_eq(n, 8);
		ck_assert_mem_eq(buf, "abcdefgh", 8);
	}
	race_stop_helper(t);
	up_setopts(&so);
	ck_assert_int_eq(ustreams_ioctl(race_sd, I_GRDOPT, &opt), 0);
	ck_assert_int_eq(opt & RMODEMASK, RMSGN);
	ustreams_close(race_sd);
}
END_TEST

/*
 * Zero-length parts with a NULL buffer (SVR4 allows them: nothing is
 * copied, so nothing is read from or written to the NULL buffer; the
 * sanitizer build checks that).
 */
START_TEST(putmsg_zero_length_ctl_with_null_buf)
{
	int sd = start(O_NONBLOCK);
	struct strbuf ctl = { 0, 0, NULL };

	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, NULL, RS_HIPRI), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(sndzero_write_of_null_buf)
{
	int sd = start(O_NONBLOCK);

	ck_assert_int_eq(ustreams_ioctl(sd, I_SWROPT, SNDZERO), 0);
	ck_assert_int_eq(ustreams_write(sd, NULL, 0), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(getmsg_data_maxlen_0_null_buf)
{
	int sd = start(O_NONBLOCK);
	struct strbuf data = { 0, 0, NULL };
	int flags = 0;

	up_data("abc");
	ck_assert_int_eq(ustreams_getmsg(sd, NULL, &data, &flags), MOREDATA);
	ck_assert_int_eq(data.len, 0);
	ustreams_close(sd);
}
END_TEST

static Suite *
sthead_suite(void)
{
	Suite *s = suite_create("sthead");
	TCase *tr = harness_tcase("read", 30);
	TCase *tg = harness_tcase("getmsg", 30);
	TCase *tw = harness_tcase("write", 30);
	TCase *te = harness_tcase("errors", 30);
	TCase *tf = harness_tcase("flush and options", 30);
	TCase *ti = harness_tcase("ioctl", 30);
	TCase *tp = harness_tcase("poll", 30);
	TCase *to = harness_tcase("open and close", 30);
	TCase *tt = harness_tcase("threads", 120);

	tcase_add_test(tr, rnorm_read_is_a_byte_stream_across_messages);
	tcase_add_test(tr, rmsgd_read_takes_one_message_and_discards_the_rest);
	tcase_add_test(tr, rmsgn_read_takes_one_message_and_keeps_the_rest);
	tcase_add_test(tr, rprotnorm_read_of_a_protocol_message_fails_ebadmsg);
	tcase_add_test(tr, rprotdat_read_delivers_the_control_part_as_data);
	tcase_add_test(tr, rprotdis_read_discards_the_control_part);
	tcase_add_test(tr, read_that_takes_every_byte_leaves_no_empty_rest);
	tcase_add_test(tr,
	    read_of_a_zero_length_message_returns_0_and_removes_it);
	tcase_add_test(tr,
	    rnorm_read_stops_at_a_zero_length_message_and_leaves_it);
	tcase_add_test(tr, nonblocking_read_with_nothing_queued_fails_eagain);
	tcase_add_test(tr, blocking_read_waits_for_data_on_the_virtual_clock);
	tcase_add_test(tr, blocking_read_is_woken_by_a_hangup_and_returns_0);
	tcase_add_test(tr,
	    blocking_read_is_woken_by_an_m_error_and_fails_with_it);
	suite_add_tcase(s, tr);

	tcase_add_test(tg, getmsg_returns_the_control_and_data_parts);
	tcase_add_test(tg, getmsg_of_a_data_message_has_no_control_part);
	tcase_add_test(tg, getmsg_of_a_high_priority_message_sets_rs_hipri);
	tcase_add_test(tg, getmsg_rs_hipri_takes_only_a_high_priority_message);
	tcase_add_test(tg, getmsg_morectl_leaves_the_rest_of_the_control_part);
	tcase_add_test(tg, getmsg_moredata_leaves_the_rest_of_the_data_part);
	tcase_add_test(tg, getmsg_leaves_a_part_not_asked_for_on_the_queue);
	tcase_add_test(tg, getmsg_with_bad_flags_is_einval);
	tcase_add_test(tg, getpmsg_msg_any_reports_class_and_band);
	tcase_add_test(tg, getpmsg_msg_band_takes_only_a_band_at_least_as_high);
	tcase_add_test(tg,
	    getpmsg_msg_hipri_takes_only_a_high_priority_message);
	tcase_add_test(tg, getpmsg_with_bad_flags_is_einval);
	suite_add_tcase(s, tg);

	tcase_add_test(tw,
	    putmsg_sends_an_m_proto_control_part_and_m_data_part);
	tcase_add_test(tw, putmsg_rs_hipri_sends_m_pcproto);
	tcase_add_test(tw, putmsg_of_data_only_sends_m_data);
	tcase_add_test(tw,
	    putmsg_with_neither_part_sends_nothing_and_returns_0);
	tcase_add_test(tw,
	    putmsg_of_a_zero_length_data_part_sends_a_zero_length_message);
	tcase_add_test(tw,
	    putmsg_rs_hipri_with_a_zero_length_control_part_is_sent);
	tcase_add_test(tw, putmsg_einval_cases);
	tcase_add_test(tw, putpmsg_msg_band_sends_in_the_band);
	tcase_add_test(tw,
	    putmsg_data_outside_the_packet_sizes_below_is_erange);
	tcase_add_test(tw, write_splits_at_the_packet_size_of_the_queue_below);
	tcase_add_test(tw, zero_length_write_sends_nothing_without_sndzero);
	tcase_add_test(tw,
	    zero_length_write_with_sndzero_sends_a_zero_length_message);
	tcase_add_test(tw, i_swropt_with_unknown_bits_is_einval);
	tcase_add_test(tw, nonblocking_write_to_a_full_stream_fails_eagain);
	tcase_add_test(tw,
	    nonblocking_write_returns_what_went_before_flow_control);
	tcase_add_test(tw, blocking_write_waits_until_the_stream_below_drains);
	tcase_add_test(tw,
	    blocking_write_keeps_waiting_until_everything_is_written);
	tcase_add_test(tw,
	    nonblocking_putmsg_to_a_full_stream_fails_eagain_but_not_rs_hipri);
	tcase_add_test(tw, blocking_putmsg_waits_until_the_stream_below_drains);
	tcase_add_test(tw,
	    close_waits_for_banded_messages_until_the_driver_takes_them);
	suite_add_tcase(s, tw);

	tcase_add_test(te, read_error_fails_reads_and_flushes_queued_data);
	tcase_add_test(te, read_error_flushes_the_heads_read_queue_itself);
	tcase_add_test(te,
	    one_byte_m_error_sets_both_sides_and_flushes_both_ways);
	tcase_add_test(te, write_side_error_leaves_reads_alone);
	tcase_add_test(te, read_side_error_leaves_writes_alone);
	tcase_add_test(te, m_error_of_0_clears_the_error);
	tcase_add_test(te, two_byte_m_error_of_0_clears_one_side);
	tcase_add_test(te, nonpersistent_read_error_is_reported_once);
	tcase_add_test(te, nonpersistent_write_error_is_reported_once);
	tcase_add_test(te, i_gerropt_reports_both_sides_options);
	tcase_add_test(te, hangup_reads_queued_data_then_end_of_file);
	tcase_add_test(te, hangup_makes_getmsg_return_empty_parts_once_drained);
	tcase_add_test(te, hangup_fails_writes_with_enxio);
	tcase_add_test(te, unhangup_restores_reads_and_writes);
	suite_add_tcase(s, te);

	tcase_add_test(tf,
	    m_flush_flushr_from_below_flushes_the_heads_read_queue);
	tcase_add_test(tf,
	    m_flush_of_two_bytes_without_flushband_flushes_every_band);
	tcase_add_test(tf,
	    m_flush_flushw_from_below_is_turned_around_without_flushr);
	tcase_add_test(tf, m_flush_flushband_from_below_flushes_only_that_band);
	tcase_add_test(tf, i_flush_flushes_the_head_and_sends_m_flush_down);
	tcase_add_test(tf, i_flush_flushw_reaches_the_driver_and_leaves_reads);
	tcase_add_test(tf, i_flush_with_bad_flags_is_einval);
	tcase_add_test(tf, i_flushband_flushes_one_band_and_sends_it_down);
	tcase_add_test(tf, m_setopts_sets_the_read_option);
	tcase_add_test(tf, m_setopts_read_mode_alone_keeps_the_protocol_option);
	tcase_add_test(tf, m_setopts_water_marks_set_the_heads_flow_control);
	tcase_add_test(tf,
	    m_setopts_write_offset_leaves_room_in_written_blocks);
	tcase_add_test(tf, m_setopts_error_option_makes_errors_nonpersistent);
	tcase_add_test(tf, m_setopts_shorter_than_stroptions_is_discarded);
	suite_add_tcase(s, tf);

	tcase_add_test(ti,
	    i_push_stacks_modules_below_the_head_and_i_look_names_the_top);
	tcase_add_test(ti, i_pop_removes_the_top_module);
	tcase_add_test(ti, i_pop_and_i_look_without_a_module_are_einval);
	tcase_add_test(ti, i_push_of_an_unknown_module_is_einval);
	tcase_add_test(ti, i_find_tells_whether_a_module_is_on_the_stream);
	tcase_add_test(ti, i_canput_follows_flow_control_below);
	tcase_add_test(ti, i_nread_counts_messages_and_the_first_ones_bytes);
	tcase_add_test(ti, i_srdopt_and_i_grdopt_set_and_get_the_read_options);
	tcase_add_test(ti, i_srdopt_with_bad_options_is_einval);
	tcase_add_test(ti,
	    i_str_sends_m_ioctl_down_and_returns_the_acks_value_and_data);
	tcase_add_test(ti, i_str_answered_by_m_iocnak_fails_with_its_error);
	tcase_add_test(ti,
	    i_str_unanswered_fails_etime_after_ic_timout_seconds);
	tcase_add_test(ti,
	    i_str_returns_when_a_late_ack_arrives_not_at_its_timeout);
	tcase_add_test(ti,
	    i_str_discards_a_late_answer_to_an_ioctl_that_timed_out);
	tcase_add_test(ti, i_str_fails_enxio_at_a_hangup_while_it_waits);
	tcase_add_test(ti,
	    i_str_ack_with_ioc_count_beyond_its_data_copies_what_is_there);
	tcase_add_test(ti, i_str_with_ic_timout_0_waits_the_default_15_seconds);
	tcase_add_test(ti, unknown_ioctl_is_einval);
	suite_add_tcase(s, ti);

	tcase_add_test(tp, poll_reports_pollin_for_a_normal_message);
	tcase_add_test(tp, poll_reports_pollpri_for_a_high_priority_message);
	tcase_add_test(tp,
	    poll_reports_pollin_and_pollrdband_for_a_banded_message);
	tcase_add_test(tp,
	    poll_reports_pollout_while_flow_control_lets_writes_through);
	tcase_add_test(tp, poll_reports_pollerr_after_m_error);
	tcase_add_test(tp, poll_reports_pollhup_and_not_pollout_after_m_hangup);
	tcase_add_test(tp, poll_reports_pollnval_for_a_closed_descriptor);
	tcase_add_test(tp, poll_with_timeout_0_returns_at_once);
	tcase_add_test(tp,
	    poll_timeout_advances_the_virtual_clock_by_the_timeout);
	tcase_add_test(tp, poll_wakes_when_a_message_arrives);
	tcase_add_test(tp, pollfd_is_readable_while_a_message_is_queued);
	tcase_add_test(tp, pollfd_follows_errors_hangups_and_flushes_both_ways);
	suite_add_tcase(s, tp);

	tcase_add_test(to, open_of_an_unknown_driver_is_enodev);
	tcase_add_test(to,
	    unregister_refuses_while_in_use_and_forgets_the_name_after);
	tcase_add_test(to,
	    register_takes_names_of_fmnamesz_characters_and_no_longer);
	tcase_add_test(to, open_past_the_last_descriptor_is_emfile);
	tcase_add_test(to,
	    driver_open_failure_propagates_and_leaves_nothing_allocated);
	tcase_add_test(to, calls_on_a_closed_descriptor_fail_ebadf);
	tcase_add_test(to, close_pops_the_modules_and_closes_the_driver);
	tcase_add_test(to,
	    close_leaves_no_service_run_of_the_stream_head_pending);
	tcase_add_test(to, shutdown_closes_streams_still_open_and_warns);
	suite_add_tcase(s, to);

	tcase_add_test(tt,
	    threads_push_and_pop_under_traffic_deliver_every_message_once);
	tcase_add_test(tt, threads_push_and_pop_under_traffic_keep_the_order);
	tcase_add_test(tt, threads_a_second_i_str_waits_its_turn_and_is_woken);
	tcase_add_test(tt,
	    threads_read_runs_the_service_procedures_ready_before_it_sleeps);
	tcase_add_test(tt,
	    threads_write_runs_the_service_procedure_it_enabled_on_return);
	suite_add_tcase(s, tt);
	TCase *ta = harness_tcase("more SVR4 rules", 30);

	tcase_add_test(ta,
	    write_above_maxpsz_with_minpsz_is_erange_sends_nothing);
	tcase_add_test(ta, write_with_a_maximum_packet_size_of_0_sends_nothing);
	tcase_add_test(ta, getmsg_rs_hipri_after_hangup_returns_empty_message);
	tcase_add_test(ta, blocking_getmsg_rs_hipri_after_hangup_returns);
	tcase_add_test(ta, second_m_pcproto_is_discarded_while_one_is_queued);
	tcase_add_test(ta, i_str_ack_with_ioc_error_fails_with_it);
	tcase_add_test(ta, read_of_0_bytes_returns_0_at_once);
	tcase_add_test(ta, read_of_0_bytes_reports_the_read_error);
	tcase_add_test(ta, partial_read_of_a_banded_message_keeps_its_place);
	tcase_add_test(ta,
	    getmsg_exact_fit_with_an_empty_tail_block_is_whole);
	tcase_add_test(ta, poll_reports_pollwrband_on_a_writable_stream);
	tcase_add_test(ta, poll_ignores_a_negative_fd);
	tcase_add_test(ta, putmsg_zero_length_ctl_with_null_buf);
	tcase_add_test(ta, sndzero_write_of_null_buf);
	tcase_add_test(ta, getmsg_data_maxlen_0_null_buf);
	suite_add_tcase(s, ta);
	{
		TCase *tat = harness_tcase("races", 120);

		tcase_add_test(tat, threads_read_and_i_flush_race_free);
		tcase_add_test(tat,
		    threads_m_setopts_while_writing_and_reading_race_free);
		suite_add_tcase(s, tat);
	}
	return (s);
}

int
main(void)
{
	return (harness_run(sthead_suite()));
}
