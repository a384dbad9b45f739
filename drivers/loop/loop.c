/*
 * loop - the SVR4 loop-around driver: two streams joined at the bottom,
 * so that what is written on one is read on the other.
 *
 * Principles of operation.  Every open is a clone open and gets the
 * lowest free minor of LOOP_MAXMINOR (LOOP_GETMINOR tells the
 * application which).  LOOP_SET, with the minor of another open loop
 * stream, joins the two; a stream is joined to at most one other, and
 * not to itself.  Data (M_DATA, M_PROTO, M_PCPROTO) written on a joined
 * stream goes straight up the other stream's read side (putnext from the
 * other stream's read queue) when nothing is queued ahead of it and that
 * side has room; otherwise it is queued on the write queue, and the write
 * service procedure passes it on while that side has room.  The first message the
 * other side cannot take is put back, and the service procedure waits:
 * when the other stream head drains, it back-enables the other stream's
 * read queue, whose service procedure enables this stream's write queue
 * again.  So flow control crosses the loop in both directions, and a
 * slow reader on one stream stops the writer on the other.
 * High-priority messages ignore flow control.
 *
 * M_FLUSH crosses as it does through a pipe: a flush of this stream's
 * write side is a flush of the other stream's read side, and the other
 * way round.  loopwput flushes its own queues as the message asks, sends
 * a copy with FLUSHR and FLUSHW swapped up the other stream, and, for
 * FLUSHR, sends the message back up this stream (FLUSHW cleared), as a
 * driver does.  The other stream head turns a FLUSHW down its write side
 * (its modules flush what was on its way here), and that M_FLUSH comes
 * back across as FLUSHR only, which the head here flushes and frees: the
 * exchange ends.
 *
 * Closing a joined stream sends M_HANGUP up the other one (a message
 * allocated at open, so that the hang-up is never lost to a memory
 * shortage): its reads return 0 once drained, its writes fail with
 * ENXIO, and it cannot be joined again.  Data written on a stream that
 * was never joined is freed and answered with M_ERROR (ENXIO), as in the
 * SVR4 example; on a hung-up stream it is freed silently.
 *
 * Ioctls: LOOP_SET (int minor; ENXIO: no such stream open, or either
 * stream hung up; EBUSY: either already joined; EINVAL: a bad argument or
 * this stream's own minor), LOOP_GETMINOR (returns the minor).  Others
 * are refused with M_IOCNAK, EINVAL.
 *
 * Locking.  loop is not USTREAMS_MTSAFE, so the framework runs the put
 * and service procedures of one stream one at a time: the queue pair's
 * perimeter.  That is enough for what only a stream's own procedures
 * touch -- its queues and the messages on them -- and not enough for
 * the rest, because two streams meet here: a stream's lp_other is
 * written by the other stream's LOOP_SET (inside the *other* perimeter)
 * and by either stream's close (base context, in no perimeter), and each
 * stream's procedures reach into the other's queues (putnext,
 * bcanputnext, qenable) while the other may be closing.  So:
 *
 *  - loop_lock, a basic lock, protects the minor table, and lp_other and
 *    lp_hungup of every stream; holds are taken under it.
 *  - The other stream's queues are used outside loop_lock, because
 *    putnext must not be called holding it: the message may come back
 *    into this driver on the same thread (an M_FLUSH turned around by
 *    the other stream head reaches the other stream's loopwput, which
 *    takes loop_lock).  A user takes a hold on the other stream under
 *    loop_lock (lp_holds), drops the lock, uses the queues and releases
 *    the hold; close unlinks under loop_lock, then waits on loop_sv until
 *    no hold is left, before its queues go away.  lp_holds is atomic so
 *    that a release, once per message, takes no lock: the closer sets
 *    LP_CLOSING in it (under loop_lock) before it waits, and only the
 *    release that leaves LP_CLOSING alone in the word wakes it, under
 *    loop_lock.  After its decrement a release touches nothing of the
 *    stream it held, which its closer may free at once; loop_lock itself
 *    lives on, held by the releaser's own open stream.
 *  - qenable of the other stream's write queue is done under loop_lock:
 *    it takes only the queue's own lock and calls no procedure.
 *
 * The lock's lifetime.  Basic locks come out of the instance's STREAMS
 * memory and the DDI has no load or init entry point for a driver (what
 * SVR5 calls _load), so loop_lock cannot be allocated once for the
 * process: the first open allocates it (with loop_sv) and the last close
 * frees it.  Every stream is closed before an instance shuts down, so
 * the lock never outlives its instance.  The reference count that
 * decides this is guarded by loop_gate, a spin flag held only for the
 * count and the allocation, never while a stream is used.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#define	LOOP_ID		1010
#define	LP_CLOSING	(1 << 30)	/* in lp_holds: the closer waits */

