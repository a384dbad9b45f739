/*
 * The stream head's queue procedures: what it does with the messages
 * that reach the top of a stream, and with flow control from below.
 *
 * Read side (strrput), by message type:
 *   M_DATA, M_PROTO, M_PCPROTO  queued for the application (high priority
 *       first), and readers and pollers woken.  The head's read queue has
 *       water marks (STRHIGH/STRLOW, or M_SETOPTS's); below it, canputnext
 *       sees it full and the stream backs up.
 *   M_ERROR    one byte sets the read and the write error; two bytes set
 *       them separately, NOERROR leaving a side as it is and 0 clearing
 *       it.  Errors persist until cleared, unless I_SERROPT made them
 *       non-persistent (reported once).  The head flushes the sides that
 *       got an error, and sends M_FLUSH for them downstream.
 *   M_HANGUP   reads return 0 once the queue is drained; writes fail with
 *       ENXIO; poll reports POLLHUP.  M_UNHANGUP undoes it.
 *   M_FLUSH    FLUSHR flushes the head's read queue (FLUSHBAND: one
 *       band); FLUSHW turns the message around, down the write side.
 *   M_SETOPTS  read option, write offset, packet sizes, water marks,
 *       error option, M_READ on or off (SO_MREADON, SO_MREADOFF).
 *   M_IOCACK, M_IOCNAK  the reply to the ioctl waiting (I_STR or
 *                       transparent);
 *   M_COPYIN, M_COPYOUT a transparent ioctl's copy request, for it.
 *   M_PCSIG    its signal, at once; M_SIG: queued, and its signal sent
 *       when it reaches the front of the queue (read_wait).
 *   SIGPOLL for the events asked for with I_SETSIG (sthead_sendsig).
 *   anything else is freed.
 *
 * Write side: messages from the application are passed down with
 * putnext from the head's write queue; its service procedure runs when
 * the stream below is back-enabled and wakes writers blocked by flow
 * control.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "../ddi/ksynch_impl.h"
#include "sthead.h"

#define	STRHIGH		5120
#define	STRLOW		1024

static void
apply_error(int *errp, unsigned char v)
{
	if (v == NOERROR)
		return;
	*errp = v;
}

/*
 * Make the application's eventfd (ustreams_pollfd) say what poll says:
 * readable exactly while a reader has something -- a message at the head,
 * an error on either side, a hang-up.  sd_lock held; the head's queue is
 * read under its own lock, since a flush changes it holding only that.
 * Called wherever one of those may have come or gone.
 */
void
sthead_efd_sync(struct stdata *sd)
{
	queue_t *rq = &sd->sd_head->qp_q[0];
	bool want;
	uint64_t v = 1;

	ASSERT(LOCK_OWNED(sd->sd_lock));
	if (sd->sd_efd < 0)
		return;
	want = sd->sd_rerror != 0 || sd->sd_werror != 0 ||
	    (sd->sd_flag & STRHUP) != 0;
	if (!want) {
		qu_lock(rq);
		want = rq->q_first != NULL;
		qu_unlock(rq);
	}
	if (want && !sd->sd_efd_set)
		sd->sd_efd_set = write(sd->sd_efd, &v, sizeof (v)) ==
		    sizeof (v);
	else if (!want && sd->sd_efd_set) {
		/* Only the head reads it: a count is there to take. */
		(void) read(sd->sd_efd, &v, sizeof (v));
		sd->sd_efd_set = false;
	}
}

/*
 * Everyone waiting on the stream, and the application's eventfd.  sd_lock
 * held: a sleeper counts itself in sd_nsleep under it before it sleeps.
 * What wakes them -- a message, an error, a hang-up, room to write, an
 * ioctl's end -- never leaves a reader less than before, so a readable
 * eventfd stays as it is and the queue is not looked at for every
 * message; the few changes that take something away (an error cleared,
 * a hang-up undone, a flush, a read) sync it themselves.
 */
