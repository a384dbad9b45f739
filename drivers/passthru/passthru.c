/*
 * passthru - a STREAMS module that passes every message on, both ways,
 * and counts them.
 *
 * Each put procedure counts the message (and its bytes, all blocks,
 * whatever their type) and passes it to the next queue with putnext.
 * There is no service procedure and nothing is ever queued, so flow
 * control looks straight through the module (canputnext from above sees
 * the queue below it) and M_FLUSH has nothing to flush here: it passes
 * on like everything else.  The one exception is the module's own ioctl,
 * PASSTHRU_GETSTATS, answered with the counts (struct passthru_stats) and
 * not counted; every other M_IOCTL goes downstream, counted, and its
 * M_IOCACK or M_IOCNAK is counted on the way back up.
 *
 * Locking.  passthru is registered USTREAMS_MTSAFE: its put procedures
 * may run on several threads at once, on both queues, even for one
 * stream.  The only state is the per-instance counters (q_ptr, set at
 * open before qprocson and freed at close after qprocsoff), and they are
 * atomic: relaxed increments, since no other memory is published through
 * them.  A PASSTHRU_GETSTATS taken while messages pass sees each counter
 * at some moment of its own; the four are not one snapshot.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#define	PASSTHRU_ID	1020

/* One pushed instance, q_ptr of both queues. */
struct passthru {
	_Atomic uint64_t pt_down_msgs;	/* atomic */
	_Atomic uint64_t pt_down_bytes;
	_Atomic uint64_t pt_up_msgs;
	_Atomic uint64_t pt_up_bytes;
};

/*
 * passthruopen - a push: allocate the counters.  EINVAL unless pushed as
 * a module.  Base context; may block (KM_SLEEP).
 */
static int
passthruopen(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct passthru *pt;

	if (sflag != MODOPEN)
		return (EINVAL);
	if ((pt = kmem_zalloc(sizeof (*pt), KM_SLEEP)) == NULL)
		return (ENOMEM);
	atomic_init(&pt->pt_down_msgs, 0);
	atomic_init(&pt->pt_down_bytes, 0);
	atomic_init(&pt->pt_up_msgs, 0);
	atomic_init(&pt->pt_up_bytes, 0);
	q->q_ptr = pt;
	WR(q)->q_ptr = pt;
	qprocson(q);
	return (0);
}

static int
passthruclose(queue_t *q, int oflag, cred_t *crp)
{
	struct passthru *pt = q->q_ptr;

	qprocsoff(q);
	q->q_ptr = NULL;
	WR(q)->q_ptr = NULL;
	kmem_free(pt, sizeof (*pt));
	return (0);
}

/* PASSTHRU_GETSTATS: the counts, acknowledged in place. */
static void
passthru_getstats(queue_t *q, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	struct passthru *pt = q->q_ptr;
	struct passthru_stats ps;
	mblk_t *bp = NULL;
	int error = 0;

	if (iocp->ioc_count != sizeof (ps))
		error = EINVAL;
	else if ((bp = allocb(sizeof (ps), BPRI_MED)) == NULL)
		error = ENOSR;
	freemsg(mp->b_cont);
	mp->b_cont = NULL;
	if (error != 0) {
		miocnak(q, mp, 0, error);
		return;
	}
	ps.ps_down_msgs = atomic_load_explicit(&pt->pt_down_msgs,
	    memory_order_relaxed);
	ps.ps_down_bytes = atomic_load_explicit(&pt->pt_down_bytes,
	    memory_order_relaxed);
	ps.ps_up_msgs = atomic_load_explicit(&pt->pt_up_msgs,
	    memory_order_relaxed);
	ps.ps_up_bytes = atomic_load_explicit(&pt->pt_up_bytes,
	    memory_order_relaxed);
	memcpy(bp->b_wptr, &ps, sizeof (ps));
	bp->b_wptr += sizeof (ps);
	mp->b_cont = bp;
	miocack(q, mp, sizeof (ps), 0);
}

/* passthruwput - count and pass down; answer PASSTHRU_GETSTATS. */
static int
passthruwput(queue_t *q, mblk_t *mp)
{
	struct passthru *pt = q->q_ptr;

	if (DB_TYPE(mp) == M_IOCTL &&
	    MBLKL(mp) >= (ssize_t)sizeof (struct iocblk) &&
	    ((struct iocblk *)(void *)mp->b_rptr)->ioc_cmd ==
	    PASSTHRU_GETSTATS) {
		passthru_getstats(q, mp);
		return (0);
	}
	atomic_fetch_add_explicit(&pt->pt_down_msgs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pt->pt_down_bytes, msgsize(mp),
	    memory_order_relaxed);
	putnext(q, mp);
	return (0);
}

/* passthrurput - count and pass up. */
static int
passthrurput(queue_t *q, mblk_t *mp)
{
	struct passthru *pt = q->q_ptr;

	atomic_fetch_add_explicit(&pt->pt_up_msgs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pt->pt_up_bytes, msgsize(mp),
	    memory_order_relaxed);
	putnext(q, mp);
	return (0);
}

static struct module_info passthru_minfo = {
	PASSTHRU_ID, "passthru", 0, INFPSZ, 8192, 2048
};

static struct qinit passthru_rinit = {
	passthrurput, NULL, passthruopen, passthruclose, NULL,
	&passthru_minfo, NULL
};

static struct qinit passthru_winit = {
	passthruwput, NULL, NULL, NULL, NULL, &passthru_minfo, NULL
};

struct streamtab passthruinfo = {
	&passthru_rinit, &passthru_winit, NULL, NULL
};
