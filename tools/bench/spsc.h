/*
 * A bounded, lock-free ring for one producer thread and one consumer
 * thread: the hand-off of the producer/consumer benchmark.
 *
 * Principles of operation.  sp_tail counts pointers pushed, sp_head
 * pointers popped; both only grow (size_t arithmetic wraps correctly), and
 * slot i lives at sp_slot[i & sp_mask].  The producer alone writes sp_tail
 * and the slots between sp_head and sp_tail + capacity; the consumer alone
 * writes sp_head.  A push stores the pointer, then publishes it with a
 * release store of sp_tail; a pop reads sp_tail with acquire before the
 * slot, and gives the slot back with a release store of sp_head.
 *
 * Each side keeps, on its own cache line, its index and a copy of the
 * other side's index, and reads the other side's line only when its copy
 * says the ring is full (producer) or empty (consumer): in steady flow the
 * two threads share one line per trip round the copies, not one per
 * pointer.
 */
#ifndef _TOOLS_BENCH_SPSC_H
#define	_TOOLS_BENCH_SPSC_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define	SPSC_LINE	64

struct spsc {
	/* Producer's line. */
	_Alignas(SPSC_LINE) _Atomic size_t sp_tail;	/* producer writes */
	size_t		sp_head_seen;	/* producer: last sp_head read */
	/* Consumer's line. */
	_Alignas(SPSC_LINE) _Atomic size_t sp_head;	/* consumer writes */
	size_t		sp_tail_seen;	/* consumer: last sp_tail read */
	/* Read-only after spsc_init. */
	_Alignas(SPSC_LINE) size_t sp_mask;	/* capacity - 1 */
	void		**sp_slot;	/* capacity pointers */
};

/* capacity must be a power of two; slots must hold capacity pointers. */
static inline void
spsc_init(struct spsc *r, void **slots, size_t capacity)
{
	atomic_init(&r->sp_tail, 0);
	atomic_init(&r->sp_head, 0);
	r->sp_head_seen = 0;
	r->sp_tail_seen = 0;
	r->sp_mask = capacity - 1;
	r->sp_slot = slots;
}

/* Producer: false when the ring is full. */
static inline bool
spsc_push(struct spsc *r, void *p)
{
	size_t t = atomic_load_explicit(&r->sp_tail, memory_order_relaxed);

	if (t - r->sp_head_seen > r->sp_mask) {
		r->sp_head_seen = atomic_load_explicit(&r->sp_head,
		    memory_order_acquire);
		if (t - r->sp_head_seen > r->sp_mask)
			return (false);
	}
	r->sp_slot[t & r->sp_mask] = p;
	atomic_store_explicit(&r->sp_tail, t + 1, memory_order_release);
	return (true);
}

/* Consumer: NULL when the ring is empty. */
static inline void *
spsc_pop(struct spsc *r)
{
	size_t h = atomic_load_explicit(&r->sp_head, memory_order_relaxed);
	void *p;

	if (h == r->sp_tail_seen) {
		r->sp_tail_seen = atomic_load_explicit(&r->sp_tail,
		    memory_order_acquire);
		if (h == r->sp_tail_seen)
			return (NULL);
	}
	p = r->sp_slot[h & r->sp_mask];
	atomic_store_explicit(&r->sp_head, h + 1, memory_order_release);
	return (p);
}

/*
 * Waiting for the other side: spin a little (it is usually a few
 * nanoseconds away), then yield, so that a machine with fewer free CPUs
 * than spinning threads still makes progress.
 */
static inline void
spsc_backoff(unsigned *spins)
{
	if (++*spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ __volatile__("yield");
#endif
	} else {
		(void) sched_yield();
	}
}

/* Push, waiting while the ring is full. */
static inline void
spsc_push_wait(struct spsc *r, void *p)
{
	unsigned spins = 0;

	while (!spsc_push(r, p))
		spsc_backoff(&spins);
}

/* Pop, waiting while the ring is empty. */
static inline void *
spsc_pop_wait(struct spsc *r)
{
	unsigned spins = 0;
	void *p;

	while ((p = spsc_pop(r)) == NULL)
		spsc_backoff(&spins);
	return (p);
}

#endif	/* _TOOLS_BENCH_SPSC_H */
