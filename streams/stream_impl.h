/*
 * Streams, queue pairs and perimeters (private to streams/).
 *
 * Every module or driver instance is a queue pair, allocated by the
 * framework as one struct qpair: the read queue, then the write queue (so
 * WR(q) == RD(q) + 1, as SVR4 requires), then what the framework keeps
 * for each queue and for the pair.  q_upriv points at the queue's struct
 * qpriv; QPAIR(q) gets the pair from either queue.
 *
 * The perimeter.  Unless a module declares itself fully MT-safe
 * (USTREAMS_MTSAFE), its put and service procedures, on both queues of an
 * instance, run one at a time.  A thread that finds the perimeter busy
 * does not wait (it may hold other perimeters, in the other direction):
 * it leaves the message on the perimeter's deferred list, or marks the
 * service procedure pending, and the thread inside runs them, in order,
 * before it leaves.  This is the SVR4 MP "queue pair" model with an
 * illumos-style syncq; it never deadlocks and never reorders puts to one
 * queue.
 *
 * Locking:
 *  - qu_lock protects a queue's messages, counts, bands and q_flag;
 *    the framework takes it through qu_lock() (below), which lets a
 *    thread that froze the stream (freezestr) through.
 *  - pm_state says whether a thread is inside the perimeter (PM_BUSY)
 *    and whether work waits for it (PM_WORK, only with PM_BUSY).  A
 *    thread takes an idle perimeter with one compare-and-swap (0 ->
 *    PM_BUSY) and leaves one with nothing waiting with another (PM_BUSY
 *    -> 0), without pm_lock.  pm_lock protects the deferred list and
 *    pm_svc, and is held for every change of PM_WORK: a thread that finds
 *    the perimeter busy takes pm_lock, sets PM_WORK by compare-and-swap
 *    (so the one inside cannot leave through the lock-free exit
 *    meanwhile) and queues its work; the one inside, finding PM_WORK,
 *    takes pm_lock, runs the work and clears the state under it.
 *  - q_next is written with release stores by push and pop (under the
 *    stream's sd_plumb lock) and read with acquire loads inside an RCU
 *    read-side section; memory is reclaimed after a grace period.
 */
#ifndef _STREAMS_STREAM_IMPL_H
#define	_STREAMS_STREAM_IMPL_H

#include <sys/stream.h>
#include <sys/debug.h>
#include <sys/ksynch.h>
#include <pthread.h>

#include "../ddi/exec.h"
#include "../ddi/kmutex.h"
#include "../ddi/ksynch_impl.h"

struct stdata;
struct modsw;

/*
 * qu_deferred: bytes of the messages on the pair's deferred list for this
 * queue's put procedure.  They count against the queue's flow control as
 * if already queued (bcanput), as messages waiting in an illumos syncq set
 * QFULL: a writer on another CPU must not outrun the thread inside the
 * perimeter through a list that no water mark bounds.  Added under pm_lock
 * by the thread that defers, taken off under qu_lock by the one inside;
 * read without a lock in bcanput's fast path.
 */
struct qpriv {
	kmutex_t	qu_lock;	/* the queue's messages and flags */
	struct ust_event qu_svc;	/* runs the service procedure */
	struct qpair	*qu_pair;	/* set once */
	_Atomic size_t	qu_deferred;	/* see above */
};

#define	PM_BUSY		1u	/* a thread is inside */
#define	PM_WORK		2u	/* deferred puts or service wait */

struct perim {
	_Atomic uint32_t pm_state;	/* PM_BUSY, PM_WORK */
	kmutex_t	pm_lock;
	mblk_t		*pm_head;	/* deferred puts: b_next chain, */
	mblk_t		*pm_tail;	/*   target queue in b_prev */
	unsigned	pm_svc;		/* service pending: 1 read, 2 write */
};

struct qpair {
	queue_t		qp_q[2];	/* read, write: adjacent */
	struct qpriv	qp_u[2];
	struct perim	qp_perim;
	struct modsw	*qp_sw;		/* the module or driver */
	struct stdata	*qp_sd;		/* the stream; set once */
	bool		qp_mtsafe;	/* no perimeter */
	_Atomic bool	qp_forward;	/* being popped: puts pass messages on */
	dev_t		qp_dev;
};

#define	QPRIV(q)	((struct qpriv *)(q)->q_upriv)

/*
 * A queue's lock, as the framework takes it: qu_lock, unless the calling
 * thread has frozen the queue's stream (freezestr, freeze.c), and so
 * holds qu_lock already.  str_nfrozen counts the streams the calling
 * thread has frozen: while it is 0, as it nearly always is, nothing more
 * is read; else freeze_holds looks at the stream's freezer.
 */
extern __thread unsigned str_nfrozen __attribute__((tls_model("initial-exec")));
extern bool freeze_holds(queue_t *q);

static inline bool
qu_frozen_by_me(queue_t *q)
{
	return (__builtin_expect(str_nfrozen != 0, 0) && freeze_holds(q));
}

static inline void
qu_lock(queue_t *q)
{
	if (!qu_frozen_by_me(q))
		kmutex_lock(&QPRIV(q)->qu_lock);
}

static inline void
qu_unlock(queue_t *q)
{
	if (!qu_frozen_by_me(q))
		kmutex_unlock(&QPRIV(q)->qu_lock);
}

/* put and putnext by a thread that has a stream frozen: a panic. */
extern void freeze_put_misuse(const char *func, queue_t *q,
    const void *caller);