#define	LOOP_HIWAT	8192
#define	LOOP_LOWAT	2048

/*
 * One open loop stream, q_ptr of both its queues: allocated by open,
 * freed by close once no other stream holds it.
 */
struct loop {
	queue_t		*lp_rq;		/* our read queue; set once */
	queue_t		*lp_wq;		/* our write queue; set once */
	minor_t		lp_minor;	/* set once */
	mblk_t		*lp_hupmp;	/* M_HANGUP for the peer; close only */
	struct loop	*lp_other;	/* the stream joined to; loop_lock */
	_Atomic int	lp_holds;	/* others using our queues, and
					   LP_CLOSING; see Locking */
	bool		lp_hungup;	/* the peer closed; loop_lock */
};

static lkinfo_t loop_lkinfo = { "loop", 0, { 0, 0 } };

static atomic_flag loop_gate = ATOMIC_FLAG_INIT;
static int loop_refs;			/* loop_gate: opens, and opening */
static lock_t *loop_lock;		/* valid while loop_refs > 0 */
static sv_t *loop_sv;			/* lp_holds went to 0 */
static struct loop *loop_minor[LOOP_MAXMINOR];	/* loop_lock */

static void
loop_gate_enter(void)
{
	while (atomic_flag_test_and_set_explicit(&loop_gate,
	    memory_order_acquire))
		;
}

static void
loop_gate_exit(void)
{
	atomic_flag_clear_explicit(&loop_gate, memory_order_release);
}

/* One more user of loop_lock: allocate it for the first.  0 or ENOMEM. */
static int
loop_lock_hold(void)
{
	int error = 0;

	loop_gate_enter();
	if (loop_refs == 0) {
		loop_lock = LOCK_ALLOC(1, plstr, &loop_lkinfo, KM_NOSLEEP);
		loop_sv = SV_ALLOC(KM_NOSLEEP);
		if (loop_lock == NULL || loop_sv == NULL) {
			if (loop_lock != NULL)
				LOCK_DEALLOC(loop_lock);
			if (loop_sv != NULL)
				SV_DEALLOC(loop_sv);
			loop_lock = NULL;
			loop_sv = NULL;
			error = ENOMEM;
		}
	}
	if (error == 0)
		loop_refs++;
	loop_gate_exit();
	return (error);
}

/* One user fewer: the last frees loop_lock. */
static void
loop_lock_rele(void)
{
	loop_gate_enter();
	ASSERT(loop_refs > 0);
	if (--loop_refs == 0) {
		LOCK_DEALLOC(loop_lock);
		SV_DEALLOC(loop_sv);
		loop_lock = NULL;
		loop_sv = NULL;
	}
	loop_gate_exit();
}

/* The stream joined to lp, held (NULL: none).  loop_peer_rele after. */
static struct loop *
loop_peer_hold(struct loop *lp)
{
	struct loop *other;
	pl_t pl;

	pl = LOCK(loop_lock, plstr);
	if ((other = lp->lp_other) != NULL)
		atomic_fetch_add(&other->lp_holds, 1);
	UNLOCK(loop_lock, pl);
	return (other);
}

static void
loop_peer_rele(struct loop *other)
{
	int was = atomic_fetch_sub(&other->lp_holds, 1);
	pl_t pl;

	ASSERT((was & ~LP_CLOSING) > 0);
	if (was == (LP_CLOSING | 1)) {
		pl = LOCK(loop_lock, plstr);
		SV_BROADCAST(loop_sv, 0);
		UNLOCK(loop_lock, pl);
	}
}

/*
 * loopopen - a clone open: the lowest free minor, returned in *devp.
 * ENXIO when all LOOP_MAXMINOR are open, ENOSR or ENOMEM when memory is
 * short, EINVAL for a non-clone open.  Base context; may block.
 */
