/*
 * The stream head, for applications: ustreams_open, ustreams_close,
 * ustreams_read, ustreams_write, ustreams_getmsg, ustreams_getpmsg,
 * ustreams_putmsg, ustreams_putpmsg, ustreams_ioctl, ustreams_poll,
 * ustreams_pollfd.
 *
 * These run in base context and may sleep: on the stream's sd_sv, under
 * sd_lock, until strrput or strwsrv (sthead.c) says the state changed.
 * Under the sim executive a sleep runs events until it is woken, so an
 * application's blocking read drives the simulation, and one that could
 * never be woken panics instead of hanging.
 *
 * Writes are allocated at BPRI_LO, as the SVR5 allocb page says the
 * stream head does; when allocb refuses, a blocking write waits for its
 * bufcall, a non-blocking one fails with EAGAIN.  Control parts of putmsg
 * are allocated at BPRI_MED.
 *
 * Descriptors index sd_table.  Open and close change it under
 * sd_table_lock; every other call reads its entry without a lock (an
 * acquire load, which sees the stream an open published whole).  A
 * stream is freed only by its close, which the application must not race
 * with its own calls on the same descriptor -- a lock around the lookup
 * alone would not make that safe either.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/cmn_err.h>
#include <sys/ddi.h>
#include <sys/debug.h>
#include <sys/kmem.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../ddi/context.h"
#include "../ddi/exec.h"
#include "../ddi/ksynch_impl.h"
#include "../ddi/sysinit.h"
#include "sthead.h"

#define	IOC_DEFTIMEOUT	15	/* seconds, for ic_timout 0 */
#define	S_ALLEVENTS	(S_INPUT | S_HIPRI | S_OUTPUT | S_MSG | S_ERROR | \
	S_HANGUP | S_RDNORM | S_RDBAND | S_WRBAND | S_BANDURG)

static kmutex_t sd_table_lock = KMUTEX_INITIALIZER;
static _Atomic(struct stdata *) sd_table[USTREAMS_NSTREAMS];

/* poll: one generation for all streams, bumped by every wake-up. */
static lock_t poll_lock = UST_LOCK_INITIALIZER("ustreams_poll");
static sv_t poll_sv = UST_SV_INITIALIZER;
static _Atomic int poll_nwait;	/* threads in ustreams_poll */

static int
fail(int error)
{
	errno = error;
	return (-1);
}

/*
 * Wake the pollers.  The broadcast is made under poll_lock, the lock the
 * pollers sleep with: between a poller's last look at the generation and
 * its SV_WAIT, an unlocked broadcast would be lost, and the poller would
 * sleep until its timeout.  Called with sd_lock held: sd_lock is taken
 * before poll_lock, never after.  With no one in ustreams_poll there is no
 * one to wake: a poller counts itself in poll_nwait before it looks at any
 * stream, and looks at each under its sd_lock, so a change made under
 * sd_lock either is seen by the poller's look or sees its count.
 */
void
stcalls_poll_wake(void)
{
	if (atomic_load(&poll_nwait) == 0)
		return;
	(void) LOCK(&poll_lock, plstr);
	SV_BROADCAST(&poll_sv, 0);
	UNLOCK(&poll_lock, plstr);
}

static void
stcalls_poll_timeout(void *arg)
{
	(void) arg;
	(void) LOCK(&poll_lock, plstr);
	SV_BROADCAST(&poll_sv, 0);
	UNLOCK(&poll_lock, plstr);
}

struct stdata *
sd_lookup(int sdi)
{
	struct stdata *sd = NULL;

	if (sdi < 0 || sdi >= USTREAMS_NSTREAMS)
		return (NULL);
	sd = atomic_load_explicit(&sd_table[sdi], memory_order_acquire);
	return (sd);
}

/* Wake the sleeper of a timed wait. */
static void
wait_timeout(void *arg)
{
	struct stdata *sd = arg;

	ust_lock(sd->sd_lock);
	SV_BROADCAST(sd->sd_sv, 0);
	ust_unlock(sd->sd_lock);
}

/*
 * Sleep until the stream's state changes (or ticks pass, if > 0).
 * sd_lock held on entry and on return.  A caller in an RCU read-side
 * section leaves it while it sleeps (and while it runs the service
 * events): it must not rely on what it read in it before.
 */
static void
sd_sleep(struct stdata *sd, long ticks)
{
	unsigned rcu = str_rcu_suspend();
	toid_t id;

	/*
	 * Service procedures are ready (this call may have enabled them):
	 * run them instead of sleeping, and let the caller look again --
	 * what it waits for is often what they do.
	 */
	if (ust_exec_ready()) {
		ust_unlock(sd->sd_lock);
		ust_exec_runq();
		ust_lock(sd->sd_lock);
	} else {
		id = ticks > 0 ? timeout(wait_timeout, sd, ticks) : 0;
		sd->sd_nsleep++;
		SV_WAIT(sd->sd_sv, primed, sd->sd_lock);
		if (id != 0)
			untimeout(id);
		ust_lock(sd->sd_lock);
		sd->sd_nsleep--;
	}
	str_rcu_resume(rcu);
}

static void
sd_free(struct stdata *sd)
{
	if (sd->sd_efd >= 0)
		(void) close(sd->sd_efd);
	if (sd->sd_head != NULL)
		qpair_free(sd->sd_head);
	if (sd->sd_lock != NULL)
		LOCK_DEALLOC(sd->sd_lock);
	if (sd->sd_sv != NULL)
		SV_DEALLOC(sd->sd_sv);
	pthread_mutex_destroy(&sd->sd_plumb);
	pthread_mutex_destroy(&sd->sd_freeze);
	kmem_free(sd, sizeof (*sd));
}

/*
 * ustreams_open - open a new stream on the driver registered as name.
 * oflag: O_RDWR and friends, O_NONBLOCK.  Returns a stream descriptor, or
 * -1 with errno: ENODEV (no such driver), EMFILE (too many streams),
 * ENOMEM, ENXIO (no instance is running), or the driver's open error.
 * Base context; may block.
 */
int
ustreams_open(const char *name, int oflag)
{
	static lkinfo_t lk = { "stdata", 0, { 0, 0 } };
	struct stdata *sd;
	struct modsw *sw;
	dev_t dev;
	int error, sdi = -1;

	if (!ustreams_booted())
		return (fail(ENXIO));
	ust_may_sleep("ustreams_open", __builtin_return_address(0));
	if (name == NULL || (sw = modsw_find(name, true)) == NULL)
		return (fail(ENODEV));
	if ((sd = kmem_zalloc(sizeof (*sd), KM_SLEEP)) == NULL) {
		modsw_rele(sw);
		return (fail(ENOMEM));
	}
	pthread_mutex_init(&sd->sd_plumb, NULL);
	pthread_mutex_init(&sd->sd_freeze, NULL);
	sd->sd_efd = -1;
	sd->sd_oflag = oflag;
	sd->sd_rdopt = RNORM | RPROTNORM;
	sd->sd_closetime = STRCLTIME_DEF;
	sd->sd_lock = LOCK_ALLOC(0, plstr, &lk, KM_NOSLEEP);
	sd->sd_sv = SV_ALLOC(KM_NOSLEEP);
	sd->sd_head = qpair_alloc(NULL, sd);
	sd->sd_drv = qpair_alloc(sw, sd);
	if (sd->sd_lock == NULL || sd->sd_sv == NULL || sd->sd_head == NULL ||
	    sd->sd_drv == NULL) {
		if (sd->sd_drv != NULL)
			qpair_free(sd->sd_drv);
		modsw_rele(sw);
		sd_free(sd);
		return (fail(ENOMEM));
	}

	kmutex_lock(&sd_table_lock);
	for (int i = 0; i < USTREAMS_NSTREAMS; i++) {
		if (sd_table[i] == NULL) {
			sdi = i;
			sd_table[i] = sd;
			break;
		}
	}
	kmutex_unlock(&sd_table_lock);
	if (sdi < 0) {
		qpair_free(sd->sd_drv);
		modsw_rele(sw);
		sd_free(sd);
		return (fail(EMFILE));
	}
	sd->sd_index = sdi;

	/* Head above driver; the driver's open may already send upstream. */
	q_next_store(&sd->sd_head->qp_q[1], &sd->sd_drv->qp_q[1]);
	q_next_store(&sd->sd_drv->qp_q[0], &sd->sd_head->qp_q[0]);
	qprocson(&sd->sd_head->qp_q[0]);
	dev = makedevice(sw->ms_major, 0);
	error = sd->sd_drv->qp_q[0].q_qinfo->qi_qopen(&sd->sd_drv->qp_q[0],
	    &dev, oflag, CLONEOPEN, NULL);
	if (error != 0) {
		q_next_store(&sd->sd_head->qp_q[1], NULL);
		q_next_store(&sd->sd_drv->qp_q[0], NULL);
		str_synchronize_rcu();
		qprocsoff(&sd->sd_head->qp_q[0]);
		kmutex_lock(&sd_table_lock);
		sd_table[sdi] = NULL;
		kmutex_unlock(&sd_table_lock);
		qpair_free(sd->sd_drv);
		modsw_rele(sw);
		sd_free(sd);
		return (fail(error));
	}
	sd->sd_dev = dev;
	sd->sd_drv->qp_dev = dev;
	qprocson(&sd->sd_drv->qp_q[0]);
	return (sdi);
}

