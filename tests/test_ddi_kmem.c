/*
 * Unit tests of ddi/: kmem_alloc(D3) and the STREAMS memory budget.
 *
 * The contract (sys/kmem.h, ddi/kmem.c, ddi/mem.c): kmem memory comes out
 * of the instance's one region and counts against the budget to the byte,
 * in the allocator's size classes; when the budget is used up KM_NOSLEEP
 * fails and the refusal is counted; KM_SLEEP waits for memory to be freed
 * and is for base context only; kmem_free must be given the allocated size
 * and panics on a size or pointer that does not match.
 *
 * Sizes: jemalloc rounds a request up to its size class, and the budget
 * counts the class.  The classes used here: 1 -> 8 bytes, 1000 -> 1024,
 * 4096 -> 4096 (a 1 MiB budget holds exactly 256 blocks of 4096).
 */
#include "harness.h"

#include <sys/ddi.h>
#include <sys/kmem.h>
#include <sys/stream.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ddi/exec.h"

#define	MIB		(1024u * 1024)
#define	PAGES_PER_MIB	256

static void *pages[PAGES_PER_MIB];

static void
memstat(struct ustreams_memstat *ms)
{
	ck_assert_int_eq(ustreams_memstat(ms), 0);
}

/* Take the whole 1 MiB budget in blocks of 4096; each must succeed. */
static void
fill_budget(void)
{
	for (int i = 0; i < PAGES_PER_MIB; i++) {
		pages[i] = kmem_alloc(4096, KM_NOSLEEP);
		ck_assert_msg(pages[i] != NULL, "allocation %d of 4096 failed",
		    i + 1);
	}
}

static void
free_pages(int from)
{
	for (int i = from; i < PAGES_PER_MIB; i++)
		kmem_free(pages[i], 4096);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	(void) nanosleep(&ts, NULL);
}

START_TEST(test_kmem_alloc_without_instance_returns_null)
{
	ck_assert_ptr_null(kmem_alloc(64, KM_NOSLEEP));
	ck_assert_ptr_null(kmem_zalloc(64, KM_NOSLEEP));
}
END_TEST

START_TEST(test_kmem_alloc_zero_returns_null)
{
	struct ustreams_memstat ms;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_ptr_null(kmem_alloc(0, KM_NOSLEEP));
	ck_assert_ptr_null(kmem_alloc(0, KM_SLEEP));
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	ck_assert_uint_eq(ms.ms_fail, 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_budget_of_1mib_admits_exactly_256_blocks_of_4096)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	fill_budget();
	ck_assert_ptr_null(kmem_alloc(4096, KM_NOSLEEP));
	free_pages(0);
	harness_shutdown();
}
END_TEST

START_TEST(test_budget_refuses_the_byte_past_it)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	fill_budget();
	ck_assert_ptr_null(kmem_alloc(1, KM_NOSLEEP));
	free_pages(0);
	harness_shutdown();
}
END_TEST

START_TEST(test_budget_admits_again_after_a_free)
{
	void *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	fill_budget();
	ck_assert_ptr_null(kmem_alloc(4096, KM_NOSLEEP));
	kmem_free(pages[0], 4096);
	p = kmem_alloc(4096, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(kmem_alloc(4096, KM_NOSLEEP));
	kmem_free(p, 4096);
	free_pages(1);
	harness_shutdown();
}
END_TEST

START_TEST(test_budget_counts_inuse_and_high_water_exactly)
{
	struct ustreams_memstat ms;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	fill_budget();
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 1048576);
	ck_assert_uint_eq(ms.ms_maxinuse, 1048576);
	kmem_free(pages[0], 4096);
	kmem_free(pages[1], 4096);
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 1040384);
	ck_assert_uint_eq(ms.ms_maxinuse, 1048576);
	free_pages(2);
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	ck_assert_uint_eq(ms.ms_maxinuse, 1048576);
	harness_shutdown();
}
END_TEST

START_TEST(test_budget_counts_each_refusal)
{
	struct ustreams_memstat ms;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	fill_budget();
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_fail, 0);
	ck_assert_ptr_null(kmem_alloc(4096, KM_NOSLEEP));
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_fail, 1);
	ck_assert_ptr_null(kmem_alloc(1, KM_NOSLEEP));
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_fail, 2);
	free_pages(0);
	harness_shutdown();
}
END_TEST

