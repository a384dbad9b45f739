/*
 * bufcall, esbbcall, unbufcall: recovery from allocation failure.
 *
 * Principles of operation.  A module whose allocb (or esballoc) was
 * refused registers a callback with the size and priority it wanted.  The
 * callback is due when an allocation of that footprint at that priority
 * would now pass the admission rule (streams/admission.h) -- not merely
 * when "some memory" came back: a waiter for 64 KB is not woken by the
 * return of 64 bytes, and a BPRI_LO waiter is not woken while memory in use
 * stays above the LO threshold, however much MED and HI allocations
 * succeed.
 *
 * Waiters sit in three FIFO lists, one per priority.  Whenever memory is
 * freed while anyone waits (the buffer caches then fold their accounting
 * at once and call bufcall_memfree), the lists are scanned HI, MED, LO,
 * each in arrival order; every waiter that is due is posted to the
 * executive, and its footprint is added to the projected use before the
 * next waiter is judged, so that one returned block wakes one waiter, not
 * all of them.  The projection starts from the exact use plus the
 * footprints of callbacks posted earlier that have not started yet: they
 * will take their memory when they run, and a second free before then
 * must not promise the same memory again; a posted request cancelled
 * before it runs gives its promise back, and the waiters are judged again.
 * The callback then runs once, in service context, on an executive
 * thread (or as a sim event): never inside the freeb that made it due,
 * never on the stack of the bufcall that registered it.  It may
 * still find allocb refusing -- memory can be taken again in between --
 * and that is counted as a spurious wake-up.
 *
 * A registration also checks at once, so that memory freed between the
 * failed allocb and the bufcall is not missed.  Under the threads
 * executive a free on another CPU can race with that check (its
 * accounting is per-CPU); while anyone waits, a check also runs every
 * clock tick, so no waiter whose memory is there waits longer than that.
 *
 * A check sums every CPU's accounting under a lock and judges every
 * waiter, and while anyone waits every free would make one.  So a free
 * first compares the global count of bytes in use with bc_due: the count
 * above which no waiter can be due, from the smallest footprint waiting
 * at each priority (bc_minfp) and the posted footprints.  The global count
 * can overstate the exact one only by the frees other CPUs have not
 * folded (a CPU's negative part); bc_due allows for the most that was
 * last seen (bc_neg).  While anyone waits a free folds at once, so a
 * negative part only shrinks: the allowance stays enough, and a free that
 * skips the check skips one that would have posted nothing -- but for a
 * free racing the registration on another CPU, which the tick covers.
 * Until a check has measured it, the allowance is unknown, and every free
 * checks; a measurement is kept only if no one stopped waiting since it
 * began (bc_epoch), since frees do not fold at once while no one waits.
 *
 * Records come first from a reserve set aside at boot (framework overhead,
 * outside the budget: see ddi/mem.h), so that bufcall works when memory is
 * exhausted, which is when it is called; past the reserve they come from
 * kmem_alloc.  bufcall returns 0 when neither has a record, when func is
 * NULL or no instance runs, and when the request can never be met: its
 * footprint is more than its priority may ever hold (the LO or MED
 * threshold, or the budget for HI).
 *
 * Identity: every id issued is, at any quiescent point, exactly one of
 * fired, cancelled or pending; the counters hold it.
 *
 * Locking: bc_lock protects the lists, the hash of ids, every record's
 * state, cancel flag and reference count, and the counters.  It is never
 * held while a callback runs, nor across a call into the executive (a
 * post or a cancel), so a woken service thread does not find it held.
 */
#include <sys/stream.h>
#include <sys/cmn_err.h>
#include <sys/ddi.h>
#include <sys/debug.h>
#include <sys/kmem.h>
#include <sys/queue.h>
#include <sys/ustreams_stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "../ddi/exec.h"
#include "../ddi/mem.h"
#include "../ddi/sysinit.h"
#include "admission.h"
#include "bufcall_impl.h"
#include "strcache.h"

#define	BC_HASH		64
#define	BC_RESERVE_MIN	16
#define	BC_RESERVE_MAX	256
#define	BC_POLL_NS	(1000000000ull / HZ)
#define	BC_NEG_UNKNOWN	(-1)

