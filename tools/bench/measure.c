/*
 * How a figure is measured: the clock, calibration, repetitions, and the
 * lines a measuring program prints.
 *
 * A figure is the time of a loop of n operations divided by n.  n is
 * calibrated first (the calibration runs double as warm-up: caches and
 * magazines filled, pages touched) so that one run lasts about
 * bench_rep_ms; the loop then runs bench_reps times and the figure is the
 * median run, with the fastest and the slowest beside it so that a reader
 * sees how steady the machine was.  Allocators compared in one program
 * are measured as a set: their runs alternate, so that a machine whose
 * speed drifts (a shared virtual machine does) treats them alike.  Two
 * allocators can also be measured as pairs of runs (bench_measure_pair),
 * the figure then being the ratio within each pair.  The clock is
 * CLOCK_MONOTONIC, read once before and once after each run, so its own
 * cost is spread over n.
 *
 * BENCH_REPS and BENCH_MS in the environment change the repetitions and
 * the length of a run (for a quick look, BENCH_REPS=3 BENCH_MS=5).
 */
#include "bench.h"

#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define	REPS_DEFAULT	21
#define	REP_MS_DEFAULT	20.0
#define	REPS_MAX	101

const size_t bench_sizes[BENCH_NSIZES] = { 64, 512, 2048, 9000 };

int bench_reps = REPS_DEFAULT;
double bench_rep_ms = REP_MS_DEFAULT;

