/*
 * The DDI/DKI entry points a STREAMS module or driver uses that are not
 * STREAMS proper: clock and timing (drv_getparm, drv_usectohz, drv_hztousec,
 * drv_usecwait), callouts (timeout, itimeout, untimeout), and the contexts
 * code runs in.  Modules include it after <sys/stream.h>, as on SVR5.
 */
#ifndef _SYS_DDI_H
#define	_SYS_DDI_H

#include <sys/ustreams_types.h>
#include <sys/debug.h>
#include <sys/cmn_err.h>
#include <sys/kmem.h>
#include <sys/ksynch.h>
#include <time.h>

#ifdef	__cplusplus
extern "C" {
#endif

/* Clock ticks per second: lbolt advances HZ times a second. */
#ifndef HZ
#define	HZ	100
#endif

/* drv_getparm(D3) parameters (SVR4 numbering). */
#define	UPROCP	0
#define	PPGRP	1
#define	LBOLT	2
#define	TIME	3
#define	PPID	4
#define	PSID	5
#define	UCRED	6

extern int drv_getparm(ulong_t parm, void *value_p);
extern clock_t drv_usectohz(clock_t microsecs);
extern clock_t drv_hztousec(clock_t ticks);
extern void drv_usecwait(clock_t microsecs);

extern toid_t timeout(void (*fn)(void *), void *arg, long ticks);
extern toid_t itimeout(void (*fn)(void *), void *arg, long ticks, pl_t pl);
extern void untimeout(toid_t id);

/* Device numbers: a 12-bit major and a 20-bit minor. */
#define	L_MAXMAJ	0xfff
#define	L_MAXMIN	0xfffff
extern dev_t makedevice(major_t major, minor_t minor);
extern major_t getmajor(dev_t dev);
extern minor_t getminor(dev_t dev);

/*
 * Clone minors (ustreams): a set of minor numbers 0..n-1 that a clone
 * driver hands out at open and takes back at close, lowest free first,
 * safe from any thread without a lock.  Declared statically, with
 * USTREAMS_MINORS_DECLARE, since a driver has no load-time hook in which
 * to allocate one.  ustreams_minor_alloc returns -1 when all are in use.
 */
struct ustreams_minors {
	unsigned	um_n;		/* minors 0..um_n-1 */
	_Atomic uint64_t *um_bits;	/* one bit a minor: in use */
};
#define	USTREAMS_MINORS_DECLARE(name, n)				\
	static _Atomic uint64_t name##_bits[((n) + 63) / 64];		\
	static struct ustreams_minors name = { (n), name##_bits }
extern int ustreams_minor_alloc(struct ustreams_minors *mp);
extern void ustreams_minor_free(struct ustreams_minors *mp, minor_t minor);

/* Non-zero when called from a device's interrupt handler. */
extern int servicing_interrupt(void);

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_DDI_H */