/*
 * Wait, at close, for the messages queued on wq -- the write queue just
 * below the stream head -- to go on down, as SVR4's close does before it
 * pops a module or closes the driver.  The wait ends when wq is empty,
 * at a hang-up or a write error, or when sd_closetime passes with no
 * message leaving wq.  queue_drain_mark has the next getq below wq's
 * low-water mark back-enable the stream head, whose write service
 * procedure wakes us.  sd_plumb held.
 */
static void
close_drain(struct stdata *sd, queue_t *wq)
{
	clock_t ticks, last = 0, now;
	int n, before = -1;

	ust_lock(sd->sd_lock);
	ticks = drv_usectohz((clock_t)sd->sd_closetime * 1000);
	while (!(sd->sd_flag & STRHUP) && sd->sd_werror == 0 &&
	    (n = queue_drain_mark(wq)) > 0) {
		(void) drv_getparm(LBOLT, &now);
		if (before < 0 || n < before)
			last = now;		/* a message left: time again */
		else if (now - last >= ticks)
			break;
		before = n;
		sd_sleep(sd, ticks - (now - last));
	}
	ust_unlock(sd->sd_lock);
}

/*
 * Take a stream apart, as close does: the messages still queued below
 * the stream head drain first, queue by queue (close_drain), unless the
 * stream was opened O_NONBLOCK or O_NDELAY, its close time is 0, or drain
 * is false; what is left when a module is popped goes on down, and what
 * the driver still holds is freed.  Then the descriptor goes.
 */
static void
sd_close(struct stdata *sd, bool drain)
{
	pthread_mutex_lock(&sd->sd_plumb);
	ust_lock(sd->sd_lock);
	sd->sd_flag |= STRCLOSING;
	if ((sd->sd_oflag & (O_NONBLOCK | O_NDELAY)) || sd->sd_closetime == 0)
		drain = false;
	ust_unlock(sd->sd_lock);
	if (drain) {
		do {
			close_drain(sd, q_next_load(&sd->sd_head->qp_q[1]));
		} while (stream_pop(sd) == 0);
	}
	stream_unplumb(sd);
	pthread_mutex_unlock(&sd->sd_plumb);
	kmutex_lock(&sd_table_lock);
	if (sd->sd_index >= 0)		/* -1: closed while linked */
		sd_table[sd->sd_index] = NULL;
	kmutex_unlock(&sd_table_lock);
	sd_free(sd);
}

/*
 * The close of a stream unlinked after its descriptor was closed; it may
 * be a mux's controlling stream itself.
 */
void
sthead_close(struct stdata *sd)
{
	mux_close_upper(sd);
	sd_close(sd, true);
}

/*
 * ustreams_close - wait for what is queued on the write side to drain
 * (see sd_close), pop every module, close the driver, free the stream.
 * Returns 0, or -1 with EBADF.  Base context; may block, for at most the
 * close time (I_SETCLTIME; 15 seconds by default) per queue that stops
 * draining.
 */
int
ustreams_close(int sdi)
{
	struct stdata *sd = sd_lookup(sdi);

	if (sd == NULL)
		return (fail(EBADF));
	ust_may_sleep("ustreams_close", __builtin_return_address(0));
	if (mux_close_lower(sd)) {
		/* Linked below a mux: the unlink closes the stream. */
		kmutex_lock(&sd_table_lock);
		sd_table[sd->sd_index] = NULL;
		sd->sd_index = -1;
		kmutex_unlock(&sd_table_lock);
		return (0);
	}
	mux_close_upper(sd);
	sd_close(sd, true);
	return (0);
}

/*
 * A stream linked below a mux is the mux's: the application's calls on
 * it fail (EINVAL) until it is unlinked.
 */
static inline bool
sd_linked(struct stdata *sd)
{
	return (atomic_load_explicit(&sd->sd_linked, memory_order_acquire));
}

/* Report (and, if non-persistent, clear) a pending read or write error. */
static int
take_error(struct stdata *sd, bool rd)
{
	int error = rd ? sd->sd_rerror : sd->sd_werror;

	if (error != 0 && (sd->sd_erropt & (rd ? RERRNONPERSIST :
	    WERRNONPERSIST))) {
		if (rd)
			sd->sd_rerror = 0;
		else
			sd->sd_werror = 0;
		sthead_efd_sync(sd);
	}
	return (error);
}

/*
 * Take the next message off the head's read queue, or NULL: M_SIGs at
 * the front, before it or once it is taken, have their signals sent, not
 * returned (sthead_front_signals).  sd_lock held.
 */
static mblk_t *
head_getq(struct stdata *sd)
{
	mblk_t *mp;

	sthead_front_signals(sd);
	if ((mp = getq(&sd->sd_head->qp_q[0])) != NULL)
		sthead_front_signals(sd);		/* behind it */
	return (mp);
}

/*
 * Wait for a message at the head (sd_lock held).  Returns it, or NULL
 * with *errp set (0 at hang-up: end of file).
 */
static mblk_t *
read_wait(struct stdata *sd, int *errp)
{
	mblk_t *mp;

	for (;;) {
		if ((*errp = take_error(sd, true)) != 0)
			return (NULL);
		if ((mp = head_getq(sd)) != NULL)
			return (mp);
		if (sd->sd_flag & STRHUP) {
			*errp = 0;
			return (NULL);
		}
		if (sd->sd_oflag & O_NONBLOCK) {
			*errp = EAGAIN;
			return (NULL);
		}
		sd_sleep(sd, 0);
	}
}

/*
 * SO_MREADON: a read that finds the read queue empty tells the stream
 * below, with an M_READ holding the bytes asked for (a long), before it
 * waits, so that a driver may produce data on demand.  sd_lock held;
 * dropped while the message goes down.  No M_READ when no block can be
 * had: the read goes on without it.
 */
static void
send_mread(struct stdata *sd, size_t nbytes)
{
	queue_t *rq = &sd->sd_head->qp_q[0];
	long count = nbytes > LONG_MAX ? LONG_MAX : (long)nbytes;
	bool empty;
	mblk_t *mp;

	qu_lock(rq);
	empty = rq->q_first == NULL;
	qu_unlock(rq);
	if (!empty || (mp = allocb(sizeof (count), BPRI_HI)) == NULL)
		return;
	mp->b_datap->db_type = M_READ;
	memcpy(mp->b_wptr, &count, sizeof (count));
	mp->b_wptr += sizeof (count);
	ust_unlock(sd->sd_lock);
	putnext(&sd->sd_head->qp_q[1], mp);
	ust_lock(sd->sd_lock);
}

/*
 * ustreams_read - read data.  RNORM (the default) reads as a byte stream
 * across messages, up to a zero-length message; RMSGD reads one message
 * and discards what does not fit; RMSGN reads one message and keeps the
 * rest for the next read.  A message with a control part fails with
 * EBADMSG (RPROTNORM), or has it read as data (RPROTDAT) or discarded
 * (RPROTDIS).  What is left of a message read in part goes back in its
 * place, in its band.  Returns the bytes read; 0 at hang-up once drained,
 * for a zero-length message, or at once when nbytes is 0 (after the
 * error check); -1 with errno: the stream's read error, EAGAIN
 * (O_NONBLOCK), EBADMSG, EBADF.  Base context; may block.
 */
