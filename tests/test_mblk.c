/*
 * Message blocks: allocb and its admission rule, testb, esballoc and
 * desballoc, allocb_physreq, dupb, freeb and freemsg, the allocation
 * statistics, and misuse detection.
 *
 * Footprints (bytes an object occupies, see streams/strcache.h): a bare
 * mblk 64, an esballoc header 256, data classes 192 (64-byte buffer), 256
 * (128), 384 (256), 640 (512), 1280 (1152), 2560 (2432), 5120 (4992),
 * 10240 (10112), 20480 (20352), 40960 (40832), 81920 (81792).
 */
#include "harness.h"

#include <sys/ddi.h>
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ustreams_stat.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define	MEM_1M		(1024 * 1024)

static struct ustreams_strstat ss;

static void
snap(void)
{
	ck_assert_int_eq(ustreams_strstat(&ss), 0);
}

static const struct ustreams_classstat *
cls(const char *name)
{
	for (unsigned i = 0; i < ss.ss_nclass; i++) {
		if (strcmp(ss.ss_class[i].cs_name, name) == 0)
			return (&ss.ss_class[i]);
	}
	ck_abort_msg("no class %s", name);
	return (NULL);
}

/*
 * Bytes in use once the calling thread has allocated.  Framework overhead
 * (the per-CPU cache record, the bufcall reserve) is outside the budget,
 * so this is 0; the tests use the value read rather than assume it.
 */
static size_t
warm_baseline(void)
{
	struct ustreams_memstat ms;

	freeb(allocb(0, BPRI_HI));
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	return (ms.ms_inuse);
}

START_TEST(allocb_returns_empty_m_data_block)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(100, BPRI_MED);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(DB_TYPE(mp), M_DATA);
	ck_assert_int_eq(DB_REF(mp), 1);
	ck_assert_ptr_eq(mp->b_rptr, DB_BASE(mp));
	ck_assert_ptr_eq(mp->b_wptr, DB_BASE(mp));
	ck_assert_ptr_null(mp->b_next);
	ck_assert_ptr_null(mp->b_prev);
	ck_assert_ptr_null(mp->b_cont);
	ck_assert_int_eq(mp->b_band, 0);
	ck_assert_int_eq(mp->b_flag, 0);
	ck_assert_ptr_null(DB_FRTNP(mp));
	/* 100 bytes go to the 128-byte class. */
	ck_assert_int_eq(MBLKSIZE(mp), 128);
	memset(mp->b_wptr, 0xa5, 128);
	mp->b_wptr += 128;
	freeb(mp);
}
END_TEST

/*
 * A block comes back from the cache as new, whatever its last owner did
 * to it: type, band, flags, pointers, links, and a data block whose last
 * reference went through dupb (db_ref dropped to 0 on that path).
 */
START_TEST(allocb_reuses_a_block_as_new)
{
	mblk_t *mp, *dp, *again;
	unsigned char *base;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(100, BPRI_MED);
	ck_assert_ptr_nonnull(mp);
	base = DB_BASE(mp);
	DB_TYPE(mp) = M_PROTO;
	mp->b_band = 3;
	mp->b_flag = MSGMARK;
	mp->b_rptr += 10;
	mp->b_wptr += 20;
	freeb(mp);
	again = allocb(100, BPRI_MED);
	ck_assert_ptr_eq(again, mp);	/* the cache gives the last freed first */
	ck_assert_int_eq(DB_TYPE(again), M_DATA);
	ck_assert_int_eq(DB_REF(again), 1);
	ck_assert_int_eq(again->b_band, 0);
	ck_assert_int_eq(again->b_flag, 0);
	ck_assert_ptr_eq(DB_BASE(again), base);
	ck_assert_ptr_eq(again->b_rptr, base);
	ck_assert_ptr_eq(again->b_wptr, base);
	ck_assert_int_eq(MBLKSIZE(again), 128);

	dp = dupb(again);
	ck_assert_ptr_nonnull(dp);
	freeb(again);
	freeb(dp);			/* the last reference */
	mp = allocb(100, BPRI_MED);
	ck_assert_ptr_eq(mp, again);
	ck_assert_int_eq(DB_REF(mp), 1);
	ck_assert_int_eq(DB_TYPE(mp), M_DATA);
	ck_assert_ptr_null(DB_FRTNP(mp));
	ck_assert_ptr_eq(mp->b_rptr, base);
	freeb(mp);
}
END_TEST

START_TEST(allocb_size_zero_gives_valid_empty_block)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(0, BPRI_LO);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(MBLKL(mp), 0);
	ck_assert_int_eq(MBLKSIZE(mp), 64);
	freeb(mp);
}
END_TEST

START_TEST(allocb_buffer_sizes_follow_the_classes)
{
	static const struct { int size; long bufsize; } t[] = {
		{ 1, 64 }, { 64, 64 }, { 65, 128 }, { 256, 256 },
		{ 257, 512 }, { 1024, 1152 }, { 1152, 1152 }, { 1500, 2432 },
		{ 2048, 2432 }, { 4096, 4992 }, { 9000, 10112 },
		{ 65536, 81792 }, { 81792, 81792 },
	};

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	for (size_t i = 0; i < sizeof (t) / sizeof (t[0]); i++) {
		mblk_t *mp = allocb(t[i].size, BPRI_HI);

		ck_assert_ptr_nonnull(mp);
		ck_assert_msg(MBLKSIZE(mp) == t[i].bufsize,
		    "allocb(%d): buffer %ld, expected %ld", t[i].size,
		    (long)MBLKSIZE(mp), t[i].bufsize);
		freeb(mp);
	}
}
END_TEST

START_TEST(allocb_oversize_block_is_exact_and_counted)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(200000, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_ge(MBLKSIZE(mp), 200000);
	memset(mp->b_wptr, 1, 200000);
	snap();
	ck_assert_uint_eq(cls("oversize")->cs_inuse, 1);
	ck_assert_uint_eq(cls("oversize")->cs_total, 1);
	freeb(mp);
	snap();
	ck_assert_uint_eq(cls("oversize")->cs_inuse, 0);
	ck_assert_uint_eq(cls("oversize")->cs_max, 1);
}
END_TEST

/*
 * An oversize block's buffer runs to the end of its footprint, the
 * allocator's size class for the request plus the 128-byte header: a
 * 200000-byte request gets 229248 bytes of buffer and is charged 229376.
 */
START_TEST(allocb_oversize_buffer_runs_to_the_end_of_its_footprint)
{
	struct ustreams_memstat ms;
	size_t before;
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	before = warm_baseline();
	mp = allocb(200000, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(MBLKSIZE(mp), 229248);
	ck_assert_ptr_eq(mp->b_rptr, DB_BASE(mp));
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_inuse - before, 229376);
	memset(mp->b_wptr, 1, 229248);
	mp->b_wptr = DB_LIM(mp);
	freeb(mp);
}
END_TEST

/*
 * Freed blocks stay in the caches, charged to the budget but not in use:
 * the memory statistics' cached bytes are the class caches' objects.
 */
