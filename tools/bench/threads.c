/*
 * Two threads: scaling, and a producer/consumer pipeline.
 *
 * Scaling.  One thread, then two, each run the allocator's single loop
 * (allocate and free its own blocks) n times.  The figure is the time per
 * operation of the whole: a run's wall time, from the earlier start to the
 * later end, over the operations of all its threads.  NAME.scaling is the
 * one-thread figure over the two-thread one: 2.0 is perfect scaling on two
 * CPUs, 1.0 none at all.
 *
 * Pipeline.  A producer thread allocates n blocks and hands each to a
 * consumer thread through a bounded lock-free ring (spsc.h) of BENCH_RING
 * pointers; the consumer frees them.  The figure is wall time per block,
 * to set beside one thread's allocation+free: memory allocated on one
 * CPU and freed on another is what a STREAMS stack does all day.
 *
 * How.  Two threads go through a list of rounds together, each round
 * started at a barrier; a round names the allocator, n, and each thread's
 * job (which may be to sit it out).  The allocators of one program are
 * measured in one list, their rounds alternating -- for scaling, a
 * one-thread round and a two-thread round per allocator in turn -- so
 * that whatever the machine does meanwhile falls on all of them alike.
 * n is calibrated per allocator by a trial round so that a round lasts
 * about bench_rep_ms; the first rounds, one per allocator, are warm-ups.
 *
 * Each thread binds itself to a CPU of its own among those the process
 * may use (sched_setaffinity on the calling thread, which needs no
 * privilege): left to the scheduler, two busy threads sometimes share one
 * CPU for a whole run, and the figure then measures the scheduler.  With
 * fewer than two CPUs nothing is bound.
 */
#include "bench.h"
#include "spsc.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define	NTHREADS	2
#define	ROUNDS_MAX	(BENCH_SET_MAX * 2 * 104)

enum team_job { JOB_IDLE, JOB_SINGLE, JOB_PRODUCE, JOB_CONSUME };

struct round {
	const struct bench_alloc *r_ba;
	long		r_n;		/* operations per working thread */
	enum team_job	r_job[NTHREADS];
	uint64_t	r_start[NTHREADS];
	uint64_t	r_end[NTHREADS];
};

struct team {
	struct round	*tm_round;
	int		tm_nrounds;
	const struct bench_alloc *const *tm_ba;	/* every allocator used */
	int		tm_nba;
	size_t		tm_size;
	struct spsc	*tm_ring;	/* pipeline only */
	pthread_barrier_t tm_bar;
	_Atomic int	tm_fail;
};

struct member {
	struct team	*mb_team;
	int		mb_index;
	int		mb_cpu;		/* CPU to bind to, or -1 */
};

/* The i-th CPU this process may run on; -1 when it has fewer than two. */
int
bench_nth_cpu(int i)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof (set), &set) != 0 ||
	    CPU_COUNT(&set) < NTHREADS)
		return (-1);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &set) && i-- == 0)
			return (c);
	}
	return (-1);
}

/* Bind the calling thread to one CPU (nothing when cpu < 0). */
void
bench_bind_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void) pthread_setaffinity_np(pthread_self(), sizeof (set), &set);
}

static int
do_job(struct team *tm, struct round *r, enum team_job job)
{
	switch (job) {
	case JOB_SINGLE:
		return (r->r_ba->ba_single(tm->tm_size, r->r_n));
	case JOB_PRODUCE:
		return (r->r_ba->ba_produce(tm->tm_ring, tm->tm_size,
		    r->r_n));
	case JOB_CONSUME:
		return (r->r_ba->ba_consume(tm->tm_ring, r->r_n));
	default:
		return (0);
	}
}

static void *
member_main(void *arg)
{
	struct member *mb = arg;
	struct team *tm = mb->mb_team;
	int i = mb->mb_index;

	bench_bind_self(mb->mb_cpu);
	for (int a = 0; a < tm->tm_nba; a++) {
		if (tm->tm_ba[a]->ba_thread_init != NULL &&
		    tm->tm_ba[a]->ba_thread_init() != 0)
			tm->tm_fail = 1;
	}
	for (int k = 0; k < tm->tm_nrounds; k++) {
		struct round *r = &tm->tm_round[k];
		enum team_job job = tm->tm_fail ? JOB_IDLE : r->r_job[i];

		(void) pthread_barrier_wait(&tm->tm_bar);
		r->r_start[i] = bench_now_ns();
		if (do_job(tm, r, job) != 0)
			tm->tm_fail = 1;
		r->r_end[i] = bench_now_ns();
	}
	for (int a = 0; a < tm->tm_nba; a++) {
		if (tm->tm_ba[a]->ba_thread_fini != NULL)
			tm->tm_ba[a]->ba_thread_fini();
	}
	return (NULL);
}

