/*
 * Message blocks: allocb, esballoc, desballoc, allocb_physreq, testb,
 * dupb, freeb, freemsg.
 *
 * Principles of operation.  A message block (mblk) is a window on a data
 * block (dblk), which describes a buffer.  allocb makes all three in one
 * object of a size class (streams/strcache.c):
 *
 *	+--------------+--------------+-----------------------------+
 *	| mblk (64 B)  | dblk (64 B)  | buffer: db_base .. db_lim   |
 *	+--------------+--------------+-----------------------------+
 *
 * so an allocb is one cache pop and a freeb one push.  The mblk in front
 * of a dblk is its "home" block (MB_UHOME).  dupb makes a bare mblk (class
 * SC_MBLK) pointing at the same dblk and counts a reference; esballoc and
 * desballoc make a header-only object whose dblk describes the caller's
 * buffer.  Objects too large for a class ("oversize") come straight from
 * the arena, laid out the same way.
 *
 * Invariants:
 *  - db_ref counts the mblks whose b_datap names the dblk, plus one for
 *    its home mblk while that mblk is in use but names another dblk (only
 *    pullupmsg re-points a block); so the object is given back exactly when
 *    db_ref drops to 0, and its home mblk is then always free.  An
 *    esballoc object counts its home mblk apart (DB_UHOLDS, mblk_impl.h),
 *    so that its free routine runs when the last block naming the caller's
 *    buffer goes.
 *  - b_ustate is MB_UALLOC from allocation to free, MB_UFREE after;
 *    freeb, freemsg and dupb check it, in every build, so a block freed
 *    twice is reported (with where it was freed first) instead of
 *    corrupting the caches -- as long as the block has not been handed out
 *    again in between (the caches reuse the most recently freed block
 *    first, so free, allocb, free of a stale pointer frees the new
 *    owner's block: no allocator can tell that from a legitimate free).
 *  - db_ref <= DBLK_REFMAX.
 *
 * Free routines: desballoc's runs in the context of the freeb that drops
 * the last reference, as on SVR5 (so it must be callable from interrupt
 * context); esballoc's is deferred to service context through the
 * executive, so a driver's free routine never runs inside another
 * driver's interrupt handler or with its locks held.
 */
#include <sys/stream.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/kmem.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../ddi/exec.h"
#include "../ddi/mem.h"
#include "../ddi/where.h"
#include "admission.h"
#include "mblk_impl.h"
#include "strcache.h"

_Static_assert(sizeof (mblk_t) == 64, "mblk_t is one cache line");
_Static_assert(sizeof (dblk_t) == 64, "dblk_t is one cache line");
_Static_assert(sizeof (mblk_t) + sizeof (dblk_t) == SC_HDRSIZE,
	"header size");
_Static_assert(2 * 64 + sizeof (struct ust_event) <= SC_ESBSIZE,
	"esballoc object holds its free event");

void
mblk_misuse(const char *func, mblk_t *mp, const void *caller)
{
	char b1[UST_WHERE_LEN], b2[UST_WHERE_LEN];

	cmn_err(CE_PANIC, "%s: message block %p is not allocated (freed "
	    "twice?): last freed from %s; now called from %s", func,
	    (void *)mp, ust_where(mp->b_ufreer, b1, sizeof (b1)),
	    ust_where(caller, b2, sizeof (b2)));
}

/* A fresh message block over dbp, whose data starts at base. */
static inline __attribute__((always_inline)) mblk_t *
mblk_fresh(mblk_t *mp, dblk_t *dbp, unsigned char *base)
{
	mp->b_next = NULL;
	mp->b_prev = NULL;
	mp->b_cont = NULL;
	mp->b_rptr = base;
	mp->b_wptr = base;
	mp->b_datap = dbp;
	mp->b_band = 0;
	mp->b_flag = 0;
	mp->b_ustate = MB_UALLOC;
	mp->b_uflags = MB_UHOME;
	return (mp);
}

