/*
 * errmod - a STREAMS module that raises errors and hang-ups upstream on
 * command, to exercise what a stream head does with them.
 *
 * Its ioctls (I_STR), answered with M_IOCACK and then acted on:
 *   ERRMOD_ERROR     an M_ERROR whose data is the ioctl's 1 or 2 bytes:
 *                    one byte sets the read and the write error, two set
 *                    them separately (NOERROR leaves a side alone, 0
 *                    clears it).  Any other length: M_IOCNAK, EINVAL.
 *   ERRMOD_HANGUP    an M_HANGUP.
 *   ERRMOD_UNHANGUP  an M_UNHANGUP.
 * The message is built before the acknowledgement is sent, so that a
 * shortage of memory fails the ioctl (ENOSR) instead of losing the
 * message; it is sent up right after the acknowledgement, from the same
 * put procedure, so by the time the stream head has both, the ioctl has
 * succeeded and the condition holds.  Every other message, ioctls
 * included, passes through unchanged both ways; there are no service
 * procedures and nothing is queued.
 *
 * Locking.  errmod keeps no state, so there is nothing to lock; it would
 * be safe registered USTREAMS_MTSAFE as well, and is registered without,
 * under the default perimeter (one procedure of an instance at a time).
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>

#define	ERRMOD_ID	1022

/* errmodopen - a push; nothing to set up.  EINVAL unless pushed. */
static int
errmodopen(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	if (sflag != MODOPEN)
		return (EINVAL);
	qprocson(q);
	return (0);
}

static int
errmodclose(queue_t *q, int oflag, cred_t *crp)
{
	qprocsoff(q);
	return (0);
}

/* Answer an ioctl in place: M_IOCACK, or M_IOCNAK with error. */
static void
errmod_iocreply(queue_t *q, mblk_t *mp, int error)
{
	if (error != 0)
		miocnak(q, mp, 0, error);
	else
		miocack(q, mp, 0, 0);
}

/*
 * The message an ioctl asks for: an M_ERROR carrying the ioctl's bytes,
 * or an empty M_HANGUP or M_UNHANGUP.  NULL with *errorp set.
 */
static mblk_t *
errmod_build(mblk_t *mp, int *errorp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	size_t len = 0;
	mblk_t *bp;
	unsigned char type;

	switch (iocp->ioc_cmd) {
	case ERRMOD_ERROR:
		len = msgsize(mp->b_cont);
		if ((iocp->ioc_count != 1 && iocp->ioc_count != 2) ||
		    len != iocp->ioc_count) {
			*errorp = EINVAL;
			return (NULL);
		}
		type = M_ERROR;
		break;
	case ERRMOD_HANGUP:
		type = M_HANGUP;
		break;
	default:
		type = M_UNHANGUP;
		break;
	}
	if ((bp = allocb((int)len, BPRI_HI)) == NULL) {
		*errorp = ENOSR;
		return (NULL);
	}
	DB_TYPE(bp) = type;
	for (mblk_t *cp = mp->b_cont; len > 0 && cp != NULL; cp = cp->b_cont) {
		for (unsigned char *p = cp->b_rptr; p < cp->b_wptr; p++)
			*bp->b_wptr++ = *p;
	}
	return (bp);
}

/*
 * errmodwput - act on the module's own ioctls; pass everything else
 * down.
 */
static int
errmodwput(queue_t *q, mblk_t *mp)
{
	struct iocblk *iocp;
	mblk_t *bp;
	int error = 0;

	if (DB_TYPE(mp) != M_IOCTL ||
	    MBLKL(mp) < (ssize_t)sizeof (struct iocblk)) {
		putnext(q, mp);
		return (0);
	}
	iocp = (struct iocblk *)(void *)mp->b_rptr;
	switch (iocp->ioc_cmd) {
	case ERRMOD_ERROR:
	case ERRMOD_HANGUP:
	case ERRMOD_UNHANGUP:
		if ((bp = errmod_build(mp, &error)) == NULL) {
			errmod_iocreply(q, mp, error);
			break;
		}
		errmod_iocreply(q, mp, 0);
		qreply(q, bp);
		break;
	default:
		putnext(q, mp);
		break;
	}
	return (0);
}

/* errmodrput - the read side passes everything up. */
static int
errmodrput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info errmod_minfo = {
	ERRMOD_ID, "errmod", 0, INFPSZ, 8192, 2048
};

static struct qinit errmod_rinit = {
	errmodrput, NULL, errmodopen, errmodclose, NULL, &errmod_minfo, NULL
};

static struct qinit errmod_winit = {
	errmodwput, NULL, NULL, NULL, NULL, &errmod_minfo, NULL
};

struct streamtab errmodinfo = {
	&errmod_rinit, &errmod_winit, NULL, NULL
};
