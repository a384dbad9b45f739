/*
 * Queues and flow control: putq, getq, putbq, insq, rmvq, flushq,
 * flushband, qsize, canput, bcanput, canputnext, bcanputnext, strqget,
 * strqset, backq, SAMESTR.
 *
 * Principles of operation.  A queue holds messages in one list, in three
 * classes: high-priority messages (db_type >= QPCTL) first, in arrival
 * order; then banded messages, bands in descending order, each band in
 * arrival order; then ordinary (band 0) messages.  q_count counts the
 * bytes of band 0 messages (high priority ones included, as their band is
 * 0); each band 1..255 has a qband with its own count and water marks.
 *
 * Flow control is SVR4's: a queue whose count reaches q_hiwat is QFULL;
 * canput (from the queue behind) then fails and sets QWANTW; when getq or
 * rmvq takes the count below q_lowat (or to zero) and QWANTW is set, the
 * nearest queue behind with a service procedure is back-enabled.  putq
 * enables the queue for every high-priority message, and for others when
 * the service procedure has found the queue empty (QWANTR) or the message
 * is banded -- unless noenable() was called.
 *
 * Messages that wait on a busy perimeter for the queue's put procedure
 * (qu_deferred, stream_impl.h) count too: bcanput refuses, and marks
 * QWANTW, while they amount to q_hiwat or more; when the thread inside
 * has taken them below q_lowat, the waiting writer is back-enabled.
 *
 * Locking: the queue's qu_lock (stream_impl.h, taken with qu_lock())
 * around every change to its list, counts and flags.  Messages are freed,
 * and queues enabled, after the lock is dropped.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/kmem.h>

#include <errno.h>
#include <stdatomic.h>

#include "stream_impl.h"

/*
 * Position key: the list is in non-increasing key order.  High priority
 * is above every band.
 */
#define	KEY_HIPRI	256

static inline unsigned
msg_key(const mblk_t *mp)
{
	if (mp->b_datap->db_type >= QPCTL)
		return (KEY_HIPRI);
	return (mp->b_band);
}

/* Band pri's structure, created (with the queue's marks) if asked. */
static qband_t *
band_get_locked(queue_t *q, unsigned char pri, bool create)
{
	qband_t **qbp = &q->q_bandp;
	unsigned i;

	ASSERT(pri > 0);
	for (i = 1; i <= pri; i++) {
		if (*qbp == NULL) {
			if (!create)
				return (NULL);
			if ((*qbp = kmem_zalloc(sizeof (qband_t),
			    KM_NOSLEEP)) == NULL)
				return (NULL);
			(*qbp)->qb_hiwat = q->q_hiwat;
			(*qbp)->qb_lowat = q->q_lowat;
			q->q_nband = (unsigned char)i;
		}
		if (i < pri)
			qbp = &(*qbp)->qb_next;
	}
	return (*qbp);
}

/*
 * One flow-control account: a queue's band 0 (q_count, QFULL, QWANTW) or
 * a band's qband.  n bytes join (dir 1) or leave (dir -1).  Full at the
 * high-water mark; a waiting writer is owed a back-enable once the count
 * is below the low-water mark, or zero.
 */
static inline void
account(size_t *countp, size_t hiwat, size_t lowat, uint_t *flagp,
    uint_t fullbit, uint_t wantbit, size_t n, int dir, bool *backp)
{
	if (dir > 0) {
		*countp += n;
		if (*countp >= hiwat)
			qflag_set(flagp, fullbit);
		return;
	}
	*countp -= n;
	if (*countp < hiwat && (*flagp & fullbit))
		qflag_clear(flagp, fullbit);
	if ((*countp < lowat || *countp == 0) && (*flagp & wantbit)) {
		qflag_clear(flagp, wantbit);
		*backp = true;
	}
}

/*
 * Account mp joining (dir 1) or leaving (dir -1) q.  Returns false if its
 * band structure cannot be had.
 */
static inline __attribute__((always_inline)) bool
count_locked(queue_t *q, mblk_t *mp, int dir, bool *backp)
{
	size_t n = msg_bytes(mp);
	qband_t *qb;

	if (mp->b_band == 0 || mp->b_datap->db_type >= QPCTL) {
		account(&q->q_count, q->q_hiwat, q->q_lowat, &q->q_flag, QFULL,
		    QWANTW, n, dir, backp);
		return (true);
	}
	if ((qb = band_get_locked(q, mp->b_band, dir > 0)) == NULL)
		return (false);
	account(&qb->qb_count, qb->qb_hiwat, qb->qb_lowat, &qb->qb_flag,
	    QB_FULL, QB_WANTW, n, dir, backp);
	return (true);
}