void
sthead_wake(struct stdata *sd)
{
	extern void stcalls_poll_wake(void);

	ASSERT(LOCK_OWNED(sd->sd_lock));
	if (sd->sd_nsleep > 0)
		SV_BROADCAST(sd->sd_sv, 0);
	if (sd->sd_efd >= 0 && !sd->sd_efd_set)
		sthead_efd_sync(sd);
	stcalls_poll_wake();
}

/*
 * Signals.  SVR4 sends them to the processes registered with I_SETSIG
 * for an event, and M_SIG and M_PCSIG to the stream's process group;
 * here every stream belongs to this one process, so each goes to it
 * (kill(getpid())): SIGPOLL for an event asked for -- SIGURG instead for
 * banded input with S_BANDURG -- and a driver's M_SIG or M_PCSIG signal
 * as it says, a SIGPOLL one only to a process that asked for S_MSG.
 * sd_lock held.
 */
void
sthead_sendsig(struct stdata *sd, int events, bool band)
{
	int ev = sd->sd_sigflags & events;

	ASSERT(LOCK_OWNED(sd->sd_lock));
	if (ev == 0)
		return;
	(void) kill(getpid(), band && (ev & S_RDBAND) &&
	    (sd->sd_sigflags & S_BANDURG) ? SIGURG : SIGPOLL);
}

void
sthead_signal(struct stdata *sd, int sig)
{
	ASSERT(LOCK_OWNED(sd->sd_lock));
	if (sig <= 0 || sig >= NSIG)
		return;
	if (sig == SIGPOLL && !(sd->sd_sigflags & S_MSG))
		return;
	(void) kill(getpid(), sig);
}

/* The signal an M_SIG or M_PCSIG carries, freeing it. */
static void
sthead_sigmsg(struct stdata *sd, mblk_t *mp)
{
	if (MBLKL(mp) >= 1)
		sthead_signal(sd, mp->b_rptr[0]);
	freemsg(mp);
}

/*
 * M_SIG messages that have reached the front of the read queue: their
 * signals go now, in order.  Called after a message is taken off the
 * queue.  sd_lock held.
 */
void
sthead_front_signals(struct stdata *sd)
{
	queue_t *rq = &sd->sd_head->qp_q[0];

	/* None queued, as nearly always: the read path pays one test. */
	while (sd->sd_nsigmsg > 0) {
		mblk_t *mp;

		qu_lock(rq);
		mp = rq->q_first;
		qu_unlock(rq);
		if (mp == NULL) {
			sd->sd_nsigmsg = 0;	/* a flush took them */
			return;
		}
		if (mp->b_datap->db_type != M_SIG)
			return;
		rmvq(rq, mp);
		sd->sd_nsigmsg--;
		sthead_sigmsg(sd, mp);
	}
}

/* Was mp put first on q? */
static bool
is_first(queue_t *q, mblk_t *mp)
{
	bool first;

	qu_lock(q);
	first = q->q_first == mp;
	qu_unlock(q);
	return (first);
}

static void
strrput_error(struct stdata *sd, queue_t *q, mblk_t *mp)
{
	int flush = 0;

	ust_lock(sd->sd_lock);
	if (MBLKL(mp) >= 2) {
		apply_error(&sd->sd_rerror, mp->b_rptr[0]);
		apply_error(&sd->sd_werror, mp->b_rptr[1]);
		flush = (mp->b_rptr[0] != NOERROR && mp->b_rptr[0] != 0 ?
		    FLUSHR : 0) | (mp->b_rptr[1] != NOERROR &&
		    mp->b_rptr[1] != 0 ? FLUSHW : 0);
	} else if (MBLKL(mp) == 1) {
		apply_error(&sd->sd_rerror, mp->b_rptr[0]);
		apply_error(&sd->sd_werror, mp->b_rptr[0]);
		if (mp->b_rptr[0] != NOERROR && mp->b_rptr[0] != 0)
			flush = FLUSHRW;
	}
	sthead_efd_sync(sd);		/* an error may have been cleared */
	sthead_wake(sd);
	sthead_sendsig(sd, S_ERROR, false);
	ust_unlock(sd->sd_lock);
	freemsg(mp);
	if (flush & FLUSHR)
		flushq(q, FLUSHALL);
	if (flush != 0)
		(void) putnextctl1(Q_WR(q), M_FLUSH, flush);
}

