/*
 * The sim executive: one thread, a virtual clock, events in a total order.
 *
 * Principles of operation.  Every event -- service work, a timeout, a
 * device interrupt, a device model's next step -- goes into one tree ordered
 * by (due time, post sequence).  Nothing runs until the application asks
 * (ustreams_sim_run_until, ustreams_sim_run_idle) or a base-context caller
 * sleeps (SV_WAIT, KM_SLEEP), which runs events until it is woken.  Running
 * an event first moves the virtual clock to its due time; the clock never
 * goes back.  drv_usecwait moves the clock forward by the wait, as a busy
 * CPU would spend it.
 *
 * Because the order is total and the RNG is seeded, the same seed and the
 * same calls give the same run, event for event, on every machine.
 *
 * All of this runs on the application's thread: the sim executive has no
 * lock, and calling into an instance running it from a second thread is a
 * programming error (a debug build catches it).
 */
#include <sys/ustreams.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#include <pthread.h>

#include "context.h"
#include "exec.h"

static struct {
	struct ust_evtree s_tree;	/* pending events */
	uint64_t	s_now;		/* virtual ns since boot */
	uint64_t	s_seq;		/* post counter */
	long		s_pending;	/* events in s_tree */
	pthread_t	s_owner;	/* the one thread allowed in */
} sim;

#define	SIM_OWNER_CHECK() \
	ASSERT(pthread_equal(sim.s_owner, pthread_self()))

static int
sim_start(const struct ustreams_config *cfg)
{
	(void) cfg;
	RB_INIT(&sim.s_tree);
	sim.s_now = 0;
	sim.s_seq = 0;
	sim.s_pending = 0;
	sim.s_owner = pthread_self();
	return (0);
}

static void
sim_stop(void)
{
	struct ust_event *ev, *next;

	RB_FOREACH_SAFE(ev, ust_evtree, &sim.s_tree, next) {
		RB_REMOVE(ust_evtree, &sim.s_tree, ev);
		ev->ev_state = EV_IDLE;
	}
	sim.s_pending = 0;
}

static void
sim_insert(struct ust_event *ev, uint64_t when)
{
	ev->ev_when = when > sim.s_now ? when : sim.s_now;
	ev->ev_seq = ++sim.s_seq;
	ev->ev_state = EV_PENDING;
	ev->ev_queue = NULL;
	RB_INSERT(ust_evtree, &sim.s_tree, ev);
	sim.s_pending++;
}

static bool
sim_post(struct ust_event *ev, uint64_t when)
{
	SIM_OWNER_CHECK();
	switch (ev->ev_state) {
	case EV_PENDING:
		return (false);
	case EV_RUNNING:
		ev->ev_again = true;
		ev->ev_when = when;
		return (true);
	default:
		sim_insert(ev, when);
		return (true);
	}
}

static bool
sim_cancel(struct ust_event *ev)
{
	SIM_OWNER_CHECK();
	switch (ev->ev_state) {
	case EV_PENDING:
		RB_REMOVE(ust_evtree, &sim.s_tree, ev);
		sim.s_pending--;
		ev->ev_state = EV_IDLE;
		return (true);
	case EV_RUNNING:
		/* Only the handler itself can be here: one thread. */
		ev->ev_again = false;
		return (false);
	default:
		return (false);
	}
}

/*
 * Run the earliest event, whatever its due time.  False when none is left.
 */
static bool
sim_step(void)
{
	struct ust_event *ev = RB_MIN(ust_evtree, &sim.s_tree);
	void (*done)(struct ust_event *);

	SIM_OWNER_CHECK();
	if (ev == NULL)
		return (false);
	RB_REMOVE(ust_evtree, &sim.s_tree, ev);
	sim.s_pending--;
	if (ev->ev_when > sim.s_now)
		sim.s_now = ev->ev_when;
	ev->ev_state = EV_RUNNING;
	ev->ev_runner = pthread_self();
	ev->ev_again = false;
	ust_exec_run_event(ev);
	done = ev->ev_done;
	ev->ev_state = EV_IDLE;
	if (ev->ev_again) {
		ev->ev_again = false;
		sim_insert(ev, ev->ev_when);
	}
	if (done != NULL)
		done(ev);
	return (true);
}

long
ust_sim_run_until(uint64_t t)
{
	struct ust_event *ev;
	long n = 0;

	ASSERT(ust_cur_ctx == USTREAMS_CTX_BASE);
	while ((ev = RB_MIN(ust_evtree, &sim.s_tree)) != NULL &&
	    ev->ev_when <= t) {
		(void) sim_step();
		n++;
	}
	if (sim.s_now < t)
		sim.s_now = t;
	return (n);
}

long
ust_sim_pending(void)
{
	return (sim.s_pending);
}

static uint64_t
sim_now(void)
{
	return (sim.s_now);
}

static void
sim_delay(uint64_t ns)
{
	sim.s_now = ns > UINT64_MAX - sim.s_now ? UINT64_MAX : sim.s_now + ns;
}

static int
sim_intr_attach(struct ust_intr *in)
{
	in->in_impl = NULL;
	return (0);
}

static void
sim_intr_detach(struct ust_intr *in)
{
	(void) in;
}

const struct ust_exec_ops ust_exec_sim_ops = {
	.eo_name = "sim",
	.eo_start = sim_start,
	.eo_stop = sim_stop,
	.eo_post = sim_post,
	.eo_cancel = sim_cancel,
	.eo_now = sim_now,
	.eo_delay = sim_delay,
	.eo_intr_attach = sim_intr_attach,
	.eo_intr_detach = sim_intr_detach,
	.eo_step = sim_step,
};