static int
loopopen(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct loop *lp;
	int error, m;
	pl_t pl;

	if (sflag != CLONEOPEN)
		return (EINVAL);
	if ((lp = kmem_zalloc(sizeof (*lp), KM_SLEEP)) == NULL)
		return (ENOMEM);
	if ((lp->lp_hupmp = allocb(0, BPRI_HI)) == NULL) {
		kmem_free(lp, sizeof (*lp));
		return (ENOSR);
	}
	DB_TYPE(lp->lp_hupmp) = M_HANGUP;
	if ((error = loop_lock_hold()) != 0) {
		freemsg(lp->lp_hupmp);
		kmem_free(lp, sizeof (*lp));
		return (error);
	}
	lp->lp_rq = q;
	lp->lp_wq = WR(q);
	pl = LOCK(loop_lock, plstr);
	for (m = 0; m < LOOP_MAXMINOR && loop_minor[m] != NULL; m++)
		;
	if (m < LOOP_MAXMINOR) {
		lp->lp_minor = (minor_t)m;
		loop_minor[m] = lp;
	}
	UNLOCK(loop_lock, pl);
	if (m == LOOP_MAXMINOR) {
		loop_lock_rele();
		freemsg(lp->lp_hupmp);
		kmem_free(lp, sizeof (*lp));
		return (ENXIO);
	}
	*devp = makedevice(getmajor(*devp), (minor_t)m);
	q->q_ptr = lp;
	WR(q)->q_ptr = lp;
	qprocson(q);
	return (0);
}

/*
 * loopclose - leave the minor table, unjoin, hang up the other stream,
 * and wait until no other stream uses our queues.  Base context; may
 * block.
 */
static int
loopclose(queue_t *q, int oflag, cred_t *crp)
{
	struct loop *lp = q->q_ptr, *other;
	pl_t pl;

	qprocsoff(q);
	pl = LOCK(loop_lock, plstr);
	ASSERT(loop_minor[lp->lp_minor] == lp);
	loop_minor[lp->lp_minor] = NULL;
	if ((other = lp->lp_other) != NULL) {
		ASSERT(other->lp_other == lp);
		other->lp_other = NULL;
		other->lp_hungup = true;
		atomic_fetch_add(&other->lp_holds, 1);
		lp->lp_other = NULL;
	}
	UNLOCK(loop_lock, pl);

	if (other != NULL) {
		putnext(other->lp_rq, lp->lp_hupmp);
		lp->lp_hupmp = NULL;
		/* Its write service procedure frees what is left queued. */
		qenable(other->lp_wq);
		loop_peer_rele(other);
	}

	pl = LOCK(loop_lock, plstr);
	atomic_fetch_or(&lp->lp_holds, LP_CLOSING);
	while ((atomic_load(&lp->lp_holds) & ~LP_CLOSING) > 0) {
		SV_WAIT(loop_sv, primed, loop_lock);
		pl = LOCK(loop_lock, plstr);
	}
	UNLOCK(loop_lock, pl);

	freemsg(lp->lp_hupmp);
	q->q_ptr = NULL;
	WR(q)->q_ptr = NULL;
	kmem_free(lp, sizeof (*lp));
	loop_lock_rele();
	return (0);
}

/* Answer an ioctl in place: M_IOCACK with rval, or M_IOCNAK with error. */
static void
loop_iocreply(queue_t *q, mblk_t *mp, int error, int rval)
{
	if (error != 0)
		miocnak(q, mp, 0, error);
	else
		miocack(q, mp, 0, rval);
}

/* LOOP_SET: join lp to the stream open on the minor in the ioctl. */
static int
loop_set(struct loop *lp, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	struct loop *peer;
	int to, error = 0;
	pl_t pl;

	if (iocp->ioc_count != sizeof (int) || mp->b_cont == NULL ||
	    !pullupmsg(mp->b_cont, sizeof (int)))
		return (EINVAL);
	memcpy(&to, mp->b_cont->b_rptr, sizeof (to));
	pl = LOCK(loop_lock, plstr);
	if (to < 0 || to >= LOOP_MAXMINOR || (peer = loop_minor[to]) == NULL)
		error = ENXIO;
	else if (peer == lp)
		error = EINVAL;
	else if (lp->lp_hungup || peer->lp_hungup)
		error = ENXIO;
	else if (lp->lp_other != NULL || peer->lp_other != NULL)
		error = EBUSY;
	else {
		lp->lp_other = peer;
		peer->lp_other = lp;
	}
	UNLOCK(loop_lock, pl);
	return (error);
}

static void
loop_ioctl(queue_t *q, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	struct loop *lp = q->q_ptr;

	switch (iocp->ioc_cmd) {
	case LOOP_SET:
		loop_iocreply(q, mp, loop_set(lp, mp), 0);
		break;
	case LOOP_GETMINOR:
		loop_iocreply(q, mp, 0, (int)lp->lp_minor);
		break;
	default:
		loop_iocreply(q, mp, EINVAL, 0);
		break;
	}
}

static void
loop_flushq(queue_t *q, unsigned char flags, unsigned char band)
{
	if (flags & FLUSHBAND)
		flushband(q, band, FLUSHDATA);
	else
		flushq(q, FLUSHDATA);
}

