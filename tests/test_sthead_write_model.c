/*
 * A model-based test of the stream head's write side, as a driver sees
 * it: long random sequences of writes and putpmsgs on a non-blocking
 * stream, each checked against a plain model of the driver's write queue
 * and of what the call must answer.
 *
 * test_sthead.c pins each rule down with a message or two; this test
 * mixes them:
 *
 *  - packet sizes: the driver's minimum and maximum change as the test
 *    goes (passthru(7), when pushed, puts its own, 0 and INFPSZ, in front
 *    of them); a write is cut into packets of the maximum when the
 *    minimum is 0, fails with ERANGE when it cannot be, sends nothing
 *    when the maximum is 0; putpmsg's data part must fit whole;
 *  - flow control: the driver queues everything and the test takes
 *    messages off when it likes, so that band 0 and bands 1 to 3 fill and
 *    drain; a write stops before a packet when band 0 is full and returns
 *    what it sent (EAGAIN if nothing), putpmsg waits for its band's room,
 *    a high-priority one for nothing;
 *  - the write offset (M_SETOPTS SO_WROFF from the driver): the room left
 *    in front of the data of every data block written;
 *  - SNDZERO, putpmsg's EINVAL cases and its "neither part" no-op;
 *  - write errors (persistent or not) and hang-ups sent up by the driver,
 *    which writes must report before anything else -- a write error also
 *    flushes the driver's queue, through the M_FLUSH the head sends down.
 *
 * Each message the test takes off the driver's queue must be the next one
 * the model expects there, block by block: types, band, bytes, the room
 * in front of the data.  After every operation I_CANPUT for bands 0 to 3,
 * the write events of poll (POLLOUT, POLLWRNORM, POLLWRBAND) with POLLERR
 * and POLLHUP, and the driver queue's count are compared with the model.
 * Sim executive, whose events the test runs after each call; deterministic
 * seeds; a failure names seed, step, and the operations before it.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ustreams.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#define	MAXMSG		128	/* messages on the driver's queue, at most */
#define	MAXCTL		40	/* control part bytes, at most */
#define	MAXDATA		600	/* bytes a call sends, at most */
#define	NBAND		3	/* bands 1..NBAND are used */


/*
 * The driver "twm_drv": its write put procedure queues every data
 * message, for the test to take off, and handles M_FLUSH as a driver
 * does; nothing else comes down here.  No service procedure: nothing
 * drains the queue but the test.
 */
static queue_t *twm_rq, *twm_wq;

static int
twm_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	twm_rq = q;
	twm_wq = WR(q);
	return (0);
}

static int
twm_close(queue_t *q, int oflag, cred_t *crp)
{
	twm_rq = twm_wq = NULL;
	return (0);
}

static int
twm_wput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA:
	case M_PROTO:
	case M_PCPROTO:
		if (!putq(q, mp))
			freemsg(mp);
		return (0);
	case M_FLUSH:
		harness_driver_flush(q, mp);
		return (0);
	default:
		break;
	}
	freemsg(mp);
	return (0);
}

static int
twm_rput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info twm_minfo = {
	0x7302, "twm_drv", 0, INFPSZ, 1024, 256
};
static struct qinit twm_rinit = {
	twm_rput, NULL, twm_open, twm_close, NULL, &twm_minfo, NULL
};
static struct qinit twm_winit = {
	twm_wput, NULL, NULL, NULL, NULL, &twm_minfo, NULL
};
static struct streamtab twm_info = { &twm_rinit, &twm_winit, NULL, NULL };

/*
 * The model.  A message on the driver's queue: its control part (absent,
 * or its type and bytes), its data part (absent, or its bytes and the room
 * in front of them), its band.
 */
struct wmsg {
	int		w_ctype;	/* M_PROTO, M_PCPROTO, or 0 */
	unsigned char	w_band;
	bool		w_hasdata;
	int		w_clen, w_dlen;
	int		w_wroff;	/* room in front of the data */
	unsigned char	w_ctl[MAXCTL];
	unsigned char	w_data[MAXDATA];
};

static struct wmsg model[MAXMSG];	/* in the driver's queue order */
static int nmodel;
static int sd;
static size_t hiwat;			/* the driver queue's, every band's */
static ssize_t minpsz, maxpsz;		/* the driver's */
static int wroff;			/* the head's write offset */
static bool sndzero;
static int werr;			/* the head's write error; 0: none */
static bool hup, werr_once;		/* hung up; WERRNONPERSIST */
static int npushed;			/* passthru modules */

