/*
 * Scheduling: the perimeter around a queue pair's procedures, service
 * procedures run through the executive, qenable, noenable, enableok,
 * qprocson, qprocsoff, and the RCU read side that putnext uses.
 *
 * Principles of operation.  qenable(q) sets QENAB and posts the queue's
 * service event (once: a queue already enabled is not posted again); the
 * executive runs it in service context on one of its CPUs (or as a sim
 * event).  The executive never runs one event twice at once, so a service
 * procedure never runs concurrently with itself; QENAB is cleared just
 * before the procedure is called, so an enable during the run runs it
 * again afterwards.
 *
 * The perimeter (see stream_impl.h) serialises the put and service
 * procedures of a queue pair that is not MT-safe.  perim_enter() either
 * takes it or, when another thread is inside, leaves the work for that
 * thread; perim_exit() runs whatever was left before letting go, so work
 * is never stranded.
 */
#include <sys/stream.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#include <sched.h>
#include <stdatomic.h>
#include <urcu-bp.h>

#include "stream_impl.h"

#if defined(__SANITIZE_THREAD__)
/*
 * ThreadSanitizer cannot see liburcu's grace periods: tell it that what a
 * reader did before leaving its read-side section happens before what the
 * updater does after synchronize_rcu.
 */
extern void __tsan_acquire(void *addr);
extern void __tsan_release(void *addr);
static char rcu_tsan_sync;
#define	RCU_TSAN_RELEASE()	__tsan_release(&rcu_tsan_sync)
#define	RCU_TSAN_ACQUIRE()	__tsan_acquire(&rcu_tsan_sync)
#else
#define	RCU_TSAN_RELEASE()	((void)0)
#define	RCU_TSAN_ACQUIRE()	((void)0)
#endif

/*
 * Read-side sections nest (putnext calls a put procedure that calls
 * putnext ...); only the outermost one enters liburcu.
 */
static __thread unsigned rcu_depth __attribute__((tls_model("initial-exec")));

void
str_rcu_read_lock(void)
{
	if (rcu_depth++ == 0)
		urcu_bp_read_lock();
}

void
str_rcu_read_unlock(void)
{
	ASSERT(rcu_depth > 0);
	if (--rcu_depth == 0) {
		RCU_TSAN_RELEASE();
		urcu_bp_read_unlock();
	}
}

void
str_synchronize_rcu(void)
{
	urcu_bp_synchronize_rcu();
	RCU_TSAN_ACQUIRE();
}

/*
 * Run q's service procedure, unless its procedures were turned off since
 * it was scheduled (a run left pending in the perimeter can outlive
 * qprocsoff's cancel of the event).
 */
static void
run_srv(queue_t *q)
{
	struct qinit *qi = q->q_qinfo;
	bool on;

	kmutex_lock(&QPRIV(q)->qu_lock);
	q->q_flag &= ~(QENAB | QBACK);
	on = (q->q_flag & QPROCSON) != 0;
	kmutex_unlock(&QPRIV(q)->qu_lock);
	if (!on)
		return;
	if (qi->qi_mstat != NULL)
		(void) __atomic_fetch_add(&qi->qi_mstat->ms_scnt, 1,
		    __ATOMIC_RELAXED);
	(void) qi->qi_srvp(q);
}

/*
 * Call q's put procedure -- unless the pair is being popped: then the
 * message goes straight on, in the order the perimeter hands it over.
 */
static void
run_put(queue_t *q, mblk_t *mp)
{
	struct qinit *qi = q->q_qinfo;

	if (__builtin_expect(atomic_load_explicit(&QPAIR(q)->qp_forward,
	    memory_order_acquire), 0)) {
		putnext(q, mp);
		return;
	}
	if (qi->qi_mstat != NULL)
		(void) __atomic_fetch_add(&qi->qi_mstat->ms_pcnt, 1,
		    __ATOMIC_RELAXED);
	(void) qi->qi_putp(q, mp);
}

/*
 * Leave the perimeter, first running what other threads left: deferred
 * puts in order, then pending service procedures.
 */
void
perim_exit(struct qpair *qp)
{
	struct perim *pm = &qp->qp_perim;

	kmutex_lock(&pm->pm_lock);
	for (;;) {
		mblk_t *mp = pm->pm_head;

		if (mp != NULL) {
			queue_t *q = (queue_t *)mp->b_prev;

			pm->pm_head = mp->b_next;
			if (pm->pm_head == NULL)
				pm->pm_tail = NULL;
			mp->b_next = mp->b_prev = NULL;
			kmutex_unlock(&pm->pm_lock);
			run_put(q, mp);
			kmutex_lock(&pm->pm_lock);
			continue;
		}
		if (pm->pm_svc != 0 && atomic_load(&qp->qp_forward)) {
			pm->pm_svc = 0;		/* closed: no more service */
			continue;
		}
		if (pm->pm_svc != 0) {
			int side = (pm->pm_svc & 1) ? 0 : 1;

			pm->pm_svc &= ~(1u << side);
			kmutex_unlock(&pm->pm_lock);
			run_srv(&qp->qp_q[side]);
			kmutex_lock(&pm->pm_lock);
			continue;
		}
		break;
	}
	pm->pm_busy = false;
	kmutex_unlock(&pm->pm_lock);
}

/*
 * Call q's put procedure with mp, inside its pair's perimeter (or, if
 * busy, leave it to the thread inside).
 */