ssize_t
ustreams_read(int sdi, void *buf, size_t nbytes)
{
	struct stdata *sd = sd_lookup(sdi);
	queue_t *rq;
	size_t done = 0;
	int error = 0;

	if (sd == NULL)
		return (fail(EBADF));
	if (sd_linked(sd))
		return (fail(EINVAL));
	ust_may_sleep("ustreams_read", __builtin_return_address(0));
	rq = &sd->sd_head->qp_q[0];
	ust_exec_defer();
	ust_lock(sd->sd_lock);
	if (nbytes == 0) {
		/* Nothing to wait for (POSIX): only an error to report. */
		error = take_error(sd, true);
		ust_unlock(sd->sd_lock);
		ust_exec_runq();
		return (error != 0 ? fail(error) : 0);
	}
	if (sd->sd_flag & STRMREAD)
		send_mread(sd, nbytes);
	for (;;) {
		mblk_t *mp, *bp;
		int mode = sd->sd_rdopt & RMODEMASK;
		unsigned char band;

		if (done == 0) {
			mp = read_wait(sd, &error);
		} else {
			/* RNORM: go on only while messages are there. */
			mp = head_getq(sd);
		}
		if (mp == NULL)
			break;
		band = mp->b_band;
		if (mp->b_datap->db_type != M_DATA) {
			if (sd->sd_rdopt & RPROTDIS) {
				while (mp != NULL &&
				    mp->b_datap->db_type != M_DATA) {
					bp = mp->b_cont;
					freeb(mp);
					mp = bp;
				}
				if (mp == NULL)
					continue;
				mp->b_band = band;
			} else if (!(sd->sd_rdopt & RPROTDAT)) {
				(void) putbq(rq, mp);
				if (done == 0)
					error = EBADMSG;
				break;
			}
		}
		if (msgsize(mp) == 0) {
			/*
			 * A zero-length message ends the read (SVR4): read
			 * as the first message, it is removed and read
			 * returns 0; after data, it stays for the next read.
			 */
			if (done > 0)
				(void) putbq(rq, mp);
			else
				freemsg(mp);
			break;
		}
		/* Copy what fits. */
		while (mp != NULL && done < nbytes) {
			size_t n = (size_t)MBLKL(mp);

			if (n > nbytes - done)
				n = nbytes - done;
			if (n > 0)
				memcpy((char *)buf + done, mp->b_rptr, n);
			mp->b_rptr += n;
			done += n;
			if (MBLKL(mp) == 0) {
				bp = mp->b_cont;
				freeb(mp);
				mp = bp;
			}
		}
		/*
		 * A rest of no bytes is no rest, as for getpmsg: empty blocks
		 * left when the buffer filled (an empty data part after the
		 * control part, say) must not come back as a zero-length
		 * message, which the next read would take for end of file.
		 */
		while (mp != NULL && MBLKL(mp) == 0) {
			bp = mp->b_cont;
			freeb(mp);
			mp = bp;
		}
		if (mp != NULL) {
			if (mode == RMSGD) {
				freemsg(mp);
			} else {
				/* Its next block may not carry its band. */
				mp->b_band = band;
				(void) putbq(rq, mp);
			}
			break;
		}
		if (mode != RNORM || done == nbytes)
			break;
	}
	sthead_efd_sync(sd);
	ust_unlock(sd->sd_lock);
	ust_exec_runq();
	if (done == 0 && error != 0)
		return (fail(error));
	return ((ssize_t)done);
}

/* The packet sizes of the queue below the head (wq: the head's). */
static inline void
psz_below(queue_t *wq, ssize_t *minp, ssize_t *maxp)
{
	queue_t *nq;

	str_rcu_read_lock();
	nq = q_next_load(wq);
	*maxp = nq != NULL ? nq->q_maxpsz : INFPSZ;
	*minp = nq != NULL ? nq->q_minpsz : 0;
	str_rcu_read_unlock();
}

/*
 * Wait until a message of band pri may go down (sd_lock held).  0, or an
 * errno: the write error, ENXIO at hang-up, EAGAIN (O_NONBLOCK).  On 0,
 * also the packet sizes of the queue below (minp, maxp; may be NULL),
 * read in the same RCU read-side section as the flow-control check, so
 * that a write enters liburcu once for both, not twice.
 */
static int
write_wait_psz(struct stdata *sd, unsigned char pri, bool nonblock,
    ssize_t *minp, ssize_t *maxp)
{
	queue_t *wq = &sd->sd_head->qp_q[1];
	int error;
	bool ok;

	for (;;) {
		if ((error = take_error(sd, false)) != 0)
			return (error);
		if (sd->sd_flag & STRHUP)
			return (ENXIO);
		str_rcu_read_lock();
		if ((ok = bcanputnext(wq, pri)) && minp != NULL)
			psz_below(wq, minp, maxp);
		str_rcu_read_unlock();
		if (ok)
			return (0);
		if (nonblock)
			return (EAGAIN);
		sd_sleep(sd, 0);
	}
}

static int
write_wait(struct stdata *sd, unsigned char pri, bool nonblock)
{
	return (write_wait_psz(sd, pri, nonblock, NULL, NULL));
}

static void
bufcall_wake(void *arg)
{
	struct stdata *sd = arg;

	ust_lock(sd->sd_lock);
	sthead_wake(sd);
	ust_unlock(sd->sd_lock);
}

/*
 * A block for size bytes at pri (sd_lock held; dropped while it waits);
 * waits for memory through bufcall unless nonblock.  NULL with *errp set.
 */
static mblk_t *
alloc_wait(struct stdata *sd, size_t size, uint_t pri, bool nonblock,
    int *errp)
{
	mblk_t *mp;

	for (;;) {
		bufcall_id_t id;
		unsigned rcu;

		if ((mp = allocb((int)size, pri)) != NULL)
			return (mp);
		if (nonblock || size > INT32_MAX) {
			*errp = EAGAIN;
			return (NULL);
		}
		if ((id = bufcall((uint_t)size, (int)pri, bufcall_wake,
		    sd)) == 0) {
			*errp = ENOSR;
			return (NULL);
		}
		sd_sleep(sd, 0);
		/*
		 * unbufcall waits for a callback that is running, and the
		 * callback takes sd_lock: so not under sd_lock (nor in an RCU
		 * read-side section).  Woken by something else, this thread
		 * can meet its callback just starting.
		 */
		ust_unlock(sd->sd_lock);
		rcu = str_rcu_suspend();
		unbufcall(id);
		str_rcu_resume(rcu);
		ust_lock(sd->sd_lock);
		if ((*errp = take_error(sd, false)) != 0)
			return (NULL);
	}
}

/*
 * ustreams_write - send buf down the stream as M_DATA messages of at most
 * the packet size of the queue below the head.  Blocks on flow control
 * and on memory, or fails with EAGAIN under O_NONBLOCK (returning the
 * bytes already sent, if any).  A write is split into packets only when
 * the minimum packet size is 0; otherwise one outside [minimum, maximum]
 * fails with ERANGE and sends nothing (SVR4).  A maximum packet size of 0
 * lets nothing through: the write returns 0 (SVR4).  A zero-length write
 * sends a zero-length message only with SNDZERO.  -1 with errno: the write
 * error, ENXIO after hang-up, ERANGE, EAGAIN, EBADF.  Base context; may
 * block.
 */
ssize_t
ustreams_write(int sdi, const void *buf, size_t nbytes)
{
	struct stdata *sd = sd_lookup(sdi);
	queue_t *wq;
	size_t done = 0;
	bool nonblock, locked;
	int error = 0;

	if (sd == NULL)
		return (fail(EBADF));
	if (sd_linked(sd))
		return (fail(EINVAL));
	ust_may_sleep("ustreams_write", __builtin_return_address(0));
	wq = &sd->sd_head->qp_q[1];
	nonblock = (sd->sd_oflag & O_NONBLOCK) != 0;
	ust_lock(sd->sd_lock);
	if (nbytes == 0 && !(sd->sd_wropt & SNDZERO)) {
		error = take_error(sd, false);
		if (error == 0 && (sd->sd_flag & STRHUP))
			error = ENXIO;
		ust_unlock(sd->sd_lock);
		return (error != 0 ? fail(error) : 0);
	}
	/*
	 * One RCU read-side section for the whole write -- the flow-control
	 * check, the packet sizes and putnext -- rather than one for each:
	 * entering liburcu's costs more than the rest of a small write's
	 * RCU work.  sd_sleep leaves it while the write waits.
	 */
	str_rcu_read_lock();
	ust_exec_defer();
	locked = true;
	for (;;) {
		ssize_t maxpsz, minpsz;
		size_t n;
		mblk_t *mp;

		if ((error = write_wait_psz(sd, 0, nonblock, &minpsz,
		    &maxpsz)) != 0)
			break;
		if (maxpsz == 0)	/* no data may pass: nothing is sent */
			break;
		n = nbytes - done;
		if (minpsz > 0 && (n < (size_t)minpsz ||
		    (maxpsz >= 0 && n > (size_t)maxpsz))) {
			error = ERANGE;		/* cannot be split */
			break;
		}
		if (maxpsz >= 0 && n > (size_t)maxpsz)
			n = (size_t)maxpsz;
		mp = alloc_wait(sd, n + sd->sd_wroff, BPRI_LO,
		    nonblock, &error);
		if (mp == NULL)
			break;
		mp->b_rptr += sd->sd_wroff;
		mp->b_wptr = mp->b_rptr;
		if (n > 0)
			memcpy(mp->b_wptr, (const char *)buf + done, n);
		mp->b_wptr += n;
		done += n;
		ust_unlock(sd->sd_lock);
		putnext(wq, mp);
		if (done == nbytes) {
			locked = false;
			break;
		}
		ust_lock(sd->sd_lock);
	}
	if (locked)			/* left the loop on an error */
		ust_unlock(sd->sd_lock);
	str_rcu_read_unlock();
	ust_exec_runq();
	if (done == 0 && error != 0)
		return (fail(error));
	return ((ssize_t)done);
}

