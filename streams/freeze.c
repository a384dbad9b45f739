/*
 * Freezing a stream: freezestr, unfreezestr.
 *
 * SVR5 gives a module on a multiprocessor one way to look at and change a
 * queue's messages and fields with no other thread changing them
 * meanwhile: freeze the stream, call insq, rmvq, strqget and strqset,
 * unfreeze it.  A frozen stream holds up every other thread that tries to
 * put a message on, or take one off, any queue of the stream.
 *
 * Principles of operation.  freezestr takes the stream's sd_freeze, so
 * that there is one freezer at a time and no push, pop or close changes
 * q_next meanwhile (they change it between stream_relink_enter and _exit,
 * which take sd_freeze too); then, from the stream head down to the
 * driver, the write and then the read queue's qu_lock; then it sets the
 * stream's sd_freezer to the caller's token.  unfreezestr clears it
 * before it drops the locks, so the only thread that can find its own
 * token there is the freezer.  Every queue operation of the framework
 * takes a queue's lock through qu_lock() (stream_impl.h), which lets the
 * freezer through, because it holds the lock already, and makes every
 * other thread wait until unfreezestr.  So
 * the freezer may call insq, rmvq, strqget and strqset, and also the
 * other queue utilities (putq, getq, flushq, qenable, ...), on any queue
 * of the stream.  It must not pass a message on (put, putnext, qreply,
 * putctl ...): the put procedure it called would run inside the frozen
 * stream, and the stream head's would take sd_lock, which is taken before
 * a queue's lock, never after.  In debug builds put and putnext panic
 * when the caller has a stream frozen, so that such a call is a report
 * and not a deadlock; release builds keep the check off the put path.
 *
 * Other threads are held at their first queue operation in the stream,
 * not at the entry of a put or service procedure, as on illumos: a put
 * procedure that only passes its message on is not held up.
 *
 * Lock order: sd_plumb, sd_freeze, sd_lock, the queues' qu_lock from the
 * stream head down, write queue before read queue.  Every other path
 * takes one qu_lock at a time, so the walk cannot deadlock with them.  A
 * thread that freezes two streams at once must take them in one order
 * everywhere; ustreams does not check that.
 */
#include <sys/stream.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#include <stdatomic.h>

#include "sthead.h"
#include "../ddi/where.h"

__thread unsigned str_nfrozen __attribute__((tls_model("initial-exec")));

static void
freeze_misuse(const char *func, const char *what, queue_t *q,
    const void *caller)
{
	char where[UST_WHERE_LEN];

	cmn_err(CE_PANIC, "%s: queue %p: %s (called from %s)", func,
	    (void *)q, what, ust_where(caller, where, sizeof (where)));
}

/*
 * Lock (lock true) or unlock each queue of sd, from the stream head
 * down.  sd_freeze held, so q_next does not change.
 */
static void
freeze_walk(struct stdata *sd, bool lock)
{
	struct qpair *qp = sd->sd_head;

	for (;;) {
		for (int side = 1; side >= 0; side--) {
			if (lock)
				kmutex_lock(&qp->qp_u[side].qu_lock);
			else
				kmutex_unlock(&qp->qp_u[side].qu_lock);
		}
		if (qp == sd->sd_drv)
			break;
		queue_t *nq = q_next_load(&qp->qp_q[1]);

		if (nq == NULL)		/* being closed: the driver is off */
			break;
		qp = QPAIR(nq);
	}
}

/*
 * freezestr - freeze the stream that q belongs to.  Returns the priority
 * level to give unfreezestr (ustreams has no interrupt levels: plstr).
 * Waits while another thread has the stream frozen.  The caller must not
 * have it frozen already.  Base, service or callout context.
 */
pl_t
freezestr(queue_t *q)
{
	struct stdata *sd = QPAIR(q)->qp_sd;
	const void *caller = __builtin_return_address(0);

	if (atomic_load_explicit(&sd->sd_freezer, memory_order_relaxed) ==
	    ust_curthread())
		freeze_misuse("freezestr", "its stream is already frozen by "
		    "the caller", q, caller);
	(void) pthread_mutex_lock(&sd->sd_freeze);
	freeze_walk(sd, true);
	atomic_store_explicit(&sd->sd_freezer, ust_curthread(),
	    memory_order_relaxed);
	str_nfrozen++;
	return (plstr);
}

/*
 * unfreezestr - thaw the stream q belongs to, which the caller froze with
 * freezestr; pl is what freezestr returned.
 */
void
unfreezestr(queue_t *q, pl_t pl)
{
	struct stdata *sd = QPAIR(q)->qp_sd;

	(void) pl;
	if (atomic_load_explicit(&sd->sd_freezer, memory_order_relaxed) !=
	    ust_curthread())
		freeze_misuse("unfreezestr", "its stream is not frozen by the "
		    "caller", q, __builtin_return_address(0));
	ASSERT(str_nfrozen > 0);
	str_nfrozen--;
	atomic_store_explicit(&sd->sd_freezer, NULL, memory_order_relaxed);
	freeze_walk(sd, false);
	(void) pthread_mutex_unlock(&sd->sd_freeze);
}

/* Has the calling thread frozen q's stream (qu_frozen_by_me)? */
bool
freeze_holds(queue_t *q)
{
	return (atomic_load_explicit(&QPAIR(q)->qp_sd->sd_freezer,
	    memory_order_relaxed) == ust_curthread());
}

/* A put while the caller has a stream frozen: see above. */
void
freeze_put_misuse(const char *func, queue_t *q, const void *caller)
{
	freeze_misuse(func, "the caller has a stream frozen (freezestr); "
	    "messages may not be passed on until unfreezestr", q, caller);
}

/*
 * Push, pop and close wait here while another thread has the stream
 * frozen.  The freezer itself would wait for ever: a panic instead.
 */
void
stream_relink_enter(struct stdata *sd)
{
	if (atomic_load_explicit(&sd->sd_freezer, memory_order_relaxed) ==
	    ust_curthread())
		freeze_misuse("stream_relink_enter", "push, pop or close of a "
		    "stream the caller has frozen", &sd->sd_head->qp_q[0],
		    __builtin_return_address(0));
	(void) pthread_mutex_lock(&sd->sd_freeze);
}

void
stream_relink_exit(struct stdata *sd)
{
	(void) pthread_mutex_unlock(&sd->sd_freeze);
}
