/*
 * Unit tests of ddi/: the configuration, boot and shutdown of an instance.
 *
 * The contract (sys/ustreams.h, ddi/boot.c): ustreams_config_init fills in
 * the defaults (16 MiB, BPRI_LO up to 80%, BPRI_MED up to 90%, the sim
 * executive, 2 CPUs, seed 1).  ustreams_boot refuses a second instance
 * (EBUSY) and a configuration that makes no sense (EINVAL, with a cmn_err
 * warning that says what is wrong), and a refused boot leaves nothing
 * behind.  ustreams_shutdown stops the instance, returns ENXIO when there
 * is none, and reports STREAMS memory still in use.  Leaks across boots
 * are LeakSanitizer's to find in the asan variant.
 */
#include "harness.h"

#include <sys/ddi.h>
#include <sys/kmem.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define	MIB		(1024u * 1024)
#define	CYCLES		50
#define	CYCLE_BLOCKS	16

/* The log holds exactly this message at this level. */
static void
assert_logged(int level, const char *msg)
{
	char want[600];
	const char *got = harness_log_find(msg);

	(void) snprintf(want, sizeof (want), "%d:%s", level, msg);
	ck_assert_msg(got != NULL, "not logged: \"%s\"", want);
	ck_assert_str_eq(got, want);
}

/* No instance is running, and nothing of one is left. */
static void
assert_no_instance(void)
{
	struct ustreams_memstat ms;

	ck_assert(!ustreams_booted());
	ck_assert_int_eq(ustreams_memstat(&ms), ENXIO);
	ck_assert_ptr_null(kmem_alloc(64, KM_NOSLEEP));
	ck_assert_int_eq(ustreams_shutdown(), ENXIO);
}

/* A good boot works after a refused one, and its budget is whole. */
static void
assert_good_boot_works(void)
{
	struct ustreams_memstat ms;
	void *p;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_size, 1048576);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	p = kmem_alloc(4096, KM_NOSLEEP);
	ck_assert_ptr_nonnull(p);
	kmem_free(p, 4096);
	harness_shutdown();
}

/* Boot cfg, expect EINVAL and the warning, and no trace of an instance. */
static void
assert_refused(const struct ustreams_config *cfg, const char *warning)
{
	harness_log_capture();
	ck_assert_int_eq(ustreams_boot(cfg), EINVAL);
	assert_logged(CE_WARN, warning);
	assert_no_instance();
	assert_good_boot_works();
}

START_TEST(test_config_init_fills_in_the_defaults)
{
	struct ustreams_config cfg;

	memset(&cfg, 0xa5, sizeof (cfg));
	ustreams_config_init(&cfg);
	ck_assert_uint_eq(cfg.uc_memsize, 16777216);
	ck_assert_uint_eq(cfg.uc_lo_pct, 80);
	ck_assert_uint_eq(cfg.uc_med_pct, 90);
	ck_assert_int_eq(cfg.uc_exec, USTREAMS_EXEC_SIM);
	ck_assert_uint_eq(cfg.uc_ncpus, 2);
	ck_assert_uint_eq(cfg.uc_seed, 1);
}
END_TEST

START_TEST(test_boot_with_defaults_gives_16mib_budget_and_limits)
{
	struct ustreams_config cfg;
	struct ustreams_memstat ms;

	ustreams_config_init(&cfg);
	harness_boot_cfg(&cfg);
	ck_assert(ustreams_booted());
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_size, 16777216);
	/* 80% and 90% of 16777216, rounded down. */
	ck_assert_uint_eq(ms.ms_lo_limit, 13421772);
	ck_assert_uint_eq(ms.ms_med_limit, 15099494);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	ck_assert_uint_eq(ms.ms_maxinuse, 0);
	ck_assert_uint_eq(ms.ms_fail, 0);
	ck_assert_uint_eq(ms.ms_cached, 0);
	/* The framework's own tables (bufcall's reserve, ...), uncharged. */
	ck_assert_uint_gt(ms.ms_overhead, 0);
	harness_shutdown();
	ck_assert(!ustreams_booted());
}
END_TEST

START_TEST(test_boot_limits_follow_the_thresholds)
{
	struct ustreams_config cfg;
	struct ustreams_memstat ms;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = MIB;
	cfg.uc_lo_pct = 50;
	cfg.uc_med_pct = 75;
	harness_boot_cfg(&cfg);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_size, 1048576);
	ck_assert_uint_eq(ms.ms_lo_limit, 524288);
	ck_assert_uint_eq(ms.ms_med_limit, 786432);
	harness_shutdown();
}
END_TEST

