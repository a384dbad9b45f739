/*
 * Basic locks and synchronisation variables (LOCK_ALLOC, SV_ALLOC, ...).
 *
 * A basic lock is a mutex that remembers its holder, so that a recursive
 * LOCK -- a self-deadlock on SVR5 -- is reported instead of hanging, and so
 * that code can ASSERT(LOCK_OWNED(lk)).
 *
 * SV_WAIT sleeps until SV_SIGNAL or SV_BROADCAST.  Under the threads
 * executive the waiter sleeps on a futex (see struct ust_sv).  Under the sim executive there is
 * no other thread to signal: the waiter runs events (which is how virtual
 * time passes) until one of them signals, and panics if the events run out
 * first, since it would then sleep forever.  As on SVR5, SV_WAIT returns
 * with the lock released, and only wakes those already waiting: change the
 * condition and signal while holding the lock the waiter passes in.
 */
#include <sys/ksynch.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/kmem.h>

#include "context.h"
#include "exec.h"
#include "ksynch_impl.h"
#include "where.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

__thread char ust_thread_token __attribute__((tls_model("initial-exec")));

lock_t *
LOCK_ALLOC(uchar_t hierarchy, pl_t min_pl, lkinfo_t *lkinfop, int flag)
{
	lock_t *lk;

	(void) hierarchy; (void) min_pl;
	if ((lk = kmem_zalloc(sizeof (*lk), flag)) == NULL)
		return (NULL);
	kmutex_init(&lk->lk_mtx);
	lk->lk_name = lkinfop != NULL && lkinfop->lk_name != NULL ?
	    lkinfop->lk_name : "lock";
	return (lk);
}

void
LOCK_DEALLOC(lock_t *lk)
{
	ASSERT(!lk->lk_static);
	if (atomic_load_explicit(&lk->lk_owner, memory_order_relaxed) != 0)
		ust_lock_misuse(lk, "LOCK_DEALLOC", "still held",
		    __builtin_return_address(0));
	kmutex_destroy(&lk->lk_mtx);
	kmem_free(lk, sizeof (*lk));
}

void
ust_lock_misuse(lock_t *lk, const char *func, const char *what,
    const void *caller)
{
	char where[UST_WHERE_LEN];

	cmn_err(CE_PANIC, "%s: %s: %s (called from %s)", func, lk->lk_name,
	    what, ust_where(caller, where, sizeof (where)));
	abort();	/* a panic hook that returns */
}

pl_t
LOCK(lock_t *lk, pl_t pl)
{
	ust_lock(lk);
	return (pl);
}

/* TRYLOCK returns the pl on success and invpl (-1) when the lock is busy. */
pl_t
TRYLOCK(lock_t *lk, pl_t pl)
{
	if (!kmutex_trylock(&lk->lk_mtx))
		return (-1);
	atomic_store_explicit(&lk->lk_owner, ust_curthread(),
	    memory_order_relaxed);
	return (pl);
}

void
UNLOCK(lock_t *lk, pl_t pl)
{
	(void) pl;
	ust_unlock(lk);
}

bool
LOCK_OWNED(lock_t *lk)
{
	return (ust_lock_held(lk));
}

sv_t *
SV_ALLOC(int flag)
{
	sv_t *sv;

	if ((sv = kmem_zalloc(sizeof (*sv), flag)) == NULL)
		return (NULL);
	return (sv);
}

void
SV_DEALLOC(sv_t *sv)
{
	ASSERT(!sv->sv_static);
	kmem_free(sv, sizeof (*sv));
}

/*
 * Before it sleeps, a waiter watches sv_gen for up to SV_SPIN_NS, when
 * another CPU could be running its signaller.  A sleep and the wake-up
 * that ends it cost two system calls and the time the scheduler takes to
 * run the sleeper again -- tens of microseconds when its CPU has gone
 * idle -- while a stream's reader and writer hand messages over every
 * few microseconds.  A spinning waiter is not in sv_waiters, so the signal
 * that ends its spin makes no system call either.
 */
#define	SV_SPIN_NS	50000

static bool
sv_spin(sv_t *sv, uint32_t gen)
{
	static _Atomic int ncpus;	/* online CPUs; 0: not asked yet */
	uint64_t deadline = 0;
	unsigned i;
	int n;

	if ((n = atomic_load_explicit(&ncpus, memory_order_relaxed)) == 0) {
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
		atomic_store_explicit(&ncpus, n, memory_order_relaxed);
	}
	if (n < 2)
		return (false);
	for (i = 1;; i++) {
		if (atomic_load_explicit(&sv->sv_gen, memory_order_acquire) !=
		    gen)
			return (true);
		ust_cpu_relax();
		if ((i & 63) == 0) {
			uint64_t t = ust_clock_monotonic_ns();

			if (deadline == 0)
				deadline = t + SV_SPIN_NS;
			else if (t >= deadline)
				return (false);
		}
	}
}

void
ust_sv_wait(sv_t *sv, lock_t *lk, const char *func, const void *caller)
{
	uint32_t gen;

	ust_may_sleep(func, caller);
	if (!ust_lock_held(lk))
		ust_lock_misuse(lk, func, "lock not held", caller);

	if (ust_exec != NULL && ust_exec_is_sim()) {
		gen = atomic_load(&sv->sv_gen);
		UNLOCK(lk, plbase);
		while (atomic_load(&sv->sv_gen) == gen) {
			if (!ust_exec->eo_step())
				cmn_err(CE_PANIC, "%s: would sleep forever: no "
				    "event is left to wake it (sim executive)",
				    func);
		}
		return;
	}
	gen = atomic_load(&sv->sv_gen);
	UNLOCK(lk, plbase);
	ust_exec_undefer();
	if (sv_spin(sv, gen))
		return;
	atomic_fetch_add(&sv->sv_waiters, 1);
	while (atomic_load(&sv->sv_gen) == gen) {
		atomic_store(&sv->sv_asleep, 1);
		ust_futex_wait(&sv->sv_gen, gen);
	}
	atomic_fetch_sub(&sv->sv_waiters, 1);
}

void
SV_WAIT(sv_t *sv, int priority, lock_t *lk)
{
	(void) priority;
	ust_sv_wait(sv, lk, "SV_WAIT", __builtin_return_address(0));
}

/*
 * Signals are not delivered to a user-space instance's sleepers, so
 * SV_WAIT_SIG always returns true (woken by SV_SIGNAL/SV_BROADCAST).
 */
bool
SV_WAIT_SIG(sv_t *sv, int priority, lock_t *lk)
{
	(void) priority;
	ust_sv_wait(sv, lk, "SV_WAIT_SIG", __builtin_return_address(0));
	return (true);
}

void
SV_SIGNAL(sv_t *sv, int flags)
{
	(void) flags;
	atomic_fetch_add(&sv->sv_gen, 1);
	if (atomic_load(&sv->sv_waiters) != 0)
		ust_futex_wake(&sv->sv_gen, 1);
}

void
SV_BROADCAST(sv_t *sv, int flags)
{
	(void) flags;
	atomic_fetch_add(&sv->sv_gen, 1);
	if (atomic_load(&sv->sv_waiters) != 0 &&
	    atomic_exchange(&sv->sv_asleep, 0) != 0)
		ust_futex_wake(&sv->sv_gen, INT_MAX);
}
