/*
 * The STREAMS buffer caches: per-CPU magazines over the region's arena.
 *
 * Principles of operation.  allocb and freeb are the hottest calls in
 * STREAMS, and the arena behind them (jemalloc, without a thread cache) is
 * a shared structure.  So, as in Bonwick's magazine allocator, each CPU --
 * here, each thread that allocates -- keeps for every size class two
 * magazines of free objects, "loaded" and "previous", each an array of up
 * to sc_depth pointers to objects.  Allocation pops from loaded; when
 * loaded is empty and previous is full they swap; when both are empty
 * loaded is exchanged for a full magazine from the class's depot, or
 * failing that half filled from the arena.  Freeing mirrors it: push onto
 * loaded; swap with an empty previous; or exchange a full previous for an
 * empty magazine from the depot.  A thread allocating and freeing alone
 * touches no shared line; a producer on one CPU and a consumer on another
 * meet in the depot once per magazine, not once per block.
 *
 * Why arrays, and not lists chained through the free objects: a pop from
 * a list must load the popped object's link to find the next head.  When
 * the object was freed on another CPU (a receive interrupt allocates, a
 * reader frees), that load misses, and the allocating CPU can overlap it
 * with nothing: one serial miss per block.  A pop from an array reads only
 * the CPU's own slot; the object's lines are then only written, and
 * stores do not stall.  A free, likewise, writes nothing into the object.
 * So the depot too keeps whole arrays, and an exchange with it swaps
 * magazine pointers: never a conversion to a chain and back.
 *
 * Magazines are framework overhead (ust_mem_get_overhead), not charged to
 * the budget.  A CPU owns exactly two per class, made when the CPU is and
 * given back when it retires; the depot owns the rest, full or empty, at
 * most DEPOT_MAX per class, made when a full one is handed in and the
 * depot has no empty one to give for it, and given back at shutdown.
 *
 * Accounting.  An object in a magazine or the depot is charged to the
 * budget (ddi/mem.h "charged") but is not in use; an object handed out is
 * in use ("held").  Each CPU counts its own changes (held bytes, objects in
 * use per class) and folds them into the global counters when they exceed
 * sc_fold (strcache.h), when the CPU is retired, and at once on every free while
 * someone waits for memory (strcache_waiters).  Admission reads the global count plus the
 * CPU's own part, so it is exact when one thread allocates (the sim
 * executive, the tests); otherwise it may admit up to sc_fold per other
 * CPU too much, and a refusal is checked against the exact sum of every
 * CPU's part (strcpu_admit), so that it never refuses too soon.  Statistics add up every CPU's part and are exact at rest.
 *
 * When the budget refuses an arena allocation, the reclaim hook gives the
 * depots and the calling CPU's magazines back to the arena, so that memory
 * parked in caches never makes an allocation fail.  (Magazines of other
 * CPUs stay where they are: at most 2 * depth objects per class each.)
 *
 * Locking.  A CPU's magazines and counters are written only by its thread;
 * the counters and magazine counts are relaxed atomics so that the
 * statistics can read them.  sc_depot_lock protects a class's depot: its
 * lists and the magazines on them.  cpu_lock protects the list of
 * CPUs; a CPU is created on a thread's first allocation and retired when the
 * thread exits or the instance shuts down (the instance generation tells a
 * thread that its CPU belongs to an instance that is gone).
 */
#include <sys/stream.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/kmem.h>
#include <sys/ustreams_stat.h>

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "../ddi/mem.h"
#include "../ddi/sysinit.h"
#include "../ddi/where.h"
#include "bufcall_impl.h"
#include "mblk_impl.h"
#include "strcache.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define	OBJ_POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define	OBJ_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define	OBJ_POISON(p, n)	((void)(p), (void)(n))
#define	OBJ_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define	MAG_BYTES_MAX	(256 * 1024)
#define	MAG_DEPTH_MIN	4
#define	MAG_DEPTH_MAX	64
#define	DEPOT_MAX	4		/* full magazines kept per class */
#define	POISON_WORD	0xdeadbeefu

const uint32_t strclass_footprint[SC_NCLASS] = {
	64, SC_ESBSIZE,
	192, 256, 384, 640, 1280, 2560, 5120, 10240, 20480, 40960, 81920,
};

uint8_t strclass_by64[SC_DATA_MAX / 64 + 1];

/* Fill strclass_by64: the first class whose buffer holds 64 * i bytes. */
static void
strclass_by64_init(void)
{
	unsigned c = SC_DATA0;

	for (unsigned i = 0; i <= SC_DATA_MAX / 64; i++) {
		while (64 * i > strclass_footprint[c] - SC_HDRSIZE)
			c++;
		strclass_by64[i] = (uint8_t)c;
	}
	ASSERT(c == SC_NCLASS - 1);
}

