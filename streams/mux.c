/*
 * Multiplexing: I_LINK, I_PLINK, I_UNLINK, I_PUNLINK.
 *
 * A multiplexing driver (one whose streamtab has st_muxrinit and
 * st_muxwinit) has streams linked below it: an application opens the mux
 * (the upper stream, which becomes the controlling stream) and another
 * stream (the lower one), and links the lower below the upper with
 * I_LINK, or I_PLINK for a persistent link, which outlives the controlling
 * stream.  The ioctl returns the link's identifier, the mux id.  From then
 * on the lower stream's stream head queue pair belongs to the mux: its
 * qinit is the mux's lower one, so that what the lower driver sends up
 * reaches the mux's lower read put procedure, and the mux sends messages
 * down the lower stream by putnext from its lower write queue.  The
 * application may not use the lower stream itself (EINVAL) until it is
 * unlinked, and may close its descriptor: the stream then lives on until
 * the unlink, which closes it.
 *
 * Principles of operation.  Link: the lower stream head's procedures are
 * turned off, its perimeter taken (no put procedure of it runs), its
 * qinit, water marks and packet sizes become the mux's lower ones and
 * q_ptr NULL, and the procedures go on again.  Then an M_IOCTL for the
 * command, with a struct linkblk, goes down the upper stream to the mux
 * (an I_STR round trip), which records the link -- typically in
 * l_qbot's q_ptr -- and acknowledges it.  A refusal switches the lower
 * stream head back.  Unlink is the same the other way: the M_IOCTL first,
 * then the switch back.  So the mux's lower put procedure may run with
 * q_ptr still NULL, between the switch and its I_LINK: it must check.
 *
 * The mux's lower queue pair keeps the stream head pair's perimeter: its
 * put and service procedures run one at a time, whatever the mux
 * declares.  State the mux shares between its upper and lower queue
 * pairs needs its own locks.
 *
 * Closing the controlling stream unlinks its links (not the persistent
 * ones) before it is taken apart; the mux's answer cannot keep a link
 * then.  At shutdown every link goes, the persistent ones too, through
 * any stream still open on the same mux driver or, with none, without a
 * word to the mux.
 *
 * Cycles: a stream cannot be linked below a mux whose driver it reaches
 * by links -- below itself -- nor below itself, nor twice.
 *
 * Locking: mux_lock protects the link list, and a lower stream's
 * sd_lclosed; sd_linked changes under it, and the stream head's calls
 * read it with an atomic load to refuse a linked stream.  It is not held
 * across the
 * M_IOCTL round trips, which sleep; a link being made or undone is marked
 * busy (ml_busy) so that no other call takes it meanwhile.  Order:
 * mux_lock, then a stream's sd_plumb, sd_lock.
 */
#include <sys/stream.h>
#include <sys/stropts.h>
#include <sys/cmn_err.h>
#include <sys/ddi.h>
#include <sys/debug.h>
#include <sys/kmem.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/queue.h>

#include "sthead.h"

/*
 * One link.  ml_upper is the controlling stream (NULL once it has closed,
 * for a persistent link); ml_muxsw the mux driver, for I_PUNLINK from any
 * stream of it.  Under mux_lock.
 */
struct muxlink {
	LIST_ENTRY(muxlink) ml_link;
	int		ml_id;
	bool		ml_persistent;
	bool		ml_busy;	/* being linked or unlinked */
	struct stdata	*ml_upper;
	struct modsw	*ml_muxsw;
	struct stdata	*ml_lower;
	queue_t		*ml_qtop;
};

static pthread_mutex_t mux_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mux_cv = PTHREAD_COND_INITIALIZER;	/* ml_busy */
static LIST_HEAD(, muxlink) mux_links = LIST_HEAD_INITIALIZER(mux_links);
static int mux_lastid;