enum bc_state {
	BC_WAITING,	/* on its priority's list */
	BC_POSTED,	/* due: its event is with the executive */
	BC_RUNNING,	/* the callback is running */
	BC_DONE		/* fired or cancelled; going away */
};

struct bcrec {
	struct ust_event bc_ev;		/* runs the callback */
	bufcall_id_t	bc_id;		/* set once */
	uint_t		bc_pri;		/* BPRI_LO..BPRI_HI; set once */
	size_t		bc_footprint;	/* bytes the allocation needs */
	void		(*bc_func)(void *);
	void		*bc_arg;
	bool		bc_reserve;	/* from the reserve; set once */
	enum bc_state	bc_state;	/* bc_lock */
	int		bc_refs;	/* bc_lock: list/executive + unbufcall */
	bool		bc_hashed;	/* bc_lock */
	bool		bc_cancel;	/* bc_lock: unbufcall'ed while posted */
	TAILQ_ENTRY(bcrec) bc_link;	/* bc_lock: waiting list or freelist */
	LIST_ENTRY(bcrec) bc_hash;	/* bc_lock */
};

TAILQ_HEAD(bclist, bcrec);

static pthread_mutex_t bc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bclist bc_wait[4];	/* [BPRI_LO..BPRI_HI] */
static struct bclist bc_free;		/* the reserve */
static LIST_HEAD(, bcrec) bc_hashtab[BC_HASH];
static struct bcrec *bc_reserve;	/* the reserve's memory */
static size_t bc_nreserve;
static bufcall_id_t bc_nextid;
static long bc_npending;
static int64_t bc_posted;		/* footprints posted, not started */
static size_t bc_minfp[4];		/* smallest footprint waiting, by
					   priority; SIZE_MAX: none */
static int64_t bc_neg;			/* CPUs' unfolded frees, as last
					   measured; BC_NEG_UNKNOWN */
static _Atomic uint64_t bc_epoch;	/* bumped when no one waits any
					   more; written under bc_lock */
static _Atomic int64_t bc_due;		/* see above; written under bc_lock */
static struct ustreams_bufcallstat bc_stat;
static struct ust_event bc_poll_ev;	/* threads: the per-tick check */
static _Atomic bool bc_up;
static _Atomic bool bc_draining;	/* shutdown cancels every request */

static inline uint_t
pri_valid(int pri)
{
	return (pri == BPRI_MED || pri == BPRI_HI ? (uint_t)pri : BPRI_LO);
}

static void
set_waiters_locked(void)
{
	strcache_set_waiters(bc_npending > 0);
}

/*
 * Publish bc_due: the highest global count of bytes in use at which a
 * check could find a waiter due.  Due means (admission.h)
 *
 *	exact + bc_posted + footprint <= limit(pri)
 *
 * and exact >= global - bc_neg, so no waiter is due while
 *
 *	global > max over pri of (limit(pri) - bc_minfp[pri]) - bc_posted + bc_neg
 *
 * INT64_MIN when no one waits; INT64_MAX (always check) while bc_neg is
 * unknown.
 */
static void
due_update_locked(void)
{
	int64_t due = INT64_MIN;

	for (uint_t pri = BPRI_LO; pri <= BPRI_HI; pri++) {
		int64_t d;

		if (bc_minfp[pri] == SIZE_MAX)
			continue;
		d = str_admit_limit(pri) - (int64_t)bc_minfp[pri];
		if (d > due)
			due = d;
	}
	if (due == INT64_MIN) {
		/* No one waits: measured again for the next one. */
		bc_neg = BC_NEG_UNKNOWN;
		atomic_fetch_add(&bc_epoch, 1);
	} else if (bc_neg == BC_NEG_UNKNOWN)
		due = INT64_MAX;
	else
		due += bc_neg - bc_posted;
	atomic_store(&bc_due, due);
}

/*
 * bc_minfp[pri] after a record with footprint fp left its list outside a
 * check (a check derives it from its own walk of the list).
 */
static void
minfp_left_locked(uint_t pri, size_t fp)
{
	struct bcrec *bc;
	size_t m = SIZE_MAX;

	if (fp != bc_minfp[pri])
		return;
	TAILQ_FOREACH(bc, &bc_wait[pri], bc_link) {
		if (bc->bc_footprint < m)
			m = bc->bc_footprint;
	}
	bc_minfp[pri] = m;
}