/*
 * A fresh dblk of class cls from db_ref to db_usize, as one word (see
 * strcache.h).
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "dbword layout");
_Static_assert(offsetof(dblk_t, db_type) == offsetof(dblk_t, db_ref) + 1 &&
	offsetof(dblk_t, db_uclass) == offsetof(dblk_t, db_ref) + 2 &&
	offsetof(dblk_t, db_ustate) == offsetof(dblk_t, db_ref) + 3 &&
	offsetof(dblk_t, db_usize) == offsetof(dblk_t, db_ref) + 4,
	"dbword layout");

static uint64_t
strclass_dbword(unsigned cls)
{
	return (1 | (uint64_t)M_DATA << 8 | (uint64_t)cls << 16 |
	    (uint64_t)DB_UALLOC << 24 | (uint64_t)strclass_footprint[cls] << 32);
}

/*
 * A magazine: up to sc_depth pointers to free objects of one class, to
 * which it belongs for life.  On a CPU (loaded or previous) only that
 * CPU's thread touches it, and its count is in the CPU's class line
 * (cc_n, cc_nprev), not in m_n.  In the depot it is on sc_full with m_n
 * objects, or on sc_empty, linked through m_next (sc_depot_lock).
 */
struct strmag {
	struct strmag	*m_next;	/* depot list; sc_depot_lock */
	int		m_n;		/* objects, while on sc_full */
	mblk_t		*m_obj[];	/* m_obj[0 .. n - 1]; pop the last */
};

/*
 * A size class: the depot and the folded counters.  The depot owns
 * sc_nmag magazines: those on sc_full, those on sc_empty, and those a
 * drain has taken off sc_full and not yet put back on sc_empty.
 * sc_nfull <= sc_nmag <= DEPOT_MAX.
 */
struct strclass {
	int		sc_depth;	/* magazine capacity; set at boot */
	pthread_mutex_t	sc_depot_lock;
	struct strmag	*sc_full;	/* full magazines; sc_depot_lock */
	struct strmag	*sc_empty;	/* empty magazines; sc_depot_lock */
	int		sc_nfull;	/* on sc_full; sc_depot_lock */
	int		sc_nmag;	/* the depot's; sc_depot_lock */
	_Atomic int64_t	sc_depot_objs;	/* objects in the depot */
	_Atomic int64_t	sc_inuse;	/* folded in-use count */
	_Atomic int64_t	sc_max;
	_Atomic uint64_t sc_total;	/* folded allocations */
	_Atomic uint64_t sc_fail;
};

static struct strclass strclass[SC_NCLASS + 1];	/* + the oversize row */
static _Atomic uint64_t fail_pri[4];
static _Atomic uint64_t badsize;
static int64_t strcache_fold_bytes;	/* set at boot; see strcache.h */
_Atomic int strcache_waiters;
_Atomic uint64_t strcache_fastgen;

/*
 * Who waits for memory: bufcall's waiters (strcache_set_waiters) and
 * KM_SLEEP callers (the sleepers hook).  Either turns the fast paths off;
 * wait_mtx makes the two flags and what they imply change together.
 */
static pthread_mutex_t wait_mtx = PTHREAD_MUTEX_INITIALIZER;
static bool wait_bufcall, wait_kmem;		/* wait_mtx */
static _Atomic int strcache_kmem_sleepers;	/* wait_kmem, for the frees */

static pthread_mutex_t cpu_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, strcpu) cpu_list = LIST_HEAD_INITIALIZER(cpu_list);
_Atomic uint64_t strcache_gen;		/* instance generation; 0: down */
static pthread_key_t cpu_key;
static pthread_once_t cpu_key_once = PTHREAD_ONCE_INIT;

__thread struct strcpu *strcpu_tls STRCACHE_TLS;
__thread uint64_t strcpu_tls_gen STRCACHE_TLS = STRCPU_NOGEN;

static void
note_max(_Atomic int64_t *maxp, int64_t v)
{
	int64_t m = sc_ld(maxp);

	while (v > m && !atomic_compare_exchange_weak_explicit(maxp, &m, v,
	    memory_order_relaxed, memory_order_relaxed))
		;
}

/*
 * Free objects: the buffer part is poisoned (AddressSanitizer) and, in
 * debug builds, filled with a pattern that allocation checks, so that a
 * write to a freed block is reported with the block and offset.  The
 * message block in front stays readable: freeb's fast path marks it free
 * after the cache has taken the object, and freeb and dupb read b_ustate
 * of a block freed twice, to report it.
 */
static void
obj_poison(mblk_t *obj, unsigned cls)
{
	size_t n = strclass_footprint[cls] - sizeof (mblk_t);
	unsigned char *p = (unsigned char *)(obj + 1);

#ifdef DEBUG
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(p + i, &(uint32_t){ POISON_WORD }, 4);
#endif
	OBJ_POISON(p, n);
}

