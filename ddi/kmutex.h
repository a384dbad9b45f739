/*
 * kmutex: the framework's own mutual-exclusion lock (private to ddi/ and
 * streams/).
 *
 * Every message that crosses a stream takes a dozen or more locks (queue,
 * perimeter, stream head, descriptor table, basic locks of drivers), and
 * nearly all of them are free when taken.  A pthread mutex spends some
 * fifty instructions on a free lock and its release; a kmutex spends one
 * compare-and-swap and one exchange, inline, and goes to the kernel only
 * when a thread must really wait: a word and a futex, as in Drepper's
 * "Futexes Are Tricky" (its third mutex).
 *
 * km_state: 0 free; 1 held, no one waits; 2 held, and a thread may be
 * asleep on the futex (the releaser then wakes one).
 *
 * ThreadSanitizer is told about every acquisition and release (the
 * __tsan_mutex_* annotations), so the sanitizer build checks the code
 * that uses these locks as it would with pthread mutexes.
 *
 * Not recursive; no owner is recorded (lock_t adds that, ksynch.c).  Any
 * context may take a kmutex; only the holder may release it.
 */
#ifndef _DDI_KMUTEX_H
#define	_DDI_KMUTEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define	KM_TSAN_PRE_LOCK(m)	__tsan_mutex_pre_lock((m), 0)
#define	KM_TSAN_POST_LOCK(m)	__tsan_mutex_post_lock((m), 0, 0)
#define	KM_TSAN_PRE_UNLOCK(m)	((void) __tsan_mutex_pre_unlock((m), 0))
#define	KM_TSAN_POST_UNLOCK(m)	__tsan_mutex_post_unlock((m), 0)
#define	KM_TSAN_CREATE(m)	__tsan_mutex_create((m), 0)
#define	KM_TSAN_DESTROY(m)	__tsan_mutex_destroy((m), 0)
#else
#define	KM_TSAN_PRE_LOCK(m)	((void)(m))
#define	KM_TSAN_POST_LOCK(m)	((void)(m))
#define	KM_TSAN_PRE_UNLOCK(m)	((void)(m))
#define	KM_TSAN_POST_UNLOCK(m)	((void)(m))
#define	KM_TSAN_CREATE(m)	((void)(m))
#define	KM_TSAN_DESTROY(m)	((void)(m))
#endif

typedef struct kmutex {
	_Atomic uint32_t km_state;
} kmutex_t;

#define	KMUTEX_INITIALIZER	{ 0 }

extern void kmutex_lock_slow(kmutex_t *m);
extern void kmutex_wake(kmutex_t *m);

static inline void
kmutex_init(kmutex_t *m)
{
	atomic_init(&m->km_state, 0);
	KM_TSAN_CREATE(m);
}

static inline void
kmutex_destroy(kmutex_t *m)
{
	KM_TSAN_DESTROY(m);
}

static inline __attribute__((always_inline)) void
kmutex_lock(kmutex_t *m)
{
	uint32_t c = 0;

	KM_TSAN_PRE_LOCK(m);
	if (__builtin_expect(!atomic_compare_exchange_strong_explicit(
	    &m->km_state, &c, 1, memory_order_acquire, memory_order_relaxed),
	    0))
		kmutex_lock_slow(m);
	KM_TSAN_POST_LOCK(m);
}

/* True, and the lock held, if it was free. */
static inline __attribute__((always_inline)) bool
kmutex_trylock(kmutex_t *m)
{
	uint32_t c = 0;
	bool ok;

#if defined(__SANITIZE_THREAD__)
	__tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
#endif
	ok = atomic_compare_exchange_strong_explicit(&m->km_state, &c, 1,
	    memory_order_acquire, memory_order_relaxed);
#if defined(__SANITIZE_THREAD__)
	__tsan_mutex_post_lock(m, ok ? __tsan_mutex_try_lock :
	    __tsan_mutex_try_lock | __tsan_mutex_try_lock_failed, 0);
#endif
	return (ok);
}

static inline __attribute__((always_inline)) void
kmutex_unlock(kmutex_t *m)
{
	KM_TSAN_PRE_UNLOCK(m);
	if (__builtin_expect(atomic_exchange_explicit(&m->km_state, 0,
	    memory_order_release) == 2, 0))
		kmutex_wake(m);
	KM_TSAN_POST_UNLOCK(m);
}

/*
 * Futex words for the synchronisation variables built on kmutex (sv_t):
 * sleep while *word == val (returns at once if it differs); wake up to n
 * sleepers (INT_MAX: all).
 */
extern void ust_futex_wait(_Atomic uint32_t *word, uint32_t val);
extern void ust_futex_wake(_Atomic uint32_t *word, int n);

/* In a spin loop: let the other hardware thread of the core run. */
static inline void
ust_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#endif	/* _DDI_KMUTEX_H */
