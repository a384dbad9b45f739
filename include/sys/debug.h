/*
 * ASSERT and friends.
 *
 * ASSERT(EX) is compiled only when DEBUG is defined, as in the SVR5 and
 * illumos kernels: a debug build checks every stated invariant, a production
 * build pays nothing for them.  A failed assertion panics through cmn_err,
 * naming the expression, file and line, so a test can capture it.
 * VERIFY(EX) is checked in every build.
 */
#ifndef _SYS_DEBUG_H
#define	_SYS_DEBUG_H

#ifdef	__cplusplus
extern "C" {
#endif

extern void ustreams_assfail(const char *, const char *, int)
    __attribute__((noreturn));

#define	VERIFY(EX) \
	((void)((EX) || (ustreams_assfail(#EX, __FILE__, __LINE__), 0)))

#ifdef DEBUG
#define	ASSERT(EX)	VERIFY(EX)
#else
#define	ASSERT(EX)	((void)0)
#endif

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_DEBUG_H */
