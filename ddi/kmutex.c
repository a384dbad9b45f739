/*
 * kmutex: the contended paths (see kmutex.h), and the futex calls that
 * the synchronisation variables also use.
 */
#include <sys/types.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kmutex.h"

/* Spins before sleeping: a holder on another CPU is usually done sooner. */
#define	KM_SPIN		64

void
ust_futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	/* EAGAIN (the word changed) and EINTR both mean: look again. */
	(void) syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

void
ust_futex_wake(_Atomic uint32_t *word, int n)
{
	(void) syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/*
 * The lock was not free.  Spin a little, taking it if it comes free;
 * then mark it contended (2) and sleep until a release finds the mark and
 * wakes us.  Whoever takes the lock from the sleep takes it as contended,
 * since other sleepers may remain: a spurious wake-up at worst.
 *
 * The spin goes on when the lock is marked contended.  Stopping there
 * would make the mark self-sustaining: once two threads that take the
 * lock in turn have met a sleep, each release would find the mark, make
 * a wake-up call, and each acquirer would sleep at once -- a convoy of
 * system calls that outlives the contention that started it.  Taking a
 * lock that is free by 0 -> 1 while others sleep is safe: the release
 * that freed it woke one of them, and that one marks the lock again as
 * it takes it or goes back to sleep.
 */
void
kmutex_lock_slow(kmutex_t *m)
{
	uint32_t c;

	for (int i = 0; i < KM_SPIN; i++) {
		c = atomic_load_explicit(&m->km_state, memory_order_relaxed);
		if (c == 0 && atomic_compare_exchange_weak_explicit(
		    &m->km_state, &c, 1, memory_order_acquire,
		    memory_order_relaxed))
			return;
		ust_cpu_relax();
	}
	while (atomic_exchange_explicit(&m->km_state, 2,
	    memory_order_acquire) != 0)
		ust_futex_wait(&m->km_state, 2);
}

/* A release found the contended mark: wake one sleeper. */
void
kmutex_wake(kmutex_t *m)
{
	ust_futex_wake(&m->km_state, 1);
}
