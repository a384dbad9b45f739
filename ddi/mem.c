/*
 * STREAMS memory: one fixed region per instance, and the budget.
 *
 * Principles of operation.  At boot the instance maps one region of
 * address space (below 4 GB with MAP_32BIT where the platform has it, as the
 * SVR5 allocb page promises), and creates a private jemalloc arena whose
 * extent hooks hand out pieces of that region and nothing else.  Every
 * STREAMS object -- message blocks, queues, stream heads, bufcall and
 * timeout records, kmem_alloc memory -- is allocated from that arena with
 * the thread cache disabled (a thread cache would keep blocks of other
 * arenas and leak blocks of ours).  When the region is used up, allocation
 * fails; nothing falls back to malloc.
 *
 * The budget (uc_memsize) is enforced by accounting, to the byte: the usable
 * size of every live arena allocation is charged against it.  The region is
 * larger than the budget by a fixed slack, because jemalloc keeps its own
 * metadata for the arena in the region too (a 2 MB block to start with) and
 * loses some space to size-class rounding of its extents; the slack is
 * address space only and is touched as jemalloc uses it.  So "budget" means
 * the bytes that STREAMS objects may occupy, and the region is what bounds
 * the arena as a whole.
 *
 * Locking: reg_lock protects the region's bump pointer in the extent alloc
 * hook, which jemalloc calls from any allocating thread.  The counters are
 * atomics.  wait_lock and wait_sv carry KM_SLEEP waiters.
 */
#include <sys/ustreams.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/ksynch.h>

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "mem.h"
#include "ksynch_impl.h"
#include "sysinit.h"

#define	REGION_ALIGN	(2u << 20)	/* jemalloc's metadata blocks: 2 MB */
#define	REGION_SLACK	(8u << 20)
#define	RETAIN_GROW	(1u << 20)	/* arena grows by 1 MB extents */

static struct {
	/* Set at boot, read-only until shutdown. */
	char		*m_base;	/* the region */
	size_t		m_regsize;
	bool		m_below4g;
	unsigned	m_arena;	/* jemalloc arena index */
	int		m_mflags;	/* MALLOCX_ARENA | MALLOCX_TCACHE_NONE */
	bool		m_up;

	/* reg_lock */
	char		*m_bump;	/* next free byte of the region */

	/* Atomics. */
	_Atomic size_t	m_charged;	/* live arena bytes (usable) */
	_Atomic int64_t	m_maxheld;	/* high-water of held */
	_Atomic uint64_t m_fail;	/* refusals by the budget */
	_Atomic int	m_waiters;	/* KM_SLEEP callers waiting */
	_Atomic size_t	m_overhead;	/* uncharged framework tables */

	struct ust_mem_hooks m_hooks;
} mem;

/* Read by every allocb: see mem.h. */
struct ust_mem_hot ust_mem_hot;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static lock_t wait_lock = UST_LOCK_INITIALIZER("kmem wait");
static sv_t wait_sv = UST_SV_INITIALIZER;
static _Atomic uint64_t wait_gen;	/* frees since; see ust_mem_get_sleep */

/*
 * Extent hooks.  jemalloc asks for page-aligned (or 2 MB aligned, for its
 * metadata) extents; we carve them from the region in address order.  An
 * extent it returns is retained by jemalloc (dalloc opts out), which keeps
 * the address range for reuse, so the bump pointer never needs to go back.
 * Split and merge are always allowed: every extent lies in one mapping.
 */
static void *
region_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align,
    bool *zero, bool *commit, unsigned ind)
{
	uintptr_t p;
	void *ret = NULL;

	(void) h; (void) ind;
	if (align == 0)
		align = 1;
	pthread_mutex_lock(&reg_lock);
	p = ((uintptr_t)mem.m_bump + align - 1) & ~((uintptr_t)align - 1);
	if ((new_addr == NULL || (uintptr_t)new_addr == p) &&
	    p + size >= p && p + size <= (uintptr_t)mem.m_base + mem.m_regsize) {
		mem.m_bump = (char *)(p + size);
		ret = (void *)p;
	}
	pthread_mutex_unlock(&reg_lock);
	if (ret != NULL) {
		*zero = true;		/* fresh anonymous memory */
		*commit = true;
	}
	return (ret);
}

static bool
region_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned ind)
{
	(void) h; (void) addr; (void) size; (void) committed; (void) ind;
	return (true);		/* opt out: jemalloc retains the range */
}