static void
obj_unpoison(mblk_t *obj, unsigned cls)
{
	size_t n = strclass_footprint[cls] - sizeof (mblk_t);
	unsigned char *p = (unsigned char *)(obj + 1);

	OBJ_UNPOISON(p, n);
#ifdef DEBUG
	for (size_t i = 0; i + 4 <= n; i += 4) {
		uint32_t w;

		memcpy(&w, p + i, 4);
		if (w != POISON_WORD) {
			char where[UST_WHERE_LEN];

			cmn_err(CE_PANIC, "allocb: block %p was written after "
			    "it was freed (offset %zu, last freed from %s)",
			    (void *)obj, i + sizeof (mblk_t),
			    ust_where(obj->b_ufreer, where, sizeof (where)));
		}
	}
#endif
}

/* The bytes of a magazine of class cls. */
static size_t
mag_size(unsigned cls)
{
	return (offsetof(struct strmag, m_obj) +
	    (size_t)strclass[cls].sc_depth * sizeof (mblk_t *));
}

/* An empty magazine of class cls, or NULL. */
static struct strmag *
mag_alloc(unsigned cls)
{
	return (ust_mem_get_overhead(mag_size(cls)));
}

static void
mag_free(struct strmag *m, unsigned cls)
{
	ust_mem_put_overhead(m, mag_size(cls));
}

/* The loaded magazine, whose array cc_obj is. */
static inline struct strmag *
cc_loaded(struct strcpu_class *cc)
{
	return ((struct strmag *)(void *)((char *)cc->cc_obj -
	    offsetof(struct strmag, m_obj)));
}

/* Load the magazine m, holding n objects. */
static inline void
cc_load(struct strcpu_class *cc, struct strmag *m, int n)
{
	cc->cc_obj = m->m_obj;
	mag_st(&cc->cc_n, n);
}

/* Swap the loaded and previous magazines. */
static inline void
cc_swap(struct strcpu_class *cc)
{
	struct strmag *prev = cc->cc_prev;
	int nprev = mag_ld(&cc->cc_nprev);

	cc->cc_prev = cc_loaded(cc);
	mag_st(&cc->cc_nprev, mag_ld(&cc->cc_n));
	cc_load(cc, prev, nprev);
}

/* Give n objects back to the arena. */
static void
objs_release(mblk_t **obj, int n, unsigned cls)
{
	for (int i = 0; i < n; i++) {
		OBJ_UNPOISON(obj[i], strclass_footprint[cls]);
		ust_mem_put(obj[i], strclass_footprint[cls]);
	}
}

/*
 * Fold the held bytes only: what admission and bufcall read.  The class
 * counters wait for the next full fold (ustreams_strstat adds what is not
 * folded, so the statistics are the same either way).
 */
static void
strcache_fold_held(struct strcpu *cpu)
{
	int64_t held = pc_ld(&cpu->sc_held), hmax = pc_ld(&cpu->sc_held_max);

	if (held != 0 || hmax != 0) {
		pc_st(&cpu->sc_held, 0);
		pc_st(&cpu->sc_held_max, 0);
		ust_mem_fold(held, hmax);
	}
}

/*
 * Fold a CPU's counters into the globals.  The high-water marks are
 * folded too: the global count before the fold plus the CPU's highest
 * unfolded part since the last one.  With one allocating thread that is
 * the exact high-water mark; with several, it errs by what the others had
 * not folded yet.
 */
void
strcache_fold(struct strcpu *cpu)
{
	for (unsigned c = 0; c < SC_NCLASS; c++) {
		struct strcpu_class *cc = &cpu->sc_cls[c];
		int64_t d = pc_ld(&cc->cc_inuse), m = pc_ld(&cc->cc_inuse_max);
		int64_t t = pc_ld(&cc->cc_total);

		if (d != 0 || m != 0) {
			int64_t before;

			pc_st(&cc->cc_inuse, 0);
			pc_st(&cc->cc_inuse_max, 0);
			before = atomic_fetch_add(&strclass[c].sc_inuse, d);
			if (m > 0)
				note_max(&strclass[c].sc_max, before + m);
		}
		if (t != 0) {
			pc_st(&cc->cc_total, 0);
			atomic_fetch_add(&strclass[c].sc_total, (uint64_t)t);
		}
	}
	strcache_fold_held(cpu);
}

/* Fold, then tell bufcall that memory came back. */
void
strcache_fold_release(struct strcpu *cpu)
{
	strcache_fold(cpu);
	ust_mem_released();
}

/* Give the objects in a CPU's magazines back to the arena. */
static void
cpu_empty(struct strcpu *cpu)
{
	for (unsigned c = 0; c < SC_NCLASS; c++) {
		struct strcpu_class *cc = &cpu->sc_cls[c];
		int n = mag_ld(&cc->cc_n), nprev = mag_ld(&cc->cc_nprev);

		mag_st(&cc->cc_n, 0);
		mag_st(&cc->cc_nprev, 0);
		objs_release(cc->cc_obj, n, c);
		if (nprev > 0)
			objs_release(cc->cc_prev->m_obj, nprev, c);
	}
}