/*
 * Drop a reference; true when it was the last.  The caller then calls
 * rec_dispose() after dropping bc_lock: kmem_free tells the release hook,
 * which comes back here for bc_lock.
 */
static bool
rec_release_locked(struct bcrec *bc)
{
	ASSERT(bc->bc_refs > 0);
	if (--bc->bc_refs > 0)
		return (false);
	ASSERT(bc->bc_state == BC_DONE && !bc->bc_hashed);
	return (true);
}

static void
rec_dispose(struct bcrec *bc)
{
	if (bc->bc_reserve) {
		pthread_mutex_lock(&bc_lock);
		TAILQ_INSERT_HEAD(&bc_free, bc, bc_link);
		pthread_mutex_unlock(&bc_lock);
	} else {
		kmem_free(bc, sizeof (*bc));
	}
}

static void
rec_unhash_locked(struct bcrec *bc)
{
	if (bc->bc_hashed) {
		LIST_REMOVE(bc, bc_hash);
		bc->bc_hashed = false;
	}
}

/* A pending request leaves the books (fired or cancelled). */
static void
unpend_locked(struct bcrec *bc)
{
	bc_stat.bs_pending[bc->bc_pri]--;
	bc_npending--;
	set_waiters_locked();
}

static void promise_returned(void);

static void
bc_fire(void *arg)
{
	struct bcrec *bc = arg;
	bool spurious, cancelled;

	spurious = !str_admit(bc->bc_pri, bc->bc_footprint,
	    strcache_held_exact(NULL));
	pthread_mutex_lock(&bc_lock);
	ASSERT(bc->bc_state == BC_POSTED);
	bc->bc_state = BC_RUNNING;
	bc_posted -= (int64_t)bc->bc_footprint;
	ASSERT(bc_posted >= 0);
	due_update_locked();
	unpend_locked(bc);
	/* Cancelled before its post reached the executive: see bc_check. */
	if ((cancelled = bc->bc_cancel))
		bc_stat.bs_cancelled[bc->bc_pri]++;
	else
		bc_stat.bs_fired[bc->bc_pri]++;
	if (spurious && !cancelled)
		bc_stat.bs_spurious[bc->bc_pri]++;
	pthread_mutex_unlock(&bc_lock);

	if (cancelled)
		promise_returned();
	else
		bc->bc_func(bc->bc_arg);
}

/* Executive: the callback's run is over and the event is ours again. */
static void
bc_done(struct ust_event *ev)
{
	struct bcrec *bc = (struct bcrec *)ev;

	bool last;

	pthread_mutex_lock(&bc_lock);
	bc->bc_state = BC_DONE;
	rec_unhash_locked(bc);
	last = rec_release_locked(bc);
	pthread_mutex_unlock(&bc_lock);
	if (last)
		rec_dispose(bc);
}

/*
 * Post every waiter that is due, HI first, then MED, then LO, each list in
 * arrival order, charging each one's footprint to the projection.
 *
 * The records are judged under bc_lock and posted after it is dropped:
 * posting may wake a service thread, whose bc_fire takes bc_lock at once,
 * and it should not find it held.  In between, a record is BC_POSTED but
 * not yet with the executive.  It cannot go away: its list reference
 * passes to the executive and is dropped only after its run (bc_done) or
 * a cancel that removes the pending event, and neither can happen before
 * the post.  An unbufcall in between cannot take the event back
 * (ust_event_cancel finds it idle), so it sets bc_cancel, and bc_fire,
 * which looks under bc_lock, then counts the request cancelled instead of
 * calling it.  The records wait for their post on a list of this call's
 * own, through bc_link (free once off the waiting list); each record's
 * successor is read before the record is posted, since a posted record
 * may run, and be reused, at once.
 */