/* Set up a fresh object's mblk and dblk over a buffer. */
static inline mblk_t *
mblk_init(mblk_t *mp, unsigned cls, uint32_t footprint, unsigned char *base,
    unsigned char *lim)
{
	dblk_t *dbp = MB_HOMEDB(mp);

	dbp->db_frtnp = NULL;
	dbp->db_base = base;
	dbp->db_lim = lim;
	dbp->db_ref = 1;
	dbp->db_type = M_DATA;
	dbp->db_uclass = (unsigned char)cls;
	dbp->db_ustate = DB_UALLOC;
	dbp->db_usize = footprint;
	dbp->db_upad[0] = 0;
	return (mblk_fresh(mp, dbp, base));
}

/*
 * The constructor of a data-class object, run when it first comes from
 * the arena: the dblk fields that stay the same for the object's life in
 * the cache.  allocb's fast path relies on them (and debug builds check,
 * when the block is freed, that nobody changed them).
 */
void
mblk_ctor(mblk_t *obj, unsigned cls)
{
	ASSERT(cls >= SC_DATA0 && cls < SC_NCLASS);
	(void) mblk_init(obj, cls, strclass_footprint[cls],
	    (unsigned char *)(obj + 2),
	    (unsigned char *)obj + strclass_footprint[cls]);
}

/*
 * The largest footprint of one block: the budget, and what db_usize can
 * record.  physreq_prep refuses an alignment no block could meet.
 */
static size_t
mblk_footprint_max(void)
{
	return (ust_mem_size() < UINT32_MAX ? ust_mem_size() : UINT32_MAX);
}

static __attribute__((noinline, cold)) mblk_t *
allocb_oversize(uint32_t size, uint_t pri, size_t align, size_t boundary)
{
	size_t slack = (align > 1 ? align - 1 : 0) + (boundary != 0 ? size : 0);
	size_t need = SC_HDRSIZE + (size_t)size + slack;
	size_t footprint;
	struct strcpu *cpu;
	unsigned char *base, *lim;
	uintptr_t b;
	mblk_t *mp;

	/*
	 * Callers bound size and align by the budget, so need cannot wrap;
	 * a footprint past what a block can record is refused like one past
	 * the budget (nallocx answers 0 for sizes it cannot serve).
	 */
	ASSERT(need >= slack);
	footprint = need <= mblk_footprint_max() ? ust_mem_usable(need) : 0;
	if (footprint < need || footprint > mblk_footprint_max()) {
		strcache_count_fail(SC_OVERSIZE, pri);
		return (NULL);
	}
	cpu = strcpu_self();
	if (cpu == NULL || !strcpu_admit(cpu, pri, footprint) ||
	    (mp = strcache_alloc_oversize(footprint)) == NULL) {
		strcache_count_fail(SC_OVERSIZE, pri);
		return (NULL);
	}
	b = (uintptr_t)mp + SC_HDRSIZE;
	if (align > 1)
		b = (b + align - 1) & ~(uintptr_t)(align - 1);
	if (boundary != 0 && size != 0 &&
	    (b & ~(uintptr_t)(boundary - 1)) !=
	    ((b + size - 1) & ~(uintptr_t)(boundary - 1)))
		b = (b + boundary - 1) & ~(uintptr_t)(boundary - 1);
	base = (unsigned char *)b;
	lim = boundary != 0 || align > 1 ? base + size :
	    (unsigned char *)mp + footprint;
	ASSERT(lim <= (unsigned char *)mp + footprint);
	return (mblk_init(mp, SC_OVERSIZE, (uint32_t)footprint, base, lim));
}