/*
 * Give a CPU's magazines back (emptied first, by cpu_empty).  Also undoes
 * a strcpu_create that got only some of them.
 */
static void
cpu_free_mags(struct strcpu *cpu)
{
	for (unsigned c = 0; c < SC_NCLASS; c++) {
		struct strcpu_class *cc = &cpu->sc_cls[c];

		ASSERT(mag_ld(&cc->cc_n) == 0 && mag_ld(&cc->cc_nprev) == 0);
		if (cc->cc_obj != NULL)
			mag_free(cc_loaded(cc), c);
		if (cc->cc_prev != NULL)
			mag_free(cc->cc_prev, c);
		cc->cc_obj = NULL;
		cc->cc_prev = NULL;
	}
}

static void
cpu_retire(struct strcpu *cpu)
{
	pthread_mutex_lock(&cpu_lock);
	LIST_REMOVE(cpu, sc_link);
	pthread_mutex_unlock(&cpu_lock);
	cpu_empty(cpu);
	cpu_free_mags(cpu);
	strcache_fold(cpu);
	ust_mem_put_overhead(cpu, sizeof (*cpu));
}

/* Thread exit: its CPU goes, if it belongs to the running instance. */
static void
cpu_key_dtor(void *arg)
{
	struct strcpu *cpu = arg;

	if (cpu != NULL && strcpu_tls == cpu &&
	    strcpu_tls_gen == atomic_load(&strcache_gen))
		cpu_retire(cpu);
	strcpu_tls = NULL;
	strcpu_tls_gen = STRCPU_NOGEN;
}

static void
cpu_key_create(void)
{
	VERIFY(pthread_key_create(&cpu_key, cpu_key_dtor) == 0);
}

struct strcpu *
strcpu_create(void)
{
	uint64_t gen = atomic_load(&strcache_gen);
	struct strcpu *cpu;

	if (gen == 0)
		return (NULL);
	if ((cpu = ust_mem_get_overhead(sizeof (*cpu))) == NULL)
		return (NULL);
	for (unsigned c = 0; c < SC_NCLASS; c++) {
		struct strcpu_class *cc = &cpu->sc_cls[c];
		struct strmag *m;

		cc->cc_depth = strclass[c].sc_depth;
		cc->cc_room = c >= SC_DATA0 ? cc->cc_depth : 0;
		cc->cc_dbword = strclass_dbword(c);
		if ((m = mag_alloc(c)) != NULL)
			cc_load(cc, m, 0);
		if (m == NULL || (cc->cc_prev = mag_alloc(c)) == NULL) {
			cpu_free_mags(cpu);
			ust_mem_put_overhead(cpu, sizeof (*cpu));
			return (NULL);
		}
	}
	cpu->sc_fold = strcache_fold_bytes;
	cpu->sc_fold_neg = -strcache_fold_bytes;
	pthread_mutex_lock(&cpu_lock);
	LIST_INSERT_HEAD(&cpu_list, cpu, sc_link);
	pthread_mutex_unlock(&cpu_lock);
	strcpu_tls = cpu;
	strcpu_tls_gen = gen;
	(void) pthread_setspecific(cpu_key, cpu);
	return (cpu);
}

/* This thread's CPU if it has one in the running instance; never creates. */
static struct strcpu *
strcpu_current(void)
{
	if (strcpu_tls_gen == atomic_load(&strcache_gen))
		return (strcpu_tls);
	return (NULL);
}

/*
 * Exchange the loaded magazine, empty, for a full one from the depot;
 * false if the depot has none.
 */
static bool
depot_get(unsigned cls, struct strcpu_class *cc)
{
	struct strclass *sc = &strclass[cls];
	struct strmag *empty = cc_loaded(cc), *full;

	ASSERT(mag_ld(&cc->cc_n) == 0);
	pthread_mutex_lock(&sc->sc_depot_lock);
	if ((full = sc->sc_full) != NULL) {
		sc->sc_full = full->m_next;
		sc->sc_nfull--;
		empty->m_next = sc->sc_empty;
		sc->sc_empty = empty;
	}
	pthread_mutex_unlock(&sc->sc_depot_lock);
	if (full == NULL)
		return (false);
	ASSERT(full->m_n > 0 && full->m_n <= cc->cc_depth);
	cc_load(cc, full, full->m_n);
	atomic_fetch_sub(&sc->sc_depot_objs, full->m_n);
	return (true);
}

