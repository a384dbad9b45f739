/*
 * How a throughput figure is measured: the pipe and the other flows side
 * by side, on one thread and on two.  fl[0] is the pipe, the flow every
 * other is compared with; the list ends with NULL.
 *
 * One thread (flow_one).  Each flow's bf_echo loop -- write a message,
 * read it back, n times -- is timed whole, as measure.c times an
 * allocator's loop: n calibrated so that a run lasts about bench_rep_ms
 * (these runs warm up), then bench_reps runs, the flows' runs
 * alternating.  A flow without bf_echo is left out.  The figure is ns
 * per message; a flow's ratio is the pipe's time over its own, run by
 * run, so that a machine whose speed drifts treats both alike.
 *
 * Two threads (flow_two).  A writer thread and a reader thread go
 * through a list of rounds together, each started at a barrier: in a
 * round the writer writes n messages of the round's flow and the reader
 * reads them.  A round's time runs from the earlier start to the later
 * end (the reader's last message), over n.  The flows' rounds alternate;
 * the first round of each is a warm-up, and n comes from a trial round
 * per flow.
 * Each thread is bound to a CPU of its own, as in threads.c; the stream's
 * service threads are the executive's, and not bound.  Every round ends
 * with the path empty, so that the next starts from an empty path.
 *
 * Every message is checked (flow.h).  A flow whose check fails is not
 * run again in that part: its lines read "flow.NAME.WHAT.SIZE invalid
 * REASON" instead of figures.  A watchdog ends the program when no run has
 * finished for FLOW_STUCK_S seconds (a message lost would leave a reader
 * waiting for ever), saying why on standard output and in the log.
 */
#include "bench.h"
#include "flow.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define	FLOWS_MAX	4		/* fl[0], the pipe, and the others */
#define	FLOW_REPS_MAX	101
#define	FLOW_TRIAL_N	1000		/* messages in a trial round */
#define	FLOW_STUCK_S	60

const size_t flow_sizes[FLOW_NSIZES] = { 64, 1500 };

static _Atomic uint64_t flow_runs;	/* runs finished: the watchdog's */
static uint64_t flow_checked[FLOWS_MAX]; /* messages read and checked */

/* Per flow, for one part: where its numbering is, and whether it failed. */
struct flow_state {
	const struct bench_flow *fs_flow;
	struct flow_run	fs_run;		/* fr_seq: the next message's number */
	bool		fs_open;
	bool		fs_failed;
};

static __thread unsigned char flow_buf[FLOW_SIZE_MAX + 1]
    __attribute__((aligned(64)));
static __thread bool flow_filled;

unsigned char *
flow_buffer(void)
{
	if (!flow_filled) {
		flow_fill(flow_buf, sizeof (flow_buf));
		flow_filled = true;
	}
	return (flow_buf);
}

static void
state_open(struct flow_state *fs, const struct bench_flow *bf)
{
	*fs = (struct flow_state){ .fs_flow = bf };
	fs->fs_open = bf->bf_open(fs->fs_run.fr_why,
	    sizeof (fs->fs_run.fr_why)) == 0;
	fs->fs_failed = !fs->fs_open;
}

static void
state_close(struct flow_state *fs)
{
	if (fs->fs_open)
		fs->fs_flow->bf_close();
	fs->fs_open = false;
}

static void
emit_fig(const struct flow_state *fs, const char *what, size_t size,
    const struct fig *f)
{
	char key[96];

	(void) snprintf(key, sizeof (key), "flow.%s.%s.%zu",
	    fs->fs_flow->bf_name, what, size);
	if (fs->fs_failed)
		bench_emitf(key, "invalid %s", fs->fs_run.fr_why);
	else
		bench_emit(key, f);
}

/* Flow f's ratio to the pipe (fs[0]): v, n pairs of runs. */
static void
emit_ratio(const struct flow_state *fs, int f, const char *what,
    size_t size, double *v, int n)
{
	struct fig fg;
	char key[96];

	if (fs[0].fs_failed || fs[f].fs_failed)
		return;
	fg = bench_fig_of(v, n);
	(void) snprintf(key, sizeof (key), "flow.ratio.%s.%s.%zu",
	    fs[f].fs_flow->bf_name, what, size);
	bench_emit(key, &fg);
}

