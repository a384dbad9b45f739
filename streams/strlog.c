/*
 * strlog and the log driver: STREAMS error and trace logging.
 *
 * A driver or module logs with strlog(mid, sid, level, flags, fmt, ...).
 * Applications that want the messages open the "log" driver (a clone
 * driver) and make their stream a logger with an I_STR ioctl: I_ERRLOG
 * (SL_ERROR messages), I_TRCLOG with an array of struct trace_ids (the
 * SL_TRACE messages they select) or I_CONSLOG (SL_CONSOLE messages).
 * There is at most one logger of each kind; one stream may be several.
 * A logger reads each message with getmsg: a struct log_ctl, then the
 * text.  An application may log too, by putmsg on a log stream of a
 * struct log_ctl (mid, sid, level, flags) and the text.
 *
 * Principles of operation.  strlog formats the text once (vsnprintf, at
 * most LOGMSGSZ bytes with the NUL), then, under log_lock, makes a copy
 * for each logger that wants it and queues it (putq) on that logger's
 * read queue; the read service procedure passes messages up while the
 * stream head has room.  strlog does not call the logger's put procedure
 * and does not wait: a logger whose queue is full (canput fails) or a
 * copy that cannot be allocated (BPRI_MED) loses that message, and
 * strlog counts it as not taken by that logger.  An SL_CONSOLE message
 * with no console logger goes to the console, cmn_err's sink, as the
 * kernel's console would print it.  SVR5 formats only a few conversions
 * and at most NLOGARGS arguments; ustreams takes whatever printf takes.
 *
 * Sequence numbers count, per kind of logger, the messages logged for it
 * (strlog calls with that flag, and putmsg'd messages) while any logger
 * is open, from 0, whether a logger of that kind took them or not, so
 * that a logger sees from gaps what it lost.  They start again from 0 when
 * an instance boots.
 *
 * Locking: log_lock, a leaf but for the queue locks putq takes under it,
 * protects the logger table, the loggers' selections and the sequence
 * numbers.  log_nloggers is the number of loggers, changed under log_lock
 * and read without it by strlog's fast path, which returns 0 at once when
 * there are none: a message logged while a logger registers may miss it,
 * as it would a moment earlier.  A logger leaves the table at close, under
 * log_lock, before its procedures are turned off, so that strlog never
 * queues on a closing stream.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/strlog.h>
#include <sys/ddi.h>
#include <sys/cmn_err.h>
#include <sys/kmem.h>
#include <sys/debug.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "../ddi/kmutex.h"
#include "../ddi/sysinit.h"

#define	LOG_ID		1050
#define	LOG_NMINOR	64
#define	LOG_HIWAT	(64 * 1024)	/* a reader this far behind loses */
#define	LOG_LOWAT	(16 * 1024)

/* The kinds of logger, as indexes. */
enum { LK_ERR, LK_TRC, LK_CONS, LK_N };

/*
 * One open log stream, q_ptr of both its queues.  ls_rq and ls_minor are
 * set once; ls_kinds, ls_tids and ls_ntids change under log_lock.
 */
struct logstr {
	queue_t		*ls_rq;
	minor_t		ls_minor;
	unsigned	ls_kinds;	/* 1 << LK_* */
	struct trace_ids *ls_tids;	/* the trace logger's selection */
	size_t		ls_ntids;
};

static kmutex_t log_lock = KMUTEX_INITIALIZER;
static struct logstr *log_by_kind[LK_N];	/* log_lock */
static int log_seq[LK_N];			/* log_lock */
static _Atomic int log_nloggers;		/* log_lock to change */

USTREAMS_MINORS_DECLARE(log_minors, LOG_NMINOR);

/* The SL_ flag each kind of logger takes. */
static const ushort_t kind_flag[LK_N] = { SL_ERROR, SL_TRACE, SL_CONSOLE };