/*
 * Copy a message part (a chain of blocks of one kind) into a strbuf, up
 * to its maxlen, and take what was copied off the part; blocks emptied,
 * zero-length ones included, are freed, and so are zero-length blocks
 * left at the front of the rest: a rest of no bytes is no rest.  A part
 * not asked for (sb NULL or maxlen < 0) is left whole, and len is -1, as
 * it is for an absent part.  Returns 1 if some of the part is left.
 */
static int
copy_part(mblk_t **mpp, struct strbuf *sb)
{
	mblk_t *mp = *mpp;
	int len = 0;

	if (sb == NULL || sb->maxlen < 0 || mp == NULL) {
		if (sb != NULL)
			sb->len = -1;
		return (mp != NULL ? 1 : 0);
	}
	while (mp != NULL) {
		int n = (int)MBLKL(mp);

		if (n > sb->maxlen - len)
			n = sb->maxlen - len;
		if (n > 0)
			memcpy(sb->buf + len, mp->b_rptr, (size_t)n);
		mp->b_rptr += n;
		len += n;
		if (MBLKL(mp) == 0) {
			mblk_t *next = mp->b_cont;

			freeb(mp);
			mp = next;
		}
		if (len >= sb->maxlen)
			break;
	}
	while (mp != NULL && MBLKL(mp) == 0) {
		mblk_t *next = mp->b_cont;

		freeb(mp);
		mp = next;
	}
	sb->len = len;
	*mpp = mp;
	return (mp != NULL ? 1 : 0);
}

/*
 * ustreams_getpmsg - take the next message: its control part (M_PROTO or
 * M_PCPROTO blocks) into ctl and its data part into data.  *flagsp in:
 * MSG_HIPRI (a high-priority message only), MSG_BAND (band >= *bandp),
 * MSG_ANY; out: the message's class, *bandp its band.  Returns 0, or
 * MORECTL / MOREDATA when a part did not fit (the rest stays for the next
 * call), or -1 with errno: EAGAIN, EBADMSG... as ustreams_read, EINVAL
 * for bad flags, EBADF.  Base context; may block.
 */
int
ustreams_getpmsg(int sdi, struct strbuf *ctl, struct strbuf *data,
    int *bandp, int *flagsp)
{
	struct stdata *sd = sd_lookup(sdi);
	queue_t *rq;
	mblk_t *mp, *cp, *dp;
	int error = 0, more = 0, want;
	bool hipri;
	unsigned char band;

	if (sd == NULL)
		return (fail(EBADF));
	if (sd_linked(sd))
		return (fail(EINVAL));
	if (flagsp == NULL || (*flagsp != MSG_HIPRI && *flagsp != MSG_ANY &&
	    *flagsp != MSG_BAND) || (*flagsp == MSG_BAND && bandp == NULL))
		return (fail(EINVAL));
	ust_may_sleep("ustreams_getpmsg", __builtin_return_address(0));
	want = *flagsp;
	rq = &sd->sd_head->qp_q[0];
	ust_exec_defer();
	ust_lock(sd->sd_lock);
	for (;;) {
		if ((mp = read_wait(sd, &error)) == NULL)
			break;
		hipri = mp->b_datap->db_type >= QPCTL;
		if ((want == MSG_HIPRI && !hipri) || (want == MSG_BAND &&
		    !hipri && mp->b_band < *bandp)) {
			(void) putbq(rq, mp);
			if (sd->sd_flag & STRHUP) {
				/* None of the kind can come: end of file. */
				mp = NULL;
				break;
			}
			if (sd->sd_oflag & O_NONBLOCK) {
				error = EAGAIN;
				mp = NULL;
				break;
			}
			sd_sleep(sd, 0);
			continue;
		}
		break;
	}
	if (mp == NULL) {
		sthead_efd_sync(sd);
		ust_unlock(sd->sd_lock);
		ust_exec_runq();
		if (error == 0) {		/* hang-up: an empty message */
			if (ctl != NULL)
				ctl->len = 0;
			if (data != NULL)
				data->len = 0;
			*flagsp = 0;
			return (0);
		}
		return (fail(error));
	}
	band = mp->b_band;
	*flagsp = hipri ? MSG_HIPRI : MSG_BAND;
	if (bandp != NULL)
		*bandp = band;
	/*
	 * The control part (the leading blocks that are not M_DATA) and the
	 * data part are copied each on its own, as SVR4's strgetmsg does: a
	 * control part that does not fit (MORECTL) does not keep the data
	 * part from being taken.  What is left of both goes back as one
	 * message, in the message's band.
	 */
	cp = NULL;
	dp = mp;
	if (mp->b_datap->db_type != M_DATA) {
		mblk_t *last = mp;

		while (last->b_cont != NULL &&
		    last->b_cont->b_datap->db_type != M_DATA)
			last = last->b_cont;
		cp = mp;
		dp = last->b_cont;
		last->b_cont = NULL;
	}
	if (copy_part(&cp, ctl))
		more |= MORECTL;
	if (copy_part(&dp, data))
		more |= MOREDATA;
	if (cp != NULL)
		linkb(cp, dp);
	if ((mp = cp != NULL ? cp : dp) != NULL) {
		mp->b_band = band;
		(void) putbq(rq, mp);
	}
	sthead_efd_sync(sd);
	ust_unlock(sd->sd_lock);
	ust_exec_runq();
	return (more);
}

/* ustreams_getmsg - getpmsg with RS_HIPRI (or 0) for flags. */
int
ustreams_getmsg(int sdi, struct strbuf *ctl, struct strbuf *data,
    int *flagsp)
{
	int flags, error;

	if (flagsp == NULL || (*flagsp != 0 && *flagsp != RS_HIPRI))
		return (fail(EINVAL));
	flags = *flagsp == RS_HIPRI ? MSG_HIPRI : MSG_ANY;
	error = ustreams_getpmsg(sdi, ctl, data, NULL, &flags);
	if (error >= 0)
		*flagsp = flags == MSG_HIPRI ? RS_HIPRI : 0;
	return (error);
}

/*
 * ustreams_putpmsg - send a message: ctl (if len >= 0) as an M_PROTO
 * block (M_PCPROTO with MSG_HIPRI), data as M_DATA, in band.  A
 * high-priority message needs a control part and ignores flow control.
 * With neither part (both NULL or of len -1), nothing is sent and 0 is
 * returned, as SVR4 and POSIX say.  Returns 0, or -1 with errno: EINVAL,
 * ERANGE (data outside the packet sizes of the queue below the head),
 * EAGAIN, ENXIO, the write error, EBADF.
 */
