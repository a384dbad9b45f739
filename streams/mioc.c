/*
 * miocack, miocnak: answering an M_IOCTL in place.
 *
 * Every driver and module that implements ioctls ends each one the same
 * way: turn the M_IOCTL message into M_IOCACK or M_IOCNAK, set the
 * iocblk's count, return value and error, drop the data it will not send
 * back, and qreply it.  These are the illumos <sys/strsun.h> helpers of
 * the same names and signatures.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/debug.h>

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
