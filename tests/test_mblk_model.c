/*
 * A model-based test of the allocator's admission and accounting
 * (streams/mblk.c, streams/strcache.c): random allocb, testb, dupb,
 * esballoc and frees at every priority (and invalid ones), sizes on every
 * class boundary and bad ones, in budgets small enough that every
 * threshold is crossed again and again -- and after every operation an
 * exact comparison with a model of what the statistics must say.
 *
 * The model keeps, from the footprints ustreams_strstat reports for the
 * classes:
 *
 *  - memory in use: the footprints of the objects alive (a data object
 *    stays until its last reference goes, the residence rule; a dupb
 *    header is 64 bytes, an esballoc header 256), and its high-water mark;
 *  - the admission rule of the SVR5 allocb page: an allocation is admitted
 *    exactly when use plus its footprint stays within its priority's
 *    limit (an invalid priority is BPRI_LO's; dupb is BPRI_HI's);
 *  - per class: in use, allocations, high-water mark, refusals; refusals
 *    per priority; bad sizes.
 *
 * Under the sim executive one thread allocates, so all of it is exact,
 * through the per-CPU magazines, the folds into the global counts, the
 * depot and the reclaim of cached objects when the region is charged full
 * -- which is what this test is for.  Deterministic seeds; a failure
 * names seed and step.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ustreams.h>
#include <sys/ustreams_stat.h>

#include <stdint.h>
#include <string.h>

#define	MAXLIVE		4096	/* blocks alive at once, at most */


static unsigned seed_now, step_now;

/* The model of one class's counters, indexed like ss_class[]. */
struct mclass {
	uint64_t	mc_inuse, mc_total, mc_max, mc_fail;
};

/* A data object, shared by its home block and the dupb headers on it. */
struct mobj {
	int		o_cls;		/* index in ss_class[] */
	int		o_refs;		/* blocks naming it */
};

/* A block alive: its object, and whether it is the object's home. */
struct mblkrec {
	mblk_t		*r_mp;
	struct mobj	*r_obj;		/* NULL: an esballoc block */
	bool		r_home;
};

static struct ustreams_strstat ss0;	/* the classes, at boot */
static int cls_mblk, cls_esb;
static struct mclass mc[USTREAMS_NCLASS];
static uint64_t fail_pri[4], badsize;
static int64_t held, maxheld, limit[4];

static struct mblkrec live[MAXLIVE];
static int nlive;
static struct mobj objs[MAXLIVE];
static unsigned char esb_buf[64];
static int esb_freed;		/* free routines run */
static int esb_dead;		/* esballoc blocks freed */

static void
esb_free(void *arg)
{
	esb_freed++;
}

static frtn_t esb_frtn = { esb_free, NULL };

static int
class_named(const char *name)
{
	for (unsigned c = 0; c < ss0.ss_nclass; c++) {
		if (strcmp(ss0.ss_class[c].cs_name, name) == 0)
			return ((int)c);
	}
	ck_abort_msg("no class \"%s\"", name);
	return (-1);
}

/* The data class allocb(size) uses: the smallest buffer that holds it. */
static int
data_class(int size)
{
	int best = -1;

	for (unsigned c = 0; c < ss0.ss_nclass; c++) {
		const struct ustreams_classstat *cs = &ss0.ss_class[c];

		if (cs->cs_size == 0 || cs->cs_size < (size_t)size)
			continue;
		if (best < 0 || cs->cs_size < ss0.ss_class[best].cs_size)
			best = (int)c;
	}
	return (best);
}

static int64_t
fp(int cls)
{
	return ((int64_t)ss0.ss_class[cls].cs_footprint);
}

static unsigned
pri_of(unsigned pri)
{
	return (pri >= BPRI_LO && pri <= BPRI_HI ? pri : BPRI_LO);
}

static bool
admitted(unsigned pri, int64_t footprint)
{
	return (held + footprint <= limit[pri_of(pri)]);
}

static void
model_alloc(int cls)
{
	struct mclass *m = &mc[cls];

	m->mc_total++;
	if (++m->mc_inuse > m->mc_max)
		m->mc_max = m->mc_inuse;
	held += fp(cls);
	if (held > maxheld)
		maxheld = held;
}

static void
model_free(int cls)
{
	mc[cls].mc_inuse--;
	held -= fp(cls);
}

static void
model_refuse(int cls, unsigned pri)
{
	mc[cls].mc_fail++;
	fail_pri[pri_of(pri)]++;
}

static struct mobj *
obj_new(int cls)
{
	for (int i = 0; i < MAXLIVE; i++) {
		if (objs[i].o_refs == 0) {
			objs[i].o_cls = cls;
			objs[i].o_refs = 1;
			return (&objs[i]);
		}
	}
	ck_abort_msg("seed %u step %u: no object slot", seed_now, step_now);
	return (NULL);
}