int
ustreams_putpmsg(int sdi, const struct strbuf *ctl, const struct strbuf *data,
    int band, int flags)
{
	struct stdata *sd = sd_lookup(sdi);
	bool hipri = flags == MSG_HIPRI;
	bool nonblock;
	int clen = ctl != NULL ? ctl->len : -1;
	int dlen = data != NULL ? data->len : -1;
	mblk_t *mp = NULL, *dp = NULL;
	queue_t *wq;
	int error = 0;

	if (sd == NULL)
		return (fail(EBADF));
	if (sd_linked(sd))
		return (fail(EINVAL));
	if ((flags != MSG_HIPRI && flags != MSG_BAND) || band < 0 ||
	    band > 255 || (hipri && (clen < 0 || band != 0)))
		return (fail(EINVAL));
	if (clen < 0 && dlen < 0)
		return (0);
	ust_may_sleep("ustreams_putpmsg", __builtin_return_address(0));
	wq = &sd->sd_head->qp_q[1];
	if (dlen >= 0) {
		ssize_t minpsz, maxpsz;

		/* The data part must fit the packet sizes (SVR4). */
		psz_below(wq, &minpsz, &maxpsz);
		if (dlen < minpsz || (maxpsz != INFPSZ && dlen > maxpsz))
			return (fail(ERANGE));
	}
	nonblock = (sd->sd_oflag & O_NONBLOCK) != 0;
	ust_lock(sd->sd_lock);
	if (hipri) {
		if ((error = take_error(sd, false)) == 0 &&
		    (sd->sd_flag & STRHUP))
			error = ENXIO;
	} else {
		error = write_wait(sd, (unsigned char)band, nonblock);
	}
	if (error == 0 && clen >= 0) {
		if ((mp = alloc_wait(sd, (size_t)clen, BPRI_MED, nonblock,
		    &error)) != NULL) {
			mp->b_datap->db_type = hipri ? M_PCPROTO : M_PROTO;
			if (clen > 0)
				memcpy(mp->b_wptr, ctl->buf, (size_t)clen);
			mp->b_wptr += clen;
		}
	}
	if (error == 0 && dlen >= 0) {
		if ((dp = alloc_wait(sd, (size_t)dlen + sd->sd_wroff, BPRI_LO,
		    nonblock, &error)) != NULL) {
			dp->b_rptr += sd->sd_wroff;
			dp->b_wptr = dp->b_rptr;
			if (dlen > 0)
				memcpy(dp->b_wptr, data->buf, (size_t)dlen);
			dp->b_wptr += dlen;
		}
	}
	ust_unlock(sd->sd_lock);
	if (error != 0) {
		freemsg(mp);
		freemsg(dp);
		return (fail(error));
	}
	if (mp == NULL) {
		mp = dp;
	} else {
		mp->b_cont = dp;
	}
	mp->b_band = (unsigned char)band;
	ust_exec_defer();
	putnext(wq, mp);
	ust_exec_runq();
	return (0);
}

/* ustreams_putmsg - putpmsg with RS_HIPRI (or 0) for flags, band 0. */
int
ustreams_putmsg(int sdi, const struct strbuf *ctl, const struct strbuf *data,
    int flags)
{
	if (flags != 0 && flags != RS_HIPRI)
		return (fail(EINVAL));
	return (ustreams_putpmsg(sdi, ctl, data, 0,
	    flags == RS_HIPRI ? MSG_HIPRI : MSG_BAND));
}

/*
 * ioctls that go down the stream: I_STR, and transparent ioctls (any
 * command outside the STREAMS range).  One at a time per stream
 * (STRIOCWAIT).  The M_IOCTL block is made large enough to be turned into
 * an M_COPYIN, M_COPYOUT or M_IOCDATA in place, as modules do.
 */
#define	IOC_MAX(a, b)	((a) > (b) ? (a) : (b))
#define	IOC_BLKSIZE	IOC_MAX(sizeof (struct iocblk), \
	IOC_MAX(sizeof (struct copyreq), sizeof (struct copyresp)))

_Static_assert(offsetof(struct iocblk, ioc_cmd) ==
	offsetof(struct copyreq, cq_cmd) &&
	offsetof(struct iocblk, ioc_cr) == offsetof(struct copyreq, cq_cr) &&
	offsetof(struct iocblk, ioc_id) == offsetof(struct copyreq, cq_id) &&
	offsetof(struct copyreq, cq_id) == offsetof(struct copyresp, cp_id) &&
	offsetof(struct copyreq, cq_addr) ==
	offsetof(struct copyresp, cp_rval) &&
	offsetof(struct copyreq, cq_private) ==
	offsetof(struct copyresp, cp_private) &&
	sizeof (struct copyresp) <= sizeof (struct copyreq),
	"iocblk, copyreq and copyresp share their common fields");

/* Take the stream's ioctl slot: sd_lock held; may sleep. */
static void
ioc_begin(struct stdata *sd)
{
	while (sd->sd_flag & STRIOCWAIT)
		sd_sleep(sd, 0);
	sd->sd_flag |= STRIOCWAIT;
	sd->sd_iocreply = NULL;
}

/* Give it back: sd_lock held. */
static void
ioc_end(struct stdata *sd)
{
	sd->sd_iocreply = NULL;
	sd->sd_flag &= ~STRIOCWAIT;
	sthead_wake(sd);
}

/*
 * Send mp down and wait up to ticks (0: for ever) for the reply to the
 * ioctl in progress: M_IOCACK, M_IOCNAK, or a copy request.  sd_lock held
 * on entry and on return, dropped to send.  NULL with *errorp: ETIME, or
 * ENXIO when a hang-up arrives that was not there when the ioctl began
 * (one that was there does not end the wait: a driver may answer it, as
 * errmod(7) undoes a hang-up so).
 */
static mblk_t *
ioc_send_wait(struct stdata *sd, mblk_t *mp, long ticks, bool hup_before,
    int *errorp)
{
	clock_t start, now;
	mblk_t *reply;

	ust_unlock(sd->sd_lock);
	putnext(&sd->sd_head->qp_q[1], mp);
	ust_lock(sd->sd_lock);
	(void) drv_getparm(LBOLT, &start);
	while ((reply = sd->sd_iocreply) == NULL) {
		if ((sd->sd_flag & STRHUP) && !hup_before) {
			*errorp = ENXIO;
			break;
		}
		(void) drv_getparm(LBOLT, &now);
		if (ticks > 0 && now - start >= ticks) {
			*errorp = ETIME;
			break;
		}
		sd_sleep(sd, ticks > 0 ? ticks - (now - start) : 0);
	}
	sd->sd_iocreply = NULL;
	return (reply);
}

/*
 * Copy n bytes between this process's buffer and the caller's address,
 * as copyin and copyout would: EFAULT, rather than a crash, when the
 * address is bad (process_vm_readv/writev check it).  Where the kernel
 * does not allow those calls, a plain copy.
 */
static int
ucopy(void *kaddr, void *uaddr, size_t n, bool in)
{
	struct iovec local = { kaddr, n }, remote = { uaddr, n };
	ssize_t r;

	if (n == 0)
		return (0);
	r = in ? process_vm_readv(getpid(), &local, 1, &remote, 1, 0) :
	    process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	if (r == (ssize_t)n)
		return (0);
	if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
		if (in)
			memcpy(kaddr, uaddr, n);
		else
			memcpy(uaddr, kaddr, n);
		return (0);
	}
	return (EFAULT);
}

/*
 * Carry out the copy request mp (M_COPYIN or M_COPYOUT) and turn it into
 * the M_IOCDATA that answers it: cp_rval 0 and, for a copy in, the data
 * in b_cont; or cp_rval the error, and no data.  Returns the error.  A
 * request the ioctl may not make (I_STR's: not transparent) is refused
 * with EPROTO, nothing copied.  sd_lock held (dropped while waiting for
 * memory).
 */
static int
ioc_copy(struct stdata *sd, mblk_t *mp, bool allowed)
{
	struct copyreq *cq = (struct copyreq *)(void *)mp->b_rptr;
	struct copyresp *cp = (struct copyresp *)(void *)mp->b_rptr;
	mblk_t *data = NULL;
	int error = 0;

	/* strrput took only a request that holds a whole struct copyreq. */
	ASSERT(MBLKL(mp) >= (ssize_t)sizeof (*cq));
	if (!allowed) {
		error = EPROTO;
	} else if (DB_TYPE(mp) == M_COPYIN) {
		if (cq->cq_size > INT32_MAX)
			error = EINVAL;
		else if ((data = alloc_wait(sd, cq->cq_size, BPRI_MED, false,
		    &error)) != NULL &&
		    (error = ucopy(data->b_wptr, cq->cq_addr, cq->cq_size,
		    true)) == 0)
			data->b_wptr += cq->cq_size;
	} else if (mp->b_cont == NULL ||
	    (size_t)msgdsize(mp->b_cont) < cq->cq_size) {
		error = EPROTO;		/* less data than it asks to copy */
	} else {
		size_t off = 0;

		for (mblk_t *bp = mp->b_cont; error == 0 && off < cq->cq_size;
		    bp = bp->b_cont) {
			size_t k = (size_t)MBLKL(bp);

			if (k > cq->cq_size - off)
				k = cq->cq_size - off;
			error = ucopy(bp->b_rptr, cq->cq_addr + off, k, false);
			off += k;
		}
	}
	freemsg(mp->b_cont);
	mp->b_cont = NULL;
	if (error != 0) {
		freemsg(data);
		data = NULL;
	}
	/* cp_cmd, cp_cr, cp_id and cp_private stay where they were. */
	cp->cp_rval = (caddr_t)(intptr_t)error;
	cp->cp_pad1 = 0;
	cp->cp_pad2 = 0;
	mp->b_wptr = mp->b_rptr + sizeof (*cp);
	DB_TYPE(mp) = M_IOCDATA;
	mp->b_cont = data;
	return (error);
}

/*
 * The answer, M_IOCACK or M_IOCNAK, of the ioctl in progress: the
 * ioctl's return value, or -1 with errno.  With sio (I_STR), the data
 * that came back is copied to ic_dp and ic_len set.  Frees reply.
 */
