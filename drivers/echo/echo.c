/*
 * echo - a STREAMS driver that sends every data message back up.
 *
 * What is written on an echo stream (M_DATA, M_PROTO, M_PCPROTO) comes
 * back on its read side unchanged: same type, band and bytes.  The write
 * put procedure only queues; the write service procedure replies, one
 * message at a time, while the stream above has room (bcanputnext on the
 * read side) and puts the rest back (putbq) when it has not.  A full
 * stream head therefore backs the echo stream up to the writer, as flow
 * control should: the write queue fills to its high-water mark
 * (ECHO_HIWAT) and the head stops writers.  When the head drains, it
 * back-enables the read queue (the nearest queue behind it with a
 * service procedure); the read service procedure's only job is to enable
 * the write queue again.  High-priority messages ignore flow control.
 *
 * M_FLUSH is handled as drivers do: FLUSHW flushes the write queue (the
 * messages not yet echoed) and FLUSHR is sent back up.  Every M_IOCTL is
 * refused with M_IOCNAK (EINVAL): echo has no ioctls.  Other messages are
 * freed.
 *
 * Opens are clone opens: each stream gets its own minor, the lowest free
 * one of ECHO_NMINOR (ustreams_minor_alloc).
 *
 * Locking.  echo is not MT-safe: the framework runs the put and service
 * procedures of one stream one at a time (the queue pair's perimeter), so
 * the per-stream state needs no lock.  The minor set is the only state
 * streams share; ustreams_minor_alloc and _free need no lock.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>

#define	ECHO_ID		1011
#define	ECHO_HIWAT	8192	/* write queue: writers stop here */
#define	ECHO_LOWAT	2048	/* and start again below this */
#define	ECHO_NMINOR	256

/*
 * One open echo stream, q_ptr of both its queues.  Set at open, freed at
 * close; the perimeter covers the rest.
 */
struct echo {
	minor_t		ec_minor;	/* set once */
};

/* Minors in use: bit m of word m / 64.  Atomic; open and close only. */
USTREAMS_MINORS_DECLARE(echo_minors, ECHO_NMINOR);

/*
 * echoopen - a clone open: pick a free minor and return it in *devp.
 * ENXIO when every minor is in use, EINVAL for a non-clone open.  Base
 * context; may block (KM_SLEEP).
 */
static int
echoopen(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct echo *ec;
	int minor;

	if (sflag != CLONEOPEN)
		return (EINVAL);
	if ((minor = ustreams_minor_alloc(&echo_minors)) < 0)
		return (ENXIO);
	if ((ec = kmem_zalloc(sizeof (*ec), KM_SLEEP)) == NULL) {
		ustreams_minor_free(&echo_minors, (minor_t)minor);
		return (ENOMEM);
	}
	ec->ec_minor = (minor_t)minor;
	*devp = makedevice(getmajor(*devp), (minor_t)minor);
	q->q_ptr = ec;
	WR(q)->q_ptr = ec;
	qprocson(q);
	return (0);
}

/* echoclose - procedures off, the minor and the state given back. */
static int
echoclose(queue_t *q, int oflag, cred_t *crp)
{
	struct echo *ec = q->q_ptr;

	qprocsoff(q);
	ustreams_minor_free(&echo_minors, ec->ec_minor);
	q->q_ptr = NULL;
	WR(q)->q_ptr = NULL;
	kmem_free(ec, sizeof (*ec));
	return (0);
}

/* Flush q: one band (FLUSHBAND, band in the second byte) or all data. */
static void
echo_flushq(queue_t *q, mblk_t *mp)
{
	if ((*mp->b_rptr & FLUSHBAND) && MBLKL(mp) >= 2)
		flushband(q, mp->b_rptr[1], FLUSHDATA);
	else
		flushq(q, FLUSHDATA);
}

/* M_FLUSH at the bottom of the stream: flush, and turn FLUSHR around. */
static void
echo_flush(queue_t *q, mblk_t *mp)
{
	if (MBLKL(mp) < 1) {
		freemsg(mp);
		return;
	}
	if (*mp->b_rptr & FLUSHW) {
		echo_flushq(q, mp);
		*mp->b_rptr &= ~FLUSHW;
	}
	if (*mp->b_rptr & FLUSHR) {
		echo_flushq(RD(q), mp);
		qreply(q, mp);
	} else {
		freemsg(mp);
	}
}

/*
 * echowput - the write put procedure: data is queued for the service
 * procedure, M_FLUSH and M_IOCTL are answered at once, the rest freed.
 */
static int
echowput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA:
	case M_PROTO:
	case M_PCPROTO:
		if (!putq(q, mp))
			freemsg(mp);
		break;
	case M_FLUSH:
		echo_flush(q, mp);
		break;
	case M_IOCTL:
		if (MBLKL(mp) < (ssize_t)sizeof (struct iocblk))
			freemsg(mp);
		else
			miocnak(q, mp, 0, EINVAL);
		break;
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

/*
 * echowsrv - reply with what is queued while the stream above has room;
 * put the first message that does not fit back and wait to be enabled.
 */
static int
echowsrv(queue_t *q)
{
	mblk_t *mp;

	while ((mp = getq(q)) != NULL) {
		if (DB_TYPE(mp) < QPCTL && !bcanputnext(RD(q), mp->b_band)) {
			(void) putbq(q, mp);
			break;
		}
		qreply(q, mp);
	}
	return (0);
}

/* echorput - nothing is below a driver; free whatever arrives. */
static int
echorput(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

/*
 * echorsrv - the stream above drained (we were back-enabled): let the
 * write service procedure reply again.
 */
static int
echorsrv(queue_t *q)
{
	qenable(WR(q));
	return (0);
}

static struct module_info echo_minfo = {
	ECHO_ID, "echo", 0, INFPSZ, ECHO_HIWAT, ECHO_LOWAT
};

static struct qinit echo_rinit = {
	echorput, echorsrv, echoopen, echoclose, NULL, &echo_minfo, NULL
};

static struct qinit echo_winit = {
	echowput, echowsrv, NULL, NULL, NULL, &echo_minfo, NULL
};

struct streamtab echoinfo = {
	&echo_rinit, &echo_winit, NULL, NULL
};