/* A request for the whole budget, no more, is admitted. */
START_TEST(test_kmem_alloc_of_exactly_the_budget_is_admitted)
{
	struct ustreams_memstat ms;
	void *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	p = kmem_alloc(1048576, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 1048576);
	ck_assert_ptr_null(kmem_alloc(1, KM_NOSLEEP));
	kmem_free(p, 1048576);
	harness_shutdown();
}
END_TEST

START_TEST(test_kmem_alloc_larger_than_budget_returns_null_even_km_sleep)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_ptr_null(kmem_alloc(1048577, KM_NOSLEEP));
	ck_assert_ptr_null(kmem_alloc(1048577, KM_SLEEP));
	harness_shutdown();
}
END_TEST

/*
 * A budget of 300000 bytes cannot hold a request of 290000: its size class
 * is 327680.  KM_SLEEP must not wait for memory that can never be had.
 */
START_TEST(test_km_sleep_for_a_size_class_above_the_budget_returns_null)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = 300000;
	harness_boot_cfg(&cfg);
	ck_assert_ptr_null(kmem_alloc(290000, KM_NOSLEEP));
	ck_assert_ptr_null(kmem_alloc(290000, KM_SLEEP));
	harness_shutdown();
}
END_TEST

/* jemalloc's size class for 1000 bytes is 1024: the budget counts 1024. */
START_TEST(test_kmem_alloc_1000_counts_its_size_class_1024)
{
	struct ustreams_memstat ms;
	void *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	p = kmem_alloc(1000, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 1024);
	kmem_free(p, 1000);
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	harness_shutdown();
}
END_TEST

/* The smallest size class is 8 bytes. */
START_TEST(test_kmem_alloc_1_counts_8)
{
	struct ustreams_memstat ms;
	void *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	p = kmem_alloc(1, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 8);
	kmem_free(p, 1);
	harness_shutdown();
}
END_TEST

START_TEST(test_kmem_zalloc_returns_zeroed_memory)
{
	unsigned char *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	/* Dirty a block and give it back, so that zalloc may reuse it. */
	p = kmem_alloc(4096, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	memset(p, 0xa5, 4096);
	kmem_free(p, 4096);
	p = kmem_zalloc(4096, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 4096; i++)
		ck_assert_msg(p[i] == 0, "byte %d is 0x%02x", i, p[i]);
	kmem_free(p, 4096);
	harness_shutdown();
}
END_TEST

static const size_t region_sizes[] = {
	1, 8, 100, 1000, 4096, 5000, 65536, 262144
};
#define	NREGION_SIZES	(sizeof (region_sizes) / sizeof (region_sizes[0]))

START_TEST(test_kmem_pointers_lie_inside_the_region)
{
	struct ustreams_memstat ms;
	void *p[NREGION_SIZES];

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	memstat(&ms);
	ck_assert_ptr_nonnull(ms.ms_region);
	for (size_t i = 0; i < NREGION_SIZES; i++) {
		uintptr_t a, lo = (uintptr_t)ms.ms_region;

		p[i] = kmem_alloc(region_sizes[i], KM_NOSLEEP);
		ck_assert_ptr_nonnull(p[i]);
		a = (uintptr_t)p[i];
		ck_assert(ustreams_mem_contains(p[i], region_sizes[i]));
		ck_assert_msg(a >= lo && a + region_sizes[i] <= lo +
		    ms.ms_region_size, "block of %zu at %p is outside the "
		    "region %p+%zu", region_sizes[i], p[i], ms.ms_region,
		    ms.ms_region_size);
	}
	for (size_t i = 0; i < NREGION_SIZES; i++)
		kmem_free(p[i], region_sizes[i]);
	harness_shutdown();
}
END_TEST

START_TEST(test_mem_contains_refuses_what_is_outside)
{
	struct ustreams_memstat ms;
	const char *r;
	int on_stack;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	memstat(&ms);
	r = ms.ms_region;
	ck_assert(ustreams_mem_contains(r, ms.ms_region_size));
	ck_assert(!ustreams_mem_contains(r, ms.ms_region_size + 1));
	ck_assert(!ustreams_mem_contains(r + ms.ms_region_size, 1));
	ck_assert(!ustreams_mem_contains(r - 1, 1));
	ck_assert(!ustreams_mem_contains(&on_stack, sizeof (on_stack)));
	harness_shutdown();
	ck_assert(!ustreams_mem_contains(r, 1));
}
END_TEST

#if defined(__x86_64__) && defined(__linux__)
/* MAP_32BIT: the whole region, so every block, is below 4 GB. */
START_TEST(test_region_is_below_4g_on_x86_64_linux)
{
	struct ustreams_memstat ms;
	void *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	memstat(&ms);
	ck_assert(ms.ms_below4g);
	ck_assert_uint_le((uintptr_t)ms.ms_region + ms.ms_region_size,
	    0x100000000ull);
	p = kmem_alloc(4096, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt((uintptr_t)p, 0x100000000ull);
	kmem_free(p, 4096);
	harness_shutdown();
}
END_TEST
#endif

START_TEST(test_kmem_free_with_wrong_size_panics)
{
	void *p;
	int line;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	p = kmem_alloc(1000, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	HARNESS_EXPECT_PANIC(kmem_free(p, 2000)); line = __LINE__;
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "kmem_free: "));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "size 2000 does not match the allocation (1024 bytes) (called "
	    "from "));
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	kmem_free(p, 1000);
	harness_shutdown();
}
END_TEST

