/*
 * STREAMS memory: the region and its budget (private side).
 *
 * Two quantities are kept, both in usable bytes (the size class jemalloc
 * rounds a request to, so that the numbers are what the region really
 * gives up):
 *
 *   charged   bytes of live allocations from the region's arena: objects
 *             in use plus objects parked in per-CPU caches.  Never above the
 *             budget; ust_mem_get() refuses the allocation that would pass
 *             it.  Exact at all times (one atomic per arena call).
 *
 *   held      bytes of objects in use by STREAMS code: what admission
 *             (BPRI_LO/MED/HI) and the statistics call "in use".  kmem adds
 *             to it directly; the buffer caches fold per-CPU deltas into it
 *             in batches (see streams/strcache.c), so it is exact whenever
 *             one thread allocates, and within the caches' fold slack
 *             otherwise.
 *
 * held <= charged <= budget.
 *
 * The framework's own fixed overhead -- the bufcall reserve, per-CPU cache
 * records -- also lives in the region but is not charged: the budget is
 * for STREAMS objects, so a fresh instance has 0 bytes in use, as users
 * expect.  It is counted apart (ms_overhead) and fits in the region's
 * slack.
 */
#ifndef _DDI_MEM_H
#define	_DDI_MEM_H

#include <sys/ustreams.h>
#include <stdatomic.h>

extern void *ust_mem_get(size_t usable);
extern void *ust_mem_get_sleep(size_t usable, const void *caller);
extern void ust_mem_put(void *p, size_t usable);
extern void *ust_mem_get_overhead(size_t size);
extern void ust_mem_put_overhead(void *p, size_t size);
extern size_t ust_mem_usable(size_t size);
extern size_t ust_mem_usable_of(const void *p);

extern void ust_mem_hold(int64_t delta);
extern void ust_mem_fold(int64_t delta, int64_t maxdelta);
extern void ust_mem_note_max(int64_t held);

/*
 * What every allocb reads: the limits, set at boot, and the folded held
 * count, written only when a CPU folds, on a cache line of its own.
 * mh_limit is indexed by priority -- the MEM_LIM_* values are those of
 * BPRI_LO, BPRI_MED and BPRI_HI (streams/admission.h checks) -- and [0]
 * is the LO limit again, where an invalid priority lands.
 */
#define	MEM_LIM_LO	1
#define	MEM_LIM_MED	2
#define	MEM_LIM_HI	3	/* the budget itself */

struct ust_mem_hot {
	int64_t		mh_limit[4];	/* admitted up to this, by priority */
	_Alignas(64) _Atomic int64_t mh_held;	/* bytes in use, folded */
	char		mh_pad[64 - sizeof (int64_t)];
};
extern struct ust_mem_hot ust_mem_hot;

/* The budget; BPRI_HI is admitted up to it. */
static inline size_t
ust_mem_size(void)
{
	return ((size_t)ust_mem_hot.mh_limit[MEM_LIM_HI]);
}

static inline size_t
ust_mem_lo_limit(void)
{
	return ((size_t)ust_mem_hot.mh_limit[MEM_LIM_LO]);
}

static inline size_t
ust_mem_med_limit(void)
{
	return ((size_t)ust_mem_hot.mh_limit[MEM_LIM_MED]);
}

static inline int64_t
ust_mem_held(void)
{
	return (atomic_load_explicit(&ust_mem_hot.mh_held,
	    memory_order_relaxed));
}
extern void ust_mem_released(void);

/*
 * Hooks for the layers above, set by their SYSINIT and cleared by their
 * fini:
 *  - reclaim: give cached objects back to the arena; called when the
 *    budget refuses an arena allocation, before the refusal is final.
 *  - unfolded: held bytes not yet folded into the global count, the
 *    highest unfolded part of any CPU since its last fold, and the bytes
 *    cached (for ustreams_memstat).
 *  - release: called after held went down, so that bufcall can look for
 *    waiters that are now due.  It must be cheap when no one waits.
 *  - sleepers: KM_SLEEP callers begin (true) or cease (false) to wait for
 *    the budget; while they wait, cached objects should go back to the
 *    arena as they are freed, where the sleepers can have them.  Called
 *    with the sleepers' lock held: it must not free or allocate.
 */
struct ust_mem_hooks {
	void	(*mh_reclaim)(void);
	int64_t	(*mh_unfolded)(size_t *cachedp, int64_t *maxp);
	void	(*mh_release)(void);
	void	(*mh_sleepers)(bool waiting);
};
extern void ust_mem_set_hooks(const struct ust_mem_hooks *hooks);

#endif	/* _DDI_MEM_H */
