/*
 * The threads executive: real threads, the real clock.
 *
 * Principles of operation.  uc_ncpus service threads ("CPUs") take events
 * of service context from one run queue.  A callout thread keeps the timer
 * tree: when an event falls due it runs it itself (callout context) or
 * moves it to the run queue of the context it belongs to.  Each interrupt
 * source (a device) has its own thread and run queue, so a device's
 * interrupts are serialised as a real interrupt line's are, and one slow
 * device does not delay another.
 *
 * Locking: t_lock protects every run queue, the timer tree and every
 * event's executive fields (ev_state, ev_again, ev_when, ev_seq, ev_queue,
 * ev_runner).  It is never held while an event's function runs.  A thread
 * that waits in ust_event_cancel() for a running event sleeps on t_donecv,
 * which every run's completion broadcasts when someone waits.
 */
#include <sys/ustreams.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/kmem.h>

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "context.h"
#include "exec.h"

/* Something that runs events from a queue: the CPUs, or one device. */
struct runner {
	struct ust_evq	r_q;		/* t_lock */
	pthread_cond_t	r_cv;		/* signalled when r_q gains work */
	bool		r_stop;		/* t_lock */
	pthread_t	r_thread;	/* interrupt runners only */
};

static struct {
	pthread_mutex_t	t_lock;
	pthread_cond_t	t_donecv;	/* a run finished */
	pthread_cond_t	t_timercv;	/* the earliest timer changed */
	struct ust_evtree t_timers;	/* pending timed events */
	struct runner	t_cpus;		/* service run queue */
	_Atomic int	t_nsvc;		/* events on t_cpus.r_q; t_lock to
					   change, read without it */
	struct ust_evq	t_callq;	/* due callout events */
	uint64_t	t_seq;
	uint64_t	t_epoch;	/* monotonic ns at boot */
	int		t_cancelwait;	/* threads in cancel, waiting */
	bool		t_stop;
	unsigned	t_ncpus;
	pthread_t	t_cpu[USTREAMS_NCPU_MAX];
	pthread_t	t_callout;
} thr;

/* t_nsvc += d; t_lock held. */
static void
svc_count(int d)
{
	atomic_store_explicit(&thr.t_nsvc,
	    atomic_load_explicit(&thr.t_nsvc, memory_order_relaxed) + d,
	    memory_order_relaxed);
}

static uint64_t
thr_now(void)
{
	return (ust_clock_monotonic_ns() - thr.t_epoch);
}

/*
 * Queue a due event where its context runs it.  t_lock held.  Returns the
 * condition variable to signal, which the caller does after dropping
 * t_lock where it can: a thread woken while the lock is still held only
 * blocks on it again.
 */
static pthread_cond_t *
ready_locked(struct ust_event *ev)
{
	struct ust_evq *q;
	pthread_cond_t *cv;

	if (ev->ev_ctx == USTREAMS_CTX_INTR && ev->ev_intr != NULL) {
		struct runner *r = ev->ev_intr->in_impl;

		q = &r->r_q;
		cv = &r->r_cv;
	} else if (ev->ev_ctx == USTREAMS_CTX_CALLOUT) {
		q = &thr.t_callq;
		cv = &thr.t_timercv;
	} else {
		q = &thr.t_cpus.r_q;
		cv = &thr.t_cpus.r_cv;
		svc_count(1);
	}
	TAILQ_INSERT_TAIL(q, ev, ev_link);
	ev->ev_queue = q;
	return (cv);
}

/* Post ev; t_lock held.  Returns the condition variable to signal. */
static pthread_cond_t *
post_locked(struct ust_event *ev, uint64_t when)
{
	ev->ev_state = EV_PENDING;
	ev->ev_seq = ++thr.t_seq;
	ev->ev_when = when;
	if (when == 0 || when <= thr_now())
		return (ready_locked(ev));
	ev->ev_queue = NULL;
	RB_INSERT(ust_evtree, &thr.t_timers, ev);
	if (RB_MIN(ust_evtree, &thr.t_timers) == ev)
		return (&thr.t_timercv);
	return (NULL);
}

/*
 * Between ust_exec_defer and ust_exec_runq (see exec.h) a thread's posts
 * of service events signal no one (thr_deferring), and it notes that it
 * left some unsignalled (thr_deferred).
 */