void
str_call_put(queue_t *q, mblk_t *mp)
{
	struct qpair *qp = QPAIR(q);
	struct perim *pm = &qp->qp_perim;

	if (qp->qp_mtsafe) {
		run_put(q, mp);
		return;
	}
	kmutex_lock(&pm->pm_lock);
	if (pm->pm_busy) {
		mp->b_next = NULL;
		mp->b_prev = (mblk_t *)q;
		if (pm->pm_tail != NULL)
			pm->pm_tail->b_next = mp;
		else
			pm->pm_head = mp;
		pm->pm_tail = mp;
		kmutex_unlock(&pm->pm_lock);
		return;
	}
	/*
	 * Being popped, and nothing left inside: pass the message on at once,
	 * on this thread.  Taking the perimeter here would let this caller's
	 * next messages be left behind it, and then overtaken by messages that
	 * bypass the module once it is unlinked.
	 */
	if (atomic_load_explicit(&qp->qp_forward, memory_order_relaxed)) {
		kmutex_unlock(&pm->pm_lock);
		putnext(q, mp);
		return;
	}
	pm->pm_busy = true;
	kmutex_unlock(&pm->pm_lock);
	run_put(q, mp);
	perim_exit(qp);
}

/*
 * Take the pair's perimeter for a base-context caller (pop), waiting for
 * the thread inside, if any, to leave.  Under the sim executive nobody
 * can be inside while the application runs.
 */
void
perim_enter_wait(struct qpair *qp)
{
	struct perim *pm = &qp->qp_perim;

	for (;;) {
		kmutex_lock(&pm->pm_lock);
		if (!pm->pm_busy) {
			pm->pm_busy = true;
			kmutex_unlock(&pm->pm_lock);
			return;
		}
		kmutex_unlock(&pm->pm_lock);
		ASSERT(!ust_exec_is_sim());
		sched_yield();
	}
}

/* The executive: q's service event. */
static void
svc_event(void *arg)
{
	queue_t *q = arg;
	struct qpair *qp = QPAIR(q);
	struct perim *pm = &qp->qp_perim;

	if (qp->qp_mtsafe) {
		run_srv(q);
		return;
	}
	kmutex_lock(&pm->pm_lock);
	if (pm->pm_busy) {
		pm->pm_svc |= q->q_uread ? 1u : 2u;
		kmutex_unlock(&pm->pm_lock);
		return;
	}
	pm->pm_busy = true;
	kmutex_unlock(&pm->pm_lock);
	run_srv(q);
	perim_exit(qp);
}

void
sched_init_queue(queue_t *q)
{
	ust_event_init(&QPRIV(q)->qu_svc, svc_event, q, USTREAMS_CTX_SERVICE);
}

/*
 * qenable - schedule q's service procedure.  Nothing happens if q has
 * none, is already enabled, or its procedures are off.  Any context;
 * does not block.
 */
void
qenable(queue_t *q)
{
	bool post = false;

	if (q->q_qinfo->qi_srvp == NULL)
		return;
	kmutex_lock(&QPRIV(q)->qu_lock);
	if (!(q->q_flag & QENAB) && (q->q_flag & QPROCSON)) {
		q->q_flag |= QENAB;
		post = true;
	}
	kmutex_unlock(&QPRIV(q)->qu_lock);
	if (post)
		(void) ust_event_post(&QPRIV(q)->qu_svc);
}

/* noenable - putq no longer enables q (but for high-priority messages). */
void
noenable(queue_t *q)
{
	kmutex_lock(&QPRIV(q)->qu_lock);
	q->q_flag |= QNOENB;
	kmutex_unlock(&QPRIV(q)->qu_lock);
}

/* enableok - undo noenable. */
void
enableok(queue_t *q)
{
	kmutex_lock(&QPRIV(q)->qu_lock);
	q->q_flag &= ~QNOENB;
	kmutex_unlock(&QPRIV(q)->qu_lock);
}

/*
 * qprocson - turn the pair's put and service procedures on (after open
 * has set up q_ptr).  The framework calls it after a successful open if
 * the module did not.
 */
void
qprocson(queue_t *q)
{
	queue_t *rq = Q_RD(q), *wq = Q_WR(q);

	kmutex_lock(&QPRIV(rq)->qu_lock);
	rq->q_flag |= QPROCSON;
	kmutex_unlock(&QPRIV(rq)->qu_lock);
	kmutex_lock(&QPRIV(wq)->qu_lock);
	wq->q_flag |= QPROCSON;
	kmutex_unlock(&QPRIV(wq)->qu_lock);
}

/*
 * qprocsoff - turn them off: no further service runs are scheduled, and a
 * pending or running one is cancelled or waited for.  Base context (it
 * may wait).  The framework calls it before close if the module did not.
 */
void
qprocsoff(queue_t *q)
{
	for (int i = 0; i < 2; i++) {
		queue_t *sq = &QPAIR(q)->qp_q[i];

		kmutex_lock(&QPRIV(sq)->qu_lock);
		sq->q_flag &= ~QPROCSON;
		kmutex_unlock(&QPRIV(sq)->qu_lock);
		(void) ust_event_cancel(&QPRIV(sq)->qu_svc);
		kmutex_lock(&QPRIV(sq)->qu_lock);
		sq->q_flag &= ~QENAB;
		kmutex_unlock(&QPRIV(sq)->qu_lock);
	}
}