/*
 * The pair of either queue, and its read, write and other queue, found
 * through the set-once qu_pair.  The framework uses these rather than
 * RD, WR and OTHERQ, which read q_flag: other threads change q_flag
 * (under qu_lock) at any time, and reading it unlocked is a data race
 * even though QREADR itself never changes.
 */
#define	QPAIR(q)	(QPRIV(q)->qu_pair)
#define	Q_RD(q)		(&QPAIR(q)->qp_q[0])
#define	Q_WR(q)		(&QPAIR(q)->qp_q[1])
#define	Q_OTHER(q)	((q) == Q_RD(q) ? Q_WR(q) : Q_RD(q))

/* A registered module or driver (modsw.c). */
struct modsw {
	char		ms_name[32];
	struct streamtab *ms_tab;
	int		ms_flags;	/* USTREAMS_MTSAFE, ... */
	bool		ms_driver;
	major_t		ms_major;	/* drivers */
	int		ms_refs;	/* open instances */
};

extern struct modsw *modsw_find(const char *name, bool driver);
extern void modsw_rele(struct modsw *sw);
extern bool modsw_exists(const char *name, bool driver);

/* Queue pairs (stream.c). */
extern struct qpair *qpair_alloc(struct modsw *sw, struct stdata *sd);
extern void qpair_free(struct qpair *qp);

/* Queues (queue.c): waiting for one to drain; a high-priority message. */
extern int queue_drain_mark(queue_t *q);
extern bool queue_has_hipri(queue_t *q);

/* The put/service machinery (put.c, sched.c). */
extern void str_call_put(queue_t *q, mblk_t *mp);
extern void perim_enter_wait(struct qpair *qp);
extern void perim_exit(struct qpair *qp);
extern void str_synchronize_rcu(void);

/*
 * The RCU read side (sched.c).  Sections nest (putnext calls a put
 * procedure that calls putnext ...); only the outermost enters and leaves
 * liburcu, so a nested one is an increment and a decrement, inline.
 * str_rcu_suspend leaves every level before a sleep (a reader must not
 * hold up grace periods while it sleeps) and returns the depth for
 * str_rcu_resume; no pointer read in the section may be used between
 * the two.
 */
extern __thread unsigned str_rcu_depth __attribute__((tls_model("initial-exec")));
extern void str_rcu_enter(void);
extern void str_rcu_exit(void);

static inline void
str_rcu_read_lock(void)
{
	if (str_rcu_depth++ == 0)
		str_rcu_enter();
}

static inline void
str_rcu_read_unlock(void)
{
	ASSERT(str_rcu_depth > 0);
	if (--str_rcu_depth == 0)
		str_rcu_exit();
}

static inline unsigned
str_rcu_suspend(void)
{
	unsigned depth = str_rcu_depth;

	if (depth > 0) {
		str_rcu_depth = 0;
		str_rcu_exit();
	}
	return (depth);
}

static inline void
str_rcu_resume(unsigned depth)
{
	ASSERT(str_rcu_depth == 0);
	if (depth > 0) {
		str_rcu_enter();
		str_rcu_depth = depth;
	}
}

/*
 * q_qinfo changes only when a stream is linked below a multiplexing
 * driver or unlinked (mux.c): the stream head's queue pair then takes the
 * mux's lower qinit, or its own back.  The framework reads it with these,
 * so that a thread that enables or flow-controls such a queue at that
 * moment reads one or the other.
 */
static inline struct qinit *
q_qinfo_load(const queue_t *q)
{
	return (__atomic_load_n(&q->q_qinfo, __ATOMIC_ACQUIRE));
}

static inline void
q_qinfo_store(queue_t *q, struct qinit *qi)
{
	__atomic_store_n(&q->q_qinfo, qi, __ATOMIC_RELEASE);
}

/*
 * q_flag (and a band's qb_flag) changes only under the queue's qu_lock,
 * and each change is one relaxed atomic store, so that bcanput can test
 * QFULL without taking the lock (qflag_get).  Under the lock a plain read
 * is enough.
 */
static inline uint_t
qflag_get(const uint_t *fp)
{
	return (__atomic_load_n(fp, __ATOMIC_RELAXED));
}

static inline void
qflag_set(uint_t *fp, uint_t bits)
{
	__atomic_store_n(fp, *fp | bits, __ATOMIC_RELAXED);
}

static inline void
qflag_clear(uint_t *fp, uint_t bits)
{
	__atomic_store_n(fp, *fp & ~bits, __ATOMIC_RELAXED);
}

/* Bytes of a message as flow control counts them: every block's. */
static inline size_t
msg_bytes(const mblk_t *mp)
{
	size_t n = 0;

	for (; mp != NULL; mp = mp->b_cont)
		n += (size_t)(mp->b_wptr - mp->b_rptr);
	return (n);
}

/*
 * A message of n bytes for q joins the perimeter's deferred list (dir 1)
 * or leaves it for q's put procedure (dir -1); see qu_deferred.
 */
extern void queue_deferred(queue_t *q, size_t n, int dir);

static inline queue_t *
q_next_load(queue_t *q)
{
	return (__atomic_load_n(&q->q_next, __ATOMIC_ACQUIRE));
}

static inline void
q_next_store(queue_t *q, queue_t *next)
{
	__atomic_store_n(&q->q_next, next, __ATOMIC_RELEASE);
}

#endif	/* _STREAMS_STREAM_IMPL_H */