START_TEST(test_kmem_free_of_a_stack_pointer_panics)
{
	char buf[64];

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	HARNESS_EXPECT_PANIC(kmem_free(buf, sizeof (buf)));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "kmem_free: "));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "is not STREAMS memory"));
	harness_shutdown();
}
END_TEST

START_TEST(test_kmem_free_of_a_malloc_pointer_panics)
{
	void *p = malloc(64);

	ck_assert_ptr_nonnull(p);
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	HARNESS_EXPECT_PANIC(kmem_free(p, 64));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "kmem_free: "));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "is not STREAMS memory"));
	free(p);
	harness_shutdown();
}
END_TEST

START_TEST(test_kmem_free_of_null_panics)
{
	int line;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	HARNESS_EXPECT_PANIC(kmem_free(NULL, 64)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(),
	    "kmem_free: NULL address (called from ");
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	harness_shutdown();
}
END_TEST

START_TEST(test_kmem_alloc_with_bad_flag_panics)
{
	int line;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	HARNESS_EXPECT_PANIC((void) kmem_alloc(64, 7)); line = __LINE__;
	harness_assert_prefix(harness_panic_msg(),
	    "kmem_alloc: bad flag 7 (called from ");
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	harness_shutdown();
}
END_TEST


/*
 * Size 0 returns NULL before the flag is looked at, as on SVR5, even a
 * flag that would otherwise panic.
 */
START_TEST(test_kmem_alloc_of_0_bytes_returns_null_whatever_the_flag)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_ptr_null(kmem_alloc(0, 7));
	ck_assert_ptr_null(kmem_zalloc(0, KM_SLEEP));
	harness_shutdown();
}
END_TEST

/*
 * KM_SLEEP outside base context.  Interrupt and service context are
 * entered by posting an event of that context to the executive (there is
 * no public interrupt source yet); callout context by a real timeout.
 */
static char sleep_panic[512];
static int sleep_handler_ran;
static int sleep_panic_line;	/* the line of the kmem_alloc that panicked */

static void
km_sleep_handler(void *arg)
{
	sleep_handler_ran = 1;
	HARNESS_EXPECT_PANIC((void) kmem_alloc(64, KM_SLEEP));
	sleep_panic_line = __LINE__ - 1;
	(void) snprintf(sleep_panic, sizeof (sleep_panic), "%s",
	    harness_panic_msg());
}

static void
km_sleep_in_context(enum ustreams_ctx ctx, const char *want)
{
	struct ust_event ev;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ust_event_init(&ev, km_sleep_handler, NULL, ctx);
	ck_assert(ust_event_post(&ev));
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(sleep_handler_ran, 1);
	harness_assert_prefix(sleep_panic, want);
	harness_assert_where(sleep_panic, "context by", "km_sleep_handler",
	    __FILE__, sleep_panic_line);
	harness_shutdown();
}

START_TEST(test_km_sleep_in_interrupt_context_panics)
{
	km_sleep_in_context(USTREAMS_CTX_INTR,
	    "kmem_alloc: may sleep, called from interrupt context by ");
}
END_TEST