/* allocb when the fast path cannot: any size, any state of the caches. */
static __attribute__((noinline)) mblk_t *
allocb_slow(int size, uint_t pri)
{
	struct strcpu *cpu;
	unsigned cls;
	mblk_t *mp;

	/* A negative size is a huge one here, and goes the oversize way. */
	cls = strclass_of((uint32_t)size);
	if (cls == SC_OVERSIZE) {
		if (size < 0 || (size_t)size > ust_mem_size()) {
			strcache_count_badsize();
			return (NULL);
		}
		return (allocb_oversize((uint32_t)size, pri, 1, 0));
	}
	cpu = strcpu_self();
	if (cpu == NULL ||
	    !strcpu_admit(cpu, pri, strclass_footprint[cls]) ||
	    (mp = strcache_alloc(cpu, cls)) == NULL) {
		strcache_count_fail(cls, pri);
		return (NULL);
	}
	return (mblk_init(mp, cls, strclass_footprint[cls],
	    (unsigned char *)(mp + 2),
	    (unsigned char *)mp + strclass_footprint[cls]));
}

/*
 * allocb - allocate a message block of type M_DATA with a buffer of at
 * least size bytes, b_rptr == b_wptr == db_base, db_ref 1.  Returns NULL
 * when the admission rule refuses pri (see admission.h), when the budget
 * is exhausted, or for a negative size or one larger than the budget.
 * Size 0 gives a valid empty block.  Any context; does not block.
 */
mblk_t *
allocb(int size, uint_t pri)
{
	dblk_t *dbp;
	uint64_t dbword;
	mblk_t *mp;

	/* A negative size is a huge one here, and goes the slow way. */
	if (__builtin_expect((uint32_t)size > SC_DATA_MAX ||
	    (mp = strcache_alloc_fast(strclass_data((uint32_t)size), pri,
	    &dbword)) == NULL, 0))
		return (allocb_slow(size, pri));
	/*
	 * mblk_init, but the dblk's db_frtnp, db_base, db_lim and db_upad
	 * are as mblk_ctor left them, and the rest is written only when it
	 * changed: a block freed on another CPU then comes back with its dblk
	 * line still shared, not stolen back.
	 */
	dbp = MB_HOMEDB(mp);
	if (__builtin_expect(memcmp(&dbp->db_ref, &dbword,
	    sizeof (dbword)) != 0, 0))
		memcpy(&dbp->db_ref, &dbword, sizeof (dbword));
	return (mblk_fresh(mp, dbp, (unsigned char *)(dbp + 1)));
}

/*
 * testb - 1 if allocb(size, pri) would be admitted now, else 0.  The
 * answer can be stale by the time the caller acts on it.  Any context.
 */
int
testb(int size, uint_t pri)
{
	struct strcpu *cpu;
	unsigned cls;
	size_t fp;

	if (size < 0 || (size_t)size > ust_mem_size())
		return (0);
	cls = strclass_of((uint32_t)size);
	fp = cls == SC_OVERSIZE ? ust_mem_usable(SC_HDRSIZE + (size_t)size) :
	    strclass_footprint[cls];
	if ((cpu = strcpu_self()) == NULL)
		return (0);
	return (strcpu_admit(cpu, pri, fp) ? 1 : 0);
}

static bool
is_pow2(paddr_t x)
{
	return (x != 0 && (x & (x - 1)) == 0);
}

/*
 * physreq_alloc, physreq_free, physreq_prep - a physical requirements
 * structure for allocb_physreq.  physreq_alloc returns one with no
 * requirements (alignment 1, no boundary, any address), or NULL (flag
 * KM_NOSLEEP and no memory).  physreq_prep checks it and returns 1 when
 * allocb_physreq can honour it, 0 when not (alignment or boundary not a
 * power of two, boundary smaller than alignment, an alignment no block of
 * the budget could meet, phys_dmasize too small to reach the STREAMS
 * memory region).  What it accepts is kept aside: allocb_physreq uses
 * that, so that fields changed afterwards take effect only when prepared
 * again.
 */
physreq_t *
physreq_alloc(int flag)
{
	physreq_t *preqp = kmem_zalloc(sizeof (*preqp), flag);

	if (preqp != NULL)
		preqp->phys_align = 1;
	return (preqp);
}