/* Does the trace logger ls select this message? */
static bool
trace_selects(const struct logstr *ls, short mid, short sid, char level)
{
	for (size_t i = 0; i < ls->ls_ntids; i++) {
		const struct trace_ids *ti = &ls->ls_tids[i];

		if ((ti->ti_mid == -1 || ti->ti_mid == mid) &&
		    (ti->ti_sid == -1 || ti->ti_sid == sid) &&
		    (ti->ti_level == -1 || level <= ti->ti_level))
			return (true);
	}
	return (false);
}

/* The syslog(3) priority of a message with these flags. */
static int
log_pri(ushort_t flags)
{
	int level;

	if (flags & SL_FATAL)
		level = LOG_CRIT;
	else if (flags & SL_ERROR)
		level = LOG_ERR;
	else if (flags & SL_WARN)
		level = LOG_WARNING;
	else if (flags & SL_NOTE)
		level = LOG_NOTICE;
	else if (flags & SL_TRACE)
		level = LOG_DEBUG;
	else
		level = LOG_INFO;
	return (LOG_KERN | level);
}

/*
 * Queue a copy of (lc, text) on ls's read queue: true if it is queued.
 * log_lock held.
 */
static bool
log_queue(struct logstr *ls, const struct log_ctl *lc, const char *text,
    size_t len)
{
	queue_t *rq = ls->ls_rq;
	mblk_t *mp, *dp;

	if (!canput(rq))
		return (false);
	if ((mp = allocb(sizeof (*lc), BPRI_MED)) == NULL)
		return (false);
	if ((dp = allocb((int)len, BPRI_MED)) == NULL) {
		freeb(mp);
		return (false);
	}
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, lc, sizeof (*lc));
	mp->b_wptr += sizeof (*lc);
	memcpy(dp->b_wptr, text, len);
	dp->b_wptr += len;
	mp->b_cont = dp;
	if (!putq(rq, mp)) {
		freemsg(mp);
		return (false);
	}
	return (true);
}

/*
 * Log text (len bytes with its NUL) as lc says: to every logger whose
 * kind is in lc->flags, the trace logger only if it selects it.  Fills in
 * lc's times, priority and sequence number.  Returns true if some logger
 * took it.
 */
static bool
log_submit(struct log_ctl *lc, const char *text, size_t len)
{
	bool taken = false;

	(void) drv_getparm(LBOLT, &lc->ltime);
	(void) drv_getparm(TIME, &lc->ttime);
	lc->pri = log_pri((ushort_t)lc->flags);
	kmutex_lock(&log_lock);
	for (int k = 0; k < LK_N; k++) {
		struct logstr *ls = log_by_kind[k];

		if (!(lc->flags & kind_flag[k]))
			continue;
		lc->seq_no = log_seq[k]++;
		if (ls == NULL || (k == LK_TRC &&
		    !trace_selects(ls, lc->mid, lc->sid, lc->level)))
			continue;
		if (log_queue(ls, lc, text, len))
			taken = true;
	}
	kmutex_unlock(&log_lock);
	return (taken);
}

/*
 * strlog - log a message for the loggers (see above).  mid is the
 * sender's module ID, sid its sub-ID, level its trace level; flags say
 * who wants it (SL_ERROR, SL_TRACE, SL_CONSOLE) and how bad it is
 * (SL_FATAL, SL_WARN, SL_NOTE, SL_NOTIFY).  Returns 1 when some logger,
 * or the console, took the message; 0 otherwise.  Any context; does not
 * sleep.
 */