START_TEST(freed_blocks_are_counted_cached_by_class_and_in_bytes)
{
	mblk_t *mp[4];
	size_t bytes = 0;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	snap();
	ck_assert_uint_eq(ss.ss_mem.ms_cached, 0);
	mp[0] = allocb(2048, BPRI_MED);
	mp[1] = allocb(2048, BPRI_MED);
	mp[2] = allocb(64, BPRI_MED);
	ck_assert_ptr_nonnull(mp[0]);
	ck_assert_ptr_nonnull(mp[1]);
	ck_assert_ptr_nonnull(mp[2]);
	mp[3] = dupb(mp[2]);
	ck_assert_ptr_nonnull(mp[3]);
	for (int i = 0; i < 4; i++)
		freeb(mp[i]);
	snap();
	ck_assert_uint_ge(cls("2432")->cs_cached, 2);
	ck_assert_uint_ge(cls("64")->cs_cached, 1);
	ck_assert_uint_ge(cls("mblk")->cs_cached, 1);
	for (unsigned c = 0; c < ss.ss_nclass; c++)
		bytes += ss.ss_class[c].cs_cached * ss.ss_class[c].cs_footprint;
	ck_assert_uint_eq(ss.ss_mem.ms_cached, bytes);
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, 0);
}
END_TEST

START_TEST(allocb_negative_and_absurd_sizes_return_null_and_are_counted)
{
	size_t boot_inuse;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	snap();
	boot_inuse = ss.ss_mem.ms_inuse;
	ck_assert_ptr_null(allocb(-1, BPRI_HI));
	ck_assert_ptr_null(allocb(-2147483647 - 1, BPRI_HI));
	ck_assert_ptr_null(allocb(2147483647, BPRI_HI));
	ck_assert_ptr_null(allocb(USTREAMS_MEM_DEFAULT + 1, BPRI_HI));
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 4);
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, boot_inuse);
}
END_TEST

/*
 * A size as large as the budget is not absurd, only too large to admit
 * with the headers: refused by admission and counted as a failure at its
 * priority, not as a bad size.
 */
START_TEST(allocb_of_the_whole_budget_is_refused_by_admission)
{
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	ck_assert_ptr_null(allocb(USTREAMS_MEM_DEFAULT, BPRI_HI));
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 0);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_HI], 1);
	ck_assert_uint_eq(cls("oversize")->cs_fail, 1);
}
END_TEST

START_TEST(allocb_memory_comes_from_the_region)
{
	struct ustreams_memstat ms;
	static const int sizes[] = { 0, 100, 2048, 9000, 70000, 300000 };

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	for (size_t i = 0; i < sizeof (sizes) / sizeof (sizes[0]); i++) {
		mblk_t *mp = allocb(sizes[i], BPRI_HI);
		uintptr_t lo = (uintptr_t)ms.ms_region;
		uintptr_t hi = lo + ms.ms_region_size;

		ck_assert_ptr_nonnull(mp);
		ck_assert((uintptr_t)mp >= lo);
		ck_assert((uintptr_t)DB_LIM(mp) <= hi);
		ck_assert((uintptr_t)DB_BASE(mp) >= lo);
		ck_assert((uintptr_t)DB_LIM(mp) < (1ull << 32));
		freeb(mp);
	}
}
END_TEST

/*
 * The exact admission counts.  Budget 1 MiB = 1048576 bytes: the LO
 * threshold is 80% = 838860 bytes, MED 90% = 943718, HI the budget.
 * allocb(2048) occupies 2560 bytes.  With b bytes in use already (0: the
 * framework's own records are outside the budget), LO gets floor((838860 - b) / 2560) blocks, MED that many
 * more up to floor((943718 - b) / 2560), HI up to floor((1048576 - b) /
 * 2560).
 */
START_TEST(admission_lo_med_hi_stop_at_their_thresholds)
{
	mblk_t *mp[512];
	size_t b;
	int n = 0, lo, med, hi;

	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	b = warm_baseline();
	while ((mp[n] = allocb(2048, BPRI_LO)) != NULL)
		n++;
	lo = n;
	/* LO is refused, yet MED and HI still succeed. */
	ck_assert_ptr_nonnull(mp[n] = allocb(2048, BPRI_MED));
	n++;
	while ((mp[n] = allocb(2048, BPRI_MED)) != NULL)
		n++;
	med = n;
	ck_assert_ptr_null(allocb(2048, BPRI_LO));
	ck_assert_ptr_nonnull(mp[n] = allocb(2048, BPRI_HI));
	n++;
	while ((mp[n] = allocb(2048, BPRI_HI)) != NULL)
		n++;
	hi = n;

	ck_assert_int_eq(lo, (int)((838860 - b) / 2560));
	ck_assert_int_eq(med, (int)((943718 - b) / 2560));
	ck_assert_int_eq(hi, (int)((1048576 - b) / 2560));

	snap();
	ck_assert_uint_eq(cls("2432")->cs_inuse, (uint64_t)hi);
	ck_assert_uint_eq(cls("2432")->cs_max, (uint64_t)hi);
	ck_assert_uint_eq(cls("2432")->cs_total, (uint64_t)hi);
	ck_assert_uint_eq(cls("2432")->cs_fail, 4);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_LO], 2);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_MED], 1);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_HI], 1);
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, b + (size_t)hi * 2560);

	for (int i = 0; i < n; i++)
		freeb(mp[i]);
	snap();
	ck_assert_uint_eq(cls("2432")->cs_inuse, 0);
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, b);
	ck_assert_uint_eq(ss.ss_mem.ms_maxinuse, b + (size_t)hi * 2560);
}
END_TEST

START_TEST(admission_freeing_lets_lo_in_again)
{
	mblk_t *mp[512];
	int n = 0;

	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	(void) warm_baseline();
	while ((mp[n] = allocb(2048, BPRI_HI)) != NULL)
		n++;
	ck_assert_ptr_null(allocb(2048, BPRI_LO));
	/* Free down to just below the LO threshold: 838860 - 2560 ... */
	while (testb(2048, BPRI_LO) == 0)
		freeb(mp[--n]);
	mp[n] = allocb(2048, BPRI_LO);
	ck_assert_ptr_nonnull(mp[n]);
	n++;
	ck_assert_ptr_null(allocb(2048, BPRI_LO));
	while (n > 0)
		freeb(mp[--n]);
}
END_TEST

START_TEST(admission_invalid_priority_counts_as_lo)
{
	mblk_t *mp[512];
	int n = 0;

	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	(void) warm_baseline();
	while ((mp[n] = allocb(2048, BPRI_LO)) != NULL)
		n++;
	ck_assert_ptr_null(allocb(2048, 0));
	ck_assert_ptr_null(allocb(2048, 7));
	ck_assert_ptr_nonnull(mp[n] = allocb(2048, BPRI_MED));
	n++;
	snap();
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_LO], 3);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_MED], 0);
	while (n > 0)
		freeb(mp[--n]);
}
END_TEST