void
physreq_free(physreq_t *preqp)
{
	kmem_free(preqp, sizeof (*preqp));
}

int
physreq_prep(physreq_t *preqp, int flag)
{
	struct ustreams_memstat ms;
	uintptr_t top;

	(void) flag;
	if (preqp == NULL || ustreams_memstat(&ms) != 0)
		return (0);
	preqp->phys_uprepped = 0;
	if (preqp->phys_align == 0)
		preqp->phys_align = 1;
	if (!is_pow2(preqp->phys_align) ||
	    (preqp->phys_boundary != 0 && (!is_pow2(preqp->phys_boundary) ||
	    preqp->phys_boundary < preqp->phys_align)))
		return (0);
	if (preqp->phys_align > mblk_footprint_max() - SC_HDRSIZE)
		return (0);
	top = (uintptr_t)ms.ms_region + ms.ms_region_size;
	if (preqp->phys_dmasize != 0 && preqp->phys_dmasize < 64 &&
	    top > ((uintptr_t)1 << preqp->phys_dmasize))
		return (0);
	preqp->phys_ualign = preqp->phys_align;
	preqp->phys_uboundary = preqp->phys_boundary;
	preqp->phys_uprepped = 1;
	return (1);
}

/*
 * allocb_physreq - allocb whose buffer meets *preqp as physreq_prep
 * accepted it: starts on a multiple of phys_align, does not cross a
 * multiple of phys_boundary, lies below 2^phys_dmasize.  Buffers are
 * always contiguous, so PREQ_PHYSCONTIG and any phys_max_scgth are met.
 * NULL when preqp was not prepared by physreq_prep, when size exceeds
 * phys_boundary, or as for allocb.  Any context; does not block.
 */
mblk_t *
allocb_physreq(int size, uint_t pri, physreq_t *preqp)
{
	if (preqp == NULL || !preqp->phys_uprepped || size < 0 ||
	    (size_t)size > ust_mem_size() ||
	    (preqp->phys_uboundary != 0 &&
	    (paddr_t)size > preqp->phys_uboundary)) {
		strcache_count_badsize();
		return (NULL);
	}
	ASSERT(is_pow2(preqp->phys_ualign) && (preqp->phys_uboundary == 0 ||
	    (is_pow2(preqp->phys_uboundary) &&
	    preqp->phys_uboundary >= preqp->phys_ualign)));
	return (allocb_oversize((uint32_t)size, pri,
	    (size_t)preqp->phys_ualign, (size_t)preqp->phys_uboundary));
}

/*
 * The free event of an esballoc'ed block: the free routine runs as the
 * event; the object goes back in ev_done, once the executive no longer
 * touches the event (which lives in the object).
 */
static void
esb_free_deferred(void *arg)
{
	mblk_t *home = arg;
	frtn_t *frtnp = MB_HOMEDB(home)->db_frtnp;

	frtnp->free_func(frtnp->free_arg);
}

/*
 * Drop one of an esballoc object's holds (DB_UHOLDS); the last gives the
 * object back.  Sole holder: no one else can take a hold (pullupmsg takes
 * one only while its caller's block still names the buffer), so no
 * atomic is needed.
 */
static void
esb_drop(mblk_t *home)
{
	uintptr_t *holds = &MB_HOMEDB(home)->db_upad[DB_UHOLDS];

	if (__atomic_load_n(holds, __ATOMIC_ACQUIRE) == 1 ||
	    __atomic_sub_fetch(holds, 1, __ATOMIC_ACQ_REL) == 0)
		strcache_free(SC_ESB, home);
}

static void
esb_free_done(struct ust_event *ev)
{
	esb_drop(ev->ev_arg);
}