static void
bc_check(void)
{
	static const uint_t order[] = { BPRI_HI, BPRI_MED, BPRI_LO };
	uint64_t epoch = atomic_load(&bc_epoch);
	struct bclist due = TAILQ_HEAD_INITIALIZER(due);
	struct bcrec *bc, *next;
	int64_t projected, neg;

	/* A registration's bc_due before the count: see bufcall_memfree. */
	atomic_thread_fence(memory_order_seq_cst);
	projected = strcache_held_exact(&neg);
	pthread_mutex_lock(&bc_lock);
	bc_stat.bs_checks++;
	projected += bc_posted;
	for (int i = 0; i < 3 && bc_npending > 0; i++) {
		uint_t pri = order[i];
		size_t minfp = SIZE_MAX;	/* of those left waiting */

		for (bc = TAILQ_FIRST(&bc_wait[pri]); bc != NULL; bc = next) {
			next = TAILQ_NEXT(bc, bc_link);
			if (!str_admit(pri, bc->bc_footprint, projected)) {
				if (bc->bc_footprint < minfp)
					minfp = bc->bc_footprint;
				continue;
			}
			TAILQ_REMOVE(&bc_wait[pri], bc, bc_link);
			bc->bc_state = BC_POSTED;
			projected += (int64_t)bc->bc_footprint;
			bc_posted += (int64_t)bc->bc_footprint;
			TAILQ_INSERT_TAIL(&due, bc, bc_link);
		}
		bc_minfp[pri] = minfp;
	}
	/*
	 * A measurement older than the one last stored, of the same epoch,
	 * is no smaller (see above): a late store only makes frees check
	 * more often.
	 */
	if (atomic_load(&bc_epoch) == epoch)
		bc_neg = neg;
	due_update_locked();
	pthread_mutex_unlock(&bc_lock);

	for (bc = TAILQ_FIRST(&due); bc != NULL; bc = next) {
		next = TAILQ_NEXT(bc, bc_link);
		(void) ust_event_post(&bc->bc_ev);
	}
}

static bool
anyone_waiting(void)
{
	bool w;

	pthread_mutex_lock(&bc_lock);
	w = !TAILQ_EMPTY(&bc_wait[BPRI_LO]) || !TAILQ_EMPTY(&bc_wait[BPRI_MED]) ||
	    !TAILQ_EMPTY(&bc_wait[BPRI_HI]);
	pthread_mutex_unlock(&bc_lock);
	return (w);
}

/*
 * A posted request was cancelled before its callback ran: the memory the
 * check promised it is free for the others now, not at the next free.
 */
static void
promise_returned(void)
{
	if (!bc_draining && anyone_waiting())
		bc_check();
}

/* Threads executive: the per-tick check while anyone waits. */
static void
bc_poll(void *arg)
{
	(void) arg;
	bc_check();
	if (anyone_waiting())
		(void) ust_event_post_at(&bc_poll_ev, ust_now() + BC_POLL_NS);
}

void
bufcall_memfree(void)
{
	/*
	 * The caller's fold (a sequentially consistent add to the count)
	 * comes before this load; a registration stores bc_due before its
	 * check counts (bc_check's fence).  So either the check sees this
	 * free or this free sees the registration's bc_due.
	 */
	if (bc_up && ust_mem_held() <= atomic_load(&bc_due))
		bc_check();
}