START_TEST(admission_small_blocks_fit_where_large_ones_do_not)
{
	mblk_t *mp[512], *small;
	int n = 0;

	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	(void) warm_baseline();
	while ((mp[n] = allocb(2048, BPRI_HI)) != NULL)
		n++;
	/* Less than 2560 bytes are left, but a 192-byte object fits. */
	small = allocb(64, BPRI_HI);
	ck_assert_ptr_nonnull(small);
	freeb(small);
	while (n > 0)
		freeb(mp[--n]);
}
END_TEST

START_TEST(testb_answers_with_the_admission_rule)
{
	mblk_t *mp[512];
	int n = 0;

	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(testb(2048, BPRI_LO), 1);
	ck_assert_int_eq(testb(-1, BPRI_HI), 0);
	while ((mp[n] = allocb(2048, BPRI_LO)) != NULL)
		n++;
	ck_assert_int_eq(testb(2048, BPRI_LO), 0);
	ck_assert_int_eq(testb(2048, BPRI_MED), 1);
	ck_assert_int_eq(testb(2048, BPRI_HI), 1);
	while ((mp[n] = allocb(2048, BPRI_HI)) != NULL)
		n++;
	ck_assert_int_eq(testb(2048, BPRI_HI), 0);
	ck_assert_int_eq(testb(64, BPRI_HI), 1);
	while (n > 0)
		freeb(mp[--n]);
}
END_TEST

/* With no instance booted nothing can be allocated: testb says so. */
START_TEST(testb_without_an_instance_answers_0)
{
	ck_assert_int_eq(testb(0, BPRI_HI), 0);
	ck_assert_int_eq(testb(64, BPRI_HI), 0);
	ck_assert_ptr_null(allocb(64, BPRI_HI));
	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(testb(64, BPRI_HI), 1);
	harness_shutdown();
	ck_assert_int_eq(testb(0, BPRI_HI), 0);
	ck_assert_int_eq(testb(64, BPRI_HI), 0);
	ck_assert_ptr_null(allocb(64, BPRI_HI));
}
END_TEST

static int free_calls;
static void *free_arg_seen;
static enum ustreams_ctx free_ctx;

static void
count_free(void *arg)
{
	free_calls++;
	free_arg_seen = arg;
	free_ctx = ustreams_context();
}

START_TEST(esballoc_free_routine_runs_once_in_service_context)
{
	static unsigned char buf[300];
	frtn_t fr = { count_free, buf + 1 };
	mblk_t *mp, *dup;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	free_calls = 0;
	mp = esballoc(buf, sizeof (buf), BPRI_MED, &fr);
	ck_assert_ptr_nonnull(mp);
	ck_assert_ptr_eq(DB_BASE(mp), buf);
	ck_assert_ptr_eq(DB_LIM(mp), buf + 300);
	ck_assert_ptr_eq(mp->b_rptr, buf);
	ck_assert_ptr_eq(DB_FRTNP(mp), &fr);
	dup = dupb(mp);
	ck_assert_ptr_nonnull(dup);
	freeb(mp);
	ustreams_sim_run_idle();
	ck_assert_int_eq(free_calls, 0);	/* the dup still holds it */
	freeb(dup);
	ck_assert_int_eq(free_calls, 0);	/* deferred, not inline */
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(free_calls, 1);
	ck_assert_ptr_eq(free_arg_seen, buf + 1);
	ck_assert_int_eq(free_ctx, USTREAMS_CTX_SERVICE);
	snap();
	ck_assert_uint_eq(cls("esb")->cs_inuse, 0);
	ck_assert_uint_eq(cls("esb")->cs_total, 1);
}
END_TEST

START_TEST(desballoc_free_routine_runs_in_the_freeing_context)
{
	static unsigned char buf[64];
	frtn_t fr = { count_free, &fr };
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	free_calls = 0;
	mp = desballoc(buf, sizeof (buf), BPRI_LO, &fr);
	ck_assert_ptr_nonnull(mp);
	freeb(mp);
	ck_assert_int_eq(free_calls, 1);
	ck_assert_ptr_eq(free_arg_seen, &fr);
	ck_assert_int_eq(free_ctx, USTREAMS_CTX_BASE);
	ck_assert_int_eq(ustreams_sim_run_idle(), 0);
	ck_assert_int_eq(free_calls, 1);
}
END_TEST

/* A block of n bytes after mp, for pullupmsg to join. */
static void
append_bytes(mblk_t *mp, int n, unsigned char c)
{
	mblk_t *bp = allocb(n, BPRI_HI);

	ck_assert_ptr_nonnull(bp);
	memset(bp->b_wptr, c, (size_t)n);
	bp->b_wptr += n;
	linkb(mp, bp);
}

/*
 * pullupmsg moves the data of a desballoc'ed block to a new buffer: the
 * caller's buffer has no reference left and goes back at once, though
 * the block's header, which lives with it, stays in use as mp.
 */
START_TEST(pullupmsg_gives_a_desballoc_buffer_back_at_once)
{
	static unsigned char buf[64];
	frtn_t fr = { count_free, buf };
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	free_calls = 0;
	mp = desballoc(buf, sizeof (buf), BPRI_MED, &fr);
	ck_assert_ptr_nonnull(mp);
	memset(mp->b_wptr, 'x', 10);
	mp->b_wptr += 10;
	append_bytes(mp, 5, 'y');
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	ck_assert_int_eq(free_calls, 1);
	ck_assert_ptr_eq(free_arg_seen, buf);
	ck_assert_ptr_null(mp->b_cont);
	ck_assert_int_eq(MBLKL(mp), 15);
	ck_assert(DB_BASE(mp) != buf);
	ck_assert_int_eq(memcmp(mp->b_rptr, "xxxxxxxxxxyyyyy", 15), 0);
	snap();
	ck_assert_uint_eq(cls("esb")->cs_inuse, 1);	/* mp's header */
	freemsg(mp);
	ck_assert_int_eq(free_calls, 1);
	snap();
	ck_assert_uint_eq(cls("esb")->cs_inuse, 0);
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, 0);
}
END_TEST

/*
 * With a dup sharing the buffer, the free routine waits for the dup, not
 * for mp's header: freed in either order, it runs once, when the dup
 * goes; the header object goes when both have.
 */
START_TEST(pullupmsg_of_a_shared_esballoc_block_frees_with_the_last_dup)
{
	static unsigned char buf[64];
	frtn_t fr = { count_free, buf };

	for (int order = 0; order < 2; order++) {
		mblk_t *mp, *dup;

		harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
		free_calls = 0;
		mp = esballoc(buf, sizeof (buf), BPRI_MED, &fr);
		ck_assert_ptr_nonnull(mp);
		mp->b_wptr += 10;
		dup = dupb(mp);
		ck_assert_ptr_nonnull(dup);
		append_bytes(mp, 5, 'y');
		ck_assert_int_eq(pullupmsg(mp, -1), 1);
		ck_assert_int_eq(DB_REF(dup), 1);
		(void) ustreams_sim_run_idle();
		ck_assert_int_eq(free_calls, 0);
		if (order == 0) {
			freeb(dup);
			(void) ustreams_sim_run_idle();
			ck_assert_int_eq(free_calls, 1);
			snap();
			ck_assert_uint_eq(cls("esb")->cs_inuse, 1);
			freemsg(mp);
		} else {
			freemsg(mp);
			(void) ustreams_sim_run_idle();
			ck_assert_int_eq(free_calls, 0);
			snap();
			ck_assert_uint_eq(cls("esb")->cs_inuse, 1);
			freeb(dup);
		}
		(void) ustreams_sim_run_idle();
		ck_assert_int_eq(free_calls, 1);
		ck_assert_int_eq(free_ctx, USTREAMS_CTX_SERVICE);
		snap();
		ck_assert_uint_eq(cls("esb")->cs_inuse, 0);
		ck_assert_uint_eq(ss.ss_mem.ms_inuse, 0);
		harness_shutdown();
	}
}
END_TEST