/*
 * Emit each flow's figure from its runs v[f][0..reps-1] and, for every
 * flow but the pipe (fs[0]), its ratio to the pipe run by run.  A flow
 * that was not run in this part (not fs_open) is left out.
 */
static void
emit_flows(const struct flow_state *fs, int nfl, const char *what,
    size_t size, double v[][FLOW_REPS_MAX], int reps)
{
	static double vr[FLOW_REPS_MAX];

	for (int f = 0; f < nfl; f++) {
		struct fig fg = bench_fig_of(v[f], reps);
		int nr = 0;

		if (!fs[f].fs_open && !fs[f].fs_failed)
			continue;
		emit_fig(&fs[f], what, size, &fg);
		if (f == 0)
			continue;
		for (int i = 0; i < reps; i++) {
			if (!isnan(v[0][i]) && !isnan(v[f][i]))
				vr[nr++] = v[0][i] / v[f][i];
		}
		emit_ratio(fs, f, what, size, vr, nr);
	}
}

/* How many flows fl lists, at most FLOWS_MAX. */
static int
flow_count(const struct bench_flow *const *fl)
{
	int n = 0;

	while (n < FLOWS_MAX && fl[n] != NULL)
		n++;
	return (n);
}

/* One run of bf_echo; its time in ns, or NAN when it failed. */
static double
echo_run(struct flow_state *fs, int f, size_t size, long n)
{
	uint64_t t;

	if (fs->fs_failed)
		return (NAN);
	t = bench_now_ns();
	if (fs->fs_flow->bf_echo(size, n, &fs->fs_run) != 0) {
		fs->fs_failed = true;
		return (NAN);
	}
	t = bench_now_ns() - t;
	fs->fs_run.fr_seq += (uint64_t)n;
	flow_checked[f] += (uint64_t)n;
	atomic_fetch_add(&flow_runs, 1);
	return ((double)t);
}

/* n so that a run of bf_echo lasts about bench_rep_ms; 0 if it failed. */
static long
echo_calibrate(struct flow_state *fs, int f, size_t size)
{
	double target = bench_rep_ms * 1e6, t;
	long n = 16;

	for (;;) {
		if (isnan(t = echo_run(fs, f, size, n)))
			return (0);
		if (t >= target / 4 || n >= (1L << 40))
			break;
		n *= t < target / 64 ? 8 : 2;
	}
	n = (long)((double)n * target / (t > 0 ? t : 1));
	return (n < 1 ? 1 : n);
}

void
flow_one(const struct bench_flow *const *fl, const char *what)
{
	static double v[FLOWS_MAX][FLOW_REPS_MAX];
	int reps = bench_reps > FLOW_REPS_MAX ? FLOW_REPS_MAX : bench_reps;
	int nfl = flow_count(fl);
	struct flow_state fs[FLOWS_MAX];

	for (int f = 0; f < nfl; f++) {
		if (fl[f]->bf_echo != NULL)
			state_open(&fs[f], fl[f]);
		else
			fs[f] = (struct flow_state){ .fs_flow = fl[f] };
	}
	for (int s = 0; s < FLOW_NSIZES; s++) {
		size_t size = flow_sizes[s];
		long n[FLOWS_MAX];

		for (int f = 0; f < nfl; f++)
			n[f] = !fs[f].fs_open || fs[f].fs_failed ? 0 :
			    echo_calibrate(&fs[f], f, size);
		for (int i = 0; i < reps; i++) {
			for (int f = 0; f < nfl; f++)
				v[f][i] = n[f] > 0 ?
				    echo_run(&fs[f], f, size, n[f]) /
				    (double)n[f] : NAN;
		}
		emit_flows(fs, nfl, what, size, v, reps);
	}
	for (int f = 0; f < nfl; f++)
		state_close(&fs[f]);
}