int
strlog(short mid, short sid, char level, ushort_t flags, const char *fmt,
    ...)
{
	struct log_ctl lc;
	char text[LOGMSGSZ];
	bool taken = false;
	va_list ap;
	int n;

	if (fmt == NULL ||
	    (atomic_load_explicit(&log_nloggers, memory_order_relaxed) == 0 &&
	    !(flags & SL_CONSOLE)))
		return (0);
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof (text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return (0);
	memset(&lc, 0, sizeof (lc));
	lc.mid = mid;
	lc.sid = sid;
	lc.level = level;
	lc.flags = (short)flags;
	if (atomic_load_explicit(&log_nloggers, memory_order_relaxed) != 0)
		taken = log_submit(&lc, text, strlen(text) + 1);
	if (flags & SL_CONSOLE) {
		bool cons;

		kmutex_lock(&log_lock);
		cons = log_by_kind[LK_CONS] != NULL;
		kmutex_unlock(&log_lock);
		if (!cons) {
			cmn_err(CE_CONT, "%s\n", text);
			taken = true;
		}
	}
	return (taken ? 1 : 0);
}

/*
 * logopen - a clone open: a free minor, returned in *devp.  ENXIO when
 * every minor is in use, EINVAL for a non-clone open.
 */
static int
logopen(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	struct logstr *ls;
	int minor;

	if (sflag != CLONEOPEN)
		return (EINVAL);
	if ((minor = ustreams_minor_alloc(&log_minors)) < 0)
		return (ENXIO);
	if ((ls = kmem_zalloc(sizeof (*ls), KM_SLEEP)) == NULL) {
		ustreams_minor_free(&log_minors, (minor_t)minor);
		return (ENOMEM);
	}
	ls->ls_rq = q;
	ls->ls_minor = (minor_t)minor;
	*devp = makedevice(getmajor(*devp), (minor_t)minor);
	q->q_ptr = ls;
	WR(q)->q_ptr = ls;
	qprocson(q);
	return (0);
}

/* logclose - out of the table first, then procedures off, then freed. */
static int
logclose(queue_t *q, int oflag, cred_t *crp)
{
	struct logstr *ls = q->q_ptr;

	kmutex_lock(&log_lock);
	for (int k = 0; k < LK_N; k++) {
		if (log_by_kind[k] == ls) {
			log_by_kind[k] = NULL;
			(void) atomic_fetch_sub_explicit(&log_nloggers, 1,
			    memory_order_relaxed);
		}
	}
	kmutex_unlock(&log_lock);
	qprocsoff(q);
	if (ls->ls_tids != NULL)
		kmem_free(ls->ls_tids, ls->ls_ntids * sizeof (*ls->ls_tids));
	ustreams_minor_free(&log_minors, ls->ls_minor);
	q->q_ptr = NULL;
	WR(q)->q_ptr = NULL;
	kmem_free(ls, sizeof (*ls));
	return (0);
}

/* Make ls the logger of kind k: 0, or EBUSY when another one is. */
static int
log_register(struct logstr *ls, int k, struct trace_ids *tids, size_t n)
{
	struct trace_ids *old = NULL;
	size_t nold = 0;
	int error = 0;

	kmutex_lock(&log_lock);
	if (log_by_kind[k] != NULL && log_by_kind[k] != ls) {
		error = EBUSY;
	} else {
		if (log_by_kind[k] == NULL)
			(void) atomic_fetch_add_explicit(&log_nloggers, 1,
			    memory_order_relaxed);
		log_by_kind[k] = ls;
		ls->ls_kinds |= 1u << k;
		if (k == LK_TRC) {
			old = ls->ls_tids;
			nold = ls->ls_ntids;
			ls->ls_tids = tids;
			ls->ls_ntids = n;
			tids = NULL;
		}
	}
	kmutex_unlock(&log_lock);
	if (old != NULL)
		kmem_free(old, nold * sizeof (*old));
	if (tids != NULL)
		kmem_free(tids, n * sizeof (*tids));
	return (error);
}

/* The trace_ids of an I_TRCLOG (iocblk in mp, the array after it). */
static int
log_trclog(struct logstr *ls, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)mp->b_rptr;
	size_t len = (size_t)iocp->ioc_count, n, off = 0;
	struct trace_ids *tids;

	if (len == 0 || len % sizeof (struct trace_ids) != 0 ||
	    mp->b_cont == NULL || (size_t)msgdsize(mp->b_cont) < len)
		return (EINVAL);
	n = len / sizeof (struct trace_ids);
	if ((tids = kmem_alloc(len, KM_NOSLEEP)) == NULL)
		return (ENOMEM);
	for (mblk_t *bp = mp->b_cont; bp != NULL && off < len;
	    bp = bp->b_cont) {
		size_t k = (size_t)MBLKL(bp);

		if (k > len - off)
			k = len - off;

		memcpy((char *)tids + off, bp->b_rptr, k);
		off += k;
	}
	return (log_register(ls, LK_TRC, tids, n));
}

