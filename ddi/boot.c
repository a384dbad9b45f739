/*
 * Boot and shutdown of one instance.
 *
 * An instance is the "kernel" a set of streams runs on: its STREAMS memory,
 * its executive, and the framework's subsystems.  A process runs at most one
 * at a time.  ustreams_boot() checks the configuration, then starts every
 * subsystem of the linker set (see sysinit.h) in order; if one fails, those
 * already started are stopped again, in reverse, so that a failed boot
 * leaves nothing behind.  ustreams_shutdown() stops them all in reverse.
 *
 * Locking: boot_lock serialises boot and shutdown; the instance's objects
 * must not be in use by other threads while it is shut down.
 */
#include <sys/ustreams.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "sysinit.h"

#define	SYSINIT_MAX	64
#define	MEM_MAX		((size_t)1 << 40)	/* 1 TB of budget at most */

extern const struct ust_sysinit *__start_ust_sysinit[]
    __attribute__((visibility("hidden")));
extern const struct ust_sysinit *__stop_ust_sysinit[]
    __attribute__((visibility("hidden")));

static pthread_mutex_t boot_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic bool booted;
static const struct ust_sysinit *si_sorted[SYSINIT_MAX];
static int si_count;
static int si_started;

/*
 * ustreams_config_init - fill in the defaults: 16 MB of STREAMS memory,
 * BPRI_LO admitted up to 80% and BPRI_MED up to 90% of it, the sim
 * executive, 2 CPUs for the threads executive, seed 1.
 */
void
ustreams_config_init(struct ustreams_config *cfg)
{
	memset(cfg, 0, sizeof (*cfg));
	cfg->uc_memsize = USTREAMS_MEM_DEFAULT;
	cfg->uc_lo_pct = 80;
	cfg->uc_med_pct = 90;
	cfg->uc_exec = USTREAMS_EXEC_SIM;
	cfg->uc_ncpus = 2;
	cfg->uc_seed = 1;
}

static int
config_check(const struct ustreams_config *cfg)
{
	if (cfg == NULL) {
		cmn_err(CE_WARN, "ustreams_boot: no configuration");
		return (EINVAL);
	}
	if (cfg->uc_memsize < USTREAMS_MEM_MIN || cfg->uc_memsize > MEM_MAX) {
		cmn_err(CE_WARN, "ustreams_boot: memory size %zu is outside "
		    "%u..%zu bytes", cfg->uc_memsize, USTREAMS_MEM_MIN,
		    MEM_MAX);
		return (EINVAL);
	}
	if (cfg->uc_lo_pct == 0 || cfg->uc_lo_pct > cfg->uc_med_pct ||
	    cfg->uc_med_pct > 100) {
		cmn_err(CE_WARN, "ustreams_boot: admission thresholds lo=%u%% "
		    "med=%u%% must satisfy 0 < lo <= med <= 100",
		    cfg->uc_lo_pct, cfg->uc_med_pct);
		return (EINVAL);
	}
	if (cfg->uc_exec != USTREAMS_EXEC_SIM &&
	    cfg->uc_exec != USTREAMS_EXEC_THREADS) {
		cmn_err(CE_WARN, "ustreams_boot: unknown executive %d",
		    (int)cfg->uc_exec);
		return (EINVAL);
	}
	if (cfg->uc_exec == USTREAMS_EXEC_THREADS &&
	    (cfg->uc_ncpus == 0 || cfg->uc_ncpus > USTREAMS_NCPU_MAX)) {
		cmn_err(CE_WARN, "ustreams_boot: %u CPUs is outside 1..%d",
		    cfg->uc_ncpus, USTREAMS_NCPU_MAX);
		return (EINVAL);
	}
	return (0);
}

static void
sysinit_sort(void)
{
	const struct ust_sysinit **pp;

	si_count = 0;
	for (pp = (const struct ust_sysinit **)__start_ust_sysinit;
	    pp < (const struct ust_sysinit **)__stop_ust_sysinit; pp++) {
		int i = si_count++;

		VERIFY(si_count <= SYSINIT_MAX);
		while (i > 0 && si_sorted[i - 1]->si_order > (*pp)->si_order) {
			si_sorted[i] = si_sorted[i - 1];
			i--;
		}
		si_sorted[i] = *pp;
	}
}

static void
sysinit_unwind(void)
{
	while (si_started > 0) {
		const struct ust_sysinit *si = si_sorted[--si_started];

		if (si->si_fini != NULL)
			si->si_fini();
	}
}

/*
 * ustreams_boot - bring up an instance.  Returns 0; EBUSY when one is
 * already running; EINVAL for a configuration that makes no sense; ENOMEM
 * or EAGAIN when memory or threads cannot be had.  Failures are reported
 * through cmn_err(CE_WARN) and leave nothing allocated.  Base context.
 */
int
ustreams_boot(const struct ustreams_config *cfg)
{
	int error;

	pthread_mutex_lock(&boot_lock);
	if (atomic_load(&booted)) {
		pthread_mutex_unlock(&boot_lock);
		cmn_err(CE_WARN, "ustreams_boot: an instance is already "
		    "running");
		return (EBUSY);
	}
	if ((error = config_check(cfg)) != 0) {
		pthread_mutex_unlock(&boot_lock);
		return (error);
	}
	sysinit_sort();
	si_started = 0;
	/* kmem and friends check this; subsystems use them in their init. */
	atomic_store(&booted, true);
	for (int i = 0; i < si_count; i++) {
		const struct ust_sysinit *si = si_sorted[i];

		if (si->si_init != NULL && (error = si->si_init(cfg)) != 0) {
			cmn_err(CE_WARN, "ustreams_boot: %s failed to start "
			    "(error %d)", si->si_name, error);
			sysinit_unwind();
			atomic_store(&booted, false);
			pthread_mutex_unlock(&boot_lock);
			return (error);
		}
		si_started++;
	}
	pthread_mutex_unlock(&boot_lock);
	return (0);
}

/*
 * ustreams_shutdown - stop the running instance.  Objects still allocated
 * are reported (CE_WARN) and released with the region.  Returns 0, or
 * ENXIO when no instance is running.  Base context.
 */
int
ustreams_shutdown(void)
{
	pthread_mutex_lock(&boot_lock);
	if (!atomic_load(&booted)) {
		pthread_mutex_unlock(&boot_lock);
		return (ENXIO);
	}
	sysinit_unwind();
	atomic_store(&booted, false);
	pthread_mutex_unlock(&boot_lock);
	return (0);
}

bool
ustreams_booted(void)
{
	return (atomic_load_explicit(&booted, memory_order_relaxed));
}
