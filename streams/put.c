/*
 * Putting messages: put, putnext, qreply, putctl, putctl1, putnextctl,
 * putnextctl1.
 *
 * putnext reads q_next inside an RCU read-side section that lasts until
 * the next put procedure returns, so that pop, which unlinks a module and
 * then waits for a grace period, knows no thread is still calling into it
 * through a stale q_next.  No stream-wide lock is taken on this path.
 * Neither may be called by a thread that has a stream frozen (freeze.c);
 * debug builds panic if one is, the put path of others pays nothing.
 */
#include <sys/stream.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#include "stream_impl.h"

/*
 * put - call q's put procedure with mp (inside q's perimeter).  Any
 * context; does not block.  Inside an RCU read-side section, as putnext:
 * a pop's grace period then waits for this put procedure too.
 */
void
put(queue_t *q, mblk_t *mp)
{
#ifdef DEBUG
	if (str_nfrozen != 0)
		freeze_put_misuse("put", q, __builtin_return_address(0));
#endif
	str_rcu_read_lock();
	str_call_put(q, mp);
	str_rcu_read_unlock();
}

/*
 * putnext - pass mp to the queue after q.  A message put to the end of a
 * stream (no next queue) is freed.  Any context; does not block.
 */
void
putnext(queue_t *q, mblk_t *mp)
{
	queue_t *nq;

#ifdef DEBUG
	if (str_nfrozen != 0)
		freeze_put_misuse("putnext", q, __builtin_return_address(0));
#endif
	str_rcu_read_lock();
	nq = q_next_load(q);
	if (__builtin_expect(nq == NULL, 0)) {
		str_rcu_read_unlock();
		freemsg(mp);
		return;
	}
	str_call_put(nq, mp);
	str_rcu_read_unlock();
}

/*
 * qreply - send mp back the other way: putnext on q's other queue.
 */
void
qreply(queue_t *q, mblk_t *mp)
{
	putnext(Q_OTHER(q), mp);
}

static mblk_t *
ctlmsg(int type, int param, bool one)
{
	mblk_t *mp;

	/*
	 * Data types may not be sent this way, but for M_DELAY, whose
	 * parameter is the delay (SVR4).
	 */
	if ((datamsg(type) && type != M_DELAY) || type < 0 || type > 0xff)
		return (NULL);
	if ((mp = allocb(one ? 1 : 0, BPRI_HI)) == NULL)
		return (NULL);
	mp->b_datap->db_type = (unsigned char)type;
	if (one)
		*mp->b_wptr++ = (unsigned char)param;
	return (mp);
}

/*
 * putctl, putctl1 - make a control message of the given type (putctl1:
 * with one data byte, param) and put it to q.  Return 1, or 0 when type is
 * a data type other than M_DELAY, or no block can be had.
 */
int
putctl(queue_t *q, int type)
{
	mblk_t *mp = ctlmsg(type, 0, false);

	if (mp == NULL)
		return (0);
	put(q, mp);
	return (1);
}

int
putctl1(queue_t *q, int type, int param)
{
	mblk_t *mp = ctlmsg(type, param, true);

	if (mp == NULL)
		return (0);
	put(q, mp);
	return (1);
}

/* putnextctl, putnextctl1 - the same, to q's next queue. */
int
putnextctl(queue_t *q, int type)
{
	mblk_t *mp = ctlmsg(type, 0, false);

	if (mp == NULL)
		return (0);
	putnext(q, mp);
	return (1);
}

int
putnextctl1(queue_t *q, int type, int param)
{
	mblk_t *mp = ctlmsg(type, param, true);

	if (mp == NULL)
		return (0);
	putnext(q, mp);
	return (1);
}