/* Two threads: a writer (member 0) and a reader (member 1). */

struct pair_round {
	int		pr_flow;	/* index into the pair's flows */
	size_t		pr_size;
	long		pr_n;
	uint64_t	pr_seq;		/* the first message's number */
	uint64_t	pr_start[2];
	uint64_t	pr_end[2];
	bool		pr_ok[2];	/* each side ran its loop, and passed */
};

struct pair {
	struct flow_state *pa_fs;	/* one per flow */
	struct pair_round *pa_round;
	int		pa_nrounds;
	pthread_barrier_t pa_bar;
	pthread_mutex_t	pa_lock;	/* the flows' failure fields */
};

struct pair_member {
	struct pair	*pm_pair;
	int		pm_index;	/* 0 writer, 1 reader */
};

static void *
pair_main(void *arg)
{
	struct pair_member *pm = arg;
	struct pair *pa = pm->pm_pair;
	int me = pm->pm_index;

	bench_bind_self(bench_nth_cpu(me));
	for (int k = 0; k < pa->pa_nrounds; k++) {
		struct pair_round *r = &pa->pa_round[k];
		struct flow_state *fs = &pa->pa_fs[r->pr_flow];
		struct flow_run run = { .fr_seq = r->pr_seq };
		bool skip;
		int rc;

		(void) pthread_barrier_wait(&pa->pa_bar);
		skip = fs->fs_failed;
		/* Both have read fs_failed before either can set it. */
		(void) pthread_barrier_wait(&pa->pa_bar);
		if (skip)
			continue;
		r->pr_start[me] = bench_now_ns();
		rc = me == 0 ?
		    fs->fs_flow->bf_write(r->pr_size, r->pr_n, &run) :
		    fs->fs_flow->bf_read(r->pr_size, r->pr_n, &run);
		r->pr_end[me] = bench_now_ns();
		if (rc != 0) {
			pthread_mutex_lock(&pa->pa_lock);
			if (!fs->fs_failed) {
				fs->fs_failed = true;
				memcpy(fs->fs_run.fr_why, run.fr_why,
				    sizeof (run.fr_why));
			}
			pthread_mutex_unlock(&pa->pa_lock);
		}
		r->pr_ok[me] = rc == 0;
		if (me == 1 && rc == 0)
			atomic_fetch_add(&flow_runs, 1);
	}
	return (NULL);
}

/* Both sides ran the round, and every message passed. */
static bool
round_ok(const struct pair_round *r)
{
	return (r->pr_ok[0] && r->pr_ok[1]);
}

/* Run the pair's rounds (round_ok says which ran and passed). */
static void
pair_run(struct pair *pa)
{
	struct pair_member pm[2];
	pthread_t tid[2];

	(void) pthread_barrier_init(&pa->pa_bar, NULL, 2);
	for (int i = 0; i < 2; i++) {
		pm[i] = (struct pair_member){ pa, i };
		if (pthread_create(&tid[i], NULL, pair_main, &pm[i]) != 0) {
			fprintf(stderr, "bench: cannot create threads\n");
			exit(1);
		}
	}
	for (int i = 0; i < 2; i++)
		(void) pthread_join(tid[i], NULL);
	(void) pthread_barrier_destroy(&pa->pa_bar);
	for (int k = 0; k < pa->pa_nrounds; k++) {
		struct pair_round *r = &pa->pa_round[k];

		if (round_ok(r))
			flow_checked[r->pr_flow] += (uint64_t)r->pr_n;
	}
}

static double
round_ns(const struct pair_round *r)
{
	uint64_t s = r->pr_start[0] < r->pr_start[1] ? r->pr_start[0] :
	    r->pr_start[1];
	uint64_t e = r->pr_end[0] > r->pr_end[1] ? r->pr_end[0] :
	    r->pr_end[1];

	return ((double)(e - s));
}