static mblk_t *
esballoc_common(unsigned char *base, int size, uint_t pri, frtn_t *frtnp,
    uintptr_t flags)
{
	struct strcpu *cpu;
	mblk_t *mp;

	if (base == NULL || frtnp == NULL || frtnp->free_func == NULL ||
	    size < 0) {
		strcache_count_badsize();
		return (NULL);
	}
	cpu = strcpu_self();
	if (cpu == NULL ||
	    !strcpu_admit(cpu, pri, SC_ESBSIZE) ||
	    (mp = strcache_alloc(cpu, SC_ESB)) == NULL) {
		strcache_count_fail(SC_ESB, pri);
		return (NULL);
	}
	(void) mblk_init(mp, SC_ESB, SC_ESBSIZE, base, base + size);
	MB_HOMEDB(mp)->db_frtnp = frtnp;
	MB_HOMEDB(mp)->db_upad[0] = flags;
	MB_HOMEDB(mp)->db_upad[DB_UHOLDS] = 1;
	return (mp);
}

/*
 * esballoc - a message block over the caller's buffer base[0..size).
 * When the last reference is freed, frtnp->free_func(frtnp->free_arg) is
 * called once, in service context, shortly after (through the executive).
 * NULL for a NULL base or frtnp, a negative size, or when pri is refused.
 * Any context; does not block.
 */
mblk_t *
esballoc(unsigned char *base, int size, uint_t pri, frtn_t *frtnp)
{
	return (esballoc_common(base, size, pri, frtnp, 0));
}

/*
 * desballoc - esballoc whose free routine runs at once, in the context of
 * the freeb that drops the last reference.
 */
mblk_t *
desballoc(unsigned char *base, int size, uint_t pri, frtn_t *frtnp)
{
	return (esballoc_common(base, size, pri, frtnp, DB_UDESB));
}

#ifdef DEBUG
/*
 * Debug builds: a data-class dblk must go back to its cache as allocb
 * made it (the fast path relies on it); one that was changed is reported.
 */
static void
dblk_check_unchanged(dblk_t *dbp)
{
	mblk_t *home = MB_HOMEMB(dbp);
	unsigned cls = dbp->db_uclass;

	if (cls >= SC_DATA0 && cls < SC_NCLASS &&
	    (dbp->db_frtnp != NULL || dbp->db_base != (unsigned char *)(dbp + 1) ||
	    dbp->db_lim != (unsigned char *)home + strclass_footprint[cls] ||
	    dbp->db_usize != strclass_footprint[cls]))
		cmn_err(CE_PANIC, "freeb: data block %p was changed while in "
		    "use: db_frtnp %p, db_base %p, db_lim %p (allocb made them "
		    "NULL, %p, %p)", (void *)dbp, (void *)dbp->db_frtnp,
		    (void *)dbp->db_base, (void *)dbp->db_lim,
		    (void *)(dbp + 1),
		    (void *)((unsigned char *)home + strclass_footprint[cls]));
}
#endif

/* The last reference to dbp is gone: its object goes back. */
static inline void
dblk_lastfree(dblk_t *dbp, const void *caller)
{
	mblk_t *home = MB_HOMEMB(dbp);
	unsigned cls = dbp->db_uclass;

	ASSERT(home->b_ustate == MB_UFREE || cls == SC_ESB);
	ASSERT(dbp->db_ustate == DB_UALLOC);
#ifdef DEBUG
	dblk_check_unchanged(dbp);
#endif
	dbp->db_ustate = DB_UFREE;
	dbp->db_ufreer = (void *)caller;
	if (__builtin_expect(cls == SC_ESB, 0)) {
		struct ust_event *ev = (struct ust_event *)(dbp + 1);

		if (dbp->db_upad[0] & DB_UDESB) {
			dbp->db_frtnp->free_func(dbp->db_frtnp->free_arg);
			esb_drop(home);
		} else {
			ust_event_init(ev, esb_free_deferred, home,
			    USTREAMS_CTX_SERVICE);
			ev->ev_done = esb_free_done;
			(void) ust_event_post(ev);
		}
	} else if (__builtin_expect(cls == SC_OVERSIZE, 0)) {
		strcache_free_oversize(home, dbp->db_usize);
	} else {
		strcache_free(cls, home);
	}
}