/*
 * SO_READOPT: the read mode and the protocol option are set each on its
 * own, as SVR4's strrput does: a protocol part of 0 (or a field that is
 * not one valid value) leaves that option as it was.
 */
static int
readopt_merge(int cur, int opt)
{
	int mode = opt & RMODEMASK, prot = opt & RPROTMASK;

	if (mode != RMODEMASK)
		cur = (cur & ~RMODEMASK) | mode;
	if (prot == RPROTNORM || prot == RPROTDAT || prot == RPROTDIS)
		cur = (cur & ~RPROTMASK) | prot;
	return (cur);
}

static void
strrput_setopts(struct stdata *sd, queue_t *q, mblk_t *mp)
{
	struct stroptions *so = (struct stroptions *)(void *)mp->b_rptr;

	if (MBLKL(mp) < (ssize_t)sizeof (*so)) {
		freemsg(mp);
		return;
	}
	ust_lock(sd->sd_lock);
	if (so->so_flags & SO_READOPT)
		sd->sd_rdopt = readopt_merge(sd->sd_rdopt, so->so_readopt);
	if (so->so_flags & SO_WROFF)
		sd->sd_wroff = so->so_wroff;
	if (so->so_flags & SO_ERROPT)
		sd->sd_erropt = so->so_erropt;
	if (so->so_flags & SO_MREADON)
		sd->sd_flag |= STRMREAD;
	if (so->so_flags & SO_MREADOFF)
		sd->sd_flag &= ~STRMREAD;
	ust_unlock(sd->sd_lock);
	if (so->so_flags & SO_MINPSZ)
		(void) strqset(q, QMINPSZ, 0, so->so_minpsz);
	if (so->so_flags & SO_MAXPSZ)
		(void) strqset(q, QMAXPSZ, 0, so->so_maxpsz);
	if (so->so_flags & SO_HIWAT)
		(void) strqset(q, QHIWAT, (so->so_flags & SO_BAND) ?
		    so->so_band : 0, (intptr_t)so->so_hiwat);
	if (so->so_flags & SO_LOWAT)
		(void) strqset(q, QLOWAT, (so->so_flags & SO_BAND) ?
		    so->so_band : 0, (intptr_t)so->so_lowat);
	freemsg(mp);
}