/* Run the team's rounds; false when something failed. */
static bool
team_run(struct team *tm)
{
	struct member mb[NTHREADS];
	pthread_t tid[NTHREADS];

	tm->tm_fail = 0;
	(void) pthread_barrier_init(&tm->tm_bar, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		mb[i] = (struct member){ tm, i, bench_nth_cpu(i) };
		if (pthread_create(&tid[i], NULL, member_main, &mb[i]) != 0) {
			/* Cannot happen where these run; do not hang. */
			fprintf(stderr, "bench: cannot create threads\n");
			exit(1);
		}
	}
	for (int i = 0; i < NTHREADS; i++)
		(void) pthread_join(tid[i], NULL);
	(void) pthread_barrier_destroy(&tm->tm_bar);
	return (!tm->tm_fail);
}

/* Wall time of a round: from the earlier start to the later end. */
static double
round_ns(const struct round *r)
{
	uint64_t s = 0, e = 0;

	for (int i = 0; i < NTHREADS; i++) {
		if (r->r_job[i] == JOB_IDLE)
			continue;
		if (s == 0 || r->r_start[i] < s)
			s = r->r_start[i];
		if (r->r_end[i] > e)
			e = r->r_end[i];
	}
	return ((double)(e - s));
}

static struct round *
add_round(struct team *tm, const struct bench_alloc *ba, long n,
    enum team_job j0, enum team_job j1)
{
	struct round *r = &tm->tm_round[tm->tm_nrounds++];

	*r = (struct round){ .r_ba = ba, .r_n = n, .r_job = { j0, j1 } };
	return (r);
}

/*
 * n for each allocator, so that a round of the jobs given lasts about
 * bench_rep_ms: a trial round of each, at a tenth of that by the
 * single-thread figure (or of a guess), scaled.  0 when it failed.
 */
static void
calibrate_rounds(struct team *tm, enum team_job j0, enum team_job j1,
    const double *single_ns, long *n)
{
	double target = bench_rep_ms * 1e6;

	tm->tm_nrounds = 0;
	for (int a = 0; a < tm->tm_nba; a++) {
		double ns = isnan(single_ns[a]) || single_ns[a] <= 0 ? 100 :
		    single_ns[a];
		long n0 = (long)(target / 10 / ns);

		(void) add_round(tm, tm->tm_ba[a], n0 < 100 ? 100 : n0, j0, j1);
	}
	if (!team_run(tm)) {
		for (int a = 0; a < tm->tm_nba; a++)
			n[a] = 0;
		return;
	}
	for (int a = 0; a < tm->tm_nba; a++) {
		struct round *r = &tm->tm_round[a];
		double t = round_ns(r);

		n[a] = (long)((double)r->r_n * target / (t > 0 ? t : 1));
		if (n[a] < 100)
			n[a] = 100;
	}
}

static struct team *
team_new(const struct bench_alloc *const *ba, int nba, size_t size)
{
	struct team *tm = calloc(1, sizeof (*tm));

	if (tm == NULL)
		return (NULL);
	if ((tm->tm_round = calloc(ROUNDS_MAX, sizeof (struct round))) ==
	    NULL) {
		free(tm);
		return (NULL);
	}
	tm->tm_ba = ba;
	tm->tm_nba = nba;
	tm->tm_size = size;
	return (tm);
}

static void
team_free(struct team *tm)
{
	free(tm->tm_round);
	free(tm);
}

static void
emit3(const char *what, const struct bench_alloc *ba, size_t size,
    const struct fig *f)
{
	char key[64];

	(void) snprintf(key, sizeof (key), "%s.%s.%zu", ba->ba_name, what,
	    size);
	bench_emit(key, f);
}

/*
 * Scaling.  Per allocator, one-thread and two-thread rounds alternate;
 * the scaling figure is the median of the pairs' ratios.
 */
