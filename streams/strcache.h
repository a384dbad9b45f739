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
 * message block: while the object is free, the cache uses b_next, b_prev
 * and b_rptr of that block as its own links.
 */
#ifndef _STREAMS_STRCACHE_H
#define	_STREAMS_STRCACHE_H

#include <sys/stream.h>
#include <sys/ustreams_stat.h>
#include <stdatomic.h>

#define	SC_MBLK		0	/* a bare message block: 64 bytes */
#define	SC_ESB		1	/* esballoc header: mblk, dblk, event */
#define	SC_DATA0	2	/* first data class */
#define	SC_NDATA	11	/* data classes */
#define	SC_NCLASS	(SC_DATA0 + SC_NDATA)
#define	SC_OVERSIZE	SC_NCLASS	/* statistics row: no cache */

#define	SC_HDRSIZE	128	/* mblk + dblk in front of the data */
#define	SC_ESBSIZE	256	/* mblk + dblk + deferred-free event */

struct strcpu;

/* Footprint (bytes) and, for data classes, buffer bytes of a class. */
extern const uint32_t strclass_footprint[SC_NCLASS];

/*
 * The data class whose buffer holds size bytes, or SC_OVERSIZE.
 * Classes by buffer size: 64, 128, 256, 512, 1152, 2432, 4992, 10112,
 * 20352, 40832, 81792 (footprints 192 ... 81920, all jemalloc size classes,
 * so nothing is lost to rounding).
 */
static inline unsigned
strclass_of(uint32_t size)
{
	unsigned k;

	if (size <= 64)
		return (SC_DATA0);
	/* The power-of-two bucket, then one class down if that fits. */
	k = 32 - (unsigned)__builtin_clz(size - 1) - 6;
	if (k > SC_NDATA)
		return (SC_OVERSIZE);
	if (size <= strclass_footprint[SC_DATA0 + k - 1] - SC_HDRSIZE)
		return (SC_DATA0 + k - 1);
	if (k == SC_NDATA)
		return (SC_OVERSIZE);
	return (SC_DATA0 + k);
}

/* The calling thread's CPU, created on first use; NULL if none can be. */
extern struct strcpu *strcpu_self(void);

/* Bytes in use as this CPU sees them: the global count and its own part. */
extern int64_t strcpu_held(struct strcpu *cpu);

/*
 * strcache_alloc - an object of class cls, charged to the budget and
 * counted in use.  NULL when the budget or the region is exhausted.
 * strcache_free - give it back.  Any context; neither blocks.
 */
extern mblk_t *strcache_alloc(struct strcpu *cpu, unsigned cls);
extern void strcache_free(unsigned cls, mblk_t *obj);

/* Oversize objects: straight from the arena, counted in the oversize row. */
extern mblk_t *strcache_alloc_oversize(size_t footprint);
extern void strcache_free_oversize(mblk_t *obj, size_t footprint);

/* Exact bytes in use (sums every CPU; takes a lock). */
extern int64_t strcache_held_exact(void);

/* Refusal counters, by class and by priority (BPRI_LO..BPRI_HI). */
extern void strcache_count_fail(unsigned cls, unsigned pri);
extern void strcache_count_badsize(void);

/*
 * Set while someone waits for memory (bufcall): frees then fold their
 * accounting at once and tell the waiters, instead of batching.
 */
extern _Atomic int strcache_waiters;

#endif	/* _STREAMS_STRCACHE_H */
