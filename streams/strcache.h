/*
 * The STREAMS buffer caches (private to streams/).
 *
 * Every message-block allocation is one object of a size class: a bare
 * message block (for dupb), an esballoc header, or a data class holding an
 * mblk, its dblk and the buffer in one piece.  The caches hand objects out
 * and take them back through per-CPU magazines over the region's arena;
 * see strcache.c for how, and for how "in use" is counted.
 *
 * An object is opaque here but for its first 64 bytes, which are always a
 * message block.  A free object is not linked through itself: magazines
 * are arrays of pointers, so that taking an object from a cache reads
 * nothing of the object (see strcache.c).
 */
#ifndef _STREAMS_STRCACHE_H
#define	_STREAMS_STRCACHE_H

#include <sys/stream.h>
#include <sys/ustreams_stat.h>
#include <stdatomic.h>
#include <sys/queue.h>

#include "../ddi/mem.h"
#include "admission.h"

#define	SC_MBLK		0	/* a bare message block: 64 bytes */
#define	SC_ESB		1	/* esballoc header: mblk, dblk, event */
#define	SC_DATA0	2	/* first data class */
#define	SC_NDATA	11	/* data classes */
#define	SC_NCLASS	(SC_DATA0 + SC_NDATA)
#define	SC_OVERSIZE	SC_NCLASS	/* statistics row: no cache */

#define	SC_HDRSIZE	128	/* mblk + dblk in front of the data */
#define	SC_ESBSIZE	256	/* mblk + dblk + deferred-free event */

/* Footprint (bytes) and, for data classes, buffer bytes of a class. */
extern const uint32_t strclass_footprint[SC_NCLASS];

/*
 * The data class whose buffer holds size bytes, or SC_OVERSIZE.
 * Classes by buffer size: 64, 128, 256, 512, 1152, 2432, 4992, 10112,
 * 20352, 40832, 81792 (footprints 192 ... 81920, all jemalloc size classes,
 * so nothing is lost to rounding).  Every buffer size is a multiple of 64,
 * so a table by 64-byte steps answers exactly.
 */
#define	SC_DATA_MAX	81792		/* largest data class buffer */
extern uint8_t strclass_by64[SC_DATA_MAX / 64 + 1];

/* The class of a size known to be at most SC_DATA_MAX. */
static inline size_t
strclass_data(uint32_t size)
{
	return (strclass_by64[(size + 63) / 64]);
}

static inline unsigned
strclass_of(uint32_t size)
{
	if (__builtin_expect(size > SC_DATA_MAX, 0))
		return (SC_OVERSIZE);
	return (strclass_data(size));
}

/*
 * A CPU's cache.  Written only by its thread.  Other threads (statistics)
 * read the counters and magazine counts with relaxed atomic loads
 * (pc_ld, mag_ld); the owner writes them with relaxed atomic stores
 * (pc_st, mag_st) -- except on the fast paths below, which only release
 * builds compile: there plain arithmetic lets the compiler update the
 * counters in place, one instruction each.  An aligned store is never
 * torn on the machines ustreams runs on, so a reader still sees some
 * value the counter had; the sanitizer builds, which check the protocol,
 * run the atomic version.
 *
 * A magazine (struct strmag, strcache.c) is an array of up to cc_depth
 * pointers to free objects.  The class line holds all the fast paths
 * read or write but for one array slot: the loaded magazine's array and
 * count, and the previous magazine and its count.  The counts live here,
 * not in the magazines, so that the statistics read them without
 * following a pointer to a magazine another CPU may take meanwhile.
 *
 * cc_depth is the capacity of both magazines.  cc_room is how far freeb's
 * fast path may fill the loaded one: cc_depth for a data class, 0 for
 * the classes whose frees must take the general path (SC_MBLK, SC_ESB,
 * and the oversize row, which has no cache): so that freeb need not look
 * at the class.  A CPU always has both magazines of every class (it is
 * not created without them), so cc_obj and cc_prev are never NULL but in
 * the oversize row, whose counts stay 0.
 */
struct strmag;