static int
ioc_answer(mblk_t *reply, struct strioctl *sio)
{
	struct iocblk *ioc = (struct iocblk *)(void *)reply->b_rptr;
	int error, rval;

	if (DB_TYPE(reply) == M_IOCNAK) {
		error = ioc->ioc_error != 0 ? ioc->ioc_error : EINVAL;
		freemsg(reply);
		return (fail(error));
	}
	if (ioc->ioc_error != 0) {	/* an M_IOCACK may fail it too */
		error = ioc->ioc_error;
		freemsg(reply);
		return (fail(error));
	}
	rval = ioc->ioc_rval;
	if (sio != NULL && sio->ic_dp != NULL) {
		int len = 0;

		for (mblk_t *bp = reply->b_cont; bp != NULL &&
		    len < (int)ioc->ioc_count; bp = bp->b_cont) {
			int n = (int)MBLKL(bp);

			if (n > (int)ioc->ioc_count - len)
				n = (int)ioc->ioc_count - len;
			memcpy(sio->ic_dp + len, bp->b_rptr, (size_t)n);
			len += n;
		}
		sio->ic_len = len;
	}
	freemsg(reply);
	return (rval);
}

/*
 * Send the M_IOCTL mp down and see the ioctl through: copy requests are
 * carried out when transparent (and refused, EPROTO, for I_STR, whose
 * data went down with it), until the M_IOCACK or M_IOCNAK.  The ioctl
 * slot is held; sd_lock held on entry, not on return.
 */
static int
ioc_run(struct stdata *sd, mblk_t *mp, long ticks, bool transparent,
    struct strioctl *sio)
{
	bool hup_before = (sd->sd_flag & STRHUP) != 0;
	mblk_t *reply;
	int error = 0;

	for (;;) {
		if ((reply = ioc_send_wait(sd, mp, ticks, hup_before,
		    &error)) == NULL)
			break;
		if (DB_TYPE(reply) == M_IOCACK || DB_TYPE(reply) == M_IOCNAK) {
			ioc_end(sd);
			ust_unlock(sd->sd_lock);
			return (ioc_answer(reply, sio));
		}
		/* A copy request: answer it, and wait for what comes next. */
		error = ioc_copy(sd, reply, transparent);
		mp = reply;
		if (error != 0) {
			/* The module frees a failed M_IOCDATA: no answer. */
			ust_unlock(sd->sd_lock);
			putnext(&sd->sd_head->qp_q[1], mp);
			ust_lock(sd->sd_lock);
			break;
		}
	}
	ioc_end(sd);
	ust_unlock(sd->sd_lock);
	return (fail(error));
}

/*
 * An M_IOCTL for cmd, ioc_count count, with len bytes of data (if any) in
 * a block of its own in b_cont.  sd_lock held (dropped while waiting for
 * memory).  NULL with *errorp.
 */
static mblk_t *
ioc_msg(struct stdata *sd, int cmd, size_t count, const void *data,
    size_t len, int *errorp)
{
	struct iocblk *ioc;
	mblk_t *mp;

	if ((mp = alloc_wait(sd, IOC_BLKSIZE, BPRI_HI, false, errorp)) ==
	    NULL)
		return (NULL);
	if (len > 0 && (mp->b_cont = alloc_wait(sd, len, BPRI_MED, false,
	    errorp)) == NULL) {
		freemsg(mp);
		return (NULL);
	}
	mp->b_datap->db_type = M_IOCTL;
	ioc = (struct iocblk *)(void *)mp->b_wptr;
	memset(ioc, 0, sizeof (*ioc));
	ioc->ioc_cmd = cmd;
	ioc->ioc_id = ++sd->sd_iocid;
	ioc->ioc_count = count;
	mp->b_wptr += sizeof (*ioc);
	if (len > 0) {
		memcpy(mp->b_cont->b_wptr, data, len);
		mp->b_cont->b_wptr += len;
	}
	return (mp);
}

/*
 * Send cmd down, as ioc_msg builds it, and see it through (ioc_run);
 * ticks, transparent and sio as ioc_run takes them.
 */
static int
ioc_start(struct stdata *sd, int cmd, size_t count, const void *data,
    size_t len, long ticks, bool transparent, struct strioctl *sio)
{
	mblk_t *mp;
	int error = 0;

	ust_lock(sd->sd_lock);
	ioc_begin(sd);
	if ((mp = ioc_msg(sd, cmd, count, data, len, &error)) == NULL) {
		ioc_end(sd);
		ust_unlock(sd->sd_lock);
		return (fail(error));
	}
	return (ioc_run(sd, mp, ticks, transparent, sio));
}

/* I_STR: send M_IOCTL down with the caller's data, wait for the reply. */
static int
ioc_str(struct stdata *sd, struct strioctl *sio)
{
	if (sio == NULL || sio->ic_len < 0)
		return (fail(EINVAL));
	return (ioc_start(sd, sio->ic_cmd, (size_t)sio->ic_len, sio->ic_dp,
	    (size_t)sio->ic_len, sio->ic_timout == 0 ? IOC_DEFTIMEOUT * HZ :
	    sio->ic_timout < 0 ? 0 : (long)sio->ic_timout * HZ, false, sio));
}

/* I_STR for the framework (mux.c): the ioctl's value, or -1 and errno. */
int
sthead_strioctl(struct stdata *sd, struct strioctl *sio)
{
	return (ioc_str(sd, sio));
}

/*
 * A transparent ioctl: cmd goes down as M_IOCTL, ioc_count TRANSPARENT,
 * with arg in b_cont; the module's copy requests are carried out against
 * the caller's memory.  Each step waits up to IOC_DEFTIMEOUT seconds.
 */
static int
ioc_transparent(struct stdata *sd, int cmd, intptr_t arg)
{
	return (ioc_start(sd, cmd, TRANSPARENT, &arg, sizeof (arg),
	    IOC_DEFTIMEOUT * HZ, true, NULL));
}

/*
 * Copy a message part, from mp to the first block of another kind (or,
 * for the control part, the first M_DATA one), into sb without taking it
 * off: len -1 when the part is absent or not asked for (maxlen < 0), as
 * getmsg says.  Returns the first block after the part.
 */
static mblk_t *
peek_part(mblk_t *mp, bool ctl, struct strbuf *sb)
{
	int len = 0;

	if (mp == NULL || (mp->b_datap->db_type != M_DATA) != ctl) {
		sb->len = -1;
		return (mp);
	}
	for (; mp != NULL && (mp->b_datap->db_type != M_DATA) == ctl;
	    mp = mp->b_cont) {
		int n = (int)MBLKL(mp);

		if (sb->maxlen < 0)
			continue;
		if (n > sb->maxlen - len)
			n = sb->maxlen - len;
		if (n > 0) {
			memcpy(sb->buf + len, mp->b_rptr, (size_t)n);
			len += n;
		}
	}
	sb->len = sb->maxlen < 0 ? -1 : len;
	return (mp);
}

/*
 * I_PEEK: the first message on the read queue, copied as getmsg would
 * take it but left there.  1, or 0 when there is none (or, with RS_HIPRI,
 * when it is not a high-priority one).
 */
static int
ioc_peek(struct stdata *sd, struct strpeek *sp)
{
	queue_t *rq = &sd->sd_head->qp_q[0];
	mblk_t *mp;

	if (sp == NULL || (sp->flags != 0 && sp->flags != RS_HIPRI))
		return (fail(EINVAL));
	qu_lock(rq);
	if ((mp = rq->q_first) == NULL || (sp->flags == RS_HIPRI &&
	    mp->b_datap->db_type < QPCTL)) {
		qu_unlock(rq);
		return (0);
	}
	sp->flags = mp->b_datap->db_type >= QPCTL ? RS_HIPRI : 0;
	mp = peek_part(mp, true, &sp->ctlbuf);
	(void) peek_part(mp, false, &sp->databuf);
	qu_unlock(rq);
	return (1);
}

/*
 * I_LIST: with NULL, the number of modules and the driver; else their
 * names, from the one below the stream head down, sl_nmods at most.
 */
static int
ioc_list(struct stdata *sd, struct str_list *sl)
{
	int n = 0;

	if (sl != NULL && (sl->sl_nmods < 1 || sl->sl_modlist == NULL))
		return (fail(EINVAL));
	pthread_mutex_lock(&sd->sd_plumb);
	for (queue_t *q = q_next_load(&sd->sd_head->qp_q[1]); q != NULL;
	    q = QPAIR(q) == sd->sd_drv ? NULL : q_next_load(q)) {
		if (sl != NULL) {
			if (n == sl->sl_nmods)
				break;
			(void) strlcpy(sl->sl_modlist[n].l_name,
			    QPAIR(q)->qp_sw->ms_name,
			    sizeof (sl->sl_modlist[n].l_name));
		}
		n++;
	}
	pthread_mutex_unlock(&sd->sd_plumb);
	if (sl == NULL)
		return (n);
	sl->sl_nmods = n;
	return (0);
}