START_TEST(test_boot_twice_returns_ebusy_and_keeps_the_first)
{
	struct ustreams_config cfg;
	struct ustreams_memstat ms;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	harness_log_capture();
	ustreams_config_init(&cfg);
	cfg.uc_memsize = 2 * MIB;
	ck_assert_int_eq(ustreams_boot(&cfg), EBUSY);
	assert_logged(CE_WARN, "ustreams_boot: an instance is already running");
	ck_assert(ustreams_booted());
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_size, 1048576);
	harness_shutdown();
}
END_TEST

START_TEST(test_boot_refuses_no_configuration)
{
	assert_refused(NULL, "ustreams_boot: no configuration");
}
END_TEST

START_TEST(test_boot_refuses_memsize_below_minimum)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = USTREAMS_MEM_MIN - 1;
	assert_refused(&cfg, "ustreams_boot: memory size 262143 is outside "
	    "262144..1099511627776 bytes");
}
END_TEST

START_TEST(test_boot_refuses_memsize_above_1tb)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = ((size_t)1 << 40) + 1;
	assert_refused(&cfg, "ustreams_boot: memory size 1099511627777 is "
	    "outside 262144..1099511627776 bytes");
}
END_TEST

START_TEST(test_boot_accepts_memsize_at_minimum)
{
	struct ustreams_config cfg;
	struct ustreams_memstat ms;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = 262144;
	ck_assert_int_eq(ustreams_boot(&cfg), 0);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_size, 262144);
	harness_shutdown();
}
END_TEST

/*
 * 1 TB is within the bounds.  Whether the machine can map that much is
 * another matter: the boot may fail for want of address space (ENOMEM),
 * but not as a configuration out of bounds.
 */
START_TEST(test_boot_accepts_memsize_at_1tb)
{
	struct ustreams_config cfg;
	int error;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = (size_t)1 << 40;
	harness_log_capture();
	error = ustreams_boot(&cfg);
	ck_assert_ptr_null(harness_log_find("is outside"));
	if (error == 0)
		ck_assert_int_eq(ustreams_shutdown(), 0);
	else
		ck_assert_int_eq(error, ENOMEM);
}
END_TEST

START_TEST(test_boot_refuses_lo_above_med)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_lo_pct = 91;
	cfg.uc_med_pct = 90;
	assert_refused(&cfg, "ustreams_boot: admission thresholds lo=91% "
	    "med=90% must satisfy 0 < lo <= med <= 100");
}
END_TEST

START_TEST(test_boot_refuses_med_above_100)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_med_pct = 101;
	assert_refused(&cfg, "ustreams_boot: admission thresholds lo=80% "
	    "med=101% must satisfy 0 < lo <= med <= 100");
}
END_TEST

START_TEST(test_boot_refuses_lo_zero)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_lo_pct = 0;
	assert_refused(&cfg, "ustreams_boot: admission thresholds lo=0% "
	    "med=90% must satisfy 0 < lo <= med <= 100");
}
END_TEST

START_TEST(test_boot_accepts_lo_equal_med_equal_100)
{
	struct ustreams_config cfg;
	struct ustreams_memstat ms;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = MIB;
	cfg.uc_lo_pct = 100;
	cfg.uc_med_pct = 100;
	ck_assert_int_eq(ustreams_boot(&cfg), 0);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_lo_limit, 1048576);
	ck_assert_uint_eq(ms.ms_med_limit, 1048576);
	harness_shutdown();
}
END_TEST

START_TEST(test_boot_refuses_unknown_executive)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_exec = (enum ustreams_exec)7;
	assert_refused(&cfg, "ustreams_boot: unknown executive 7");
}
END_TEST

START_TEST(test_boot_refuses_zero_cpus_under_threads)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 0;
	assert_refused(&cfg, "ustreams_boot: 0 CPUs is outside 1..64");
}
END_TEST

START_TEST(test_boot_refuses_65_cpus_under_threads)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 65;
	assert_refused(&cfg, "ustreams_boot: 65 CPUs is outside 1..64");
}
END_TEST

START_TEST(test_boot_accepts_64_cpus_under_threads)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 64;
	harness_boot_cfg(&cfg);
	ck_assert(ustreams_booted());
	harness_shutdown();
}
END_TEST

START_TEST(test_boot_ignores_ncpus_under_sim)
{
	struct ustreams_config cfg;

	ustreams_config_init(&cfg);
	cfg.uc_ncpus = 0;
	ck_assert_int_eq(ustreams_boot(&cfg), 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_shutdown_without_boot_returns_enxio)
{
	ck_assert_int_eq(ustreams_shutdown(), ENXIO);
}
END_TEST

START_TEST(test_shutdown_twice_returns_enxio)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_shutdown(), 0);
	ck_assert_int_eq(ustreams_shutdown(), ENXIO);
}
END_TEST