static bufcall_id_t
bufcall_common(size_t footprint, int pri, void (*func)(void *), void *arg)
{
	struct bcrec *bc;
	uint_t p = pri_valid(pri);
	bufcall_id_t id;

	/* More than pri may ever hold: it could never be called back. */
	if (!bc_up || func == NULL || footprint > (size_t)str_admit_limit(p)) {
		if (bc_up) {
			pthread_mutex_lock(&bc_lock);
			bc_stat.bs_norecord++;
			pthread_mutex_unlock(&bc_lock);
		}
		return (0);
	}
	pthread_mutex_lock(&bc_lock);
	if ((bc = TAILQ_FIRST(&bc_free)) != NULL) {
		TAILQ_REMOVE(&bc_free, bc, bc_link);
	} else {
		pthread_mutex_unlock(&bc_lock);
		bc = kmem_alloc(sizeof (*bc), KM_NOSLEEP);
		pthread_mutex_lock(&bc_lock);
		if (bc == NULL) {
			bc_stat.bs_norecord++;
			pthread_mutex_unlock(&bc_lock);
			return (0);
		}
		bc->bc_reserve = false;
	}
	ust_event_init(&bc->bc_ev, bc_fire, bc, USTREAMS_CTX_SERVICE);
	bc->bc_ev.ev_done = bc_done;
	bc->bc_pri = p;
	bc->bc_footprint = footprint;
	bc->bc_func = func;
	bc->bc_arg = arg;
	bc->bc_state = BC_WAITING;
	bc->bc_cancel = false;
	bc->bc_refs = 1;
	do {
		bc_nextid = bc_nextid == INT_MAX ? 1 : bc_nextid + 1;
		bc->bc_id = bc_nextid;
		struct bcrec *o;
		LIST_FOREACH(o, &bc_hashtab[bc->bc_id % BC_HASH], bc_hash) {
			if (o->bc_id == bc->bc_id)
				break;
		}
		if (o == NULL)
			break;
	} while (1);
	LIST_INSERT_HEAD(&bc_hashtab[bc->bc_id % BC_HASH], bc, bc_hash);
	bc->bc_hashed = true;
	TAILQ_INSERT_TAIL(&bc_wait[p], bc, bc_link);
	if (footprint < bc_minfp[p])
		bc_minfp[p] = footprint;
	bc_stat.bs_issued[p]++;
	if (++bc_stat.bs_pending[p] > bc_stat.bs_maxpending[p])
		bc_stat.bs_maxpending[p] = bc_stat.bs_pending[p];
	bc_npending++;
	set_waiters_locked();
	due_update_locked();
	/* Once bc_lock is dropped the record may fire and be reused. */
	id = bc->bc_id;
	pthread_mutex_unlock(&bc_lock);

	/* Memory may have come back since the caller's allocb failed. */
	bc_check();
	if (!ust_exec_is_sim())
		(void) ust_event_post_at(&bc_poll_ev, ust_now() + BC_POLL_NS);
	return (id);
}

/*
 * bufcall - call func(arg) once, in service context, when an allocb of
 * size bytes at priority pri would be admitted.  Returns a non-zero id,
 * or 0 when the request cannot be recorded (func is then never called):
 * no record could be had, func is NULL, or the allocation is more than pri
 * may ever hold (its threshold of the budget).  An invalid pri is treated
 * as BPRI_LO.  Any context; does not block.
 */
bufcall_id_t
bufcall(uint_t size, int pri, void (*func)(void *), void *arg)
{
	unsigned cls;
	size_t fp;

	if ((size_t)size > ust_mem_size())
		return (bufcall_common((size_t)-1, pri, func, arg));
	cls = strclass_of(size);
	fp = cls == SC_OVERSIZE ? ust_mem_usable(SC_HDRSIZE + (size_t)size) :
	    strclass_footprint[cls];
	return (bufcall_common(fp, pri, func, arg));
}

/*
 * esbbcall - bufcall for esballoc: func(arg) runs when an esballoc at pri
 * would be admitted.
 */
bufcall_id_t
esbbcall(int pri, void (*func)(void *), void *arg)
{
	return (bufcall_common(SC_ESBSIZE, pri, func, arg));
}

/*
 * unbufcall - cancel a bufcall or esbbcall request.  If its callback is
 * running on another thread, returns only after it has returned; called
 * from the callback itself, returns at once.  An unknown, fired or
 * cancelled id is harmless.  Base, service or interrupt (waiting for a
 * running callback is the only wait).
 */