/* M_FLUSH: flush here, cross with the sides swapped, turn FLUSHR up. */
static void
loop_flush(queue_t *q, mblk_t *mp)
{
	struct loop *lp = q->q_ptr, *other;
	unsigned char flags, band, cross = 0;
	mblk_t *xmp;

	if (MBLKL(mp) < 1 || ((*mp->b_rptr & FLUSHBAND) && MBLKL(mp) < 2)) {
		freemsg(mp);
		return;
	}
	flags = mp->b_rptr[0];
	band = (flags & FLUSHBAND) ? mp->b_rptr[1] : 0;
	if (flags & FLUSHW) {
		loop_flushq(q, flags, band);
		cross |= FLUSHR;
	}
	if (flags & FLUSHR) {
		loop_flushq(RD(q), flags, band);
		cross |= FLUSHW;
	}
	if (cross != 0 && (other = loop_peer_hold(lp)) != NULL) {
		if ((xmp = allocb(2, BPRI_HI)) != NULL) {
			DB_TYPE(xmp) = M_FLUSH;
			*xmp->b_wptr++ = cross | (flags & FLUSHBAND);
			*xmp->b_wptr++ = band;
			putnext(other->lp_rq, xmp);
		}
		loop_peer_rele(other);
	}
	if (flags & FLUSHR) {
		*mp->b_rptr &= ~FLUSHW;
		qreply(q, mp);
	} else {
		freemsg(mp);
	}
}

/* Data written: queued for the other stream, or refused. */
static void
loop_data(queue_t *q, mblk_t *mp)
{
	struct loop *lp = q->q_ptr, *other;
	bool hungup;
	pl_t pl;

	if ((other = loop_peer_hold(lp)) != NULL) {
		/*
		 * Nothing queued ahead of it and room on the other side: up
		 * at once, without a trip through the service procedure.
		 * (q_first is only changed inside this stream's perimeter,
		 * where we are.)
		 */
		if (q->q_first == NULL && (DB_TYPE(mp) >= QPCTL ||
		    bcanputnext(other->lp_rq, mp->b_band)))
			putnext(other->lp_rq, mp);
		else if (!putq(q, mp))
			freemsg(mp);
		loop_peer_rele(other);
		return;
	}
	pl = LOCK(loop_lock, plstr);
	hungup = lp->lp_hungup;
	UNLOCK(loop_lock, pl);
	freemsg(mp);
	if (!hungup)
		(void) putnextctl1(RD(q), M_ERROR, ENXIO);
}

/* loopwput - the write put procedure. */
static int
loopwput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA:
	case M_PROTO:
	case M_PCPROTO:
		loop_data(q, mp);
		break;
	case M_FLUSH:
		loop_flush(q, mp);
		break;
	case M_IOCTL:
		if (MBLKL(mp) < (ssize_t)sizeof (struct iocblk))
			freemsg(mp);
		else
			loop_ioctl(q, mp);
		break;
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

/*
 * loopwsrv - pass what is queued up the other stream while it has room.
 * Unjoined (the other stream closed): free what is left.
 */
static int
loopwsrv(queue_t *q)
{
	struct loop *lp = q->q_ptr, *other;
	mblk_t *mp;

	if ((other = loop_peer_hold(lp)) == NULL) {
		flushq(q, FLUSHALL);
		return (0);
	}
	while ((mp = getq(q)) != NULL) {
		if (DB_TYPE(mp) < QPCTL &&
		    !bcanputnext(other->lp_rq, mp->b_band)) {
			(void) putbq(q, mp);
			break;
		}
		putnext(other->lp_rq, mp);
	}
	loop_peer_rele(other);
	return (0);
}

/* looprput - nothing is below a driver; free whatever arrives. */
static int
looprput(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

/*
 * looprsrv - this stream head drained (we were back-enabled): the other
 * stream's write service procedure may pass data up again.
 */
static int
looprsrv(queue_t *q)
{
	struct loop *lp = q->q_ptr;
	pl_t pl;

	pl = LOCK(loop_lock, plstr);
	if (lp->lp_other != NULL)
		qenable(lp->lp_other->lp_wq);
	UNLOCK(loop_lock, pl);
	return (0);
}

static struct module_info loop_minfo = {
	LOOP_ID, "loop", 0, INFPSZ, LOOP_HIWAT, LOOP_LOWAT
};

static struct qinit loop_rinit = {
	looprput, looprsrv, loopopen, loopclose, NULL, &loop_minfo, NULL
};

static struct qinit loop_winit = {
	loopwput, loopwsrv, NULL, NULL, NULL, &loop_minfo, NULL
};

struct streamtab loopinfo = {
	&loop_rinit, &loop_winit, NULL, NULL
};
