/*
 * Basic locks and synchronisation variables (private side): the structures
 * behind lock_t and sv_t, so that the framework can declare them statically.
 */
#ifndef _DDI_KSYNCH_IMPL_H
#define	_DDI_KSYNCH_IMPL_H

#include <sys/ksynch.h>
#include <pthread.h>
#include <stdatomic.h>

/*
 * A basic lock.  lk_owner is written only by the holder (set after the
 * mutex is taken, cleared before it is released) and read by LOCK_OWNED,
 * which only asks "is it me", so a relaxed atomic is enough.
 */
struct ust_lock {
	pthread_mutex_t	lk_mtx;
	const char	*lk_name;	/* from lkinfo; set once */
	_Atomic(pthread_t) lk_owner;	/* holder, or 0 */
	bool		lk_static;	/* not from LOCK_ALLOC */
};

/*
 * A synchronisation variable.  sv_gen counts signals, so that a waiter
 * can tell a real wake-up from a spurious one and, under the sim
 * executive, knows when to stop running events.
 */
struct ust_sv {
	pthread_cond_t	sv_cv;
	_Atomic uint64_t sv_gen;
	bool		sv_static;
};

#define	UST_LOCK_INITIALIZER(name) \
	{ PTHREAD_MUTEX_INITIALIZER, (name), 0, true }
#define	UST_SV_INITIALIZER \
	{ PTHREAD_COND_INITIALIZER, 0, true }

/*
 * SV_WAIT on behalf of func: a panic (wrong context, or a sleep the sim
 * executive could never end) names func, the DDI call the driver made.
 */
extern void ust_sv_wait(sv_t *sv, lock_t *lk, const char *func);

#endif	/* _DDI_KSYNCH_IMPL_H */
