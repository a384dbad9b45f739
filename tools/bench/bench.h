/*
 * The benchmarks (private to tools/bench): what the measuring programs
 * share.
 *
 * Four measuring programs print figures, one per line, on standard
 * output; the report program (report.c) runs them and merges what they
 * print into one report.  They are separate because of what each links
 * or boots:
 *
 *	bench-ustreams	ustreams and jemalloc (which, without a symbol
 *			prefix, becomes the process's malloc); DPDK too
 *			where it is installed, for the paired runs
 *			(pair.c)
 *	bench-stream	the same libraries, and instances of its own:
 *			messages through a stream against a pipe (flow.h)
 *	bench-glibc	nothing but the C library: glibc's malloc
 *	bench-dpdk	DPDK's mbuf pools, built only where DPDK is installed
 *
 * A line is "key value" or "key median min max", the figures being
 * nanoseconds per operation unless the key says otherwise.  "skip.NAME
 * reason" says a part could not be measured, and why.  No figure is ever
 * checked against a limit here: the report prints targets as information.
 *
 * An allocator under test is a table of loops (struct bench_alloc), not of
 * single operations, so that the allocator's calls are direct calls in the
 * timed loop and the table is consulted once per run.
 */
#ifndef _TOOLS_BENCH_H
#define	_TOOLS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spsc;

/* A measured figure: median, fastest and slowest of the repetitions. */
struct fig {
	double	f_med;
	double	f_min;
	double	f_max;
};

/*
 * An allocator's loops.  Each returns 0, or -1 when an allocation failed
 * (which a benchmark reports; it never happens with the sizes used here).
 *  - ba_single: n times, allocate size bytes and free them.
 *  - ba_burst: n times, allocate burst blocks, then free them in the
 *    order they were allocated.
 *  - ba_produce: allocate n blocks, pushing each into the ring;
 *    ba_consume: pop n blocks from the ring and free each.
 * ba_thread_init and ba_thread_fini, if set, run in every thread that
 * the two-thread benchmarks create, before its first loop and after its
 * last.
 */
struct bench_alloc {
	const char	*ba_name;	/* key prefix: "ustreams", "glibc", ... */
	int		(*ba_thread_init)(void);
	void		(*ba_thread_fini)(void);
	int		(*ba_single)(size_t size, long n);
	int		(*ba_burst)(size_t size, long n, int burst);
	int		(*ba_produce)(struct spsc *ring, size_t size, long n);
	int		(*ba_consume)(struct spsc *ring, long n);
};

/*
 * What a producer pushes in place of a block it could not allocate, so
 * that its consumer still pops n items and the run ends (the run then
 * counts as failed).
 */
#define	BENCH_NOBLOCK	((void *)1)

/* The allocators (alloc_*.c); each program links the ones it measures. */
extern const struct bench_alloc bench_ustreams;	/* allocb, freeb */
extern const struct bench_alloc bench_jemalloc;	/* mallocx, dallocx */
extern const struct bench_alloc bench_glibc;	/* malloc, free */
extern const struct bench_alloc bench_dpdk;	/* rte_pktmbuf_alloc, free */
extern const struct bench_alloc bench_dpdk_bulk; /* bursts: the _bulk calls */
extern const struct bench_alloc bench_arith;	/* threads.c: no allocation */

/* alloc_dpdk.c: the EAL and the pools. */
extern int bench_dpdk_init(const char *argv0, char *why, size_t len);
extern void bench_dpdk_fini(void);
extern const char *bench_dpdk_version(void);
extern size_t bench_dpdk_footprint(size_t size);

/* The block sizes of the single-thread table, and the burst length. */
#define	BENCH_NSIZES	4
extern const size_t bench_sizes[BENCH_NSIZES];
#define	BENCH_SIZE	2048	/* bursts, threads, bufcall */
#define	BENCH_BURST	32
#define	BENCH_BURST_MAX	64
#define	BENCH_RING	512	/* producer/consumer ring capacity */

/* measure.c: the clock, repetitions, and the output. */
extern int bench_reps;			/* repetitions per figure */
extern double bench_rep_ms;		/* target length of one repetition */
extern void bench_init(void);
extern uint64_t bench_now_ns(void);
extern void bench_cpu_relax(void);
extern struct fig bench_fig_of(double *v, int n);