void
bench_init(void)
{
	const char *s;

	if ((s = getenv("BENCH_REPS")) != NULL && atoi(s) > 0)
		bench_reps = atoi(s) > REPS_MAX ? REPS_MAX : atoi(s);
	if ((s = getenv("BENCH_MS")) != NULL && atof(s) > 0)
		bench_rep_ms = atof(s);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* One step of a wait for another thread: a pause, now and then a yield. */
void
bench_cpu_relax(void)
{
	static __thread unsigned spins;

	if (++spins % 256 != 0) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ __volatile__("yield");
#endif
	} else {
		(void) sched_yield();
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Median, minimum and maximum of v[0..n) (v is sorted in place). */
struct fig
bench_fig_of(double *v, int n)
{
	struct fig f = { NAN, NAN, NAN };

	if (n <= 0)
		return (f);
	qsort(v, (size_t)n, sizeof (v[0]), cmp_double);
	f.f_min = v[0];
	f.f_max = v[n - 1];
	f.f_med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return (f);
}

/* Calibrate n so that one run of fn lasts about bench_rep_ms; 0: failed. */
long
bench_calibrate(bench_loop_fn *fn, const struct bench_alloc *ba, size_t size)
{
	double target = bench_rep_ms * 1e6;
	uint64_t t;
	long n = 64;

	/* Grow n until a run lasts a quarter of the target. */
	for (;;) {
		t = bench_now_ns();
		if (fn(ba, size, n) != 0)
			return (0);
		t = bench_now_ns() - t;
		if ((double)t >= target / 4 || n >= (1L << 40))
			break;
		n *= (double)t < target / 64 ? 8 : 2;
	}
	if (t == 0)
		t = 1;
	n = (long)((double)n * target / (double)t);
	return (n < 1 ? 1 : n);
}

/*
 * The runs of a set: each loop calibrated, then bench_reps rounds of one
 * run of each in turn, ns per op in v[a][round].  ok[a] is false once a
 * run of ba[a] failed.
 */
static void
measure_rounds(bench_loop_fn *fn, const struct bench_alloc *const *ba,
    int nba, size_t size, int ops_per_n, double v[][REPS_MAX], bool *ok)
{
	long n[BENCH_SET_MAX];

	for (int a = 0; a < nba; a++) {
		n[a] = bench_calibrate(fn, ba[a], size);
		ok[a] = n[a] > 0;
	}
	for (int i = 0; i < bench_reps; i++) {
		for (int a = 0; a < nba; a++) {
			uint64_t t;

			if (!ok[a])
				continue;
			t = bench_now_ns();
			if (fn(ba[a], size, n[a]) != 0) {
				ok[a] = false;
				continue;
			}
			t = bench_now_ns() - t;
			v[a][i] = (double)t / ((double)n[a] * ops_per_n);
		}
	}
}

void
bench_measure_set(bench_loop_fn *fn, const struct bench_alloc *const *ba,
    int nba, size_t size, int ops_per_n, struct fig *out)
{
	static double v[BENCH_SET_MAX][REPS_MAX];
	bool ok[BENCH_SET_MAX];

	measure_rounds(fn, ba, nba, size, ops_per_n, v, ok);
	for (int a = 0; a < nba; a++) {
		struct fig nan = { NAN, NAN, NAN };

		out[a] = ok[a] ? bench_fig_of(v[a], bench_reps) : nan;
	}
}

/*
 * The ratio is taken within each pair, a's run over the b run that
 * follows it, before anything is sorted: two runs a few tens of
 * milliseconds apart see the same machine, where the medians of two
 * series need not (the machine's speed moves during the series).
 */
void
bench_measure_pair(bench_loop_fn *fn, const struct bench_alloc *a,
    const struct bench_alloc *b, size_t size, int ops_per_n,
    struct fig *out, struct fig *ratio)
{
	static double v[2][REPS_MAX], r[REPS_MAX];
	const struct bench_alloc *ba[2] = { a, b };
	struct fig nan = { NAN, NAN, NAN };
	bool ok[2];

	measure_rounds(fn, ba, 2, size, ops_per_n, v, ok);
	*ratio = nan;
	if (ok[0] && ok[1]) {
		for (int i = 0; i < bench_reps; i++)
			r[i] = v[0][i] / v[1][i];
		*ratio = bench_fig_of(r, bench_reps);
	}
	for (int i = 0; i < 2; i++)
		out[i] = ok[i] ? bench_fig_of(v[i], bench_reps) : nan;
}

struct fig
bench_measure(bench_loop_fn *fn, const struct bench_alloc *ba, size_t size,
    int ops_per_n)
{
	struct fig f;

	bench_measure_set(fn, &ba, 1, size, ops_per_n, &f);
	return (f);
}

int
bench_loop_single(const struct bench_alloc *ba, size_t size, long n)
{
	return (ba->ba_single(size, n));
}

int
bench_loop_burst(const struct bench_alloc *ba, size_t size, long n)
{
	return (ba->ba_burst(size, n, BENCH_BURST));
}

static double
percentile(const double *sorted, int n, double p)
{
	int i = (int)(p * (double)(n - 1) + 0.5);

	return (sorted[i < 0 ? 0 : i >= n ? n - 1 : i]);
}

void
bench_emit_latency(const char *key, double *v, int n)
{
	char k[96];

	if (n <= 0)
		return;
	qsort(v, (size_t)n, sizeof (v[0]), cmp_double);
	(void) snprintf(k, sizeof (k), "%s.p50", key);
	bench_emitf(k, "%.0f", percentile(v, n, 0.50));
	(void) snprintf(k, sizeof (k), "%s.p99", key);
	bench_emitf(k, "%.0f", percentile(v, n, 0.99));
	(void) snprintf(k, sizeof (k), "%s.p999", key);
	bench_emitf(k, "%.0f", percentile(v, n, 0.999));
	(void) snprintf(k, sizeof (k), "%s.min", key);
	bench_emitf(k, "%.0f", v[0]);
	(void) snprintf(k, sizeof (k), "%s.max", key);
	bench_emitf(k, "%.0f", v[n - 1]);
	(void) snprintf(k, sizeof (k), "%s.n", key);
	bench_emitf(k, "%d", n);
}

void
bench_emit(const char *key, const struct fig *f)
{
	printf("%s %.3f %.3f %.3f\n", key, f->f_med, f->f_min, f->f_max);
}

void
bench_emitf(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
bench_skip(const char *part, const char *fmt, ...)
{
	va_list ap;

	printf("skip.%s ", part);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}
