/*
 * The executive: what runs deferred work, and the parts both executives
 * share -- the dispatch table chosen at boot, running one event in its
 * context, the timer tree's order, the instance's random number generator,
 * and the sim executive's public controls.
 *
 * The RNG is xoshiro256** seeded from uc_seed through splitmix64, so that
 * a seed names one sequence on every machine.  rng_lock makes it safe under
 * the threads executive; under sim only one thread draws from it, and the
 * order of draws is the order of events.
 */
#include <sys/ustreams.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "context.h"
#include "exec.h"
#include "sysinit.h"

const struct ust_exec_ops *ust_exec;

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_s[4];

int
ust_event_cmp(const struct ust_event *a, const struct ust_event *b)
{
	if (a->ev_when != b->ev_when)
		return (a->ev_when < b->ev_when ? -1 : 1);
	if (a->ev_seq != b->ev_seq)
		return (a->ev_seq < b->ev_seq ? -1 : 1);
	return (0);
}

RB_GENERATE(ust_evtree, ust_event, ev_node, ust_event_cmp);

/*
 * Run one event's function in the event's context.  The executive has
 * marked it RUNNING; the caller holds no executive lock.
 */
void
ust_exec_run_event(struct ust_event *ev)
{
	enum ustreams_ctx old = ust_ctx_enter(ev->ev_ctx);

	ev->ev_func(ev->ev_arg);
	ust_ctx_leave(old);
}

uint64_t
ust_clock_monotonic_ns(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return ((x << k) | (x >> (64 - k)));
}

/*
 * ustreams_random - the next number of the instance's seeded sequence.
 * Any context; does not block.
 */
uint64_t
ustreams_random(void)
{
	uint64_t r, t;

	pthread_mutex_lock(&rng_lock);
	r = rotl(rng_s[1] * 5, 7) * 9;
	t = rng_s[1] << 17;
	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	pthread_mutex_unlock(&rng_lock);
	return (r);
}

uint64_t
ust_random(void)
{
	return (ustreams_random());
}

bool
ust_exec_is_sim(void)
{
	return (ust_exec == &ust_exec_sim_ops);
}

/*
 * ustreams_now_ns - nanoseconds since boot: virtual under sim, the
 * monotonic clock under threads.  Any context.
 */
uint64_t
ustreams_now_ns(void)
{
	return (ust_exec == NULL ? 0 : ust_exec->eo_now());
}

long
ustreams_sim_run_until(uint64_t t_ns)
{
	extern long ust_sim_run_until(uint64_t);

	if (!ust_exec_is_sim())
		return (-1);
	return (ust_sim_run_until(t_ns));
}

long
ustreams_sim_run_idle(void)
{
	long n = 0;

	if (!ust_exec_is_sim())
		return (-1);
	ASSERT(ust_cur_ctx == USTREAMS_CTX_BASE);
	while (ust_exec->eo_step())
		n++;
	return (n);
}

long
ustreams_sim_pending(void)
{
	extern long ust_sim_pending(void);

	if (!ust_exec_is_sim())
		return (-1);
	return (ust_sim_pending());
}

static int
exec_init(const struct ustreams_config *cfg)
{
	uint64_t x = cfg->uc_seed;
	int error;

	for (int i = 0; i < 4; i++)
		rng_s[i] = splitmix64(&x);
	ust_exec = cfg->uc_exec == USTREAMS_EXEC_SIM ? &ust_exec_sim_ops :
	    &ust_exec_threads_ops;
	error = ust_exec->eo_start(cfg);
	if (error != 0)
		ust_exec = NULL;
	return (error);
}

static void
exec_fini(void)
{
	ust_exec->eo_stop();
	ust_exec = NULL;
}

USTREAMS_SYSINIT(exec, SI_ORDER_EXEC, exec_init, exec_fini);