static void
live_add(mblk_t *mp, struct mobj *obj, bool home)
{
	REQUIRE(nlive < MAXLIVE, "seed %u step %u: too many blocks",
	    seed_now, step_now);
	live[nlive++] = (struct mblkrec){ mp, obj, home };
}

/* Sizes on and around the class boundaries, and bad ones. */
static int
random_size(void)
{
	static const int sizes[] = {
		0, 1, 63, 64, 65, 127, 128, 129, 255, 256, 511, 512, 513,
		1151, 1152, 1153, 2431, 2432, 2433, 4992, 10112, 20352,
		40832, 81792
	};

	switch (harness_rnd(40)) {
	case 0:
		return (-1 - (int)harness_rnd(1000));
	case 1:
		return (INT32_MAX - (int)harness_rnd(1000));
	default:
		return (sizes[harness_rnd(sizeof (sizes) / sizeof (sizes[0]))]);
	}
}

static unsigned
random_pri(void)
{
	static const unsigned pris[] = {
		BPRI_LO, BPRI_LO, BPRI_MED, BPRI_MED, BPRI_HI, BPRI_HI, 0, 7
	};

	return (pris[harness_rnd(sizeof (pris) / sizeof (pris[0]))]);
}

static void
op_allocb(void)
{
	int size = random_size(), cls;
	unsigned pri = random_pri();
	mblk_t *mp = allocb(size, pri);
	bool want;

	if (size < 0 || size > 81792) {
		REQUIRE(mp == NULL, "seed %u step %u: allocb(%d) of a bad "
		    "size succeeded", seed_now, step_now, size);
		badsize++;
		return;
	}
	cls = data_class(size);
	want = admitted(pri, fp(cls));
	REQUIRE((mp != NULL) == want, "seed %u step %u: allocb(%d, %u) %s "
	    "with %lld in use (footprint %lld, limit %lld)", seed_now,
	    step_now, size, pri, mp != NULL ? "admitted" : "refused",
	    (long long)held, (long long)fp(cls),
	    (long long)limit[pri_of(pri)]);
	if (mp == NULL) {
		model_refuse(cls, pri);
		return;
	}
	REQUIRE(MBLKSIZE(mp) >= size && DB_REF(mp) == 1 &&
	    mp->b_rptr == DB_BASE(mp) && mp->b_wptr == DB_BASE(mp),
	    "seed %u step %u: allocb(%d): a bad block", seed_now, step_now,
	    size);
	model_alloc(cls);
	live_add(mp, obj_new(cls), true);
}

static void
op_testb(void)
{
	int size = random_size();
	unsigned pri = random_pri();
	int got = testb(size, pri);
	bool want = size >= 0 && size <= 81792 &&
	    admitted(pri, fp(data_class(size)));

	REQUIRE(got == (want ? 1 : 0), "seed %u step %u: testb(%d, %u) "
	    "answered %d with %lld in use", seed_now, step_now, size, pri,
	    got, (long long)held);
}

static void
op_dupb(void)
{
	struct mblkrec *r;
	mblk_t *mp;
	bool want;

	if (nlive == 0)
		return;
	r = &live[harness_rnd((uint32_t)nlive)];
	if (r->r_obj == NULL || r->r_obj->o_refs >= 8)
		return;
	want = admitted(BPRI_HI, fp(cls_mblk));
	mp = dupb(r->r_mp);
	REQUIRE((mp != NULL) == want, "seed %u step %u: dupb %s with %lld "
	    "in use", seed_now, step_now, mp != NULL ? "admitted" :
	    "refused", (long long)held);
	if (mp == NULL) {
		model_refuse(cls_mblk, BPRI_HI);
		return;
	}
	model_alloc(cls_mblk);
	r->r_obj->o_refs++;
	live_add(mp, r->r_obj, false);
}

static void
op_esballoc(void)
{
	unsigned pri = random_pri();
	mblk_t *mp = esballoc(esb_buf, sizeof (esb_buf), pri, &esb_frtn);
	bool want = admitted(pri, fp(cls_esb));

	REQUIRE((mp != NULL) == want, "seed %u step %u: esballoc at %u %s "
	    "with %lld in use", seed_now, step_now, pri, mp != NULL ?
	    "admitted" : "refused", (long long)held);
	if (mp == NULL) {
		model_refuse(cls_esb, pri);
		return;
	}
	model_alloc(cls_esb);
	live_add(mp, NULL, true);
}

static void
op_free(void)
{
	struct mblkrec r;
	int i;

	if (nlive == 0)
		return;
	i = (int)harness_rnd((uint32_t)nlive);
	r = live[i];
	live[i] = live[--nlive];
	freeb(r.r_mp);
	if (r.r_obj == NULL) {
		/* The free routine, then the header, in service context. */
		(void) ustreams_sim_run_idle();
		REQUIRE(esb_freed == ++esb_dead, "seed %u step %u: %d free "
		    "routines ran for %d esballoc blocks freed", seed_now,
		    step_now, esb_freed, esb_dead);
		model_free(cls_esb);
		return;
	}
	if (!r.r_home)
		model_free(cls_mblk);
	if (--r.r_obj->o_refs == 0)
		model_free(r.r_obj->o_cls);
}

