/*
 * upcase - a STREAMS module that converts the data written through it to
 * upper case (or to lower case, or not at all: see UPCASE_SETMODE).
 *
 * The worked example of the module writer's guide (docs/guide.md).  It is
 * written against the public headers only, as any module is, and shows:
 *
 *   - per-instance state in q_ptr, set up in open and freed in close;
 *   - a write-side service procedure that honours flow control: the put
 *     procedure queues, the service procedure converts and passes on
 *     while bcanputnext() allows, and puts the rest back;
 *   - recovery from an allocation failure with bufcall;
 *   - M_FLUSH handling;
 *   - ioctls of its own (I_STR), answered with M_IOCACK or M_IOCNAK,
 *     while other ioctls go on down to the driver.
 *
 * The read side has no service procedure: what comes up passes through.
 *
 * Locking: none of its own.  upcase is registered without
 * USTREAMS_MTSAFE, so its put and service procedures, on both queues of
 * an instance, run one at a time (the instance's perimeter), and the
 * instance's state needs no lock.  The bufcall and timeout callbacks run
 * outside the perimeter, so they touch nothing but qenable().
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <string.h>

#include "upcase.h"

/* One per pushed instance; the q_ptr of both queues points at it. */
struct upcase {
	int		up_mode;	/* UPCASE_OFF, _UPPER or _LOWER */
	bufcall_id_t	up_bufcall;	/* waiting for memory, or 0 */
	toid_t		up_timeout;	/* or waiting for time, or 0 */
	struct upcase_stats up_stats;
};

/*
 * Open: a module is opened once per I_PUSH, in base context, so it may
 * sleep for its memory.  The procedures are off until qprocson().
 */
static int
upcase_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct upcase *up;

	if (sflag != MODOPEN)
		return (EINVAL);	/* a module, not a driver */
	if ((up = kmem_zalloc(sizeof (*up), KM_SLEEP)) == NULL)
		return (ENOMEM);
	up->up_mode = UPCASE_UPPER;
	q->q_ptr = up;
	WR(q)->q_ptr = up;
	qprocson(q);
	return (0);
}

/* Drop a pending retry: a bufcall or a timeout, whichever is set. */
static void
upcase_cancel_retry(struct upcase *up)
{
	if (up->up_bufcall != 0) {
		unbufcall(up->up_bufcall);
		up->up_bufcall = 0;
	}
	if (up->up_timeout != 0) {
		untimeout(up->up_timeout);
		up->up_timeout = 0;
	}
}

/*
 * Close: procedures off first (once qprocsoff returns, no service
 * procedure runs or will run), then the retry, whose callback would
 * otherwise enable a queue that is gone.  Messages still queued are not
 * flushed: when the module is popped, the framework passes them on.
 */
static int
upcase_close(queue_t *q, int oflag, cred_t *crp)
{
	struct upcase *up = q->q_ptr;

	qprocsoff(q);
	upcase_cancel_retry(up);
	q->q_ptr = NULL;
	WR(q)->q_ptr = NULL;
	kmem_free(up, sizeof (*up));
	return (0);
}

/*
 * Write put procedure.  M_FLUSH is acted on at once, and other
 * high-priority messages pass straight on.  Everything else -- data, and
 * ioctls, which must stay in order with the data written before them --
 * goes on the queue, for the service procedure.
 */
static int
upcase_wput(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_FLUSH) {
		if (*mp->b_rptr & FLUSHW) {
			if ((*mp->b_rptr & FLUSHBAND) && MBLKL(mp) >= 2)
				flushband(q, mp->b_rptr[1], FLUSHDATA);
			else
				flushq(q, FLUSHDATA);
		}
		putnext(q, mp);
		return (0);
	}
	if (DB_TYPE(mp) >= QPCTL) {
		putnext(q, mp);
		return (0);
	}
	if (!putq(q, mp))
		freemsg(mp);	/* its band could not be allocated */
	return (0);
}