START_TEST(test_km_sleep_in_service_context_panics)
{
	km_sleep_in_context(USTREAMS_CTX_SERVICE,
	    "kmem_alloc: may sleep, called from service context by ");
}
END_TEST

START_TEST(test_km_sleep_in_a_timeout_handler_panics)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(km_sleep_handler, NULL, 1), 0);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(sleep_handler_ran, 1);
	harness_assert_prefix(sleep_panic,
	    "kmem_alloc: may sleep, called from callout context by ");
	harness_assert_where(sleep_panic, "context by", "km_sleep_handler",
	    __FILE__, sleep_panic_line);
	harness_shutdown();
}
END_TEST

static void
km_nosleep_handler(void *arg)
{
	void *p = kmem_alloc(64, KM_NOSLEEP);

	*(int *)arg = p != NULL;
	if (p != NULL)
		kmem_free(p, 64);
}

START_TEST(test_km_nosleep_in_interrupt_context_is_allowed)
{
	struct ust_event ev;
	int got = -1;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ust_event_init(&ev, km_nosleep_handler, &got, USTREAMS_CTX_INTR);
	ck_assert(ust_event_post(&ev));
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(got, 1);
	harness_shutdown();
}
END_TEST

START_TEST(test_km_sleep_under_sim_with_nothing_to_free_memory_panics)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	fill_budget();
	HARNESS_EXPECT_PANIC((void) kmem_alloc(4096, KM_SLEEP));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "kmem_alloc: would sleep forever"));
	free_pages(0);
}
END_TEST

/* A timeout handler that gives back the block arg points at. */
static int freer_ran;

static void
free_block_handler(void *arg)
{
	kmem_free(*(void **)arg, 4096);
	freer_ran = 1;
}

START_TEST(test_km_sleep_under_sim_waits_until_a_timeout_frees_memory)
{
	void *victim, *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	/* The timeout record is STREAMS memory: take it before filling. */
	ck_assert_int_ne(timeout(free_block_handler, &victim, 5), 0);
	victim = kmem_alloc(4096, KM_NOSLEEP);
	ck_assert_ptr_nonnull(victim);
	for (int i = 0; i < PAGES_PER_MIB; i++)
		pages[i] = kmem_alloc(4096, KM_NOSLEEP);
	ck_assert_ptr_null(pages[PAGES_PER_MIB - 1]);
	ck_assert_uint_eq(ustreams_now_ns(), 0);

	p = kmem_alloc(4096, KM_SLEEP);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(freer_ran, 1);
	/* 5 ticks of 10 ms from time 0. */
	ck_assert_uint_eq(ustreams_now_ns(), 50000000);
	kmem_free(p, 4096);
	for (int i = 0; i < PAGES_PER_MIB && pages[i] != NULL; i++)
		kmem_free(pages[i], 4096);
}
END_TEST

/*
 * A KM_SLEEP caller may wait again after an earlier wait: two waits in a
 * row, each until a timeout gives a block back.  Once no one waits, freed
 * message blocks are parked in the caches again.
 */
START_TEST(test_km_sleep_waits_again_after_an_earlier_wait)
{
	void *victim[2], *p, *q;
	struct ustreams_memstat ms;
	mblk_t *mp;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(free_block_handler, &victim[0], 5), 0);
	ck_assert_int_ne(timeout(free_block_handler, &victim[1], 10), 0);
	ck_assert_ptr_nonnull(victim[0] = kmem_alloc(4096, KM_NOSLEEP));
	ck_assert_ptr_nonnull(victim[1] = kmem_alloc(4096, KM_NOSLEEP));
	for (int i = 0; i < PAGES_PER_MIB; i++)
		pages[i] = kmem_alloc(4096, KM_NOSLEEP);
	ck_assert_ptr_null(pages[PAGES_PER_MIB - 1]);

	p = kmem_alloc(4096, KM_SLEEP);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(ustreams_now_ns(), 50000000);
	q = kmem_alloc(4096, KM_SLEEP);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(ustreams_now_ns(), 100000000);
	kmem_free(p, 4096);
	kmem_free(q, 4096);
	for (int i = 0; i < PAGES_PER_MIB && pages[i] != NULL; i++)
		kmem_free(pages[i], 4096);

	ck_assert_ptr_nonnull(mp = allocb(64, BPRI_HI));
	freeb(mp);
	memstat(&ms);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	ck_assert_uint_gt(ms.ms_cached, 0);
}
END_TEST

