/*
 * A model-based test of a queue's list and counts (streams/queue.c):
 * long random sequences of putq, putbq, insq, getq, rmvq, flushq and
 * flushband on one queue, each checked against a plain model.
 *
 * test_queue.c pins each rule down with a few messages; this test mixes
 * them -- high-priority messages (some with a stray b_band), bands 1 to 3,
 * band 0, data and non-data types, multi-block messages, low water marks
 * so that the queue is full half the time -- and after every operation
 * compares the whole state:
 *
 *  - the list, message by message, through q_first/b_next and back
 *    through q_last/b_prev, against the model's order: high priority
 *    first, then bands in descending order, then band 0, each class in
 *    the order the rules put it (putq at the end of its class, putbq at
 *    the front, insq where asked if that keeps the order, else refused);
 *  - q_count (the bytes of band 0 and high-priority messages) and each
 *    band's qb_count, strqget's QCOUNT, QFIRST and QLAST of each band, and
 *    qsize;
 *  - QFULL and QB_FULL, which must be set exactly while a count is at
 *    or above its high-water mark.
 *
 * The queue is the write queue of a driver whose put and service
 * procedures are never called: the test itself plays the module, under
 * the sim executive, whose events it never runs.  Deterministic seeds; a
 * failure names seed and step.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ustreams.h>
#include <sys/ustreams_stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#define	MAXQ		64	/* messages on the queue, at most */
#define	NBAND		3	/* bands 1..NBAND are used */
#define	HIWAT		300
#define	LOWAT		100

#define	REQUIRE_AT(cond, what) REQUIRE((cond), "seed %u step %u: %s", \
	seed_now, step_now, (what))

static unsigned seed_now, step_now;

/*
 * The driver "qm_drv": its open notes its write queue; its procedures are
 * there to be registered, and never run.
 */
static queue_t *qm_wq;

static int
qm_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	qm_wq = WR(q);
	return (0);
}

static int
qm_close(queue_t *q, int oflag, cred_t *crp)
{
	qm_wq = NULL;
	return (0);
}