/* Turn an M_IOCTL around as its M_IOCACK, with count bytes in b_cont. */
static void
upcase_iocack(queue_t *q, mblk_t *mp, int rval, size_t count)
{
	struct iocblk *ioc = (struct iocblk *)(void *)mp->b_rptr;

	DB_TYPE(mp) = M_IOCACK;
	ioc->ioc_rval = rval;
	ioc->ioc_error = 0;
	ioc->ioc_count = count;
	if (count == 0 && mp->b_cont != NULL) {
		freemsg(mp->b_cont);
		mp->b_cont = NULL;
	}
	qreply(q, mp);
}

/* Turn an M_IOCTL around as its M_IOCNAK: the ioctl fails with error. */
static void
upcase_iocnak(queue_t *q, mblk_t *mp, int error)
{
	struct iocblk *ioc = (struct iocblk *)(void *)mp->b_rptr;

	DB_TYPE(mp) = M_IOCNAK;
	ioc->ioc_error = error;
	ioc->ioc_count = 0;
	if (mp->b_cont != NULL) {
		freemsg(mp->b_cont);
		mp->b_cont = NULL;
	}
	qreply(q, mp);
}

/*
 * Our ioctls.  Returns true when mp was one of them (it has been
 * answered), false for any other command, which goes on down unchanged.
 */
static bool
upcase_ioctl(queue_t *q, struct upcase *up, mblk_t *mp)
{
	struct iocblk *ioc = (struct iocblk *)(void *)mp->b_rptr;
	mblk_t *bp;
	int mode, old;

	switch (ioc->ioc_cmd) {
	case UPCASE_SETMODE:
		if (ioc->ioc_count != sizeof (int) || mp->b_cont == NULL ||
		    MBLKL(mp->b_cont) < (ptrdiff_t)sizeof (int)) {
			upcase_iocnak(q, mp, EINVAL);
			return (true);
		}
		memcpy(&mode, mp->b_cont->b_rptr, sizeof (int));
		if (mode != UPCASE_OFF && mode != UPCASE_UPPER &&
		    mode != UPCASE_LOWER) {
			upcase_iocnak(q, mp, EINVAL);
			return (true);
		}
		old = up->up_mode;
		up->up_mode = mode;
		upcase_iocack(q, mp, old, 0);	/* returns the old mode */
		return (true);
	case UPCASE_GETSTATS:
		/* ic_len tells the size of the application's buffer. */
		if (ioc->ioc_count != sizeof (up->up_stats)) {
			upcase_iocnak(q, mp, EINVAL);
			return (true);
		}
		if ((bp = allocb(sizeof (up->up_stats), BPRI_MED)) == NULL) {
			upcase_iocnak(q, mp, ENOSR);
			return (true);
		}
		memcpy(bp->b_wptr, &up->up_stats, sizeof (up->up_stats));
		bp->b_wptr += sizeof (up->up_stats);
		freemsg(mp->b_cont);
		mp->b_cont = bp;
		upcase_iocack(q, mp, 0, sizeof (up->up_stats));
		return (true);
	default:
		return (false);
	}
}

/* Convert one block in place. */
static void
upcase_block(mblk_t *bp, int mode)
{
	unsigned char *p;

	for (p = bp->b_rptr; p < bp->b_wptr; p++) {
		if (mode == UPCASE_UPPER && *p >= 'a' && *p <= 'z')
			*p = (unsigned char)(*p - 'a' + 'A');
		else if (mode == UPCASE_LOWER && *p >= 'A' && *p <= 'Z')
			*p = (unsigned char)(*p - 'A' + 'a');
	}
}

/*
 * Convert the M_DATA blocks of *mpp and count the message.  A data block
 * that another message shares (db_ref > 1) is not ours to change: the
 * message is then copied first, and the copy goes on.  Returns false,
 * *mpp unchanged, when that copy cannot be had.
 */