START_TEST(esballoc_rejects_null_base_or_free_routine)
{
	static unsigned char buf[8];
	frtn_t fr = { count_free, NULL }, nofn = { NULL, NULL };

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	ck_assert_ptr_null(esballoc(NULL, 8, BPRI_HI, &fr));
	ck_assert_ptr_null(esballoc(buf, 8, BPRI_HI, NULL));
	ck_assert_ptr_null(esballoc(buf, 8, BPRI_HI, &nofn));
	ck_assert_ptr_null(esballoc(buf, -1, BPRI_HI, &fr));
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 4);
}
END_TEST

/* An empty caller's buffer is valid: the block is empty, and freed as usual. */
START_TEST(esballoc_of_an_empty_buffer_gives_an_empty_block)
{
	static unsigned char buf[8];
	frtn_t fr = { count_free, buf };
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	free_calls = 0;
	mp = esballoc(buf, 0, BPRI_HI, &fr);
	ck_assert_ptr_nonnull(mp);
	ck_assert_ptr_eq(DB_BASE(mp), buf);
	ck_assert_ptr_eq(DB_LIM(mp), buf);
	ck_assert_int_eq(MBLKL(mp), 0);
	freeb(mp);
	ck_assert_int_eq(ustreams_sim_run_idle(), 1);
	ck_assert_int_eq(free_calls, 1);
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 0);
}
END_TEST

START_TEST(esballoc_is_refused_by_admission_like_allocb)
{
	static unsigned char buf[8];
	frtn_t fr = { count_free, NULL };
	mblk_t *mp[512], *e;
	int n = 0;

	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	while ((mp[n] = allocb(2048, BPRI_LO)) != NULL)
		n++;
	/* LO is full to within less than 2560 bytes: fill the rest. */
	while ((mp[n] = allocb(0, BPRI_LO)) != NULL)
		n++;
	ck_assert_ptr_null(esballoc(buf, 8, BPRI_LO, &fr));
	e = esballoc(buf, 8, BPRI_MED, &fr);
	ck_assert_ptr_nonnull(e);
	freeb(e);
	snap();
	ck_assert_uint_eq(cls("esb")->cs_fail, 1);
	while (n > 0)
		freeb(mp[--n]);
	ustreams_sim_run_idle();		/* the free routine */
}
END_TEST

START_TEST(dupb_shares_the_data_block)
{
	mblk_t *mp, *dp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(10, BPRI_MED);
	memcpy(mp->b_wptr, "abcdefghij", 10);
	mp->b_wptr += 10;
	mp->b_rptr += 2;
	mp->b_band = 3;
	mp->b_flag = MSGMARK;
	dp = dupb(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_ptr_ne(dp, mp);
	ck_assert_ptr_eq(dp->b_datap, mp->b_datap);
	ck_assert_ptr_eq(dp->b_rptr, mp->b_rptr);
	ck_assert_ptr_eq(dp->b_wptr, mp->b_wptr);
	ck_assert_int_eq(dp->b_band, 3);
	ck_assert_int_eq(dp->b_flag, MSGMARK);
	ck_assert_ptr_null(dp->b_cont);
	ck_assert_int_eq(DB_REF(mp), 2);
	snap();
	ck_assert_uint_eq(cls("mblk")->cs_inuse, 1);
	ck_assert_uint_eq(cls("64")->cs_inuse, 1);
	/* Freeing the original leaves the dup's data alone. */
	freeb(mp);
	ck_assert_int_eq(DB_REF(dp), 1);
	ck_assert_int_eq(memcmp(dp->b_rptr, "cdefghij", 8), 0);
	snap();
	ck_assert_uint_eq(cls("64")->cs_inuse, 1);
	freeb(dp);
	snap();
	ck_assert_uint_eq(cls("64")->cs_inuse, 0);
	ck_assert_uint_eq(cls("mblk")->cs_inuse, 0);
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, warm_baseline());
}
END_TEST

/*
 * A dup's header comes from the cache as new: whatever links its last
 * owner left in it (a queue's b_next and b_prev), a fresh dup has none.
 */
START_TEST(dupb_gives_a_block_with_no_links)
{
	mblk_t *mp, *dp, *again;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(10, BPRI_MED);
	ck_assert_ptr_nonnull(mp);
	dp = dupb(mp);
	ck_assert_ptr_nonnull(dp);
	dp->b_next = mp;
	dp->b_prev = mp;
	freeb(dp);
	again = dupb(mp);
	/* The cache gives the last freed first. */
	ck_assert_ptr_eq(again, dp);
	ck_assert_ptr_null(again->b_next);
	ck_assert_ptr_null(again->b_prev);
	ck_assert_ptr_null(again->b_cont);
	freeb(again);
	freeb(mp);
}
END_TEST

START_TEST(dupb_at_the_reference_limit_returns_null)
{
	mblk_t *mp, *d[DBLK_REFMAX];
	int i;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(10, BPRI_MED);
	for (i = 0; i < DBLK_REFMAX - 1; i++) {
		d[i] = dupb(mp);
		ck_assert_ptr_nonnull(d[i]);
	}
	ck_assert_int_eq(DB_REF(mp), 255);
	ck_assert_ptr_null(dupb(mp));
	ck_assert_ptr_null(dupb(d[7]));
	ck_assert_int_eq(DB_REF(mp), 255);
	freeb(d[0]);
	d[0] = dupb(mp);
	ck_assert_ptr_nonnull(d[0]);
	for (i = 0; i < DBLK_REFMAX - 1; i++)
		freeb(d[i]);
	ck_assert_int_eq(DB_REF(mp), 1);
	freeb(mp);
	snap();
	ck_assert_uint_eq(cls("mblk")->cs_inuse, 0);
	ck_assert_uint_eq(cls("64")->cs_inuse, 0);
}
END_TEST

START_TEST(freemsg_frees_every_block_and_accepts_null)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	freemsg(NULL);
	mp = allocb(10, BPRI_LO);
	mp->b_cont = allocb(1000, BPRI_LO);
	mp->b_cont->b_cont = dupb(mp);
	snap();
	ck_assert_uint_eq(cls("64")->cs_inuse, 1);
	ck_assert_uint_eq(cls("1152")->cs_inuse, 1);
	ck_assert_uint_eq(cls("mblk")->cs_inuse, 1);
	freemsg(mp);
	snap();
	ck_assert_uint_eq(cls("64")->cs_inuse, 0);
	ck_assert_uint_eq(cls("1152")->cs_inuse, 0);
	ck_assert_uint_eq(cls("mblk")->cs_inuse, 0);
}
END_TEST

