/*
 * miocack, miocnak, mcopyin, mcopyout, miocpullup: answering an M_IOCTL
 * in place.
 *
 * Every driver and module that implements ioctls ends each one the same
 * way: turn the M_IOCTL message into M_IOCACK or M_IOCNAK, set the
 * iocblk's count, return value and error, drop the data it will not send
 * back, and qreply it.  A transparent ioctl asks the stream head for the
 * caller's data first, and gives it back, by turning the same message
 * into M_COPYIN or M_COPYOUT.  These are the illumos <sys/strsun.h>
 * helpers of the same names and signatures; mcopyin and mcopyout, as
 * there, leave the qreply to the caller.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/debug.h>

#include <errno.h>
#include <string.h>

static void
mioc_reply(queue_t *wq, mblk_t *mp, unsigned char type, int count, int rval,
    int error)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;

	ASSERT(MBLKL(mp) >= (ssize_t)sizeof (*iocp));
	DB_TYPE(mp) = type;
	iocp->ioc_count = count > 0 ? (size_t)count : 0;
	iocp->ioc_rval = rval;
	iocp->ioc_error = error;
	if (iocp->ioc_count == 0 && mp->b_cont != NULL) {
		freemsg(mp->b_cont);
		mp->b_cont = NULL;
	}
	qreply(wq, mp);
}

/*
 * miocack - acknowledge the M_IOCTL mp that arrived on wq: M_IOCACK with
 * ioc_count = count bytes of data in b_cont (0: b_cont is freed) and
 * ioc_rval = rval, sent back up with qreply.  Any context; does not block.
 */
void
miocack(queue_t *wq, mblk_t *mp, int count, int rval)
{
	mioc_reply(wq, mp, M_IOCACK, count, rval, 0);
}

/*
 * miocnak - refuse it: M_IOCNAK with ioc_error = error (the application
 * sees it as errno; 0 means EINVAL), ioc_count = count (normally 0: the
 * data is freed).  Any context; does not block.
 */
void
miocnak(queue_t *wq, mblk_t *mp, int count, int error)
{
	mioc_reply(wq, mp, M_IOCNAK, count, 0, error);
}

/*
 * The caller's argument of the transparent M_IOCTL mp: the address in
 * its b_cont.
 */
static caddr_t
mioc_useraddr(mblk_t *mp)
{
	intptr_t arg;

	ASSERT(mp->b_cont != NULL &&
	    MBLKL(mp->b_cont) >= (ssize_t)sizeof (arg));
	memcpy(&arg, mp->b_cont->b_rptr, sizeof (arg));
	return ((caddr_t)arg);
}

/* Make mp, an M_IOCTL or M_IOCDATA, the copy request type. */
static void
mioc_copyreq(mblk_t *mp, unsigned char type, void *priv, size_t size,
    caddr_t addr)
{
	struct copyreq *cq = (struct copyreq *)(void *)mp->b_rptr;

	ASSERT(DB_TYPE(mp) == M_IOCTL || DB_TYPE(mp) == M_IOCDATA);
	ASSERT(DB_LIM(mp) - mp->b_rptr >= (ssize_t)sizeof (*cq));
	/* cq_cmd, cq_cr and cq_id are the iocblk's (or copyresp's). */
	cq->cq_addr = addr;
	cq->cq_size = size;
	cq->cq_flag = 0;
	cq->cq_private = priv;
	mp->b_wptr = mp->b_rptr + sizeof (*cq);
	DB_TYPE(mp) = type;
}

/*
 * mcopyin - turn mp (the M_IOCTL of a transparent ioctl, or the M_IOCDATA
 * of an earlier step) into an M_COPYIN asking for size bytes from the
 * caller's address useraddr -- NULL: the ioctl's argument, which must
 * still be in mp's b_cont.  priv comes back in the M_IOCDATA's
 * cp_private.  b_cont is freed.  The caller sends mp with qreply.  Any
 * context; does not block.
 */
void
mcopyin(mblk_t *mp, void *priv, size_t size, void *useraddr)
{
	caddr_t addr = useraddr != NULL ? useraddr : mioc_useraddr(mp);

	freemsg(mp->b_cont);
	mp->b_cont = NULL;
	mioc_copyreq(mp, M_COPYIN, priv, size, addr);
}

/*
 * mcopyout - turn mp into an M_COPYOUT asking the stream head to copy
 * size bytes of dp (NULL: of mp's b_cont, kept) to the caller's address
 * useraddr (NULL: the ioctl's argument, which must then be mp's b_cont,
 * and dp must be given).  priv comes back in cp_private.  The caller
 * sends mp with qreply.  Any context; does not block.
 */
void
mcopyout(mblk_t *mp, void *priv, size_t size, void *useraddr, mblk_t *dp)
{
	caddr_t addr = useraddr != NULL ? useraddr : mioc_useraddr(mp);

	if (dp != NULL) {
		freemsg(mp->b_cont);
		mp->b_cont = dp;
	}
	mioc_copyreq(mp, M_COPYOUT, priv, size, addr);
}

/*
 * miocpullup - make the first size bytes of the data of mp, an I_STR's
 * M_IOCTL, one block (b_cont), so that the module may read them as a
 * structure.  0; EINVAL for a transparent ioctl or one with less data;
 * ENOMEM when the blocks cannot be joined.  Any context; does not block.
 */
int
miocpullup(mblk_t *mp, size_t size)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;

	ASSERT(DB_TYPE(mp) == M_IOCTL);
	if (iocp->ioc_count == TRANSPARENT)
		return (EINVAL);
	if (size == 0)
		return (0);
	if (mp->b_cont == NULL || iocp->ioc_count < size ||
	    (size_t)msgdsize(mp->b_cont) < size || size > INT32_MAX)
		return (EINVAL);
	if (MBLKL(mp->b_cont) >= (ssize_t)size)
		return (0);
	return (pullupmsg(mp->b_cont, (int)size) ? 0 : ENOMEM);
}