static void
unlink_locked(queue_t *q, mblk_t *mp)
{
	if (mp->b_prev != NULL)
		mp->b_prev->b_next = mp->b_next;
	else
		q->q_first = mp->b_next;
	if (mp->b_next != NULL)
		mp->b_next->b_prev = mp->b_prev;
	else
		q->q_last = mp->b_prev;
	mp->b_next = mp->b_prev = NULL;
}

/* Insert mp before emp (NULL: at the end). */
static void
link_locked(queue_t *q, mblk_t *emp, mblk_t *mp)
{
	mp->b_next = emp;
	if (emp != NULL) {
		mp->b_prev = emp->b_prev;
		emp->b_prev = mp;
	} else {
		mp->b_prev = q->q_last;
		q->q_last = mp;
	}
	if (mp->b_prev != NULL)
		mp->b_prev->b_next = mp;
	else
		q->q_first = mp;
}

/*
 * backq - the queue whose q_next is q, in the same stream, or NULL.
 */
queue_t *
backq(queue_t *q)
{
	queue_t *oq = q_next_load(Q_OTHER(q));

	if (oq == NULL)
		return (NULL);
	return (Q_OTHER(oq));
}

/*
 * SAMESTR - true when q's next queue points the same way (no loop-around
 * or twist in between).
 */
int
SAMESTR(queue_t *q)
{
	queue_t *nq = q_next_load(q);

	return (nq != NULL && nq->q_uread == q->q_uread);
}

/* Enable the nearest queue behind q that has a service procedure. */
static void
backenable(queue_t *q)
{
	str_rcu_read_lock();
	for (q = backq(q); q != NULL; q = backq(q)) {
		if (q_qinfo_load(q)->qi_srvp != NULL) {
			qu_lock(q);
			qflag_set(&q->q_flag, QBACK);
			qu_unlock(q);
			qenable(q);
			break;
		}
	}
	str_rcu_read_unlock();
}

static bool
putq_common(queue_t *q, mblk_t *mp, bool back)
{
	unsigned key = msg_key(mp);
	bool enable, dummy = false;
	mblk_t *emp;

	/* A high-priority message has no band. */
	if (key == KEY_HIPRI)
		mp->b_band = 0;
	qu_lock(q);
	if (!count_locked(q, mp, 1, &dummy)) {
		qu_unlock(q);
		return (false);
	}
	if (key == 0 && !back) {
		emp = NULL;
	} else if (back) {
		/* putbq: ahead of everything of the same or lower key. */
		for (emp = q->q_first; emp != NULL && msg_key(emp) > key;
		    emp = emp->b_next)
			;
	} else {
		for (emp = q->q_first; emp != NULL && msg_key(emp) >= key;
		    emp = emp->b_next)
			;
	}
	link_locked(q, emp, mp);
	if (back)
		enable = key == KEY_HIPRI || (!(q->q_flag & QNOENB) &&
		    (q->q_flag & QWANTR));
	else
		enable = key == KEY_HIPRI || (!(q->q_flag & QNOENB) &&
		    ((q->q_flag & QWANTR) || key > 0));
	qu_unlock(q);
	if (enable)
		qenable(q);
	return (true);
}

/*
 * putq - queue mp on q in its place (see above) and enable q when the
 * rules say so.  Returns 1, or 0 when mp's band structure could not be
 * allocated (mp is then not queued).  Any context; does not block.
 */
int
putq(queue_t *q, mblk_t *mp)
{
	return (putq_common(q, mp, false) ? 1 : 0);
}

/*
 * putbq - put mp back at the front of its class (a service procedure
 * that could not pass it on).  Enables q for a high-priority message, or
 * when q wants reading (QWANTR: its service procedure found it empty) and
 * noenable has not been called -- so a message put back from a callback
 * is not stranded.  Returns 1, or 0 as putq.
 */
int
putbq(queue_t *q, mblk_t *mp)
{
	return (putq_common(q, mp, true) ? 1 : 0);
}