static __thread bool thr_deferring;
static __thread bool thr_deferred;

static bool
thr_post(struct ust_event *ev, uint64_t when)
{
	pthread_cond_t *cv = NULL;
	bool posted = true;

	pthread_mutex_lock(&thr.t_lock);
	switch (ev->ev_state) {
	case EV_PENDING:
		posted = false;
		break;
	case EV_RUNNING:
		ev->ev_again = true;
		ev->ev_when = when;
		break;
	default:
		cv = post_locked(ev, when);
		break;
	}
	pthread_mutex_unlock(&thr.t_lock);
	if (cv == &thr.t_cpus.r_cv && thr_deferring)
		thr_deferred = true;
	else if (cv != NULL)
		pthread_cond_signal(cv);
	return (posted);
}

static bool
thr_cancel(struct ust_event *ev)
{
	bool removed = false;

	pthread_mutex_lock(&thr.t_lock);
	switch (ev->ev_state) {
	case EV_PENDING:
		if (ev->ev_queue == &thr.t_cpus.r_q)
			svc_count(-1);
		if (ev->ev_queue != NULL)
			TAILQ_REMOVE(ev->ev_queue, ev, ev_link);
		else
			RB_REMOVE(ust_evtree, &thr.t_timers, ev);
		ev->ev_queue = NULL;
		ev->ev_state = EV_IDLE;
		removed = true;
		break;
	case EV_RUNNING:
		ev->ev_again = false;
		if (pthread_equal(ev->ev_runner, pthread_self()))
			break;
		thr.t_cancelwait++;
		while (ev->ev_state == EV_RUNNING) {
			ev->ev_again = false;
			pthread_cond_wait(&thr.t_donecv, &thr.t_lock);
		}
		thr.t_cancelwait--;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&thr.t_lock);
	return (removed);
}

/*
 * Run ev, taken off a queue with t_lock held; returns with t_lock held.
 */
static void
run_locked(struct ust_event *ev)
{
	void (*done)(struct ust_event *);

	ev->ev_queue = NULL;
	ev->ev_state = EV_RUNNING;
	ev->ev_again = false;
	ev->ev_runner = pthread_self();
	done = ev->ev_done;
	pthread_mutex_unlock(&thr.t_lock);

	ust_exec_run_event(ev);

	pthread_mutex_lock(&thr.t_lock);
	ev->ev_state = EV_IDLE;
	if (ev->ev_again) {
		pthread_cond_t *cv;

		ev->ev_again = false;
		if ((cv = post_locked(ev, ev->ev_when)) == &thr.t_cpus.r_cv &&
		    thr_deferring)
			thr_deferred = true;
		else if (cv != NULL)
			pthread_cond_signal(cv);
	}
	if (thr.t_cancelwait > 0)
		pthread_cond_broadcast(&thr.t_donecv);
	if (done != NULL) {
		pthread_mutex_unlock(&thr.t_lock);
		done(ev);
		pthread_mutex_lock(&thr.t_lock);
	}
}

static void *
runner_main(void *arg)
{
	struct runner *r = arg;
	struct ust_event *ev;

	pthread_mutex_lock(&thr.t_lock);
	for (;;) {
		while (TAILQ_EMPTY(&r->r_q) && !r->r_stop)
			pthread_cond_wait(&r->r_cv, &thr.t_lock);
		if (r->r_stop)
			break;
		ev = TAILQ_FIRST(&r->r_q);
		TAILQ_REMOVE(&r->r_q, ev, ev_link);
		if (r == &thr.t_cpus)
			svc_count(-1);
		run_locked(ev);
	}
	pthread_mutex_unlock(&thr.t_lock);
	return (NULL);
}

/*
 * The service events ready now, run on the calling thread (see
 * ust_exec_runq); at most THR_RUNQ_MAX, so that an application's call
 * returns in bounded time even while its stream keeps enabling queues.
 * Service threads go on taking events at the same time.
 */
#define	THR_RUNQ_MAX	64

static bool
thr_ready(void)
{
	return (atomic_load_explicit(&thr.t_nsvc, memory_order_relaxed) != 0);
}

