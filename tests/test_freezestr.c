/*
 * freezestr, unfreezestr: freezing a stream.
 *
 * The contract (the SVR5 D3str pages; illumos 9F says the same): a frozen
 * stream holds up every other thread that puts a message on, or takes one
 * off, any of its queues, until the freezer thaws it; the freezer calls
 * insq, rmvq, strqget and strqset meanwhile.  ustreams also lets it call
 * the other queue utilities, and reports (a panic) a freeze of a stream
 * the caller has frozen, a thaw by a thread that did not freeze it, and a
 * message passed on while frozen.  freeze.c says how.
 *
 * The driver "fz_drv" queues what its put procedures are given (putq)
 * and its service procedures only count their runs, so that messages
 * stay where a test puts them.  The module "fz_mod" passes messages on.
 * The holding-up tests run under the threads executive: a helper thread
 * starts a queue operation while the test's thread has the stream frozen,
 * the test waits until the helper sleeps, and then checks that the
 * operation has not happened; nothing is timed.
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
#include <stdatomic.h>
#include <string.h>

#define	MEM_4M		(4u * 1024 * 1024)

static queue_t *fz_rq, *fz_wq;		/* the driver's */
static queue_t *fzm_wq;			/* the module's write queue */
static atomic_int fz_srvruns;

static int
fz_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	fz_rq = q;
	fz_wq = WR(q);
	return (0);
}

static int
fz_put(queue_t *q, mblk_t *mp)
{
	if (!putq(q, mp))
		freemsg(mp);
	return (0);
}

static int
fz_srv(queue_t *q)
{
	atomic_fetch_add(&fz_srvruns, 1);
	return (0);
}

static struct module_info fz_minfo = {
	0x7201, "fz_drv", 0, INFPSZ, 1024, 256
};
static struct qinit fz_rinit = {
	fz_put, fz_srv, fz_open, NULL, NULL, &fz_minfo, NULL
};
static struct qinit fz_winit = {
	fz_put, fz_srv, NULL, NULL, NULL, &fz_minfo, NULL
};
static struct streamtab fz_info = { &fz_rinit, &fz_winit, NULL, NULL };

static int
fzm_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	fzm_wq = WR(q);
	return (0);
}

static int
fzm_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info fzm_minfo = {
	0x7202, "fz_mod", 0, INFPSZ, 1024, 256
};
static struct qinit fzm_rinit = {
	fzm_put, NULL, fzm_open, NULL, NULL, &fzm_minfo, NULL
};
static struct qinit fzm_winit = {
	fzm_put, NULL, NULL, NULL, NULL, &fzm_minfo, NULL
};
static struct streamtab fzm_info = { &fzm_rinit, &fzm_winit, NULL, NULL };

static void
register_one(int error)
{
	ck_assert_msg(error == 0 || error == EEXIST, "register: %d", error);
}

/* Boot under exec, open a stream on fz_drv and push fz_mod on it. */
static int
fz_start(enum ustreams_exec exec)
{
	int sd;

	harness_boot(MEM_4M, exec);
	register_one(ustreams_register_driver("fz_drv", &fz_info, 0));
	register_one(ustreams_register_module("fz_mod", &fzm_info, 0));
	fz_rq = fz_wq = fzm_wq = NULL;
	atomic_store(&fz_srvruns, 0);
	sd = ustreams_open("fz_drv", O_RDWR);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "fz_mod"), 0);
	ck_assert_ptr_nonnull(fz_wq);
	ck_assert_ptr_nonnull(fzm_wq);
	return (sd);
}

/* A two-byte M_DATA message whose data is tag. */
static mblk_t *
mktag(const char *tag)
{
	mblk_t *mp = allocb(2, BPRI_HI);

	ck_assert_ptr_nonnull(mp);
	memcpy(mp->b_wptr, tag, 2);
	mp->b_wptr += 2;
	return (mp);
}

static bool
is_tag(const mblk_t *mp, const char *tag)
{
	return (mp != NULL && MBLKL(mp) == 2 &&
	    memcmp(mp->b_rptr, tag, 2) == 0);
}