static void
check(void)
{
	struct ustreams_strstat ss;

	REQUIRE(ustreams_strstat(&ss) == 0, "ustreams_strstat");
	REQUIRE((int64_t)ss.ss_mem.ms_inuse == held, "seed %u step %u: "
	    "%zu bytes in use, the model has %lld", seed_now, step_now,
	    ss.ss_mem.ms_inuse, (long long)held);
	REQUIRE((int64_t)ss.ss_mem.ms_maxinuse == maxheld, "seed %u step %u: "
	    "high-water %zu, the model has %lld", seed_now, step_now,
	    ss.ss_mem.ms_maxinuse, (long long)maxheld);
	for (unsigned c = 0; c < ss.ss_nclass; c++) {
		const struct ustreams_classstat *cs = &ss.ss_class[c];
		const struct mclass *m = &mc[c];

		REQUIRE(cs->cs_inuse == m->mc_inuse &&
		    cs->cs_total == m->mc_total && cs->cs_max == m->mc_max &&
		    cs->cs_fail == m->mc_fail, "seed %u step %u: class %s: "
		    "in use %llu total %llu max %llu fail %llu; the model: "
		    "%llu %llu %llu %llu", seed_now, step_now, cs->cs_name,
		    (unsigned long long)cs->cs_inuse,
		    (unsigned long long)cs->cs_total,
		    (unsigned long long)cs->cs_max,
		    (unsigned long long)cs->cs_fail,
		    (unsigned long long)m->mc_inuse,
		    (unsigned long long)m->mc_total,
		    (unsigned long long)m->mc_max,
		    (unsigned long long)m->mc_fail);
	}
	for (int p = BPRI_LO; p <= BPRI_HI; p++)
		REQUIRE(ss.ss_fail_pri[p] == fail_pri[p], "seed %u step %u: "
		    "%llu refusals at %d, the model has %llu", seed_now,
		    step_now, (unsigned long long)ss.ss_fail_pri[p], p,
		    (unsigned long long)fail_pri[p]);
	REQUIRE(ss.ss_badsize == badsize, "seed %u step %u: bad sizes",
	    seed_now, step_now);
}

static void
run(unsigned seed, unsigned steps, size_t budget)
{
	mblk_t *mp;

	harness_boot(budget, USTREAMS_EXEC_SIM);
	/* This thread's caches are made on its first allocation. */
	ck_assert_ptr_nonnull(mp = allocb(0, BPRI_HI));
	freeb(mp);
	ck_assert_int_eq(ustreams_strstat(&ss0), 0);
	cls_mblk = class_named("mblk");
	cls_esb = class_named("esb");
	memset(mc, 0, sizeof (mc));
	for (unsigned c = 0; c < ss0.ss_nclass; c++) {
		mc[c].mc_total = ss0.ss_class[c].cs_total;
		mc[c].mc_max = ss0.ss_class[c].cs_max;
	}
	memset(fail_pri, 0, sizeof (fail_pri));
	badsize = 0;
	held = (int64_t)ss0.ss_mem.ms_inuse;
	maxheld = (int64_t)ss0.ss_mem.ms_maxinuse;
	limit[0] = limit[BPRI_LO] = (int64_t)ss0.ss_mem.ms_lo_limit;
	limit[BPRI_MED] = (int64_t)ss0.ss_mem.ms_med_limit;
	limit[BPRI_HI] = (int64_t)ss0.ss_mem.ms_size;
	memset(objs, 0, sizeof (objs));
	nlive = 0;
	esb_freed = esb_dead = 0;
	harness_rnd_seed(seed);
	seed_now = seed;
	for (step_now = 0; step_now < steps; step_now++) {
		uint32_t r = harness_rnd(100);

		/* Fill in long runs, then drain in long runs. */
		if ((step_now / 500) % 2 == 0 ? r < 60 : r < 25)
			op_allocb();
		else if (r < 65)
			op_testb();
		else if (r < 72)
			op_dupb();
		else if (r < 75)
			op_esballoc();
		else
			op_free();
		check();
	}
	while (nlive > 0) {
		step_now++;
		op_free();
	}
	check();
	harness_shutdown();
}

START_TEST(test_random_allocations_are_admitted_and_counted_as_the_model_says)
{
	static const size_t budgets[] = { 256 * 1024, 1024 * 1024,
	    4 * 1024 * 1024 };

	for (unsigned seed = 0; seed < 24; seed++)
		run(seed, 4000, budgets[seed % 3]);
}
END_TEST

static Suite *
mblk_model_suite(void)
{
	Suite *s = suite_create("mblk_model");
	TCase *tc = harness_tcase("model", 300);

	tcase_add_test(tc,
	    test_random_allocations_are_admitted_and_counted_as_the_model_says);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(mblk_model_suite()));
}