static void
region_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned ind)
{
	(void) h; (void) addr; (void) size; (void) committed; (void) ind;
	/* The region is unmapped whole at shutdown. */
}

static bool
region_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
    size_t size_b, bool committed, unsigned ind)
{
	(void) h; (void) addr; (void) size; (void) size_a; (void) size_b;
	(void) committed; (void) ind;
	return (false);
}

static bool
region_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
    size_t size_b, bool committed, unsigned ind)
{
	(void) h; (void) addr_a; (void) size_a; (void) addr_b; (void) size_b;
	(void) committed; (void) ind;
	return (false);
}

static extent_hooks_t region_hooks = {
	.alloc = region_alloc,
	.dalloc = region_dalloc,
	.destroy = region_destroy,
	.split = region_split,
	.merge = region_merge,
};

static size_t
region_size_for(size_t budget)
{
	size_t sz = budget + budget / 4 + REGION_SLACK;

	return ((sz + REGION_ALIGN - 1) & ~((size_t)REGION_ALIGN - 1));
}

static int
mem_init(const struct ustreams_config *cfg)
{
	extent_hooks_t *hp = &region_hooks;
	size_t sz = sizeof (unsigned);
	size_t grow = RETAIN_GROW;
	char name[64];
	void *p = MAP_FAILED;

	memset(&mem, 0, sizeof (mem));
	memset(&ust_mem_hot, 0, sizeof (ust_mem_hot));
	ust_mem_hot.mh_limit[MEM_LIM_HI] = (int64_t)cfg->uc_memsize;
	ust_mem_hot.mh_limit[MEM_LIM_LO] = (int64_t)(cfg->uc_memsize / 100 *
	    cfg->uc_lo_pct + cfg->uc_memsize % 100 * cfg->uc_lo_pct / 100);
	ust_mem_hot.mh_limit[MEM_LIM_MED] = (int64_t)(cfg->uc_memsize / 100 *
	    cfg->uc_med_pct + cfg->uc_memsize % 100 * cfg->uc_med_pct / 100);
	ust_mem_hot.mh_limit[0] = ust_mem_hot.mh_limit[MEM_LIM_LO];
	mem.m_regsize = region_size_for(cfg->uc_memsize);

#ifdef MAP_32BIT
	p = mmap(NULL, mem.m_regsize, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_32BIT, -1, 0);
#endif
	if (p != MAP_FAILED) {
		mem.m_below4g = true;
	} else {
		p = mmap(NULL, mem.m_regsize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			cmn_err(CE_WARN, "ustreams_boot: cannot map %zu bytes "
			    "of STREAMS memory: %s", mem.m_regsize,
			    strerror(errno));
			return (ENOMEM);
		}
		mem.m_below4g = (uintptr_t)p + mem.m_regsize <= (1ull << 32);
		if (!mem.m_below4g)
			cmn_err(CE_NOTE, "ustreams_boot: STREAMS memory is not "
			    "below 4 GB (MAP_32BIT unavailable or refused)");
	}
	mem.m_base = p;
	mem.m_bump = p;

	if (mallctl("arenas.create", &mem.m_arena, &sz, &hp,
	    sizeof (hp)) != 0) {
		cmn_err(CE_WARN, "ustreams_boot: jemalloc refused a private "
		    "arena");
		(void) munmap(mem.m_base, mem.m_regsize);
		return (ENOMEM);
	}
	(void) snprintf(name, sizeof (name), "arena.%u.retain_grow_limit",
	    mem.m_arena);
	(void) mallctl(name, NULL, NULL, &grow, sizeof (grow));
	mem.m_mflags = MALLOCX_ARENA(mem.m_arena) | MALLOCX_TCACHE_NONE;
	mem.m_up = true;
	return (0);
}

static void
mem_fini(void)
{
	char name[64];
	int64_t held = atomic_load(&ust_mem_hot.mh_held);
	size_t charged = atomic_load(&mem.m_charged);

	if (atomic_load(&mem.m_overhead) != 0)
		cmn_err(CE_WARN, "ustreams_shutdown: %zu bytes of framework "
		    "tables not released", atomic_load(&mem.m_overhead));
	if (held != 0 || charged != 0)
		cmn_err(CE_WARN, "ustreams_shutdown: %lld bytes of STREAMS "
		    "memory still in use (%zu allocated); released with the "
		    "region", (long long)held, charged);
	(void) snprintf(name, sizeof (name), "arena.%u.destroy", mem.m_arena);
	(void) mallctl(name, NULL, NULL, NULL, 0);
	(void) munmap(mem.m_base, mem.m_regsize);
	mem.m_up = false;
	mem.m_base = NULL;
}

