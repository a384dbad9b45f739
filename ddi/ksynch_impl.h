/*
 * Basic locks and synchronisation variables (private side): the structures
 * behind lock_t and sv_t, so that the framework can declare them statically.
 */
#ifndef _DDI_KSYNCH_IMPL_H
#define	_DDI_KSYNCH_IMPL_H

#include <sys/ksynch.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kmutex.h"

/*
 * A basic lock.  lk_owner is written only by the holder (set after the
 * mutex is taken, cleared before it is released) and read by LOCK_OWNED,
 * which only asks "is it me", so a relaxed atomic is enough.
 */
struct ust_lock {
	kmutex_t	lk_mtx;
	const char	*lk_name;	/* from lkinfo; set once */
	_Atomic(const void *) lk_owner;	/* holder's ust_curthread(), or 0 */
	bool		lk_static;	/* not from LOCK_ALLOC */
};

/*
 * A synchronisation variable: a futex word.  sv_gen counts signals, so
 * that a waiter can tell a real wake-up from a spurious one and, under the
 * sim executive, knows when to stop running events; a waiter sleeps on it
 * with the value it read while still holding its lock, so a signal given
 * after that is never lost.  sv_waiters counts the threads between that
 * read and their return, so that a signal with no one waiting makes no
 * system call: the signaller bumps sv_gen and then reads sv_waiters, a
 * waiter bumps sv_waiters and then reads sv_gen (both sequentially
 * consistent), so at least one of them sees the other.
 *
 * sv_asleep is set by a waiter just before each futex sleep and taken
 * (exchanged to 0) by SV_BROADCAST, which wakes the sleepers only if it
 * was set: a broadcast that finds waiters already woken -- not yet back
 * on a CPU, so still counted in sv_waiters -- makes no system call.  A
 * waiter sets it and then sleeps only while sv_gen is unchanged, and a
 * broadcast bumps sv_gen before taking it, so a sleeper the broadcast
 * does not see has not slept on the old value.
 */
struct ust_sv {
	_Atomic uint32_t sv_gen;
	_Atomic uint32_t sv_waiters;
	_Atomic uint32_t sv_asleep;
	bool		sv_static;
};

/* The calling thread, as a token: the address of a thread-local byte. */
extern __thread char ust_thread_token __attribute__((tls_model("initial-exec")));
#define	ust_curthread()	((const void *)&ust_thread_token)

#define	UST_LOCK_INITIALIZER(name) \
	{ KMUTEX_INITIALIZER, (name), 0, true }
#define	UST_SV_INITIALIZER \
	{ 0, 0, 0, true }

/*
 * LOCK and UNLOCK, inline, for the framework's own locks on its hot
 * paths (the stream head's); they check what LOCK and UNLOCK check and
 * panic the same way.  A misuse report names the caller of the function
 * they are inlined into (for LOCK and UNLOCK themselves, the driver).
 */
extern void ust_lock_misuse(lock_t *lk, const char *func, const char *what,
    const void *caller) __attribute__((noreturn, cold));

static inline bool
ust_lock_held(lock_t *lk)
{
	return (atomic_load_explicit(&lk->lk_owner, memory_order_relaxed) ==
	    ust_curthread());
}

static inline void
ust_lock(lock_t *lk)
{
	if (__builtin_expect(ust_lock_held(lk), 0))
		ust_lock_misuse(lk, "LOCK", "recursive lock",
		    __builtin_return_address(0));
	kmutex_lock(&lk->lk_mtx);
	atomic_store_explicit(&lk->lk_owner, ust_curthread(),
	    memory_order_relaxed);
}

static inline void
ust_unlock(lock_t *lk)
{
	if (__builtin_expect(!ust_lock_held(lk), 0))
		ust_lock_misuse(lk, "UNLOCK", "not held by the caller",
		    __builtin_return_address(0));
	atomic_store_explicit(&lk->lk_owner, 0, memory_order_relaxed);
	kmutex_unlock(&lk->lk_mtx);
}

/*
 * SV_WAIT on behalf of func: a panic (wrong context, or a sleep the sim
 * executive could never end) names func, the DDI call the driver made,
 * and caller, the address that call returns to.
 */
extern void ust_sv_wait(sv_t *sv, lock_t *lk, const char *func,
    const void *caller);

#endif	/* _DDI_KSYNCH_IMPL_H */