static void
log_ioctl(queue_t *q, mblk_t *mp)
{
	struct logstr *ls = q->q_ptr;
	struct iocblk *iocp;
	int error;

	if (MBLKL(mp) < (ssize_t)sizeof (struct iocblk)) {
		freemsg(mp);
		return;
	}
	iocp = (struct iocblk *)mp->b_rptr;
	switch (iocp->ioc_cmd) {
	case I_ERRLOG:
		error = log_register(ls, LK_ERR, NULL, 0);
		break;
	case I_CONSLOG:
		error = log_register(ls, LK_CONS, NULL, 0);
		break;
	case I_TRCLOG:
		error = log_trclog(ls, mp);
		break;
	default:
		error = EINVAL;
		break;
	}
	if (error != 0)
		miocnak(q, mp, 0, error);
	else
		miocack(q, mp, 0, 0);
}

/*
 * A message an application logs (putmsg): a struct log_ctl, then the
 * text.  The control part gives mid, sid, level and flags; the rest is
 * filled in as for strlog.  A malformed one is freed.
 */
static void
log_user(mblk_t *mp)
{
	struct log_ctl lc;
	char text[LOGMSGSZ];
	size_t len = 0;

	if (MBLKL(mp) < (ssize_t)sizeof (lc)) {
		freemsg(mp);
		return;
	}
	memcpy(&lc, mp->b_rptr, sizeof (lc));
	for (mblk_t *bp = mp->b_cont; bp != NULL; bp = bp->b_cont) {
		size_t k = (size_t)MBLKL(bp);

		if (k > sizeof (text) - 1 - len)
			k = sizeof (text) - 1 - len;
		memcpy(text + len, bp->b_rptr, k);
		len += k;
	}
	freemsg(mp);
	text[len] = '\0';
	len = strlen(text) + 1;
	(void) log_submit(&lc, text, len);
}

/* logwput - ioctls, messages to log, M_FLUSH; the rest is freed. */
static int
logwput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_IOCTL:
		log_ioctl(q, mp);
		break;
	case M_PROTO:
		log_user(mp);
		break;
	case M_FLUSH:
		if (MBLKL(mp) >= 1 && (*mp->b_rptr & FLUSHR)) {
			flushq(RD(q), FLUSHDATA);
			*mp->b_rptr &= ~FLUSHW;
			qreply(q, mp);
		} else {
			freemsg(mp);
		}
		break;
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

/* logrput - nothing is below the driver. */
static int
logrput(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

/* logrsrv - pass the queued messages up while the stream head has room. */
static int
logrsrv(queue_t *q)
{
	mblk_t *mp;

	while ((mp = getq(q)) != NULL) {
		if (!canputnext(q)) {
			(void) putbq(q, mp);
			break;
		}
		putnext(q, mp);
	}
	return (0);
}

static struct module_info log_minfo = {
	LOG_ID, "log", 0, INFPSZ, LOG_HIWAT, LOG_LOWAT
};

static struct qinit log_rinit = {
	logrput, logrsrv, logopen, logclose, NULL, &log_minfo, NULL
};

static struct qinit log_winit = {
	logwput, NULL, NULL, NULL, NULL, &log_minfo, NULL
};

struct streamtab loginfo = {
	&log_rinit, &log_winit, NULL, NULL
};

/* Each instance starts its sequence numbers from 0. */
static int
strlog_init(const struct ustreams_config *cfg)
{
	(void) cfg;
	kmutex_lock(&log_lock);
	memset(log_seq, 0, sizeof (log_seq));
	kmutex_unlock(&log_lock);
	return (0);
}

static void
strlog_fini(void)
{
	/* Loggers still open are closed later, with every stream. */
}

USTREAMS_SYSINIT(strlog, SI_ORDER_DRIVERS, strlog_init, strlog_fini);