START_TEST(freeb_twice_panics_and_says_where)
{
	mblk_t *mp;
	int first, second;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(10, BPRI_LO);
	freeb(mp); first = __LINE__;
	HARNESS_EXPECT_PANIC(freeb(mp)); second = __LINE__;
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "freeb"));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "freed twice"));
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "last freed from", first);
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "now called from", second);
}
END_TEST

/*
 * A dup freed twice is caught as any block is, and the report names where
 * it was freed first; the data block it shared is left to its owner.
 */
START_TEST(freeb_twice_of_a_dup_panics_and_says_where)
{
	mblk_t *mp, *dp;
	int first;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(10, BPRI_LO);
	ck_assert_ptr_nonnull(mp);
	dp = dupb(mp);
	ck_assert_ptr_nonnull(dp);
	freeb(dp); first = __LINE__;
	ck_assert_int_eq(DB_REF(mp), 1);
	HARNESS_EXPECT_PANIC(freeb(dp));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "freed twice"));
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "last freed from", first);
	ck_assert_int_eq(DB_REF(mp), 1);
	freeb(mp);
}
END_TEST

START_TEST(freemsg_of_a_freed_block_panics)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(10, BPRI_LO);
	freemsg(mp);
	HARNESS_EXPECT_PANIC(freemsg(mp));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "freed twice"));
}
END_TEST

START_TEST(dupb_of_a_freed_block_panics)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(10, BPRI_LO);
	freeb(mp);
	HARNESS_EXPECT_PANIC((void) dupb(mp));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "dupb"));
}
END_TEST

#ifdef DEBUG
START_TEST(debug_write_after_free_is_caught)
{
	mblk_t *mp;
	unsigned char *p;
	int freed;

	if (strcmp(harness_variant(), "asan") == 0)
		return;		/* AddressSanitizer reports the write itself */
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(100, BPRI_LO);
	p = mp->b_rptr;
	freeb(mp); freed = __LINE__;
	p[5] = 0x11;		/* the bug */
	HARNESS_EXPECT_PANIC((void) allocb(100, BPRI_LO));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "written after it was freed"));
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "last freed from", freed);
}
END_TEST

START_TEST(debug_freeb_with_pointers_outside_the_buffer_panics)
{
	mblk_t *mp;
	int line;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(64, BPRI_LO);
	mp->b_wptr = DB_LIM(mp) + 1;
	HARNESS_EXPECT_PANIC(freeb(mp)); line = __LINE__;
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "outside its buffer"));
	HARNESS_ASSERT_WHERE(harness_panic_msg(), "called from", line);
	/* The panic freed nothing: mended, the block frees as usual. */
	mp->b_wptr = DB_LIM(mp);
	freeb(mp);
}
END_TEST

START_TEST(debug_freeb_of_a_changed_data_block_panics)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	mp = allocb(64, BPRI_LO);
	DB_LIM(mp) -= 8;		/* the bug: not the owner's to change */
	HARNESS_EXPECT_PANIC(freeb(mp));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(),
	    "was changed while in use"));
	DB_LIM(mp) += 8;		/* mended, it frees as usual */
	freeb(mp);
}
END_TEST
#endif

START_TEST(allocb_physreq_honours_alignment_and_boundary)
{
	physreq_t *pr;
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	pr = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_nonnull(pr);
	ck_assert_ptr_null(allocb_physreq(100, BPRI_HI, pr)); /* not prepped */
	pr->phys_align = 4096;
	pr->phys_boundary = 8192;
	pr->phys_dmasize = 32;
	pr->phys_flags = PREQ_PHYSCONTIG;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	for (int i = 0; i < 20; i++) {
		mp = allocb_physreq(3000 + i * 200, BPRI_HI, pr);
		ck_assert_ptr_nonnull(mp);
		ck_assert_uint_eq((uintptr_t)DB_BASE(mp) % 4096, 0);
		ck_assert_uint_eq((uintptr_t)DB_BASE(mp) / 8192,
		    ((uintptr_t)DB_BASE(mp) + 3000 + i * 200 - 1) / 8192);
		ck_assert_int_ge(MBLKSIZE(mp), 3000 + i * 200);
		ck_assert_uint_lt((uintptr_t)DB_LIM(mp), 1ull << 32);
		freeb(mp);
	}
	/* As large as the boundary: one whole window. */
	mp = allocb_physreq(8192, BPRI_HI, pr);
	ck_assert_ptr_nonnull(mp);
	ck_assert_uint_eq((uintptr_t)DB_BASE(mp) % 8192, 0);
	ck_assert_int_ge(MBLKSIZE(mp), 8192);
	freeb(mp);
	/* Larger than the boundary: impossible. */
	ck_assert_ptr_null(allocb_physreq(8193, BPRI_HI, pr));
	physreq_free(pr);
}
END_TEST

START_TEST(physreq_prep_rejects_what_cannot_be_met)
{
	physreq_t *pr;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	pr = physreq_alloc(KM_NOSLEEP);
	pr->phys_align = 3;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 0);
	pr->phys_align = 64;
	pr->phys_boundary = 32;		/* smaller than the alignment */
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 0);
	pr->phys_boundary = 0;
	pr->phys_dmasize = 24;		/* ISA: below 16 MB, not here */
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 0);
	pr->phys_dmasize = 0;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	physreq_free(pr);
}
END_TEST

/* An alignment no block of the budget could have is refused. */
START_TEST(physreq_prep_rejects_an_alignment_past_the_budget)
{
	physreq_t *pr;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	pr = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_nonnull(pr);
	pr->phys_align = (paddr_t)1 << 63;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 0);
	pr->phys_align = (paddr_t)USTREAMS_MEM_DEFAULT;	/* + the header */
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 0);
	pr->phys_align = (paddr_t)USTREAMS_MEM_DEFAULT / 4;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	physreq_free(pr);
}
END_TEST

/*
 * phys_dmasize of 64 reaches every address: nothing to refuse, and the
 * block comes as for no limit at all.
 */
START_TEST(physreq_prep_accepts_a_64_bit_dma_reach)
{
	physreq_t *pr;
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	pr = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_nonnull(pr);
	pr->phys_dmasize = 64;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	mp = allocb_physreq(1000, BPRI_HI, pr);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_ge(MBLKSIZE(mp), 1000);
	freeb(mp);
	physreq_free(pr);
}
END_TEST

/*
 * An aligned buffer lies inside the memory charged for its block, also
 * when the block's own layout already meets the alignment and the request
 * fills its size class exactly (128 bytes of header, 63 of slack).
 */