struct strcpu_class {
	mblk_t		**cc_obj;	/* loaded magazine's array, [0, cc_n) */
	int		cc_n;		/* objects in the loaded magazine */
	int		cc_room;	/* freeb's fast path fills to here */
	uint64_t	cc_dbword;	/* a fresh dblk's db_ref .. db_usize */
	int64_t		cc_inuse;	/* in use, not yet folded */
	int64_t		cc_inuse_max;	/* max of cc_inuse since the fold */
	int64_t		cc_total;	/* allocations, not yet folded */
	struct strmag	*cc_prev;	/* the previous magazine */
	int		cc_nprev;	/* objects in it: 0 or cc_depth */
	int		cc_depth;	/* capacity of both; set once */
};
_Static_assert(sizeof (struct strcpu_class) == 64, "one line per class");

struct strcpu {
	struct strcpu_class sc_cls[SC_NCLASS + 1];	/* + the oversize row */
	int64_t		sc_held;	/* held bytes, not yet folded */
	int64_t		sc_held_max;	/* max of sc_held since the fold */
	int64_t		sc_fold;	/* fold at this many bytes; set once */
	int64_t		sc_fold_neg;	/* -sc_fold */
	LIST_ENTRY(strcpu) sc_link;	/* cpu_lock */
};

/*
 * A CPU folds its counts when its unfolded bytes reach sc_fold either way:
 * a 64th of the budget, within these bounds.  Large enough that a burst
 * of receive buffers (32 of 2 KB) does not fold; small enough that the
 * error other CPUs add to admission stays a small part of the budget.
 */
#define	FOLD_BYTES_MIN	(64 * 1024)
#define	FOLD_BYTES_MAX	(1024 * 1024)

#define	STRCACHE_TLS	__attribute__((tls_model("initial-exec")))
extern __thread struct strcpu *strcpu_tls STRCACHE_TLS;
extern __thread uint64_t strcpu_tls_gen STRCACHE_TLS;
extern _Atomic uint64_t strcache_gen;

/*
 * strcache_gen is the running instance's generation, 0 while none runs.
 * strcpu_tls_gen is the generation of the instance strcpu_tls belongs to,
 * or STRCPU_NOGEN when the thread has no CPU: so the two are equal exactly
 * when strcpu_tls may be used, and one comparison tells.
 */
#define	STRCPU_NOGEN	UINT64_MAX

/* The slow paths, out of line. */
extern struct strcpu *strcpu_create(void);
extern bool strcache_refill(struct strcpu *cpu, unsigned cls);
extern void strcache_free_slow(struct strcpu *cpu, unsigned cls,
    mblk_t *obj);
extern void strcache_fold(struct strcpu *cpu);
extern void strcache_fold_release(struct strcpu *cpu);

/*
 * Set while someone waits for memory (bufcall): frees then fold their
 * accounting at once and tell the waiters, instead of batching.  Set it
 * with strcache_set_waiters, which also turns the fast paths off.
 */
extern _Atomic int strcache_waiters;
extern void strcache_set_waiters(bool waiting);

/*
 * strcache_fastgen is strcache_gen while freeb's fast path may run (no one
 * waits for memory), else 0, which matches no thread: so one comparison
 * tells the fast path both that the thread's CPU is valid and that it may
 * go ahead.  allocb's fast path compares with strcache_gen: an allocation
 * owes the waiters nothing, while a free must fold at once and may have
 * to call one back.
 */
extern _Atomic uint64_t strcache_fastgen;

/* The calling thread's CPU, created on first use; NULL if none can be. */
static inline __attribute__((always_inline)) struct strcpu *
strcpu_self(void)
{
	if (__builtin_expect(strcpu_tls_gen ==
	    atomic_load_explicit(&strcache_gen, memory_order_relaxed), 1))
		return (strcpu_tls);
	return (strcpu_create());
}

static inline int64_t
sc_ld(_Atomic int64_t *c)
{
	return (atomic_load_explicit(c, memory_order_relaxed));
}