/*
 * insq - insert mp before emp (emp NULL: at the end).  Enables q when it
 * wants reading (QWANTR) and noenable has not been called, whatever mp's
 * class.  Returns 1, or 0 when that would break the order (high priority,
 * then bands descending, then band 0) or mp's band cannot be had; mp is
 * then not queued.
 */
int
insq(queue_t *q, mblk_t *emp, mblk_t *mp)
{
	unsigned key = msg_key(mp);
	bool dummy = false, enable;
	mblk_t *prev;

	if (key == KEY_HIPRI)
		mp->b_band = 0;
	qu_lock(q);
	prev = emp != NULL ? emp->b_prev : q->q_last;
	if ((prev != NULL && msg_key(prev) < key) ||
	    (emp != NULL && msg_key(emp) > key) ||
	    !count_locked(q, mp, 1, &dummy)) {
		qu_unlock(q);
		return (0);
	}
	link_locked(q, emp, mp);
	enable = !(q->q_flag & QNOENB) && (q->q_flag & QWANTR);
	qu_unlock(q);
	if (enable)
		qenable(q);
	return (1);
}

/*
 * getq - take the first message off q; NULL (and QWANTR set) when q is
 * empty.  May back-enable the queue behind (see above).
 */
mblk_t *
getq(queue_t *q)
{
	bool back = false;
	mblk_t *mp;

	qu_lock(q);
	if ((mp = q->q_first) == NULL) {
		if (!(q->q_flag & QWANTR))
			qflag_set(&q->q_flag, QWANTR);
		/* An empty queue lets writers on. */
		if (q->q_flag & QWANTW) {
			qflag_clear(&q->q_flag, QWANTW);
			back = true;
		}
	} else {
		if (q->q_flag & QWANTR)
			qflag_clear(&q->q_flag, QWANTR);
		unlink_locked(q, mp);
		(void) count_locked(q, mp, -1, &back);
	}
	qu_unlock(q);
	if (back)
		backenable(q);
	return (mp);
}

/*
 * rmvq - take mp, which must be on q, off it.
 */
void
rmvq(queue_t *q, mblk_t *mp)
{
	bool back = false;

	qu_lock(q);
	unlink_locked(q, mp);
	(void) count_locked(q, mp, -1, &back);
	qu_unlock(q);
	if (back)
		backenable(q);
}

/* Take off q the messages that match and free them; then back-enable. */
static void
flush_common(queue_t *q, int flag, bool anyband, unsigned char pri)
{
	mblk_t *mp, *next, *freelist = NULL;
	bool back = false;

	qu_lock(q);
	for (mp = q->q_first; mp != NULL; mp = next) {
		next = mp->b_next;
		if (flag == FLUSHDATA && !datamsg(mp->b_datap->db_type))
			continue;	/* any other flag is FLUSHALL */
		if (!anyband && (mp->b_datap->db_type >= QPCTL ||
		    mp->b_band != pri))
			continue;
		unlink_locked(q, mp);
		(void) count_locked(q, mp, -1, &back);
		mp->b_next = freelist;
		freelist = mp;
	}
	qu_unlock(q);
	while ((mp = freelist) != NULL) {
		freelist = mp->b_next;
		mp->b_next = NULL;
		freemsg(mp);
	}
	if (back)
		backenable(q);
}

/*
 * flushq - free the messages on q: the data messages (FLUSHDATA, 0:
 * M_DATA, M_PROTO, M_PCPROTO, M_DELAY) or all of them (FLUSHALL, or any
 * flag but 0, as on SVR4).
 */
void
flushq(queue_t *q, int flag)
{
	flush_common(q, flag, true, 0);
}

/*
 * flushband - flushq for the messages of band pri only (pri 0: the
 * ordinary messages); other bands keep their messages and their order.
 */
void
flushband(queue_t *q, unsigned char pri, int flag)
{
	flush_common(q, flag, false, pri);
}

/* qsize - the number of messages on q. */
int
qsize(queue_t *q)
{
	int n = 0;

	qu_lock(q);
	for (mblk_t *mp = q->q_first; mp != NULL; mp = mp->b_next)
		n++;
	qu_unlock(q);
	return (n);
}

/*
 * bcanput - may a message of band pri be put on q?  Looks forward from q
 * to the first queue with a service procedure (or the last queue); if its
 * band is full, marks that a writer waits (QWANTW) and returns 0.
 */