static struct pair_round *
add_round(struct pair *pa, struct flow_state *fs, int f, size_t size,
    long n)
{
	struct pair_round *r = &pa->pa_round[pa->pa_nrounds++];

	*r = (struct pair_round){ .pr_flow = f, .pr_size = size, .pr_n = n,
	    .pr_seq = fs[f].fs_run.fr_seq };
	fs[f].fs_run.fr_seq += (uint64_t)n;
	return (r);
}

void
flow_two(const struct bench_flow *const *fl, const char *what)
{
	static double v[FLOWS_MAX][FLOW_REPS_MAX];
	int reps = bench_reps > FLOW_REPS_MAX ? FLOW_REPS_MAX : bench_reps;
	int nfl = flow_count(fl);
	struct flow_state fs[FLOWS_MAX];
	struct pair pa = { .pa_fs = fs };

	pa.pa_round = calloc((size_t)(reps + 1) * (size_t)nfl,
	    sizeof (*pa.pa_round));
	if (pa.pa_round == NULL)
		return;
	(void) pthread_mutex_init(&pa.pa_lock, NULL);
	for (int f = 0; f < nfl; f++)
		state_open(&fs[f], fl[f]);
	for (int s = 0; s < FLOW_NSIZES; s++) {
		size_t size = flow_sizes[s];
		double target = bench_rep_ms * 1e6;
		long n[FLOWS_MAX];

		/* A trial round per flow gives n. */
		pa.pa_nrounds = 0;
		for (int f = 0; f < nfl; f++)
			(void) add_round(&pa, fs, f, size, FLOW_TRIAL_N);
		pair_run(&pa);
		for (int f = 0; f < nfl; f++) {
			double t = round_ok(&pa.pa_round[f]) ?
			    round_ns(&pa.pa_round[f]) : 0;

			/* (A flow that failed is not run again: any n.) */
			n[f] = t > 0 ? (long)(FLOW_TRIAL_N * target / t) : 100;
			if (n[f] < 100)
				n[f] = 100;
		}
		/* A warm-up round of each, then the measured ones. */
		pa.pa_nrounds = 0;
		for (int i = 0; i <= reps; i++) {
			for (int f = 0; f < nfl; f++)
				(void) add_round(&pa, fs, f, size, n[f]);
		}
		pair_run(&pa);
		for (int i = 1; i <= reps; i++) {
			struct pair_round *r = &pa.pa_round[i * nfl];

			for (int f = 0; f < nfl; f++)
				v[f][i - 1] = round_ok(&r[f]) ?
				    round_ns(&r[f]) / (double)n[f] : NAN;
		}
		emit_flows(fs, nfl, what, size, v, reps);
	}
	for (int f = 0; f < nfl; f++)
		state_close(&fs[f]);
	(void) pthread_mutex_destroy(&pa.pa_lock);
	free(pa.pa_round);
}

/* Messages read and checked so far, per flow. */
void
flow_emit_checked(const struct bench_flow *const *fl)
{
	char key[64];

	for (int f = 0; f < flow_count(fl); f++) {
		(void) snprintf(key, sizeof (key), "flow.%s.checked",
		    fl[f]->bf_name);
		bench_emitf(key, "%llu", (unsigned long long)flow_checked[f]);
	}
}

static void *
watchdog_main(void *arg)
{
	uint64_t last = atomic_load(&flow_runs);
	int idle = 0;

	(void) arg;
	for (;;) {
		uint64_t now;

		(void) sleep(1);
		now = atomic_load(&flow_runs);
		idle = now == last ? idle + 1 : 0;
		last = now;
		if (idle >= FLOW_STUCK_S) {
			bench_skip("stream", "no run finished for %d s (a "
			    "message lost, or a wake-up missed); stopped",
			    FLOW_STUCK_S);
			fprintf(stderr, "bench-stream: no run finished for "
			    "%d s; stopping\n", FLOW_STUCK_S);
			_exit(3);
		}
	}
	return (NULL);
}

void
flow_watchdog_start(void)
{
	pthread_t tid;

	if (pthread_create(&tid, NULL, watchdog_main, NULL) == 0)
		(void) pthread_detach(tid);
}