START_TEST(the_freezer_uses_insq_rmvq_strqget_and_strqset)
{
	int sd = fz_start(USTREAMS_EXEC_SIM);
	queue_t *q = fz_wq;
	mblk_t *mp;
	size_t count = 0, hiwat = 0;
	pl_t pl;

	/* Frozen through the module's queue: the whole stream is. */
	pl = freezestr(fzm_wq);
	ck_assert_int_eq(insq(q, NULL, mktag("n1")), 1);
	ck_assert_int_eq(insq(q, q->q_first, mktag("n0")), 1);
	ck_assert_int_eq(insq(fz_rq, NULL, mktag("r0")), 1);
	ck_assert_int_eq(strqget(q, QCOUNT, 0, &count), 0);
	ck_assert_uint_eq(count, 4);
	ck_assert_int_eq(strqset(q, QHIWAT, 0, 3000), 0);
	ck_assert_int_eq(strqget(q, QHIWAT, 0, &hiwat), 0);
	ck_assert_uint_eq(hiwat, 3000);
	mp = q->q_first;
	ck_assert(is_tag(mp, "n0"));
	rmvq(q, mp);
	freemsg(mp);
	/* The other queue utilities work for the freezer too. */
	ck_assert_int_eq(putq(q, mktag("n2")), 1);
	ck_assert_int_eq(qsize(q), 2);
	unfreezestr(fzm_wq, pl);

	/* Thawed: every lock is free again, for anyone. */
	mp = getq(q);
	ck_assert(is_tag(mp, "n1"));
	freemsg(mp);
	mp = getq(q);
	ck_assert(is_tag(mp, "n2"));
	freemsg(mp);
	ck_assert_ptr_null(getq(q));
	ck_assert(is_tag(fz_rq->q_first, "r0"));
	/* insq enabled the queues (QWANTR); the runs come after the thaw. */
	(void) ustreams_sim_run_idle();
	ck_assert_int_ge(atomic_load(&fz_srvruns), 2);
	pl = freezestr(fz_wq);
	unfreezestr(fz_wq, pl);
	ustreams_close(sd);
}
END_TEST

/*
 * A helper thread's call on a queue of a stream another thread may have
 * frozen: it notes its thread id, says it starts, calls, says it is done.
 */
enum fz_op { OP_PUTQ, OP_FREEZE_INSQ, OP_PUSH };

struct fz_helper {
	enum fz_op	h_op;
	queue_t		*h_q;
	mblk_t		*h_mp;
	int		h_sd;
	int		h_result;
	atomic_int	h_tid;
	atomic_bool	h_started;
	atomic_bool	h_done;
	pthread_t	h_thread;
};

static void *
helper_main(void *arg)
{
	struct fz_helper *h = arg;
	pl_t pl;

	atomic_store(&h->h_tid, harness_gettid());
	atomic_store(&h->h_started, true);
	switch (h->h_op) {
	case OP_PUTQ:
		h->h_result = putq(h->h_q, h->h_mp);
		break;
	case OP_FREEZE_INSQ:
		pl = freezestr(h->h_q);
		h->h_result = insq(h->h_q, NULL, h->h_mp);
		unfreezestr(h->h_q, pl);
		break;
	case OP_PUSH:
		h->h_result = ustreams_ioctl(h->h_sd, I_PUSH, "fz_mod");
		break;
	}
	atomic_store(&h->h_done, true);
	return (NULL);
}

/* Start h and wait until it sleeps, held up by the freeze. */
static void
helper_start_and_wait_held(struct fz_helper *h)
{
	ck_assert_int_eq(pthread_create(&h->h_thread, NULL, helper_main, h),
	    0);
	while (!atomic_load(&h->h_started))
		sched_yield();
	ck_assert_msg(harness_wait_asleep(atomic_load(&h->h_tid)),
	    "the helper never slept");
	ck_assert_msg(!atomic_load(&h->h_done),
	    "the helper's call returned while the stream was frozen");
}

START_TEST(a_frozen_stream_holds_other_threads_queue_operations)
{
	int sd = fz_start(USTREAMS_EXEC_THREADS);
	struct fz_helper h = { .h_op = OP_PUTQ };
	queue_t *q = fz_wq;
	pl_t pl;

	h.h_q = q;
	h.h_mp = mktag("h0");
	/* The module's queue is frozen; the helper puts on the driver's. */
	pl = freezestr(fzm_wq);
	helper_start_and_wait_held(&h);
	ck_assert_ptr_null(q->q_first);
	ck_assert_int_eq(insq(q, NULL, mktag("f0")), 1);
	ck_assert(!atomic_load(&h.h_done));
	unfreezestr(fzm_wq, pl);
	ck_assert_int_eq(pthread_join(h.h_thread, NULL), 0);
	ck_assert_int_eq(h.h_result, 1);

	/* The freezer's message first: the helper's came after the thaw. */
	pl = freezestr(q);
	ck_assert(is_tag(q->q_first, "f0"));
	ck_assert(is_tag(q->q_first->b_next, "h0"));
	ck_assert_ptr_null(q->q_first->b_next->b_next);
	unfreezestr(q, pl);
	ustreams_close(sd);
}
END_TEST