/*
 * I_ATMARK, I_CKBAND, I_GETBAND: what the read queue holds.
 *  I_ATMARK (ANYMARK or LASTMARK): 1 when the first message is marked
 *    (MSGMARK) -- with LASTMARK, and no other one after it is -- else 0.
 *  I_CKBAND (a band): 1 when a message of that band is queued, else 0.
 *  I_GETBAND (int *): the first message's band; ENODATA when none.
 */
static int
ioc_readq(struct stdata *sd, int cmd, intptr_t arg, void *argp)
{
	queue_t *rq = &sd->sd_head->qp_q[0];
	int rval = 0;
	mblk_t *mp;

	if ((cmd == I_ATMARK && arg != ANYMARK && arg != LASTMARK) ||
	    (cmd == I_CKBAND && (arg < 0 || arg > 255)) ||
	    (cmd == I_GETBAND && argp == NULL))
		return (fail(EINVAL));
	qu_lock(rq);
	mp = rq->q_first;
	switch (cmd) {
	case I_ATMARK:
		if (mp != NULL && (mp->b_flag & MSGMARK)) {
			rval = 1;
			if (arg == LASTMARK) {
				for (mblk_t *np = mp->b_next; np != NULL;
				    np = np->b_next) {
					if (np->b_flag & MSGMARK)
						rval = 0;
				}
			}
		}
		break;
	case I_CKBAND:
		for (; mp != NULL; mp = mp->b_next) {
			if (mp->b_datap->db_type < QPCTL &&
			    mp->b_band == (unsigned char)arg) {
				rval = 1;
				break;
			}
		}
		break;
	default:
		if (mp == NULL)
			rval = -1;
		else
			*(int *)argp = mp->b_band;
		break;
	}
	qu_unlock(rq);
	return (rval < 0 ? fail(ENODATA) : rval);
}

/* I_FLUSH, I_FLUSHBAND: flush the head, and send M_FLUSH down. */
static int
ioc_flush(struct stdata *sd, int flag, int band, bool banded)
{
	queue_t *rq = &sd->sd_head->qp_q[0];
	mblk_t *mp;

	if ((flag & ~FLUSHRW) != 0 || (flag & FLUSHRW) == 0)
		return (fail(EINVAL));
	if ((mp = allocb(2, BPRI_HI)) == NULL)
		return (fail(EAGAIN));
	mp->b_datap->db_type = M_FLUSH;
	*mp->b_wptr++ = (unsigned char)(flag | (banded ? FLUSHBAND : 0));
	*mp->b_wptr++ = (unsigned char)band;
	if (flag & FLUSHR) {
		if (banded)
			flushband(rq, (unsigned char)band, FLUSHALL);
		else
			flushq(rq, FLUSHALL);
		ust_lock(sd->sd_lock);
		sthead_efd_sync(sd);
		ust_unlock(sd->sd_lock);
	}
	putnext(&sd->sd_head->qp_q[1], mp);
	return (0);
}

/*
 * ustreams_ioctl - the STREAMS ioctls: I_PUSH, I_POP, I_LOOK, I_FIND,
 * I_LIST, I_FLUSH, I_FLUSHBAND, I_CANPUT, I_NREAD, I_PEEK, I_ATMARK,
 * I_CKBAND, I_GETBAND, I_SRDOPT, I_GRDOPT, I_SWROPT, I_GWROPT, I_SERROPT,
 * I_GERROPT, I_SETCLTIME, I_GETCLTIME, I_SETSIG, I_GETSIG, I_LINK,
 * I_PLINK, I_UNLINK, I_PUNLINK (mux.c), I_STR; any command outside the
 * STREAMS range goes down as a transparent ioctl (see <sys/stropts.h>
 * and the man page for each one's argument and result).  -1 with errno
 * on failure.  Base context; may block.
 */
int
ustreams_ioctl(int sdi, int cmd, ...)
{
	struct stdata *sd = sd_lookup(sdi);
	queue_t *rq;
	va_list ap;
	void *argp;
	intptr_t arg;
	int error = 0, rval = 0;

	if (sd == NULL)
		return (fail(EBADF));
	if (sd_linked(sd))
		return (fail(EINVAL));
	ust_may_sleep("ustreams_ioctl", __builtin_return_address(0));
	/* Each command's argument, read as the type the caller passes. */
	va_start(ap, cmd);
	switch (cmd) {
	case I_POP:
		argp = NULL;			/* none */
		arg = 0;
		break;
	case I_FLUSH:
	case I_CANPUT:
	case I_SRDOPT:
	case I_SWROPT:
	case I_SERROPT:
	case I_ATMARK:
	case I_CKBAND:
	case I_SETSIG:
	case I_LINK:
	case I_PLINK:
	case I_UNLINK:
	case I_PUNLINK:
		arg = va_arg(ap, int);
		argp = NULL;
		break;
	default:
		argp = va_arg(ap, void *);
		arg = (intptr_t)argp;
		break;
	}
	va_end(ap);
	rq = &sd->sd_head->qp_q[0];

	switch (cmd) {
	case I_PUSH: {
		struct modsw *sw;

		if (argp == NULL)
			return (fail(EINVAL));
		if ((sw = modsw_find((const char *)argp, false)) == NULL)
			return (fail(EINVAL));
		pthread_mutex_lock(&sd->sd_plumb);
		if ((error = stream_push(sd, sw)) != 0)
			modsw_rele(sw);
		pthread_mutex_unlock(&sd->sd_plumb);
		return (error != 0 ? fail(error) : 0);
	}
	case I_POP:
		pthread_mutex_lock(&sd->sd_plumb);
		error = stream_pop(sd);
		pthread_mutex_unlock(&sd->sd_plumb);
		return (error != 0 ? fail(error) : 0);
	case I_LOOK:
	case I_FIND: {
		queue_t *q;
		bool found = false;

		if (argp == NULL)
			return (fail(EINVAL));
		pthread_mutex_lock(&sd->sd_plumb);
		q = q_next_load(&sd->sd_head->qp_q[1]);
		if (cmd == I_LOOK) {
			if (QPAIR(q) == sd->sd_drv) {
				error = EINVAL;
			} else {
				(void) strncpy((char *)argp,
				    QPAIR(q)->qp_sw->ms_name, FMNAMESZ + 1);
			}
		} else if (!modsw_exists((const char *)argp, false)) {
			error = EINVAL;
		} else {
			for (; q != NULL && QPAIR(q) != sd->sd_drv;
			    q = q_next_load(q)) {
				if (strcmp(QPAIR(q)->qp_sw->ms_name,
				    (const char *)argp) == 0)
					found = true;
			}
		}
		pthread_mutex_unlock(&sd->sd_plumb);
		if (error != 0)
			return (fail(error));
		return (cmd == I_FIND ? (found ? 1 : 0) : 0);
	}
	case I_FLUSH:
		return (ioc_flush(sd, (int)arg, 0, false));
	case I_FLUSHBAND: {
		struct bandinfo *bi = argp;

		if (bi == NULL)
			return (fail(EINVAL));
		return (ioc_flush(sd, bi->bi_flag, bi->bi_pri, true));
	}
	case I_CANPUT:
		if (arg < 0 || arg > 255)
			return (fail(EINVAL));
		return (bcanputnext(&sd->sd_head->qp_q[1],
		    (unsigned char)arg));
	case I_NREAD: {
		int n = 0;
		size_t bytes = 0;

		if (argp == NULL)
			return (fail(EINVAL));
		qu_lock(rq);
		for (mblk_t *mp = rq->q_first; mp != NULL; mp = mp->b_next) {
			if (n == 0)
				bytes = msgdsize(mp);
			n++;
		}
		qu_unlock(rq);
		*(int *)argp = (int)bytes;
		return (n);
	}
	case I_LINK:
	case I_PLINK:
		return (mux_link(sd, (int)arg, cmd == I_PLINK));
	case I_UNLINK:
	case I_PUNLINK:
		return (mux_unlink(sd, (int)arg, cmd == I_PUNLINK));
	case I_SETSIG:
		/* 0 cancels: only what was asked can be. */
		if ((arg & ~S_ALLEVENTS) != 0 ||
		    ((arg & S_BANDURG) && !(arg & S_RDBAND)))
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		if (arg == 0 && sd->sd_sigflags == 0)
			error = EINVAL;
		else
			sd->sd_sigflags = (int)arg;
		ust_unlock(sd->sd_lock);
		return (error != 0 ? fail(error) : 0);
	case I_GETSIG:
		if (argp == NULL)
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		if (sd->sd_sigflags == 0)
			error = EINVAL;
		else
			*(int *)argp = sd->sd_sigflags;
		ust_unlock(sd->sd_lock);
		return (error != 0 ? fail(error) : 0);
	case I_PEEK:
		return (ioc_peek(sd, argp));
	case I_LIST:
		return (ioc_list(sd, argp));
	case I_ATMARK:
	case I_CKBAND:
	case I_GETBAND:
		return (ioc_readq(sd, cmd, arg, argp));
	case I_SRDOPT:
		if ((arg & ~(RMODEMASK | RPROTMASK)) != 0 ||
		    (arg & RMODEMASK) == RMODEMASK)
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		sd->sd_rdopt = (int)arg;
		if ((arg & RPROTMASK) == 0)
			sd->sd_rdopt |= RPROTNORM;
		ust_unlock(sd->sd_lock);
		return (0);
	case I_GRDOPT:
	case I_GWROPT:
	case I_GERROPT:
		if (argp == NULL)
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		/* I_GERROPT: each side's option, as SVR4 reports them. */
		*(int *)argp = cmd == I_GRDOPT ? sd->sd_rdopt :
		    cmd == I_GWROPT ? sd->sd_wropt :
		    ((sd->sd_erropt & RERRNONPERSIST) ? RERRNONPERSIST :
		    RERRNORM) | ((sd->sd_erropt & WERRNONPERSIST) ?
		    WERRNONPERSIST : WERRNORM);
		ust_unlock(sd->sd_lock);
		return (0);
	case I_SWROPT:
		if ((arg & ~(SNDZERO | SNDPIPE)) != 0)
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		sd->sd_wropt = (int)arg;
		ust_unlock(sd->sd_lock);
		return (0);
	case I_SETCLTIME:
		if (argp == NULL || *(int *)argp < 0)
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		sd->sd_closetime = *(int *)argp;
		ust_unlock(sd->sd_lock);
		return (0);
	case I_GETCLTIME:
		if (argp == NULL)
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		*(int *)argp = sd->sd_closetime;
		ust_unlock(sd->sd_lock);
		return (0);
	case I_SERROPT:
		if ((arg & ~(RERRNORM | RERRNONPERSIST | WERRNORM |
		    WERRNONPERSIST)) != 0)
			return (fail(EINVAL));
		ust_lock(sd->sd_lock);
		sd->sd_erropt = (int)arg & (RERRNONPERSIST | WERRNONPERSIST);
		ust_unlock(sd->sd_lock);
		return (0);
	case I_STR:
		rval = ioc_str(sd, argp);
		return (rval);
	default:
		/* Unknown STREAMS ioctls are ours to refuse; others go down. */
		if ((cmd & ~0xff) == STR)
			return (fail(EINVAL));
		return (ioc_transparent(sd, cmd, arg));
	}
}