USTREAMS_SYSINIT(mem, SI_ORDER_MEM, mem_init, mem_fini);

void
ust_mem_set_hooks(const struct ust_mem_hooks *hooks)
{
	if (hooks == NULL)
		memset(&mem.m_hooks, 0, sizeof (mem.m_hooks));
	else
		mem.m_hooks = *hooks;
}

/*
 * ust_mem_usable - the bytes an allocation of size really occupies.
 */
size_t
ust_mem_usable(size_t size)
{
	return (nallocx(size == 0 ? 1 : size, 0));
}

size_t
ust_mem_usable_of(const void *p)
{
	return (sallocx((void *)p, 0));
}

static bool
charge(size_t usable)
{
	size_t cur = atomic_load_explicit(&mem.m_charged, memory_order_relaxed);

	do {
		if (usable > ust_mem_size() - cur)
			return (false);
	} while (!atomic_compare_exchange_weak_explicit(&mem.m_charged, &cur,
	    cur + usable, memory_order_relaxed, memory_order_relaxed));
	return (true);
}

/*
 * ust_mem_get - take usable bytes (a size class, see ust_mem_usable) from
 * the region, charging the budget.  NULL when the budget or the region is
 * exhausted (after one attempt to reclaim cached objects).  Does not block.
 */
void *
ust_mem_get(size_t usable)
{
	void *p;

	ASSERT(mem.m_up);
	ASSERT(usable == ust_mem_usable(usable));
	if (!charge(usable)) {
		if (mem.m_hooks.mh_reclaim != NULL)
			mem.m_hooks.mh_reclaim();
		if (!charge(usable)) {
			atomic_fetch_add(&mem.m_fail, 1);
			return (NULL);
		}
	}
	p = mallocx(usable, mem.m_mflags);
	if (p == NULL) {
		atomic_fetch_sub(&mem.m_charged, usable);
		atomic_fetch_add(&mem.m_fail, 1);
		return (NULL);
	}
	ASSERT(ustreams_mem_contains(p, usable));
	return (p);
}

/*
 * ust_mem_put - give an allocation back to the region.
 */
void
ust_mem_put(void *p, size_t usable)
{
	ASSERT(ustreams_mem_contains(p, usable));
	sdallocx(p, usable, mem.m_mflags);
	atomic_fetch_sub(&mem.m_charged, usable);
	if (atomic_load(&mem.m_waiters) > 0) {
		(void) LOCK(&wait_lock, plbase);
		atomic_fetch_add(&wait_gen, 1);
		SV_BROADCAST(&wait_sv, 0);
		UNLOCK(&wait_lock, plbase);
	}
}

/*
 * ust_mem_get_overhead, ust_mem_put_overhead - memory for the framework's
 * own tables: from the region, zeroed, not charged to the budget.
 */
void *
ust_mem_get_overhead(size_t size)
{
	void *p = mallocx(size, mem.m_mflags | MALLOCX_ZERO);

	if (p != NULL)
		atomic_fetch_add(&mem.m_overhead, ust_mem_usable(size));
	return (p);
}

void
ust_mem_put_overhead(void *p, size_t size)
{
	ASSERT(ustreams_mem_contains(p, size));
	sdallocx(p, size, mem.m_mflags);
	atomic_fetch_sub(&mem.m_overhead, ust_mem_usable(size));
}

void
ust_mem_note_max(int64_t held)
{
	int64_t max = atomic_load_explicit(&mem.m_maxheld,
	    memory_order_relaxed);

	while (held > max && !atomic_compare_exchange_weak_explicit(
	    &mem.m_maxheld, &max, held, memory_order_relaxed,
	    memory_order_relaxed))
		;
}

/*
 * ust_mem_hold - held += delta.  Positive deltas raise the high-water mark.
 * Whoever frees calls ust_mem_released() once it is done.
 */
void
ust_mem_hold(int64_t delta)
{
	int64_t now = atomic_fetch_add_explicit(&ust_mem_hot.mh_held, delta,
	    memory_order_seq_cst) + delta;

	if (delta > 0)
		ust_mem_note_max(now);
}

/*
 * ust_mem_fold - a CPU folds its part: held += delta, and the high-water
 * mark is raised to what held was before plus the highest the CPU's part
 * reached since its last fold.
 */
