/*
 * null - a STREAMS driver that swallows what is written and never sends
 * anything up: the /dev/null of streams.
 *
 * Data messages written (M_DATA, M_PROTO, M_PCPROTO) are counted -- how
 * many, and their bytes, control and data -- and freed at once in the
 * write put procedure; there is no queueing and no service procedure, so
 * a null stream is never flow controlled.  Reads find nothing: a
 * non-blocking read fails with EAGAIN, and poll never reports POLLIN.
 *
 * M_FLUSH is handled as drivers do (FLUSHR is sent back up, so that the
 * modules above flush their read sides).  M_IOCTL: NULL_GETSTATS returns
 * the counts in a struct null_stats; any other command is refused with
 * M_IOCNAK (EINVAL).  Other messages are freed.
 *
 * Opens are clone opens, each stream with its own minor (the lowest free
 * one of NULL_NMINOR, from ustreams_minor_alloc).
 *
 * Locking.  null is not MT-safe: the framework runs the procedures of one
 * stream one at a time, and the counts are only read and written by them
 * (NULL_GETSTATS is answered by the write put procedure), so they need no
 * lock.  The minor bitmap, shared by all streams, is changed atomically by
 * open and close.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <string.h>

#define	NULL_ID		1012
#define	NULL_NMINOR	256

/* One open null stream, q_ptr of both queues. */
struct nulldev {
	minor_t		nd_minor;	/* set once */
	struct null_stats nd_stats;	/* perimeter: the write put proc. */
};

/* Minors in use: bit m of word m / 64.  Atomic; open and close only. */
USTREAMS_MINORS_DECLARE(null_minors, NULL_NMINOR);

/*
 * nullopen - a clone open.  ENXIO when every minor is in use, EINVAL for
 * a non-clone open.  Base context; may block (KM_SLEEP).
 */
static int
nullopen(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct nulldev *nd;
	int minor;

	if (sflag != CLONEOPEN)
		return (EINVAL);
	if ((minor = ustreams_minor_alloc(&null_minors)) < 0)
		return (ENXIO);
	if ((nd = kmem_zalloc(sizeof (*nd), KM_SLEEP)) == NULL) {
		ustreams_minor_free(&null_minors, (minor_t)minor);
		return (ENOMEM);
	}
	nd->nd_minor = (minor_t)minor;
	*devp = makedevice(getmajor(*devp), (minor_t)minor);
	q->q_ptr = nd;
	WR(q)->q_ptr = nd;
	qprocson(q);
	return (0);
}

static int
nullclose(queue_t *q, int oflag, cred_t *crp)
{
	struct nulldev *nd = q->q_ptr;

	qprocsoff(q);
	ustreams_minor_free(&null_minors, nd->nd_minor);
	q->q_ptr = NULL;
	WR(q)->q_ptr = NULL;
	kmem_free(nd, sizeof (*nd));
	return (0);
}

/* Answer an ioctl: M_IOCACK (error 0) or M_IOCNAK, sent back up. */
static void
null_iocreply(queue_t *q, mblk_t *mp, int error, size_t count)
{
	if (error != 0)
		miocnak(q, mp, 0, error);
	else
		miocack(q, mp, (int)count, 0);
}

static void
null_ioctl(queue_t *q, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	struct nulldev *nd = q->q_ptr;
	mblk_t *bp;

	if (iocp->ioc_cmd != NULL_GETSTATS) {
		null_iocreply(q, mp, EINVAL, 0);
		return;
	}
	if (iocp->ioc_count != sizeof (struct null_stats)) {
		null_iocreply(q, mp, EINVAL, 0);
		return;
	}
	if ((bp = allocb(sizeof (struct null_stats), BPRI_MED)) == NULL) {
		null_iocreply(q, mp, ENOSR, 0);
		return;
	}
	memcpy(bp->b_wptr, &nd->nd_stats, sizeof (nd->nd_stats));
	bp->b_wptr += sizeof (nd->nd_stats);
	freemsg(mp->b_cont);
	mp->b_cont = bp;
	null_iocreply(q, mp, 0, sizeof (struct null_stats));
}

static void
null_flushq(queue_t *q, mblk_t *mp)
{
	if ((*mp->b_rptr & FLUSHBAND) && MBLKL(mp) >= 2)
		flushband(q, mp->b_rptr[1], FLUSHDATA);
	else
		flushq(q, FLUSHDATA);
}

static void
null_flush(queue_t *q, mblk_t *mp)
{
	if (MBLKL(mp) < 1) {
		freemsg(mp);
		return;
	}
	if (*mp->b_rptr & FLUSHW) {
		null_flushq(q, mp);
		*mp->b_rptr &= ~FLUSHW;
	}
	if (*mp->b_rptr & FLUSHR) {
		null_flushq(RD(q), mp);
		qreply(q, mp);
	} else {
		freemsg(mp);
	}
}

/* nullwput - count and free data; answer M_FLUSH and M_IOCTL. */
static int
nullwput(queue_t *q, mblk_t *mp)
{
	struct nulldev *nd = q->q_ptr;

	switch (DB_TYPE(mp)) {
	case M_DATA:
	case M_PROTO:
	case M_PCPROTO:
		nd->nd_stats.ns_msgs++;
		nd->nd_stats.ns_bytes += msgsize(mp);
		freemsg(mp);
		break;
	case M_FLUSH:
		null_flush(q, mp);
		break;
	case M_IOCTL:
		if (MBLKL(mp) < (ssize_t)sizeof (struct iocblk))
			freemsg(mp);
		else
			null_ioctl(q, mp);
		break;
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

/* nullrput - nothing is below a driver; free whatever arrives. */
static int
nullrput(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static struct module_info null_minfo = {
	NULL_ID, "null", 0, INFPSZ, 8192, 2048
};

static struct qinit null_rinit = {
	nullrput, NULL, nullopen, nullclose, NULL, &null_minfo, NULL
};

static struct qinit null_winit = {
	nullwput, NULL, NULL, NULL, NULL, &null_minfo, NULL
};

struct streamtab nullinfo = {
	&null_rinit, &null_winit, NULL, NULL
};