/* Threads: another thread frees a block while KM_SLEEP waits for one. */
static void *
free_later_thread(void *arg)
{
	sleep_ms(20);
	kmem_free(arg, 4096);
	return (NULL);
}

START_TEST(test_km_sleep_under_threads_returns_when_another_thread_frees)
{
	pthread_t t;
	void *p;

	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	fill_budget();
	ck_assert_ptr_null(kmem_alloc(4096, KM_NOSLEEP));
	ck_assert_int_eq(pthread_create(&t, NULL, free_later_thread,
	    pages[0]), 0);
	p = kmem_alloc(4096, KM_SLEEP);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	kmem_free(p, 4096);
	free_pages(1);
	harness_shutdown();
}
END_TEST


/*
 * KM_SLEEP is satisfied by memory that message blocks freed into the
 * buffer caches: the waiter's retry runs the reclaim hook, which gives
 * the cached blocks back with ust_mem_put() -- which must not find the
 * waiter holding the lock it wakes waiters under.
 */
#define	KR_SMALL_MAX	1024
static mblk_t *kr_blk[2];
static void *kr_small[KR_SMALL_MAX];
static int kr_nsmall;

static void
kr_free_handler(void *arg)
{
	freemsg(kr_blk[0]);
	freemsg(kr_blk[1]);
	kr_blk[0] = kr_blk[1] = NULL;
	/* Any kmem_free wakes the KM_SLEEP waiter. */
	kmem_free(kr_small[--kr_nsmall], 8);
}

/*
 * Two 4000-byte blocks held in kr_blk, and the rest of the budget taken
 * by kmem (pages[0..*np), kr_small): the last refusals empty the caches.
 */
static int
kr_fill(void)
{
	int n = 0;

	ck_assert_ptr_nonnull(kr_blk[0] = allocb(4000, BPRI_HI));
	ck_assert_ptr_nonnull(kr_blk[1] = allocb(4000, BPRI_HI));
	while (n < PAGES_PER_MIB && (pages[n] = kmem_alloc(4096,
	    KM_NOSLEEP)) != NULL)
		n++;
	while (kr_nsmall < KR_SMALL_MAX &&
	    (kr_small[kr_nsmall] = kmem_alloc(8, KM_NOSLEEP)) != NULL)
		kr_nsmall++;
	ck_assert_int_gt(kr_nsmall, 0);
	return (n);
}

/* KM_SLEEP of a page must return it, not panic; then free it all. */
static void
kr_sleep_and_empty(int n)
{
	void *volatile p = NULL;

	harness_panic_catch();
	if (sigsetjmp(harness_panic_jb, 0) == 0) {
		harness_panic_armed = 1;
		p = kmem_alloc(4096, KM_SLEEP);
		harness_panic_armed = 0;
	} else {
		ck_abort_msg("KM_SLEEP panicked: %s", harness_panic_msg());
	}
	ck_assert_ptr_nonnull(p);
	kmem_free(p, 4096);
	while (kr_nsmall > 0)
		kmem_free(kr_small[--kr_nsmall], 8);
	for (int i = 0; i < n; i++)
		kmem_free(pages[i], 4096);
}

START_TEST(test_km_sleep_is_satisfied_by_blocks_freed_into_the_caches)
{
	int n;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_ne(timeout(kr_free_handler, NULL, 1), 0);
	n = kr_fill();
	kr_sleep_and_empty(n);
	harness_shutdown();
}
END_TEST

/*
 * Blocks freed while a KM_SLEEP caller waits wake it: they go back to
 * the arena instead of a cache.  (Under sim a caller no one wakes runs
 * out of events and panics.)
 */
static void
kr_free_blocks_only(void *arg)
{
	freemsg(kr_blk[0]);
	freemsg(kr_blk[1]);
	kr_blk[0] = kr_blk[1] = NULL;
}

START_TEST(test_km_sleep_wakes_when_blocks_are_freed)
{
	struct ust_event ev;
	int n;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	n = kr_fill();
	ust_event_init(&ev, kr_free_blocks_only, NULL, USTREAMS_CTX_SERVICE);
	ck_assert(ust_event_post_at(&ev, 1000000));
	kr_sleep_and_empty(n);
	harness_shutdown();
}
END_TEST

