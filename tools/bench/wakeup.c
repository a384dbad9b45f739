/*
 * For scale: how long this machine takes to wake a thread sleeping on a
 * condition variable, the way the threads executive wakes a service
 * thread for a posted event.  No ustreams code runs here.
 *
 * A sleeper waits on a condition variable; the main thread reads the
 * clock, sets a flag and signals under the mutex; the sleeper reads the
 * clock as soon as it has the mutex back.  The main thread then waits for
 * it as bufcall_latency.c waits for its callback, and sleeps as long
 * between samples.  Twice: with the sleeper bound to another CPU than the
 * main thread (the wake-up must reach an idle CPU, as a service thread's
 * usually does), and to the same one (no unprivileged binding beyond the
 * calling threads' own).
 *
 *	wakeup.other.*		signal to sleeper running, other CPU (ns)
 *	wakeup.same.*		the same, same CPU
 *
 * A bufcall callback needs at least one such wake-up; bufcall.latency
 * over wakeup.other says how many it costs.
 */
#include "bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define	SAMPLES_DEFAULT	10000

static struct {
	pthread_mutex_t	w_lock;
	pthread_cond_t	w_cv;
	int		w_posted;	/* w_lock: 1 signalled, -1 stop */
	_Atomic uint64_t w_t;		/* sleeper's clock reading */
	_Atomic int	w_done;
} w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };

/* Bind the calling thread to one CPU (cpu < 0: to the set given). */
static void
bind_to(int cpu, const cpu_set_t *all)
{
	cpu_set_t set;

	if (cpu < 0) {
		(void) pthread_setaffinity_np(pthread_self(), sizeof (*all),
		    all);
		return;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void) pthread_setaffinity_np(pthread_self(), sizeof (set), &set);
}

static void *
sleeper(void *arg)
{
	bind_to(*(int *)arg, NULL);
	pthread_mutex_lock(&w.w_lock);
	for (;;) {
		while (w.w_posted == 0)
			pthread_cond_wait(&w.w_cv, &w.w_lock);
		if (w.w_posted < 0)
			break;
		w.w_posted = 0;
		atomic_store_explicit(&w.w_t, bench_now_ns(),
		    memory_order_relaxed);
		atomic_store_explicit(&w.w_done, 1, memory_order_release);
	}
	pthread_mutex_unlock(&w.w_lock);
	return (NULL);
}

static void
wake_series(const char *key, int main_cpu, int sleeper_cpu,
    const cpu_set_t *all)
{
	const char *s = getenv("BENCH_LAT_N");
	int nsamp = s != NULL && atoi(s) > 0 ? atoi(s) : SAMPLES_DEFAULT;
	int warm = nsamp / 100, n = 0;
	double *lat = calloc((size_t)nsamp, sizeof (*lat));
	struct timespec settle = { 0, 50000 };
	pthread_t tid;

	w.w_posted = 0;
	if (lat == NULL ||
	    pthread_create(&tid, NULL, sleeper, &sleeper_cpu) != 0) {
		free(lat);
		return;
	}
	bind_to(main_cpu, all);
	for (int i = 0; i < warm + nsamp; i++) {
		uint64_t t0;

		atomic_store(&w.w_done, 0);
		t0 = bench_now_ns();
		pthread_mutex_lock(&w.w_lock);
		w.w_posted = 1;
		pthread_cond_signal(&w.w_cv);
		pthread_mutex_unlock(&w.w_lock);
		while (atomic_load_explicit(&w.w_done,
		    memory_order_acquire) == 0)
			bench_cpu_relax();
		if (i >= warm)
			lat[n++] = (double)(atomic_load_explicit(&w.w_t,
			    memory_order_relaxed) - t0);
		(void) nanosleep(&settle, NULL);
	}
	pthread_mutex_lock(&w.w_lock);
	w.w_posted = -1;
	pthread_cond_signal(&w.w_cv);
	pthread_mutex_unlock(&w.w_lock);
	(void) pthread_join(tid, NULL);
	bind_to(-1, all);
	bench_emit_latency(key, lat, n);
	free(lat);
}

void
bench_wakeup(void)
{
	cpu_set_t all;
	int cpu[2] = { -1, -1 }, k = 0;

	if (sched_getaffinity(0, sizeof (all), &all) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && k < 2; c++) {
		if (CPU_ISSET(c, &all))
			cpu[k++] = c;
	}
	if (k < 1)
		return;
	if (k == 2)
		wake_series("wakeup.other", cpu[0], cpu[1], &all);
	wake_series("wakeup.same", cpu[0], cpu[0], &all);
}
