/*
 * timeout, itimeout, untimeout: callouts.
 *
 * Principles of operation.  A timeout is a record (from STREAMS memory)
 * holding a timed executive event and an identifier.  Identifiers are
 * handed out from a counter, never 0, and looked up in a small hash table
 * while the callout is pending or running.  The handler runs once, in
 * callout context, at the first clock tick at or after the delay.
 *
 * untimeout(id) cancels a pending callout.  If the handler is running on
 * another thread, untimeout waits for it to return (so that a driver may
 * free what the handler uses once untimeout returns); called from the
 * handler itself, it returns at once.  An unknown or spent id is harmless.
 *
 * A record is referenced by the executive (until its run is done, or its
 * cancellation) and by an untimeout in progress; the last reference frees
 * it.  Locking: to_lock protects the hash table and the reference counts.
 */
#include <sys/ddi.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/kmem.h>
#include <sys/queue.h>

#include <limits.h>
#include <pthread.h>

#include "exec.h"
#include "sysinit.h"

#define	TO_HASH		256

struct tout {
	struct ust_event to_ev;
	toid_t		to_id;
	void		(*to_fn)(void *);
	void		*to_arg;
	int		to_refs;	/* to_lock */
	bool		to_hashed;	/* to_lock */
	LIST_ENTRY(tout) to_link;	/* to_lock */
};

LIST_HEAD(tout_list, tout);

static pthread_mutex_t to_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tout_list to_hash[TO_HASH];
static toid_t to_next;
static bool to_stopping;		/* shutdown has begun; to_lock */

static void
tout_release_locked(struct tout *to)
{
	ASSERT(to->to_refs > 0);
	if (--to->to_refs == 0) {
		ASSERT(!to->to_hashed);
		kmem_free(to, sizeof (*to));
	}
}

static void
tout_unhash_locked(struct tout *to)
{
	if (to->to_hashed) {
		LIST_REMOVE(to, to_link);
		to->to_hashed = false;
	}
}

static void
tout_fire(void *arg)
{
	struct tout *to = arg;

	to->to_fn(to->to_arg);
}

/* Executive: the run is over. */
static void
tout_done(struct ust_event *ev)
{
	struct tout *to = (struct tout *)ev;

	pthread_mutex_lock(&to_lock);
	tout_unhash_locked(to);
	tout_release_locked(to);
	pthread_mutex_unlock(&to_lock);
}

/*
 * itimeout - call fn(arg) in callout context after ticks clock ticks (at
 * least one).  Returns a non-zero identifier, or 0 when no record can be
 * allocated or no instance is running.  Base or interrupt; does not block.
 */
toid_t
itimeout(void (*fn)(void *), void *arg, long ticks, pl_t pl)
{
	struct tout *to;
	uint64_t now, tick = 1000000000ull / HZ, when;
	toid_t id;

	(void) pl;
	if (ust_exec == NULL || fn == NULL)
		return (0);
	if ((to = kmem_zalloc(sizeof (*to), KM_NOSLEEP)) == NULL)
		return (0);
	if (ticks < 1)
		ticks = 1;
	ust_event_init(&to->to_ev, tout_fire, to, USTREAMS_CTX_CALLOUT);
	to->to_ev.ev_done = tout_done;
	to->to_fn = fn;
	to->to_arg = arg;
	to->to_refs = 1;		/* the executive's */

	pthread_mutex_lock(&to_lock);
	if (to_stopping) {
		/* Shutting down: a handler that re-arms itself is not. */
		pthread_mutex_unlock(&to_lock);
		kmem_free(to, sizeof (*to));
		return (0);
	}
	do {
		to_next = to_next == INT_MAX ? 1 : to_next + 1;
		to->to_id = to_next;
		/* Skip an id still pending after a wrap of the counter. */
		struct tout *o;
		LIST_FOREACH(o, &to_hash[to->to_id % TO_HASH], to_link) {
			if (o->to_id == to->to_id)
				break;
		}
		if (o == NULL)
			break;
	} while (1);
	LIST_INSERT_HEAD(&to_hash[to->to_id % TO_HASH], to, to_link);
	to->to_hashed = true;
	pthread_mutex_unlock(&to_lock);

	/*
	 * Due at the ticks-th tick boundary after now.  Take the id first:
	 * once posted, the callout may fire and its record be freed (threads
	 * executive) before ust_event_post_at returns.
	 */
	id = to->to_id;
	now = ust_now();
	/* So far off that it cannot be told from never: the end of time. */
	if ((uint64_t)ticks > UINT64_MAX / tick - now / tick)
		when = UINT64_MAX;
	else
		when = (now / tick + (uint64_t)ticks) * tick;
	(void) ust_event_post_at(&to->to_ev, when);
	return (id);
}

toid_t
timeout(void (*fn)(void *), void *arg, long ticks)
{
	return (itimeout(fn, arg, ticks, plbase));
}

/*
 * untimeout - cancel a pending timeout.  Waits for a handler running on
 * another thread.  Base or interrupt (but see above about waiting);
 * returns nothing.
 */
void
untimeout(toid_t id)
{
	struct tout *to;

	if (id == 0 || ust_exec == NULL)
		return;
	pthread_mutex_lock(&to_lock);
	LIST_FOREACH(to, &to_hash[(unsigned)id % TO_HASH], to_link) {
		if (to->to_id == id)
			break;
	}
	if (to == NULL) {
		pthread_mutex_unlock(&to_lock);
		return;
	}
	tout_unhash_locked(to);
	to->to_refs++;			/* ours, while we cancel */
	pthread_mutex_unlock(&to_lock);

	if (ust_event_cancel(&to->to_ev)) {
		/* It never ran: the executive's reference is ours to drop. */
		pthread_mutex_lock(&to_lock);
		tout_release_locked(to);
		pthread_mutex_unlock(&to_lock);
	}
	pthread_mutex_lock(&to_lock);
	tout_release_locked(to);
	pthread_mutex_unlock(&to_lock);
}

static int
tout_init(const struct ustreams_config *cfg)
{
	(void) cfg;
	for (int i = 0; i < TO_HASH; i++)
		LIST_INIT(&to_hash[i]);
	to_next = 0;
	to_stopping = false;
	return (0);
}

/*
 * Pending callouts at shutdown are a driver bug; say so and drop them.
 * From here on timeout refuses (returns 0), so a handler running now that
 * re-arms itself adds nothing behind the scan.
 */
static void
tout_fini(void)
{
	struct tout *to;
	toid_t id;
	long n = 0;

	long pass;

	pthread_mutex_lock(&to_lock);
	to_stopping = true;
	pthread_mutex_unlock(&to_lock);
	/*
	 * Again until a pass finds none: a handler that was running when the
	 * flag went up may have re-armed into a bucket already scanned.
	 */
	do {
		pass = 0;
		for (int i = 0; i < TO_HASH; i++) {
			for (;;) {
				pthread_mutex_lock(&to_lock);
				to = LIST_FIRST(&to_hash[i]);
				id = to != NULL ? to->to_id : 0;
				pthread_mutex_unlock(&to_lock);
				if (id == 0)
					break;
				untimeout(id);
				pass++;
			}
		}
		n += pass;
	} while (pass > 0);
	if (n > 0)
		cmn_err(CE_WARN, "ustreams_shutdown: %ld timeout(s) still "
		    "pending, cancelled", n);
}

USTREAMS_SYSINIT(timeout, SI_ORDER_TIMEOUT, tout_init, tout_fini);