static int
qm_put(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static int
qm_srv(queue_t *q)
{
	return (0);
}

static struct module_info qm_minfo = {
	0x7102, "qm_drv", 0, INFPSZ, HIWAT, LOWAT
};
static struct qinit qm_rinit = {
	qm_put, qm_srv, qm_open, qm_close, NULL, &qm_minfo, NULL
};
static struct qinit qm_winit = {
	qm_put, qm_srv, NULL, NULL, NULL, &qm_minfo, NULL
};
static struct streamtab qm_info = { &qm_rinit, &qm_winit, NULL, NULL };

/* The model: the queue's messages in order. */
static mblk_t *model[MAXQ];
static int nmodel;

/* Where a message belongs: high priority 256, else its band. */
static unsigned
key(const mblk_t *mp)
{
	return (DB_TYPE(mp) >= QPCTL ? 256 : mp->b_band);
}

static size_t
bytes(const mblk_t *mp)
{
	size_t n = 0;

	for (; mp != NULL; mp = mp->b_cont)
		n += (size_t)MBLKL(mp);
	return (n);
}

static void
model_insert(int at, mblk_t *mp)
{
	memmove(&model[at + 1], &model[at],
	    (size_t)(nmodel - at) * sizeof (model[0]));
	model[at] = mp;
	nmodel++;
}

static void
model_remove(int at)
{
	memmove(&model[at], &model[at + 1],
	    (size_t)(nmodel - at - 1) * sizeof (model[0]));
	nmodel--;
}

/*
 * A new message: mostly M_DATA, some M_PROTO, M_PCPROTO (data, high
 * priority) and M_CTL (neither); band 0 to NBAND; one or two blocks of 0
 * to 150 bytes.  A high-priority message sometimes carries a band: it
 * must be ignored.
 */
static mblk_t *
random_msg(void)
{
	static const unsigned char types[] = {
		M_DATA, M_DATA, M_DATA, M_DATA, M_DATA, M_PROTO, M_PCPROTO,
		M_PCPROTO, M_CTL
	};
	mblk_t *mp = NULL;
	int nblk = 1 + (int)harness_rnd(2);

	for (int i = 0; i < nblk; i++) {
		int len = (int)harness_rnd(151);
		mblk_t *bp = allocb(len, BPRI_HI);

		REQUIRE_AT(bp != NULL, "allocb");
		bp->b_wptr += len;
		if (mp == NULL)
			mp = bp;
		else
			linkb(mp, bp);
	}
	DB_TYPE(mp) = types[harness_rnd(sizeof (types))];
	mp->b_band = (unsigned char)harness_rnd(NBAND + 1);
	return (mp);
}

/* Compare the queue with the model, in full. */
static void
check(queue_t *q)
{
	size_t count0 = 0, countb[NBAND + 1] = { 0 };
	mblk_t *mp, *prev = NULL;
	qband_t *qb;
	int i = 0;

	for (mp = q->q_first; mp != NULL; prev = mp, mp = mp->b_next, i++) {
		REQUIRE(i < nmodel && mp == model[i], "seed %u step %u: "
		    "message %d on the queue is not the model's", seed_now,
		    step_now, i);
		REQUIRE_AT(mp->b_prev == prev, "b_prev");
		if (key(mp) == 0 || key(mp) == 256)
			count0 += bytes(mp);
		else
			countb[mp->b_band] += bytes(mp);
	}
	REQUIRE(i == nmodel, "seed %u step %u: %d messages on the queue, "
	    "the model has %d", seed_now, step_now, i, nmodel);
	REQUIRE_AT(q->q_last == prev, "q_last");
	REQUIRE_AT(qsize(q) == nmodel, "qsize");
	REQUIRE(q->q_count == count0, "seed %u step %u: q_count %zu, "
	    "expected %zu", seed_now, step_now, q->q_count, count0);
	REQUIRE_AT(((q->q_flag & QFULL) != 0) == (count0 >= HIWAT), "QFULL");
	for (unsigned b = 1; b <= NBAND; b++) {
		mblk_t *first = NULL, *last = NULL, *got;
		size_t n;

		for (int j = 0; j < nmodel; j++) {
			if (key(model[j]) == b) {
				if (first == NULL)
					first = model[j];
				last = model[j];
			}
		}
		if (b > q->q_nband) {
			REQUIRE_AT(countb[b] == 0, "a band without a qband");
			continue;
		}
		for (qb = q->q_bandp, i = 1; i < (int)b; i++)
			qb = qb->qb_next;
		REQUIRE(qb->qb_count == countb[b], "seed %u step %u: band %u: "
		    "qb_count %zu, expected %zu", seed_now, step_now, b,
		    qb->qb_count, countb[b]);
		REQUIRE_AT(((qb->qb_flag & QB_FULL) != 0) ==
		    (countb[b] >= qb->qb_hiwat), "QB_FULL");
		REQUIRE_AT(strqget(q, QCOUNT, (unsigned char)b, &n) == 0 &&
		    n == countb[b], "strqget QCOUNT");
		REQUIRE_AT(strqget(q, QFIRST, (unsigned char)b, &got) == 0 &&
		    got == first, "strqget QFIRST");
		REQUIRE_AT(strqget(q, QLAST, (unsigned char)b, &got) == 0 &&
		    got == last, "strqget QLAST");
	}
}

/* putq: at the end of its class. */
static void
op_putq(queue_t *q)
{
	mblk_t *mp = random_msg();
	int at = 0;

	while (at < nmodel && key(model[at]) >= key(mp))
		at++;
	REQUIRE_AT(putq(q, mp) == 1, "putq refused");
	model_insert(at, mp);
}

/* putbq: at the front of its class (a message a service procedure put back). */
static void
op_putbq(queue_t *q)
{
	mblk_t *mp = nmodel > 0 && harness_rnd(2) == 0 ? getq(q) : random_msg();
	int at = 0;

	if (nmodel > 0 && mp == model[0])
		model_remove(0);
	while (at < nmodel && key(model[at]) > key(mp))
		at++;
	REQUIRE_AT(putbq(q, mp) == 1, "putbq refused");
	model_insert(at, mp);
}

/* insq before a random message (or at the end): only where it keeps order. */
static void
op_insq(queue_t *q)
{
	int at = (int)harness_rnd((uint32_t)nmodel + 1), rv;
	mblk_t *mp = random_msg(), *emp = at < nmodel ? model[at] : NULL;
	bool fits = (at == 0 || key(model[at - 1]) >= key(mp)) &&
	    (emp == NULL || key(emp) <= key(mp));

	rv = insq(q, emp, mp);
	REQUIRE(rv == (fits ? 1 : 0), "seed %u step %u: insq of key %u "
	    "before position %d of %d returned %d", seed_now, step_now,
	    key(mp), at, nmodel, rv);
	if (rv)
		model_insert(at, mp);
	else
		freemsg(mp);
}

static void
op_getq(queue_t *q)
{
	mblk_t *mp = getq(q);

	REQUIRE_AT(mp == (nmodel > 0 ? model[0] : NULL), "getq");
	if (mp != NULL) {
		model_remove(0);
		REQUIRE_AT(mp->b_next == NULL && mp->b_prev == NULL,
		    "getq left the message linked");
		freemsg(mp);
	}
}

static void
op_rmvq(queue_t *q)
{
	int at;
	mblk_t *mp;

	if (nmodel == 0)
		return;
	at = (int)harness_rnd((uint32_t)nmodel);
	mp = model[at];
	rmvq(q, mp);
	model_remove(at);
	REQUIRE_AT(mp->b_next == NULL && mp->b_prev == NULL,
	    "rmvq left the message linked");
	freemsg(mp);
}

/*
 * flushq (band < 0) or flushband: the model drops what matches, decided
 * before the flush frees it.
 */
static void
op_flush(queue_t *q, int band)
{
	int flag = harness_rnd(2) == 0 ? FLUSHDATA : FLUSHALL;

	for (int i = 0; i < nmodel; ) {
		mblk_t *mp = model[i];

		if ((flag == FLUSHALL || datamsg(DB_TYPE(mp))) &&
		    (band < 0 || key(mp) == (unsigned)band))
			model_remove(i);
		else
			i++;
	}
	if (band < 0)
		flushq(q, flag);
	else
		flushband(q, (unsigned char)band, flag);
}

static void
run(unsigned seed, unsigned steps)
{
	int sd, error;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	/* The registry is the process's: the first run registers. */
	error = ustreams_register_driver("qm_drv", &qm_info, 0);
	ck_assert_msg(error == 0 || error == EEXIST, "register: %d", error);
	sd = ustreams_open("qm_drv", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_ptr_nonnull(qm_wq);
	harness_rnd_seed(seed);
	seed_now = seed;
	nmodel = 0;
	for (step_now = 0; step_now < steps; step_now++) {
		uint32_t r = harness_rnd(100);

		if (nmodel >= MAXQ - 1)
			r = 50;		/* drain a little */
		if (r < 30)
			op_putq(qm_wq);
		else if (r < 40)
			op_putbq(qm_wq);
		else if (r < 50)
			op_insq(qm_wq);
		else if (r < 75)
			op_getq(qm_wq);
		else if (r < 90)
			op_rmvq(qm_wq);
		else if (r < 93)
			op_flush(qm_wq, -1);
		else
			op_flush(qm_wq, (int)harness_rnd(NBAND + 1));
		check(qm_wq);
	}
	flushq(qm_wq, FLUSHALL);
	ck_assert_int_eq(ustreams_close(sd), 0);
	harness_assert_no_block_in_use("seed %u, at the end", seed);
	harness_shutdown();
}

START_TEST(test_random_queue_operations_keep_order_counts_and_flags)
{
	for (unsigned seed = 0; seed < 100; seed++)
		run(seed, 3000);
}
END_TEST

static Suite *
queue_model_suite(void)
{
	Suite *s = suite_create("queue_model");
	TCase *tc = harness_tcase("model", 300);

	tcase_add_test(tc,
	    test_random_queue_operations_keep_order_counts_and_flags);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(queue_model_suite()));
}