static bool
w_hipri(const struct wmsg *m)
{
	return (m->w_ctype == M_PCPROTO);
}

static int
w_bytes(const struct wmsg *m)
{
	return (m->w_clen + (m->w_hasdata ? m->w_dlen : 0));
}

/* Bytes counted against band b (0: ordinary and high-priority ones). */
static size_t
band_count(int b)
{
	size_t n = 0;

	for (int i = 0; i < nmodel; i++) {
		int mb = w_hipri(&model[i]) ? 0 : model[i].w_band;

		if (mb == b)
			n += (size_t)w_bytes(&model[i]);
	}
	return (n);
}

/* Flow control at the driver: band b is full at the high-water mark. */
static bool
band_room(int b)
{
	return (band_count(b) < hiwat);
}

/* putq's place: high priority first, then bands downwards, band 0 last. */
static void
model_queue(const struct wmsg *m)
{
	int i = 0;

	TRAIL_REQUIRE(nmodel < MAXMSG, "model full");
	while (i < nmodel && w_hipri(&model[i]))
		i++;
	if (!w_hipri(m)) {
		while (i < nmodel && model[i].w_band >= m->w_band)
			i++;
	}
	memmove(&model[i + 1], &model[i],
	    (size_t)(nmodel - i) * sizeof (model[0]));
	model[i] = *m;
	nmodel++;
}

static void
settle(void)
{
	TRAIL_REQUIRE(ustreams_sim_run_idle() >= 0, "sim_run_idle failed");
}

/* The packet sizes the head sees: those of the queue right below it. */
static void
psz_below(ssize_t *minp, ssize_t *maxp)
{
	*minp = npushed > 0 ? 0 : minpsz;
	*maxp = npushed > 0 ? INFPSZ : maxpsz;
}

/* What a call meets first: the write error (once, if so set), hang-up. */
static int
write_err(void)
{
	int e = werr;

	if (e != 0 && werr_once)
		werr = 0;
	return (e != 0 ? e : hup ? ENXIO : 0);
}

/* A size for a call: often one at a packet size's edge. */
static int
pick_size(int max)
{
	ssize_t lo, hi;
	int n;

	psz_below(&lo, &hi);
	switch (harness_rnd(6)) {
	case 0:
		n = (int)lo;
		break;
	case 1:
		n = hi == INFPSZ ? max : (int)hi;
		break;
	case 2:
		n = hi == INFPSZ ? max : (int)hi + 1;
		break;
	default:
		n = (int)harness_rnd((uint32_t)max + 1);
		break;
	}
	return (n > max ? max : n);
}

/* ---- writes ---- */

/*
 * write(2) of n bytes in the model: packets while band 0 has room;
 * returns the count or -1 with *errp, as the call must.
 */
static int
model_write(const unsigned char *buf, int n, int *errp)
{
	ssize_t lo, hi;
	int done = 0;

	*errp = 0;
	if (n == 0 && !sndzero)
		return ((*errp = write_err()) != 0 ? -1 : 0);
	psz_below(&lo, &hi);
	for (;;) {
		struct wmsg m = { .w_hasdata = true, .w_wroff = wroff };
		int k = n - done;

		if ((*errp = write_err()) != 0)
			break;
		if (!band_room(0)) {
			*errp = EAGAIN;
			break;
		}
		if (hi == 0)
			break;		/* nothing may pass */
		if (lo > 0 && (k < lo || (hi != INFPSZ && k > hi))) {
			*errp = ERANGE;
			break;
		}
		if (hi != INFPSZ && k > hi)
			k = (int)hi;
		m.w_dlen = k;
		memcpy(m.w_data, buf + done, (size_t)k);
		model_queue(&m);
		done += k;
		if (done == n)
			break;
	}
	return (done == 0 && *errp != 0 ? -1 : done);
}

static void
op_write(void)
{
	unsigned char buf[MAXDATA];
	int n = pick_size(MAXDATA), want, error;
	ssize_t r;

	harness_trail_op("write");
	harness_fill(buf, (size_t)n);
	errno = 0;
	r = ustreams_write(sd, buf, (size_t)n);
	settle();
	want = model_write(buf, n, &error);
	if (want < 0)
		TRAIL_REQUIRE(r == -1 && errno == error,
		    "write should fail with the model's errno");
	else
		TRAIL_REQUIRE(r == want, "write returned the wrong count");
}