int
bcanput(queue_t *q, unsigned char pri)
{
	size_t deferred;
	int ok = 1;

	str_rcu_read_lock();
	while (q_qinfo_load(q)->qi_srvp == NULL && q_next_load(q) != NULL)
		q = q_next_load(q);
	/*
	 * Not full: yes, without the lock (see qflag_get).  The answer may be
	 * stale by the time the caller acts on it, as it may be with the
	 * lock; a full queue is looked at again under the lock, to mark the
	 * writer waiting.
	 */
	if (pri == 0 && !(qflag_get(&q->q_flag) & QFULL) &&
	    atomic_load_explicit(&QPRIV(q)->qu_deferred,
	    memory_order_relaxed) == 0) {
		str_rcu_read_unlock();
		return (1);
	}
	qu_lock(q);
	deferred = atomic_load_explicit(&QPRIV(q)->qu_deferred,
	    memory_order_relaxed);
	if (deferred > 0 && deferred >= q->q_hiwat) {
		qflag_set(&q->q_flag, QWANTW);
		ok = 0;
	} else if (pri == 0) {
		if (q->q_flag & QFULL) {
			qflag_set(&q->q_flag, QWANTW);
			ok = 0;
		}
	} else {
		qband_t *qb = band_get_locked(q, pri, false);

		if (qb != NULL && (qb->qb_flag & QB_FULL)) {
			qflag_set(&qb->qb_flag, QB_WANTW);
			ok = 0;
		}
	}
	qu_unlock(q);
	str_rcu_read_unlock();
	return (ok);
}

void
queue_deferred(queue_t *q, size_t n, int dir)
{
	_Atomic size_t *dp = &QPRIV(q)->qu_deferred;
	bool back = false;
	size_t left;

	if (dir > 0) {
		(void) atomic_fetch_add_explicit(dp, n, memory_order_relaxed);
		return;
	}
	/*
	 * Under the lock: a writer refused set QWANTW under it, having seen
	 * the count before this take, so the take that brings the count
	 * below q_lowat finds QWANTW set.
	 */
	qu_lock(q);
	left = atomic_fetch_sub_explicit(dp, n, memory_order_relaxed);
	ASSERT(left >= n);		/* no more taken off than put on */
	left -= n;
	if ((left < q->q_lowat || left == 0) && (q->q_flag & QWANTW) &&
	    !(q->q_flag & QFULL)) {
		qflag_clear(&q->q_flag, QWANTW);
		back = true;
	}
	qu_unlock(q);
	if (back)
		backenable(q);
}

int
canput(queue_t *q)
{
	return (bcanput(q, 0));
}

/* canputnext, bcanputnext - canput/bcanput of q's next queue. */
int
bcanputnext(queue_t *q, unsigned char pri)
{
	queue_t *nq;
	int ok;

	str_rcu_read_lock();
	nq = q_next_load(q);
	ok = nq == NULL ? 1 : bcanput(nq, pri);
	str_rcu_read_unlock();
	return (ok);
}

int
canputnext(queue_t *q)
{
	return (bcanputnext(q, 0));
}

/*
 * strqget - read a queue (pri 0) or band field into *valp: QHIWAT,
 * QLOWAT, QCOUNT (size_t), QMAXPSZ, QMINPSZ (ssize_t; the queue's only),
 * QFIRST, QLAST (mblk_t *: q_first and q_last, or the band's first and
 * last), QFLAG (uint_t).  Returns 0; EINVAL for an unknown field, a
 * band's packet size or a NULL valp; EAGAIN when the band's structure
 * cannot be allocated.
 */