static inline __attribute__((always_inline)) void
dblk_release_inline(dblk_t *dbp, const void *caller)
{
	/* Sole reference: no one else can take one, no atomic needed. */
	if (__atomic_load_n(&dbp->db_ref, __ATOMIC_ACQUIRE) == 1 ||
	    __atomic_sub_fetch(&dbp->db_ref, 1, __ATOMIC_ACQ_REL) == 0)
		dblk_lastfree(dbp, caller);
}

void
dblk_release(dblk_t *dbp, const void *caller)
{
	dblk_release_inline(dbp, caller);
}

void
freeb_common(mblk_t *mp, const void *caller)
{
	dblk_t *dbp;

	if (__builtin_expect(mp->b_ustate != MB_UALLOC, 0))
		mblk_misuse("freeb", mp, caller);
	dbp = mp->b_datap;
#ifdef DEBUG
	if (mp->b_rptr < dbp->db_base || mp->b_rptr > mp->b_wptr ||
	    mp->b_wptr > dbp->db_lim) {
		char where[UST_WHERE_LEN];

		cmn_err(CE_PANIC, "freeb: message block %p: b_rptr %p / "
		    "b_wptr %p outside its buffer [%p, %p) (called from %s)",
		    (void *)mp, (void *)mp->b_rptr, (void *)mp->b_wptr,
		    (void *)dbp->db_base, (void *)dbp->db_lim,
		    ust_where(caller, where, sizeof (where)));
	}
	/*
	 * The sole reference: checked before anything changes, so that the
	 * report leaves the block as it was (dblk_lastfree checks again, for
	 * the frees that reach it otherwise).
	 */
	if (__atomic_load_n(&dbp->db_ref, __ATOMIC_ACQUIRE) == 1)
		dblk_check_unchanged(dbp);
#endif
	mp->b_ustate = MB_UFREE;
	mp->b_ufreer = (void *)caller;
	if (__builtin_expect(dbp == MB_HOMEDB(mp) &&
	    (mp->b_uflags & MB_UHOME), 1)) {
		dblk_release_inline(dbp, caller);
		return;
	}
	dblk_release(dbp, caller);
	if (!(mp->b_uflags & MB_UHOME))
		strcache_free(SC_MBLK, mp);
	else if (MB_HOMEDB(mp)->db_uclass == SC_ESB)
		esb_drop(mp);				/* its hold */
	else
		dblk_release(MB_HOMEDB(mp), caller);	/* its residence */
}

/*
 * mp, a home block, is made to point at another dblk by pullupmsg, and
 * gives up its reference to its own: it keeps that reference as its
 * residence, or, in an esballoc object, takes a hold of the object and
 * drops the reference, so that the free routine runs as soon as nothing
 * else names the buffer.
 */
void
mblk_leave_home(mblk_t *mp, const void *caller)
{
	dblk_t *dbp = MB_HOMEDB(mp);

	ASSERT(mp->b_uflags & MB_UHOME);
	if (dbp->db_uclass != SC_ESB)
		return;
	(void) __atomic_add_fetch(&dbp->db_upad[DB_UHOLDS], 1,
	    __ATOMIC_RELAXED);
	dblk_release(dbp, caller);
}

/*
 * b_ustate, read as part of the 8-byte word allocb stores it in (b_band ..
 * b_uflags): a load the processor can forward from that store, where a
 * lone byte load at offset 1 of it stalls on some (AMD Zen among them).
 */
_Static_assert(offsetof(mblk_t, b_band) % 8 == 0 &&
	offsetof(mblk_t, b_ustate) == offsetof(mblk_t, b_band) + 1 &&
	offsetof(mblk_t, b_uflags) + sizeof (uint32_t) ==
	offsetof(mblk_t, b_band) + 8 &&
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "b_band word layout");