START_TEST(test_shutdown_reports_memory_still_in_use)
{
	struct ustreams_memstat ms;

	harness_boot(MIB, USTREAMS_EXEC_SIM);
	harness_log_capture();
	ck_assert_ptr_nonnull(kmem_alloc(4096, KM_NOSLEEP));
	ck_assert_int_eq(ustreams_shutdown(), 0);
	assert_logged(CE_WARN, "ustreams_shutdown: 4096 bytes of STREAMS "
	    "memory still in use (4096 allocated); released with the region");

	/* Released with the region: the next instance starts empty. */
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	ck_assert_uint_eq(ms.ms_inuse, 0);
	harness_shutdown();
}
END_TEST

START_TEST(test_shutdown_with_nothing_in_use_is_silent)
{
	harness_boot(MIB, USTREAMS_EXEC_SIM);
	harness_log_capture();
	kmem_free(kmem_alloc(4096, KM_NOSLEEP), 4096);
	harness_shutdown();
	ck_assert_int_eq(harness_log_count(), 0);
}
END_TEST

/*
 * Boot, allocate, free, shut down, many times over: each instance starts
 * with nothing in use and ends with nothing in use.
 */
static void
boot_cycles(enum ustreams_exec exec, int cycles)
{
	struct ustreams_memstat ms;
	void *blk[CYCLE_BLOCKS];

	harness_log_capture();
	for (int c = 0; c < cycles; c++) {
		harness_boot(MIB, exec);
		ck_assert_int_eq(ustreams_memstat(&ms), 0);
		ck_assert_uint_eq(ms.ms_inuse, 0);
		for (int i = 0; i < CYCLE_BLOCKS; i++) {
			blk[i] = kmem_alloc(4096, KM_NOSLEEP);
			ck_assert_ptr_nonnull(blk[i]);
		}
		ck_assert_int_eq(ustreams_memstat(&ms), 0);
		ck_assert_uint_eq(ms.ms_inuse, 65536);
		for (int i = 0; i < CYCLE_BLOCKS; i++)
			kmem_free(blk[i], 4096);
		ck_assert_int_eq(ustreams_memstat(&ms), 0);
		ck_assert_uint_eq(ms.ms_inuse, 0);
		harness_shutdown();
		ck_assert_int_eq(ustreams_memstat(&ms), ENXIO);
	}
	/* Not one "still in use" warning in all those shutdowns. */
	ck_assert_ptr_null(harness_log_find("still in use"));
}

/*
 * Shutdown gives back the region's address space and the jemalloc arena.
 * MAP_32BIT has about 1 GB of address space to give: regions for a 256 MiB
 * budget (328 MiB each) left mapped would run it out by the fourth boot,
 * which would then map above 4 GB.  jemalloc reuses the index of an arena
 * destroyed, so the number of arenas stays put.
 */
START_TEST(test_shutdown_gives_back_the_region_and_the_arena)
{
	struct ustreams_memstat ms;
	unsigned narenas[2];
	size_t sz = sizeof (narenas[0]);

	for (int c = 0; c < 8; c++) {
		harness_boot(256 * MIB, USTREAMS_EXEC_SIM);
		ck_assert_int_eq(ustreams_memstat(&ms), 0);
		ck_assert_msg(ms.ms_below4g, "boot %d: region above 4 GB", c);
		harness_shutdown();
		if (c < 2)
			ck_assert_int_eq(mallctl("arenas.narenas", &narenas[c],
			    &sz, NULL, 0), 0);
	}
	ck_assert_uint_eq(narenas[1], narenas[0]);
}
END_TEST

static unsigned
narenas(void)
{
	unsigned n;
	size_t sz = sizeof (n);

	ck_assert_int_eq(mallctl("arenas.narenas", &n, &sz, NULL, 0), 0);
	return (n);
}

/* The process's address space in use (bytes), from /proc/self/statm. */
static size_t
vsize(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
	(void) fclose(f);
	return ((size_t)pages * (size_t)sysconf(_SC_PAGESIZE));
}

/*
 * A subsystem that cannot start fails the boot cleanly: those started
 * before it are stopped again (the arena destroyed, the region unmapped),
 * no instance is left booted, and the next boot works.  Here the threads
 * executive cannot start its 64 service threads: the address space is
 * limited to what the process uses and 64 MB more, room for the region
 * but not for 64 thread stacks.  Not under the sanitizers, whose run-time
 * needs address space of its own as it goes.
 */