static void
thr_defer(void)
{
	thr_deferring = true;
}

/* Deferring ends; wake a service thread for what is left, if anything. */
static void
thr_undefer(void)
{
	thr_deferring = false;
	if (!thr_deferred)
		return;
	thr_deferred = false;
	if (thr_ready())
		pthread_cond_signal(&thr.t_cpus.r_cv);
}

/*
 * The events run here go on deferring: what they enable joins the run
 * queue for this loop to take (a drained read queue's back-enable runs
 * the service procedure that refills it, which back-enables the writer),
 * instead of waking a service thread that would need a CPU -- and the
 * CPUs are busy with this thread and its peer.  A service thread is woken
 * only for what is left at the end.
 */
static void
thr_runq(void)
{
	struct ust_event *ev;
	int n;

	thr_deferring = true;
	if (thr_ready()) {
		pthread_mutex_lock(&thr.t_lock);
		for (n = 0; n < THR_RUNQ_MAX && !thr.t_cpus.r_stop &&
		    (ev = TAILQ_FIRST(&thr.t_cpus.r_q)) != NULL; n++) {
			TAILQ_REMOVE(&thr.t_cpus.r_q, ev, ev_link);
			svc_count(-1);
			run_locked(ev);
		}
		pthread_mutex_unlock(&thr.t_lock);
	}
	thr_undefer();
}

/*
 * The absolute time of when, for pthread_cond_timedwait; false when it is
 * past what the clock can say (a wait for it is a wait for ever).
 */
static bool
timespec_at(struct timespec *ts, uint64_t when)
{
	uint64_t abs;

	if (when > UINT64_MAX - thr.t_epoch)
		return (false);
	abs = thr.t_epoch + when;
	ts->tv_sec = (time_t)(abs / 1000000000ull);
	ts->tv_nsec = (long)(abs % 1000000000ull);
	return (ts->tv_sec >= 0);
}

static void *
callout_main(void *arg)
{
	struct ust_event *ev;
	struct timespec ts;

	(void) arg;
	pthread_mutex_lock(&thr.t_lock);
	while (!thr.t_stop) {
		uint64_t now = thr_now();

		while ((ev = RB_MIN(ust_evtree, &thr.t_timers)) != NULL &&
		    ev->ev_when <= now) {
			pthread_cond_t *cv;

			RB_REMOVE(ust_evtree, &thr.t_timers, ev);
			if ((cv = ready_locked(ev)) != &thr.t_timercv)
				pthread_cond_signal(cv);
		}
		if ((ev = TAILQ_FIRST(&thr.t_callq)) != NULL) {
			TAILQ_REMOVE(&thr.t_callq, ev, ev_link);
			run_locked(ev);
			continue;
		}
		if ((ev = RB_MIN(ust_evtree, &thr.t_timers)) != NULL &&
		    timespec_at(&ts, ev->ev_when)) {
			(void) pthread_cond_timedwait(&thr.t_timercv,
			    &thr.t_lock, &ts);
		} else {
			pthread_cond_wait(&thr.t_timercv, &thr.t_lock);
		}
	}
	pthread_mutex_unlock(&thr.t_lock);
	return (NULL);
}

static void
runner_init(struct runner *r)
{
	pthread_condattr_t ca;

	TAILQ_INIT(&r->r_q);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->r_cv, &ca);
	pthread_condattr_destroy(&ca);
	r->r_stop = false;
}

static void thr_stop(void);

static int
thr_start(const struct ustreams_config *cfg)
{
	pthread_condattr_t ca;
	unsigned i;

	memset(&thr, 0, sizeof (thr));
	pthread_mutex_init(&thr.t_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&thr.t_timercv, &ca);
	pthread_cond_init(&thr.t_donecv, &ca);
	pthread_condattr_destroy(&ca);
	RB_INIT(&thr.t_timers);
	TAILQ_INIT(&thr.t_callq);
	runner_init(&thr.t_cpus);
	thr.t_epoch = ust_clock_monotonic_ns();

	for (i = 0; i < cfg->uc_ncpus; i++) {
		if (pthread_create(&thr.t_cpu[i], NULL, runner_main,
		    &thr.t_cpus) != 0)
			break;
		thr.t_ncpus++;
	}
	if (thr.t_ncpus == cfg->uc_ncpus &&
	    pthread_create(&thr.t_callout, NULL, callout_main, NULL) == 0)
		return (0);
	cmn_err(CE_WARN, "ustreams_boot: cannot start the threads executive");
	thr.t_callout = pthread_self();	/* nothing to join */
	thr_stop();
	return (EAGAIN);
}