/*
 * Measure a loop: calibrate n so that one run takes about bench_rep_ms,
 * run it bench_reps times, and give ns per op, ops being n * ops_per_n.
 * A failing run makes the figure NaN.  bench_measure_set does it for up
 * to BENCH_SET_MAX allocators at once, their runs alternating.
 */
#define	BENCH_SET_MAX	4
typedef int bench_loop_fn(const struct bench_alloc *ba, size_t size,
    long n);
extern struct fig bench_measure(bench_loop_fn *fn,
    const struct bench_alloc *ba, size_t size, int ops_per_n);
extern long bench_calibrate(bench_loop_fn *fn, const struct bench_alloc *ba,
    size_t size);
extern void bench_measure_set(bench_loop_fn *fn,
    const struct bench_alloc *const *ba, int nba, size_t size, int ops_per_n,
    struct fig *out);

/*
 * Measure two loops as pairs of runs, one run of a and then one of b,
 * bench_reps times: out[0] and out[1] are each one's figure, *ratio the
 * median, lowest and highest over the pairs of a's time over b's.
 */
extern void bench_measure_pair(bench_loop_fn *fn,
    const struct bench_alloc *a, const struct bench_alloc *b, size_t size,
    int ops_per_n, struct fig *out, struct fig *ratio);

/* Loops in that shape, over a table. */
extern bench_loop_fn bench_loop_single;
extern bench_loop_fn bench_loop_burst;

extern void bench_emit(const char *key, const struct fig *f);
extern void bench_emitf(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
extern void bench_skip(const char *part, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keep the compiler from dropping an allocation nothing reads. */
static inline void
bench_escape(void *p)
{
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

/*
 * sections.c: the figures every allocator gets, emitted under its name,
 * for a set of allocators measured side by side.  bench_section_single
 * gives each one's figure at BENCH_SIZE in at[].
 */
extern void bench_section_single(const struct bench_alloc *const *ba,
    int nba, struct fig *at);
extern void bench_section_burst(const struct bench_alloc *const *ba,
    int nba);

/*
 * threads.c: two threads, for a set of allocators side by side.
 * bench_scaling emits NAME.threads1.SIZE and NAME.threads2.SIZE (ns per
 * operation of the whole, so throughput is 1/x) and NAME.scaling.SIZE;
 * bench_pipeline emits NAME.pipeline.SIZE (ns per block through a
 * producer and a consumer).  single_ns[i] is ba[i]'s single-thread figure
 * at the same size, a first guess for sizing the runs.
 */
extern void bench_scaling(const struct bench_alloc *const *ba, int nba,
    size_t size, const double *single_ns);
extern void bench_pipeline(const struct bench_alloc *const *ba, int nba,
    size_t size, const double *single_ns);

/*
 * threads.c: the i-th CPU this process may run on (-1 when it may run
 * on fewer than two), and binding the calling thread to one (nothing for
 * -1), which needs no privilege.
 */
extern int bench_nth_cpu(int i);
extern void bench_bind_self(int cpu);

/*
 * pair.c (bench-ustreams): ustreams against DPDK in one process.
 * bench_pair_init starts DPDK's EAL, early in main, before the instance
 * is booted; bench_pair measures and emits the paired figures (or
 * skip.pair and why); bench_pair_fini stops the EAL.
 */
extern void bench_pair_init(const char *argv0);
extern void bench_pair(void);
extern void bench_pair_fini(void);

/*
 * DPDK for bench-ustreams' two-thread figures (threads.c), so that they
 * are measured in the same runs as ustreams': bench_dpdk under the name
 * "dpdk_same", or NULL when the EAL is not up.  Only between
 * bench_pair_init and bench_pair_fini.
 */
extern const struct bench_alloc *bench_pair_dpdk(void);

/* The ustreams-only parts (bench-ustreams). */
extern void bench_footprint(void);		/* footprint.c */
extern void bench_bufcall_cost(void);		/* bufcall_cost.c */
extern void bench_bufcall_latency(void);	/* bufcall_latency.c */
extern void bench_wakeup(void);			/* wakeup.c */

/* Latency samples: median, 99th and 99.9th percentiles, under KEY.*. */
extern void bench_emit_latency(const char *key, double *v, int n);

#endif	/* _TOOLS_BENCH_H */