static void
op_putpmsg(void)
{
	struct wmsg m = { .w_wroff = wroff };
	struct strbuf ctl, data, *ctlp, *datap;
	bool hipri = harness_rnd(6) == 0;
	int band = hipri ? 0 : (int)harness_rnd(NBAND + 1);
	int clen = (int)harness_rnd(MAXCTL + 2) - 1;	/* -1: none */
	int dlen = harness_rnd(4) == 0 ? -1 : pick_size(MAXDATA);
	int flags = hipri ? MSG_HIPRI : MSG_BAND, want = 0, r;
	ssize_t lo, hi;

	harness_trail_op("putpmsg");
	if (hipri && clen < 0 && harness_rnd(4) != 0)
		clen = (int)harness_rnd(MAXCTL + 1);
	switch (harness_rnd(24)) {	/* now and then, a bad argument */
	case 0:
		band = 256;
		break;
	case 1:
		flags = MSG_ANY;
		break;
	case 2:
		if (hipri)
			band = 1;
		break;
	default:
		break;
	}
	m.w_band = (unsigned char)band;
	if (clen >= 0) {
		m.w_ctype = hipri ? M_PCPROTO : M_PROTO;
		m.w_clen = clen;
		harness_fill(m.w_ctl, (size_t)clen);
	}
	if (dlen >= 0) {
		m.w_hasdata = true;
		m.w_dlen = dlen;
		harness_fill(m.w_data, (size_t)dlen);
	}
	ctl = (struct strbuf){ .maxlen = 0, .len = clen,
	    .buf = (char *)m.w_ctl };
	data = (struct strbuf){ .maxlen = 0, .len = dlen,
	    .buf = (char *)m.w_data };
	/* An absent part, as a NULL strbuf now and then. */
	ctlp = clen < 0 && harness_rnd(4) == 0 ? NULL : &ctl;
	datap = dlen < 0 && harness_rnd(4) == 0 ? NULL : &data;
	errno = 0;
	r = ustreams_putpmsg(sd, ctlp, datap, band, flags);
	settle();

	/* The model, in the order the checks come. */
	psz_below(&lo, &hi);
	if ((flags != MSG_HIPRI && flags != MSG_BAND) || band > 255 ||
	    (hipri && (clen < 0 || band != 0)))
		want = EINVAL;
	else if (clen < 0 && dlen < 0)
		want = 0;			/* nothing to send */
	else if (dlen >= 0 && (dlen < lo || (hi != INFPSZ && dlen > hi)))
		want = ERANGE;
	else if ((want = write_err()) == 0 && !hipri && !band_room(band))
		want = EAGAIN;
	else if (want == 0)
		model_queue(&m);
	if (want != 0)
		TRAIL_REQUIRE(r == -1 && errno == want,
		    "putpmsg should fail with the model's errno");
	else
		TRAIL_REQUIRE(r == 0, "putpmsg failed");
}

/* ---- the driver's side ---- */

/* The test takes the next messages off the driver's queue. */
static void
op_drain(void)
{
	int k = 1 + (int)harness_rnd(8);

	harness_trail_op("drain");
	while (k-- > 0 && nmodel > 0) {
		struct wmsg *m = &model[0];
		mblk_t *mp = getq(twm_wq), *dp;

		TRAIL_REQUIRE(mp != NULL, "the driver's queue is empty");
		TRAIL_REQUIRE(mp->b_band == m->w_band, "wrong band");
		dp = mp;
		if (m->w_ctype != 0) {
			TRAIL_REQUIRE(DB_TYPE(mp) == m->w_ctype,
			    "wrong control part type");
			TRAIL_REQUIRE(MBLKL(mp) == m->w_clen &&
			    memcmp(mp->b_rptr, m->w_ctl,
			    (size_t)m->w_clen) == 0, "wrong control part");
			dp = mp->b_cont;
		}
		if (m->w_hasdata) {
			TRAIL_REQUIRE(dp != NULL && DB_TYPE(dp) == M_DATA,
			    "data part missing");
			TRAIL_REQUIRE(MBLKL(dp) == m->w_dlen &&
			    memcmp(dp->b_rptr, m->w_data,
			    (size_t)m->w_dlen) == 0, "wrong data part");
			TRAIL_REQUIRE(dp->b_rptr - dp->b_datap->db_base ==
			    m->w_wroff, "wrong room in front of the data");
			dp = dp->b_cont;
		}
		TRAIL_REQUIRE(dp == NULL, "a block too many");
		freemsg(mp);
		nmodel--;
		memmove(&model[0], &model[1],
		    (size_t)nmodel * sizeof (model[0]));
		settle();		/* a back-enable, if owed */
	}
}

