/*
 * SVR5 multiprocessor synchronisation: basic locks and synchronisation
 * variables (LOCK_ALLOC(D3), SV_ALLOC(D3) and their operations).
 *
 * There is no interrupt priority to raise in user space: LOCK returns the
 * pl_t it was given back so that code written for SVR5 (pl = LOCK(lk, plstr);
 * ... UNLOCK(lk, pl)) compiles and runs unchanged.  Interrupt handlers run on
 * their own thread (threads executive) or as events (sim executive), so a
 * basic lock shared with an interrupt handler is an ordinary mutex.
 */
#ifndef _SYS_KSYNCH_H
#define	_SYS_KSYNCH_H

#include <sys/ustreams_types.h>

#ifdef	__cplusplus
extern "C" {
#endif

/* Interrupt priority levels: accepted and returned, otherwise inert. */
#define	plbase		0
#define	pltimeout	1
#define	pldisk		5
#define	plstr		6
#define	plhi		8
#define	invpl		(-1)	/* TRYLOCK: the lock was busy */

typedef struct lkinfo {
	const char	*lk_name;	/* shown in panics and statistics */
	int		lk_flags;
	long		lk_pad[2];
} lkinfo_t;

typedef struct ust_lock lock_t;		/* basic lock */
typedef struct ust_sv sv_t;		/* synchronisation variable */

extern lock_t *LOCK_ALLOC(uchar_t hierarchy, pl_t min_pl, lkinfo_t *lkinfop,
    int flag);
extern void LOCK_DEALLOC(lock_t *lockp);
extern pl_t LOCK(lock_t *lockp, pl_t pl);
extern pl_t TRYLOCK(lock_t *lockp, pl_t pl);
extern void UNLOCK(lock_t *lockp, pl_t pl);
extern bool LOCK_OWNED(lock_t *lockp);

extern sv_t *SV_ALLOC(int flag);
extern void SV_DEALLOC(sv_t *svp);
extern void SV_WAIT(sv_t *svp, int priority, lock_t *lkp);
extern bool SV_WAIT_SIG(sv_t *svp, int priority, lock_t *lkp);
extern void SV_SIGNAL(sv_t *svp, int flags);
extern void SV_BROADCAST(sv_t *svp, int flags);

/* SV_WAIT priorities: accepted, not used for scheduling here. */
#define	primin		0
#define	primed		40
#define	prihi		79

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_KSYNCH_H */