/* The events that hold now on one stream. */
static short
poll_events(struct stdata *sd, short events)
{
	queue_t *rq = &sd->sd_head->qp_q[0];
	short rev = 0;
	mblk_t *mp;

	ust_lock(sd->sd_lock);
	qu_lock(rq);
	if ((mp = rq->q_first) != NULL) {
		/* SVR4: POLLIN for any message but a high-priority one. */
		if (mp->b_datap->db_type >= QPCTL)
			rev |= POLLPRI;
		else if (mp->b_band > 0)
			rev |= POLLIN | POLLRDBAND;
		else
			rev |= POLLIN | POLLRDNORM;
	}
	qu_unlock(rq);
	if (sd->sd_rerror != 0 || sd->sd_werror != 0)
		rev |= POLLERR;
	if (sd->sd_flag & STRHUP)
		rev |= POLLHUP;
	ust_unlock(sd->sd_lock);
	if ((events & (POLLOUT | POLLWRNORM)) && !(rev & POLLHUP) &&
	    canputnext(&sd->sd_head->qp_q[1]))
		rev |= events & (POLLOUT | POLLWRNORM);
	/* Banded data may be written: band 1's flow control lets it. */
	if ((events & POLLWRBAND) && !(rev & POLLHUP) &&
	    bcanputnext(&sd->sd_head->qp_q[1], 1))
		rev |= POLLWRBAND;
	return (rev & (events | POLLERR | POLLHUP));
}

/*
 * ustreams_poll - poll(2) on stream descriptors: POLLIN (a message that
 * is not high priority), POLLRDNORM (one of band 0), POLLRDBAND (one of
 * a band above 0), POLLPRI (a high-priority message),
 * POLLOUT/POLLWRNORM (flow control lets a write through), POLLWRBAND
 * (and one in band 1), POLLERR, POLLHUP, POLLNVAL (not a stream, or
 * one linked below a multiplexer).  An
 * entry whose fd is negative is skipped (revents 0), as poll(2) does.
 * timeout_ms: -1 waits forever, 0 does not wait.  Returns the number of
 * descriptors with events.  Base context; may block.
 */
int
ustreams_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	clock_t start, now;
	long ticks = timeout_ms < 0 ? 0 :
	    (long)drv_usectohz((clock_t)timeout_ms * 1000);

	if (fds == NULL && nfds > 0)
		return (fail(EFAULT));
	(void) drv_getparm(LBOLT, &start);
	atomic_fetch_add(&poll_nwait, 1);
	for (;;) {
		uint64_t gen = atomic_load(&poll_sv.sv_gen);
		int ready = 0;

		for (nfds_t i = 0; i < nfds; i++) {
			struct stdata *sd;

			if (fds[i].fd < 0) {
				fds[i].revents = 0;
				continue;
			}
			sd = sd_lookup(fds[i].fd);
			fds[i].revents = sd == NULL || sd_linked(sd) ?
			    POLLNVAL : poll_events(sd, fds[i].events);
			if (fds[i].revents != 0)
				ready++;
		}
		if (ready > 0 || timeout_ms == 0) {
			atomic_fetch_sub(&poll_nwait, 1);
			return (ready);
		}
		(void) drv_getparm(LBOLT, &now);
		if (timeout_ms > 0 && now - start >= ticks) {
			atomic_fetch_sub(&poll_nwait, 1);
			return (0);
		}
		ust_may_sleep("ustreams_poll", __builtin_return_address(0));
		(void) LOCK(&poll_lock, plstr);
		if (atomic_load(&poll_sv.sv_gen) == gen) {
			toid_t id = timeout_ms > 0 ?
			    timeout(stcalls_poll_timeout, NULL,
			    ticks - (now - start)) : 0;

			SV_WAIT(&poll_sv, primed, &poll_lock);
			if (id != 0)
				untimeout(id);
		} else {
			UNLOCK(&poll_lock, plstr);
		}
	}
}

/*
 * ustreams_pollfd - a file descriptor that is readable while the stream
 * has something for a reader (a message, an error, a hang-up), for an
 * application's own poll or epoll loop.  The descriptor belongs to the
 * stream: do not read or close it.  -1 with EBADF.
 */
int
ustreams_pollfd(int sdi)
{
	struct stdata *sd = sd_lookup(sdi);
	int efd, error = 0;

	if (sd == NULL)
		return (fail(EBADF));
	if (sd_linked(sd))
		return (fail(EINVAL));
	/* Made on first use: streams nobody polls pay no system calls. */
	ust_lock(sd->sd_lock);
	if (sd->sd_efd < 0) {
		if ((sd->sd_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
			error = errno;
		else
			sthead_wake(sd);	/* readable if something is there */
	}
	efd = sd->sd_efd;
	ust_unlock(sd->sd_lock);
	return (efd < 0 ? fail(error) : efd);
}

/* Streams still open at shutdown are closed, and said so. */
static int
stcalls_init(const struct ustreams_config *cfg)
{
	(void) cfg;
	return (0);
}

static void
stcalls_fini(void)
{
	int n = 0;

	/* Links first: a stream closed while linked is closed by its unlink. */
	mux_shutdown();

	for (int i = 0; i < USTREAMS_NSTREAMS; i++) {
		struct stdata *sd = sd_lookup(i);

		/* Shutting down: nothing waits for anything to drain. */
		if (sd != NULL) {
			sd_close(sd, false);
			n++;
		}
	}
	if (n > 0)
		cmn_err(CE_WARN, "ustreams_shutdown: %d stream(s) still open, "
		    "closed", n);
}

USTREAMS_SYSINIT(stcalls, SI_ORDER_STREAMS, stcalls_init, stcalls_fini);