void
ust_mem_fold(int64_t delta, int64_t maxdelta)
{
	int64_t before = atomic_fetch_add_explicit(&ust_mem_hot.mh_held, delta,
	    memory_order_seq_cst);

	if (maxdelta > 0)
		ust_mem_note_max(before + maxdelta);
}

/*
 * ust_mem_released - memory was freed: run the release hook (bufcall's
 * due check; cheap when no one waits).
 */
void
ust_mem_released(void)
{
	if (mem.m_hooks.mh_release != NULL)
		mem.m_hooks.mh_release();
}

/*
 * ustreams_mem_contains - true when [p, p+len) lies in the instance's
 * STREAMS memory region.  Any context.
 */
bool
ustreams_mem_contains(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)mem.m_base;

	return (mem.m_base != NULL && a >= b && len <= mem.m_regsize &&
	    a - b <= mem.m_regsize - len);
}

/*
 * ustreams_memstat - the budget's numbers.  0, or ENXIO when no instance
 * is booted.  Any context; does not block.
 */
int
ustreams_memstat(struct ustreams_memstat *msp)
{
	int64_t held, folded, maxpart = 0;
	size_t cached = 0;

	if (!mem.m_up)
		return (ENXIO);
	held = folded = atomic_load(&ust_mem_hot.mh_held);
	if (mem.m_hooks.mh_unfolded != NULL)
		held += mem.m_hooks.mh_unfolded(&cached, &maxpart);
	memset(msp, 0, sizeof (*msp));
	msp->ms_size = ust_mem_size();
	msp->ms_inuse = held < 0 ? 0 : (size_t)held;
	msp->ms_maxinuse = (size_t)atomic_load(&mem.m_maxheld);
	if (maxpart > 0 && folded + maxpart > (int64_t)msp->ms_maxinuse)
		msp->ms_maxinuse = (size_t)(folded + maxpart);
	if (msp->ms_maxinuse < msp->ms_inuse)
		msp->ms_maxinuse = msp->ms_inuse;
	msp->ms_cached = cached;
	msp->ms_overhead = atomic_load(&mem.m_overhead);
	msp->ms_lo_limit = ust_mem_lo_limit();
	msp->ms_med_limit = ust_mem_med_limit();
	msp->ms_fail = atomic_load(&mem.m_fail);
	msp->ms_region = mem.m_base;
	msp->ms_region_size = mem.m_regsize;
	msp->ms_below4g = mem.m_below4g;
	return (0);
}

/*
 * KM_SLEEP support: wait until ust_mem_put() gives memory back.
 *
 * The waiter counts itself (m_waiters) before it reads wait_gen and tries;
 * ust_mem_put() gives the memory back before it reads m_waiters, and, if
 * anyone waits, bumps wait_gen and broadcasts under wait_lock.  So either
 * the try sees the memory, or the waiter finds wait_gen changed under the
 * lock, or it is asleep when the broadcast comes: no wake-up is lost.  The
 * try itself runs without wait_lock, because the budget's refusal runs
 * the reclaim hook, which gives cached objects back through ust_mem_put.
 * The first waiter asks the caches (mh_sleepers) to give what is freed
 * back to the arena while anyone waits: a free into a cache would wake
 * no one.
 */
void *
ust_mem_get_sleep(size_t usable, const void *caller)
{
	void *p;

	(void) LOCK(&wait_lock, plbase);
	if (atomic_fetch_add(&mem.m_waiters, 1) == 0 &&
	    mem.m_hooks.mh_sleepers != NULL)
		mem.m_hooks.mh_sleepers(true);
	UNLOCK(&wait_lock, plbase);
	for (;;) {
		uint64_t gen = atomic_load(&wait_gen);

		if ((p = ust_mem_get(usable)) != NULL)
			break;
		(void) LOCK(&wait_lock, plbase);
		if (atomic_load(&wait_gen) == gen)
			ust_sv_wait(&wait_sv, &wait_lock, "kmem_alloc", caller);
		else
			UNLOCK(&wait_lock, plbase);
	}
	(void) LOCK(&wait_lock, plbase);
	if (atomic_fetch_sub(&mem.m_waiters, 1) == 1 &&
	    mem.m_hooks.mh_sleepers != NULL)
		mem.m_hooks.mh_sleepers(false);
	UNLOCK(&wait_lock, plbase);
	return (p);
}