START_TEST(test_boot_that_fails_midway_unwinds_what_it_started)
{
	struct ustreams_config cfg;
	struct rlimit old, lim;
	unsigned before;
	int error;

	if (strcmp(harness_variant(), "asan") == 0 ||
	    strcmp(harness_variant(), "tsan") == 0)
		return;
	harness_boot(MIB, USTREAMS_EXEC_SIM);	/* an arena index to reuse */
	harness_shutdown();
	before = narenas();
	ustreams_config_init(&cfg);
	cfg.uc_memsize = MIB;
	cfg.uc_exec = USTREAMS_EXEC_THREADS;
	cfg.uc_ncpus = 64;
	harness_log_capture();
	ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	lim.rlim_cur = vsize() + 64 * MIB;
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur <= lim.rlim_cur)
		return;			/* already as tight: nothing to show */
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
	error = ustreams_boot(&cfg);
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
	ck_assert_int_eq(error, EAGAIN);
	ck_assert(!ustreams_booted());
	ck_assert_ptr_nonnull(harness_log_find("exec failed to start"));
	ck_assert_int_eq(ustreams_shutdown(), ENXIO);
	harness_boot(MIB, USTREAMS_EXEC_THREADS);
	ck_assert(ustreams_booted());
	harness_shutdown();
	/* Both arenas were destroyed, so the index was reused both times. */
	ck_assert_uint_eq(narenas(), before);
}
END_TEST

START_TEST(test_boot_shutdown_50_cycles_sim_leave_nothing_in_use)
{
	boot_cycles(USTREAMS_EXEC_SIM, CYCLES);
}
END_TEST

START_TEST(test_boot_shutdown_50_cycles_threads_leave_nothing_in_use)
{
	boot_cycles(USTREAMS_EXEC_THREADS, CYCLES);
}
END_TEST

static Suite *
boot_suite(void)
{
	Suite *s = suite_create("ddi_boot");
	TCase *tc;

	tc = harness_tcase("config", 10);
	tcase_add_test(tc, test_config_init_fills_in_the_defaults);
	tcase_add_test(tc,
	    test_boot_with_defaults_gives_16mib_budget_and_limits);
	tcase_add_test(tc, test_boot_limits_follow_the_thresholds);
	tcase_add_test(tc, test_boot_twice_returns_ebusy_and_keeps_the_first);
	tcase_add_test(tc, test_boot_refuses_no_configuration);
	tcase_add_test(tc, test_boot_refuses_memsize_below_minimum);
	tcase_add_test(tc, test_boot_refuses_memsize_above_1tb);
	tcase_add_test(tc, test_boot_accepts_memsize_at_minimum);
	tcase_add_test(tc, test_boot_accepts_memsize_at_1tb);
	tcase_add_test(tc, test_boot_refuses_lo_above_med);
	tcase_add_test(tc, test_boot_refuses_med_above_100);
	tcase_add_test(tc, test_boot_refuses_lo_zero);
	tcase_add_test(tc, test_boot_accepts_lo_equal_med_equal_100);
	tcase_add_test(tc, test_boot_refuses_unknown_executive);
	tcase_add_test(tc, test_boot_refuses_zero_cpus_under_threads);
	tcase_add_test(tc, test_boot_refuses_65_cpus_under_threads);
	tcase_add_test(tc, test_boot_accepts_64_cpus_under_threads);
	tcase_add_test(tc, test_boot_ignores_ncpus_under_sim);
	suite_add_tcase(s, tc);

	tc = harness_tcase("shutdown", 10);
	tcase_add_test(tc, test_shutdown_without_boot_returns_enxio);
	tcase_add_test(tc, test_shutdown_twice_returns_enxio);
	tcase_add_test(tc, test_shutdown_reports_memory_still_in_use);
	tcase_add_test(tc, test_shutdown_with_nothing_in_use_is_silent);
	tcase_add_test(tc, test_shutdown_gives_back_the_region_and_the_arena);
	tcase_add_test(tc, test_boot_that_fails_midway_unwinds_what_it_started);
	suite_add_tcase(s, tc);

	/* Sanitizer builds boot slowly: give the cycles room. */
	tc = harness_tcase("cycles", 60);
	tcase_add_test(tc,
	    test_boot_shutdown_50_cycles_sim_leave_nothing_in_use);
	tcase_add_test(tc,
	    test_boot_shutdown_50_cycles_threads_leave_nothing_in_use);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(boot_suite()));
}