START_TEST(allocb_physreq_buffer_lies_within_the_bytes_charged)
{
	static const int sizes[] = { 4096 - 191, 8192 - 191, 16384 - 191 };
	struct ustreams_memstat ms;
	physreq_t *pr;
	size_t before;
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	pr = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_nonnull(pr);
	pr->phys_align = 64;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	before = warm_baseline();
	for (unsigned i = 0; i < sizeof (sizes) / sizeof (sizes[0]); i++) {
		mp = allocb_physreq(sizes[i], BPRI_HI, pr);
		ck_assert_ptr_nonnull(mp);
		ck_assert_uint_eq((uintptr_t)DB_BASE(mp) % 64, 0);
		ck_assert_int_ge(MBLKSIZE(mp), sizes[i]);
		ck_assert_int_eq(ustreams_memstat(&ms), 0);
		ck_assert_uint_eq(ms.ms_inuse - before,
		    (size_t)sizes[i] + 191);
		ck_assert(DB_BASE(mp) >= (unsigned char *)mp + 128);
		ck_assert((size_t)(DB_LIM(mp) - (unsigned char *)mp) <=
		    ms.ms_inuse - before);
		freeb(mp);
	}
	physreq_free(pr);
}
END_TEST

/*
 * allocb_physreq's refusals are counted as allocb's are: a size it can
 * never serve, or an unprepared structure, as a bad size; a size as large
 * as the budget, which only admission refuses, as a failure at its
 * priority in the oversize row.
 */
START_TEST(allocb_physreq_refusals_are_counted_by_their_cause)
{
	physreq_t *pr;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	pr = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_nonnull(pr);
	ck_assert_ptr_null(allocb_physreq(100, BPRI_HI, NULL));
	/* Not prepared yet. */
	ck_assert_ptr_null(allocb_physreq(100, BPRI_HI, pr));
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	ck_assert_ptr_null(allocb_physreq(-1, BPRI_HI, pr));
	ck_assert_ptr_null(allocb_physreq(USTREAMS_MEM_DEFAULT + 1, BPRI_HI,
	    pr));
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 4);
	ck_assert_uint_eq(cls("oversize")->cs_fail, 0);
	ck_assert_ptr_null(allocb_physreq(USTREAMS_MEM_DEFAULT, BPRI_HI, pr));
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 4);
	ck_assert_uint_eq(cls("oversize")->cs_fail, 1);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_HI], 1);
	pr->phys_boundary = 4096;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	ck_assert_ptr_null(allocb_physreq(4097, BPRI_HI, pr));
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 5);
	physreq_free(pr);
}
END_TEST

/* What physreq_prep accepted holds until it is asked again. */
START_TEST(allocb_physreq_uses_what_physreq_prep_accepted)
{
	physreq_t *pr;
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	pr = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_nonnull(pr);
	pr->phys_align = 4096;
	pr->phys_boundary = 8192;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	pr->phys_boundary = 3000;	/* not a power of two; not prepared */
	pr->phys_align = 1;
	for (int i = 0; i < 8; i++) {
		uintptr_t b;

		mp = allocb_physreq(1000, BPRI_HI, pr);
		ck_assert_ptr_nonnull(mp);
		b = (uintptr_t)mp->b_rptr;
		ck_assert_uint_eq(b % 4096, 0);
		ck_assert_uint_eq(b / 8192, (b + 999) / 8192);
		ck_assert(ustreams_mem_contains(mp->b_rptr, 1000));
		ck_assert((size_t)(DB_LIM(mp) - (unsigned char *)mp) <=
		    mp->b_datap->db_usize);
		freeb(mp);
	}
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 0);
	ck_assert_ptr_null(allocb_physreq(1000, BPRI_HI, pr));
	physreq_free(pr);
}
END_TEST

/*
 * A block's footprint is recorded in 32 bits: with a budget past 4 GB, a
 * request whose footprint would pass that is refused, and counted, and
 * nothing is lost.
 */
START_TEST(allocb_physreq_refuses_a_footprint_past_4g)
{
	struct ustreams_config cfg;
	physreq_t *pr;
	size_t inuse;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = (size_t)8 << 30;
	cfg.uc_exec = USTREAMS_EXEC_SIM;
	harness_boot_cfg(&cfg);
	pr = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_nonnull(pr);
	pr->phys_align = (paddr_t)1 << 32;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 0);
	pr->phys_align = (paddr_t)1 << 31;
	pr->phys_boundary = (paddr_t)1 << 31;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	snap();
	inuse = ss.ss_mem.ms_inuse;
	ck_assert_ptr_null(allocb_physreq(INT32_MAX, BPRI_HI, pr));
	snap();
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, inuse);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_HI], 1);
	physreq_free(pr);
}
END_TEST

START_TEST(shutdown_reports_blocks_still_allocated)
{
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	harness_log_capture();
	(void) allocb(100, BPRI_LO);
	(void) allocb(5000, BPRI_LO);
	/* Not harness_shutdown, which fails a test that leaves memory. */
	ck_assert_int_eq(ustreams_shutdown(), 0);
	ck_assert_ptr_nonnull(harness_log_find(
	    "2 message block(s) still allocated"));
	ck_assert_ptr_nonnull(harness_log_find("still in use"));
}
END_TEST

START_TEST(boot_shutdown_cycles_with_traffic_leave_nothing)
{
	for (int cycle = 0; cycle < 20; cycle++) {
		mblk_t *mp[64];
		struct ustreams_memstat ms;

		harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
		harness_log_capture();
		for (int i = 0; i < 64; i++)
			mp[i] = allocb(i * 97, BPRI_MED);
		for (int i = 0; i < 64; i++)
			freemsg(mp[i]);
		snap();
		for (unsigned c = 0; c < ss.ss_nclass; c++)
			ck_assert_uint_eq(ss.ss_class[c].cs_inuse, 0);
		ck_assert_int_eq(ustreams_memstat(&ms), 0);
		harness_shutdown();
		ck_assert_int_eq(harness_log_count(), 0);
	}
}
END_TEST

/*
 * The counts are the instance's: a new boot in the same process starts
 * every row, refusal and bad size from 0 again, the oversize row too.
 */
START_TEST(strstat_counts_start_again_at_each_boot)
{
	mblk_t *mp;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	ck_assert_ptr_null(allocb(-1, BPRI_HI));
	ck_assert_ptr_null(allocb(USTREAMS_MEM_DEFAULT, BPRI_MED));
	freeb(allocb(100, BPRI_LO));
	mp = allocb(200000, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	freeb(mp);
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 1);
	ck_assert_uint_eq(ss.ss_fail_pri[BPRI_MED], 1);
	ck_assert_uint_eq(cls("oversize")->cs_total, 1);
	ck_assert_uint_eq(cls("oversize")->cs_max, 1);
	ck_assert_uint_eq(cls("oversize")->cs_fail, 1);
	ck_assert_uint_eq(cls("128")->cs_total, 1);
	harness_shutdown();

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	snap();
	ck_assert_uint_eq(ss.ss_badsize, 0);
	for (unsigned p = BPRI_LO; p <= BPRI_HI; p++)
		ck_assert_uint_eq(ss.ss_fail_pri[p], 0);
	for (unsigned c = 0; c < ss.ss_nclass; c++) {
		ck_assert_uint_eq(ss.ss_class[c].cs_inuse, 0);
		ck_assert_uint_eq(ss.ss_class[c].cs_total, 0);
		ck_assert_uint_eq(ss.ss_class[c].cs_max, 0);
		ck_assert_uint_eq(ss.ss_class[c].cs_fail, 0);
	}
}
END_TEST

