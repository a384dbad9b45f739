/*
 * Queue pairs and the plumbing of a stream: allocating and freeing a
 * module or driver instance, push and pop.
 *
 * Push opens the new module with its own q_next pointers already set
 * (so that its open routine may putnext or qreply), then links it in
 * with two release stores: the head's write queue and the read queue below
 * now point at it.  Pop turns the module's service procedures off, makes
 * sure no put procedure of it runs (see stream_pop), closes it, passes on
 * any messages left on its queues, and unlinks it the same way, freeing
 * it after a grace period, so that popping a module from a stream with
 * traffic loses nothing.  Both run under the stream's sd_plumb lock;
 * the put path takes no lock of the stream's.
 */
#include <sys/stream.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/kmem.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "sthead.h"

extern void sched_init_queue(queue_t *q);
extern void queue_free_bands(queue_t *q);

static void
queue_init(struct qpair *qp, int side, struct qinit *qi)
{
	queue_t *q = &qp->qp_q[side];
	struct module_info *mi = qi->qi_minfo;

	q->q_qinfo = qi;
	q->q_flag = QUSE | QWANTR | (side == 0 ? QREADR : 0);
	q->q_uread = side == 0;
	q->q_minpsz = mi->mi_minpsz;
	q->q_maxpsz = mi->mi_maxpsz;
	q->q_hiwat = mi->mi_hiwat;
	q->q_lowat = mi->mi_lowat;
	q->q_upriv = &qp->qp_u[side];
	qp->qp_u[side].qu_pair = qp;
	kmutex_init(&qp->qp_u[side].qu_lock);
	sched_init_queue(q);
}

/*
 * A queue pair for an instance of sw (NULL: the stream head) on stream
 * sd.  NULL when memory is short.
 */
struct qpair *
qpair_alloc(struct modsw *sw, struct stdata *sd)
{
	struct streamtab *tab = sw != NULL ? sw->ms_tab : &sthead_info;
	struct qpair *qp = kmem_zalloc(sizeof (*qp), KM_NOSLEEP);

	if (qp == NULL)
		return (NULL);
	queue_init(qp, 0, tab->st_rdinit);
	queue_init(qp, 1, tab->st_wrinit);
	kmutex_init(&qp->qp_perim.pm_lock);
	qp->qp_sw = sw;
	qp->qp_sd = sd;
	qp->qp_mtsafe = sw != NULL && (sw->ms_flags & USTREAMS_MTSAFE);
	return (qp);
}

void
qpair_free(struct qpair *qp)
{
	for (int i = 0; i < 2; i++) {
		queue_t *q = &qp->qp_q[i];

		flushq(q, FLUSHALL);
		queue_free_bands(q);
		kmutex_destroy(&qp->qp_u[i].qu_lock);
	}
	kmutex_destroy(&qp->qp_perim.pm_lock);
	kmem_free(qp, sizeof (*qp));
}

static cred_t stream_cred;

/*
 * Push module sw below the stream head.  0 or an errno: ENOMEM, or the
 * error the module's open routine returned.  sd_plumb held.
 */
int
stream_push(struct stdata *sd, struct modsw *sw)
{
	struct qpair *head = sd->sd_head, *qp;
	queue_t *below_w = q_next_load(&head->qp_q[1]);
	queue_t *below_r = Q_OTHER(below_w);
	dev_t dev = sd->sd_dev;
	int error;

	if ((qp = qpair_alloc(sw, sd)) == NULL)
		return (ENOMEM);
	qp->qp_dev = dev;
	q_next_store(&qp->qp_q[1], below_w);
	q_next_store(&qp->qp_q[0], &head->qp_q[0]);
	error = qp->qp_q[0].q_qinfo->qi_qopen(&qp->qp_q[0], &dev, sd->sd_oflag,
	    MODOPEN, &stream_cred);
	if (error != 0) {
		qpair_free(qp);
		return (error);
	}
	qprocson(&qp->qp_q[0]);
	stream_relink_enter(sd);
	q_next_store(below_r, &qp->qp_q[0]);
	q_next_store(&head->qp_q[1], &qp->qp_q[1]);
	stream_relink_exit(sd);
	sd->sd_pushcnt++;
	return (0);
}