/*
 * Exchange the previous magazine, which is not empty, for an empty one
 * from the depot; if the depot has none, make one.  When the depot holds
 * DEPOT_MAX full magazines already, the objects go back to the arena
 * instead and the magazine stays.  False, changing nothing, when an empty
 * magazine is needed and none can be had.
 *
 * A new magazine is made under sc_depot_lock, so that sc_nmag never
 * passes DEPOT_MAX; that happens at most DEPOT_MAX times per class while
 * the instance runs, and the overhead allocator calls nothing back here.
 */
static bool
depot_put(unsigned cls, struct strcpu_class *cc)
{
	struct strclass *sc = &strclass[cls];
	struct strmag *full = cc->cc_prev, *empty = NULL;
	int n = mag_ld(&cc->cc_nprev);
	bool spill = false;

	ASSERT(n > 0 && n <= cc->cc_depth);
	pthread_mutex_lock(&sc->sc_depot_lock);
	if (sc->sc_nfull >= DEPOT_MAX) {
		spill = true;
	} else if ((empty = sc->sc_empty) != NULL) {
		sc->sc_empty = empty->m_next;
	} else if (sc->sc_nmag < DEPOT_MAX &&
	    (empty = mag_alloc(cls)) != NULL) {
		sc->sc_nmag++;
	}
	if (empty != NULL) {
		full->m_n = n;
		full->m_next = sc->sc_full;
		sc->sc_full = full;
		sc->sc_nfull++;
	}
	ASSERT(sc->sc_nfull <= sc->sc_nmag && sc->sc_nmag <= DEPOT_MAX);
	pthread_mutex_unlock(&sc->sc_depot_lock);
	if (empty != NULL) {
		cc->cc_prev = empty;
		mag_st(&cc->cc_nprev, 0);
		atomic_fetch_add(&sc->sc_depot_objs, n);
		return (true);
	}
	if (!spill)
		return (false);
	mag_st(&cc->cc_nprev, 0);
	objs_release(full->m_obj, n, cls);
	return (true);
}

/* Give the objects of the depot's full magazines back to the arena. */
static void
depot_drain(unsigned cls)
{
	struct strclass *sc = &strclass[cls];
	struct strmag *head, *m, *last = NULL;

	pthread_mutex_lock(&sc->sc_depot_lock);
	head = sc->sc_full;
	sc->sc_full = NULL;
	sc->sc_nfull = 0;
	atomic_store(&sc->sc_depot_objs, 0);
	pthread_mutex_unlock(&sc->sc_depot_lock);
	if (head == NULL)
		return;
	for (m = head; m != NULL; m = m->m_next) {
		objs_release(m->m_obj, m->m_n, cls);
		m->m_n = 0;
		last = m;
	}
	pthread_mutex_lock(&sc->sc_depot_lock);
	last->m_next = sc->sc_empty;
	sc->sc_empty = head;
	pthread_mutex_unlock(&sc->sc_depot_lock);
}

/* Shutdown: drain the depot and give its magazines back. */
static void
depot_fini(unsigned cls)
{
	struct strclass *sc = &strclass[cls];
	struct strmag *m;

	depot_drain(cls);
	while ((m = sc->sc_empty) != NULL) {
		sc->sc_empty = m->m_next;
		mag_free(m, cls);
		sc->sc_nmag--;
	}
	ASSERT(sc->sc_nmag == 0);
}

/*
 * Fill the loaded magazine, empty, from the arena: half a magazine, or
 * what fits.  The objects gather in a private array first: a refusal on
 * the way runs the reclaim hook, which empties this CPU's magazines, and
 * must not find (and give back) the very objects being gathered.
 */
static void
arena_fill(struct strcpu_class *cc, unsigned cls)
{
	mblk_t *got[MAG_DEPTH_MAX / 2];
	int want = cc->cc_depth / 2, n = 0;
	mblk_t *obj;

	ASSERT(mag_ld(&cc->cc_n) == 0);
	if (want < 1)
		want = 1;
	while (n < want &&
	    (obj = ust_mem_get(strclass_footprint[cls])) != NULL) {
		if (cls >= SC_DATA0)
			mblk_ctor(obj, cls);
		obj->b_ustate = 0;
		obj_poison(obj, cls);
		got[n++] = obj;
	}
	memcpy(cc->cc_obj, got, (size_t)n * sizeof (got[0]));
	mag_st(&cc->cc_n, n);
}

/*
 * The allocation slow path: make the loaded magazine non-empty (swap with
 * the previous one, or take one from the depot, or fill from the arena).
 * In debug and sanitizer builds every allocation comes here, to check and
 * unpoison the object the fast path then pops.  False when no object can
 * be had.
 */
bool
strcache_refill(struct strcpu *cpu, unsigned cls)
{
	struct strcpu_class *cc = &cpu->sc_cls[cls];

	ASSERT(cls < SC_NCLASS);
	if (mag_ld(&cc->cc_n) == 0) {
		if (mag_ld(&cc->cc_nprev) > 0)
			cc_swap(cc);
		else if (!depot_get(cls, cc))
			arena_fill(cc, cls);
		if (mag_ld(&cc->cc_n) == 0)
			return (false);
	}
	obj_unpoison(cc->cc_obj[mag_ld(&cc->cc_n) - 1], cls);
	return (true);
}