static int
strrput(queue_t *q, mblk_t *mp)
{
	struct stdata *sd = QPAIR(q)->qp_sd;

	switch (mp->b_datap->db_type) {
	case M_PCPROTO:
		/*
		 * One high-priority message at the head at a time (SVR4): a
		 * second one, while the first waits, is discarded.
		 */
		ust_lock(sd->sd_lock);
		if (!queue_has_hipri(q)) {
			(void) putq(q, mp);	/* band 0: cannot fail */
			sthead_wake(sd);
			sthead_sendsig(sd, S_HIPRI, false);
			mp = NULL;
		}
		ust_unlock(sd->sd_lock);
		freemsg(mp);
		break;
	case M_DATA:
	case M_PROTO: {
		unsigned char band = mp->b_band;

		ust_lock(sd->sd_lock);
		if (!putq(q, mp))
			freemsg(mp);
		else if (sd->sd_sigflags != 0 && is_first(q, mp))
			sthead_sendsig(sd, S_INPUT |
			    (band > 0 ? S_RDBAND : S_RDNORM), band > 0);
		sthead_wake(sd);
		ust_unlock(sd->sd_lock);
		break;
	}
	case M_SIG: {
		bool empty;

		/*
		 * In order with the data: the signal goes when the message
		 * reaches the front of the queue -- now, if it is empty
		 * (readers take messages under sd_lock: it stays so).
		 */
		ust_lock(sd->sd_lock);
		qu_lock(q);
		empty = q->q_first == NULL;
		qu_unlock(q);
		if (empty || !putq(q, mp))
			sthead_sigmsg(sd, mp);
		else
			sd->sd_nsigmsg++;
		ust_unlock(sd->sd_lock);
		break;
	}
	case M_PCSIG:
		ust_lock(sd->sd_lock);
		sthead_sigmsg(sd, mp);
		ust_unlock(sd->sd_lock);
		break;
	case M_ERROR:
		strrput_error(sd, q, mp);
		break;
	case M_HANGUP:
	case M_UNHANGUP:
		ust_lock(sd->sd_lock);
		if (mp->b_datap->db_type == M_HANGUP) {
			sd->sd_flag |= STRHUP;
			sthead_sendsig(sd, S_HANGUP, false);
		} else {
			sd->sd_flag &= ~STRHUP;
		}
		sthead_efd_sync(sd);
		sthead_wake(sd);
		ust_unlock(sd->sd_lock);
		freemsg(mp);
		break;
	case M_FLUSH:
		if (*mp->b_rptr & FLUSHR) {
			if ((*mp->b_rptr & FLUSHBAND) && MBLKL(mp) >= 2)
				flushband(q, mp->b_rptr[1], FLUSHALL);
			else
				flushq(q, FLUSHALL);
			ust_lock(sd->sd_lock);
			sthead_efd_sync(sd);
			ust_unlock(sd->sd_lock);
		}
		if (*mp->b_rptr & FLUSHW) {
			*mp->b_rptr &= ~FLUSHR;
			qreply(q, mp);
		} else {
			freemsg(mp);
		}
		break;
	case M_SETOPTS:
		strrput_setopts(sd, q, mp);
		break;
	case M_IOCACK:
	case M_IOCNAK:
	case M_COPYIN:
	case M_COPYOUT: {
		struct iocblk *ioc = (struct iocblk *)(void *)mp->b_rptr;
		size_t need = DB_TYPE(mp) == M_COPYIN ||
		    DB_TYPE(mp) == M_COPYOUT ? sizeof (struct copyreq) :
		    sizeof (*ioc);

		/* cq_id is where ioc_id is (stcalls.c). */
		ust_lock(sd->sd_lock);
		if ((sd->sd_flag & STRIOCWAIT) && sd->sd_iocreply == NULL &&
		    MBLKL(mp) >= (ssize_t)need &&
		    ioc->ioc_id == sd->sd_iocid) {
			sd->sd_iocreply = mp;
			mp = NULL;
			sthead_wake(sd);
		}
		ust_unlock(sd->sd_lock);
		freemsg(mp);
		break;
	}
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

/* The head's write queue: messages from the application pass down. */
static int
strwput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

/* Back-enabled: the stream below has room again; wake the writers. */
static int
strwsrv(queue_t *q)
{
	struct stdata *sd = QPAIR(q)->qp_sd;

	ust_lock(sd->sd_lock);
	sthead_wake(sd);
	sthead_sendsig(sd, S_OUTPUT | S_WRBAND, false);
	ust_unlock(sd->sd_lock);
	return (0);
}

static struct module_info sthead_minfo = {
	0, "strhead", 0, INFPSZ, STRHIGH, STRLOW
};

static struct qinit sthead_rinit = {
	strrput, NULL, NULL, NULL, NULL, &sthead_minfo, NULL
};

static struct qinit sthead_winit = {
	strwput, strwsrv, NULL, NULL, NULL, &sthead_minfo, NULL
};

struct streamtab sthead_info = {
	&sthead_rinit, &sthead_winit, NULL, NULL
};