/*
 * Give the lower stream's head queue pair the qinits rinit and winit:
 * the mux's lower ones, or the stream head's own.  No procedure of it
 * runs meanwhile.  sd_plumb held.
 */
static void
head_switch(struct stdata *sd, struct qinit *rinit, struct qinit *winit)
{
	struct qpair *qp = sd->sd_head;

	qprocsoff(&qp->qp_q[0]);
	perim_enter_wait(qp);
	for (int side = 0; side < 2; side++) {
		queue_t *q = &qp->qp_q[side];
		struct qinit *qi = side == 0 ? rinit : winit;
		struct module_info *mi = qi->qi_minfo;

		qu_lock(q);
		q->q_hiwat = mi->mi_hiwat;
		q->q_lowat = mi->mi_lowat;
		q->q_minpsz = mi->mi_minpsz;
		q->q_maxpsz = mi->mi_maxpsz;
		q->q_ptr = NULL;
		q_qinfo_store(q, qi);
		qu_unlock(q);
	}
	perim_exit(qp);
	qprocson(&qp->qp_q[0]);
	/* What waits on the read queue is the new owner's to take. */
	if (qp->qp_q[0].q_first != NULL)
		qenable(&qp->qp_q[0]);
}

/* Does a link lead from streams of driver from down to driver target? */
static bool
mux_reaches(struct modsw *from, struct modsw *target, int depth)
{
	struct muxlink *ml;

	if (depth > USTREAMS_NSTREAMS)
		return (true);			/* a cycle already: refuse */
	LIST_FOREACH(ml, &mux_links, ml_link) {
		struct modsw *below = ml->ml_lower->sd_drv->qp_sw;

		if (ml->ml_muxsw != from)
			continue;
		if (below == target || mux_reaches(below, target, depth + 1))
			return (true);
	}
	return (false);
}

/* The M_IOCTL of cmd for ml, down its mux's stream sd. */
static int
mux_ioctl(struct stdata *sd, int cmd, struct muxlink *ml)
{
	struct linkblk lb = { ml->ml_qtop, &ml->ml_lower->sd_head->qp_q[1],
	    ml->ml_id };
	struct strioctl sio = { cmd, 0, sizeof (lb), (char *)&lb };

	return (sthead_strioctl(sd, &sio) < 0 ? errno : 0);
}

/* sd_flag & bits, under sd_lock. */
static bool
sd_flagged(struct stdata *sd, uint_t bits)
{
	bool set;

	ust_lock(sd->sd_lock);
	set = (sd->sd_flag & bits) != 0;
	ust_unlock(sd->sd_lock);
	return (set);
}

static void
sd_setlinked(struct stdata *sd, bool linked)
{
	atomic_store_explicit(&sd->sd_linked, linked, memory_order_release);
}

static bool
sd_islinked(struct stdata *sd)
{
	return (atomic_load_explicit(&sd->sd_linked, memory_order_acquire));
}

/*
 * I_LINK, I_PLINK: link the stream lowersd below upper, whose driver must
 * be a mux.  Returns the mux id, or -1 with errno: EBADF (no such
 * stream), EINVAL (not a mux, the same stream, already linked, a cycle,
 * or the lower stream closing), ENXIO (upper hung up), ENOMEM, or the
 * mux's refusal.
 */