void
unbufcall(bufcall_id_t id)
{
	struct bcrec *bc;
	bool posted, last;

	if (id == 0 || !bc_up)
		return;
	pthread_mutex_lock(&bc_lock);
	LIST_FOREACH(bc, &bc_hashtab[(unsigned)id % BC_HASH], bc_hash) {
		if (bc->bc_id == id)
			break;
	}
	if (bc == NULL || bc->bc_state == BC_DONE) {
		pthread_mutex_unlock(&bc_lock);
		return;
	}
	rec_unhash_locked(bc);
	if (bc->bc_state == BC_WAITING) {
		TAILQ_REMOVE(&bc_wait[bc->bc_pri], bc, bc_link);
		minfp_left_locked(bc->bc_pri, bc->bc_footprint);
		unpend_locked(bc);
		due_update_locked();
		bc_stat.bs_cancelled[bc->bc_pri]++;
		bc->bc_state = BC_DONE;
		last = rec_release_locked(bc);
		pthread_mutex_unlock(&bc_lock);
		if (last)
			rec_dispose(bc);
		return;
	}
	posted = bc->bc_state == BC_POSTED;
	/*
	 * Posted, but perhaps not yet with the executive (bc_check): then
	 * the cancel below finds nothing to take back, and bc_fire must not
	 * call it when it runs.
	 */
	if (posted)
		bc->bc_cancel = true;
	bc->bc_refs++;			/* ours, while we cancel */
	pthread_mutex_unlock(&bc_lock);

	if (ust_event_cancel(&bc->bc_ev)) {
		/* It never ran: cancelled, and the executive's ref is ours. */
		ASSERT(posted);
		pthread_mutex_lock(&bc_lock);
		bc_posted -= (int64_t)bc->bc_footprint;
		unpend_locked(bc);
		due_update_locked();
		bc_stat.bs_cancelled[bc->bc_pri]++;
		bc->bc_state = BC_DONE;
		(void) rec_release_locked(bc);
		last = rec_release_locked(bc);
		pthread_mutex_unlock(&bc_lock);
		if (last)
			rec_dispose(bc);
		promise_returned();
		return;
	}
	pthread_mutex_lock(&bc_lock);
	last = rec_release_locked(bc);
	pthread_mutex_unlock(&bc_lock);
	if (last)
		rec_dispose(bc);
}

/*
 * ustreams_bufcallstat - the bufcall counters.  0, or ENXIO when no
 * instance runs.
 */
int
ustreams_bufcallstat(struct ustreams_bufcallstat *bsp)
{
	if (!bc_up)
		return (ENXIO);
	pthread_mutex_lock(&bc_lock);
	*bsp = bc_stat;
	pthread_mutex_unlock(&bc_lock);
	return (0);
}

static int
bufcall_init(const struct ustreams_config *cfg)
{
	size_t n = cfg->uc_memsize / (16 * 1024);

	n = n < BC_RESERVE_MIN ? BC_RESERVE_MIN : n > BC_RESERVE_MAX ?
	    BC_RESERVE_MAX : n;
	for (int p = 0; p < 4; p++) {
		TAILQ_INIT(&bc_wait[p]);
		bc_minfp[p] = SIZE_MAX;
	}
	TAILQ_INIT(&bc_free);
	for (int i = 0; i < BC_HASH; i++)
		LIST_INIT(&bc_hashtab[i]);
	if ((bc_reserve = ust_mem_get_overhead(n * sizeof (*bc_reserve))) ==
	    NULL)
		return (ENOMEM);
	bc_nreserve = n;
	for (size_t i = 0; i < n; i++) {
		bc_reserve[i].bc_reserve = true;
		TAILQ_INSERT_TAIL(&bc_free, &bc_reserve[i], bc_link);
	}
	memset(&bc_stat, 0, sizeof (bc_stat));
	bc_nextid = 0;
	bc_npending = 0;
	bc_posted = 0;
	bc_neg = BC_NEG_UNKNOWN;
	atomic_store(&bc_due, INT64_MIN);
	ust_event_init(&bc_poll_ev, bc_poll, NULL, USTREAMS_CTX_CALLOUT);
	strcache_set_waiters(false);
	bc_up = true;
	return (0);
}

/* Requests still pending at shutdown are cancelled, and said so. */
static void
bufcall_fini(void)
{
	long left = 0;

	(void) ust_event_cancel(&bc_poll_ev);
	bc_draining = true;
	for (int i = 0; i < BC_HASH; i++) {
		for (;;) {
			bufcall_id_t id;

			pthread_mutex_lock(&bc_lock);
			id = LIST_EMPTY(&bc_hashtab[i]) ? 0 :
			    LIST_FIRST(&bc_hashtab[i])->bc_id;
			pthread_mutex_unlock(&bc_lock);
			if (id == 0)
				break;
			unbufcall(id);
			left++;
		}
	}
	if (left > 0)
		cmn_err(CE_WARN, "ustreams_shutdown: %ld bufcall(s) still "
		    "pending, cancelled", left);
	bc_up = false;
	bc_draining = false;
	strcache_set_waiters(false);
	ust_mem_put_overhead(bc_reserve, bc_nreserve * sizeof (*bc_reserve));
	bc_reserve = NULL;
}

USTREAMS_SYSINIT(bufcall, SI_ORDER_BUFCALL, bufcall_init, bufcall_fini);