/* Pass on what is left on a closing instance's queues. */
static void
pass_on(queue_t *q)
{
	mblk_t *mp;

	while ((mp = getq(q)) != NULL)
		putnext(q, mp);
}

/*
 * Close the driver at the end of a stream's life: procedures off, close
 * routine, memory freed (what it still queues is freed).  It is already
 * unlinked and a grace period has passed.
 */
static void
driver_close(struct stdata *sd, struct qpair *qp)
{
	qprocsoff(&qp->qp_q[0]);
	if (qp->qp_q[0].q_qinfo->qi_qclose != NULL)
		(void) qp->qp_q[0].q_qinfo->qi_qclose(&qp->qp_q[0],
		    sd->sd_oflag, &stream_cred);
	if (qp->qp_sw != NULL)
		modsw_rele(qp->qp_sw);
	qpair_free(qp);
}

/* A popped module's close, and what is left on its queues passed on. */
static void
pop_close(struct stdata *sd, struct qpair *qp)
{
	if (qp->qp_q[0].q_qinfo->qi_qclose != NULL)
		(void) qp->qp_q[0].q_qinfo->qi_qclose(&qp->qp_q[0],
		    sd->sd_oflag, &stream_cred);
	pass_on(&qp->qp_q[1]);
	pass_on(&qp->qp_q[0]);
}

/*
 * Pop the module just below the stream head.  0, or EINVAL when no module
 * is pushed.  sd_plumb held.
 *
 * Order matters under traffic: a message that reached the module before
 * the pop -- on one of its queues, or left in its perimeter for the
 * thread inside -- must not be overtaken by one that bypasses the module
 * once it is unlinked.  So the module is emptied while still linked:
 * service procedures off, the perimeter taken (no put procedure runs),
 * the module switched to forwarding (every put from now on, including
 * the ones deferred in its perimeter, passes the message on in order),
 * closed, its queues passed on, its perimeter left; from then on a put
 * into it passes the message on at once, on the caller's thread, never
 * waiting in the perimeter behind another; only then is it unlinked, and
 * freed after a grace period.
 *
 * An MT-safe module has no perimeter to wait in, and concurrent puts into
 * it are not ordered anyway; but its close must not run while a put
 * procedure that entered before the switch still runs (qprocsoff's
 * promise: single-threaded from here).  So it is switched to forwarding,
 * unlinked, and closed and emptied only after the grace period, when
 * every put procedure that entered through a put or putnext has returned.
 */
int
stream_pop(struct stdata *sd)
{
	struct qpair *head = sd->sd_head;
	queue_t *mw = q_next_load(&head->qp_q[1]);
	struct qpair *qp = QPAIR(mw);
	queue_t *below_w;

	if (qp == sd->sd_drv || sd->sd_pushcnt == 0)
		return (EINVAL);
	qprocsoff(&qp->qp_q[0]);
	if (!qp->qp_mtsafe)
		perim_enter_wait(qp);
	atomic_store_explicit(&qp->qp_forward, true, memory_order_release);
	if (!qp->qp_mtsafe) {
		pop_close(sd, qp);
		perim_exit(qp);
	}

	below_w = q_next_load(mw);
	stream_relink_enter(sd);
	q_next_store(&head->qp_q[1], below_w);
	q_next_store(Q_OTHER(below_w), &head->qp_q[0]);
	stream_relink_exit(sd);
	str_synchronize_rcu();
	if (qp->qp_mtsafe)
		pop_close(sd, qp);
	if (qp->qp_sw != NULL)
		modsw_rele(qp->qp_sw);
	qpair_free(qp);
	sd->sd_pushcnt--;
	return (0);
}

/*
 * Take a stream apart at close: pop every module, then close the driver.
 * sd_plumb held.
 */
void
stream_unplumb(struct stdata *sd)
{
	while (stream_pop(sd) == 0)
		;
	/* Nothing should reach the driver from above now. */
	stream_relink_enter(sd);
	q_next_store(&sd->sd_head->qp_q[1], NULL);
	q_next_store(&sd->sd_drv->qp_q[0], NULL);
	stream_relink_exit(sd);
	str_synchronize_rcu();
	driver_close(sd, sd->sd_drv);
	qprocsoff(&sd->sd_head->qp_q[0]);
}