static bool
upcase_convert(struct upcase *up, mblk_t **mpp)
{
	mblk_t *mp = *mpp, *bp, *nmp;

	for (bp = mp; bp != NULL; bp = bp->b_cont) {
		if (DB_TYPE(bp) == M_DATA && DB_REF(bp) > 1)
			break;
	}
	if (bp != NULL && up->up_mode != UPCASE_OFF) {
		if ((nmp = copymsg(mp)) == NULL)
			return (false);
		freemsg(mp);
		mp = nmp;
		up->up_stats.us_copies++;
	}
	for (bp = mp; bp != NULL; bp = bp->b_cont) {
		if (DB_TYPE(bp) != M_DATA)
			continue;
		upcase_block(bp, up->up_mode);
		up->up_stats.us_bytes += (unsigned long)MBLKL(bp);
	}
	up->up_stats.us_msgs++;
	*mpp = mp;
	return (true);
}

/* bufcall and timeout callback: try again.  Outside the perimeter. */
static void
upcase_retry(void *arg)
{
	qenable((queue_t *)arg);
}

/*
 * Come back when a copy of mp could be had: bufcall for its largest
 * buffer (copymsg copies each block into a buffer as large as the
 * original's), or, when not even that can be recorded, in 10 ms.
 */
static void
upcase_retry_later(queue_t *q, struct upcase *up, mblk_t *mp)
{
	size_t size = 0;
	mblk_t *bp;

	for (bp = mp; bp != NULL; bp = bp->b_cont) {
		if ((size_t)MBLKSIZE(bp) > size)
			size = (size_t)MBLKSIZE(bp);
	}
	up->up_bufcall = bufcall((uint_t)size, BPRI_MED, upcase_retry, q);
	if (up->up_bufcall == 0)
		up->up_timeout = timeout(upcase_retry, q, drv_usectohz(10000));
}

/*
 * Write service procedure: answer our ioctls, convert data, and pass
 * everything on, in order, while the next queue has room.  When it has
 * none, the message goes back and the procedure returns: the framework
 * enables this queue again when the queue below drains (back-enabling).
 */
static int
upcase_wsrv(queue_t *q)
{
	struct upcase *up = q->q_ptr;
	mblk_t *mp;

	upcase_cancel_retry(up);	/* this is the retry, if one was set */
	while ((mp = getq(q)) != NULL) {
		if (DB_TYPE(mp) == M_IOCTL && upcase_ioctl(q, up, mp))
			continue;
		if (!bcanputnext(q, mp->b_band)) {
			(void) putbq(q, mp);
			return (0);
		}
		if ((DB_TYPE(mp) == M_DATA || DB_TYPE(mp) == M_PROTO) &&
		    !upcase_convert(up, &mp)) {
			(void) putbq(q, mp);
			upcase_retry_later(q, up, mp);
			return (0);
		}
		putnext(q, mp);
	}
	return (0);
}

/*
 * Read put procedure: nothing to do on the way up.  (With nothing ever
 * queued on this side, an M_FLUSH has nothing to flush here either.)
 */
static int
upcase_rput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info upcase_minfo = {
	.mi_idnum = UPCASE_ID,
	.mi_idname = UPCASE_NAME,
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 1024,
	.mi_lowat = 256
};

static struct qinit upcase_rinit = {
	.qi_putp = upcase_rput,
	.qi_qopen = upcase_open,
	.qi_qclose = upcase_close,
	.qi_minfo = &upcase_minfo
};

static struct qinit upcase_winit = {
	.qi_putp = upcase_wput,
	.qi_srvp = upcase_wsrv,
	.qi_minfo = &upcase_minfo
};

struct streamtab upcase_info = {
	.st_rdinit = &upcase_rinit,
	.st_wrinit = &upcase_winit
};

/*
 * Register upcase under its name, so that I_PUSH finds it.  The table is
 * the process's: once is enough, before or after ustreams_boot().
 * Returns 0 or an error number (EEXIST when it is already registered).
 */
int
upcase_register(void)
{
	return (ustreams_register_module(UPCASE_NAME, &upcase_info, 0));
}