/*
 * Under ThreadSanitizer the tests share one process (CK_FORK=no): each
 * starts from fresh statics, with the log captured (panics expected by a
 * test stay off stderr), and harness_tcase shuts down what it leaves.
 */
static void
reset_statics(void)
{
	harness_log_capture();
	memset(pages, 0, sizeof (pages));
	sleep_panic[0] = '\0';
	sleep_handler_ran = 0;
	freer_ran = 0;
	kr_nsmall = 0;
	kr_blk[0] = kr_blk[1] = NULL;
}

static TCase *
ddi_tcase(const char *name, double timeout)
{
	TCase *tc = harness_tcase(name, timeout);

	tcase_add_checked_fixture(tc, reset_statics, NULL);
	return (tc);
}

static Suite *
kmem_suite(void)
{
	Suite *s = suite_create("ddi_kmem");
	TCase *tc;

	tc = ddi_tcase("budget", 10);
	tcase_add_test(tc, test_kmem_alloc_without_instance_returns_null);
	tcase_add_test(tc, test_kmem_alloc_zero_returns_null);
	tcase_add_test(tc,
	    test_budget_of_1mib_admits_exactly_256_blocks_of_4096);
	tcase_add_test(tc, test_budget_refuses_the_byte_past_it);
	tcase_add_test(tc, test_budget_admits_again_after_a_free);
	tcase_add_test(tc, test_budget_counts_inuse_and_high_water_exactly);
	tcase_add_test(tc, test_budget_counts_each_refusal);
	tcase_add_test(tc, test_kmem_alloc_of_exactly_the_budget_is_admitted);
	tcase_add_test(tc,
	    test_kmem_alloc_larger_than_budget_returns_null_even_km_sleep);
	tcase_add_test(tc,
	    test_km_sleep_for_a_size_class_above_the_budget_returns_null);
	tcase_add_test(tc, test_kmem_alloc_1000_counts_its_size_class_1024);
	tcase_add_test(tc, test_kmem_alloc_1_counts_8);
	tcase_add_test(tc, test_kmem_zalloc_returns_zeroed_memory);
	suite_add_tcase(s, tc);

	tc = ddi_tcase("region", 10);
	tcase_add_test(tc, test_kmem_pointers_lie_inside_the_region);
	tcase_add_test(tc, test_mem_contains_refuses_what_is_outside);
#if defined(__x86_64__) && defined(__linux__)
	tcase_add_test(tc, test_region_is_below_4g_on_x86_64_linux);
#endif
	suite_add_tcase(s, tc);

	tc = ddi_tcase("misuse", 10);
	tcase_add_test(tc, test_kmem_free_with_wrong_size_panics);
	tcase_add_test(tc, test_kmem_free_of_a_stack_pointer_panics);
	tcase_add_test(tc, test_kmem_free_of_a_malloc_pointer_panics);
	tcase_add_test(tc, test_kmem_free_of_null_panics);
	tcase_add_test(tc, test_kmem_alloc_with_bad_flag_panics);
	tcase_add_test(tc, test_kmem_alloc_of_0_bytes_returns_null_whatever_the_flag);
	suite_add_tcase(s, tc);

	tc = ddi_tcase("sleep", 30);
	tcase_add_test(tc, test_km_sleep_in_interrupt_context_panics);
	tcase_add_test(tc, test_km_sleep_in_service_context_panics);
	tcase_add_test(tc, test_km_sleep_in_a_timeout_handler_panics);
	tcase_add_test(tc, test_km_nosleep_in_interrupt_context_is_allowed);
	tcase_add_test(tc,
	    test_km_sleep_under_sim_with_nothing_to_free_memory_panics);
	tcase_add_test(tc,
	    test_km_sleep_under_sim_waits_until_a_timeout_frees_memory);
	tcase_add_test(tc, test_km_sleep_waits_again_after_an_earlier_wait);
	tcase_add_test(tc,
	    test_km_sleep_under_threads_returns_when_another_thread_frees);
	tcase_add_test(tc,
	    test_km_sleep_is_satisfied_by_blocks_freed_into_the_caches);
	tcase_add_test(tc, test_km_sleep_wakes_when_blocks_are_freed);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(kmem_suite()));
}