/* The driver changes its packet sizes. */
static void
op_psz(void)
{
	static const ssize_t mins[] = { 0, 0, 1, 10, 100 };
	static const ssize_t maxs[] = { INFPSZ, INFPSZ, 0, 50, 100, 300 };

	harness_trail_op("psz");
	minpsz = mins[harness_rnd(5)];
	maxpsz = maxs[harness_rnd(6)];
	TRAIL_REQUIRE(strqset(twm_wq, QMINPSZ, 0, minpsz) == 0, "QMINPSZ");
	TRAIL_REQUIRE(strqset(twm_wq, QMAXPSZ, 0, maxpsz) == 0, "QMAXPSZ");
}

/* Send a message up from the driver. */
static void
up(mblk_t *mp)
{
	TRAIL_REQUIRE(mp != NULL, "allocb failed");
	putnext(twm_rq, mp);
	settle();
}

static void
op_wroff(void)
{
	mblk_t *mp = allocb(sizeof (struct stroptions), BPRI_HI);
	struct stroptions so = { .so_flags = SO_WROFF };

	harness_trail_op("SO_WROFF");
	so.so_wroff = (ushort_t)harness_rnd(33);
	TRAIL_REQUIRE(mp != NULL, "allocb failed");
	DB_TYPE(mp) = M_SETOPTS;
	memcpy(mp->b_wptr, &so, sizeof (so));
	mp->b_wptr += sizeof (so);
	up(mp);
	wroff = so.so_wroff;
}

/*
 * An M_ERROR for the write side (the read side left alone): a value sets
 * the error and makes the head flush downwards, which empties the
 * driver's queue of data; 0 clears it.
 */
static void
op_error(void)
{
	mblk_t *mp = allocb(2, BPRI_HI);
	unsigned char e = werr != 0 ? 0 : harness_rnd(2) ? EIO : EPROTO;

	harness_trail_op("M_ERROR");
	TRAIL_REQUIRE(mp != NULL, "allocb failed");
	DB_TYPE(mp) = M_ERROR;
	*mp->b_wptr++ = NOERROR;
	*mp->b_wptr++ = e;
	up(mp);
	werr = e;
	if (e != 0)
		nmodel = 0;
}

static void
op_hangup(void)
{
	mblk_t *mp = allocb(0, BPRI_HI);

	harness_trail_op(hup ? "M_UNHANGUP" : "M_HANGUP");
	TRAIL_REQUIRE(mp != NULL, "allocb failed");
	DB_TYPE(mp) = hup ? M_UNHANGUP : M_HANGUP;
	up(mp);
	hup = !hup;
}

/* ---- the application's options, plumbing, flushes ---- */

static void
op_options(void)
{
	int got = -1;

	harness_trail_op("options");
	if (harness_rnd(2) == 0) {
		sndzero = harness_rnd(2) == 0;
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_SWROPT,
		    sndzero ? SNDZERO : 0) == 0, "I_SWROPT");
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_GWROPT, &got) == 0 &&
		    got == (sndzero ? SNDZERO : 0), "I_GWROPT");
	} else {
		werr_once = harness_rnd(2) == 0;
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_SERROPT,
		    werr_once ? WERRNONPERSIST : 0) == 0, "I_SERROPT");
	}
}

static void
op_plumb(void)
{
	if (npushed == 0 || (npushed < 2 && harness_rnd(2) == 0)) {
		harness_trail_op("I_PUSH");
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_PUSH, "passthru") == 0,
		    "failed");
		npushed++;
	} else {
		harness_trail_op("I_POP");
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_POP) == 0, "failed");
		npushed--;
	}
	settle();
}