void
bench_scaling(const struct bench_alloc *const *ba, int nba, size_t size,
    const double *single_ns)
{
	static double v1[BENCH_SET_MAX][104], v2[BENCH_SET_MAX][104];
	static double vr[BENCH_SET_MAX][104];
	int reps = bench_reps > 103 ? 103 : bench_reps;
	struct team *tm = team_new(ba, nba, size);
	long n[BENCH_SET_MAX];
	bool ok;

	if (tm == NULL)
		return;
	calibrate_rounds(tm, JOB_SINGLE, JOB_IDLE, single_ns, n);
	tm->tm_nrounds = 0;
	for (int i = 0; i <= reps; i++) {
		for (int a = 0; a < nba; a++) {
			(void) add_round(tm, ba[a], n[a], JOB_SINGLE,
			    JOB_IDLE);
			(void) add_round(tm, ba[a], n[a], JOB_SINGLE,
			    JOB_SINGLE);
		}
	}
	ok = n[0] > 0 && team_run(tm);
	for (int a = 0; a < nba; a++) {
		struct fig f1 = { NAN, NAN, NAN }, f2 = f1, fr = f1;

		/* Round pair (i, a) is rounds 2 * (i * nba + a) and next. */
		for (int i = 1; ok && i <= reps; i++) {
			struct round *r = &tm->tm_round[2 * (i * nba + a)];

			v1[a][i - 1] = round_ns(&r[0]) / (double)n[a];
			v2[a][i - 1] = round_ns(&r[1]) / (2.0 * (double)n[a]);
			vr[a][i - 1] = v1[a][i - 1] / v2[a][i - 1];
		}
		if (ok) {
			f1 = bench_fig_of(v1[a], reps);
			f2 = bench_fig_of(v2[a], reps);
			fr = bench_fig_of(vr[a], reps);
		}
		emit3("threads1", ba[a], size, &f1);
		emit3("threads2", ba[a], size, &f2);
		emit3("scaling", ba[a], size, &fr);
	}
	team_free(tm);
}

void
bench_pipeline(const struct bench_alloc *const *ba, int nba, size_t size,
    const double *single_ns)
{
	static void *slots[BENCH_RING];
	static double v[BENCH_SET_MAX][104];
	int reps = bench_reps > 103 ? 103 : bench_reps;
	struct team *tm = team_new(ba, nba, size);
	long n[BENCH_SET_MAX];
	struct spsc *ring;
	bool ok;

	if (tm == NULL)
		return;
	if (posix_memalign((void **)&ring, SPSC_LINE, sizeof (*ring)) != 0) {
		team_free(tm);
		return;
	}
	spsc_init(ring, slots, BENCH_RING);
	tm->tm_ring = ring;
	calibrate_rounds(tm, JOB_PRODUCE, JOB_CONSUME, single_ns, n);
	tm->tm_nrounds = 0;
	for (int i = 0; i <= reps; i++) {
		for (int a = 0; a < nba; a++)
			(void) add_round(tm, ba[a], n[a], JOB_PRODUCE,
			    JOB_CONSUME);
	}
	ok = n[0] > 0 && team_run(tm);
	for (int a = 0; a < nba; a++) {
		struct fig f = { NAN, NAN, NAN };

		for (int i = 1; ok && i <= reps; i++)
			v[a][i - 1] = round_ns(&tm->tm_round[i * nba + a]) /
			    (double)n[a];
		if (ok)
			f = bench_fig_of(v[a], reps);
		emit3("pipeline", ba[a], size, &f);
	}
	free(ring);
	team_free(tm);
}

/*
 * For scale, an "allocator" that allocates nothing: its single loop is a
 * little arithmetic per operation, which shows what two threads can get
 * on this machine at all; its producer and consumer only pass a token
 * through the ring, which shows what the hand-off itself costs.
 */
static int
arith_single(size_t size, long n)
{
	volatile size_t x = size;

	for (long i = 0; i < n; i++)
		x = x * 7 + 1;
	return (0);
}

static int
arith_produce(struct spsc *ring, size_t size, long n)
{
	(void) size;
	for (long i = 0; i < n; i++)
		spsc_push_wait(ring, BENCH_NOBLOCK);
	return (0);
}

static int
arith_consume(struct spsc *ring, long n)
{
	for (long i = 0; i < n; i++)
		bench_escape(spsc_pop_wait(ring));
	return (0);
}

const struct bench_alloc bench_arith = {
	.ba_name = "arith",
	.ba_single = arith_single,
	.ba_produce = arith_produce,
	.ba_consume = arith_consume,
};