/*
 * The free slow path: the loaded magazine is full (swap, or exchange the
 * previous one at the depot), a debug or sanitizer build poisons the
 * object, or the thread has no CPU (the budget is full).  When there is
 * no CPU, or no empty magazine can be had, the object goes straight back
 * to the arena.
 */
void
strcache_free_slow(struct strcpu *cpu, unsigned cls, mblk_t *obj)
{
	struct strcpu_class *cc;
	int64_t held;

	ASSERT(cls < SC_NCLASS);
	obj_poison(obj, cls);
	if (cpu == NULL) {
		OBJ_UNPOISON(obj, strclass_footprint[cls]);
		ust_mem_put(obj, strclass_footprint[cls]);
		atomic_fetch_sub(&strclass[cls].sc_inuse, 1);
		ust_mem_hold(-(int64_t)strclass_footprint[cls]);
		ust_mem_released();
		return;
	}
	cc = &cpu->sc_cls[cls];
	if (mag_ld(&cc->cc_n) >= cc->cc_depth &&
	    mag_ld(&cc->cc_nprev) > 0 && !depot_put(cls, cc)) {
		OBJ_UNPOISON(obj, strclass_footprint[cls]);
		ust_mem_put(obj, strclass_footprint[cls]);
	} else {
		if (mag_ld(&cc->cc_n) >= cc->cc_depth)
			cc_swap(cc);
		cc->cc_obj[mag_ld(&cc->cc_n)] = obj;
		mag_st(&cc->cc_n, mag_ld(&cc->cc_n) + 1);
	}
	pc_st(&cc->cc_inuse, pc_ld(&cc->cc_inuse) - 1);
	held = pc_ld(&cpu->sc_held) - strclass_footprint[cls];
	pc_st(&cpu->sc_held, held);
	if (held <= -cpu->sc_fold) {
		strcache_fold_release(cpu);
	} else if (atomic_load_explicit(&strcache_waiters,
	    memory_order_relaxed) != 0) {
		/* Someone waits: the count must show this free now. */
		strcache_fold_held(cpu);
		ust_mem_released();
	}
	/*
	 * A KM_SLEEP caller waits for the budget's charge, which objects in
	 * a cache keep: this CPU's go back to the arena, which wakes it.
	 */
	if (atomic_load_explicit(&strcache_kmem_sleepers,
	    memory_order_relaxed) != 0)
		cpu_empty(cpu);
}

mblk_t *
strcache_alloc_oversize(size_t footprint)
{
	mblk_t *obj = ust_mem_get(footprint);

	if (obj == NULL)
		return (NULL);
	ust_mem_hold((int64_t)footprint);
	atomic_fetch_add(&strclass[SC_OVERSIZE].sc_total, 1);
	note_max(&strclass[SC_OVERSIZE].sc_max,
	    atomic_fetch_add(&strclass[SC_OVERSIZE].sc_inuse, 1) + 1);
	return (obj);
}

void
strcache_free_oversize(mblk_t *obj, size_t footprint)
{
	ust_mem_put(obj, footprint);
	atomic_fetch_sub(&strclass[SC_OVERSIZE].sc_inuse, 1);
	ust_mem_hold(-(int64_t)footprint);
	ust_mem_released();
}

__attribute__((cold)) void
strcache_count_fail(unsigned cls, unsigned pri)
{
	ASSERT(cls <= SC_OVERSIZE);
	atomic_fetch_add(&strclass[cls].sc_fail, 1);
	if (pri < BPRI_LO || pri > BPRI_HI)
		pri = BPRI_LO;
	atomic_fetch_add(&fail_pri[pri], 1);
}

void
strcache_count_badsize(void)
{
	atomic_fetch_add(&badsize, 1);
}

static void
waiters_update_locked(void)
{
	bool waiting = wait_bufcall || wait_kmem;

	atomic_store(&strcache_kmem_sleepers, wait_kmem ? 1 : 0);
	atomic_store(&strcache_waiters, waiting ? 1 : 0);
	atomic_store(&strcache_fastgen, waiting ? 0 :
	    atomic_load(&strcache_gen));
}

void
strcache_set_waiters(bool waiting)
{
	pthread_mutex_lock(&wait_mtx);
	wait_bufcall = waiting;
	waiters_update_locked();
	pthread_mutex_unlock(&wait_mtx);
}

/* ddi sleepers hook: KM_SLEEP callers wait for the budget, or no more. */
static void
strcache_sleepers(bool waiting)
{
	pthread_mutex_lock(&wait_mtx);
	wait_kmem = waiting;
	waiters_update_locked();
	pthread_mutex_unlock(&wait_mtx);
}