int
strqget(queue_t *q, qfields_t what, unsigned char pri, void *valp)
{
	qband_t *qb = NULL;
	int error = 0;

	if (valp == NULL)
		return (EINVAL);
	qu_lock(q);
	if (pri != 0 && (qb = band_get_locked(q, pri, true)) == NULL) {
		qu_unlock(q);
		return (EAGAIN);
	}
	switch (what) {
	case QHIWAT:
		*(size_t *)valp = qb != NULL ? qb->qb_hiwat : q->q_hiwat;
		break;
	case QLOWAT:
		*(size_t *)valp = qb != NULL ? qb->qb_lowat : q->q_lowat;
		break;
	case QCOUNT:
		*(size_t *)valp = qb != NULL ? qb->qb_count : q->q_count;
		break;
	case QMAXPSZ:
		if (qb != NULL)
			error = EINVAL;		/* a band has none */
		else
			*(ssize_t *)valp = q->q_maxpsz;
		break;
	case QMINPSZ:
		if (qb != NULL)
			error = EINVAL;
		else
			*(ssize_t *)valp = q->q_minpsz;
		break;
	case QFIRST:
	case QLAST: {
		mblk_t *first = NULL, *last = NULL;

		if (qb == NULL) {
			*(mblk_t **)valp = what == QFIRST ? q->q_first :
			    q->q_last;
			break;
		}
		for (mblk_t *mp = q->q_first; mp != NULL; mp = mp->b_next) {
			if (mp->b_datap->db_type >= QPCTL ? pri != 0 :
			    mp->b_band != pri)
				continue;
			if (first == NULL)
				first = mp;
			last = mp;
		}
		*(mblk_t **)valp = what == QFIRST ? first : last;
		break;
	}
	case QFLAG:
		*(uint_t *)valp = qb != NULL ? qb->qb_flag : q->q_flag;
		break;
	default:
		error = EINVAL;
		break;
	}
	qu_unlock(q);
	return (error);
}

/*
 * strqset - set a queue or band field: QHIWAT, QLOWAT, QMAXPSZ, QMINPSZ.
 * Returns 0; EPERM for the read-only fields (QCOUNT, QFIRST, QLAST,
 * QFLAG); EINVAL for anything else; EAGAIN when the band's structure
 * cannot be allocated.
 */
int
strqset(queue_t *q, qfields_t what, unsigned char pri, intptr_t val)
{
	qband_t *qb = NULL;
	int error = 0;

	qu_lock(q);
	if (pri != 0 && (qb = band_get_locked(q, pri, true)) == NULL) {
		qu_unlock(q);
		return (EAGAIN);
	}
	switch (what) {
	case QHIWAT:
		if (qb != NULL)
			qb->qb_hiwat = (size_t)val;
		else
			q->q_hiwat = (size_t)val;
		break;
	case QLOWAT:
		if (qb != NULL)
			qb->qb_lowat = (size_t)val;
		else
			q->q_lowat = (size_t)val;
		break;
	case QMAXPSZ:
		if (qb != NULL)
			error = EINVAL;
		else
			q->q_maxpsz = (ssize_t)val;
		break;
	case QMINPSZ:
		if (qb != NULL)
			error = EINVAL;
		else
			q->q_minpsz = (ssize_t)val;
		break;
	case QCOUNT:
	case QFIRST:
	case QLAST:
	case QFLAG:
		error = EPERM;
		break;
	default:
		error = EINVAL;
		break;
	}
	qu_unlock(q);
	return (error);
}

/* True when a high-priority message is queued on q (it is then first). */
bool
queue_has_hipri(queue_t *q)
{
	bool hipri;

	qu_lock(q);
	hipri = q->q_first != NULL && msg_key(q->q_first) == KEY_HIPRI;
	qu_unlock(q);
	return (hipri);
}

/*
 * queue_drain_mark - the number of messages on q; if there are any, mark
 * a writer waiting on q and on each band that holds some (QWANTW,
 * QB_WANTW), so that once getq or rmvq takes a count below its low-water
 * mark (or to zero) the nearest queue behind with a service procedure is
 * back-enabled.  For a close that waits for q to drain: the stream head's
 * write service procedure then wakes it.
 */
int
queue_drain_mark(queue_t *q)
{
	qband_t *qb;
	int n = 0;

	qu_lock(q);
	for (mblk_t *mp = q->q_first; mp != NULL; mp = mp->b_next)
		n++;
	if (n > 0) {
		if (q->q_count > 0 && !(q->q_flag & QWANTW))
			qflag_set(&q->q_flag, QWANTW);
		for (qb = q->q_bandp; qb != NULL; qb = qb->qb_next) {
			if (qb->qb_count > 0 && !(qb->qb_flag & QB_WANTW))
				qflag_set(&qb->qb_flag, QB_WANTW);
		}
	}
	qu_unlock(q);
	return (n);
}

/* Free a queue's bands (the queue pair is going away). */
void
queue_free_bands(queue_t *q)
{
	qband_t *qb, *next;

	for (qb = q->q_bandp; qb != NULL; qb = next) {
		next = qb->qb_next;
		kmem_free(qb, sizeof (*qb));
	}
	q->q_bandp = NULL;
	q->q_nband = 0;
}