int
mux_link(struct stdata *upper, int lowersd, bool persistent)
{
	struct modsw *muxsw = upper->sd_drv->qp_sw;
	struct streamtab *tab = muxsw->ms_tab;
	struct stdata *lower = sd_lookup(lowersd);
	struct muxlink *ml;
	int error;

	if (lower == NULL) {
		errno = EBADF;
		return (-1);
	}
	if (tab->st_muxrinit == NULL || tab->st_muxwinit == NULL ||
	    lower == upper) {
		errno = EINVAL;
		return (-1);
	}
	if (sd_flagged(upper, STRHUP)) {
		errno = ENXIO;
		return (-1);
	}
	if ((ml = kmem_zalloc(sizeof (*ml), KM_SLEEP)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	pthread_mutex_lock(&mux_lock);
	if (sd_islinked(lower) || sd_flagged(lower, STRCLOSING) ||
	    lower->sd_drv->qp_sw == muxsw ||
	    mux_reaches(lower->sd_drv->qp_sw, muxsw, 0)) {
		pthread_mutex_unlock(&mux_lock);
		kmem_free(ml, sizeof (*ml));
		errno = EINVAL;
		return (-1);
	}
	ml->ml_id = ++mux_lastid;
	ml->ml_persistent = persistent;
	ml->ml_busy = true;
	ml->ml_upper = upper;
	ml->ml_muxsw = muxsw;
	ml->ml_lower = lower;
	ml->ml_qtop = &upper->sd_drv->qp_q[1];
	LIST_INSERT_HEAD(&mux_links, ml, ml_link);
	sd_setlinked(lower, true);
	pthread_mutex_unlock(&mux_lock);

	pthread_mutex_lock(&lower->sd_plumb);
	head_switch(lower, tab->st_muxrinit, tab->st_muxwinit);
	pthread_mutex_unlock(&lower->sd_plumb);
	error = mux_ioctl(upper, persistent ? I_PLINK : I_LINK, ml);
	if (error != 0) {
		pthread_mutex_lock(&lower->sd_plumb);
		head_switch(lower, sthead_info.st_rdinit,
		    sthead_info.st_wrinit);
		pthread_mutex_unlock(&lower->sd_plumb);
	}

	pthread_mutex_lock(&mux_lock);
	ml->ml_busy = false;
	if (error != 0) {
		LIST_REMOVE(ml, ml_link);
		sd_setlinked(lower, false);
	}
	pthread_cond_broadcast(&mux_cv);
	pthread_mutex_unlock(&mux_lock);
	if (error != 0) {
		kmem_free(ml, sizeof (*ml));
		errno = error;
		return (-1);
	}
	return (ml->ml_id);
}

/*
 * Undo ml, which the caller has marked busy: tell the mux through sd
 * (NULL: nobody to tell), switch the lower stream head back and, if its
 * descriptor was closed, close it.  With force, the mux's refusal does
 * not keep the link.  0, or the mux's refusal.
 */
static int
mux_undo(struct muxlink *ml, struct stdata *sd, bool force)
{
	struct stdata *lower = ml->ml_lower;
	bool closed;
	int error = 0;

	if (sd != NULL)
		error = mux_ioctl(sd, ml->ml_persistent ? I_PUNLINK :
		    I_UNLINK, ml);
	if (error != 0 && !force) {
		pthread_mutex_lock(&mux_lock);
		ml->ml_busy = false;
		pthread_cond_broadcast(&mux_cv);
		pthread_mutex_unlock(&mux_lock);
		return (error);
	}
	pthread_mutex_lock(&lower->sd_plumb);
	head_switch(lower, sthead_info.st_rdinit, sthead_info.st_wrinit);
	pthread_mutex_unlock(&lower->sd_plumb);

	pthread_mutex_lock(&mux_lock);
	LIST_REMOVE(ml, ml_link);
	closed = lower->sd_lclosed;
	lower->sd_lclosed = false;
	sd_setlinked(lower, false);
	pthread_cond_broadcast(&mux_cv);
	pthread_mutex_unlock(&mux_lock);
	kmem_free(ml, sizeof (*ml));
	if (closed)
		sthead_close(lower);
	return (0);
}

/*
 * The next link that matches, marked busy for the caller; NULL when none
 * is left.  Waits for one that another call has busy.  mux_lock held.
 */
static struct muxlink *
mux_take(struct stdata *upper, struct modsw *muxsw, int muxid,
    bool persistent, bool any_kind)
{
	struct muxlink *ml;

again:
	LIST_FOREACH(ml, &mux_links, ml_link) {
		if (muxid != MUXID_ALL && ml->ml_id != muxid)
			continue;
		if (!any_kind && ml->ml_persistent != persistent)
			continue;
		if (persistent ? ml->ml_muxsw != muxsw : ml->ml_upper != upper)
			continue;
		if (ml->ml_busy) {
			pthread_cond_wait(&mux_cv, &mux_lock);
			goto again;
		}
		ml->ml_busy = true;
		return (ml);
	}
	return (NULL);
}

/*
 * I_UNLINK, I_PUNLINK: undo the link muxid (MUXID_ALL: every one) made
 * through upper (I_UNLINK) or on upper's mux driver (I_PUNLINK).  0, or
 * -1 with errno: EINVAL (no such link), or the mux's refusal (the link
 * stays).
 */
int
mux_unlink(struct stdata *upper, int muxid, bool persistent)
{
	struct modsw *muxsw = upper->sd_drv->qp_sw;
	struct muxlink *ml;
	int error = 0, n = 0;

	if (muxid <= 0 && muxid != MUXID_ALL) {
		errno = EINVAL;
		return (-1);
	}
	for (;;) {
		pthread_mutex_lock(&mux_lock);
		ml = mux_take(upper, muxsw, muxid, persistent, false);
		pthread_mutex_unlock(&mux_lock);
		if (ml == NULL)
			break;
		n++;
		if ((error = mux_undo(ml, upper, false)) != 0 ||
		    muxid != MUXID_ALL)
			break;
	}
	if (error == 0 && n == 0 && muxid != MUXID_ALL)
		error = EINVAL;
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

/*
 * The controlling stream upper is closing: its links go (the mux is told;
 * its refusal does not keep them), and its persistent links lose it.
 */
void
mux_close_upper(struct stdata *upper)
{
	struct muxlink *ml;

	for (;;) {
		pthread_mutex_lock(&mux_lock);
		ml = mux_take(upper, NULL, MUXID_ALL, false, false);
		pthread_mutex_unlock(&mux_lock);
		if (ml == NULL)
			break;
		(void) mux_undo(ml, upper, true);
	}
	pthread_mutex_lock(&mux_lock);
	LIST_FOREACH(ml, &mux_links, ml_link) {
		if (ml->ml_upper == upper)
			ml->ml_upper = NULL;
	}
	pthread_mutex_unlock(&mux_lock);
}

/*
 * ustreams_close of lower: while it is linked, its descriptor goes but
 * the stream stays, for the unlink to close (true).  false: not linked,
 * close it now.
 */
bool
mux_close_lower(struct stdata *lower)
{
	bool linked;

	pthread_mutex_lock(&mux_lock);
	linked = sd_islinked(lower);
	if (linked)
		lower->sd_lclosed = true;
	pthread_mutex_unlock(&mux_lock);
	return (linked);
}

/*
 * Shutdown: every link goes, upper streams first.  A link is undone
 * through its controlling stream, or another stream of its mux driver, if
 * one is open; else without a word to the mux, whose streams are gone.
 */
void
mux_shutdown(void)
{
	struct muxlink *ml;

	for (;;) {
		struct stdata *via = NULL;

		pthread_mutex_lock(&mux_lock);
		if ((ml = LIST_FIRST(&mux_links)) != NULL) {
			/* Nothing else runs now: no link is busy. */
			ASSERT(!ml->ml_busy);
			ml->ml_busy = true;
			via = ml->ml_upper;
			for (int i = 0; via == NULL && i < USTREAMS_NSTREAMS;
			    i++) {
				struct stdata *sd = sd_lookup(i);

				if (sd != NULL && sd->sd_drv->qp_sw ==
				    ml->ml_muxsw && !sd_islinked(sd))
					via = sd;
			}
		}
		pthread_mutex_unlock(&mux_lock);
		if (ml == NULL)
			break;
		(void) mux_undo(ml, via, true);
	}
}
