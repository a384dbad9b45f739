/*
 * slow - a STREAMS module that consumes its write side slowly: a slow
 * consumer for back-pressure tests and testbench scenarios.
 *
 * Write side.  The put procedure queues every ordinary message (high
 * priority ones pass at once); the service procedure takes them one at a
 * time and, while the queue below has room, spends the module's cost on
 * each data message (M_DATA, M_PROTO) with drv_usecwait -- under the sim
 * executive that advances the virtual clock by exactly the cost, under
 * the threads executive it busy-waits -- then passes it on with putnext.
 * The first message the queue below cannot take is put back (putbq) and
 * the procedure returns, to be back-enabled.  The write queue's water
 * marks are small (SLOW_HIWAT 4096, SLOW_LOWAT 1024), so a writer above a
 * slow module meets flow control after a few kilobytes: a blocking write
 * waits, a non-blocking one fails with EAGAIN.
 *
 * M_FLUSH: FLUSHW flushes the write queue's data, FLUSHR the read
 * queue's (which is always empty), and the message passes on.
 * M_IOCTL: SLOW_SETCOST sets the cost (an int, microseconds, 0 to
 * SLOW_MAXCOST; the ioctl returns the previous cost).  Every other ioctl
 * is queued and passed downstream in order with the data.
 *
 * Read side: everything passes straight up; no service procedure.
 *
 * Locking.  slow is not MT-safe: the framework runs the procedures of
 * one instance one at a time, so the cost (written by the write put
 * procedure, read by the write service procedure) needs no lock.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <string.h>

#define	SLOW_ID		1021

/* One pushed instance, q_ptr of both queues.  Perimeter. */
struct slow {
	int		sl_cost_us;	/* per data message, microseconds */
};

/*
 * slowopen - a push: the instance starts with cost 0.  EINVAL unless
 * pushed as a module.  Base context; may block (KM_SLEEP).
 */
static int
slowopen(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct slow *sl;

	if (sflag != MODOPEN)
		return (EINVAL);
	if ((sl = kmem_zalloc(sizeof (*sl), KM_SLEEP)) == NULL)
		return (ENOMEM);
	q->q_ptr = sl;
	WR(q)->q_ptr = sl;
	qprocson(q);
	return (0);
}

static int
slowclose(queue_t *q, int oflag, cred_t *crp)
{
	struct slow *sl = q->q_ptr;

	qprocsoff(q);
	q->q_ptr = NULL;
	WR(q)->q_ptr = NULL;
	kmem_free(sl, sizeof (*sl));
	return (0);
}

/* Answer an ioctl in place: M_IOCACK with rval, or M_IOCNAK with error. */
static void
slow_iocreply(queue_t *q, mblk_t *mp, int error, int rval)
{
	if (error != 0)
		miocnak(q, mp, 0, error);
	else
		miocack(q, mp, 0, rval);
}

/* SLOW_SETCOST: take the new cost, return the old one. */
static void
slow_setcost(queue_t *q, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	struct slow *sl = q->q_ptr;
	int cost, old;

	if (iocp->ioc_count != sizeof (int) || mp->b_cont == NULL ||
	    !pullupmsg(mp->b_cont, sizeof (int))) {
		slow_iocreply(q, mp, EINVAL, 0);
		return;
	}
	memcpy(&cost, mp->b_cont->b_rptr, sizeof (cost));
	if (cost < 0 || cost > SLOW_MAXCOST) {
		slow_iocreply(q, mp, EINVAL, 0);
		return;
	}
	old = sl->sl_cost_us;
	sl->sl_cost_us = cost;
	slow_iocreply(q, mp, 0, old);
}

static void
slow_flushq(queue_t *q, mblk_t *mp)
{
	if ((*mp->b_rptr & FLUSHBAND) && MBLKL(mp) >= 2)
		flushband(q, mp->b_rptr[1], FLUSHDATA);
	else
		flushq(q, FLUSHDATA);
}

/*
 * slowwput - high-priority messages pass at once (M_FLUSH after
 * flushing); SLOW_SETCOST is answered; everything else is queued.
 */
static int
slowwput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_FLUSH:
		if (MBLKL(mp) >= 1) {
			if (*mp->b_rptr & FLUSHW)
				slow_flushq(q, mp);
			if (*mp->b_rptr & FLUSHR)
				slow_flushq(RD(q), mp);
		}
		putnext(q, mp);
		return (0);
	case M_IOCTL:
		if (MBLKL(mp) >= (ssize_t)sizeof (struct iocblk) &&
		    ((struct iocblk *)(void *)mp->b_rptr)->ioc_cmd ==
		    SLOW_SETCOST) {
			slow_setcost(q, mp);
			return (0);
		}
		break;
	default:
		break;
	}
	if (DB_TYPE(mp) >= QPCTL)
		putnext(q, mp);
	else if (!putq(q, mp))
		freemsg(mp);
	return (0);
}

/*
 * slowwsrv - one message at a time: wait for room below, spend the cost
 * on a data message, pass it on.
 */
static int
slowwsrv(queue_t *q)
{
	struct slow *sl = q->q_ptr;
	mblk_t *mp;

	while ((mp = getq(q)) != NULL) {
		if (!bcanputnext(q, mp->b_band)) {
			(void) putbq(q, mp);
			break;
		}
		if (datamsg(DB_TYPE(mp)) && sl->sl_cost_us > 0)
			drv_usecwait(sl->sl_cost_us);
		putnext(q, mp);
	}
	return (0);
}

/* slowrput - the read side passes everything up. */
static int
slowrput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info slow_wminfo = {
	SLOW_ID, "slow", 0, INFPSZ, SLOW_HIWAT, SLOW_LOWAT
};

static struct module_info slow_rminfo = {
	SLOW_ID, "slow", 0, INFPSZ, 8192, 2048
};

static struct qinit slow_rinit = {
	slowrput, NULL, slowopen, slowclose, NULL, &slow_rminfo, NULL
};

static struct qinit slow_winit = {
	slowwput, slowwsrv, NULL, NULL, NULL, &slow_wminfo, NULL
};

struct streamtab slowinfo = {
	&slow_rinit, &slow_winit, NULL, NULL
};