static inline void
sc_st(_Atomic int64_t *c, int64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

/* A CPU's counters: see struct strcpu_class. */
static inline int64_t
pc_ld(int64_t *c)
{
	return (__atomic_load_n(c, __ATOMIC_RELAXED));
}

static inline void
pc_st(int64_t *c, int64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

/* A CPU's magazine counts (cc_n, cc_nprev): see struct strcpu_class. */
static inline int
mag_ld(int *np)
{
	return (__atomic_load_n(np, __ATOMIC_RELAXED));
}

static inline void
mag_st(int *np, int n)
{
	__atomic_store_n(np, n, __ATOMIC_RELAXED);
}

/* Exact bytes in use (sums every CPU; takes a lock); see strcache.c. */
extern int64_t strcache_held_exact(int64_t *negp);

/* Bytes in use as this CPU sees them: the global count and its own part. */
static inline int64_t
strcpu_held(struct strcpu *cpu)
{
	return (ust_mem_held() + pc_ld(&cpu->sc_held));
}

/*
 * Debug and AddressSanitizer builds poison free objects, and
 * ThreadSanitizer checks the counters' protocol: no fast path.
 */
#if defined(DEBUG) || defined(__SANITIZE_ADDRESS__) || \
	defined(__SANITIZE_THREAD__)
#define	STRCACHE_FAST	0
#else
#define	STRCACHE_FAST	1
#endif

/*
 * strcache_alloc - an object of class cls, charged to the budget and
 * counted in use.  NULL when the budget or the region is exhausted.
 * Any context; does not block.
 */
static inline __attribute__((always_inline)) mblk_t *
strcache_alloc(struct strcpu *cpu, unsigned cls)
{
	struct strcpu_class *cc = &cpu->sc_cls[cls];
	mblk_t *obj;
	int64_t n, held;
	int top;

	if (__builtin_expect(!STRCACHE_FAST || mag_ld(&cc->cc_n) == 0, 0) &&
	    !strcache_refill(cpu, cls))
		return (NULL);
	top = mag_ld(&cc->cc_n) - 1;
	obj = cc->cc_obj[top];
	mag_st(&cc->cc_n, top);

	/* Counted here; high-water marks are folded later (see .c). */
	n = pc_ld(&cc->cc_inuse) + 1;
	pc_st(&cc->cc_inuse, n);
	if (n > pc_ld(&cc->cc_inuse_max))
		pc_st(&cc->cc_inuse_max, n);
	pc_st(&cc->cc_total, pc_ld(&cc->cc_total) + 1);
	held = pc_ld(&cpu->sc_held) + strclass_footprint[cls];
	pc_st(&cpu->sc_held, held);
	if (held > pc_ld(&cpu->sc_held_max))
		pc_st(&cpu->sc_held_max, held);
	if (__builtin_expect(held >= cpu->sc_fold, 0))
		strcache_fold(cpu);
	return (obj);
}

/*
 * The fast paths of allocb and freeb (release builds only).  Each does the
 * whole job when the common case holds, and otherwise returns having
 * changed nothing, so that the caller takes the general path above.  The
 * common case: this thread has its CPU in the running instance; the loaded
 * magazine can give (take) an object; an allocation has a valid priority,
 * is admitted and needs no fold; a free needs no fold, and no one waits
 * for memory (see strcache_fastgen).  No call is made, so the fast paths
 * need no stack frame.  Besides the CPU's lines they touch one slot of
 * the loaded magazine's array and nothing of the object: the object may
 * have been freed on another CPU, and a load from it would be a miss
 * nothing could overlap (see strcache.c).
 * The high-water marks are kept here too: a producer (a receive interrupt
 * whose blocks another thread frees) sets a new one on every allocation.
 *
 * Admission here does not clamp a negative count to 0 as str_admit does:
 * it can only be negative by other CPUs' unfolded frees, the slack
 * admission has anyway.
 *
 * cc_dbword is the 8 bytes of a fresh dblk from db_ref to db_usize (ref 1,
 * M_DATA, the class, DB_UALLOC, the footprint), written with one store;
 * its upper half is the footprint.
 */
static inline __attribute__((always_inline)) mblk_t *
strcache_alloc_fast(size_t cls, uint_t pri, uint64_t *dbwordp)
{
	struct strcpu *cpu = strcpu_tls;
	struct strcpu_class *cc;
	mblk_t *obj;
	int64_t held, n;
	uint64_t dbword;
	int top;

	if (!STRCACHE_FAST || __builtin_expect(strcpu_tls_gen !=
	    atomic_load_explicit(&strcache_gen, memory_order_relaxed) ||
	    pri > BPRI_HI, 0))
		return (NULL);
	cc = &cpu->sc_cls[cls];
	dbword = cc->cc_dbword;
	held = cpu->sc_held + (int64_t)(dbword >> 32);
	if (__builtin_expect(held >= cpu->sc_fold ||
	    held + ust_mem_held() > ust_mem_hot.mh_limit[pri], 0))
		return (NULL);
	n = cc->cc_inuse + 1;
	top = cc->cc_n - 1;
	if (__builtin_expect(top < 0, 0))
		return (NULL);
	obj = cc->cc_obj[top];
	/* A magazine holds objects only: allocb need not test for NULL. */
	if (obj == NULL)
		__builtin_unreachable();
	cc->cc_n = top;
	cc->cc_inuse = n;
	if (n > cc->cc_inuse_max)
		cc->cc_inuse_max = n;
	cc->cc_total++;
	cpu->sc_held = held;
	if (held > cpu->sc_held_max)
		cpu->sc_held_max = held;
	*dbwordp = dbword;
	return (obj);
}

static inline __attribute__((always_inline)) bool
strcache_free_fast(size_t cls, mblk_t *obj)
{
	struct strcpu *cpu = strcpu_tls;
	struct strcpu_class *cc;
	int64_t held;
	int top;

	if (!STRCACHE_FAST || __builtin_expect(strcpu_tls_gen !=
	    atomic_load_explicit(&strcache_fastgen, memory_order_relaxed), 0))
		return (false);
	cc = &cpu->sc_cls[cls];
	held = cpu->sc_held - (int64_t)(cc->cc_dbword >> 32);
	top = cc->cc_n;
	if (__builtin_expect(top >= cc->cc_room ||
	    held <= cpu->sc_fold_neg, 0))
		return (false);
	cc->cc_obj[top] = obj;
	cc->cc_n = top + 1;
	cc->cc_inuse--;
	cpu->sc_held = held;
	return (true);
}

/*
 * strcache_free - give an object of class cls back.  Any context; does
 * not block.  A data class takes freeb's fast path when it can; the
 * others (SC_MBLK, SC_ESB) and every other case take the general one.
 */
static inline __attribute__((always_inline)) void
strcache_free(unsigned cls, mblk_t *obj)
{
	if (!strcache_free_fast(cls, obj))
		strcache_free_slow(strcpu_self(), cls, obj);
}

/*
 * Admission for an allocation on this CPU (str_admit, admission.h).  Its
 * view -- the global count and its own part -- decides when it admits;
 * a refusal is checked against the exact count, which adds what other
 * CPUs have not folded yet.  Their unfolded frees would otherwise keep
 * memory from a caller that bufcall, judging by the exact count, calls
 * back at once: refused again, it would go round for ever.  So a refusal
 * is exact, and an admission errs by at most sc_fold per other CPU.
 */
static inline bool
strcpu_admit(struct strcpu *cpu, uint_t pri, size_t footprint)
{
	return (str_admit(pri, footprint, strcpu_held(cpu)) ||
	    str_admit(pri, footprint, strcache_held_exact(NULL)));
}

/* Oversize objects: straight from the arena, counted in the oversize row. */
extern mblk_t *strcache_alloc_oversize(size_t footprint);
extern void strcache_free_oversize(mblk_t *obj, size_t footprint);

/* Refusal counters, by class and by priority (BPRI_LO..BPRI_HI). */
extern void strcache_count_fail(unsigned cls, unsigned pri);
extern void strcache_count_badsize(void);

#endif	/* _STREAMS_STRCACHE_H */