/*
 * ustreams_strstat fills in the whole table, whatever the caller's
 * structure held: the rows that are not data classes have no buffer size,
 * and the oversize row, whose objects vary, no footprint.
 */
START_TEST(strstat_fills_every_field_of_the_table)
{
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	memset(&ss, 0xa5, sizeof (ss));
	snap();
	ck_assert_uint_eq(ss.ss_nclass, USTREAMS_NCLASS);
	ck_assert_uint_eq(cls("mblk")->cs_size, 0);
	ck_assert_uint_eq(cls("mblk")->cs_footprint, 64);
	ck_assert_uint_eq(cls("esb")->cs_size, 0);
	ck_assert_uint_eq(cls("esb")->cs_footprint, 256);
	ck_assert_uint_eq(cls("oversize")->cs_size, 0);
	ck_assert_uint_eq(cls("oversize")->cs_footprint, 0);
	ck_assert_uint_eq(cls("oversize")->cs_cached, 0);
	ck_assert_uint_eq(cls("2432")->cs_size, 2432);
	ck_assert_uint_eq(cls("2432")->cs_footprint, 2560);
	ck_assert_uint_eq(ss.ss_fail_pri[0], 0);
}
END_TEST

/*
 * Blocks freed stay in the caches, charged to the budget; an allocation
 * the budget then cannot hold makes the caches give them back, and the
 * statistics show them gone.  With a 1 MB budget the largest class keeps
 * 4 blocks per magazine: 12 freed blocks fill both magazines and one in
 * the depot.
 */
START_TEST(caches_give_back_to_an_allocation_the_budget_refused)
{
	mblk_t *mp[16], *big;
	size_t bytes = 0;
	int n = 0;

	harness_boot(MEM_1M, USTREAMS_EXEC_SIM);
	while (n < 16 && (mp[n] = allocb(81792, BPRI_HI)) != NULL)
		n++;
	ck_assert_int_eq(n, 12);
	while (n > 0)
		freeb(mp[--n]);
	snap();
	ck_assert_uint_eq(cls("81792")->cs_cached, 12);
	ck_assert_uint_eq(cls("81792")->cs_inuse, 0);
	ck_assert_uint_ge(ss.ss_mem.ms_cached, 12 * 81920);

	/* 229376 bytes: the budget holds them only with those given back. */
	big = allocb(200000, BPRI_HI);
	ck_assert_ptr_nonnull(big);
	snap();
	ck_assert_uint_eq(cls("81792")->cs_cached, 0);
	for (unsigned c = 0; c < ss.ss_nclass; c++)
		bytes += ss.ss_class[c].cs_cached * ss.ss_class[c].cs_footprint;
	ck_assert_uint_eq(ss.ss_mem.ms_cached, bytes);
	freeb(big);
}
END_TEST

/*
 * Threads: each allocates and frees its own blocks; at rest every count
 * adds up exactly.
 */
#define	NTHR	4
#define	NOPS	20000

static void *
churn(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	mblk_t *held[32] = { NULL };

	for (int i = 0; i < NOPS; i++) {
		int k = rand_r(&seed) % 32;

		if (held[k] != NULL) {
			freemsg(held[k]);
			held[k] = NULL;
		} else {
			held[k] = allocb(rand_r(&seed) % 3000, BPRI_MED);
			if (held[k] != NULL && (k & 1))
				held[k]->b_cont = dupb(held[k]);
		}
	}
	for (int k = 0; k < 32; k++)
		freemsg(held[k]);
	return (NULL);
}

START_TEST(threads_allocating_concurrently_keep_exact_counts)
{
	pthread_t t[NTHR];
	uint64_t total = 0;
	size_t boot_inuse;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	snap();
	boot_inuse = ss.ss_mem.ms_inuse;
	for (int i = 0; i < NTHR; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn,
		    (void *)(uintptr_t)(i + 1)), 0);
	for (int i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	snap();
	for (unsigned c = 0; c < ss.ss_nclass; c++) {
		ck_assert_msg(ss.ss_class[c].cs_inuse == 0, "%s: %llu in use",
		    ss.ss_class[c].cs_name,
		    (unsigned long long)ss.ss_class[c].cs_inuse);
		total += ss.ss_class[c].cs_total;
	}
	ck_assert_uint_gt(total, NTHR * NOPS / 4);
	/* The threads are gone, and their cache records with them. */
	ck_assert_uint_eq(ss.ss_mem.ms_inuse, boot_inuse);
	ck_assert_uint_eq(ss.ss_mem.ms_cached, 0);
}
END_TEST

/* Producer/consumer: allocate on one thread, free on another. */
struct pc {
	pthread_mutex_t	lock;
	pthread_cond_t	cv;
	mblk_t		*q[64];
	int		head, tail, done;
	long		produced, consumed, bytes;
};

static void *
producer(void *arg)
{
	struct pc *pc = arg;

	for (int i = 0; i < NOPS; i++) {
		mblk_t *mp;

		while ((mp = allocb(1500, BPRI_MED)) == NULL)
			;
		*(int *)mp->b_wptr = i;
		mp->b_wptr += sizeof (int);
		pthread_mutex_lock(&pc->lock);
		while (pc->head - pc->tail == 64)
			pthread_cond_wait(&pc->cv, &pc->lock);
		pc->q[pc->head++ % 64] = mp;
		pc->produced++;
		pthread_cond_broadcast(&pc->cv);
		pthread_mutex_unlock(&pc->lock);
	}
	pthread_mutex_lock(&pc->lock);
	pc->done = 1;
	pthread_cond_broadcast(&pc->cv);
	pthread_mutex_unlock(&pc->lock);
	return (NULL);
}

static void *
consumer(void *arg)
{
	struct pc *pc = arg;
	int expect = 0;

	for (;;) {
		mblk_t *mp;

		pthread_mutex_lock(&pc->lock);
		while (pc->head == pc->tail && !pc->done)
			pthread_cond_wait(&pc->cv, &pc->lock);
		if (pc->head == pc->tail) {
			pthread_mutex_unlock(&pc->lock);
			break;
		}
		mp = pc->q[pc->tail++ % 64];
		pthread_cond_broadcast(&pc->cv);
		pthread_mutex_unlock(&pc->lock);
		/*
		 * Out of order is recorded, and the consumer keeps taking: the
		 * producer waits for room in the ring.
		 */
		(void) HELPER_CHECK(*(int *)mp->b_rptr == expect,
		    "consumer: message %d carries %d", expect,
		    *(int *)mp->b_rptr);
		expect++;
		pc->consumed++;
		freeb(mp);
	}
	return (NULL);
}

START_TEST(producer_consumer_across_threads_loses_nothing)
{
	static struct pc pc;

	pthread_mutex_init(&pc.lock, NULL);
	pthread_cond_init(&pc.cv, NULL);
	pthread_t p, c;

	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	ck_assert_int_eq(pthread_create(&p, NULL, producer, &pc), 0);
	ck_assert_int_eq(pthread_create(&c, NULL, consumer, &pc), 0);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	harness_helpers_check();
	ck_assert_int_eq(pc.produced, NOPS);
	ck_assert_int_eq(pc.consumed, NOPS);
	snap();
	ck_assert_uint_eq(cls("2432")->cs_inuse, 0);
	ck_assert_uint_eq(cls("2432")->cs_total, NOPS);
}
END_TEST

