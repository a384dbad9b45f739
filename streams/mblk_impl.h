/*
 * Message blocks (private side): the layout rules of streams/mblk.c that
 * the message utilities also rely on.
 */
#ifndef _STREAMS_MBLK_IMPL_H
#define	_STREAMS_MBLK_IMPL_H

#include <sys/stream.h>

/* b_ustate / db_ustate */
#define	MB_UALLOC	0xa1
#define	MB_UFREE	0xf7
#define	DB_UALLOC	0xa2
#define	DB_UFREE	0xf8

/* b_uflags */
#define	MB_UHOME	0x01	/* the mblk in front of its object's dblk */

/* db_upad[0] */
#define	DB_UDESB	0x01	/* desballoc: free routine runs at once */

/*
 * db_upad[DB_UHOLDS] of an esballoc object: what keeps the object, apart
 * from db_ref -- 1 for the data block until its free routine has run, and
 * 1 for the home header while pullupmsg has it point at another dblk.
 * The object goes back when both are gone, so the free routine runs when
 * the caller's buffer loses its last reference, not when the header does.
 * Changed atomically.
 */
#define	DB_UHOLDS	1

/* The dblk behind a home mblk, and the home mblk in front of a dblk. */
#define	MB_HOMEDB(mp)	((dblk_t *)((mblk_t *)(mp) + 1))
#define	MB_HOMEMB(dbp)	((mblk_t *)(dbp) - 1)

/* Set up the parts of a data-class object that never change (strcache). */
extern void mblk_ctor(mblk_t *obj, unsigned cls);

/* Drop one reference; the last gives the object back. */
extern void dblk_release(dblk_t *dbp, const void *caller);
extern void freeb_common(mblk_t *mp, const void *caller);
extern void mblk_misuse(const char *func, mblk_t *mp, const void *caller);

/* msgpullup's tail: copies of rest, the first from off on (msg.c). */
extern mblk_t *msg_append_copies(mblk_t *nmp, const mblk_t *rest,
    size_t off);

/* pullupmsg: mp, a home block, now points at another dblk than its own. */
extern void mblk_leave_home(mblk_t *mp, const void *caller);

#endif	/* _STREAMS_MBLK_IMPL_H */