/* ddi reclaim hook: the budget refused; give back what caches hold. */
static void
strcache_reclaim(void)
{
	struct strcpu *cpu = strcpu_current();

	for (unsigned c = 0; c < SC_NCLASS; c++)
		depot_drain(c);
	if (cpu != NULL)
		cpu_empty(cpu);
}

/*
 * ddi statistics hook: held bytes not yet folded, the highest any CPU's
 * unfolded part reached since its last fold, and the bytes cached.
 */
static int64_t
strcache_unfolded(size_t *cachedp, int64_t *maxp)
{
	struct strcpu *cpu;
	int64_t held = 0, cached = 0, max = 0;

	pthread_mutex_lock(&cpu_lock);
	LIST_FOREACH(cpu, &cpu_list, sc_link) {
		held += pc_ld(&cpu->sc_held);
		if (pc_ld(&cpu->sc_held_max) > max)
			max = pc_ld(&cpu->sc_held_max);
		for (unsigned c = 0; c < SC_NCLASS; c++)
			cached += (int64_t)(mag_ld(&cpu->sc_cls[c].cc_n) +
			    mag_ld(&cpu->sc_cls[c].cc_nprev)) *
			    strclass_footprint[c];
	}
	pthread_mutex_unlock(&cpu_lock);
	for (unsigned c = 0; c < SC_NCLASS; c++)
		cached += sc_ld(&strclass[c].sc_depot_objs) *
		    strclass_footprint[c];
	*cachedp = cached > 0 ? (size_t)cached : 0;
	*maxp = max;
	return (held);
}

/*
 * Exact bytes in use: the global count and every CPU's unfolded part.
 * Takes cpu_lock; for bufcall's due checks and refusals, not for
 * admission.  *negp (if not NULL) is what the CPUs whose part is negative
 * (frees not folded yet) take off the global count, as a positive number:
 * the most by which the global count alone overstates the exact one.
 */
int64_t
strcache_held_exact(int64_t *negp)
{
	struct strcpu *cpu;
	int64_t held = 0, neg = 0;

	pthread_mutex_lock(&cpu_lock);
	LIST_FOREACH(cpu, &cpu_list, sc_link) {
		int64_t h = pc_ld(&cpu->sc_held);

		held += h;
		if (h < 0)
			neg -= h;
	}
	pthread_mutex_unlock(&cpu_lock);
	if (negp != NULL)
		*negp = neg;
	return (ust_mem_held() + held);
}

/* ddi release hook: memory went back; tell bufcall if anyone waits. */
static void
strcache_release(void)
{
	if (atomic_load(&strcache_waiters) != 0)
		bufcall_memfree();
}

/*
 * ustreams_strstat - the allocation table.  0, or ENXIO when no instance
 * runs.  Any context; does not block (but for short locks).
 */
int
ustreams_strstat(struct ustreams_strstat *ssp)
{
	struct strcpu *cpu;
	int64_t inuse[SC_NCLASS + 1], cached[SC_NCLASS + 1];
	int64_t max[SC_NCLASS + 1];
	uint64_t total[SC_NCLASS + 1];
	int error;

	memset(ssp, 0, sizeof (*ssp));
	if ((error = ustreams_memstat(&ssp->ss_mem)) != 0)
		return (error);
	for (unsigned c = 0; c <= SC_NCLASS; c++) {
		inuse[c] = sc_ld(&strclass[c].sc_inuse);
		cached[c] = sc_ld(&strclass[c].sc_depot_objs);
		total[c] = atomic_load(&strclass[c].sc_total);
		max[c] = sc_ld(&strclass[c].sc_max);
	}
	pthread_mutex_lock(&cpu_lock);
	LIST_FOREACH(cpu, &cpu_list, sc_link) {
		for (unsigned c = 0; c < SC_NCLASS; c++) {
			struct strcpu_class *cc = &cpu->sc_cls[c];
			int64_t m = sc_ld(&strclass[c].sc_inuse) +
			    pc_ld(&cc->cc_inuse_max);

			inuse[c] += pc_ld(&cc->cc_inuse);
			cached[c] += mag_ld(&cc->cc_n) +
			    mag_ld(&cc->cc_nprev);
			total[c] += (uint64_t)pc_ld(&cc->cc_total);
			if (pc_ld(&cc->cc_inuse_max) > 0 && m > max[c])
				max[c] = m;
		}
	}
	pthread_mutex_unlock(&cpu_lock);

	ssp->ss_nclass = SC_NCLASS + 1;
	for (unsigned c = 0; c <= SC_NCLASS; c++) {
		struct ustreams_classstat *cs = &ssp->ss_class[c];

		if (c == SC_MBLK) {
			(void) snprintf(cs->cs_name, sizeof (cs->cs_name),
			    "mblk");
		} else if (c == SC_ESB) {
			(void) snprintf(cs->cs_name, sizeof (cs->cs_name),
			    "esb");
		} else if (c == SC_OVERSIZE) {
			(void) snprintf(cs->cs_name, sizeof (cs->cs_name),
			    "oversize");
		} else {
			cs->cs_size = strclass_footprint[c] - SC_HDRSIZE;
			(void) snprintf(cs->cs_name, sizeof (cs->cs_name),
			    "%zu", cs->cs_size);
		}
		if (c < SC_NCLASS)
			cs->cs_footprint = strclass_footprint[c];
		cs->cs_inuse = inuse[c] > 0 ? (uint64_t)inuse[c] : 0;
		cs->cs_cached = cached[c] > 0 ? (uint64_t)cached[c] : 0;
		cs->cs_total = total[c];
		cs->cs_max = max[c] > 0 ? (uint64_t)max[c] : 0;
		if (cs->cs_max < cs->cs_inuse)
			cs->cs_max = cs->cs_inuse;
		cs->cs_fail = atomic_load(&strclass[c].sc_fail);
	}
	for (unsigned p = BPRI_LO; p <= BPRI_HI; p++)
		ssp->ss_fail_pri[p] = atomic_load(&fail_pri[p]);
	ssp->ss_badsize = atomic_load(&badsize);
	return (0);
}