static inline unsigned
mblk_ustate_word(const mblk_t *mp)
{
	uint64_t w;

	memcpy(&w, &mp->b_band, sizeof (w));
	/* Or the compiler narrows the load back to the lone byte. */
	__asm__("" : "+r" (w));
	return ((unsigned)(w >> 8) & 0xff);
}

/*
 * The common free, inline: a home block, sole reference to its data
 * block, of a data class, and the CPU's caches can take it.  Anything else
 * -- and every free in debug builds -- goes through freeb_common.
 */
static inline __attribute__((always_inline)) void
freeb_inline(mblk_t *mp, const void *caller)
{
	dblk_t *dbp = mp->b_datap;
	size_t cls = dbp->db_uclass;

	/*
	 * A block whose dblk is right behind it is that dblk's home block;
	 * db_ustate is left as it is (it is checked in debug builds only,
	 * which never come here).  Classes other than the data classes are
	 * turned away by strcache_free_fast (see struct strcpu_class).
	 */
	if (__builtin_expect(STRCACHE_FAST && dbp == MB_HOMEDB(mp) &&
	    mblk_ustate_word(mp) == MB_UALLOC &&
	    __atomic_load_n(&dbp->db_ref, __ATOMIC_ACQUIRE) == 1, 1) &&
	    __builtin_expect(strcache_free_fast(cls, mp), 1)) {
		mp->b_ustate = MB_UFREE;
		mp->b_ufreer = (void *)caller;
		return;
	}
	freeb_common(mp, caller);
}

/*
 * freeb - free one message block; the data block goes when its last
 * reference does.  bp must not be NULL.  A block freed twice panics.
 * Any context; does not block.
 */
void
freeb(mblk_t *bp)
{
	freeb_inline(bp, __builtin_return_address(0));
}

/*
 * freemsg - free every block of a message.  NULL is a no-op.
 */
void
freemsg(mblk_t *mp)
{
	const void *caller = __builtin_return_address(0);

	while (mp != NULL) {
		mblk_t *next = mp->b_cont;

		freeb_inline(mp, caller);
		mp = next;
	}
}

/*
 * dupb - a new message block sharing bp's data block: same window, type,
 * band and flags; db_ref goes up by one.  NULL when db_ref is already
 * DBLK_REFMAX or no block can be had (dupb needs only a 64-byte header and
 * is admitted like BPRI_HI).  Any context; does not block.
 */
mblk_t *
dupb(mblk_t *bp)
{
	dblk_t *dbp;
	struct strcpu *cpu;
	unsigned char ref;
	mblk_t *nmp;

	if (__builtin_expect(bp->b_ustate != MB_UALLOC, 0))
		mblk_misuse("dupb", bp, __builtin_return_address(0));
	dbp = bp->b_datap;
	ref = __atomic_load_n(&dbp->db_ref, __ATOMIC_RELAXED);
	do {
		if (ref >= DBLK_REFMAX)
			return (NULL);
	} while (!__atomic_compare_exchange_n(&dbp->db_ref, &ref, ref + 1,
	    true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));

	cpu = strcpu_self();
	if (cpu == NULL ||
	    !strcpu_admit(cpu, BPRI_HI, strclass_footprint[SC_MBLK]) ||
	    (nmp = strcache_alloc(cpu, SC_MBLK)) == NULL) {
		(void) __atomic_sub_fetch(&dbp->db_ref, 1, __ATOMIC_ACQ_REL);
		strcache_count_fail(SC_MBLK, BPRI_HI);
		return (NULL);
	}
	nmp->b_next = NULL;
	nmp->b_prev = NULL;
	nmp->b_cont = NULL;
	nmp->b_rptr = bp->b_rptr;
	nmp->b_wptr = bp->b_wptr;
	nmp->b_datap = dbp;
	nmp->b_band = bp->b_band;
	nmp->b_flag = bp->b_flag;
	nmp->b_ustate = MB_UALLOC;
	nmp->b_uflags = 0;
	return (nmp);
}
