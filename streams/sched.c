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
 * is never stranded.  A message left so counts against its queue's flow
 * control until the put procedure has it (queue_deferred, queue.c).
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

/* Depth of the calling thread's read-side sections (see stream_impl.h). */
__thread unsigned str_rcu_depth __attribute__((tls_model("initial-exec")));

/* The outermost section: liburcu's. */
void
str_rcu_enter(void)
{
	urcu_bp_read_lock();
}

void
str_rcu_exit(void)
{
	RCU_TSAN_RELEASE();
	urcu_bp_read_unlock();
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
	struct qinit *qi = q_qinfo_load(q);
	bool on;

	qu_lock(q);
	qflag_clear(&q->q_flag, QENAB | QBACK);
	on = (q->q_flag & QPROCSON) != 0;
	qu_unlock(q);
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
	struct qinit *qi = q_qinfo_load(q);

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

/* Take an idle perimeter without pm_lock; false if it is not idle. */
static inline bool
perim_tryenter(struct perim *pm)
{
	uint32_t idle = 0;

	return (atomic_compare_exchange_strong_explicit(&pm->pm_state, &idle,
	    PM_BUSY, memory_order_acquire, memory_order_relaxed));
}

/*
 * With pm_lock held, either take the perimeter (true) or, if a thread is
 * inside, mark that work waits for it (false; the caller then queues the
 * work before dropping pm_lock).
 */
static bool
perim_enter_or_mark(struct perim *pm)
{
	uint32_t s = atomic_load_explicit(&pm->pm_state, memory_order_relaxed);

	for (;;) {
		if (s == 0) {
			if (atomic_compare_exchange_weak_explicit(&pm->pm_state,
			    &s, PM_BUSY, memory_order_acquire,
			    memory_order_relaxed))
				return (true);
		} else {
			ASSERT(s & PM_BUSY);
			if ((s & PM_WORK) || atomic_compare_exchange_weak_explicit(
			    &pm->pm_state, &s, s | PM_WORK,
			    memory_order_relaxed, memory_order_relaxed))
				return (false);
		}
	}
}

/*
 * Leave the perimeter, first running what other threads left: deferred
 * puts in order, then pending service procedures.
 */
void
perim_exit(struct qpair *qp)
{
	struct perim *pm = &qp->qp_perim;
	uint32_t busy = PM_BUSY;

	if (atomic_compare_exchange_strong_explicit(&pm->pm_state, &busy, 0,
	    memory_order_release, memory_order_relaxed))
		return;
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
			queue_deferred(q, msg_bytes(mp), -1);
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
	atomic_store_explicit(&pm->pm_state, 0, memory_order_release);
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
		/* Being popped: its put procedure is not to be entered. */
		if (__builtin_expect(atomic_load_explicit(&qp->qp_forward,
		    memory_order_acquire), 0)) {
			putnext(q, mp);
			return;
		}
		run_put(q, mp);
		return;
	}
	/*
	 * Being popped, and nothing left inside: pass the message on at once,
	 * on this thread.  Taking the perimeter here would let this caller's
	 * next messages be left behind it, and then overtaken by messages that
	 * bypass the module once it is unlinked.
	 */
	if (!atomic_load_explicit(&qp->qp_forward, memory_order_relaxed) &&
	    perim_tryenter(pm)) {
		run_put(q, mp);
		perim_exit(qp);
		return;
	}
	kmutex_lock(&pm->pm_lock);
	if (!perim_enter_or_mark(pm)) {
		queue_deferred(q, msg_bytes(mp), 1);
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
	if (atomic_load_explicit(&qp->qp_forward, memory_order_relaxed)) {
		atomic_store_explicit(&pm->pm_state, 0, memory_order_release);
		kmutex_unlock(&pm->pm_lock);
		putnext(q, mp);
		return;
	}
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

	while (!perim_tryenter(pm)) {
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
	if (!perim_tryenter(pm)) {
		kmutex_lock(&pm->pm_lock);
		if (!perim_enter_or_mark(pm)) {
			pm->pm_svc |= q->q_uread ? 1u : 2u;
			kmutex_unlock(&pm->pm_lock);
			return;
		}
		kmutex_unlock(&pm->pm_lock);
	}
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
 *
 * The event is posted with qu_lock held (the executive's lock is a leaf):
 * qprocsoff clears QPROCSON under the same lock and then cancels, so a
 * post either comes before the clear, and the cancel finds it, or sees
 * the procedures off.  Posted after the unlock, it could land after
 * qprocsoff, in a pair about to be freed.
 */
void
qenable(queue_t *q)
{
	if (q_qinfo_load(q)->qi_srvp == NULL)
		return;
	qu_lock(q);
	if (!(q->q_flag & QENAB) && (q->q_flag & QPROCSON)) {
		qflag_set(&q->q_flag, QENAB);
		(void) ust_event_post(&QPRIV(q)->qu_svc);
	}
	qu_unlock(q);
}

/* noenable - putq no longer enables q (but for high-priority messages). */
void
noenable(queue_t *q)
{
	qu_lock(q);
	qflag_set(&q->q_flag, QNOENB);
	qu_unlock(q);
}

/* enableok - undo noenable. */
void
enableok(queue_t *q)
{
	qu_lock(q);
	qflag_clear(&q->q_flag, QNOENB);
	qu_unlock(q);
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

	qu_lock(rq);
	qflag_set(&rq->q_flag, QPROCSON);
	qu_unlock(rq);
	qu_lock(wq);
	qflag_set(&wq->q_flag, QPROCSON);
	qu_unlock(wq);
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

		qu_lock(sq);
		qflag_clear(&sq->q_flag, QPROCSON);
		qu_unlock(sq);
		(void) ust_event_cancel(&QPRIV(sq)->qu_svc);
		qu_lock(sq);
		qflag_clear(&sq->q_flag, QENAB);
		qu_unlock(sq);
	}
}