static int
strcache_init(const struct ustreams_config *cfg)
{
	static uint64_t gen_next;
	size_t magbytes = cfg->uc_memsize / 64;
	struct ust_mem_hooks hooks = {
		.mh_reclaim = strcache_reclaim,
		.mh_unfolded = strcache_unfolded,
		.mh_release = strcache_release,
		.mh_sleepers = strcache_sleepers,
	};

	(void) pthread_once(&cpu_key_once, cpu_key_create);
	strclass_by64_init();
	if (magbytes > MAG_BYTES_MAX)
		magbytes = MAG_BYTES_MAX;
	strcache_fold_bytes = (int64_t)(cfg->uc_memsize / 64);
	if (strcache_fold_bytes < FOLD_BYTES_MIN)
		strcache_fold_bytes = FOLD_BYTES_MIN;
	if (strcache_fold_bytes > FOLD_BYTES_MAX)
		strcache_fold_bytes = FOLD_BYTES_MAX;
	for (unsigned c = 0; c <= SC_NCLASS; c++) {
		struct strclass *sc = &strclass[c];
		size_t d = c < SC_NCLASS ? magbytes / strclass_footprint[c] : 0;

		memset(sc, 0, sizeof (*sc));
		pthread_mutex_init(&sc->sc_depot_lock, NULL);
		sc->sc_depth = d < MAG_DEPTH_MIN ? MAG_DEPTH_MIN :
		    d > MAG_DEPTH_MAX ? MAG_DEPTH_MAX : (int)d;
	}
	for (unsigned p = 0; p < 4; p++)
		atomic_store(&fail_pri[p], 0);
	atomic_store(&badsize, 0);
	wait_bufcall = wait_kmem = false;
	atomic_store(&strcache_kmem_sleepers, 0);
	atomic_store(&strcache_waiters, 0);
	ust_mem_set_hooks(&hooks);
	atomic_store(&strcache_gen, ++gen_next);
	atomic_store(&strcache_fastgen, gen_next);
	return (0);
}

static void
strcache_fini(void)
{
	struct strcpu *cpu;
	int64_t leaked = 0;

	atomic_store(&strcache_fastgen, 0);
	atomic_store(&strcache_gen, 0);
	pthread_mutex_lock(&cpu_lock);
	while ((cpu = LIST_FIRST(&cpu_list)) != NULL) {
		LIST_REMOVE(cpu, sc_link);
		pthread_mutex_unlock(&cpu_lock);
		cpu_empty(cpu);
		cpu_free_mags(cpu);
		strcache_fold(cpu);
		ust_mem_put_overhead(cpu, sizeof (*cpu));
		pthread_mutex_lock(&cpu_lock);
	}
	pthread_mutex_unlock(&cpu_lock);
	strcpu_tls = NULL;
	strcpu_tls_gen = STRCPU_NOGEN;
	for (unsigned c = 0; c <= SC_NCLASS; c++) {
		if (c < SC_NCLASS)
			depot_fini(c);
		leaked += sc_ld(&strclass[c].sc_inuse);
		pthread_mutex_destroy(&strclass[c].sc_depot_lock);
	}
	if (leaked != 0)
		cmn_err(CE_WARN, "ustreams_shutdown: %lld message block(s) "
		    "still allocated", (long long)leaked);
	ust_mem_set_hooks(NULL);
}

USTREAMS_SYSINIT(strcache, SI_ORDER_STRCACHE, strcache_init, strcache_fini);