/* I_FLUSH or I_FLUSHBAND of the write side: the driver flushes data. */
static void
op_flush(void)
{
	int band = (int)harness_rnd(NBAND + 2) - 1;	/* -1: I_FLUSH */

	harness_trail_op(band < 0 ? "I_FLUSH" : "I_FLUSHBAND");
	if (band < 0) {
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_FLUSH, FLUSHW) == 0, "failed");
		nmodel = 0;
	} else {
		struct bandinfo bi = { (unsigned char)band, FLUSHW };

		TRAIL_REQUIRE(ustreams_ioctl(sd, I_FLUSHBAND, &bi) == 0,
		    "failed");
		for (int i = 0; i < nmodel; ) {
			if (!w_hipri(&model[i]) && model[i].w_band == band) {
				nmodel--;
				memmove(&model[i], &model[i + 1],
				    (size_t)(nmodel - i) * sizeof (model[0]));
			} else {
				i++;
			}
		}
	}
	settle();
}

/* Flow control and the write events against the model. */
static void
check(void)
{
	struct pollfd pfd = { .fd = sd, .events = POLLOUT | POLLWRNORM |
	    POLLWRBAND };
	short want = 0;
	long count = -1;

	for (int b = 0; b <= NBAND; b++)
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_CANPUT, b) == band_room(b),
		    "I_CANPUT disagrees with the driver queue's room");
	TRAIL_REQUIRE(strqget(twm_wq, QCOUNT, 0, &count) == 0 &&
	    (size_t)count == band_count(0), "wrong count on the driver queue");
	if (werr != 0)
		want |= POLLERR;
	if (hup)
		want |= POLLHUP;
	else {
		if (band_room(0))
			want |= POLLOUT | POLLWRNORM;
		if (band_room(1))
			want |= POLLWRBAND;
	}
	TRAIL_REQUIRE(ustreams_poll(&pfd, 1, 0) == (want != 0) &&
	    pfd.revents == want, "poll: wrong write events");
}

static void
run(unsigned seed, unsigned steps)
{
	static const size_t hiwats[] = { 256, 1024, 4096 };
	int error;

	/* The registry is the process's: the first run registers. */
	error = ustreams_register_driver("twm_drv", &twm_info, 0);
	ck_assert_msg(error == 0 || error == EEXIST, "register: %d", error);
	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	harness_rnd_seed(seed);
	harness_trail_start(seed);
	nmodel = npushed = wroff = werr = 0;
	hup = sndzero = werr_once = false;
	sd = ustreams_open("twm_drv", O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(sd, 0);
	ck_assert_ptr_nonnull(twm_wq);
	/* The water marks are set before any band exists: all share them. */
	hiwat = hiwats[harness_rnd(3)];
	ck_assert_int_eq(strqset(twm_wq, QHIWAT, 0, (intptr_t)hiwat), 0);
	ck_assert_int_eq(strqset(twm_wq, QLOWAT, 0, (intptr_t)hiwat / 4), 0);
	minpsz = 0;
	maxpsz = INFPSZ;
	for (unsigned step = 0; step < steps; step++) {
		uint32_t r = harness_rnd(100);

		harness_trail_step(step);
		/* An error or a hang-up lasts a few steps. */
		if ((werr != 0 || hup) && harness_rnd(6) == 0)
			r = werr != 0 ? 98 : 99;	/* undo it */
		/* A write sends 12 packets at most (50 bytes each). */
		else if (r < 50 && nmodel >= MAXMSG / 2)
			r = 50;		/* drain instead */
		if (r < 25)
			op_write();
		else if (r < 50)
			op_putpmsg();
		else if (r < 78)
			op_drain();
		else if (r < 84)
			op_psz();
		else if (r < 87)
			op_wroff();
		else if (r < 90)
			op_options();
		else if (r < 93)
			op_flush();
		else if (r < 95)
			op_plumb();
		else if (r < 99)
			op_error();
		else
			op_hangup();
		harness_trail_check();
		check();
	}
	ck_assert_int_eq(ustreams_close(sd), 0);
	harness_assert_no_block_in_use("seed %u, at the end", seed);
	harness_shutdown();
}

START_TEST(test_random_writes_and_putmsgs_follow_the_model)
{
	for (unsigned seed = 0; seed < 200; seed++)
		run(seed, 3000);
}
END_TEST

static Suite *
sthead_write_model_suite(void)
{
	Suite *s = suite_create("sthead_write_model");
	TCase *tc = harness_tcase("model", 300);

	tcase_add_test(tc, test_random_writes_and_putmsgs_follow_the_model);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(sthead_write_model_suite()));
}