/*
 * Frees another thread's CPU has not folded yet do not keep memory from an
 * allocation: a refusal by this CPU's view is checked against the exact
 * count.  (bufcall uses the exact count; a caller refused by the view
 * alone would be called back at once, refused again, and go round.)
 */
struct freer {
	mblk_t		*f_mp[2];
	pthread_barrier_t f_bar;
};

static void *
freer(void *arg)
{
	struct freer *f = arg;

	freeb(f->f_mp[0]);
	freeb(f->f_mp[1]);
	(void) pthread_barrier_wait(&f->f_bar);	/* freed, not folded */
	(void) pthread_barrier_wait(&f->f_bar);	/* looked at: may exit */
	return (NULL);
}

START_TEST(admission_counts_frees_another_thread_has_not_folded)
{
	static mblk_t *mp[512];
	static struct freer f;
	pthread_t t;
	int n = 0;

	harness_boot(MEM_1M, USTREAMS_EXEC_THREADS);
	(void) warm_baseline();
	while ((mp[n] = allocb(2048, BPRI_LO)) != NULL)
		n++;
	ck_assert_int_ge(n, 3);
	f.f_mp[0] = mp[--n];
	f.f_mp[1] = mp[--n];
	ck_assert_int_eq(pthread_barrier_init(&f.f_bar, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, freer, &f), 0);
	(void) pthread_barrier_wait(&f.f_bar);
	/* 5120 bytes freed, below the freer's fold (64 KB): two blocks. */
	ck_assert_int_eq(testb(2048, BPRI_LO), 1);
	ck_assert_ptr_nonnull(mp[n] = allocb(2048, BPRI_LO));
	n++;
	ck_assert_ptr_nonnull(mp[n] = allocb(2048, BPRI_LO));
	n++;
	ck_assert_ptr_null(allocb(2048, BPRI_LO));
	ck_assert_int_eq(testb(2048, BPRI_LO), 0);
	(void) pthread_barrier_wait(&f.f_bar);
	pthread_join(t, NULL);
	(void) pthread_barrier_destroy(&f.f_bar);
	while (n > 0)
		freeb(mp[--n]);
}
END_TEST

static Suite *
mblk_suite(void)
{
	Suite *s = suite_create("mblk");
	TCase *tc = harness_tcase("allocb", 30);
	TCase *tt = harness_tcase("threads", 120);

	tcase_add_test(tc, allocb_returns_empty_m_data_block);
	tcase_add_test(tc, freed_blocks_are_counted_cached_by_class_and_in_bytes);
	tcase_add_test(tc, allocb_reuses_a_block_as_new);
	tcase_add_test(tc, allocb_size_zero_gives_valid_empty_block);
	tcase_add_test(tc, allocb_buffer_sizes_follow_the_classes);
	tcase_add_test(tc, allocb_oversize_block_is_exact_and_counted);
	tcase_add_test(tc,
	    allocb_oversize_buffer_runs_to_the_end_of_its_footprint);
	tcase_add_test(tc,
	    allocb_negative_and_absurd_sizes_return_null_and_are_counted);
	tcase_add_test(tc, allocb_of_the_whole_budget_is_refused_by_admission);
	tcase_add_test(tc, allocb_memory_comes_from_the_region);
	tcase_add_test(tc, admission_lo_med_hi_stop_at_their_thresholds);
	tcase_add_test(tc, admission_freeing_lets_lo_in_again);
	tcase_add_test(tc, admission_invalid_priority_counts_as_lo);
	tcase_add_test(tc, admission_small_blocks_fit_where_large_ones_do_not);
	tcase_add_test(tc, testb_answers_with_the_admission_rule);
	tcase_add_test(tc, testb_without_an_instance_answers_0);
	tcase_add_test(tc, esballoc_free_routine_runs_once_in_service_context);
	tcase_add_test(tc, desballoc_free_routine_runs_in_the_freeing_context);
	tcase_add_test(tc, pullupmsg_gives_a_desballoc_buffer_back_at_once);
	tcase_add_test(tc,
	    pullupmsg_of_a_shared_esballoc_block_frees_with_the_last_dup);
	tcase_add_test(tc, esballoc_rejects_null_base_or_free_routine);
	tcase_add_test(tc, esballoc_of_an_empty_buffer_gives_an_empty_block);
	tcase_add_test(tc, esballoc_is_refused_by_admission_like_allocb);
	tcase_add_test(tc, dupb_shares_the_data_block);
	tcase_add_test(tc, dupb_gives_a_block_with_no_links);
	tcase_add_test(tc, dupb_at_the_reference_limit_returns_null);
	tcase_add_test(tc, freemsg_frees_every_block_and_accepts_null);
	tcase_add_test(tc, freeb_twice_panics_and_says_where);
	tcase_add_test(tc, freeb_twice_of_a_dup_panics_and_says_where);
	tcase_add_test(tc, freemsg_of_a_freed_block_panics);
	tcase_add_test(tc, dupb_of_a_freed_block_panics);
#ifdef DEBUG
	tcase_add_test(tc, debug_write_after_free_is_caught);
	tcase_add_test(tc, debug_freeb_with_pointers_outside_the_buffer_panics);
	tcase_add_test(tc, debug_freeb_of_a_changed_data_block_panics);
#endif
	tcase_add_test(tc, allocb_physreq_honours_alignment_and_boundary);
	tcase_add_test(tc, physreq_prep_rejects_what_cannot_be_met);
	tcase_add_test(tc, physreq_prep_rejects_an_alignment_past_the_budget);
	tcase_add_test(tc, allocb_physreq_uses_what_physreq_prep_accepted);
	tcase_add_test(tc, physreq_prep_accepts_a_64_bit_dma_reach);
	tcase_add_test(tc, allocb_physreq_refusals_are_counted_by_their_cause);
	tcase_add_test(tc, allocb_physreq_buffer_lies_within_the_bytes_charged);
	tcase_add_test(tc, allocb_physreq_refuses_a_footprint_past_4g);
	tcase_add_test(tc, shutdown_reports_blocks_still_allocated);
	tcase_add_test(tc, boot_shutdown_cycles_with_traffic_leave_nothing);
	tcase_add_test(tc, strstat_counts_start_again_at_each_boot);
	tcase_add_test(tc, strstat_fills_every_field_of_the_table);
	tcase_add_test(tc,
	    caches_give_back_to_an_allocation_the_budget_refused);
	suite_add_tcase(s, tc);

	tcase_add_test(tt, threads_allocating_concurrently_keep_exact_counts);
	tcase_add_test(tt, producer_consumer_across_threads_loses_nothing);
	tcase_add_test(tt, admission_counts_frees_another_thread_has_not_folded);
	suite_add_tcase(s, tt);
	return (s);
}

int
main(void)
{
	return (harness_run(mblk_suite()));
}