/* Drop whatever is still queued: its owners are shutting down too. */
static void
drain_queue(struct ust_evq *q)
{
	struct ust_event *ev;

	while ((ev = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, ev, ev_link);
		ev->ev_queue = NULL;
		ev->ev_state = EV_IDLE;
	}
}

static void
thr_stop(void)
{
	struct ust_event *ev, *next;
	unsigned i;

	pthread_mutex_lock(&thr.t_lock);
	thr.t_stop = true;
	thr.t_cpus.r_stop = true;
	pthread_cond_broadcast(&thr.t_cpus.r_cv);
	pthread_cond_broadcast(&thr.t_timercv);
	pthread_mutex_unlock(&thr.t_lock);
	for (i = 0; i < thr.t_ncpus; i++)
		pthread_join(thr.t_cpu[i], NULL);
	if (!pthread_equal(thr.t_callout, pthread_self()))
		pthread_join(thr.t_callout, NULL);

	pthread_mutex_lock(&thr.t_lock);
	drain_queue(&thr.t_cpus.r_q);
	atomic_store_explicit(&thr.t_nsvc, 0, memory_order_relaxed);
	drain_queue(&thr.t_callq);
	RB_FOREACH_SAFE(ev, ust_evtree, &thr.t_timers, next) {
		RB_REMOVE(ust_evtree, &thr.t_timers, ev);
		ev->ev_state = EV_IDLE;
	}
	pthread_mutex_unlock(&thr.t_lock);
	pthread_cond_destroy(&thr.t_cpus.r_cv);
	pthread_cond_destroy(&thr.t_timercv);
	pthread_cond_destroy(&thr.t_donecv);
	pthread_mutex_destroy(&thr.t_lock);
}

static void
thr_delay(uint64_t ns)
{
	uint64_t now = ust_clock_monotonic_ns();
	uint64_t until = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;

	while (ust_clock_monotonic_ns() < until)
		;
}

static int
thr_intr_attach(struct ust_intr *in)
{
	struct runner *r = kmem_zalloc(sizeof (*r), KM_NOSLEEP);

	if (r == NULL)
		return (ENOMEM);
	runner_init(r);
	in->in_impl = r;
	if (pthread_create(&r->r_thread, NULL, runner_main, r) != 0) {
		pthread_cond_destroy(&r->r_cv);
		kmem_free(r, sizeof (*r));
		in->in_impl = NULL;
		return (EAGAIN);
	}
	return (0);
}

/* The device's events must be cancelled (or idle) before it detaches. */
static void
thr_intr_detach(struct ust_intr *in)
{
	struct runner *r = in->in_impl;

	pthread_mutex_lock(&thr.t_lock);
	r->r_stop = true;
	pthread_cond_signal(&r->r_cv);
	pthread_mutex_unlock(&thr.t_lock);
	pthread_join(r->r_thread, NULL);
	pthread_mutex_lock(&thr.t_lock);
	drain_queue(&r->r_q);
	pthread_mutex_unlock(&thr.t_lock);
	pthread_cond_destroy(&r->r_cv);
	kmem_free(r, sizeof (*r));
	in->in_impl = NULL;
}

static bool
thr_step(void)
{
	return (false);
}

const struct ust_exec_ops ust_exec_threads_ops = {
	.eo_name = "threads",
	.eo_start = thr_start,
	.eo_stop = thr_stop,
	.eo_post = thr_post,
	.eo_cancel = thr_cancel,
	.eo_now = thr_now,
	.eo_delay = thr_delay,
	.eo_intr_attach = thr_intr_attach,
	.eo_intr_detach = thr_intr_detach,
	.eo_step = thr_step,
	.eo_defer = thr_defer,
	.eo_undefer = thr_undefer,
	.eo_ready = thr_ready,
	.eo_runq = thr_runq,
};
