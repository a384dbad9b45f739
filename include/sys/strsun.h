/*
 * <sys/strsun.h>-style helpers: short names for what modules compute
 * over and over.  Each hides nothing a reader needs.
 */
#ifndef _SYS_STRSUN_H
#define	_SYS_STRSUN_H

#include <sys/stream.h>

#define	DB_BASE(mp)	((mp)->b_datap->db_base)
#define	DB_LIM(mp)	((mp)->b_datap->db_lim)
#define	DB_REF(mp)	((mp)->b_datap->db_ref)
#define	DB_TYPE(mp)	((mp)->b_datap->db_type)
#define	DB_FRTNP(mp)	((mp)->b_datap->db_frtnp)

/* Bytes of data in the block; room before and after it; buffer size. */
#define	MBLKL(mp)	((mp)->b_wptr - (mp)->b_rptr)
#define	MBLKHEAD(mp)	((mp)->b_rptr - DB_BASE(mp))
#define	MBLKTAIL(mp)	(DB_LIM(mp) - (mp)->b_wptr)
#define	MBLKSIZE(mp)	(DB_LIM(mp) - DB_BASE(mp))

/* Answer an M_IOCTL in place and send it back up (streams/mioc.c). */
extern void miocack(queue_t *wq, mblk_t *mp, int count, int rval);
extern void miocnak(queue_t *wq, mblk_t *mp, int count, int error);
extern void mcopyin(mblk_t *mp, void *priv, size_t size, void *useraddr);
extern void mcopyout(mblk_t *mp, void *priv, size_t size, void *useraddr,
    mblk_t *dp);
extern int miocpullup(mblk_t *mp, size_t size);

#endif	/* _SYS_STRSUN_H */