START_TEST(a_second_freezer_waits_for_the_first)
{
	int sd = fz_start(USTREAMS_EXEC_THREADS);
	struct fz_helper h = { .h_op = OP_FREEZE_INSQ };
	queue_t *q = fz_wq;
	pl_t pl;

	h.h_q = q;
	h.h_mp = mktag("h0");
	pl = freezestr(q);
	helper_start_and_wait_held(&h);
	ck_assert_int_eq(insq(q, NULL, mktag("f0")), 1);
	unfreezestr(q, pl);
	ck_assert_int_eq(pthread_join(h.h_thread, NULL), 0);
	ck_assert_int_eq(h.h_result, 1);
	pl = freezestr(q);
	ck_assert(is_tag(q->q_first, "f0"));
	ck_assert(is_tag(q->q_first->b_next, "h0"));
	unfreezestr(q, pl);
	ustreams_close(sd);
}
END_TEST

START_TEST(a_push_waits_until_the_stream_is_thawed)
{
	int sd = fz_start(USTREAMS_EXEC_THREADS);
	struct fz_helper h = { .h_op = OP_PUSH };
	queue_t *below = fzm_wq, *head = backq(fzm_wq);
	pl_t pl;

	h.h_sd = sd;
	pl = freezestr(fz_wq);
	helper_start_and_wait_held(&h);
	/* A push goes right below the head: not linked in yet. */
	ck_assert_ptr_eq(backq(below), head);
	unfreezestr(fz_wq, pl);
	ck_assert_int_eq(pthread_join(h.h_thread, NULL), 0);
	ck_assert_int_eq(h.h_result, 0);
	ck_assert_ptr_ne(fzm_wq, below);
	ck_assert_ptr_eq(backq(below), fzm_wq);
	ck_assert_ptr_eq(backq(fzm_wq), head);
	ustreams_close(sd);
}
END_TEST

START_TEST(freezing_twice_thawing_unfrozen_and_putting_while_frozen_panic)
{
	int sd = fz_start(USTREAMS_EXEC_SIM);
	mblk_t *mp = mktag("p0");
	pl_t pl;
	int line;

	harness_panic_catch();
	pl = freezestr(fz_wq);
	HARNESS_EXPECT_PANIC((void) freezestr(fzm_wq)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(), "freezestr: queue ");
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "already frozen by the caller"));
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "(called from", line);

#ifdef DEBUG
	/* Debug builds only: release builds keep the put path clean. */
	HARNESS_EXPECT_PANIC(putnext(fzm_wq, mp));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "putnext: queue "));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "frozen"));
	HARNESS_EXPECT_PANIC(put(fz_wq, mp));
	harness_assert_prefix(harness_panic_msg(), "put: queue ");
#endif
	unfreezestr(fz_wq, pl);

	HARNESS_EXPECT_PANIC(unfreezestr(fz_wq, pl)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(), "unfreezestr: queue ");
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "not frozen by the caller"));
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "(called from", line);

	/* Nothing was lost: the stream freezes, and passes messages on. */
	pl = freezestr(fz_wq);
	unfreezestr(fz_wq, pl);
	putnext(fzm_wq, mp);
	ck_assert_ptr_eq(fz_wq->q_first, mp);
	ustreams_close(sd);
}
END_TEST

static Suite *
freezestr_suite(void)
{
	Suite *s = suite_create("freezestr");
	TCase *tc = harness_tcase("freezestr", 60);

	tcase_add_test(tc, the_freezer_uses_insq_rmvq_strqget_and_strqset);
	tcase_add_test(tc, a_frozen_stream_holds_other_threads_queue_operations);
	tcase_add_test(tc, a_second_freezer_waits_for_the_first);
	tcase_add_test(tc, a_push_waits_until_the_stream_is_thawed);
	tcase_add_test(tc,
	    freezing_twice_thawing_unfrozen_and_putting_while_frozen_panic);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(freezestr_suite()));
}
