/*
 * The executive interface (private side).
 *
 * All deferred work -- a queue's service procedure, a bufcall callback, a
 * timeout, a device interrupt, a device model's next step -- is an event
 * posted to the executive.  There are two executives behind this one
 * interface (see exec_sim.c and exec_threads.c); drivers and modules cannot
 * tell which one runs them.
 *
 * An event is a caller-owned structure (no allocation on the post path):
 *
 *   ev_func(ev_arg) runs once per post, in context ev_ctx, at or after
 *   ev_when (ns since boot; 0 means "as soon as possible").
 *
 * States (exec lock): IDLE -> PENDING (posted) -> RUNNING -> IDLE.  Posting
 * an event that is PENDING does nothing (returns false).  Posting one that
 * is RUNNING marks it to run again when the current run returns, so a
 * service procedure never runs concurrently with itself and an enable
 * during a run is not lost.
 *
 * ust_event_cancel() removes a PENDING event and returns true.  If the
 * event is RUNNING on another thread, it waits for that run to finish (and
 * drops a pending re-run) and returns false; called from the handler
 * itself, it returns false at once.  After it returns, ev_func is not
 * running and will not run unless posted again.
 *
 * ev_done, if set, is called after each run, outside the executive's
 * locks; its owner may free the event there (timeout records do).
 */
#ifndef _DDI_EXEC_H
#define	_DDI_EXEC_H

#include <sys/ustreams.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <pthread.h>

enum ust_ev_state { EV_IDLE = 0, EV_PENDING, EV_RUNNING };

struct ust_intr;
struct ust_evq;

struct ust_event {
	void		(*ev_func)(void *);	/* set by owner */
	void		*ev_arg;		/* set by owner */
	void		(*ev_done)(struct ust_event *);	/* optional */
	enum ustreams_ctx ev_ctx;		/* set by owner */
	struct ust_intr	*ev_intr;	/* INTR events: the source */

	/* Executive's, under its lock. */
	enum ust_ev_state ev_state;
	bool		ev_again;	/* re-run after the current run */
	uint64_t	ev_when;	/* due time, ns */
	uint64_t	ev_seq;		/* post order, breaks ties */
	RB_ENTRY(ust_event) ev_node;	/* timer tree */
	pthread_t	ev_runner;	/* thread running it */
	TAILQ_ENTRY(ust_event) ev_link;	/* run queue */
	struct ust_evq	*ev_queue;	/* the run queue it is on, or NULL */
};

TAILQ_HEAD(ust_evq, ust_event);

/*
 * An interrupt source: one per device.  Under threads it owns a thread
 * that runs the device's interrupt events in interrupt context; under sim
 * its events are ordinary events.
 */
struct ust_intr {
	const char	*in_name;
	void		*in_impl;	/* executive's */
};

struct ust_exec_ops {
	const char	*eo_name;
	int		(*eo_start)(const struct ustreams_config *);
	void		(*eo_stop)(void);
	bool		(*eo_post)(struct ust_event *, uint64_t when);
	bool		(*eo_cancel)(struct ust_event *);
	uint64_t	(*eo_now)(void);
	void		(*eo_delay)(uint64_t ns);
	int		(*eo_intr_attach)(struct ust_intr *);
	void		(*eo_intr_detach)(struct ust_intr *);
	/* sim only: run one due event; false when none is left */
	bool		(*eo_step)(void);
	/* threads only (may be NULL): see ust_exec_runq */
	void		(*eo_defer)(void);
	void		(*eo_undefer)(void);
	bool		(*eo_ready)(void);
	void		(*eo_runq)(void);
};

extern const struct ust_exec_ops ust_exec_sim_ops;
extern const struct ust_exec_ops ust_exec_threads_ops;
extern const struct ust_exec_ops *ust_exec;

static inline void
ust_event_init(struct ust_event *ev, void (*func)(void *), void *arg,
    enum ustreams_ctx ctx)
{
	*ev = (struct ust_event){ .ev_func = func, .ev_arg = arg,
	    .ev_ctx = ctx };
}

/* Post to run as soon as possible; false if it was already pending. */
static inline bool
ust_event_post(struct ust_event *ev)
{
	return (ust_exec->eo_post(ev, 0));
}

/* Post to run at ns since boot. */
static inline bool
ust_event_post_at(struct ust_event *ev, uint64_t when)
{
	return (ust_exec->eo_post(ev, when));
}

static inline bool
ust_event_cancel(struct ust_event *ev)
{
	return (ust_exec->eo_cancel(ev));
}

static inline uint64_t
ust_now(void)
{
	return (ust_exec->eo_now());
}

/*
 * Run, on the calling thread, service events that are ready: what SVR4
 * did on the way out of a system call (runqueues).  The stream head's
 * read and write calls do it, holding no lock, before they return to the
 * application and before they sleep, so that the service procedures
 * their own work enabled -- the back-enable of a drained read queue, say
 * -- run at once on a CPU that is running anyway, rather than after a
 * service thread wakes up.
 *
 * ust_exec_defer, at the start of such a call: until ust_exec_runq, the
 * service events this thread posts wake no service thread (one that is
 * awake may still take them).  In between, the thread may sleep only in
 * SV_WAIT, which first wakes a service thread for what was deferred
 * (ust_exec_undefer), so that nothing waits on a sleeping thread.
 *
 * Under the sim executive events run when the application runs them, as
 * before: these do nothing.
 */
static inline void
ust_exec_defer(void)
{
	if (ust_exec->eo_defer != NULL)
		ust_exec->eo_defer();
}

static inline void
ust_exec_undefer(void)
{
	if (ust_exec != NULL && ust_exec->eo_undefer != NULL)
		ust_exec->eo_undefer();
}

static inline void
ust_exec_runq(void)
{
	if (ust_exec->eo_runq != NULL)
		ust_exec->eo_runq();
}

/* Would ust_exec_runq run anything?  A hint: read without a lock. */
static inline bool
ust_exec_ready(void)
{
	return (ust_exec->eo_ready != NULL && ust_exec->eo_ready());
}

extern bool ust_exec_is_sim(void);
extern uint64_t ust_random(void);

/* Helpers shared by both executives. */
extern void ust_exec_run_event(struct ust_event *ev);
extern uint64_t ust_clock_monotonic_ns(void);

/*
 * Timed events, ordered by (ev_when, ev_seq): an intrusive red-black tree,
 * so that posting never allocates.  Used by both executives.
 */
RB_HEAD(ust_evtree, ust_event);
extern int ust_event_cmp(const struct ust_event *a, const struct ust_event *b);
RB_PROTOTYPE(ust_evtree, ust_event, ev_node, ust_event_cmp);

#endif	/* _DDI_EXEC_H */
